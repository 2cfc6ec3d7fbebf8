#include <gtest/gtest.h>

#include "voxcast/net/tls.hpp"

using namespace voxcast::net;

TEST(Tls, ASelfSignedCertificateHasTheFingerprintItsPemHas) {
  auto made = make_self_signed_certificate({"localhost", "127.0.0.1", "::1", "viewer.example.org"});
  ASSERT_TRUE(std::holds_alternative<CertificatePem>(made)) << std::get<TlsError>(made).message;
  const auto& pem = std::get<CertificatePem>(made);
  EXPECT_NE(pem.certificate.find("BEGIN CERTIFICATE"), std::string::npos);
  EXPECT_NE(pem.private_key.find("PRIVATE KEY"), std::string::npos);
  ASSERT_EQ(pem.fingerprint.size(), 64u);
  auto fp = certificate_fingerprint(pem.certificate);
  ASSERT_TRUE(std::holds_alternative<std::string>(fp));
  EXPECT_EQ(std::get<std::string>(fp), pem.fingerprint);
  // Two certificates are two keys.
  auto other = make_self_signed_certificate({"localhost"});
  EXPECT_NE(std::get<CertificatePem>(other).fingerprint, pem.fingerprint);
  EXPECT_TRUE(std::holds_alternative<TlsError>(certificate_fingerprint("not a certificate")));
}

TEST(Tls, FingerprintsAreNormalised) {
  std::string hex(64, 'a');
  EXPECT_EQ(normalize_fingerprint(hex), hex);
  std::string colons;
  for (int i = 0; i < 32; ++i) colons += std::string(i ? ":" : "") + "AB";
  EXPECT_EQ(normalize_fingerprint(colons).size(), 64u);
  EXPECT_EQ(normalize_fingerprint(colons).substr(0, 4), "abab");
  EXPECT_EQ(normalize_fingerprint("abc"), "");               // too short
  EXPECT_EQ(normalize_fingerprint(std::string(64, 'g')), "");  // not hex
}

TEST(Tls, ServerContextsCheckTheKeyAgainstTheCertificate) {
  auto a = std::get<CertificatePem>(make_self_signed_certificate({"localhost"}));
  auto b = std::get<CertificatePem>(make_self_signed_certificate({"localhost"}));
  EXPECT_TRUE(std::holds_alternative<std::shared_ptr<boost::asio::ssl::context>>(make_server_context({a.certificate, a.private_key})));
  auto mismatched = make_server_context({a.certificate, b.private_key});
  ASSERT_TRUE(std::holds_alternative<TlsError>(mismatched));
  EXPECT_NE(std::get<TlsError>(mismatched).message.find("private key"), std::string::npos)
      << std::get<TlsError>(mismatched).message;
  EXPECT_TRUE(std::holds_alternative<TlsError>(make_server_context({"garbage", a.private_key})));
  EXPECT_TRUE(std::holds_alternative<TlsError>(make_server_context({a.certificate, "garbage"})));
}

TEST(Tls, ClientContextsRefuseBadPinsAndMissingCaFiles) {
  TlsClientOptions pin;
  pin.host = "localhost";
  pin.fingerprint = "xyz";
  EXPECT_TRUE(std::holds_alternative<TlsError>(make_client_context(pin)));
  pin.fingerprint = std::string(64, 'f');
  EXPECT_FALSE(std::holds_alternative<TlsError>(make_client_context(pin)));
  TlsClientOptions ca;
  ca.host = "localhost";
  ca.ca_file = "/nonexistent/ca.pem";
  auto r = make_client_context(ca);
  ASSERT_TRUE(std::holds_alternative<TlsError>(r));
  EXPECT_NE(std::get<TlsError>(r).message.find("/nonexistent/ca.pem"), std::string::npos);
  TlsClientOptions system;
  system.host = "localhost";
  EXPECT_FALSE(std::holds_alternative<TlsError>(make_client_context(system)));
}

TEST(Tls, ReadTextFileReportsWhatItCouldNotRead) {
  std::string out, error;
  EXPECT_FALSE(read_text_file("/nonexistent/file", &out, &error));
  EXPECT_NE(error.find("/nonexistent/file"), std::string::npos);
}

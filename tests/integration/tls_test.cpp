// wss on both channels: a self-signed server pinned by fingerprint, a CA-verified
// certificate, and the refusals (wrong pin, unknown issuer, plain vs TLS mismatch).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "fixture.hpp"
#include "voxcast/core/random_id.hpp"
#include "voxcast/data/synthetic.hpp"
#include "voxcast/net/tls.hpp"

using namespace voxcast;
using namespace voxcast::testing;
namespace fs = std::filesystem;

namespace {
bool streams(client::ClientStreamLoop& c) {
  return c.wait_until([&] { return c.stats().frames_decoded >= 2; }, 10);
}

struct CertFiles {
  fs::path dir = fs::temp_directory_path() / ("voxcast-tls-" + random_hex(8));
  std::string cert, key;
  CertFiles() {
    fs::create_directories(dir);
    auto made = net::make_self_signed_certificate({"localhost", "127.0.0.1"});
    auto& pem = std::get<net::CertificatePem>(made);
    cert = (dir / "cert.pem").string();
    key = (dir / "key.pem").string();
    std::ofstream(cert) << pem.certificate;
    std::ofstream(key) << pem.private_key;
  }
  ~CertFiles() { fs::remove_all(dir); }
};
}  // namespace

TEST(Tls, SelfSignedServerStreamsToAClientThatPinsItsFingerprint) {
  TestServerOptions o;
  o.tls_self_signed = true;
  TestServer srv(o);
  ASSERT_TRUE(srv.get().tls());
  // The string the server prints is all the client needs.
  std::string error;
  auto parsed = parse_connection_string(srv.get().connection_string(), &error);
  ASSERT_TRUE(parsed) << error;
  EXPECT_TRUE(parsed->tls);
  EXPECT_EQ(parsed->fingerprint, srv.get().tls_fingerprint());
  client::ClientConfig cc = srv.client_config();
  cc.connection = *parsed;
  client::ClientStreamLoop c(cc);
  ASSERT_FALSE(c.connect());
  EXPECT_TRUE(streams(c));
  auto loop = c.loop_state();
  EXPECT_TRUE(loop.tls);
  EXPECT_EQ(loop.phase, client::LinkPhase::streaming) << client::describe(loop);
  // Commands and acks travel over wss too.
  auto reply = c.call("fs.listdir", protocol::Json::object(), 5).get();
  EXPECT_EQ(reply.code, "fs.forbidden");
  c.send_state("dims", "z", "index", 3);
  EXPECT_TRUE(c.wait_until([&] { return c.displayed("dims:z:index") == 3 && c.intents().back().acked_ms > 0; }, 5));
}

TEST(Tls, TheTlsPixelChannelIsReopenedAloneAfterADrop) {
  TestServerOptions o;
  o.tls_self_signed = true;
  TestServer srv(o);
  client::ClientConfig cc = srv.client_config();
  cc.reconnect_min_ms = 20;
  client::ClientStreamLoop c(cc);
  ASSERT_FALSE(c.connect());
  ASSERT_TRUE(streams(c));
  const uint64_t before = c.stats().frames_decoded;
  c.simulate_pixel_loss();
  EXPECT_TRUE(c.wait_until([&] { return c.stats().pixel_reconnects >= 1; }, 5));
  c.request_keyframe();
  EXPECT_TRUE(c.wait_until([&] { return c.stats().frames_decoded > before + 1; }, 5));
  EXPECT_EQ(c.loop_state().pixel_epoch, 2u);
}

TEST(Tls, AWrongPinIsRefusedAsATlsErrorAndTheServerKeepsServing) {
  TestServerOptions o;
  o.tls_self_signed = true;
  TestServer srv(o);
  client::ClientConfig bad = srv.client_config();
  bad.connection.fingerprint = std::string(64, '0');
  bad.reconnect = false;
  client::ClientStreamLoop c(bad);
  auto err = c.connect();
  ASSERT_TRUE(err);
  EXPECT_EQ(err->code, "connect.tls") << err->message;
  EXPECT_EQ(c.loop_state().phase, client::LinkPhase::stopped);
  // A malformed pin never reaches the network.
  bad.connection.fingerprint = "not-hex";
  client::ClientStreamLoop c2(bad);
  auto err2 = c2.connect();
  ASSERT_TRUE(err2);
  EXPECT_EQ(err2->code, "connect.tls");
  EXPECT_NE(err2->message.find("fingerprint"), std::string::npos) << err2->message;
  client::ClientStreamLoop good(srv.client_config());
  ASSERT_FALSE(good.connect());
  EXPECT_TRUE(streams(good));
}

TEST(Tls, ACertificateFileIsVerifiedAgainstTheGivenCaAndTheHostName) {
  CertFiles files;
  TestServerOptions o;
  o.tls_cert_file = files.cert;
  o.tls_key_file = files.key;
  TestServer srv(o);
  ASSERT_TRUE(srv.get().tls());
  client::ClientConfig cc = srv.client_config();
  cc.connection.fingerprint.clear();  // no pin: the CA decides
  cc.tls_ca_file = files.cert;
  {
    client::ClientStreamLoop c(cc);
    ASSERT_FALSE(c.connect());
    EXPECT_TRUE(streams(c));
  }
  {
    // The system's trust store does not know this issuer.
    client::ClientConfig untrusted = cc;
    untrusted.tls_ca_file.clear();
    client::ClientStreamLoop c(untrusted);
    auto err = c.connect();
    ASSERT_TRUE(err);
    EXPECT_EQ(err->code, "connect.tls") << err->message;
  }
  {
    // --tls-insecure accepts it (trusted networks only).
    client::ClientConfig insecure = cc;
    insecure.tls_ca_file.clear();
    insecure.tls_insecure = true;
    client::ClientStreamLoop c(insecure);
    ASSERT_FALSE(c.connect());
    EXPECT_TRUE(streams(c));
  }
}

TEST(Tls, PlainAndTlsPeersDoNotTalkAndSayWhy) {
  TestServerOptions tls;
  tls.tls_self_signed = true;
  TestServer secure(tls);
  client::ClientConfig plain = secure.client_config();
  plain.connection.tls = false;
  plain.connection.fingerprint.clear();
  plain.connect_timeout_s = 2;
  plain.reconnect = false;
  client::ClientStreamLoop c(plain);
  auto err = c.connect();
  ASSERT_TRUE(err);
  EXPECT_NE(err->code, "");

  TestServer open_server;
  client::ClientConfig wants_tls = open_server.client_config();
  wants_tls.connection.tls = true;
  wants_tls.tls_insecure = true;
  wants_tls.connect_timeout_s = 2;
  client::ClientStreamLoop c2(wants_tls);
  auto err2 = c2.connect();
  ASSERT_TRUE(err2);
  EXPECT_EQ(err2->code, "connect.tls") << err2->message;
  // Both servers still serve the clients that match them.
  client::ClientStreamLoop ok1(secure.client_config()), ok2(open_server.client_config());
  ASSERT_FALSE(ok1.connect());
  ASSERT_FALSE(ok2.connect());
  EXPECT_TRUE(streams(ok1));
  EXPECT_TRUE(streams(ok2));
}

TEST(Tls, TheServerRefusesToStartWithABadCertificate) {
  CertFiles files;
  CertFiles other;
  server::ServerConfig cfg;
  cfg.control_port = 0;
  cfg.pixel_port = 0;
  cfg.tls_cert_file = files.cert;
  cfg.tls_key_file = other.key;  // not the certificate's key
  server::Server s(cfg, data::make_synthetic_cells({}));
  auto err = s.start();
  ASSERT_TRUE(err);
  EXPECT_EQ(err->code, "server.tls");
  server::ServerConfig half;
  half.tls_cert_file = files.cert;
  server::Server s2(half, data::make_synthetic_cells({}));
  auto err2 = s2.start();
  ASSERT_TRUE(err2);
  EXPECT_EQ(err2->code, "server.config");
}

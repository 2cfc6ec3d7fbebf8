#include "voxcast/net/tls.hpp"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/ssl/verify_context.hpp>
#include <cctype>
#include <fstream>
#include <sstream>

namespace voxcast::net {
namespace ssl = boost::asio::ssl;

namespace {
std::string openssl_error(const std::string& what) {
  unsigned long e = ERR_get_error();
  char buf[256] = {0};
  if (e) ERR_error_string_n(e, buf, sizeof(buf));
  ERR_clear_error();
  return e ? what + ": " + buf : what;
}

template <class T, void (*Free)(T*)>
struct Owned {
  T* p = nullptr;
  explicit Owned(T* x) : p(x) {}
  ~Owned() {
    if (p) Free(p);
  }
  Owned(const Owned&) = delete;
  Owned& operator=(const Owned&) = delete;
};
using OwnedX509 = Owned<X509, X509_free>;
using OwnedKey = Owned<EVP_PKEY, EVP_PKEY_free>;
void bio_free(BIO* b) { BIO_free(b); }
using OwnedBio = Owned<BIO, bio_free>;

std::string hex(const unsigned char* d, unsigned n) {
  static const char* digits = "0123456789abcdef";
  std::string s;
  for (unsigned i = 0; i < n; ++i) {
    s += digits[d[i] >> 4];
    s += digits[d[i] & 15];
  }
  return s;
}

std::string x509_fingerprint(X509* x) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned n = 0;
  if (!X509_digest(x, EVP_sha256(), md, &n)) return {};
  return hex(md, n);
}

std::string bio_text(BIO* b) {
  char* data = nullptr;
  long n = BIO_get_mem_data(b, &data);
  return std::string(data, static_cast<size_t>(n));
}

bool is_ip_literal(const std::string& s) {
  boost::system::error_code ec;
  boost::asio::ip::make_address(s, ec);
  return !ec;
}
}  // namespace

std::string normalize_fingerprint(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == ':') continue;
    if (!std::isxdigit(static_cast<unsigned char>(c))) return {};
    out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out.size() == 64 ? out : std::string{};
}

std::variant<CertificatePem, TlsError> make_self_signed_certificate(const std::vector<std::string>& names, int days) {
  OwnedKey key(EVP_EC_gen("P-256"));
  if (!key.p) return TlsError{openssl_error("cannot generate a key")};
  OwnedX509 cert(X509_new());
  X509* x = cert.p;
  X509_set_version(x, 2);
  unsigned char serial[16];
  RAND_bytes(serial, sizeof(serial));
  serial[0] &= 0x7f;
  BIGNUM* bn = BN_bin2bn(serial, sizeof(serial), nullptr);
  BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x));
  BN_free(bn);
  X509_gmtime_adj(X509_getm_notBefore(x), -3600);
  X509_gmtime_adj(X509_getm_notAfter(x), static_cast<long>(days) * 86400);
  X509_set_pubkey(x, key.p);
  const std::string cn = names.empty() ? "voxcast" : names.front();
  X509_NAME* name = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("voxcast"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509_set_issuer_name(x, name);
  std::string san;
  for (const auto& n : names) san += (san.empty() ? "" : ",") + std::string(is_ip_literal(n) ? "IP:" : "DNS:") + n;
  if (!san.empty()) {
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, x, x, nullptr, nullptr, 0);
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, NID_subject_alt_name, san.c_str());
    if (!ext) return TlsError{openssl_error("bad certificate names '" + san + "'")};
    X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
  }
  if (!X509_sign(x, key.p, EVP_sha256())) return TlsError{openssl_error("cannot sign the certificate")};
  OwnedBio cb(BIO_new(BIO_s_mem())), kb(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509(cb.p, x);
  PEM_write_bio_PrivateKey(kb.p, key.p, nullptr, nullptr, 0, nullptr, nullptr);
  return CertificatePem{bio_text(cb.p), bio_text(kb.p), x509_fingerprint(x)};
}

std::variant<std::string, TlsError> certificate_fingerprint(const std::string& pem) {
  OwnedBio b(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  OwnedX509 x(PEM_read_bio_X509(b.p, nullptr, nullptr, nullptr));
  if (!x.p) return TlsError{openssl_error("not a PEM certificate")};
  return x509_fingerprint(x.p);
}

std::variant<std::shared_ptr<ssl::context>, TlsError> make_server_context(const TlsServerOptions& o) {
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
  boost::system::error_code ec;
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                       ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 | ssl::context::single_dh_use, ec);
  ctx->use_certificate_chain(boost::asio::buffer(o.certificate_pem), ec);
  if (ec) return TlsError{"bad TLS certificate: " + ec.message()};
  ctx->use_private_key(boost::asio::buffer(o.private_key_pem), ssl::context::pem, ec);
  if (ec) return TlsError{"bad TLS private key: " + ec.message()};
  if (SSL_CTX_check_private_key(ctx->native_handle()) != 1)
    return TlsError{openssl_error("the TLS private key does not match the certificate")};
  return ctx;
}

std::variant<std::shared_ptr<ssl::context>, TlsError> make_client_context(const TlsClientOptions& o) {
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_client);
  boost::system::error_code ec;
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                       ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1, ec);
  if (!o.fingerprint.empty()) {
    std::string pin = normalize_fingerprint(o.fingerprint);
    if (pin.empty()) return TlsError{"bad certificate fingerprint '" + o.fingerprint + "' (64 hex digits expected)"};
    // A pinned certificate is trusted for what it is, whoever signed it: only the leaf
    // is compared, the chain's own verdict is ignored.
    ctx->set_verify_mode(ssl::verify_peer);
    ctx->set_verify_callback([pin](bool, ssl::verify_context& vc) {
      X509_STORE_CTX* store = vc.native_handle();
      if (X509_STORE_CTX_get_error_depth(store) != 0) return true;
      X509* leaf = X509_STORE_CTX_get_current_cert(store);
      return leaf && x509_fingerprint(leaf) == pin;
    });
    return ctx;
  }
  if (o.insecure) {
    ctx->set_verify_mode(ssl::verify_none);
    return ctx;
  }
  if (!o.ca_file.empty()) {
    ctx->load_verify_file(o.ca_file, ec);
    if (ec) return TlsError{"cannot read the CA file " + o.ca_file + ": " + ec.message()};
  } else {
    ctx->set_default_verify_paths(ec);
  }
  ctx->set_verify_mode(ssl::verify_peer);
  ctx->set_verify_callback(ssl::host_name_verification(o.host));
  return ctx;
}

bool read_text_file(const std::string& path, std::string* out, std::string* error) {
  std::ifstream f(path, std::ios::binary);
  if (!f) {
    *error = "cannot read " + path;
    return false;
  }
  std::ostringstream s;
  s << f.rdbuf();
  *out = s.str();
  return true;
}

}  // namespace voxcast::net

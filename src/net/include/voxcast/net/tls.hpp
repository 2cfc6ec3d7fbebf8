#pragma once
// TLS for both WebSockets: server contexts from a certificate (or a self-signed one made
// at start), client contexts that verify the server by CA, by a pinned SHA-256
// fingerprint (the connection string carries it for self-signed servers), or not at all.
#include <boost/asio/ssl/context.hpp>
#include <memory>
#include <string>
#include <variant>
#include <vector>

namespace voxcast::net {

struct TlsError {
  std::string message;
};

struct CertificatePem {
  std::string certificate;
  std::string private_key;
  std::string fingerprint;  // SHA-256 of the DER certificate, lowercase hex
};

// A fresh EC P-256 key and a certificate valid for `names` (DNS names or IP literals) for
// `days`; what `voxcast-server --tls-self-signed` serves.
std::variant<CertificatePem, TlsError> make_self_signed_certificate(const std::vector<std::string>& names, int days = 30);
// SHA-256 fingerprint of the first certificate of a PEM text.
std::variant<std::string, TlsError> certificate_fingerprint(const std::string& pem);
// Normalises "AB:cd:..." or "abcd..." to lowercase hex without separators; empty when invalid.
std::string normalize_fingerprint(const std::string& text);

struct TlsServerOptions {
  std::string certificate_pem;  // the chain, leaf first
  std::string private_key_pem;
};
std::variant<std::shared_ptr<boost::asio::ssl::context>, TlsError> make_server_context(const TlsServerOptions& options);

struct TlsClientOptions {
  std::string host;         // checked against the certificate unless pinned or insecure
  std::string ca_file;      // PEM bundle; empty: the system's trust store
  std::string fingerprint;  // pin: accept exactly this leaf certificate (any issuer)
  bool insecure = false;    // verify nothing (tests, trusted networks)
};
std::variant<std::shared_ptr<boost::asio::ssl::context>, TlsError> make_client_context(const TlsClientOptions& options);

// Reads a whole (small) file; false with *error set when it cannot.
bool read_text_file(const std::string& path, std::string* out, std::string* error);

}  // namespace voxcast::net

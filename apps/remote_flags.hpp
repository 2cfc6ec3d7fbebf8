#pragma once
// The command-line flags of remote stores (shared by voxcast-server, voxcast-info and
// voxcast-bench): added to an app, then resolved once, with the environment, into
// RemoteOptions.
#include <CLI/CLI.hpp>
#include <memory>
#include <string>

#include "voxcast/data/remote_store.hpp"

namespace voxcast::apps {

struct RemoteFlags {
  std::string s3_endpoint, s3_addressing = "auto", s3_region, ca_file;
  int timeout_ms = 30000, attempts = 5;
};

inline void add_remote_flags(CLI::App& app, RemoteFlags* f) {
  app.add_option("--s3-endpoint", f->s3_endpoint, "S3-compatible endpoint URL for s3:// datasets (default: AWS; "
                                                  "AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL)");
  app.add_option("--s3-addressing", f->s3_addressing, "S3 bucket addressing: auto (virtual-hosted on AWS, path elsewhere), path, virtual")
      ->check(CLI::IsMember({"auto", "path", "virtual"}))->capture_default_str();
  app.add_option("--s3-region", f->s3_region, "S3 region for signing (default: AWS_REGION, the profile's, us-east-1)");
  app.add_option("--store-ca", f->ca_file, "CA bundle (PEM) trusted for HTTPS stores")->check(CLI::ExistingFile);
  app.add_option("--store-timeout-ms", f->timeout_ms, "time-out of one request to a remote store")
      ->check(CLI::Range(100, 600000))->capture_default_str();
  app.add_option("--store-attempts", f->attempts, "attempts per request on 5xx, 429, resets and time-outs")
      ->check(CLI::Range(1, 20))->capture_default_str();
}

inline std::shared_ptr<const data::RemoteOptions> resolve_remote(const RemoteFlags& f) {
  auto o = std::make_shared<data::RemoteOptions>(data::remote_options_from_environment());
  if (!f.s3_endpoint.empty()) o->s3_endpoint = f.s3_endpoint;
  if (!f.s3_region.empty()) o->s3_region = f.s3_region;
  o->s3_addressing = f.s3_addressing == "path"      ? data::S3Addressing::path
                     : f.s3_addressing == "virtual" ? data::S3Addressing::virtual_hosted
                                                    : data::S3Addressing::automatic;
  if (!f.ca_file.empty()) o->ca_file = f.ca_file;
  o->request_timeout_ms = f.timeout_ms;
  o->attempts = f.attempts;
  return o;
}

}  // namespace voxcast::apps

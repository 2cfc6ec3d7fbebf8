// Datasets in object stores, against real servers started on loopback: nginx over HTTP and
// HTTPS (a CA made for the test), s3rver with SigV4 checked, and a proxy that injects
// latency, 500s, resets and slow drips. Reads must be voxel-exact against the local copy,
// faults retried or reported, and the server's picture the same as from local disk.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "fixture.hpp"
#include "store_servers.hpp"
#include "voxcast/codec/png.hpp"
#include "voxcast/data/open_dataset.hpp"
#include "voxcast/data/zarr.hpp"
#include "voxcast/data/zarr3.hpp"
#include "voxcast/protocol/base64.hpp"

using namespace voxcast;
using namespace voxcast::testing;
using protocol::Json;
namespace fs = std::filesystem;

namespace {

struct Scratch {
  std::string path;
  Scratch() {
    char tmpl[] = "/tmp/voxcast-store-XXXXXX";
    path = mkdtemp(tmpl);
  }
  ~Scratch() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  std::string sub(const std::string& name) const {
    fs::create_directories(path + "/" + name);
    return path + "/" + name;
  }
};

uint16_t voxel(int64_t z, int64_t y, int64_t x) { return static_cast<uint16_t>(1 + z * 1000 + y * 37 + x * 3); }

// OME-Zarr 0.4 (Zarr v2): z, y, x = 5 x 48 x 60 in 16^2 chunks, two levels; one chunk of
// level 0 is absent (it reads as fill: 0).
void write_v2(const std::string& dir) {
  std::vector<std::vector<double>> scales;
  for (int level = 0; level < 2; ++level) {
    data::ZarrArrayMeta m;
    const int64_t f = int64_t{1} << level;
    m.shape = {5, 48 / f, 60 / f};
    m.chunks = {1, 16, 16};
    m.dtype = data::DType::u16;
    m.compressor.id = "zstd";
    auto err = data::write_zarr_array(dir + "/" + std::to_string(level), m,
                                      [&](const std::vector<int64_t>& s, const std::vector<int64_t>& shape, std::vector<uint8_t>* b) {
                                        auto* v = reinterpret_cast<uint16_t*>(b->data());
                                        for (int64_t z = 0; z < shape[0]; ++z)
                                          for (int64_t y = 0; y < shape[1]; ++y)
                                            for (int64_t x = 0; x < shape[2]; ++x) *v++ = voxel(s[0] + z, (s[1] + y) * f, (s[2] + x) * f);
                                        return true;
                                      });
    ASSERT_FALSE(err) << *err;
    scales.push_back({1.0, static_cast<double>(f), static_cast<double>(f)});
  }
  ASSERT_FALSE(data::write_ngff_attrs(dir, {{"z", "space", "micrometer"}, {"y", "space", "micrometer"}, {"x", "space", "micrometer"}},
                                      scales, {}, {}));
  fs::remove(dir + "/0/2.1.1");
}

// OME-Zarr 0.5 (Zarr v3): 4 x 40 x 48, a shard per two planes of 2 x 3 inner chunks,
// zstd and crc32c inside, the index at `index_at_end`.
void write_v3_sharded(const std::string& dir, bool index_at_end) {
  data::Zarr3ArrayMeta m;
  m.shape = {4, 40, 48};
  m.chunk_shape = {2, 40, 48};
  m.dtype = data::DType::u16;
  data::Compressor zstd;
  zstd.id = "zstd";
  zstd.clevel = 3;
  m.codecs = data::zarr3_sharding_codecs({1, 20, 16}, zstd, index_at_end, true);
  ASSERT_FALSE(data::prepare_zarr3_array(&m));
  ASSERT_FALSE(data::write_zarr3_array(dir + "/0", m, [](const std::vector<int64_t>& s, const std::vector<int64_t>& shape,
                                                         std::vector<uint8_t>* b) {
    auto* v = reinterpret_cast<uint16_t*>(b->data());
    for (int64_t z = 0; z < shape[0]; ++z)
      for (int64_t y = 0; y < shape[1]; ++y)
        for (int64_t x = 0; x < shape[2]; ++x) *v++ = voxel(s[0] + z, s[1] + y, s[2] + x);
    return true;
  }));
  Json axes = Json::array({{{"name", "z"}, {"type", "space"}}, {{"name", "y"}, {"type", "space"}}, {{"name", "x"}, {"type", "space"}}});
  Json ome = {{"version", "0.5"},
              {"multiscales", Json::array({{{"axes", axes},
                                            {"datasets", Json::array({{{"path", "0"}, {"coordinateTransformations",
                                                                         Json::array({{{"type", "scale"}, {"scale", {1, 1, 1}}}})}}})}}})}};
  ASSERT_FALSE(data::write_zarr3_group(dir, {{"ome", ome}}));
}

// The data tree every server serves: v2, v3 sharded with the index at the end and at the start.
std::string write_tree(const Scratch& s) {
  std::string root = s.sub("www");
  write_v2(root + "/v2.ome.zarr");
  write_v3_sharded(root + "/v3end.ome.zarr", true);
  write_v3_sharded(root + "/v3start.ome.zarr", false);
  return root;
}

std::unique_ptr<data::VolumeSource> open_or_fail(const std::string& spec, const data::RemoteOptions& remote) {
  data::OpenOptions o;
  o.remote = std::make_shared<const data::RemoteOptions>(remote);
  auto opened = data::open_dataset(spec, o);
  if (auto* e = std::get_if<data::DataError>(&opened)) {
    ADD_FAILURE() << spec << ": " << e->source << ": " << e->message;
    return nullptr;
  }
  return std::move(std::get<std::unique_ptr<data::VolumeSource>>(opened));
}

std::string open_error(const std::string& spec, const data::RemoteOptions& remote) {
  data::OpenOptions o;
  o.remote = std::make_shared<const data::RemoteOptions>(remote);
  auto opened = data::open_dataset(spec, o);
  if (auto* e = std::get_if<data::DataError>(&opened)) return e->source + ": " + e->message;
  return {};
}

// Every level of `remote` equals the same level of `local`, voxel for voxel.
void expect_same_data(const data::VolumeSource& local, const data::VolumeSource& remote, const std::string& what) {
  ASSERT_EQ(local.info().shape, remote.info().shape) << what;
  ASSERT_EQ(local.info().levels.size(), remote.info().levels.size()) << what;
  for (size_t l = 0; l < local.info().levels.size(); ++l) {
    data::Box box{std::vector<int64_t>(local.info().shape.size(), 0), local.info().levels[l].shape};
    std::vector<float> a(static_cast<size_t>(box.count())), b(a.size(), -1.0f);
    ASSERT_FALSE(local.read_level(static_cast<int>(l), box, a.data())) << what;
    auto err = remote.read_level(static_cast<int>(l), box, b.data());
    ASSERT_FALSE(err) << what << " level " << l << ": " << err->source << ": " << err->message;
    size_t bad = 0;
    for (size_t i = 0; i < a.size(); ++i) bad += a[i] != b[i];
    EXPECT_EQ(bad, 0u) << what << " level " << l << ": voxels differ from the local copy";
  }
}

data::RemoteOptions quick_options() {
  data::RemoteOptions o;
  o.connect_timeout_ms = 2000;
  o.request_timeout_ms = 10000;
  o.backoff_ms = 10;
  o.backoff_cap_ms = 100;
  return o;
}

const char* kDatasets[] = {"v2.ome.zarr", "v3end.ome.zarr", "v3start.ome.zarr"};

}  // namespace

TEST(Stores, HttpAndHttpsReadV2AndShardedV3VoxelExact) {
  Scratch s;
  const std::string root = write_tree(s);
  TlsFiles tls = make_test_ca(s.sub("tls"));
  ASSERT_FALSE(tls.ca_pem.empty()) << "openssl could not make the test CA";
  Nginx plain(root, s.sub("nginx-http"));
  Nginx secure(root, s.sub("nginx-https"), &tls);
  ASSERT_TRUE(plain.ok() && secure.ok()) << "nginx did not start (scripts/setup.sh installs nginx-light)";
  data::RemoteOptions o = quick_options();
  o.ca_file = tls.ca_pem;
  for (const char* name : kDatasets) {
    auto local = open_or_fail(root + "/" + name, o);
    ASSERT_TRUE(local);
    for (const Nginx* server : {&plain, &secure}) {
      const std::string url = server->url() + "/" + name;
      auto remote = open_or_fail(url, o);
      ASSERT_TRUE(remote);
      EXPECT_EQ(remote->info().name, name);
      expect_same_data(*local, *remote, url);
    }
  }
  // voxcast-info reads a region through the same store, given the CA on its command line.
  const std::string npy = s.path + "/r.npy", local_npy = s.path + "/l.npy";
  std::string cmd = std::string(VOXCAST_BIN_DIR) + "/voxcast-info --store-ca '" + tls.ca_pem + "' '" + secure.url() +
                    "/v3end.ome.zarr' --region '1:3,5:30,7:40' --out '" + npy + "' > /dev/null";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  cmd = std::string(VOXCAST_BIN_DIR) + "/voxcast-info '" + root + "/v3end.ome.zarr' --region '1:3,5:30,7:40' --out '" +
        local_npy + "' > /dev/null";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  std::ifstream a(npy, std::ios::binary), b(local_npy, std::ios::binary);
  std::string ra((std::istreambuf_iterator<char>(a)), {}), rb((std::istreambuf_iterator<char>(b)), {});
  EXPECT_GT(ra.size(), 128u);
  EXPECT_EQ(ra, rb) << "the region read over HTTPS differs from the local one";
  // Without the test's CA (the system's only), the certificate is refused, clearly.
  std::string why = open_error(secure.url() + "/v2.ome.zarr", quick_options());
  EXPECT_NE(why.find("v2.ome.zarr"), std::string::npos) << why;
  EXPECT_NE(why.find("certificate"), std::string::npos) << why;
  // Missing metadata is a clear error naming the URL, not an empty dataset.
  why = open_error(plain.url() + "/nothing-here.zarr", o);
  EXPECT_NE(why.find("no Zarr metadata"), std::string::npos) << why;
}

TEST(Stores, S3RequestsAreSignedAndCredentialsNeverShow) {
  if (!s3rver_installed()) GTEST_FAIL() << "s3rver is missing: scripts/setup.sh installs it (npm ci in tests/stores)";
  Scratch s;
  const std::string root = write_tree(s);
  std::vector<std::unique_ptr<ChildProcess>> servers;
  data::RemoteOptions o = quick_options();
  o.credentials.aws_access_key_id = "S3RVER";
  o.credentials.aws_secret_access_key = "S3RVER";
  for (const char* name : kDatasets) {
    auto s3 = std::make_unique<ChildProcess>(std::vector<std::string>{"node", stores_tool("s3rver.mjs"), root + "/" + name, "data"},
                                             s.path + "/s3rver.log");
    const int port = s3->wait_for_port(30);
    ASSERT_GT(port, 0) << "s3rver did not start; see " << s.path << "/s3rver.log";
    o.s3_endpoint = "http://127.0.0.1:" + std::to_string(port);
    auto local = open_or_fail(root + "/" + name, o);
    auto remote = open_or_fail(std::string("s3://data/") + name, o);
    ASSERT_TRUE(local && remote);
    expect_same_data(*local, *remote, std::string("s3://data/") + name);
    if (std::string(name) == "v2.ome.zarr") {
      // A wrong secret: the signature does not match; the error says so, never the secret.
      data::RemoteOptions wrong = o;
      wrong.credentials.aws_secret_access_key = "NOT-THE-SECRET-42";
      std::string why = open_error("s3://data/v2.ome.zarr", wrong);
      EXPECT_NE(why.find("403"), std::string::npos) << why;
      EXPECT_EQ(why.find("NOT-THE-SECRET-42"), std::string::npos) << why;
      EXPECT_EQ(why.find("S3RVER"), std::string::npos) << "no key id in messages either: " << why;
      // Anonymous: a private bucket refuses.
      data::RemoteOptions anonymous = o;
      anonymous.credentials = {};
      why = open_error("s3://data/v2.ome.zarr", anonymous);
      EXPECT_NE(why.find("access denied"), std::string::npos) << why;
      EXPECT_NE(why.find("s3://data/v2.ome.zarr"), std::string::npos) << why;
    }
    servers.push_back(std::move(s3));
  }
}

TEST(Stores, FaultsOnTheWayAreRetriedAndFailuresReported) {
  Scratch s;
  const std::string root = write_tree(s);
  Nginx nginx(root, s.sub("nginx"));
  ASSERT_TRUE(nginx.ok());
  // 10 % 500s, 5 % answers cut off half-way, 5 % dripped at 2 KB/s (below the 4 KB/s floor
  // set here, so they are abandoned after a second and retried).
  ChildProcess proxy({"node", stores_tool("fault_proxy.mjs"), std::to_string(nginx.port()), "--latency-ms", "5", "--error-rate",
                      "0.1", "--reset-rate", "0.05", "--drip-rate", "0.05", "--drip-bps", "2000", "--seed", "7"},
                     s.path + "/proxy.log");
  const int port = proxy.wait_for_port(20);
  ASSERT_GT(port, 0);
  data::RemoteOptions o = quick_options();
  o.low_speed_bytes = 4000;
  o.low_speed_seconds = 1;
  o.attempts = 8;
  for (const char* name : kDatasets) {
    auto local = open_or_fail(root + "/" + name, o);
    auto remote = open_or_fail("http://127.0.0.1:" + std::to_string(port) + "/" + name, o);
    ASSERT_TRUE(local && remote);
    expect_same_data(*local, *remote, std::string("through the faulty proxy: ") + name);
  }
  Json stats = Json::parse(proxy.close_and_read("STATS ", 5), nullptr, false);
  ASSERT_TRUE(stats.is_object());
  EXPECT_GT(stats["errors"].get<int>(), 0) << stats.dump();
  EXPECT_GT(stats["resets"].get<int>(), 0) << stats.dump();
  EXPECT_GT(stats["drips"].get<int>(), 0) << stats.dump();

  // A chunk the server refuses (403) is a read error naming its key; the rest still reads.
  ASSERT_EQ(chmod((root + "/v2.ome.zarr/0/1.0.0").c_str(), 0), 0);
  if (geteuid() == 0) {
    // root reads any file: nginx would still serve it; make it a directory instead (403).
    fs::remove(root + "/v2.ome.zarr/0/1.0.0");
    fs::create_directories(root + "/v2.ome.zarr/0/1.0.0/x");
  }
  auto remote = open_or_fail(nginx.url() + "/v2.ome.zarr", o);
  ASSERT_TRUE(remote);
  std::vector<float> plane(48 * 60);
  auto err = remote->read_level(0, data::Box{{1, 0, 0}, {1, 48, 60}}, plane.data());
  ASSERT_TRUE(err);
  EXPECT_NE(err->source.find("v2.ome.zarr/0/1.0.0"), std::string::npos) << err->source;
  EXPECT_NE(err->message.find("HTTP 403"), std::string::npos) << err->message;
  EXPECT_FALSE(remote->read_level(0, data::Box{{0, 0, 0}, {1, 48, 60}}, plane.data()));
  // A store that only fails: a clear error after the attempts, within the time-outs.
  ChildProcess broken({"node", stores_tool("fault_proxy.mjs"), std::to_string(nginx.port()), "--error-rate", "1"}, s.path + "/b.log");
  const int bport = broken.wait_for_port(20);
  ASSERT_GT(bport, 0);
  auto t0 = std::chrono::steady_clock::now();
  std::string why = open_error("http://127.0.0.1:" + std::to_string(bport) + "/v3end.ome.zarr", o);
  EXPECT_NE(why.find("HTTP 500"), std::string::npos) << why;
  EXPECT_NE(why.find("after 8 attempts"), std::string::npos) << why;
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(10));
}

TEST(Stores, TheServerShowsARemoteDatasetAsItShowsTheLocalOne) {
  Scratch s;
  const std::string root = write_tree(s);
  Nginx nginx(root, s.sub("nginx"));
  ASSERT_TRUE(nginx.ok());
  ChildProcess proxy({"node", stores_tool("fault_proxy.mjs"), std::to_string(nginx.port()), "--latency-ms", "20", "--error-rate",
                      "0.1", "--seed", "3"},
                     s.path + "/proxy.log");
  const int port = proxy.wait_for_port(20);
  ASSERT_GT(port, 0);
  auto screenshot = [&](const std::string& spec) -> std::string {
    TestServerOptions so;
    so.make_source = [&] { return open_or_fail(spec, quick_options()); };
    TestServer srv(so);
    client::ClientStreamLoop c(srv.client_config());
    if (c.connect()) return "no connection";
    c.send_state("dims", "z", "index", 2);
    if (!c.wait_until([&] { return c.mirror().current_step.size() == 3 && c.mirror().current_step[0] == 2; }, 10))
      return "the step did not apply";
    // The still waits for every chunk in view (the server reports none failed).
    auto shot = c.call("napari.screenshot", Json::object(), 30).get();
    if (!shot.ok) return "screenshot failed: " + shot.code + " " + shot.message;
    return shot.result.value("data", std::string("none"));
  };
  for (const char* name : {"v2.ome.zarr", "v3end.ome.zarr"}) {
    const std::string local = screenshot(root + "/" + name);
    const std::string remote = screenshot("http://127.0.0.1:" + std::to_string(port) + "/" + name);
    ASSERT_GT(local.size(), 100u) << local;
    EXPECT_EQ(local, remote) << name << ": the picture from the store differs from the local one";
  }
}

TEST(Stores, AChunkTheStoreRefusesIsReportedOnceAndShownAsMissing) {
  Scratch s;
  const std::string root = write_tree(s);
  // Chunk (z 4, y 0, x 0) of level 0 (away from the first view's middle plane): a directory
  // where the object should be, so nginx answers 403 (whoever runs the test, root included).
  fs::remove(root + "/v2.ome.zarr/0/4.0.0");
  fs::create_directories(root + "/v2.ome.zarr/0/4.0.0/x");
  Nginx nginx(root, s.sub("nginx"));
  ASSERT_TRUE(nginx.ok());
  TestServerOptions so;
  so.make_source = [&] { return open_or_fail(nginx.url() + "/v2.ome.zarr", quick_options()); };
  TestServer srv(so);
  RawControl a("127.0.0.1", srv.get().control_port());
  a.send(hello_frame(srv.get().token()));
  auto welcome = a.read_type("session.welcome", 10);
  ASSERT_TRUE(welcome);
  const std::string sid = (*welcome)["session"];
  client::ClientStreamLoop viewer(srv.client_config());
  ASSERT_FALSE(viewer.connect());
  ASSERT_TRUE(viewer.wait_until([&] { return viewer.stats().frames_decoded > 0; }, 10));
  const uint64_t before = srv.get().stats().frames_sent;
  a.send(state_update_frame(sid, "z4", "dims", "z", "index", 4));
  auto note = a.read_type("notify.error", 15);
  ASSERT_TRUE(note);
  EXPECT_EQ((*note)["payload"]["code"], "data.read_failed");
  const std::string what = (*note)["payload"]["message"];
  EXPECT_NE(what.find(nginx.url() + "/v2.ome.zarr/0/4.0.0"), std::string::npos) << what;
  EXPECT_NE(what.find("HTTP 403"), std::string::npos) << what;
  // The plane is still shown (the refused chunk as missing) and the error is not repeated.
  EXPECT_TRUE(viewer.wait_until([&] { return srv.get().stats().frames_sent > before; }, 10));
  auto again = a.read_type("notify.error", 1.5);
  EXPECT_FALSE(again) << "reported twice: " << again->dump();
  EXPECT_EQ(srv.get().stats().control_clients, 2);
}

// Datasets at run time: fs.listdir inside --data-root, napari.load_zarr switching every
// client, and bad data reported to the sender without harming anyone.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <mutex>

#include "fixture.hpp"
#include "voxcast/data/dtype.hpp"
#include "voxcast/data/codecs.hpp"
#include "voxcast/data/zarr.hpp"
#include "voxcast/data/zarr3.hpp"

using namespace voxcast;
using namespace voxcast::testing;
using protocol::Json;
namespace fs = std::filesystem;

namespace {

struct DataRoot {
  std::string path;
  DataRoot() {
    char tmpl[] = "/tmp/voxcast-root-XXXXXX";
    path = mkdtemp(tmpl);
  }
  ~DataRoot() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

// A small OME-Zarr: z, y, x = 6 x 40 x 50, two levels, value = x + y.
void write_dataset(const std::string& dir, const char* compressor = "zstd") {
  std::vector<std::vector<double>> scales;
  for (int level = 0; level < 2; ++level) {
    data::ZarrArrayMeta m;
    int64_t f = int64_t{1} << level;
    m.shape = {6, 40 / f, 50 / f};
    m.chunks = {1, 16, 16};
    m.dtype = data::DType::u16;
    m.compressor.id = compressor;
    auto err = data::write_zarr_array(dir + "/" + std::to_string(level), m,
                                      [&](const std::vector<int64_t>& s, const std::vector<int64_t>& shape,
                                          std::vector<uint8_t>* bytes) {
                                        auto* v = reinterpret_cast<uint16_t*>(bytes->data());
                                        for (int64_t z = 0; z < shape[0]; ++z)
                                          for (int64_t y = 0; y < shape[1]; ++y)
                                            for (int64_t x = 0; x < shape[2]; ++x)
                                              *v++ = static_cast<uint16_t>((s[1] + y) * f + (s[2] + x) * f);
                                        return true;
                                      });
    ASSERT_FALSE(err) << *err;
    scales.push_back({1.0, 0.5 * static_cast<double>(f), 0.5 * static_cast<double>(f)});
  }
  ASSERT_FALSE(data::write_ngff_attrs(dir, {{"z", "space", "micrometer"}, {"y", "space", "micrometer"},
                                            {"x", "space", "micrometer"}}, scales, {}, {}));
}

std::string handshake(RawControl& raw, const std::string& token) {
  raw.send(hello_frame(token));
  auto w = raw.read();
  if (!w || (*w)["type"] != "session.welcome") return "";
  return (*w)["session"].get<std::string>();
}

Json command(const std::string& sid, const std::string& id, const std::string& name, Json kwargs) {
  return {{"type", "call.command"}, {"version", 2}, {"session", sid}, {"frame_id", id}, {"timestamp", 1.0},
          {"payload", {{"command", name}, {"args", Json::array()}, {"kwargs", kwargs}}}};
}

// The reply or error to frame `id`.
std::optional<Json> answer(RawControl& raw, const std::string& id, double timeout_s = 10.0) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
  while (std::chrono::steady_clock::now() < deadline) {
    auto f = raw.read(timeout_s);
    if (!f) return std::nullopt;
    if (((*f)["type"] == "reply.command" || (*f)["type"] == "error.command") && (*f)["payload"]["in_reply_to"] == id) return f;
  }
  return std::nullopt;
}

}  // namespace

TEST(Dataset, ListdirStaysInsideTheDataRoot) {
  DataRoot root;
  write_dataset(root.path + "/cells.zarr");
  fs::create_directories(root.path + "/Sub");
  std::ofstream(root.path + "/notes.txt") << "x";
  std::ofstream(root.path + "/.hidden.zarr") << "x";
  std::ofstream(root.path + "/brain.nii.gz") << "x";
  fs::create_symlink("/tmp", root.path + "/escape");
  TestServerOptions o;
  o.data_root = root.path;
  TestServer srv(o);
  RawControl raw("127.0.0.1", srv.get().control_port());
  std::string sid = handshake(raw, srv.get().token());
  ASSERT_FALSE(sid.empty());

  raw.send(command(sid, "l1", "fs.listdir", {{"path", nullptr}}));
  auto listed = answer(raw, "l1");
  ASSERT_TRUE(listed);
  ASSERT_EQ((*listed)["type"], "reply.command") << listed->dump();
  const Json& result = (*listed)["payload"]["result"];
  EXPECT_EQ(result["path"], ".");
  std::vector<std::string> names;
  for (const auto& e : result["entries"]) {
    names.push_back(e["name"]);
    EXPECT_NE(e["path"].get<std::string>().front(), '/') << "server paths must not leak";
  }
  EXPECT_EQ(names, (std::vector<std::string>{"brain.nii.gz", "cells.zarr", "escape", "Sub"}));
  EXPECT_EQ(result["entries"][1]["zarr_metadata"]["is_dataset"], true);
  EXPECT_EQ(result["entries"][1]["zarr_metadata"]["has_multiscales"], true);
  EXPECT_EQ(result["entries"][1]["zarr_metadata"]["dataset_children"], Json({"0", "1"}));

  struct Refusal {
    const char* command;
    const char* path;
    const char* code;
  } refusals[] = {{"fs.listdir", "..", "fs.forbidden"},        {"fs.listdir", "/etc", "fs.forbidden"},
                  {"fs.listdir", "Sub/../..", "fs.forbidden"}, {"fs.listdir", "escape", "fs.forbidden"},
                  {"fs.listdir", "nothing", "fs.not_found"},   {"napari.load_zarr", "escape", "fs.forbidden"},
                  {"napari.load_zarr", "/tmp", "fs.forbidden"}, {"napari.load_zarr", "../x.zarr", "fs.forbidden"}};
  int n = 0;
  for (const auto& r : refusals) {
    std::string id = "r" + std::to_string(n++);
    raw.send(command(sid, id, r.command, {{"path", r.path}}));
    auto a = answer(raw, id);
    ASSERT_TRUE(a) << r.path;
    EXPECT_EQ((*a)["type"], "error.command") << r.path;
    EXPECT_EQ((*a)["payload"]["code"], r.code) << r.command << " " << r.path << ": " << a->dump();
  }
  raw.send(command(sid, "bad", "fs.listdir", {{"only", "zarr"}}));
  auto bad = answer(raw, "bad");
  ASSERT_TRUE(bad);
  EXPECT_EQ((*bad)["payload"]["code"], "command.invalid");
}

TEST(Dataset, LoadSwitchesEveryClientAndFramesFollow) {
  DataRoot root;
  write_dataset(root.path + "/cells.zarr");
  TestServerOptions o;
  o.data_root = root.path;
  TestServer srv(o);
  RawControl a("127.0.0.1", srv.get().control_port());
  RawControl b("127.0.0.1", srv.get().control_port());
  std::string sa = handshake(a, srv.get().token()), sb = handshake(b, srv.get().token());
  ASSERT_FALSE(sa.empty());
  ASSERT_FALSE(sb.empty());
  ASSERT_TRUE(b.read_type("notify.stream"));  // b's first baseline is done
  client::ClientStreamLoop viewer(srv.client_config());
  ASSERT_FALSE(viewer.connect());
  ASSERT_TRUE(viewer.wait_until([&] { return !viewer.frames().empty(); }, 10));
  uint64_t frames_before = srv.get().stats().frames_sent;

  a.send(command(sa, "load-1", "napari.load_zarr", {{"path", "cells.zarr"}}));
  auto reply = answer(a, "load-1");
  ASSERT_TRUE(reply);
  ASSERT_EQ((*reply)["type"], "reply.command") << reply->dump();
  EXPECT_EQ((*reply)["payload"]["result"]["ok"], true);
  // b (not the requester) gets the new scene: one layer of 6 x 40 x 50, two levels.
  auto scene = b.read_type("notify.scene", 10);
  ASSERT_TRUE(scene);
  const Json& dims = (*scene)["payload"]["viewer"]["dims"];
  EXPECT_EQ(dims["ndim"], 3);
  EXPECT_EQ((*scene)["payload"]["layers"].size(), 1u);
  EXPECT_EQ((*scene)["payload"]["layers"][0]["shape"], Json({6, 40, 50}));
  EXPECT_EQ(dims["level_shapes"].size(), 2u);
  EXPECT_EQ((*scene)["payload"]["metadata"]["source_path"], "cells.zarr");
  EXPECT_EQ((*scene)["payload"]["layers"][0]["units"][2], "micrometer");
  // The baseline's notify.layers carries the contrast range: napari's data range (of the
  // coarsest level: (x + y) * 2 over 25 x 20 voxels).
  auto layers = b.read_type("notify.layers", 10);
  ASSERT_TRUE(layers);
  EXPECT_EQ((*layers)["payload"]["metadata"]["contrast_range"], Json({0, 86}));
  EXPECT_EQ((*layers)["payload"]["metadata"]["dtype"], "uint16");
  // The picture follows: new frames for the new dataset.
  EXPECT_TRUE(viewer.wait_until([&] { return srv.get().stats().frames_sent > frames_before; }, 10));
  EXPECT_EQ(srv.get().stats().datasets_loaded, 1u);
  // And the new scene takes intents.
  a.send(state_update_frame(sa, "z1", "dims", "z", "index", 5));
  auto ack = a.read_type("ack.state");
  ASSERT_TRUE(ack);
  EXPECT_EQ((*ack)["payload"]["status"], "accepted");
  EXPECT_EQ((*ack)["payload"]["applied_value"], 5);
}

TEST(Dataset, BadDataIsReportedToTheSenderAndNothingElseChanges) {
  DataRoot root;
  fs::create_directories(root.path + "/broken.zarr");
  std::ofstream(root.path + "/broken.zarr/.zarray") << R"({"zarr_format":2,"shape":[4,4],"chunks":[2,2],"dtype":"<c16"})";
  write_dataset(root.path + "/torn.zarr", "blosc");
  // Corrupt the level-0 chunks of the middle plane (what the first 2D frame shows).
  for (const auto& e : fs::directory_iterator(root.path + "/torn.zarr/0"))
    if (e.path().filename().string().rfind("3.", 0) == 0) std::ofstream(e.path()) << "garbage, not a blosc chunk";
  fs::create_directories(root.path + "/several");
  write_dataset(root.path + "/several/a.zarr");
  write_dataset(root.path + "/several/b.zarr");
  TestServerOptions o;
  o.data_root = root.path;
  TestServer srv(o);
  RawControl a("127.0.0.1", srv.get().control_port());
  RawControl b("127.0.0.1", srv.get().control_port());
  std::string sa = handshake(a, srv.get().token()), sb = handshake(b, srv.get().token());
  ASSERT_FALSE(sa.empty());

  a.send(command(sa, "l-broken", "napari.load_zarr", {{"path", "broken.zarr"}}));
  auto err = answer(a, "l-broken");
  ASSERT_TRUE(err);
  EXPECT_EQ((*err)["type"], "error.command");
  EXPECT_EQ((*err)["payload"]["code"], "zarr.invalid");
  std::string message = (*err)["payload"]["message"];
  EXPECT_NE(message.find("broken.zarr/.zarray"), std::string::npos) << message;
  EXPECT_NE(message.find("c16"), std::string::npos) << message;
  EXPECT_EQ(message.find(root.path), std::string::npos) << "server paths must not leak: " << message;
  EXPECT_EQ(srv.get().stats().datasets_loaded, 0u);

  a.send(command(sa, "l-several", "napari.load_zarr", {{"path", "several"}}));
  auto which = answer(a, "l-several");
  ASSERT_TRUE(which);
  EXPECT_EQ((*which)["payload"]["code"], "zarr.disambiguate");
  EXPECT_EQ((*which)["payload"]["details"]["options"], Json({"several/a.zarr", "several/b.zarr"}));

  // A dataset whose shown chunks are corrupt opens (metadata is fine); drawing it fails
  // with a notify.error naming the chunk, and the sessions stay up.
  // A viewer makes the server render; it is connected first, as the read failure is
  // reported once, to the users there when it happens.
  client::ClientStreamLoop viewer(srv.client_config());
  ASSERT_FALSE(viewer.connect());
  a.send(command(sa, "l-torn", "napari.load_zarr", {{"path", "torn.zarr"}}));
  auto ok = answer(a, "l-torn");
  ASSERT_TRUE(ok);
  ASSERT_EQ((*ok)["type"], "reply.command") << ok->dump();
  auto note = a.read_type("notify.error", 10);
  ASSERT_TRUE(note);
  EXPECT_EQ((*note)["payload"]["code"], "data.read_failed");
  std::string what = (*note)["payload"]["message"];
  EXPECT_NE(what.find("torn.zarr/0/3."), std::string::npos) << what;
  EXPECT_NE(what.find("blosc"), std::string::npos) << what;
  // The client core keeps it for the viewers' status: the user learns why part of the plane is missing.
  EXPECT_TRUE(viewer.wait_until([&] { return viewer.loop_state().server_errors > 0; }, 10));
  EXPECT_NE(viewer.loop_state().server_error.find("data.read_failed: torn.zarr/0/3."), std::string::npos)
      << viewer.loop_state().server_error;
  EXPECT_NE(client::describe(viewer.loop_state()).find("server error: data.read_failed"), std::string::npos);
  EXPECT_EQ(srv.get().stats().control_clients, 3);
  // Moving to an intact plane shows pictures again.
  uint64_t before = srv.get().stats().frames_sent;
  b.send(state_update_frame(sb, "z0", "dims", "z", "index", 0));
  ASSERT_TRUE(b.read_type("ack.state"));
  EXPECT_TRUE(viewer.wait_until([&] { return srv.get().stats().frames_sent > before; }, 10));
}

TEST(Dataset, CorruptShardsAreReportedAndTheServerKeepsServing) {
  DataRoot root;
  // OME-Zarr 0.5, one level of 6 x 40 x 48, a shard per plane of 4 x 4 inner chunks (10 x 12).
  const std::string dir = root.path + "/sharded.ome.zarr";
  data::Zarr3ArrayMeta m;
  m.shape = {6, 40, 48};
  m.chunk_shape = {1, 40, 48};
  m.dtype = data::DType::u16;
  m.codecs = data::zarr3_sharding_codecs({1, 10, 12}, data::Compressor{}, true, true);
  ASSERT_FALSE(data::prepare_zarr3_array(&m));
  ASSERT_FALSE(data::write_zarr3_array(dir + "/0", m, [](const std::vector<int64_t>& s, const std::vector<int64_t>& shape,
                                                         std::vector<uint8_t>* bytes) {
    auto* v = reinterpret_cast<uint16_t*>(bytes->data());
    for (int64_t i = 0; i < shape[1] * shape[2]; ++i) v[i] = static_cast<uint16_t>(100 + s[0] * 10 + i % 7);
    return true;
  }));
  Json axes = Json::array({{{"name", "z"}, {"type", "space"}}, {{"name", "y"}, {"type", "space"}}, {{"name", "x"}, {"type", "space"}}});
  Json ome = {{"version", "0.5"},
              {"multiscales", Json::array({{{"axes", axes},
                                            {"datasets", Json::array({{{"path", "0"}, {"coordinateTransformations",
                                                                         Json::array({{{"type", "scale"}, {"scale", {1, 1, 1}}}})}}})}}})}};
  ASSERT_FALSE(data::write_zarr3_group(dir, {{"ome", ome}}));
  fs::resize_file(dir + "/0/c/3/0/0", 30);  // the middle plane (shown first): a truncated index
  {
    std::fstream f(dir + "/0/c/4/0/0", std::ios::in | std::ios::out | std::ios::binary);  // plane 4: a flipped bit
    f.seekp(5);
    f.put('\x7f');
  }
  TestServerOptions o;
  o.data_root = root.path;
  TestServer srv(o);
  RawControl a("127.0.0.1", srv.get().control_port());
  std::string sa = handshake(a, srv.get().token());
  ASSERT_FALSE(sa.empty());
  a.send(command(sa, "l", "napari.load_zarr", {{"path", "sharded.ome.zarr"}}));
  auto ok = answer(a, "l");
  ASSERT_TRUE(ok);
  ASSERT_EQ((*ok)["type"], "reply.command") << ok->dump();
  client::ClientStreamLoop viewer(srv.client_config());
  ASSERT_FALSE(viewer.connect());
  auto note = a.read_type("notify.error", 10);
  ASSERT_TRUE(note);
  EXPECT_EQ((*note)["payload"]["code"], "data.read_failed");
  std::string what = (*note)["payload"]["message"];
  EXPECT_NE(what.find("sharded.ome.zarr/0/c/3/0/0"), std::string::npos) << what;
  EXPECT_NE(what.find("truncated shard"), std::string::npos) << what;
  EXPECT_EQ(what.find(root.path), std::string::npos) << "server paths must not leak: " << what;
  a.send(state_update_frame(sa, "z4", "dims", "z", "index", 4));
  // Plane 3's error may come again (a refinement pass reads it once more) before plane 4's.
  for (int i = 0; i < 5; ++i) {
    note = a.read_type("notify.error", 10);
    ASSERT_TRUE(note);
    what = (*note)["payload"]["message"];
    if (what.find("c/4/0/0") != std::string::npos) break;
  }
  EXPECT_NE(what.find("c/4/0/0"), std::string::npos) << what;
  EXPECT_NE(what.find("crc32c"), std::string::npos) << what;
  // An intact plane shows pictures again; the server kept serving throughout.
  uint64_t before = srv.get().stats().frames_sent;
  a.send(state_update_frame(sa, "z0", "dims", "z", "index", 0));
  EXPECT_TRUE(viewer.wait_until([&] { return srv.get().stats().frames_sent > before; }, 10));
  EXPECT_EQ(srv.get().stats().control_clients, 2);
}

namespace {
// Three levels (halving y, x); level 0 arrives 300 ms after it is first asked for.
class SlowPyramid final : public data::VolumeSource {
 public:
  SlowPyramid() {
    info_.name = "slow";
    info_.axes = {{"z", "space", 1, 0, ""}, {"y", "space", 1, 0, ""}, {"x", "space", 1, 0, ""}};
    info_.shape = {4, 240, 320};
    info_.channels = {data::make_channel("slow", "gray", 0, 100)};
    for (int l = 0; l < 3; ++l) {
      double f = 1 << l;
      info_.levels.push_back({{4, 240 >> l, 320 >> l}, {1, f, f}, {1, 64, 64}});
    }
  }
  const data::VolumeInfo& info() const override { return info_; }
  std::optional<data::DataError> read_level(int level, const data::Box& box, float* out) const override {
    std::fill(out, out + box.count(), 25.0f * static_cast<float>(level + 1));
    return std::nullopt;
  }
  bool request(int level, const data::Box&, data::RequestHint) const override {
    if (level > 0) return true;
    std::lock_guard lock(m_);
    auto now = std::chrono::steady_clock::now();
    if (!asked_) asked_ = now;
    return now - *asked_ > std::chrono::milliseconds(300);
  }

 private:
  data::VolumeInfo info_;
  mutable std::mutex m_;
  mutable std::optional<std::chrono::steady_clock::time_point> asked_;
};
}  // namespace

TEST(Dataset, ACoarseFrameComesFirstAndTheRefinementFollowsWhenDataArrives) {
  TestServerOptions o;
  o.make_source = [] { return std::make_unique<SlowPyramid>(); };
  TestServer srv(o);
  client::ClientStreamLoop viewer(srv.client_config());
  ASSERT_FALSE(viewer.connect());
  // The canvas is 320x240 and the data 320x240 at scale 1: level 0 is wanted.
  ASSERT_TRUE(viewer.wait_until([&] { return srv.get().stats().render.data_refinements >= 1; }, 10))
      << server::describe(srv.get().stats().render);
  EXPECT_FALSE(srv.get().stats().render.data_pending);
  EXPECT_TRUE(viewer.wait_until([&] { return viewer.frames().size() >= 2; }, 5));
}

// Integers and paths from the wire (issue 16, item 4): range-checked, never narrowed; no
// server path in any reply; a dataset's files stay inside the data root; metadata cannot
// size an allocation without a bound.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>

#include "fixture.hpp"
#include "voxcast/data/open_dataset.hpp"
#include "voxcast/data/zarr.hpp"

using namespace voxcast;
using namespace voxcast::testing;
using protocol::Json;
namespace fs = std::filesystem;

namespace {

struct TempDir {
  std::string path;
  TempDir() {
    char tmpl[] = "/tmp/voxcast-harden-XXXXXX";
    path = fs::canonical(mkdtemp(tmpl)).string();
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

// A 4 x 32 x 32 uint8 Zarr v2 array whose every voxel is `value`.
void write_array(const std::string& dir, uint8_t value) {
  data::ZarrArrayMeta m;
  m.shape = {4, 32, 32};
  m.chunks = {1, 32, 32};
  m.dtype = data::DType::u8;
  m.compressor.id = "zlib";
  auto err = data::write_zarr_array(dir, m, [&](const std::vector<int64_t>&, const std::vector<int64_t>&,
                                                std::vector<uint8_t>* bytes) {
    std::fill(bytes->begin(), bytes->end(), value);
    return true;
  });
  ASSERT_FALSE(err) << *err;
}

// Only the .zarray: no chunk exists, so every read is fill_value (nothing is allocated on disk).
void write_zarray_only(const std::string& dir, const std::string& shape, const std::string& chunks) {
  fs::create_directories(dir);
  std::ofstream(dir + "/.zarray") << R"({"zarr_format":2,"shape":)" << shape << R"(,"chunks":)" << chunks
                                  << R"(,"dtype":"|u1","compressor":null,"fill_value":0,"order":"C","filters":null})";
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

// The reply or error to frame `id`; other frames are collected into *seen.
std::optional<Json> answer(RawControl& raw, const std::string& id, std::vector<Json>* seen = nullptr) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < deadline) {
    auto f = raw.read(20);
    if (!f) return std::nullopt;
    if (((*f)["type"] == "reply.command" || (*f)["type"] == "error.command") && (*f)["payload"]["in_reply_to"] == id)
      return f;
    if (seen) seen->push_back(*f);
  }
  return std::nullopt;
}

std::string with_raw_value(Json frame, const std::string& raw) {
  frame["payload"]["value"] = "@@RAW@@";
  std::string text = frame.dump();
  text.replace(text.find("\"@@RAW@@\""), 9, raw);
  return text;
}

}  // namespace

TEST(HardeningData, DimsStepsAtTheInt64LimitsClampInsteadOfWrapping) {
  TestServer srv;
  RawControl raw("127.0.0.1", srv.get().control_port());
  std::string sid = handshake(raw, srv.get().token());
  ASSERT_FALSE(sid.empty());
  raw.send(state_update_frame(sid, "0", "dims", "z", "index", 3));
  ASSERT_TRUE(raw.read_type("ack.state"));
  // +2^63 (an unsigned on the wire) clamps to the last plane; -2^63 to the first.
  raw.send_text(with_raw_value(state_update_frame(sid, "1", "dims", "z", "step", 0), "9223372036854775808"));
  auto up = raw.read_type("ack.state");
  ASSERT_TRUE(up);
  EXPECT_EQ((*up)["payload"]["status"], "accepted") << up->dump();
  EXPECT_EQ((*up)["payload"]["applied_value"], 7);  // the synthetic test volume has 8 planes
  raw.send_text(with_raw_value(state_update_frame(sid, "2", "dims", "z", "step", 0), "-9223372036854775808"));
  auto down = raw.read_type("ack.state");
  ASSERT_TRUE(down);
  EXPECT_EQ((*down)["payload"]["applied_value"], 0) << down->dump();
  raw.send_text(with_raw_value(state_update_frame(sid, "3", "dims", "z", "index", 0), "18446744073709551617"));
  auto big = raw.read_type("ack.state");
  ASSERT_TRUE(big);
  EXPECT_EQ((*big)["payload"]["status"], "rejected");
}

TEST(HardeningData, AScreenshotScaleOfTwoToThe32PlusOneIsRefused) {
  TestServer srv;
  RawControl raw("127.0.0.1", srv.get().control_port());
  std::string sid = handshake(raw, srv.get().token());
  ASSERT_FALSE(sid.empty());
  raw.send(command(sid, "shot", "napari.screenshot", {{"scale", (int64_t{1} << 32) + 1}}));
  auto a = answer(raw, "shot");
  ASSERT_TRUE(a);
  EXPECT_EQ((*a)["type"], "error.command") << a->dump().substr(0, 200);
  EXPECT_EQ((*a)["payload"]["code"], "command.invalid");
}

TEST(HardeningData, NoAbsoluteServerPathInAnyReply) {
  TempDir root;
  write_array(root.path + "/cells.zarr", 9);
  std::ofstream(root.path + "/notes.tif") << "this is not a TIFF";
  std::ofstream(root.path + "/scan.nii") << "nor a NIfTI";
  fs::create_directories(root.path + "/bad.zarr");
  std::ofstream(root.path + "/bad.zarr/.zarray") << "{";
  TestServerOptions o;
  o.data_root = root.path;
  TestServer srv(o);
  RawControl raw("127.0.0.1", srv.get().control_port());
  std::string sid = handshake(raw, srv.get().token());
  ASSERT_FALSE(sid.empty());
  int n = 0;
  for (const char* path : {"notes.tif", "scan.nii", "bad.zarr"}) {
    const std::string id = "load-" + std::to_string(n++);
    raw.send(command(sid, id, "napari.load_zarr", {{"path", path}}));
    auto a = answer(raw, id);
    ASSERT_TRUE(a) << path;
    EXPECT_EQ((*a)["type"], "error.command") << path;
    const std::string text = a->dump();
    EXPECT_EQ(text.find(root.path), std::string::npos) << text;
    EXPECT_EQ(text.find("/tmp"), std::string::npos) << text;
  }
}

TEST(HardeningData, ASymlinkInsideADatasetCannotLeadOutOfTheRoot) {
  TempDir root, outside;
  write_array(outside.path + "/secret.zarr", 200);
  // An array whose .zarray is a symlink out of the root, and one whose chunk is.
  fs::create_directories(root.path + "/link-meta.zarr");
  fs::create_symlink(outside.path + "/secret.zarr/.zarray", root.path + "/link-meta.zarr/.zarray");
  write_array(root.path + "/link-chunk.zarr", 1);
  fs::remove(root.path + "/link-chunk.zarr/0.0.0");
  fs::create_symlink(outside.path + "/secret.zarr/0.0.0", root.path + "/link-chunk.zarr/0.0.0");
  // A symlink to elsewhere inside the root is fine.
  write_array(root.path + "/inside.zarr", 5);
  fs::remove(root.path + "/inside.zarr/1.0.0");
  fs::create_symlink(root.path + "/inside.zarr/2.0.0", root.path + "/inside.zarr/1.0.0");

  TestServerOptions o;
  o.data_root = root.path;
  TestServer srv(o);
  RawControl raw("127.0.0.1", srv.get().control_port());
  std::string sid = handshake(raw, srv.get().token());
  ASSERT_FALSE(sid.empty());
  raw.send(command(sid, "m", "napari.load_zarr", {{"path", "link-meta.zarr"}}));
  auto meta = answer(raw, "m");
  ASSERT_TRUE(meta);
  EXPECT_EQ((*meta)["type"], "error.command");
  EXPECT_NE((*meta)["payload"]["message"].get<std::string>().find("outside the data root"), std::string::npos)
      << meta->dump();

  // Through the reader directly: the chunk that leads out is refused, the one inside is read.
  data::OpenOptions confined;
  confined.confine_root = root.path;
  auto opened = data::open_dataset(root.path + "/link-chunk.zarr", confined);
  ASSERT_EQ(opened.index(), 0u);
  auto& src = *std::get<0>(opened);
  data::Box plane{{0, 0, 0}, {1, 32, 32}};
  std::vector<float> values(32 * 32);
  auto err = src.read_region(plane, values.data());
  ASSERT_TRUE(err);
  EXPECT_NE(err->message.find("outside the data root"), std::string::npos) << err->message;
  auto inside = data::open_dataset(root.path + "/inside.zarr", confined);
  ASSERT_EQ(inside.index(), 0u);
  data::Box second{{1, 0, 0}, {1, 32, 32}};
  EXPECT_FALSE(std::get<0>(inside)->read_region(second, values.data()));
  EXPECT_EQ(values[0], 5.0f);
}

TEST(HardeningData, NulBytesAndHugeStringsAreRefusedAndNotEchoed) {
  TempDir root;
  write_array(root.path + "/cells.zarr", 9);
  TestServerOptions o;
  o.data_root = root.path;
  TestServer srv(o);
  RawControl raw("127.0.0.1", srv.get().control_port());
  std::string sid = handshake(raw, srv.get().token());
  ASSERT_FALSE(sid.empty());
  raw.send(command(sid, "nul", "napari.load_zarr", {{"path", std::string("cells.zarr\0/../../etc", 21)}}));
  auto nul = answer(raw, "nul");
  ASSERT_TRUE(nul);
  EXPECT_EQ((*nul)["payload"]["code"], "fs.invalid") << nul->dump();

  const std::string mib(1 << 20, 'q');
  raw.send(command(sid, "big-path", "fs.listdir", {{"path", mib}}));
  auto a = answer(raw, "big-path");
  ASSERT_TRUE(a);
  EXPECT_LT(a->dump().size(), 2048u);
  raw.send(command(sid, "big-cmd", mib, Json::object()));
  auto b = answer(raw, "big-cmd");
  ASSERT_TRUE(b);
  EXPECT_EQ((*b)["payload"]["code"], "command.not_found");
  EXPECT_LT(b->dump().size(), 2048u);
  raw.send(state_update_frame(sid, "big", "dims", mib, "index", 1));
  auto c = raw.read_type("ack.state");
  ASSERT_TRUE(c);
  EXPECT_EQ((*c)["payload"]["status"], "rejected");
  EXPECT_LT(c->dump().size(), 2048u);
}

TEST(HardeningData, HugeShapesCannotAbortOrBalloonTheServer) {
  TempDir root;
  write_zarray_only(root.path + "/huge.zarr", "[4, 4611686018427387904, 4611686018427387904]", "[1, 256, 256]");
  write_zarray_only(root.path + "/fat-chunk.zarr", "[4, 65536, 65536]", "[1, 65536, 65536]");
  // Within the element bound but with no pyramid: the whole-plane view is sampled at screen
  // resolution (its chunks are all missing: fill, nothing allocated), never read whole.
  write_zarray_only(root.path + "/flat.zarr", "[4, 16777216, 16777216]", "[1, 256, 256]");
  TestServerOptions o;
  o.data_root = root.path;
  TestServer srv(o);
  RawControl raw("127.0.0.1", srv.get().control_port());
  std::string sid = handshake(raw, srv.get().token());
  ASSERT_FALSE(sid.empty());
  for (const char* path : {"huge.zarr", "fat-chunk.zarr"}) {
    raw.send(command(sid, path, "napari.load_zarr", {{"path", path}}));
    auto a = answer(raw, path);
    ASSERT_TRUE(a) << path;
    EXPECT_EQ((*a)["type"], "error.command") << path;
    EXPECT_EQ((*a)["payload"]["code"], "zarr.invalid") << a->dump();
  }
  raw.send(command(sid, "flat", "napari.load_zarr", {{"path", "flat.zarr"}}));
  std::vector<Json> seen;
  auto flat = answer(raw, "flat", &seen);
  ASSERT_TRUE(flat);
  ASSERT_EQ((*flat)["type"], "reply.command") << flat->dump();
  // Loaded: no read fails (nothing is read whole) and no error is reported.
  for (const auto& f : seen) EXPECT_NE(f["type"], "notify.error") << f.dump();
  auto err = raw.read_type("notify.error", 3);
  EXPECT_FALSE(err) << err->dump();
  // Still serving.
  raw.send(command(sid, "after", "fs.listdir", {{"path", nullptr}}));
  auto after = answer(raw, "after");
  ASSERT_TRUE(after);
  EXPECT_EQ((*after)["type"], "reply.command");
}

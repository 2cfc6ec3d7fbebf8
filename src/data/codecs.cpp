#include "voxcast/data/codecs.hpp"

#include <blosc.h>
#include <zlib.h>
#include <zstd.h>

#include <cstring>

namespace voxcast::data {

std::optional<std::string> parse_compressor(const nlohmann::json& j, Compressor* out) {
  *out = Compressor{};
  if (j.is_null()) return std::nullopt;
  if (!j.is_object() || !j.contains("id") || !j["id"].is_string()) return "compressor must be null or an object with an id";
  out->id = j["id"].get<std::string>();
  auto num = [&](const char* k, int fallback) {
    return j.contains(k) && j[k].is_number_integer() ? j[k].get<int>() : fallback;
  };
  if (out->id == "blosc") {
    out->cname = j.contains("cname") && j["cname"].is_string() ? j["cname"].get<std::string>() : "lz4";
    out->clevel = num("clevel", 5);
    out->shuffle = num("shuffle", 1);
    out->blocksize = num("blocksize", 0);
    static const char* known[] = {"lz4", "lz4hc", "zstd", "zlib", "blosclz"};
    bool ok = false;
    for (const char* k : known) ok = ok || out->cname == k;
    if (!ok) return "unsupported blosc compressor '" + out->cname + "'";
    if (out->shuffle < -1 || out->shuffle > 2) return "unsupported blosc shuffle " + std::to_string(out->shuffle);
    return std::nullopt;
  }
  if (out->id == "zstd") {
    out->clevel = num("level", 3);
    return std::nullopt;
  }
  if (out->id == "zlib" || out->id == "gzip") {
    out->clevel = num("level", 1);
    return std::nullopt;
  }
  return "unsupported compressor '" + out->id + "'";
}

nlohmann::json to_json(const Compressor& c) {
  if (c.id.empty()) return nullptr;
  if (c.id == "blosc")
    return {{"id", "blosc"}, {"cname", c.cname}, {"clevel", c.clevel}, {"shuffle", c.shuffle}, {"blocksize", c.blocksize}};
  return {{"id", c.id}, {"level", c.clevel}};
}

std::string describe(const Compressor& c) {
  if (c.id.empty()) return "none";
  if (c.id != "blosc") return c.id;
  const char* sh = c.shuffle == 2 ? "bit" : (c.shuffle == 1 || c.shuffle == -1 ? "byte" : "none");
  return "blosc/" + c.cname + " shuffle=" + sh;
}

namespace {
std::string size_mismatch(size_t got, size_t expected) {
  return "decoded " + std::to_string(got) + " bytes, expected " + std::to_string(expected);
}

// zlib (windowBits 15), gzip (31) or either (47) into a buffer of known size.
std::optional<std::string> inflate_exact(const uint8_t* in, size_t n, int window_bits, size_t expected,
                                         std::vector<uint8_t>* out) {
  out->resize(expected);
  z_stream z{};
  if (inflateInit2(&z, window_bits) != Z_OK) return "zlib init failed";
  z.next_in = const_cast<Bytef*>(in);
  z.avail_in = static_cast<uInt>(n);
  z.next_out = out->data();
  z.avail_out = static_cast<uInt>(expected);
  int rc = inflate(&z, Z_FINISH);
  size_t got = expected - z.avail_out;
  inflateEnd(&z);
  if (rc != Z_STREAM_END) {
    if (rc == Z_BUF_ERROR && z.avail_out == 0) return "decoded data is larger than the chunk";
    return std::string("corrupt or truncated deflate stream (") + (z.msg ? z.msg : "zlib error") + ")";
  }
  if (got != expected) return size_mismatch(got, expected);
  return std::nullopt;
}
}  // namespace

std::optional<std::string> decompress(const Compressor& c, const uint8_t* in, size_t n, size_t expected,
                                      std::vector<uint8_t>* out) {
  if (c.id.empty()) {
    if (n != expected) return size_mismatch(n, expected);
    out->assign(in, in + n);
    return std::nullopt;
  }
  if (c.id == "blosc") {
    size_t nbytes = 0;
    if (n < BLOSC_MIN_HEADER_LENGTH || blosc_cbuffer_validate(in, n, &nbytes) != 0) return "corrupt or truncated blosc chunk";
    if (nbytes != expected) return size_mismatch(nbytes, expected);
    out->resize(expected);
    int got = blosc_decompress_ctx(in, out->data(), expected, 1);
    if (got < 0 || static_cast<size_t>(got) != expected) return "corrupt blosc chunk (decompression failed)";
    return std::nullopt;
  }
  if (c.id == "zstd") {
    unsigned long long size = ZSTD_getFrameContentSize(in, n);
    if (size == ZSTD_CONTENTSIZE_ERROR) return "corrupt zstd chunk (not a zstd frame)";
    out->resize(expected);
    size_t got = ZSTD_decompress(out->data(), expected, in, n);
    if (ZSTD_isError(got)) return std::string("corrupt or truncated zstd chunk (") + ZSTD_getErrorName(got) + ")";
    if (got != expected) return size_mismatch(got, expected);
    return std::nullopt;
  }
  if (c.id == "zlib") return inflate_exact(in, n, 15, expected, out);
  if (c.id == "gzip") return inflate_exact(in, n, 31, expected, out);
  return "unsupported compressor '" + c.id + "'";
}

std::optional<std::string> decompress_bounded(const Compressor& c, const uint8_t* in, size_t n, size_t limit,
                                              std::vector<uint8_t>* out) {
  auto too_big = [&] { return "decoded data exceeds " + std::to_string(limit) + " bytes"; };
  if (c.id.empty()) {
    if (n > limit) return too_big();
    out->assign(in, in + n);
    return std::nullopt;
  }
  if (c.id == "blosc") {
    size_t nbytes = 0;
    if (n < BLOSC_MIN_HEADER_LENGTH || blosc_cbuffer_validate(in, n, &nbytes) != 0) return "corrupt or truncated blosc data";
    if (nbytes > limit) return too_big();
    return decompress(c, in, n, nbytes, out);
  }
  if (c.id == "zstd") {
    unsigned long long size = ZSTD_getFrameContentSize(in, n);
    if (size == ZSTD_CONTENTSIZE_ERROR) return "corrupt zstd data (not a zstd frame)";
    if (size != ZSTD_CONTENTSIZE_UNKNOWN) {
      if (size > limit) return too_big();
      return decompress(c, in, n, static_cast<size_t>(size), out);
    }
    // No size in the frame header: stream it, bounded.
    ZSTD_DStream* z = ZSTD_createDStream();
    out->clear();
    ZSTD_inBuffer ib{in, n, 0};
    std::vector<uint8_t> buf(ZSTD_DStreamOutSize());
    size_t rc = 1;
    while (ib.pos < ib.size || rc != 0) {
      ZSTD_outBuffer ob{buf.data(), buf.size(), 0};
      rc = ZSTD_decompressStream(z, &ob, &ib);
      if (ZSTD_isError(rc)) {
        ZSTD_freeDStream(z);
        return std::string("corrupt zstd data (") + ZSTD_getErrorName(rc) + ")";
      }
      out->insert(out->end(), buf.data(), buf.data() + ob.pos);
      if (out->size() > limit) {
        ZSTD_freeDStream(z);
        return too_big();
      }
      if (ib.pos == ib.size && ob.pos == 0 && rc != 0) {
        ZSTD_freeDStream(z);
        return "truncated zstd data";
      }
    }
    ZSTD_freeDStream(z);
    return std::nullopt;
  }
  if (c.id == "zlib" || c.id == "gzip") return gunzip(in, n, limit, out);
  return "unsupported compressor '" + c.id + "'";
}

namespace {
// Slicing-by-8 tables of the reflected Castagnoli polynomial.
struct Crc32cTables {
  uint32_t t[8][256];
  Crc32cTables() {
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = c & 1 ? (c >> 1) ^ 0x82F63B78u : c >> 1;
      t[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; ++i)
      for (int s = 1; s < 8; ++s) t[s][i] = (t[s - 1][i] >> 8) ^ t[0][t[s - 1][i] & 0xff];
  }
};
}  // namespace

uint32_t crc32c(const uint8_t* data, size_t n) {
  static const Crc32cTables tables;
  const auto& t = tables.t;
  uint32_t c = 0xffffffffu;
  while (n >= 8) {
    uint32_t lo, hi;
    std::memcpy(&lo, data, 4);
    std::memcpy(&hi, data + 4, 4);
    lo ^= c;
    c = t[7][lo & 0xff] ^ t[6][(lo >> 8) & 0xff] ^ t[5][(lo >> 16) & 0xff] ^ t[4][lo >> 24] ^ t[3][hi & 0xff] ^
        t[2][(hi >> 8) & 0xff] ^ t[1][(hi >> 16) & 0xff] ^ t[0][hi >> 24];
    data += 8;
    n -= 8;
  }
  while (n--) c = (c >> 8) ^ t[0][(c ^ *data++) & 0xff];
  return c ^ 0xffffffffu;
}

std::vector<uint8_t> compress(const Compressor& c, const uint8_t* in, size_t n, size_t itemsize) {
  std::vector<uint8_t> out;
  if (c.id.empty()) return std::vector<uint8_t>(in, in + n);
  if (c.id == "blosc") {
    out.resize(n + BLOSC_MAX_OVERHEAD);
    int got = blosc_compress_ctx(c.clevel, c.shuffle, itemsize, n, in, out.data(), out.size(), c.cname.c_str(),
                                 static_cast<size_t>(c.blocksize), 1);
    out.resize(got > 0 ? static_cast<size_t>(got) : 0);
    return out;
  }
  if (c.id == "zstd") {
    out.resize(ZSTD_compressBound(n));
    size_t got = ZSTD_compress(out.data(), out.size(), in, n, c.clevel);
    out.resize(ZSTD_isError(got) ? 0 : got);
    return out;
  }
  // zlib or gzip (windowBits 31 writes the gzip wrapper).
  z_stream z{};
  deflateInit2(&z, c.clevel, Z_DEFLATED, c.id == "gzip" ? 31 : 15, 8, Z_DEFAULT_STRATEGY);
  out.resize(deflateBound(&z, static_cast<uLong>(n)) + 32);
  z.next_in = const_cast<Bytef*>(in);
  z.avail_in = static_cast<uInt>(n);
  z.next_out = out.data();
  z.avail_out = static_cast<uInt>(out.size());
  deflate(&z, Z_FINISH);
  out.resize(out.size() - z.avail_out);
  deflateEnd(&z);
  return out;
}

std::optional<std::string> gunzip(const uint8_t* in, size_t n, size_t limit, std::vector<uint8_t>* out) {
  out->clear();
  z_stream z{};
  if (inflateInit2(&z, 47) != Z_OK) return "zlib init failed";
  z.next_in = const_cast<Bytef*>(in);
  z.avail_in = static_cast<uInt>(n);
  std::vector<uint8_t> buf(1 << 20);
  int rc = Z_OK;
  while (rc != Z_STREAM_END) {
    z.next_out = buf.data();
    z.avail_out = static_cast<uInt>(buf.size());
    rc = inflate(&z, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END) {
      std::string why = z.msg ? z.msg : "truncated stream";
      inflateEnd(&z);
      return "corrupt or truncated gzip data (" + why + ")";
    }
    out->insert(out->end(), buf.data(), buf.data() + (buf.size() - z.avail_out));
    if (out->size() > limit) {
      inflateEnd(&z);
      return "decompressed data exceeds " + std::to_string(limit >> 20) + " MB";
    }
    if (rc == Z_OK && z.avail_in == 0 && z.avail_out != 0) {
      inflateEnd(&z);
      return "truncated gzip data";
    }
  }
  inflateEnd(&z);
  return std::nullopt;
}

}  // namespace voxcast::data

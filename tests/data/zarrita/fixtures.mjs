// Zarr v3 datasets written and read by an independent implementation (zarrita), for
// voxcast's data tests. Values follow the formula of tests/data/fixtures.hpp:
//   v = (sum_i idx_i * (i + 3) * 7) % modulus; floats v * 0.5 - 3.25; signed v - modulus / 2;
//   bool v % 2.
//
//   node fixtures.mjs write OUT SPEC     SPEC: {shape, chunks, dtype, codecs, fill?, separator?,
//                                              dims?, ome?: {axes, scale, omero?}, writer?: "zarrita"|"hand"}
//   node fixtures.mjs write-many SPECS.json  a JSON list of SPEC, each with its "out"
//   node fixtures.mjs read ARRAY OUT.bin  every element, little-endian, C order (+ OUT.bin.json: shape, dtype)
import * as fs from "node:fs";
import * as path from "node:path";
import * as zarr from "zarrita";
import FileSystemStore from "@zarrita/storage/fs";

const MODULUS = 251;

// zarrita decodes gzip and zlib but does not encode them: numcodecs (its own dependency) does.
zarr.registry.set("gzip", () => import("numcodecs/gzip").then((m) => m.default));
zarr.registry.set("zlib", () => import("numcodecs/zlib").then((m) => m.default));

function value(idx, dtype) {
  let v = 0;
  idx.forEach((x, i) => (v += x * (i + 3) * 7));
  v %= MODULUS;
  if (dtype.startsWith("float")) return v * 0.5 - 3.25;
  if (dtype.startsWith("int")) return v - Math.floor(MODULUS / 2);
  if (dtype === "bool") return v % 2;
  return v;
}

const SIZES = { bool: 1, int8: 1, uint8: 1, int16: 2, uint16: 2, float16: 2, int32: 4, uint32: 4, float32: 4, int64: 8, uint64: 8, float64: 8 };

// IEEE binary16 bits of a number exactly representable in it (the fixture values are).
function halfBits(x) {
  if (x === 0) return Object.is(x, -0) ? 0x8000 : 0;
  const sign = x < 0 ? 0x8000 : 0;
  x = Math.abs(x);
  let e = Math.floor(Math.log2(x));
  if (e < -14) return sign | Math.round(x / 2 ** -24);
  const m = Math.round((x / 2 ** e - 1) * 1024);
  return sign | ((e + 15) << 10) | m;
}

// Little-endian bytes of `n` elements given by f(k).
function encodeElements(dtype, n, f) {
  const size = SIZES[dtype];
  const buf = new DataView(new ArrayBuffer(n * size));
  for (let k = 0; k < n; k++) {
    const v = f(k), o = k * size;
    switch (dtype) {
      case "bool": case "uint8": buf.setUint8(o, v); break;
      case "int8": buf.setInt8(o, v); break;
      case "int16": buf.setInt16(o, v, true); break;
      case "uint16": buf.setUint16(o, v, true); break;
      case "float16": buf.setUint16(o, halfBits(v), true); break;
      case "int32": buf.setInt32(o, v, true); break;
      case "uint32": buf.setUint32(o, v, true); break;
      case "float32": buf.setFloat32(o, v, true); break;
      case "int64": buf.setBigInt64(o, BigInt(v), true); break;
      case "uint64": buf.setBigUint64(o, BigInt(v), true); break;
      case "float64": buf.setFloat64(o, v, true); break;
    }
  }
  return new Uint8Array(buf.buffer);
}

function unravel(k, shape) {
  const idx = new Array(shape.length);
  for (let a = shape.length - 1; a >= 0; a--) {
    idx[a] = k % shape[a];
    k = Math.floor(k / shape[a]);
  }
  return idx;
}
const prod = (s) => s.reduce((a, b) => a * b, 1);

function typedArray(dtype, n) {
  const ctors = { int8: Int8Array, uint8: Uint8Array, int16: Int16Array, uint16: Uint16Array, int32: Int32Array,
                  uint32: Uint32Array, int64: BigInt64Array, uint64: BigUint64Array, float32: Float32Array, float64: Float64Array };
  if (dtype === "bool") return new zarr.BoolArray(n);
  return new ctors[dtype](n);
}

// CRC-32C (Castagnoli), which zarrita reads but does not write.
const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    t[i] = c >>> 0;
  }
  return t;
})();
function crc32c(bytes) {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

// Encodes bytes (C order, little-endian) through a codec list by hand: bytes, transpose
// (of `shape`), blosc/zstd/gzip/zlib through zarrita's own codec classes, crc32c.
async function encodeChain(codecs, bytes, shape, dtype) {
  const size = SIZES[dtype];
  for (const c of codecs) {
    const cfg = c.configuration ?? {};
    if (c.name === "transpose") {
      const out = new Uint8Array(bytes.length);
      const tshape = cfg.order.map((a) => shape[a]);
      const stride = shape.map((_, a) => prod(shape.slice(a + 1)));
      for (let k = 0; k < prod(shape); k++) {
        const e = unravel(k, tshape);
        let src = 0;
        cfg.order.forEach((a, i) => (src += e[i] * stride[a]));
        out.set(bytes.subarray(src * size, src * size + size), k * size);
      }
      bytes = out;
      shape = tshape;
    } else if (c.name === "bytes") {
      if (cfg.endian === "big" && size > 1) {
        bytes = bytes.slice();
        for (let o = 0; o < bytes.length; o += size) bytes.subarray(o, o + size).reverse();
      }
    } else if (c.name === "crc32c") {
      const out = new Uint8Array(bytes.length + 4);
      out.set(bytes);
      new DataView(out.buffer).setUint32(bytes.length, crc32c(bytes), true);
      bytes = out;
    } else {
      let config = cfg;
      if (c.name === "blosc") {  // numcodecs takes shuffle as 0/1/2
        const sh = { noshuffle: 0, shuffle: 1, bitshuffle: 2 }[cfg.shuffle] ?? cfg.shuffle;
        config = { ...cfg, shuffle: sh };
      }
      const Codec = await zarr.registry.get(c.name)();
      const codec = Codec.fromConfig(config, { dataType: dtype, shape, codecs: [] });
      bytes = new Uint8Array(await codec.encode(bytes));
    }
  }
  return bytes;
}

function chunkKey(coords, separator) {
  return ["c", ...coords].join(separator);
}

// Our own hand-made writer for what zarrita cannot write: sharding_indexed (index at the
// start or the end, empty inner chunks left out), crc32c, float16.
async function writeHand(dir, spec) {
  const { shape, chunks, dtype } = spec;
  const fill = spec.fill ?? 0;
  const sep = spec.separator ?? "/";
  const meta = { zarr_format: 3, node_type: "array", shape, data_type: dtype,
    chunk_grid: { name: "regular", configuration: { chunk_shape: chunks } },
    chunk_key_encoding: spec.keys === "v2" ? { name: "v2", configuration: { separator: spec.separator ?? "." } }
                                           : { name: "default", configuration: { separator: sep } },
    fill_value: spec.fillJson ?? fill, codecs: spec.codecs, attributes: {} };
  if (spec.dims) meta.dimension_names = spec.dims;
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, "zarr.json"), JSON.stringify(meta, null, 2));
  const grid = shape.map((s, a) => Math.ceil(s / chunks[a]));
  const skip = new Set((spec.skipInner ?? []).map(String));
  const skipShards = new Set((spec.skipShards ?? []).map(String));
  for (let g = 0; g < prod(grid); g++) {
    const gc = unravel(g, grid);
    if (skipShards.has(String(gc))) continue;  // a missing shard reads as fill
    const origin = gc.map((c, a) => c * chunks[a]);
    const cellValue = (idx) => (idx.some((x, a) => x >= shape[a]) ? fill : value(idx, dtype));
    let encoded;
    const sharding = spec.codecs.length === 1 && spec.codecs[0].name === "sharding_indexed" ? spec.codecs[0].configuration : null;
    if (sharding) {
      const inner = sharding.chunk_shape;
      const per = chunks.map((c, a) => c / inner[a]);
      const n = prod(per);
      const parts = [];
      const index = new BigUint64Array(2 * n).fill(0xffffffffffffffffn);
      const indexBytes = await encodeChain(sharding.index_codecs, new Uint8Array(16 * n), [...per, 2], "uint64");
      const atStart = sharding.index_location === "start";
      let offset = atStart ? indexBytes.length : 0;
      for (let k = 0; k < n; k++) {
        const ic = unravel(k, per);
        const io = ic.map((c, a) => origin[a] + c * inner[a]);
        if (skip.has(String(io)) || io.some((x, a) => x >= shape[a])) continue;  // left empty: reads as fill
        const raw = encodeElements(dtype, prod(inner), (e) => cellValue(unravel(e, inner).map((x, a) => io[a] + x)));
        const enc = await encodeChain(sharding.codecs, raw, inner, dtype);
        index[2 * k] = BigInt(offset);
        index[2 * k + 1] = BigInt(enc.length);
        offset += enc.length;
        parts.push(enc);
      }
      const idx = await encodeChain(sharding.index_codecs, new Uint8Array(index.buffer), [...per, 2], "uint64");
      encoded = Buffer.concat(atStart ? [idx, ...parts] : [...parts, idx]);
    } else {
      const raw = encodeElements(dtype, prod(chunks), (e) => cellValue(unravel(e, chunks).map((x, a) => origin[a] + x)));
      encoded = await encodeChain(spec.codecs, raw, chunks, dtype);
    }
    const key = spec.keys === "v2" ? gc.join(spec.separator ?? ".") : chunkKey(gc, sep);
    const file = path.join(dir, ...key.split("/"));
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, encoded);
  }
}

async function writeZarrita(dir, spec) {
  const { shape, chunks, dtype } = spec;
  const store = new FileSystemStore(path.dirname(dir));
  const arr = await zarr.create(zarr.root(store).resolve(path.basename(dir)), {
    shape, chunkShape: chunks, dtype, codecs: spec.codecs, fillValue: spec.fill ?? 0,
    chunkSeparator: spec.separator ?? "/", dimensionNames: spec.dims,
  });
  const n = prod(shape);
  const data = typedArray(dtype, n);
  for (let k = 0; k < n; k++) {
    const v = value(unravel(k, shape), dtype);
    if (dtype === "bool") data.set(k, v === 1);
    else data[k] = dtype.endsWith("int64") ? BigInt(v) : v;
  }
  await zarr.set(arr, null, { data, shape, stride: shape.map((_, a) => prod(shape.slice(a + 1))) });
}

async function write(out, spec) {
  let arrayDir = out;
  if (spec.ome) {
    // An OME-Zarr 0.5 image: the group's metadata under attributes.ome, the array at "0".
    const store = new FileSystemStore(out);
    const ome = { version: "0.5", multiscales: [{ name: path.basename(out), axes: spec.ome.axes,
      datasets: [{ path: "0", coordinateTransformations: [{ type: "scale", scale: spec.ome.scale }] }] }] };
    if (spec.ome.omero) ome.omero = spec.ome.omero;
    await zarr.create(zarr.root(store), { attributes: { ome } });
    arrayDir = path.join(out, "0");
  }
  if ((spec.writer ?? "zarrita") === "hand") await writeHand(arrayDir, spec);
  else await writeZarrita(arrayDir, spec);
  // OME-Zarr 0.5 labels: labels/zarr.json lists them; each is an image with image-label.
  if (spec.ome && spec.labels) {
    const store = new FileSystemStore(out);
    await zarr.create(zarr.root(store).resolve("labels"), { attributes: { ome: { version: "0.5", labels: spec.labels.map((l) => l.name) } } });
    for (const l of spec.labels) {
      const ome = { version: "0.5", "image-label": l.imageLabel,
        multiscales: [{ name: l.name, axes: l.axes, datasets: [{ path: "0", coordinateTransformations: [{ type: "scale", scale: l.scale }] }] }] };
      await zarr.create(zarr.root(store).resolve(`labels/${l.name}`), { attributes: { ome } });
      await writeZarrita(path.join(out, "labels", l.name, "0"), { shape: l.shape, chunks: l.chunks, dtype: l.dtype,
        codecs: [{ name: "bytes", configuration: { endian: "little" } }, { name: "zstd", configuration: { level: 3 } }] });
    }
  }
}

async function read(dir, out) {
  const store = new FileSystemStore(path.dirname(dir));
  const arr = await zarr.open.v3(zarr.root(store).resolve(path.basename(dir)), { kind: "array" });
  const got = await zarr.get(arr);
  const n = prod(got.shape);
  const bytes = arr.dtype === "bool"
    ? Uint8Array.from({ length: n }, (_, k) => (got.data.get(k) ? 1 : 0))
    : new Uint8Array(got.data.buffer, got.data.byteOffset, got.data.byteLength);
  fs.writeFileSync(out, bytes);
  fs.writeFileSync(out + ".json", JSON.stringify({ shape: got.shape, dtype: arr.dtype }));
}

const [cmd, target, arg] = process.argv.slice(2);
try {
  if (cmd === "write") await write(target, JSON.parse(arg));
  else if (cmd === "write-many") for (const spec of JSON.parse(fs.readFileSync(target, "utf8"))) await write(spec.out, spec);
  else if (cmd === "read") await read(target, arg);
  else throw new Error("usage: fixtures.mjs write OUT SPEC | read ARRAY OUT.bin");
} catch (e) {
  console.error("fixtures.mjs:", e);
  process.exit(1);
}

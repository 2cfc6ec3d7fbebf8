// The pixel channel's binary messages (24-byte big-endian header, then an AVCC access
// unit, or an exact still's prefix and PNG), the H.264 bitstream pieces the client needs
// (NAL split, RBSP, avcC → codec string) and voxcast's frame-meta SEI
// (src/protocol/frame_meta.cpp, layout v1 with the brick residency appended).
import { fail, ok, type Result } from "./envelope.js";

export const PIXEL_HEADER_SIZE = 24;
export const CODEC_H264 = 1;
export const CODEC_STILL_PNG = 16; // docs/messages.md, "Exact stills"
export const FLAG_KEYFRAME = 0x01;
export const FLAG_STILL = 0x02;

export interface PixelHeader {
  seq: number; // u32
  timestamp: number; // server capture time, seconds (wall clock)
  width: number;
  height: number;
  codec: number;
  flags: number; // bit 0: keyframe, bit 1: exact still
}

export const isKeyframe = (h: PixelHeader): boolean => (h.flags & FLAG_KEYFRAME) !== 0;
export const isStill = (h: PixelHeader): boolean => h.codec === CODEC_STILL_PNG;

export function readPixelHeader(bytes: Uint8Array): Result<PixelHeader> {
  if (bytes.byteLength < PIXEL_HEADER_SIZE) return fail("pixel.invalid", `pixel message shorter than ${PIXEL_HEADER_SIZE} bytes`);
  const v = new DataView(bytes.buffer, bytes.byteOffset, PIXEL_HEADER_SIZE);
  return ok({
    seq: v.getUint32(0),
    timestamp: v.getFloat64(4),
    width: v.getUint32(12),
    height: v.getUint32(16),
    codec: v.getUint8(20),
    flags: v.getUint8(21),
  });
}

export function writePixelHeader(h: PixelHeader): Uint8Array {
  const out = new Uint8Array(PIXEL_HEADER_SIZE);
  const v = new DataView(out.buffer);
  v.setUint32(0, h.seq >>> 0);
  v.setFloat64(4, h.timestamp);
  v.setUint32(12, h.width);
  v.setUint32(16, h.height);
  v.setUint8(20, h.codec);
  v.setUint8(21, h.flags);
  return out;
}

// An exact still's payload: u64 scene_version, u32 render_us, u32 png_us (big-endian),
// then a PNG (8-bit RGB, exactly the server's render).
export const STILL_PREFIX_SIZE = 16;
export const PNG_SIGNATURE = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

export interface StillPayload {
  sceneVersion: number;
  renderUs: number;
  pngUs: number;
  png: Uint8Array; // a view into the payload
}

export function readStill(payload: Uint8Array): Result<StillPayload> {
  if (payload.byteLength < STILL_PREFIX_SIZE + PNG_SIGNATURE.length)
    return fail("still.truncated", `still payload of ${payload.byteLength} bytes: shorter than its ${STILL_PREFIX_SIZE}-byte prefix and a PNG signature`);
  const v = new DataView(payload.buffer, payload.byteOffset, STILL_PREFIX_SIZE);
  const version = v.getBigUint64(0);
  if (version > BigInt(Number.MAX_SAFE_INTEGER)) return fail("still.invalid", `still scene_version ${version} is past 2^53: garbled`);
  const png = payload.subarray(STILL_PREFIX_SIZE);
  if (!PNG_SIGNATURE.every((b, i) => png[i] === b)) return fail("still.not_png", "still payload does not hold a PNG after its prefix");
  return ok({ sceneVersion: Number(version), renderUs: v.getUint32(8), pngUs: v.getUint32(12), png });
}

// A still's payload as the server writes it (for tests and fixtures).
export function writeStill(s: StillPayload): Uint8Array {
  const out = new Uint8Array(STILL_PREFIX_SIZE + s.png.length);
  const v = new DataView(out.buffer);
  v.setBigUint64(0, BigInt(s.sceneVersion));
  v.setUint32(8, s.renderUs);
  v.setUint32(12, s.pngUs);
  out.set(s.png, STILL_PREFIX_SIZE);
  return out;
}

export const NAL_SLICE = 1;
export const NAL_IDR = 5;
export const NAL_SEI = 6;
export const NAL_SPS = 7;
export const nalType = (b: number): number => b & 0x1f;

// The NAL units of an AVCC access unit (views into `au`), or null when a length runs past the end.
export function splitAvcc(au: Uint8Array, lengthSize = 4): Uint8Array[] | null {
  const out: Uint8Array[] = [];
  let i = 0;
  while (i < au.length) {
    if (i + lengthSize > au.length) return null;
    let n = 0;
    for (let k = 0; k < lengthSize; k++) n = n * 256 + au[i + k]!;
    i += lengthSize;
    if (n === 0 || i + n > au.length) return null;
    out.push(au.subarray(i, i + n));
    i += n;
  }
  return out;
}

export function joinAvcc(nals: Uint8Array[], lengthSize = 4): Uint8Array {
  const total = nals.reduce((s, n) => s + lengthSize + n.length, 0);
  const out = new Uint8Array(total);
  let i = 0;
  for (const n of nals) {
    for (let k = lengthSize - 1; k >= 0; k--) out[i + (lengthSize - 1 - k)] = (n.length >>> (8 * k)) & 0xff;
    i += lengthSize;
    out.set(n, i);
    i += n.length;
  }
  return out;
}

// Removes emulation-prevention bytes (00 00 03 → 00 00).
export function rbspFromNalPayload(p: Uint8Array): Uint8Array {
  const out = new Uint8Array(p.length);
  let n = 0, zeros = 0;
  for (const b of p) {
    if (zeros >= 2 && b === 3) {
      zeros = 0;
      continue;
    }
    out[n++] = b;
    zeros = b === 0 ? zeros + 1 : 0;
  }
  return out.subarray(0, n);
}

export function nalPayloadFromRbsp(r: Uint8Array): Uint8Array {
  const out: number[] = [];
  let zeros = 0;
  for (const b of r) {
    if (zeros >= 2 && b <= 3) {
      out.push(3);
      zeros = 0;
    }
    out.push(b);
    zeros = b === 0 ? zeros + 1 : 0;
  }
  return Uint8Array.from(out);
}

// WebCodecs' codec string for an avcC record: avc1.PPCCLL (profile, constraints, level).
export function codecFromAvcc(avcc: Uint8Array): Result<string> {
  if (avcc.length < 7 || avcc[0] !== 1) return fail("stream.invalid", "avcC record is malformed");
  const hex = (b: number) => b.toString(16).padStart(2, "0").toUpperCase();
  return ok(`avc1.${hex(avcc[1]!)}${hex(avcc[2]!)}${hex(avcc[3]!)}`);
}

export function base64ToBytes(s: string): Uint8Array | null {
  try {
    const bin = atob(s);
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  } catch {
    return null;
  }
}

export const QUALITY_REFINED = 1;
export const QUALITY_PARTIAL = 2;

export interface FrameMeta {
  scene_version: number; // ledger version of the scene the frame shows
  capture_time: number; // server wall clock, seconds
  render_us: number;
  encode_us: number;
  quality: number;
  // Appended to layout 1 (older writers omit them: 0 here). 3D from multiresolution
  // bricks: bit L set when the picture sampled pyramid level L (u16), and the wanted
  // bricks not yet resident (u32); both 0 for other frames.
  levels_drawn: number;
  bricks_loading: number;
}

export const FRAME_META_UUID = Uint8Array.from([
  0x76, 0x6f, 0x78, 0x63, 0x61, 0x73, 0x74, 0x2d, 0x8e, 0x1f, 0x4b, 0x52, 0xa9, 0x03, 0x6d, 0x21,
]);
const LAYOUT_VERSION = 1;
const BODY_SIZE = 1 + 8 + 8 + 4 + 4 + 1; // the first layout: version .. quality
const RESIDENCY_SIZE = 2 + 4; // appended later: levels_drawn, bricks_loading

// The SEI NAL unit the server inserts (for tests and fixtures): the current layout,
// residency included, as src/protocol/frame_meta.cpp writes it.
export function buildFrameMetaSei(m: FrameMeta): Uint8Array {
  const body = new Uint8Array(2 + 16 + BODY_SIZE + RESIDENCY_SIZE + 1);
  const v = new DataView(body.buffer);
  body[0] = 5; // user data unregistered
  body[1] = 16 + BODY_SIZE + RESIDENCY_SIZE;
  body.set(FRAME_META_UUID, 2);
  body[18] = LAYOUT_VERSION;
  v.setBigUint64(19, BigInt(m.scene_version));
  v.setFloat64(27, m.capture_time);
  v.setUint32(35, m.render_us);
  v.setUint32(39, m.encode_us);
  body[43] = m.quality;
  v.setUint16(44, m.levels_drawn);
  v.setUint32(46, m.bricks_loading);
  body[50] = 0x80; // rbsp_trailing_bits
  const payload = nalPayloadFromRbsp(body);
  const nal = new Uint8Array(payload.length + 1);
  nal[0] = 0x06;
  nal.set(payload, 1);
  return nal;
}

// voxcast's frame metadata in an AVCC access unit; null when absent or malformed. A body
// of the first layout (no residency) reads with levels_drawn = bricks_loading = 0; bytes
// past the fields known here are ignored.
export function findFrameMeta(au: Uint8Array, lengthSize = 4): FrameMeta | null {
  const nals = splitAvcc(au, lengthSize);
  if (!nals) return null;
  for (const n of nals) {
    if (n.length < 2 || nalType(n[0]!) !== NAL_SEI) continue;
    const r = rbspFromNalPayload(n.subarray(1));
    let i = 0;
    while (i + 2 <= r.length && r[i] !== 0x80) {
      let type = 0, size = 0;
      while (i < r.length && r[i] === 0xff) type += r[i++]!;
      if (i >= r.length) break;
      type += r[i++]!;
      while (i < r.length && r[i] === 0xff) size += r[i++]!;
      if (i >= r.length) break;
      size += r[i++]!;
      if (i + size > r.length) break;
      const body = r.subarray(i, i + size);
      if (type === 5 && size >= 16 + BODY_SIZE && FRAME_META_UUID.every((b, k) => body[k] === b) && body[16] === LAYOUT_VERSION) {
        const residency = size >= 16 + BODY_SIZE + RESIDENCY_SIZE;
        const v = new DataView(body.buffer, body.byteOffset + 17, BODY_SIZE - 1 + (residency ? RESIDENCY_SIZE : 0));
        return {
          scene_version: Number(v.getBigUint64(0)),
          capture_time: v.getFloat64(8),
          render_us: v.getUint32(16),
          encode_us: v.getUint32(20),
          quality: v.getUint8(24),
          levels_drawn: residency ? v.getUint16(25) : 0,
          bricks_loading: residency ? v.getUint32(27) : 0,
        };
      }
      i += size;
    }
  }
  return null;
}

import { test } from "node:test";
import assert from "node:assert/strict";
import { buildFrameMetaSei, codecFromAvcc, findFrameMeta, FRAME_META_UUID, joinAvcc, nalPayloadFromRbsp, rbspFromNalPayload, QUALITY_PARTIAL, readPixelHeader, splitAvcc, writePixelHeader } from "../src/protocol/pixel.js";
import { avccFromParameterSets, avccParameterSets, parameterSets } from "../src/client/media.js";
import { gateFrame, makeGate } from "../src/client/decode_gate.js";
import { PPS, SPS } from "./fakes.js";

test("pixel header round trip, big-endian, and a short message is an error", () => {
  const h = { seq: 0xfffffffe, timestamp: 1733100000.125, width: 1920, height: 1080, codec: 1, flags: 1 };
  const bytes = writePixelHeader(h);
  assert.equal(bytes.length, 24);
  assert.deepEqual([...bytes.subarray(0, 4)], [0xff, 0xff, 0xff, 0xfe]);
  const r = readPixelHeader(bytes);
  assert.ok(r.ok);
  assert.deepEqual(r.value, h);
  assert.equal(readPixelHeader(bytes.subarray(0, 23)).ok, false);
});

test("frame-meta SEI: built as the server does, found in an access unit", () => {
  // Values whose bytes hold 00 00 0x runs exercise emulation prevention.
  const meta = { scene_version: 0x100000003, capture_time: 1733100000.5, render_us: 3, encode_us: 0x00000100, quality: 1, levels_drawn: 0, bricks_loading: 0 };
  const sei = buildFrameMetaSei(meta);
  const slice = Uint8Array.from([0x65, 1, 2, 3]);
  const au = joinAvcc([SPS, PPS, sei, slice]);
  assert.deepEqual(findFrameMeta(au), meta);
  // Emulation prevention was applied: no 00 00 00/01/02 inside the NAL unit.
  for (let i = 2; i < sei.length; i++) assert.ok(!(sei[i - 2] === 0 && sei[i - 1] === 0 && sei[i]! <= 2), `at ${i}`);
});

test("frame-meta SEI: other UUIDs, truncation and garbage give null", () => {
  const sei = buildFrameMetaSei({ scene_version: 7, capture_time: 1, render_us: 1, encode_us: 1, quality: 0, levels_drawn: 1, bricks_loading: 2 });
  const other = Uint8Array.from(sei);
  other[3] = other[3]! ^ 0xff; // a byte of the UUID
  assert.equal(findFrameMeta(joinAvcc([other])), null);
  assert.equal(findFrameMeta(joinAvcc([sei.subarray(0, 20)])), null);
  assert.equal(findFrameMeta(Uint8Array.from([0, 0, 0, 9, 6, 5])), null, "a length past the end");
  assert.equal(findFrameMeta(new Uint8Array(0)), null);
  assert.equal(findFrameMeta(joinAvcc([Uint8Array.from([0x41, 1, 2])])), null);
  assert.equal(findFrameMeta(joinAvcc([Uint8Array.from([0x06, 0xff, 0xff])])), null);
  assert.equal(findFrameMeta(joinAvcc([sei]))!.scene_version, 7);
});

// The SEI's RBSP as a list of bytes: [5, size, UUID(16), body..., 0x80].
const seiRbsp = (sei: Uint8Array): number[] => [...rbspFromNalPayload(sei.subarray(1))];
const seiFromRbsp = (rbsp: number[]): Uint8Array => Uint8Array.from([0x06, ...nalPayloadFromRbsp(Uint8Array.from(rbsp))]);

test("frame-meta SEI: the brick residency round-trips, in the C++ layout byte for byte", () => {
  const meta = { scene_version: 7, capture_time: 1.5, render_us: 10, encode_us: 20, quality: QUALITY_PARTIAL, levels_drawn: 0b1101, bricks_loading: 321 };
  const sei = buildFrameMetaSei(meta);
  const au = joinAvcc([sei, Uint8Array.from([0x65, 0x88, 0x84])]);
  assert.deepEqual(findFrameMeta(au), meta);
  const r = seiRbsp(sei);
  assert.equal(r[0], 5, "user data unregistered");
  assert.equal(r[1], 16 + 26 + 6, "UUID, the first layout, the residency");
  assert.equal(r.length, 2 + 16 + 26 + 6 + 1);
  assert.deepEqual(r.slice(2, 18), [...FRAME_META_UUID]);
  assert.equal(r[18], 1, "layout version");
  // After quality (body offset 25, the version byte at 0): u16 levels_drawn at 26, u32 bricks_loading at 28, big-endian.
  assert.equal(r[18 + 25], QUALITY_PARTIAL);
  assert.deepEqual(r.slice(18 + 26, 18 + 32), [0x00, 0x0d, 0x00, 0x00, 0x01, 0x41]);
  assert.equal(r.at(-1), 0x80, "rbsp_trailing_bits");
  // The extremes of both fields.
  const max = { ...meta, levels_drawn: 0xffff, bricks_loading: 0xffffffff };
  assert.deepEqual(findFrameMeta(joinAvcc([buildFrameMetaSei(max)])), max);
});

test("frame-meta SEI: the first layout (no residency) reads as 0/0; trailing bytes past it are ignored", () => {
  const meta = { scene_version: 9, capture_time: 2.25, render_us: 10, encode_us: 20, quality: 1, levels_drawn: 5, bricks_loading: 77 };
  const r = seiRbsp(buildFrameMetaSei(meta));
  // An older writer: 6 bytes shorter, the residency gone before the trailing bits.
  const old = [r[0]!, r[1]! - 6, ...r.slice(2, -7), 0x80];
  assert.equal(old.length, 2 + 16 + 26 + 1);
  assert.deepEqual(findFrameMeta(joinAvcc([seiFromRbsp(old), Uint8Array.from([0x65, 0x88, 0x84])])), { ...meta, levels_drawn: 0, bricks_loading: 0 });
  // Between the two lengths (a partial residency): the first layout only.
  const between = [r[0]!, r[1]! - 3, ...r.slice(2, -4), 0x80];
  assert.deepEqual(findFrameMeta(joinAvcc([seiFromRbsp(between)])), { ...meta, levels_drawn: 0, bricks_loading: 0 });
  // A later writer appending more: the fields known here still read.
  const longer = [r[0]!, r[1]! + 4, ...r.slice(2, -1), 0xde, 0xad, 0xbe, 0xef, 0x80];
  assert.deepEqual(findFrameMeta(joinAvcc([seiFromRbsp(longer)])), meta);
});

test("frame-meta SEI: a body shorter than the first layout is refused", () => {
  const r = seiRbsp(buildFrameMetaSei({ scene_version: 3, capture_time: 1, render_us: 1, encode_us: 1, quality: 0, levels_drawn: 1, bricks_loading: 1 }));
  // One byte short of the first layout (quality missing), its size saying so.
  const short = [r[0]!, 16 + 25, ...r.slice(2, 2 + 16 + 25), 0x80];
  assert.equal(findFrameMeta(joinAvcc([seiFromRbsp(short)])), null);
  // A size that claims the whole body over bytes that stop early.
  const cut = r.slice(0, 2 + 16 + 20);
  assert.equal(findFrameMeta(joinAvcc([seiFromRbsp(cut)])), null);
});

test("RBSP escaping round trip", () => {
  const raw = Uint8Array.from([0, 0, 0, 0, 0, 1, 0, 0, 2, 0, 0, 3, 9]);
  const esc = nalPayloadFromRbsp(raw);
  assert.deepEqual([...rbspFromNalPayload(esc)], [...raw]);
  assert.ok(esc.length > raw.length);
});

test("AVCC split rejects malformed lengths", () => {
  assert.deepEqual(splitAvcc(joinAvcc([SPS, PPS]))!.map((n) => n.length), [SPS.length, PPS.length]);
  assert.equal(splitAvcc(Uint8Array.from([0, 0, 0])), null);
  assert.equal(splitAvcc(Uint8Array.from([0, 0, 0, 0])), null, "a zero-length NAL");
});

test("avcC: codec string, parameter sets both ways", () => {
  const avcc = avccFromParameterSets(SPS, PPS);
  const c = codecFromAvcc(avcc);
  assert.ok(c.ok && c.value === "avc1.64001F");
  assert.equal(codecFromAvcc(Uint8Array.from([2, 0, 0])).ok, false);
  const ps = avccParameterSets(avcc)!;
  assert.deepEqual([...ps.sps], [...SPS]);
  assert.deepEqual([...ps.pps], [...PPS]);
  assert.equal(avccParameterSets(avcc.subarray(0, 10)), null);
  const fromAu = parameterSets(joinAvcc([SPS, PPS, Uint8Array.from([0x65, 0])]))!;
  assert.deepEqual([...fromAu.sps], [...SPS]);
});

test("decode gate: nothing before a keyframe; a gap drops to the next keyframe and asks once", () => {
  const g = makeGate();
  const h = (seq: number, key: boolean) => ({ seq, timestamp: 0, width: 1, height: 1, codec: 1, flags: key ? 1 : 0 });
  assert.equal(gateFrame(g, h(0, false)), "drop");
  assert.equal(gateFrame(g, h(1, true)), "decode");
  assert.equal(gateFrame(g, h(2, false)), "decode");
  assert.equal(gateFrame(g, h(4, false)), "drop_request_keyframe");
  assert.equal(gateFrame(g, h(5, false)), "drop");
  assert.equal(gateFrame(g, h(7, false)), "drop", "asks only once per outage");
  assert.equal(gateFrame(g, h(8, true)), "decode");
  assert.equal(gateFrame(g, h(9, false)), "decode");
  assert.equal(g.gaps, 2);
  assert.equal(g.dropped, 4);
  const w = makeGate();
  gateFrame(w, h(0xffffffff, true));
  assert.equal(gateFrame(w, h(0, false)), "decode", "seq wraps without a gap");
});

import { test } from "node:test";
import assert from "node:assert/strict";
import { CODEC_STILL_PNG, isStill, PNG_SIGNATURE, readPixelHeader, readStill, writeStill } from "../src/protocol/pixel.js";
import { gateFrame, gateStill, makeGate } from "../src/client/decode_gate.js";
import { liveLeases, pageLeases } from "../src/client/frame_lease.js";
import { admitVideo, makeStillState, newPixelConnection, noteVideo, pixelUrlWithStills, showStill, stillIsCurrent, stillLeases,
         type StillRecord } from "../src/client/still.js";
import { ClientStreamLoop, defaultConfig } from "../src/client/stream_loop.js";
import { AVCC_B64, envelope, FakeBackend, FakeNetwork, FakeStillDecoder, pixelMessage, settle, sleep, stillMessage, welcome } from "./fakes.js";

const png = (extra: number[] = [1, 2, 3]) => Uint8Array.from([...PNG_SIGNATURE, ...extra]);

test("readStill: the 16-byte big-endian prefix, then the PNG", () => {
  const bytes = writeStill({ sceneVersion: 0x1_0000_0002, renderUs: 0x01020304, pngUs: 7, png: png() });
  assert.deepEqual([...bytes.subarray(0, 16)], [0, 0, 0, 1, 0, 0, 0, 2, 1, 2, 3, 4, 0, 0, 0, 7]);
  const r = readStill(bytes);
  assert.ok(r.ok);
  assert.equal(r.value.sceneVersion, 0x1_0000_0002);
  assert.equal(r.value.renderUs, 0x01020304);
  assert.equal(r.value.pngUs, 7);
  assert.deepEqual([...r.value.png], [...png()]);
  // A view into a larger buffer (the pixel message) reads the same.
  const inMessage = new Uint8Array(24 + bytes.length);
  inMessage.set(bytes, 24);
  const r2 = readStill(inMessage.subarray(24));
  assert.ok(r2.ok && r2.value.sceneVersion === 0x1_0000_0002 && r2.value.png.length === png().length);
});

test("readStill: short, not a PNG, or a scene version past 2^53 are typed errors", () => {
  const good = writeStill({ sceneVersion: 3, renderUs: 1, pngUs: 1, png: png([]) });
  assert.ok(readStill(good).ok, "a bare signature is enough to hand to the decoder");
  const short = readStill(good.subarray(0, good.length - 1));
  assert.ok(!short.ok && short.error.code === "still.truncated");
  const empty = readStill(new Uint8Array(0));
  assert.ok(!empty.ok && empty.error.code === "still.truncated");
  const garbled = Uint8Array.from(good);
  garbled[17] = 0x51; // 'Q' for 'P'
  const g = readStill(garbled);
  assert.ok(!g.ok && g.error.code === "still.not_png");
  const huge = Uint8Array.from(good);
  huge.fill(0xff, 0, 8);
  const h = readStill(huge);
  assert.ok(!h.ok && h.error.code === "still.invalid");
});

test("a still message: codec 16, the still flag, never a keyframe", () => {
  const h = readPixelHeader(new Uint8Array(stillMessage(9, 4)));
  assert.ok(h.ok);
  assert.equal(h.value.codec, CODEC_STILL_PNG);
  assert.equal(h.value.flags, 0x02);
  assert.ok(isStill(h.value));
  assert.equal(isStill({ ...h.value, codec: 1 }), false);
});

test("the pixel URL asks for stills with still=png", () => {
  assert.equal(pixelUrlWithStills("ws://h/pixel?token=t"), "ws://h/pixel?token=t&still=png");
  assert.equal(pixelUrlWithStills("ws://h/pixel"), "ws://h/pixel?still=png");
});

test("decode gate: a still counts in seq without breaking the chain; a gap before it does", () => {
  const g = makeGate();
  const h = (seq: number, key: boolean) => ({ seq, timestamp: 0, width: 1, height: 1, codec: 1, flags: key ? 1 : 0 });
  const still = (seq: number) => ({ seq, timestamp: 0, width: 1, height: 1, codec: 16, flags: 2 });
  assert.equal(gateFrame(g, h(1, true)), "decode");
  assert.equal(gateStill(g, still(2)), "ok");
  assert.equal(gateFrame(g, h(3, false)), "decode", "no gap across the still");
  assert.equal(gateStill(g, still(5)), "request_keyframe", "a video frame was lost before it");
  assert.equal(gateFrame(g, h(6, false)), "drop");
  assert.equal(gateStill(g, still(8)), "ok", "asks once per outage");
  assert.equal(gateFrame(g, h(9, true)), "decode");
  assert.equal(g.gaps, 2);
});

const rec = (seq: number, sceneVersion: number): StillRecord => ({
  seq, sceneVersion, width: 64, height: 48, bytes: 100, receivedMs: 0, decodedMs: 0, presentedMs: 0, renderMs: 0, pngMs: 0, videoToStillMs: 0,
});

test("the presentation rule: a still at least as new as the newest video replaces it; video of its version stays hidden", () => {
  const s = makeStillState();
  assert.ok(stillIsCurrent(s, 1, 0), "before any video, any still");
  noteVideo(s, 5, 10);
  assert.ok(admitVideo(s, 1, 5, 0));
  assert.equal(s.quality, "lossy");
  noteVideo(s, 6, 20);
  assert.ok(admitVideo(s, 2, 6, 2));
  assert.equal(s.quality, "partial", "SEI quality bit 1");
  assert.equal(stillIsCurrent(s, 3, 5), false, "a still older than the newest video is stale");
  assert.ok(stillIsCurrent(s, 3, 6));
  showStill(s, rec(3, 6));
  assert.equal(s.quality, "exact");
  assert.equal(admitVideo(s, 2, 6, 0), false, "a frame sent before the still, decoded after it");
  assert.equal(admitVideo(s, 4, 6, 1), false, "the refinement of the same scene version");
  assert.equal(admitVideo(s, 5, 6, 0), false, "a keyframe of the same scene version");
  assert.equal(s.hiddenFrames, 3);
  assert.equal(s.quality, "exact");
  assert.equal(stillIsCurrent(s, 2, 6), false, "an older still than the one shown");
  assert.ok(admitVideo(s, 6, 7, 0), "motion: another scene version goes back to video");
  assert.equal(s.quality, "lossy");
  assert.equal(s.shownVersion, null);
});

test("a new pixel connection: the still shown stays, its seq no longer orders the new frames", () => {
  const s = makeStillState();
  noteVideo(s, 8, 1);
  showStill(s, rec(500, 8));
  newPixelConnection(s);
  assert.equal(s.newestVideoVersion, -1);
  assert.equal(admitVideo(s, 0, 8, 0), false, "the new connection's keyframe of the same scene");
  assert.ok(admitVideo(s, 1, 9, 0));
});

// ---- through the stream loop ---------------------------------------------------------

const SESSION = "sess-0001-aaaa";
const STILLS_ON = { "pixel.exact_still": { enabled: true, version: 1 } };
const config = (pixelUrl = "ws://h/pixel?token=tok") => ({ ...defaultConfig("ws://h/", pixelUrl, "tok"), reconnectMinMs: 5, reconnectMaxMs: 40 });
const stream = () => envelope("notify.stream", { codec: "h264", format: "avcc", fps: 60, frame_size: [64, 48], nal_length_size: 4, avcc: AVCC_B64, latency_policy: {} }, { session: SESSION, seq: 1, delta_token: "s1" });

function start(features: Record<string, unknown> = STILLS_ON, stills: FakeStillDecoder | null = new FakeStillDecoder(), pixelUrl?: string) {
  const net = new FakeNetwork();
  const backend = new FakeBackend();
  const shown: unknown[] = [];
  const loop = new ClientStreamLoop(config(pixelUrl), net.factory, backend, { onFrame: (l) => l.use((f) => shown.push(f)) }, stills?.decode ?? null);
  loop.connect();
  const c = net.last("control");
  c.open();
  const hello = c.sentFrames()[0]!;
  c.receive(welcome(SESSION, 15, features as never));
  const px = net.last("pixel");
  px.open();
  c.receive(stream());
  return { net, loop, backend, shown, hello, px, stills };
}

test("negotiation: the hello asks; the pixel upgrade says still=png only when the welcome enabled stills", () => {
  const on = start();
  assert.equal((on.hello.payload.features as Record<string, boolean>)["pixel.exact_still"], true);
  assert.equal(on.px.url, "ws://h/pixel?token=tok&still=png");
  assert.equal(on.loop.loop.exactStill, true);
  assert.match(on.loop.describe(), / exact-stills/);
  on.loop.stop();
  const off = start({});
  assert.equal(off.px.url, "ws://h/pixel?token=tok", "absent from the welcome: no stills");
  assert.equal(off.loop.loop.exactStill, false);
  off.loop.stop();
  const disabled = start({ "pixel.exact_still": { enabled: false } });
  assert.equal(disabled.px.url, "ws://h/pixel?token=tok");
  disabled.loop.stop();
  const cannot = start(STILLS_ON, null);
  assert.equal((cannot.hello.payload.features as Record<string, boolean>)["pixel.exact_still"], undefined, "no decoder: never asks");
  assert.equal(cannot.px.url, "ws://h/pixel?token=tok");
  cannot.loop.stop();
  const noToken = start(STILLS_ON, new FakeStillDecoder(), "ws://h/pixel");
  assert.equal(noToken.px.url, "ws://h/pixel?still=png");
  noToken.loop.stop();
});

test("through the loop: still shown, same-version video decoded not shown, motion replaces it, every bitmap closed once", async () => {
  const { loop, backend, shown, px, stills } = start();
  const st = loop.stills.state;
  const live0 = liveLeases(stillLeases);
  await settle(); // the decoder is configured from notify.stream
  px.receive(pixelMessage(0, true, 5));
  px.receive(pixelMessage(1, false, 5));
  await settle();
  assert.equal(st.quality, "lossy");
  const videoShown = shown.length;
  px.receive(stillMessage(2, 5));
  await sleep(5);
  assert.equal(st.quality, "exact");
  assert.equal(st.stills, 1);
  assert.equal(shown.at(-1), stills!.pictures[0], "the still is the picture shown");
  assert.equal(shown.length, videoShown + 1);
  assert.deepEqual({ v: st.last!.sceneVersion, w: st.last!.width, h: st.last!.height, seq: st.last!.seq }, { v: 5, w: 64, h: 48, seq: 2 });
  assert.ok(st.last!.videoToStillMs >= 0 && st.last!.renderMs === 4 && st.last!.pngMs === 3);
  // The refinement and a keyframe of the same scene: decoded (the chain holds), not shown.
  const decodes = backend.decodes;
  px.receive(pixelMessage(3, false, 5));
  px.receive(pixelMessage(4, true, 5));
  await settle();
  assert.equal(backend.decodes, decodes + 2);
  assert.equal(loop.gate.gaps, 0, "the still took seq 2: no gap");
  assert.equal(shown.length, videoShown + 1, "still shown");
  assert.equal(st.hiddenFrames, 2);
  assert.equal(stills!.pictures[0]!.closes, 0);
  // Motion: a new scene version replaces the still, whose bitmap is closed at once.
  px.receive(pixelMessage(5, false, 6, undefined, 2));
  await settle();
  assert.equal(st.quality, "partial");
  assert.equal(stills!.pictures[0]!.closes, 1);
  assert.equal(shown.length, videoShown + 2);
  // A stale still (behind the newest video) is never shown nor decoded.
  px.receive(stillMessage(6, 5));
  await sleep(5);
  assert.equal(st.stale, 1);
  assert.equal(stills!.pictures.length, 1);
  assert.equal(st.quality, "partial");
  // A still that becomes stale while decoding is closed, not shown.
  px.receive(stillMessage(7, 6));
  px.receive(pixelMessage(8, false, 7));
  await sleep(5);
  assert.equal(st.stale, 2);
  assert.equal(stills!.pictures[1]!.closes, 1);
  assert.equal(st.quality, "lossy");
  // Garbage and an undecodable PNG are counted, nothing shown.
  px.receive(stillMessage(9, 7, 0xee));
  const bad = new Uint8Array(stillMessage(10, 7));
  bad[24 + 16] = 0;
  px.receive(bad.buffer);
  await sleep(5);
  assert.equal(st.invalid, 2);
  assert.match(st.lastError, /PNG/);
  // A still left shown is closed by stop().
  px.receive(stillMessage(11, 7));
  await sleep(5);
  assert.equal(st.quality, "exact");
  loop.stop();
  assert.ok(stills!.pictures.every((p) => p.closes === 1), "each bitmap closed exactly once");
  assert.equal(liveLeases(stillLeases), live0);
  assert.equal(liveLeases(pageLeases), 0, "no VideoFrame left open");
  assert.equal(stillLeases.doubleReleases, 0);
});

test("a still still decoding when a new pixel connection opens is closed, not shown", async () => {
  const { loop, net, px, stills, shown } = start();
  try {
    await settle();
    px.receive(pixelMessage(0, true, 3));
    await settle();
    const n = shown.length;
    stills!.delayMs = 40;
    px.receive(stillMessage(1, 3));
    px.drop();
    await sleep(20); // the pixel channel reopens after 5 ms
    const px2 = net.last("pixel");
    assert.notEqual(px2, px);
    assert.equal(px2.url, "ws://h/pixel?token=tok&still=png", "the reopened pixel socket asks again");
    px2.open();
    await sleep(40);
    assert.equal(stills!.pictures.length, 1);
    assert.equal(stills!.pictures[0]!.closes, 1);
    assert.equal(shown.length, n);
    assert.equal(loop.stills.state.stale, 1);
  } finally {
    loop.stop();
  }
});

import { test } from "node:test";
import assert from "node:assert/strict";
import { ClientStreamLoop, defaultConfig } from "../src/client/stream_loop.js";
import { liveLeases, pageLeases } from "../src/client/frame_lease.js";
import { describe as describeLoop, makeLoopState } from "../src/client/loop_state.js";
import { AVCC_B64, envelope, FakeBackend, FakeNetwork, pixelMessage, settle, sleep, welcome } from "./fakes.js";

const SESSION = "sess-0001-aaaa";
const config = () => ({ ...defaultConfig("ws://h/", "ws://h/pixel?token=tok", "tok"), reconnectMinMs: 5, reconnectMaxMs: 40, connectTimeoutMs: 500 });

const scene = (z = 3) => envelope("notify.scene", {
  viewer: {
    dims: { axis_labels: ["z", "y", "x"], current_step: [z, 0, 0], order: [0, 1, 2], scale: [2, 1, 1], ndisplay: 2, level_shapes: [[10, 48, 64]] },
    camera: { center: [32, 24], zoom: 1 },
  },
  layers: [{ layer_id: "layer-0", name: "cells", controls: { colormap: "gray", opacity: 1 }, metadata: { contrast_range: [0, 100] }, units: ["micrometer", "micrometer", "micrometer"] }],
}, { session: SESSION, seq: 0, delta_token: "d0" });
const stream = () => envelope("notify.stream", { codec: "h264", format: "avcc", fps: 60, frame_size: [64, 48], nal_length_size: 4, avcc: AVCC_B64, latency_policy: {} }, { session: SESSION, seq: 1, delta_token: "s1" });
const camera = () => envelope("notify.camera", { mode: "pose", origin: "worker.state.camera", state: { center: [32, 24], zoom: 1 } }, { session: SESSION, frame_id: "cam" });

function start(net = new FakeNetwork(), backend = new FakeBackend()) {
  const errors: string[] = [];
  const loop = new ClientStreamLoop(config(), net.factory, backend, { onUserError: (m) => errors.push(m) });
  loop.connect();
  return { net, loop, errors, backend };
}

function openSession(net: FakeNetwork) {
  const c = net.last("control");
  c.open();
  c.receive(welcome(SESSION));
  net.last("pixel").open();
  c.receive(scene());
  c.receive(stream());
  c.receive(camera());
  return c;
}

test("hello carries the token, protocol 2 and the features; welcome then the pixel channel: streaming", () => {
  const { net, loop } = start();
  assert.equal(loop.loop.phase, "connecting");
  const c = net.last("control");
  c.open();
  const hello = c.sentFrames()[0]!;
  assert.equal(hello.type, "session.hello");
  assert.equal(hello.session, undefined);
  assert.deepEqual(hello.payload.protocols, [2]);
  assert.deepEqual(hello.payload.auth, { type: "token", token: "tok" });
  for (const f of ["notify.scene", "notify.layers", "notify.stream", "notify.dims", "notify.camera", "call.command", "notify.error"])
    assert.equal((hello.payload.features as Record<string, boolean>)[f], true, f);
  c.receive(welcome(SESSION));
  assert.equal(loop.loop.controlUp, true);
  assert.equal(loop.loop.sessionId, SESSION);
  const px = net.last("pixel");
  assert.equal(px.url, "ws://h/pixel?token=tok");
  px.open();
  assert.equal(loop.loop.phase, "streaming");
  assert.equal(px.binaryType, "arraybuffer");
  assert.match(describeLoop(loop.loop), /^streaming control up pixel up epoch 1 sessions 1 session sess-000/);
  loop.stop();
  assert.equal(loop.loop.phase, "stopped");
  assert.equal(c.sentFrames().at(-1)!.type, "session.goodbye");
});

test("heartbeats are answered; malformed frames are counted and change nothing", () => {
  const { net, loop } = start();
  const c = openSession(net);
  const before = c.sent.length;
  c.receive(envelope("session.heartbeat", {}, { session: SESSION, frame_id: "hb1" }));
  const ack = c.sentFrames().at(-1)!;
  assert.equal(c.sent.length, before + 1);
  assert.equal(ack.type, "session.ack");
  assert.equal(ack.session, SESSION);
  const invalid = loop.metrics.invalidFrames;
  c.receive("{not json");
  c.receive(envelope("notify.dims", { step: "x" }, { session: SESSION, frame_id: "d" }));
  c.receive(envelope("ack.state", { status: "accepted" }, { session: SESSION, frame_id: "a" }));
  c.receive(JSON.stringify({ type: "notify.layers", version: 2 }));
  assert.equal(loop.metrics.invalidFrames, invalid + 4);
  assert.deepEqual(loop.mirror.currentStep, [3, 0, 0]);
  loop.stop();
});

test("a wrong token: session.reject leaves a clear state and no retry", async () => {
  const { net, loop } = start();
  const c = net.last("control");
  c.open();
  c.receive(envelope("session.reject", { code: "unauthorized", message: "invalid token" }, { frame_id: "rej" }));
  assert.equal(loop.loop.phase, "rejected");
  assert.equal(loop.loop.rejectCode, "unauthorized");
  assert.equal(loop.loop.lastError, "invalid token");
  await sleep(30);
  assert.equal(net.sockets.length, 1, "no reconnect after a reject");
  loop.stop();
});

test("intents: throttled, optimistic until acked, a rejection is shown to the user", async () => {
  const { net, loop, errors } = start();
  const c = openSession(net);
  loop.setDimsIndex("z", 4);
  loop.setDimsIndex("z", 5);
  loop.setDimsIndex("z", 6);
  assert.equal(loop.displayed("dims:z:index"), 6, "the newest local value shows");
  let updates = c.sentFrames().filter((f) => f.type === "state.update");
  assert.equal(updates.length, 1, "leading edge only");
  await sleep(40);
  updates = c.sentFrames().filter((f) => f.type === "state.update");
  assert.equal(updates.length, 2, "the trailing edge sent the final value");
  assert.deepEqual(updates[1]!.payload, { scope: "dims", target: "z", key: "index", value: 6 });
  assert.ok(updates[1]!.intent_id!.startsWith("intent-"));
  // An older echo does not snap the slider back; the ack confirms.
  c.receive(envelope("notify.dims", { step: [4, 0, 0], levels: [], current_level: 0, level_shapes: [[10, 48, 64]], mode: "plane", ndisplay: 2 }, { session: SESSION, frame_id: "d1" }));
  assert.equal(loop.displayed("dims:z:index"), 6);
  c.receive(envelope("ack.state", { intent_id: updates[1]!.intent_id!, in_reply_to: updates[1]!.frame_id!, status: "accepted", applied_value: 6, version: 9 }, { session: SESSION, frame_id: "a2" }));
  assert.equal(loop.displayed("dims:z:index"), 6);
  loop.setProperty("layer", "layer-0", "gamma", 7);
  const g = c.sentFrames().filter((f) => f.type === "state.update").at(-1)!;
  c.receive(envelope("ack.state", { intent_id: g.intent_id!, in_reply_to: g.frame_id!, status: "rejected", error: { code: "state.invalid", message: "gamma must be in (0, 5]" } }, { session: SESSION, frame_id: "a3" }));
  assert.equal(loop.displayed("layer:layer-0:gamma"), null);
  assert.match(errors.join("\n"), /gamma must be in/);
  c.receive(envelope("notify.error", { domain: "data", code: "data.read_failed", message: "chunk 0/1/2 is truncated", severity: "warning" }, { session: SESSION }));
  assert.match(errors.at(-1)!, /chunk 0\/1\/2 is truncated \(data.read_failed\)/);
  loop.stop();
});

test("commands settle with the reply, the typed error, or command.lost when the link goes", async () => {
  const { net, loop } = start();
  const c = openSession(net);
  const p1 = loop.call("fs.listdir", {});
  const p2 = loop.call("napari.load_zarr", { path: "nope" });
  const p3 = loop.call("napari.screenshot", {});
  const [f1, f2] = c.sentFrames().filter((f) => f.type === "call.command");
  assert.deepEqual(f1!.payload, { command: "fs.listdir", args: [], kwargs: {}, origin: "web" });
  c.receive(envelope("reply.command", { in_reply_to: f1!.frame_id!, status: "ok", result: { entries: [] } }, { session: SESSION, frame_id: "r1" }));
  c.receive(envelope("error.command", { in_reply_to: f2!.frame_id!, status: "error", code: "fs.not_found", message: "no such dataset" }, { session: SESSION, frame_id: "r2" }));
  assert.deepEqual((await p1).result, { entries: [] });
  const r2 = await p2;
  assert.equal(r2.ok, false);
  assert.equal(r2.code, "fs.not_found");
  c.drop();
  assert.equal((await p3).code, "command.lost");
  assert.equal(loop.loop.phase, "reconnecting");
  loop.stop();
});

test("the control channel lost: back-off, a new session, the view restored and unconfirmed intents replayed", async () => {
  const { net, loop } = start();
  const c = openSession(net);
  // The view the user had: z=7 (confirmed by the server), and a gamma intent never acked.
  c.receive(envelope("notify.dims", { step: [7, 0, 0], levels: [], current_level: 0, level_shapes: [[10, 48, 64]], mode: "plane", ndisplay: 2 }, { session: SESSION, frame_id: "d1" }));
  loop.setProperty("layer", "layer-0", "gamma", 1.5);
  c.drop();
  assert.equal(loop.loop.phase, "reconnecting");
  assert.equal(loop.loop.controlUp, false);
  assert.equal(net.last("pixel").closed, true);
  // The first attempts fail: the delay grows.
  await sleep(10);
  net.last("control").drop();
  const firstDelay = loop.loop.nextRetryMs;
  await sleep(firstDelay + 5);
  net.last("control").drop();
  assert.ok(loop.loop.nextRetryMs > firstDelay, "exponential back-off");
  assert.ok(loop.loop.reconnectAttempts >= 2);
  await sleep(loop.loop.nextRetryMs + 5);
  const c2 = net.last("control");
  assert.notEqual(c2, c);
  c2.open();
  const hello = c2.sentFrames()[0]!;
  assert.deepEqual((hello.payload.resume_tokens as Record<string, string>)["notify.scene"], "d0");
  c2.receive(welcome("sess-0002-bbbb"));
  net.last("pixel").open();
  // The restarted server's baseline: z back at 3, default camera.
  c2.receive(scene(3).replaceAll(SESSION, "sess-0002-bbbb"));
  c2.receive(camera().replaceAll(SESSION, "sess-0002-bbbb"));
  const sent = c2.sentFrames().filter((f) => f.type === "state.update").map((f) => f.payload);
  assert.deepEqual(sent.find((p) => p.scope === "dims"), { scope: "dims", target: "z", key: "index", value: 7 });
  assert.deepEqual(sent.find((p) => p.key === "gamma"), { scope: "layer", target: "layer-0", key: "gamma", value: 1.5 });
  assert.equal(loop.loop.sessions, 2);
  assert.equal(loop.loop.phase, "streaming");
  loop.stop();
});

test("three silent heartbeat periods mean the server is gone", async () => {
  const net = new FakeNetwork();
  const loop = new ClientStreamLoop(config(), net.factory, new FakeBackend());
  loop.connect();
  const c = net.last("control");
  c.open();
  c.receive(welcome(SESSION, 0.01)); // 10 ms heartbeat
  await sleep(60);
  assert.notEqual(loop.loop.phase, "streaming");
  assert.equal(c.closed, true);
  loop.stop();
});

test("600 frames through the loop: gated, decoded, presented, every VideoFrame closed exactly once", async () => {
  const backend = new FakeBackend();
  const { net, loop } = start(new FakeNetwork(), backend);
  openSession(net);
  await settle(); // the decoder is configured from notify.stream
  const px = net.last("pixel");
  px.receive(pixelMessage(0, false)); // before any keyframe: dropped
  let drawn = 0;
  for (let i = 1; i <= 600; i++) {
    px.receive(pixelMessage(i, i === 1 || i % 120 === 0, i));
    if (i % 50 === 0) await settle();
  }
  await settle();
  assert.equal(loop.gate.dropped, 1);
  assert.equal(backend.frames.length, 600);
  assert.ok(loop.metrics.framesPresented > 0);
  loop.shown?.use(() => drawn++);
  assert.equal(drawn, 1);
  loop.stop();
  assert.equal(liveLeases(pageLeases), 0, "no VideoFrame left open");
  assert.ok(backend.frames.every((f) => f.closes === 1), "each closed exactly once");
  assert.equal(pageLeases.doubleReleases, 0);
});

test("frame receipts: asked for when the welcome enables them, one per frame decoded or dropped", async () => {
  const { net, loop } = start();
  const c = net.last("control");
  c.open();
  assert.equal((c.sentFrames()[0]!.payload.features as Record<string, boolean>)["pixel.receipts"], true);
  c.receive(welcome(SESSION, 15, { "pixel.receipts": { enabled: true, version: 1 } }));
  const px = net.last("pixel");
  assert.equal(px.url, "ws://h/pixel?token=tok&receipts=1");
  px.open();
  c.receive(scene());
  c.receive(stream());
  await settle();
  px.receive(pixelMessage(0, false)); // before any keyframe: dropped, and receipted
  for (let i = 1; i <= 5; i++) px.receive(pixelMessage(i, i === 1, i));
  await settle();
  assert.deepEqual(px.sent.map((t) => JSON.parse(t).seq), [0, 1, 2, 3, 4, 5]);
  assert.equal(loop.metrics.receiptsSent, 6);
  assert.match(describeLoop(loop.loop), / receipts/);
  loop.stop();
});

test("no receipts unless the welcome enables them (napari-cuda's server does not)", async () => {
  const { net, loop } = start();
  openSession(net);
  await settle();
  const px = net.last("pixel");
  assert.equal(px.url, "ws://h/pixel?token=tok");
  for (let i = 1; i <= 3; i++) px.receive(pixelMessage(i, i === 1, i));
  await settle();
  assert.equal(px.sent.length, 0);
  loop.stop();
});

test("the frame-meta SEI's brick residency reaches the last frame presented, frame by frame", async () => {
  const { net, loop } = start();
  openSession(net);
  await settle(); // the decoder is configured from notify.stream
  const px = net.last("pixel");
  px.receive(pixelMessage(1, true, 1, undefined, 2, 0b110, 321));
  await settle();
  assert.equal(loop.lastFrame?.seq, 1);
  assert.deepEqual([loop.lastFrame!.levels_drawn, loop.lastFrame!.bricks_loading], [0b110, 321]);
  px.receive(pixelMessage(2, false, 2, undefined, 0, 0b1, 0));
  await settle();
  assert.deepEqual([loop.lastFrame!.seq, loop.lastFrame!.levels_drawn, loop.lastFrame!.bricks_loading], [2, 0b1, 0]);
  px.receive(pixelMessage(3, false, 3)); // 2D
  await settle();
  assert.deepEqual([loop.lastFrame!.seq, loop.lastFrame!.levels_drawn, loop.lastFrame!.bricks_loading], [3, 0, 0]);
  loop.stop();
});

test("a gap asks for a keyframe once and drops to it; a new SPS re-configures the decoder", async () => {
  const backend = new FakeBackend();
  const { net, loop } = start(new FakeNetwork(), backend);
  const c = openSession(net);
  await settle();
  const px = net.last("pixel");
  px.receive(pixelMessage(1, true));
  px.receive(pixelMessage(2, false));
  px.receive(pixelMessage(5, false)); // gap
  px.receive(pixelMessage(6, false));
  const asks = c.sentFrames().filter((f) => f.type === "call.command" && f.payload.command === "napari.pixel.request_keyframe");
  assert.equal(asks.length, 1);
  assert.equal(loop.metrics.keyframeRequests, 1);
  px.receive(pixelMessage(7, true));
  await settle();
  assert.equal(backend.decodes, 3);
  assert.equal(backend.configs.length, 1, "same SPS/PPS: no re-configuration");
  // The server re-configured its encoder (a new size): the keyframe's SPS differs.
  const sps2 = Uint8Array.from([0x67, 0x64, 0x00, 0x28, 0xac, 0xd9]);
  px.receive(pixelMessage(8, true, 0, sps2));
  px.receive(pixelMessage(9, false));
  await settle();
  await settle();
  assert.equal(backend.configs.length, 2, "a new SPS re-configures the decoder");
  assert.equal(backend.configs[1]!.codec, "avc1.640028");
  assert.equal(backend.decodes, 5, "the keyframe and the frame after it, held while configuring, decode");
  loop.stop();
  assert.equal(liveLeases(pageLeases), 0);
});

test("LoopState prints one line", () => {
  const s = makeLoopState();
  s.phase = "reconnecting";
  s.reconnectAttempts = 2;
  s.nextRetryMs = 200;
  s.lastError = "control channel closed (1006)";
  assert.equal(describeLoop(s), "reconnecting control down pixel down epoch 0 sessions 0 retry 2 in 200 ms (control channel closed (1006))");
});

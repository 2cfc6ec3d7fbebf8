import { test } from "node:test";
import assert from "node:assert/strict";
import { FrameLease, liveLeases, makeAccounting } from "../src/client/frame_lease.js";
import { makePresenter, submitFrame, takeDueFrame, resetPresenter, defaultPresenterConfig } from "../src/client/presenter.js";
import { MediaPipeline } from "../src/client/media.js";
import { AVCC_B64, FakeBackend, FakeFrame, settle } from "./fakes.js";

test("a lease closes its frame once, when the last role lets go; a double release is refused and counted", () => {
  const acct = makeAccounting();
  const f = new FakeFrame(1);
  const lease = new FrameLease(f, "decoder", 1, acct);
  assert.ok(lease.acquire("presenter"));
  assert.equal(lease.acquire("presenter"), false, "a role holds once");
  assert.ok(lease.release("decoder"));
  assert.equal(f.closes, 0);
  assert.equal(liveLeases(acct), 1);
  assert.ok(lease.release("presenter"));
  assert.equal(f.closes, 1);
  assert.equal(lease.release("presenter"), false);
  assert.equal(f.closes, 1, "never twice");
  assert.equal(acct.doubleReleases, 1);
  assert.equal(liveLeases(acct), 0);
  assert.equal(lease.acquire("renderer"), false, "a closed lease cannot be revived");
  assert.equal(lease.use(() => 1), undefined);
  assert.equal(acct.useAfterClose, 1);
});

test("use() lends the frame under the renderer role and gives it back, also when the drawer throws", () => {
  const acct = makeAccounting();
  const f = new FakeFrame(1);
  const lease = new FrameLease(f, "presenter", 1, acct);
  assert.equal(lease.use((frame) => (lease.holds("renderer") ? frame.timestamp : -1)), 1);
  assert.equal(lease.holds("renderer"), false);
  assert.throws(() => lease.use(() => { throw new Error("draw failed"); }));
  assert.equal(lease.holds("renderer"), false);
  lease.release("presenter");
  assert.equal(f.closes, 1);
});

test("the presenter releases superseded, late and reset frames", () => {
  const acct = makeAccounting();
  const frames: FakeFrame[] = [];
  const p = makePresenter(defaultPresenterConfig(), 0);
  const add = (seq: number, at: number) => {
    const f = new FakeFrame(seq);
    frames.push(f);
    return submitFrame(p, { seq, serverMs: at, arrivalMs: at, dueMs: 0, lease: new FrameLease(f, "presenter", seq, acct) }, at);
  };
  add(1, 0); add(2, 1); add(3, 2);
  const shown = takeDueFrame(p, 5)!;
  assert.equal(shown.seq, 3, "the newest due frame wins");
  assert.deepEqual(frames.map((f) => f.closes), [1, 1, 0]);
  assert.equal(add(2, 6), false, "older than the one shown");
  assert.equal(frames[3]!.closes, 1);
  add(4, 7);
  resetPresenter(p, 8);
  assert.equal(frames[4]!.closes, 1);
  shown.lease!.release("presenter");
  assert.equal(liveLeases(acct), 0);
  assert.ok(frames.every((f) => f.closes === 1));
});

test("600 frames through the decoder pipeline: every frame closed exactly once", async () => {
  const acct = makeAccounting();
  const backend = new FakeBackend();
  let shown: FrameLease | null = null;
  const media = new MediaPipeline(backend, (d) => {
    shown?.release("presenter");
    shown = d.lease;
  }, () => assert.fail("no error expected"), acct);
  await media.configureFromBase64(AVCC_B64);
  assert.equal(backend.configs[0]!.hardwareAcceleration, "no-preference", "no hardware here: software");
  assert.equal(backend.configs[0]!.optimizeForLatency, true);
  for (let i = 0; i < 600; i++) media.decode(new Uint8Array([0, 0, 0, 1, 0x41]), i === 0, i);
  await settle();
  assert.equal(backend.frames.length, 600);
  assert.equal(liveLeases(acct), 1, "only the shown frame is open");
  shown!.release("presenter");
  media.close();
  assert.equal(liveLeases(acct), 0);
  assert.ok(backend.frames.every((f) => f.closes === 1));
});

test("hardware is preferred when supported; a decoder error falls back to software and frames of the old decoder are closed", async () => {
  const acct = makeAccounting();
  const backend = new FakeBackend({ hardware: true, failOnDecode: 3 });
  const errors: string[] = [];
  const got: FrameLease[] = [];
  const media = new MediaPipeline(backend, (d) => got.push(d.lease), (m) => errors.push(m), acct);
  await media.configureFromBase64(AVCC_B64);
  assert.equal(backend.configs[0]!.hardwareAcceleration, "prefer-hardware");
  for (let i = 0; i < 4; i++) media.decode(new Uint8Array([0, 0, 0, 1, 0x41]), i === 0, i);
  await settle();
  assert.equal(errors.length, 1);
  assert.equal(media.failed, true);
  assert.equal(media.decode(new Uint8Array([1]), true, 9), 0, "nothing decodes until re-configured");
  await media.configureFromBase64(AVCC_B64);
  assert.equal(backend.configs[1]!.hardwareAcceleration, "prefer-software");
  for (const l of got) l.release("presenter");
  media.close();
  assert.equal(liveLeases(acct), 0);
  assert.ok(backend.frames.every((f) => f.closes === 1));
});

test("an avcC with other extension bytes but the same SPS/PPS does not re-configure", async () => {
  const backend = new FakeBackend();
  const media = new MediaPipeline(backend, (d) => d.lease.release("presenter"), () => {}, makeAccounting());
  await media.configureFromBase64(AVCC_B64);
  const extended = Uint8Array.from([...Buffer.from(AVCC_B64, "base64"), 0xfd, 0xf8, 0xf8, 0x00]);
  await media.configure(extended);
  assert.equal(backend.configs.length, 1);
  assert.equal(media.decode(new Uint8Array([0, 0, 0, 1, 0x41]), false, 1), -1, "a delta frame before the first keyframe");
  assert.ok(media.decode(new Uint8Array([0, 0, 0, 1, 0x65]), true, 2) > 0);
  await settle();
  media.close();
});

test("presenter, server-timestamp mode: due = capture time + the least delay seen + the target; growth is slewed", () => {
  const p = makePresenter({ ...defaultPresenterConfig(), mode: "server_timestamp", latencyMs: 5, warmupMs: 0 }, 0);
  const q = (seq: number, server: number, arrival: number) => ({ seq, serverMs: server, arrivalMs: arrival, dueMs: 0, lease: null });
  submitFrame(p, q(1, 1000, 1030), 1030); // 30 ms one-way
  assert.equal(p.queue[0]!.dueMs, 1000 + 30 + 5);
  submitFrame(p, q(2, 1016, 1036), 1036); // 20 ms: a faster path is taken at once
  assert.equal(p.offsetMs, 20);
  submitFrame(p, q(3, 1032, 1100), 1100); // 68 ms: the window minimum stays 20
  assert.equal(p.offsetMs, 20);
  assert.equal(takeDueFrame(p, 1040)!.seq, 1, "only the first is due");
  assert.equal(takeDueFrame(p, 1100)!.seq, 3, "the newest due frame wins");
  assert.equal(p.superseded, 1);
});

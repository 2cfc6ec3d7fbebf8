import { test } from "node:test";
import assert from "node:assert/strict";
import { flushUpdates, makeThrottle, nextFlushMs, queueUpdate } from "../src/client/throttle.js";

test("leading edge goes at once, changes inside the interval coalesce, the trailing edge sends the final value", () => {
  const t = makeThrottle(1000 / 60);
  assert.equal(queueUpdate(t, "dims:z:index", 1, 0), 1);
  assert.equal(queueUpdate(t, "dims:z:index", 2, 5), undefined);
  assert.equal(queueUpdate(t, "dims:z:index", 3, 10), undefined);
  assert.deepEqual(flushUpdates(t, 12), [], "not due before the interval ends");
  assert.equal(nextFlushMs(t), 1000 / 60);
  assert.deepEqual(flushUpdates(t, 17), [{ property: "dims:z:index", value: 3 }]);
  assert.equal(nextFlushMs(t), undefined);
});

test("at most 60 updates per second per property, the last value always sent", () => {
  const t = makeThrottle(1000 / 60);
  const sent: Array<[number, unknown]> = [];
  // A 1 kHz drag for one second, the timer ticking every 4 ms (as the loop's).
  for (let ms = 0; ms <= 1000; ms++) {
    const v = queueUpdate(t, "camera:main:set", { x: ms }, ms);
    if (v !== undefined) sent.push([ms, v]);
    if (ms % 4 === 0) for (const s of flushUpdates(t, ms)) sent.push([ms, s.value]);
  }
  for (let ms = 1001; ms < 1100; ms += 4) for (const s of flushUpdates(t, ms)) sent.push([ms, s.value]);
  assert.ok(sent.length <= 62 && sent.length >= 50, `${sent.length} sends`);
  for (let i = 1; i < sent.length; i++) assert.ok(sent[i]![0] - sent[i - 1]![0] >= 1000 / 60 - 1e-9, "spacing");
  assert.deepEqual(sent[sent.length - 1]![1], { x: 1000 });
});

test("properties are throttled independently; a repeated value is not resent", () => {
  const t = makeThrottle(10);
  assert.equal(queueUpdate(t, "a", 1, 0), 1);
  assert.equal(queueUpdate(t, "b", 1, 1), 1);
  assert.equal(queueUpdate(t, "a", 1, 20), undefined, "same value shortly after");
  assert.equal(queueUpdate(t, "a", 2, 40), 2);
  assert.equal(queueUpdate(t, "a", 2, 45), undefined);
  assert.deepEqual(flushUpdates(t, 60), [], "pending equal to what was sent: nothing");
});

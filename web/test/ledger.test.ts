import { test } from "node:test";
import assert from "node:assert/strict";
import * as L from "../src/client/ledger.js";

test("an intent shows at once; its ack confirms; an older echo never snaps back", () => {
  const l = L.makeLedger(1000);
  L.applyNotify(l, "dims:z:index", 5, 1);
  assert.equal(L.displayedValue(l, "dims:z:index"), 5);
  L.recordIntent(l, "dims:z:index", "i1", 6, 0);
  L.recordIntent(l, "dims:z:index", "i2", 7, 5);
  assert.equal(L.displayedValue(l, "dims:z:index"), 7, "optimistic");
  L.applyNotify(l, "dims:z:index", 6, 2); // the server's echo of i1
  assert.equal(L.displayedValue(l, "dims:z:index"), 7, "pending still wins");
  assert.equal(L.applyAck(l, "i1", true, 6, 3), "dims:z:index");
  assert.equal(L.displayedValue(l, "dims:z:index"), 7);
  L.applyAck(l, "i2", true, 7, 4);
  assert.ok(!L.hasPending(l, "dims:z:index"));
  assert.equal(L.displayedValue(l, "dims:z:index"), 7);
  L.applyNotify(l, "dims:z:index", 6, 3); // late, older than the confirmed version
  assert.equal(L.displayedValue(l, "dims:z:index"), 7);
  assert.equal(l.staleNotifies, 1);
});

test("a rejection drops the intent and the confirmed value shows again", () => {
  const l = L.makeLedger();
  L.applyNotify(l, "layer:l0:gamma", 1, 1);
  L.recordIntent(l, "layer:l0:gamma", "i1", 9, 0);
  L.applyAck(l, "i1", false, null, 2);
  assert.equal(L.displayedValue(l, "layer:l0:gamma"), 1);
  assert.equal(l.rejected, 1);
  assert.equal(L.applyAck(l, "unknown", true, 1, 3), null, "unknown intents are ignored");
});

test("an ack settles older intents of the property too", () => {
  const l = L.makeLedger();
  for (const [id, v] of [["a", 1], ["b", 2], ["c", 3]] as const) L.recordIntent(l, "p:t:k", id, v, 0);
  L.applyAck(l, "b", true, 2, 1);
  assert.deepEqual(l.properties.get("p:t:k")!.pending.map((x) => x.intentId), ["c"]);
  assert.equal(l.intentProperty.has("a"), false);
});

test("unanswered intents expire; the ack clock can be paused; replay is newest per property, oldest first", () => {
  const l = L.makeLedger(100);
  L.applyNotify(l, "a:x:k", 0, 1);
  L.recordIntent(l, "a:x:k", "i1", 1, 0);
  L.recordIntent(l, "b:y:k", "i2", 2, 10);
  L.recordIntent(l, "a:x:k", "i3", 3, 20);
  assert.deepEqual(L.intentsToReplay(l), [["b:y:k", 2], ["a:x:k", 3]]);
  L.pauseAckClock(l, 1000);
  assert.deepEqual(L.expireIntents(l, 500), [], "paused time does not count");
  assert.deepEqual(L.expireIntents(l, 1105).sort(), ["a:x:k"]);
  assert.equal(L.displayedValue(l, "a:x:k"), 3, "i3 still pending");
  L.expireIntents(l, 1200);
  assert.equal(L.displayedValue(l, "a:x:k"), 0, "the confirmed value returns");
  assert.equal(l.expired, 3);
  assert.equal(l.intentProperty.size, 0);
});

test("property names split at the first and last colon", () => {
  assert.deepEqual(L.splitProperty("layer:a:b:opacity"), { scope: "layer", target: "a:b", key: "opacity" });
  assert.equal(L.splitProperty("nocolon"), null);
  assert.equal(L.splitProperty("one:colon"), null);
});

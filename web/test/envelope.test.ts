import { test } from "node:test";
import assert from "node:assert/strict";
import { parseEnvelope, serialize } from "../src/protocol/envelope.js";
import { parseAckState, parseErrorCommand, parseNotifyDims, parseNotifyError, parseNotifyLayers, parseNotifyStream, parseReplyCommand, parseSessionWelcome } from "../src/protocol/messages.js";

const base = { type: "notify.dims", version: 2, timestamp: 1, session: "s", frame_id: "f", payload: {} };
const text = (o: unknown) => JSON.stringify(o);

test("a valid envelope parses and serializes back", () => {
  const r = parseEnvelope(text({ ...base, unknown_field: 1 }));
  assert.ok(r.ok);
  assert.equal(r.value.type, "notify.dims");
  assert.deepEqual(JSON.parse(serialize(r.value)), base);
});

test("malformed frames are typed errors, never exceptions", () => {
  const cases: Array<[string, string]> = [
    ["not json {", "invalid_json"],
    ["", "invalid_json"],
    ["[1,2]", "invalid_envelope"],
    ["null", "invalid_envelope"],
    ["42", "invalid_envelope"],
    [text({ ...base, type: "" }), "invalid_envelope"],
    [text({ ...base, type: 7 }), "invalid_envelope"],
    [text({ ...base, version: 1 }), "invalid_envelope"],
    [text({ ...base, version: "2" }), "invalid_envelope"],
    [text({ ...base, timestamp: "now" }), "invalid_envelope"],
    [text({ ...base, payload: [] }), "invalid_envelope"],
    [text({ ...base, payload: null }), "invalid_envelope"],
    [text({ ...base, session: 5 }), "invalid_envelope"],
    [text({ ...base, seq: 1.5 }), "invalid_envelope"],
    [text({ ...base, seq: -1 }), "invalid_envelope"],
  ];
  for (const [input, code] of cases) {
    const r = parseEnvelope(input);
    assert.equal(r.ok, false, input);
    if (!r.ok) assert.equal(r.error.code, code, input);
  }
});

test("per-type presence rules follow protocol.md §2.2", () => {
  const bad = [
    { ...base, type: "state.update", intent_id: undefined }, // intent_id required
    { ...base, type: "session.hello" }, // session forbidden
    { ...base, type: "notify.scene" }, // seq required
    { ...base, type: "notify.scene", seq: 3, delta_token: "t" }, // scene seq must be 0
    { ...base, type: "notify.dims", frame_id: undefined }, // frame_id or intent_id
    { ...base, type: "ack.state", seq: 1, delta_token: "x" }, // seq forbidden
  ];
  for (const o of bad) assert.equal(parseEnvelope(text(o)).ok, false, text(o));
  assert.ok(parseEnvelope(text({ ...base, type: "notify.scene", seq: 0, delta_token: "t" })).ok);
  assert.ok(parseEnvelope(text({ ...base, type: "some.future.type" })).ok, "unknown types parse");
});

test("payload validation names the field", () => {
  const ack = parseAckState({ intent_id: "i", in_reply_to: "f", status: "accepted" });
  assert.equal(ack.ok, false);
  if (!ack.ok) assert.match(ack.error.message, /version/);
  assert.equal(parseAckState({ intent_id: "i", in_reply_to: "f", status: "rejected" }).ok, false);
  assert.equal(parseAckState({ intent_id: "i", in_reply_to: "f", status: "maybe", version: 1 }).ok, false);
  const good = parseAckState({ intent_id: "i", in_reply_to: "f", status: "accepted", version: 4, applied_value: 3 });
  assert.ok(good.ok && good.value.accepted && good.value.version === 4 && good.value.applied_value === 3);
  const rej = parseAckState({ intent_id: "i", in_reply_to: "f", status: "rejected", error: { code: "state.invalid", message: "no" } });
  assert.ok(rej.ok && !rej.value.accepted && rej.value.error?.code === "state.invalid");

  const stream = { codec: "h264", format: "avcc", fps: 60, frame_size: [64, 48], nal_length_size: 4, avcc: "AQ==", latency_policy: {} };
  assert.ok(parseNotifyStream(stream).ok);
  assert.equal(parseNotifyStream({ ...stream, frame_size: [0, 48] }).ok, false);
  assert.equal(parseNotifyStream({ ...stream, nal_length_size: 3 }).ok, false);
  assert.equal(parseNotifyStream({ ...stream, avcc: 5 }).ok, false);

  assert.equal(parseNotifyDims({ step: [0], levels: [], current_level: 0, level_shapes: [["x"]], mode: "plane", ndisplay: 2 }).ok, false);
  assert.ok(parseNotifyDims({ step: [1, 0, 0], levels: [], current_level: 0, level_shapes: [[4, 5, 6]], mode: "plane", ndisplay: 2 }).ok);
  assert.equal(parseNotifyLayers({ layer_id: "l" }).ok, false, "a notify.layers needs a section");
  assert.equal(parseNotifyLayers({ layer_id: "l", controls: [] }).ok, false);
  assert.equal(parseNotifyError({ domain: "d", code: "c", message: "m", severity: "fatal" }).ok, false);
  assert.equal(parseReplyCommand({ in_reply_to: "x" }).ok, false, "status is required");
  assert.equal(parseErrorCommand({ in_reply_to: "x", status: "error", code: "c" }).ok, false);
  assert.equal(parseSessionWelcome({ protocol_version: 3, session: { id: "s" }, features: {} }).ok, false);
  assert.equal(parseSessionWelcome({ protocol_version: 2, session: { id: 1 }, features: {} }).ok, false);
  assert.equal(parseSessionWelcome({ protocol_version: 2, session: { id: "s" }, features: { x: { enabled: "yes" } } }).ok, false);
});

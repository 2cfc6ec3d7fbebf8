// Protocol v2 control frames: envelope parsing and validation with the same per-type
// rules as src/protocol/envelope.cpp, so a malformed frame is a typed error here too,
// never an exception in the middle of the client.

export const PROTOCOL_VERSION = 2;

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export interface Envelope {
  type: string;
  version: number;
  session?: string;
  frame_id?: string;
  timestamp: number;
  seq?: number;
  delta_token?: string;
  intent_id?: string;
  payload: JsonObject;
}

export interface ProtocolError {
  code: string;
  message: string;
  details?: JsonObject;
}

export type Result<T> = { ok: true; value: T } | { ok: false; error: ProtocolError };

export const ok = <T>(value: T): Result<T> => ({ ok: true, value });
export const fail = <T>(code: string, message: string, details?: JsonObject): Result<T> => ({
  ok: false,
  error: details ? { code, message, details } : { code, message },
});

// required / forbidden / optional, as protocol.md §2.2 lists them.
type Rule = "R" | "F" | "O";
interface TypeRules {
  session: Rule;
  frame_id: Rule;
  seq: Rule; // seq and delta_token together
  intent_id: Rule;
  id_or_intent?: boolean;
}

const RULES: Record<string, TypeRules> = {
  "session.hello": { session: "F", frame_id: "R", seq: "F", intent_id: "F" },
  "session.welcome": { session: "R", frame_id: "R", seq: "F", intent_id: "F" },
  "session.reject": { session: "F", frame_id: "R", seq: "F", intent_id: "F" },
  "session.heartbeat": { session: "R", frame_id: "R", seq: "F", intent_id: "F" },
  "session.ack": { session: "R", frame_id: "R", seq: "F", intent_id: "F" },
  "session.goodbye": { session: "R", frame_id: "R", seq: "F", intent_id: "F" },
  "notify.scene": { session: "R", frame_id: "O", seq: "R", intent_id: "O" },
  "notify.layers": { session: "R", frame_id: "O", seq: "R", intent_id: "O" },
  "notify.stream": { session: "R", frame_id: "O", seq: "R", intent_id: "O" },
  "notify.dims": { session: "R", frame_id: "O", seq: "F", intent_id: "O", id_or_intent: true },
  "notify.camera": { session: "R", frame_id: "O", seq: "F", intent_id: "O", id_or_intent: true },
  "notify.error": { session: "R", frame_id: "O", seq: "F", intent_id: "O" },
  "state.update": { session: "R", frame_id: "R", seq: "F", intent_id: "R" },
  "ack.state": { session: "R", frame_id: "R", seq: "F", intent_id: "F" },
  "call.command": { session: "R", frame_id: "R", seq: "F", intent_id: "F" },
  "reply.command": { session: "R", frame_id: "R", seq: "F", intent_id: "F" },
  "error.command": { session: "R", frame_id: "R", seq: "F", intent_id: "F" },
};

export const isKnownType = (t: string): boolean => t in RULES;

export const isObject = (v: unknown): v is JsonObject => typeof v === "object" && v !== null && !Array.isArray(v);

const bad = <T>(message: string): Result<T> => fail("invalid_envelope", message);

function check(rule: Rule, present: boolean, field: string, type: string): string | null {
  if (rule === "R" && !present) return `${type}: '${field}' is required`;
  if (rule === "F" && present) return `${type}: '${field}' is not allowed`;
  return null;
}

export function validateEnvelope(e: Envelope): ProtocolError | null {
  if (e.version !== PROTOCOL_VERSION) return { code: "invalid_envelope", message: "version must be 2" };
  const r = RULES[e.type];
  if (!r) return null;
  const problems = [
    check(r.session, e.session !== undefined, "session", e.type),
    check(r.frame_id, e.frame_id !== undefined, "frame_id", e.type),
    check(r.seq, e.seq !== undefined, "seq", e.type),
    check(r.seq, e.delta_token !== undefined, "delta_token", e.type),
    check(r.intent_id, e.intent_id !== undefined, "intent_id", e.type),
  ];
  const first = problems.find((p) => p !== null);
  if (first) return { code: "invalid_envelope", message: first };
  if (r.id_or_intent && e.frame_id === undefined && e.intent_id === undefined)
    return { code: "invalid_envelope", message: `${e.type}: one of frame_id / intent_id is required` };
  if (e.seq !== undefined && e.seq < 0) return { code: "invalid_envelope", message: "seq must be >= 0" };
  if (e.type === "notify.scene" && e.seq !== undefined && e.seq !== 0)
    return { code: "invalid_envelope", message: "notify.scene seq must be 0" };
  return null;
}

export function envelopeFromJson(j: unknown): Result<Envelope> {
  if (!isObject(j)) return bad("frame must be a JSON object");
  if (typeof j.type !== "string" || j.type === "") return bad("'type' must be a non-empty string");
  if (typeof j.version !== "number" || !Number.isInteger(j.version)) return bad("'version' must be an integer");
  if (typeof j.timestamp !== "number") return bad("'timestamp' must be a number");
  if (!isObject(j.payload)) return bad("'payload' must be an object");
  const e: Envelope = { type: j.type, version: j.version, timestamp: j.timestamp, payload: j.payload };
  for (const key of ["session", "frame_id", "delta_token", "intent_id"] as const) {
    const v = j[key];
    if (v === undefined || v === null) continue;
    if (typeof v !== "string") return bad(`'${key}' must be a string`);
    e[key] = v;
  }
  if (j.seq !== undefined && j.seq !== null) {
    if (typeof j.seq !== "number" || !Number.isInteger(j.seq)) return bad("'seq' must be an integer");
    e.seq = j.seq;
  }
  const err = validateEnvelope(e);
  return err ? { ok: false, error: err } : ok(e);
}

export function parseEnvelope(text: string): Result<Envelope> {
  let j: unknown;
  try {
    j = JSON.parse(text);
  } catch {
    return fail("invalid_json", "frame is not valid JSON");
  }
  return envelopeFromJson(j);
}

export function serialize(e: Envelope): string {
  const j: JsonObject = { type: e.type, version: e.version, timestamp: e.timestamp, payload: e.payload };
  if (e.session !== undefined) j.session = e.session;
  if (e.frame_id !== undefined) j.frame_id = e.frame_id;
  if (e.seq !== undefined) j.seq = e.seq;
  if (e.delta_token !== undefined) j.delta_token = e.delta_token;
  if (e.intent_id !== undefined) j.intent_id = e.intent_id;
  return JSON.stringify(j);
}

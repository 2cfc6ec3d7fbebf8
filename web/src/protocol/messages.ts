// Payloads the browser client reads and writes, validated as src/protocol/messages.cpp
// does: a payload with a missing or wrong-typed field is an "invalid_payload" error
// naming the field; unknown fields are ignored.
import { fail, isObject, ok, type Json, type JsonObject, type Result } from "./envelope.js";

type Kind = "string" | "number" | "integer" | "boolean" | "object" | "array";

function kindOf(v: unknown, k: Kind): boolean {
  switch (k) {
    case "string": return typeof v === "string";
    case "number": return typeof v === "number" && Number.isFinite(v);
    case "integer": return typeof v === "number" && Number.isInteger(v);
    case "boolean": return typeof v === "boolean";
    case "object": return isObject(v);
    case "array": return Array.isArray(v);
  }
}

// Collects the first problem; reads return undefined after it.
class Reader {
  error: string | null = null;
  constructor(private readonly p: JsonObject, private readonly where: string) {}
  req<T>(key: string, kind: Kind): T {
    if (this.error) return undefined as T;
    const v = this.p[key];
    if (v === undefined || v === null) this.error = `${this.where}: '${key}' is required`;
    else if (!kindOf(v, kind)) this.error = `${this.where}: '${key}' must be ${kind === "integer" ? "an integer" : `a ${kind}`}`;
    return v as T;
  }
  opt<T>(key: string, kind: Kind): T | undefined {
    if (this.error) return undefined;
    const v = this.p[key];
    if (v === undefined || v === null) return undefined;
    if (!kindOf(v, kind)) {
      this.error = `${this.where}: '${key}' must be ${kind === "integer" ? "an integer" : `a ${kind}`}`;
      return undefined;
    }
    return v as T;
  }
  done<T>(value: T): Result<T> {
    return this.error ? fail("invalid_payload", this.error) : ok(value);
  }
}

const numbers = (v: unknown): v is number[] => Array.isArray(v) && v.every((x) => typeof x === "number");
const strings = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === "string");

export interface SessionWelcome {
  session_id: string;
  heartbeat_s: number;
  ack_timeout_ms: number;
  features: Record<string, { enabled: boolean; commands?: string[] }>;
}

export function parseSessionWelcome(p: JsonObject): Result<SessionWelcome> {
  const r = new Reader(p, "session.welcome");
  const version = r.req<number>("protocol_version", "integer");
  const session = r.req<JsonObject>("session", "object");
  const features = r.req<JsonObject>("features", "object");
  if (r.error) return fail("invalid_payload", r.error);
  if (version !== 2) return fail("invalid_payload", "session.welcome: protocol_version must be 2");
  const rs = new Reader(session, "session.welcome.session");
  const id = rs.req<string>("id", "string");
  const hb = rs.opt<number>("heartbeat_s", "number") ?? 15;
  const ackMs = rs.opt<number>("ack_timeout_ms", "number") ?? 250;
  if (rs.error) return fail("invalid_payload", rs.error);
  const out: SessionWelcome = { session_id: id, heartbeat_s: hb, ack_timeout_ms: ackMs, features: {} };
  for (const [name, t] of Object.entries(features)) {
    if (!isObject(t)) return fail("invalid_payload", `session.welcome.features.${name} must be an object`);
    const rt = new Reader(t, `session.welcome.features.${name}`);
    const enabled = rt.req<boolean>("enabled", "boolean");
    const commands = rt.opt<Json[]>("commands", "array");
    if (rt.error) return fail("invalid_payload", rt.error);
    out.features[name] = { enabled, ...(commands && strings(commands) ? { commands } : {}) };
  }
  return ok(out);
}

export interface SessionReject {
  code: string;
  message: string;
  details: JsonObject;
}

export function parseSessionReject(p: JsonObject): Result<SessionReject> {
  const r = new Reader(p, "session.reject");
  const code = r.req<string>("code", "string");
  const message = r.req<string>("message", "string");
  const details = r.opt<JsonObject>("details", "object") ?? {};
  return r.done({ code, message, details });
}

export interface AckState {
  intent_id: string;
  in_reply_to: string;
  accepted: boolean;
  applied_value?: Json;
  version?: number;
  error?: { code: string; message: string };
}

export function parseAckState(p: JsonObject): Result<AckState> {
  const r = new Reader(p, "ack.state");
  const intent_id = r.req<string>("intent_id", "string");
  const in_reply_to = r.req<string>("in_reply_to", "string");
  const status = r.req<string>("status", "string");
  const version = r.opt<number>("version", "integer");
  if (r.error) return fail("invalid_payload", r.error);
  if (status !== "accepted" && status !== "rejected")
    return fail("invalid_payload", "ack.state: status must be accepted or rejected");
  const accepted = status === "accepted";
  const out: AckState = { intent_id, in_reply_to, accepted };
  if (p.applied_value !== undefined) out.applied_value = p.applied_value;
  if (version !== undefined) out.version = version;
  if (accepted) {
    if (version === undefined) return fail("invalid_payload", "ack.state: accepted ack needs 'version'");
    if (p.error !== undefined && p.error !== null) return fail("invalid_payload", "ack.state: accepted ack has 'error'");
  } else {
    if (!isObject(p.error)) return fail("invalid_payload", "ack.state: rejected ack needs 'error'");
    const re = new Reader(p.error, "ack.state.error");
    const code = re.req<string>("code", "string");
    const message = re.req<string>("message", "string");
    if (re.error) return fail("invalid_payload", re.error);
    out.error = { code, message };
  }
  return ok(out);
}

export interface ReplyCommand {
  in_reply_to: string;
  result: Json;
}

export function parseReplyCommand(p: JsonObject): Result<ReplyCommand> {
  const r = new Reader(p, "reply.command");
  const in_reply_to = r.req<string>("in_reply_to", "string");
  const status = r.req<string>("status", "string");
  if (!r.error && status !== "ok") r.error = "reply.command: status must be ok";
  return r.done({ in_reply_to, result: p.result ?? null });
}

export interface ErrorCommand {
  in_reply_to: string;
  code: string;
  message: string;
  details: JsonObject;
}

export function parseErrorCommand(p: JsonObject): Result<ErrorCommand> {
  const r = new Reader(p, "error.command");
  const in_reply_to = r.req<string>("in_reply_to", "string");
  const status = r.req<string>("status", "string");
  const code = r.req<string>("code", "string");
  const message = r.req<string>("message", "string");
  const details = r.opt<JsonObject>("details", "object") ?? {};
  if (!r.error && status !== "error") r.error = "error.command: status must be error";
  return r.done({ in_reply_to, code, message, details });
}

export interface NotifyStream {
  codec: string;
  format: string;
  fps: number;
  width: number;
  height: number;
  nal_length_size: number;
  avcc: string; // base64
}

export function parseNotifyStream(p: JsonObject): Result<NotifyStream> {
  const r = new Reader(p, "notify.stream");
  const codec = r.req<string>("codec", "string");
  const format = r.req<string>("format", "string");
  const fps = r.req<number>("fps", "number");
  const size = r.req<Json[]>("frame_size", "array");
  const nal = r.req<number>("nal_length_size", "integer");
  const avcc = r.req<string>("avcc", "string");
  r.req<JsonObject>("latency_policy", "object");
  if (r.error) return fail("invalid_payload", r.error);
  if (!numbers(size) || size.length !== 2 || !(size[0]! > 0) || !(size[1]! > 0))
    return fail("invalid_payload", "notify.stream: frame_size must be [width, height] > 0");
  if (nal !== 1 && nal !== 2 && nal !== 4) return fail("invalid_payload", "notify.stream: nal_length_size must be 1, 2 or 4");
  return ok({ codec, format, fps, width: size[0]!, height: size[1]!, nal_length_size: nal, avcc });
}

export interface NotifyDims {
  current_step: number[];
  level_shapes: number[][];
  ndisplay: number;
  axis_labels: string[];
  order: number[];
}

export function parseNotifyDims(p: JsonObject): Result<NotifyDims> {
  const r = new Reader(p, "notify.dims");
  const step = r.req<Json[]>("step", "array");
  const current = r.opt<Json[]>("current_step", "array");
  r.req<Json[]>("levels", "array");
  r.req<number>("current_level", "integer");
  const shapes = r.req<Json[]>("level_shapes", "array");
  r.req<string>("mode", "string");
  const ndisplay = r.req<number>("ndisplay", "integer");
  const labels = r.opt<Json[]>("axis_labels", "array") ?? [];
  const order = r.opt<Json[]>("order", "array") ?? [];
  if (r.error) return fail("invalid_payload", r.error);
  const cs = current ?? step;
  if (!numbers(cs)) return fail("invalid_payload", "notify.dims: 'current_step' must be numbers");
  if (!shapes.every(numbers)) return fail("invalid_payload", "notify.dims: 'level_shapes' must be arrays of numbers");
  if (!strings(labels)) return fail("invalid_payload", "notify.dims: 'axis_labels' must be strings");
  if (!numbers(order)) return fail("invalid_payload", "notify.dims: 'order' must be numbers");
  return ok({ current_step: cs, level_shapes: shapes as number[][], ndisplay, axis_labels: labels, order });
}

export interface NotifyCamera {
  mode: string;
  origin: string;
  state?: JsonObject;
}

export function parseNotifyCamera(p: JsonObject): Result<NotifyCamera> {
  const r = new Reader(p, "notify.camera");
  const mode = r.req<string>("mode", "string");
  const origin = r.req<string>("origin", "string");
  const state = r.opt<JsonObject>("state", "object");
  if (r.error) return fail("invalid_payload", r.error);
  if (state === undefined && (p.delta === undefined || p.delta === null))
    return fail("invalid_payload", "notify.camera: one of delta / state is required");
  return ok(state ? { mode, origin, state } : { mode, origin });
}

export interface NotifyLayers {
  layer_id: string;
  controls?: JsonObject;
  metadata?: JsonObject;
  removed: boolean;
}

export function parseNotifyLayers(p: JsonObject): Result<NotifyLayers> {
  const r = new Reader(p, "notify.layers");
  const layer_id = r.req<string>("layer_id", "string");
  const controls = r.opt<JsonObject>("controls", "object");
  const metadata = r.opt<JsonObject>("metadata", "object");
  const removed = r.opt<boolean>("removed", "boolean") ?? false;
  if (r.error) return fail("invalid_payload", r.error);
  if (!controls && !metadata && p.data == null && p.thumbnail == null && !removed)
    return fail("invalid_payload", "notify.layers: at least one section is required");
  const out: NotifyLayers = { layer_id, removed };
  if (controls) out.controls = controls;
  if (metadata) out.metadata = metadata;
  return ok(out);
}

export interface NotifyScene {
  viewer: JsonObject;
  layers: Json[];
  metadata: JsonObject;
}

export function parseNotifyScene(p: JsonObject): Result<NotifyScene> {
  const r = new Reader(p, "notify.scene");
  const viewer = r.req<JsonObject>("viewer", "object");
  const layers = r.req<Json[]>("layers", "array");
  const metadata = r.opt<JsonObject>("metadata", "object") ?? {};
  return r.done({ viewer, layers, metadata });
}

export interface NotifyError {
  domain: string;
  code: string;
  message: string;
  severity: "info" | "warning" | "critical";
}

export function parseNotifyError(p: JsonObject): Result<NotifyError> {
  const r = new Reader(p, "notify.error");
  const domain = r.req<string>("domain", "string");
  const code = r.req<string>("code", "string");
  const message = r.req<string>("message", "string");
  const severity = r.req<string>("severity", "string");
  if (r.error) return fail("invalid_payload", r.error);
  if (severity !== "info" && severity !== "warning" && severity !== "critical")
    return fail("invalid_payload", "notify.error: severity must be info, warning or critical");
  return ok({ domain, code, message, severity });
}

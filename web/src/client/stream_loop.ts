// ClientStreamLoop: the browser client's core, the same shape as src/client. Both channels
// (control JSON, pixel binary) with one printable LoopState; the state channel (hello
// with the token and features, welcome or reject, heartbeats answered, resume tokens);
// intents through the throttle into the client ledger; the scene mirror; keyframe gating,
// decoding (MediaPipeline) and the presenter; exact stills (StillPipeline) when the
// server offers them; reconnect with back-off and the view restored. No DOM: the page
// (src/main.ts) and the unit tests sit on it.
import { parseEnvelope, PROTOCOL_VERSION, serialize, type Envelope, type Json, type JsonObject } from "../protocol/envelope.js";
import { parseAckState, parseErrorCommand, parseNotifyError, parseReplyCommand, parseSessionReject, parseSessionWelcome } from "../protocol/messages.js";
import { findFrameMeta, isKeyframe, isStill, PIXEL_HEADER_SIZE, readPixelHeader, type PixelHeader } from "../protocol/pixel.js";
import { gateFrame, gateStill, makeGate, type DecodeGate } from "./decode_gate.js";
import type { FrameLease } from "./frame_lease.js";
import * as L from "./ledger.js";
import { describe, makeLoopState, nextBackoffMs, type LoopState } from "./loop_state.js";
import { MediaPipeline, type Decoded, type DecoderBackend } from "./media.js";
import { makeMetrics, record, type ClientMetrics } from "./metrics.js";
import { applyNotify, cloneMirror, makeMirror, restoreUpdates, type ClientMirror, type StateUpdate } from "./mirror.js";
import { defaultPresenterConfig, makePresenter, resetPresenter, submitFrame, takeDueFrame, type PresenterConfig, type PresenterState } from "./presenter.js";
import { pixelUrlWithStills, STILL_FEATURE, StillPipeline, type StillDecoder, type StillRecord } from "./still.js";
import { clearThrottle, flushUpdates, makeThrottle, nextFlushMs, queueUpdate, type IntentThrottle } from "./throttle.js";

// What the loop needs of a WebSocket (tests pass a fake).
export interface SocketLike {
  binaryType: string;
  readonly readyState: number;
  onopen: ((ev: unknown) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}
export type SocketFactory = (url: string) => SocketLike;

export interface ClientConfig {
  controlUrl: string;
  pixelUrl: string;
  token: string;
  name: string;
  version: string;
  platform: string;
  connectTimeoutMs: number;
  reconnectMinMs: number;
  reconnectMaxMs: number;
  callTimeoutMs: number;
  throttleIntervalMs: number;
  presenter: PresenterConfig;
}

export const defaultConfig = (controlUrl: string, pixelUrl: string, token: string): ClientConfig => ({
  controlUrl,
  pixelUrl,
  token,
  name: "voxcast-web",
  version: "0.1.0",
  platform: "browser",
  connectTimeoutMs: 5000,
  reconnectMinMs: 50,
  reconnectMaxMs: 500,
  callTimeoutMs: 15000,
  throttleIntervalMs: 1000 / 60,
  presenter: defaultPresenterConfig(),
});

export interface IntentRecord {
  frameId: string;
  intentId: string;
  property: string;
  sentMs: number;
  ackedMs: number;
  accepted: boolean;
  version: number; // server ledger version from the ack
  presentedMs: number; // first frame shown that answers it
  answeredBy?: FrameRecord; // that frame (video), for the per-stage timings
}

export interface FrameRecord {
  seq: number;
  keyframe: boolean;
  bytes: number;
  receivedMs: number;
  decodeStartMs: number;
  decodedMs: number;
  presentedMs: number;
  sceneVersion: number;
  quality: number; // frame-meta SEI quality bits
  levels_drawn: number; // frame-meta SEI, 3D bricks: bit L when pyramid level L was drawn from (0: 2D, or a volume drawn whole)
  bricks_loading: number; // frame-meta SEI, 3D bricks: wanted bricks not yet resident
  renderMs: number;
  encodeMs: number;
  serverMs: number;
}

export interface CommandResult {
  ok: boolean;
  result: Json;
  code: string;
  message: string;
  details: JsonObject;
}

export interface LoopEvents {
  onChange?(): void; // loop state, mirror or ledger changed
  onFrame?(lease: FrameLease): void; // draw this frame now (lease.use)
  onUserError?(message: string, source: string): void; // the server said something went wrong
}

// Frame receipts (docs/messages.md): one `{"seq":N}` per frame on the pixel socket once it
// is decoded, drawn or dropped; the server then keeps only a couple of frames in flight, so
// a picture never waits behind older ones in the decoder.
const RECEIPTS_FEATURE = "pixel.receipts";
const FEATURES = {
  "notify.scene": true, "notify.layers": true, "notify.stream": true, "notify.dims": true,
  "notify.camera": true, "call.command": true, "notify.error": true, [RECEIPTS_FEATURE]: true,
};
const RESUMABLE = ["notify.scene", "notify.layers", "notify.stream"];
const HISTORY = 512;

export const nowMs = (): number => performance.now();
const wallMs = (): number => performance.timeOrigin + performance.now();

interface PendingCall {
  resolve: (r: CommandResult) => void;
  timer: ReturnType<typeof setTimeout>;
}

interface WaitingUnit {
  au: Uint8Array;
  header: PixelHeader;
  rec: FrameRecord;
}

export class ClientStreamLoop {
  readonly loop: LoopState = makeLoopState();
  mirror: ClientMirror = makeMirror();
  readonly ledger = L.makeLedger();
  readonly throttle: IntentThrottle;
  readonly metrics: ClientMetrics = makeMetrics();
  readonly intents: IntentRecord[] = [];
  readonly frames = new Map<number, FrameRecord>(); // decode id -> record, while decoding
  readonly #decodedBySeq = new Map<number, FrameRecord>(); // seq -> record, until presented or dropped
  readonly media: MediaPipeline;
  readonly stills: StillPipeline;
  gate: DecodeGate = makeGate();
  presenter: PresenterState;
  shown: FrameLease | null = null;
  lastFrame: FrameRecord | null = null;

  #control: SocketLike | null = null;
  #pixel: SocketLike | null = null;
  #calls = new Map<string, PendingCall>();
  #counter = 0;
  #arrival = 0;
  #stopped = false;
  #retryTimer: ReturnType<typeof setTimeout> | null = null;
  #pixelRetryTimer: ReturnType<typeof setTimeout> | null = null;
  #watchdog: ReturnType<typeof setTimeout> | null = null;
  #tickTimer: ReturnType<typeof setTimeout> | null = null;
  #tickAt = 0;
  #pumpTimer: ReturnType<typeof setTimeout> | null = null;
  #delayMs: number;
  #pixelDelayMs: number;
  #mirrorBeforeLoss: ClientMirror | null = null;
  #replay: Array<[string, Json]> = [];
  #lostAtMs = 0;
  #waiting: WaitingUnit[] = []; // access units held while the decoder (re)configures

  // Without a still decoder the client never asks for exact stills.
  constructor(readonly config: ClientConfig, private readonly sockets: SocketFactory, backend: DecoderBackend,
              private readonly events: LoopEvents = {}, stillDecoder: StillDecoder | null = null) {
    this.throttle = makeThrottle(config.throttleIntervalMs);
    this.presenter = makePresenter(config.presenter, wallMs());
    this.#delayMs = config.reconnectMinMs;
    this.#pixelDelayMs = config.reconnectMinMs;
    this.media = new MediaPipeline(backend, (d) => this.#onDecoded(d), (m) => this.#onDecoderError(m));
    this.stills = new StillPipeline(stillDecoder, (lease, rec) => this.#showStill(lease, rec));
  }

  describe(): string {
    return describe(this.loop);
  }

  connect(): void {
    this.#stopped = false;
    this.loop.phase = "connecting";
    this.#openControl();
    this.#changed();
  }

  // Deterministic stop: goodbye, sockets closed, timers cleared, calls settled, the
  // presenter's frames and the shown frame released, the decoder closed.
  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.loop.phase = "stopping";
    if (this.#control && this.loop.controlUp)
      this.#post({ type: "session.goodbye", frame_id: this.#nextId("goodbye"), payload: { code: "goodbye", message: "client closing", reason: "client_goodbye" } });
    for (const t of [this.#retryTimer, this.#pixelRetryTimer, this.#watchdog, this.#tickTimer, this.#pumpTimer]) if (t) clearTimeout(t);
    this.#closeSocket(this.#control);
    this.#closeSocket(this.#pixel);
    this.#control = this.#pixel = null;
    this.loop.controlUp = this.loop.pixelUp = false;
    this.#settleAll("command.lost", "client stopped");
    this.#dropMedia();
    this.media.close();
    this.loop.phase = "stopped";
    this.#changed();
  }

  // ---- intents and commands --------------------------------------------------------

  // A throttled intent (dims sliders, camera drags, layer controls): ≤ 60/s per property,
  // the final value always sent.
  setProperty(scope: string, target: string, key: string, value: Json): void {
    const property = L.propertyName(scope, target, key);
    const now = nowMs();
    const v = queueUpdate(this.throttle, property, value, now);
    if (v !== undefined) this.sendState(scope, target, key, v);
    this.#scheduleTick();
    this.#changed();
  }

  setDimsIndex(axis: string, index: number): void {
    this.setProperty("dims", axis, "index", index);
  }

  // An unthrottled state.update; recorded in the ledger. Returns its frame id. While the
  // link is down the intent waits in the ledger and is replayed on the next session.
  sendState(scope: string, target: string, key: string, value: Json): string {
    const frameId = this.#nextId("state");
    const intentId = "intent" + frameId.slice(5);
    const property = L.propertyName(scope, target, key);
    const now = nowMs();
    L.recordIntent(this.ledger, property, intentId, value, now);
    this.intents.push({ frameId, intentId, property, sentMs: now, ackedMs: 0, accepted: false, version: 0, presentedMs: 0 });
    if (this.intents.length > HISTORY) this.intents.splice(0, this.intents.length - HISTORY);
    if (this.loop.controlUp)
      this.#post({ type: "state.update", frame_id: frameId, intent_id: intentId, payload: { scope, target, key, value } });
    this.#scheduleTick();
    return frameId;
  }

  // What a control should show: a value waiting in the throttle, else the ledger's.
  displayed(property: string): Json {
    const waiting = this.throttle.slots.get(property)?.pending;
    return waiting !== undefined ? waiting : L.displayedValue(this.ledger, property);
  }

  call(command: string, kwargs: JsonObject = {}, timeoutMs = this.config.callTimeoutMs): Promise<CommandResult> {
    if (!this.loop.controlUp) return Promise.resolve(lost("command.lost", "not connected to the server"));
    const frameId = this.#nextId("cmd");
    this.#post({ type: "call.command", frame_id: frameId, payload: { command, args: [], kwargs, origin: "web" } });
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.#settle(frameId, lost("command.timeout", `${command}: no answer in ${timeoutMs} ms`)), timeoutMs);
      this.#calls.set(frameId, { resolve, timer });
    });
  }

  requestKeyframe(): void {
    this.metrics.keyframeRequests += 1;
    if (this.loop.controlUp) void this.call("napari.pixel.request_keyframe", {}, 5000);
  }

  // ---- control channel -------------------------------------------------------------

  #nextId(prefix: string): string {
    this.#counter += 1;
    return `${prefix}-${(this.loop.sessionId || "00000000").slice(0, 8)}-${this.#counter.toString(16).padStart(8, "0")}`;
  }

  #post(e: Omit<Envelope, "version" | "timestamp" | "session"> & { session?: string }): void {
    if (!this.#control || this.#control.readyState !== 1) return;
    const full: Envelope = { version: PROTOCOL_VERSION, timestamp: wallMs() / 1000, session: this.loop.sessionId, ...e } as Envelope;
    try {
      this.#control.send(serialize(full));
    } catch {
      // A socket that closes under us: its close handler reconnects.
    }
  }

  #openControl(): void {
    let ws: SocketLike;
    try {
      ws = this.sockets(this.config.controlUrl);
    } catch (e) {
      this.#attemptFailed(`control channel: ${e instanceof Error ? e.message : String(e)}`);
      return;
    }
    this.#control = ws;
    let welcomed = false;
    const deadline = setTimeout(() => {
      if (welcomed || ws !== this.#control) return;
      this.#control = null;
      this.#closeSocket(ws);
      this.#attemptFailed("control channel: no session.welcome in time");
    }, this.config.connectTimeoutMs);
    ws.onopen = () => {
      const resume: JsonObject = {};
      for (const topic of RESUMABLE) resume[topic] = this.mirror.resumeTokens.get(topic) ?? null;
      const hello: JsonObject = {
        protocols: [PROTOCOL_VERSION],
        client: { name: this.config.name, version: this.config.version, platform: this.config.platform },
        features: this.stills.available ? { ...FEATURES, [STILL_FEATURE]: true } : FEATURES,
        resume_tokens: resume,
      };
      if (this.config.token) hello.auth = { type: "token", token: this.config.token };
      ws.send(serialize({ type: "session.hello", version: PROTOCOL_VERSION, frame_id: `hello-${Date.now().toString(16)}`, timestamp: wallMs() / 1000, payload: hello }));
    };
    ws.onmessage = (ev) => {
      if (ws !== this.#control || typeof ev.data !== "string") return;
      const parsed = parseEnvelope(ev.data);
      if (!parsed.ok) {
        this.metrics.invalidFrames += 1;
        return;
      }
      if (!welcomed) {
        clearTimeout(deadline);
        welcomed = this.#onHelloReply(parsed.value, ws);
        return;
      }
      this.#armWatchdog();
      this.#onControlFrame(parsed.value);
    };
    ws.onerror = () => {};
    ws.onclose = (ev) => {
      clearTimeout(deadline);
      if (ws !== this.#control) return;
      this.#control = null;
      if (!welcomed) this.#attemptFailed(`control channel closed (${ev.code}${ev.reason ? " " + ev.reason : ""})`);
      else this.#controlLost(`control channel closed (${ev.code})`);
    };
  }

  // True when the session is open.
  #onHelloReply(e: Envelope, ws: SocketLike): boolean {
    if (e.type === "session.reject") {
      const r = parseSessionReject(e.payload);
      this.loop.rejectCode = r.ok ? r.value.code : "rejected";
      this.loop.lastError = r.ok ? r.value.message : "the server rejected the session";
      this.loop.phase = "rejected";
      this.#control = null;
      this.#closeSocket(ws);
      this.#changed();
      return false;
    }
    const w = e.type === "session.welcome" ? parseSessionWelcome(e.payload) : null;
    if (!w || !w.ok || e.session !== w.value.session_id) {
      this.#control = null;
      this.#closeSocket(ws);
      this.#attemptFailed(w && !w.ok ? w.error.message : "expected session.welcome");
      return false;
    }
    const reconnect = this.loop.sessions > 0;
    this.loop.sessionId = w.value.session_id;
    this.loop.heartbeatS = w.value.heartbeat_s > 0 ? w.value.heartbeat_s : 15;
    this.loop.controlUp = true;
    this.loop.sessions += 1;
    this.loop.reconnectAttempts = 0;
    this.loop.nextRetryMs = 0;
    this.loop.lastError = "";
    this.loop.rejectCode = "";
    this.loop.tls = this.config.controlUrl.startsWith("wss:");
    this.loop.exactStill = this.stills.available && w.value.features[STILL_FEATURE]?.enabled === true;
    this.loop.receipts = w.value.features[RECEIPTS_FEATURE]?.enabled === true;
    this.#delayMs = this.config.reconnectMinMs;
    this.ledger.ackTimeoutMs = Math.max(1000, w.value.ack_timeout_ms * 4);
    if (reconnect) {
      // What the lost session never confirmed (also what was done while down, whose ack
      // clock was stopped) is replayed once the new baseline is in, after the old view.
      L.pauseAckClock(this.ledger, nowMs() - this.#lostAtMs);
      this.#replay = L.intentsToReplay(this.ledger);
      for (const p of this.ledger.properties.values()) p.pending = [];
      this.ledger.intentProperty.clear();
      this.loop.restorePending = this.#mirrorBeforeLoss !== null;
    }
    this.#armWatchdog();
    this.#openPixel();
    this.#changed();
    return true;
  }

  #armWatchdog(): void {
    if (this.#watchdog) clearTimeout(this.#watchdog);
    // The server sends a heartbeat every period; three silent ones mean it is gone.
    this.#watchdog = setTimeout(() => {
      const ws = this.#control;
      if (!ws || !this.loop.controlUp) return;
      this.#control = null;
      this.#closeSocket(ws);
      this.#controlLost("no heartbeat from the server");
    }, this.loop.heartbeatS * 3000);
  }

  #onControlFrame(e: Envelope): void {
    switch (e.type) {
      case "session.heartbeat":
        this.#post({ type: "session.ack", frame_id: this.#nextId("sack"), payload: {} });
        return;
      case "session.goodbye": {
        const ws = this.#control;
        this.#control = null;
        this.#closeSocket(ws);
        this.#controlLost("the server said goodbye");
        return;
      }
      case "ack.state":
        return this.#onAck(e);
      case "reply.command": {
        const r = parseReplyCommand(e.payload);
        if (r.ok) this.#settle(r.value.in_reply_to, { ok: true, result: r.value.result, code: "", message: "", details: {} });
        else this.metrics.invalidFrames += 1;
        return;
      }
      case "error.command": {
        const r = parseErrorCommand(e.payload);
        if (r.ok) this.#settle(r.value.in_reply_to, { ok: false, result: null, code: r.value.code, message: r.value.message, details: r.value.details });
        else this.metrics.invalidFrames += 1;
        return;
      }
      case "notify.error": {
        const r = parseNotifyError(e.payload);
        if (r.ok) this.events.onUserError?.(`${r.value.message} (${r.value.code})`, r.value.severity);
        else this.metrics.invalidFrames += 1;
        return;
      }
    }
    if (!e.type.startsWith("notify.")) return;
    const change = applyNotify(this.mirror, e);
    if (change === "invalid") {
      this.metrics.invalidFrames += 1;
      return;
    }
    if (change === "dims" || change === "scene")
      this.mirror.axisLabels.forEach((label, a) => {
        if (a < this.mirror.currentStep.length) L.applyNotify(this.ledger, `dims:${label}:index`, this.mirror.currentStep[a]!, ++this.#arrival);
      });
    if (change === "layers" || change === "scene")
      for (const l of this.mirror.layers)
        for (const [key, value] of Object.entries(l.controls)) L.applyNotify(this.ledger, `layer:${l.id}:${key}`, value, ++this.#arrival);
    if (change === "stream" && this.mirror.stream) void this.media.configureFromBase64(this.mirror.stream.avcc).then(() => this.#drainWaiting());
    // The new session's baseline ends with its camera: then the old view is restored.
    if (this.loop.restorePending && change === "camera" && this.mirror.haveScene) this.#restoreView();
    this.#changed();
  }

  #onAck(e: Envelope): void {
    const r = parseAckState(e.payload);
    if (!r.ok) {
      this.metrics.invalidFrames += 1;
      return;
    }
    const a = r.value;
    const property = L.applyAck(this.ledger, a.intent_id, a.accepted, a.applied_value ?? null, ++this.#arrival);
    for (let i = this.intents.length - 1; i >= 0; i--) {
      const rec = this.intents[i]!;
      if (rec.frameId !== a.in_reply_to) continue;
      rec.ackedMs = nowMs();
      rec.accepted = a.accepted;
      rec.version = a.version ?? 0;
      break;
    }
    if (!a.accepted) this.events.onUserError?.(`${property ?? a.intent_id}: ${a.error?.message ?? "rejected"} (${a.error?.code ?? "rejected"})`, "warning");
    this.#changed();
  }

  #restoreView(): void {
    this.loop.restorePending = false;
    let updates: StateUpdate[] = this.#mirrorBeforeLoss ? restoreUpdates(this.#mirrorBeforeLoss, this.mirror) : [];
    for (const [property, value] of this.#replay) {
      const p = L.splitProperty(property);
      if (!p) continue;
      updates = updates.filter((u) => !(u.scope === p.scope && u.target === p.target && u.key === p.key));
      updates.push({ ...p, value });
    }
    this.#replay = [];
    this.#mirrorBeforeLoss = null;
    for (const u of updates) this.sendState(u.scope, u.target, u.key, u.value);
  }

  #settle(frameId: string, r: CommandResult): void {
    const c = this.#calls.get(frameId);
    if (!c) return;
    clearTimeout(c.timer);
    this.#calls.delete(frameId);
    c.resolve(r);
  }

  #settleAll(code: string, message: string): void {
    for (const id of [...this.#calls.keys()]) this.#settle(id, lost(code, message));
  }

  // A connect attempt failed (before the welcome): try again with back-off.
  #attemptFailed(why: string): void {
    if (this.#stopped) return;
    this.loop.controlUp = false;
    this.loop.reconnectAttempts += 1;
    this.loop.lastError = why;
    this.loop.phase = this.loop.sessions > 0 ? "reconnecting" : "connecting";
    this.loop.nextRetryMs = this.#delayMs;
    this.#retryTimer = setTimeout(() => this.#openControl(), this.#delayMs);
    this.#delayMs = nextBackoffMs(this.#delayMs, this.config.reconnectMaxMs);
    this.#changed();
  }

  // The session is gone: a new one with back-off; the pixel channel goes with it.
  #controlLost(why: string): void {
    if (this.#stopped) return;
    if (this.#watchdog) clearTimeout(this.#watchdog);
    this.loop.controlUp = false;
    this.loop.lastError = why;
    this.loop.phase = "reconnecting";
    this.loop.reconnectAttempts = 0;
    this.#lostAtMs = nowMs();
    if (this.mirror.haveScene) this.#mirrorBeforeLoss = cloneMirror(this.mirror);
    clearThrottle(this.throttle);
    this.#settleAll("command.lost", "connection lost");
    const px = this.#pixel;
    this.#pixel = null;
    this.loop.pixelUp = false;
    this.#closeSocket(px);
    if (this.#pixelRetryTimer) clearTimeout(this.#pixelRetryTimer);
    this.#delayMs = this.config.reconnectMinMs;
    this.loop.nextRetryMs = this.#delayMs;
    this.#retryTimer = setTimeout(() => this.#openControl(), this.#delayMs);
    this.#delayMs = nextBackoffMs(this.#delayMs, this.config.reconnectMaxMs);
    this.#changed();
  }

  #closeSocket(ws: SocketLike | null): void {
    if (!ws) return;
    ws.onopen = ws.onmessage = ws.onerror = ws.onclose = null;
    try {
      ws.close(1000, "bye");
    } catch {
      // already closed
    }
  }

  // ---- pixel channel ---------------------------------------------------------------

  #openPixel(): void {
    if (this.#stopped || !this.loop.controlUp) return;
    let ws: SocketLike;
    try {
      let url = this.loop.exactStill ? pixelUrlWithStills(this.config.pixelUrl) : this.config.pixelUrl;
      if (this.loop.receipts) url += `${url.includes("?") ? "&" : "?"}receipts=1`;
      ws = this.sockets(url);
    } catch (e) {
      this.#pixelFailed(`pixel channel: ${e instanceof Error ? e.message : String(e)}`);
      return;
    }
    ws.binaryType = "arraybuffer";
    this.#pixel = ws;
    let epoch = 0;
    ws.onopen = () => {
      if (ws !== this.#pixel) return;
      // A new pixel connection: its seq restarts and its first frame is an IDR.
      epoch = ++this.loop.pixelEpoch;
      this.loop.pixelUp = true;
      this.loop.phase = "streaming";
      this.loop.reconnectAttempts = 0;
      this.loop.lastError = "";
      this.#pixelDelayMs = this.config.reconnectMinMs;
      this.#dropMedia();
      this.#changed();
    };
    ws.onmessage = (ev) => {
      if (ws !== this.#pixel || epoch !== this.loop.pixelEpoch) return;
      if (ev.data instanceof ArrayBuffer) this.#onPixel(new Uint8Array(ev.data));
    };
    ws.onerror = () => {};
    ws.onclose = (ev) => {
      if (ws !== this.#pixel) return;
      this.#pixel = null;
      this.loop.pixelUp = false;
      this.#pixelFailed(`pixel channel closed (${ev.code})`);
    };
  }

  #pixelFailed(why: string): void {
    if (this.#stopped || !this.loop.controlUp) return;
    this.loop.phase = "pixel reconnecting";
    this.loop.lastError = why;
    this.loop.reconnectAttempts += 1;
    this.loop.nextRetryMs = this.#pixelDelayMs;
    this.#pixelRetryTimer = setTimeout(() => this.#openPixel(), this.#pixelDelayMs);
    this.#pixelDelayMs = nextBackoffMs(this.#pixelDelayMs, this.config.reconnectMaxMs);
    this.#changed();
  }

  // Re-gating for a new pixel connection: queued frames go, the shown one stays.
  #dropMedia(): void {
    this.gate = makeGate();
    this.#waiting = [];
    this.stills.newConnection();
    resetPresenter(this.presenter, wallMs());
    if (this.#stopped && this.shown) {
      this.shown.release("presenter");
      this.shown = null;
    }
  }

  #onPixel(bytes: Uint8Array): void {
    const h = readPixelHeader(bytes);
    if (!h.ok) {
      this.metrics.invalidFrames += 1;
      return;
    }
    const au = bytes.subarray(PIXEL_HEADER_SIZE);
    this.metrics.pixelMessages += 1;
    this.metrics.bytes += bytes.byteLength;
    if (isStill(h.value)) {
      if (gateStill(this.gate, h.value) === "request_keyframe") this.requestKeyframe();
      this.stills.receive(h.value, au, bytes.byteLength);
      this.#receipt(h.value.seq);
      return;
    }
    const meta = findFrameMeta(au);
    const rec: FrameRecord = {
      seq: h.value.seq, keyframe: isKeyframe(h.value), bytes: bytes.byteLength, receivedMs: nowMs(),
      decodeStartMs: 0, decodedMs: 0, presentedMs: 0, sceneVersion: meta?.scene_version ?? 0, quality: meta?.quality ?? 0,
      levels_drawn: meta?.levels_drawn ?? 0, bricks_loading: meta?.bricks_loading ?? 0,
      renderMs: (meta?.render_us ?? 0) / 1000, encodeMs: (meta?.encode_us ?? 0) / 1000, serverMs: h.value.timestamp * 1000,
    };
    this.stills.noteVideo(rec.sceneVersion, rec.receivedMs);
    const decision = gateFrame(this.gate, h.value);
    if (decision === "drop_request_keyframe") this.requestKeyframe();
    if (decision !== "decode") {
      this.#receipt(h.value.seq);
      return;
    }
    if (rec.keyframe) {
      const avcc = this.media.needsReconfigure(au);
      if (avcc) {
        this.#waiting = [];
        void this.media.configure(avcc).then(() => this.#drainWaiting());
      }
    }
    if (!this.media.configured || this.#waiting.length > 0) {
      // Held while the decoder (re)configures, from a keyframe on; too many: start over.
      if (this.#waiting.length > 0 || rec.keyframe) this.#waiting.push({ au, header: h.value, rec });
      if (this.#waiting.length > 120) {
        this.#waiting = [];
        this.gate.waitingForKeyframe = true;
        this.requestKeyframe();
      }
      return;
    }
    this.#decode(au, h.value, rec);
  }

  #drainWaiting(): void {
    if (!this.media.configured) return;
    const units = this.#waiting;
    this.#waiting = [];
    for (const u of units) this.#decode(u.au, u.header, u.rec);
  }

  #decode(au: Uint8Array, h: PixelHeader, rec: FrameRecord): void {
    rec.decodeStartMs = nowMs();
    const id = this.media.decode(au, isKeyframe(h), h.seq);
    if (id === -1 && !this.gate.waitingForKeyframe) {
      // A new configuration starts at a keyframe: wait for one, ask once.
      this.gate.waitingForKeyframe = true;
      this.requestKeyframe();
    }
    if (id <= 0) {
      this.#receipt(rec.seq);
      return;
    }
    this.frames.set(id, rec);
    if (this.frames.size > 256) this.frames.delete(this.frames.keys().next().value!);
  }

  // Done with frame `seq` of this pixel connection (receipts negotiated).
  #receipt(seq: number): void {
    const ws = this.#pixel;
    if (!this.loop.receipts || !ws || ws.readyState !== 1) return;
    ws.send(`{"seq":${seq}}`);
    this.metrics.receiptsSent += 1;
  }

  #onDecoderError(message: string): void {
    // The reference chain is broken (or the decoder is new): wait for an IDR, ask for one.
    this.metrics.decodeErrors += 1;
    this.gate.waitingForKeyframe = true;
    this.#waiting = [];
    this.loop.lastError = message;
    this.requestKeyframe();
    this.#changed();
  }

  #onDecoded(d: Decoded): void {
    const rec = this.frames.get(d.decodeId);
    this.frames.delete(d.decodeId);
    if (this.#stopped || !rec) {
      d.lease.release("presenter");
      return;
    }
    this.#receipt(rec.seq);
    rec.decodedMs = nowMs();
    this.metrics.framesDecoded += 1;
    record(this.metrics.decodeMs, rec.decodedMs - rec.decodeStartMs);
    const now = wallMs();
    submitFrame(this.presenter, { seq: rec.seq, serverMs: rec.serverMs, arrivalMs: now - (rec.decodedMs - rec.receivedMs), dueMs: 0, lease: d.lease }, now);
    // A display that stalls (a hidden tab) never piles frames up.
    while (this.presenter.queue.length > 8) {
      this.presenter.queue.shift()!.lease?.release("presenter");
      this.presenter.superseded += 1;
    }
    this.#decodedBySeq.set(rec.seq, rec);
    if (this.#decodedBySeq.size > 64) this.#decodedBySeq.delete(this.#decodedBySeq.keys().next().value!);
    this.#pump();
  }

  // Shows the newest due frame; schedules itself for the next one.
  #pump(): void {
    if (this.#pumpTimer) clearTimeout(this.#pumpTimer);
    this.#pumpTimer = null;
    const now = wallMs();
    const f = takeDueFrame(this.presenter, now);
    if (f && f.lease) this.#show(f.lease, f.seq);
    if (this.presenter.queue.length > 0) {
      const due = Math.min(...this.presenter.queue.map((q) => q.dueMs));
      this.#pumpTimer = setTimeout(() => this.#pump(), Math.max(0, due - wallMs()));
    }
  }

  #show(lease: FrameLease, seq: number): void {
    const rec = this.#decodedBySeq.get(seq);
    this.#decodedBySeq.delete(seq);
    if (!this.stills.admitVideo(seq, rec?.sceneVersion ?? 0, rec?.quality ?? 0)) {
      lease.release("presenter"); // decoded, so the reference chain holds; the exact still stays
      return;
    }
    this.shown?.release("presenter");
    this.shown = lease;
    this.events.onFrame?.(lease);
    const now = nowMs();
    const m = this.metrics;
    m.framesPresented += 1;
    if (m.firstPictureMs === 0) m.firstPictureMs = now;
    if (m.lastPresentMs > 0) record(m.frameIntervalMs, now - m.lastPresentMs);
    m.lastPresentMs = now;
    if (!rec) return;
    rec.presentedMs = now;
    record(m.presenterLatencyMs, now - rec.receivedMs);
    this.lastFrame = rec;
    this.#answerIntents(rec.sceneVersion, now, rec);
  }

  #showStill(lease: FrameLease, rec: StillRecord): void {
    this.shown?.release("presenter");
    this.shown = lease;
    this.events.onFrame?.(lease);
    this.#answerIntents(rec.sceneVersion, rec.presentedMs);
    this.#changed();
  }

  // Intents a picture answers: acked, its scene version at least theirs, not yet shown.
  #answerIntents(sceneVersion: number, now: number, frame?: FrameRecord): void {
    for (const i of this.intents)
      if (i.presentedMs === 0 && i.ackedMs > 0 && i.accepted && i.version > 0 && sceneVersion >= i.version) {
        i.presentedMs = now;
        if (frame) i.answeredBy = frame;
        record(this.metrics.intentToFrameMs, now - i.sentMs);
      }
  }

  // ---- timers ----------------------------------------------------------------------

  // Trailing edges of drags and ack time-outs: every 4 ms while something waits.
  #scheduleTick(): void {
    if (this.#stopped) return;
    const next = nextFlushMs(this.throttle);
    const now = nowMs();
    const at = now + Math.min(50, next !== undefined ? Math.max(0, next - now) : 50);
    if (this.#tickTimer) {
      if (this.#tickAt <= at) return;
      clearTimeout(this.#tickTimer);
    }
    this.#tickAt = at;
    this.#tickTimer = setTimeout(() => this.#tick(), at - now);
  }

  #tick(): void {
    this.#tickTimer = null;
    const now = nowMs();
    for (const s of flushUpdates(this.throttle, now)) {
      const p = L.splitProperty(s.property);
      if (p) this.sendState(p.scope, p.target, p.key, s.value);
    }
    // No answer can come while the link is down: the ack clock stops, the intent stays.
    if (this.loop.controlUp && L.expireIntents(this.ledger, now).length > 0) this.#changed();
    if (nextFlushMs(this.throttle) !== undefined || this.ledger.intentProperty.size > 0) this.#scheduleTick();
  }

  #changed(): void {
    this.loop.outboxDepth = this.#calls.size;
    this.events.onChange?.();
  }
}

const lost = (code: string, message: string): CommandResult => ({ ok: false, result: null, code, message, details: {} });

// The state of the client's network loop in one printable struct (src/client/loop_state.hpp).

export type LinkPhase =
  | "idle" // not started
  | "connecting" // first connection: WebSocket, hello
  | "streaming" // both channels up
  | "reconnecting" // control lost: a new session with back-off
  | "pixel reconnecting" // pixel lost alone: reopened under the same session
  | "rejected" // the server refused the session (token): no retry until the user acts
  | "stopping"
  | "stopped";

export interface LoopState {
  phase: LinkPhase;
  sessionId: string;
  tls: boolean;
  exactStill: boolean; // the welcome enabled exact stills: the pixel upgrade asks for them
  receipts: boolean; // the welcome enabled frame receipts: the pixel upgrade asks, frames are receipted
  controlUp: boolean;
  pixelUp: boolean;
  heartbeatS: number; // from the welcome; silence for 3 periods = lost
  pixelEpoch: number; // pixel connections so far; the decoder re-gates on each
  restorePending: boolean; // a new session: the old view is re-applied on its baseline
  reconnectAttempts: number;
  nextRetryMs: number;
  sessions: number;
  outboxDepth: number;
  lastError: string;
  rejectCode: string; // session.reject's code ("unauthorized" ...)
}

export const makeLoopState = (): LoopState => ({
  phase: "idle",
  sessionId: "",
  tls: false,
  exactStill: false,
  receipts: false,
  controlUp: false,
  pixelUp: false,
  heartbeatS: 15,
  pixelEpoch: 0,
  restorePending: false,
  reconnectAttempts: 0,
  nextRetryMs: 0,
  sessions: 0,
  outboxDepth: 0,
  lastError: "",
  rejectCode: "",
});

export function describe(s: LoopState): string {
  let out = `${s.phase}${s.tls ? " (tls)" : ""} control ${s.controlUp ? "up" : "down"} pixel ${s.pixelUp ? "up" : "down"} epoch ${s.pixelEpoch} sessions ${s.sessions}`;
  if (s.sessionId) out += ` session ${s.sessionId.slice(0, 8)}`;
  if (s.exactStill) out += " exact-stills";
  if (s.receipts) out += " receipts";
  if (s.reconnectAttempts > 0) out += ` retry ${s.reconnectAttempts} in ${Math.round(s.nextRetryMs)} ms`;
  if (s.lastError) out += ` (${s.lastError})`;
  return out;
}

// Exponential back-off between reconnect attempts (50 ms → 1 s by default).
export const nextBackoffMs = (current: number, maxMs: number): number => Math.min(current * 2, maxMs);

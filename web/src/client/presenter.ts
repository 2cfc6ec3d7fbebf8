// When a decoded frame is shown (src/client/presenter.cpp). Server-timestamp mode: due =
// capture time + clock offset (windowed minimum of arrival − server time, slewed) +
// latency target; arrival mode: due = arrival + latency target. The newest due frame
// wins (older ones are released), a frame older than the one shown is never shown, and
// with nothing due the last frame stays. The browser calls takeDueFrame on each
// animation frame.
import type { FrameLease } from "./frame_lease.js";

export type PresenterMode = "server_timestamp" | "arrival";

export interface PresenterConfig {
  mode: PresenterMode;
  latencyMs: number;
  warmupMs: number;
  warmupExtraMs: number;
  offsetWindowMs: number;
  maxSlewMsPerS: number;
}

export interface QueuedFrame {
  seq: number;
  serverMs: number; // server capture time, wall clock ms
  arrivalMs: number; // client wall clock ms
  dueMs: number;
  lease: FrameLease | null; // null in tests
}

export interface PresenterState {
  config: PresenterConfig;
  queue: QueuedFrame[];
  offsets: Array<[number, number]>;
  offsetMs: number | undefined;
  lastOffsetUpdateMs: number;
  startedMs: number;
  lastPresentedSeq: number | undefined;
  presented: number;
  droppedLate: number;
  superseded: number;
}

export const defaultPresenterConfig = (): PresenterConfig => ({
  mode: "arrival",
  latencyMs: 0,
  warmupMs: 500,
  warmupExtraMs: 0,
  offsetWindowMs: 2000,
  maxSlewMsPerS: 5,
});

export const makePresenter = (config = defaultPresenterConfig(), nowMs = 0): PresenterState => ({
  config,
  queue: [],
  offsets: [],
  offsetMs: undefined,
  lastOffsetUpdateMs: nowMs,
  startedMs: nowMs,
  lastPresentedSeq: undefined,
  presented: 0,
  droppedLate: 0,
  superseded: 0,
});

// seq is u32 and wraps: a is newer than b when ahead by less than half the space.
export const newer = (a: number, b: number): boolean => ((a - b) | 0) > 0;

// Start, reconnect: the queue's frames are released, the offset estimate restarts.
export function resetPresenter(p: PresenterState, nowMs: number): void {
  for (const f of p.queue) f.lease?.release("presenter");
  p.queue = [];
  p.offsets = [];
  p.offsetMs = undefined;
  p.startedMs = nowMs;
  p.lastOffsetUpdateMs = nowMs;
  p.lastPresentedSeq = undefined;
}

function updateOffset(p: PresenterState, serverMs: number, arrivalMs: number, nowMs: number): number {
  const c = p.config;
  p.offsets.push([arrivalMs, arrivalMs - serverMs]);
  while (p.offsets.length > 0 && p.offsets[0]![0] < arrivalMs - c.offsetWindowMs) p.offsets.shift();
  const windowMin = Math.min(...p.offsets.map((o) => o[1]));
  if (p.offsetMs === undefined || windowMin < p.offsetMs) p.offsetMs = windowMin;
  else p.offsetMs = Math.min(windowMin, p.offsetMs + (c.maxSlewMsPerS * Math.max(0, nowMs - p.lastOffsetUpdateMs)) / 1000);
  p.lastOffsetUpdateMs = nowMs;
  return p.offsetMs;
}

// Adds a decoded frame (its lease held by the presenter role); false, and released, when
// it is not newer than the frame shown.
export function submitFrame(p: PresenterState, f: QueuedFrame, nowMs: number): boolean {
  if (p.lastPresentedSeq !== undefined && !newer(f.seq, p.lastPresentedSeq)) {
    p.droppedLate += 1;
    f.lease?.release("presenter");
    return false;
  }
  const c = p.config;
  const warm = c.warmupMs > 0 ? c.warmupExtraMs * Math.max(0, 1 - (nowMs - p.startedMs) / c.warmupMs) : 0;
  if (c.mode === "server_timestamp") f.dueMs = f.serverMs + updateOffset(p, f.serverMs, f.arrivalMs, nowMs) + c.latencyMs + warm;
  else f.dueMs = f.arrivalMs + c.latencyMs + warm;
  const at = p.queue.findIndex((q) => newer(q.seq, f.seq));
  if (at < 0) p.queue.push(f);
  else p.queue.splice(at, 0, f);
  return true;
}

// The newest frame due at `nowMs` (older due frames are released as superseded).
export function takeDueFrame(p: PresenterState, nowMs: number): QueuedFrame | undefined {
  let pick = -1;
  p.queue.forEach((f, i) => {
    if (f.dueMs <= nowMs) pick = i;
  });
  if (pick < 0) return undefined;
  for (const f of p.queue.slice(0, pick)) {
    f.lease?.release("presenter");
    p.superseded += 1;
  }
  const f = p.queue[pick]!;
  p.queue = p.queue.slice(pick + 1);
  p.lastPresentedSeq = f.seq;
  p.presented += 1;
  return f;
}

// Intent throttle per property (src/client dims_intent.hpp): the first change after a
// quiet interval goes out at once (leading edge), changes inside the interval coalesce,
// and the newest value always goes out when the interval ends (trailing edge) — a drag
// never sends nothing and never floods the server. ≤ 60 updates/s per property.
import type { Json } from "../protocol/envelope.js";

export interface ThrottleSlot {
  lastSentMs: number;
  lastSent?: string; // JSON text of the value that went out
  pending?: Json; // newest value not yet sent
}

export interface IntentThrottle {
  intervalMs: number;
  slots: Map<string, ThrottleSlot>;
}

export const makeThrottle = (intervalMs = 1000 / 60): IntentThrottle => ({ intervalMs, slots: new Map() });

const key = (v: Json): string => JSON.stringify(v);

// A local change of `property` at `nowMs`: the value to send now, or undefined when it
// waits for the trailing edge (or repeats what was just sent).
export function queueUpdate(t: IntentThrottle, property: string, value: Json, nowMs: number): Json | undefined {
  let s = t.slots.get(property);
  if (!s) t.slots.set(property, (s = { lastSentMs: -1e18 }));
  if (nowMs - s.lastSentMs >= t.intervalMs && s.pending === undefined) {
    if (s.lastSent === key(value) && nowMs - s.lastSentMs < 10 * t.intervalMs) return undefined;
    s.lastSentMs = nowMs;
    s.lastSent = key(value);
    return value;
  }
  s.pending = value;
  return undefined;
}

export interface ThrottledSend {
  property: string;
  value: Json;
}

// Trailing edges due at `nowMs`.
export function flushUpdates(t: IntentThrottle, nowMs: number): ThrottledSend[] {
  const out: ThrottledSend[] = [];
  for (const [property, s] of t.slots) {
    if (s.pending === undefined || nowMs - s.lastSentMs < t.intervalMs) continue;
    const k = key(s.pending);
    if (s.lastSent !== k) out.push({ property, value: s.pending });
    s.lastSent = k;
    s.lastSentMs = nowMs;
    s.pending = undefined;
  }
  return out;
}

// When the next trailing edge is due (undefined: nothing waits).
export function nextFlushMs(t: IntentThrottle): number | undefined {
  let next: number | undefined;
  for (const s of t.slots.values())
    if (s.pending !== undefined) next = Math.min(next ?? Infinity, s.lastSentMs + t.intervalMs);
  return next;
}

// Drops what waits (a new session: the view is restored instead).
export function clearThrottle(t: IntentThrottle): void {
  t.slots.clear();
}

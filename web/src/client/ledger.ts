// The client ledger (src/client/ledger.hpp): per property the value the server confirmed
// (with its version) and the local intents not yet acknowledged. The UI shows the newest
// local intent, else the confirmed value, so an echo of an older state never snaps a
// slider back; a rejection or an ack time-out drops the intent and the confirmed value
// shows again.
import type { Json } from "../protocol/envelope.js";

export interface PendingIntent {
  intentId: string;
  value: Json;
  sentMs: number;
}

export interface PropertyState {
  confirmed: Json; // null until the server said
  confirmedVersion: number;
  pending: PendingIntent[]; // oldest first
}

export interface ClientLedger {
  ackTimeoutMs: number;
  properties: Map<string, PropertyState>; // "dims:z:index", "layer:layer-0:opacity", ...
  intentProperty: Map<string, string>;
  rejected: number;
  expired: number;
  staleNotifies: number;
}

export const makeLedger = (ackTimeoutMs = 1000): ClientLedger => ({
  ackTimeoutMs,
  properties: new Map(),
  intentProperty: new Map(),
  rejected: 0,
  expired: 0,
  staleNotifies: 0,
});

// "scope:target:key" — the target may itself contain ':'.
export const propertyName = (scope: string, target: string, key: string): string => `${scope}:${target}:${key}`;
export function splitProperty(name: string): { scope: string; target: string; key: string } | null {
  const first = name.indexOf(":"), last = name.lastIndexOf(":");
  if (first < 0 || first === last) return null;
  return { scope: name.slice(0, first), target: name.slice(first + 1, last), key: name.slice(last + 1) };
}

function slot(l: ClientLedger, property: string): PropertyState {
  let p = l.properties.get(property);
  if (!p) l.properties.set(property, (p = { confirmed: null, confirmedVersion: -1, pending: [] }));
  return p;
}

export function displayedValue(l: ClientLedger, property: string): Json {
  const p = l.properties.get(property);
  if (!p) return null;
  return p.pending.length > 0 ? p.pending[p.pending.length - 1]!.value : p.confirmed;
}

export const hasPending = (l: ClientLedger, property: string): boolean => (l.properties.get(property)?.pending.length ?? 0) > 0;

export function recordIntent(l: ClientLedger, property: string, intentId: string, value: Json, nowMs: number): void {
  slot(l, property).pending.push({ intentId, value, sentMs: nowMs });
  l.intentProperty.set(intentId, property);
}

// ack.state: accepted → the applied value is confirmed at `version`, and this intent and
// the older ones of the property are settled (acks come in order); rejected → the intent
// goes and the confirmed value shows. Unknown intents are ignored. Returns the property.
export function applyAck(l: ClientLedger, intentId: string, accepted: boolean, applied: Json, version: number): string | null {
  const property = l.intentProperty.get(intentId);
  if (property === undefined) return null;
  l.intentProperty.delete(intentId);
  const p = slot(l, property);
  const at = p.pending.findIndex((x) => x.intentId === intentId);
  if (at < 0) return property;
  if (!accepted) {
    l.rejected += 1;
    p.pending.splice(at, 1);
    return property;
  }
  if (version >= p.confirmedVersion) {
    p.confirmed = applied;
    p.confirmedVersion = version;
  }
  for (const x of p.pending.slice(0, at + 1)) l.intentProperty.delete(x.intentId);
  p.pending.splice(0, at + 1);
  return property;
}

// A notify with `value` at `version`: confirmed when not older than what we have.
export function applyNotify(l: ClientLedger, property: string, value: Json, version: number): void {
  const p = slot(l, property);
  if (version < p.confirmedVersion) {
    l.staleNotifies += 1;
    return;
  }
  p.confirmed = value;
  p.confirmedVersion = version;
}

// Drops intents unanswered for longer than the ack time-out; returns their properties.
export function expireIntents(l: ClientLedger, nowMs: number): string[] {
  const out: string[] = [];
  for (const [property, p] of l.properties) {
    const keep = p.pending.filter((x) => nowMs - x.sentMs <= l.ackTimeoutMs);
    if (keep.length === p.pending.length) continue;
    for (const x of p.pending) if (nowMs - x.sentMs > l.ackTimeoutMs) l.intentProperty.delete(x.intentId);
    l.expired += p.pending.length - keep.length;
    p.pending = keep;
    out.push(property);
  }
  return out;
}

// The ack clock stops while the link is down: shift every pending intent's send time.
export function pauseAckClock(l: ClientLedger, pausedMs: number): void {
  for (const p of l.properties.values()) for (const x of p.pending) x.sentMs += pausedMs;
}

// After a reconnect: the newest pending value per property, oldest property first.
export function intentsToReplay(l: ClientLedger): Array<[string, Json]> {
  const items: Array<[number, string, Json]> = [];
  for (const [property, p] of l.properties)
    if (p.pending.length > 0) {
      const last = p.pending[p.pending.length - 1]!;
      items.push([last.sentMs, property, last.value]);
    }
  items.sort((a, b) => a[0] - b[0]);
  return items.map(([, property, value]) => [property, value]);
}

// A new session starts a new ledger version space: what was confirmed is forgotten.
export function resetConfirmed(l: ClientLedger): void {
  for (const p of l.properties.values()) p.confirmedVersion = -1;
}

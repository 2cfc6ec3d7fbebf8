// Client metrics: bounded sample windows with percentiles (what the status bar and the
// benchmark read), and counters.

export interface Histogram {
  samples: number[]; // newest last, at most `limit`
  limit: number;
  count: number; // all samples ever recorded
}

export const makeHistogram = (limit = 2048): Histogram => ({ samples: [], limit, count: 0 });

export function record(h: Histogram, v: number): void {
  if (!Number.isFinite(v)) return;
  h.samples.push(v);
  if (h.samples.length > h.limit) h.samples.splice(0, h.samples.length - h.limit);
  h.count += 1;
}

// Nearest-rank percentile of the window (q in [0, 1]); 0 when empty.
export function percentile(h: Histogram, q: number): number {
  if (h.samples.length === 0) return 0;
  const s = [...h.samples].sort((a, b) => a - b);
  const i = Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1));
  return s[i]!;
}

export interface ClientMetrics {
  decodeMs: Histogram;
  frameIntervalMs: Histogram;
  intentToFrameMs: Histogram;
  presenterLatencyMs: Histogram;
  framesPresented: number;
  framesDecoded: number;
  pixelMessages: number;
  bytes: number;
  decodeErrors: number;
  keyframeRequests: number;
  decoderConfigs: number;
  invalidFrames: number; // control frames that did not validate
  receiptsSent: number; // frame receipts on the pixel socket (pixel.receipts)
  lastPresentMs: number;
  firstPictureMs: number; // performance.now() of the first frame shown (0: none yet)
}

export const makeMetrics = (): ClientMetrics => ({
  decodeMs: makeHistogram(),
  frameIntervalMs: makeHistogram(),
  intentToFrameMs: makeHistogram(),
  presenterLatencyMs: makeHistogram(),
  framesPresented: 0,
  framesDecoded: 0,
  pixelMessages: 0,
  bytes: 0,
  decodeErrors: 0,
  keyframeRequests: 0,
  decoderConfigs: 0,
  invalidFrames: 0,
  receiptsSent: 0,
  lastPresentMs: 0,
  firstPictureMs: 0,
});

// Keyframe gating of the pixel stream (src/client/decode_gate.cpp): nothing is decoded
// before the first keyframe, and a gap in seq (a lost frame breaks the P-frame chain)
// drops frames until the next keyframe, asking for one once. Exact stills count in seq.
import { isKeyframe, type PixelHeader } from "../protocol/pixel.js";

export interface DecodeGate {
  waitingForKeyframe: boolean;
  haveSeq: boolean;
  lastSeq: number;
  gaps: number;
  dropped: number;
}

export type GateDecision = "decode" | "drop" | "drop_request_keyframe";

export const makeGate = (): DecodeGate => ({ waitingForKeyframe: true, haveSeq: false, lastSeq: 0, gaps: 0, dropped: 0 });

export function gateFrame(g: DecodeGate, h: PixelHeader): GateDecision {
  const gap = g.haveSeq && h.seq !== ((g.lastSeq + 1) >>> 0);
  g.haveSeq = true;
  g.lastSeq = h.seq;
  const key = isKeyframe(h);
  if (gap) {
    g.gaps += 1;
    if (!key) {
      const newly = !g.waitingForKeyframe;
      g.waitingForKeyframe = true;
      g.dropped += 1;
      return newly ? "drop_request_keyframe" : "drop";
    }
  }
  if (key) {
    g.waitingForKeyframe = false;
    return "decode";
  }
  if (g.waitingForKeyframe) {
    g.dropped += 1;
    return "drop";
  }
  return "decode";
}

// An exact still takes a seq like a video frame but is whole in itself: it is shown
// whatever the gate waits for. A gap before it still broke the video chain.
export function gateStill(g: DecodeGate, h: PixelHeader): "ok" | "request_keyframe" {
  const gap = g.haveSeq && h.seq !== ((g.lastSeq + 1) >>> 0);
  g.haveSeq = true;
  g.lastSeq = h.seq;
  if (!gap) return "ok";
  g.gaps += 1;
  const newly = !g.waitingForKeyframe;
  g.waitingForKeyframe = true;
  return newly ? "request_keyframe" : "ok";
}

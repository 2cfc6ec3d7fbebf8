// Exact stills (docs/messages.md, "Exact stills"): once the view has rested, the server
// sends its render losslessly, as a PNG on the pixel channel. The presentation rule is
// plain functions over one printable StillState; StillPipeline decodes the PNGs (behind
// StillDecoder: the browser's createImageBitmap, a fake in the tests) straight into
// FrameLeases, so a still's ImageBitmap is closed exactly once when it is replaced, as a
// VideoFrame is. No DOM beyond the decoder: the stream loop routes messages to it.
import { QUALITY_PARTIAL, readStill, type PixelHeader } from "../protocol/pixel.js";
import { FrameLease, makeAccounting, type Closeable, type LeaseAccounting } from "./frame_lease.js";
import { newer } from "./presenter.js";

export const STILL_FEATURE = "pixel.exact_still";

// The stills' own accounting: pageLeases counts VideoFrames only (the e2e tests match it
// against VideoFrame.close()).
export const stillLeases: LeaseAccounting = makeAccounting();

export interface StillPicture extends Closeable {
  readonly width: number;
  readonly height: number;
}
export type StillDecoder = (png: Uint8Array) => Promise<StillPicture>;

export function imageBitmapDecoder(): StillDecoder | null {
  if (typeof createImageBitmap !== "function" || typeof Blob !== "function") return null;
  // No colour management and no premultiplication: the bitmap holds the PNG's own bytes.
  return (png) => createImageBitmap(new Blob([png as Uint8Array<ArrayBuffer>], { type: "image/png" }),
                                    { colorSpaceConversion: "none", premultiplyAlpha: "none" });
}

// The pixel upgrade asks for stills (`still=png`) only when the welcome enabled them.
export const pixelUrlWithStills = (url: string): string => `${url}${url.includes("?") ? "&" : "?"}still=png`;

// What the picture shown is: the server's exact render, a video frame with a coarser
// level standing in for data still loading (SEI quality bit 1), or any other video frame.
export type PictureQuality = "none" | "exact" | "partial" | "lossy";
export const videoQuality = (seiQuality: number): PictureQuality => ((seiQuality & QUALITY_PARTIAL) !== 0 ? "partial" : "lossy");

export interface StillRecord {
  seq: number;
  sceneVersion: number;
  width: number;
  height: number;
  bytes: number; // the whole pixel message
  receivedMs: number; // performance.now()
  decodedMs: number;
  presentedMs: number;
  renderMs: number; // the server's, from the prefix
  pngMs: number;
  videoToStillMs: number; // from the newest video frame received to this still shown
}

export interface StillState {
  quality: PictureQuality; // of the picture shown
  newestVideoVersion: number; // scene version of the newest video frame received (-1: none on this pixel connection)
  newestVideoMs: number;
  shownVersion: number | null; // the still shown (null: video is)
  shownSeq: number | null; // its seq; null once the pixel connection that sent it is gone
  stills: number; // shown
  stale: number; // behind a newer video frame, or an earlier connection's: never shown
  invalid: number; // garbled, or its PNG did not decode
  hiddenFrames: number; // video frames decoded under a still, not shown
  lastError: string;
  last: StillRecord | null; // the last still shown
}

export const makeStillState = (): StillState => ({
  quality: "none",
  newestVideoVersion: -1,
  newestVideoMs: 0,
  shownVersion: null,
  shownSeq: null,
  stills: 0,
  stale: 0,
  invalid: 0,
  hiddenFrames: 0,
  lastError: "",
  last: null,
});

export function noteVideo(s: StillState, sceneVersion: number, nowMs: number): void {
  s.newestVideoVersion = sceneVersion;
  s.newestVideoMs = nowMs;
}

// A still is shown when its scene version is at least that of the newest video frame
// received, and it is newer than the still shown (two may decode at once).
export const stillIsCurrent = (s: StillState, seq: number, sceneVersion: number): boolean =>
  sceneVersion >= s.newestVideoVersion && (s.shownSeq === null || newer(seq, s.shownSeq));

export function showStill(s: StillState, rec: StillRecord): void {
  s.shownVersion = rec.sceneVersion;
  s.shownSeq = rec.seq;
  s.quality = "exact";
  s.stills += 1;
  s.last = rec;
}

// Whether a decoded video frame is shown. Under a still it is not when it shows the
// same scene version (a refinement, a newcomer's keyframe) or came before the still;
// the first other one replaces the still: motion goes straight back to video.
export function admitVideo(s: StillState, seq: number, sceneVersion: number, seiQuality: number): boolean {
  if (s.shownVersion !== null) {
    const before = s.shownSeq !== null && !newer(seq, s.shownSeq);
    if (before || sceneVersion === s.shownVersion) {
      s.hiddenFrames += 1;
      return false;
    }
    s.shownVersion = s.shownSeq = null;
  }
  s.quality = videoQuality(seiQuality);
  return true;
}

// A new pixel connection restarts seq: the still shown stays, unordered against its frames.
export function newPixelConnection(s: StillState): void {
  s.newestVideoVersion = -1;
  s.newestVideoMs = 0;
  s.shownSeq = null;
}

// Stills from message to lease. Owned by the stream loop; `onStill` shows the lease
// (held by the presenter role) at once.
export class StillPipeline {
  readonly state: StillState = makeStillState();
  #epoch = 0; // a still that finishes decoding after its connection went is closed, not shown

  constructor(private readonly decoder: StillDecoder | null, private readonly onStill: (lease: FrameLease, rec: StillRecord) => void,
              readonly acct: LeaseAccounting = stillLeases, private readonly now: () => number = () => performance.now()) {}

  // Whether this client can show stills (and so asks for them).
  get available(): boolean {
    return this.decoder !== null;
  }

  noteVideo(sceneVersion: number, receivedMs: number): void {
    noteVideo(this.state, sceneVersion, receivedMs);
  }

  admitVideo(seq: number, sceneVersion: number, seiQuality: number): boolean {
    return admitVideo(this.state, seq, sceneVersion, seiQuality);
  }

  receive(h: PixelHeader, payload: Uint8Array, bytes: number): void {
    const s = this.state;
    const r = readStill(payload);
    if (!r.ok || !this.decoder) {
      s.invalid += 1;
      s.lastError = r.ok ? "a still, but no decoder" : r.error.message;
      return;
    }
    const p = r.value;
    if (!stillIsCurrent(s, h.seq, p.sceneVersion)) {
      s.stale += 1;
      return;
    }
    const epoch = this.#epoch;
    const rec: StillRecord = {
      seq: h.seq, sceneVersion: p.sceneVersion, width: h.width, height: h.height, bytes, receivedMs: this.now(), decodedMs: 0,
      presentedMs: 0, renderMs: p.renderUs / 1000, pngMs: p.pngUs / 1000, videoToStillMs: 0,
    };
    this.decoder(p.png).then(
      (picture) => {
        const lease = new FrameLease(picture, "presenter", h.seq, this.acct); // owned from here on
        if (epoch !== this.#epoch || !stillIsCurrent(s, h.seq, p.sceneVersion)) {
          s.stale += 1;
          lease.release("presenter");
          return;
        }
        rec.decodedMs = rec.presentedMs = this.now();
        rec.width = picture.width;
        rec.height = picture.height;
        rec.videoToStillMs = s.newestVideoMs > 0 ? rec.presentedMs - s.newestVideoMs : 0;
        showStill(s, rec);
        this.onStill(lease, rec);
      },
      (e: unknown) => {
        if (epoch !== this.#epoch) return;
        s.invalid += 1;
        s.lastError = `still: ${e instanceof Error ? e.message : String(e)}`;
      },
    );
  }

  // A new pixel connection, or the loop stopping: stills still decoding are dropped.
  newConnection(): void {
    this.#epoch += 1;
    newPixelConnection(this.state);
  }
}

// The canvas: the shown picture (a VideoFrame, or an exact still's ImageBitmap) drawn at
// its aspect ratio (letterboxed), at the device's pixel ratio. The picture is only
// touched inside lease.use(), so the canvas can never keep or close it; the lease stays
// with the presenter until replaced.
import type { FrameLease } from "../client/frame_lease.js";

type Picture = CanvasImageSource & ({ displayWidth: number; displayHeight: number } | { width: number; height: number });

const sizeOf = (p: Picture): [number, number] => ("displayWidth" in p ? [p.displayWidth, p.displayHeight] : [p.width, p.height]);

export class VideoView {
  readonly canvas: HTMLCanvasElement;
  readonly #ctx: CanvasRenderingContext2D;
  #lease: FrameLease | null = null;
  videoWidth = 0;
  videoHeight = 0;
  drawMs = 0;
  draws = 0;

  constructor(parent: HTMLElement) {
    this.canvas = document.createElement("canvas");
    this.canvas.id = "canvas";
    this.canvas.tabIndex = 0;
    parent.append(this.canvas);
    this.#ctx = this.canvas.getContext("2d", { alpha: false, desynchronized: true })!;
    new ResizeObserver(() => this.redraw()).observe(this.canvas);
  }

  // The letterbox: where the video lies in CSS pixels of the canvas.
  box(): { x: number; y: number; w: number; h: number } {
    const cw = this.canvas.clientWidth, ch = this.canvas.clientHeight;
    if (!this.videoWidth || !this.videoHeight) return { x: 0, y: 0, w: cw, h: ch };
    const s = Math.min(cw / this.videoWidth, ch / this.videoHeight);
    const w = this.videoWidth * s, hh = this.videoHeight * s;
    return { x: (cw - w) / 2, y: (ch - hh) / 2, w, h: hh };
  }

  // CSS pixels relative to the canvas → video pixels.
  toVideo(cssX: number, cssY: number): [number, number] {
    const b = this.box();
    return [((cssX - b.x) / b.w) * this.videoWidth, ((cssY - b.y) / b.h) * this.videoHeight];
  }

  // Video pixels per CSS pixel (drag distances).
  videoPerCss(): number {
    const b = this.box();
    return b.w > 0 ? this.videoWidth / b.w : 1;
  }

  show(lease: FrameLease): void {
    this.#lease = lease;
    this.redraw();
  }

  redraw(): void {
    const dpr = window.devicePixelRatio || 1;
    const w = Math.max(1, Math.round(this.canvas.clientWidth * dpr)), hh = Math.max(1, Math.round(this.canvas.clientHeight * dpr));
    if (this.canvas.width !== w || this.canvas.height !== hh) {
      this.canvas.width = w;
      this.canvas.height = hh;
    }
    const lease = this.#lease;
    if (!lease || lease.closed) return;
    const t0 = performance.now();
    lease.use((frame) => {
      const f = frame as unknown as Picture;
      [this.videoWidth, this.videoHeight] = sizeOf(f);
      const b = this.box();
      const ctx = this.#ctx;
      ctx.fillStyle = "#000";
      ctx.fillRect(0, 0, w, hh);
      ctx.imageSmoothingEnabled = true;
      ctx.drawImage(f, b.x * dpr, b.y * dpr, b.w * dpr, b.h * dpr);
    });
    this.drawMs = performance.now() - t0;
    this.draws += 1;
  }

  // The shown picture at its own resolution, as RGBA (tests compare it with the server's
  // render; an exact still's bytes come back unchanged).
  grab(): ImageData | null {
    const lease = this.#lease;
    if (!lease || lease.closed) return null;
    return (
      lease.use((frame) => {
        const f = frame as unknown as Picture;
        const [w, h] = sizeOf(f);
        const c = new OffscreenCanvas(w, h);
        const ctx = c.getContext("2d")!;
        ctx.drawImage(f, 0, 0);
        return ctx.getImageData(0, 0, w, h);
      }) ?? null
    );
  }
}

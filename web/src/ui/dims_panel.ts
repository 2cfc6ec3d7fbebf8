// Dims sliders (apps/viewer/dims_panel.cpp): one per non-displayed axis with its position
// in physical units, play (fps; loop, back and forth, once), ←/→ step the current axis.
import type { ClientStreamLoop } from "../client/stream_loop.js";
import { sliderAxes } from "../client/mirror.js";
import { h, trackDragging } from "./dom.js";

interface Row {
  axis: string;
  scale: number;
  unit: string;
  slider: HTMLInputElement;
  position: HTMLSpanElement;
  play: HTMLButtonElement;
}

const SHORT_UNITS: Record<string, string> = {
  millimeter: "mm", micrometer: "µm", nanometer: "nm", centimeter: "cm", meter: "m",
  second: "s", millisecond: "ms", minute: "min", hour: "h",
};

export function positionText(v: number, max: number, scale: number, unit: string): string {
  let t = `${v} / ${max}`;
  if (scale !== 1 || unit) t += `  ·  ${Number((v * scale).toPrecision(4))} ${SHORT_UNITS[unit] ?? unit}`;
  return t;
}

export class DimsPanel {
  readonly el = h("div", { id: "dims" });
  #rows: Row[] = [];
  #signature = "";
  current = "";
  #playing = "";
  #direction = 1;
  #timer: ReturnType<typeof setInterval> | null = null;
  readonly fps = h("input", { type: "number", min: 1, max: 120, value: 10, id: "play-fps", title: "frames per second" });
  readonly mode = h("select", { id: "play-mode" }, h("option", { value: "loop" }, "loop"), h("option", { value: "back and forth" }, "back and forth"), h("option", { value: "once" }, "once"));
  readonly #rowsBox = h("div", { class: "dims-rows" });

  constructor(private readonly loop: ClientStreamLoop) {
    this.el.append(this.#rowsBox, h("div", { class: "playback" }, "play at ", this.fps, " fps ", this.mode));
    this.fps.addEventListener("change", () => this.#playing && this.#restartTimer());
  }

  update(): void {
    const m = this.loop.mirror;
    const axes = sliderAxes(m);
    const signature = JSON.stringify(axes.map((a) => [m.axisLabels[a], m.shape[a]]));
    if (signature !== this.#signature) this.#rebuild(axes);
    for (const r of this.#rows) {
      const v = this.loop.displayed(`dims:${r.axis}:index`);
      if (typeof v === "number" && r.slider.dataset.dragging !== "1" && Number(r.slider.value) !== v) r.slider.value = String(v);
      r.position.textContent = positionText(Number(r.slider.value), Number(r.slider.max), r.scale, r.unit);
    }
    this.el.hidden = this.#rows.length === 0;
  }

  #rebuild(axes: number[]): void {
    const m = this.loop.mirror;
    this.#stopPlay();
    this.#signature = JSON.stringify(axes.map((a) => [m.axisLabels[a], m.shape[a]]));
    this.#rows = axes.map((a) => {
      const axis = m.axisLabels[a]!;
      const slider = h("input", { type: "range", min: 0, max: Math.max(1, m.shape[a] ?? 1) - 1, step: 1, value: m.currentStep[a] ?? 0, id: `dims-${axis}`, "aria-label": `${axis} slider` });
      trackDragging(slider);
      slider.addEventListener("input", () => {
        this.current = axis;
        this.loop.setDimsIndex(axis, Number(slider.value));
        this.update();
      });
      const play = h("button", { class: "play", id: `play-${axis}`, title: `play along ${axis}` }, "▶");
      play.addEventListener("click", () => this.togglePlay(axis));
      return { axis, scale: m.scale[a] ?? 1, unit: m.units[a] ?? "", slider, play, position: h("span", { class: "position", id: `position-${axis}` }) };
    });
    this.#rowsBox.replaceChildren(...this.#rows.map((r) => h("div", { class: "dims-row" }, h("span", { class: "axis" }, r.axis), r.play, r.slider, r.position)));
    if (!this.#rows.some((r) => r.axis === this.current)) this.current = this.#rows.at(-1)?.axis ?? "";
  }

  step(delta: number): void {
    const r = this.#rows.find((x) => x.axis === this.current);
    if (!r) return;
    const next = Math.min(Number(r.slider.max), Math.max(0, Number(r.slider.value) + delta));
    if (next === Number(r.slider.value)) return;
    r.slider.value = String(next);
    this.loop.setDimsIndex(r.axis, next);
    this.update();
  }

  togglePlay(axis: string): void {
    const was = this.#playing === axis;
    this.#stopPlay();
    if (was) return;
    this.#playing = this.current = axis;
    this.#direction = 1;
    const r = this.#rows.find((x) => x.axis === axis);
    if (r) r.play.textContent = "■";
    this.#restartTimer();
  }

  #restartTimer(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = setInterval(() => this.#tick(), 1000 / Math.max(1, Number(this.fps.value) || 10));
  }

  #stopPlay(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    this.#playing = "";
    for (const r of this.#rows) r.play.textContent = "▶";
  }

  #tick(): void {
    const r = this.#rows.find((x) => x.axis === this.#playing);
    if (!r) return this.#stopPlay();
    const max = Number(r.slider.max), v = Number(r.slider.value);
    let next = v + this.#direction;
    if (next > max || next < 0) {
      if (this.mode.value === "loop") next = this.#direction > 0 ? 0 : max;
      else if (this.mode.value === "back and forth") {
        this.#direction = -this.#direction;
        next = Math.min(max, Math.max(0, v + this.#direction));
      } else return this.#stopPlay();
    }
    r.slider.value = String(next);
    this.loop.setDimsIndex(r.axis, next);
    this.update();
  }
}

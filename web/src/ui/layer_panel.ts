// The layer list and the selected layer's controls (apps/viewer/layer_panel.cpp):
// visibility, colormap, contrast limits (+ auto from the server's percentiles), gamma,
// opacity, blending, interpolation; in 3D the rendering mode, iso threshold, attenuation.
import type { Json } from "../protocol/envelope.js";
import type { ClientStreamLoop } from "../client/stream_loop.js";
import { h, options, trackDragging } from "./dom.js";

export const COLORMAPS = ["gray", "green", "magenta", "cyan", "red", "blue", "yellow", "viridis", "magma", "inferno", "turbo", "label"];
export const BLENDINGS = ["translucent", "additive", "minimum", "opaque"];
export const INTERPOLATIONS = ["nearest", "linear"];
export const RENDERINGS = ["mip", "minip", "average", "attenuated_mip", "iso", "translucent", "additive"];

const pair = (v: Json): [number, number] | null =>
  Array.isArray(v) && v.length === 2 && typeof v[0] === "number" && typeof v[1] === "number" ? [v[0], v[1]] : null;

interface Slider {
  input: HTMLInputElement;
  lo: number;
  hi: number;
}

export class LayerPanel {
  readonly el = h("div", { id: "layers" });
  readonly list = h("ul", { id: "layer-list" });
  selected = "";
  #ids = "";
  readonly colormap = h("select", { id: "colormap" });
  readonly blending = h("select", { id: "blending" });
  readonly interpolation = h("select", { id: "interpolation" });
  readonly rendering = h("select", { id: "rendering" });
  readonly contrastLo = h("input", { type: "range", id: "contrast-lo", min: 0, max: 1000, step: 1 });
  readonly contrastHi = h("input", { type: "range", id: "contrast-hi", min: 0, max: 1000, step: 1 });
  readonly contrastText = h("span", { id: "contrast-text" });
  readonly auto = h("button", { id: "auto-contrast", title: "contrast limits from the 0.5 and 99.5 percentiles of what the layer shows now" }, "auto");
  readonly gamma: Slider = { input: h("input", { type: "range", id: "gamma", min: 0, max: 100, step: 1 }), lo: 0.2, hi: 2 };
  readonly opacity: Slider = { input: h("input", { type: "range", id: "opacity", min: 0, max: 100, step: 1 }), lo: 0, hi: 1 };
  readonly iso: Slider = { input: h("input", { type: "range", id: "iso_threshold", min: 0, max: 200, step: 1 }), lo: 0, hi: 1 };
  readonly attenuation: Slider = { input: h("input", { type: "range", id: "attenuation", min: 0, max: 100, step: 1 }), lo: 0, hi: 0.5 };
  readonly threeD = h("div", { id: "layer-3d" });
  #range: [number, number] = [0, 1];

  constructor(private readonly loop: ClientStreamLoop, private readonly say: (m: string) => void) {
    options(this.colormap, COLORMAPS);
    options(this.blending, BLENDINGS);
    options(this.interpolation, INTERPOLATIONS);
    options(this.rendering, RENDERINGS);
    const row = (label: string, ...c: Array<Node | string>) => h("label", { class: "row" }, h("span", {}, label), ...c);
    this.threeD.append(row("rendering", this.rendering), row("iso threshold", this.iso.input), row("attenuation", this.attenuation.input));
    this.el.append(
      h("h2", {}, "layers"), this.list,
      row("colormap", this.colormap),
      row("contrast", h("span", { class: "stack" }, this.contrastLo, this.contrastHi), this.auto),
      h("div", { class: "row sub" }, this.contrastText),
      row("gamma", this.gamma.input), row("opacity", this.opacity.input),
      row("blending", this.blending), row("interpolation", this.interpolation),
      this.threeD,
    );
    for (const [sel, key] of [[this.colormap, "colormap"], [this.blending, "blending"], [this.interpolation, "interpolation"], [this.rendering, "rendering"]] as const)
      sel.addEventListener("change", () => this.#send(key, sel.value));
    for (const [s, key] of [[this.gamma, "gamma"], [this.opacity, "opacity"], [this.iso, "iso_threshold"], [this.attenuation, "attenuation"]] as const) {
      trackDragging(s.input);
      s.input.addEventListener("input", () => this.#send(key, s.lo + ((s.hi - s.lo) * Number(s.input.value)) / Number(s.input.max)));
    }
    for (const c of [this.contrastLo, this.contrastHi]) {
      trackDragging(c);
      c.addEventListener("input", () => {
        let lo = this.#fromTick(Number(this.contrastLo.value)), hi = this.#fromTick(Number(this.contrastHi.value));
        if (lo > hi) [lo, hi] = c === this.contrastLo ? [hi, hi] : [lo, lo];
        this.#send("contrast_limits", [lo, hi]);
      });
    }
    this.auto.addEventListener("click", () => void this.#autoContrast());
  }

  #fromTick(t: number): number {
    return this.#range[0] + ((this.#range[1] - this.#range[0]) * t) / 1000;
  }
  #toTick(v: number): number {
    const span = this.#range[1] - this.#range[0];
    return span > 0 ? Math.round(((v - this.#range[0]) / span) * 1000) : 0;
  }

  #send(key: string, value: Json): void {
    if (this.selected) this.loop.setProperty("layer", this.selected, key, value);
  }

  async #autoContrast(): Promise<void> {
    if (!this.selected) return;
    this.auto.disabled = true;
    const r = await this.loop.call("napari.auto_contrast", { layer: this.selected }, 15000);
    this.auto.disabled = false;
    const limits = r.ok && r.result && typeof r.result === "object" && !Array.isArray(r.result) ? pair(r.result.contrast_limits ?? null) : null;
    if (limits) this.loop.setProperty("layer", this.selected, "contrast_limits", limits);
    else this.say(`auto contrast: ${r.message || "no limits in the reply"}${r.code ? ` (${r.code})` : ""}`);
  }

  update(): void {
    const m = this.loop.mirror;
    const ids = JSON.stringify(m.layers.map((l) => [l.id, l.name]));
    if (ids !== this.#ids) {
      this.#ids = ids;
      if (!m.layers.some((l) => l.id === this.selected)) this.selected = m.layers[0]?.id ?? "";
      this.list.replaceChildren(...m.layers.map((l) => {
        const box = h("input", { type: "checkbox", class: "visible", title: "visible", "data-layer": l.id });
        box.addEventListener("change", () => this.loop.setProperty("layer", l.id, "visible", box.checked));
        const li = h("li", { "data-layer": l.id }, box, h("span", { class: "name" }, l.name || l.id));
        li.addEventListener("click", (ev) => {
          if (ev.target === box) return;
          this.selected = l.id;
          this.update();
        });
        return li;
      }));
    }
    for (const li of this.list.children) {
      const id = (li as HTMLElement).dataset.layer!;
      li.classList.toggle("selected", id === this.selected);
      const v = this.loop.displayed(`layer:${id}:visible`);
      (li.querySelector("input") as HTMLInputElement).checked = v !== false;
    }
    const layer = m.layers.find((l) => l.id === this.selected);
    this.el.classList.toggle("disabled", !layer);
    this.threeD.hidden = m.ndisplay !== 3;
    if (!layer) return;
    const get = (key: string) => this.loop.displayed(`layer:${layer.id}:${key}`);
    for (const [sel, key] of [[this.colormap, "colormap"], [this.blending, "blending"], [this.interpolation, "interpolation"], [this.rendering, "rendering"]] as const) {
      const v = get(key);
      if (typeof v === "string" && document.activeElement !== sel && sel.value !== v) sel.value = v;
    }
    const range = pair(layer.metadata.contrast_range ?? null);
    if (range) {
      this.#range = range;
      this.iso.lo = range[0];
      this.iso.hi = range[1];
    }
    const limits = pair(get("contrast_limits"));
    if (limits) {
      if (this.contrastLo.dataset.dragging !== "1") this.contrastLo.value = String(this.#toTick(limits[0]));
      if (this.contrastHi.dataset.dragging !== "1") this.contrastHi.value = String(this.#toTick(limits[1]));
      this.contrastText.textContent = `${Number(limits[0].toPrecision(5))} – ${Number(limits[1].toPrecision(5))}`;
    }
    for (const [s, key] of [[this.gamma, "gamma"], [this.opacity, "opacity"], [this.iso, "iso_threshold"], [this.attenuation, "attenuation"]] as const) {
      const v = get(key);
      if (typeof v === "number" && s.input.dataset.dragging !== "1" && s.hi > s.lo)
        s.input.value = String(Math.round(((v - s.lo) / (s.hi - s.lo)) * Number(s.input.max)));
    }
  }
}

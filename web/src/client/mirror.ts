// The client's copy of the server's scene, built only from notify frames
// (src/client/mirror.cpp). A frame whose payload does not validate changes nothing.
import { isObject, type Envelope, type Json, type JsonObject } from "../protocol/envelope.js";
import {
  parseNotifyCamera, parseNotifyDims, parseNotifyLayers, parseNotifyScene, parseNotifyStream, type NotifyStream,
} from "../protocol/messages.js";

export interface LayerMirror {
  id: string;
  name: string;
  controls: JsonObject;
  metadata: JsonObject; // contrast_range, dtype, labels
}

export interface ClientMirror {
  haveScene: boolean;
  axisLabels: string[];
  shape: number[];
  currentStep: number[];
  order: number[];
  scale: number[];
  units: string[];
  metadata: JsonObject; // source, renderer, encoder
  ndisplay: number;
  camera: JsonObject;
  layers: LayerMirror[];
  stream: NotifyStream | null;
  resumeTokens: Map<string, string>;
}

export const makeMirror = (): ClientMirror => ({
  haveScene: false,
  axisLabels: [],
  shape: [],
  currentStep: [],
  order: [],
  scale: [],
  units: [],
  metadata: {},
  ndisplay: 2,
  camera: {},
  layers: [],
  stream: null,
  resumeTokens: new Map(),
});

export const cloneMirror = (m: ClientMirror): ClientMirror => structuredClone(m);

export type MirrorChange = "none" | "scene" | "dims" | "camera" | "layers" | "stream" | "invalid";

const nums = (v: Json | undefined): number[] | null =>
  Array.isArray(v) && v.every((x) => typeof x === "number") ? (v as number[]) : null;

function applyScene(m: ClientMirror, payload: JsonObject): boolean {
  const s = parseNotifyScene(payload);
  if (!s.ok) return false;
  const dims = isObject(s.value.viewer.dims) ? s.value.viewer.dims : {};
  const labels = dims.axis_labels ?? [];
  if (!Array.isArray(labels) || !labels.every((x) => typeof x === "string")) return false;
  const step = nums(dims.current_step ?? []), order = nums(dims.order ?? []), scale = nums(dims.scale ?? []);
  const shapes = dims.level_shapes ?? [];
  if (!step || !order || !scale || !Array.isArray(shapes) || !shapes.every((x) => nums(x))) return false;
  const ndisplay = dims.ndisplay ?? 2;
  if (typeof ndisplay !== "number") return false;
  const layers: LayerMirror[] = [];
  let units: string[] = [];
  for (const l of s.value.layers) {
    if (!isObject(l)) return false;
    const id = typeof l.layer_id === "string" ? l.layer_id : "";
    layers.push({
      id,
      name: typeof l.name === "string" ? l.name : id,
      controls: isObject(l.controls) ? l.controls : {},
      metadata: isObject(l.metadata) ? l.metadata : {},
    });
    if (units.length === 0 && Array.isArray(l.units)) units = l.units.map((u) => (typeof u === "string" ? u : ""));
  }
  m.haveScene = true;
  m.axisLabels = labels as string[];
  m.currentStep = step;
  m.order = order;
  m.scale = scale;
  m.units = units;
  m.metadata = s.value.metadata;
  m.ndisplay = ndisplay;
  m.shape = shapes.length > 0 ? (shapes[0] as number[]) : [];
  m.camera = isObject(s.value.viewer.camera) ? s.value.viewer.camera : {};
  m.layers = layers;
  return true;
}

function rememberCursor(m: ClientMirror, e: Envelope): void {
  if (e.delta_token !== undefined) m.resumeTokens.set(e.type, e.delta_token);
}

export function applyNotify(m: ClientMirror, e: Envelope): MirrorChange {
  switch (e.type) {
    case "notify.scene":
      if (!applyScene(m, e.payload)) return "invalid";
      rememberCursor(m, e);
      return "scene";
    case "notify.dims": {
      const d = parseNotifyDims(e.payload);
      if (!d.ok) return "invalid";
      m.currentStep = d.value.current_step;
      m.ndisplay = d.value.ndisplay;
      if (d.value.axis_labels.length > 0) m.axisLabels = d.value.axis_labels;
      if (d.value.order.length > 0) m.order = d.value.order;
      if (d.value.level_shapes.length > 0) m.shape = d.value.level_shapes[0]!;
      return "dims";
    }
    case "notify.camera": {
      const c = parseNotifyCamera(e.payload);
      if (!c.ok) return "invalid";
      if (c.value.state) m.camera = c.value.state;
      return "camera";
    }
    case "notify.layers": {
      const l = parseNotifyLayers(e.payload);
      if (!l.ok) return "invalid";
      rememberCursor(m, e);
      const at = m.layers.findIndex((x) => x.id === l.value.layer_id);
      if (l.value.removed) {
        if (at >= 0) m.layers.splice(at, 1);
        return "layers";
      }
      let layer = m.layers[at];
      if (!layer) m.layers.push((layer = { id: l.value.layer_id, name: l.value.layer_id, controls: {}, metadata: {} }));
      Object.assign(layer.controls, l.value.controls ?? {});
      Object.assign(layer.metadata, l.value.metadata ?? {});
      return "layers";
    }
    case "notify.stream": {
      const s = parseNotifyStream(e.payload);
      if (!s.ok) return "invalid";
      rememberCursor(m, e);
      m.stream = s.value;
      return "stream";
    }
  }
  return "none";
}

// The sliders: every axis of `order` but the last ndisplay.
export function sliderAxes(m: ClientMirror): number[] {
  let order = m.order;
  if (order.length !== m.axisLabels.length) order = m.axisLabels.map((_, i) => i);
  const nd = Math.min(3, Math.max(2, m.ndisplay));
  return order.length <= nd ? [] : order.slice(0, order.length - nd);
}

// state.updates that bring a new session back to the view the user had (same dataset only).
export interface StateUpdate {
  scope: string;
  target: string;
  key: string;
  value: Json;
}

export function restoreUpdates(before: ClientMirror, now: ClientMirror): StateUpdate[] {
  const out: StateUpdate[] = [];
  const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
  if (!before.haveScene || !same(before.axisLabels, now.axisLabels) || !same(before.shape, now.shape)) return out;
  if (before.ndisplay !== now.ndisplay) out.push({ scope: "view", target: "main", key: "ndisplay", value: before.ndisplay });
  before.currentStep.forEach((v, a) => {
    if (a < now.currentStep.length && now.currentStep[a] !== v)
      out.push({ scope: "dims", target: before.axisLabels[a]!, key: "index", value: v });
  });
  if (!same(before.camera, now.camera)) {
    const pose: JsonObject = {};
    for (const k of ["center", "zoom", "angles", "distance", "fov"]) if (before.camera[k] !== undefined) pose[k] = before.camera[k]!;
    if (Object.keys(pose).length > 0) out.push({ scope: "camera", target: "main", key: "set", value: pose });
  }
  for (const l of before.layers) {
    const n = now.layers.find((x) => x.id === l.id);
    if (!n) continue;
    for (const [key, value] of Object.entries(l.controls))
      if (!same(n.controls[key], value)) out.push({ scope: "layer", target: l.id, key, value });
  }
  return out;
}

// Mouse input to camera poses without the DOM (apps/viewer/camera_control.cpp): the page
// keeps its own copy of the camera while the user drags or wheels, applies each event
// with the renderer's camera maths (src/render/camera2d.cpp, camera3d.cpp) and sends the
// whole pose as camera:main:set (throttled per property). Idle, the copy follows the server.
import { isObject, type JsonObject } from "../protocol/envelope.js";

export type Vec3 = [number, number, number];

export interface LocalCamera {
  valid: boolean;
  ndisplay: number;
  width: number; // video size the pixels refer to
  height: number;
  center2: [number, number];
  zoom2: number;
  center3: Vec3;
  azimuth: number;
  elevation: number;
  roll: number;
  distance: number;
  fov: number;
  zoom3: number;
}

export const makeCamera = (): LocalCamera => ({
  valid: false, ndisplay: 2, width: 0, height: 0, center2: [0, 0], zoom2: 1,
  center3: [0, 0, 0], azimuth: 0, elevation: 0, roll: 0, distance: 1, fov: 0, zoom3: 1,
});

const ZOOM_PER_STEP = 1.25; // one wheel notch
const DEGREES_PER_PIXEL = 0.4; // orbit speed

const nums = (v: unknown, n: number): number[] | null =>
  Array.isArray(v) && v.length === n && v.every((x) => typeof x === "number") ? (v as number[]) : null;

// Reads the server's pose (notify.camera / the baseline); false when it is not one.
export function cameraFromPose(pose: unknown, ndisplay: number, width: number, height: number, c: LocalCamera): boolean {
  if (!isObject(pose)) return false;
  if (ndisplay === 3) {
    const center = nums(pose.center, 3);
    if (!center) return false;
    c.center3 = center as Vec3;
    const angles = nums(pose.angles, 3);
    if (angles) [c.azimuth, c.elevation, c.roll] = angles as Vec3;
    if (typeof pose.distance === "number") c.distance = pose.distance;
    if (typeof pose.fov === "number") c.fov = pose.fov;
    if (typeof pose.zoom === "number") c.zoom3 = pose.zoom;
  } else {
    const center = nums(pose.center, 2);
    if (!center || typeof pose.zoom !== "number") return false;
    c.center2 = center as [number, number];
    c.zoom2 = pose.zoom;
  }
  c.ndisplay = ndisplay;
  c.width = width;
  c.height = height;
  c.valid = true;
  return true;
}

export function poseOf(c: LocalCamera): JsonObject {
  if (c.ndisplay === 3)
    return { center: [...c.center3], angles: [c.azimuth, c.elevation, c.roll], distance: c.distance, fov: c.fov, zoom: c.zoom3 };
  return { center: [...c.center2], zoom: c.zoom2 };
}

const rad = (d: number) => (d * Math.PI) / 180;
const add = (a: Vec3, b: Vec3): Vec3 => [a[0] + b[0], a[1] + b[1], a[2] + b[2]];
const mul = (a: Vec3, s: number): Vec3 => [a[0] * s, a[1] * s, a[2] * s];
function rotate(v: Vec3, k: Vec3, a: number): Vec3 {
  const c = Math.cos(a), s = Math.sin(a);
  const kxv: Vec3 = [k[1] * v[2] - k[2] * v[1], k[2] * v[0] - k[0] * v[2], k[0] * v[1] - k[1] * v[0]];
  const kdv = k[0] * v[0] + k[1] * v[1] + k[2] * v[2];
  return [0, 1, 2].map((i) => v[i]! * c + kxv[i]! * s + k[i]! * kdv * (1 - c)) as Vec3;
}

// Screen axes in world space: elevation tilts about the screen's horizontal, azimuth
// turns about world -y (up on screen), roll spins about the view direction.
export function cameraBasis(c: LocalCamera): { right: Vec3; down: Vec3; forward: Vec3 } {
  let right: Vec3 = [1, 0, 0], down: Vec3 = [0, 1, 0], forward: Vec3 = [0, 0, 1];
  const el = rad(c.elevation), az = rad(c.azimuth), ro = rad(c.roll);
  down = rotate(down, right, el);
  forward = rotate(forward, right, el);
  const up: Vec3 = [0, -1, 0];
  right = rotate(right, up, az);
  down = rotate(down, up, az);
  forward = rotate(forward, up, az);
  right = rotate(right, forward, ro);
  down = rotate(down, forward, ro);
  return { right, down, forward };
}

// Wheel `steps` (> 0 zooms in) about (ax, ay) in video pixels from the top-left.
export function wheelZoom(c: LocalCamera, steps: number, ax: number, ay: number): void {
  if (!c.valid || steps === 0) return;
  const factor = Math.pow(ZOOM_PER_STEP, -steps); // VisPy: factor < 1 zooms in
  if (c.ndisplay === 3) {
    if (c.fov > 0) c.distance = Math.max(1e-6, c.distance * factor);
    c.zoom3 /= factor;
    return;
  }
  // The world point under the anchor stays put.
  const wx = c.center2[0] + (ax - c.width * 0.5) / c.zoom2;
  const wy = c.center2[1] + (ay - c.height * 0.5) / c.zoom2;
  c.zoom2 /= factor;
  c.center2 = [wx + (c.center2[0] - wx) * factor, wy + (c.center2[1] - wy) * factor];
}

// World point under (px, py) video pixels in 2D.
export const worldAt = (c: LocalCamera, px: number, py: number): [number, number] =>
  [c.center2[0] + (px - c.width * 0.5) / c.zoom2, c.center2[1] + (py - c.height * 0.5) / c.zoom2];

// A drag by (dx, dy) video pixels: 2D pans (the content follows the pointer); 3D orbits,
// or pans with `pan` (shift).
export function drag(c: LocalCamera, dx: number, dy: number, pan: boolean): void {
  if (!c.valid) return;
  if (c.ndisplay !== 3) {
    c.center2 = [c.center2[0] - dx / c.zoom2, c.center2[1] - dy / c.zoom2];
    return;
  }
  if (pan) {
    const b = cameraBasis(c);
    const s = c.fov <= 0 ? 1 / c.zoom3 : (2 * c.distance * Math.tan(rad(c.fov) * 0.5)) / c.height;
    c.center3 = add(c.center3, add(mul(b.right, -dx * s), mul(b.down, -dy * s)));
    return;
  }
  c.azimuth = (c.azimuth + dx * DEGREES_PER_PIXEL) % 360;
  c.elevation = Math.min(89, Math.max(-89, c.elevation - dy * DEGREES_PER_PIXEL));
}

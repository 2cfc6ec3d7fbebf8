import { test } from "node:test";
import assert from "node:assert/strict";
import { cameraFromPose, drag, makeCamera, poseOf, wheelZoom, worldAt } from "../src/ui/camera.js";
import { rejectMessage, takeToken, TOKEN_KEY } from "../src/ui/token.js";
import { positionText } from "../src/ui/dims_panel.js";
import { parseListing } from "../src/ui/dialogs.js";
import { residencyText } from "../src/ui/residency.js";

test("wheel zoom keeps the world point under the cursor; drags pan 2D and orbit 3D", () => {
  const c = makeCamera();
  assert.ok(cameraFromPose({ center: [255.5, 255.5], zoom: 2 }, 2, 1920, 1080, c));
  const before = worldAt(c, 300, 200);
  wheelZoom(c, 1, 300, 200);
  assert.ok(c.zoom2 > 2);
  const after = worldAt(c, 300, 200);
  assert.ok(Math.abs(after[0] - before[0]) < 1e-9 && Math.abs(after[1] - before[1]) < 1e-9);
  const center = [...c.center2];
  drag(c, 10, -4, false);
  assert.ok(c.center2[0] < center[0]! && c.center2[1] > center[1]!, "the content follows the pointer");
  assert.deepEqual(Object.keys(poseOf(c)), ["center", "zoom"]);

  const c3 = makeCamera();
  assert.equal(cameraFromPose({ center: [1, 2] }, 3, 100, 100, c3), false, "a 3D pose needs a 3D centre");
  assert.ok(cameraFromPose({ center: [1, 2, 3], angles: [0, 0, 0], distance: 10, fov: 0, zoom: 1 }, 3, 100, 100, c3));
  drag(c3, 50, 1000, false);
  assert.equal(c3.azimuth, 20);
  assert.equal(c3.elevation, -89, "elevation clamps");
  drag(c3, 10, 0, true);
  assert.notDeepEqual(c3.center3, [1, 2, 3], "shift-drag pans");
  wheelZoom(c3, 1, 0, 0);
  assert.ok(c3.zoom3 > 1);
});

test("the token moves from the URL into session storage and leaves the address bar", () => {
  const store = new Map<string, string>();
  const storage = { getItem: (k: string) => store.get(k) ?? null, setItem: (k: string, v: string) => void store.set(k, v), removeItem: (k: string) => void store.delete(k) };
  let replaced = "";
  const t = takeToken({ href: "http://127.0.0.1:8081/?token=abc123&x=1#view", storage, replaceUrl: (u) => (replaced = u) });
  assert.equal(t, "abc123");
  assert.equal(store.get(TOKEN_KEY), "abc123");
  assert.equal(replaced, "/?x=1#view");
  replaced = "";
  assert.equal(takeToken({ href: "http://127.0.0.1:8081/", storage, replaceUrl: (u) => (replaced = u) }), "abc123", "a reload keeps it");
  assert.equal(replaced, "", "nothing to remove");
  takeToken({ href: "http://127.0.0.1:8081/?token=", storage, replaceUrl: (u) => (replaced = u) });
  assert.equal(replaced, "/");
  assert.match(rejectMessage("unauthorized", "invalid token", true), /did not accept this token/);
  assert.match(rejectMessage("unauthorized", "needs a token", false), /needs a token/);
  assert.match(rejectMessage("protocol_mismatch", "server requires protocol 2", true), /protocol 2/);
});

test("dims positions in physical units; listings from fs.listdir", () => {
  assert.equal(positionText(3, 63, 1, ""), "3 / 63");
  assert.equal(positionText(3, 63, 2.5, "micrometer"), "3 / 63  ·  7.5 µm");
  const l = parseListing({ path: ".", entries: [{ name: "a.zarr", path: "a.zarr", is_dir: true, zarr_metadata: {} }, { name: "sub", path: "sub", is_dir: true }, 5] });
  assert.equal(l.path, "");
  assert.deepEqual(l.entries.map((e) => [e.name, e.dataset, e.dir]), [["a.zarr", true, true], ["sub", false, true]]);
  assert.deepEqual(parseListing(null).entries, []);
});

test("the brick residency badge: levels drawn and bricks loading, hidden (\"\") for 2D or a volume drawn whole", () => {
  assert.equal(residencyText(0, 0), "", "2D, or a volume drawn whole");
  assert.equal(residencyText(0, 321), "", "no levels drawn: hidden whatever loads");
  assert.equal(residencyText(0b1, 0), "3D L0 · all resident");
  assert.equal(residencyText(0b11, 321), "3D L0 L1 · 321 bricks loading");
  assert.equal(residencyText(0b101, 1), "3D L0 L2 · 1 bricks loading", "as the Qt viewer words it");
  assert.equal(residencyText(0b1100, 0), "3D L2 L3 · all resident", "coarse levels only");
  assert.equal(residencyText(0x8000, 4294967295), "3D L15 · 4294967295 bricks loading", "the top bit of the u16, the largest u32");
  assert.equal(residencyText(0xffff, 0), `3D ${Array.from({ length: 16 }, (_, l) => `L${l}`).join(" ")} · all resident`);
});

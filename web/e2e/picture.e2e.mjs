// The page against a real server: the picture, the controls, the lease accounting.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { canvasColour, difference, frameSignature, framesPresented, launchBrowser, missing, openPage, psnrAgainstStill, Server, sleep, until, writeZarr } from "./harness.mjs";

const why = missing();
if (why) console.log(`voxcast-e2e: skipped: ${why}`);
let server, browser, page, errors;

before(async () => {
  if (why) return;
  const dataRoot = fs.mkdtempSync("/tmp/voxcast-e2e-data-");
  writeZarr(dataRoot, "tiny.zarr");
  server = await new Server({ dataRoot }).start();
  server.dataRootDir = dataRoot;
  browser = await launchBrowser();
  ({ page, errors } = await openPage(browser.context, server.url));
});

after(async () => {
  await browser?.close();
  await server?.stop();
  if (server?.dataRootDir) fs.rmSync(server.dataRootDir, { recursive: true, force: true });
});

const t = (name, fn) => test(name, { skip: why || false }, fn);
const loopState = () => page.evaluate(() => window.__voxcast.loop.loop.phase);

t("the page shows the server's picture (PSNR ≥ 30 dB against its still of the same view); the token left the address bar", async () => {
  await until("the first picture", async () => (await framesPresented(page)) > 0, 20000);
  assert.equal(await loopState(), "streaming");
  assert.ok(!page.url().includes("token="), `address bar: ${page.url()}`);
  assert.equal(await page.evaluate(() => sessionStorage.getItem("voxcast.token")), server.token);
  await sleep(800); // idle: the refined still frame arrives
  const r = await psnrAgainstStill(page);
  assert.ok(!r.error, r.error);
  console.log(`picture: PSNR ${r.psnr.toFixed(1)} dB at ${r.width}x${r.height}`);
  assert.ok(r.psnr >= 30, `PSNR ${r.psnr}`);
  const status = await page.textContent("#status-link");
  assert.equal(status, "streaming");
});

t("a slider step (→) changes the image and the step shown", async () => {
  const before = await frameSignature(page);
  const text = await page.textContent("#position-z");
  const n = await framesPresented(page);
  await page.locator("#canvas").focus();
  await page.keyboard.press("ArrowRight");
  await page.keyboard.press("ArrowRight");
  await page.keyboard.press("ArrowRight");
  await until("the step shown", async () => (await page.textContent("#position-z")) !== text);
  await until("a new frame", async () => (await framesPresented(page)) > n);
  await sleep(400);
  const z = await page.evaluate(() => { const m = window.__voxcast.loop.mirror; return m.currentStep[m.axisLabels.indexOf("z")]; });
  const shown = await page.textContent("#position-z");
  assert.match(shown, new RegExp(`^${z} / 31`), `${shown} vs the server's z ${z}`);
  assert.ok(difference(before, await frameSignature(page)) > 0.5, "the image changed");
});

t("a colormap change changes the hue", async () => {
  const current = await page.inputValue("#colormap");
  const target = current === "green" ? "magenta" : "green";
  const c0 = await canvasColour(page);
  const n = await framesPresented(page);
  await page.selectOption("#colormap", target);
  await until("a new frame", async () => (await framesPresented(page)) > n);
  await sleep(400);
  const c1 = await canvasColour(page);
  const greenness = (c) => c[1] - (c[0] + c[2]) / 2;
  console.log(`colormap ${current} → ${target}: mean RGB ${c0.map((x) => x.toFixed(1))} → ${c1.map((x) => x.toFixed(1))}`);
  if (target === "green") assert.ok(greenness(c1) > greenness(c0) + 1 && c1[0] < c1[1], `${c0} → ${c1}`);
  else assert.ok(greenness(c1) < greenness(c0) - 1, `${c0} → ${c1}`);
  assert.equal(await page.evaluate(() => window.__voxcast.loop.displayed("layer:" + window.__voxcast.layers.selected + ":colormap")), target);
});

t("wheel zoom about the cursor: the world point under it stays put", async () => {
  const box = await page.locator("#canvas").boundingBox();
  const at = { x: box.x + box.width * 0.3, y: box.y + box.height * 0.35 };
  const world = () => page.evaluate(([x, y]) => {
    const v = window.__voxcast;
    const r = v.view.canvas.getBoundingClientRect();
    const [vx, vy] = v.view.toVideo(x - r.left, y - r.top);
    const cam = v.loop.mirror.camera;
    return { zoom: cam.zoom, wx: cam.center[0] + (vx - v.view.videoWidth / 2) / cam.zoom, wy: cam.center[1] + (vy - v.view.videoHeight / 2) / cam.zoom };
  }, [at.x, at.y]);
  const w0 = await world();
  await page.mouse.move(at.x, at.y);
  await page.mouse.wheel(0, -200);
  await until("the zoomed camera from the server", async () => (await world()).zoom > w0.zoom * 1.3);
  await sleep(300);
  const w1 = await world();
  const tol = 2 / w1.zoom; // two video pixels
  assert.ok(Math.abs(w1.wx - w0.wx) < tol && Math.abs(w1.wy - w0.wy) < tol, `${JSON.stringify(w0)} → ${JSON.stringify(w1)}`);
  await page.dblclick("#canvas"); // reset
  await until("the reset camera", async () => (await world()).zoom < w1.zoom);
});

t("Ctrl+Y switches to 3D; a drag orbits", async () => {
  await page.locator("#canvas").focus();
  await page.keyboard.press("Control+y");
  await until("3D", () => page.evaluate(() => window.__voxcast.loop.mirror.ndisplay === 3));
  await until("the 3D controls", async () => !(await page.locator("#layer-3d").isHidden()));
  assert.equal(await page.textContent("#toggle-3d"), "2D");
  await sleep(500);
  const before = await frameSignature(page);
  const angles0 = await page.evaluate(() => window.__voxcast.loop.mirror.camera.angles);
  const box = await page.locator("#canvas").boundingBox();
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  await page.mouse.down();
  for (let i = 1; i <= 10; i++) await page.mouse.move(box.x + box.width / 2 + i * 12, box.y + box.height / 2 + i * 3);
  await page.mouse.up();
  await until("the orbited camera", () => page.evaluate((a0) => JSON.stringify(window.__voxcast.loop.mirror.camera.angles) !== JSON.stringify(a0), angles0));
  await sleep(600);
  const angles1 = await page.evaluate(() => window.__voxcast.loop.mirror.camera.angles);
  assert.ok(Math.abs(angles1[0] - (angles0?.[0] ?? 0)) > 5, `azimuth ${angles0} → ${angles1}`);
  assert.ok(difference(before, await frameSignature(page)) > 0.5, "the 3D image changed");
  await page.selectOption("#rendering", "attenuated_mip");
  await until("rendering confirmed", () => page.evaluate(() => window.__voxcast.loop.mirror.layers[0].controls.rendering === "attenuated_mip"));
  await page.keyboard.press("Control+y");
  await until("2D again", () => page.evaluate(() => window.__voxcast.loop.mirror.ndisplay === 2));
});

t("a screenshot downloads as PNG", async () => {
  const [download] = await Promise.all([page.waitForEvent("download", { timeout: 60000 }), page.click("#screenshot")]);
  const file = await download.path();
  const png = fs.readFileSync(file);
  assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  assert.match(download.suggestedFilename(), /^voxcast-screenshot-.*\.png$/);
  assert.ok(png.length > 1000);
});

t("600 frames with no VideoFrame left open", async () => {
  const start = await page.evaluate(() => window.__voxcast.loop.metrics.framesDecoded);
  // Scrub z back and forth at 60 Hz until 600 more frames were decoded.
  await page.evaluate(async (from) => {
    const v = window.__voxcast;
    let z = 0, dir = 1;
    const end = Date.now() + 150000;
    while (v.loop.metrics.framesDecoded - from < 600 && Date.now() < end) {
      z += dir;
      if (z >= 31 || z <= 0) dir = -dir;
      v.loop.setDimsIndex("z", z);
      await new Promise((r) => setTimeout(r, 1000 / 60));
    }
  }, start);
  const s = await page.evaluate(() => ({ decoded: window.__voxcast.loop.metrics.framesDecoded, live: window.__voxcast.liveLeases(), leases: { ...window.__voxcast.leases }, closes: { ...window.__frameCloses } }));
  console.log(`frames: ${JSON.stringify(s)}`);
  assert.ok(s.decoded - start >= 600, `${s.decoded - start} frames decoded`);
  assert.ok(s.live <= 9, `${s.live} frames open while streaming (shown + presenter queue)`);
  assert.equal(s.leases.doubleReleases, 0);
  assert.equal(s.closes.doubleCloses, 0, "no VideoFrame closed twice");
  assert.equal(s.closes.closes, s.leases.closed, "every close went through a lease");
});

t("open a dataset from the data root", async () => {
  await page.click("#open");
  // Counted before the switch: the new dataset's frames may all arrive before its slider.
  const n = await framesPresented(page);
  await page.locator('#open-dialog li[data-path="tiny.zarr"]').click();
  await until("the new dataset", () => page.evaluate(() => JSON.stringify(window.__voxcast.loop.mirror.shape) === "[8,64,96]"), 30000);
  await until("its slider", async () => (await page.getAttribute("#dims-z", "max")) === "7");
  assert.equal(await page.locator("#open-dialog").isVisible(), false);
  await until("a frame of it", async () => (await framesPresented(page)) > n);
});

t("no errors in the browser console; stop() closes every frame", async () => {
  assert.deepEqual(errors, []);
  const live = await page.evaluate(() => {
    window.__voxcast.loop.stop();
    return window.__voxcast.liveLeases();
  });
  assert.equal(live, 0);
});

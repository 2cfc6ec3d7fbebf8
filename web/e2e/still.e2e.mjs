// Exact stills against a real server: the page asks for them, shows the server's lossless
// render once the view rests — bit for bit the server's own render (its napari.screenshot
// of the same view) and the PNG on the wire (decoded here, not by the browser) — and goes
// back to video as soon as the view moves.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import { framesPresented, launchBrowser, missing, openPage, Server, sleep, until, writeZarr } from "./harness.mjs";
import { decodePng } from "./png.mjs";

const why = missing();
if (why) console.log(`voxcast-e2e: skipped: ${why}`);
let server, browser, page, errors, dataRoot;
let pixelUrl = "";
const wire = []; // the last stills seen on the pixel socket: { seq, sceneVersion, png }

before(async () => {
  if (why) return;
  dataRoot = fs.mkdtempSync("/tmp/voxcast-e2e-data-");
  const zarr = writeZarr(dataRoot, "tiny.zarr", [8, 64, 96]);
  server = await new Server({ dataset: zarr, dataRoot }).start();
  browser = await launchBrowser();
  const listen = (p) => p.on("websocket", (ws) => {
    if (!ws.url().includes("/pixel")) return;
    pixelUrl = ws.url();
    ws.on("framereceived", ({ payload }) => {
      if (typeof payload === "string" || payload.length < 24 + 16 + 8 || payload[20] !== 16) return;
      wire.push({ seq: payload.readUInt32BE(0), sceneVersion: Number(payload.readBigUInt64BE(24)), png: Buffer.from(payload.subarray(40)) });
      if (wire.length > 16) wire.shift();
    });
  });
  ({ page, errors } = await openPage(browser.context, server.url, { beforeGoto: listen }));
});

after(async () => {
  await browser?.close();
  await server?.stop();
  if (dataRoot) fs.rmSync(dataRoot, { recursive: true, force: true });
});

const t = (name, fn) => test(name, { skip: why || false }, fn);
const still = () => page.evaluate(() => {
  const s = window.__voxcast.still();
  return { quality: s.quality, stills: s.stills, stale: s.stale, invalid: s.invalid, hidden: s.hiddenFrames, lastError: s.lastError, last: s.last };
});
const zIndex = () => page.evaluate(() => { const m = window.__voxcast.loop.mirror; return m.currentStep[m.axisLabels.indexOf("z")]; });

t("the page asks for stills and shows one once the view rests; the status line says exact", async () => {
  await until("the first picture", async () => (await framesPresented(page)) > 0, 20000);
  assert.match(pixelUrl, /[?&]still=png(&|$)/, pixelUrl);
  assert.equal(await page.evaluate(() => window.__voxcast.loop.loop.exactStill), true, "the welcome enabled stills");
  await until("an exact still", async () => (await still()).quality === "exact", 20000);
  assert.equal(await page.textContent("#status-quality"), "exact");
});

t("motion stops: the exact still of the new view, bit for bit the server's render and the PNG it sent", async () => {
  const before = await still();
  // A short scrub; it ends on another plane than it started.
  const z0 = await zIndex();
  const path = z0 >= 4 ? [z0 - 1, z0 - 2, z0 - 3] : [z0 + 1, z0 + 2, z0 + 3];
  for (const z of path) {
    await page.evaluate((z) => window.__voxcast.loop.setDimsIndex("z", z), z);
    await sleep(40);
  }
  const last = await until("the last step acked", () => page.evaluate(() => {
    const i = window.__voxcast.loop.intents.at(-1);
    return i && i.ackedMs > 0 && i.accepted ? { sentMs: i.sentMs, version: i.version } : null;
  }), 5000, 10);
  const s = await until("the exact still of the new view", async () => {
    const s = await still();
    return s.quality === "exact" && s.stills > before.stills && s.last.sceneVersion >= last.version ? s : null;
  }, 10000, 5);
  const l = s.last;
  console.log(`motion stop → exact still: ${(l.presentedMs - last.sentMs).toFixed(0)} ms (last video frame → still ${l.videoToStillMs.toFixed(0)} ms; ` +
    `server render ${l.renderMs.toFixed(1)} ms, PNG ${l.pngMs.toFixed(1)} ms, ${l.bytes} bytes, ${l.width}x${l.height}; ` +
    `video frames hidden under stills ${s.hidden}, stale stills ${s.stale})`);
  assert.equal(await page.textContent("#status-quality"), "exact");

  // In the page: the still as drawn for the view, against napari.screenshot of the same view
  // decoded the same way (no colour conversion).
  const r = await page.evaluate(async () => {
    const v = window.__voxcast;
    const img = v.grabStill();
    const st = v.still().last;
    const shot = await v.loop.call("napari.screenshot", { scale: 1 }, 60000);
    if (!img || !shot.ok) return { error: shot.message || "no still shown" };
    const bytes = Uint8Array.from(atob(shot.result.data), (c) => c.charCodeAt(0));
    const bmp = await createImageBitmap(new Blob([bytes], { type: "image/png" }), { colorSpaceConversion: "none", premultiplyAlpha: "none" });
    const c = new OffscreenCanvas(bmp.width, bmp.height).getContext("2d");
    c.drawImage(bmp, 0, 0);
    const ref = c.getImageData(0, 0, bmp.width, bmp.height).data;
    const rgb = new Uint8Array(img.width * img.height * 3);
    let differ = 0, maxDiff = 0;
    for (let i = 0, j = 0; i < img.data.length; i += 4, j += 3) {
      let d = 0;
      for (let k = 0; k < 3; k++) {
        rgb[j + k] = img.data[i + k];
        d = Math.max(d, Math.abs(img.data[i + k] - (ref[i + k] ?? 0)));
      }
      if (d > 0) differ += 1;
      maxDiff = Math.max(maxDiff, d);
    }
    let bin = "";
    for (let i = 0; i < rgb.length; i += 0x8000) bin += String.fromCharCode(...rgb.subarray(i, i + 0x8000));
    return {
      width: img.width, height: img.height, shotWidth: bmp.width, shotHeight: bmp.height, shotVersion: shot.result.version,
      stillVersion: st.sceneVersion, stillSeq: st.seq, differ, maxDiff, rgb: btoa(bin), shot: shot.result.data,
    };
  });
  assert.ok(!r.error, r.error);
  assert.deepEqual([r.width, r.height], [r.shotWidth, r.shotHeight], "the screenshot is the stream's size");
  assert.deepEqual([r.width, r.height], [l.width, l.height]);
  assert.equal(r.shotVersion, r.stillVersion, "the screenshot is of the still's scene");
  console.log(`still ${r.width}x${r.height} (scene ${r.stillVersion}) vs napari.screenshot: ${r.differ} pixels differ, max ${r.maxDiff}`);
  assert.equal(r.differ, 0, "the page's still is the server's render, bit for bit");

  // In node, without the browser's decoder: the PNG that came on the wire and the screenshot's.
  const sent = wire.find((w) => w.seq === r.stillSeq);
  assert.ok(sent, `the still (seq ${r.stillSeq}) seen on the pixel socket`);
  assert.equal(sent.sceneVersion, r.stillVersion);
  const onWire = decodePng(sent.png), shot = decodePng(Buffer.from(r.shot, "base64"));
  assert.deepEqual([onWire.width, onWire.height], [r.width, r.height]);
  assert.ok(Buffer.from(r.rgb, "base64").equals(onWire.rgb), "the page shows the PNG it received, byte for byte");
  assert.ok(onWire.rgb.equals(shot.rgb), "the still sent is the server's screenshot render, byte for byte");
});

t("motion goes back to video within 1 s, then to the next exact still", async () => {
  await until("an exact still", async () => (await still()).quality === "exact", 10000);
  const z = await zIndex();
  const r = await page.evaluate(async (target) => {
    const v = window.__voxcast;
    const n = v.loop.metrics.framesPresented;
    const t0 = performance.now();
    v.loop.setDimsIndex("z", target);
    while (performance.now() - t0 < 3000) {
      const q = v.still().quality;
      if (q !== "exact" && v.loop.metrics.framesPresented > n) return { ms: performance.now() - t0, quality: q };
      await new Promise((r) => setTimeout(r, 5));
    }
    return { ms: Infinity, quality: v.still().quality };
  }, z > 0 ? z - 1 : z + 1);
  console.log(`motion → video: ${r.ms.toFixed(0)} ms (${r.quality})`);
  assert.ok(r.ms <= 1000, `${r.ms} ms`);
  assert.ok(r.quality === "lossy" || r.quality === "partial", r.quality);
  await until("the next exact still", async () => (await still()).quality === "exact", 10000);
});

t("every still and VideoFrame closed once; nothing garbled; no console errors", async () => {
  const s = await still();
  assert.equal(s.invalid, 0, s.lastError);
  const acct = await page.evaluate(() => ({ still: { ...window.__voxcast.stillLeases }, video: { ...window.__voxcast.leases }, closes: { ...window.__frameCloses } }));
  assert.ok(acct.still.created - acct.still.closed <= 1, `${JSON.stringify(acct.still)}: only the still shown is open`);
  assert.equal(acct.still.doubleReleases, 0);
  assert.equal(acct.closes.doubleCloses, 0);
  assert.equal(acct.closes.closes, acct.video.closed, "every VideoFrame close went through a lease");
  assert.deepEqual(errors, []);
  const live = await page.evaluate(() => {
    window.__voxcast.loop.stop();
    const a = window.__voxcast.stillLeases;
    return { video: window.__voxcast.liveLeases(), still: a.created - a.closed };
  });
  assert.deepEqual(live, { video: 0, still: 0 });
});

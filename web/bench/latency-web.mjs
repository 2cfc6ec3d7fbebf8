// The browser half of `voxcast-bench latency-web`: headless Chromium opens the page a
// running voxcast-server serves, waits for the first picture, then sends N dims steps
// at a fixed rate from inside the page (as a user's slider would) and reports, from the
// client core's own records: intent → presented frame (p50/p95/p99: from sending the
// state.update to drawing the first frame whose SEI scene version is at least the ack's),
// frames presented per second while scrubbing, decode time, and the time from opening
// the page to its first picture. Prints one JSON object.
// Usage: node latency-web.mjs --url URL [--steps 300] [--rate 60] [--axis z] [--viewport 1920x1080]
import { launchBrowser, missing } from "../e2e/harness.mjs";

const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
};
const url = opt("--url");
const steps = Number(opt("--steps", "300"));
const rate = Number(opt("--rate", "60"));
const axis = opt("--axis", "");
const [vw, vh] = opt("--viewport", "1920x1080").split("x").map(Number);
if (!url) {
  console.error("usage: latency-web.mjs --url URL [--steps N] [--rate HZ]");
  process.exit(2);
}
const why = missing();
if (why.startsWith("no Chromium")) {
  console.log(JSON.stringify({ error: why }));
  process.exit(3);
}

const browser = await launchBrowser({ width: vw, height: vh });
const page = await browser.context.newPage();
const errors = [];
page.on("pageerror", (e) => errors.push(String(e)));
const opened = Date.now();
await page.goto(url);
await page.waitForFunction(() => window.__voxcast && window.__voxcast.loop.metrics.framesPresented > 0, null, { timeout: 30000 });
// performance.now() of the first picture vs the navigation's start, both in the page's clock.
const firstPictureMs = await page.evaluate(() => window.__voxcast.loop.metrics.firstPictureMs);
const pageOpenMs = Date.now() - opened;
await page.waitForTimeout(300);

const result = await page.evaluate(async ({ steps, rate, axis }) => {
  const v = window.__voxcast;
  const loop = v.loop;
  const m = loop.mirror;
  const sliders = m.order.slice(0, Math.max(0, m.order.length - m.ndisplay));
  const a = axis ? m.axisLabels.indexOf(axis) : sliders[sliders.length - 1];
  const label = m.axisLabels[a];
  const depth = m.shape[a];
  let z = m.currentStep[a], dir = 1;
  const firstIntent = loop.intents.length;
  const framesBefore = loop.metrics.framesPresented;
  const decodeBefore = loop.metrics.decodeMs.samples.length;
  const t0 = performance.now();
  for (let i = 0; i < steps; i++) {
    const due = t0 + (i * 1000) / rate;
    while (performance.now() < due) await new Promise((r) => setTimeout(r, Math.max(0, due - performance.now() - 1)));
    if (z + dir < 0 || z + dir >= depth) dir = -dir;
    z += dir;
    loop.sendState("dims", label, "index", z); // what the slider's leading edge sends
  }
  const t1 = performance.now();
  const framesDuring = loop.metrics.framesPresented - framesBefore;
  await new Promise((r) => setTimeout(r, 700));
  const mine = loop.intents.slice(firstIntent).filter((i) => i.property === `dims:${label}:index`);
  const lat = mine.filter((i) => i.presentedMs > 0).map((i) => i.presentedMs - i.sentMs).sort((x, y) => x - y);
  const pct = (s, q) => (s.length ? s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))] : 0);
  const dec = loop.metrics.decodeMs.samples.slice(decodeBefore).sort((x, y) => x - y);
  // Where the time goes, per answered intent (page clock; the server's capture time is on
  // the wall clock, which the page shares with the server on this machine).
  const stage = (f) => mine.filter((i) => i.presentedMs > 0 && i.answeredBy).map(f).sort((x, y) => x - y);
  const origin = performance.timeOrigin;
  const stages = {
    sent_to_ack: stage((i) => i.ackedMs - i.sentMs),
    sent_to_capture: stage((i) => i.answeredBy.serverMs - origin - i.sentMs),
    capture_to_received: stage((i) => i.answeredBy.receivedMs - (i.answeredBy.serverMs - origin)),
    received_to_decoded: stage((i) => i.answeredBy.decodedMs - i.answeredBy.receivedMs),
    decoded_to_presented: stage((i) => i.presentedMs - i.answeredBy.decodedMs),
  };
  const stage_ms = Object.fromEntries(Object.entries(stages).map(([k, s]) => [k, { p50: pct(s, 0.5), p95: pct(s, 0.95) }]));
  return {
    axis: label,
    steps,
    rate_hz: rate,
    seconds: (t1 - t0) / 1000,
    frames: framesDuring,
    fps: framesDuring / ((t1 - t0) / 1000),
    answered: lat.length,
    unanswered: mine.length - lat.length,
    latency_ms: { p50: pct(lat, 0.5), p95: pct(lat, 0.95), p99: pct(lat, 0.99) },
    decode_ms: { p50: pct(dec, 0.5), p95: pct(dec, 0.95) },
    decoder: loop.media.name,
    video: [v.view.videoWidth, v.view.videoHeight],
    live_leases: v.liveLeases(),
    stage_ms,
    receipts: loop.loop.receipts,
  };
}, { steps, rate, axis });
await browser.close();
console.log(JSON.stringify({ ...result, first_picture_ms: firstPictureMs, page_open_to_picture_ms: pageOpenMs, page_errors: errors }));

// End-to-end harness: a real voxcast-server on 127.0.0.1 (ports chosen at run time) and
// headless Chromium (Debian's, driven by playwright-core) opening the page it serves.
import { spawn } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";

export const CHROMIUM = process.env.VOXCAST_CHROMIUM || "/usr/bin/chromium";
export const SERVER = process.env.VOXCAST_SERVER || path.resolve(new URL(".", import.meta.url).pathname, "../../build/bin/voxcast-server");
export const WEB_ROOT = process.env.VOXCAST_WEB_ROOT || "";

// Why the e2e tests cannot run here ("" when they can); ctest reads the line as a skip.
export function missing() {
  if (!fs.existsSync(CHROMIUM)) return `no Chromium at ${CHROMIUM} (scripts/setup.sh installs Debian's chromium)`;
  if (!fs.existsSync(SERVER)) return `no voxcast-server at ${SERVER}`;
  return "";
}

export async function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export async function until(what, fn, timeoutMs = 15000, stepMs = 50) {
  const end = Date.now() + timeoutMs;
  let last;
  while (Date.now() < end) {
    last = await fn();
    if (last) return last;
    await sleep(stepMs);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last: ${JSON.stringify(last)})`);
}

// A tiny OME-Zarr (NGFF 0.4, Zarr v2, uncompressed u16) with a gradient and a bright square.
export function writeZarr(dir, name, [z, y, x] = [8, 64, 96]) {
  const root = path.join(dir, name);
  fs.mkdirSync(path.join(root, "0"), { recursive: true });
  fs.writeFileSync(path.join(root, ".zgroup"), JSON.stringify({ zarr_format: 2 }));
  fs.writeFileSync(path.join(root, ".zattrs"), JSON.stringify({
    multiscales: [{ version: "0.4", name, axes: ["z", "y", "x"].map((n) => ({ name: n, type: "space", unit: "micrometer" })),
      datasets: [{ path: "0", coordinateTransformations: [{ type: "scale", scale: [2, 0.5, 0.5] }] }] }],
  }));
  fs.writeFileSync(path.join(root, "0", ".zarray"), JSON.stringify({
    zarr_format: 2, shape: [z, y, x], chunks: [z, y, x], dtype: "<u2", compressor: null, fill_value: 0, order: "C", filters: null,
  }));
  const data = Buffer.alloc(z * y * x * 2);
  for (let k = 0; k < z; k++)
    for (let j = 0; j < y; j++)
      for (let i = 0; i < x; i++) {
        const square = i > x / 4 && i < x / 2 && j > y / 4 && j < y / 2;
        data.writeUInt16LE(square ? 4000 : Math.round((i / x) * 1000 + k * 100), ((k * y + j) * x + i) * 2);
      }
  fs.writeFileSync(path.join(root, "0", "0.0.0"), data);
  return root;
}

// One voxcast-server process; restart() brings it back on the same ports and token.
export class Server {
  constructor({ dataset = "synthetic:1x32x256x256", size = "640x384", token = crypto.randomBytes(12).toString("hex"), dataRoot = "", extra = [] } = {}) {
    Object.assign(this, { dataset, size, token, dataRoot, extra });
    this.tmp = fs.mkdtempSync(path.join(os.tmpdir(), "voxcast-e2e-"));
    this.log = [];
  }

  async start() {
    if (!this.controlPort) {
      this.controlPort = await freePort();
      this.pixelPort = await freePort();
    }
    const conn = path.join(this.tmp, "connection.txt");
    fs.rmSync(conn, { force: true });
    const args = [this.dataset, "--host", "127.0.0.1", "--control-port", String(this.controlPort), "--pixel-port", String(this.pixelPort),
      "--token", this.token, "--size", this.size, "--connection-file", conn, "--log-level", "warn", ...this.extra];
    if (this.dataRoot) args.push("--data-root", this.dataRoot);
    if (WEB_ROOT) args.push("--web-root", WEB_ROOT);
    this.proc = spawn(SERVER, args, { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ASAN_OPTIONS: process.env.ASAN_OPTIONS || "detect_leaks=0" } });
    const keep = (d) => {
      this.log.push(String(d));
      if (this.log.length > 200) this.log.shift();
    };
    this.proc.stdout.on("data", keep);
    this.proc.stderr.on("data", keep);
    const exited = new Promise((r) => this.proc.once("exit", (code) => r(code)));
    this.exited = exited;
    const t0 = Date.now();
    while (!fs.existsSync(conn) || fs.readFileSync(conn, "utf8").trim() === "") {
      if (this.proc.exitCode !== null) throw new Error(`voxcast-server exited (${this.proc.exitCode}): ${this.log.join("")}`);
      if (Date.now() - t0 > 30000) throw new Error(`voxcast-server did not start: ${this.log.join("")}`);
      await sleep(25);
    }
    this.readyAt = Date.now();
    return this;
  }

  get origin() {
    return `http://127.0.0.1:${this.controlPort}`;
  }
  get url() {
    return `${this.origin}/?token=${this.token}`;
  }

  async kill(signal = "SIGKILL") {
    if (!this.proc || this.proc.exitCode !== null) return;
    this.proc.kill(signal);
    await this.exited;
  }

  async restart() {
    await this.kill();
    return this.start();
  }

  async stop() {
    if (this.proc && this.proc.exitCode === null) {
      this.proc.kill("SIGINT");
      const t = setTimeout(() => this.proc.kill("SIGKILL"), 5000);
      await this.exited;
      clearTimeout(t);
    }
    fs.rmSync(this.tmp, { recursive: true, force: true });
  }
}

export async function launchBrowser(viewport = { width: 1280, height: 800 }) {
  const { chromium } = await import("playwright-core");
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), "voxcast-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    acceptDownloads: true,
    viewport,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
      "--disable-component-update", "--disable-sync"],
  });
  return {
    context,
    async close() {
      await context.close();
      fs.rmSync(profile, { recursive: true, force: true });
    },
  };
}

// A page with its console errors collected and VideoFrame.close() counted per frame;
// beforeGoto(page) runs before it loads (to listen to its WebSockets).
export async function openPage(context, url, { beforeGoto } = {}) {
  const page = await context.newPage();
  beforeGoto?.(page);
  const errors = [];
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(m.text());
  });
  page.on("pageerror", (e) => errors.push(String(e)));
  await page.addInitScript(() => {
    const seen = new WeakSet();
    const counts = { closes: 0, doubleCloses: 0 };
    window.__frameCloses = counts;
    const close = VideoFrame.prototype.close;
    VideoFrame.prototype.close = function () {
      if (seen.has(this)) counts.doubleCloses += 1;
      else counts.closes += 1;
      seen.add(this);
      return close.call(this);
    };
  });
  await page.goto(url);
  return { page, errors };
}

// PSNR (dB) of the shown video frame against the server's still render of the same view.
export async function psnrAgainstStill(page) {
  return page.evaluate(async () => {
    const v = window.__voxcast;
    const frame = v.grab();
    const r = await v.loop.call("napari.screenshot", { scale: 1 }, 60000);
    if (!frame || !r.ok) return { error: r.message || "no frame" };
    const bin = atob(r.result.data);
    const bytes = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    const bmp = await createImageBitmap(new Blob([bytes], { type: "image/png" }));
    if (bmp.width !== frame.width || bmp.height !== frame.height) return { error: `sizes differ: ${bmp.width}x${bmp.height} vs ${frame.width}x${frame.height}` };
    const c = new OffscreenCanvas(bmp.width, bmp.height).getContext("2d");
    c.drawImage(bmp, 0, 0);
    const still = c.getImageData(0, 0, bmp.width, bmp.height).data;
    let se = 0, n = 0;
    for (let i = 0; i < still.length; i += 4)
      for (let k = 0; k < 3; k++) {
        const d = still[i + k] - frame.data[i + k];
        se += d * d;
        n += 1;
      }
    const mse = se / n;
    return { psnr: mse === 0 ? 99 : 10 * Math.log10((255 * 255) / mse), width: frame.width, height: frame.height };
  });
}

// Mean R, G, B of the display canvas (what the user sees).
export async function canvasColour(page) {
  return page.evaluate(() => {
    const c = document.getElementById("canvas");
    const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
    const s = [0, 0, 0];
    for (let i = 0; i < d.length; i += 4) for (let k = 0; k < 3; k++) s[k] += d[i + k];
    const n = d.length / 4;
    return s.map((x) => x / n);
  });
}

// Mean absolute difference between two grabs of the video frame (0..255).
export async function frameSignature(page) {
  return page.evaluate(() => {
    const f = window.__voxcast.grab();
    if (!f) return null;
    const out = [];
    const step = Math.max(1, Math.floor(f.data.length / 4 / 4096));
    for (let i = 0; i < f.data.length / 4; i += step) out.push(f.data[i * 4], f.data[i * 4 + 1], f.data[i * 4 + 2]);
    return out;
  });
}
export const difference = (a, b) => a.reduce((s, x, i) => s + Math.abs(x - b[i]), 0) / a.length;

export async function framesPresented(page) {
  return page.evaluate(() => window.__voxcast.loop.metrics.framesPresented);
}

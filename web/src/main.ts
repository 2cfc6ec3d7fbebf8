// The page: token from the URL, the client core on this page's own origin (control on
// ws(s)://host/, pixels on ws(s)://host/pixel), the canvas, napari's controls, status.
import { ClientStreamLoop, defaultConfig, type SocketLike } from "./client/stream_loop.js";
import { liveLeases, pageLeases } from "./client/frame_lease.js";
import { webCodecsBackend } from "./client/media.js";
import { percentile } from "./client/metrics.js";
import { imageBitmapDecoder, stillLeases, type PictureQuality } from "./client/still.js";
import { cameraFromPose, drag, makeCamera, poseOf, wheelZoom } from "./ui/camera.js";
import { downloadScreenshot, OpenDialog } from "./ui/dialogs.js";
import { DimsPanel } from "./ui/dims_panel.js";
import { h } from "./ui/dom.js";
import { LayerPanel } from "./ui/layer_panel.js";
import { residencyText } from "./ui/residency.js";
import { forgetToken, rejectMessage, takeToken, type TokenPlace } from "./ui/token.js";
import { VideoView } from "./ui/view.js";

const place: TokenPlace = { href: location.href, storage: sessionStorage, replaceUrl: (u) => history.replaceState(null, "", u) };
const token = takeToken(place);
const app = document.getElementById("app")!;
app.replaceChildren();

function fatal(text: string): void {
  app.replaceChildren(h("div", { id: "fatal" }, h("h1", {}, "voxcast"), h("p", {}, text)));
}

const backend = webCodecsBackend();
if (!backend) {
  fatal(isSecureContext
    ? "This browser has no WebCodecs video decoder (VideoDecoder). Use a current Chrome, Edge, Safari (16.4+) or Firefox (130+)."
    : "WebCodecs needs a secure context: open this page as https://…, or through http://127.0.0.1 / http://localhost (an SSH tunnel, see the README).");
  throw new Error("no WebCodecs");
}

const ws = location.protocol === "https:" ? "wss:" : "ws:";
const config = defaultConfig(`${ws}//${location.host}/`, `${ws}//${location.host}/pixel${token ? `?token=${encodeURIComponent(token)}` : ""}`, token);

// ---- layout ----------------------------------------------------------------------
const toasts = h("div", { id: "toasts" });
function say(message: string, severity = "warning"): void {
  const t = h("div", { class: `toast ${severity}`, role: "alert" }, message);
  t.addEventListener("click", () => t.remove());
  toasts.append(t);
  while (toasts.children.length > 5) toasts.firstElementChild!.remove();
  setTimeout(() => t.remove(), 10000);
}

let view: VideoView;
const loop = new ClientStreamLoop(config, (url) => new WebSocket(url) as unknown as SocketLike, backend, {
  onChange: () => scheduleRefresh(),
  onFrame: (lease) => {
    view.show(lease);
    showQuality();
  },
  onUserError: (m, severity) => say(m, severity),
}, imageBitmapDecoder());

const stage = h("section", { id: "stage" });
view = new VideoView(stage);
const banner = h("div", { id: "banner", hidden: true });
const message = h("div", { id: "message", hidden: true });
stage.append(banner, message);
const dims = new DimsPanel(loop);
const layers = new LayerPanel(loop, say);
const openDialog = new OpenDialog(loop);
const scale = h("select", { id: "screenshot-scale", title: "screenshot size" }, h("option", { value: "1" }, "1×"), h("option", { value: "2" }, "2×"), h("option", { value: "4" }, "4×"));
const button = (id: string, label: string, title: string, fn: () => void) => {
  const b = h("button", { id, title }, label);
  b.addEventListener("click", fn);
  return b;
};
const ndButton = button("toggle-3d", "3D", "toggle 2D / 3D (Ctrl+Y)", () => toggleNdisplay());
const toolbar = h("header", { id: "toolbar" },
  h("span", { class: "brand" }, "voxcast"),
  button("open", "Open…", "open a dataset on the server", () => openDialog.open()),
  button("screenshot", "Screenshot", "save the server's still render of this view as PNG (Ctrl+Alt+S)", () => void shoot()), scale,
  ndButton,
  button("reset", "Reset view", "reset the camera (double-click)", () => loop.sendState("camera", "main", "reset", "menu")));
const statusLink = h("span", { id: "status-link" });
const statusQuality = h("span", { id: "status-quality", title: "exact: the server's lossless render · partial: coarser data stands in while loading · lossy: video" });
const statusResidency = h("span", { id: "status-residency", hidden: true, title: "3D bricks: the pyramid levels the picture sampled (L0: full resolution), and the wanted bricks not yet resident" });
const statusRates = h("span", { id: "status-rates" });
const statusServer = h("span", { id: "status-server" });
const status = h("footer", { id: "status" }, statusLink, statusQuality, statusResidency, statusRates, statusServer);
app.append(toolbar, h("main", {}, layers.el, h("div", { class: "center" }, stage, dims.el)), status, openDialog.el, toasts);

async function shoot(): Promise<void> {
  if (await downloadScreenshot(loop, Number(scale.value), say)) say("screenshot saved (the server's still render)", "info");
}

// ---- camera input ------------------------------------------------------------------
const camera = makeCamera();
let interactingUntil = 0;
function sendCamera(): void {
  if (!camera.valid) return;
  interactingUntil = performance.now() + 500;
  loop.setProperty("camera", "main", "set", poseOf(camera));
}
function toggleNdisplay(): void {
  loop.sendState("view", "main", "ndisplay", loop.mirror.ndisplay === 3 ? 2 : 3);
  camera.valid = false; // the next pose comes from the server's camera of that mode
}
const canvas = view.canvas;
canvas.addEventListener("wheel", (ev) => {
  ev.preventDefault();
  const r = canvas.getBoundingClientRect();
  const [vx, vy] = view.toVideo(ev.clientX - r.left, ev.clientY - r.top);
  const steps = -ev.deltaY / (ev.deltaMode === 1 ? 3 : 100);
  wheelZoom(camera, steps, vx, vy);
  sendCamera();
}, { passive: false });
let dragFrom: [number, number] | null = null;
canvas.addEventListener("pointerdown", (ev) => {
  if (ev.button !== 0) return;
  canvas.setPointerCapture(ev.pointerId);
  dragFrom = [ev.clientX, ev.clientY];
});
canvas.addEventListener("pointermove", (ev) => {
  if (!dragFrom) return;
  const k = view.videoPerCss();
  const dx = (ev.clientX - dragFrom[0]) * k, dy = (ev.clientY - dragFrom[1]) * k;
  dragFrom = [ev.clientX, ev.clientY];
  if (dx === 0 && dy === 0) return;
  drag(camera, dx, dy, ev.shiftKey);
  sendCamera();
});
const endDrag = () => (dragFrom = null);
canvas.addEventListener("pointerup", endDrag);
canvas.addEventListener("pointercancel", endDrag);
canvas.addEventListener("dblclick", () => {
  loop.sendState("camera", "main", "reset", "double_click");
  camera.valid = false;
});

document.addEventListener("keydown", (ev) => {
  const target = ev.target as HTMLElement;
  const typing = target instanceof HTMLInputElement || target instanceof HTMLSelectElement || target instanceof HTMLTextAreaElement;
  if ((ev.ctrlKey || ev.metaKey) && ev.key.toLowerCase() === "y") {
    ev.preventDefault();
    toggleNdisplay();
  } else if ((ev.ctrlKey || ev.metaKey) && ev.altKey && ev.key.toLowerCase() === "s") {
    ev.preventDefault();
    void shoot();
  } else if (!typing && (ev.key === "ArrowLeft" || ev.key === "ArrowRight")) {
    // napari: the arrow keys step the current dims slider.
    ev.preventDefault();
    dims.step(ev.key === "ArrowLeft" ? -1 : 1);
  }
});

// ---- refresh -------------------------------------------------------------------------
let refreshQueued = false;
function scheduleRefresh(): void {
  if (refreshQueued) return;
  refreshQueued = true;
  requestAnimationFrame(refresh);
  setTimeout(refresh, 100); // also when animation frames are paused (a hidden tab)
}
function refresh(): void {
  if (!refreshQueued) return;
  refreshQueued = false;
  const m = loop.mirror;
  const s = loop.loop;
  if (s.phase === "rejected") {
    if (s.rejectCode === "unauthorized") forgetToken(place);
    message.textContent = rejectMessage(s.rejectCode, s.lastError, token !== "");
    message.hidden = false;
  }
  const down = s.phase === "reconnecting" || s.phase === "pixel reconnecting" || (s.phase === "connecting" && s.reconnectAttempts > 0);
  banner.hidden = !down;
  if (down) banner.textContent = `${s.phase === "connecting" ? "Cannot reach the server" : "Connection lost"} — reconnecting… ${s.lastError ? `(${s.lastError})` : ""}`;
  if (!m.haveScene) return;
  dims.update();
  layers.update();
  ndButton.textContent = m.ndisplay === 3 ? "2D" : "3D";
  // The local camera follows the server's while the user is not steering it.
  if (view.videoWidth > 0 && (performance.now() > interactingUntil || !camera.valid || camera.ndisplay !== m.ndisplay))
    cameraFromPose(m.camera, m.ndisplay, view.videoWidth, view.videoHeight, camera);
}

let shownQuality: PictureQuality = "none";
function showQuality(): void {
  const q = loop.stills.state.quality;
  if (q === shownQuality) return;
  shownQuality = q;
  statusQuality.textContent = q === "none" ? "" : q;
  statusQuality.className = q;
}

// The last video frame presented: which pyramid levels it drew, how many bricks still load.
function showResidency(): void {
  const f = loop.lastFrame;
  const text = f ? residencyText(f.levels_drawn, f.bricks_loading) : "";
  if (statusResidency.textContent === text) return;
  statusResidency.textContent = text;
  statusResidency.hidden = text === "";
  statusResidency.className = f && f.bricks_loading > 0 ? "loading" : "resident";
}

let lastBytes = 0, lastStatusMs = 0;
function refreshStatus(): void {
  const mt = loop.metrics;
  const s = loop.loop;
  const now = performance.now();
  const mbit = lastStatusMs > 0 ? ((mt.bytes - lastBytes) * 8) / 1000 / (now - lastStatusMs) : 0;
  lastBytes = mt.bytes;
  lastStatusMs = now;
  const interval = percentile(mt.frameIntervalMs, 0.5);
  statusLink.textContent = s.phase + (s.tls ? " · tls" : "");
  statusLink.className = s.phase === "streaming" ? "up" : "down";
  showResidency();
  statusRates.textContent = `${(interval > 0 && now - mt.lastPresentMs < 1000 ? 1000 / interval : 0).toFixed(1)} fps · intent→frame ${percentile(mt.intentToFrameMs, 0.5).toFixed(1)} ms · decode ${percentile(mt.decodeMs, 0.5).toFixed(1)} ms · ${mbit.toFixed(2)} Mbit/s · ${loop.media.name}`;
  const md = loop.mirror.metadata;
  statusServer.textContent = `server: render ${typeof md.renderer === "string" ? md.renderer : "?"} · encode ${typeof md.encoder === "string" ? md.encoder : "?"}`;
}
setInterval(refreshStatus, 250);
scheduleRefresh();

// For tests and the benchmark: the core, the lease accounting and the shown frame.
(window as unknown as Record<string, unknown>).__voxcast = {
  loop,
  view,
  leases: pageLeases,
  liveLeases: () => liveLeases(pageLeases),
  stillLeases,
  still: () => loop.stills.state, // quality, stills, last {sceneVersion, width, height, receivedMs, videoToStillMs, ...}
  residency: () => ({ // of the last video frame presented (loop.lastFrame), and the status text shown for it
    levels_drawn: loop.lastFrame?.levels_drawn ?? 0,
    bricks_loading: loop.lastFrame?.bricks_loading ?? 0,
    text: statusResidency.hidden ? "" : statusResidency.textContent,
  }),
  grab: () => view.grab(),
  grabStill: () => (loop.stills.state.quality === "exact" ? view.grab() : null), // the still's RGBA, native size
  camera,
  dims,
  layers,
};

loop.connect();
addEventListener("pagehide", () => loop.stop());

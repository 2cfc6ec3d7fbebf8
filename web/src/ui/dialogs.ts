// Open a dataset on the server (fs.listdir → napari.load_zarr, with progress) and save a
// screenshot (napari.screenshot → PNG download), as the desktop viewer's File menu.
import { isObject, type Json } from "../protocol/envelope.js";
import { base64ToBytes } from "../protocol/pixel.js";
import type { ClientStreamLoop } from "../client/stream_loop.js";
import { h } from "./dom.js";

interface Entry {
  name: string;
  path: string;
  dir: boolean;
  dataset: boolean;
}

export function parseListing(result: Json): { path: string; entries: Entry[] } {
  const r = isObject(result) ? result : {};
  const entries = Array.isArray(r.entries) ? r.entries : [];
  const path = typeof r.path === "string" && r.path !== "." ? r.path : "";
  return {
    path,
    entries: entries.filter(isObject).map((e) => ({
      name: typeof e.name === "string" ? e.name : "?",
      path: typeof e.path === "string" ? e.path : "",
      dir: e.is_dir === true,
      dataset: isObject(e.zarr_metadata ?? null),
    })),
  };
}

export class OpenDialog {
  readonly el = h("dialog", { id: "open-dialog" });
  readonly #where = h("span", { class: "where" });
  readonly #list = h("ul", { class: "entries" });
  readonly #message = h("p", { class: "message", id: "open-message" });
  readonly #progress = h("progress", { id: "open-progress" });
  #path = "";
  #busy = false;

  constructor(private readonly loop: ClientStreamLoop) {
    const up = h("button", { id: "open-up" }, "up");
    up.addEventListener("click", () => void this.list(this.#path.includes("/") ? this.#path.slice(0, this.#path.lastIndexOf("/")) : ""));
    const close = h("button", { id: "open-close" }, "close");
    close.addEventListener("click", () => this.el.close());
    this.#progress.hidden = true;
    this.el.append(h("h2", {}, "Open a dataset on the server"), h("div", { class: "top" }, up, this.#where), this.#list, this.#message, this.#progress, h("div", { class: "buttons" }, close));
  }

  open(): void {
    if (!this.el.open) this.el.showModal();
    void this.list("");
  }

  async list(path: string): Promise<void> {
    const r = await this.loop.call("fs.listdir", path ? { path } : {}, 10000);
    this.#list.replaceChildren();
    if (!r.ok) {
      this.#message.textContent = `${r.message} (${r.code})`;
      return;
    }
    const listing = parseListing(r.result);
    this.#path = listing.path;
    this.#where.textContent = "/" + this.#path;
    this.#message.textContent = listing.entries.length === 0 ? "nothing to open here" : "";
    for (const e of listing.entries) {
      const li = h("li", { class: e.dataset ? "dataset" : e.dir ? "dir" : "file", "data-path": e.path }, e.name + (e.dataset ? "   (dataset)" : e.dir ? "/" : ""));
      li.addEventListener("click", () => void (e.dir && !e.dataset ? this.list(e.path) : this.load(e.path)));
      this.#list.append(li);
    }
  }

  async load(path: string): Promise<void> {
    if (this.#busy) return;
    this.#busy = true;
    this.#message.textContent = `opening ${path} …`;
    this.#progress.hidden = false;
    const r = await this.loop.call("napari.load_zarr", { path }, 120000);
    this.#busy = false;
    this.#progress.hidden = true;
    if (r.ok) {
      this.#message.textContent = "";
      this.el.close();
      return;
    }
    if (r.code === "zarr.disambiguate") {
      // A folder of datasets: offer them.
      this.#message.textContent = "this folder holds several datasets: pick one";
      const opts = Array.isArray(r.details.options) ? r.details.options : [];
      this.#list.replaceChildren(...opts.map((o) => {
        const p = typeof o === "string" ? o : isObject(o) && typeof o.path === "string" ? o.path : "";
        const li = h("li", { class: "dataset", "data-path": p }, p);
        li.addEventListener("click", () => void this.load(p));
        return li;
      }));
      return;
    }
    this.#message.textContent = `cannot open ${path}: ${r.message} (${r.code})`;
  }
}

// Asks the server for its still render of the view and hands the PNG to the browser as a download.
export async function downloadScreenshot(loop: ClientStreamLoop, scale: number, say: (m: string) => void): Promise<boolean> {
  const r = await loop.call("napari.screenshot", { scale }, 60000);
  const data = r.ok && isObject(r.result) && typeof r.result.data === "string" ? base64ToBytes(r.result.data) : null;
  if (!data) {
    say(`screenshot: ${r.ok ? "the reply holds no PNG" : `${r.message} (${r.code})`}`);
    return false;
  }
  const url = URL.createObjectURL(new Blob([data as BlobPart], { type: "image/png" }));
  const a = h("a", { href: url, download: `voxcast-screenshot-${new Date().toISOString().replace(/[:.]/g, "-")}.png` });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
  return true;
}

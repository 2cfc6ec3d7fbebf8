// A few DOM helpers: elements built from plain data, nothing else.
type Attrs = Record<string, string | number | boolean | undefined | ((ev: never) => void)>;

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Array<Node | string>): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    if (typeof v === "function") e.addEventListener(k.replace(/^on/, ""), v as EventListener);
    else if (k === "class") e.className = String(v);
    else if (k in e && typeof (e as unknown as Record<string, unknown>)[k] !== "function") (e as unknown as Record<string, unknown>)[k] = v;
    else e.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children) e.append(c);
  return e;
}

export function options(select: HTMLSelectElement, names: readonly string[]): void {
  select.replaceChildren(...names.map((n) => h("option", { value: n }, n)));
}

// Sets a control's value unless the user is holding it.
export function setIfIdle(input: HTMLInputElement | HTMLSelectElement, value: string): void {
  if (document.activeElement === input && input.dataset.dragging === "1") return;
  if (input.value !== value) input.value = value;
}

export function trackDragging(input: HTMLInputElement): void {
  input.addEventListener("pointerdown", () => (input.dataset.dragging = "1"));
  const up = () => (input.dataset.dragging = "0");
  input.addEventListener("pointerup", up);
  input.addEventListener("change", up);
}

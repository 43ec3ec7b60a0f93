// Small DOM helpers: elements are built with textContent only, so nothing an event carries
// is ever parsed as HTML.

/** `h("div", {class: "x", onclick}, child, "text", [more])` */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (key === "class") el.className = value;
    else if (key === "value") el.value = value;
    else el.setAttribute(key, value === true ? "" : value);
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replaces the children of `el`. */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

export function table(headers, rows, empty = "None.") {
  if (!rows.length) return h("p", { class: "muted" }, empty);
  return h(
    "table",
    {},
    h("thead", {}, h("tr", {}, headers.map((x) => h("th", {}, x)))),
    h("tbody", {}, rows),
  );
}

export function pretty(value) {
  if (typeof value === "string") {
    try {
      return JSON.stringify(JSON.parse(value), null, 2);
    } catch {
      return value;
    }
  }
  return JSON.stringify(value, null, 2);
}

export function code(value) {
  return h("pre", { class: "json" }, pretty(value));
}

/** An AWS timestamp (epoch seconds), epoch milliseconds or an RFC 3339 string. */
export function when(value, unit = "s") {
  if (value === undefined || value === null) return "—";
  const date = typeof value === "number" ? new Date(unit === "s" ? value * 1000 : value) : new Date(value);
  return Number.isNaN(date.getTime()) ? String(value) : date.toISOString().replace("T", " ").replace("Z", "");
}

export function bytes(n) {
  if (n === undefined || n === null) return "—";
  const units = ["B", "KiB", "MiB", "GiB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${i ? n.toFixed(1) : n} ${units[i]}`;
}

export function badge(text, kind = text) {
  return h("span", { class: `badge ${String(kind).toLowerCase()}` }, text);
}

export function link(href, text) {
  return h("a", { href }, text);
}

export function toast(message, kind = "error") {
  const el = document.getElementById("toast");
  fill(el, h("div", { class: kind }, message));
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => fill(el), 6000);
}

/** The value of a datetime-local input as epoch milliseconds (UTC), or undefined. */
export function inputTime(input) {
  if (!input.value) return undefined;
  const ms = Date.parse(`${input.value}Z`);
  return Number.isNaN(ms) ? undefined : ms;
}

/** Epoch milliseconds as a datetime-local input's value (UTC). */
export function timeInput(ms) {
  return new Date(ms).toISOString().slice(0, 19);
}

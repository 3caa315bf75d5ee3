/** Tiny DOM helpers (no framework: the page is a few panels). */

type Attrs = Record<string, string | number | boolean | undefined>;

/** `<tag attrs>children</tag>`; `class` and `data-*` are attributes, `on*` are not used. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    el.setAttribute(k, v === true ? '' : String(v));
  }
  el.append(...children);
  return el;
}

export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`no #${id}`);
  return el as T;
}

/** A `<select>` of `values` with `value` selected. */
export function select(values: readonly string[], value: string, attrs: Attrs = {}) {
  const s = h('select', attrs, ...values.map((v) => h('option', { value: v }, v)));
  s.value = value;
  return s;
}

export function button(label: string, onClick: () => void, attrs: Attrs = {}) {
  const b = h('button', { type: 'button', ...attrs }, label);
  b.addEventListener('click', onClick);
  return b;
}

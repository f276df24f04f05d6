// Small DOM and formatting helpers.

/** h creates an element: h('div.cls#id', {attrs, on: {click}}, children...). */
export function h(tag, attrs, ...children) {
  const m = tag.match(/^([a-z0-9]+)((?:[.#][\w-]+)*)$/i);
  const el = document.createElement(m ? m[1] : tag);
  if (m && m[2]) for (const part of m[2].match(/[.#][\w-]+/g)) {
    if (part[0] === '.') el.classList.add(part.slice(1)); else el.id = part.slice(1);
  }
  if (attrs && (typeof attrs !== 'object' || attrs instanceof Node || Array.isArray(attrs))) { children.unshift(attrs); attrs = null; }
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'on') for (const [ev, fn] of Object.entries(v)) el.addEventListener(ev, fn);
    else if (k === 'style' && typeof v === 'object') Object.assign(el.style, v);
    else if (k in el && typeof v !== 'string') el[k] = v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.appendChild(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

export function clear(el) { while (el.firstChild) el.removeChild(el.firstChild); return el; }

// colourOf lives in colors.js; re-exported for the modules that import it from here.
export { colourOf } from './colors.js';

export function debounce(fn, ms) {
  let t = null;
  const d = (...args) => { clearTimeout(t); t = setTimeout(() => { t = null; fn(...args); }, ms); };
  d.cancel = () => clearTimeout(t);
  return d;
}

export function fmtTime(ms) {
  if (!ms) return '—';
  const d = new Date(ms);
  const now = Date.now();
  const diff = (now - ms) / 1000;
  if (diff < 60) return 'just now';
  if (diff < 3600) return `${Math.floor(diff / 60)} min ago`;
  if (diff < 86400 && d.getDate() === new Date().getDate()) return d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  return d.toLocaleString([], { day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' });
}

export function toast(message, kind = 'info') {
  let box = document.getElementById('toasts');
  if (!box) { box = h('div#toasts', { role: 'status', 'aria-live': 'polite' }); document.body.appendChild(box); }
  const t = h('div.toast.' + kind, message);
  box.appendChild(t);
  // Errors stay longer, and while the pointer is on them (to read the details).
  let left = kind === 'error' ? 9000 : 4200;
  let timer = null;
  const arm = () => { timer = setTimeout(() => { t.classList.add('out'); setTimeout(() => t.remove(), 600); }, left); };
  t.addEventListener('mouseenter', () => { clearTimeout(timer); t.classList.remove('out'); });
  t.addEventListener('mouseleave', () => { left = 2500; arm(); });
  arm();
}

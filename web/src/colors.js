// Delegation colours. A room may hold 190 delegations, so a fixed palette of
// a dozen colours makes CHN, EGY and BRA look alike. Instead there are
// PALETTE_SIZE colours (hues a golden angle apart, in three lightness
// tiers, each dark enough for white text at WCAG AA, 4.5:1), and each
// delegation gets one of its own: its preferred colour (from a hash of its
// code, so it is usually the same on every screen) or, if another
// delegation seen on this page already has that one, the next free one.
// A delegation keeps its colour for the life of the page.

export const PALETTE_SIZE = 256;

function hslToRgb(hue, s, l) {
  const a = s * Math.min(l, 1 - l);
  const f = (n) => {
    const k = (n + hue / 30) % 12;
    return l - a * Math.max(-1, Math.min(k - 3, 9 - k, 1));
  };
  return [f(0), f(8), f(4)];
}

function channel(c) { return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; }

/** luminance is the WCAG relative luminance of an [r, g, b] colour (0..1 each). */
export function luminance([r, g, b]) { return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b); }

/** contrast is the WCAG contrast ratio of two colours. */
export function contrast(x, y) {
  const a = luminance(x); const b = luminance(y);
  return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
}

function hex(rgb) { return '#' + rgb.map((c) => Math.round(c * 255).toString(16).padStart(2, '0')).join(''); }

/** parseHex turns "#rrggbb" into [r, g, b] in 0..1. */
export function parseHex(s) { return [1, 3, 5].map((i) => parseInt(s.slice(i, i + 2), 16) / 255); }

function buildPalette() {
  const out = [];
  const tiers = [[0.62, 0.40], [0.50, 0.30], [0.75, 0.34]]; // [saturation, lightness]
  for (let i = 0; i < PALETTE_SIZE; i++) {
    const hue = (i * 137.50776) % 360;
    let [s, l] = tiers[i % 3];
    let rgb = hslToRgb(hue, s, l);
    // Yellows and greens are light at any given lightness: darken until
    // white text on them passes 4.5:1.
    while (contrast(rgb, [1, 1, 1]) < 4.5 && l > 0.05) { l -= 0.01; rgb = hslToRgb(hue, s, l); }
    out.push(hex(rgb));
  }
  return out;
}

export const PALETTE = buildPalette();

function hash(s) {
  let x = 2166136261;
  for (let i = 0; i < s.length; i++) x = Math.imul(x ^ s.charCodeAt(i), 16777619);
  return x >>> 0;
}

/**
 * Allocator hands out palette slots: a new key takes its preferred slot or
 * the next free one; keys keep their slot. Once every slot is taken, new
 * keys share (their preferred slot).
 */
export class Allocator {
  constructor(size = PALETTE_SIZE) { this.size = size; this.slots = new Map(); this.taken = new Set(); }

  slot(key) {
    let s = this.slots.get(key);
    if (s !== undefined) return s;
    s = hash(key) % this.size;
    if (this.taken.size < this.size) {
      // The next slot is a golden angle away in hue (or in another
      // lightness tier), so a moved newcomer still looks different.
      while (this.taken.has(s)) s = (s + 1) % this.size;
      this.taken.add(s);
    }
    this.slots.set(key, s);
    return s;
  }
}

const page = new Allocator();

/** colourOf gives delegation a colour distinct from every other delegation this page has shown, stable for the page's life. */
export function colourOf(delegation) { return PALETTE[page.slot(delegation || '?')]; }

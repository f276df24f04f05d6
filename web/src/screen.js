// The screen (projector) view's own chrome: nothing but the text, full
// width, in a type size the operator changes with + and − (kept on this
// device), a discreet corner with the exit (and, on hover, the size and
// who to follow), and a smooth scroll that keeps the followed cursor in
// the middle third of the screen.

import { EditorView } from '@codemirror/view';
import { h } from './util.js';
import { loadPref, savePref } from './store.js';

/** FONT_MIN and FONT_MAX bound the screen view's type size, in px. */
export const FONT_MIN = 20;
export const FONT_MAX = 96;

/** defaultFontPx is a size readable from the back of a room: about 1/45 of the screen's width. */
export function defaultFontPx(width) { return Math.max(28, Math.min(FONT_MAX, Math.round(width / 45))); }

/**
 * setupScreen adds the corner to pane and the keys to the window; returns
 * the function that removes them. exitHref is where Esc and the exit link go.
 */
export function setupScreen({ pane, view, peopleList, exitHref }) {
  const root = document.documentElement;
  let size = loadPref('screenFontPx', 0) || defaultFontPx(window.innerWidth);
  const out = h('span.screen-size', { 'aria-live': 'polite' });
  function apply(px) {
    size = Math.max(FONT_MIN, Math.min(FONT_MAX, px));
    pane.style.setProperty('--screen-font', size + 'px');
    out.textContent = size + ' px';
    view.requestMeasure();
  }
  function change(delta) { apply(size + delta); savePref('screenFontPx', size); }
  const corner = h('div.screen-corner', { role: 'toolbar', 'aria-label': 'Screen view' },
    h('a.screen-exit', { href: exitHref, title: 'Back to the editor (Esc)' }, '× Exit'),
    h('div.screen-more',
      h('button.small.ghost', { type: 'button', title: 'Smaller type (−)', 'aria-label': 'Smaller type', on: { click: () => change(-4) } }, 'A−'),
      out,
      h('button.small.ghost', { type: 'button', title: 'Larger type (+)', 'aria-label': 'Larger type', on: { click: () => change(4) } }, 'A+'),
      h('div.screen-people', { 'aria-label': 'Follow' }, peopleList)));
  pane.appendChild(corner);
  apply(size);
  const keys = (ev) => {
    if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
    if (ev.key === 'Escape') location.hash = exitHref;
    else if (ev.key === '+' || ev.key === '=') change(4);
    else if (ev.key === '-' || ev.key === '−') change(-4);
    else if (ev.key === '0') { savePref('screenFontPx', 0); apply(defaultFontPx(window.innerWidth)); }
  };
  window.addEventListener('keydown', keys);
  root.classList.add('screen-mode');
  return () => { window.removeEventListener('keydown', keys); root.classList.remove('screen-mode'); };
}

/**
 * smoothFollow scrolls view so that pos sits in the middle of the screen:
 * smoothly for a move within a couple of screens, at once for a longer
 * jump (where CodeMirror's own scrolling measures the unseen lines), and
 * only when pos left the middle third (a cursor moving along a line does
 * not shake the text). When a smooth scroll ends, it checks again, since
 * heights of lines not yet drawn were estimates.
 */
export function smoothFollow(view, pos, again = true) {
  const scroller = view.scrollDOM;
  if (pos > view.state.doc.length) return;
  const block = view.lineBlockAt(pos);
  const top = block.top + view.documentTop - scroller.getBoundingClientRect().top + scroller.scrollTop;
  const height = scroller.clientHeight;
  const y = top - scroller.scrollTop;
  if (y > height / 3 && y + block.height < (2 * height) / 3) return;
  if (Math.abs(y) > 2 * height || !again || !('onscrollend' in window)) {
    view.dispatch({ effects: EditorView.scrollIntoView(pos, { y: 'center' }) });
    return;
  }
  scroller.addEventListener('scrollend', () => smoothFollow(view, Math.min(pos, view.state.doc.length), false), { once: true });
  scroller.scrollTo({ top: Math.max(0, top - height / 2 + block.height / 2), behavior: 'smooth' });
}

// In-app notifications: "Your proposal “earnest” in Article 5 was chosen",
// "Paragraph 2 of Article 5 has no brackets left", each with a link to the
// place. They come from what this page sees happen in the open draft (the
// resolutions the server broadcasts as ops); the bell in the top bar keeps
// the last ones for this sign-in (sessionStorage) with an unread count.

import { h, clear, fmtTime, toast } from './util.js';

const KEY = 'draftroom.notifications';
const MAX = 50;
const listeners = new Set();

function load() { try { return JSON.parse(sessionStorage.getItem(KEY) || '[]'); } catch { return []; } }
function save(items) { try { sessionStorage.setItem(KEY, JSON.stringify(items.slice(0, MAX))); } catch { /* private mode */ } }

/** notify records a notification {text, href} and shows it as a toast. */
export function notify(text, href) {
  const items = load();
  items.unshift({ text, href, ts: Date.now(), read: false });
  save(items);
  toast(h('span', text, href ? [' ', h('a.toast-link', { href }, 'Show')] : null), 'info');
  for (const fn of listeners) fn();
}

// bellIcon draws the bell (an emoji would need an emoji font).
function bellIcon() {
  const NS = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(NS, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('width', '18');
  svg.setAttribute('height', '18');
  svg.setAttribute('aria-hidden', 'true');
  const path = document.createElementNS(NS, 'path');
  path.setAttribute('d', 'M12 3a6 6 0 0 0-6 6v3.5L4.5 16h15L18 12.5V9a6 6 0 0 0-6-6zm-2 15a2 2 0 0 0 4 0');
  path.setAttribute('fill', 'none');
  path.setAttribute('stroke', 'currentColor');
  path.setAttribute('stroke-width', '1.8');
  path.setAttribute('stroke-linejoin', 'round');
  svg.appendChild(path);
  return svg;
}

/** bell is the top bar's notification button and its list. */
export function bell() {
  const count = h('span.bell-count', { hidden: true });
  const list = h('ol.bell-list', { hidden: true, role: 'list' });
  const button = h('button.ghost.bell', { type: 'button', 'aria-label': 'Notifications', 'aria-expanded': 'false', on: { click: () => toggle() } }, bellIcon(), count);
  const wrap = h('div.bell-wrap', button, list);
  function render() {
    const items = load();
    const unread = items.filter((i) => !i.read).length;
    count.hidden = unread === 0;
    count.textContent = String(unread);
    button.title = unread ? `${unread} new notification${unread > 1 ? 's' : ''}` : 'Notifications';
    clear(list);
    if (items.length === 0) list.appendChild(h('li.muted', 'Nothing yet. You will see here when your proposals are decided and paragraphs agreed.'));
    for (const i of items) list.appendChild(h('li' + (i.read ? '' : '.unread'), i.href ? h('a', { href: i.href, on: { click: () => toggle(false) } }, i.text) : i.text, h('span.muted.small', ' · ' + fmtTime(i.ts))));
  }
  function toggle(open = list.hidden) {
    list.hidden = !open;
    button.setAttribute('aria-expanded', String(open));
    if (open) { const items = load(); for (const i of items) i.read = true; save(items); setTimeout(render, 0); }
  }
  const onOutside = (ev) => { if (!wrap.contains(ev.target)) toggle(false); };
  document.addEventListener('click', onOutside);
  listeners.add(render);
  render();
  wrap.dispose = () => { listeners.delete(render); document.removeEventListener('click', onOutside); };
  return wrap;
}

/**
 * explainResolution turns a resolution broadcast in draft id (the op m,
 * kind "resolve", with its group) into what concerns me: a sentence about
 * my proposal in it, or null. decisions and proposals are the draft's
 * lists (docs/PROTOCOL.md 2.2).
 */
export function explainResolution({ m, me, title, decisions, proposals }) {
  const d = [...decisions].reverse().find((x) => x.group === m.group);
  if (!d) return null;
  const mine = proposals.filter((p) => p.group === m.group && p.by && p.by.delegation === me.delegation && p.by.name === me.name);
  if (mine.length === 0) return null;
  const chosen = d.choice === 'choose' ? (d.result ?? (d.alternatives || [])[d.index]) : null;
  const hit = mine.find((p) => chosen !== null && p.text === chosen);
  if (hit) return `Your proposal “${hit.text}” in ${title} was chosen.`;
  const yours = mine.map((p) => `“${p.text}”`).join(', ');
  if (d.choice === 'compromise') return `Your proposal ${yours} in ${title} gave way to a compromise: “${d.result}”.`;
  if (d.choice === 'drop') return `The bracket with your proposal ${yours} in ${title} was dropped.`;
  return `Your proposal ${yours} in ${title} was not kept: “${chosen}” was chosen.`;
}

// The People tab, for a room of 190 delegations: everyone in the draft,
// grouped by delegation (in their colours), searchable by delegation code
// or name, with who is typing now at the top, and a click on a person
// moves the editor to their cursor.

import { h, clear } from './util.js';
import { colourOf } from './colors.js';

/** TYPING_MS: someone whose last edit is this recent is "typing now". */
export const TYPING_MS = 6000;

/**
 * groupPeople groups people [{client, by, role, typedTs}] by delegation,
 * keeping those matching query (code or name, case-insensitive): groups
 * with someone typing first, then by code. Returns [{delegation, people,
 * typing}].
 */
export function groupPeople(people, query = '', now = Date.now()) {
  const q = query.trim().toLowerCase();
  const groups = new Map();
  for (const p of people) {
    const d = (p.by && p.by.delegation) || '?';
    const name = (p.by && p.by.name) || '';
    if (q && !d.toLowerCase().includes(q) && !name.toLowerCase().includes(q)) continue;
    const g = groups.get(d) || { delegation: d, people: [], typing: 0 };
    const typing = !!p.typedTs && now - p.typedTs < TYPING_MS;
    g.people.push({ ...p, typing });
    if (typing) g.typing++;
    groups.set(d, g);
  }
  const out = [...groups.values()];
  for (const g of out) g.people.sort((a, b) => (b.typing - a.typing) || ((a.by && a.by.name) || '').localeCompare((b.by && b.by.name) || ''));
  out.sort((a, b) => (b.typing > 0) - (a.typing > 0) || a.delegation.localeCompare(b.delegation));
  return out;
}

export function peoplePanel({ me, getPeople, onGo }) {
  const search = h('input#people-search', { type: 'search', placeholder: 'Find a delegation or a name', 'aria-label': 'Find a delegation or a name', autocomplete: 'off', on: { input: () => render() } });
  const count = h('span.count');
  const typingNow = h('p.typing-now', { role: 'status', 'aria-live': 'polite' });
  const list = h('ul.people-groups', { 'aria-label': 'People in this draft, by delegation' });
  const node = h('div.panel.people-panel',
    h('div.panel-head', h('h2.panel-title', 'In this draft'), count),
    search, typingNow, list);
  let frame = 0;

  function render() {
    cancelAnimationFrame(frame);
    frame = 0;
    const all = getPeople();
    const groups = groupPeople(all, search.value);
    const delegations = new Set(all.map((p) => (p.by && p.by.delegation) || '?'));
    delegations.add(me.delegation);
    count.textContent = `${all.length + 1} people · ${delegations.size} delegations`;
    const typing = groupPeople(all).flatMap((g) => g.people.filter((p) => p.typing));
    typingNow.textContent = typing.length ? `Typing now: ${typing.slice(0, 6).map((p) => `${p.by.delegation} · ${p.by.name}`).join(', ')}${typing.length > 6 ? ` and ${typing.length - 6} more` : ''}` : '';
    clear(list);
    const q = search.value.trim().toLowerCase();
    if (!q || me.delegation.toLowerCase().includes(q) || me.name.toLowerCase().includes(q)) {
      list.appendChild(h('li.people-group.self',
        h('span.badge', { style: { background: colourOf(me.delegation) } }, me.delegation),
        h('span.pname', me.name + ' (you)'), h('span.role', me.role)));
    }
    for (const g of groups) {
      list.appendChild(h('li.people-group', { 'data-delegation': g.delegation },
        h('span.badge', { style: { background: colourOf(g.delegation) } }, g.delegation),
        h('ul.people-names', g.people.map((p) => h('li.person' + (p.typing ? '.typing' : ''),
          h('button.linklike', { type: 'button', title: 'Go to their cursor', on: { click: () => onGo(p.client) } }, p.by ? p.by.name : p.client),
          p.role && p.role !== 'drafter' ? h('span.role', p.role) : null,
          p.typing ? h('span.typing-dot', { title: 'typing now' }, 'typing') : null)))));
    }
    if (groups.length === 0 && q) list.appendChild(h('li.empty', 'Nobody here matches.'));
  }

  return {
    node,
    /** update re-renders on the next frame (many presence messages make one render). */
    update() { if (!frame) frame = requestAnimationFrame(render); },
    destroy() { cancelAnimationFrame(frame); },
  };
}

// The brackets panel: open groups with their alternatives and proposers,
// proposing an alternative (drafters, facilitators), resolving a group
// (facilitators), and the "brackets remaining" curve. Shows the bracket
// listing the session has read (docs/PROTOCOL.md 2.2, shapes.js
// readBracketListing); a listing that did not read, or a request that
// failed, is an error line in the panel, and the next refresh asks again.

import { h, clear, fmtTime } from './util.js';
import { errorNode, panelError } from './errors.js';
import { unescape } from './brackets.js';
import { posToCp } from './unicode.js';
import { readBracketStats } from './shapes.js';
import { stepChart } from './curve.js';
import { cpOffsetsToUtf16 } from './panel-history.js';
import { placeOf } from './place.js';

/** CARDS_MAX bounds the groups drawn at once (a long draft has thousands): the filter and Alt+N reach the rest. */
export const CARDS_MAX = 100;
import { EditorSelection } from '@codemirror/state';
import { EditorView } from '@codemirror/view';


// refusalReason turns the server's refusal of a proposal into a sentence
// a delegate can act on (the server's own words for bad_request, without
// the technical prefix naming the request and span).
export function refusalReason(e) {
  switch (e && e.code) {
    case 'forbidden': return 'your role may not propose alternatives on this draft.';
    case 'not_found': return 'that bracket is no longer in the draft (it may have been resolved). Select the words again.';
    case 'conflict': return 'the words you selected were changed or deleted meanwhile. Select them again.';
    case 'rev_ahead': return 'the draft was still being loaded. Try again in a moment.';
    case 'rate_limited': return 'too many requests at once. Try again in a moment.';
    case 'bad_request': {
      let m = String(e.message || '');
      const i = m.indexOf(': ');
      if (m.startsWith('propose') && i >= 0) m = m.slice(i + 2);
      m = m.trim();
      if (!m) return 'the server could not read the proposal.';
      return m + (/[.!?]$/.test(m) ? '' : '.');
    }
    default: return 'the connection to the server failed. Check that you are online and try again.';
  }
}

// resolvedNotice says what a resolution did, in words (the group's id
// means nothing to a delegate): "Article 2, paragraph 1: “shall” kept."
export function resolvedNotice(place, alts, what) {
  const quote = (t) => { const u = unescape(t || ''); return `“${u.length > 60 ? u.slice(0, 59) + '…' : u}”`; };
  let did;
  if (what.choice === 'choose') did = alts[what.index] && alts[what.index].text !== '' ? `${quote(alts[what.index].text)} kept` : 'the empty alternative kept';
  else if (what.choice === 'compromise') did = `replaced by ${quote(what.text)}`;
  else if (what.choice === 'drop') did = 'the optional text dropped';
  else did = 'resolved';
  const s = `${did}, brackets removed.`;
  return place ? `${place}: ${s}` : s[0].toUpperCase() + s.slice(1);
}

/** proposingDelegations lists, sorted, the delegations that proposed an alternative in groups (a listing's). */
export function proposingDelegations(groups) {
  const codes = new Set();
  for (const g of groups) for (const a of g.alternatives) codes.add(a.by.delegation);
  return [...codes].sort();
}

/**
 * filterGroups keeps the groups with an alternative proposed by
 * delegation by ('' for anyone) whose text holds words (case-insensitive,
 * escapes read; '' for any).
 */
export function filterGroups(groups, by, words) {
  words = words.trim().toLowerCase();
  if (!by && !words) return groups;
  return groups.filter((g) => g.alternatives.some((a) => (!by || a.by.delegation === by) && (!words || unescape(a.text).toLowerCase().includes(words))));
}

// groupCard is one open group in the list: where it is (onReveal shows it
// in the draft), its alternatives with who proposed them, and for a
// facilitator the ways to resolve it (onResolve({choice, index?, text?})).
function groupCard(g, { place, facilitator, toast, onReveal, onResolve }) {
  const alts = g.alternatives;
  const note = h('input', { type: 'text', placeholder: 'Note for the record (optional)', 'aria-label': 'Note', 'data-key': g.id + ':note' });
  const compromise = h('input', { type: 'text', placeholder: 'Compromise text', 'aria-label': 'Compromise text', 'data-key': g.id + ':comp' });
  const nested = g.parent !== null ? h('span.tag', { title: 'Inside an alternative of another group' }, 'nested') : null;
  const li = h('li.group', { 'data-group': g.id },
    h('div.group-head',
      h('button.linklike', { type: 'button', title: `Show in the draft (group ${g.id})`, on: { click: onReveal } }, place || 'Show in the draft'),
      nested,
      alts.length === 1 ? h('span.tag', 'optional') : h('span.tag', `${alts.length} alternatives`)),
    h('ol.alts', alts.map((a, k) => h('li.alt',
      h('span.alt-text', { dir: 'auto' }, a.text === '' ? h('em', '(nothing)') : unescape(a.text)),
      h('span.alt-by', { style: { borderColor: 'currentColor' } }, `${a.by.delegation}${a.by.name ? ' · ' + a.by.name : ''}`),
      facilitator ? h('button.small', { type: 'button', 'data-key': g.id + ':choose:' + k, 'aria-label': `Choose “${unescape(a.text)}”`, title: `Keep alternative ${k + 1} and remove the brackets`, on: { click: () => onResolve({ choice: 'choose', index: k }) } }, 'Choose') : null))));
  if (facilitator) {
    li.appendChild(h('details.resolve', h('summary', alts.length === 1 ? 'Drop, compromise or note…' : 'Compromise or note…'),
      h('div.inline', compromise, h('button.small', { type: 'button', 'data-key': g.id + ':comp-go', on: { click: () => {
        if (!compromise.value.trim()) { compromise.focus(); toast('Type the compromise text first.', 'warn'); return; }
        onResolve({ choice: 'compromise', text: compromise.value });
      } } }, 'Compromise')),
      h('div.inline', note, alts.length === 1 ? h('button.small.danger', { type: 'button', 'data-key': g.id + ':drop', title: 'Remove the optional text', on: { click: () => onResolve({ choice: 'drop' }) } }, 'Drop') : null)));
    li._note = note;
  }
  return li;
}

export function bracketPanel({ ctx, id, view, session, canEdit, toast, toLocal }) {
  const { conn, api, me } = ctx;
  const isFacilitator = me.role === 'facilitator';
  let last = null; // the last listing read: {rev, groups, diagnostics}
  const error = panelError('bracket listing');

  const count = h('span.count', '');
  // Filters: who proposed an alternative, words in the alternatives.
  const byFilter = h('select#bracket-by', { 'aria-label': 'Proposed by', on: { change: () => render() } }, h('option', { value: '' }, 'By anyone'));
  const textFilter = h('input#bracket-filter', { type: 'search', placeholder: 'Filter by words', 'aria-label': 'Filter groups by words', autocomplete: 'off', on: { input: () => render() } });
  const filters = h('div.bracket-filters', h('div.inline', textFilter, byFilter), h('p.hint', 'Alt+N: next open bracket in the draft; Alt+Shift+N: previous.'));
  const diagButton = h('button.linklike.diag', { type: 'button', hidden: true, title: 'Show the next unbalanced bracket in the draft', on: { click: () => nextDiagnostic() } });
  const curve = h('div.curve', { 'aria-label': 'Brackets remaining over the revisions' });
  const status = h('p.muted.small', { role: 'status' });
  const list = h('ol.groups', { 'aria-label': 'Open bracket groups' });
  const proposeText = h('input#propose-text', { type: 'text', placeholder: 'Alternative wording', autocomplete: 'off' });
  const proposeBtn = h('button', { type: 'submit' }, 'Propose');
  const proposeHint = h('p.hint', 'Select words in the draft (or put the cursor inside a bracket), press Alt+P, type your wording, press Enter.');
  // A refused proposal says why here until the next attempt (role=alert:
  // read out by screen readers).
  const proposeRefusal = h('p.form-error.refusal', { role: 'alert', id: 'propose-refusal' });
  proposeRefusal.hidden = true;
  const proposeForm = h('form.propose', { on: { submit: (ev) => { ev.preventDefault(); propose(); } } },
    h('label', { for: 'propose-text' }, 'Propose an alternative'),
    h('div.inline', proposeText, proposeBtn), proposeRefusal, proposeHint);
  proposeText.addEventListener('input', () => { proposeRefusal.hidden = true; });
  proposeForm.hidden = !canEdit;

  const node = h('div.panel.brackets-panel',
    h('div.panel-head', h('h2.panel-title', 'Brackets'), count),
    curve, error.node, proposeForm, filters, status, diagButton, list);

  // The listing holds the open groups only (a resolved group leaves the text).
  function groupsNow() { return last ? last.groups : null; }

  // A lost connection is said by the status indicator; anything else that
  // fails is said here, and the next refresh asks again.
  const quiet = (e) => e.code === 'timeout' || e.code === 'unavailable';
  async function refresh() {
    try {
      await session.requestBrackets();
    } catch (e) {
      if (!quiet(e)) error.show(e, { missing: session.missing });
    }
  }

  function onList(listing) {
    const before = last ? last.groups.length : -1;
    last = listing;
    error.clear();
    render();
    if (before !== last.groups.length) loadStats();
  }
  const offs = [session.on('brackets', onList), session.on('brackets-error', (e) => error.show(e))];

  // localStarts maps groups to where they start in the editor (UTF-16),
  // in one pass over the text: converting each alone would read the text
  // from its start once per group.
  function localStarts(groups) {
    const otc = session.client;
    const cps = groups.map((g) => { const cp = g.span[0]; return otc ? otc.toLocal(cp, last.rev) : cp; });
    const order = cps.map((_, i) => i).sort((a, b) => cps[a] - cps[b]);
    const pos = cpOffsetsToUtf16(view.state.doc.toString(), order.map((i) => cps[i]));
    const out = new Map();
    order.forEach((i, k) => out.set(groups[i], pos[k]));
    return out;
  }

  // placeOfGroup names where a group starts ("Article 2, paragraph 1"),
  // else numbers its paragraph (non-empty line); the numbering is computed
  // once per render.
  let paraIndex = null;
  let starts = new Map();
  function placeOfGroup(g) {
    if (!last || !starts.has(g)) return '';
    const doc = view.state.doc;
    const line = doc.lineAt(Math.min(starts.get(g), doc.length));
    const named = placeOf((i) => doc.line(i).text, line.number);
    if (named) return named;
    if (!paraIndex) {
      paraIndex = new Int32Array(doc.lines + 1);
      let n = 0;
      for (let i = 1, it = doc.iterLines(); ; i++) { const r = it.next(); if (r.done) break; if (r.value.length > 0) n++; paraIndex[i] = n; }
    }
    return paraIndex[line.number] ? `Paragraph ${paraIndex[line.number]}` : '';
  }

  function render() {
    paraIndex = null;
    const all = groupsNow() || [];
    fillByFilter(all);
    const groups = filtered(all);
    const drawn = groups.slice(0, CARDS_MAX);
    starts = localStarts(drawn);
    count.textContent = groups.length === all.length ? `${all.length} open` : `${groups.length} of ${all.length} open`;
    const nd = last ? last.diagnostics.length : 0;
    diagButton.hidden = nd === 0;
    diagButton.textContent = nd ? `${nd} unbalanced bracket${nd > 1 ? 's' : ''} in the text: show` : '';
    status.textContent = '';
    const focused = document.activeElement && list.contains(document.activeElement) ? document.activeElement.dataset.key : null;
    clear(list);
    if (all.length === 0) list.appendChild(h('li.empty', 'No open brackets: the text is clean.'));
    else if (groups.length === 0) list.appendChild(h('li.empty', 'No open group matches the filter.'));
    for (const g of drawn) list.appendChild(card(g));
    if (groups.length > drawn.length) list.appendChild(h('li.empty', `${groups.length - drawn.length} more open groups: narrow them with the filter, or go through them with Alt+N.`));
    if (focused) { const el = list.querySelector(`[data-key="${CSS.escape(focused)}"]`); if (el) el.focus(); }
  }

  function card(g) {
    return groupCard(g, { place: placeOfGroup(g), facilitator: isFacilitator, toast, onReveal: () => reveal(g), onResolve: (what) => resolve(g, what) });
  }

  function fillByFilter(groups) {
    const want = proposingDelegations(groups);
    const have = [...byFilter.options].slice(1).map((o) => o.value);
    if (want.join() === have.join()) return;
    const keep = byFilter.value;
    while (byFilter.options.length > 1) byFilter.remove(1);
    for (const c of want) byFilter.appendChild(h('option', { value: c }, `By ${c}`));
    byFilter.value = want.includes(keep) ? keep : '';
  }

  function filtered(groups) { return filterGroups(groups, byFilter.value, textFilter.value); }

  // next moves the editor to the next (dir 1) or previous (-1) open group
  // after the cursor, wrapping around; with a filter, among those it shows.
  function next(dir = 1) {
    const groups = filtered(groupsNow() || []);
    if (groups.length === 0) { toast('No open brackets.', 'info'); return; }
    const at = view.state.selection.main.from;
    const at0 = localStarts(groups);
    const spans = groups.map((g) => ({ g, from: at0.get(g) })).sort((a, b) => a.from - b.from);
    let pick = dir > 0 ? spans.find((s) => s.from > at) : [...spans].reverse().find((s) => s.from < at);
    if (!pick) pick = dir > 0 ? spans[0] : spans[spans.length - 1];
    reveal(pick.g);
    const li = list.querySelector(`[data-group="${CSS.escape(pick.g.id)}"]`);
    if (li) { li.scrollIntoView({ block: 'nearest' }); li.classList.add('flash'); setTimeout(() => li.classList.remove('flash'), 900); }
  }

  let diagIndex = -1;
  function nextDiagnostic() {
    const ds = last ? last.diagnostics : [];
    if (ds.length === 0) return;
    diagIndex = (diagIndex + 1) % ds.length;
    const d = ds[diagIndex];
    const pos = toLocal(d.pos, last.rev);
    view.dispatch({ selection: EditorSelection.range(pos, Math.min(pos + 1, view.state.doc.length)), effects: EditorView.scrollIntoView(pos, { y: 'center' }) });
    view.focus();
    toast(d.message || (d.code === 'unmatched' ? 'This ] closes nothing.' : 'This [ is never closed.'), 'warn');
  }

  function reveal(g) {
    const [a, b] = g.span;
    const rev = last ? last.rev : 0;
    const from = toLocal(a, rev);
    const to = toLocal(b, rev);
    view.dispatch({ selection: EditorSelection.range(from, to), effects: EditorView.scrollIntoView(from, { y: 'center' }) });
    view.focus();
  }

  async function resolve(g, what) {
    const li = list.querySelector(`[data-group="${CSS.escape(g.id)}"]`);
    const note = li && li._note ? li._note.value : '';
    try {
      await conn.request({ type: 'resolve', doc: id, rev: last.rev, group: g.id, ...what, note: note || undefined });
      toast(resolvedNotice(placeOfGroup(g), g.alternatives, what));
    } catch (e) {
      if (e.code === 'conflict') {
        toast('The group changed since you looked at it; here is how it stands now.', 'warn');
        refresh();
      } else {
        toast(errorNode(e, `resolve ${g.id}`), 'error');
      }
    }
  }

  async function propose() {
    const otc = session.client;
    const text = proposeText.value;
    if (!otc) return;
    if (!text.trim()) { proposeText.focus(); return; }
    const sel = view.state.selection.main;
    const doc = view.state.doc;
    const msg = { type: 'propose', doc: id, rev: otc.rev, text };
    const inside = sel.empty ? groupAt(sel.head) : null;
    if (inside) msg.group = inside.id;
    else if (!sel.empty) msg.span = [otc.toServer(posToCp(doc, sel.from)), otc.toServer(posToCp(doc, sel.to))];
    else { toast('Select the words your alternative replaces, or put the cursor inside a bracket.', 'warn'); return; }
    proposeRefusal.hidden = true;
    try {
      await conn.request(msg);
      proposeText.value = '';
      toast('Alternative proposed.');
      view.focus();
    } catch (e) {
      // The input is cleared (the wording is repeated in the message, to
      // copy back) and the reason stays on screen until the next attempt.
      proposeText.value = '';
      proposeRefusal.textContent = `Your alternative “${text}” was not proposed: ${refusalReason(e)}`;
      proposeRefusal.hidden = false;
      toast('The alternative was not proposed.', 'error');
    }
  }

  // groupAt finds the innermost open group whose span holds the local position pos.
  function groupAt(pos) {
    const groups = groupsNow();
    if (!groups) return null;
    let best = null;
    for (const g of groups) {
      const [a, b] = g.span;
      const from = toLocal(a, last.rev);
      const to = toLocal(b, last.rev);
      if (pos > from && pos < to && (!best || to - from < best.len)) best = { g, len: to - from };
    }
    return best && best.g;
  }

  const CURVE = '"brackets remaining" curve';
  async function loadStats() {
    try {
      drawCurve(readBracketStats(await api.get(api.docPath(id, '/brackets/stats'))));
      error.clear(CURVE);
    } catch (e) {
      curve.hidden = true;
      error.show(e, { what: CURVE, missing: session.missing });
    }
  }

  // drawCurve draws open groups against revisions as a small step chart.
  function drawCurve(s) {
    const pts = s.points.map((p) => ({ rev: p.rev, n: p.open, ts: p.ts }));
    clear(curve);
    if (pts.length === 0) { curve.hidden = true; return; }
    curve.hidden = false;
    const maxRev = Math.max(1, pts[pts.length - 1].rev, session.client ? session.client.rev : 0);
    const maxN = Math.max(1, ...pts.map((p) => p.n));
    const now = pts[pts.length - 1];
    const svg = stepChart({ points: pts, maxRev, maxN, height: 64, area: true, label: `Brackets remaining: ${now.n} now, at most ${maxN}` });
    curve.append(h('div.curve-label', h('span', 'Brackets remaining'), h('strong', String(now.n)), s.clean ? h('span.tag.ok', 'clean') : null), svg,
      h('div.curve-axis', h('span', 'rev 0'), h('span', now.ts ? fmtTime(now.ts) : `rev ${maxRev}`)));
  }

  return {
    node,
    refresh,
    next,
    shown() { refresh(); loadStats(); },
    destroy() { for (const off of offs) off(); },
  };
}

// The provisions panel (docs/PROVISIONS.md, PROTOCOL.md 2.5): the outline of
// parts, chapters, articles and paragraphs with status badges and counts,
// an "open only" filter, the facilitators' status controls, and the
// progress curve. provisionLocks tints agreed text in the editor (the
// screen view too) and stops typing there, saying why.
//
// It reads the listings the session has read (shapes.js,
// readProvisionListing and readProvisionStats); one of another shape is an
// error shown in the panel.

import { StateEffect, StateField, EditorState, RangeSetBuilder, RangeSet } from '@codemirror/state';
import { EditorView, Decoration, GutterMarker, gutter } from '@codemirror/view';
import { EditorSelection } from '@codemirror/state';
import { h, clear, toast as defaultToast } from './util.js';
import { remote } from './editor.js';
import { cpToPos } from './unicode.js';
import { STATUSES, readProvisionStats } from './shapes.js';
import { panelError } from './errors.js';
import { stepChart } from './curve.js';

const LABEL = { open: 'open', informal: 'informal', agreed: 'agreed', set_aside: 'set aside' };

/**
 * statusRefusal turns the server's refusal to agree text holding a bracket
 * ("paragraph 1 of article 2 holds the open bracket group b0.98 at
 * [98,117); resolve it before agreeing the text") into words for the room,
 * with the bracket's span (code points) to select it in the draft.
 */
export function statusRefusal(message) {
  let text = String(message || '').trim() || 'Could not set the status.';
  let span = null;
  const m = / the open bracket group \S+ at \[(\d+),(\d+)\)/.exec(text);
  if (m) {
    span = [Number(m[1]), Number(m[2])];
    text = text.replace(m[0], ' an open bracket (selected in the draft)');
  }
  return { text: text[0].toUpperCase() + text.slice(1), span };
}

function nameOf(p, byId) {
  const parts = [];
  for (let q = p; q; q = q.parent ? byId.get(q.parent) : null) {
    const n = q.kind === 'subparagraph' || q.kind === 'item' ? `(${q.num})` : q.num;
    parts.push(n ? `${q.kind} ${n}` : q.kind);
    if (['article', 'chapter', 'part', 'section'].includes(q.kind)) break;
  }
  return parts.join(' of ');
}

// ---- the lock in the editor -------------------------------------------------

const setLocks = StateEffect.define();

// locksField holds the locked ranges (editor positions) with the name of
// each agreed provision; decorations tint them.
const locksField = StateField.define({
  create: () => ({ ranges: [], deco: Decoration.none }),
  update(v, tr) {
    for (const e of tr.effects) if (e.is(setLocks)) return build(e.value);
    if (!tr.docChanged || v.ranges.length === 0) return v;
    // Text typed at a range's start goes before it, at its end after it.
    return build(v.ranges.map((r) => ({ ...r, from: tr.changes.mapPos(r.from, 1), to: tr.changes.mapPos(r.to, -1) })));
  },
  provide: (f) => EditorView.decorations.from(f, (v) => v.deco),
});

const agreedMark = Decoration.mark({ class: 'cm-agreed', attributes: { title: 'Agreed ad referendum: locked' } });

function build(ranges) {
  ranges = ranges.filter((r) => r.to > r.from).sort((a, b) => a.from - b.from);
  const b = new RangeSetBuilder();
  let end = -1;
  for (const r of ranges) {
    const from = Math.max(r.from, end);
    if (r.to > from) b.add(from, r.to, agreedMark);
    end = Math.max(end, r.to);
  }
  return { ranges, deco: b.finish() };
}

// The margin shows each provision's status (not open) beside its first
// line, in the editor and on the screen view.
const setMarks = StateEffect.define();

class StatusMarker extends GutterMarker {
  constructor(status, title) { super(); this.status = status; this.title = title; }
  eq(o) { return o.status === this.status && o.title === this.title; }
  toDOM() {
    const el = document.createElement('span');
    el.className = 'cm-prov-mark s-' + this.status;
    el.textContent = { agreed: 'A', informal: 'I', set_aside: 'S' }[this.status] || '';
    el.title = this.title;
    return el;
  }
}

const marksField = StateField.define({
  create: () => RangeSet.empty,
  update(v, tr) {
    for (const e of tr.effects) if (e.is(setMarks)) return e.value;
    return tr.docChanged ? v.map(tr.changes) : v;
  },
});

const statusGutter = gutter({ class: 'cm-prov-gutter', markers: (view) => view.state.field(marksField), initialSpacer: () => new StatusMarker('spacer', '') });

// lockFilter refuses local edits that would change agreed text, with the
// server's rules (PROTOCOL.md 2.5), so the delegate is told at once.
function lockFilter(onRefused) {
  return EditorState.transactionFilter.of((tr) => {
    if (!tr.docChanged || tr.annotation(remote)) return tr;
    const { ranges } = tr.startState.field(locksField, false) || { ranges: [] };
    if (ranges.length === 0) return tr;
    let hit = null;
    const doc = tr.startState.doc;
    tr.changes.iterChanges((fromA, toA, _fromB, _toB, inserted) => {
      if (hit) return;
      const text = inserted.toString();
      for (const r of ranges) {
        const before = r.from > 0 ? r.from - 1 : r.from; // the line break before it
        const deletes = toA > fromA && fromA < r.to && toA > before;
        const inside = fromA > r.from && fromA < r.to;
        const atStart = fromA === r.from && toA === fromA && text !== '' && !text.endsWith('\n');
        const atOpenEnd = fromA === r.to && toA === fromA && text !== '' && doc.sliceString(r.to - 1, r.to) !== '\n' && !text.startsWith('\n');
        if (deletes || (inside && text !== '') || atStart || atOpenEnd) { hit = r; return; }
      }
    });
    if (!hit) return tr;
    onRefused(hit);
    return [];
  });
}

/**
 * provisionLocks installs the lock in view and keeps it in step with the
 * server's listing. Returns {refresh, destroy}.
 */
export function provisionLocks({ session, view, toast = defaultToast, editable }) {
  const toLocal = (cp, rev) => cpToPos(view.state.doc, session.toLocal(cp, rev));
  const exts = [locksField, marksField, statusGutter];
  if (editable) exts.push(lockFilter((r) => toast(`${r.name} is agreed ad referendum: its text is locked. A facilitator can reopen it; to add a provision, start a new line before or after it.`, 'warn')));
  view.dispatch({ effects: StateEffect.appendConfig.of(exts) });
  let lastRev = -1;
  function onList(listing) {
    if (!session.client) return;
    if (listing.rev < lastRev) return;
    lastRev = listing.rev;
    const byId = new Map(listing.provisions.map((p) => [p.id, p]));
    const ranges = [];
    for (const p of listing.provisions) {
      if (!p.locked_span) continue;
      ranges.push({ from: toLocal(p.locked_span[0], listing.rev), to: toLocal(p.locked_span[1], listing.rev), name: nameOf(p, byId) });
    }
    const b = new RangeSetBuilder();
    let prevLine = -1;
    for (const p of listing.provisions) {
      if (p.status === 'open') continue;
      const line = view.state.doc.lineAt(toLocal(p.span[0], listing.rev));
      if (line.from === prevLine) continue;
      prevLine = line.from;
      const by = p.status_by ? ` (${p.status_by.name}, ${p.status_by.delegation}, rev ${p.status_rev})` : '';
      b.add(line.from, line.from, new StatusMarker(p.status, `${nameOf(p, byId)}: ${LABEL[p.status]}${by}`));
    }
    view.dispatch({ effects: [setLocks.of(ranges), setMarks.of(b.finish())] });
  }
  const off = session.on('provisions', onList);
  return {
    // A failed request is the panel's to show (it asks too); the lock keeps the last listing.
    refresh() { session.requestProvisions().catch(() => {}); },
    destroy() { off(); },
  };
}

// ---- the panel ------------------------------------------------------------------

function depthOf(p, byId) { let d = 0; for (let q = p; q.parent; q = byId.get(q.parent)) d++; return d; }

// provisionRow is one provision in the outline (byId: the listing's
// provisions by id): its number (onReveal shows it in the draft), title
// (a node), status and packages, and for a facilitator the status
// control (onSet(status, note)).
function provisionRow(p, byId, { facilitator, title, onReveal, onSet }) {
  const label = p.kind === 'subparagraph' || p.kind === 'item' ? `(${p.num})` : (p.kind === 'paragraph' || p.kind === 'preamble' ? (p.num ? p.num + '.' : 'PP') : `${p.kind[0].toUpperCase()}${p.kind.slice(1)} ${p.num}`);
  const by = p.status_by ? ` by ${p.status_by.name} (${p.status_by.delegation}) at rev ${p.status_rev}` : '';
  const li = h('li.prov.s-' + p.status, { 'data-prov': p.id, style: { paddingLeft: `${0.9 * depthOf(p, byId)}em` } },
    h('button.linklike', { type: 'button', 'data-key': p.id, title: 'Show in the draft', on: { click: onReveal } }, label),
    title,
    h('span.tag.status-' + p.status, { title: LABEL[p.status] + by + (p.locked ? '; its text is locked' : '') }, LABEL[p.status] + (p.locked && !p.locked_span ? ' (held)' : '')),
    p.packages.map((k) => h('span.tag', { title: 'In package ' + k + ': agreed together with the others' }, k)));
  if (facilitator && !(p.locked && !p.locked_span)) {
    const select = h('select', { 'aria-label': `Status of ${nameOf(p, byId)}`, 'data-key': p.id + ':status' },
      STATUSES.map((s) => h('option', { value: s, selected: s === p.status }, LABEL[s])));
    const note = h('input', { type: 'text', placeholder: 'Note for the record', 'aria-label': 'Note', 'data-key': p.id + ':note' });
    li.appendChild(h('details.prov-status', h('summary', { title: 'Set the status, with a note for the record' }, 'Change'),
      h('div.inline', select, note, h('button.small', { type: 'button', 'data-key': p.id + ':set', on: { click: () => onSet(select.value, note.value) } }, 'Set'))));
  }
  return li;
}

export function provisionPanel({ ctx, id, view, session, toast = defaultToast, toLocal }) {
  const { conn, me } = ctx;
  const isFacilitator = me.role === 'facilitator';
  let last = null;
  let openOnly = false;

  const counts = h('span.count', '');
  const curve = h('div.curve', { 'aria-label': 'Provisions agreed over the revisions' });
  const error = panelError('provisions');
  const filter = h('input#prov-open-only', { type: 'checkbox', on: { change: () => { openOnly = filter.checked; render(); } } });
  const outline = h('ol.outline', { 'aria-label': 'Outline of the provisions' });
  const tools = isFacilitator ? h('div.inline.prov-tools',
    h('button.small', { type: 'button', title: 'Number the provisions sequentially and update cross-references (with a preview)', on: { click: renumber } }, 'Renumber…')) : null;
  const node = h('div.panel.provisions-panel',
    h('div.panel-head', h('h2.panel-title', 'Provisions'), counts),
    curve, error.node,
    h('label.small', filter, ' Open only'), tools, outline);

  function onList(listing) {
    const before = last ? last.provisions.length : -1;
    last = listing;
    error.clear();
    render();
    if (before !== last.provisions.length && !node.hidden) loadStats();
  }
  const offs = [session.on('provisions', onList), session.on('provisions-error', (e) => error.show(e))];

  function render() {
    if (!last) return;
    const byId = new Map(last.provisions.map((p) => [p.id, p]));
    const n = { open: 0, informal: 0, agreed: 0, set_aside: 0 };
    for (const p of last.provisions) n[p.status]++;
    counts.textContent = `${n.agreed} agreed of ${last.provisions.length}`;
    const focused = document.activeElement && outline.contains(document.activeElement) ? document.activeElement.dataset.key : null;
    clear(outline);
    const shown = last.provisions.filter((p) => !openOnly || p.status === 'open');
    if (shown.length === 0) outline.appendChild(h('li.empty', last.provisions.length ? 'No open provisions.' : 'No articles or numbered paragraphs in the text.'));
    for (const p of shown) outline.appendChild(row(p, byId));
    if (focused) { const el = outline.querySelector(`[data-key="${CSS.escape(focused)}"]`); if (el) el.focus(); }
  }

  function row(p, byId) {
    return provisionRow(p, byId, { facilitator: isFacilitator, title: p.title ? h('span.prov-title', p.title) : excerptOf(p), onReveal: () => reveal(p), onSet: (status, note) => setStatus(p, status, note, byId) });
  }

  // excerptOf shows the first words of an untitled provision ("1." alone
  // says nothing in a list of twenty paragraphs numbered 1, 2, 3).
  function excerptOf(p) {
    const doc = view.state.doc;
    const at = toLocal(p.span[0], last.rev);
    if (at < 0 || at > doc.length) return null;
    const text = doc.lineAt(at).text.replace(/^\s*(?:PP\s?\d+\.?|\d+(?:\s?[a-z]+)?\.|\([^)\s]{1,12}(?:\s[a-z]+)?\)|[a-zа-я]\))\s*/u, '').trim();
    return text ? h('span.prov-title.excerpt', { dir: 'auto', title: text.length > 200 ? text.slice(0, 199) + '…' : text }, text.slice(0, 120)) : null;
  }

  function reveal(p) {
    const from = toLocal(p.span[0], last.rev);
    view.dispatch({ selection: EditorSelection.cursor(from), effects: EditorView.scrollIntoView(from, { y: 'start' }) });
    view.focus();
  }

  async function setStatus(p, status, note, byId) {
    if (status === p.status) { toast(`It is ${LABEL[status]} already.`, 'warn'); return; }
    try {
      await conn.request({ type: 'provision_status', doc: id, id: p.id, status, note: note || undefined, rev: last.rev });
      const name = nameOf(p, byId);
      toast(`${name[0].toUpperCase()}${name.slice(1)}: ${LABEL[status]}.`);
      refresh();
      loadStats();
    } catch (e) {
      const r = statusRefusal(e.message);
      if (r.span && last) {
        const from = toLocal(r.span[0], last.rev);
        const to = toLocal(r.span[1], last.rev);
        view.dispatch({ selection: EditorSelection.range(from, to), effects: EditorView.scrollIntoView(from, { y: 'center' }) });
      }
      toast(r.text, 'error');
    }
  }

  async function renumber() {
    const otc = session.client;
    if (!otc) return;
    try {
      const pre = await conn.request({ type: 'renumber', doc: id, rev: otc.rev, preview: true });
      if (!Array.isArray(pre.diff)) throw new Error('unexpected renumbering preview from the server');
      if (pre.diff.length === 0) { toast('The provisions are numbered already.'); return; }
      const lines = [
        `${pre.numbers.length} numbers and ${pre.references.length} references change:`,
        ...pre.numbers.slice(0, 12).map((x) => `  ${x.kind} ${x.from} → ${x.to}`),
        ...pre.references.slice(0, 8).map((x) => `  “${x.text}”: ${x.from} → ${x.to}`),
        pre.unresolved.length ? `${pre.unresolved.length} references left as they are: ${pre.unresolved.slice(0, 4).map((u) => `“${u.text}” (${u.reason})`).join('; ')}` : '',
        '', 'Commit the renumbering?',
      ];
      if (!window.confirm(lines.filter((l) => l !== null).join('\n'))) return;
      const done = await conn.request({ type: 'renumber', doc: id, rev: pre.rev });
      toast(done.committed ? `Renumbered at revision ${done.rev}.` : 'Nothing to renumber.');
    } catch (e) {
      toast(e.message || 'Could not renumber.', 'error');
    }
  }

  // A request that fails is shown in the panel and asked again on the
  // next refresh; a lost connection is said by the status already.
  const quiet = (e) => e.code === 'timeout' || e.code === 'unavailable';
  function refresh() { session.requestProvisions().catch((e) => { if (!quiet(e)) error.show(e, { missing: session.missing }); }); }

  const PROGRESS = 'progress of the provisions';
  async function loadStats() {
    try {
      drawCurve(readProvisionStats(await conn.request({ type: 'provision_stats', doc: id })));
      error.clear(PROGRESS);
    } catch (e) {
      if (!quiet(e)) error.show(e, { what: PROGRESS, missing: session.missing });
    }
  }

  function drawCurve(s) {
    clear(curve);
    const pts = s.points.map((p) => ({ rev: p.rev, n: p.agreed, total: p.total }));
    if (pts.length === 0) { curve.hidden = true; return; }
    curve.hidden = false;
    const maxRev = Math.max(1, s.rev);
    const maxN = Math.max(1, ...pts.map((p) => p.total));
    const svg = stepChart({ points: pts, maxRev, maxN, height: 56, label: `Provisions agreed: ${s.counts.agreed} of ${s.counts.total}` });
    const arts = s.articles.filter((a) => a.paragraphs > 0);
    curve.append(h('div.curve-label', h('span', 'Agreed'), h('strong', `${s.counts.agreed}/${s.counts.total}`)), svg,
      arts.length ? h('p.small.muted', arts.slice(0, 40).map((a) => `Art. ${a.num}: ${a.agreed}/${a.paragraphs}`).join(' · ')) : null);
  }

  return {
    node,
    refresh,
    shown() { refresh(); loadStats(); },
    destroy() { for (const off of offs) off(); },
  };
}

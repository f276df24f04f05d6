// The history timeline as people read it: the server's entries (one per
// burst of typing, docs/PROTOCOL.md 2.3) grouped into runs of one person's
// editing, bracket groups named by their text, and what a resolution chose.

/** RUN_GAP_MS: one person's edits less than this apart are one run. */
export const RUN_GAP_MS = 5 * 60 * 1000;

const isEdit = (e) => !e.kind || e.kind === 'edit';
const whoKey = (e) => `${(e.by && e.by.delegation) || ''}\u0000${(e.by && e.by.name) || ''}`;

/**
 * groupRuns merges the server's entries (newest first) into runs: a run
 * is consecutive typing by one person with pauses under gapMs; proposals,
 * resolutions and imports stay alone. Each run has from, to, by, kind,
 * group, start, end, inserted, deleted, entries and preview (the newest
 * typed text).
 */
export function groupRuns(entries, gapMs = RUN_GAP_MS) {
  const runs = [];
  for (const e of entries) {
    const start = e.start ?? e.ts ?? 0;
    const end = e.end ?? e.ts ?? start;
    const prev = runs[runs.length - 1];
    if (prev && isEdit(e) && isEdit(prev) && whoKey(prev) === whoKey(e) && prev.start - end < gapMs && e.to < prev.from + 1) {
      prev.from = e.from ?? e.rev;
      prev.start = start;
      prev.inserted += e.inserted || 0;
      prev.deleted += e.deleted || 0;
      prev.entries++;
      if (typeof e.at === 'number') prev.at = e.at; // e is older: the run's first change
      if (!prev.preview && e.preview) prev.preview = e.preview;
      continue;
    }
    runs.push({
      from: e.from ?? e.rev, to: e.to ?? e.rev, by: e.by || {}, kind: e.kind || '', group: e.group || '',
      start, end, inserted: e.inserted || 0, deleted: e.deleted || 0, entries: 1, preview: e.preview || '', summary: e.summary || '',
      at: typeof e.at === 'number' ? e.at : undefined,
      decision: e.decision || null,
    });
  }
  return runs;
}

/** groupName names a bracket group by its alternatives: "[shall/should]", shortened. */
export function groupName(alternatives, max = 60) {
  if (!alternatives || alternatives.length === 0) return '';
  let s = '[' + alternatives.join('/') + ']';
  if ([...s].length > max) s = [...s].slice(0, max - 2).join('') + '…]';
  return s;
}

/**
 * provisionAt names the innermost provision of a provisions listing
 * ({provisions: [{id, kind, num, span, parent}]}, spans in code points)
 * that holds code point at: "paragraph 3 of article 5", up to the
 * enclosing article (or chapter, part, section). '' when none holds it.
 * A position at a provision's end counts as in it (typing at its end).
 */
export function provisionAt(listing, at) {
  const list = (listing && listing.provisions) || [];
  if (typeof at !== 'number' || at < 0) return '';
  let best = null;
  for (const p of list) {
    if (!Array.isArray(p.span) || at < p.span[0] || at > p.span[1]) continue;
    if (!best || p.span[1] - p.span[0] < best.span[1] - best.span[0]) best = p;
  }
  if (!best) return '';
  const byId = new Map(list.map((p) => [p.id, p]));
  const parts = [];
  const seen = new Set();
  for (let q = best; q && !seen.has(q.id); q = q.parent ? byId.get(q.parent) : null) {
    seen.add(q.id);
    const n = q.kind === 'subparagraph' || q.kind === 'item' ? `(${q.num})` : q.num;
    parts.push(n ? `${q.kind} ${n}` : q.kind);
    if (['article', 'chapter', 'part', 'section'].includes(q.kind)) break;
  }
  return parts.join(' of ');
}

function quote(t, max = 60) {
  const cps = [...(t || '')];
  return '“' + (cps.length > max ? cps.slice(0, max).join('') + '…' : cps.join('')) + '”';
}

function clock(ms) {
  return new Date(ms).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}

/**
 * describeRun says in words what a run did. names has: groups (group id ->
 * alternatives texts), proposals (rev -> {text, group}), decisions (group
 * -> {choice, index, result, alternatives}), and provisions (the head's
 * provisions listing) to say where an edit was: run.at, the server's
 * entry position, named with provisionAt ("edited paragraph 3 of article
 * 5"). It is where the edit was made; later edits above it may have moved
 * the text since, so the name is the provision now at that place.
 */
export function describeRun(run, names = {}) {
  const groups = names.groups || new Map();
  const decisions = names.decisions || new Map();
  const proposals = names.proposals || new Map();
  const decision = decisions.get(run.group);
  const gname = groupName(groups.get(run.group) || (decision && decision.alternatives)) || (run.group ? 'a bracket group' : '');
  let what;
  if (run.kind === 'propose') {
    const p = proposals.get(run.to);
    what = p && p.text !== undefined ? `proposed ${quote(p.text)}${gname ? ' in ' + gname : ''}` : `proposed an alternative${gname ? ' in ' + gname : ''}`;
  } else if (run.kind === 'resolve') {
    if (!decision) what = `resolved ${gname}`;
    else if (decision.choice === 'choose') what = `resolved ${gname}: chose ${quote(decision.result ?? (decision.alternatives || [])[decision.index])}`;
    else if (decision.choice === 'drop') what = `resolved ${gname}: dropped it`;
    else if (decision.choice === 'compromise') what = `resolved ${gname}: agreed ${quote(decision.result)}`;
    else what = `resolved ${gname}`;
  } else if (run.kind.startsWith('status.')) {
    // A provision's status (docs/PROTOCOL.md 2.6): no text changes, so
    // "+0 −0 characters" said nothing; name the provision by its text.
    const d = run.decision;
    const status = { open: 'open', informal: 'informal', agreed: 'agreed', set_aside: 'set aside' }[run.kind.slice(7)] || run.kind.slice(7);
    const text = d && d.result ? quote(d.result.trim().split('\n')[0]) : 'a provision';
    what = `marked ${text} ${status}${d && d.note ? ` (${d.note})` : ''}`;
  } else if (run.kind === 'renumber') {
    what = 'renumbered the provisions';
  } else if (run.kind === 'import') {
    what = `imported a revised text: +${run.inserted} −${run.deleted} characters`;
  } else {
    const where = names.provisions ? provisionAt(names.provisions, run.at) : '';
    what = `edited${where ? ' ' + where : ''}: +${run.inserted} −${run.deleted} character${run.inserted + run.deleted === 1 ? '' : 's'}`;
  }
  const when = run.end - run.start >= 60000 ? `${clock(run.start)}–${clock(run.end)}` : clock(run.end || run.start);
  return { what, when, preview: run.kind ? '' : (run.preview || '').trim() };
}

/**
 * changeMarks reads diff segments (GET .../diff?by=1, shapes.js readDiff)
 * as marks in the live text: each insert as {kind: 'insert', from, to},
 * each delete as {kind: 'delete', from, text} at the place it was, with
 * delegation and name. Positions count code points in the diff's `to`
 * text; at maps one to the page's text. Also returns how many code points
 * were inserted and deleted.
 */
export function changeMarks(segs, at) {
  const marks = [];
  let pos = 0;
  let inserted = 0;
  let deleted = 0;
  for (const s of segs) {
    const n = [...s.text].length;
    if (s.op === 'insert') {
      marks.push({ kind: 'insert', from: at(pos), to: at(pos + n), delegation: s.delegation, name: s.name });
      pos += n;
      inserted += n;
    } else if (s.op === 'delete') {
      marks.push({ kind: 'delete', from: at(pos), text: s.text, delegation: s.delegation, name: s.name });
      deleted += n;
    } else {
      pos += n;
    }
  }
  return { marks, inserted, deleted };
}

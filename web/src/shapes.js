// The shapes of the listings the panels read, one reader each, as the
// server sends them (docs/PROTOCOL.md 2.2 brackets, 2.3 history, 2.5
// provisions; summarised in docs/WEB.md "Listings"). A reader checks every
// field the page uses and returns the value unchanged; anything else throws
// a ShapeError naming the field, so a panel shows "unexpected reply from
// the server: groups[3].alternatives[0].by.delegation is missing" instead
// of a blank list. Arrays may be null: that is how the server's Go encoder
// writes an empty list it never filled.
//
// Nothing here touches the DOM: the readers are unit-tested in Node.

/** ShapeError is thrown by the readers; path names the offending field. */
export class ShapeError extends Error {
  constructor(what, path, want, got) {
    super(`unexpected ${what} from the server: ${path} ${got === undefined ? 'is missing' : `is ${describe(got)}, want ${want}`}`);
    this.name = 'ShapeError';
    this.path = path;
  }
}

function describe(v) {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'string') return JSON.stringify(v.length > 24 ? v.slice(0, 23) + '…' : v);
  return typeof v === 'object' ? 'an object' : String(v);
}

// A checker walks one reply: c.int(obj, 'rev') checks obj.rev and names it
// "rev" (or "groups[3].rev" below a list) in the error.
class Checker {
  constructor(what) { this.what = what; }
  fail(path, want, got) { throw new ShapeError(this.what, path, want, got); }
  obj(v, path) { if (v === null || typeof v !== 'object' || Array.isArray(v)) this.fail(path, 'an object', v); return v; }
  int(o, k, path) { const v = o[k]; if (!Number.isInteger(v)) this.fail(join(path, k), 'a whole number', v); return v; }
  str(o, k, path) { const v = o[k]; if (typeof v !== 'string') this.fail(join(path, k), 'text', v); return v; }
  bool(o, k, path) { const v = o[k]; if (typeof v !== 'boolean') this.fail(join(path, k), 'true or false', v); return v; }
  oneOf(o, k, path, values) { const v = o[k]; if (!values.includes(v)) this.fail(join(path, k), 'one of ' + values.join(', '), v); return v; }
  optStr(o, k, path) { if (o[k] !== undefined) this.str(o, k, path); }
  optInt(o, k, path) { if (o[k] !== undefined) this.int(o, k, path); }
  nullable(o, k, path, check) { if (o[k] !== null) { if (o[k] === undefined) this.fail(join(path, k), 'a value or null', undefined); check(o, k, path); } }
  /** list checks o[k] is an array (null reads as []) and each item with item(x, itemPath). */
  list(o, k, path, item) {
    const v = o[k] === null ? [] : o[k];
    if (!Array.isArray(v)) this.fail(join(path, k), 'a list', v);
    if (o[k] === null) o[k] = v;
    v.forEach((x, i) => item(x, `${join(path, k)}[${i}]`));
    return v;
  }
  span(o, k, path) {
    const v = o[k];
    if (!Array.isArray(v) || v.length !== 2 || !Number.isInteger(v[0]) || !Number.isInteger(v[1]) || v[0] > v[1]) this.fail(join(path, k), '[start, end]', v);
    return v;
  }
  author(o, k, path) {
    const a = this.obj(o[k], join(path, k));
    this.str(a, 'delegation', join(path, k));
    this.str(a, 'name', join(path, k));
    return a;
  }
}

function join(path, k) { return path ? `${path}.${k}` : k; }

// ---- brackets (PROTOCOL.md 2.2) ---------------------------------------------

const GROUP_KINDS = ['optional', 'alternatives'];
const SOURCES = ['bracket', 'proposal'];

/**
 * readBracketListing reads a bracket listing (the `brackets` message or
 * GET .../brackets): {rev, groups: [{id, span, kind, parent, depth,
 * parent_alternative, alternatives: [{text, span, by, source}]}],
 * diagnostics: [{pos, code, message}]}.
 */
export function readBracketListing(m) {
  const c = new Checker('bracket listing');
  c.obj(m, 'the listing');
  c.int(m, 'rev');
  c.list(m, 'groups', '', (g, p) => {
    c.obj(g, p);
    c.str(g, 'id', p);
    c.span(g, 'span', p);
    c.oneOf(g, 'kind', p, GROUP_KINDS);
    c.nullable(g, 'parent', p, (o, k, q) => c.str(o, k, q));
    c.int(g, 'parent_alternative', p);
    c.int(g, 'depth', p);
    const alts = c.list(g, 'alternatives', p, (a, q) => {
      c.obj(a, q);
      c.str(a, 'text', q);
      c.span(a, 'span', q);
      c.author(a, 'by', q);
      c.oneOf(a, 'source', q, SOURCES);
    });
    if (alts.length === 0) c.fail(join(p, 'alternatives'), 'at least one alternative', alts);
  });
  c.list(m, 'diagnostics', '', (d, p) => {
    c.obj(d, p);
    c.int(d, 'pos', p);
    c.str(d, 'code', p);
    c.str(d, 'message', p);
  });
  return m;
}

/** readBracketStats reads GET .../brackets/stats: {rev, open, diagnostics, clean, points: [{rev, open, ts}]}. */
export function readBracketStats(s) {
  const c = new Checker('bracket progress');
  c.obj(s, 'the progress');
  c.int(s, 'rev');
  c.int(s, 'open');
  c.int(s, 'diagnostics');
  c.bool(s, 'clean');
  c.list(s, 'points', '', (x, p) => { c.obj(x, p); c.int(x, 'rev', p); c.int(x, 'open', p); c.int(x, 'ts', p); });
  return s;
}

/** readProposals reads GET .../proposals: {proposals: [{group, alternative, text, by, rev, ts}]}. */
export function readProposals(r) {
  const c = new Checker('proposal list');
  c.obj(r, 'the list');
  c.list(r, 'proposals', '', (x, p) => {
    c.obj(x, p); c.str(x, 'group', p); c.int(x, 'alternative', p); c.str(x, 'text', p); c.author(x, 'by', p); c.int(x, 'rev', p);
  });
  return r;
}

/** readDecisions reads GET .../decisions: {decisions: [{group, alternatives, choice, result, by, rev, ts}]}. */
export function readDecisions(r) {
  const c = new Checker('decision list');
  c.obj(r, 'the list');
  c.list(r, 'decisions', '', (x, p) => {
    c.obj(x, p); c.str(x, 'group', p); c.str(x, 'choice', p); c.author(x, 'by', p); c.int(x, 'rev', p);
    c.list(x, 'alternatives', p, (a, q) => { if (typeof a !== 'string') c.fail(q, 'text', a); });
  });
  return r;
}

// ---- provisions (PROTOCOL.md 2.5) -------------------------------------------

export const STATUSES = ['open', 'informal', 'agreed', 'set_aside'];
const PROVISION_KINDS = ['part', 'chapter', 'section', 'article', 'paragraph', 'preamble', 'subparagraph', 'item'];

/**
 * readProvisionListing reads a provisions listing (the `provisions`
 * message or GET .../provisions): {rev, provisions: [{id, kind, num,
 * title, span, parent, status, locked, locked_span?, status_by,
 * status_rev, packages}]}.
 */
export function readProvisionListing(m) {
  const c = new Checker('provisions listing');
  c.obj(m, 'the listing');
  c.int(m, 'rev');
  c.list(m, 'provisions', '', (x, p) => {
    c.obj(x, p);
    c.str(x, 'id', p);
    c.oneOf(x, 'kind', p, PROVISION_KINDS);
    c.str(x, 'num', p);
    c.str(x, 'title', p);
    c.span(x, 'span', p);
    c.nullable(x, 'parent', p, (o, k, q) => c.str(o, k, q));
    c.oneOf(x, 'status', p, STATUSES);
    c.bool(x, 'locked', p);
    if (x.locked_span !== undefined) c.span(x, 'locked_span', p);
    c.nullable(x, 'status_by', p, (o, k, q) => c.author(o, k, q));
    c.nullable(x, 'status_rev', p, (o, k, q) => c.int(o, k, q));
    c.list(x, 'packages', p, (k, q) => { if (typeof k !== 'string') c.fail(q, 'text', k); });
  });
  return m;
}

/** readProvisionStats reads the provision progress: {rev, counts, points: [{rev, agreed, total}], articles}. */
export function readProvisionStats(s) {
  const c = new Checker('provision progress');
  c.obj(s, 'the progress');
  c.int(s, 'rev');
  const counts = c.obj(s.counts, 'counts');
  for (const k of [...STATUSES, 'total']) c.int(counts, k, 'counts');
  c.list(s, 'points', '', (x, p) => { c.obj(x, p); c.int(x, 'rev', p); c.int(x, 'agreed', p); c.int(x, 'total', p); });
  c.list(s, 'articles', '', (x, p) => { c.obj(x, p); c.str(x, 'num', p); c.int(x, 'paragraphs', p); c.int(x, 'agreed', p); });
  return s;
}

// ---- history (PROTOCOL.md 2.3) ----------------------------------------------

/** readTextAt reads GET .../text: {rev, text}. */
export function readTextAt(r) {
  const c = new Checker('text');
  c.obj(r, 'the reply');
  c.int(r, 'rev');
  c.str(r, 'text');
  return r;
}

const SEGMENT_OPS = ['equal', 'insert', 'delete'];

/** readDiff reads GET .../diff: {from, to, segments: [{op, text, from, to, rev?, delegation?, name?}]}. */
export function readDiff(r) {
  const c = new Checker('diff');
  c.obj(r, 'the diff');
  c.int(r, 'from');
  c.int(r, 'to');
  c.list(r, 'segments', '', (s, p) => {
    c.obj(s, p); c.oneOf(s, 'op', p, SEGMENT_OPS); c.str(s, 'text', p); c.int(s, 'from', p); c.int(s, 'to', p);
    c.optInt(s, 'rev', p); c.optStr(s, 'delegation', p); c.optStr(s, 'name', p);
  });
  return r;
}

/** readAuthors reads GET .../authors: {rev, spans: [{start, end, rev, delegation, name}]}. */
export function readAuthors(r) {
  const c = new Checker('authorship');
  c.obj(r, 'the authorship');
  c.int(r, 'rev');
  c.list(r, 'spans', '', (s, p) => {
    c.obj(s, p); c.int(s, 'start', p); c.int(s, 'end', p); c.int(s, 'rev', p); c.str(s, 'delegation', p); c.str(s, 'name', p);
  });
  return r;
}

/** readTimeline reads GET .../history: {rev, next, entries: [{from, to, by, client, kind?, start, end, ops, at, inserted, deleted, summary}]}. */
export function readTimeline(r) {
  const c = new Checker('timeline');
  c.obj(r, 'the timeline');
  c.int(r, 'rev');
  c.int(r, 'next');
  c.list(r, 'entries', '', (x, p) => {
    c.obj(x, p);
    for (const k of ['from', 'to', 'start', 'end', 'ops', 'at', 'inserted', 'deleted']) c.int(x, k, p);
    c.author(x, 'by', p);
    c.str(x, 'client', p);
    c.str(x, 'summary', p);
    c.optStr(x, 'kind', p); c.optStr(x, 'group', p); c.optStr(x, 'preview', p);
  });
  return r;
}

/** readLabels reads GET .../labels: {labels: [{name, rev, by, ts}]}. */
export function readLabels(r) {
  const c = new Checker('list of named versions');
  c.obj(r, 'the list');
  c.list(r, 'labels', '', (l, p) => { c.obj(l, p); c.str(l, 'name', p); c.int(l, 'rev', p); c.int(l, 'ts', p); c.author(l, 'by', p); });
  return r;
}

/** readOps reads GET .../ops: {ops: [{rev, op, client, seq, by, ts}]}. */
export function readOps(r) {
  const c = new Checker('op log');
  c.obj(r, 'the log');
  c.list(r, 'ops', '', (o, p) => {
    c.obj(o, p); c.int(o, 'rev', p); c.int(o, 'ts', p); c.author(o, 'by', p);
    if (!Array.isArray(o.op)) c.fail(join(p, 'op'), 'an op (a list)', o.op);
  });
  return r;
}

/** readDraftList reads GET /api/docs: {docs: [{id, title, rev, created, updated}]}. */
export function readDraftList(r) {
  const c = new Checker('draft list');
  c.obj(r, 'the list');
  c.list(r, 'docs', '', (d, p) => { c.obj(d, p); c.str(d, 'id', p); c.str(d, 'title', p); c.int(d, 'rev', p); });
  return r;
}

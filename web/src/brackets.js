// A client-side reading of the bracket grammar (docs/BRACKETS.md), used to
// highlight brackets while typing; the server's list, with ids and
// proposers, feeds the side panel. Offsets are UTF-16 offsets into the JS
// string (highlighting only, never sent).
//
//   [text]                 optional text
//   [a/b/c]                alternatives, split by "/" at the bracket's top level
//   [a][b], [a] or [b]     touching, or the word "or" between blanks: one group
//   [a] [b], [a], [b]      anything else between: two independent groups
//   nesting                [States [shall/may] adopt]
//   \[ \] \/ \\            escapes: a literal bracket, slash or backslash
//
// Unbalanced brackets are plain text and become diagnostics; so do
// brackets nested more than MAX_DEPTH deep, with everything in them.
//
// Cost in proportion to the change: BracketIndex keeps the positions of the
// special characters (unescaped "[", "]" and "/") and, on an edit, re-reads
// only the changed stretch of text (widened over backslashes, whose escapes
// can reach one character further); the pairing then walks those positions,
// not the text, with an explicit stack (no recursion: any depth is fine).

// OR_SEPARATOR, tried where a bracket ends: the word "or" between blanks.
const OR_SEPARATOR = /[ \t\u00a0\u202f]+or[ \t\u00a0\u202f]+/y;
/** MAX_DEPTH is how deep brackets nest (docs/BRACKETS.md rule 7): depths 0 to MAX_DEPTH - 1. */
export const MAX_DEPTH = 16;
const OPEN = 91; // [
const CLOSE = 93; // ]
const SLASH = 47; // /
const BACKSLASH = 92; // \

// A text is a JS string or a CodeMirror Text (both have length); slice
// reads a stretch of either without building the whole string.
function slice(doc, from, to) { return typeof doc === 'string' ? doc.slice(from, to) : doc.sliceString(from, to); }

function charAt(doc, i) { return slice(doc, i, i + 1).charCodeAt(0); }

/**
 * scan appends to pos/kind the unescaped special characters of doc in
 * [from, to), doc[from - 1] not being a backslash (so the escape state at
 * from is known). A backslash at to - 1 escapes doc[to], which is skipped.
 */
function scan(doc, from, to, pos, kind) {
  const s = slice(doc, from, Math.min(to + 1, doc.length));
  const end = to - from;
  const special = /[[\]/\\]/g;
  for (let m = special.exec(s); m !== null && m.index < end; m = special.exec(s)) {
    const i = m.index;
    const c = s.charCodeAt(i);
    if (c === BACKSLASH) {
      const n = s.charCodeAt(i + 1);
      if (n === OPEN || n === CLOSE || n === SLASH || n === BACKSLASH) special.lastIndex = i + 2;
      continue;
    }
    pos.push(from + i);
    kind.push(c);
  }
}

/**
 * BracketIndex keeps the special characters of a text (a string or a
 * CodeMirror Text) up to date through edits.
 */
export class BracketIndex {
  constructor(doc) {
    this.pos = []; // positions of the unescaped "[", "]", "/", in order
    this.kind = []; // their character codes
    scan(doc, 0, doc.length, this.pos, this.kind);
    this.result = null;
  }

  /** updated returns a copy of the index after an edit (see update): CodeMirror states are immutable. */
  updated(doc, fromA, toA, fromB, toB) {
    const next = Object.create(BracketIndex.prototype);
    next.pos = this.pos.slice();
    next.kind = this.kind.slice();
    next.result = null;
    next.shift = null;
    const at = next.update(doc, fromA, toA, fromB, toB);
    // Typing plain text changes no bracket character (update re-read none
    // and dropped none): the reading is the last one with the positions
    // after the edit moved, unless the edit is between a "]" and a "[" (it
    // may join or split a group there).
    if (this.result && at >= 0 && !(at > 0 && at < this.kind.length && this.kind[at - 1] === CLOSE && this.kind[at] === OPEN)) {
      next.shift = { base: this.result, toA, delta: (toB - fromB) - (toA - fromA) };
    }
    return next;
  }

  /**
   * update applies an edit: the text [fromA, toA) of the old text became
   * [fromB, toB) of doc, the new text (several changes: pass the span from
   * the first one's start to the last one's end). Only that stretch of doc
   * is read again.
   */
  update(doc, fromA, toA, fromB, toB) {
    // Widen to where the escape state is known: back over backslashes
    // before the change, forward over backslashes after it plus the
    // character they may escape.
    let start = fromB;
    while (start > 0 && charAt(doc, start - 1) === BACKSLASH) start--;
    let end = toB;
    while (end < doc.length && charAt(doc, end) === BACKSLASH) end++;
    end = Math.min(end + 1, doc.length);
    const delta = (toB - fromB) - (toA - fromA);
    const startA = fromA - (fromB - start);
    const endA = end - delta;
    const lo = lowerBound(this.pos, startA);
    const hi = lowerBound(this.pos, endA);
    const pos = [];
    const kind = [];
    scan(doc, start, end, pos, kind);
    if (delta !== 0) for (let i = hi; i < this.pos.length; i++) this.pos[i] += delta;
    if (pos.length + hi - lo < 1000) {
      this.pos.splice(lo, hi - lo, ...pos);
      this.kind.splice(lo, hi - lo, ...kind);
    } else { // a spread of many arguments would overflow the stack
      this.pos = this.pos.slice(0, lo).concat(pos, this.pos.slice(hi));
      this.kind = this.kind.slice(0, lo).concat(kind, this.kind.slice(hi));
    }
    this.result = null;
    // For updated: where in the list the edit is, when it added and
    // removed no bracket character; -1 otherwise.
    return hi === lo && pos.length === 0 ? lo : -1;
  }

  /**
   * read pairs the brackets of doc (the text of the last update):
   * {brackets, groups, diagnostics} as parseBrackets returns them. Cached
   * until the next update. It walks the special characters, not the text,
   * with an explicit stack.
   */
  read(doc) {
    if (this.result) return this.result;
    if (this.shift) {
      this.result = shifted(this.shift.base, this.shift.toA, this.shift.delta);
      this.shift = null;
      this.lastRead = 'shift';
      return this.result;
    }
    this.lastRead = 'full';
    const { pos, kind } = this;
    const opened = []; // every "[" in text order: {from, to, alts, up, ...}
    const diagnostics = [];
    const stack = []; // open "[" records, with their slashes
    for (let k = 0; k < pos.length; k++) {
      const i = pos[k];
      const c = kind[k];
      if (c === OPEN) {
        const b = { from: i, to: -1, alts: null, slashes: null, up: stack.length ? stack[stack.length - 1] : null, depth: 0, parent: null, group: 0, altBase: 0 };
        opened.push(b);
        stack.push(b);
      } else if (c === CLOSE) {
        const b = stack.pop();
        if (!b) { diagnostics.push({ from: i, to: i + 1, message: 'unmatched: a closing bracket with nothing to close' }); continue; }
        b.to = i + 1;
        if (b.slashes === null) {
          b.alts = [{ from: b.from + 1, to: i }];
        } else {
          b.alts = [];
          let at = b.from;
          for (const sl of b.slashes) { b.alts.push({ from: at + 1, to: sl }); at = sl; }
          b.alts.push({ from: at + 1, to: i });
          b.slashes = null;
        }
      } else if (stack.length > 0) {
        const top = stack[stack.length - 1];
        (top.slashes || (top.slashes = [])).push(i);
      }
    }
    // A "[" never closed is plain text: a diagnostic, and no parent. The
    // parent of a bracket is the nearest closed bracket open where it
    // starts (pairing is by nearest, so it encloses it).
    for (const b of stack) diagnostics.push({ from: b.from, to: b.from + 1, message: 'unclosed: an opening bracket that is never closed' });
    // A bracket opened inside MAX_DEPTH others is plain text, with all it
    // holds; the outermost such one is a too_deep diagnostic.
    const closed = [];
    for (const b of opened) {
      if (b.to < 0) continue;
      let p = b.up;
      while (p !== null && p.to < 0) p = p.up;
      b.up = p; // shortens the walk for the brackets inside
      b.parent = p;
      b.depth = p === null ? 0 : p.depth + 1;
      if (b.depth >= MAX_DEPTH) {
        if (b.depth === MAX_DEPTH) diagnostics.push({ from: b.from, to: b.from + 1, message: `too_deep: brackets nested more than ${MAX_DEPTH} deep are read as plain text` });
        continue;
      }
      closed.push(b);
    }
    for (const b of closed) b.up = undefined;
    // Adjacent brackets: a separator between them holds no bracket or
    // slash, so both are in the same alternative of the same parent.
    const groups = [];
    const lastAtDepth = []; // by depth: the last bracket seen
    for (const b of closed) {
      const prev = lastAtDepth[b.depth];
      if (prev && prev.parent === b.parent && prev.to <= b.from && separated(doc, prev.to, b.from)) {
        b.group = prev.group;
        const g = groups[b.group];
        b.altBase = g.alts;
        g.alts += b.alts.length;
        g.brackets.push(b);
        g.to = b.to;
      } else {
        b.group = groups.length;
        b.altBase = 0;
        groups.push({ from: b.from, to: b.to, depth: b.depth, brackets: [b], alts: b.alts.length });
      }
      lastAtDepth[b.depth] = b;
    }
    diagnostics.sort((a, b) => a.from - b.from);
    this.result = { brackets: closed, groups, diagnostics };
    return this.result;
  }
}

// shifted is a reading with every position at or after toA (of the text
// it was made on) moved by delta, as after an edit of [.., toA) that
// changed no bracket character. Brackets, groups and diagnostics wholly
// before the edit are shared with base (readings are never changed).
function shifted(base, toA, delta) {
  const sh = (p) => (p >= toA ? p + delta : p); // a bracket character's position
  const sh1 = (p) => (p - 1 >= toA ? p + delta : p); // the position after one
  const copies = new Map();
  const brackets = base.brackets.map((b) => {
    const parent = b.parent !== null && copies.has(b.parent) ? copies.get(b.parent) : b.parent;
    if (b.to - 1 < toA && parent === b.parent) return b;
    const alts = new Array(b.alts.length);
    for (let k = 0; k < alts.length; k++) alts[k] = { from: sh1(b.alts[k].from), to: sh(b.alts[k].to) };
    const nb = { from: sh(b.from), to: sh1(b.to), alts, depth: b.depth, parent, group: b.group, altBase: b.altBase };
    copies.set(b, nb);
    return nb;
  });
  const groups = base.groups.map((g) => {
    if (!copies.has(g.brackets[g.brackets.length - 1])) return g;
    const bs = g.brackets.map((b) => copies.get(b) || b);
    return { ...g, from: bs[0].from, to: bs[bs.length - 1].to, brackets: bs };
  });
  const diagnostics = base.diagnostics.map((d) => (d.from < toA ? d : { ...d, from: d.from + delta, to: d.from + delta + 1 }));
  return { brackets, groups, diagnostics };
}

// separated reports whether doc[from, to) joins two brackets into one
// group: nothing, or blanks, "or", blanks. For the highlighting, more than
// MAX_SEPARATOR characters between two brackets never join them (the
// server's reading, which the panel shows, has no such bound).
const MAX_SEPARATOR = 64;
function separated(doc, from, to) {
  if (from === to) return true;
  if (to - from > MAX_SEPARATOR) return false;
  const s = slice(doc, from, to);
  OR_SEPARATOR.lastIndex = 0;
  return OR_SEPARATOR.test(s) && OR_SEPARATOR.lastIndex === s.length;
}

function lowerBound(a, x) {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid] < x) lo = mid + 1; else hi = mid;
  }
  return lo;
}

/**
 * parseBrackets returns {brackets, groups, diagnostics}. Each bracket has
 * from/to (to is after "]"), depth (0 = outermost), parent (the enclosing
 * bracket or null), the alternatives' spans (inside the bracket, without
 * the "/"), its group index and altBase (the index in its group of its
 * first alternative). Groups list their brackets in text order.
 */
export function parseBrackets(s) { return new BracketIndex(s).read(s); }

/** unescape gives the reading form of an alternative's text. */
export function unescape(s) { return s.replace(/\\([[\]/\\])/g, '$1'); }

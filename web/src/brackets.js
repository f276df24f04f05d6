// A client-side reading of the bracket grammar (docs/BRACKETS.md), used to
// highlight brackets while typing; the server's list, with ids and
// proposers, feeds the side panel. Offsets are UTF-16 offsets into the JS
// string (highlighting only, never sent).
//
//   [text]                 optional text
//   [a/b/c]                alternatives, split by "/" at the bracket's top level
//   [a] [b], [a]or… [a] or [b]   adjacent brackets (blanks, or blanks "or" blanks) form one group
//   nesting                [States [shall/may] adopt]
//   \[ \] \/ \\            escapes: a literal bracket, slash or backslash
//
// Unbalanced brackets are plain text and become diagnostics.

const SEPARATOR = /^(?:[ \t\u00a0\u202f]*|[ \t\u00a0\u202f]+or[ \t\u00a0\u202f]+)$/;

/**
 * parseBrackets returns {brackets, groups, diagnostics}. Each bracket has
 * from/to (to is after "]"), depth (0 = outermost), the alternatives' spans
 * (inside the bracket, without the "/") and its group index. Groups list
 * their brackets in text order.
 */
export function parseBrackets(s) {
  const closed = [];
  const diagnostics = [];
  const stack = []; // open "[": {from, slashes}
  // Jump from special character to special character: the regex engine
  // scans the plain text far faster than a loop over every code unit.
  const special = /[[\]/\\]/g;
  for (let m = special.exec(s); m !== null; m = special.exec(s)) {
    const i = m.index;
    const c = s.charCodeAt(i);
    if (c === 92 /* \ */) {
      if (i + 1 < s.length && '[]/\\'.includes(s[i + 1])) special.lastIndex = i + 2;
      continue;
    }
    if (c === 91 /* [ */) {
      stack.push({ from: i, slashes: [] });
    } else if (c === 93 /* ] */) {
      const b = stack.pop();
      if (!b) { diagnostics.push({ from: i, to: i + 1, message: 'unmatched: a closing bracket with nothing to close' }); continue; }
      b.to = i + 1;
      const cuts = [b.from, ...b.slashes, i];
      b.alts = [];
      for (let k = 0; k + 1 < cuts.length; k++) b.alts.push({ from: cuts[k] + 1, to: cuts[k + 1] });
      closed.push(b);
    } else if (c === 47 /* / */ && stack.length > 0) {
      stack[stack.length - 1].slashes.push(i);
    }
  }
  // A "[" never closed is plain text; it never encloses a closed pair's
  // ends (pairing is by nearest), so depths come from closed pairs alone.
  for (const b of stack) diagnostics.push({ from: b.from, to: b.from + 1, message: 'unclosed: an opening bracket that is never closed' });
  closed.sort((a, b) => a.from - b.from);
  const open = [];
  for (const b of closed) {
    while (open.length && open[open.length - 1].to <= b.from) open.pop();
    b.depth = open.length;
    open.push(b);
  }
  // Adjacent brackets: only a separator between them, which can hold no
  // bracket or slash, so both are at the same level of the same alternative.
  const groups = [];
  const lastAtDepth = new Map();
  for (const b of closed) {
    const prev = lastAtDepth.get(b.depth);
    if (prev && prev.to <= b.from && SEPARATOR.test(s.slice(prev.to, b.from))) {
      b.group = prev.group;
      groups[b.group].brackets.push(b);
      groups[b.group].to = b.to;
    } else {
      b.group = groups.length;
      groups.push({ from: b.from, to: b.to, depth: b.depth, brackets: [b] });
    }
    lastAtDepth.set(b.depth, b);
  }
  diagnostics.sort((a, b) => a.from - b.from);
  return { brackets: closed, groups, diagnostics };
}

/** unescape gives the reading form of an alternative's text. */
export function unescape(s) { return s.replace(/\\([[\]/\\])/g, '$1'); }

// A client-side reading of the bracket grammar, used to highlight brackets
// while typing (the server's list, with ids and proposers, feeds the side
// panel). Offsets are UTF-16 offsets into the JS string.
//
//   [text]                 optional text
//   [a/b/c]                alternatives, split by "/" at the bracket's top level
//   [a] [b], [a] or [b]    adjacent brackets form one group
//   nesting                [States [shall/may] adopt]
//   \/ \[ \]               a literal "/" or bracket (so "and\/or" stays one alternative)
//
// Unbalanced brackets become diagnostics; nothing is ever dropped.

/**
 * parseBrackets returns {brackets, groups, diagnostics}. Each bracket has
 * from/to (to is after "]"), depth (0 = outermost), the alternatives' spans
 * (inside the bracket, without the "/"), the positions of its top-level
 * slashes and its group index. Groups list their brackets in order.
 */
export function parseBrackets(s) {
  const brackets = [];
  const diagnostics = [];
  const stack = []; // open brackets: {from, depth, slashes: [], parent}
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 92 /* \ */ && i + 1 < s.length && '[]/'.includes(s[i + 1])) { i++; continue; }
    if (c === 91 /* [ */) {
      stack.push({ from: i, depth: stack.length, slashes: [] });
    } else if (c === 93 /* ] */) {
      const b = stack.pop();
      if (!b) { diagnostics.push({ from: i, to: i + 1, message: 'closing bracket without an opening one' }); continue; }
      b.to = i + 1;
      const cuts = [b.from, ...b.slashes, i];
      b.alts = [];
      for (let k = 0; k + 1 < cuts.length; k++) b.alts.push({ from: cuts[k] + 1, to: cuts[k + 1] });
      brackets.push(b);
    } else if (c === 47 /* / */ && stack.length > 0) {
      stack[stack.length - 1].slashes.push(i);
    }
  }
  for (const b of stack) diagnostics.push({ from: b.from, to: b.from + 1, message: 'opening bracket that is never closed' });
  brackets.sort((a, b) => a.from - b.from);
  // Group adjacent brackets of one depth separated only by spaces or "or".
  const groups = [];
  const lastAtDepth = new Map();
  for (const b of brackets) {
    const prev = lastAtDepth.get(b.depth);
    if (prev && /^\s*(?:or\s+)?$/.test(s.slice(prev.to, b.from)) && sameParent(prev, b, brackets)) {
      b.group = prev.group;
      groups[b.group].brackets.push(b);
      groups[b.group].to = b.to;
    } else {
      b.group = groups.length;
      groups.push({ from: b.from, to: b.to, depth: b.depth, brackets: [b] });
    }
    lastAtDepth.set(b.depth, b);
  }
  return { brackets, groups, diagnostics };
}

// sameParent: two brackets at one depth are siblings if no bracket of a
// smaller depth closes or opens between them.
function sameParent(a, b, all) {
  for (const x of all) {
    if (x.depth < a.depth && ((x.to > a.to && x.to <= b.from) || (x.from >= a.to && x.from < b.from))) return false;
  }
  return true;
}

/** openGroupCount counts the groups of a text (for the list when the server has no bracket endpoints). */
export function openGroupCount(s) { return parseBrackets(s).groups.length; }

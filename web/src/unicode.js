// Conversions between CodeMirror's UTF-16 offsets and the code-point offsets
// of the wire protocol. Every position that crosses the network goes through
// here, so an emoji or any astral character counts as one on the wire and as
// two in the editor.

import { Text } from '@codemirror/state';

function isHigh(c) { return c >= 0xd800 && c <= 0xdbff; }
function isLow(c) { return c >= 0xdc00 && c <= 0xdfff; }

const PAIR = /[\uD800-\uDBFF][\uDC00-\uDFFF]/g;

/** cpLen returns the number of code points in the JS string s. */
export function cpLen(s) {
  // Each surrogate pair is two UTF-16 units and one code point; the regex
  // engine finds them far faster than a loop over every unit.
  let pairs = 0;
  PAIR.lastIndex = 0;
  while (PAIR.exec(s) !== null) pairs++;
  return s.length - pairs;
}

/** cpCount returns the number of code points in doc between UTF-16 offsets from and to. */
export function cpCount(doc, from, to) {
  if (to <= from) return 0;
  return cpLen(doc.sliceString(from, to));
}

/**
 * advance returns the UTF-16 offset reached by walking n code points forward
 * from the UTF-16 offset from in doc. It throws a RangeError when the walk
 * runs past the end: the op does not fit the text, so the caller resyncs.
 */
export function advance(doc, from, n) {
  if (n === 0) return from;
  let pos = from;
  const it = doc.iterRange(from, doc.length);
  // A surrogate pair never straddles two chunks: CodeMirror splits only at
  // line breaks and at the range ends, which are code-point boundaries.
  for (;;) {
    const { value, done } = it.next();
    if (done) break;
    for (let i = 0; i < value.length; i++) {
      if (isHigh(value.charCodeAt(i)) && i + 1 < value.length && isLow(value.charCodeAt(i + 1))) {
        i++;
        pos += 2;
      } else {
        pos += 1;
      }
      if (--n === 0) return pos;
    }
  }
  throw new RangeError(`draftroom: op walks ${n} code points past the end of the draft`);
}

// ---- the astral characters of a document ------------------------------
//
// Converting between code points and UTF-16 offsets needs the surrogate
// pairs before the offset. An AstralIndex lists where they are (sorted
// UTF-16 offsets of their first unit), so a conversion is a binary search
// instead of a walk over the text from its start, and an edit updates the
// list by re-reading only the changed stretch. Indexes are kept per
// CodeMirror Text (immutable) in a WeakMap; the editor updates them
// through trackAstral as transactions happen.

const astralByDoc = new WeakMap();

function lowerBound(a, x) {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid] < x) lo = mid + 1; else hi = mid;
  }
  return lo;
}

function scanPairs(doc, from, to, out) {
  const s = doc.sliceString(from, to);
  PAIR.lastIndex = 0;
  for (let m = PAIR.exec(s); m !== null; m = PAIR.exec(s)) out.push(from + m.index);
  return out;
}

/** astralIndex returns the sorted UTF-16 offsets of the surrogate pairs of doc (cached per doc). */
export function astralIndex(doc) {
  let idx = astralByDoc.get(doc);
  if (!idx) {
    idx = [];
    let at = 0;
    for (const it = doc.iter(); !it.next().done;) {
      const chunk = it.value;
      PAIR.lastIndex = 0;
      for (let m = PAIR.exec(chunk); m !== null; m = PAIR.exec(chunk)) idx.push(at + m.index);
      at += chunk.length;
    }
    astralByDoc.set(doc, idx);
  }
  return idx;
}

/**
 * trackAstral gives newDoc (oldDoc after changes) its index, from oldDoc's
 * when there is one, re-reading only the changed stretch.
 */
export function trackAstral(oldDoc, newDoc, changes) {
  if (astralByDoc.has(newDoc)) return astralByDoc.get(newDoc);
  const old = astralByDoc.get(oldDoc);
  if (!old) return astralIndex(newDoc);
  let fromA = Infinity; let toA = -1; let fromB = Infinity; let toB = -1;
  changes.iterChangedRanges((fa, ta, fb, tb) => {
    fromA = Math.min(fromA, fa); toA = Math.max(toA, ta);
    fromB = Math.min(fromB, fb); toB = Math.max(toB, tb);
  });
  if (toA < 0) { astralByDoc.set(newDoc, old); return old; }
  const delta = (toB - fromB) - (toA - fromA);
  const lo = lowerBound(old, Math.max(0, fromA - 1));
  const hi = lowerBound(old, toA);
  const mid = scanPairs(newDoc, Math.max(0, fromB - 1), Math.min(newDoc.length, toB + 1), []);
  const idx = old.slice(0, lo).concat(mid);
  for (let i = hi; i < old.length; i++) if (old[i] + delta >= toB) idx.push(old[i] + delta);
  astralByDoc.set(newDoc, idx);
  return idx;
}

/** posToCp converts a UTF-16 offset in doc to a code-point offset. */
export function posToCp(doc, pos) {
  pos = Math.max(0, Math.min(pos, doc.length));
  return pos - lowerBound(astralIndex(doc), pos);
}

/** cpLength is the number of code points in doc. */
export function cpLength(doc) { return doc.length - astralIndex(doc).length; }

/** cpToPos converts a code-point offset to a UTF-16 offset in doc, clamped to the doc. */
export function cpToPos(doc, cp) {
  if (cp <= 0) return 0;
  if (cp >= cpLength(doc)) return doc.length;
  // The k-th pair is at code point idx[k] - k; count the pairs before cp.
  const idx = astralIndex(doc);
  let lo = 0;
  let hi = idx.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (idx[mid] - mid < cp) lo = mid + 1; else hi = mid;
  }
  return cp + lo;
}

/** step is advance through the index: it throws RangeError past the end. */
function step(doc, from, n) {
  if (n === 0) return from;
  const cp = posToCp(doc, from) + n;
  if (cp > cpLength(doc)) throw new RangeError(`draftroom: op walks ${cp - cpLength(doc)} code points past the end of the draft`);
  return cpToPos(doc, cp);
}

/**
 * changesToOp turns a CodeMirror ChangeSet made on oldDoc into an
 * ot-text-unicode op. Deletes carry the deleted text ({d:"..."}) so that the
 * server refuses an op made on a text that is not the one it has, instead of
 * deleting the wrong characters.
 */
export function changesToOp(changes, oldDoc) {
  const op = [];
  let pos = 0;
  changes.iterChanges((fromA, toA, _fromB, _toB, inserted) => {
    if (fromA > pos) pushSkip(op, posToCp(oldDoc, fromA) - posToCp(oldDoc, pos));
    if (toA > fromA) op.push({ d: oldDoc.sliceString(fromA, toA) });
    const ins = inserted.toString();
    if (ins.length > 0) op.push(ins);
    pos = toA;
  });
  return op;
}

function pushSkip(op, n) {
  if (n <= 0) return;
  if (typeof op[op.length - 1] === 'number') op[op.length - 1] += n;
  else op.push(n);
}

/** dlen is the number of code points a delete component removes. */
export function dlen(d) { return typeof d === 'number' ? d : cpLen(d); }

/**
 * opToChanges turns an op (code points, made on doc) into CodeMirror change
 * specs in doc's UTF-16 offsets. Throws RangeError when the op does not fit.
 */
export function opToChanges(op, doc) {
  const specs = [];
  let pos = 0;
  for (const c of op) {
    if (typeof c === 'number') {
      pos = step(doc, pos, c);
    } else if (typeof c === 'string') {
      specs.push({ from: pos, insert: c });
    } else {
      const end = step(doc, pos, dlen(c.d));
      if (typeof c.d === 'string' && doc.sliceString(pos, end) !== c.d) {
        throw new RangeError('draftroom: op deletes text that differs from the draft');
      }
      specs.push({ from: pos, to: end });
      pos = end;
    }
  }
  return specs;
}

/** textOf builds a CodeMirror Text from a string, splitting on "\n" only. */
export function textOf(s) { return Text.of(s.split('\n')); }

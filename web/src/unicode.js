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

/** posToCp converts a UTF-16 offset in doc to a code-point offset. */
export function posToCp(doc, pos) { return cpCount(doc, 0, Math.min(pos, doc.length)); }

/** cpToPos converts a code-point offset to a UTF-16 offset in doc, clamped to the doc. */
export function cpToPos(doc, cp) {
  if (cp <= 0) return 0;
  try { return advance(doc, 0, cp); } catch { return doc.length; }
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
    if (fromA > pos) pushSkip(op, cpCount(oldDoc, pos, fromA));
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
      pos = advance(doc, pos, c);
    } else if (typeof c === 'string') {
      specs.push({ from: pos, insert: c });
    } else {
      const end = advance(doc, pos, dlen(c.d));
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

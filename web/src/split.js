// Splitting an edit too big for one WebSocket message into several ops,
// sent and acknowledged one after the other (docs/PROTOCOL.md "Large
// edits"). Ops are ot-text-unicode ops: skips and delete counts in code
// points, strings as JS strings.

import { type } from 'ot-text-unicode';

/** DEFAULT_MAX_OP_BYTES bounds one op message (UTF-8 bytes of its JSON), a quarter of the server's default frame limit. */
export const DEFAULT_MAX_OP_BYTES = 256 * 1024;
const MIN_OP_BYTES = 1024;
// The bytes of an op message besides its op: type, a 128-character draft
// id, rev and seq.
const OVERHEAD = 256;

/** unitBytes is what JSON.stringify then UTF-8 make of the code unit at i of s (a surrogate pair counts at its first unit). */
function unitBytes(s, i) {
  const c = s.charCodeAt(i);
  if (c < 0x80) {
    if (c === 0x22 || c === 0x5c || c === 8 || c === 9 || c === 10 || c === 12 || c === 13) return 2;
    return c < 0x20 ? 6 : 1;
  }
  if (c < 0x800) return 2;
  if (c >= 0xd800 && c <= 0xdbff) {
    const d = s.charCodeAt(i + 1);
    return d >= 0xdc00 && d <= 0xdfff ? 4 : 6;
  }
  if (c >= 0xdc00 && c <= 0xdfff) return 6; // a lone low surrogate
  return 3;
}

/**
 * prefix returns the longest prefix of s (whole code points) whose JSON
 * string form, quotes excluded, fits in room bytes: {part, cps, bytes}
 * (bytes with the quotes). With takeOne it takes at least one code point.
 */
function prefix(s, room, takeOne) {
  let i = 0;
  let bytes = 0;
  let cps = 0;
  while (i < s.length) {
    const n = unitBytes(s, i);
    if (bytes + n > room && !(takeOne && i === 0)) break;
    bytes += n;
    cps++;
    i += n === 4 ? 2 : 1;
  }
  return { part: s.slice(0, i), cps, bytes: bytes + 2 };
}

/** opBytes is the length of op's JSON form, in UTF-8 bytes. */
export function opBytes(op) {
  let n = 1;
  for (const c of op) {
    n++;
    if (typeof c === 'number') n += String(c).length;
    else if (typeof c === 'string') n += prefix(c, Infinity, true).bytes;
    else n += 6 + (typeof c.d === 'string' ? prefix(c.d, Infinity, true).bytes : String(c.d).length);
  }
  return n;
}

/**
 * splitOp returns ops that, applied one after the other, do what op does,
 * each an op message of at most maxBytes. An op that fits comes back alone.
 * Deletes go first, inserts after, so the draft never grows beyond the
 * longer of its lengths before and after op (the server refuses an op
 * that takes a draft past its maximum length).
 */
export function splitOp(op, maxBytes = DEFAULT_MAX_OP_BYTES) {
  const budget = Math.max(maxBytes, MIN_OP_BYTES) - OVERHEAD;
  let quick = 2;
  for (const c of op) quick += 24 + 6 * (typeof c === 'string' ? c.length : typeof c === 'object' && typeof c.d === 'string' ? c.d.length : 0);
  if (quick <= budget || opBytes(op) <= budget) return [op];
  const deletes = [];
  const inserts = [];
  for (const c of op) {
    if (typeof c === 'number') { deletes.push(c); inserts.push(c); } else if (typeof c === 'string') inserts.push(c);
    else deletes.push(c);
  }
  return chunk(inserts, budget, chunk(deletes, budget, []));
}

function pushSkip(op, n) {
  if (n <= 0) return;
  if (typeof op[op.length - 1] === 'number') op[op.length - 1] += n;
  else op.push(n);
}

// chunk appends to pieces the ops, each within budget bytes, that do op
// one after the other: each starts with a skip to where the one before
// stopped (before it the text is op's output, after it op's input).
function chunk(op, budget, pieces) {
  let cur = [];
  let pos = 0;
  let start = 0;
  let size = 3;
  const flush = () => {
    if (cur.length > 0) {
      const piece = [];
      pushSkip(piece, start);
      for (const c of cur) if (typeof c === 'number') pushSkip(piece, c); else piece.push(c);
      while (typeof piece[piece.length - 1] === 'number') piece.pop();
      if (piece.length > 0) pieces.push(type.normalize(piece));
    }
    cur = [];
    start = pos;
    size = String(pos).length + 3;
  };
  for (const c of op) {
    if (typeof c === 'number') {
      pos += c;
      if (cur.length === 0) { start = pos; size = String(pos).length + 3; continue; }
      cur.push(c);
      size += String(c).length + 1;
    } else if (typeof c === 'string' || typeof c.d === 'string') {
      const isInsert = typeof c === 'string';
      let s = isInsert ? c : c.d;
      const extra = isInsert ? 1 : 7;
      while (s.length > 0) {
        const { part, cps, bytes } = prefix(s, budget - size - extra - 2, cur.length === 0);
        if (part.length === 0) { flush(); continue; }
        if (isInsert) { cur.push(part); pos += cps; } else cur.push({ d: part });
        size += bytes + extra;
        s = s.slice(part.length);
        if (s.length > 0) flush();
      }
    } else {
      if (size + 24 > budget) flush();
      cur.push(c);
      size += String(c.d).length + 7;
    }
  }
  flush();
  return pieces;
}

// The client-side bracket reader against the examples of docs/BRACKETS.md
// (spans in UTF-16 here; the examples are ASCII or BMP so they agree).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseBrackets, unescape } from '../src/brackets.js';

function groups(s) {
  return parseBrackets(s).groups.map((g) => ({
    span: [g.from, g.to],
    alts: g.brackets.flatMap((b) => b.alts.map((a) => s.slice(a.from, a.to))),
    depth: g.depth,
  }));
}

test('forms from docs/BRACKETS.md', () => {
  assert.deepEqual(groups('States [shall] act'), [{ span: [7, 14], alts: ['shall'], depth: 0 }]);
  assert.deepEqual(groups('[shall] or [may] or [must/will]'), [{ span: [0, 31], alts: ['shall', 'may', 'must', 'will'], depth: 0 }]);
  assert.deepEqual(groups('[shall]or [may]').map((g) => g.span), [[0, 7], [10, 15]]);
  assert.deepEqual(groups('[a]\n[b]').length, 2);
  assert.deepEqual(groups('[a], [b]').length, 2);
  assert.deepEqual(groups('[shall][may]'), [{ span: [0, 12], alts: ['shall', 'may'], depth: 0 }]);
  assert.deepEqual(groups('[a/b [c] d/e]'), [
    { span: [0, 13], alts: ['a', 'b [c] d', 'e'], depth: 0 },
    { span: [5, 8], alts: ['c'], depth: 1 },
  ]);
  assert.deepEqual(groups('[1 [2 [3 [4/5] 3] 2] 1]').map((g) => g.depth), [0, 1, 2, 3]);
  assert.deepEqual(groups('[and\\/or/or]')[0].alts.map(unescape), ['and/or', 'or']);
  assert.deepEqual(groups('\\[sic\\]'), []);
  assert.deepEqual(groups('[x [a]] [[b] y]').map((g) => g.span), [[0, 15], [3, 6], [9, 12]]);
});

test('unbalanced brackets are diagnostics and plain text', () => {
  let r = parseBrackets('[a [b] c');
  assert.deepEqual(r.groups.map((g) => [g.from, g.to, g.depth]), [[3, 6, 0]]);
  assert.deepEqual(r.diagnostics.map((d) => d.from), [0]);
  r = parseBrackets('[a] b] [c');
  assert.deepEqual(r.groups.map((g) => [g.from, g.to]), [[0, 3]]);
  assert.deepEqual(r.diagnostics.map((d) => d.message.split(':')[0]), ['unmatched', 'unclosed']);
  assert.deepEqual(r.diagnostics.map((d) => d.from), [5, 7]);
});

test('multilingual text around brackets', () => {
  assert.deepEqual(groups('تعتمد الدول [الأطراف/الأعضاء] التدابير')[0].alts, ['الأطراف', 'الأعضاء']);
  assert.deepEqual(groups('缔约国[应/可]采取措施')[0].span, [3, 8]);
  assert.deepEqual(groups('😀 [👍/👎] or [🤝] 😀')[0].alts, ['👍', '👎', '🤝']);
});

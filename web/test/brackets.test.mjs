// The client-side bracket reader against the examples of docs/BRACKETS.md
// (spans in UTF-16 here; the examples are ASCII or BMP so they agree).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Text } from '@codemirror/state';
import { parseBrackets, unescape, BracketIndex } from '../src/brackets.js';

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
  assert.deepEqual(groups('[a] [b]').length, 2, 'brackets apart by a blank are independent (issue 13)');
  assert.deepEqual(groups('[a]\u00a0or\u00a0[b]').length, 1);
  assert.deepEqual(groups('[shall][may]'), [{ span: [0, 12], alts: ['shall', 'may'], depth: 0 }]);
  assert.deepEqual(groups('[a/b [c] d/e]'), [
    { span: [0, 13], alts: ['a', 'b [c] d', 'e'], depth: 0 },
    { span: [5, 8], alts: ['c'], depth: 1 },
  ]);
  assert.deepEqual(groups('[1 [2 [3 [4/5] 3] 2] 1]').map((g) => g.depth), [0, 1, 2, 3]);
  assert.deepEqual(groups('[and\\/or/or]')[0].alts.map(unescape), ['and/or', 'or']);
  assert.deepEqual(groups('\\[sic\\]'), []);
  assert.deepEqual(groups('[x [a]] [[b] y]').map((g) => g.span), [[0, 7], [3, 6], [8, 15], [9, 12]]);
  assert.deepEqual(groups('[x [a]] or [[b] y]').map((g) => g.span), [[0, 18], [3, 6], [12, 15]]);
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

test('the sentence of issue 13: independent brackets side by side', () => {
  const s = 'States Parties [shall/should] [, in accordance with their national circumstances,] provide [new and additional] [financial] resources.';
  assert.deepEqual(groups(s).map((g) => g.alts), [['shall', 'should'], [', in accordance with their national circumstances,'], ['new and additional'], ['financial']]);
});

test('multilingual text around brackets', () => {
  assert.deepEqual(groups('تعتمد الدول [الأطراف/الأعضاء] التدابير')[0].alts, ['الأطراف', 'الأعضاء']);
  assert.deepEqual(groups('缔约国[应/可]采取措施')[0].span, [3, 8]);
  assert.deepEqual(groups('😀 [👍/👎] or [🤝] 😀')[0].alts, ['👍', '👎', '🤝']);
});

test('3,000-deep brackets are read without recursion, 16 deep at most', () => {
  const s = '['.repeat(3000) + 'x' + ']'.repeat(3000);
  const r = parseBrackets(s);
  assert.equal(r.brackets.length, 16);
  assert.equal(Math.max(...r.brackets.map((b) => b.depth)), 15);
  assert.deepEqual(r.diagnostics.map((d) => [d.from, d.message.split(':')[0]]), [[16, 'too_deep']]);
  const idx = new BracketIndex('');
  idx.update(s, 0, 0, 0, s.length); // pasted at once
  assert.equal(idx.read(s).brackets.length, 16);
  // A slash inside the too-deep bracket is its own plain text, not an
  // alternative of the bracket around it.
  const t = '['.repeat(16) + '[a/b]' + ']'.repeat(16);
  assert.deepEqual(parseBrackets(t).brackets[15].alts.length, 1);
});

function rng(seed) {
  let x = seed >>> 0;
  return () => { x = (x * 1664525 + 1013904223) >>> 0; return x / 2 ** 32; };
}

// The incremental index, updated edit by edit, reads what a full parse of
// the text reads, including edits that make or break escapes.
test('incremental reading equals a full parse after every edit', () => {
  const pieces = ['[', ']', '/', '\\', ' ', ' or ', 'a', 'ب', '😭', '\\[', '\n', '[[[[[[[[[[[[[[[[[', 'plain', 'text ', 'x'];
  const reads = { shift: 0, full: 0 };
  for (let seed = 1; seed <= 40; seed++) {
    const r = rng(seed);
    let s = '';
    let idx = new BracketIndex(s);
    const cm = new BracketIndex(Text.of(['']));
    for (let step = 0; step < 200; step++) {
      const from = Math.floor(r() * (s.length + 1));
      const to = Math.min(s.length, from + (r() < 0.4 ? Math.floor(r() * 4) : 0));
      let ins = '';
      for (let k = Math.floor(r() * 4); k > 0; k--) ins += pieces[Math.floor(r() * pieces.length)];
      const next = s.slice(0, from) + ins + s.slice(to);
      idx = idx.updated(next, from, to, from, from + ins.length); // as the editor does
      const doc = Text.of(next.split('\n'));
      cm.update(doc, from, to, from, from + ins.length);
      s = next;
      const want = parseBrackets(s);
      const got = idx.read(s);
      const shape = (x) => JSON.stringify({
        b: x.brackets.map((b) => [b.from, b.to, b.depth, b.group, b.altBase, b.alts.map((a) => [a.from, a.to])]),
        d: x.diagnostics.map((d) => [d.from, d.message]),
      });
      assert.equal(shape(got), shape(want), `seed ${seed} step ${step}: ${JSON.stringify(s)}`);
      assert.equal(shape(cm.read(doc)), shape(want), `seed ${seed} step ${step} (CodeMirror Text)`);
      assert.equal(JSON.stringify(got.groups.map((g) => [g.from, g.to, g.depth, g.brackets.map((b) => b.from)])), JSON.stringify(want.groups.map((g) => [g.from, g.to, g.depth, g.brackets.map((b) => b.from)])), `seed ${seed} step ${step}: groups`);
      reads[idx.lastRead]++;
    }
  }
  assert.ok(reads.shift > 500 && reads.full > 500, `readings: ${JSON.stringify(reads)}: both ways must be exercised`);
});

// The server's parser (brackets.Parse) on the same texts, written by
// web/brackets_fixture_test.go: the browser reads every group, alternative
// and diagnostic where the server does.
test('the browser reads brackets as the server does', async () => {
  const { readFileSync } = await import('node:fs');
  const cases = JSON.parse(readFileSync(new URL('./testdata/brackets-server.json', import.meta.url), 'utf8'));
  assert.ok(cases.length > 200);
  for (const c of cases) {
    const s = c.text;
    const cp = (off) => [...s.slice(0, off)].length;
    const r = parseBrackets(s);
    const groups = r.groups.map((g) => ({
      span: [cp(g.from), cp(g.to)],
      depth: g.depth,
      alts: g.brackets.flatMap((b) => b.alts.map((a) => [cp(a.from), cp(a.to)])),
    }));
    assert.deepEqual(groups, c.groups, JSON.stringify(s));
    assert.deepEqual(r.diagnostics.map((d) => ({ pos: cp(d.from), code: d.message.split(':')[0] })), c.diags, JSON.stringify(s));
  }
});

// The timeline people read (web/src/timeline.js).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { groupRuns, describeRun, groupName, provisionAt } from '../src/timeline.js';

const ana = { delegation: 'CAN', name: 'Ana Silva' };
const omar = { delegation: 'EGY', name: 'Omar' };
const T = Date.UTC(2026, 10, 23, 14, 2);

test('consecutive typing by one person is one run; others and proposals break it', () => {
  // newest first, as the server sends them
  const entries = [
    { from: 9, to: 9, by: ana, kind: 'propose', group: 'b0.3', start: T + 400000, end: T + 400000 },
    { from: 7, to: 8, by: ana, start: T + 170000, end: T + 180000, inserted: 10, deleted: 1, preview: 'more' },
    { from: 4, to: 6, by: ana, start: T + 60000, end: T + 70000, inserted: 30, deleted: 4, preview: 'earlier' },
    { from: 2, to: 3, by: ana, start: T, end: T + 1000, inserted: 2, deleted: 0, preview: ' ' },
    { from: 1, to: 1, by: omar, start: T - 1000, end: T - 1000, inserted: 5, deleted: 0 },
  ];
  const runs = groupRuns(entries);
  assert.equal(runs.length, 3);
  assert.deepEqual([runs[0].kind, runs[0].from, runs[0].to], ['propose', 9, 9]);
  assert.deepEqual([runs[1].from, runs[1].to, runs[1].inserted, runs[1].deleted, runs[1].entries, runs[1].preview], [2, 8, 42, 5, 3, 'more']);
  assert.equal(runs[2].by, omar);
  const d = describeRun(runs[1]);
  assert.equal(d.what, 'edited: +42 −5 characters');
  assert.match(d.when, /–/); // a span of minutes shows both ends
});

test('a long pause starts a new run', () => {
  const runs = groupRuns([
    { from: 3, to: 3, by: ana, start: T + 3600000, end: T + 3600000, inserted: 1 },
    { from: 2, to: 2, by: ana, start: T, end: T, inserted: 1 },
  ]);
  assert.equal(runs.length, 2);
});

test('groups are named by their text, resolutions say what they chose', () => {
  const names = {
    groups: new Map([['b0.3', ['good faith', 'earnest']]]),
    proposals: new Map([[9, { text: 'earnest', group: 'b0.3' }]]),
    decisions: new Map([
      ['b0.1', { choice: 'choose', index: 0, result: 'shall', alternatives: ['shall', 'should'] }],
      ['b0.2', { choice: 'drop', alternatives: ['fully'] }],
      ['b0.4', { choice: 'compromise', result: 'should endeavour to', alternatives: ['shall', 'may'] }],
    ]),
  };
  assert.equal(describeRun({ kind: 'propose', group: 'b0.3', to: 9, start: T, end: T }, names).what, 'proposed “earnest” in [good faith/earnest]');
  assert.equal(describeRun({ kind: 'resolve', group: 'b0.1', start: T, end: T }, names).what, 'resolved [shall/should]: chose “shall”');
  assert.equal(describeRun({ kind: 'resolve', group: 'b0.2', start: T, end: T }, names).what, 'resolved [fully]: dropped it');
  assert.equal(describeRun({ kind: 'resolve', group: 'b0.4', start: T, end: T }, names).what, 'resolved [shall/may]: agreed “should endeavour to”');
  assert.equal(describeRun({ kind: 'resolve', group: 'b9.9', start: T, end: T }, names).what, 'resolved a bracket group');
  assert.ok(!describeRun({ kind: 'resolve', group: 'b9.9', start: T, end: T }, names).what.includes('b9.9'));
});

test('long group names are shortened', () => {
  const n = groupName(['a'.repeat(100), 'b']);
  assert.ok([...n].length <= 60, n);
  assert.ok(n.startsWith('[aaa') && n.endsWith('…]'));
});

test('a run says where it edited: the provision holding its first change', () => {
  // "Article 5. Finance\n1. The Parties shall.\n2. Each Party (a) may; (b) shall."
  const listing = {
    rev: 12,
    provisions: [
      { id: 'p0.0', kind: 'article', num: '5', span: [0, 70], parent: null },
      { id: 'p0.19', kind: 'paragraph', num: '1', span: [19, 40], parent: 'p0.0' },
      { id: 'p0.41', kind: 'paragraph', num: '3', span: [41, 70], parent: 'p0.0' },
      { id: 'p3.55', kind: 'subparagraph', num: 'a', span: [55, 62], parent: 'p0.41' },
    ],
  };
  assert.equal(provisionAt(listing, 25), 'paragraph 1 of article 5');
  assert.equal(provisionAt(listing, 57), 'subparagraph (a) of paragraph 3 of article 5');
  assert.equal(provisionAt(listing, 10), 'article 5');
  assert.equal(provisionAt(listing, 40), 'paragraph 1 of article 5'); // typing at its end
  assert.equal(provisionAt(listing, 90), '');
  assert.equal(provisionAt(listing, undefined), '');
  assert.equal(provisionAt(null, 3), '');

  // newest first: the run's first change is the oldest entry's position
  const runs = groupRuns([
    { from: 7, to: 8, by: ana, start: T + 170000, end: T + 180000, inserted: 10, deleted: 1, at: 30 },
    { from: 4, to: 6, by: ana, start: T + 60000, end: T + 70000, inserted: 32, deleted: 4, at: 45 },
  ]);
  assert.equal(runs.length, 1);
  assert.equal(runs[0].at, 45);
  assert.equal(describeRun(runs[0], { provisions: listing }).what, 'edited paragraph 3 of article 5: +42 −5 characters');
  // without a listing (or a position) it says what it said before
  assert.equal(describeRun(runs[0]).what, 'edited: +42 −5 characters');
  assert.equal(describeRun({ ...runs[0], at: undefined }, { provisions: listing }).what, 'edited: +42 −5 characters');
});

test('a provision status reads as what was marked, not "+0 −0 characters"', () => {
  const entry = {
    from: 3, to: 3, by: { delegation: 'CHAIR', name: 'Maria' }, kind: 'status.agreed', group: 'p0.1209', start: T, end: T, inserted: 0, deleted: 0,
    decision: { group: 'p0.1209', choice: 'agreed', result: '(c) report annually to the Conference of the Parties.\n\n', note: 'ad referendum' },
  };
  const [run] = groupRuns([entry]);
  assert.equal(describeRun(run).what, 'marked “(c) report annually to the Conference of the Parties.” agreed (ad referendum)');
  const [aside] = groupRuns([{ ...entry, kind: 'status.set_aside', decision: null }]);
  assert.equal(describeRun(aside).what, 'marked a provision set aside');
  const [ren] = groupRuns([{ ...entry, kind: 'renumber', decision: null, inserted: 3, deleted: 3 }]);
  assert.equal(describeRun(ren).what, 'renumbered the provisions');
});

test('changeMarks places inserts in the new text and deletes where they were', async () => {
  const { changeMarks } = await import('../src/timeline.js');
  const segs = [
    { op: 'equal', text: 'States 😭 ', from: 0, to: 9 },
    { op: 'delete', text: 'shall', from: 9, to: 14, delegation: 'EGY', name: 'Omar' },
    { op: 'insert', text: 'must', from: 9, to: 13, rev: 4, delegation: 'CAN', name: 'Ana' },
    { op: 'equal', text: ' act', from: 14, to: 18 },
    { op: 'insert', text: '!', from: 17, to: 18, rev: 5, delegation: 'CAN', name: 'Ana' },
  ];
  const { marks, inserted, deleted } = changeMarks(segs, (cp) => cp + 100);
  assert.deepEqual(marks, [
    { kind: 'delete', from: 109, text: 'shall', delegation: 'EGY', name: 'Omar' },
    { kind: 'insert', from: 109, to: 113, delegation: 'CAN', name: 'Ana' },
    { kind: 'insert', from: 117, to: 118, delegation: 'CAN', name: 'Ana' },
  ]);
  assert.equal(inserted, 5);
  assert.equal(deleted, 5);
});

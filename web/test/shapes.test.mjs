// The listing readers (src/shapes.js): the documented shapes read, and any
// other shape throws a ShapeError naming the field.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ShapeError, readBracketListing, readBracketStats, readProvisionListing, readProvisionStats,
  readDiff, readAuthors, readTimeline, readLabels, readProposals, readDecisions, readTextAt, readOps, readDraftList,
} from '../src/shapes.js';

const by = { delegation: 'CAN', name: 'Ana' };

// Samples as docs/PROTOCOL.md shows them.
const samples = {
  brackets: () => ({
    type: 'brackets', doc: 'art-17', rev: 57,
    groups: [{ id: 'b0.12', span: [12, 31], kind: 'alternatives', parent: null, parent_alternative: -1, depth: 0,
      alternatives: [{ text: 'shall', span: [13, 18], by, source: 'bracket' }, { text: 'must', span: [26, 30], by, source: 'proposal' }] }],
    diagnostics: [{ pos: 80, code: 'unclosed', message: 'this [ is never closed' }],
  }),
  bracketStats: () => ({ doc: 'art-17', rev: 59, open: 3, diagnostics: 0, clean: false, points: [{ rev: 0, open: 5, ts: 1794990000000 }] }),
  provisions: () => ({
    type: 'provisions', doc: 'art-17', rev: 41,
    provisions: [
      { id: 'p0.31', kind: 'article', num: '1', title: 'Scope', span: [31, 187], parent: null, status: 'open', locked: false, status_by: null, status_rev: null, packages: [] },
      { id: 'p0.47', kind: 'paragraph', num: '1', title: '', span: [47, 79], parent: 'p0.31', status: 'agreed', locked: true, locked_span: [47, 78], status_by: by, status_rev: 40, packages: null },
    ],
  }),
  provisionStats: () => ({
    doc: 'art-17', rev: 42, counts: { open: 9, informal: 0, agreed: 1, set_aside: 0, total: 10 },
    points: [{ rev: 0, ts: 1, open: 10, informal: 0, agreed: 0, set_aside: 0, total: 10 }],
    articles: [{ id: 'p0.31', num: '1', title: 'Scope', status: 'open', paragraphs: 3, agreed: 1 }],
  }),
  diff: () => ({ doc: 'art-17', from: 40, to: 57, segments: [{ op: 'equal', text: 'States ', from: 0, to: 7 }, { op: 'insert', text: 'must', from: 7, to: 11, rev: 52, delegation: 'CAN', name: 'Ana' }] }),
  authors: () => ({ doc: 'art-17', rev: 57, spans: [{ start: 0, end: 15, rev: 0, delegation: 'CHAIR', name: 'Maria', initial: true }] }),
  timeline: () => ({ doc: 'art-17', rev: 259, next: 188, entries: [{ from: 213, to: 259, by, client: 'c-7f3a', start: 1, end: 2, ops: 47, at: 118, inserted: 52, deleted: 5, preview: 'all', summary: 'typed' }] }),
  labels: () => ({ labels: [{ draft: 'art-17', name: 'Session 4', rev: 212, by, ts: 1 }] }),
  proposals: () => ({ proposals: [{ draft: 'art-17', group: 'b0.12', alternative: 2, text: 'must', by, rev: 212, ts: 1 }] }),
  decisions: () => ({ decisions: [{ draft: 'art-17', group: 'b0.12', alternatives: ['shall', 'must'], choice: 'choose', index: 1, result: 'must', by, rev: 213, ts: 1 }, { draft: 'a', group: 'p0.1', alternatives: null, choice: 'agreed', result: 'x', by, rev: 3, ts: 1 }] }),
  text: () => ({ rev: 41, text: 'States Parties' }),
  ops: () => ({ ops: [{ rev: 1, op: [0, 'a'], client: 'c', seq: 1, by, ts: 1 }] }),
  drafts: () => ({ docs: [{ id: 'art-17', title: 'Article 17', rev: 3, created: 1, updated: 2 }] }),
};
const readers = {
  brackets: readBracketListing, bracketStats: readBracketStats, provisions: readProvisionListing, provisionStats: readProvisionStats,
  diff: readDiff, authors: readAuthors, timeline: readTimeline, labels: readLabels, proposals: readProposals, decisions: readDecisions,
  text: readTextAt, ops: readOps, drafts: readDraftList,
};

test('every documented sample reads, unchanged', () => {
  for (const [name, make] of Object.entries(samples)) {
    const v = make();
    assert.equal(readers[name](v), v, name);
  }
});

test('a null list reads as an empty one', () => {
  const m = samples.brackets();
  m.diagnostics = null;
  assert.deepEqual(readBracketListing(m).diagnostics, []);
  const p = samples.provisions();
  assert.deepEqual(readProvisionListing(p).provisions[1].packages, []);
});

// Each case breaks one field and names the path the error must give.
const broken = [
  ['brackets', (m) => { delete m.rev; }, 'rev is missing'],
  ['brackets', (m) => { m.groups = {}; }, 'groups is an object, want a list'],
  ['brackets', (m) => { m.groups[0].alts = m.groups[0].alternatives; delete m.groups[0].alternatives; }, 'groups[0].alternatives is missing'],
  ['brackets', (m) => { m.groups[0].alternatives[1].proposer = by; delete m.groups[0].alternatives[1].by; }, 'groups[0].alternatives[1].by is missing'],
  ['brackets', (m) => { m.groups[0].alternatives[0].by = { name: 'Ana' }; }, 'groups[0].alternatives[0].by.delegation is missing'],
  ['brackets', (m) => { m.groups[0].start = 12; delete m.groups[0].span; }, 'groups[0].span is missing'],
  ['brackets', (m) => { m.groups[0].span = [31, 12]; }, 'groups[0].span is a list, want [start, end]'],
  ['brackets', (m) => { m.groups[0].kind = 'choice'; }, 'groups[0].kind is "choice", want one of optional, alternatives'],
  ['brackets', (m) => { m.groups[0].alternatives = []; }, 'groups[0].alternatives is a list, want at least one alternative'],
  ['brackets', (m) => { m.diagnostics[0].pos = '80'; }, 'diagnostics[0].pos is "80", want a whole number'],
  ['bracketStats', (m) => { m.points = [{ rev: 1, count: 2, ts: 3 }]; }, 'points[0].open is missing'],
  ['provisions', (m) => { m.provisions[0].status = 'closed'; }, 'provisions[0].status is "closed"'],
  ['provisions', (m) => { delete m.provisions[1].status_rev; }, 'provisions[1].status_rev is missing'],
  ['provisions', (m) => { m.provisions[1].status_by = 'CHAIR'; }, 'provisions[1].status_by is "CHAIR", want an object'],
  ['provisionStats', (m) => { delete m.counts.total; }, 'counts.total is missing'],
  ['diff', (m) => { m.segments[0].op = 'same'; }, 'segments[0].op is "same"'],
  ['authors', (m) => { m.runs = m.spans; delete m.spans; }, 'spans is missing'],
  ['timeline', (m) => { m.items = m.entries; delete m.entries; }, 'entries is missing'],
  ['timeline', (m) => { m.entries[0].by = null; }, 'entries[0].by is null, want an object'],
  ['labels', (m) => { m.labels[0].rev = 2.5; }, 'labels[0].rev is 2.5, want a whole number'],
  ['proposals', (m) => { delete m.proposals[0].group; }, 'proposals[0].group is missing'],
  ['decisions', (m) => { m.decisions[0].alternatives = [1]; }, 'decisions[0].alternatives[0] is 1, want text'],
  ['text', (m) => { m.text = null; }, 'text is null, want text'],
  ['ops', (m) => { m.ops[0].op = 'a'; }, 'ops[0].op is "a", want an op'],
  ['drafts', (m) => { m.docs = null; m.documents = []; }, null],
];

test('every other shape throws a ShapeError naming the field', () => {
  for (const [name, breakIt, want] of broken) {
    const v = samples[name]();
    breakIt(v);
    if (want === null) { assert.doesNotThrow(() => readers[name](v), name); continue; }
    assert.throws(() => readers[name](v), (e) => {
      assert.ok(e instanceof ShapeError, `${name}: ${e}`);
      assert.ok(e.message.includes(want), `${name}: got "${e.message}", want it to say "${want}"`);
      return true;
    });
  }
});

test('a reply that is not an object at all is refused', () => {
  for (const [name, read] of Object.entries(readers)) {
    for (const bad of [null, 'text', [], 7]) assert.throws(() => read(bad), ShapeError, `${name}(${JSON.stringify(bad)})`);
  }
});

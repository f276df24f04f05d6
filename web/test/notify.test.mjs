// What a resolution means to me (web/src/notify.js explainResolution).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { explainResolution } from '../src/notify.js';

const me = { delegation: 'CAN', name: 'Ana' };
const proposals = [
  { group: 'b0.1', text: 'earnest', by: me },
  { group: 'b0.2', text: 'may', by: me },
  { group: 'b0.3', text: 'other', by: { delegation: 'EGY', name: 'Omar' } },
];
const m = (group) => ({ kind: 'resolve', group });

test('my proposal chosen, not kept, compromised; others are none of my business', () => {
  const decisions = [
    { group: 'b0.1', choice: 'choose', index: 1, result: 'earnest', alternatives: ['good faith', 'earnest'] },
    { group: 'b0.2', choice: 'choose', index: 0, result: 'shall', alternatives: ['shall', 'may'] },
    { group: 'b0.3', choice: 'choose', index: 0, result: 'x', alternatives: ['x', 'other'] },
  ];
  const say = (g) => explainResolution({ m: m(g), me, title: 'Article 5', decisions, proposals });
  assert.equal(say('b0.1'), 'Your proposal “earnest” in Article 5 was chosen.');
  assert.equal(say('b0.2'), 'Your proposal “may” in Article 5 was not kept: “shall” was chosen.');
  assert.equal(say('b0.3'), null);
  assert.equal(say('b9.9'), null);
  assert.equal(explainResolution({ m: m('b0.2'), me, title: 'Article 5', decisions: [{ group: 'b0.2', choice: 'compromise', result: 'should' }], proposals }),
    'Your proposal “may” in Article 5 gave way to a compromise: “should”.');
});

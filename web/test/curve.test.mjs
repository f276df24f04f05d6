// The step charts' path (src/curve.js).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { stepPath } from '../src/curve.js';

test('a step at each point, held to the last revision, closed down to the axis', () => {
  // Box 280 wide, 4 of padding: revision r at 4 + r/10 * 272; count n of 4 at 60 - n/4 * 56.
  const p = stepPath([{ rev: 0, n: 4 }, { rev: 5, n: 2 }], 10, 4, 64);
  assert.equal(p.line, 'M4,4 H140 V32 H276');
  assert.equal(p.area, 'M4,4 H140 V32 H276 V60 H4 Z');
});

test('one point is a flat line to the head', () => {
  assert.equal(stepPath([{ rev: 0, n: 0 }], 1, 1, 56).line, 'M4,52 H276');
});

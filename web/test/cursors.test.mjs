// Remote cursor labels (web/src/editor.js caretLabels): nearby cursors stack
// their labels, the rest fold into "+n", idle cursors have none.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { caretLabels, LABEL_STACK } from '../src/editor.js';

const lineOf = (pos) => Math.floor(pos / 100); // lines of 100 units

function caret(head, label, idle = false) { return { head, label, title: label + ' (name)', idle }; }

test('cursors apart keep their own label at level 0', () => {
  const cs = [caret(5, 'CAN'), caret(50, 'EGY'), caret(105, 'BRA')];
  const out = caretLabels(cs, lineOf);
  for (const c of cs) assert.deepEqual(out.get(c), { label: c.label, title: c.title, level: 0 });
});

test('cursors close on one line stack, and fold past the stack', () => {
  const cs = [];
  for (let i = 0; i < 15; i++) cs.push(caret(i, 'D' + i));
  const out = caretLabels(cs, lineOf);
  const shown = cs.map((c) => out.get(c)).filter((l) => l.label);
  assert.equal(shown.length, LABEL_STACK);
  assert.deepEqual(shown.map((l) => l.level), [...Array(LABEL_STACK).keys()]);
  const last = shown[LABEL_STACK - 1];
  assert.equal(last.label, `+${15 - (LABEL_STACK - 1)}`);
  for (let i = LABEL_STACK - 1; i < 15; i++) assert.ok(last.title.includes('D' + i + ' (name)'), last.title);
  // No two shown labels share a level, so none overlaps another.
  assert.equal(new Set(shown.map((l) => l.level)).size, shown.length);
});

test('a full stack without overflow keeps every label', () => {
  const cs = [];
  for (let i = 0; i < LABEL_STACK; i++) cs.push(caret(i * 2, 'D' + i));
  const out = caretLabels(cs, lineOf);
  assert.deepEqual(cs.map((c) => out.get(c).label), cs.map((c) => c.label));
});

test('idle cursors have no label and do not take a level', () => {
  const a = caret(3, 'CAN', true);
  const b = caret(4, 'EGY');
  const out = caretLabels([a, b], lineOf);
  assert.equal(out.get(a).label, '');
  assert.deepEqual(out.get(b), { label: 'EGY', title: 'EGY (name)', level: 0 });
});

test('the same spot on two lines does not stack', () => {
  const a = caret(99, 'CAN');
  const b = caret(100, 'EGY');
  const out = caretLabels([a, b], lineOf);
  assert.equal(out.get(a).level, 0);
  assert.equal(out.get(b).level, 0);
});

// Paragraph direction from the first strong character (web/src/bidi.js).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { directionOf } from '../src/bidi.js';

test('first strong character decides', () => {
  const cases = [
    ['', ''],
    ['1. (2) [', ''],
    ['Article 5', 'ltr'],
    ['تتخذ الدول الأطراف التدابير.', 'rtl'],
    ['1. [تتخذ] UNEP الدول', 'rtl'], // digits and brackets are weak: the Arabic decides
    ['UNEP تتخذ الدول', 'ltr'],
    ['שלום', 'rtl'],
    ['中文 العربية', 'ltr'],
    ['😀 ‏العربية', 'rtl'],
    ['\u{10900}', 'rtl'], // Phoenician, beyond the BMP
  ];
  for (const [text, want] of cases) assert.equal(directionOf(text), want, JSON.stringify(text));
});

test('a letter after any run of weak characters decides', () => {
  const weak = ['1', ' ', '.', '[', ']', '/', '(', '—', '😀', '%'];
  for (let n = 0; n < 200; n++) {
    let s = '';
    const k = Math.floor(Math.random() * 12);
    for (let i = 0; i < k; i++) s += weak[Math.floor(Math.random() * weak.length)];
    assert.equal(directionOf(s), '', s);
    assert.equal(directionOf(s + 'ب' + 'x'), 'rtl', s);
    assert.equal(directionOf(s + 'x' + 'ب'), 'ltr', s);
  }
});

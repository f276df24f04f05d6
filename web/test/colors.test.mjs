// Delegation colours (web/src/colors.js).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PALETTE, PALETTE_SIZE, Allocator, contrast, parseHex, colourOf } from '../src/colors.js';

test('every colour carries white text at 4.5:1', () => {
  assert.equal(PALETTE.length, PALETTE_SIZE);
  for (const c of PALETTE) assert.ok(contrast(parseHex(c), [1, 1, 1]) >= 4.5, c);
});

test('the palette has no two equal colours', () => {
  assert.equal(new Set(PALETTE).size, PALETTE_SIZE);
});

test('200 delegations get 200 distinct colours, stable', () => {
  const codes = [];
  for (let i = 0; i < 200; i++) codes.push(String.fromCharCode(65 + (i % 26), 65 + ((i / 26) | 0) % 26, 65 + ((i * 7) % 26)));
  const first = codes.map(colourOf);
  assert.equal(new Set(first).size, new Set(codes).size);
  assert.deepEqual(codes.map(colourOf), first);
});

test('a taken preferred slot moves the newcomer, never the owner', () => {
  const a = new Allocator(8);
  const slots = [];
  for (let i = 0; i < 8; i++) slots.push(a.slot('D' + i));
  assert.equal(new Set(slots).size, 8);
  for (let i = 0; i < 8; i++) assert.equal(a.slot('D' + i), slots[i]);
  // Full: a ninth shares, and does not disturb anyone.
  const ninth = a.slot('D8');
  assert.ok(ninth >= 0 && ninth < 8);
  for (let i = 0; i < 8; i++) assert.equal(a.slot('D' + i), slots[i]);
});

test('neighbouring colours differ visibly', () => {
  // Consecutive slots are a golden angle apart in hue or in another
  // lightness tier: their RGB distance is never tiny.
  for (let i = 1; i < PALETTE.length; i++) {
    const [a, b] = [parseHex(PALETTE[i - 1]), parseHex(PALETTE[i])];
    const d = Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]);
    assert.ok(d > 0.08, `${PALETTE[i - 1]} ${PALETTE[i]} ${d}`);
  }
});

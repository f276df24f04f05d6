// Tests of large edits: splitting an op into messages under the frame
// limit, the OT client sending the pieces in order, and refused edits.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { type } from 'ot-text-unicode';
import { splitOp, opBytes } from '../src/split.js';
import { OTClient } from '../src/otclient.js';
import { cpLen } from '../src/unicode.js';

function rng(seed) {
  let s = seed >>> 0;
  return () => { s = (s * 1664525 + 1013904223) >>> 0; return s / 2 ** 32; };
}

// Characters that stress the byte count: escaped by JSON, two, three and
// four bytes in UTF-8 (a lone surrogate is no valid text).
const alphabet = ['a', ' ', '"', '\\', '\n', '\u0001', 'é', 'ش', '中', '😭', '🇨🇦'];
function randText(r, n) {
  let s = '';
  for (let i = 0; i < n; i++) s += alphabet[Math.floor(r() * alphabet.length)];
  return s;
}

function randOp(r, doc, big) {
  const cps = [...doc];
  const op = [];
  let pos = 0;
  while (pos < cps.length || r() < 0.3) {
    const k = Math.floor(r() * 4);
    if (k === 0 && pos < cps.length) {
      const n = 1 + Math.floor(r() * (cps.length - pos));
      op.push(n); pos += n;
    } else if (k === 1) {
      op.push(randText(r, 1 + Math.floor(r() * big)));
    } else if (k === 2 && pos < cps.length) {
      const n = 1 + Math.floor(r() * (cps.length - pos));
      op.push(r() < 0.5 ? { d: n } : { d: cps.slice(pos, pos + n).join('') });
      pos += n;
    } else if (pos >= cps.length) break;
  }
  return type.normalize(op);
}

const utf8 = (s) => Buffer.byteLength(s, 'utf8');

test('split pieces apply in turn to the op\'s result, each message within budget, never growing past the longer length', () => {
  const r = rng(7);
  let split = 0;
  for (let i = 0; i < 300; i++) {
    const doc = randText(r, Math.floor(r() * 2000));
    const op = randOp(r, doc, 3000);
    const max = 1024 + Math.floor(r() * 3000);
    const want = type.apply(doc, op);
    const limit = Math.max(cpLen(doc), cpLen(want));
    const pieces = splitOp(op, max);
    if (pieces.length > 1) split++;
    let got = doc;
    for (const p of pieces) {
      const msg = JSON.stringify({ type: 'op', doc: 'd'.repeat(128), rev: 2 ** 52, seq: 2 ** 52, op: p });
      assert.ok(utf8(msg) <= max, `case ${i}: message of ${utf8(msg)} bytes, budget ${max}`);
      got = type.apply(got, p);
      assert.ok(cpLen(got) <= limit, `case ${i}: grew to ${cpLen(got)} beyond ${limit}`);
    }
    assert.equal(got, want, `case ${i}`);
  }
  assert.ok(split > 100, `only ${split} of 300 ops were split`);
});

test('opBytes is the UTF-8 length of the JSON', () => {
  const op = [3, 'a"\\\n\u0001é中😭', { d: 'x\ud800' }, { d: 4 }];
  assert.equal(opBytes(op), utf8(JSON.stringify(op)));
});

test('a 1 MB paste goes out in pieces, each sent after the previous ack, and typing follows', () => {
  const paste = 'The Parties shall cooperate, الدول الأطراف 😭. '.repeat(22000);
  const sent = [];
  let seq = 0;
  const c = new OTClient({ doc: 'd', clientId: 'me', rev: 0, nextSeq: () => ++seq, send: (m) => sent.push(m), apply: () => {} });
  c.connected();
  let server = 'start';
  c.local([5, paste]);
  c.local([0, 'typed ']);
  for (let rev = 1; c.pending; rev++) {
    assert.equal(sent.length, rev, 'one op in flight at a time');
    const m = sent[rev - 1];
    assert.ok(utf8(JSON.stringify(m)) <= 256 * 1024);
    server = type.apply(server, m.op);
    c.ack({ seq: m.seq, rev });
  }
  assert.ok(sent.length >= 5, `${sent.length} messages for 1 MB`);
  assert.equal(server, 'typed start' + paste);
  assert.equal(c.since, null, 'nothing waits once all is acked');
});

test('split pieces converge with concurrent remote edits', () => {
  for (let seed = 1; seed <= 30; seed++) {
    const r = rng(seed);
    let server = randText(r, 50);
    const ops = [];
    let local = server;
    const sent = [];
    let seq = 0;
    const c = new OTClient({ doc: 'd', clientId: 'me', rev: 0, nextSeq: () => ++seq, send: (m) => sent.push(m), apply: (op) => { local = type.apply(local, op); }, maxOpBytes: 1024 });
    c.connected();
    const big = randOp(r, local, 3000);
    local = type.apply(local, big);
    c.local(big);
    for (let step = 0; c.pending && step < 500; step++) {
      if (r() < 0.5) { // someone else commits
        const op = randOp(r, server, 5);
        server = type.apply(server, op);
        ops.push(op);
        c.remoteOp({ rev: ops.length, op, client: 'x', seq: step });
      } else if (sent.length) { // our message reaches the server
        const m = sent.shift();
        let op = m.op;
        for (let k = m.rev; k < ops.length; k++) op = type.transform(op, ops[k], 'left');
        server = type.apply(server, op);
        ops.push(op);
        c.ack({ seq: m.seq, rev: ops.length });
      }
    }
    assert.equal(c.pending, false, `seed ${seed}`);
    assert.equal(local, server, `seed ${seed}`);
  }
});

test('dropPending returns the refused edits and their text, and later edits flow', () => {
  const sent = [];
  let seq = 0;
  const c = new OTClient({ doc: 'd', clientId: 'me', rev: 4, nextSeq: () => ++seq, send: (m) => sent.push(m), apply: () => {} });
  c.connected();
  c.local([2, 'shall ']);
  c.local([20, 'in good faith']);
  const since = c.since;
  assert.equal(typeof since, 'number');
  const dropped = c.dropPending();
  assert.equal(dropped.rev, 4);
  assert.equal(dropped.text, 'shall \nin good faith');
  assert.equal(c.pending, false);
  assert.equal(c.since, null);
  c.local([0, 'ok']);
  assert.deepEqual(sent[sent.length - 1], { type: 'op', doc: 'd', rev: 4, seq: 2, op: ['ok'] });
});

test('since is the time of the oldest edit not yet acknowledged', () => {
  const realNow = Date.now;
  let now = 1000;
  Date.now = () => now;
  try {
    const sent = [];
    let seq = 0;
    const c = new OTClient({ doc: 'd', clientId: 'me', rev: 0, nextSeq: () => ++seq, send: (m) => sent.push(m), apply: () => {} });
    c.connected();
    assert.equal(c.since, null);
    c.local(['a']); // t=1000, in flight
    now = 1500;
    c.local([1, 'b']); // t=1500, buffered
    now = 1700;
    c.local([2, 'c']);
    assert.equal(c.since, 1000);
    now = 1800;
    c.ack({ seq: 1, rev: 1 });
    assert.equal(c.since, 1500, 'the buffered edits are now the oldest');
    c.ack({ seq: 2, rev: 2 });
    assert.equal(c.since, null);
  } finally {
    Date.now = realNow;
  }
});

test('an op refused with a retry code is sent again with the same seq', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const sent = [];
  let seq = 0;
  const c = new OTClient({ doc: 'd', clientId: 'me', rev: 0, nextSeq: () => ++seq, send: (m) => sent.push(m), apply: () => {} });
  c.connected();
  c.local(['x']);
  assert.equal(c.retry(99, 1), false, 'another seq is not ours');
  assert.equal(c.retry(1, 500), true);
  t.mock.timers.tick(499);
  assert.deepEqual(sent.map((m) => m.seq), [1], 'not before the delay');
  t.mock.timers.tick(1);
  assert.deepEqual(sent.map((m) => m.seq), [1, 1]);
  c.ack({ seq: 1, rev: 1 });
  assert.equal(c.pending, false);
});

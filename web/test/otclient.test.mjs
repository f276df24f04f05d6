// Unit and property tests for the browser's OT client and the UTF-16 /
// code-point conversions. Run with `npm test` (node --test); the Go test
// web/node_test.go runs them too when Node and node_modules are present.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { type } from 'ot-text-unicode';
import { ChangeSet, Text } from '@codemirror/state';
import { OTClient, Gap } from '../src/otclient.js';
import { changesToOp, opToChanges, cpLen, advance, textOf } from '../src/unicode.js';

// A tiny deterministic PRNG so failures reproduce.
function rng(seed) {
  let s = seed >>> 0;
  return () => { s = (s * 1664525 + 1013904223) >>> 0; return s / 2 ** 32; };
}

const alphabet = ['a', 'b', ' ', '😭', 'ب', 'é', '\n', '𝄞', 'z'];

function randomEdit(r, doc) {
  const len = cpLen(doc);
  const pos = Math.floor(r() * (len + 1));
  if (len > 0 && r() < 0.4) {
    const n = 1 + Math.floor(r() * Math.min(3, len - pos));
    if (pos < len) return type.normalize([pos, { d: [...doc].slice(pos, pos + n).join('') }]);
  }
  let s = '';
  for (let i = 0, k = 1 + Math.floor(r() * 3); i < k; i++) s += alphabet[Math.floor(r() * alphabet.length)];
  return type.normalize([pos, s]);
}

// A server following the contract: transform a submitted op against the ops
// committed since its base (submitted op on side "left"), commit, ack the
// sender and broadcast to the others.
class Server {
  constructor(text) { this.text = text; this.ops = []; this.seen = new Map(); }
  submit(msg) {
    const key = msg.client + ':' + msg.seq;
    if (this.seen.has(key)) return { ack: { type: 'ack', doc: 'd', seq: msg.seq, rev: this.seen.get(key) } };
    let op = msg.op;
    for (let r = msg.rev; r < this.ops.length; r++) op = type.transform(op, this.ops[r].op, 'left');
    this.text = type.apply(this.text, op);
    this.ops.push({ op, client: msg.client, seq: msg.seq });
    const rev = this.ops.length;
    this.seen.set(key, rev);
    return { ack: { type: 'ack', doc: 'd', seq: msg.seq, rev }, op: { type: 'op', doc: 'd', rev, op, client: msg.client, seq: msg.seq } };
  }
}

function makePeer(name, server, text) {
  const peer = { name, text, outbox: [], inbox: [], seq: 0 };
  peer.client = new OTClient({
    doc: 'd', clientId: name, rev: server.ops.length,
    nextSeq: () => ++peer.seq,
    send: (m) => peer.outbox.push({ ...m, client: name }),
    apply: (op) => { peer.text = type.apply(peer.text, op); },
  });
  peer.client.connected();
  return peer;
}

test('random concurrent edits by three clients converge with the server', () => {
  for (let seed = 1; seed <= 60; seed++) {
    const r = rng(seed);
    const server = new Server('Les États 😭 [shall/may]');
    const peers = ['A', 'B', 'C'].map((n) => makePeer(n, server, server.text));
    for (let step = 0; step < 120; step++) {
      const p = peers[Math.floor(r() * peers.length)];
      const what = r();
      if (what < 0.45) {
        const op = randomEdit(r, p.text);
        p.text = type.apply(p.text, op);
        p.client.local(op);
      } else if (what < 0.75 && p.outbox.length) {
        const { ack, op } = server.submit(p.outbox.shift());
        p.inbox.push(ack);
        if (op) for (const q of peers) if (q !== p) q.inbox.push(op);
      } else if (p.inbox.length) {
        const m = p.inbox.shift();
        if (m.type === 'ack') p.client.ack(m); else p.client.remoteOp(m);
      }
    }
    // Drain everything.
    for (let guard = 0; guard < 10000 && peers.some((p) => p.outbox.length || p.inbox.length); guard++) {
      for (const p of peers) {
        while (p.outbox.length) {
          const { ack, op } = server.submit(p.outbox.shift());
          p.inbox.push(ack);
          if (op) for (const q of peers) if (q !== p) q.inbox.push(op);
        }
        while (p.inbox.length) {
          const m = p.inbox.shift();
          if (m.type === 'ack') p.client.ack(m); else p.client.remoteOp(m);
        }
      }
    }
    for (const p of peers) {
      assert.equal(p.client.pending, false, `seed ${seed}: ${p.name} still has pending edits`);
      assert.equal(p.text, server.text, `seed ${seed}: ${p.name} diverged`);
      assert.equal(p.client.rev, server.ops.length, `seed ${seed}: ${p.name} rev`);
    }
  }
});

test('one op in flight: later edits are composed and sent after the ack', () => {
  const sent = [];
  let seq = 0;
  const c = new OTClient({ doc: 'd', clientId: 'me', rev: 3, nextSeq: () => ++seq, send: (m) => sent.push(m), apply: () => {} });
  c.connected();
  c.local(['a']);
  c.local([1, 'b']);
  c.local([2, 'c']);
  assert.equal(sent.length, 1);
  assert.deepEqual(sent[0], { type: 'op', doc: 'd', rev: 3, seq: 1, op: ['a'] });
  c.ack({ seq: 1, rev: 4 });
  assert.equal(sent.length, 2);
  assert.deepEqual(sent[1], { type: 'op', doc: 'd', rev: 4, seq: 2, op: [1, 'bc'] });
});

test('reconnect resends the in-flight op with the same seq, and its echo counts as the ack', () => {
  const sent = [];
  let seq = 10;
  const c = new OTClient({ doc: 'd', clientId: 'me', rev: 0, nextSeq: () => ++seq, send: (m) => sent.push(m), apply: () => {} });
  c.connected();
  c.local(['x']);
  c.disconnected();
  c.local([1, 'y']); // typed offline
  c.connected();
  assert.deepEqual(sent.map((m) => m.seq), [11, 11]);
  // On resume the server replays op 1 (ours, committed before the drop).
  c.remoteOp({ rev: 1, op: ['x'], client: 'me', seq: 11 });
  assert.equal(c.rev, 1);
  assert.deepEqual(sent[2], { type: 'op', doc: 'd', rev: 1, seq: 12, op: [1, 'y'] });
  // A late duplicate ack of seq 11 is ignored.
  c.ack({ seq: 11, rev: 1 });
  assert.equal(c.inflight.seq, 12);
});

test('a skipped revision throws Gap and leaves the state alone', () => {
  const c = new OTClient({ doc: 'd', clientId: 'me', rev: 5, nextSeq: () => 1, send: () => {}, apply: () => { throw new Error('must not apply'); } });
  assert.throws(() => c.remoteOp({ rev: 7, op: ['z'], client: 'x', seq: 1 }), Gap);
  assert.equal(c.rev, 5);
  c.remoteOp({ rev: 5, op: ['old'], client: 'x', seq: 1 }); // a duplicate: ignored, not applied
});

test('persisted state restores a client that resends the same op', () => {
  const saved = [];
  const c = new OTClient({ doc: 'd', clientId: 'me', rev: 2, nextSeq: () => 7, send: () => {}, apply: () => {}, persist: (s) => saved.push(s) });
  c.local(['hi']);
  const state = JSON.parse(JSON.stringify(saved[saved.length - 1]));
  assert.equal(typeof state.since, 'number');
  assert.deepEqual(state, { rev: 2, inflight: { op: ['hi'], seq: 7 }, buffer: null, since: state.since });
  const sent = [];
  const d = new OTClient({ doc: 'd', clientId: 'me', rev: state.rev, inflight: state.inflight, buffer: state.buffer, nextSeq: () => 8, send: (m) => sent.push(m), apply: () => {} });
  d.connected();
  assert.deepEqual(sent, [{ type: 'op', doc: 'd', rev: 2, seq: 7, op: ['hi'] }]);
  c.ack({ seq: 7, rev: 3 });
  assert.equal(saved[saved.length - 1], null, 'acked state is cleared');
});

test('toServer undoes pending edits; toLocal maps through them', () => {
  const c = new OTClient({ doc: 'd', clientId: 'me', rev: 0, nextSeq: () => 1, send: () => {}, apply: () => {} });
  c.local([2, '😭😭']); // local text: ab😭😭cd from abcd
  assert.equal(c.toServer(6), 4);
  assert.equal(c.toLocal(3, 0), 5);
});

test('CodeMirror changes and ops convert both ways with astral characters', () => {
  const s = 'a😭b\nمرحبا 𝄞 end';
  const doc = textOf(s);
  assert.equal(cpLen(s), [...s].length);
  // Replace "b\nم" (UTF-16 3..6) with "🎉".
  const cs = ChangeSet.of([{ from: 3, to: 6, insert: '🎉' }], doc.length);
  const op = changesToOp(cs, doc);
  assert.deepEqual(op, [2, { d: 'b\nم' }, '🎉']);
  assert.equal(type.apply(s, op), cs.apply(doc).toString());
  // And back: the op as CodeMirror changes on the same doc.
  const specs = opToChanges(op, doc);
  assert.equal(ChangeSet.of(specs, doc.length).apply(doc).toString(), type.apply(s, op));
  assert.equal(advance(doc, 0, 2), 3);
  assert.throws(() => advance(doc, 0, cpLen(s) + 1), RangeError);
  assert.throws(() => opToChanges([1, { d: 'X' }], doc), RangeError);
});

test('random CodeMirror edits round-trip through ops', () => {
  const r = rng(99);
  let s = 'x😭y';
  for (let i = 0; i < 400; i++) {
    const doc = Text.of(s.split('\n'));
    const op = randomEdit(r, s);
    const want = type.apply(s, type.normalize(op));
    const cs = ChangeSet.of(opToChanges(type.normalize(op), doc), doc.length);
    assert.equal(cs.apply(doc).toString(), want);
    assert.equal(type.apply(s, changesToOp(cs, doc)), want);
    s = want;
  }
});

test('code-point conversions through the astral index match a walk, edit after edit', async () => {
  const { posToCp, cpToPos, trackAstral, astralIndex } = await import('../src/unicode.js');
  const r = rng(5);
  let s = 'a😭b';
  let doc = textOf(s);
  astralIndex(doc);
  for (let i = 0; i < 300; i++) {
    const op = randomEdit(r, s);
    const cs = ChangeSet.of(opToChanges(type.normalize(op), doc), doc.length);
    const next = cs.apply(doc);
    trackAstral(doc, next, cs);
    doc = next;
    s = doc.toString();
    for (let pos = 0; pos <= s.length; pos++) {
      const isLow = pos > 0 && pos < s.length && s.charCodeAt(pos) >= 0xdc00 && s.charCodeAt(pos) <= 0xdfff && s.charCodeAt(pos - 1) >= 0xd800 && s.charCodeAt(pos - 1) <= 0xdbff;
      if (isLow) continue; // the middle of a pair is no code-point boundary
      const cp = cpLen(s.slice(0, pos));
      assert.equal(posToCp(doc, pos), cp, `step ${i} pos ${pos}`);
      assert.equal(cpToPos(doc, cp), pos, `step ${i} cp ${cp}`);
    }
  }
});

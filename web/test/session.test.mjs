// DraftSession (src/session.js) against a fake connection: what it sends,
// the events it emits and the state it keeps, for a welcome and an open,
// ops and acks, refusals, resyncs, presence, reloads and listings.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { type } from 'ot-text-unicode';
import { DraftSession, presenceKey, WAIT_MS } from '../src/session.js';

// FakeConn stands for conn.js: the test plays the server with deliver().
class FakeConn {
  constructor() {
    this.handlers = new Map();
    this.statusFns = new Set();
    this.status = 'online';
    this.identity = { type: 'welcome' };
    this.sent = [];
    this.requests = [];
    this.drops = 0;
    this.waiting = null;
  }
  on(t, fn) { if (!this.handlers.has(t)) this.handlers.set(t, new Set()); this.handlers.get(t).add(fn); return () => this.handlers.get(t).delete(fn); }
  onStatus(fn) { this.statusFns.add(fn); fn(this.status); return () => this.statusFns.delete(fn); }
  deliver(m) { for (const fn of [...(this.handlers.get(m.type) || [])]) fn(m); }
  send(m) { if (this.status !== 'online') return false; this.sent.push(m); return true; }
  request(m) { this.requests.push(m); return Promise.resolve({}); }
  drop() { this.drops++; this.status = 'offline'; this.deliver({ type: 'down' }); }
  setWaiting(ms) { this.waiting = ms; }
  take() { const s = this.sent; this.sent = []; return s; }
}

const me = { delegation: 'CAN', name: 'Ana', role: 'drafter' };
const by = (delegation, name = delegation) => ({ delegation, name });

function memStore() {
  const pending = new Map();
  const refused = new Map();
  return {
    pending, refused,
    loadPending: (c, d) => pending.get(c + '/' + d) || null,
    savePending: (c, d, s) => { if (s) pending.set(c + '/' + d, JSON.parse(JSON.stringify(s))); else pending.delete(c + '/' + d); return true; },
    loadRefused: (d) => refused.get(d) || [],
    saveRefused: (d, list) => refused.set(d, [...list]),
  };
}

// open returns a session on draft "d" whose text is text at rev, opened.
function open({ text = 'States Parties shall act.', rev = 3, store = memStore(), api = null, clock = null, canEdit = true } = {}) {
  const conn = new FakeConn();
  const port = { value: '', owns: [], set(t) { this.value = t; }, apply(op, own) { this.value = type.apply(this.value, op); this.owns.push(own); } };
  let seq = 0;
  const s = new DraftSession({ conn, api, id: 'd', clientId: 'me-1', nextSeq: () => ++seq, me, canEdit, text: port, store, now: clock || Date.now });
  const events = [];
  for (const e of ['change', 'notice', 'readonly', 'missing', 'refused', 'opened', 'people', 'cursor', 'cursor-gone', 'resolved', 'toast', 'recovered', 'brackets', 'brackets-error', 'provisions', 'provisions-error']) {
    s.on(e, (v) => events.push([e, v]));
  }
  return { s, conn, port, events, store, snapshot: () => conn.deliver({ type: 'snapshot', doc: 'd', rev, text, present: [] }) };
}

const named = (events, name) => events.filter(([e]) => e === name).map(([, v]) => v);

test('opening: open without rev, then the snapshot sets the text and makes the editor writable', async () => {
  const { s, conn, port, events, snapshot } = open();
  await s.start();
  assert.deepEqual(conn.take(), [{ type: 'open', doc: 'd' }]);
  assert.equal(s.client, null);
  snapshot();
  assert.equal(port.value, 'States Parties shall act.');
  assert.equal(s.client.rev, 3);
  assert.equal(s.opened, true);
  assert.deepEqual(named(events, 'readonly'), [false]);
  assert.equal(named(events, 'opened').length, 1);
  // A second snapshot (not asked for) changes nothing.
  conn.deliver({ type: 'snapshot', doc: 'd', rev: 9, text: 'other' });
  assert.equal(port.value, 'States Parties shall act.');
  // Another draft's messages are not ours.
  conn.deliver({ type: 'op', doc: 'e', rev: 4, op: ['x'], client: 'x', seq: 1 });
  assert.equal(s.client.rev, 3);
});

test('a reviewer gets a read-only editor', async () => {
  const { s, events, snapshot } = open({ canEdit: false });
  await s.start();
  snapshot();
  assert.deepEqual(named(events, 'readonly'), [true]);
});

test('edits: one op in flight, the next buffered, sent on ack; acks move the revision', async () => {
  const { s, conn, port, snapshot } = open();
  await s.start();
  snapshot();
  conn.take();
  port.value = type.apply(port.value, ['All ']);
  s.local(['All ']);
  port.value = type.apply(port.value, [4, 'the ']);
  s.local([4, 'the ']);
  assert.deepEqual(conn.take(), [{ type: 'op', doc: 'd', rev: 3, seq: 1, op: ['All '] }]);
  conn.deliver({ type: 'ack', doc: 'd', seq: 1, rev: 4 });
  assert.deepEqual(conn.take(), [{ type: 'op', doc: 'd', rev: 4, seq: 2, op: [4, 'the '] }]);
  conn.deliver({ type: 'ack', doc: 'd', seq: 2, rev: 5 });
  assert.equal(s.client.rev, 5);
  assert.equal(s.client.pending, false);
});

test('a remote op is transformed over the pending edit, and the texts agree', async () => {
  const { s, conn, port, events, snapshot } = open({ text: 'abc', rev: 0 });
  await s.start();
  snapshot();
  port.value = 'Xabc';
  s.local(['X']);
  conn.deliver({ type: 'op', doc: 'd', rev: 1, op: [3, 'Y'], client: 'other', seq: 1, by: by('EGY') });
  assert.equal(port.value, 'XabcY');
  assert.deepEqual(port.owns, [false]);
  conn.deliver({ type: 'ack', doc: 'd', seq: 1, rev: 2 });
  assert.equal(s.client.rev, 2);
  // The author is someone in the room now, marked as typing.
  const p = s.people.get(presenceKey('other', by('EGY')));
  assert.ok(p && p.typedTs, 'the author is listed as typing');
  assert.ok(named(events, 'people').length > 0);
});

test('an op skipping revisions drops the connection (the page resumes from its revision)', async () => {
  const { s, conn, snapshot } = open();
  await s.start();
  snapshot();
  conn.deliver({ type: 'op', doc: 'd', rev: 7, op: ['x'], client: 'o', seq: 1 });
  assert.equal(conn.drops, 1);
  assert.equal(s.client.rev, 3);
});

test('reconnecting resumes with open+rev and resends the op in flight with the same seq', async () => {
  const { s, conn, port, snapshot } = open();
  await s.start();
  snapshot();
  port.value = 'x' + port.value;
  s.local(['x']);
  conn.take();
  conn.drop();
  assert.equal(s.opened, false);
  conn.status = 'online';
  conn.deliver({ type: 'ready' });
  assert.deepEqual(conn.take(), [{ type: 'open', doc: 'd', rev: 3 }]);
  conn.deliver({ type: 'opened', doc: 'd', rev: 3, present: [{ client: 'c2', by: by('EGY'), role: 'drafter' }] });
  assert.deepEqual(conn.take(), [{ type: 'op', doc: 'd', rev: 3, seq: 1, op: ['x'] }]);
  assert.ok(s.people.has(presenceKey('c2', by('EGY'))), 'the people present on opening are listed');
});

test('an edit refused for good (locked) is dropped, kept with its text, and the draft reloaded', async () => {
  const { s, conn, port, events, store, snapshot } = open();
  await s.start();
  snapshot();
  port.value = 'New ' + port.value;
  s.local(['New ']);
  conn.take();
  conn.deliver({ type: 'error', code: 'locked', message: 'paragraph 1 is agreed', doc: 'd', seq: 1 });
  assert.equal(s.refused.length, 1);
  assert.equal(s.refused[0].code, 'locked');
  assert.equal(s.refused[0].text, 'New ');
  assert.deepEqual(store.refused.get('d').map((r) => r.text), ['New '], 'kept on this device');
  assert.deepEqual(conn.take(), [{ type: 'close', doc: 'd' }, { type: 'open', doc: 'd' }]);
  assert.equal(s.client, null);
  assert.deepEqual(named(events, 'readonly').at(-1), true);
  conn.deliver({ type: 'snapshot', doc: 'd', rev: 3, text: 'States Parties shall act.' });
  assert.equal(port.value, 'States Parties shall act.');
  assert.equal(s.client.pending, false);
  s.dismissRefused(0);
  assert.deepEqual(s.refused, []);
  assert.equal(store.refused.get('d').length, 0);
});

test('a refusal for another seq, or with a ref, is not taken for the op in flight', async () => {
  const { s, conn, events, snapshot } = open();
  await s.start();
  snapshot();
  s.local(['x']);
  conn.take();
  conn.deliver({ type: 'error', code: 'locked', doc: 'd', seq: 99, message: 'no' });
  conn.deliver({ type: 'error', code: 'locked', doc: 'd', seq: 1, ref: 'r1', message: 'no' });
  assert.equal(s.refused.length, 0);
  assert.ok(s.client.pending);
  assert.equal(named(events, 'toast').length, 1, 'the other seq is shown as an error');
});

test('a frame over the limit (no doc, no seq) refuses the op in flight', async () => {
  const { s, conn, snapshot } = open();
  await s.start();
  snapshot();
  s.local(['big']);
  conn.deliver({ type: 'error', code: 'too_large', message: 'frame too large' });
  assert.equal(s.refused.length, 1);
  assert.equal(s.refused[0].text, 'big');
});

test('rev_ahead resyncs from a snapshot and keeps the unsent edits as diverged', async () => {
  const { s, conn, events, snapshot } = open();
  await s.start();
  snapshot();
  s.local(['lost ']);
  conn.take();
  conn.deliver({ type: 'error', code: 'rev_ahead', doc: 'd', message: 'rev 3 ahead of 1' });
  assert.deepEqual(s.refused.map((r) => [r.code, r.text]), [['diverged', 'lost ']]);
  assert.deepEqual(named(events, 'notice').at(-1), { text: 'The server lost revisions this page had.', kind: 'warn' });
  assert.deepEqual(conn.take(), [{ type: 'close', doc: 'd' }, { type: 'open', doc: 'd' }]);
});

test('a draft that does not exist says so and stays read-only', async () => {
  const { s, conn, events } = open();
  await s.start();
  conn.deliver({ type: 'error', code: 'not_found', doc: 'd', message: 'no draft d' });
  assert.equal(s.missing, true);
  assert.deepEqual(named(events, 'notice').at(-1), { text: 'There is no draft "d".', kind: 'error' });
  assert.deepEqual(named(events, 'readonly'), [true]);
  assert.equal(named(events, 'missing').length, 1);
});

test('rate_limited for the op in flight: sent again with the same seq, and a warning', async () => {
  const { s, conn, events, snapshot } = open();
  await s.start();
  snapshot();
  s.local(['x']);
  conn.take();
  conn.deliver({ type: 'error', code: 'rate_limited', doc: 'd', seq: 1, message: 'slow down' });
  assert.equal(s.client.sent, false, 'to be sent again');
  assert.deepEqual(named(events, 'toast').map((t) => t.kind), ['warn']);
  clearTimeout(s.client.retryTimer);
});

test('presence: cursors are mapped over pending edits, keyed by client and author, and leave', async () => {
  const { s, conn, events, snapshot } = open({ text: 'abcdef', rev: 0 });
  await s.start();
  snapshot();
  s.local(['XY']); // the local text is two code points ahead of the server's
  const egy = by('EGY', 'Omar');
  conn.deliver({ type: 'presence', doc: 'd', client: 'c2', by: egy, role: 'drafter', rev: 0, sel: [[0, 0]] });
  assert.deepEqual(named(events, 'cursor'), [], 'a cursor that never moved from 0 is not drawn');
  conn.deliver({ type: 'presence', doc: 'd', client: 'c2', by: egy, role: 'drafter', rev: 0, sel: [[3, 5]] });
  const [cur] = named(events, 'cursor');
  assert.equal(cur.key, presenceKey('c2', egy));
  assert.deepEqual(cur.ranges, [[5, 7]]);
  // Someone else reusing the client id is another person.
  conn.deliver({ type: 'presence', doc: 'd', client: 'c2', by: by('USA', 'Bob'), role: 'facilitator', rev: 0, sel: [[1, 1]] });
  assert.equal(s.people.size, 2);
  assert.equal(s.lastMover, presenceKey('c2', by('USA', 'Bob')), 'a facilitator who moves leads');
  // Our own presence (same client id) is not a person.
  conn.deliver({ type: 'presence', doc: 'd', client: 'me-1', by: me, rev: 0, sel: [[1, 1]] });
  assert.equal(s.people.size, 2);
  conn.deliver({ type: 'presence', doc: 'd', client: 'c2', by: egy, left: true });
  assert.deepEqual(named(events, 'cursor-gone'), [presenceKey('c2', egy)]);
  assert.equal(s.people.size, 1);
});

test('sendPresence maps the selection back to the server revision', async () => {
  const { s, conn, snapshot } = open({ text: 'abcdef', rev: 0 });
  s.sendPresence([[1, 1]]);
  assert.deepEqual(conn.take(), [], 'nothing before the draft is open');
  await s.start();
  snapshot();
  s.local(['XY']);
  conn.take();
  s.sendPresence([[4, 6]]);
  assert.deepEqual(conn.take(), [{ type: 'presence', doc: 'd', rev: 0, sel: [[2, 4]] }]);
});

test('idle people and waiting edits follow the clock', async () => {
  let now = 1000;
  const { s, conn, snapshot } = open({ clock: () => now });
  await s.start();
  snapshot();
  conn.deliver({ type: 'presence', doc: 'd', client: 'c2', by: by('EGY'), rev: 3, sel: [[1, 1]] });
  now += 500;
  assert.deepEqual([...s.idleKeys(1000)], []);
  now += 1000;
  assert.deepEqual([...s.idleKeys(1000)], [presenceKey('c2', by('EGY'))]);
  s.client.since = null;
  s.local(['x']);
  s.client.since = now; // OTClient stamps with Date.now; pin it to the test clock
  s.checkWaiting();
  assert.equal(conn.waiting, null, 'not waiting yet');
  now += WAIT_MS;
  s.checkWaiting();
  assert.equal(conn.waiting, s.client.since);
  conn.deliver({ type: 'ack', doc: 'd', seq: 1, rev: 4 });
  s.checkWaiting();
  assert.equal(conn.waiting, null);
});

test('unsent edits from before a reload are restored on text(rev) and resumed', async () => {
  const store = memStore();
  store.savePending('me-1', 'd', { rev: 2, inflight: { op: ['A '], seq: 7 }, buffer: [2, 'b '], since: 5, who: 'CAN/Ana' });
  const api = { docPath: (id, rest) => `/api/docs/${id}${rest}`, get: async (p) => { assert.equal(p, '/api/docs/d/text?rev=2'); return { rev: 2, text: 'text' }; } };
  const { s, conn, port, events } = open({ store, api });
  await s.start();
  assert.equal(port.value, 'A b text');
  assert.equal(named(events, 'recovered').length, 1);
  assert.deepEqual(conn.take(), [{ type: 'open', doc: 'd', rev: 2 }]);
  conn.deliver({ type: 'opened', doc: 'd', rev: 2 });
  assert.deepEqual(conn.take(), [{ type: 'op', doc: 'd', rev: 2, seq: 7, op: ['A '] }]);
});

test('unsent edits of another sign-in are not sent as this one', async () => {
  const store = memStore();
  store.savePending('me-1', 'd', { rev: 2, inflight: { op: ['A '], seq: 7 }, buffer: null, who: 'USA/Bob' });
  const { s, conn, events } = open({ store });
  await s.start();
  assert.match(named(events, 'notice')[0].text, /another sign-in \(USA\/Bob\)/);
  assert.deepEqual(conn.take(), [{ type: 'open', doc: 'd' }]);
});

test('a restore that fails forgets the edits and says why', async () => {
  const store = memStore();
  store.savePending('me-1', 'd', { rev: 2, inflight: { op: ['A '], seq: 7 }, buffer: null, who: 'CAN/Ana' });
  const api = { docPath: (id, rest) => `/api/docs/${id}${rest}`, get: async () => ({ rev: 2, txt: 'misnamed' }) };
  const { s, events } = open({ store, api });
  const warn = console.warn;
  console.warn = () => {};
  try { await s.start(); } finally { console.warn = warn; }
  assert.match(named(events, 'notice')[0].text, /could not be restored: unexpected text from the server: text is missing/);
  assert.equal(store.pending.size, 0);
});

test('a bracket listing is read once for everyone; one of another shape is an error, not a blank', async () => {
  const { s, conn, events } = open();
  const listing = { type: 'brackets', doc: 'd', rev: 3, diagnostics: [], groups: [
    { id: 'b0.1', span: [15, 30], kind: 'alternatives', parent: null, parent_alternative: -1, depth: 0,
      alternatives: [{ text: 'shall', span: [16, 21], by: by('EGY', 'Omar'), source: 'bracket' }, { text: ' must ', span: [22, 28], by: by('CAN', 'Ana'), source: 'proposal' }] }] };
  conn.deliver(listing);
  assert.equal(s.brackets, listing);
  assert.deepEqual([...s.proposers()], [['shall', 'Omar (EGY)'], ['must', 'Ana (CAN)']]);
  const err = console.error;
  console.error = () => {};
  try { conn.deliver({ type: 'brackets', doc: 'd', rev: 4, groups: [{ id: 'b0.1', alts: [] }] }); } finally { console.error = err; }
  const [e] = named(events, 'brackets-error');
  assert.match(e.message, /groups\[0\]\.span is missing/);
  assert.equal(s.brackets, listing, 'the last good listing stays');
});

test('destroy closes the draft and stops listening', async () => {
  const { s, conn, port, snapshot } = open();
  const off = s.on('change', () => {});
  await s.start();
  snapshot();
  conn.take();
  s.destroy();
  assert.deepEqual(conn.take(), [{ type: 'close', doc: 'd' }]);
  conn.deliver({ type: 'op', doc: 'd', rev: 4, op: ['x'], client: 'o', seq: 1 });
  assert.equal(port.value, 'States Parties shall act.');
  // The view removes its listeners after destroying the session (a page
  // going away): that must not throw.
  off();
});

test('the op of a proposal this page just made is applied as the user\'s own undo step; others\' are not', async () => {
  let now = 10_000;
  const { s, conn, port, events, snapshot } = open({ text: 'ab', rev: 0, clock: () => now });
  await s.start();
  snapshot();
  conn.deliver({ type: 'op', doc: 'd', rev: 1, op: [1, 'x'], client: '_draftroom', seq: 1, kind: 'propose', by: me });
  s.proposalSent();
  now += 1000;
  conn.deliver({ type: 'op', doc: 'd', rev: 2, op: [2, 'y'], client: '_draftroom', seq: 2, kind: 'propose', by: by('USA', 'Bob') });
  conn.deliver({ type: 'op', doc: 'd', rev: 3, op: [3, 'z'], client: '_draftroom', seq: 3, kind: 'propose', by: me });
  now += 31_000;
  conn.deliver({ type: 'op', doc: 'd', rev: 4, op: [4, 'w'], client: '_draftroom', seq: 4, kind: 'propose', by: me });
  conn.deliver({ type: 'op', doc: 'd', rev: 5, op: [5, '!'], client: '_draftroom', seq: 5, kind: 'resolve', by: me });
  assert.equal(port.value, 'axyzw!b');
  assert.deepEqual(port.owns, [false, false, true, false, false], 'only ours, within 30 s of sending it');
  assert.deepEqual(named(events, 'resolved').map((m) => m.rev), [5]);
});

// DraftSession: one open draft as this page holds it, without a DOM. It
// owns the draft's side of the connection (open, resume, ops, acks,
// refusals, resync, presence), the OT client, the edits the server refused,
// who is here and where their cursors are, the draft's title, and the
// bracket and provision listings it was sent; it tells the view what
// changed through events. The view (draft.js) owns the editor and the DOM:
// it gives the session a small text port and forwards what the user does.
//
// Everything in code points (the wire's unit); the view converts to the
// editor's UTF-16 offsets. Unit-tested in Node with a fake connection
// (web/test/session.test.mjs).

import { type } from 'ot-text-unicode';
import { OTClient, Gap } from './otclient.js';
import { DEFAULT_MAX_OP_BYTES } from './split.js';
import { readBracketListing, readProvisionListing, readTextAt, readDraftList } from './shapes.js';

/** Emitter is the smallest event emitter: on returns the function that removes the listener. */
export class Emitter {
  constructor() { this.listeners = new Map(); }
  on(event, fn) {
    if (!this.listeners.has(event)) this.listeners.set(event, new Set());
    this.listeners.get(event).add(fn);
    return () => { const fns = this.listeners.get(event); if (fns) fns.delete(fn); };
  }
  emit(event, value) {
    const fns = this.listeners.get(event);
    if (fns) for (const fn of [...fns]) fn(value);
  }
}

/** REFUSED_WORDS says, per error code, why an edit was refused for good (the edit is dropped and kept on screen). */
export const REFUSED_WORDS = {
  too_large: 'The edit was too large for this draft',
  bad_op: 'The edit did not fit the draft as the server has it',
  forbidden: 'You may not make this edit',
  locked: 'This part of the text is agreed and locked',
  diverged: 'This page lost step with the draft',
};

/** WAIT_MS: edits unacknowledged for this long (or made offline) are shown as waiting. */
export const WAIT_MS = 1000;

/** PROPOSAL_WINDOW_MS: an op for a proposal of ours that comes this soon after we sent one is our own undo step. */
const PROPOSAL_WINDOW_MS = 30000;

/**
 * presenceKey names one person's cursor: a client id is chosen by the
 * client, so another delegation may reuse someone's; keyed by client id
 * and who sent it, one cannot replace or remove the other's.
 */
export function presenceKey(client, by) { return by ? `${client} ${by.delegation}/${by.name}` : client; }

/**
 * DraftSession events (emit(name, value)):
 * - change: the OT client's state changed (revision, pending edits, connection)
 * - typed: the user's edit was recorded (local)
 * - notice {text, kind}: the line above the editor ('' hides it)
 * - readonly (bool): whether the editor must refuse typing
 * - missing: the server says there is no such draft (the view hides the editor)
 * - refused (list): the refused edits kept for the user [{at, code, message, text, local?}]
 * - opened (msg): the server caught this page up (snapshot or opened)
 * - people: someone arrived, left or acted (read session.people)
 * - cursor {key, client, by, role, ranges}: a cursor moved; ranges [[anchor, head]] in local code points
 * - cursor-gone (key): that cursor left
 * - resolved (msg): an op of kind resolve committed (notifications)
 * - toast {error, kind}: an error message worth showing briefly
 * - recovered: unsent edits from before a reload were restored and are being sent
 * - meta: the title is known (session.title)
 * - brackets (listing) / brackets-error (Error): a bracket listing read, or one that did not read
 * - provisions (listing) / provisions-error (Error): the same for provisions
 */
export class DraftSession extends Emitter {
  /**
   * @param {object} o
   * @param {object} o.conn the Connection (status, identity, on, onStatus, send, request, drop, setWaiting)
   * @param {object} o.api the Api (get, docPath)
   * @param {string} o.id the draft
   * @param {string} o.clientId this page's client id
   * @param {() => number} o.nextSeq
   * @param {{delegation: string, name: string, role: string}} o.me
   * @param {boolean} o.canEdit
   * @param {{set(text: string): void, apply(op: any[], own: boolean): void}} o.text the view's text:
   *   set replaces it (a snapshot); apply applies a remote op (code points), throwing if it does not
   *   fit; own says the op is a proposal this page made (an undo step of the user's)
   * @param {{loadPending, savePending, loadRefused, saveRefused}} o.store what is kept on this device
   * @param {() => number} [o.now] the clock (ms)
   */
  constructor(o) {
    super();
    Object.assign(this, { conn: o.conn, api: o.api, id: o.id, clientId: o.clientId, nextSeq: o.nextSeq, me: o.me, canEdit: o.canEdit, text: o.text, store: o.store });
    this.now = o.now || Date.now;
    this.whoKey = `${o.me.delegation}/${o.me.name}`;
    this.client = null; // the OTClient, once the base text is known
    this.opened = false; // the server caught us up on this connection
    this.loadingFresh = false; // an `open` without rev is outstanding
    this.starting = true; // start() is restoring unsent edits: a reconnect must not open fresh
    this.missing = false; // the server says there is no such draft
    this.kept = true; // whether the last unacknowledged state fitted on this device
    this.refused = o.store.loadRefused(o.id);
    this.notice = { text: '', kind: 'warn' };
    this.people = new Map(); // presenceKey -> {cid, by, role, ts, activeTs, typedTs}
    this.active = new Set(); // keys whose cursor has been shown
    this.lastMover = null; // the key that moved last (a facilitator's first)
    this.title = '';
    this.brackets = null; // the last bracket listing read
    this.provisions = null; // the last provisions listing read
    this.ownProposal = false;
    this.proposalSentAt = -Infinity;
    this.offs = [
      this.conn.on('ready', () => this.onReady()),
      this.conn.on('down', () => this.onDown()),
      this.conn.onStatus(() => this.emit('change')),
      this.conn.on('snapshot', (m) => this.onSnapshot(m)),
      this.conn.on('opened', (m) => { if (m.doc === this.id && this.client) this.afterOpen(m); }),
      this.conn.on('op', (m) => this.onOp(m)),
      this.conn.on('ack', (m) => this.onAck(m)),
      this.conn.on('error', (m) => this.onError(m)),
      this.conn.on('presence', (m) => this.onPresence(m)),
      this.conn.on('brackets', (m) => this.onListing(m, 'brackets', readBracketListing)),
      this.conn.on('provisions', (m) => this.onListing(m, 'provisions', readProvisionListing)),
    ];
  }

  // ---- opening and resuming -------------------------------------------------

  /**
   * start opens the draft: first restoring edits typed before a reload that
   * the server never acknowledged (text(rev) + inflight + buffer, then
   * resume from rev, so the server either recognises the op by client and
   * seq or commits it), then `open` once online.
   */
  async start() {
    const saved = this.canEdit ? this.store.loadPending(this.clientId, this.id) : null;
    if (saved && saved.inflight && saved.who !== this.whoKey) {
      this.setNotice(`Unsent edits from another sign-in (${saved.who || 'unknown'}) are kept on this device but not sent as you.`);
    } else if (saved && saved.inflight) {
      await this.restore(saved);
    }
    this.starting = false;
    if (this.conn.status === 'online') this.openOnServer();
  }

  async restore(saved) {
    try {
      const base = readTextAt(await this.api.get(this.api.docPath(this.id, '/text?rev=' + saved.rev)));
      let text = type.apply(base.text, saved.inflight.op);
      if (saved.buffer) text = type.apply(text, saved.buffer);
      this.text.set(text);
      this.makeClient(saved.rev, saved);
      this.setNotice('');
      this.emit('recovered');
    } catch (e) {
      console.warn('draftroom: could not restore unsent edits', e);
      this.store.savePending(this.clientId, this.id, null);
      this.setNotice('Edits from an earlier visit could not be restored: ' + e.message);
    }
  }

  openOnServer() {
    this.opened = false;
    if (this.client) {
      this.conn.send({ type: 'open', doc: this.id, rev: this.client.rev });
    } else {
      this.loadingFresh = true;
      this.conn.send({ type: 'open', doc: this.id });
    }
  }

  makeClient(rev, restored) {
    const c = new OTClient({
      doc: this.id,
      clientId: this.clientId,
      rev,
      nextSeq: this.nextSeq,
      inflight: restored ? restored.inflight : null,
      buffer: restored ? restored.buffer : null,
      since: restored ? restored.since : undefined,
      maxOpBytes: this.opBudget(),
      send: (m) => this.conn.send(m),
      apply: (op) => {
        const own = this.ownProposal;
        this.ownProposal = false;
        this.text.apply(op, own);
      },
      // Stamped with who typed them: dedupe is per credential, so edits
      // must never be resent under someone else's name.
      persist: (state) => { this.kept = this.store.savePending(this.clientId, this.id, state && { ...state, who: this.whoKey }); },
    });
    c.onChange = () => this.emit('change');
    this.client = c;
    this.emit('readonly', !this.canEdit);
    this.emit('change');
  }

  /** opBudget is the largest op message: a quarter of the server's default frame limit, or half of the announced one if lower. */
  opBudget() {
    const f = this.conn.identity && this.conn.identity.max_frame;
    return f ? Math.min(DEFAULT_MAX_OP_BYTES, Math.floor(f / 2)) : DEFAULT_MAX_OP_BYTES;
  }

  /** maxDraftLen is the longest draft the server takes (code points; 0: no limit announced). */
  get maxDraftLen() { return (this.conn.identity && this.conn.identity.max_draft_len) || 0; }

  onReady() {
    for (const key of [...this.people.keys()]) this.dropPerson(key);
    if (!this.starting) this.openOnServer();
  }

  onDown() {
    if (this.client) this.client.disconnected();
    this.opened = false;
    this.emit('change');
  }

  onSnapshot(m) {
    if (m.doc !== this.id) return;
    if (this.client && !this.loadingFresh) return;
    this.loadingFresh = false;
    this.text.set(m.text);
    this.makeClient(m.rev, null);
    this.afterOpen(m);
  }

  afterOpen(m) {
    this.opened = true;
    this.setNotice('');
    for (const p of m.present || []) this.onPresence({ ...p, doc: this.id });
    this.client.connected();
    this.emit('change');
    this.emit('opened', m);
  }

  /**
   * resyncFresh starts again from a snapshot: our text and the server's
   * disagree. Unsent edits cannot be placed any more; they are kept in the
   * refused list with reason.
   */
  resyncFresh(reason) {
    const lost = this.client && this.client.pending ? this.client.dropPending() : null;
    if (lost) this.keepRefused({ at: this.now(), code: 'diverged', message: reason, text: lost.text });
    this.client = null;
    this.emit('readonly', true);
    this.setNotice(reason);
    this.conn.send({ type: 'close', doc: this.id });
    this.openOnServer();
  }

  // ---- edits ----------------------------------------------------------------

  /** local records an edit the user made (an op in code points on the local text) and emits typed. */
  local(op) {
    if (!this.client) return;
    this.client.local(op);
    this.emit('typed');
  }

  /** proposalSent notes that this page sent a proposal (its op becomes the user's undo step). */
  proposalSent() { this.proposalSentAt = this.now(); }

  onOp(m) {
    if (m.doc !== this.id || !this.client) return;
    const mine = !!m.by && m.by.delegation === this.me.delegation && m.by.name === this.me.name;
    this.ownProposal = m.kind === 'propose' && mine && this.now() - this.proposalSentAt < PROPOSAL_WINDOW_MS;
    try {
      this.client.remoteOp(m);
    } catch (e) {
      this.ownProposal = false;
      if (e instanceof Gap) { this.conn.drop(); return; }
      console.error(e);
      this.resyncFresh('The draft changed in a way this page could not follow; it was reloaded.');
      return;
    }
    if (m.by) {
      const key = presenceKey(m.client, m.by);
      this.touchPerson(key, m.client, m.by, undefined, 'typed');
      this.active.add(key);
    }
    if (m.kind === 'resolve') this.emit('resolved', m);
  }

  onAck(m) {
    if (m.doc !== this.id || !this.client) return;
    try {
      this.client.ack(m);
    } catch (e) {
      if (e instanceof Gap) this.conn.drop();
    }
  }

  // ---- refusals -------------------------------------------------------------

  onError(m) {
    if (m.doc !== undefined && m.doc !== this.id) return;
    if (m.ref !== undefined) return; // answered to whoever asked
    const c = this.client;
    if (m.code === 'not_found' && !this.opened) {
      this.missing = true;
      this.setNotice(`There is no draft "${this.id}".`, 'error');
      this.emit('readonly', true);
      this.emit('missing');
      return;
    }
    // Refused for good (locked: agreed text, docs/PROVISIONS.md): the edit
    // is dropped, the draft reloaded, its text kept in the notice.
    if (REFUSED_WORDS[m.code] && m.code !== 'diverged' && c && c.inflight && m.seq === c.inflight.seq && m.doc === this.id) {
      this.refuseInflight(m);
      return;
    }
    if (m.code === 'too_large' && m.doc === undefined && m.seq === undefined && c && c.inflight && c.sent) {
      // A frame over the server's limit is refused before it is read, so
      // the error names no draft or seq: it can only be the op in flight.
      this.refuseInflight(m);
      return;
    }
    if (m.code === 'rev_ahead') { this.resyncFresh('The server lost revisions this page had.'); return; }
    if (m.code === 'forbidden' && !this.opened) {
      this.setNotice(m.message || 'Your credential does not give access to this draft.', 'error');
      this.emit('readonly', true);
      return;
    }
    const retryable = m.code === 'rate_limited' || m.code === 'internal' || m.code === 'unavailable';
    // Not committed: the same op goes again shortly (the status turns to
    // "waiting" if it takes long).
    if (retryable && c && m.doc === this.id && c.retry(m.seq)) {
      if (m.code === 'rate_limited') this.emit('toast', { error: m, kind: 'warn' });
      return;
    }
    if (m.code === 'rate_limited') { this.emit('toast', { error: m, kind: 'warn' }); return; }
    if (m.code || m.message) this.emit('toast', { error: m, kind: 'error' });
  }

  refuseInflight(m) {
    const dropped = this.client ? this.client.dropPending() : null;
    this.keepRefused({ at: this.now(), code: m.code, message: m.message || '', text: dropped ? dropped.text : '' });
    this.resyncFresh('');
  }

  /** refuseLocal keeps an edit this page refused itself (it was never sent): entry {code, message, text}. */
  refuseLocal(entry) { this.keepRefused({ at: this.now(), local: true, ...entry }); }

  keepRefused(entry) {
    this.refused.push(entry);
    this.store.saveRefused(this.id, this.refused);
    this.emit('refused', this.refused);
  }

  /** dismissRefused forgets the i-th refused edit (the user has dealt with it). */
  dismissRefused(i) {
    this.refused.splice(i, 1);
    this.store.saveRefused(this.id, this.refused);
    this.emit('refused', this.refused);
  }

  setNotice(text, kind = 'warn') {
    this.notice = { text: text || '', kind };
    this.emit('notice', this.notice);
  }

  /**
   * checkWaiting keeps the status indicator honest: edits unacknowledged
   * for WAIT_MS (or made while offline) are waiting, and the indicator says
   * since when instead of "Live". A blocked network keeps the socket open
   * and silent, so the time since the oldest unacknowledged edit is what
   * tells; the view calls this on a timer.
   */
  checkWaiting() {
    const c = this.client;
    const since = c && c.pending ? c.since : null;
    const waiting = since !== null && (this.conn.status !== 'online' || !this.opened || this.now() - since >= WAIT_MS);
    this.conn.setWaiting(waiting ? since : null, this.kept);
  }

  // ---- presence -------------------------------------------------------------

  /**
   * sendPresence tells the others where this page's selection is: ranges
   * [[anchor, head]] in local code points (at most 64 go; [] means here,
   * no cursor). Nothing is sent before the draft is open.
   */
  sendPresence(ranges) {
    const c = this.client;
    if (!c || !this.opened) return;
    const sel = ranges.slice(0, 64).map(([a, hd]) => [c.toServer(a), c.toServer(hd)]);
    this.conn.send({ type: 'presence', doc: this.id, rev: c.rev, sel });
  }

  onPresence(m) {
    if (m.doc !== this.id || m.client === this.clientId) return;
    if (m.left) {
      if (m.by) this.dropPerson(presenceKey(m.client, m.by));
      else for (const [key, p] of [...this.people]) if (p.cid === m.client) this.dropPerson(key); // a server that does not say who left
      return;
    }
    const key = presenceKey(m.client, m.by);
    this.touchPerson(key, m.client, m.by, m.role, true);
    const c = this.client;
    if (!m.sel || !c) return;
    // A client that only ever reports [0, 0] (an older page that sends
    // presence on opening) is not drawn until it moves or types.
    if (!this.active.has(key) && m.sel.every(([a, hd]) => a === 0 && hd === 0)) return;
    this.active.add(key);
    const rev = m.rev ?? c.rev;
    const ranges = m.sel.map(([a, hd]) => [c.toLocal(a, rev), c.toLocal(hd, rev)]);
    const lead = this.lastMover && this.isFacilitator(this.lastMover) ? this.lastMover : key;
    this.lastMover = (m.role === 'facilitator' || this.isFacilitator(key)) ? key : lead;
    this.emit('cursor', { key, client: m.client, by: m.by, role: m.role, ranges });
  }

  isFacilitator(key) { const p = this.people.get(key); return !!p && p.role === 'facilitator'; }

  touchPerson(key, cid, by, role, acted) {
    if (!cid || cid === this.clientId || cid === '_draftroom') return;
    const p = this.people.get(key) || {};
    const now = this.now();
    this.people.set(key, { cid, by: by || p.by, role: role || p.role, ts: now, activeTs: acted ? now : p.activeTs, typedTs: acted === 'typed' ? now : p.typedTs });
    this.emit('people');
  }

  dropPerson(key) {
    this.people.delete(key);
    this.active.delete(key);
    if (this.lastMover === key) this.lastMover = null;
    this.emit('cursor-gone', key);
    this.emit('people');
  }

  /** idleKeys lists the people who have not moved or typed for idleMs. */
  idleKeys(idleMs) {
    const now = this.now();
    const idle = new Set();
    for (const [key, p] of this.people) if (now - (p.activeTs || 0) > idleMs) idle.add(key);
    return idle;
  }

  /** toLocal maps a code-point position at revision rev to the local text (code points). */
  toLocal(cp, rev) { return this.client ? this.client.toLocal(cp, rev) : 0; }

  // ---- what the draft holds: title, brackets, provisions --------------------

  /** loadTitle reads the draft's title from the draft list (GET /api/docs/{id} would carry the whole text for it). */
  async loadTitle() {
    const list = readDraftList(await this.api.get('/api/docs'));
    const d = list.docs.find((x) => x.id === this.id);
    this.title = d ? d.title : '';
    this.emit('meta');
    return this.title;
  }

  /** requestBrackets asks for the bracket listing; it arrives as a `brackets` event (or brackets-error). Rejects if the request fails. */
  requestBrackets() { return this.conn.request({ type: 'brackets', doc: this.id }); }

  /** requestProvisions asks for the provisions listing, as requestBrackets. */
  requestProvisions() { return this.conn.request({ type: 'provisions', doc: this.id }); }

  onListing(m, kind, read) {
    if (m.doc !== this.id) return;
    let listing;
    try {
      listing = read(m);
    } catch (e) {
      console.error(`draftroom: ${kind} listing of ${this.id}:`, e);
      this.emit(kind + '-error', e);
      return;
    }
    this[kind] = listing;
    this.emit(kind, listing);
  }

  /** proposers maps each alternative's text (trimmed) to who proposed it, "Ana (CAN)", from the last bracket listing. */
  proposers() {
    const names = new Map();
    for (const g of this.brackets ? this.brackets.groups : []) {
      for (const a of g.alternatives) names.set(a.text.trim(), `${a.by.name} (${a.by.delegation})`);
    }
    return names;
  }

  /** destroy closes the draft on the server and stops listening. */
  destroy() {
    if (this.client) this.conn.send({ type: 'close', doc: this.id });
    for (const off of this.offs) off();
    this.conn.setWaiting(null);
    this.listeners.clear();
  }
}

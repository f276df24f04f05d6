// The OT client state machine for one draft: the browser side of the
// contract in docs/PROTOCOL.md ("A client keeps at most one op per draft in
// flight and composes later edits behind it").
//
// State: rev (the last revision the server confirmed to us), inflight (the
// op sent and not yet acknowledged, with its seq) and buffer (local edits
// made since, composed into one op). The local text is always
// text(rev) + inflight + buffer. Nothing here touches the DOM or the
// network: the owner passes callbacks, so the machine is unit-tested in Node.

import { type } from 'ot-text-unicode';
import { splitOp, DEFAULT_MAX_OP_BYTES } from './split.js';

/** Gap is thrown when a message skips revisions: the caller resumes from rev. */
export class Gap extends Error {
  constructor(want, got) {
    super(`draftroom: expected revision ${want}, got ${got}`);
    this.name = 'Gap';
  }
}

export function isNoop(op) { return !op || type.normalize(op).length === 0; }

export class OTClient {
  /**
   * @param {object} o
   * @param {string} o.doc draft id
   * @param {string} o.clientId this page's client id
   * @param {number} o.rev the revision of the text the page starts from
   * @param {() => number} o.nextSeq returns a seq larger than any used by clientId
   * @param {(msg: object) => void} o.send sends a message (only called while online)
   * @param {(op: any[]) => void} o.apply applies a remote op (code points) to the local text
   * @param {(state: object|null) => void} [o.persist] stores unacknowledged edits (null: none)
   * @param {{op: any[], seq: number}|null} [o.inflight] restored from a previous page
   * @param {any[]|null} [o.buffer] restored from a previous page
   * @param {number} [o.since] restored: when the oldest unacknowledged edit was made (ms)
   * @param {number} [o.maxOpBytes] largest op message (UTF-8 bytes); bigger edits go as several ops
   */
  constructor(o) {
    this.doc = o.doc;
    this.clientId = o.clientId;
    this.rev = o.rev;
    this.nextSeq = o.nextSeq;
    this.send = o.send;
    this.apply = o.apply;
    this.persist = o.persist || (() => {});
    this.onChange = () => {};
    this.inflight = o.inflight || null;
    this.buffer = o.buffer || null;
    this.maxOpBytes = o.maxOpBytes || DEFAULT_MAX_OP_BYTES;
    // since: when the oldest edit not yet acknowledged was made (null:
    // none). The page says "waiting since" from it.
    this.since = this.pending ? (o.since || Date.now()) : null;
    this.bufferSince = this.buffer !== null ? this.since : null; // when the oldest edit in buffer was made
    this.online = false;
    this.sent = false; // whether inflight went out on the current connection
    this.recent = []; // [{rev, op}] of the last committed ops, to map presence that lags behind
  }

  get pending() { return this.inflight !== null || this.buffer !== null; }

  /** local records an edit the user made on the local text (op in code points). */
  local(op) {
    op = type.normalize(op);
    if (op.length === 0) return;
    if (this.inflight === null) {
      this.since = Date.now();
      this.promote(op);
    } else {
      if (this.buffer === null) this.bufferSince = Date.now();
      this.buffer = this.buffer === null ? op : type.compose(this.buffer, op);
    }
    this.save();
    this.flush();
  }

  /** connected is called once the server has caught us up to rev (snapshot or opened). */
  connected() {
    this.online = true;
    this.sent = false;
    this.flush();
  }

  disconnected() {
    this.online = false;
    this.sent = false;
  }

  flush() {
    if (!this.online || this.inflight === null || this.sent) return;
    this.sent = true;
    // Resent after a reconnect with the same seq: the server recognises it if
    // it was committed already and answers with the same ack.
    this.send({ type: 'op', doc: this.doc, rev: this.rev, seq: this.inflight.seq, op: this.inflight.op });
  }

  /**
   * retry handles an error with a retry code (rate_limited, internal,
   * unavailable) for the op in flight with seq: nothing was committed (or a
   * resend is recognised), so the same op goes again with the same seq
   * after delayMs. Returns whether it was about the op in flight.
   */
  retry(seq, delayMs = 500) {
    if (this.inflight === null || this.inflight.seq !== seq) return false;
    this.sent = false;
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => { this.retryTimer = null; this.flush(); }, delayMs);
    return true;
  }

  /** remoteOp handles an `op` message. Throws Gap when revisions were skipped. */
  remoteOp(msg) {
    if (msg.rev <= this.rev) return; // already have it (duplicate after a resume)
    if (msg.rev !== this.rev + 1) throw new Gap(this.rev + 1, msg.rev);
    if (this.inflight !== null && msg.client === this.clientId && msg.seq === this.inflight.seq) {
      this.acked(msg.rev);
      return;
    }
    let op = msg.op;
    if (this.inflight !== null) {
      const mine = type.transform(this.inflight.op, op, 'left');
      op = type.transform(op, this.inflight.op, 'right');
      this.inflight.op = mine;
    }
    if (this.buffer !== null) {
      const mine = type.transform(this.buffer, op, 'left');
      op = type.transform(op, this.buffer, 'right');
      this.buffer = mine;
    }
    this.rev = msg.rev;
    this.remember(msg.rev, msg.op);
    if (this.pending) this.save();
    this.apply(op);
    this.onChange();
  }

  /** ack handles an `ack` message. Acks for other seqs (resends) are ignored. */
  ack(msg) {
    if (this.inflight === null || msg.seq !== this.inflight.seq) return;
    if (msg.rev !== this.rev + 1) throw new Gap(this.rev + 1, msg.rev);
    this.acked(msg.rev);
  }

  acked(rev) {
    this.rev = rev;
    this.remember(rev, this.inflight.op);
    this.inflight = null;
    this.sent = false;
    if (this.buffer !== null) {
      const op = this.buffer;
      this.buffer = null;
      this.since = this.bufferSince || Date.now();
      this.promote(op);
    } else {
      this.since = null;
    }
    this.bufferSince = this.buffer !== null ? this.since : null;
    this.save();
    this.flush();
    this.onChange();
  }

  /**
   * promote puts op in flight with a new seq (nothing is in flight or
   * buffered). An op too big for one message is split: its first piece
   * goes in flight, the others wait composed in the buffer, where the next
   * promotion splits them again; each piece is acked before the next goes.
   */
  promote(op) {
    const pieces = splitOp(op, this.maxOpBytes);
    let rest = null;
    for (const p of pieces.slice(1)) rest = rest === null ? p : type.compose(rest, p);
    this.inflight = { op: pieces[0], seq: this.nextSeq() };
    this.buffer = rest;
    if (rest !== null) this.bufferSince = this.since; // the rest of the same edit
    this.sent = false;
  }

  /**
   * dropPending forgets unacknowledged edits (after the server refused
   * them) and returns them: {rev, op} (composed, on the text at rev) and
   * text, what they inserted (one line per insert), or null if none.
   */
  dropPending() {
    let dropped = null;
    if (this.inflight !== null) {
      let op = this.inflight.op;
      if (this.buffer !== null) {
        try { op = type.compose(op, this.buffer); } catch { op = op.concat(this.buffer); }
      }
      dropped = { rev: this.rev, op, text: op.filter((c) => typeof c === 'string').join('\n') };
    }
    this.inflight = null;
    this.buffer = null;
    this.sent = false;
    this.since = null;
    this.bufferSince = null;
    this.save();
    this.onChange();
    return dropped;
  }

  remember(rev, op) {
    this.recent.push({ rev, op });
    if (this.recent.length > 500) this.recent.splice(0, this.recent.length - 500);
  }

  /**
   * toLocal maps a code-point position at revision rev (for example a remote
   * cursor) to the local text: through the committed ops we have after rev,
   * then through our own pending edits.
   */
  toLocal(pos, rev) {
    for (const r of this.recent) if (r.rev > rev) pos = type.transformPosition(pos, r.op);
    if (this.inflight !== null) pos = type.transformPosition(pos, this.inflight.op);
    if (this.buffer !== null) pos = type.transformPosition(pos, this.buffer);
    return pos;
  }

  /**
   * toServer maps a code-point position in the local text back to the text
   * at this.rev, stepping back over our pending edits (their deletes carry
   * their text, so they invert).
   */
  toServer(pos) {
    const steps = [];
    if (this.inflight !== null) steps.push(this.inflight.op);
    if (this.buffer !== null) steps.push(this.buffer);
    for (let i = steps.length - 1; i >= 0; i--) {
      try {
        pos = type.transformPosition(pos, type.invert(steps[i]));
      } catch {
        // An op with {d:N} cannot invert: keep the position, it is close.
      }
    }
    return pos;
  }

  save() {
    this.persist(this.pending ? { rev: this.rev, inflight: this.inflight, buffer: this.buffer, since: this.since } : null);
  }
}

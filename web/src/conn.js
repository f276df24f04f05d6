// The WebSocket to /ws: hello, reconnect with backoff, dispatch by message
// type, and request/reply matching by "ref" (docs/PROTOCOL.md section 2).

export class Connection {
  constructor(cred, clientId) {
    this.cred = cred;
    this.clientId = clientId;
    this.ws = null;
    this.status = 'connecting'; // connecting | online | offline | denied
    this.waitingSince = null; // see setWaiting
    this.waitingKept = true;
    this.identity = null; // the welcome message
    this.handlers = new Map();
    this.statusListeners = new Set();
    this.waiting = new Map(); // ref -> {resolve, reject, timer}
    this.nextRef = 1;
    this.attempt = 0;
    this.stopped = false;
    this.timer = null;
    this.onlineEvent = () => { if (this.status === 'offline') this.reconnectSoon(0); };
    window.addEventListener('online', this.onlineEvent);
  }

  /** on registers fn for messages of one type; returns a function that removes it. */
  on(type, fn) {
    if (!this.handlers.has(type)) this.handlers.set(type, new Set());
    this.handlers.get(type).add(fn);
    return () => this.handlers.get(type).delete(fn);
  }

  onStatus(fn) {
    this.statusListeners.add(fn);
    fn(this.status);
    return () => this.statusListeners.delete(fn);
  }

  setStatus(s) {
    if (this.status === s) return;
    this.status = s;
    for (const fn of this.statusListeners) fn(s);
  }

  /**
   * setWaiting tells the status indicator that edits have been waiting for
   * the server since the time ms (null: none waiting), so that it never says
   * "Live" while edits are not getting through (a blocked network leaves
   * the socket open and silent).
   */
  setWaiting(ms, kept = true) {
    if (this.waitingSince === ms && this.waitingKept === kept) return;
    this.waitingSince = ms;
    this.waitingKept = kept;
    for (const fn of this.statusListeners) fn(this.status);
  }

  /** hello resolves with the welcome, or rejects with the server's error. */
  start() {
    return new Promise((resolve, reject) => {
      this.firstWelcome = { resolve, reject };
      this.connect();
    });
  }

  connect() {
    if (this.stopped) return;
    this.setStatus('connecting');
    const url = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/ws';
    let ws;
    try {
      ws = new WebSocket(url);
    } catch {
      this.reconnectSoon();
      return;
    }
    this.ws = ws;
    ws.onopen = () => {
      const hello = { type: 'hello', client: this.clientId };
      if (this.cred.token) hello.token = this.cred.token;
      else Object.assign(hello, { delegation: this.cred.delegation, name: this.cred.name, role: this.cred.role });
      ws.send(JSON.stringify(hello));
    };
    ws.onmessage = (ev) => {
      let msg;
      try { msg = JSON.parse(ev.data); } catch { return; }
      this.dispatch(msg);
    };
    ws.onclose = () => {
      if (this.ws !== ws) return;
      this.ws = null;
      for (const [, w] of this.waiting) { clearTimeout(w.timer); w.reject(Object.assign(new Error('The connection was lost.'), { code: 'unavailable' })); }
      this.waiting.clear();
      if (this.status === 'denied' || this.stopped) return;
      this.setStatus('offline');
      this.emit('down', {});
      this.reconnectSoon();
    };
  }

  dispatch(msg) {
    if (msg.type === 'welcome') {
      this.identity = msg;
      this.attempt = 0;
      this.setStatus('online');
      if (this.firstWelcome) { this.firstWelcome.resolve(msg); this.firstWelcome = null; }
      this.emit('ready', msg);
      return;
    }
    if (msg.type === 'error' && msg.code === 'unauthorized' && this.status !== 'online') {
      this.setStatus('denied');
      if (this.firstWelcome) { this.firstWelcome.reject(Object.assign(new Error(msg.message || 'Sign-in refused.'), { code: msg.code })); this.firstWelcome = null; }
      this.emit('denied', msg);
      return;
    }
    if (msg.ref !== undefined && this.waiting.has(String(msg.ref))) {
      const w = this.waiting.get(String(msg.ref));
      this.waiting.delete(String(msg.ref));
      clearTimeout(w.timer);
      if (msg.type === 'error') w.reject(Object.assign(new Error(msg.message || msg.code), { code: msg.code, reply: msg }));
      else w.resolve(msg);
      // Replies to requests are also dispatched, so e.g. the bracket list
      // updates from a reply as from a push.
    }
    this.emit(msg.type, msg);
  }

  emit(type, msg) {
    const hs = this.handlers.get(type);
    if (hs) for (const fn of [...hs]) fn(msg);
  }

  reconnectSoon(delay) {
    if (this.stopped || this.timer) return;
    if (delay === undefined) {
      // Exponential backoff with jitter, capped at 8 s.
      delay = Math.min(8000, 300 * 2 ** this.attempt) * (0.5 + Math.random() / 2);
      this.attempt++;
    }
    this.timer = setTimeout(() => { this.timer = null; this.connect(); }, delay);
  }

  /** send returns false when there is no open, welcomed connection. */
  send(msg) {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN || this.status !== 'online') return false;
    this.ws.send(JSON.stringify(msg));
    return true;
  }

  /** request sends msg with a fresh ref and resolves with the reply carrying it. */
  request(msg, timeoutMs = 15000) {
    return new Promise((resolve, reject) => {
      const ref = 'r' + this.nextRef++;
      if (!this.send({ ...msg, ref })) {
        reject(Object.assign(new Error('Not connected.'), { code: 'unavailable' }));
        return;
      }
      const timer = setTimeout(() => {
        this.waiting.delete(ref);
        reject(Object.assign(new Error('The server did not answer.'), { code: 'timeout' }));
      }, timeoutMs);
      this.waiting.set(ref, { resolve, reject, timer });
    });
  }

  /** drop closes the socket as if the network failed (used to resync). */
  drop() {
    const ws = this.ws;
    if (!ws) return;
    this.ws = null;
    ws.onmessage = null;
    ws.close();
    this.setStatus('offline');
    this.emit('down', {});
    this.reconnectSoon(100);
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    window.removeEventListener('online', this.onlineEvent);
    if (this.ws) this.ws.close();
  }
}

/** statusText is what the status indicator says: the connection's state, or since when edits wait. */
export function statusText(status, waitingSince, kept = true) {
  if (waitingSince) {
    const t = new Date(waitingSince);
    const at = t.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });
    return `Edits waiting since ${at} · ` + (kept ? 'kept on this device' : 'too large to keep on this device: keep this page open');
  }
  return { online: 'Live', connecting: 'Connecting…', offline: 'Offline', denied: 'Signed out' }[status] || status;
}

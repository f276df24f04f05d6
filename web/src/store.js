// What the page keeps in the browser: the credential (sessionStorage by
// default, localStorage when "remember me" is ticked; never in the URL), a
// stable client id, its seq counter, and unacknowledged edits per draft
// (localStorage, so typed text survives a reload or a closed tab).

const P = 'draftroom.';

function safe(fn, fallback) {
  try { return fn(); } catch { return fallback; }
}

export function loadCredential() {
  return safe(() => JSON.parse(sessionStorage.getItem(P + 'cred') || localStorage.getItem(P + 'cred') || 'null'), null);
}

export function saveCredential(cred, remember) {
  const s = JSON.stringify(cred);
  safe(() => {
    sessionStorage.setItem(P + 'cred', s);
    if (remember) localStorage.setItem(P + 'cred', s);
    else localStorage.removeItem(P + 'cred');
  });
}

export function clearCredential() {
  safe(() => { sessionStorage.removeItem(P + 'cred'); localStorage.removeItem(P + 'cred'); });
}

function newId() {
  const b = new Uint8Array(9);
  crypto.getRandomValues(b);
  return 'w' + Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

/**
 * claimClientId resolves to a client id that no other open tab of this
 * browser uses. Ids live in localStorage so a reloaded page gets its id back
 * (and resends its unacknowledged op with the same seq); a Web Lock held for
 * the page's lifetime keeps two tabs from sharing one id, which would break
 * the strictly increasing seq the server relies on.
 */
export async function claimClientId() {
  const known = safe(() => JSON.parse(localStorage.getItem(P + 'clients') || '[]'), []);
  if (!(navigator.locks && navigator.locks.request)) {
    let id = safe(() => sessionStorage.getItem(P + 'client'), null);
    if (!id) { id = newId(); safe(() => sessionStorage.setItem(P + 'client', id)); }
    return id;
  }
  const tryLock = (id) => new Promise((resolve) => {
    navigator.locks.request(P + 'client.' + id, { ifAvailable: true }, (lock) => {
      if (!lock) { resolve(false); return undefined; }
      resolve(true);
      return new Promise(() => {}); // held until the page goes away
    });
  });
  // Prefer ids that have unacknowledged edits, so they get resent.
  known.sort((a, b) => hasPending(b) - hasPending(a));
  for (const id of known) if (await tryLock(id)) return id;
  const id = newId();
  await tryLock(id);
  known.push(id);
  safe(() => localStorage.setItem(P + 'clients', JSON.stringify(known.slice(-20))));
  return id;
}

function hasPending(id) {
  return safe(() => {
    for (let i = 0; i < localStorage.length; i++) if (localStorage.key(i).startsWith(P + 'pending.' + id + '.')) return 1;
    return 0;
  }, 0);
}

/** seqCounter returns nextSeq for id: strictly increasing across reloads. */
export function seqCounter(id) {
  const key = P + 'seq.' + id;
  let last = safe(() => parseInt(localStorage.getItem(key) || '0', 10), 0) || 0;
  return () => {
    last = Math.max(last + 1, (safe(() => parseInt(localStorage.getItem(key) || '0', 10), 0) || 0) + 1);
    safe(() => localStorage.setItem(key, String(last)));
    return last;
  };
}

export function loadPending(id, doc) {
  return safe(() => JSON.parse(localStorage.getItem(P + 'pending.' + id + '.' + doc) || 'null'), null);
}

/** savePending keeps a draft's unacknowledged edits (null: none); false when the storage refused them. */
export function savePending(id, doc, state) {
  const key = P + 'pending.' + id + '.' + doc;
  const ok = safe(() => {
    if (state) localStorage.setItem(key, JSON.stringify(state));
    else localStorage.removeItem(key);
    return true;
  }, false);
  // A state too big for the storage quota (a pasted megabyte or two) is
  // not kept; an older one must not stay behind it: restored after a
  // reload, it would resend edits the server already has under new seqs.
  if (!ok) safe(() => localStorage.removeItem(key));
  return ok;
}

/** loadRefused returns the edits the server refused in draft doc and the user has not dismissed: [{at, code, message, text}]. */
export function loadRefused(doc) {
  return safe(() => JSON.parse(localStorage.getItem(P + 'refused.' + doc) || '[]'), []);
}

/** saveRefused keeps refused edits on this device until dismissed (an empty list removes them). */
export function saveRefused(doc, list) {
  safe(() => {
    const key = P + 'refused.' + doc;
    if (list.length) localStorage.setItem(key, JSON.stringify(list.slice(-20)));
    else localStorage.removeItem(key);
  });
}

export function loadPref(name, fallback) {
  return safe(() => { const v = localStorage.getItem(P + 'pref.' + name); return v === null ? fallback : JSON.parse(v); }, fallback);
}

export function savePref(name, value) { safe(() => localStorage.setItem(P + 'pref.' + name, JSON.stringify(value))); }

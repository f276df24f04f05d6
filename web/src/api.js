// HTTP calls to the draftroom API. The token goes in the Authorization
// header only. In open mode there is no token: the server trusts loopback
// callers, and the identity chosen at sign-in is sent as X-Draftroom-*
// headers for servers that use it.

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message || code || `HTTP ${status}`);
    this.status = status;
    this.code = code;
  }
}

export class Api {
  constructor(cred) { this.cred = cred; }

  headers(extra) {
    const h = { Accept: 'application/json', ...extra };
    const c = this.cred;
    if (c && c.token) h.Authorization = 'Bearer ' + c.token;
    else if (c) {
      h['X-Draftroom-Delegation'] = c.delegation;
      // Header values must be ISO-8859-1; a name beyond ASCII travels
      // percent-encoded (the server decodes a value that contains "%").
      h['X-Draftroom-Name'] = /^[\x20-\x7e]*$/.test(c.name) && !c.name.includes('%') ? c.name : encodeURIComponent(c.name);
      h['X-Draftroom-Role'] = c.role;
    }
    return h;
  }

  async request(method, path, body) {
    // Every request that changes something says it is JSON, body or not:
    // in open mode the server refuses others (a cross-site page can send
    // text/plain without a preflight; docs/SECURITY.md).
    const json = body !== undefined || (method !== 'GET' && method !== 'HEAD');
    const init = { method, headers: this.headers(json ? { 'Content-Type': 'application/json' } : {}), cache: 'no-store' };
    if (body !== undefined) init.body = JSON.stringify(body);
    let res;
    try {
      res = await fetch(path, init);
    } catch (e) {
      throw new ApiError(0, 'unavailable', 'The server cannot be reached.');
    }
    const text = await res.text();
    let data = null;
    try { data = text ? JSON.parse(text) : null; } catch { data = null; }
    if (!res.ok) {
      const err = data && data.error;
      throw new ApiError(res.status, err && err.code, (err && err.message) || `${res.status} ${res.statusText}`);
    }
    return data;
  }

  /** blob fetches a non-JSON resource (an export) with the credential. */
  async blob(path) {
    let res;
    try {
      res = await fetch(path, { headers: this.headers({ Accept: '*/*' }), cache: 'no-store' });
    } catch {
      throw new ApiError(0, 'unavailable', 'The server cannot be reached.');
    }
    if (!res.ok) {
      let err = null;
      try { err = (await res.json()).error; } catch { /* not JSON */ }
      throw new ApiError(res.status, err && err.code, (err && err.message) || `${res.status} ${res.statusText}`);
    }
    return res.blob();
  }

  get(path) { return this.request('GET', path); }
  post(path, body) { return this.request('POST', path, body); }
  put(path, body) { return this.request('PUT', path, body); }
  patch(path, body) { return this.request('PATCH', path, body); }
  del(path) { return this.request('DELETE', path); }

  docPath(id, rest = '') { return '/api/docs/' + encodeURIComponent(id) + rest; }
}

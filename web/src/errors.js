// Server errors in words a delegate understands. The server's message is
// precise but technical ("draft ids are 1-128 of A-Z…, got …"); the page
// shows a sentence for the code and keeps the server's words one click
// away (the Details of the notice).

import { h } from './util.js';

const SENTENCES = {
  bad_request: 'The server could not accept this request as it was made.',
  unauthorized: 'Your sign-in was not accepted (the token may have expired). Sign in again.',
  forbidden: 'Your role does not allow this. A facilitator can do it, or give you access.',
  not_found: 'That does not exist (any more): check the draft id or the revision.',
  bad_op: 'The edit did not fit the draft as it now stands; the page has reloaded the text.',
  rev_ahead: 'This page was ahead of the server, which has lost recent changes; the text was reloaded.',
  too_large: 'That is too large for the server (the draft or the paste is over its size limit).',
  rate_limited: 'Too many changes at once: the server is slowing this page down. Wait a moment.',
  internal: 'Something went wrong on the server. Try again; if it keeps happening, tell the secretariat.',
  exists: 'That exists already: choose another id or name.',
  conflict: 'Someone changed this at the same moment. Look at it again, then retry.',
  unavailable: 'The server cannot save right now. Your edits are kept on this device and sent again.',
  not_clean: 'The draft still has open brackets or unbalanced ones.',
};

/** sentence returns the plain-language sentence for an error {code, message}, with what the user tried to do first if given. */
export function sentence(err, doing) {
  const code = err && err.code;
  let s = SENTENCES[code];
  if (!s) s = err && err.status === 0 ? 'The server cannot be reached. Check the network; edits are kept on this device.' : 'That did not work.';
  return doing ? `Could not ${doing}. ${s}` : s;
}

/** detailOf is the server's own words and code, for the Details. */
export function detailOf(err) {
  if (!err) return '';
  const parts = [];
  if (err.message && err.message !== err.code) parts.push(err.message);
  if (err.code) parts.push(`(code ${err.code}${err.status ? ', HTTP ' + err.status : ''})`);
  return parts.join(' ');
}

/** errorNode is the sentence with the detail under a Details disclosure. */
export function errorNode(err, doing) {
  const detail = detailOf(err);
  return h('span.err', h('span.err-sentence', sentence(err, doing)),
    detail ? h('details.err-detail', h('summary', 'Details'), h('span', detail)) : null);
}

/**
 * failureSentence says why a panel could not show what it asked for (what:
 * "bracket listing", "timeline"): the draft does not exist (missing: the
 * session was told so, or the server says "no draft"); the server does not
 * answer that request (404 for anything else, 405, 501); a reply of another
 * shape (a ShapeError, naming the field); or the error's own sentence. The
 * panel asks again the next time it is opened or refreshed: nothing is
 * switched off for good.
 */
export function failureSentence(err, what, missing = false) {
  const status = err && err.status;
  if (missing || (err && err.code === 'not_found' && /^no (such )?draft\b/.test(err.message || ''))) return 'There is no such draft.';
  if (status === 404 || status === 405 || status === 501) return `This server did not answer the request for the ${what} (HTTP ${status}). It is asked again when the panel is next opened.`;
  if (err && err.name === 'ShapeError') return `Could not show the ${what}: ${err.message}.`;
  return sentence(err, `load the ${what}`);
}

/**
 * panelError is a panel's error line: hidden until show(err, {what,
 * missing}) puts a failure in words there (and in the console). Failures
 * are kept per what (a panel asks for several things: a listing, a
 * curve), so clear(what) removes one when that thing loads and leaves the
 * others; clear() with no argument removes the panel's default one.
 */
export function panelError(what) {
  const node = h('div.notice.error.panel-error', { hidden: true, role: 'alert' });
  const failures = new Map(); // what -> the line saying why it failed
  function draw() {
    // One line per sentence: "There is no such draft." once, whatever failed.
    const lines = new Map();
    for (const line of failures.values()) if (!lines.has(line.dataset.sentence)) lines.set(line.dataset.sentence, line);
    node.replaceChildren(...lines.values());
    node.hidden = failures.size === 0;
  }
  return {
    node,
    show(err, o = {}) {
      const w = o.what || what;
      console.warn(`draftroom: ${w}:`, err);
      const detail = err && err.name !== 'ShapeError' ? detailOf(err) : '';
      const sentence = failureSentence(err, w, o.missing);
      failures.set(w, h('p.panel-error-line', { 'data-sentence': sentence }, h('span.err-sentence', sentence),
        detail ? [' ', h('details.err-detail', h('summary', 'Details'), h('span', detail))] : null));
      draw();
    },
    clear(w = what) { if (failures.delete(w)) draw(); },
  };
}

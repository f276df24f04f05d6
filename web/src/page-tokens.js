// The token management screen (#/tokens, facilitators signed in with a
// token): issue drafter and reviewer tokens for a delegation, limited to
// draft patterns and with an expiry; list them; revoke one. A new token's
// secret is shown once, with a copy button (docs/PROTOCOL.md, Tokens).

import { h, clear, fmtTime, toast } from './util.js';
import { colourOf } from './colors.js';
import { ApiError } from './api.js';
import { errorNode } from './errors.js';

const EXPIRIES = [['24h', '1 day'], ['168h', '1 week'], ['720h', '30 days'], ['2160h', '90 days'], ['', 'never']];

/** tokenState says in words whether a token works: "active", "revoked 14:02", "expired …". */
export function tokenState(t, now = Date.now()) {
  if (t.revoked) return { ok: false, text: `revoked ${fmtTime(t.revoked)}` };
  if (t.expires && t.expires <= now) return { ok: false, text: `expired ${fmtTime(t.expires)}` };
  return { ok: true, text: t.expires ? `active, expires ${new Date(t.expires).toLocaleDateString()}` : 'active, no expiry' };
}

/**
 * showTokens renders the tokens page into main. The page says where it
 * stands in main.dataset.tokens: "loading" until it knows; then "open-mode"
 * (the server refuses to manage tokens for an open-mode identity, so the
 * issue form is hidden and a sentence says why), "listed", "refused" (403
 * for another reason) or "error". It asks /api/me first and decides from
 * its `open` field, so a late answer cannot overwrite the sentence.
 */
export function showTokens(main, api) {
  const secretBox = h('div.secret-box', { hidden: true, role: 'status' });
  const filter = h('input#tok-filter', { type: 'search', placeholder: 'Filter by delegation or name', 'aria-label': 'Filter tokens', on: { input: () => render() } });
  const showRevoked = h('input#tok-revoked', { type: 'checkbox', on: { change: () => render() } });
  const tbody = h('tbody');
  const note = h('p.muted');
  let tokens = [];
  let myTokenId = null; // the facilitator's own token: revoking it signs them out

  const form = issueForm(api, (r) => { showSecret(secretBox, r); load(); });

  async function revoke(t) {
    const own = t.id === myTokenId ? ' This is the token you are signed in with: you will be signed out.' : '';
    if (!confirm(`Revoke the token of ${t.delegation} · ${t.name}? It stops working at once and its connections are closed.${own}`)) return;
    try {
      const r = await api.del('/api/tokens/' + encodeURIComponent(t.id));
      toast(`Revoked; ${r.closed || 0} connection${r.closed === 1 ? '' : 's'} closed.`);
      load();
    } catch (e) {
      toast(errorNode(e, 'revoke the token'), 'error');
    }
  }

  function render() {
    clear(tbody);
    const q = filter.value.trim().toLowerCase();
    const shown = tokens.filter((t) => (showRevoked.checked || tokenState(t).ok) && (!q || t.delegation.toLowerCase().includes(q) || t.name.toLowerCase().includes(q)));
    for (const t of shown) tbody.appendChild(tokenRow(t, t.id === myTokenId, () => revoke(t)));
    note.textContent = shown.length ? '' : (tokens.length ? 'No token matches.' : 'No tokens yet.');
  }

  const OPEN_MODE = 'Managing tokens needs a facilitator signed in with a token (not open mode).';
  const refusal = h('p.notice.warn.tokens-refused', { role: 'status', hidden: true });
  function setState(state, sentence) {
    main.dataset.tokens = state;
    refusal.hidden = !sentence;
    refusal.textContent = sentence || '';
    // The server refuses every token issued by an identity it refuses to
    // list them for: no form that could only fail.
    form.hidden = state === 'open-mode' || state === 'refused';
    table.hidden = form.hidden;
    listTools.hidden = form.hidden;
  }

  async function start() {
    setState('loading');
    let me = null;
    try { me = await api.get('/api/me'); } catch { /* load() says what is wrong */ }
    myTokenId = me && me.token ? me.token.id : null;
    if (me && me.open) { setState('open-mode', OPEN_MODE); return; }
    await load();
  }

  async function load() {
    try {
      tokens = ((await api.get('/api/tokens')).tokens || []).reverse(); // newest first
      setState('listed');
      render();
    } catch (e) {
      if (e instanceof ApiError && e.status === 403) { setState('refused', e.message || OPEN_MODE); return; }
      setState('error');
      note.textContent = '';
      note.append(errorNode(e, 'list the tokens'));
    }
  }

  const listTools = h('div.inline', filter, h('label.check', showRevoked, ' show revoked and expired'));
  const table = h('table.drafts.tokens', h('caption.sr-only', 'Tokens'),
    h('thead', h('tr', ['Who', 'Role', 'Drafts', 'Issued', 'State', ''].map((c) => h('th', { scope: 'col' }, c)))), tbody);

  main.append(
    h('div.list-head', h('h1', 'Tokens'), listTools),
    refusal, secretBox, table, note, form);
  start();
}

// issueForm is the form that issues a drafter or reviewer token; onIssued(r)
// gets the server's answer (with the secret, shown once).
function issueForm(api, onIssued) {
  const err = h('p.form-error', { role: 'alert' });
  const delegation = h('input#tok-delegation', { type: 'text', maxLength: 32, placeholder: 'CAN', required: true, style: { textTransform: 'uppercase' } });
  const name = h('input#tok-name', { type: 'text', maxLength: 100, placeholder: 'Ana Silva', required: true });
  const role = h('select#tok-role', h('option', { value: 'drafter' }, 'Drafter: edits and proposes'), h('option', { value: 'reviewer' }, 'Reviewer: reads history'));
  const drafts = h('input#tok-drafts', { type: 'text', placeholder: 'art-* , annex-2 (empty: every draft)' });
  const expiry = h('select#tok-expiry', EXPIRIES.map(([v, label]) => h('option', { value: v, selected: v === '720h' }, label)));
  return h('form.create', { on: { submit: async (ev) => {
    ev.preventDefault();
    err.textContent = '';
    const d = delegation.value.trim().toUpperCase();
    if (!/^[A-Za-z0-9_.-]{1,32}$/.test(d)) { err.textContent = 'A delegation code is letters, digits, -, _ or ., like CAN or EU.'; delegation.focus(); return; }
    if (!name.value.trim()) { err.textContent = 'Enter the name of the person the token is for.'; name.focus(); return; }
    const body = { delegation: d, name: name.value.trim(), role: role.value, drafts: drafts.value.split(/[\s,]+/).filter(Boolean) };
    if (expiry.value) body.expires_in = expiry.value;
    try {
      const r = await api.post('/api/tokens', body);
      name.value = '';
      onIssued(r);
    } catch (e) {
      clear(err);
      err.append(errorNode(e, 'issue the token'));
    }
  } } },
    h('h2', 'Issue a token'),
    h('div.row2', h('div', h('label', { for: 'tok-delegation' }, 'Delegation'), delegation), h('div', h('label', { for: 'tok-name' }, 'Name'), name)),
    h('div.row2', h('div', h('label', { for: 'tok-role' }, 'Role'), role), h('div', h('label', { for: 'tok-expiry' }, 'Expires after'), expiry)),
    h('label', { for: 'tok-drafts' }, 'Drafts (patterns)'), drafts,
    h('p.hint', 'Facilitator tokens are issued with the command line (draftroom token issue).'),
    err, h('button.primary', { type: 'submit' }, 'Issue token'));
}

// showSecret shows a new token's secret in secretBox, once, with a copy button.
function showSecret(secretBox, r) {
  clear(secretBox);
  const code = h('code.secret', r.token);
  const copy = h('button.small', { type: 'button', on: { click: async () => {
    try { await navigator.clipboard.writeText(r.token); copy.textContent = 'Copied'; } catch {
      const range = document.createRange(); range.selectNodeContents(code);
      const sel = getSelection(); sel.removeAllRanges(); sel.addRange(range);
      copy.textContent = 'Selected: press Ctrl+C';
    }
  } } }, 'Copy');
  secretBox.append(
    h('p', h('strong', `Token for ${r.delegation} · ${r.name} (${r.role})`), ' — give it to them now: it is shown this once and cannot be shown again.'),
    h('div.inline', code, copy),
    h('button.small.ghost', { type: 'button', on: { click: () => { clear(secretBox); secretBox.hidden = true; } } }, 'I have given it, hide it'));
  secretBox.hidden = false;
}

// tokenRow is one token in the list; mine marks the signed-in one, onRevoke revokes it.
function tokenRow(t, mine, onRevoke) {
  const st = tokenState(t);
  return h('tr', { 'data-token': t.id },
    h('td', h('span.badge', { style: { background: colourOf(t.delegation) } }, t.delegation), ' ', t.name, mine ? h('span.muted', ' (you)') : null),
    h('td', t.role),
    h('td', (t.drafts && t.drafts.length) ? t.drafts.join(', ') : h('span.muted', 'every draft')),
    h('td', { title: new Date(t.created).toLocaleString() }, fmtTime(t.created)),
    h('td' + (st.ok ? '' : '.muted'), st.text),
    h('td', st.ok && !t.revoked ? h('button.small.danger', { type: 'button', on: { click: onRevoke } }, 'Revoke') : null));
}

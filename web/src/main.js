// draftroom web app: sign-in, the draft list, and routing to a draft.
// Routes live in the hash (#/, #/d/<id>, #/d/<id>/screen) so the server
// only has to serve index.html; credentials never appear in a URL.

import { Api } from './api.js';
import { Connection, statusText } from './conn.js';
import { loadCredential, saveCredential, clearCredential, claimClientId, seqCounter } from './store.js';
import { h, clear, fmtTime, toast, colourOf } from './util.js';
import { openDraftView } from './draft.js';
import { errorNode } from './errors.js';
import { showTokens } from './page-tokens.js';
import { bell } from './notify.js';

const app = document.getElementById('app');
const ctx = { api: null, conn: null, me: null, clientId: null, nextSeq: null, view: null };
// The browser tests (e2e/) read the page's state through this handle.
window.__draftroom = ctx;

async function boot() {
  ctx.clientId = await claimClientId();
  ctx.nextSeq = seqCounter(ctx.clientId);
  const cred = loadCredential();
  if (!cred) { showSignIn(); return; }
  try {
    await connect(cred);
  } catch (e) {
    showSignIn(e.message);
    return;
  }
  route();
}

async function connect(cred) {
  if (ctx.conn) ctx.conn.stop();
  ctx.me = null;
  ctx.api = new Api(cred);
  ctx.conn = new Connection(cred, ctx.clientId);
  // Refused later (a revoked token): back to the sign-in page. A refusal
  // during sign-in is reported by the form itself.
  ctx.conn.on('denied', (m) => {
    if (!ctx.me) return;
    ctx.me = null;
    clearCredential();
    if (ctx.view && ctx.view.destroy) ctx.view.destroy();
    ctx.view = null;
    showSignIn(m.message || 'Your credential was refused.');
  });
  // The first welcome must come within a few seconds, else the server is
  // down; the connection keeps retrying, and edits stay local meanwhile.
  const welcome = await Promise.race([
    ctx.conn.start(),
    new Promise((_, reject) => setTimeout(() => reject(new Error('The server does not answer. Is draftroom running?')), 10000)),
  ]);
  ctx.me = { delegation: welcome.delegation, name: welcome.name, role: welcome.role };
  return welcome;
}

window.addEventListener('hashchange', () => { if (ctx.conn && ctx.me) route(); });

function route() {
  if (ctx.view && ctx.view.destroy) ctx.view.destroy();
  ctx.view = null;
  // #/d/<id>, #/d/<id>/screen, #/d/<id>/p<n> (the editor at paragraph n).
  const m = location.hash.match(/^#\/d\/([A-Za-z0-9_.-]{1,128})(\/screen|\/p(\d{1,7}))?$/);
  if (m) {
    ctx.view = openDraftView(app, ctx, m[1], m[2] === '/screen' ? 'screen' : 'edit', { header, signOut, paragraph: m[3] ? +m[3] : 0 });
    return;
  }
  if (location.hash === '#/tokens' && ctx.me.role === 'facilitator') {
    clear(app);
    const page = h('main.list-page', { id: 'main' });
    app.append(header([h('a', { href: '#/' }, 'Drafts'), h('span.sep', '/'), h('span', 'Tokens')]), page);
    showTokens(page, ctx.api);
    document.title = 'Tokens · draftroom';
    return;
  }
  showList();
}

function signOut() {
  if (ctx.conn) ctx.conn.stop();
  ctx.conn = null;
  ctx.me = null;
  clearCredential();
  if (ctx.view && ctx.view.destroy) ctx.view.destroy();
  ctx.view = null;
  history.replaceState(null, '', '#/');
  showSignIn();
}

// ---- shared header ---------------------------------------------------------

/** header builds the top bar; crumbs are extra nodes after the brand. */
export function header(crumbs = [], extra = []) {
  const me = ctx.me;
  const status = h('span.conn', { role: 'status', 'aria-live': 'polite' }, h('span.dot'), h('span.conn-text', 'Connecting…'));
  const unsub = ctx.conn.onStatus((s) => {
    status.dataset.state = ctx.conn.waitingSince ? 'waiting' : s;
    status.querySelector('.conn-text').textContent = statusText(s, ctx.conn.waitingSince, ctx.conn.waitingKept);
  });
  const notifications = bell();
  const bar = h('header.topbar',
    h('a.brand', { href: '#/', title: 'All drafts' }, h('span.brand-mark', '['), 'draftroom', h('span.brand-mark', ']')),
    h('nav.crumbs', { 'aria-label': 'Breadcrumb' }, crumbs),
    h('div.spacer'),
    extra,
    notifications,
    status,
    h('span.me', { title: `${me.name} (${me.delegation}), ${me.role}` },
      h('span.badge', { style: { background: colourOf(me.delegation) } }, me.delegation),
      h('span.me-name', me.name), h('span.role', me.role)),
    h('button.ghost', { type: 'button', on: { click: signOut } }, 'Sign out'),
  );
  bar.dispose = () => { unsub(); notifications.dispose(); };
  return bar;
}

// ---- sign-in -----------------------------------------------------------------

function showSignIn(error) {
  clear(app);
  let mode = 'open';
  const err = h('p.form-error', { role: 'alert' }, error || '');
  const token = h('input#token', { type: 'password', autocomplete: 'off', placeholder: 'Paste the token you were given', spellcheck: 'false' });
  const delegation = h('input#delegation', { type: 'text', maxLength: 32, placeholder: 'CAN', autocomplete: 'organization', style: { textTransform: 'uppercase' } });
  const name = h('input#name', { type: 'text', maxLength: 80, placeholder: 'Your name', autocomplete: 'name' });
  const role = h('select#role', h('option', { value: 'drafter' }, 'Drafter: edits and proposes'), h('option', { value: 'facilitator' }, 'Facilitator: also resolves brackets'), h('option', { value: 'reviewer' }, 'Reviewer: reads history'));
  const remember = h('input#remember', { type: 'checkbox' });
  const tokenFields = h('div.fields', h('label', { for: 'token' }, 'Access token'), token);
  const openFields = h('div.fields',
    h('div.row2', h('div', h('label', { for: 'delegation' }, 'Delegation'), delegation), h('div', h('label', { for: 'name' }, 'Name'), name)),
    h('label', { for: 'role' }, 'Role'), role,
    h('p.hint', 'Open mode is for trying draftroom on your own machine. A shared server asks for a token.'));
  const tabOpen = h('button.tab', { type: 'button', role: 'tab', 'aria-selected': 'true', on: { click: () => setMode('open') } }, 'Open mode');
  const tabToken = h('button.tab', { type: 'button', role: 'tab', 'aria-selected': 'false', on: { click: () => setMode('token') } }, 'Token');
  const submit = h('button.primary', { type: 'submit' }, 'Enter the room');
  function setMode(m) {
    mode = m;
    tabOpen.setAttribute('aria-selected', String(m === 'open'));
    tabToken.setAttribute('aria-selected', String(m === 'token'));
    openFields.hidden = m !== 'open';
    tokenFields.hidden = m !== 'token';
    (m === 'open' ? delegation : token).focus();
  }
  const form = h('form.signin', { novalidate: true, on: { submit: async (ev) => {
    ev.preventDefault();
    err.textContent = '';
    let cred;
    if (mode === 'token') {
      if (!token.value.trim()) { err.textContent = 'Paste a token.'; return; }
      cred = { token: token.value.trim() };
    } else {
      const d = delegation.value.trim().toUpperCase();
      if (!/^[A-Z0-9_.-]{1,32}$/.test(d)) { err.textContent = 'A delegation code is letters or digits, like CAN or EU.'; return; }
      if (!name.value.trim()) { err.textContent = 'Enter your name.'; return; }
      cred = { delegation: d, name: name.value.trim(), role: role.value };
    }
    submit.disabled = true;
    submit.textContent = 'Connecting…';
    try {
      await connect(cred);
      saveCredential(cred, remember.checked);
      route();
    } catch (e) {
      if (ctx.conn) ctx.conn.stop();
      err.textContent = e.message || 'Sign-in failed.';
      submit.disabled = false;
      submit.textContent = 'Enter the room';
    }
  } } },
    h('div.tabs', { role: 'tablist' }, tabOpen, tabToken),
    openFields, tokenFields,
    h('label.check', remember, ' Remember me on this device'),
    err, submit);
  tokenFields.hidden = true;
  app.appendChild(h('main.signin-page',
    h('div.signin-card',
      h('div.signin-brand', h('span.brand-mark', '['), 'draftroom', h('span.brand-mark', ']')),
      h('p.tagline', 'Live drafting for negotiated text.'),
      form)));
  delegation.focus();
}

// ---- draft list ----------------------------------------------------------------

async function showList() {
  clear(app);
  const me = ctx.me;
  const tbody = h('tbody');
  const sortBy = h('select#drafts-sort', { 'aria-label': 'Sort drafts', on: { change: () => render() } },
    h('option', { value: 'activity' }, 'Latest activity first'), h('option', { value: 'open' }, 'Most open brackets first'), h('option', { value: 'title' }, 'By title'));
  const filter = h('select#drafts-filter', { 'aria-label': 'Which drafts', on: { change: () => render() } },
    h('option', { value: 'current' }, 'Current drafts'), h('option', { value: 'archived' }, 'Archived'), h('option', { value: 'all' }, 'All drafts'));
  const facilitator = me.role === 'facilitator';
  const search = h('input#drafts-search', { type: 'search', placeholder: 'Find a draft by title or id', 'aria-label': 'Find a draft', autocomplete: 'off', on: { input: () => render() } });
  const table = h('table.drafts', h('caption.sr-only', 'Drafts'),
    h('thead', h('tr', h('th', { scope: 'col' }, 'Draft'), h('th', { scope: 'col' }, 'Revision'), h('th', { scope: 'col' }, 'Last change'), h('th', { scope: 'col' }, 'Open brackets'), facilitator ? h('th', { scope: 'col' }, h('span.sr-only', 'Actions')) : null)),
    tbody);
  const note = h('p.muted');
  const openId = h('input', { type: 'text', placeholder: 'draft id, e.g. art-17', 'aria-label': 'Draft id', pattern: '[A-Za-z0-9_.-]{1,128}' });
  const openForm = h('form.inline', { on: { submit: (ev) => { ev.preventDefault(); if (openId.value.trim()) location.hash = '#/d/' + openId.value.trim(); } } },
    openId, h('button', { type: 'submit' }, 'Open'));
  const page = h('main.list-page', { id: 'main' },
    h('div.list-head', h('h1', 'Drafts'), openForm),
    h('div.list-tools', search, filter, sortBy, me.role === 'facilitator' ? h('a.button.ghost', { href: '#/tokens', title: 'Issue, list and revoke access tokens' }, 'Tokens') : null),
    note, table);
  const bar = header([h('span', 'All drafts')]);
  app.append(bar, page);
  if (me.role === 'facilitator') page.appendChild(createForm());

  // One request: the list with each draft's bracket counts
  // (docs/PROTOCOL.md, listing drafts with their brackets).
  let docs;
  try {
    docs = (await ctx.api.get('/api/docs?brackets=1')).docs || [];
  } catch (e) {
    table.hidden = true;
    clear(note);
    note.append(errorNode(e, 'load the drafts'), ' A draft can still be opened by its id.');
    return;
  }
  if (docs.length === 0) {
    table.hidden = true;
    note.textContent = me.role === 'facilitator' ? 'No drafts yet. Create the first one below.' : 'No drafts yet. A facilitator creates them.';
    return;
  }

  // Rename and archive (facilitators; docs/PROTOCOL.md "Renaming and
  // archiving a draft"): the server answers the draft as it now is.
  async function patch(d, body, done) {
    try {
      const got = await ctx.api.patch(ctx.api.docPath(d.id), body);
      Object.assign(d, { title: got.title, archived: !!got.archived });
      toast(done(d));
    } catch (e) {
      toast(errorNode(e, 'change the draft'), 'error');
    }
    render();
  }
  function renameRow(tr, d) {
    const input = h('input.rename-title', { type: 'text', value: d.title || d.id, maxlength: 200, 'aria-label': `New title of ${d.id}`, required: true });
    const form = h('form.inline.rename-form', { on: { submit: (ev) => {
      ev.preventDefault();
      const title = input.value.trim();
      if (!title || title === d.title) { render(); return; }
      patch(d, { title }, (x) => `Draft ${x.id} renamed “${x.title}”.`);
    } } }, input, h('button.primary', { type: 'submit' }, 'Save'),
    h('button.ghost', { type: 'button', on: { click: () => render() } }, 'Cancel'));
    const cell = tr.firstChild;
    clear(cell);
    cell.append(form, h('div.muted.small', d.id));
    input.focus();
    input.select();
  }
  function actions(d) {
    const tr = () => [...tbody.rows].find((r) => r.dataset.draft === d.id);
    return h('td.actions',
      h('button.ghost.small.rename', { type: 'button', title: 'Change the title (the id stays)', on: { click: () => renameRow(tr(), d) } }, 'Rename'),
      d.archived
        ? h('button.ghost.small.unarchive', { type: 'button', title: 'Back to the current drafts, editable again', on: { click: () => patch(d, { archived: false }, (x) => `Draft ${x.id} is current again.`) } }, 'Unarchive')
        : h('button.ghost.small.archive', { type: 'button', title: 'Hide from the list; stays readable, and only facilitators can edit it', on: { click: () => patch(d, { archived: true }, (x) => `Draft ${x.id} archived: read-only for drafters.`) } }, 'Archive'));
  }

  function render() {
    const q = search.value.trim().toLowerCase();
    const which = filter.value;
    const inFilter = (d) => which === 'all' || (which === 'archived') === !!d.archived;
    const shown = docs.filter((d) => inFilter(d) && (!q || d.id.toLowerCase().includes(q) || (d.title || '').toLowerCase().includes(q)));
    const act = (d) => Math.max(d.updated || 0, d.created || 0);
    const cmp = {
      activity: (a, b) => act(b) - act(a),
      open: (a, b) => (b.open ?? -1) - (a.open ?? -1) || act(b) - act(a),
      title: (a, b) => (a.title || a.id).localeCompare(b.title || b.id),
    }[sortBy.value];
    shown.sort(cmp);
    clear(tbody);
    for (const d of shown) {
      const open = d.open === undefined ? '—' : String(d.open);
      tbody.appendChild(h('tr', { 'data-draft': d.id },
        // The list's "by" is who created the draft (docs/PROTOCOL.md 2.1), not
        // who changed it last: it goes with the id, not under "Last change".
        h('td', h('a.draft-link', { href: '#/d/' + d.id }, d.title || d.id), d.archived ? h('span.badge.archived-badge', { title: 'Read-only for drafters' }, 'Archived') : null, h('div.muted.small', d.id + (d.by && d.by.delegation ? ` · created by ${d.by.delegation}` : ''))),
        h('td.num', String(d.rev ?? '')),
        h('td', { title: d.updated ? new Date(d.updated).toLocaleString() : '' }, fmtTime(d.updated || d.created)),
        h('td.num', { title: d.diagnostics ? `${d.diagnostics} unbalanced` : '' }, open, d.diagnostics ? h('span.bad-count', ` · ${d.diagnostics} unbalanced`) : null),
        facilitator ? actions(d) : null));
    }
    const archived = docs.filter((d) => d.archived).length;
    const of = which === 'current' ? docs.length - archived : which === 'archived' ? archived : docs.length;
    const kind = which === 'archived' ? 'archived drafts' : 'drafts';
    note.textContent = shown.length ? `${shown.length} of ${of} ${kind}` + (which === 'current' && archived ? ` (${archived} archived)` : '') : (which === 'archived' && !archived ? 'No archived drafts.' : 'No draft matches.');
  }
  render();
}

function createForm() {
  const id = h('input#new-id', { type: 'text', required: true, pattern: '[A-Za-z0-9_.-]{1,128}', placeholder: 'art-17' });
  const title = h('input#new-title', { type: 'text', placeholder: 'Article 17' });
  const text = h('textarea#new-text', { rows: 4, placeholder: 'Initial text (optional). [Bracketed/alternative] text is tracked.' });
  const err = h('p.form-error', { role: 'alert' });
  return h('section.create', h('h2', 'New draft'),
    h('form', { on: { submit: async (ev) => {
      ev.preventDefault();
      err.textContent = '';
      if (!/^[A-Za-z0-9_.-]{1,128}$/.test(id.value.trim())) {
        err.textContent = 'A draft id is one word of letters, digits, dots, dashes or underscores (like art-5), at most 128 characters: no spaces or slashes.';
        id.focus();
        return;
      }
      try {
        await ctx.api.post('/api/docs', { id: id.value.trim(), title: title.value.trim() || id.value.trim(), text: text.value });
        toast(`Draft ${id.value.trim()} created.`);
        location.hash = '#/d/' + id.value.trim();
      } catch (e) {
        clear(err);
        err.append(e.status === 409 ? 'A draft with that id exists already.' : errorNode(e, 'create the draft'));
      }
    } } },
      h('div.row2', h('div', h('label', { for: 'new-id' }, 'Id'), id), h('div', h('label', { for: 'new-title' }, 'Title'), title)),
      h('label', { for: 'new-text' }, 'Text'), text, err,
      h('button.primary', { type: 'submit' }, 'Create draft')));
}

boot();

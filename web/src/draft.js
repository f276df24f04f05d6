// The draft page: the view of one DraftSession (session.js). It builds the
// editor and the page, shows what the session tells it (text, notices,
// refused edits, cursors, people, the side panels) and forwards what the
// user does (typing, moving the cursor, proposing) to the session. Also
// the read-only "screen" view for a projector.

import { EditorView } from '@codemirror/view';
import { createEditor, applyRemote, replaceAll, setPresence, removePresence, setProposers, presenceOf, setIdle, remote } from './editor.js';
import { changesToOp, opToChanges, posToCp, cpToPos, cpLength } from './unicode.js';
import * as store from './store.js';
import { h, clear, colourOf, debounce, toast } from './util.js';
import { bracketPanel } from './panel-brackets.js';
import { bindFindKey } from './search.js';
import { setupScreen, smoothFollow } from './screen.js';
import { errorNode } from './errors.js';
import { peoplePanel } from './panel-people.js';
import { notify, explainResolution } from './notify.js';
import { historyPanel } from './panel-history.js';
import { provisionPanel, provisionLocks } from './panel-provisions.js';
import { placeOf } from './place.js';
import { DraftSession, REFUSED_WORDS } from './session.js';
import { readDecisions, readProposals } from './shapes.js';

/**
 * openDraftView renders draft id into root and returns {view, session,
 * client, destroy}. mode is "edit" (the working page) or "screen"
 * (read-only, large type, follows a facilitator's cursor).
 */
export function openDraftView(root, ctx, id, mode, { header, paragraph = 0 }) {
  const screen = mode === 'screen';
  const canEdit = !screen && ctx.me.role !== 'reviewer';
  const page = buildPage(root, id, screen, canEdit, header);
  const cleanups = [() => page.bar.dispose && page.bar.dispose()];
  let view = null;
  const session = new DraftSession({
    conn: ctx.conn, api: ctx.api, id, clientId: ctx.clientId, nextSeq: ctx.nextSeq, me: ctx.me, canEdit, store,
    text: {
      set: (text) => replaceKeepingCursor(view, text),
      apply: (op, own) => applyRemote(view, opToChanges(op, view.state.doc), own),
    },
  });
  const limit = localLimit(session, () => view);
  view = createEditor({
    parent: page.editorHost,
    text: '',
    readOnly: true,
    large: screen,
    canReplace: canEdit && ctx.me.role === 'facilitator',
    onLocal: (tr) => { if (session.client && !limit(tr)) session.local(changesToOp(tr.changes, tr.startState.doc)); },
    onSelection: (u) => presence.selectionMoved(u),
  });
  // Ctrl+F searches whichever editor is shown: the live one or a past revision.
  cleanups.push(() => view.destroy(), bindFindKey(() => {
    const shown = [...page.editorPane.querySelectorAll('.cm-editor')].find((el) => !el.closest('[hidden]'));
    return shown ? EditorView.findFromDOM(shown) : null;
  }));

  const print = printing(page, view, session);
  const refused = refusedEdits(page.refusedHost, session);
  const presence = presenceView({ ctx, session, view, page, screen });
  const panels = screen ? {} : sidebar({ ctx, id, session, view, page, canEdit, goTo: presence.goTo });
  cleanups.push(print.destroy, presence.destroy);
  if (screen) cleanups.push(setupScreen({ pane: page.editorPane, view, peopleList: presence.peopleList, exitHref: '#/d/' + id }));
  if (panels.destroy) cleanups.push(panels.destroy);
  presence.setPanel(panels.people);
  presence.render();
  cleanups.push(...followSession({ ctx, session, view, page, panels, presence, print, refused, canEdit, paragraph }));
  // Undo follows what the user did last: the op the server writes for a
  // proposal this page just made is applied as an undo step of ours.
  page.sidebar.addEventListener('submit', (ev) => { if (ev.target.matches('form.propose')) session.proposalSent(); }, true);

  showTitle(session, page, print);
  cleanups.push(() => { document.title = 'draftroom'; });
  session.start();
  if (canEdit) setTimeout(() => view.focus(), 0);

  return {
    view,
    session,
    get client() { return session.client; },
    destroy() {
      session.destroy();
      for (const fn of cleanups.reverse()) { try { fn(); } catch { /* page is going away */ } }
      for (const p of [panels.people, panels.brackets, panels.history, panels.provisions]) if (p && p.destroy) p.destroy();
    },
  };
}

/**
 * followSession shows on the page what the session says (revision, notice,
 * read-only, refused edits, errors, proposers, the draft opened) and keeps
 * the listings fresh after changes: the lock on agreed text (tinted on the
 * screen view too) and the brackets panel. Returns the cleanups.
 */
function followSession({ ctx, session, view, page, panels, presence, print, refused, canEdit, paragraph }) {
  const locks = provisionLocks({ session, view, toast, editable: canEdit });
  const provisionsSoon = debounce(() => locks.refresh(), 1500);
  const bracketsSoon = debounce(() => { if (panels.brackets) panels.brackets.refresh(); }, 350);
  let shownRev;
  function showRevision() {
    session.checkWaiting();
    // Typing does not change the revision: leave the badge and the history
    // slider alone then (a keystroke must not restyle the page).
    const rev = session.client ? session.client.rev : null;
    if (rev === shownRev) return;
    shownRev = rev;
    print.updateHead();
    page.revBadge.textContent = rev === null ? 'rev —' : `rev ${rev}`;
    if (panels.history) panels.history.setHead(rev || 0);
  }
  const waitTimer = setInterval(() => session.checkWaiting(), 250);
  const on = (event, fn) => session.on(event, fn);
  return [
    () => { locks.destroy(); provisionsSoon.cancel(); bracketsSoon.cancel(); clearInterval(waitTimer); },
    on('typed', showRevision),
    on('change', () => { showRevision(); bracketsSoon(); provisionsSoon(); }),
    on('notice', (n) => setNotice(page.notice, n.text, n.kind)),
    on('readonly', (ro) => view.setReadOnly(ro)),
    // No such draft: the notice says so; an empty editor inviting typing
    // ("The draft is empty. Start typing…") under it would contradict it.
    on('missing', () => { page.editorHost.hidden = true; }),
    on('refused', () => refused.render()),
    on('toast', (t) => toast(errorNode(t.error), t.kind)),
    on('recovered', () => toast('Recovered edits made before the page was reloaded; sending them now.')),
    on('resolved', (m) => resolutionNotices({ ctx, session, view, m, title: page.title.textContent || session.id })),
    on('brackets', () => view.dispatch({ effects: setProposers.of(session.proposers()) })),
    on('opened', () => {
      if (paragraph) { const n = paragraph; paragraph = 0; setTimeout(() => goParagraph(view, n), 0); }
      presence.sendSoon();
      bracketsSoon();
      provisionsSoon();
      if (panels.history) panels.history.setHead(session.client.rev);
    }),
  ];
}

// buildPage lays out the page: the bar, the editor pane and the sidebar.
function buildPage(root, id, screen, canEdit, header) {
  clear(root);
  const title = h('span.doc-title', id);
  const revBadge = h('span.rev', { title: 'Revision' }, 'rev —');
  const screenLink = h('a.button.ghost', { href: screen ? '#/d/' + id : '#/d/' + id + '/screen', title: screen ? 'Back to the editor' : 'Projector view: large type, follows the facilitator' }, screen ? 'Exit screen view' : 'Screen view');
  const strip = h('span.present', { 'aria-label': 'Also in this draft' });
  const readOnly = !canEdit ? h('span.tag', { title: screen ? 'The screen view only shows the text' : 'Reviewers read, compare and replay; they do not edit' }, 'read-only') : null;
  const bar = header([h('a', { href: '#/' }, 'Drafts'), h('span.sep', '/'), title, revBadge, readOnly], [strip, screenLink]);
  const editorHost = h('div.editor-host');
  const historyHost = h('div.editor-host.history-host', { hidden: true });
  const historyBanner = h('div.history-banner', { hidden: true, role: 'status' });
  const notice = h('div.notice', { hidden: true, role: 'alert' });
  const refusedHost = h('div.refused-list');
  const editorPane = h('section.editor-pane', { 'aria-label': 'Draft' }, refusedHost, notice, historyBanner, editorHost, historyHost);
  const sidebar = h('aside.sidebar', { 'aria-label': 'Draft tools' });
  const layout = h('main.draft-page' + (screen ? '.screen' : ''), { id: 'main' }, editorPane, screen ? null : sidebar);
  root.append(bar, layout);
  bar.hidden = screen; // the screen view shows the text and a discreet exit only
  return { bar, title, revBadge, strip, editorHost, historyHost, historyBanner, notice, refusedHost, editorPane, sidebar };
}

function setNotice(notice, text, kind = 'warn') {
  notice.hidden = !text;
  notice.className = 'notice ' + kind;
  notice.textContent = text || '';
}

// replaceKeepingCursor sets the whole text (a snapshot, or a reload after
// a refused edit) and keeps the cursor where it was, clamped.
function replaceKeepingCursor(view, text) {
  const keep = view.state.selection.main.head;
  replaceAll(view, text);
  if (keep > 0) view.dispatch({ selection: { anchor: Math.min(keep, view.state.doc.length) }, scrollIntoView: true });
}

// showTitle puts the draft's title in the bar and the tab.
function showTitle(session, page, print) {
  session.loadTitle().then((t) => {
    if (t) { page.title.textContent = t; page.title.title = session.id; print.updateHead(); }
    document.title = `${t || session.id} · draftroom`;
  }).catch((e) => {
    console.warn('draftroom: title of', session.id, e);
    document.title = `${session.id} · draftroom`;
  });
}

/**
 * localLimit returns the check, made on each local edit, that refuses on
 * this page an edit making the draft longer than the server's maximum (its
 * welcome's max_draft_len): sent in pieces, part of it would be committed
 * before the server refused the rest. The edit is taken back out of the
 * editor (and every edit of the same update after it, made on top of it),
 * and its text goes to the refused list with the copy button. Nothing is
 * sent. The check returns true for an edit it refused.
 */
function localLimit(session, getView) {
  let reverting = null; // {doc, changes}: edits of this update to take back
  return (tr) => {
    if (reverting) {
      reverting.changes = reverting.changes.compose(tr.changes);
      return true;
    }
    const limit = session.maxDraftLen;
    if (!limit) return false;
    const after = cpLength(tr.newDoc);
    if (after <= limit || after <= cpLength(tr.startState.doc)) return false;
    reverting = { doc: tr.startState.doc, changes: tr.changes };
    queueMicrotask(() => {
      const { doc, changes } = reverting;
      reverting = null;
      const inserted = [];
      changes.iterChanges((_fa, _ta, _fb, _tb, ins) => { if (ins.length) inserted.push(ins.toString()); });
      applyRemote(getView(), changes.invert(doc));
      session.refuseLocal({ code: 'too_large', message: `the draft would be ${after} characters long, more than the ${limit} allowed`, text: inserted.join('\n') });
    });
    return true;
  };
}

/**
 * refusedEdits shows the edits the server refused for good: dropped from
 * the pending queue and the draft reloaded, their text stays here with a
 * copy button until the user dismisses it (kept on this device).
 */
function refusedEdits(host, session) {
  function render() {
    clear(host);
    session.refused.forEach((r, i) => host.appendChild(refusedBox(r, () => session.dismissRefused(i))));
  }
  render();
  return { render };
}

function refusedBox(r, dismiss) {
  const pre = h('pre.refused-text', r.text || '');
  const copy = h('button.small', { type: 'button', on: { click: async () => {
    try { await navigator.clipboard.writeText(r.text); toast('Copied. Paste it where it belongs.'); } catch {
      const sel = window.getSelection(); const range = document.createRange(); range.selectNodeContents(pre); sel.removeAllRanges(); sel.addRange(range);
      toast('Press Ctrl+C to copy the selected text.', 'warn');
    }
  } } }, 'Copy the text');
  const when = new Date(r.at).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  const words = `${REFUSED_WORDS[r.code] || 'The server refused an edit'} (${when}): it was not saved${r.local ? '' : ' and the draft was reloaded'}.` +
    (r.text ? ' Your text is kept below.' : '');
  return h('div.refused', { role: 'alert', 'data-code': r.code },
    h('span.refused-msg', { title: r.message || '' }, words), r.text ? copy : null,
    h('button.ghost.small', { type: 'button', on: { click: dismiss } }, 'Dismiss'), r.text ? pre : null);
}

/**
 * printing keeps the print's running head (the draft, its revision and
 * the date, app.css @media print) in an @page rule, and prints a plain copy
 * of the whole text: the editor lays out only the lines on screen.
 */
function printing(page, view, session) {
  const printHead = h('style', { 'data-print-head': '' });
  document.head.appendChild(printHead);
  function updateHead() {
    const when = new Date().toISOString().slice(0, 16).replace('T', ' ') + ' UTC';
    const head = `${page.title.textContent} — Revision ${session.client ? session.client.rev : '—'} — ${when}`;
    const css = head.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/[\n\r]/g, ' ');
    printHead.textContent = `@media print { @page { @top-center { content: "${css}"; } } }`;
  }
  const printText = h('div.print-text', { 'aria-hidden': 'true' });
  function prepare(e) {
    if (e && e.type === 'change' && !e.matches) return;
    updateHead();
    printText.replaceChildren(...printNodes(view.state.doc.toString()));
  }
  const query = window.matchMedia ? window.matchMedia('print') : null;
  window.addEventListener('beforeprint', prepare);
  if (query) query.addEventListener('change', prepare);
  page.editorPane.append(printText);
  return {
    updateHead,
    destroy() {
      printHead.remove();
      window.removeEventListener('beforeprint', prepare);
      if (query) query.removeEventListener('change', prepare);
    },
  };
}

/**
 * presenceView draws the others' cursors and lists who is here (the strip
 * in the bar, or the list on the screen view, which also follows a
 * facilitator's cursor), and sends this page's own selection.
 */
function presenceView({ ctx, session, view, page, screen }) {
  const { me } = ctx;
  const peopleList = h('ul.people', { 'aria-label': 'People in this draft' });
  let moved = false; // this page's user moved the cursor or typed
  let follow = null; // screen view: the key to follow (null: the latest facilitator move)
  let panel = null; // the people panel, once the sidebar has one

  // Until the user moves or types, "here, no cursor": an empty sel keeps a
  // pile of cursors at the top of the draft from everyone who only opened it.
  const sendSoon = debounce(() => {
    if (screen) return;
    const doc = view.state.doc;
    session.sendPresence(!moved ? [] : view.state.selection.ranges.slice(0, 64).map((r) => [posToCp(doc, r.anchor), posToCp(doc, r.head)]));
  }, 60);

  const offs = [
    session.on('cursor', (c) => {
      drawCursor(view, c);
      if (screen) followCursor();
    }),
    session.on('cursor-gone', (key) => {
      view.dispatch({ effects: removePresence.of(key) });
      if (follow === key) follow = null;
    }),
    session.on('people', () => render()),
  ];

  // Cursors idle for IDLE_MS fade and lose their label.
  const IDLE_MS = ctx.idleMs ?? 60000;
  const idleTimer = setInterval(() => {
    view.dispatch({ effects: setIdle.of(session.idleKeys(IDLE_MS)) });
    if (panel) panel.update(); // "typing now" expires
  }, Math.min(5000, IDLE_MS / 2));

  function render() {
    if (panel) panel.update();
    if (!screen) { renderStrip(page.strip, session.people); return; }
    renderScreenPeople(peopleList, me, session.people, follow, (key) => { follow = follow === key ? null : key; render(); followCursor(); });
  }

  function followCursor() {
    const target = follow || session.lastMover;
    const pres = target && presenceOf(view.state).get(target);
    if (pres && pres.ranges.length > 0) smoothFollow(view, pres.ranges[0].head);
  }

  return {
    peopleList,
    render,
    sendSoon,
    setPanel(p) { panel = p; },
    // Only what the user did moves their cursor for the others: not an
    // edit that someone else made (the others map cursors over it).
    selectionMoved(u) {
      if (screen) return;
      if (!u.transactions.some((tr) => !tr.annotation(remote) && (tr.selection || tr.docChanged))) return;
      moved = true;
      sendSoon();
    },
    goTo(key) {
      const pres = presenceOf(view.state).get(key);
      if (!pres || pres.ranges.length === 0) { toast('They have not moved their cursor yet.'); return; }
      view.dispatch({ effects: EditorView.scrollIntoView(pres.ranges[0].head, { y: 'center' }) });
    },
    destroy() { sendSoon.cancel(); clearInterval(idleTimer); for (const off of offs) off(); },
  };
}

// drawCursor shows someone's cursor c (a session `cursor` event) in the editor.
function drawCursor(view, c) {
  const doc = view.state.doc;
  const ranges = c.ranges.map(([a, hd]) => ({ anchor: cpToPos(doc, a), head: cpToPos(doc, hd) }));
  const colour = colourOf(c.by ? c.by.delegation : c.client);
  const label = c.by ? c.by.delegation : '?';
  const title = c.by ? `${c.by.name || ''} (${c.by.delegation})` : 'someone';
  view.dispatch({ effects: setPresence.of({ client: c.key, label, title, colour, ranges }) });
}

// renderStrip shows up to six of the others in the bar.
function renderStrip(strip, people) {
  clear(strip);
  const others = [...people.values()].filter((p) => p.by);
  for (const p of others.slice(0, 6)) strip.appendChild(h('span.badge', { style: { background: colourOf(p.by.delegation) }, title: `${p.by.name} (${p.by.delegation})` }, p.by.delegation));
  if (others.length > 6) strip.appendChild(h('span.more', `+${others.length - 6}`));
}

// renderScreenPeople lists who is here on the screen view, each with a
// Follow button (onFollow(key)); follow is the key followed, if any.
function renderScreenPeople(list, me, people, follow, onFollow) {
  clear(list);
  list.appendChild(h('li.person.self', h('span.badge', { style: { background: colourOf(me.delegation) } }, me.delegation), h('span.pname', me.name + ' (you)'), h('span.role', me.role)));
  for (const [key, p] of people) {
    const by = p.by || {};
    list.appendChild(h('li.person', h('span.badge', { style: { background: colourOf(by.delegation || p.cid) } }, by.delegation || '?'), h('span.pname', by.name || p.cid), p.role ? h('span.role', p.role) : null,
      h('button.ghost.small', { type: 'button', 'aria-pressed': String(follow === key), on: { click: () => onFollow(key) } }, follow === key ? 'Following' : 'Follow')));
  }
}

/**
 * sidebar builds the side panels (people, brackets, history, provisions)
 * as tabs, with their keyboard shortcuts. Returns the panels and destroy.
 */
function sidebar({ ctx, id, session, view, page, canEdit, goTo }) {
  const toLocal = (cp, rev) => (session.client ? cpToPos(view.state.doc, session.toLocal(cp, rev)) : 0);
  const getClient = () => session.client;
  const panels = {
    people: peoplePanel({ me: ctx.me, getPeople: () => [...session.people].map(([client, p]) => ({ client, ...p })), onGo: goTo }),
    brackets: bracketPanel({ ctx, id, view, session, canEdit, toast, toLocal }),
    history: historyPanel({ ctx, id, view, historyHost: page.historyHost, historyBanner: page.historyBanner, editorHost: page.editorHost, getClient, toast, toLocal }),
    provisions: provisionPanel({ ctx, id, view, session, toast, toLocal }),
  };
  const tabs = [['people', 'People'], ['brackets', 'Brackets'], ['history', 'History'], ['provisions', 'Provisions']].map(([key, label]) => ({ key, label, node: panels[key].node }));
  const select = tabList(page.sidebar, tabs, (key) => { const p = panels[key]; if (p.shown) p.shown(); });
  select('brackets');
  const keys = (ev) => {
    if (!ev.altKey || ev.ctrlKey || ev.metaKey) return;
    const n = parseInt(ev.key, 10);
    if (n >= 1 && n <= tabs.length) { ev.preventDefault(); select(tabs[n - 1].key, true); }
    if (ev.key === 'e' || ev.key === 'E') { ev.preventDefault(); view.focus(); }
    // Alt+N / Alt+Shift+N: the next / previous open bracket group.
    if (ev.code === 'KeyN') { ev.preventDefault(); panels.brackets.next(ev.shiftKey ? -1 : 1); }
    if ((ev.key === 'p' || ev.key === 'P') && canEdit) {
      // Propose an alternative to the selection without leaving the keyboard.
      ev.preventDefault();
      select('brackets');
      const input = document.getElementById('propose-text');
      if (input && !input.closest('[hidden]')) input.focus();
    }
  };
  window.addEventListener('keydown', keys);
  return { ...panels, destroy: () => window.removeEventListener('keydown', keys) };
}

// tabList puts tabs [{key, label, node}] in host as an ARIA tab list
// (arrow keys move between tabs) and returns select(key, focus).
function tabList(host, tabs, onSelect) {
  const tablist = h('div.side-tabs', { role: 'tablist', 'aria-label': 'Panels' });
  const bodies = h('div.side-bodies');
  const buttons = {};
  let current = null;
  function select(key, focus = false) {
    current = key;
    for (const t of tabs) {
      buttons[t.key].setAttribute('aria-selected', String(t.key === key));
      buttons[t.key].tabIndex = t.key === key ? 0 : -1;
      t.node.hidden = t.key !== key;
    }
    if (focus) buttons[key].focus();
    onSelect(key);
  }
  tabs.forEach((t, i) => {
    buttons[t.key] = h('button.side-tab', { type: 'button', role: 'tab', id: 'tab-' + t.key, 'aria-controls': 'panel-' + t.key, title: `${t.label} (Alt+${i + 1})`, on: {
      click: () => select(t.key),
      keydown: (ev) => {
        if (ev.key !== 'ArrowRight' && ev.key !== 'ArrowLeft') return;
        const j = (tabs.findIndex((x) => x.key === current) + (ev.key === 'ArrowRight' ? 1 : tabs.length - 1)) % tabs.length;
        select(tabs[j].key, true);
      },
    } }, t.label);
    t.node.id = 'panel-' + t.key;
    t.node.setAttribute('role', 'tabpanel');
    t.node.setAttribute('aria-labelledby', 'tab-' + t.key);
    tablist.appendChild(buttons[t.key]);
    bodies.appendChild(t.node);
  });
  host.append(tablist, bodies);
  return select;
}

// goParagraph puts the editor at the start of paragraph n (non-empty lines).
function goParagraph(view, n) {
  const doc = view.state.doc;
  for (let i = 1, k = 0; i <= doc.lines; i++) {
    if (doc.line(i).length > 0 && ++k === n) {
      view.dispatch({ selection: { anchor: doc.line(i).from }, effects: EditorView.scrollIntoView(doc.line(i).from, { y: 'center' }) });
      return;
    }
  }
}

// resolutionNotices notifies about a resolution: my proposal in it, and a
// paragraph left without brackets (notify.js).
async function resolutionNotices({ ctx, session, view, m, title }) {
  const { api, me } = ctx;
  const id = session.id;
  const doc = view.state.doc;
  const skip = Array.isArray(m.op) && typeof m.op[0] === 'number' ? m.op[0] : 0;
  const line = doc.lineAt(Math.min(cpToPos(doc, session.toLocal(skip, m.rev)), doc.length));
  let n = 0;
  for (let i = 1; i <= line.number; i++) if (doc.line(i).length > 0) n++;
  const href = `#/d/${id}/p${n}`;
  // "Article 2, paragraph 1" when the text says so; a line under a heading
  // the title already names ("Chapter III" in "Chapter III — …") goes by
  // its number among the paragraphs.
  const named = placeOf((i) => doc.line(i).text, line.number);
  const known = named && (named.includes(',') || !title.startsWith(named)) ? named : '';
  if (!/[[\]]/.test(line.text) && line.length > 0) notify(`${known || `Paragraph ${n}`} of ${title} has no brackets left.`, href);
  try {
    const [d, p] = await Promise.all([api.get(api.docPath(id, '/decisions')), api.get(api.docPath(id, '/proposals'))]);
    const text = explainResolution({ m, me, title: known ? `${known} of ${title}` : title, decisions: readDecisions(d).decisions, proposals: readProposals(p).proposals });
    if (text) notify(text, href);
  } catch (e) {
    console.warn('draftroom: the records for a resolution notice:', e); // the notice is a courtesy
  }
}

/**
 * printNodes returns text as nodes for print: bracket groups in spans
 * whose class gives their depth (pb-d0..pb-d3, drawn as different lines
 * under the text, legible in black and white) and their '[', '/' and ']'
 * in bold (pb-p). A backslash escapes the character after it, as in the
 * bracket grammar (docs/BRACKETS.md).
 */
function printNodes(text) {
  const root = document.createElement('span');
  const stack = [root];
  let run = '';
  const flush = () => { if (run) { stack[stack.length - 1].append(run); run = ''; } };
  const punct = (c) => { flush(); const b = document.createElement('b'); b.className = 'pb-p'; b.textContent = c; stack[stack.length - 1].append(b); };
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '\\' && i + 1 < text.length && '[]/\\'.includes(text[i + 1])) {
      run += c + text[++i];
    } else if (c === '[') {
      flush();
      const g = document.createElement('span');
      g.className = 'pb pb-d' + Math.min(stack.length - 1, 3);
      stack[stack.length - 1].append(g);
      stack.push(g);
      punct(c);
    } else if (c === ']' && stack.length > 1) {
      punct(c);
      stack.pop();
    } else if (c === '/' && stack.length > 1) {
      punct(c);
    } else {
      run += c;
    }
  }
  flush();
  return [root];
}

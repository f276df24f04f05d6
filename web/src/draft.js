// The draft page: the live editor wired to the OT client, presence, and the
// side panels (people, brackets, history). Also the read-only "screen" view
// for a projector.

import { type } from 'ot-text-unicode';
import { EditorView } from '@codemirror/view';
import { OTClient, Gap } from './otclient.js';
import { createEditor, applyRemote, replaceAll, setPresence, removePresence, setProposers, presenceOf, setIdle, remote } from './editor.js';
import { changesToOp, opToChanges, posToCp, cpToPos, cpLength } from './unicode.js';
import { loadPending, savePending, loadRefused, saveRefused } from './store.js';
import { DEFAULT_MAX_OP_BYTES } from './split.js';
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

/**
 * openDraftView renders draft id into root and returns {destroy}. mode is
 * "edit" (the working page) or "screen" (read-only, large type, follows a
 * facilitator's cursor).
 */
export function openDraftView(root, ctx, id, mode, { header, paragraph = 0 }) {
  const { api, conn, me, clientId } = ctx;
  const screen = mode === 'screen';
  const canEdit = !screen && me.role !== 'reviewer';
  const cleanups = [];
  const whoKey = `${me.delegation}/${me.name}`;
  clear(root);

  const title = h('span.doc-title', id);
  const revBadge = h('span.rev', { title: 'Revision' }, 'rev —');
  const screenLink = h('a.button.ghost', { href: screen ? '#/d/' + id : '#/d/' + id + '/screen', title: screen ? 'Back to the editor' : 'Projector view: large type, follows the facilitator' }, screen ? 'Exit screen view' : 'Screen view');
  const strip = h('span.present', { 'aria-label': 'Also in this draft' });
  const readOnly = !canEdit ? h('span.tag', { title: screen ? 'The screen view only shows the text' : 'Reviewers read, compare and replay; they do not edit' }, 'read-only') : null;
  const bar = header([h('a', { href: '#/' }, 'Drafts'), h('span.sep', '/'), title, revBadge, readOnly], [strip, screenLink]);
  cleanups.push(() => bar.dispose && bar.dispose());

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

  // ---- state ---------------------------------------------------------------
  let otc = null; // created once we know the base text
  let loadingFresh = false; // an `open` without rev is outstanding
  let opened = false;
  const people = new Map(); // presenceKey(client, by) -> {cid, by, role?, ts, activeTs, typedTs}
  let follow = null; // screen view: client id to follow (null: latest facilitator move)
  let lastMover = null;
  const panels = {}; // the side panels, filled in below

  const view = createEditor({
    parent: editorHost,
    text: '',
    readOnly: true,
    large: screen,
    canReplace: canEdit && me.role === 'facilitator',
    onLocal: (tr) => {
      if (!otc) return;
      if (tooLong(tr)) return;
      otc.local(changesToOp(tr.changes, tr.startState.doc));
      updateBadges();
    },
    onSelection: (u) => {
      if (screen) return;
      // Only what the user did moves their cursor for the others: not an
      // edit that someone else made (the others map cursors over it).
      if (!u.transactions.some((tr) => !tr.annotation(remote) && (tr.selection || tr.docChanged))) return;
      moved = true;
      sendPresenceSoon();
    },
  });
  cleanups.push(() => view.destroy());
  // Ctrl+F searches whichever editor is shown: the live one or a past revision.
  cleanups.push(bindFindKey(() => {
    const shown = [...editorPane.querySelectorAll('.cm-editor')].find((el) => !el.closest('[hidden]'));
    return shown ? EditorView.findFromDOM(shown) : null;
  }));

  function setNotice(text, kind = 'warn') {
    notice.hidden = !text;
    notice.className = 'notice ' + kind;
    notice.textContent = text || '';
  }

  // Printing (app.css @media print): the running head of every page names
  // the draft, its revision and the date, through an @page rule kept up to
  // date here (a page margin box can only show a string the CSS holds).
  const printHead = h('style', { 'data-print-head': '' });
  document.head.appendChild(printHead);
  cleanups.push(() => printHead.remove());
  function updatePrintHead() {
    const when = new Date().toISOString().slice(0, 16).replace('T', ' ') + ' UTC';
    const head = `${title.textContent} — Revision ${otc ? otc.rev : '—'} — ${when}`;
    const css = head.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/[\n\r]/g, ' ');
    printHead.textContent = `@media print { @page { @top-center { content: "${css}"; } } }`;
  }
  // The editor lays out only the lines on screen, so the print shows a
  // plain copy of the whole text instead, made when printing starts.
  const printText = h('div.print-text', { 'aria-hidden': 'true' });
  function preparePrint(e) {
    if (e && e.type === 'change' && !e.matches) return;
    updatePrintHead();
    printText.replaceChildren(...printNodes(view.state.doc.toString()));
  }
  const printQuery = window.matchMedia ? window.matchMedia('print') : null;
  window.addEventListener('beforeprint', preparePrint);
  if (printQuery) printQuery.addEventListener('change', preparePrint);
  editorPane.append(printText);
  cleanups.push(() => {
    window.removeEventListener('beforeprint', preparePrint);
    if (printQuery) printQuery.removeEventListener('change', preparePrint);
  });

  let shownRev = null;
  function updateBadges() {
    checkWaiting();
    // Typing does not change the revision: leave the badge and the history
    // slider alone then (a keystroke must not restyle the page).
    const rev = otc ? otc.rev : null;
    if (rev === shownRev) return;
    shownRev = rev;
    updatePrintHead();
    revBadge.textContent = otc ? `rev ${otc.rev}` : 'rev —';
    panels.history && panels.history.setHead(otc ? otc.rev : 0);
  }

  // checkWaiting keeps the status indicator honest: edits not acknowledged
  // within WAIT_MS (or made while offline) are waiting, and the indicator
  // says since when instead of "Live". A blocked network keeps the socket
  // open and silent, so the time since the oldest unacknowledged edit is
  // what tells, checked every 250 ms.
  const WAIT_MS = 1000;
  let kept = true; // whether the last unacknowledged state fitted in localStorage
  function checkWaiting() {
    const since = otc && otc.pending ? otc.since : null;
    const waiting = since !== null && (conn.status !== 'online' || !opened || Date.now() - since >= WAIT_MS);
    conn.setWaiting(waiting ? since : null, kept);
  }
  const waitTimer = setInterval(checkWaiting, 250);
  cleanups.push(() => { clearInterval(waitTimer); conn.setWaiting(null); });

  // ---- edits the server refused ---------------------------------------------
  // An edit refused for good is dropped from the pending queue and the
  // draft reloaded from the server; its text stays here, with a copy button,
  // until the user dismisses it (kept on this device across reloads).
  let refusedList = loadRefused(id);
  const REFUSED_WORDS = {
    too_large: 'The edit was too large for this draft',
    bad_op: 'The edit did not fit the draft as the server has it',
    forbidden: 'You may not make this edit',
    locked: 'This part of the text is agreed and locked',
    diverged: 'This page lost step with the draft',
  };
  function renderRefused() {
    clear(refusedHost);
    refusedList.forEach((r, i) => {
      const copy = h('button.small', { type: 'button', on: { click: async () => {
        try { await navigator.clipboard.writeText(r.text); toast('Copied. Paste it where it belongs.'); } catch {
          const sel = window.getSelection(); const range = document.createRange(); range.selectNodeContents(pre); sel.removeAllRanges(); sel.addRange(range);
          toast('Press Ctrl+C to copy the selected text.', 'warn');
        }
      } } }, 'Copy the text');
      const dismiss = h('button.ghost.small', { type: 'button', on: { click: () => { refusedList.splice(i, 1); saveRefused(id, refusedList); renderRefused(); } } }, 'Dismiss');
      const when = new Date(r.at).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
      const words = `${REFUSED_WORDS[r.code] || 'The server refused an edit'} (${when}): it was not saved${r.local ? '' : ' and the draft was reloaded'}.` +
        (r.text ? ' Your text is kept below.' : '');
      const pre = h('pre.refused-text', r.text || '');
      const box = h('div.refused', { role: 'alert', 'data-code': r.code }, h('span.refused-msg', { title: r.message || '' }, words), r.text ? copy : null, dismiss, r.text ? pre : null);
      refusedHost.appendChild(box);
    });
  }
  renderRefused();

  function refused(m) {
    const dropped = otc ? otc.dropPending() : null;
    refusedList.push({ at: Date.now(), code: m.code, message: m.message || '', text: dropped ? dropped.text : '' });
    saveRefused(id, refusedList);
    renderRefused();
    resyncFresh('');
  }

  // tooLong refuses, on this page, an edit that would make the draft longer
  // than the maximum the server announced (its welcome's max_draft_len):
  // sent in pieces, part of it would be committed before the server
  // refused the rest. The edit is taken back out of the editor (and every
  // edit of the same update after it, made on top of it), and its text
  // goes to the notice with the copy button. Nothing is sent.
  let reverting = null; // {doc, changes}: edits of this update to take back
  function tooLong(tr) {
    if (reverting) {
      reverting.changes = reverting.changes.compose(tr.changes);
      return true;
    }
    const limit = conn.identity && conn.identity.max_draft_len;
    if (!limit) return false;
    const after = cpLength(tr.newDoc);
    if (after <= limit || after <= cpLength(tr.startState.doc)) return false;
    reverting = { doc: tr.startState.doc, changes: tr.changes };
    queueMicrotask(() => {
      const { doc, changes } = reverting;
      reverting = null;
      const inserted = [];
      changes.iterChanges((_fa, _ta, _fb, _tb, ins) => { if (ins.length) inserted.push(ins.toString()); });
      applyRemote(view, changes.invert(doc));
      refusedList.push({ at: Date.now(), local: true, code: 'too_large', message: `the draft would be ${after} characters long, more than the ${limit} allowed`, text: inserted.join('\n') });
      saveRefused(id, refusedList);
      renderRefused();
    });
    return true;
  }

  // opBudget is the largest op message: a quarter of the server's default
  // frame limit, or half of the limit its welcome announces if lower.
  function opBudget() {
    const f = conn.identity && conn.identity.max_frame;
    return f ? Math.min(DEFAULT_MAX_OP_BYTES, Math.floor(f / 2)) : DEFAULT_MAX_OP_BYTES;
  }

  function makeClient(rev, restored) {
    otc = new OTClient({
      doc: id,
      clientId,
      rev,
      nextSeq: ctx.nextSeq,
      inflight: restored ? restored.inflight : null,
      buffer: restored ? restored.buffer : null,
      since: restored ? restored.since : undefined,
      maxOpBytes: opBudget(),
      send: (m) => conn.send(m),
      apply: (op) => {
        let specs;
        try {
          specs = opToChanges(op, view.state.doc);
        } catch (e) {
          throw Object.assign(e, { diverged: true });
        }
        applyRemote(view, specs, ownProposal);
        ownProposal = false;
      },
      // Stamped with who typed them: dedupe is per credential, so edits
      // must never be resent under someone else's name.
      persist: (state) => { kept = savePending(clientId, id, state && { ...state, who: whoKey }); },
    });
    otc.onChange = () => { updateBadges(); bracketsSoon(); provisionsSoon(); };
    view.setReadOnly(!canEdit);
    updateBadges();
  }

  // ---- opening, resuming ------------------------------------------------------
  async function start() {
    const saved = canEdit ? loadPending(clientId, id) : null;
    if (saved && saved.inflight && saved.who !== whoKey) {
      setNotice(`Unsent edits from another sign-in (${saved.who || 'unknown'}) are kept on this device but not sent as you.`);
    } else if (saved && saved.inflight) {
      // Edits typed before a reload that the server never acknowledged: rebuild
      // the page's text as text(rev) + inflight + buffer, then resume from rev so
      // the server either recognises the op (same client and seq) or commits it.
      try {
        const base = await api.get(api.docPath(id, '/text?rev=' + saved.rev));
        let text = type.apply(base.text, saved.inflight.op);
        if (saved.buffer) text = type.apply(text, saved.buffer);
        replaceAll(view, text);
        makeClient(saved.rev, saved);
        setNotice('');
        toast('Recovered edits made before the page was reloaded; sending them now.');
      } catch (e) {
        console.warn('draftroom: could not restore unsent edits', e);
        savePending(clientId, id, null);
        setNotice('Edits from an earlier visit could not be restored: ' + e.message);
      }
    }
    starting = false;
    if (conn.status === 'online') openOnServer();
  }

  function openOnServer() {
    opened = false;
    if (otc) {
      conn.send({ type: 'open', doc: id, rev: otc.rev });
    } else {
      loadingFresh = true;
      conn.send({ type: 'open', doc: id });
    }
  }

  function resyncFresh(reason) {
    // Our text and the server's disagree: start again from a snapshot. Unsent
    // edits cannot be placed any more; keep them visible in a notice.
    const lost = otc && otc.pending ? otc.dropPending() : null;
    if (lost) {
      refusedList.push({ at: Date.now(), code: 'diverged', message: reason, text: lost.text });
      saveRefused(id, refusedList);
      renderRefused();
    }
    otc = null;
    view.setReadOnly(true);
    setNotice(reason);
    conn.send({ type: 'close', doc: id });
    openOnServer();
  }

  // A reconnect while start() restores unsent edits must not open the draft
  // fresh: start() opens it (from the restored revision) when it is done.
  let starting = true;
  cleanups.push(conn.on('ready', () => {
    for (const c of [...people.keys()]) dropPerson(c);
    if (!starting) openOnServer();
  }));
  cleanups.push(conn.on('down', () => { if (otc) otc.disconnected(); opened = false; updateBadges(); }));
  cleanups.push(conn.onStatus(() => updateBadges()));

  cleanups.push(conn.on('snapshot', (m) => {
    if (m.doc !== id) return;
    if (otc && !loadingFresh) return;
    loadingFresh = false;
    // A reload after a refused edit keeps the cursor where it was (clamped).
    const keep = view.state.selection.main.head;
    replaceAll(view, m.text);
    if (keep > 0) view.dispatch({ selection: { anchor: Math.min(keep, view.state.doc.length) }, scrollIntoView: true });
    makeClient(m.rev, null);
    afterOpen(m);
  }));
  cleanups.push(conn.on('opened', (m) => {
    if (m.doc !== id || !otc) return;
    afterOpen(m);
  }));

  // Notifications about a resolution: my proposal in it, and a paragraph
  // left without brackets (notify.js).
  async function resolutionNotices(m) {
    const name = title.textContent || id;
    const skip = Array.isArray(m.op) && typeof m.op[0] === 'number' ? m.op[0] : 0;
    const line = view.state.doc.lineAt(Math.min(toLocal(skip, m.rev), view.state.doc.length));
    let n = 0;
    for (let i = 1; i <= line.number; i++) if (view.state.doc.line(i).length > 0) n++;
    const href = `#/d/${id}/p${n}`;
    // "Article 2, paragraph 1" when the text says so; a line under a
    // heading the title already names ("Chapter III" in "Chapter III — …")
    // goes by its number among the paragraphs.
    const named = placeOf((i) => view.state.doc.line(i).text, line.number);
    const known = named && (named.includes(',') || !name.startsWith(named)) ? named : '';
    if (!/[[\]]/.test(line.text) && line.length > 0) notify(`${known || `Paragraph ${n}`} of ${name} has no brackets left.`, href);
    try {
      const [d, p] = await Promise.all([api.get(api.docPath(id, '/decisions')), api.get(api.docPath(id, '/proposals'))]);
      const text = explainResolution({ m, me, title: known ? `${known} of ${name}` : name, decisions: d.decisions || [], proposals: p.proposals || [] });
      if (text) notify(text, href);
    } catch { /* the lists are optional */ }
  }

  // goParagraph puts the editor at the start of paragraph n (non-empty lines).
  function goParagraph(n) {
    const doc = view.state.doc;
    for (let i = 1, k = 0; i <= doc.lines; i++) {
      if (doc.line(i).length > 0 && ++k === n) {
        view.dispatch({ selection: { anchor: doc.line(i).from }, effects: EditorView.scrollIntoView(doc.line(i).from, { y: 'center' }) });
        return;
      }
    }
  }

  function afterOpen(m) {
    if (paragraph) { const n = paragraph; paragraph = 0; setTimeout(() => goParagraph(n), 0); }
    opened = true;
    setNotice('');
    for (const p of m.present || []) onPresence({ ...p, doc: id });
    otc.connected();
    updateBadges();
    sendPresenceSoon();
    bracketsSoon();
    provisionsSoon();
    panels.history && panels.history.setHead(otc.rev);
  }

  // Undo follows what the user did last: the op the server writes for a
  // proposal this page just made is applied as an undo step of ours.
  let ownProposal = false;
  let proposalSentAt = 0;
  sidebar.addEventListener('submit', (ev) => { if (ev.target.matches('form.propose')) proposalSentAt = Date.now(); }, true);
  cleanups.push(conn.on('op', (m) => {
    if (m.doc !== id || !otc) return;
    ownProposal = m.kind === 'propose' && !!m.by && m.by.delegation === me.delegation && m.by.name === me.name && Date.now() - proposalSentAt < 30000;
    try {
      otc.remoteOp(m);
    } catch (e) {
      if (e instanceof Gap) { conn.drop(); return; }
      console.error(e);
      resyncFresh('The draft changed in a way this page could not follow; it was reloaded.');
      return;
    }
    if (m.by) { const key = presenceKey(m.client, m.by); touchPerson(key, m.client, m.by, undefined, 'typed'); active.add(key); }
    if (m.kind === 'resolve') resolutionNotices(m);
  }));
  cleanups.push(conn.on('ack', (m) => {
    if (m.doc !== id || !otc) return;
    try {
      otc.ack(m);
    } catch (e) {
      if (e instanceof Gap) conn.drop();
    }
  }));
  cleanups.push(conn.on('error', (m) => {
    if (m.doc !== undefined && m.doc !== id) return;
    if (m.ref !== undefined) return; // answered to whoever asked
    if (m.code === 'not_found' && !opened) {
      setNotice(`There is no draft "${id}".`, 'error');
      view.setReadOnly(true);
      return;
    }
    // Refused for good (locked: agreed text, docs/PROVISIONS.md): the edit
    // is dropped, the draft reloaded, its text kept in the notice.
    if (REFUSED_WORDS[m.code] && m.code !== 'diverged' && otc && otc.inflight && m.seq === otc.inflight.seq && m.doc === id) {
      refused(m);
      return;
    }
    if (m.code === 'too_large' && m.doc === undefined && m.seq === undefined && otc && otc.inflight && otc.sent) {
      // A frame over the server's limit is refused before it is read, so
      // the error names no draft or seq: it can only be the op in flight.
      refused(m);
      return;
    }
    if (m.code === 'rev_ahead') { resyncFresh('The server lost revisions this page had.'); return; }
    if (m.code === 'forbidden' && !opened) {
      setNotice(m.message || 'Your credential does not give access to this draft.', 'error');
      view.setReadOnly(true);
      return;
    }
    if ((m.code === 'rate_limited' || m.code === 'internal' || m.code === 'unavailable') && otc && m.doc === id && otc.retry(m.seq)) {
      // Not committed: the same op goes again shortly (the status turns to
      // "waiting" if it takes long).
      if (m.code === 'rate_limited') toast(errorNode(m), 'warn');
      return;
    }
    if (m.code === 'rate_limited') { toast(errorNode(m), 'warn'); return; }
    if (m.code || m.message) toast(errorNode(m), 'error');
  }));

  // ---- presence -------------------------------------------------------------
  const sendPresenceSoon = debounce(() => {
    if (!otc || !opened || screen) return;
    const doc = view.state.doc;
    // Until the user moves or types, "here, no cursor": an empty sel keeps
    // a pile of cursors at the top of the draft from everyone who only
    // opened it. The server takes at most 64 ranges (docs/PROTOCOL.md 2.1).
    const sel = !moved ? [] : view.state.selection.ranges.slice(0, 64).map((r) => [otc.toServer(posToCp(doc, r.anchor)), otc.toServer(posToCp(doc, r.head))]);
    conn.send({ type: 'presence', doc: id, rev: otc.rev, sel });
  }, 60);

  const peopleList = h('ul.people', { 'aria-label': 'People in this draft' });
  let moved = false; // this page's user moved the cursor or typed
  // Clients whose cursor has been shown: one that only ever reports [0, 0]
  // (an older page that sends presence on opening) is not drawn until it
  // moves or types.
  const active = new Set();
  // Cursors idle for IDLE_MS fade and lose their label.
  const IDLE_MS = ctx.idleMs ?? 60000;
  const idleTimer = setInterval(() => {
    const now = Date.now();
    const idle = new Set();
    for (const [client, p] of people) if (now - (p.activeTs || 0) > IDLE_MS) idle.add(client);
    view.dispatch({ effects: setIdle.of(idle) });
    if (panels.people) panels.people.update(); // "typing now" expires
  }, Math.min(5000, IDLE_MS / 2));
  cleanups.push(() => clearInterval(idleTimer));

  function labelOf(by) { return by ? `${by.delegation}` : '?'; }
  function titleOf(by) { return by ? `${by.name || ''} (${by.delegation})` : 'someone'; }

  // A client id is chosen by the client, so another delegation may reuse
  // someone's: cursors are keyed by client id and who sent them ("by"),
  // so that one cannot replace or remove the other's.
  function presenceKey(client, by) { return by ? `${client} ${by.delegation}/${by.name}` : client; }

  function onPresence(m) {
    if (m.doc !== id || m.client === clientId) return;
    if (m.left) {
      if (m.by) dropPerson(presenceKey(m.client, m.by));
      else for (const [key, p] of [...people]) if (p.cid === m.client) dropPerson(key); // a server that does not say who left
      return;
    }
    const key = presenceKey(m.client, m.by);
    touchPerson(key, m.client, m.by, m.role, true);
    if (!m.sel || !otc) return;
    if (!active.has(key) && m.sel.every(([a, hd]) => a === 0 && hd === 0)) return;
    active.add(key);
    const doc = view.state.doc;
    const ranges = m.sel.map(([a, hd]) => ({
      anchor: cpToPos(doc, otc.toLocal(a, m.rev ?? otc.rev)),
      head: cpToPos(doc, otc.toLocal(hd, m.rev ?? otc.rev)),
    }));
    const colour = colourOf(m.by ? m.by.delegation : m.client);
    view.dispatch({ effects: setPresence.of({ client: key, label: labelOf(m.by), title: titleOf(m.by), colour, ranges }) });
    lastMover = (m.role === 'facilitator' || isFacilitator(key)) ? key : (lastMover && isFacilitator(lastMover) ? lastMover : key);
    if (screen) followCursor();
  }
  cleanups.push(conn.on('presence', onPresence));

  function isFacilitator(client) { const p = people.get(client); return p && p.role === 'facilitator'; }

  // people is keyed by presenceKey; cid is the client id itself.
  function touchPerson(key, cid, by, role, acted) {
    if (!cid || cid === clientId || cid === '_draftroom') return;
    const p = people.get(key) || {};
    const now = Date.now();
    people.set(key, { cid, by: by || p.by, role: role || p.role, ts: now, activeTs: acted ? now : p.activeTs, typedTs: acted === 'typed' ? now : p.typedTs });
    renderPeople();
  }

  function dropPerson(client) {
    people.delete(client);
    active.delete(client);
    view.dispatch({ effects: removePresence.of(client) });
    if (follow === client) follow = null;
    renderPeople();
  }

  function renderPeople() {
    if (panels.people) panels.people.update();
    if (!screen) { renderStrip(); return; }
    clear(peopleList);
    peopleList.appendChild(h('li.person.self', h('span.badge', { style: { background: colourOf(me.delegation) } }, me.delegation), h('span.pname', me.name + ' (you)'), h('span.role', me.role)));
    for (const [client, p] of people) {
      const by = p.by || {};
      const li = h('li.person', h('span.badge', { style: { background: colourOf(by.delegation || p.cid) } }, by.delegation || '?'), h('span.pname', by.name || p.cid), p.role ? h('span.role', p.role) : null);
      if (screen) {
        li.appendChild(h('button.ghost.small', { type: 'button', 'aria-pressed': String(follow === client), on: { click: () => { follow = follow === client ? null : client; renderPeople(); followCursor(); } } }, follow === client ? 'Following' : 'Follow'));
      }
      peopleList.appendChild(li);
    }
  }

  function renderStrip() {
    clear(strip);
    const others = [...people.values()].filter((p) => p.by);
    for (const p of others.slice(0, 6)) strip.appendChild(h('span.badge', { style: { background: colourOf(p.by.delegation) }, title: `${p.by.name} (${p.by.delegation})` }, p.by.delegation));
    if (others.length > 6) strip.appendChild(h('span.more', `+${others.length - 6}`));
  }

  function followCursor() {
    const target = follow || lastMover;
    if (!target) return;
    const pres = presenceOf(view.state).get(target);
    if (!pres || pres.ranges.length === 0) return;
    smoothFollow(view, pres.ranges[0].head);
  }

  // ---- sidebar -----------------------------------------------------------------
  if (!screen) {
    const tabs = [
    ];
    panels.people = peoplePanel({
      me,
      getPeople: () => [...people].map(([client, p]) => ({ client, ...p })),
      onGo: (client) => {
        const pres = presenceOf(view.state).get(client);
        if (!pres || pres.ranges.length === 0) { toast('They have not moved their cursor yet.'); return; }
        view.dispatch({ effects: EditorView.scrollIntoView(pres.ranges[0].head, { y: 'center' }) });
      },
    });
    tabs.push({ key: 'people', label: 'People', node: panels.people.node });
    panels.brackets = bracketPanel({ ctx, id, view, getClient: () => otc, canEdit, toast, toLocal });
    tabs.push({ key: 'brackets', label: 'Brackets', node: panels.brackets.node });
    panels.history = historyPanel({ ctx, id, view, historyHost, historyBanner, editorHost, getClient: () => otc, toast, toLocal });
    tabs.push({ key: 'history', label: 'History', node: panels.history.node });
    panels.provisions = provisionPanel({ ctx, id, view, getClient: () => otc, toast, toLocal });
    tabs.push({ key: 'provisions', label: 'Provisions', node: panels.provisions.node });
    const tablist = h('div.side-tabs', { role: 'tablist', 'aria-label': 'Panels' });
    const bodies = h('div.side-bodies');
    let current = 'brackets';
    const buttons = {};
    function select(key) {
      current = key;
      for (const t of tabs) {
        buttons[t.key].setAttribute('aria-selected', String(t.key === key));
        buttons[t.key].tabIndex = t.key === key ? 0 : -1;
        t.node.hidden = t.key !== key;
      }
      const p = panels[key];
      if (p && p.shown) p.shown();
    }
    tabs.forEach((t, i) => {
      buttons[t.key] = h('button.side-tab', { type: 'button', role: 'tab', id: 'tab-' + t.key, 'aria-controls': 'panel-' + t.key, title: `${t.label} (Alt+${i + 1})`, on: {
        click: () => select(t.key),
        keydown: (ev) => {
          if (ev.key !== 'ArrowRight' && ev.key !== 'ArrowLeft') return;
          const j = (tabs.findIndex((x) => x.key === current) + (ev.key === 'ArrowRight' ? 1 : tabs.length - 1)) % tabs.length;
          select(tabs[j].key);
          buttons[tabs[j].key].focus();
        },
      } }, t.label);
      t.node.id = 'panel-' + t.key;
      t.node.setAttribute('role', 'tabpanel');
      t.node.setAttribute('aria-labelledby', 'tab-' + t.key);
      tablist.appendChild(buttons[t.key]);
      bodies.appendChild(t.node);
    });
    sidebar.append(tablist, bodies);
    select('brackets');
    const keys = (ev) => {
      if (!ev.altKey || ev.ctrlKey || ev.metaKey) return;
      const n = parseInt(ev.key, 10);
      if (n >= 1 && n <= tabs.length) { ev.preventDefault(); select(tabs[n - 1].key); buttons[tabs[n - 1].key].focus(); }
      if (ev.key === 'e' || ev.key === 'E') { ev.preventDefault(); view.focus(); }
      // Alt+N / Alt+Shift+N: the next / previous open bracket group.
      if (ev.code === 'KeyN' && panels.brackets) { ev.preventDefault(); panels.brackets.next(ev.shiftKey ? -1 : 1); }
      if ((ev.key === 'p' || ev.key === 'P') && canEdit) {
        // Propose an alternative to the selection without leaving the keyboard.
        ev.preventDefault();
        select('brackets');
        const input = document.getElementById('propose-text');
        if (input && !input.closest('[hidden]')) input.focus();
      }
    };
    window.addEventListener('keydown', keys);
    cleanups.push(() => window.removeEventListener('keydown', keys));
  } else {
    cleanups.push(setupScreen({ pane: editorPane, view, peopleList, exitHref: '#/d/' + id }));
  }
  renderPeople();

  // toLocal maps a code-point span at revision rev to the editor's UTF-16 span.
  function toLocal(cp, rev) {
    if (!otc) return 0;
    return cpToPos(view.state.doc, otc.toLocal(cp, rev));
  }

  const bracketsSoon = debounce(() => {
    if (panels.brackets) panels.brackets.refresh();
  }, 350);

  // Agreed text is tinted and locked in the editor (and tinted on the
  // screen view); the listing that feeds it is asked for after edits.
  const locks = provisionLocks({ conn, id, view, getClient: () => otc, toLocal, toast, editable: canEdit });
  cleanups.push(() => locks.destroy());
  const provisionsSoon = debounce(() => locks.refresh(), 1500);

  // The highlighter uses the server's proposers for hover titles.
  cleanups.push(conn.on('brackets', (m) => {
    if (m.doc !== id) return;
    const names = new Map();
    for (const g of m.groups || []) {
      for (const a of g.alternatives || g.alts || []) {
        const by = a.by || a.proposer || a.proposed_by;
        if (by && typeof a.text === 'string') names.set(a.text.trim(), `${by.name || ''} (${by.delegation || '?'})`);
      }
    }
    view.dispatch({ effects: setProposers.of(names) });
  }));

  // The title comes from the draft list (GET /api/docs/{id} would carry the
  // whole text just for it).
  api.get('/api/docs').then((r) => {
    const d = (r.docs || []).find((x) => x.id === id);
    if (d && d.title) { title.textContent = d.title; title.title = id; updatePrintHead(); }
    document.title = `${d && d.title ? d.title : id} · draftroom`;
  }).catch(() => { document.title = `${id} · draftroom`; });
  cleanups.push(() => { document.title = 'draftroom'; });

  start();
  if (canEdit) setTimeout(() => view.focus(), 0);

  return {
    view,
    get client() { return otc; },
    destroy() {
      if (otc) conn.send({ type: 'close', doc: id });
      for (const fn of cleanups.reverse()) { try { fn(); } catch { /* page is going away */ } }
      for (const p of Object.values(panels)) if (p && p.destroy) p.destroy();
    },
  };
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

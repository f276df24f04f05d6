// The history panel: a slider over revisions (with named versions) that
// shows the text at that revision, authorship colouring, a diff between two
// revisions, the timeline, and a replay of the negotiation. Each reply is
// read with its reader (shapes.js); what fails to load is said in the
// panel's error line or a toast, and asked again the next time.

import { h, clear, colourOf, fmtTime, debounce } from './util.js';
import { errorNode, panelError } from './errors.js';
import { readTextAt, readDiff, readAuthors, readTimeline, readLabels, readOps, readBracketListing, readProposals, readDecisions, readProvisionListing } from './shapes.js';
import { createEditor, replaceAll, setAuthors, applyRemoteBy, setChanges } from './editor.js';
import { groupRuns, describeRun, changeMarks } from './timeline.js';
import { opToChanges } from './unicode.js';

/** cpOffsetsToUtf16 converts sorted code-point offsets in s to UTF-16 offsets in one pass. */
export function cpOffsetsToUtf16(s, offsets) {
  const out = [];
  let cp = 0;
  let i = 0;
  for (const want of offsets) {
    while (cp < want && i < s.length) {
      const c = s.charCodeAt(i);
      i += c >= 0xd800 && c <= 0xdbff && i + 1 < s.length ? 2 : 1;
      cp++;
    }
    out.push(i);
  }
  return out;
}

export function historyPanel({ ctx, id, view, historyHost, historyBanner, editorHost, getClient, toast, toLocal }) {
  const { api, me, conn } = ctx;
  let head = 0;
  let viewing = null; // revision shown, or null for live
  let hview = null; // read-only editor for past revisions
  let labels = [];
  let replaying = null;
  const error = panelError('history');
  const textCache = new Map();

  const slider = h('input#rev-slider', { type: 'range', min: 0, max: 0, value: 0, step: 1, 'aria-label': 'Revision' });
  const sliderLabel = h('output.rev-out', { for: 'rev-slider' }, 'live');
  const liveBtn = h('button.small', { type: 'button', on: { click: () => goLive() } }, 'Back to live');
  const ticks = h('div.ticks', { 'aria-hidden': 'true' });
  const labelSelect = h('select#labels', { 'aria-label': 'Named versions', on: { change: () => { if (labelSelect.value !== '') show(parseInt(labelSelect.value, 10)); } } });
  const authorsBox = h('input#authors-toggle', { type: 'checkbox', on: { change: () => { if (viewing !== null) paintAuthors(); else if (authorsBox.checked) show(head); } } });
  const diffFrom = h('input#diff-from', { type: 'number', min: 0, value: 0, 'aria-label': 'From revision' });
  const diffTo = h('input#diff-to', { type: 'number', min: 0, value: 0, 'aria-label': 'To revision' });
  const speed = h('select#replay-speed', { 'aria-label': 'Replay speed' },
    h('option', { value: '400' }, 'slow'), h('option', { value: '120', selected: true }, 'normal'), h('option', { value: '20' }, 'fast'));
  const replayBtn = h('button.small', { type: 'button', on: { click: () => (replaying ? stopReplay() : replay()) } }, 'Replay');
  const timeline = h('ol.timeline', { 'aria-label': 'Timeline' });
  const tlStatus = h('p.muted.small');
  const labelName = h('input#label-name', { type: 'text', placeholder: "e.g. Chair's text, session 4", 'aria-label': 'Version name' });
  const labelForm = me.role === 'facilitator' ? h('form.inline', { on: { submit: async (ev) => {
    ev.preventDefault();
    if (!labelName.value.trim()) return;
    const rev = viewing ?? head;
    try {
      await api.post(api.docPath(id, '/labels'), { name: labelName.value.trim(), rev });
      toast(`Revision ${rev} named “${labelName.value.trim()}”.`);
      labelName.value = '';
      loadLabels();
    } catch (e) {
      toast(errorNode(e, 'name the revision'), 'error');
    }
  } } }, labelName, h('button.small', { type: 'submit' }, 'Name this revision')) : null;

  const download = (format) => downloadExport(api, id, viewing ?? head, format, toast);
  const exportRow = h('div.inline.tight', { role: 'group', 'aria-label': 'Download this revision' },
    h('span.muted.small', 'Download:'),
    h('button.small', { type: 'button', on: { click: () => download('txt') } }, 'Text'),
    h('button.small', { type: 'button', on: { click: () => download('md') } }, 'Markdown'),
    h('button.small', { type: 'button', on: { click: () => download('html') } }, 'HTML'));

  // A facilitator circulates a revised text: the server turns it into one
  // op (a diff), so people typing at that moment keep their work.
  const importText = h('textarea#import-text', { rows: 5, placeholder: 'Paste the revised text' });
  const importBox = me.role === 'facilitator' ? h('details.diff-box', h('summary', 'Import a revised text'),
    h('label', { for: 'import-text' }, 'Whole new text of the draft'), importText,
    h('div.inline.tight', h('button.small', { type: 'button', on: { click: async () => {
      const otc = getClient();
      if (!otc || !importText.value) return;
      try {
        await api.put(api.docPath(id, '/text'), { text: importText.value, rev: otc.rev });
        importText.value = '';
        toast('The revised text was imported as one change.');
      } catch (e) {
        toast(errorNode(e, 'import the text'), 'error');
      }
    } } }, 'Import as one change'))) : null;

  // ---- changes since a version, shown in the live editor ----------------
  const sinceSelect = h('select#since', { 'aria-label': 'Show changes since', on: { change: () => changesSince(sinceSelect.value) } });
  const sinceBar = h('div.changes-bar', { hidden: true, role: 'status' });
  historyBanner.after(sinceBar);
  function fillSince() {
    const keep = sinceSelect.value;
    clear(sinceSelect);
    sinceSelect.append(h('option', { value: '' }, 'off'));
    for (const l of labels) sinceSelect.append(h('option', { value: 'rev:' + l.rev }, `“${l.name}” (rev ${l.rev})`));
    sinceSelect.append(h('option', { value: 'ago:3600000' }, 'the last hour'), h('option', { value: 'today' }, 'the start of today'), h('option', { value: 'ago:86400000' }, 'the last 24 hours'));
    sinceSelect.value = [...sinceSelect.options].some((o) => o.value === keep) ? keep : '';
  }
  fillSince();
  let since = null; // {rev, what}
  async function changesSince(value, quiet) {
    if (!value) { since = null; view.dispatch({ effects: setChanges.of([]) }); sinceBar.hidden = true; return; }
    let rev;
    let what;
    try {
      if (value.startsWith('rev:')) {
        rev = +value.slice(4);
        const l = labels.find((x) => x.rev === rev);
        what = l ? `“${l.name}”` : `revision ${rev}`;
      } else {
        const at = value === 'today' ? new Date().setHours(0, 0, 0, 0) : Date.now() - +value.slice(4);
        rev = readTextAt(await api.get(api.docPath(id, '/text?at=' + at))).rev;
        what = value === 'today' ? 'the start of today' : `${fmtTime(at)}`;
      }
      const otc = getClient();
      if (!otc) return;
      const to = otc.rev;
      const segs = readDiff(await api.get(api.docPath(id, `/diff?from=${rev}&to=${to}&by=1`))).segments;
      const { marks, inserted, deleted } = changeMarks(segs, (cp) => toLocal(cp, to));
      since = { value, rev, what };
      view.dispatch({ effects: setChanges.of(marks) });
      clear(sinceBar);
      sinceBar.append(h('span', h('strong', 'Changes since ' + what), ` (rev ${rev} → ${to}): +${inserted} −${deleted} characters, coloured by delegation`),
        h('button.small', { type: 'button', on: { click: () => { sinceSelect.value = ''; changesSince(''); } } }, 'Hide'));
      sinceBar.hidden = false;
    } catch (e) {
      if (!quiet) toast(errorNode(e, 'show the changes'), 'error');
    }
  }
  // Keep the marks current while people type: recompute a moment after.
  const sinceSoon = debounce(() => { if (since) changesSince(since.value, true); }, 1500);

  const labelsRow = h('div.labels-row', h('label', { for: 'labels' }, 'Named versions'), labelSelect);
  const node = h('div.panel.history-panel',
    h('h2.panel-title', 'History'), error.node,
    h('div.slider-row', h('label', { for: 'rev-slider' }, 'Revision'), sliderLabel),
    h('div.slider-wrap', slider, ticks),
    h('div.inline.tight', liveBtn, replayBtn, speed),
    h('label.check', authorsBox, ' Colour the text by delegation'),
    labelsRow, labelForm,
    h('div.labels-row', h('label', { for: 'since' }, 'In the live text, mark the changes since'), sinceSelect),
    h('details.diff-box', h('summary', 'Compare two revisions'),
      h('div.inline.tight', h('label', { for: 'diff-from' }, 'from'), diffFrom, h('label', { for: 'diff-to' }, 'to'), diffTo,
        h('button.small', { type: 'button', on: { click: () => showDiff(+diffFrom.value, +diffTo.value) } }, 'Show changes'))),
    exportRow,
    importBox,
    h('h3.sub', 'Timeline'), tlStatus, timeline);

  slider.addEventListener('input', () => {
    const r = +slider.value;
    sliderLabel.textContent = r === head ? `${r} (live)` : String(r);
    showSoon(r);
  });
  const showSoon = debounce((r) => show(r), 120);

  function setHead(r) {
    const wasLive = viewing === null;
    head = r;
    slider.max = String(r);
    if (wasLive) { slider.value = String(r); sliderLabel.textContent = `${r} (live)`; }
    diffTo.max = String(r);
    if (+diffTo.value === 0 || wasLive) diffTo.value = String(r);
    drawTicks();
    sinceSoon();
  }

  function ensureHistoryView() {
    if (hview) return hview;
    hview = createEditor({ parent: historyHost, text: '', readOnly: true });
    return hview;
  }

  async function textAt(rev) {
    if (textCache.has(rev)) return textCache.get(rev);
    const r = readTextAt(await api.get(api.docPath(id, '/text?rev=' + rev)));
    textCache.set(rev, r.text);
    if (textCache.size > 40) textCache.delete(textCache.keys().next().value);
    return r.text;
  }

  async function show(rev) {
    if (replaying) stopReplay();
    if (rev >= head && !authorsBox.checked) { goLive(); return; }
    let text;
    try {
      text = await textAt(rev);
    } catch (e) {
      toast(errorNode(e, 'load revision ' + rev), 'error');
      return;
    }
    viewing = rev;
    slider.value = String(rev);
    sliderLabel.textContent = rev === head ? `${rev} (live)` : String(rev);
    const hv = ensureHistoryView();
    hv.dispatch({ effects: setAuthors.of([]) });
    replaceAll(hv, text);
    enterHistory();
    banner(rev);
    if (authorsBox.checked) paintAuthors();
  }

  // whoAt says who made revision rev and when ("CAN · Ana, 14:02"), cached.
  const whoCache = new Map();
  function whoAt(rev, node) {
    if (rev <= 0) return;
    const fill = (o) => { if (o && o.by) node.textContent = ` · by ${o.by.delegation}${o.by.name ? ' · ' + o.by.name : ''}, ${fmtTime(o.ts)}`; };
    if (whoCache.has(rev)) { fill(whoCache.get(rev)); return; }
    api.get(api.docPath(id, `/ops?from=${rev}&to=${rev}`)).then((r) => {
      const o = readOps(r).ops[0];
      whoCache.set(rev, o ? { by: o.by, ts: o.ts } : null);
      if (whoCache.size > 200) whoCache.delete(whoCache.keys().next().value);
      fill(o);
    }).catch((e) => console.warn('draftroom: who made revision', rev, e)); // the banner says less
  }

  function banner(rev, extra) {
    const label = labels.find((l) => l.rev === rev);
    const who = h('span.banner-who');
    if (!extra) whoAt(rev, who);
    clear(historyBanner);
    historyBanner.append(
      h('span', h('strong', `Revision ${rev}`), label ? ` · “${label.name}”` : '', who, extra ? [' · ', extra] : '', ' · read-only'),
      h('button.small', { type: 'button', on: { click: () => goLive() } }, 'Back to live (Esc)'));
  }

  function enterHistory() {
    historyHost.hidden = false;
    editorHost.hidden = true;
    historyBanner.hidden = false;
    const diff = historyHost.querySelector('.diff-view');
    if (diff) diff.remove();
    if (hview) hview.dom.hidden = false;
  }

  function goLive() {
    if (replaying) stopReplay();
    viewing = null;
    historyHost.hidden = true;
    editorHost.hidden = false;
    historyBanner.hidden = true;
    slider.value = String(head);
    sliderLabel.textContent = `${head} (live)`;
    view.focus();
  }

  const escape = (ev) => { if (ev.key === 'Escape' && !historyHost.hidden) { ev.preventDefault(); goLive(); } };
  window.addEventListener('keydown', escape);

  async function paintAuthors() {
    if (viewing === null || !hview) return;
    if (!authorsBox.checked) { hview.dispatch({ effects: setAuthors.of([]) }); return; }
    try {
      const spans = readAuthors(await api.get(api.docPath(id, '/authors?rev=' + viewing))).spans;
      const text = hview.state.doc.toString();
      const cuts = [];
      for (const s of spans) cuts.push(s.start, s.end);
      const u = cpOffsetsToUtf16(text, cuts);
      const marks = spans.map((s, i) => ({ from: u[2 * i], to: u[2 * i + 1], delegation: s.delegation, name: s.name, rev: s.rev }));
      hview.dispatch({ effects: setAuthors.of(marks) });
      banner(viewing, legend(marks));
    } catch (e) {
      authorsBox.checked = false;
      toast(errorNode(e, 'colour the text by delegation'), 'warn');
    }
  }

  async function showDiff(from, to) {
    if (replaying) stopReplay();
    let segs;
    try {
      segs = readDiff(await api.get(api.docPath(id, `/diff?from=${from}&to=${to}&by=1`))).segments;
    } catch (e) {
      toast(errorNode(e, 'compare the revisions'), 'error');
      return;
    }
    const box = diffView(segs, from, to);
    viewing = to;
    enterHistory();
    if (hview) hview.dom.hidden = true;
    historyHost.appendChild(box);
    banner(to, `changes since revision ${from}`);
    box.focus();
  }

  // replayStep shows one replayed op in the read-only view.
  function replayStep(hv, rev, o) {
    const by = o.by || {};
    applyRemoteBy(hv, opToChanges(o.op, hv.state.doc), { delegation: by.delegation, name: by.name, rev });
    viewing = rev;
    slider.value = String(rev);
    sliderLabel.textContent = String(rev);
    banner(rev, o.by ? `${o.by.delegation} · ${fmtTime(o.ts)}` : 'replay');
  }

  function endReplay(run) {
    if (run.off) run.off();
    if (replaying === run) { replaying = null; replayBtn.textContent = 'Replay'; }
  }

  // replay animates revisions from the slider's position to the head
  // (runReplay), in the read-only view.
  async function replay() {
    const from = viewing ?? Math.max(0, head - 50);
    const to = head;
    if (from >= to) { toast('Move the slider back first: there is nothing to replay.', 'warn'); return; }
    const hv = ensureHistoryView();
    hv.dispatch({ effects: setAuthors.of([]) });
    viewing = from;
    enterHistory();
    // Start from the text at `from`, coloured if the box is ticked: each
    // step then colours what it inserts, so the colours stay in step.
    try {
      replaceAll(hv, await textAt(from));
      if (authorsBox.checked) await paintAuthors();
    } catch (e) {
      toast(errorNode(e, 'start the replay'), 'error');
      return;
    }
    const run = { stop: false, ws: false, off: null };
    replaying = run;
    replayBtn.textContent = 'Stop';
    runReplay({ conn, api, id, from, to, intervalMs: +speed.value, run, toast,
      onText: (m) => { if (m.text !== hv.state.doc.toString()) replaceAll(hv, m.text); banner(m.rev, 'replay'); },
      onStep: (rev, o) => replayStep(hv, rev, o),
      onEnd: () => endReplay(run) });
  }

  function stopReplay() {
    const run = replaying;
    if (!run) return;
    run.stop = true;
    if (run.ws) conn.send({ type: 'replay_stop', doc: id });
    endReplay(run);
  }

  async function loadLabels() {
    try {
      labels = readLabels(await api.get(api.docPath(id, '/labels'))).labels.map((l) => ({ name: l.name, rev: l.rev, ts: l.ts }));
      error.clear('named versions');
    } catch (e) {
      labels = [];
      error.show(e, { what: 'named versions' });
    }
    clear(labelSelect);
    labelSelect.appendChild(h('option', { value: '' }, labels.length ? 'Go to a named version…' : 'none yet'));
    for (const l of labels) labelSelect.appendChild(h('option', { value: String(l.rev) }, `${l.name} (rev ${l.rev})`));
    fillSince();
    drawTicks();
  }

  function drawTicks() {
    clear(ticks);
    if (head <= 0) return;
    for (const l of labels) ticks.appendChild(h('span.tick', { style: { left: `${(l.rev / head) * 100}%` }, title: l.name }));
  }

  async function loadTimeline() {
    let entries;
    try {
      entries = readTimeline(await api.get(api.docPath(id, '/history?limit=200'))).entries;
      error.clear('timeline');
    } catch (e) {
      clear(timeline);
      tlStatus.textContent = '';
      error.show(e, { what: 'timeline' });
      return;
    }
    const runs = groupRuns(entries).slice(0, 60);
    const names = await loadNames(api, id, runs);
    clear(timeline);
    tlStatus.textContent = runs.length ? '' : 'Nothing yet.';
    for (const run of runs) timeline.appendChild(timelineItem(run, names, () => show(run.to)));
  }



  return {
    node,
    setHead,
    show,
    shown() { loadLabels(); loadTimeline(); },
    destroy() { window.removeEventListener('keydown', escape); stopReplay(); if (hview) hview.destroy(); },
  };
}

// legend names every delegation in its colour, as the text shows it, with
// how many characters it wrote and who (on hover), largest share first.
function legend(marks) {
  const by = new Map();
  for (const m of marks) {
    const d = m.delegation || '?';
    const e = by.get(d) || { n: 0, names: new Set() };
    e.n += m.to - m.from;
    if (m.name) e.names.add(m.name);
    by.set(d, e);
  }
  const rows = [...by].sort((a, b) => b[1].n - a[1].n);
  return h('span.legend', { 'aria-label': `${rows.length} delegations wrote this text` },
    rows.map(([d, e]) => h('span.badge', { style: { background: colourOf(d) }, title: `${d}: ${e.n} characters${e.names.size ? ' · ' + [...e.names].join(', ') : ''}` }, d)));
}

// loadNames fetches what the timeline needs to name groups by their text
// and say what resolutions chose. Each list only adds words: one that
// fails is logged and the timeline says less.
async function loadNames(api, id, runs) {
  const names = { groups: new Map(), proposals: new Map(), decisions: new Map(), provisions: null };
  const want = (k) => runs.some((r) => r.kind === k);
  const get = (path, read) => api.get(api.docPath(id, path)).then(read).catch((e) => { console.warn(`draftroom: ${path} for the timeline:`, e); return null; });
  const [br, props, decs, provs] = await Promise.all([
    want('propose') || want('resolve') ? get('/brackets', readBracketListing) : null,
    want('propose') ? get('/proposals', readProposals) : null,
    want('resolve') ? get('/decisions', readDecisions) : null,
    runs.some((r) => !r.kind && typeof r.at === 'number') ? get('/provisions', readProvisionListing) : null,
  ]);
  names.provisions = provs;
  for (const g of (br && br.groups) || []) names.groups.set(g.id, g.alternatives.map((a) => a.text));
  for (const p of (props && props.proposals) || []) names.proposals.set(p.rev, p);
  for (const d of (decs && decs.decisions) || []) names.decisions.set(d.group, d);
  return names;
}

// downloadExport fetches the export of revision rev in format (txt, md,
// html) with the credential in a header, then hands it to the browser.
async function downloadExport(api, id, rev, format, toast) {
  try {
    const blob = await api.blob(api.docPath(id, `/export?rev=${rev}&format=${format}`));
    const a = h('a', { href: URL.createObjectURL(blob), download: `${id}-rev${rev}.${format}` });
    document.body.appendChild(a);
    a.click();
    setTimeout(() => { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
  } catch (e) {
    toast(errorNode(e, 'download the export'), 'warn');
  }
}

// diffView shows diff segments from revision from to revision to: insertions
// underlined in their author's colour, deletions struck through.
function diffView(segs, from, to) {
  const box = h('div.diff-view', { tabIndex: 0, 'aria-label': `Changes from revision ${from} to ${to}` });
  for (const s of segs) {
    const who = s.delegation;
    const by = who ? ` by ${who}${s.name ? ' (' + s.name + ')' : ''}` : '';
    if (s.op === 'insert') box.appendChild(h('ins', { title: 'added' + by, style: who ? { textDecorationColor: colourOf(who) } : null }, s.text));
    else if (s.op === 'delete') box.appendChild(h('del', { title: 'removed' + by }, s.text));
    else box.appendChild(document.createTextNode(s.text));
  }
  return box;
}

// timelineItem is one run of the timeline; clicking it calls onShow.
function timelineItem(run, names, onShow) {
  const by = run.by || {};
  const kind = ({ propose: 'proposal', resolve: 'decision' })[run.kind] || run.kind || 'edit';
  const d = describeRun(run, names);
  const range = run.from !== run.to ? `revs ${run.from}–${run.to}` : `rev ${run.to}`;
  return h('li.tl-item.' + kind,
    h('button.linklike', { type: 'button', title: `Show the text after ${range}`, on: { click: onShow } },
      h('span.badge', { style: { background: colourOf(by.delegation || '?') } }, by.delegation || '·'),
      h('span.tl-what', h('span.tl-who', by.name || ''), ' ', d.what, d.preview ? h('span.tl-preview', ` “${d.preview}”`) : null),
      h('span.tl-when', `${d.when} · ${range}`)));
}

/**
 * runReplay plays revisions from+1..to: over the WebSocket (the server
 * paces the ops, docs/PROTOCOL.md 2.3) or, when the server refuses the
 * replay message (bad_request), from GET .../ops paced here, for this run
 * (the next one tries the WebSocket again). run is {stop, ws, off}: set
 * stop to end it (and send replay_stop when ws); off removes the frame
 * listeners. onText(m) takes a frame with the whole text, onStep(rev, op)
 * one op, onEnd() is called once it is over.
 */
async function runReplay({ conn, api, id, from, to, intervalMs, run, toast, onText, onStep, onEnd }) {
  const offFrame = conn.on('replay', (m) => {
    if (m.doc !== id || run.stop) return;
    if (m.op === undefined) onText(m); else onStep(m.rev, m);
  });
  const offEnd = conn.on('replayed', (m) => { if (m.doc === id) onEnd(); });
  run.off = () => { offFrame(); offEnd(); };
  try {
    await conn.request({ type: 'replay', doc: id, from: from + 1, to, interval_ms: intervalMs });
    run.ws = true;
    return; // the frames drive it from here
  } catch (e) {
    run.off();
    run.off = null;
    if (e.code !== 'bad_request') { toast('Replay failed: ' + e.message, 'error'); onEnd(); return; }
  }
  try {
    let rev = from;
    while (!run.stop && rev < to) {
      const r = readOps(await api.get(api.docPath(id, `/ops?from=${rev + 1}&to=${Math.min(to, rev + 200)}`)));
      if (r.ops.length === 0) break;
      for (const o of r.ops) {
        if (run.stop) break;
        onStep(o.rev, o);
        rev = o.rev;
        await new Promise((res) => setTimeout(res, intervalMs));
      }
    }
  } catch (e) {
    toast('Replay stopped: ' + e.message, 'error');
  }
  onEnd();
}

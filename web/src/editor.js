// CodeMirror 6 set-up: the live editor, remote cursors, bracket highlighting
// and authorship colouring.

import { EditorState, StateField, StateEffect, Compartment, RangeSetBuilder, Annotation, Transaction, Prec, ChangeSet } from '@codemirror/state';
import { EditorView, Decoration, ViewPlugin, WidgetType, keymap, drawSelection, placeholder, highlightSpecialChars } from '@codemirror/view';
import { defaultKeymap, history, historyKeymap, undo, redo, isolateHistory } from '@codemirror/commands';
import { BracketIndex } from './brackets.js';
import { astralIndex, trackAstral } from './unicode.js';
import { colourOf } from './colors.js';
import { directionOf } from './bidi.js';
import { searchExtension } from './search.js';

/** remote marks transactions that carry other people's edits. */
export const remote = Annotation.define();

// ---- remote cursors and selections -----------------------------------

/** setPresence replaces one client's ranges: {client, label, title, colour, ranges: [{anchor, head}]}. */
export const setPresence = StateEffect.define();
/** removePresence removes a client's cursors. */
export const removePresence = StateEffect.define();

/** setIdle marks which clients' cursors are idle (a Set of client ids): they fade and lose their label. */
export const setIdle = StateEffect.define();

class CaretWidget extends WidgetType {
  constructor(label, title, colour, level, idle) { super(); this.label = label; this.title = title; this.colour = colour; this.level = level; this.idle = idle; }
  eq(o) { return o.label === this.label && o.colour === this.colour && o.title === this.title && o.level === this.level && o.idle === this.idle; }
  toDOM() {
    const caret = document.createElement('span');
    caret.className = 'cm-rcaret' + (this.idle ? ' cm-rcaret-idle' : '');
    caret.style.borderColor = this.colour;
    caret.setAttribute('aria-hidden', 'true');
    if (this.label) {
      const tag = document.createElement('span');
      tag.className = 'cm-rtag';
      tag.style.background = this.colour;
      tag.style.setProperty('--level', String(this.level));
      tag.textContent = this.label;
      tag.title = this.title;
      caret.appendChild(tag);
    }
    return caret;
  }
  ignoreEvent() { return true; }
}

const presenceField = StateField.define({
  create: () => new Map(),
  update(value, tr) {
    let next = value;
    if (tr.docChanged && value.size > 0) {
      next = new Map();
      for (const [client, p] of value) {
        next.set(client, { ...p, ranges: p.ranges.map((r) => ({ anchor: tr.changes.mapPos(r.anchor, 1), head: tr.changes.mapPos(r.head, 1) })) });
      }
    }
    for (const e of tr.effects) {
      if (e.is(setPresence)) {
        if (next === value) next = new Map(value);
        const len = tr.newDoc.length;
        next.set(e.value.client, { ...e.value, idle: false, ranges: e.value.ranges.map((r) => ({ anchor: Math.min(r.anchor, len), head: Math.min(r.head, len) })) });
      } else if (e.is(removePresence)) {
        if (next === value) next = new Map(value);
        next.delete(e.value);
      } else if (e.is(setIdle)) {
        for (const [client, p] of next) {
          const idle = e.value.has(client);
          if (!!p.idle === idle) continue;
          if (next === value) next = new Map(value);
          next.set(client, { ...p, idle });
        }
      }
    }
    return next;
  },
});

/** LABEL_STACK is how many labels of nearby cursors stack before the rest fold into "+n". */
export const LABEL_STACK = 3;
/** NEAR is how close (in UTF-16 units, on one line) two cursors are for their labels to collide. */
const NEAR = 14;

/**
 * caretLabels decides, for carets [{head, label, title, idle}] on lines
 * lineOf(head), each one's label and its stacking level: carets near each
 * other on a line stack their labels upwards; past LABEL_STACK the last
 * label reads "+n" and names the rest in its title; idle carets have none.
 */
export function caretLabels(carets, lineOf) {
  const live = carets.filter((c) => !c.idle).sort((a, b) => a.head - b.head);
  const out = new Map();
  for (const c of carets) if (c.idle) out.set(c, { label: '', title: c.title, level: 0 });
  let cluster = [];
  const flush = () => {
    cluster.forEach((c, i) => {
      if (i < LABEL_STACK - 1 || cluster.length === LABEL_STACK) out.set(c, { label: c.label, title: c.title, level: i });
      else if (i === LABEL_STACK - 1) {
        const rest = cluster.slice(i);
        out.set(c, { label: `+${rest.length}`, title: rest.map((x) => x.title).join(', '), level: i });
      } else out.set(c, { label: '', title: c.title, level: 0 });
    });
    cluster = [];
  };
  for (const c of live) {
    const prev = cluster[cluster.length - 1];
    if (prev && (lineOf(prev.head) !== lineOf(c.head) || c.head - prev.head > NEAR)) flush();
    cluster.push(c);
  }
  flush();
  return out;
}

const presenceDecorations = EditorView.decorations.compute([presenceField], (state) => {
  const value = state.field(presenceField);
  if (value.size === 0) return Decoration.none;
  const ranges = [];
  const carets = [];
  for (const p of value.values()) {
    for (const r of p.ranges) {
      const from = Math.min(r.anchor, r.head);
      const to = Math.max(r.anchor, r.head);
      if (to > from && !p.idle) ranges.push(Decoration.mark({ class: 'cm-rsel', attributes: { style: `background-color: ${p.colour}33`, title: p.title } }).range(from, to));
      carets.push({ head: r.head, label: p.label, title: p.title, colour: p.colour, idle: !!p.idle });
    }
  }
  const labels = caretLabels(carets, (pos) => state.doc.lineAt(pos).number);
  for (const c of carets) {
    const l = labels.get(c);
    ranges.push(Decoration.widget({ widget: new CaretWidget(l.label, l.title, c.colour, l.level, c.idle), side: 1 }).range(c.head));
  }
  return Decoration.set(ranges, true);
});

/** presenceOf returns the remote cursors the view currently shows. */
export function presenceOf(state) { return state.field(presenceField, false) || new Map(); }

// ---- brackets ----------------------------------------------------------

/** setProposers gives the bracket highlighter "alternative text -> who proposed it". */
export const setProposers = StateEffect.define();

const proposersField = StateField.define({
  create: () => new Map(),
  update(v, tr) {
    for (const e of tr.effects) if (e.is(setProposers)) return e.value;
    return v;
  },
});

// The highlighter reads brackets through a BracketIndex kept in the state
// and updated per edit (only the changed stretch is re-read), and draws
// only what is in the viewport. Brackets nested deeper than MARK_DEPTH get
// their punctuation coloured but no mark around their text: CodeMirror
// nests a DOM element per mark, and thousands of nested brackets must not
// make thousands of nested elements.
const MARK_DEPTH = 4;

const bracketIndexField = StateField.define({
  create: (state) => new BracketIndex(state.doc),
  update(idx, tr) {
    if (!tr.docChanged) return idx;
    let fromA = Infinity;
    let toA = -1;
    let fromB = Infinity;
    let toB = -1;
    tr.changes.iterChangedRanges((fa, ta, fb, tb) => {
      fromA = Math.min(fromA, fa); toA = Math.max(toA, ta);
      fromB = Math.min(fromB, fb); toB = Math.max(toB, tb);
    });
    return idx.updated(tr.newDoc, fromA, toA, fromB, toB);
  },
});

/** bracketsOf returns the editor's current reading of the brackets ({brackets, groups, diagnostics}, UTF-16). */
export function bracketsOf(state) { return state.field(bracketIndexField).read(state.doc); }

function bracketDecorations(view) {
  const { state } = view;
  const { brackets, diagnostics } = bracketsOf(state);
  const proposers = state.field(proposersField, false) || new Map();
  const { from: vpFrom, to: vpTo } = view.viewport;
  const marks = [];
  const punct = (at, cls) => { if (at >= vpFrom && at < vpTo) marks.push(Decoration.mark({ class: cls }).range(at, at + 1)); };
  for (const b of brackets) {
    if (b.from >= vpTo) break;
    if (b.to <= vpFrom) continue;
    if (b.depth < MARK_DEPTH) {
      marks.push(Decoration.mark({ class: `cm-br cm-br-d${b.depth}`, attributes: { 'data-group': String(b.group) } }).range(b.from, b.to));
      b.alts.forEach((a, k) => {
        if (a.to <= a.from) return;
        const n = b.altBase + k;
        const who = proposers.size ? proposers.get(state.doc.sliceString(a.from, a.to).trim()) : undefined;
        const attrs = { title: who ? `Alternative ${n + 1} · proposed by ${who}` : `Alternative ${n + 1}` };
        marks.push(Decoration.mark({ class: `cm-br-alt cm-br-alt${n % 2}`, attributes: attrs }).range(a.from, a.to));
      });
    }
    punct(b.from, 'cm-br-punct');
    for (let k = 1; k < b.alts.length; k++) punct(b.alts[k].from - 1, 'cm-br-punct cm-br-slash');
    punct(b.to - 1, 'cm-br-punct');
  }
  for (const d of diagnostics) {
    if (d.to > vpFrom && d.from < vpTo) marks.push(Decoration.mark({ class: 'cm-br-bad', attributes: { title: d.message } }).range(d.from, d.to));
  }
  return Decoration.set(marks, true);
}

const bracketHighlighter = ViewPlugin.fromClass(class {
  constructor(view) { this.decorations = bracketDecorations(view); }
  update(u) {
    if (u.docChanged || u.viewportChanged || u.transactions.some((tr) => tr.effects.some((e) => e.is(setProposers)))) {
      this.decorations = bracketDecorations(u.view);
    }
  }
}, { decorations: (v) => v.decorations });

// The surrogate pairs of the text, kept per edit so that code-point
// conversions (every op, every cursor) cost a binary search (unicode.js).
const astralField = StateField.define({
  create: (state) => astralIndex(state.doc),
  update: (v, tr) => (tr.docChanged ? trackAstral(tr.startState.doc, tr.newDoc, tr.changes) : v),
});

// ---- authorship (history view) -----------------------------------------

/** setAuthors colours spans [{from, to, delegation, name, rev}] (UTF-16), or clears with []. */
export const setAuthors = StateEffect.define();
/** addAuthors colours more spans (in the new text of its transaction), keeping the others. */
export const addAuthors = StateEffect.define();

function authorMark(s) {
  const c = colourOf(s.delegation || '?');
  return Decoration.mark({ class: 'cm-author', attributes: { style: `background-color: ${c}2e; border-bottom: 2px solid ${c}`, title: `${s.delegation || '?'} · ${s.name || ''} · rev ${s.rev ?? '?'}` } });
}

const authorsField = StateField.define({
  create: () => Decoration.none,
  update(v, tr) {
    for (const e of tr.effects) {
      if (e.is(setAuthors)) {
        const b = new RangeSetBuilder();
        for (const s of e.value) {
          if (s.to <= s.from) continue;
          b.add(s.from, s.to, authorMark(s));
        }
        return b.finish();
      }
    }
    let next = v.map(tr.changes);
    for (const e of tr.effects) {
      if (e.is(addAuthors)) next = next.update({ add: e.value.filter((s) => s.to > s.from).map((s) => authorMark(s).range(s.from, s.to)), sort: true });
    }
    return next;
  },
  provide: (f) => EditorView.decorations.from(f),
});

// ---- paragraph direction -------------------------------------------------

// Each line (a paragraph) takes its direction from its first strong
// character, as dir="auto" would: an Arabic paragraph is right-aligned and
// its full stop sits at its left end. Only the lines in view are measured,
// so a very long draft costs nothing extra. perLineTextDirection tells
// CodeMirror to move the cursor by each line's own direction.
const lineDir = { rtl: Decoration.line({ attributes: { dir: 'rtl' } }), ltr: Decoration.line({ attributes: { dir: 'ltr' } }) };

function directionDecorations(view) {
  const b = new RangeSetBuilder();
  const doc = view.state.doc;
  for (const { from, to } of view.visibleRanges) {
    for (let pos = from; pos <= to;) {
      const line = doc.lineAt(pos);
      const d = directionOf(line.text);
      if (d) b.add(line.from, line.from, lineDir[d]);
      pos = line.to + 1;
    }
  }
  return b.finish();
}

export const paragraphDirection = [
  EditorView.perLineTextDirection.of(true),
  ViewPlugin.fromClass(class {
    constructor(view) { this.decorations = directionDecorations(view); }
    update(u) { if (u.docChanged || u.viewportChanged) this.decorations = directionDecorations(u.view); }
  }, { decorations: (v) => v.decorations }),
];

// ---- editors -------------------------------------------------------------

const theme = EditorView.theme({
  '&': { height: '100%' },
  '.cm-scroller': { fontFamily: 'var(--font-text)', lineHeight: '1.7' },
  '.cm-content': { padding: '28px 0 120px', caretColor: 'var(--ink)', maxWidth: 'var(--measure, 78ch)', margin: '0 auto' },
  '.cm-line': { padding: '0 32px' },
});

// redoKey makes Mod-Shift-Z redo whatever case its key reports. With Caps
// Lock on, Shift+Z reports key "z", which CodeMirror's keymap matches to
// Mod-z (undo) before it tries Mod-Shift-z: the "redo" would undo one more
// step. Runs before the keymap.
const isMac = typeof navigator !== 'undefined' && /Mac|iPhone|iPad/.test(navigator.platform || '');
const redoKey = Prec.highest(EditorView.domEventHandlers({
  keydown(e, view) {
    const mod = isMac ? e.metaKey && !e.ctrlKey : e.ctrlKey && !e.metaKey;
    if (!mod || !e.shiftKey || e.altKey || e.key.toLowerCase() !== 'z') return false;
    e.preventDefault();
    redo(view);
    return true;
  },
}));

/**
 * createEditor builds the live editor. onLocal receives every transaction
 * that is not remote and changes the document; onSelection fires when the
 * user's selection moves. canReplace adds replace to the search panel
 * (facilitators).
 */
export function createEditor({ parent, text, readOnly, onLocal, onSelection, large, canReplace = false }) {
  const editable = new Compartment();
  const view = new EditorView({
    parent,
    state: EditorState.create({
      doc: text,
      extensions: [
        EditorState.lineSeparator.of('\n'),
        highlightSpecialChars(),
        history(),
        redoKey,
        drawSelection(),
        EditorView.lineWrapping,
        paragraphDirection,
        searchExtension({ canReplace }),
        keymap.of([
          { key: 'Mod-z', run: undo, preventDefault: true },
          { key: 'Mod-Shift-z', run: redo, preventDefault: true },
          { key: 'Mod-y', run: redo, preventDefault: true },
          ...historyKeymap,
          ...defaultKeymap.filter((b) => b.key !== 'Tab' && b.key !== 'Shift-Tab'),
        ]),
        placeholder('The draft is empty. Start typing…'),
        theme,
        large ? EditorView.theme({ '.cm-scroller': { fontSize: 'var(--screen-font, 2.1rem)', lineHeight: '1.5' }, '.cm-content': { padding: '3vh 0 40vh' }, '.cm-line': { padding: '0 4vw' } }) : [],
        editable.of([EditorState.readOnly.of(!!readOnly), EditorView.editable.of(!readOnly)]),
        presenceField,
        presenceDecorations,
        proposersField,
        bracketIndexField,
        bracketHighlighter,
        astralField,
        authorsField,
        changesField,
        EditorView.contentAttributes.of({ 'aria-label': 'Draft text', 'aria-multiline': 'true', spellcheck: 'true', lang: 'und' }),
        EditorView.updateListener.of((u) => {
          const isRemote = u.transactions.some((t) => t.annotation(remote));
          if (u.docChanged && !isRemote && onLocal) for (const tr of u.transactions) if (tr.docChanged) onLocal(tr);
          if ((u.selectionSet || u.docChanged) && onSelection) onSelection(u);
        }),
      ],
    }),
  });
  view.setReadOnly = (ro) => view.dispatch({ effects: editable.reconfigure([EditorState.readOnly.of(ro), EditorView.editable.of(!ro)]) });
  return view;
}

/**
 * applyRemote applies change specs made by others: not undoable by us, and
 * our history maps over them. undoable makes them an undo step of our own
 * (a proposal this page made, which the server wrote into the text): Undo
 * then reverts it with an ordinary edit.
 */
export function applyRemote(view, changes, undoable = false) {
  view.dispatch({ changes, annotations: [remote.of(true), Transaction.addToHistory.of(undoable), ...(undoable ? [isolateHistory.of('full')] : [])] });
}

/**
 * applyRemoteBy applies others' change specs and colours what they insert
 * as author's ({delegation, name, rev}): a replay keeps the authorship
 * colouring in step with the text.
 */
export function applyRemoteBy(view, changes, author) {
  const cs = ChangeSet.of(changes, view.state.doc.length);
  const spans = [];
  cs.iterChanges((fromA, toA, fromB, toB) => { if (toB > fromB) spans.push({ from: fromB, to: toB, ...author }); });
  view.dispatch({ changes: cs, effects: addAuthors.of(spans), annotations: [remote.of(true), Transaction.addToHistory.of(false)] });
}

// ---- changes since a version (the live editor's "changes since" mode) ----

/** setChanges marks [{kind: 'insert'|'delete', from, to?, text?, delegation, name}] (UTF-16 positions in the current text), or clears with []. */
export const setChanges = StateEffect.define();

class DeletedWidget extends WidgetType {
  constructor(text, title, colour) { super(); this.text = text; this.title = title; this.colour = colour; }
  eq(o) { return o.text === this.text && o.title === this.title; }
  toDOM() {
    const del = document.createElement('del');
    del.className = 'cm-chg-del';
    del.textContent = this.text.length > 400 ? this.text.slice(0, 400) + '…' : this.text;
    del.title = this.title;
    if (this.colour) del.style.textDecorationColor = this.colour;
    return del;
  }
  ignoreEvent() { return true; }
}

const changesField = StateField.define({
  create: () => Decoration.none,
  update(v, tr) {
    for (const e of tr.effects) {
      if (e.is(setChanges)) {
        const marks = [];
        for (const c of e.value) {
          const who = c.delegation ? `${c.delegation}${c.name ? ' · ' + c.name : ''}` : 'someone';
          const colour = c.delegation ? colourOf(c.delegation) : null;
          if (c.kind === 'insert' && c.to > c.from) {
            marks.push(Decoration.mark({ class: 'cm-chg-ins', attributes: { title: `added by ${who}`, style: colour ? `text-decoration-color: ${colour}; background-color: ${colour}22` : '' } }).range(c.from, c.to));
          } else if (c.kind === 'delete' && c.text) {
            marks.push(Decoration.widget({ widget: new DeletedWidget(c.text, `removed by ${who}`, colour), side: -1 }).range(c.from));
          }
        }
        return Decoration.set(marks, true);
      }
    }
    return v.map(tr.changes);
  },
  provide: (f) => EditorView.decorations.from(f),
});

/** replaceAll sets the whole text (a snapshot or a historical revision) without touching undo history. */
export function replaceAll(view, text) {
  view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: text }, annotations: [remote.of(true), Transaction.addToHistory.of(false)] });
}

// CodeMirror 6 set-up: the live editor, remote cursors, bracket highlighting
// and authorship colouring.

import { EditorState, StateField, StateEffect, Compartment, RangeSetBuilder, Annotation, Transaction, Prec } from '@codemirror/state';
import { EditorView, Decoration, WidgetType, ViewPlugin, keymap, drawSelection, placeholder, highlightSpecialChars } from '@codemirror/view';
import { defaultKeymap, history, historyKeymap, undo, redo } from '@codemirror/commands';
import { BracketIndex } from './brackets.js';
import { astralIndex, trackAstral } from './unicode.js';
import { colourOf } from './util.js';

/** remote marks transactions that carry other people's edits. */
export const remote = Annotation.define();

// ---- remote cursors and selections -----------------------------------

/** setPresence replaces one client's ranges: {client, label, title, colour, ranges: [{anchor, head}]}. */
export const setPresence = StateEffect.define();
/** removePresence removes a client's cursors. */
export const removePresence = StateEffect.define();

class CaretWidget extends WidgetType {
  constructor(label, title, colour) { super(); this.label = label; this.title = title; this.colour = colour; }
  eq(o) { return o.label === this.label && o.colour === this.colour && o.title === this.title; }
  toDOM() {
    const caret = document.createElement('span');
    caret.className = 'cm-rcaret';
    caret.style.borderColor = this.colour;
    caret.setAttribute('aria-hidden', 'true');
    const tag = document.createElement('span');
    tag.className = 'cm-rtag';
    tag.style.background = this.colour;
    tag.textContent = this.label;
    tag.title = this.title;
    caret.appendChild(tag);
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
        next.set(e.value.client, { ...e.value, ranges: e.value.ranges.map((r) => ({ anchor: Math.min(r.anchor, len), head: Math.min(r.head, len) })) });
      } else if (e.is(removePresence)) {
        if (next === value) next = new Map(value);
        next.delete(e.value);
      }
    }
    return next;
  },
  provide: (f) => EditorView.decorations.from(f, (value) => {
    const ranges = [];
    for (const p of value.values()) {
      for (const r of p.ranges) {
        const from = Math.min(r.anchor, r.head);
        const to = Math.max(r.anchor, r.head);
        if (to > from) ranges.push(Decoration.mark({ class: 'cm-rsel', attributes: { style: `background-color: ${p.colour}33`, title: p.title } }).range(from, to));
        ranges.push(Decoration.widget({ widget: new CaretWidget(p.label, p.title, p.colour), side: 1 }).range(r.head));
      }
    }
    return Decoration.set(ranges, true);
  }),
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

const authorsField = StateField.define({
  create: () => Decoration.none,
  update(v, tr) {
    for (const e of tr.effects) {
      if (e.is(setAuthors)) {
        const b = new RangeSetBuilder();
        for (const s of e.value) {
          if (s.to <= s.from) continue;
          const c = colourOf(s.delegation || '?');
          b.add(s.from, s.to, Decoration.mark({ class: 'cm-author', attributes: { style: `background-color: ${c}2e; border-bottom: 2px solid ${c}`, title: `${s.delegation || '?'} · ${s.name || ''} · rev ${s.rev ?? '?'}` } }));
        }
        return b.finish();
      }
    }
    return v.map(tr.changes);
  },
  provide: (f) => EditorView.decorations.from(f),
});

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
 * user's selection moves.
 */
export function createEditor({ parent, text, readOnly, onLocal, onSelection, large }) {
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
        keymap.of([
          { key: 'Mod-z', run: undo, preventDefault: true },
          { key: 'Mod-Shift-z', run: redo, preventDefault: true },
          { key: 'Mod-y', run: redo, preventDefault: true },
          ...historyKeymap,
          ...defaultKeymap.filter((b) => b.key !== 'Tab' && b.key !== 'Shift-Tab'),
        ]),
        placeholder('The draft is empty. Start typing…'),
        theme,
        large ? EditorView.theme({ '.cm-scroller': { fontSize: '2.1rem', lineHeight: '1.6' } }) : [],
        editable.of([EditorState.readOnly.of(!!readOnly), EditorView.editable.of(!readOnly)]),
        presenceField,
        proposersField,
        bracketIndexField,
        bracketHighlighter,
        astralField,
        authorsField,
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

/** applyRemote applies change specs made by others: not undoable by us, and our history maps over them. */
export function applyRemote(view, changes) {
  view.dispatch({ changes, annotations: [remote.of(true), Transaction.addToHistory.of(false)] });
}

/** replaceAll sets the whole text (a snapshot or a historical revision) without touching undo history. */
export function replaceAll(view, text) {
  view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: text }, annotations: [remote.of(true), Transaction.addToHistory.of(false)] });
}

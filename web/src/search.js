// Search in the draft (Ctrl+F): next/previous, a match count, case and
// whole-word options and, where the editor may be changed by a
// facilitator, replace. Built on @codemirror/search, which searches the
// whole text (not just the part on screen) and moves the editor to each
// match; this module gives it draftroom's own panel with the count.
// A replacement is an ordinary edit of the editor, so it travels as an op
// like typing and the history shows who replaced what.

import { search, searchKeymap, SearchQuery, getSearchQuery, setSearchQuery, findNext, findPrevious, replaceNext, replaceAll, closeSearchPanel, openSearchPanel, searchPanelOpen } from '@codemirror/search';
import { EditorView, keymap } from '@codemirror/view';
import { h } from './util.js';

/** COUNT_LIMIT bounds the matches counted (a one-letter search in a long draft). */
export const COUNT_LIMIT = 10000;

/**
 * countMatches counts query's matches in state (up to COUNT_LIMIT) and
 * which one the main selection is: {total, current (1-based, 0: none), capped}.
 */
export function countMatches(state, query) {
  if (!query.valid) return { total: 0, current: 0, capped: false };
  const sel = state.selection.main;
  const cur = query.getCursor(state);
  let total = 0;
  let current = 0;
  for (let m = cur.next(); !m.done; m = cur.next()) {
    total++;
    if (m.value.from === sel.from && m.value.to === sel.to) current = total;
    if (total >= COUNT_LIMIT) return { total, current, capped: true };
  }
  return { total, current, capped: false };
}

/**
 * literalQuery is the SearchQuery for typed text: a regular expression
 * matching exactly that text (special characters escaped, "$" in the
 * replacement kept literal). CodeMirror's plain-text cursor compares the
 * text one character at a time (1.1 s to cross a 1,200,000-code-point
 * draft in Chromium); its regular-expression cursor lets the browser's
 * regex engine scan each line, about 40 times faster. The query is one
 * line, so matching line by line loses nothing.
 */
export function literalQuery({ search, caseSensitive = false, wholeWord = false, replace = '' }) {
  return new SearchQuery({
    search: search.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'),
    regexp: true,
    literal: true,
    caseSensitive,
    wholeWord,
    replace: replace.replace(/\$/g, '$$$$'),
  });
}

/** typedSearch is the text the user typed for query q (undoing literalQuery). */
export function typedSearch(q) {
  if (!q.regexp) return { search: q.search, replace: q.replace };
  return { search: q.search.replace(/\\(.)/g, '$1'), replace: q.replace.replace(/\$\$/g, '$') };
}

function panel(canReplace) {
  return (view) => {
    const q0 = getSearchQuery(view.state);
    const typed0 = typedSearch(q0);
    const field = h('input.search-field', { type: 'search', value: typed0.search, placeholder: 'Find in the draft', 'aria-label': 'Find', 'main-field': 'true', autocomplete: 'off', spellcheck: 'false' });
    const caseBox = h('input', { type: 'checkbox', checked: q0.caseSensitive, 'aria-label': 'Match case' });
    const wordBox = h('input', { type: 'checkbox', checked: q0.wholeWord, 'aria-label': 'Whole words' });
    const replaceField = h('input.replace-field', { type: 'text', value: typed0.replace, placeholder: 'Replace with', 'aria-label': 'Replace with', autocomplete: 'off' });
    const count = h('span.search-count', { role: 'status', 'aria-live': 'polite' });
    const prev = h('button.small', { type: 'button', title: 'Previous match (Shift+Enter)', 'aria-label': 'Previous match', on: { click: () => { commit(); findPrevious(view); } } }, '↑');
    const next = h('button.small', { type: 'button', title: 'Next match (Enter)', 'aria-label': 'Next match', on: { click: () => { commit(); findNext(view); } } }, '↓');
    const close = h('button.small.ghost', { type: 'button', title: 'Close (Esc)', 'aria-label': 'Close search', on: { click: () => closeSearchPanel(view) } }, '✕');
    const replaceRow = canReplace && !view.state.readOnly ? h('div.search-row',
      replaceField,
      h('button.small', { type: 'button', on: { click: () => { commit(); replaceNext(view); } } }, 'Replace'),
      h('button.small', { type: 'button', on: { click: () => { commit(); replaceAll(view); } } }, 'Replace all')) : null;
    const dom = h('div.search-panel', { role: 'search', on: { keydown: (ev) => {
      if (ev.key === 'Enter' && (ev.target === field || ev.target === replaceField)) {
        ev.preventDefault();
        commit();
        if (ev.target === replaceField) replaceNext(view);
        else if (ev.shiftKey) findPrevious(view);
        else findNext(view);
      } else if (ev.key === 'Escape') {
        ev.preventDefault();
        closeSearchPanel(view);
        view.focus();
      }
    } } },
      h('div.search-row', field, count, prev, next,
        h('label.check.search-opt', { title: 'Match upper and lower case exactly' }, caseBox, 'Aa'),
        h('label.check.search-opt', { title: 'Whole words only' }, wordBox, 'Word'),
        close),
      replaceRow);

    function query() {
      return literalQuery({ search: field.value, caseSensitive: caseBox.checked, wholeWord: wordBox.checked, replace: replaceField.value });
    }
    function commit() {
      const q = query();
      if (!q.eq(getSearchQuery(view.state))) view.dispatch({ effects: setSearchQuery.of(q) });
    }
    let pending = 0;
    function recount() {
      cancelAnimationFrame(pending);
      pending = requestAnimationFrame(() => {
        const q = getSearchQuery(view.state);
        if (!q.search) { count.textContent = ''; return; }
        const t0 = performance.now();
        const { total, current, capped } = countMatches(view.state, q);
        view.dom.dataset.searchMs = String(Math.round((performance.now() - t0) * 10) / 10);
        const n = capped ? `${total}+` : String(total);
        count.textContent = total === 0 ? 'no matches' : current ? `${current} of ${n}` : `${n} match${total === 1 ? '' : 'es'}`;
        count.dataset.total = String(total);
      });
    }
    // Typing a search moves to the first match after the cursor, as the
    // browser's own find does.
    // Each keystroke looks again from where the search started (not past
    // the current match), as the browser's own find does.
    let origin = view.state.selection.main.from;
    field.addEventListener('input', () => { commit(); if (field.value) goFirstFrom(origin); });
    field.addEventListener('focus', () => { origin = view.state.selection.main.from; });
    function goFirstFrom(pos) {
      const q = getSearchQuery(view.state);
      if (!q.valid) return;
      let m = q.getCursor(view.state, pos).next();
      if (m.done) m = q.getCursor(view.state, 0).next();
      if (m.done) return;
      const { from, to } = m.value;
      view.dispatch({ selection: { anchor: from, head: to }, effects: EditorView.scrollIntoView(from, { y: 'center' }), userEvent: 'select.search' });
    }
    for (const box of [caseBox, wordBox]) box.addEventListener('change', () => { commit(); if (field.value) goFirstFrom(origin); recount(); });
    replaceField.addEventListener('input', commit);
    return {
      dom,
      top: true,
      mount() { field.select(); setTimeout(commit, 0); recount(); }, // no dispatch while mounting
      update(u) {
        for (const tr of u.transactions) for (const e of tr.effects) {
          if (e.is(setSearchQuery) && !e.value.eq(query())) {
            const typed = typedSearch(e.value);
            field.value = typed.search; caseBox.checked = e.value.caseSensitive; wordBox.checked = e.value.wholeWord; replaceField.value = typed.replace;
          }
        }
        if (u.docChanged || u.selectionSet || u.transactions.some((tr) => tr.effects.some((e) => e.is(setSearchQuery)))) recount();
      },
      destroy() { cancelAnimationFrame(pending); },
    };
  };
}

/** searchExtension is the editor's search; canReplace adds replace (facilitators). */
export function searchExtension({ canReplace = false } = {}) {
  return [
    search({ top: true, literal: true, createPanel: panel(canReplace), scrollToMatch: (range) => EditorView.scrollIntoView(range, { y: 'center' }) }),
    keymap.of(searchKeymap),
  ];
}

/**
 * bindFindKey makes Ctrl+F (Cmd+F) open the editor's search from anywhere
 * on the page (the side panels included), not the browser's find, which
 * only sees the lines on screen. Returns the function that unbinds it.
 */
export function bindFindKey(getView) {
  const onKey = (ev) => {
    if (ev.defaultPrevented || !(ev.ctrlKey || ev.metaKey) || ev.altKey || ev.shiftKey || (ev.key !== 'f' && ev.key !== 'F')) return;
    const view = getView();
    if (!view || view.dom.closest('[hidden]')) return;
    ev.preventDefault();
    openSearchPanel(view);
  };
  window.addEventListener('keydown', onKey);
  return () => window.removeEventListener('keydown', onKey);
}

export { searchPanelOpen };

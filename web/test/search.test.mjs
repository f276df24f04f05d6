// The search panel's match count (web/src/search.js) needs no DOM.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EditorState, EditorSelection } from '@codemirror/state';
import { SearchQuery } from '@codemirror/search';
import { countMatches, COUNT_LIMIT } from '../src/search.js';

test('counts matches and says which one is selected', () => {
  const doc = 'The Parties shall act.\nParties shall, partiesshall.\nPARTIES';
  const at = doc.indexOf('Parties', 5);
  const state = EditorState.create({ doc, selection: EditorSelection.single(at, at + 7) });
  assert.deepEqual(countMatches(state, new SearchQuery({ search: 'parties' })), { total: 4, current: 2, capped: false });
  assert.deepEqual(countMatches(state, new SearchQuery({ search: 'Parties', caseSensitive: true })), { total: 2, current: 2, capped: false });
  assert.deepEqual(countMatches(state, new SearchQuery({ search: 'parties', wholeWord: true })), { total: 3, current: 2, capped: false });
  assert.equal(countMatches(state, new SearchQuery({ search: '' })).total, 0);
});

test('stops counting at COUNT_LIMIT', () => {
  const state = EditorState.create({ doc: 'a'.repeat(COUNT_LIMIT + 5) });
  const r = countMatches(state, new SearchQuery({ search: 'a' }));
  assert.equal(r.total, COUNT_LIMIT);
  assert.equal(r.capped, true);
});

test('typed text is searched literally, special characters and $ included', async () => {
  const { literalQuery, typedSearch } = await import('../src/search.js');
  const doc = 'a.b axb (x) [shall/should] $1 price A.B';
  const state = EditorState.create({ doc });
  for (const [typed, total] of [['a.b', 2], ['(x)', 1], ['[shall/should]', 1], ['$1', 1], ['\\', 0]]) {
    assert.equal(countMatches(state, literalQuery({ search: typed })).total, total, typed);
  }
  assert.equal(countMatches(state, literalQuery({ search: 'a.b', caseSensitive: true })).total, 1);
  const q = literalQuery({ search: 'a.b (x)', replace: 'cost $1 $&' });
  assert.deepEqual(typedSearch(q), { search: 'a.b (x)', replace: 'cost $1 $&' });
});

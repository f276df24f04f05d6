// The People tab's grouping (web/src/panel-people.js).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { groupPeople, TYPING_MS } from '../src/panel-people.js';

const now = 1_800_000_000_000;

test('190 delegations, grouped, typing first, searchable', () => {
  const people = [];
  for (let i = 0; i < 190; i++) {
    const d = 'D' + String(i).padStart(3, '0');
    people.push({ client: 'c' + i, by: { delegation: d, name: 'Delegate ' + i } });
    if (i % 10 === 0) people.push({ client: 'x' + i, by: { delegation: d, name: 'Adviser ' + i } });
  }
  people.push({ client: 'typer', by: { delegation: 'D150', name: 'Zoe' }, typedTs: now - 1000 });
  const groups = groupPeople(people, '', now);
  assert.equal(groups.length, 190);
  assert.equal(groups[0].delegation, 'D150');
  assert.equal(groups[0].people[0].by.name, 'Zoe');
  assert.equal(groups[0].people[0].typing, true);
  assert.equal(groups[1].delegation, 'D000');
  assert.equal(groups[1].people.length, 2);
  assert.deepEqual(groupPeople(people, 'adviser 12', now).map((g) => g.delegation), ['D120']);
  assert.deepEqual(groupPeople(people, 'd01', now).map((g) => g.delegation).length, 10);
  // An edit older than TYPING_MS is not "typing now".
  const old = groupPeople([{ client: 'a', by: { delegation: 'CAN', name: 'Ana' }, typedTs: now - TYPING_MS - 1 }], '', now);
  assert.equal(old[0].typing, 0);
});

// Where a line stands, named as delegates cite it (web/src/place.js).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { placeOf } from '../src/place.js';

const chapter = `Chapter III. Means of implementation

The States Parties to this Agreement,
Recognizing the special needs of developing country Parties, [in particular the least developed countries,]
Have agreed as follows:

Article 1 Scope
1. This Chapter applies to [financial resources/the means of implementation].
2. Nothing in this Chapter shall [affect/prejudice] the rights of States Parties.

Article 2 – Financial resources
1. States Parties [shall/should] provide [new and additional] resources.
2 bis. Resources shall be [predictable/adequate].
3. The financial mechanism shall:
(a) operate under the guidance of the Conference;
(b) [ensure/provide] access
for all developing country Parties;
Article 17 of the Convention shall apply [mutatis mutandis].
第十七条 保护证人
1. 缔约国应当[促进/便利]转让技术。
المادة ١٧ حماية الشهود
2. تتعاون الدول الأطراف [على نحو وثيق/بشكل فعال].`;

function at(text, needle) {
  const lines = text.split('\n');
  const n = lines.findIndex((l) => l.includes(needle)) + 1;
  assert.ok(n > 0, needle);
  return placeOf((i) => lines[i - 1], n);
}

test('articles, paragraphs, suffixes and subparagraphs', () => {
  const cases = [
    ['Chapter III.', 'Chapter III'],
    ['[in particular the least', 'Chapter III'],
    ['Article 1 Scope', 'Article 1'],
    ['[financial resources/', 'Article 1, paragraph 1'],
    ['[affect/prejudice]', 'Article 1, paragraph 2'],
    ['[shall/should]', 'Article 2, paragraph 1'],
    ['[predictable/adequate]', 'Article 2, paragraph 2 bis'],
    ['(a) operate', 'Article 2, paragraph 3 (a)'],
    ['[ensure/provide]', 'Article 2, paragraph 3 (b)'],
    ['for all developing', 'Article 2, paragraph 3 (b)'], // a subparagraph continued on the next line
    ['[mutatis mutandis]', 'Article 2, paragraph 3 (b)'], // a sentence starting "Article 17 of" is no heading
    ['[促进/便利]', '第十七条, paragraph 1'],
    ['[على نحو وثيق', 'Article ١٧, paragraph 2'],
  ];
  for (const [needle, want] of cases) assert.equal(at(chapter, needle), want, needle);
});

test('without headings: the paragraph number, or nothing', () => {
  assert.equal(at('1. The Parties [shall/may] act.\n2. Each Party [shall] report.', '[shall]'), 'Paragraph 2');
  assert.equal(at('1. The Parties shall:\n(c) [act/react];', '[act/react]'), 'Paragraph 1 (c)');
  assert.equal(at('Preamble.\n\nThe Parties shall act in [good faith].', '[good faith]'), '');
  assert.equal(at('PP3. Recalling [its resolution/the resolution] 74/247,', 'Recalling'), 'Preambular paragraph 3');
});

test('a heading far above is not looked for', () => {
  const lines = ['Article 9 Far', ...Array.from({ length: 1000 }, (_, i) => `line ${i}`), '[x/y]'];
  assert.equal(placeOf((i) => lines[i - 1], lines.length), '');
});

test('a resolution told in words, not by the group id', async () => {
  const { resolvedNotice } = await import('../src/panel-brackets.js');
  const alts = [{ text: 'shall' }, { text: 'should' }];
  assert.equal(resolvedNotice('Article 2, paragraph 1', alts, { choice: 'choose', index: 1 }), 'Article 2, paragraph 1: “should” kept, brackets removed.');
  assert.equal(resolvedNotice('', [{ text: 'new' }], { choice: 'drop' }), 'The optional text dropped, brackets removed.');
  assert.equal(resolvedNotice('Paragraph 3', alts, { choice: 'compromise', text: 'x'.repeat(80) }), `Paragraph 3: replaced by “${'x'.repeat(59)}…”, brackets removed.`);
  assert.equal(resolvedNotice('Article 1', [{ text: '' }, { text: 'a' }], { choice: 'choose', index: 0 }), 'Article 1: the empty alternative kept, brackets removed.');
});

test('agreeing text with a bracket: the refusal in words, and the bracket to select', async () => {
  const { statusRefusal } = await import('../src/panel-provisions.js');
  assert.deepEqual(statusRefusal('paragraph 2 bis of article 2 holds the open bracket group b0.98 at [98,117); resolve it before agreeing the text'),
    { text: 'Paragraph 2 bis of article 2 holds an open bracket (selected in the draft); resolve it before agreeing the text', span: [98, 117] });
  assert.deepEqual(statusRefusal('only a facilitator sets a provision\'s status; a drafter may not'), { text: 'Only a facilitator sets a provision\'s status; a drafter may not', span: null });
  assert.deepEqual(statusRefusal(''), { text: 'Could not set the status.', span: null });
});

test('the brackets panel filters groups by proposer and words', async () => {
  const { filterGroups, proposingDelegations } = await import('../src/panel-brackets.js');
  const alt = (text, delegation) => ({ text, span: [0, 0], by: { delegation, name: 'x' }, source: 'bracket' });
  const groups = [
    { id: 'b0.1', alternatives: [alt('shall', 'EGY'), alt('should', 'CAN')] },
    { id: 'b0.2', alternatives: [alt('and\\/or', 'USA')] },
    { id: 'b0.3', alternatives: [alt('Financial', 'CAN')] },
  ];
  assert.deepEqual(proposingDelegations(groups), ['CAN', 'EGY', 'USA']);
  assert.equal(filterGroups(groups, '', '  '), groups);
  assert.deepEqual(filterGroups(groups, 'CAN', '').map((g) => g.id), ['b0.1', 'b0.3']);
  assert.deepEqual(filterGroups(groups, '', 'FINAN').map((g) => g.id), ['b0.3']);
  assert.deepEqual(filterGroups(groups, '', 'and/or').map((g) => g.id), ['b0.2'], 'escapes are read');
  assert.deepEqual(filterGroups(groups, 'EGY', 'should').map((g) => g.id), [], 'one alternative must match both');
});

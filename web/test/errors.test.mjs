// Error sentences (web/src/errors.js).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sentence, detailOf } from '../src/errors.js';

const codes = ['bad_request', 'unauthorized', 'forbidden', 'not_found', 'bad_op', 'rev_ahead', 'too_large', 'rate_limited', 'internal', 'exists', 'conflict', 'unavailable', 'not_clean'];

test('every protocol code has its own sentence without the raw message', () => {
  const seen = new Set();
  for (const code of codes) {
    const s = sentence({ code, message: 'draft ids are 1-128 of A-Z, got "art 5 / bad"' });
    assert.ok(!s.includes('A-Z') && !(code.includes('_') && s.includes(code)), s);
    assert.ok(/^[A-Z].*\.$/.test(s), s);
    seen.add(s);
  }
  assert.equal(seen.size, codes.length);
});

test('the detail keeps the server words and the code', () => {
  const err = { code: 'bad_request', status: 400, message: 'draft ids are 1-128 of A-Z, got "art 5 / bad"' };
  assert.equal(detailOf(err), 'draft ids are 1-128 of A-Z, got "art 5 / bad" (code bad_request, HTTP 400)');
  assert.equal(sentence(err, 'create the draft'), 'Could not create the draft. The server could not accept this request as it was made.');
  assert.match(sentence({ status: 0, code: 'unavailable_x' }), /cannot be reached/);
});

test('a panel failure says what kind it is', async () => {
  const { failureSentence } = await import('../src/errors.js');
  const { ShapeError, readTimeline } = await import('../src/shapes.js');
  assert.equal(failureSentence({ code: 'not_found', status: 404, message: 'no draft art-9' }, 'timeline'), 'There is no such draft.');
  assert.equal(failureSentence({ code: 'not_found', message: 'no such draft' }, 'bracket listing'), 'There is no such draft.', 'over the WebSocket too');
  assert.equal(failureSentence({ code: 'internal', status: 500 }, 'timeline', true), 'There is no such draft.', 'the session knows');
  for (const status of [404, 405, 501]) {
    const s = failureSentence({ code: 'not_found', status, message: 'no such endpoint: GET /api/docs/d/history' }, 'timeline');
    assert.match(s, new RegExp(`did not answer the request for the timeline \\(HTTP ${status}\\)\\. It is asked again`));
  }
  let shape;
  try { readTimeline({ rev: 1, next: 0, items: [] }); } catch (e) { shape = e; }
  assert.ok(shape instanceof ShapeError);
  assert.equal(failureSentence(shape, 'timeline'), 'Could not show the timeline: unexpected timeline from the server: entries is missing.');
  assert.equal(failureSentence({ code: 'forbidden', status: 403 }, 'timeline'), 'Could not load the timeline. Your role does not allow this. A facilitator can do it, or give you access.');
});

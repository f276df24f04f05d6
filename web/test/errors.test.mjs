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

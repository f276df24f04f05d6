// check-replies.mjs FILE reads the server's replies saved in FILE
// ([{reader, path, body}], written by web/replies_test.go) with the readers
// of src/shapes.js, and fails naming each reply that does not read. Run by
// `go test ./web/ -run TestReadersReadTheServersReplies`.
import { readFileSync } from 'node:fs';
import * as shapes from './src/shapes.js';

const replies = JSON.parse(readFileSync(process.argv[2], 'utf8'));
let failed = 0;
for (const { reader, path, body } of replies) {
  const read = shapes[reader];
  if (typeof read !== 'function') { console.error(`${path}: no reader ${reader} in shapes.js`); failed++; continue; }
  try {
    read(body);
  } catch (e) {
    console.error(`${path}: ${reader}: ${e.message}`);
    failed++;
  }
}
console.log(`${replies.length - failed} of ${replies.length} replies read by their readers`);
process.exit(failed ? 1 : 0);

// Framing: newline-delimited JSON arriving in chunks of any size.
import assert from "node:assert/strict";
import { test } from "node:test";

import { LineDecoder } from "../dist/src/index.js";

test("a message split over several chunks comes out whole, once", () => {
  const d = new LineDecoder();
  assert.deepEqual(d.push('{"jsonrpc":"2.0",'), []);
  assert.deepEqual(d.push('"id":1,'), []);
  assert.deepEqual(d.push('"result":null}\n'), ['{"jsonrpc":"2.0","id":1,"result":null}']);
  assert.equal(d.end(), undefined);
});

test("several messages in one chunk come out in order, the partial rest kept", () => {
  const d = new LineDecoder();
  assert.deepEqual(d.push('{"id":1}\n{"id":2}\n{"id"'), ['{"id":1}', '{"id":2}']);
  assert.deepEqual(d.push(":3}\n"), ['{"id":3}']);
});

test("a UTF-8 character split between chunks is decoded whole", () => {
  const bytes = Buffer.from('{"message":"résumé ✓ 🚀"}\n', "utf8");
  for (let cut = 1; cut < bytes.length; cut++) {
    const d = new LineDecoder();
    const lines = [...d.push(bytes.subarray(0, cut)), ...d.push(bytes.subarray(cut))];
    assert.deepEqual(lines, ['{"message":"résumé ✓ 🚀"}'], `cut at byte ${cut}`);
  }
});

test("one byte at a time, empty lines, CRLF and an unterminated tail", () => {
  const d = new LineDecoder();
  const lines = [];
  for (const b of Buffer.from('{"a":1}\r\n\n{"b":"ü"}\n{"c"'))
    lines.push(...d.push(Buffer.from([b])));
  assert.deepEqual(lines, ['{"a":1}', "", '{"b":"ü"}']);
  assert.equal(d.end(), '{"c"');
  assert.equal(d.end(), undefined);
});

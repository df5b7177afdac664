// CapmClient against a stand-in server (test/helpers/fake-server.mjs) answering what real capm
// does not: malformed answers, an `"id": null` error, a slow start, a string protocol version,
// no answer to a cancellation; and callbacks of the app that throw.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

import {
  CapmClient,
  CapmIncompatibleError,
  CapmProtocolError,
  CapmRpcError,
  CapmServerExitedError,
  CapmTimeoutError,
} from "../dist/src/index.js";
import { rejection } from "./helpers/support.mjs";

const HELPERS = join(dirname(fileURLToPath(import.meta.url)), "helpers");
const FAKE = join(HELPERS, "fake-server.mjs");

function fake(t, args, options = {}) {
  const c = new CapmClient({ command: process.execPath, args: [FAKE, ...args], ...options });
  t.after(() => c.close(500));
  return c;
}

test(
  "callbacks that throw reach the app, and the answers of the same chunk still arrive",
  { timeout: 60_000 },
  () => {
    const out = execFileSync(process.execPath, [join(HELPERS, "throwing-callbacks.mjs")], {
      encoding: "utf8",
      timeout: 30_000,
    });
    const seen = JSON.parse(out);
    assert.equal(seen.plan.ok?.echo?.operation, "install", JSON.stringify(seen.plan));
    assert.ok(seen.next.ok, JSON.stringify(seen.next));
    assert.deepEqual(seen.stderr.slice(0, 2), ["working", "still working"]);
    assert.ok(seen.uncaught.includes("onProgress bug"), JSON.stringify(seen.uncaught));
    assert.ok(seen.uncaught.includes("onStderr bug: still working"), JSON.stringify(seen.uncaught));
  },
);

test(
  "an answer with neither result nor error, or a null error, rejects CapmProtocolError",
  { timeout: 60_000 },
  async (t) => {
    for (const kind of ["no-result", "error-null"]) {
      const c = fake(t, ["--answer", kind], { timeoutMs: 5_000 });
      const start = Date.now();
      const error = await rejection(c.explain({ code: "usage" }));
      assert.ok(error instanceof CapmProtocolError, `${kind}: ${error}`);
      assert.match(error.message, /not a JSON-RPC response/);
      assert.ok(Date.now() - start < 4_000, `${kind}: not at its timeout`);
    }
  },
);

test(
  "an error answer with a null id rejects the oldest request unanswered, at once",
  { timeout: 60_000 },
  async (t) => {
    const c = fake(t, ["--answer", "null-id-first"], { timeoutMs: 5_000 });
    const start = Date.now();
    const first = rejection(c.explain({ code: "first" }));
    const second = c.explain({ code: "second" });
    const error = await first;
    assert.ok(error instanceof CapmRpcError, String(error));
    assert.equal(error.code, -32700);
    assert.deepEqual((await second).echo, { code: "second" });
    assert.ok(Date.now() - start < 4_000, "not at its timeout");
  },
);

test("a string protocol version is incompatible, and says why", { timeout: 60_000 }, async (t) => {
  const c = fake(t, ["--version-string"]);
  const error = await rejection(c.start());
  assert.ok(error instanceof CapmIncompatibleError, String(error));
  assert.equal(error.protocolVersion, "1");
  assert.match(error.message, /protocol version "1", not an integer/);
});

test(
  "a slow start rejects start() and its calls, and the next call starts capm again",
  { timeout: 60_000 },
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), "capm-client-test-"));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const c = fake(t, ["--slow-start-once", join(dir, "started")], { startTimeoutMs: 300 });
    const waiting = rejection(c.explain({ code: "usage" }));
    const error = await rejection(c.start());
    assert.ok(error instanceof CapmTimeoutError, String(error));
    assert.equal(error.method, "initialize");
    const call = await waiting;
    assert.ok(call instanceof CapmServerExitedError, String(call));
    assert.match(call.message, /did not start/);
    assert.deepEqual((await c.explain({ code: "usage" })).echo, { code: "usage" });
    assert.equal(c.restarts, 0);
  },
);

test(
  "a timed-out request capm never answers rejects with an unknown outcome after the grace",
  { timeout: 60_000 },
  async (t) => {
    const c = fake(t, ["--silent"], { cancelGraceMs: 300 });
    await c.start();
    const start = Date.now();
    const error = await rejection(
      c.apply({ project: ".", operation: "install", fingerprint: "x" }, { timeoutMs: 200 }),
    );
    assert.ok(error instanceof CapmTimeoutError, String(error));
    assert.equal(error.outcome, "unknown");
    assert.equal(error.timeoutMs, 200);
    assert.match(error.message, /whether it was done is unknown.*status/);
    assert.ok(Date.now() - start >= 480, `rejected after ${Date.now() - start} ms`);
  },
);

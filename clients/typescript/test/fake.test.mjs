// CapmClient against a stand-in server (test/helpers/fake-server.mjs) that misbehaves on purpose:
// an unknown protocol version, answers cut into odd chunks, a server that never answers.
import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

import {
  CapmCancelledError,
  CapmClient,
  CapmIncompatibleError,
  CapmServerExitedError,
  CapmTimeoutError,
} from "../dist/src/index.js";

const FAKE = join(dirname(fileURLToPath(import.meta.url)), "helpers", "fake-server.mjs");

function alive(pid) {
  try {
    return process.kill(pid, 0);
  } catch {
    return false;
  }
}

async function waitFor(condition) {
  for (let i = 0; i < 200 && !condition(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(condition(), "in time");
}

function fake(t, ...args) {
  const c = new CapmClient({ command: process.execPath, args: [FAKE, ...args] });
  t.after(() => c.close());
  return c;
}

test(
  "a server of an unknown protocol version is refused and stopped",
  { timeout: 60_000 },
  async (t) => {
    const c = fake(t, "--version", "2");
    const pending = c.explain({ code: "usage" });
    const pid = c.pid;
    const error = await c.start().then(
      () => assert.fail("started"),
      (e) => e,
    );
    assert.ok(error instanceof CapmIncompatibleError, String(error));
    assert.equal(error.protocolVersion, 2);
    await assert.rejects(pending, CapmIncompatibleError);
    await assert.rejects(c.explain({ code: "usage" }), CapmIncompatibleError);
    assert.equal(c.restarts, 0);
    await waitFor(() => !alive(pid));
    assert.equal(c.pid, undefined);
  },
);

test(
  "answers cut anywhere and several in a chunk are matched to their requests",
  { timeout: 60_000 },
  async (t) => {
    const c = fake(t, "--chunky");
    await c.start();
    const calls = Array.from(
      { length: 300 },
      (_, i) => c.call("explain", { code: `code-${i}` }).result,
    );
    const answers = await Promise.all(calls);
    answers.forEach((a, i) => {
      assert.deepEqual(a.echo, { code: `code-${i}` });
      assert.equal(a.unicode, "résumé ✓ 🚀");
    });
  },
);

test(
  "a timeout rejects after the time given, per call or by default",
  { timeout: 60_000 },
  async (t) => {
    const c = new CapmClient({
      command: process.execPath,
      args: [FAKE, "--silent"],
      timeoutMs: 300,
      cancelGraceMs: 100,
    });
    t.after(() => c.close(500));
    await c.start();
    const start = Date.now();
    await assert.rejects(
      c.explain({ code: "usage" }),
      (e) => e instanceof CapmTimeoutError && e.timeoutMs === 300,
    );
    assert.ok(Date.now() - start >= 290);
    await assert.rejects(
      c.explain({ code: "usage" }, { timeoutMs: 50 }),
      (e) => e.timeoutMs === 50,
    );
  },
);

test(
  "a signal aborted before the call rejects at once, sending nothing",
  { timeout: 60_000 },
  async (t) => {
    const c = fake(t);
    await c.start();
    const error = await c
      .explain({ code: "usage" }, { signal: AbortSignal.abort() })
      .catch((e) => e);
    assert.ok(error instanceof CapmCancelledError, String(error));
    assert.deepEqual((await c.explain({ code: "usage" })).echo, { code: "usage" });
  },
);

test(
  "a binary that cannot be started rejects the calls at once",
  { timeout: 60_000 },
  async (t) => {
    const c = new CapmClient({ command: join(dirname(FAKE), "no-such-capm") });
    t.after(() => c.close());
    const [started, call] = await Promise.allSettled([c.start(), c.explain({ code: "usage" })]);
    for (const r of [started, call]) {
      assert.ok(r.reason instanceof CapmServerExitedError, String(r.reason));
      assert.match(r.reason.message, /could not be started.*ENOENT/);
    }
    assert.equal(c.restarts, 0);
  },
);

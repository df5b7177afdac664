// Timeouts, restarts, `shutdown` and `close()` against the real capm binary: what a request
// that timed out became, the progress of a request sent again, a client closed by the user.
import assert from "node:assert/strict";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";

import {
  CapmCancelledError,
  CapmClient,
  CapmRequestError,
  CapmServerExitedError,
} from "../dist/src/index.js";
import { CAPM_BIN, client, rejection, sandbox, since, slowRegistry } from "./helpers/support.mjs";

test(
  "an apply answered after its timeout resolves with its result: it was done",
  { timeout: 60_000 },
  async (t) => {
    const box = sandbox(t);
    await slowRegistry(t, box, 0);
    // The registry as a directory: capm needs nothing of this (busy) process to apply.
    const toml = `[bundles]\nkit = { version = "^1", registry = "team" }\n\n[registries]\nteam = { path = "${join(box.dir, "reg")}" }\n`;
    writeFileSync(join(box.project, "capm.toml"), toml);
    const c = await client(t, box);
    const request = { project: box.project, operation: "install" };
    const plan = await c.plan(request);
    const applied = c.apply({ ...request, fingerprint: plan.fingerprint }, { timeoutMs: 300 });
    const busy = Date.now() + 3_000;
    while (Date.now() < busy); // the app is busy: the timeout expires after capm answered
    const result = await applied;
    assert.equal(result.outcome, "applied");
    assert.ok(existsSync(join(box.project, "capm.lock")));
  },
);

test(
  "a client whose per-request timeout is shorter than capm's start still starts",
  { timeout: 60_000 },
  async (t) => {
    const box = sandbox(t);
    const c = await client(t, box, { timeoutMs: 5 });
    assert.equal(c.server.protocol_version, 1);
    const explained = await c.explain({ code: "plan-stale" }, { timeoutMs: 10_000 });
    assert.equal(explained.code, "plan-stale");
  },
);

test(
  "the progress of a request sent again after a restart is marked as its second attempt",
  { timeout: 60_000 },
  async (t) => {
    const box = sandbox(t);
    const registry = await slowRegistry(t, box, 300);
    const c = await client(t, box);
    const seen = [];
    const fetching = registry.next();
    const call = c.call(
      "plan",
      { project: box.project, operation: "install" },
      { onProgress: (e) => seen.push(e) },
    );
    const streamed = (async () => {
      const events = [];
      for await (const e of call.progress) events.push(e);
      return events;
    })();
    await fetching;
    process.kill(c.pid, "SIGKILL");
    await call.result;
    assert.equal(c.restarts, 1);
    const attempts = seen.map((e) => e.attempt);
    assert.ok(attempts.includes(2), JSON.stringify(seen));
    assert.deepEqual(attempts, [...attempts].sort(), "attempts in order");
    assert.ok(
      attempts.every((a) => a === 1 || a === 2),
      JSON.stringify(attempts),
    );
    const second = seen.filter((e) => e.attempt === 2).map((e) => e.stage);
    assert.equal(second.at(-1), "plan", JSON.stringify(second));
    assert.deepEqual(await streamed, seen);
  },
);

test(
  "after the user's own shutdown the client is closed, and not restarted",
  { timeout: 60_000 },
  async (t) => {
    const box = sandbox(t);
    const c = await client(t, box);
    const bye = c.call("shutdown", undefined).result;
    const behind = rejection(c.explain({ code: "usage" }));
    assert.equal(await bye, null);
    const error = await behind;
    assert.ok(error instanceof CapmServerExitedError, String(error));
    for (let i = 0; i < 200 && c.pid !== undefined; i++)
      await new Promise((r) => setTimeout(r, 10));
    assert.equal(c.pid, undefined);
    await assert.rejects(c.explain({ code: "usage" }), CapmServerExitedError);
    assert.equal(c.restarts, 0);
    assert.equal(c.pid, undefined);
  },
);

test(
  "close() cancels a request still running after its grace, before it kills capm",
  { timeout: 60_000 },
  async (t) => {
    const box = sandbox(t);
    const registry = await slowRegistry(t, box, 20_000);
    const c = new CapmClient({ command: CAPM_BIN, cwd: box.project, env: box.env });
    await c.start();
    const fetching = registry.next();
    const planned = rejection(c.plan({ project: box.project, operation: "install" }));
    await fetching;
    const start = process.hrtime.bigint();
    await c.close(200);
    assert.ok(since(start) < 5_000, `closed after ${since(start)} ms`);
    const error = await planned;
    // capm answered the cancellation: it was not killed mid-request.
    assert.ok(error instanceof CapmCancelledError, String(error));
  },
);

test(
  "a request capm could not read is refused before it is sent, and the next is answered",
  { timeout: 60_000 },
  async (t) => {
    const box = sandbox(t);
    const c = await client(t, box, { timeoutMs: 10_000 });
    const start = process.hrtime.bigint();
    const surrogate = await rejection(c.validate({ path: "bad\ud800name" }));
    assert.ok(surrogate instanceof CapmRequestError, String(surrogate));
    assert.equal(surrogate.reason, "lone-surrogate");
    const large = await rejection(c.explain({ code: "x".repeat(17 * 1024 * 1024) }));
    assert.ok(large instanceof CapmRequestError, String(large));
    assert.equal(large.reason, "too-large");
    assert.match(large.message, /capm reads at most 16777216/);
    assert.equal((await c.explain({ code: "usage" })).code, "usage");
    assert.ok(since(start) < 5_000, `${since(start)} ms`);
    // A pair of surrogates is a character like any other.
    assert.equal((await c.explain({ code: "usage 🚀" }).catch((e) => e)).name, "CapmRpcError");
  },
);

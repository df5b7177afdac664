// Cancelling, timing out and crashing, against the real capm binary and a registry on
// 127.0.0.1 that answers slowly.
import assert from "node:assert/strict";
import { test } from "node:test";

import { CapmCancelledError, CapmServerExitedError, CapmTimeoutError } from "../dist/src/index.js";
import { client, files, sandbox, since, slowRegistry } from "./helpers/support.mjs";

const SLOW_MS = 20_000;

/** The plan of the project's `kit`, from the slow registry. */
function planKit(c, box, options) {
  return c.plan({ project: box.project, operation: "install" }, options);
}

test(
  "an aborted plan rejects CapmCancelledError long before the registry answers",
  { timeout: 60_000 },
  async (t) => {
    const box = sandbox(t);
    const registry = await slowRegistry(t, box, SLOW_MS);
    const c = await client(t, box);
    const controller = new AbortController();
    const fetching = registry.next();
    const start = process.hrtime.bigint();
    const planned = planKit(c, box, { signal: controller.signal });
    await fetching;
    controller.abort();
    const error = await planned.then(
      () => assert.fail("planned"),
      (e) => e,
    );
    assert.ok(error instanceof CapmCancelledError, String(error));
    assert.ok(since(start) < 5_000, `cancelled after ${since(start)} ms`);
    const explained = await c.explain({ code: "plan-stale" }, { timeoutMs: 5_000 });
    assert.equal(explained.code, "plan-stale");
    assert.equal(c.restarts, 0);
    assert.deepEqual(files(box.project), ["capm.toml"]);
  },
);

test(
  "a request past its timeout is cancelled, and rejects CapmTimeoutError once capm confirms",
  { timeout: 60_000 },
  async (t) => {
    const box = sandbox(t);
    const registry = await slowRegistry(t, box, SLOW_MS);
    const c = await client(t, box);
    const fetching = registry.next();
    const start = process.hrtime.bigint();
    const error = await planKit(c, box, { timeoutMs: 500 }).then(
      () => assert.fail("planned"),
      (e) => e,
    );
    assert.ok(error instanceof CapmTimeoutError, String(error));
    assert.equal(error.timeoutMs, 500);
    // capm confirmed the cancellation: the outcome is known.
    assert.equal(error.outcome, "cancelled");
    assert.match(error.message, /cancelled, and nothing of it was applied/);
    assert.ok(since(start) >= 500 && since(start) < 5_000, `${since(start)} ms`);
    await fetching;
    // The server stopped the plan: the next call is answered at once, not after the registry.
    const explained = await c.explain({ code: "usage" }, { timeoutMs: 5_000 });
    assert.equal(explained.code, "usage");
  },
);

test(
  "capm killed mid-request is restarted and the request answered",
  { timeout: 60_000 },
  async (t) => {
    const box = sandbox(t);
    const registry = await slowRegistry(t, box, 200);
    const c = await client(t, box);
    const first = c.pid;
    const fetching = registry.next();
    const planned = planKit(c, box);
    await fetching;
    process.kill(first, "SIGKILL");
    const plan = await planned;
    assert.equal(plan.schema, "capm.plan/v1");
    assert.ok(
      plan.bundles.some((b) => b.name === "kit"),
      JSON.stringify(plan.bundles),
    );
    assert.equal(c.restarts, 1);
    assert.notEqual(c.pid, first);
    assert.equal((await c.explain({ code: "usage" })).code, "usage");
  },
);

test(
  "a request that sees capm die twice rejects CapmServerExitedError",
  { timeout: 60_000 },
  async (t) => {
    const box = sandbox(t);
    const registry = await slowRegistry(t, box, 200);
    const c = await client(t, box);
    let fetching = registry.next();
    const planned = planKit(c, box);
    await fetching;
    fetching = registry.next();
    process.kill(c.pid, "SIGKILL");
    await fetching;
    process.kill(c.pid, "SIGKILL");
    const error = await planned.then(
      () => assert.fail("planned"),
      (e) => e,
    );
    assert.ok(error instanceof CapmServerExitedError, String(error));
    assert.equal(error.signal, "SIGKILL");
    assert.equal(c.restarts, 1);
    // The next call starts capm again.
    assert.equal((await c.explain({ code: "usage" })).code, "usage");
    assert.equal(c.restarts, 2);
  },
);

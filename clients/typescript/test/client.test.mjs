// CapmClient against the real capm binary: a plan and its apply with progress, a stale
// fingerprint, refusals and errors, 1,000 requests at once, and close().
import assert from "node:assert/strict";
import { realpathSync } from "node:fs";
import { test } from "node:test";

import { CapmRefusedError, CapmRpcError, CapmServerExitedError } from "../dist/src/index.js";
import { client, files, sandbox } from "./helpers/support.mjs";

const STAGES = ["fetch", "lock", "plan", "stage", "commit", "clean-up"];

/** Checks `events` go through the stages in order, each stage's counts never going back. */
function assertStages(events, expected) {
  const seen = [...new Set(events.map((e) => e.stage))];
  assert.deepEqual(seen, expected, JSON.stringify(events));
  const order = events.map((e) => STAGES.indexOf(e.stage));
  assert.deepEqual(
    order,
    [...order].sort((a, b) => a - b),
    "stages come in order, each once",
  );
  for (const stage of seen) {
    const of = events.filter((e) => e.stage === stage);
    for (let i = 1; i < of.length; i++)
      assert.ok(of[i].done >= of[i - 1].done, `${stage} counts go up`);
    for (const e of of)
      if (e.total !== undefined) assert.ok(e.done <= e.total, `${stage}: done <= total`);
  }
}

/** Runs `method` and returns its result and the progress seen before it, both ways. */
async function withProgress(c, method, params) {
  const log = [];
  const call = c.call(method, params, { onProgress: (e) => log.push(e) });
  const iterated = [];
  const iterating = (async () => {
    for await (const e of call.progress) iterated.push(e);
  })();
  const result = await call.result;
  const before = log.length;
  await iterating;
  assert.deepEqual(iterated, log, "the iterator and the callback see the same notifications");
  assert.equal(before, log.length, "every notification came before the result");
  for (const e of log) assert.equal(e.token, call.id);
  return { result, events: log };
}

test(
  "plan then apply that plan, with progress in order before each result",
  { timeout: 60_000 },
  async (t) => {
    const box = sandbox(t);
    const c = await client(t, box, { client: { name: "capm-client-tests" } });
    assert.equal(c.server.protocol_version, 1);
    assert.equal(c.server.project, realpathSync(box.project));
    const request = { project: box.project, operation: "install", bundles: ["time"] };
    const plan = await withProgress(c, "plan", request);
    assert.equal(plan.result.schema, "capm.plan/v1");
    assert.equal(plan.result.status, "ready");
    assertStages(plan.events, ["plan"]);
    assert.deepEqual(files(box.project), ["capm.toml"], "planning wrote nothing");
    const apply = await withProgress(c, "apply", {
      ...request,
      fingerprint: plan.result.fingerprint,
    });
    assert.equal(apply.result.outcome, "applied");
    assert.equal(apply.result.plan.fingerprint, plan.result.fingerprint);
    assertStages(apply.events, ["lock", "plan", "stage", "commit", "clean-up"]);
    const staged = apply.events.filter((e) => e.stage === "stage");
    assert.equal(staged.at(-1).done, staged.at(-1).total, "every change staged");
    const committed = apply.events.filter((e) => e.stage === "commit");
    assert.equal(committed.at(-1).done, committed.at(-1).total, "every change committed");
    assert.ok(files(box.project).includes("opencode.json"));
    const status = await c.status({ project: box.project });
    assert.equal(status.healthy, true);
    assert.ok(status.resources.some((r) => r.id === "mcp:time" && r.status === "ok"));
  },
);

test(
  "list, outdated, info, search and doctor answer the CLI's documents",
  { timeout: 60_000 },
  async (t) => {
    const box = sandbox(t);
    const c = await client(t, box);
    const request = { project: box.project, operation: "install", bundles: ["time"] };
    const plan = await c.plan(request);
    await c.apply({ ...request, fingerprint: plan.fingerprint });
    const list = await c.list({ project: box.project });
    assert.equal(list.schema, "capm.list/v1");
    assert.deepEqual(
      list.bundles.map((b) => b.name),
      ["time"],
    );
    assert.equal((await c.outdated({ project: box.project })).schema, "capm.outdated/v1");
    const info = await c.info({ bundle: "time", project: box.project });
    assert.equal(info.schema, "capm.info/v1");
    assert.equal(info.name, "time");
    const search = await c.search({ query: "time" });
    assert.ok(search.results.some((r) => r.name === "time"));
    const doctor = await c.doctor({ project: box.project });
    assert.equal(doctor.schema, "capm.doctor/v1");
    assert.equal(doctor.healthy, true);
    const error = await c.info({ bundle: "no-such-bundle" }).then(
      () => assert.fail("found"),
      (e) => e,
    );
    assert.ok(error instanceof CapmRefusedError, String(error));
    assert.equal(error.code, "bundle-not-found");
    assert.equal(error.exit, 1);
  },
);

test(
  "a stale fingerprint is refused as plan-stale, exit 1, and nothing is written",
  { timeout: 60_000 },
  async (t) => {
    const box = sandbox(t);
    const c = await client(t, box);
    const request = {
      project: box.project,
      operation: "install",
      bundles: ["time"],
      fingerprint: "sha256:0",
    };
    const error = await c.apply(request).then(
      () => assert.fail("applied"),
      (e) => e,
    );
    assert.ok(error instanceof CapmRefusedError, String(error));
    assert.equal(error.code, "plan-stale");
    assert.equal(error.exit, 1);
    assert.match(error.help, /plan again|compute the plan again/);
    assert.deepEqual(files(box.project), ["capm.toml"]);
  },
);

test("bad params are a CapmRpcError with the JSON-RPC code", { timeout: 60_000 }, async (t) => {
  const box = sandbox(t);
  const c = await client(t, box);
  const error = await c.explain({ code: "no-such-code" }).then(
    () => assert.fail("answered"),
    (e) => e,
  );
  assert.ok(error instanceof CapmRpcError, String(error));
  assert.equal(error.code, -32602);
  assert.match(error.message, /no-such-code/);
});

test(
  "1,000 requests at once are each answered with their own result",
  { timeout: 60_000 },
  async (t) => {
    const box = sandbox(t);
    const c = await client(t, box);
    const codes = [
      "plan-stale",
      "bundle-not-found",
      "locked",
      "usage",
      "no-project",
      "io",
      "URL-001",
      "MODE-001",
    ];
    const calls = [];
    for (let i = 0; i < 1000; i++) {
      if (i % 10 === 9) calls.push(c.status({ project: box.project }).then((r) => ["status", r]));
      else if (i % 10 === 8)
        calls.push(
          c.explain({ code: `missing-${i}` }).then(
            () => ["nope"],
            (e) => ["error", e, i],
          ),
        );
      else calls.push(c.explain({ code: codes[i % codes.length] }).then((r) => ["explain", r, i]));
    }
    const answers = await Promise.all(calls);
    for (const [i, [kind, value, n]] of answers.entries()) {
      if (i % 10 === 9) {
        assert.equal(kind, "status");
        assert.equal(value.schema, "capm.doctor/v1");
      } else if (i % 10 === 8) {
        assert.equal(kind, "error");
        assert.match(value.message, new RegExp(`missing-${n}`));
      } else {
        assert.equal(kind, "explain");
        assert.equal(value.code, codes[n % codes.length]);
      }
    }
  },
);

test("close() shuts the server down; later calls are refused", { timeout: 60_000 }, async (t) => {
  const box = sandbox(t);
  const lines = [];
  const c = await client(t, box, { onStderr: (l) => lines.push(l) });
  const pid = c.pid;
  assert.ok(pid > 0);
  await c.close();
  assert.equal(c.pid, undefined);
  assert.throws(() => process.kill(pid, 0), "the server exited");
  await assert.rejects(c.explain({ code: "usage" }), CapmServerExitedError);
  assert.equal(c.restarts, 0);
});

test("capm's stderr reaches onStderr line by line", { timeout: 60_000 }, async (t) => {
  const box = sandbox(t);
  const lines = [];
  const env = { ...box.env, CAPM_LOG: "capm=info" };
  const c = await client(t, { ...box, env }, { onStderr: (l) => lines.push(l) });
  await c.status({ project: box.project });
  await c.close();
  assert.ok(lines.length > 0);
  assert.ok(
    lines.some((l) => /reading `.*capm\.toml`/.test(l)),
    lines.join("\n"),
  );
  assert.ok(lines.every((l) => !l.includes("\n")));
});

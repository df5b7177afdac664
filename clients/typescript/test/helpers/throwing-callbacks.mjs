// Run by robust.test.mjs in a process of its own: callbacks that throw (an app's bug) against
// a stand-in server that writes a `$/progress` and its answer in one chunk, and two stderr
// lines in another. Prints what the calls and the app saw, as JSON.
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

import { CapmClient } from "../../dist/src/index.js";

const FAKE = join(dirname(fileURLToPath(import.meta.url)), "fake-server.mjs");
const uncaught = [];
process.on("uncaughtException", (e) => uncaught.push(e.message));
const stderr = [];
const c = new CapmClient({
  command: process.execPath,
  args: [FAKE, "--answer", "progress-batch"],
  timeoutMs: 5_000,
  onStderr: (line) => {
    stderr.push(line);
    throw new Error(`onStderr bug: ${line}`);
  },
});
const outcome = (p) =>
  p.then(
    (v) => ({ ok: v }),
    (e) => ({ error: e.name }),
  );
const plan = await outcome(
  c.plan(
    { project: ".", operation: "install" },
    {
      onProgress: () => {
        throw new Error("onProgress bug");
      },
    },
  ),
);
const next = await outcome(c.explain({ code: "usage" }));
await new Promise((r) => setTimeout(r, 100));
await c.close(1_000);
console.log(JSON.stringify({ plan, next, stderr, uncaught }));

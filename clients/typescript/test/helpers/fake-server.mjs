// A stand-in for `capm serve --stdio` in the tests that need a server misbehaving on purpose.
//   --version N   answer `initialize` with protocol_version N
//   --chunky      write answers in chunks cut anywhere, several answers in one chunk
//   --silent      never answer anything but `initialize`
//   --version-string     answer `initialize` with protocol_version "1", a string
//   --slow-start-once F  answer `initialize` after 3 s if file F does not exist (creating it)
//   --answer KIND        answer every other request with KIND: `no-result` (neither result nor
//                        error), `error-null` (`"error": null`), `null-id-first` (the first one
//                        with a parse error of `"id": null`), `progress-batch` (a `$/progress`
//                        and the answer in one write, after two lines on stderr)
import { existsSync, writeFileSync } from "node:fs";
import { createInterface } from "node:readline";

const args = process.argv.slice(2);
const option = (name) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const version = args.includes("--version-string") ? "1" : Number(option("--version") ?? 1);
const chunky = args.includes("--chunky");
const silent = args.includes("--silent");
const answer = option("--answer");
const slowStart = option("--slow-start-once");
let answered = 0;
/** The bytes not written yet: cut anywhere, a UTF-8 character included. */
let out = Buffer.alloc(0);

function send(message) {
  out = Buffer.concat([out, Buffer.from(`${JSON.stringify(message)}\n`, "utf8")]);
  if (!chunky) return flush(out.length);
  // Send a random part now, the rest a little later, with the answers written meanwhile.
  setTimeout(() => flush(Math.floor(Math.random() * out.length)), 1);
  setTimeout(() => flush(out.length), 5);
}

function flush(n) {
  process.stdout.write(out.subarray(0, n));
  out = out.subarray(n);
}

createInterface({ input: process.stdin })
  .on("line", (line) => {
    const { id, method, params } = JSON.parse(line);
    if (method === "initialize") {
      const delay = slowStart && !existsSync(slowStart) ? 3_000 : 0;
      if (slowStart) writeFileSync(slowStart, "");
      setTimeout(() => initialized(id), delay);
    } else if (method === "shutdown") {
      send({ jsonrpc: "2.0", id, result: null });
      flush(out.length);
      process.exit(0);
    } else if (id !== undefined && answer !== undefined) {
      misbehave(id, params);
    } else if (id !== undefined && !silent) {
      send({ jsonrpc: "2.0", id, result: { echo: params, unicode: "résumé ✓ 🚀" } });
    }
  })
  .on("close", () => {
    flush(out.length);
    process.exit(0);
  });

function initialized(id) {
  send({
    jsonrpc: "2.0",
    id,
    result: {
      schema: "capm.initialize/v1",
      name: "capm",
      version: "0.0.0",
      protocol_version: version,
    },
  });
}

/** The answer to request `id` the `--answer` option asks for. */
function misbehave(id, params) {
  const ok = { jsonrpc: "2.0", id, result: { echo: params } };
  if (answer === "no-result") send({ jsonrpc: "2.0", id });
  else if (answer === "error-null") send({ jsonrpc: "2.0", id, error: null });
  else if (answer === "null-id-first" && answered++ === 0)
    send({ jsonrpc: "2.0", id: null, error: { code: -32700, message: "parse error: bad line" } });
  else if (answer === "progress-batch") {
    const token = params?.progress_token ?? id;
    const progress = { token, stage: "plan", done: 0, total: 1 };
    const lines = [{ jsonrpc: "2.0", method: "$/progress", params: progress }, ok];
    process.stderr.write("working\nstill working\n");
    process.stdout.write(lines.map((m) => `${JSON.stringify(m)}\n`).join(""));
  } else send(ok);
}

// A stand-in for `capm serve --stdio` in the tests that need a server misbehaving on purpose.
//   --version N   answer `initialize` with protocol_version N
//   --chunky      write answers in chunks cut anywhere, several answers in one chunk
//   --silent      never answer anything but `initialize`
import { createInterface } from "node:readline";

const args = process.argv.slice(2);
const version = args.includes("--version") ? Number(args[args.indexOf("--version") + 1]) : 1;
const chunky = args.includes("--chunky");
const silent = args.includes("--silent");
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
    } else if (method === "shutdown") {
      send({ jsonrpc: "2.0", id, result: null });
      flush(out.length);
      process.exit(0);
    } else if (id !== undefined && !silent) {
      send({ jsonrpc: "2.0", id, result: { echo: params, unicode: "résumé ✓ 🚀" } });
    }
  })
  .on("close", () => {
    flush(out.length);
    process.exit(0);
  });

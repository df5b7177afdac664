// Helpers of the tests: a sandbox (a temporary home, cache and config, and a `capm init`
// project), a client started in it against the real capm binary ($CAPM_BIN, else the
// repository's target/debug/capm), and a slow registry served on 127.0.0.1.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

import { CapmClient } from "../../dist/src/index.js";

const here = dirname(fileURLToPath(import.meta.url));
export const CAPM_BIN = process.env.CAPM_BIN ?? resolve(here, "../../../../target/debug/capm");

/** A temporary directory with `home/`, `cache/`, `config/` and a `capm init` project `p/`. */
export function sandbox(t) {
  const dir = mkdtempSync(join(tmpdir(), "capm-client-test-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const env = { ...process.env };
  for (const k of [
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "http_proxy",
    "https_proxy",
    "CAPM_CACHE_DIR",
    "CAPM_LOG",
  ])
    delete env[k];
  Object.assign(env, {
    HOME: join(dir, "home"),
    XDG_CACHE_HOME: join(dir, "cache"),
    XDG_CONFIG_HOME: join(dir, "config"),
    NO_PROXY: "127.0.0.1,localhost",
  });
  const project = join(dir, "p");
  mkdirSync(project);
  capm(["init"], project, env);
  return { dir, project, env };
}

/** Runs `capm ARGS` in `cwd`; throws with its output when it fails. */
export function capm(args, cwd, env) {
  return execFileSync(CAPM_BIN, args, { cwd, env, encoding: "utf8", stdio: "pipe" });
}

/** A started client in the sandbox's project, closed when the test ends. */
export async function client(t, box, options = {}) {
  const c = await CapmClient.start({
    command: CAPM_BIN,
    cwd: box.project,
    env: box.env,
    ...options,
  });
  t.after(() => c.close());
  return c;
}

/** The files under `dir`, relative, sorted. */
export function files(dir, prefix = "") {
  return readdirSync(dir)
    .flatMap((name) => {
      const rel = prefix + name;
      return statSync(join(dir, name)).isDirectory() ? files(join(dir, name), `${rel}/`) : [rel];
    })
    .sort();
}

/**
 * The registry `box.dir/reg` holding `kit` 1.0.0 (one skill), served on 127.0.0.1 with every
 * answer delayed by `delayMs`; the project asks for `kit` from it. `next()` resolves when the
 * next HTTP request arrives.
 */
export async function slowRegistry(t, box, delayMs) {
  const src = join(box.dir, "src", "kit");
  mkdirSync(join(src, "skills", "kit"), { recursive: true });
  writeFileSync(join(src, "bundle.toml"), KIT_MANIFEST);
  writeFileSync(join(src, "skills", "kit", "SKILL.md"), KIT_SKILL);
  capm(["publish", "src/kit", "--registry", "reg"], box.dir, box.env);
  let waiting = [];
  const server = createServer((req, res) => {
    for (const w of waiting) w(req.url);
    waiting = [];
    const timer = setTimeout(() => serveFile(join(box.dir, "reg"), req, res), delayMs);
    res.on("close", () => clearTimeout(timer));
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  t.after(() => {
    server.closeAllConnections();
    server.close();
  });
  const url = `http://127.0.0.1:${server.address().port}/`;
  const toml = `[bundles]\nkit = { version = "^1", registry = "team" }\n\n[registries]\nteam = { url = "${url}" }\n`;
  writeFileSync(join(box.project, "capm.toml"), toml);
  return { url, next: () => new Promise((r) => waiting.push(r)) };
}

function serveFile(root, req, res) {
  const path = join(root, decodeURIComponent(new URL(req.url, "http://x").pathname));
  if (!path.startsWith(root)) return res.writeHead(403).end();
  let body;
  try {
    body = readFileSync(path);
  } catch {
    return res.writeHead(404).end();
  }
  res.writeHead(200, { "content-length": body.length }).end(body);
}

const KIT_MANIFEST = `[bundle]
name = "kit"
version = "1.0.0"
description = "The kit test bundle"
keywords = ["testing"]

[compatibility.product-modes]
desktop-local = "supported"

[skills.kit]
path = "skills/kit"
`;

const KIT_SKILL = "---\nname: kit\ndescription: Does kit things\n---\n\n# kit\n";

/** Milliseconds since `start`. */
export function since(start) {
  return Number(process.hrtime.bigint() - start) / 1e6;
}

/** What `promise` rejects with (failing if it resolves). */
export function rejection(promise) {
  return promise.then(
    (v) => assert.fail(`resolved with ${JSON.stringify(v)}`),
    (e) => e,
  );
}

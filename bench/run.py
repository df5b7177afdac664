#!/usr/bin/env python3
"""capm's benchmark harness: times whole `capm` processes on the operations users see,
and prints the README's performance table.

    python3 bench/run.py                 # everything but the peers (a few minutes)
    python3 bench/run.py --quick         # fewer runs, no 10,000-bundle lint
    python3 bench/run.py --compare       # also agpm and Microsoft's APM, installed on demand

It builds capm (release) and the synthetic-registry generator, generates its workloads
under bench/work/ (ignored by git), and runs each command repeatedly with a plain timing
loop: the median and the spread (min..max) of wall-clock time, in milliseconds. For lint,
it also runs each timed run once more under GNU time (untimed) and reports the largest
peak resident set size. Setup that is not part of an operation (copying the starting
project) happens outside the timed part. Nothing here runs in the test suite.

    python3 bench/run.py --lint-only     # only the lint rows
    python3 bench/run.py --remote-only   # only the rows of a registry served over HTTP
    python3 bench/run.py --clients-only  # only the install into three clients at once

The remote rows serve a 100,000-bundle synthetic registry in the static layout from a
threaded HTTP server on 127.0.0.1 inside this script, which counts the requests each run
makes; a cold run starts from an empty cache directory, a warm one from the cache the
previous runs filled.
"""

import argparse
import http.server
import json
import threading
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "bench" / "work"
CAPM = ROOT / "target" / "release" / "capm"
GEN = ROOT / "target" / "release" / "examples" / "gen-registry"

UNITS = 20


def sh(args, cwd=None, env=None, check=True, quiet=True):
    out = subprocess.run(
        args,
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE if quiet else None,
        stderr=subprocess.PIPE if quiet else None,
        text=True,
    )
    if check and out.returncode != 0:
        sys.exit(f"failed: {' '.join(map(str, args))}\n{out.stdout}\n{out.stderr}")
    return out


def env_for(project):
    e = dict(os.environ)
    e["NO_COLOR"] = "1"
    # Never the user's own client configs (OpenCode's, ~/.claude.json, ~/.codex, …).
    e["XDG_CONFIG_HOME"] = str(Path(project) / ".bench-xdg")
    e["HOME"] = str(Path(project) / ".bench-home")
    e.pop("CODEX_HOME", None)
    return e


class Samples(list):
    """Wall-clock times in milliseconds; `peak_kib`, when measured: the largest peak RSS."""

    peak_kib = None


# GNU time (Debian package `time`) reports a child's peak RSS. This script's own wait4
# cannot: a process forked from Python keeps Python's resident memory in its peak.
GNU_TIME = Path("/usr/bin/time") if Path("/usr/bin/time").exists() else None


def peak_kib(args, cwd, env):
    """The peak resident set size of one (untimed) run of `args`, in KiB."""
    if GNU_TIME is None:
        return None
    with tempfile.NamedTemporaryFile("r") as out:
        subprocess.run([GNU_TIME, "-f", "%M", "-o", out.name, *args], cwd=cwd, env=env,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return int(out.read().split()[-1])


def timed(args, cwd, runs, prepare=None, expect=0, env=None, peak=False):
    """Runs `args` `runs` times (after one warm-up), `prepare()` before each run, untimed.
    With `peak`, each timed run is followed by an untimed one that measures peak memory."""
    samples = Samples()
    for i in range(runs + 1):
        if prepare:
            cwd = prepare()
        e = env or env_for(cwd)
        t = time.perf_counter()
        out = subprocess.run(args, cwd=cwd, env=e, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        dt = (time.perf_counter() - t) * 1000
        if out.returncode != expect:
            sys.exit(f"`{' '.join(map(str, args))}` exited {out.returncode}: {out.stderr.decode()}")
        if i > 0:
            samples.append(dt)
            if peak and (kib := peak_kib(args, cwd, e)) is not None:
                samples.peak_kib = max(kib, samples.peak_kib or 0)
    return samples


def summary(samples):
    return statistics.median(samples), min(samples), max(samples)


def build():
    sh(["cargo", "build", "--release", "--locked", "--bin", "capm", "--example", "gen-registry"], cwd=ROOT, quiet=False)


def registry(n):
    out = WORK / f"registry-{n}"
    if not (out / "index.toml").exists():
        shutil.rmtree(out, ignore_errors=True)
        sh([GEN, out, "--bundles", str(n), "--project", "50"])
    return out


CLIENTS = ["opencode", "claude-code", "codex"]


def units_project(name="units", targets=None):
    """A project of 20 path bundles, each a skill of 3 files, a stdio MCP server, an agent
    and a command, installed into OpenCode or into the clients `targets`; returns the
    template directory."""
    base = WORK / name
    if (base / "capm.toml").exists():
        return base
    shutil.rmtree(base, ignore_errors=True)
    lines = []
    if targets:
        lines += ["[project]", "targets = [" + ", ".join(f'"{t}"' for t in targets) + "]", ""]
    lines.append("[bundles]")
    for i in range(UNITS):
        u = f"unit-{i:02}"
        d = base / "units" / u
        (d / "skills" / f"{u}-skill" / "reference").mkdir(parents=True)
        (d / "agents").mkdir()
        (d / "commands").mkdir()
        (d / "bundle.toml").write_text(
            f"""[bundle]
name = "{u}"
version = "1.0.0"
description = "Benchmark unit {i}"
license = "MIT"

[compatibility.product-modes]
desktop-local = "supported"

[mcp.{u}-server]
command = "npx"
args = ["-y", "@modelcontextprotocol/server-memory@2026.8.31"]

[skills.{u}-skill]
path = "skills/{u}-skill"

[agents.{u}-agent]
path = "agents/{u}-agent.md"

[commands.{u}-command]
path = "commands/{u}-command.md"
"""
        )
        skill = d / "skills" / f"{u}-skill"
        (skill / "SKILL.md").write_text(
            f"---\nname: {u}-skill\ndescription: Skill of unit {i}\n---\n" + "Do the thing.\n" * 40
        )
        (skill / "reference" / "guide.md").write_text("A guide.\n" * 200)
        (skill / "reference" / "checklist.md").write_text("- check\n" * 100)
        (d / "agents" / f"{u}-agent.md").write_text(f"---\ndescription: Agent of unit {i}\nmode: subagent\n---\nHelp.\n")
        (d / "commands" / f"{u}-command.md").write_text(f"---\ndescription: Command of unit {i}\n---\nRun it.\n")
        lines.append(f'{u} = {{ path = "units/{u}" }}')
    (base / "capm.toml").write_text("\n".join(lines) + "\n")
    return base


def fresh_copy(template, tag):
    """A copy of `template` to run in, written out to disk: otherwise the first fsync of
    the timed run would also flush the copy (ext4 commits other files' pending data with
    it), and the setup's cost would be counted as the operation's."""
    dest = WORK / f"run-{tag}"
    shutil.rmtree(dest, ignore_errors=True)
    shutil.copytree(template, dest, symlinks=True)
    os.sync()
    return dest


def serve_latency(project, runs):
    p = subprocess.Popen(
        [CAPM, "serve", "--stdio"], cwd=project, env=env_for(project),
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    samples = []
    for i in range(runs + 5):
        msg = {"jsonrpc": "2.0", "id": i, "method": "plan",
               "params": {"project": str(project), "operation": "install", "bundles": ["code-review"]}}
        t = time.perf_counter()
        p.stdin.write(json.dumps(msg) + "\n")
        p.stdin.flush()
        line = p.stdout.readline()
        dt = (time.perf_counter() - t) * 1000
        assert '"result"' in line, line
        if i >= 5:
            samples.append(dt)
    p.stdin.close()
    p.wait()
    return samples


SPARSE_BUNDLES = 100_000


def sparse_registry():
    out = WORK / f"sparse-{SPARSE_BUNDLES}"
    if not (out / "config.json").exists():
        shutil.rmtree(out, ignore_errors=True)
        sh([GEN, out, "--bundles", str(SPARSE_BUNDLES), "--project", "50", "--sparse"])
    return out


class Counting(http.server.SimpleHTTPRequestHandler):
    """Serves the registry directory; counts requests and 304 answers."""

    def log_message(self, *args):
        pass

    def send_response(self, code, message=None):
        with self.server.lock:
            self.server.log.append(code)
        super().send_response(code, message)


class Server:
    """A static file server on 127.0.0.1 for `directory`: nginx when it is installed (as a
    CDN or object store would serve the registry: keep-alive, ETag and Last-Modified), else
    Python's threaded server. `statuses()` lists the status of every request so far."""

    def __init__(self, directory):
        self.nginx = shutil.which("nginx")
        self.dir = Path(tempfile.mkdtemp(prefix="capm-serve-", dir=WORK))
        if self.nginx:
            self.port = free_port()
            conf = self.dir / "nginx.conf"
            temp = "\n".join(f"  {k}_temp_path {self.dir / k};" for k in
                             ["client_body", "proxy", "fastcgi", "uwsgi", "scgi"])
            conf.write_text(
                f"worker_processes 2;\ndaemon off;\npid {self.dir / 'nginx.pid'};\n"
                f"error_log {self.dir / 'error.log'};\nevents {{ worker_connections 1024; }}\n"
                f"http {{\n  access_log {self.dir / 'access.log'} combined;\n{temp}\n"
                f"  server {{ listen 127.0.0.1:{self.port}; root {directory}; }}\n}}\n")
            self.proc = subprocess.Popen([self.nginx, "-c", conf, "-e", self.dir / "error.log"])
            for _ in range(50):
                if (self.dir / "nginx.pid").exists():
                    break
                time.sleep(0.1)
        else:
            handler = lambda *a, **k: Counting(*a, directory=str(directory), **k)  # noqa: E731
            self.http = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
            self.http.daemon_threads = True
            self.http.lock = threading.Lock()
            self.http.log = []
            self.port = self.http.server_address[1]
            threading.Thread(target=self.http.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.name = "nginx" if self.nginx else "Python's http.server"

    def statuses(self):
        if not self.nginx:
            return list(self.http.log)
        log = self.dir / "access.log"
        lines = log.read_text().splitlines() if log.exists() else []
        return [int(line.split('" ', 1)[1].split()[0]) for line in lines]

    def stop(self):
        if self.nginx:
            self.proc.terminate()
            self.proc.wait()
        else:
            self.http.shutdown()
        shutil.rmtree(self.dir, ignore_errors=True)


def free_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def closure(reg, names):
    """The bundles `names` bring in, by the newest versions' requirements."""
    seen, todo = set(), list(names)
    while todo:
        n = todo.pop()
        if n not in seen:
            seen.add(n)
            path = reg / "index" / index_path(n)
            newest = json.loads(path.read_text().splitlines()[-1])
            todo.extend(d["name"] for d in newest.get("deps", []))
    return seen


def fifty_bundle_project(reg):
    """Names whose bundles and dependencies make 50 bundles together."""
    chosen, total = [], set()
    for path in sorted((reg / "index").rglob("*"), key=lambda p: p.name, reverse=True):
        if not path.is_file():
            continue
        more = closure(reg, [path.name])
        if len(total | more) <= 50:
            chosen.append(path.name)
            total |= more
        if len(total) == 50:
            return chosen
    sys.exit("could not make a 50-bundle project")


def with_five_dependencies(reg):
    """A bundle that brings in exactly five others (direct and indirect dependencies, by the
    newest versions' requirements)."""
    def newest(name):
        path = reg / "index" / index_path(name)
        return json.loads(path.read_text().splitlines()[-1])

    for path in sorted((reg / "index").rglob("*"))[:20000]:
        if not path.is_file():
            continue
        top = json.loads(path.read_text().splitlines()[-1])
        seen, todo = set(), [d["name"] for d in top.get("deps", [])]
        while todo and len(seen) <= 5:
            d = todo.pop()
            if d not in seen:
                seen.add(d)
                todo.extend(x["name"] for x in newest(d).get("deps", []))
        if len(seen) == 5 and len(top.get("deps", [])) >= 2:
            return top["name"]
    sys.exit("no bundle with five dependencies in the registry")


def index_path(name):
    """cargo's index path scheme, as the registry layout uses it."""
    if len(name) <= 2:
        return f"{len(name)}/{name}"
    if len(name) == 3:
        return f"3/{name[0]}/{name}"
    return f"{name[:2]}/{name[2:4]}/{name}"


def remote_rows(runs, row):
    """`capm add` and a 50-bundle resolution against a registry served over HTTP."""
    reg = sparse_registry()
    server = Server(reg)
    url = server.url
    name = with_five_dependencies(reg)
    template = WORK / "remote-empty"
    shutil.rmtree(template, ignore_errors=True)
    template.mkdir(parents=True)
    (template / "capm.toml").write_text(
        f'[project]\ntarget = "opencode"\n\n[registries]\nsynth = {{ url = "{url}" }}\n\n[bundles]\n')
    project50 = WORK / "remote-50"
    shutil.rmtree(project50, ignore_errors=True)
    project50.mkdir(parents=True)
    names = fifty_bundle_project(reg)
    (project50 / "capm.toml").write_text(
        f'[project]\ntarget = "opencode"\n\n[registries]\nsynth = {{ url = "{url}" }}\n\n[bundles]\n'
        + "".join(f'{n} = {{ version = "*", registry = "synth" }}\n' for n in names))
    warm_cache = WORK / "remote-cache-warm"
    shutil.rmtree(warm_cache, ignore_errors=True)

    def counted(label, size, args, prepare, cache, target):
        before = len(server.statuses())

        def env_of(cwd):
            e = env_for(cwd)
            e["XDG_CACHE_HOME"] = str(cache())
            return e

        samples = Samples()
        for i in range(runs + 1):
            cwd = prepare()
            e = env_of(cwd)
            t = time.perf_counter()
            out = subprocess.run(args, cwd=cwd, env=e, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            dt = (time.perf_counter() - t) * 1000
            if out.returncode != 0:
                sys.exit(f"`{' '.join(map(str, args))}` exited {out.returncode}: {out.stderr.decode()}")
            if i > 0:
                samples.append(dt)
        seen = server.statuses()[before:]
        requests = len(seen) / (runs + 1)
        not_modified = seen.count(304) / (runs + 1)
        note = f"{requests:.0f} requests" + (f" ({not_modified:.0f} answered 304)" if not_modified else "")
        row(label, f"{size}; {note}", samples, " ".join(map(str, args[1:])), target)

    def fresh_cache():
        d = Path(tempfile.mkdtemp(prefix="capm-cold-", dir=WORK))
        return d

    counted("add, cold cache", f"{name} (+5 dependencies) of {SPARSE_BUNDLES:,}",
            [CAPM, "add", name, "-y", "-q"], lambda: fresh_copy(template, "add-cold"),
            fresh_cache, "≤ 150 ms")
    # Fill the warm cache once, then every run adds the same bundle to a fresh project.
    sh([CAPM, "add", name, "-y", "-q"], cwd=fresh_copy(template, "warm-up"),
       env={**env_for(template), "XDG_CACHE_HOME": str(warm_cache)})
    counted("add, warm cache", f"{name} (+5 dependencies) of {SPARSE_BUNDLES:,}",
            [CAPM, "add", name, "-y", "-q"], lambda: fresh_copy(template, "add-warm"),
            lambda: warm_cache, "≤ 30 ms")
    counted("resolve + plan, cold cache",
            f"{len(names)} asked, 50 in the graph, of {SPARSE_BUNDLES:,} (served by {server.name})",
            [CAPM, "plan", "install", "--format", "json"], lambda: project50,
            fresh_cache, "≤ 400 ms")
    server.stop()
    for d in WORK.glob("capm-cold-*"):
        shutil.rmtree(d, ignore_errors=True)


def client_rows(runs, row):
    """The 20 bundles installed into three clients at once (OpenCode, Claude Code, Codex):
    one transaction over opencode.json, .mcp.json and .codex/config.toml, three agent
    and two command directories, and two skills directories."""
    template = units_project("units-3-clients", CLIENTS)
    size = f"{UNITS} bundles into {len(CLIENTS)} clients ({', '.join(CLIENTS)})"
    row("install into 3 clients (cold, fsynced)", size,
        timed([CAPM, "install", "-y", "-q"], None, runs,
              prepare=lambda: fresh_copy(template, "install-clients")),
        "capm install -y", "≤ 150 ms")
    installed = fresh_copy(template, "installed-clients")
    sh([CAPM, "install", "-y", "-q"], cwd=installed, env=env_for(installed))
    row("install into 3 clients (no-op)", f"{size}, up to date",
        timed([CAPM, "install", "-q"], installed, runs),
        "capm install", "≤ 25 ms")


def machine():
    cores = os.cpu_count()
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cores} cores, {cpu}, {platform.system()} {platform.release()}"


def lint_rows(runs, quick, row):
    """`capm lint` over synthetic registries of 100, 1,000 and (unless quick) 10,000 bundles."""
    for n in [100, 1000] if quick else [100, 1000, 10000]:
        reg = registry(n)
        versions = sum(1 for _ in reg.glob("*/*/bundle.toml"))
        r = max(3, runs // (3 if n == 10000 else 1))
        row("lint", f"{n:,} bundles ({versions:,} versions)",
            timed([CAPM, "lint", reg, "-q"], WORK, r, peak=True),
            f"capm lint bench/work/registry-{n}", "< 500 ms at 1,000" if n == 1000 else None)


def mib(kib):
    return f"{kib / 1024:.1f} MiB" if kib else ""


def print_tables(rows, runs):
    print(f"\nMachine: {machine()}. Each figure: median of {runs} runs "
          f"({max(3, runs // 3)} for the 10,000-bundle lint) (spread min–max), "
          f"wall clock of the whole process, after one warm-up run; peak RSS: the largest "
          f"maximum resident set size of those runs.\n")
    lint = [r for r in rows if r[0] == "lint"]
    if lint:
        print("| size | median | spread | peak RSS | reproduce |")
        print("|---|---:|---|---:|---|")
        for _, size, med, lo, hi, peak, command, _ in lint:
            print(f"| {size} | {med:.1f} ms | {lo:.1f}–{hi:.1f} ms | {mib(peak)} | `{command}` |")
        print()
    other = [r for r in rows if r[0] != "lint"]
    if other:
        print("| operation | size | median | spread | target | reproduce |")
        print("|---|---|---:|---|---|---|")
        for op, size, med, lo, hi, _, command, target in other:
            print(f"| {op} | {size} | {med:.1f} ms | {lo:.1f}–{hi:.1f} ms | {target or ''} | `{command}` |")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="fewer runs, skip the 10,000-bundle lint")
    ap.add_argument("--compare", action="store_true", help="also time agpm and APM (installed on demand)")
    ap.add_argument("--lint-only", action="store_true", help="only the lint rows")
    ap.add_argument("--remote-only", action="store_true", help="only the rows of a registry over HTTP")
    ap.add_argument("--clients-only", action="store_true",
                    help="only the rows of an install into several clients")
    ap.add_argument("--runs", type=int, default=None)
    args = ap.parse_args()
    runs = args.runs or (5 if args.quick else 15)
    WORK.mkdir(parents=True, exist_ok=True)
    (WORK / ".gitignore").write_text("*\n")
    build()
    rows = []

    def row(op, size, samples, command, target=None):
        med, lo, hi = summary(samples)
        peak = getattr(samples, "peak_kib", None)
        rows.append((op, size, med, lo, hi, peak, command, target))
        print(f"{op:<44} {size:<28} median {med:9.2f} ms  ({lo:.2f} .. {hi:.2f})  peak {mib(peak) or '-'}",
              file=sys.stderr)

    if args.remote_only:
        remote_rows(runs, row)
        print_tables(rows, runs)
        return
    if args.clients_only:
        client_rows(runs, row)
        print_tables(rows, runs)
        return
    lint_rows(runs, args.quick, row)
    if args.lint_only:
        print_tables(rows, runs)
        return
    reg = registry(1000 if args.quick else 10000)
    row("resolve + plan (JSON)", f"50 bundles vs {reg.name.split('-')[1]}-bundle registry",
        timed([CAPM, "plan", "install", "--format", "json"], reg / "project", runs),
        "capm plan install --format json", "< 100 ms")

    desk = WORK / "desktop"
    if not (desk / "capm.toml").exists():
        desk.mkdir(parents=True, exist_ok=True)
        sh([CAPM, "init", desk])
    row("desktop call, cold process", "built-in catalog",
        timed([CAPM, "plan", "install", "code-review", "--format", "json"], desk, runs),
        "capm plan install code-review --format json", "≤ 10 ms")
    row("serve --stdio plan request", "built-in catalog", serve_latency(desk, runs * 4),
        '{"method":"plan",…} on a warm `capm serve --stdio`', "< 5 ms")

    template = units_project()
    row("install (cold, fsynced)", f"{UNITS} bundles: {UNITS * 5} files, {UNITS} servers",
        timed([CAPM, "install", "-y", "-q"], None, runs, prepare=lambda: fresh_copy(template, "install")),
        "capm install -y", "<= 200 ms")
    installed = fresh_copy(template, "installed")
    sh([CAPM, "install", "-y", "-q"], cwd=installed, env=env_for(installed))
    row("install (no-op)", f"{UNITS} bundles, up to date",
        timed([CAPM, "install", "-q"], installed, runs),
        "capm install", "<= 25 ms")
    client_rows(runs, row)

    def installed_copy():
        d = fresh_copy(installed, "remove")
        return d

    names = [f"unit-{i:02}" for i in range(UNITS)]
    row("uninstall", f"{UNITS} bundles",
        timed([CAPM, "remove", *names, "-y", "-q"], None, runs, prepare=installed_copy),
        "capm remove unit-00 … unit-19 -y")

    remote_rows(runs, row)

    if args.compare:
        import compare  # noqa: E402  (bench/compare.py)
        rows.extend(compare.run(runs, template, row))

    print_tables(rows, runs)


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    main()

"""Times capm's two peers on capm's own install workload, in the same run as capm.

    python3 bench/run.py --compare        (this module is imported by run.py)

The peers, installed on demand into bench/work/peers/ (ignored by git; never by the test
suite), pinned so that a figure can be reproduced:

* agpm, "AGent Package Manager" (crates.io `agpm-cli`): `cargo install --locked agpm-cli`
  into bench/work/peers/agpm. A Rust build of several minutes the first time.
* Microsoft APM, "Agent Package Manager" (PyPI `apm-cli`, command `apm`): a venv at
  bench/work/peers/apm-venv with `pip install apm-cli`.

A binary already built elsewhere is reused when $AGPM_BIN / $APM_BIN name it.

The workload is the one run.py times for capm (`units_project()`): 20 local-path units, each
a skill of 3 files, a stdio MCP server, an agent and a command, installed into an OpenCode
project. Each tool gets its own starting directory: a copy of the template's `units/` tree
plus that tool's manifest, which names the 20 units by local path. Neither peer reads
capm's `bundle.toml`, so each unit also gets the metadata file that tool does read (made
here, untimed, like the copy):

* agpm has no notion of a bundle: its manifest (agpm.toml) lists resources one by one, so it
  names each unit's skill directory, agent file and command file, and an MCP server as a
  JSON file (`units/unit-NN/mcp/unit-NN-server.json`, the format agpm reads:
  {"command", "args"}), 80 entries in all, each with `tool = "opencode"`. agpm 0.4 has no
  OpenCode location for skills (its OpenCode support, marked alpha, covers agents,
  commands, snippets and MCP servers), so the manifest adds one with agpm's documented
  `[tools.opencode]` override: skills go to `.opencode/skills/agpm/<name>/` (OpenCode's
  skills directory, which it searches at any depth, inside the `agpm/` subdirectory agpm
  uses for everything it installs: without it agpm calls the project "legacy format"
  on every later run), with `flatten = true` so that a skill's directory is named by
  its last path component rather than its whole source path. Agents and commands go to
  agpm's defaults, `.opencode/agent/agpm/` and `.opencode/command/agpm/`; MCP servers
  are merged into `.opencode/opencode.json`.
  `gitignore = false`: by default agpm, without a TTY, only prints a notice that
  .gitignore lacks entries (for `.claude/` paths, in an OpenCode project) and changes
  nothing; this keeps that out (its cost is within the noise either way).
* APM (0.35) reads a local directory as a package when it has an apm.yml, a SKILL.md or a
  Claude-plugin `plugin.json`; the units' layout (skills/, agents/, commands/) is exactly a
  Claude plugin's, so each unit gets a 3-line plugin.json, and APM then installs all three
  kinds to OpenCode (agents to `.opencode/agents/`, commands to `.opencode/commands/`,
  skills to the cross-tool `.agents/skills/`, which OpenCode reads). APM does not take MCP
  servers from a dependency without `--trust-transitive-mcp`; its documented way is to
  declare them in the project's apm.yml (`registry: false`, self-defined stdio), so the
  20 servers are listed there, and land in `opencode.json`. The target is set with
  `targets: [opencode]` in apm.yml.

What is timed, per tool (wall clock of the whole process, stdin from /dev/null, output
discarded; one untimed warm-up run first, as in run.py):

* cold: `install` in a fresh copy of the starting directory, with a fresh, empty HOME
  (XDG_* inside it) and a fresh, empty cache directory for the tool (AGPM_CACHE_DIR,
  APM_CACHE_DIR): nothing left by an earlier run. The copy and the clean-up are untimed.
* no-op: `install` again in a directory where it has already run, same HOME and cache.

Every run's result is checked (untimed): all 20 skills (3 files each), agents, commands
and MCP servers must be where the tool says it puts them; a run that did not install
stops the benchmark.

Network, telemetry, update checks: neither tool needs the network for local paths, and
with the settings below neither opened a connection (checked with `strace -f -e connect`).
agpm asks GitHub for its latest release when its cached answer is older than
`check_interval` (so on every cold run here, each with a fresh HOME) unless its global
config says not to: the per-run HOME gets one with `[upgrade] check_on_startup = false,
check_interval = 0` (via AGPM_CONFIG_PATH), and AGPM_NO_PROGRESS=1. agpm 0.4.14 still
sleeps 500 ms on every command but `upgrade`, to give that check time to print
(`check_for_updates_if_needed` in its src/cli/mod.rs), whether the check is enabled or not:
every agpm figure includes that fixed 0.5 s (`agpm list` alone takes ~515 ms here). APM
asks GitHub at most once a day, keyed on a timestamp file: the per-run HOME gets a fresh
`~/.cache/apm/last_version_check`, so it never asks. APM_POLICY_DISABLE=1 skips org-policy
discovery (looked up from the project's git remote; there is none here anyway), and
APM_PROGRESS=never the progress display. We found no telemetry to turn off in either.
Neither tool sees the user's real home: HOME and XDG_* point into bench/work/ for every
run (installing the peers, with cargo and pip, uses the real HOME, as any install does).

Differences worth knowing when reading the figures:
* capm's cold install fsyncs what it writes; agpm fsyncs some files (42 fsyncs for this
  workload: its single-file resources, config and lock), APM none.
* agpm merges each MCP server into `.opencode/opencode.json` in Claude Code's shape
  ({"command": "npx", "args": [...]} plus an "_agpm" block), not OpenCode's
  ({"type": "local", "command": ["npx", ...]}), which capm and APM write; the run prints
  one entry of each tool's config so this can be seen.
* APM copies every local package into apm_modules/ (as is, and normalised into .apm/)
  before deploying it. A no-op `apm install` leaves the files alone but still resolves
  and integrates all 20 local packages ("Installed 20 APM dependencies"), so it costs
  about what a cold install does; about 0.65 s of either is importing APM's Python code.
"""

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "bench" / "work"
PEERS = WORK / "peers"

AGPM_VERSION = "0.4.14"
APM_VERSION = "0.35.0"
UNITS = 20
SERVER = {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-memory@2026.8.31"]}
SKILL_FILES = ("SKILL.md", "reference/guide.md", "reference/checklist.md")


def log(msg):
    print(f"[compare] {msg}", file=sys.stderr, flush=True)


def names():
    return [f"unit-{i:02}" for i in range(UNITS)]


# --- installing the peers ---------------------------------------------------------------


def version_of(binary):
    out = subprocess.run([binary, "--version"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         stdin=subprocess.DEVNULL, text=True, env=scratch_env(WORK / "peer-version"))
    words = out.stdout.split()
    return words[-1] if out.returncode == 0 and words else "?"  # "agpm 0.4.14", "... version 0.35.0"


def find_or_install_agpm():
    for c in (os.environ.get("AGPM_BIN"), PEERS / "agpm" / "bin" / "agpm"):
        if c and Path(c).is_file() and os.access(c, os.X_OK):
            log(f"agpm: reusing {c}")
            return Path(c)
    root = PEERS / "agpm"
    log(f"agpm: not found; `cargo install --locked agpm-cli --version {AGPM_VERSION} --root {root}` "
        "(a Rust build, several minutes)...")
    t = time.perf_counter()
    # cargo prints its own progress ("Compiling ...") on stderr, which we leave on the terminal.
    out = subprocess.run(["cargo", "install", "--locked", "agpm-cli", "--version", AGPM_VERSION,
                          "--root", root], stdin=subprocess.DEVNULL, stdout=sys.stderr)
    if out.returncode != 0:
        sys.exit("compare: installing agpm failed")
    log(f"agpm: installed in {time.perf_counter() - t:.0f} s")
    return root / "bin" / "agpm"


def find_or_install_apm():
    for c in (os.environ.get("APM_BIN"), PEERS / "apm-venv" / "bin" / "apm"):
        if c and Path(c).is_file() and os.access(c, os.X_OK):
            log(f"apm: reusing {c}")
            return Path(c)
    venv = PEERS / "apm-venv"
    log(f"apm: not found; creating {venv} and `pip install apm-cli=={APM_VERSION}`...")
    t = time.perf_counter()
    shutil.rmtree(venv, ignore_errors=True)
    PEERS.mkdir(parents=True, exist_ok=True)
    for cmd in ([sys.executable, "-m", "venv", venv],
                [venv / "bin" / "pip", "install", "--disable-pip-version-check", "--progress-bar", "off",
                 f"apm-cli=={APM_VERSION}"]):
        if subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=sys.stderr).returncode != 0:
            sys.exit(f"compare: installing APM failed at: {' '.join(map(str, cmd))}")
    log(f"apm: installed in {time.perf_counter() - t:.0f} s")
    return venv / "bin" / "apm"


# --- environments -----------------------------------------------------------------------


def scratch_env(scratch):
    """An environment whose HOME and XDG dirs are inside `scratch` (made empty here)."""
    scratch = Path(scratch)
    shutil.rmtree(scratch, ignore_errors=True)
    home = scratch / "home"
    e = dict(os.environ)
    e.update({
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "XDG_DATA_HOME": str(home / ".local" / "share"),
        "XDG_STATE_HOME": str(home / ".local" / "state"),
        "NO_COLOR": "1",
    })
    for d in ("HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME"):
        Path(e[d]).mkdir(parents=True, exist_ok=True)
    return e


def agpm_env(scratch):
    e = scratch_env(scratch)
    home = Path(e["HOME"])
    config = home / ".agpm" / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    # No automatic release check (it asks GitHub); see the module docstring for the 500 ms.
    config.write_text("[upgrade]\ncheck_on_startup = false\ncheck_interval = 0\n")
    e["AGPM_CONFIG_PATH"] = str(config)
    e["AGPM_CACHE_DIR"] = str(Path(scratch) / "cache")
    e["AGPM_NO_PROGRESS"] = "1"
    return e


def apm_env(scratch):
    e = scratch_env(scratch)
    stamp = Path(e["HOME"]) / ".cache" / "apm" / "last_version_check"
    stamp.parent.mkdir(parents=True, exist_ok=True)
    stamp.touch()  # "checked for a new release just now": no request to GitHub
    e["APM_CACHE_DIR"] = str(Path(scratch) / "cache")
    e["APM_POLICY_DISABLE"] = "1"
    e["APM_PROGRESS"] = "never"
    return e


# --- starting directories (untimed) -------------------------------------------------------


def copy_units(template, dest):
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True)
    shutil.copytree(Path(template) / "units", dest / "units", symlinks=True)


def agpm_start(template):
    """units/ + agpm.toml naming every unit's skill, agent, command and MCP server file."""
    base = WORK / "agpm-start"
    copy_units(template, base)
    skills, agents, commands, servers = [], [], [], []
    for u in names():
        mcp = base / "units" / u / "mcp"
        mcp.mkdir()
        (mcp / f"{u}-server.json").write_text(json.dumps(SERVER, indent=2) + "\n")
        skills.append(f'{u}-skill = {{ path = "units/{u}/skills/{u}-skill", tool = "opencode" }}')
        agents.append(f'{u}-agent = {{ path = "units/{u}/agents/{u}-agent.md", tool = "opencode" }}')
        commands.append(f'{u}-command = {{ path = "units/{u}/commands/{u}-command.md", tool = "opencode" }}')
        servers.append(f'{u}-server = {{ path = "units/{u}/mcp/{u}-server.json", tool = "opencode" }}')
    (base / "agpm.toml").write_text(
        "# 20 local units for OpenCode (bench/compare.py)\n"
        "gitignore = false  # see bench/compare.py\n\n"
        "# agpm has no OpenCode location for skills: give it OpenCode's own.\n"
        "[tools.opencode]\n"
        'path = ".opencode"\n'
        'resources = { skills = { path = "skills/agpm", flatten = true } }\n\n'
        + "[skills]\n" + "\n".join(skills) + "\n\n"
        + "[agents]\n" + "\n".join(agents) + "\n\n"
        + "[commands]\n" + "\n".join(commands) + "\n\n"
        + "[mcp-servers]\n" + "\n".join(servers) + "\n"
    )
    return base


def apm_start(template):
    """units/ (each with a plugin.json) + apm.yml naming the units and their MCP servers."""
    base = WORK / "apm-start"
    copy_units(template, base)
    lines = ["name: capm-bench", "version: 1.0.0", "targets: [opencode]", "dependencies:", "  apm:"]
    for u in names():
        (base / "units" / u / "plugin.json").write_text(
            json.dumps({"name": u, "version": "1.0.0", "description": f"Benchmark {u}"}, indent=2) + "\n")
        lines.append(f"    - ./units/{u}")
    lines.append("  mcp:")
    for u in names():
        lines += [f"    - name: {u}-server", "      registry: false", "      transport: stdio",
                  f"      command: {SERVER['command']}", f"      args: {json.dumps(SERVER['args'])}"]
    (base / "apm.yml").write_text("\n".join(lines) + "\n")
    return base


# --- checking that an install happened ----------------------------------------------------


def opencode_servers(config):
    data = json.loads(config.read_text())
    return data.get("mcp", {})


def check(tool, project, skills_dir, agents_dir, commands_dir, config):
    project = Path(project)
    missing = []
    for u in names():
        for f in SKILL_FILES:
            if not (project / skills_dir / f"{u}-skill" / f).is_file():
                missing.append(f"{skills_dir}/{u}-skill/{f}")
        if not (project / agents_dir / f"{u}-agent.md").is_file():
            missing.append(f"{agents_dir}/{u}-agent.md")
        if not (project / commands_dir / f"{u}-command.md").is_file():
            missing.append(f"{commands_dir}/{u}-command.md")
    servers = opencode_servers(project / config) if (project / config).is_file() else {}
    for u in names():
        if f"{u}-server" not in servers:
            missing.append(f"{config}: mcp.{u}-server")
    if missing:
        sys.exit(f"compare: {tool} did not install everything in {project}; missing "
                 f"{len(missing)}, e.g. {missing[:5]}")
    return servers


# --- timing -------------------------------------------------------------------------------


def run_once(args, cwd, env):
    t = time.perf_counter()
    out = subprocess.run(args, cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    dt = (time.perf_counter() - t) * 1000
    if out.returncode != 0:
        sys.exit(f"compare: `{' '.join(map(str, args))}` in {cwd} exited {out.returncode}:\n{out.stdout}")
    return dt


def timed(args, runs, prepare, verify):
    """`prepare()` -> (cwd, env), untimed; one warm-up run, then `runs` timed runs."""
    samples = []
    for i in range(runs + 1):
        cwd, env = prepare()
        dt = run_once(args, cwd, env)
        verify(cwd)
        if i > 0:
            samples.append(dt)
    return samples


def bench_tool(tool, args, start, make_env, verify, runs, row, size, command):
    def cold():
        cwd = WORK / f"run-{tool}-cold"
        shutil.rmtree(cwd, ignore_errors=True)
        shutil.copytree(start, cwd, symlinks=True)
        return cwd, make_env(WORK / f"run-{tool}-cold-scratch")

    row(f"{tool} install (cold)", size, timed(args, runs, cold, verify), command)

    installed = WORK / f"run-{tool}-installed"
    shutil.rmtree(installed, ignore_errors=True)
    shutil.copytree(start, installed, symlinks=True)
    env = make_env(WORK / f"run-{tool}-installed-scratch")
    run_once(args, installed, env)
    verify(installed)
    row(f"{tool} install (no-op)", f"{size.split(' (')[0]}, up to date",
        timed(args, runs, lambda: (installed, env), verify), command)


def run(runs, template, row):
    PEERS.mkdir(parents=True, exist_ok=True)
    agpm = find_or_install_agpm()
    apm = find_or_install_apm()
    agpm_v, apm_v = version_of(agpm), version_of(apm)
    log(f"agpm: {agpm_v}; apm: {apm_v}")

    def agpm_verify(project):
        servers = check("agpm", project, ".opencode/skills/agpm", ".opencode/agent/agpm",
                        ".opencode/command/agpm", ".opencode/opencode.json")
        return servers

    def apm_verify(project):
        return check("apm", project, ".agents/skills", ".opencode/agents", ".opencode/commands",
                     "opencode.json")

    every = f"{UNITS} units (skills, servers, agents, commands)"
    bench_tool("agpm", [agpm, "install", "--no-progress"], agpm_start(template), agpm_env,
               agpm_verify, runs, row, every, f"agpm install --no-progress  # agpm-cli {agpm_v}")
    bench_tool("apm", [apm, "install"], apm_start(template), apm_env,
               apm_verify, runs, row, every, f"apm install  # apm-cli {apm_v}")

    # What each wrote for one MCP server, for the report (the format matters to OpenCode).
    for tool, cfg in (("agpm", ".opencode/opencode.json"), ("apm", "opencode.json")):
        entry = opencode_servers(WORK / f"run-{tool}-installed" / cfg).get("unit-00-server")
        log(f"{tool} wrote {cfg} mcp.unit-00-server = {json.dumps(entry)}")
    return []

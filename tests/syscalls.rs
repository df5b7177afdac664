//! Crash enumeration at the system-call level, from outside the binary: the real `capm`
//! runs under `strace --inject=SYSCALL:signal=KILL:when=K` for every K of every
//! file-changing system call it makes, so it dies on entry to each one in turn. Then
//! recovery itself (`capm doctor`) is killed the same way at every file-changing call of
//! recovering each such state (all of them with `CAPM_CRASH_FULL=1`, a spread sample
//! otherwise), and the next start must recover.
//!
//! After every kill the project must settle, through `capm doctor`, to exactly the tree
//! before the operation or exactly the tree after it (bytes, modes and the directory list,
//! leaving out only capm's lock file and empty bookkeeping directories), with no debris; a
//! second doctor must recover nothing and change nothing; and the next command must work.
//!
//! strace comes from Debian's packages (`.ci/run` installs it); without it the test says
//! so loudly, and fails under CI.

#[allow(dead_code)]
#[path = "cli/support.rs"]
mod support;

#[path = "common/fixtures.rs"]
mod fixtures;

#[allow(dead_code)]
#[path = "common/clients_fixture.rs"]
mod clients_fixture;

use std::collections::BTreeMap;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use support::{bin, copy_dir, tempdir};

/// The system calls that change files, as the kernel names them on x86-64 and arm64.
const CHANGING: &[&str] = &[
    "openat",
    "open",
    "creat",
    "write",
    "pwrite64",
    "writev",
    "rename",
    "renameat",
    "renameat2",
    "link",
    "linkat",
    "unlink",
    "unlinkat",
    "mkdir",
    "mkdirat",
    "rmdir",
    "fsync",
    "fdatasync",
    "chmod",
    "fchmod",
    "fchmodat",
    "truncate",
    "ftruncate",
    "copy_file_range",
    "sendfile",
];

/// One kill point: the `nth` call of `name` (strace counts each system call separately).
#[derive(Clone, Debug)]
struct Call {
    name: String,
    nth: usize,
}

fn strace() -> Option<PathBuf> {
    let found = Command::new("strace")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success());
    if found {
        return Some(PathBuf::from("strace"));
    }
    let msg = "SKIPPED: strace is not installed; the system-call crash enumeration did not run \
               (`apt-get install strace`, as .ci/run does)";
    assert!(std::env::var_os("CI").is_none(), "{msg}");
    // Past the harness's capture: a skip is never silent.
    let _ = writeln!(std::io::stderr(), "\n{msg}\n");
    None
}

/// `capm ARGS` in `dir`, with nothing of the developer's environment.
fn capm(dir: &Path, xdg: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(bin());
    cmd.args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env("XDG_CONFIG_HOME", xdg)
        .env("HOME", xdg.join("home"))
        .env("CODEX_HOME", xdg.join("home/.codex"))
        .env("CAPM_LOCK_TIMEOUT", "5")
        .env_remove("CAPM_FAILPOINTS")
        .env_remove("CAPM_FAILPOINTS_TRACE")
        .stdin(Stdio::null());
    cmd
}

fn under_strace(dir: &Path, xdg: &Path, strace_args: &[String], args: &[&str]) -> Output {
    let plain = capm(dir, xdg, args);
    let mut cmd = Command::new("strace");
    cmd.args(strace_args)
        .arg("--")
        .arg(plain.get_program())
        .args(plain.get_args())
        .current_dir(dir)
        .stdin(Stdio::null());
    for (k, v) in plain.get_envs() {
        match v {
            Some(v) => cmd.env(k, v),
            None => cmd.env_remove(k),
        };
    }
    cmd.output().expect("strace runs")
}

/// Whether one traced line is a call that changes a file.
fn changes_files(name: &str, line: &str) -> bool {
    let args = &line[name.len()..];
    match name {
        "openat" | "open" => ["O_WRONLY", "O_RDWR", "O_CREAT", "O_TRUNC"]
            .iter()
            .any(|f| args.contains(f)),
        // Messages to the terminal change no file.
        "write" | "writev" => !(args.starts_with("(1,") || args.starts_with("(2,")),
        _ => true,
    }
}

/// The file-changing calls a clean run of `args` makes in `dir`, in order.
fn trace(dir: &Path, xdg: &Path, args: &[&str], out: &Path) -> Vec<Call> {
    let strace_args = vec![
        "-qq".to_string(),
        "-o".to_string(),
        out.display().to_string(),
        "-e".to_string(),
        format!("trace={}", CHANGING.join(",")),
    ];
    let run = under_strace(dir, xdg, &strace_args, args);
    assert!(
        run.status.code().is_some(),
        "a traced run of {args:?} was killed"
    );
    let text = std::fs::read_to_string(out).expect("the trace");
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    let mut calls = Vec::new();
    for line in text.lines() {
        let Some(name) = line.split('(').next().filter(|n| CHANGING.contains(n)) else {
            continue;
        };
        let nth = counts.entry(name.to_string()).or_default();
        *nth += 1;
        if changes_files(name, line) {
            calls.push(Call {
                name: name.to_string(),
                nth: *nth,
            });
        }
    }
    calls
}

/// Runs `args` and kills it on entry to `call`; false if the run ended before reaching it.
fn kill_at(dir: &Path, xdg: &Path, call: &Call, args: &[&str]) -> bool {
    let strace_args = vec![
        "-qq".to_string(),
        "-o".to_string(),
        "/dev/null".to_string(),
        "-e".to_string(),
        format!("trace={}", call.name),
        "-e".to_string(),
        format!("inject={}:signal=KILL:when={}", call.name, call.nth),
    ];
    let run = under_strace(dir, xdg, &strace_args, args);
    run.status.signal() == Some(9)
}

/// What one path is: enough to tell any change a user could see.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Node {
    Dir { mode: u32 },
    File { mode: u32, bytes: Vec<u8> },
    Link(PathBuf),
}

fn snapshot(dir: &Path) -> BTreeMap<String, Node> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            let rel = p.strip_prefix(dir).unwrap().to_string_lossy().into_owned();
            let meta = std::fs::symlink_metadata(&p).unwrap();
            let mode = meta.permissions().mode() & 0o7777;
            let node = if meta.file_type().is_symlink() {
                Node::Link(std::fs::read_link(&p).unwrap())
            } else if meta.is_dir() {
                stack.push(p.clone());
                Node::Dir { mode }
            } else {
                Node::File {
                    mode,
                    bytes: std::fs::read(&p).unwrap(),
                }
            };
            out.insert(rel, node);
        }
    }
    out
}

/// The tree as the user sees it: everything but capm's lock file, its `.gitignore` and
/// its bookkeeping directories, which [`debris`] checks instead.
fn user_view(dir: &Path) -> BTreeMap<String, Node> {
    let bookkeeping = [".capm", ".capm/lock", ".capm/.gitignore", ".capm/txn"];
    snapshot(dir)
        .into_iter()
        .filter(|(k, _)| {
            !(bookkeeping.contains(&k.as_str())
                || k.starts_with(".capm/txn/")
                || k.starts_with(".capm/backup")
                || k.starts_with(".capm/trash"))
        })
        .collect()
}

/// I3: nothing staged, no journal, no backup, an empty trash, a whole `.gitignore`.
fn debris(dir: &Path) -> Option<String> {
    for (path, node) in snapshot(dir) {
        // The bookkeeping directories themselves may stay, empty.
        let leftover = path.contains(".capm-stage-")
            || path.starts_with(".capm/txn/")
            || path.starts_with(".capm/backup/")
            || path.starts_with(".capm/trash/");
        if leftover {
            return Some(format!("debris `{path}`"));
        }
        if path == ".capm/.gitignore"
            && !matches!(&node, Node::File { bytes, .. } if bytes.ends_with(b"*\n"))
        {
            return Some(format!("a torn `{path}`: {node:?}"));
        }
    }
    None
}

fn differences(now: &BTreeMap<String, Node>, r: &Reference) -> Vec<String> {
    let keys: std::collections::BTreeSet<&String> = now
        .keys()
        .chain(r.before.keys())
        .chain(r.after.keys())
        .collect();
    keys.into_iter()
        .filter(|k| now.get(*k) != r.before.get(*k) || now.get(*k) != r.after.get(*k))
        .map(|k| {
            let show = |n: Option<&Node>| match n {
                None => "absent".to_string(),
                Some(Node::File { mode, bytes }) => format!("file {mode:o} {} bytes", bytes.len()),
                Some(n) => format!("{n:?}"),
            };
            format!(
                "{k}: now {}, before {}, after {}",
                show(now.get(k)),
                show(r.before.get(k)),
                show(r.after.get(k))
            )
        })
        .collect()
}

struct Reference {
    before: BTreeMap<String, Node>,
    after: BTreeMap<String, Node>,
    /// Doctor's report of the clean states (less its recovery), which a recovered project
    /// must match: I4, and the same health.
    doctor_before: serde_json::Value,
    doctor_after: serde_json::Value,
}

/// `capm doctor --format json`'s report.
fn doctor(dir: &Path, xdg: &Path, what: &str) -> Result<serde_json::Value, String> {
    let out = capm(dir, xdg, &["doctor", "--format", "json"])
        .output()
        .unwrap();
    serde_json::from_slice(&out.stdout).map_err(|e| {
        format!(
            "{what} printed no report ({e}), exit {:?}: {}",
            out.status.code(),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// Doctor's report without its `recovery`, which says what this run did.
fn without_recovery(mut report: serde_json::Value) -> serde_json::Value {
    if let Some(o) = report.as_object_mut() {
        o.remove("recovery");
    }
    report
}

/// Writes a scenario's starting project into a directory, given the config home.
type Setup = Box<dyn Fn(&Path, &Path)>;

/// An operation and the project it starts from.
struct Scenario {
    name: String,
    setup: Setup,
    args: &'static [&'static str],
}

/// Installs the project `project` writes.
fn install(dir: &Path, xdg: &Path, project: fn(&Path)) {
    project(dir);
    let out = capm(dir, xdg, &["install", "-y"]).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Install, update and remove over the project `project` writes, named `prefix…`.
fn scenarios(prefix: &str, project: fn(&Path)) -> [Scenario; 3] {
    let name = |op: &str| format!("{prefix}{op}");
    [
        Scenario {
            name: name("install"),
            setup: Box::new(move |d, _| project(d)),
            args: &["install", "-y"],
        },
        Scenario {
            name: name("update"),
            setup: Box::new(move |d, x| {
                install(d, x, project);
                fixtures::to_v2(d);
            }),
            args: &["update", "-y"],
        },
        Scenario {
            name: name("remove"),
            setup: Box::new(move |d, x| install(d, x, project)),
            args: &["remove", "tool", "-y"],
        },
    ]
}

/// The OpenCode project of the crash fixture.
fn opencode_scenarios() -> [Scenario; 3] {
    scenarios("", fixtures::base)
}

/// The same operations on the project installed into OpenCode, Claude Code, Codex and
/// Gemini CLI, with the user's own configs and files in each.
fn four_client_scenarios() -> [Scenario; 3] {
    scenarios("four clients: ", clients_fixture::multi)
}

/// After a kill: recover, then check I1–I5 and liveness. Returns whether the project
/// ended as after.
fn settle(dir: &Path, xdg: &Path, s: &Scenario, r: &Reference) -> Result<bool, String> {
    let first = doctor(dir, xdg, "doctor")?;
    let now = user_view(dir);
    let after = now == r.after;
    if !after && now != r.before {
        return Err(format!(
            "neither before nor after:\n{}",
            differences(&now, r).join("\n")
        ));
    }
    if let Some(d) = debris(dir) {
        return Err(d);
    }
    let saved = ["conflicts", "refused"].iter().any(|k| {
        first["recovery"][k]
            .as_array()
            .is_none_or(|a| !a.is_empty())
    });
    let expected = if after {
        &r.doctor_after
    } else {
        &r.doctor_before
    };
    if saved || &without_recovery(first.clone()) != expected {
        return Err(format!(
            "doctor's report is not the clean state's: {first:#}\nexpected: {expected:#}"
        ));
    }
    let second = doctor(dir, xdg, "a second doctor")?;
    let recovery = &second["recovery"];
    let idle = [
        "rolled_back",
        "finished",
        "conflicts",
        "refused",
        "leftovers",
    ]
    .iter()
    .all(|k| recovery[k].as_array().is_some_and(Vec::is_empty));
    if !idle || user_view(dir) != now {
        return Err(format!("a second recovery did work: {recovery:#}"));
    }
    // Liveness: the operation runs again from before; from after, an install has nothing
    // left to do.
    let next = if after { &["install", "-y"] } else { s.args };
    let out = capm(dir, xdg, next).output().unwrap();
    if !out.status.success() || user_view(dir) != r.after {
        return Err(format!(
            "the next `capm {}` did not bring the project to after (exit {:?}): {}",
            next.join(" "),
            out.status.code(),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(after)
}

/// Counts of one scenario's enumeration.
#[derive(Default)]
struct Counts {
    operation_kills: usize,
    nested_states: usize,
    recovery_kills: usize,
    ended_before: usize,
    ended_after: usize,
    not_reached: usize,
    failures: Vec<String>,
}

/// How much of an enumeration runs. `None` is all.
#[derive(Clone, Copy)]
struct Extent {
    /// The operation's kill points: all, or this many chosen with a fixed seed.
    kills: Option<usize>,
    /// The states among those whose recovery is killed in turn, spread evenly.
    nested_states: Option<usize>,
    /// The kill points of each such recovery: all, or this many chosen with a fixed seed.
    nested_kills: Option<usize>,
}

/// Every kill of the operation, and every recovery call in a dozen states.
const DOZEN_STATES: Extent = Extent {
    kills: None,
    nested_states: Some(12),
    nested_kills: None,
};

/// For a larger project, a sample that keeps CI's share to half a minute or so per
/// operation.
const SAMPLE: Extent = Extent {
    kills: Some(64),
    nested_states: Some(4),
    nested_kills: Some(16),
};

impl Extent {
    /// `CAPM_CRASH_FULL=operation`: every kill of the operation, recovery killed at every
    /// call in a dozen states; `CAPM_CRASH_FULL` set otherwise: everything; unset: `self`.
    fn unless_full(self) -> Extent {
        match std::env::var("CAPM_CRASH_FULL") {
            Err(std::env::VarError::NotPresent) => self,
            Ok(v) if v == "operation" => DOZEN_STATES,
            _ => Extent {
                kills: None,
                nested_states: None,
                nested_kills: None,
            },
        }
    }
}

/// `k` of the indices `0..n` in order, chosen by a fixed xorshift seed so that every run
/// kills at the same calls; all of them when `k` is `None` or at least `n`.
fn sample(n: usize, k: Option<usize>) -> Vec<usize> {
    let mut all: Vec<usize> = (0..n).collect();
    let Some(k) = k.filter(|k| *k < n) else {
        return all;
    };
    let mut x = 0x2545_f491_4f6c_dd1du64;
    for i in 0..k {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let j = i + usize::try_from(x % (n - i) as u64).unwrap();
        all.swap(i, j);
    }
    all.truncate(k);
    all.sort_unstable();
    all
}

/// The file-changing calls of a clean run of `s` from `template`, and the trees before
/// and after it.
fn reference(s: &Scenario, work: &Path, xdg: &Path, template: &Path) -> (Vec<Call>, Reference) {
    let clean = work.join("clean");
    copy_dir(template, &clean);
    let before = user_view(&clean);
    let doctor_before = without_recovery(doctor(&clean, xdg, "doctor before").unwrap());
    assert_eq!(user_view(&clean), before, "doctor changes nothing");
    let calls = trace(&clean, xdg, s.args, &work.join("op.trace"));
    let r = Reference {
        before,
        after: user_view(&clean),
        doctor_before,
        doctor_after: without_recovery(doctor(&clean, xdg, "doctor after").unwrap()),
    };
    assert_ne!(
        r.before, r.after,
        "{}: the operation changes something",
        s.name
    );
    assert!(calls.len() >= 20, "{}: only {} calls", s.name, calls.len());
    (calls, r)
}

fn enumerate(s: &Scenario, extent: Extent) {
    if strace().is_none() {
        return;
    }
    let extent = extent.unless_full();
    let work = tempdir();
    let xdg = work.path().join("xdg");
    std::fs::create_dir_all(&xdg).unwrap();
    let template = work.path().join("template");
    std::fs::create_dir_all(&template).unwrap();
    (s.setup)(&template, &xdg);
    let (calls, r) = reference(s, work.path(), &xdg, &template);
    let chosen = sample(calls.len(), extent.kills);
    let stride = extent
        .nested_states
        .map_or(1, |n| chosen.len().div_ceil(n.max(1)));
    let mut counts = Counts::default();
    for (i, call) in chosen.iter().map(|&c| &calls[c]).enumerate() {
        let crashed = work.path().join("crashed");
        let _ = std::fs::remove_dir_all(&crashed);
        copy_dir(&template, &crashed);
        let context = format!("{} killed at {}#{}", s.name, call.name, call.nth);
        if kill_at(&crashed, &xdg, call, s.args) {
            counts.operation_kills += 1;
        } else {
            // The run took another path (a directory listed in another order, say).
            counts.not_reached += 1;
        }
        if i % stride == stride / 2 {
            counts.nested_states += 1;
            let at = Nested {
                work: work.path(),
                xdg: &xdg,
                s,
                r: &r,
                kills: extent.nested_kills,
            };
            at.crash_recovery(&crashed, &context, &mut counts);
        }
        record(&mut counts, &context, settle(&crashed, &xdg, s, &r));
    }
    report(s, calls.len(), &counts);
}

/// Prints the counts of `s`'s enumeration, past the test harness's capture so that every
/// run shows them, and fails on any inconsistency.
fn report(s: &Scenario, calls: usize, counts: &Counts) {
    let _ = writeln!(
        std::io::stderr(),
        "system-call crashes, {}: {} kills of the operation over {} file-changing calls; \
         recovery killed {} times in {} of those states; ended before {} times, after {} times \
         ({} calls not reached); {} inconsistent",
        s.name,
        counts.operation_kills,
        calls,
        counts.recovery_kills,
        counts.nested_states,
        counts.ended_before,
        counts.ended_after,
        counts.not_reached,
        counts.failures.len()
    );
    assert!(
        counts.failures.is_empty(),
        "{} of the runs ended inconsistent:\n{}",
        counts.failures.len(),
        counts.failures.join("\n\n")
    );
}

fn record(counts: &mut Counts, context: &str, outcome: Result<bool, String>) {
    match outcome {
        Ok(true) => counts.ended_after += 1,
        Ok(false) => counts.ended_before += 1,
        Err(e) => counts.failures.push(format!("{context}: {e}")),
    }
}

/// What a recovery is crashed against: the scenario, its trees, and how many of the
/// recovery's calls to kill.
struct Nested<'a> {
    work: &'a Path,
    xdg: &'a Path,
    s: &'a Scenario,
    r: &'a Reference,
    kills: Option<usize>,
}

impl Nested<'_> {
    /// Kills the recovery of `crashed` at each of its file-changing calls (or a sample of
    /// them); the next start must recover.
    fn crash_recovery(&self, crashed: &Path, context: &str, counts: &mut Counts) {
        let copy = |name: &str| {
            let d = self.work.join(name);
            let _ = std::fs::remove_dir_all(&d);
            copy_dir(crashed, &d);
            d
        };
        let probe = copy("probe");
        let calls = trace(
            &probe,
            self.xdg,
            &["doctor"],
            &self.work.join("doctor.trace"),
        );
        for call in sample(calls.len(), self.kills)
            .into_iter()
            .map(|c| &calls[c])
        {
            let dir = copy("recovering");
            let context = format!(
                "{context}, then doctor killed at {}#{}",
                call.name, call.nth
            );
            if kill_at(&dir, self.xdg, call, &["doctor"]) {
                counts.recovery_kills += 1;
            } else {
                counts.not_reached += 1;
            }
            record(counts, &context, settle(&dir, self.xdg, self.s, self.r));
        }
    }
}

#[test]
fn install_killed_at_every_file_changing_call_recovers() {
    enumerate(&opencode_scenarios()[0], DOZEN_STATES);
}

#[test]
fn update_killed_at_every_file_changing_call_recovers() {
    enumerate(&opencode_scenarios()[1], DOZEN_STATES);
}

#[test]
fn remove_killed_at_every_file_changing_call_recovers() {
    enumerate(&opencode_scenarios()[2], DOZEN_STATES);
}

#[test]
fn install_into_four_clients_killed_at_file_changing_calls_recovers() {
    enumerate(&four_client_scenarios()[0], SAMPLE);
}

#[test]
fn update_in_four_clients_killed_at_file_changing_calls_recovers() {
    enumerate(&four_client_scenarios()[1], SAMPLE);
}

#[test]
fn remove_from_four_clients_killed_at_file_changing_calls_recovers() {
    enumerate(&four_client_scenarios()[2], SAMPLE);
}

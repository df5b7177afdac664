//! Crash and fault tests of the apply path (docs/transactions.md), run against the real binary
//! built with the `failpoints` feature.
//!
//! For every operation kind, a clean run traces the fail points it passes through; then
//! for every hit of every site the operation is run again from the same starting tree and
//! killed there (`abort`), or made to fail there with an I/O error (ENOSPC, EACCES, EROFS).
//! `capm doctor` recovers, and the invariants are checked by comparing whole trees byte for
//! byte: I1 all or nothing (the tree is exactly the one before or the one after, capm.lock
//! included), I2 nothing of the user's lost (their edits are part of both trees), I3 no
//! debris (no staged files anywhere, no journal or backup left), I4 the lock tells the
//! truth (doctor's per-resource report equals the one of the clean state), I5 recovery is
//! idempotent (a second doctor changes nothing and recovers nothing). Recovery's own sites
//! are crashed too, and recovered by the next start.

#[allow(dead_code)]
#[path = "cli/support.rs"]
mod support;

#[path = "common/fixtures.rs"]
mod fixtures;

#[path = "common/clients_fixture.rs"]
mod clients_fixture;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use clients_fixture::{multi, multi_user_edits};
use fixtures::{USER_CONFIG, base, to_v2};
use support::{bin, copy_dir, tempdir};

/// capm in `dir`, reading none of the developer's own client configs: the user config
/// directories (OpenCode's, `$HOME` for the other clients, Codex's home) point at nothing.
fn capm_in(dir: &Path) -> Command {
    let mut cmd = Command::new(bin());
    cmd.current_dir(dir)
        .env("XDG_CONFIG_HOME", dir.join(".no-user-config"))
        .env("HOME", dir.join(".no-home"))
        .env("CODEX_HOME", dir.join(".no-home/.codex"))
        .env_remove("CAPM_FAILPOINTS");
    cmd
}

/// Runs capm in `dir` with extra environment variables; `None` as the code when killed.
fn run(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> (Option<i32>, String) {
    let mut cmd = capm_in(dir);
    cmd.args(args)
        .env("NO_COLOR", "1")
        .env_remove("CAPM_FAILPOINTS_TRACE");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("capm runs");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The project as the user sees it: every file and directory with its bytes, leaving out
/// only capm's bookkeeping (`.capm/lock`, `.gitignore`, `txn/`, `backup/`, `trash/`), which is
/// checked separately. Proposals and conflict copies under `.capm/` are included.
fn project_tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    support::tree(dir)
        .into_iter()
        .filter(|(k, _)| {
            !(k == ".capm/"
                || k == ".capm/lock"
                || k == ".capm/.gitignore"
                || k.starts_with(".capm/txn/")
                || k.starts_with(".capm/backup/")
                || k.starts_with(".capm/trash/"))
        })
        .collect()
}

/// I3: nothing staged anywhere, no journal, no backups.
fn assert_no_debris(dir: &Path, context: &str) {
    for (path, _) in support::tree(dir) {
        assert!(
            !path.contains(".capm-stage-"),
            "{context}: staged debris `{path}`"
        );
        assert!(
            !(path.starts_with(".capm/txn/") && path.len() > ".capm/txn/".len()),
            "{context}: journal left `{path}`"
        );
        assert!(
            !path.starts_with(".capm/backup"),
            "{context}: backup left `{path}`"
        );
        assert!(
            !path.starts_with(".capm/trash/"),
            "{context}: trash left `{path}`"
        );
    }
}

/// Doctor's per-resource report (I4), and whether it recovered anything.
fn doctor(dir: &Path) -> (serde_json::Value, bool) {
    let out = capm_in(dir)
        .args(["doctor", "--format", "json"])
        .output()
        .expect("doctor runs");
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "doctor printed no JSON ({e}): {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let rec = &doc["recovery"];
    let recovered = ["rolled_back", "finished", "conflicts", "refused"]
        .iter()
        .any(|k| rec[k].as_array().is_some_and(|a| !a.is_empty()));
    (doc["resources"].clone(), recovered)
}

/// Installs the project `setup` writes.
fn install(dir: &Path, setup: fn(&Path)) {
    setup(dir);
    let (code, err) = run(dir, &["install", "-y"], &[]);
    assert_eq!(code, Some(0), "{err}");
}

fn installed(dir: &Path) {
    install(dir, base);
}

fn user_edits(dir: &Path) {
    std::fs::write(
        dir.join(".opencode/agents/helper.md"),
        "---\ndescription: Helps\n---\nMy own helper, edited.\n",
    )
    .unwrap();
    std::fs::write(
        dir.join(".opencode/skills/notes/SKILL.md"),
        "---\nname: notes\ndescription: Takes notes\n---\nMy notes skill.\n",
    )
    .unwrap();
    let config = std::fs::read_to_string(dir.join("opencode.jsonc")).unwrap();
    std::fs::write(
        dir.join("opencode.jsonc"),
        config.replace("tokyonight", "gruvbox"),
    )
    .unwrap();
}

struct Scenario {
    name: String,
    setup: Box<dyn Fn(&Path)>,
    args: &'static [&'static str],
}

/// The six operations over the project `project` writes, the user's edits being `edits`.
fn scenarios(label: &'static str, project: fn(&Path), edits: fn(&Path)) -> Vec<Scenario> {
    let scenario = |name: &str, setup: Box<dyn Fn(&Path)>, args| Scenario {
        name: format!("{label}{name}"),
        setup,
        args,
    };
    vec![
        scenario("install", Box::new(project), &["install", "-y"]),
        scenario(
            "add",
            Box::new(move |d| install(d, project)),
            &["add", "time", "-y"],
        ),
        scenario(
            "update",
            Box::new(move |d| {
                install(d, project);
                to_v2(d);
            }),
            &["update", "-y"],
        ),
        scenario(
            "update-over-user-edit",
            Box::new(move |d| {
                install(d, project);
                edits(d);
                to_v2(d);
            }),
            &["update", "-y"],
        ),
        scenario(
            "uninstall",
            Box::new(move |d| install(d, project)),
            &["remove", "tool", "-y"],
        ),
        scenario(
            "uninstall-over-user-edit",
            Box::new(move |d| {
                install(d, project);
                edits(d);
            }),
            &["remove", "tool", "-y"],
        ),
    ]
}

/// The (site, hit number) pairs a run passes through, in order.
fn hits(trace: &str) -> Vec<(String, usize)> {
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    trace
        .lines()
        .map(|site| {
            let n = seen.entry(site).or_default();
            *n += 1;
            (site.to_string(), *n)
        })
        .collect()
}

struct Reference {
    /// The operation, run again after each recovery.
    args: Vec<String>,
    before: BTreeMap<String, Vec<u8>>,
    after: BTreeMap<String, Vec<u8>>,
    doctor_before: serde_json::Value,
    doctor_after: serde_json::Value,
}

/// Checks I1–I5 on `dir` after a fault and a recovery.
fn check(dir: &Path, r: &Reference, context: &str) -> bool {
    let (resources, _) = doctor(dir);
    let now = project_tree(dir);
    let is_before = now == r.before;
    let is_after = now == r.after;
    if !(is_before || is_after) {
        let diff: Vec<String> = now
            .keys()
            .chain(r.before.keys())
            .chain(r.after.keys())
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .filter(|k| now.get(*k) != r.before.get(*k) || now.get(*k) != r.after.get(*k))
            .map(|k| {
                format!(
                    "{k}: now {} before {} after {}",
                    now.contains_key(k),
                    r.before.contains_key(k),
                    r.after.contains_key(k)
                )
            })
            .collect();
        panic!("{context}: I1 violated, the tree is neither before nor after:\n{diff:#?}");
    }
    assert_no_debris(dir, context);
    let expected = if is_after {
        &r.doctor_after
    } else {
        &r.doctor_before
    };
    assert_eq!(&resources, expected, "{context}: I4, capm.lock vs disk");
    let (_, recovered_again) = doctor(dir);
    assert!(
        !recovered_again,
        "{context}: I5, a second recovery did work"
    );
    assert_eq!(
        project_tree(dir),
        now,
        "{context}: I5, a second recovery changed files"
    );
    operation_succeeds_again(dir, r, is_after, context);
    is_after
}

/// Liveness: from before, the operation runs again and brings the project to after; from
/// after, an install has nothing left to do.
fn operation_succeeds_again(dir: &Path, r: &Reference, is_after: bool, context: &str) {
    let args: Vec<&str> = if is_after {
        vec!["install", "-y"]
    } else {
        r.args.iter().map(String::as_str).collect()
    };
    let (code, err) = run(dir, &args, &[]);
    assert_eq!(code, Some(0), "{context}: the next {args:?}: {err}");
    assert!(
        project_tree(dir) == r.after,
        "{context}: the next {args:?} did not bring the project to after"
    );
}

#[test]
fn every_fail_point_of_every_operation_recovers_to_before_or_after() {
    let sites = every_fail_point(scenarios("", base, user_edits));
    assert!(sites.len() >= 12, "{sites:?}");
}

#[test]
fn every_fail_point_over_four_clients_recovers_to_before_or_after() {
    let sites = every_fail_point(scenarios("four-clients-", multi, multi_user_edits));
    assert!(sites.len() >= 12, "{sites:?}");
}

/// Runs each scenario killed, then failed with an I/O error, at every hit of every fail
/// point of its clean run (§6.2 of docs/transactions.md); returns the sites passed.
fn every_fail_point(scenarios: Vec<Scenario>) -> std::collections::BTreeSet<String> {
    let work = tempdir();
    let mut sites = std::collections::BTreeSet::new();
    let mut runs = 0usize;
    for s in scenarios {
        let template = work.path().join(format!("{}-template", s.name));
        std::fs::create_dir_all(&template).unwrap();
        (s.setup)(&template);
        let (reference, points) = clean_run(work.path(), &s, &template);
        for (i, (site, nth)) in points.iter().enumerate() {
            sites.insert(site.clone());
            let at = Fault {
                work: work.path(),
                s: &s,
                template: &template,
                r: &reference,
            };
            sites.extend(at.killed(i, site, *nth));
            at.failed(i, site, *nth);
            runs += 2;
        }
    }
    println!(
        "fail points: {} sites, {} fault runs: {}",
        sites.len(),
        runs,
        sites.iter().cloned().collect::<Vec<_>>().join(", ")
    );
    sites
}

/// The clean run of `s` from `template`: the trees and reports before and after, and the
/// (site, hit) pairs it passes.
fn clean_run(work: &Path, s: &Scenario, template: &Path) -> (Reference, Vec<(String, usize)>) {
    let clean = work.join(format!("{}-clean", s.name));
    copy_dir(template, &clean);
    let trace = work.join(format!("{}.trace", s.name));
    let (before_doctor, _) = doctor(template);
    let (code, err) = run(
        &clean,
        s.args,
        &[("CAPM_FAILPOINTS_TRACE", trace.to_str().unwrap())],
    );
    assert_eq!(code, Some(0), "{}: {err}", s.name);
    let (after_doctor, _) = doctor(&clean);
    let reference = Reference {
        args: s.args.iter().map(|a| a.to_string()).collect(),
        before: project_tree(template),
        after: project_tree(&clean),
        doctor_before: before_doctor,
        doctor_after: after_doctor,
    };
    assert_ne!(
        reference.before, reference.after,
        "{}: changes something",
        s.name
    );
    let points = hits(&std::fs::read_to_string(&trace).unwrap());
    assert!(points.len() >= 8, "{}: only {} hits", s.name, points.len());
    (reference, points)
}

/// One scenario's faults, each run on a fresh copy of its starting tree.
struct Fault<'a> {
    work: &'a Path,
    s: &'a Scenario,
    template: &'a Path,
    r: &'a Reference,
}

impl Fault<'_> {
    /// Killed on the spot at the `nth` hit of `site`, then recovered by the next capm; at
    /// the second `swapped`, recovery itself is crashed at each of its sites. Returns the
    /// recovery's sites.
    fn killed(&self, i: usize, site: &str, nth: usize) -> Vec<String> {
        let name = &self.s.name;
        let dir = self.work.join(format!("{name}-{i}-abort"));
        copy_dir(self.template, &dir);
        let rule = format!("{site}#{nth}=abort");
        let (code, err) = run(&dir, self.s.args, &[("CAPM_FAILPOINTS", &rule)]);
        assert_eq!(code, None, "{name}: {rule} did not kill capm: {err}");
        let context = format!("{name} {rule}");
        let mut sites = Vec::new();
        if site == "swapped" && nth == 2 {
            sites = crash_recovery(self.work, &dir, self.r, &context);
        }
        check(&dir, self.r, &context);
        std::fs::remove_dir_all(&dir).unwrap();
        sites
    }

    /// An I/O error (ENOSPC, EACCES or EROFS in turn) at the `nth` hit of `site`: capm
    /// rolls back itself (or, past the commit point, finishes) and says so.
    fn failed(&self, i: usize, site: &str, nth: usize) {
        let errors = ["enospc", "eacces", "erofs"];
        let name = &self.s.name;
        let dir = self.work.join(format!("{name}-{i}-error"));
        copy_dir(self.template, &dir);
        let rule = format!("{site}#{nth}={}", errors[i % errors.len()]);
        let (code, err) = run(&dir, self.s.args, &[("CAPM_FAILPOINTS", &rule)]);
        if project_tree(&dir) == self.r.after {
            assert_eq!(code, Some(0), "{name}: {rule}: {err}");
        } else {
            assert_eq!(code, Some(2), "{name}: {rule}: {err}");
            assert!(err.contains("error"), "{name}: {rule}: {err}");
            assert_eq!(
                project_tree(&dir),
                self.r.before,
                "{name}: {rule}: an I/O error must roll back at once"
            );
        }
        check(&dir, self.r, &format!("{name} {rule}"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

/// Crashes the recovery of the interrupted project `crashed` at each of its own sites,
/// then lets the next start recover; returns the sites.
fn crash_recovery(work: &Path, crashed: &Path, r: &Reference, context: &str) -> Vec<String> {
    let trace = work.join("recovery.trace");
    let _ = std::fs::remove_file(&trace);
    let probe = work.join("probe");
    copy_dir(crashed, &probe);
    run(
        &probe,
        &["doctor"],
        &[("CAPM_FAILPOINTS_TRACE", trace.to_str().unwrap())],
    );
    std::fs::remove_dir_all(&probe).unwrap();
    let points = hits(&std::fs::read_to_string(&trace).unwrap());
    assert!(
        points.iter().any(|(s, _)| s == "recover-op"),
        "{context}: {points:?}"
    );
    for (i, (site, nth)) in points.iter().enumerate() {
        let dir = work.join(format!("recovery-{i}"));
        copy_dir(crashed, &dir);
        let rule = format!("{site}#{nth}=abort");
        let (code, _) = run(&dir, &["doctor"], &[("CAPM_FAILPOINTS", &rule)]);
        assert_eq!(code, None, "{context}: {rule} did not kill the recovery");
        check(&dir, r, &format!("{context}, then recovery {rule}"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
    points.into_iter().map(|(s, _)| s).collect()
}

#[test]
fn kill_9_at_random_moments_leaves_before_or_after() {
    let work = tempdir();
    let template = work.path().join("template");
    std::fs::create_dir_all(&template).unwrap();
    base(&template);
    // Every catalog bundle that installs locally, for a long enough transaction.
    let bundles = [
        "code-review",
        "docs-writing",
        "filesystem",
        "memory",
        "time",
        "fetch",
        "git",
        "sequential-thinking",
    ];
    let mut args = vec!["add"];
    args.extend(bundles);
    args.push("-y");
    let clean = work.path().join("clean");
    copy_dir(&template, &clean);
    let (before_doctor, _) = doctor(&template);
    let start = std::time::Instant::now();
    let (code, err) = run(&clean, &args, &[]);
    let took = start.elapsed();
    assert_eq!(code, Some(0), "{err}");
    let (after_doctor, _) = doctor(&clean);
    let reference = Reference {
        args: args.iter().map(|a| a.to_string()).collect(),
        before: project_tree(&template),
        after: project_tree(&clean),
        doctor_before: before_doctor,
        doctor_after: after_doctor,
    };
    let mut outcomes = [0usize; 2];
    // A cheap deterministic spread of moments over the run's length.
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    for i in 0..40 {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let delay = took.mul_f64((seed % 1000) as f64 / 1000.0 * 1.2);
        let dir = work.path().join(format!("k{i}"));
        copy_dir(&template, &dir);
        let mut child = capm_in(&dir)
            .args(&args)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(delay);
        let _ = child.kill();
        let _ = child.wait();
        let after = check(&dir, &reference, &format!("kill after {delay:?}"));
        outcomes[usize::from(after)] += 1;
        std::fs::remove_dir_all(&dir).unwrap();
    }
    println!(
        "kill -9: {} runs left the project as before, {} as after (clean run {took:?})",
        outcomes[0], outcomes[1]
    );
}

#[test]
fn a_config_rewritten_between_plan_and_swap_aborts_and_keeps_the_rewrite() {
    let work = tempdir();
    let dir = work.path().join("p");
    std::fs::create_dir_all(&dir).unwrap();
    base(&dir);
    let before = project_tree(&dir);
    // Another program (the agent client, say) rewrites the config just before capm's
    // compare-and-swap of it.
    let rewrite = "run:sed -i s/tokyonight/solarized/ opencode.jsonc";
    let (code, err) = run(
        &dir,
        &["install", "-y"],
        &[("CAPM_FAILPOINTS", &format!("swap#1={rewrite}"))],
    );
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("error[plan-stale]"), "{err}");
    assert!(
        err.contains("`opencode.jsonc` was changed by another program"),
        "{err}"
    );
    let mut expected = before.clone();
    expected.insert(
        "opencode.jsonc".into(),
        USER_CONFIG.replace("tokyonight", "solarized").into_bytes(),
    );
    assert_eq!(
        project_tree(&dir),
        expected,
        "rolled back, the rewrite kept"
    );
    assert_no_debris(&dir, "after the aborted swap");
}

#[test]
fn a_config_rewritten_after_capm_wrote_it_is_kept_on_rollback() {
    let work = tempdir();
    let dir = work.path().join("p");
    std::fs::create_dir_all(&dir).unwrap();
    base(&dir);
    let before = project_tree(&dir);
    // capm has swapped the config in; the client then rewrites it, and a later step fails.
    let rules = "swap#3=run:sed -i s/tokyonight/solarized/ opencode.jsonc;swapped#4=enospc";
    let (code, err) = run(&dir, &["install", "-y"], &[("CAPM_FAILPOINTS", rules)]);
    // The client's file stays as the client wrote it: capm's entry and the client's edit.
    let config = kept_with_saved_copy(&dir, &before, "opencode.jsonc", USER_CONFIG, (code, &err));
    assert!(
        config.contains("solarized") && config.contains("\"tool\""),
        "{config}"
    );
    let now = project_tree(&dir);
    assert!(!now.contains_key("capm.lock") && !now.contains_key(".opencode/"));
    assert_no_debris(&dir, "after the rollback");
}

/// After an ENOSPC that rolled back a transaction in which another program rewrote `file`
/// after capm: the error names the file and the saved copy, the copy holds the user's
/// `original`, and every other file is as `before`. Returns the file's text now.
fn kept_with_saved_copy(
    dir: &Path,
    before: &BTreeMap<String, Vec<u8>>,
    file: &str,
    original: &str,
    (code, err): (Option<i32>, &str),
) -> String {
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("No space left on device"), "{err}");
    let named = format!("`{file}` (its earlier content is saved at `.capm/conflicts/");
    assert!(err.contains(&named), "{err}");
    let now = project_tree(dir);
    // The user's original is kept where they can find it, and reported.
    let saved: Vec<&String> = now
        .keys()
        .filter(|k| k.starts_with(".capm/conflicts/") && k.ends_with(&format!("/{file}")))
        .collect();
    assert_eq!(saved.len(), 1, "{:?}", now.keys().collect::<Vec<_>>());
    assert_eq!(now[saved[0]], original.as_bytes());
    // Everything else is as before.
    for (k, v) in before {
        if k != file {
            assert_eq!(now.get(k), Some(v), "{k}");
        }
    }
    String::from_utf8(now[file].clone()).unwrap()
}

/// A model-based test: random sequences of install, update, uninstall, user edits and
/// crashes at random fail points followed by recovery, checked after every step against a
/// reference model of what the project must hold.
mod model {
    use std::collections::BTreeMap;
    use std::path::Path;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use proptest::prelude::*;

    use super::{assert_no_debris, run};

    const NAMES: [&str; 2] = ["alpha", "beta"];

    /// What the runs of one project's sequences came to.
    struct Counts {
        runs: AtomicUsize,
        rolled_back: AtomicUsize,
        finished: AtomicUsize,
    }

    impl Counts {
        const fn new() -> Counts {
            Counts {
                runs: AtomicUsize::new(0),
                rolled_back: AtomicUsize::new(0),
                finished: AtomicUsize::new(0),
            }
        }

        fn add(count: &AtomicUsize) {
            count.fetch_add(1, Ordering::Relaxed);
        }

        /// Prints the counts; the sequences must have crashed somewhere.
        fn report(&self, project: &str) {
            let load = |a: &AtomicUsize| a.load(Ordering::Relaxed);
            println!(
                "model, {project}: {} capm runs, {} crashes rolled back, {} finished",
                load(&self.runs),
                load(&self.rolled_back),
                load(&self.finished)
            );
            // Which way a crash goes depends on the random site; the enumeration above
            // covers both deterministically. Here the sequences must have crashed somewhere.
            assert!(load(&self.rolled_back) + load(&self.finished) > 0);
        }
    }

    /// The clients a model project is installed into, and where each keeps what.
    struct Clients {
        name: &'static str,
        /// capm.toml up to its bundles, a comment of the user's included.
        manifest_head: &'static str,
        /// Each config file: its path, the user's content, and lines of it that must stay
        /// (the first one at the start of the file).
        configs: &'static [Config],
        /// The agent the user edits (`{n}` the bundle's name).
        edited_agent: &'static str,
        /// The other clients' copies of that agent.
        other_agents: &'static [&'static str],
        /// Every copy of the skill.
        skills: &'static [&'static str],
        counts: Counts,
    }

    /// The user's OpenCode config: a comment, a setting and a server of their own.
    type Config = (&'static str, &'static str, &'static [&'static str]);
    const OPENCODE_CONFIG: Config = (
        "opencode.json",
        "// my settings, keep me\n{\n  \"theme\": \"mine\", // mine\n  \"mcp\": {\n    \"own\": { \"type\": \"remote\", \"url\": \"https://own.example.com/mcp\" },\n  },\n}\n",
        &[
            "// my settings, keep me\n{\n  \"theme\": \"mine\", // mine\n",
            "\"own\": { \"type\": \"remote\"",
        ],
    );

    static OPENCODE: Clients = Clients {
        name: "OpenCode",
        manifest_head: "# my project: keep this comment\n[bundles]\n",
        configs: &[OPENCODE_CONFIG],
        edited_agent: ".opencode/agents/{n}-agent.md",
        other_agents: &[],
        skills: &[".opencode/skills/{n}-notes/SKILL.md"],
        counts: Counts::new(),
    };

    static FOUR_CLIENTS: Clients = Clients {
        name: "four clients",
        manifest_head: "# my project: keep this comment\n[project]\ntargets = [\"opencode\", \"claude-code\", \"codex\", \"gemini\"]\n\n[bundles]\n",
        configs: &[
            OPENCODE_CONFIG,
            (
                ".mcp.json",
                "{\n  \"mcpServers\": {\n    \"own\": { \"type\": \"stdio\", \"command\": \"own-server\" }\n  }\n}\n",
                &[
                    "{\n  \"mcpServers\": {\n    \"own\": { \"type\": \"stdio\", \"command\": \"own-server\" }",
                ],
            ),
            (
                ".codex/config.toml",
                "# my Codex settings, keep me\nmodel = \"gpt-5\"  # mine\n\n[mcp_servers.own]\ncommand = \"own-server\"  # mine too\n",
                &[
                    "# my Codex settings, keep me\nmodel = \"gpt-5\"  # mine\n\n[mcp_servers.own]\ncommand = \"own-server\"  # mine too\n",
                ],
            ),
            (
                ".gemini/settings.json",
                "// my Gemini settings, keep me\n{\n  \"ui\": { \"theme\": \"GitHub\" }, // mine\n  \"mcpServers\": {\n    \"own\": { \"command\": \"own-server\" }\n  }\n}\n",
                &[
                    "// my Gemini settings, keep me\n{\n  \"ui\": { \"theme\": \"GitHub\" }, // mine\n",
                    "\"own\": { \"command\": \"own-server\" }",
                ],
            ),
        ],
        edited_agent: ".claude/agents/{n}-agent.md",
        other_agents: &[
            ".opencode/agents/{n}-agent.md",
            ".gemini/agents/{n}-agent.md",
            ".codex/agents/{n}-agent.toml",
        ],
        skills: &[
            ".claude/skills/{n}-notes/SKILL.md",
            ".agents/skills/{n}-notes/SKILL.md",
        ],
        counts: Counts::new(),
    };

    #[test]
    fn the_model_test_crashes_and_recovers() {
        random_sequences_match_the_model();
        OPENCODE.counts.report(OPENCODE.name);
    }

    #[test]
    fn the_model_test_over_four_clients_crashes_and_recovers() {
        random_sequences_in_four_clients_match_the_model();
        FOUR_CLIENTS.counts.report(FOUR_CLIENTS.name);
    }

    const SITES: [&str; 8] = [
        "journal-written",
        "staged",
        "backed-up",
        "swap",
        "swapped",
        "synced",
        "lock-replaced",
        "committed",
    ];

    #[derive(Clone, Debug)]
    enum Step {
        Install(usize),
        Update(usize),
        Uninstall(usize, bool),
        Edit(usize),
    }

    fn step() -> impl Strategy<Value = (Step, Option<(usize, u32)>)> {
        let s = prop_oneof![
            (0..2usize).prop_map(Step::Install),
            (0..2usize).prop_map(Step::Update),
            (0..2usize, any::<bool>()).prop_map(|(i, p)| Step::Uninstall(i, p)),
            (0..2usize).prop_map(Step::Edit),
        ];
        let crash = prop::option::weighted(0.4, (0..SITES.len(), 1..4u32));
        (s, crash)
    }

    /// What the project must hold.
    #[derive(Clone, Debug, Default, PartialEq)]
    struct Model {
        /// Bundles in capm.toml.
        requested: Vec<usize>,
        /// Bundles in capm.lock, with their versions.
        installed: BTreeMap<usize, u32>,
        /// The version each vendored bundle is at.
        vendor: [u32; 2],
        /// User edits of installed agents.
        edited: BTreeMap<usize, String>,
        /// Agents left to the user by an uninstall.
        orphans: BTreeMap<usize, String>,
    }

    fn write_bundle(dir: &Path, i: usize, v: u32) {
        let n = NAMES[i];
        let root = dir.join("vendor").join(n);
        let _ = std::fs::remove_dir_all(&root);
        let files = [
            (
                "bundle.toml".to_string(),
                format!(
                    "[bundle]\nname = \"{n}\"\nversion = \"1.{v}.0\"\ndescription = \"The {n} bundle\"\nlicense = \"MIT\"\n\n[compatibility.product-modes]\ndesktop-local = \"supported\"\n\n[mcp.{n}]\nurl = \"https://{n}.example.com/v{v}/mcp\"\n\n[skills.{n}-notes]\npath = \"skills/{n}-notes\"\n\n[agents.{n}-agent]\npath = \"agents/{n}-agent.md\"\n"
                ),
            ),
            (
                format!("skills/{n}-notes/SKILL.md"),
                format!("---\nname: {n}-notes\ndescription: Notes\n---\n{n} notes v{v}\n"),
            ),
            (
                format!("agents/{n}-agent.md"),
                format!("---\ndescription: Agent\n---\n{n} agent v{v}\n"),
            ),
        ];
        for (rel, text) in files {
            let p = root.join(rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        }
    }

    fn write_manifest(dir: &Path, c: &Clients, requested: &[usize]) {
        let mut text = c.manifest_head.to_string();
        for i in requested {
            text.push_str(&format!("{0} = {{ path = \"vendor/{0}\" }}\n", NAMES[*i]));
        }
        std::fs::write(dir.join("capm.toml"), text).unwrap();
    }

    /// `pattern` for bundle `i`.
    fn place(dir: &Path, pattern: &str, i: usize) -> std::path::PathBuf {
        dir.join(pattern.replace("{n}", NAMES[i]))
    }

    /// The lock's bundles as (name, version).
    fn locked(dir: &Path) -> BTreeMap<String, String> {
        let Ok(text) = std::fs::read_to_string(dir.join("capm.lock")) else {
            return BTreeMap::new();
        };
        let doc: toml::Value = toml::from_str(&text).unwrap();
        doc.get("bundle")
            .and_then(|b| b.as_array())
            .into_iter()
            .flatten()
            .map(|b| {
                (
                    b["name"].as_str().unwrap().to_string(),
                    b["version"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    }

    fn expected_lock(m: &Model) -> BTreeMap<String, String> {
        m.installed
            .iter()
            .map(|(i, v)| (NAMES[*i].to_string(), format!("1.{v}.0")))
            .collect()
    }

    /// Checks the project against the model.
    fn check(dir: &Path, c: &Clients, m: &Model, context: &str) {
        assert_eq!(locked(dir), expected_lock(m), "{context}: capm.lock");
        for (file, _, keep) in c.configs {
            check_config(dir, file, keep, m, context);
        }
        for (i, n) in NAMES.iter().enumerate() {
            let installed = m.installed.get(&i);
            let agent_text = std::fs::read_to_string(place(dir, c.edited_agent, i)).ok();
            let want = if let Some(e) = m.edited.get(&i).or(m.orphans.get(&i)) {
                Some(e.clone())
            } else {
                installed.map(|v| agent(c, n, *v))
            };
            assert_eq!(agent_text, want, "{context}: {n}'s agent");
            for other in c.other_agents {
                let text = std::fs::read_to_string(place(dir, other, i)).ok();
                assert_eq!(
                    text.is_some(),
                    installed.is_some(),
                    "{context}: {n}'s agent in {other}"
                );
                if let (Some(text), Some(v)) = (text, installed) {
                    let body = format!("\n{n} agent v{v}\n");
                    assert!(text.contains(&body), "{context}: {other}: {text}");
                }
            }
            for skill in c.skills {
                assert_eq!(
                    std::fs::read_to_string(place(dir, skill, i)).ok(),
                    installed.map(|v| format!(
                        "---\nname: {n}-notes\ndescription: Notes\n---\n{n} notes v{v}\n"
                    )),
                    "{context}: {n}'s skill in {skill}"
                );
            }
        }
        let manifest = std::fs::read_to_string(dir.join("capm.toml")).unwrap();
        assert!(
            manifest.starts_with(c.manifest_head),
            "{context}: {manifest}"
        );
        assert_no_debris(dir, context);
    }

    /// The agent file capm writes for the client the user edits.
    fn agent(c: &Clients, n: &str, v: u32) -> String {
        if c.edited_agent.starts_with(".claude/") {
            format!("---\nname: {n}-agent\ndescription: Agent\n---\n{n} agent v{v}\n")
        } else {
            format!("---\ndescription: Agent\n---\n{n} agent v{v}\n")
        }
    }

    /// The user's lines of `file` are all there, and exactly the installed bundles' servers.
    fn check_config(dir: &Path, file: &str, keep: &[&str], m: &Model, context: &str) {
        let config = std::fs::read_to_string(dir.join(file)).unwrap();
        assert!(
            config.starts_with(keep[0]),
            "{context}: the user's lines of {file}: {config}"
        );
        for line in &keep[1..] {
            assert!(config.contains(line), "{context}: {line} in {file}");
        }
        for (i, n) in NAMES.iter().enumerate() {
            match m.installed.get(&i) {
                Some(v) => {
                    let url = format!("https://{n}.example.com/v{v}/mcp");
                    assert!(
                        config.contains(&url),
                        "{context}: {url} in {file}: {config}"
                    );
                }
                None => assert!(
                    !config.contains(&format!("{n}.example.com")),
                    "{context}: {n} left in {file}: {config}"
                ),
            }
        }
    }
    /// What a step does before capm runs: the user's own edits (of an agent, or of
    /// capm.toml), and the command to run with the model after its success; `None` when
    /// the step leaves capm nothing to do.
    fn prepare(dir: &Path, c: &Clients, m: &Model, step: &Step) -> Option<(Vec<String>, Model)> {
        let mut after = m.clone();
        let args = match step {
            Step::Edit(i) => {
                if m.installed.contains_key(i) {
                    let text = format!("my own {} agent, edit {}\n", NAMES[*i], m.vendor[*i]);
                    std::fs::write(place(dir, c.edited_agent, *i), &text).unwrap();
                    after.edited.insert(*i, text);
                }
                return Some((Vec::new(), after));
            }
            Step::Install(i) => {
                if m.requested.contains(i) {
                    return None;
                }
                after.requested.push(*i);
                write_manifest(dir, c, &after.requested);
                vec!["install".to_string(), "-y".to_string()]
            }
            Step::Update(i) => {
                after.vendor[*i] += 1;
                write_bundle(dir, *i, after.vendor[*i]);
                vec!["update".to_string(), "-y".to_string()]
            }
            Step::Uninstall(i, purge) => {
                if !m.requested.contains(i) {
                    return None;
                }
                after.requested.retain(|x| x != i);
                let mut args = vec!["remove".to_string(), NAMES[*i].to_string(), "-y".into()];
                args.extend(purge.then(|| "--purge".to_string()));
                args
            }
        };
        after.installed = after
            .requested
            .iter()
            .map(|i| (*i, after.vendor[*i]))
            .collect();
        // An updated bundle keeps the user's edit; an uninstalled one leaves it to them.
        if let Step::Uninstall(i, purge) = step
            && let Some(text) = after.edited.remove(i)
            && !purge
        {
            after.orphans.insert(*i, text);
        }
        Some((args, after))
    }

    /// Runs one step (crashing it at `crash` if given, then recovering), and returns the
    /// model after it.
    fn apply(
        dir: &Path,
        c: &Clients,
        m: &Model,
        step: &Step,
        crash: Option<(usize, u32)>,
    ) -> Model {
        let Some((args, after)) = prepare(dir, c, m, step) else {
            return m.clone();
        };
        if args.is_empty() {
            return after;
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        if let Step::Install(i) = step
            && m.orphans.contains_key(i)
        {
            // The user's own file is in the way: the plan is blocked.
            let (code, err) = run(dir, &args, &[]);
            assert_eq!(code, Some(1), "{err}");
            write_manifest(dir, c, &m.requested);
            return m.clone();
        }
        let rule = crash.map(|(s, n)| format!("{}#{n}=abort", SITES[s]));
        let env: Vec<(&str, &str)> = rule
            .as_deref()
            .map(|r| vec![("CAPM_FAILPOINTS", r)])
            .unwrap_or_default();
        let (code, err) = run(dir, &args, &env);
        Counts::add(&c.counts.runs);
        if code.is_some() {
            assert_eq!(code, Some(0), "{step:?}: {err}");
            return after;
        }
        recovered(dir, c, m, step, after)
    }

    /// After a kill: the next capm recovers to the model before the step or after it.
    fn recovered(dir: &Path, c: &Clients, m: &Model, step: &Step, after: Model) -> Model {
        let (code, err) = run(dir, &["doctor"], &[]);
        assert!(matches!(code, Some(0 | 1)), "{err}");
        if locked(dir) == expected_lock(&after) && expected_lock(&after) != expected_lock(m) {
            Counts::add(&c.counts.finished);
            return after;
        }
        let mut before = m.clone();
        before.vendor = after.vendor;
        if matches!(step, Step::Install(_)) {
            // Undo the test's own edit of capm.toml, which the rollback rightly kept.
            write_manifest(dir, c, &m.requested);
        }
        Counts::add(&c.counts.rolled_back);
        before
    }

    /// Runs `steps` on a new project in the clients `c`, checking it after each.
    fn sequence(c: &Clients, steps: &[(Step, Option<(usize, u32)>)]) {
        let tmp = super::tempdir();
        let dir = tmp.path();
        write_manifest(dir, c, &[]);
        for (file, text, _) in c.configs {
            let path = dir.join(file);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        let mut m = Model {
            vendor: [1, 1],
            ..Model::default()
        };
        for i in 0..2 {
            write_bundle(dir, i, 1);
        }
        for (n, (step, crash)) in steps.iter().enumerate() {
            m = apply(dir, c, &m, step, *crash);
            check(dir, c, &m, &format!("step {n} {step:?} crash {crash:?}"));
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]
        fn random_sequences_match_the_model(steps in prop::collection::vec(step(), 1..9)) {
            sequence(&OPENCODE, &steps);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]
        fn random_sequences_in_four_clients_match_the_model(
            steps in prop::collection::vec(step(), 1..9)
        ) {
            sequence(&FOUR_CLIENTS, &steps);
        }
    }
}

#[test]
fn a_conflict_copy_is_still_reported_after_an_interrupted_recovery() {
    let work = tempdir();
    let dir = work.path().join("p");
    std::fs::create_dir_all(&dir).unwrap();
    base(&dir);
    // capm swaps the config in, the client rewrites it, capm is killed; the recovery that
    // keeps the client's file and saves the user's original is killed before it finishes.
    let rules = "swapped#1=run:printf '{\"theirs\": 1}\\n' > opencode.jsonc;swapped#2=abort";
    assert_eq!(
        run(&dir, &["install", "-y"], &[("CAPM_FAILPOINTS", rules)]).0,
        None
    );
    assert_eq!(
        run(
            &dir,
            &["doctor"],
            &[("CAPM_FAILPOINTS", "recover-undone=abort")]
        )
        .0,
        None
    );
    let out = capm_in(&dir)
        .args(["doctor", "--format", "json"])
        .output()
        .unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let conflicts = doc["recovery"]["conflicts"].as_array().unwrap();
    assert_eq!(conflicts.len(), 1, "{doc:#}");
    assert_eq!(conflicts[0]["path"], "opencode.jsonc");
    let saved = conflicts[0]["saved"]
        .as_str()
        .expect("the saved copy is reported");
    assert_eq!(
        std::fs::read_to_string(dir.join(saved)).unwrap(),
        USER_CONFIG
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("opencode.jsonc")).unwrap(),
        "{\"theirs\": 1}\n"
    );
    assert_no_debris(&dir, "after the second recovery");
}

/// A project at tool 1.0.0 whose update to 2.0.0 was killed at `rule`.
fn interrupted_update(dir: &Path, rule: &str) {
    installed(dir);
    to_v2(dir);
    let (code, err) = run(dir, &["update", "-y"], &[("CAPM_FAILPOINTS", rule)]);
    assert_eq!(code, None, "{rule} did not kill capm: {err}");
}

fn recovery_list(report: &serde_json::Value, key: &str) -> Vec<serde_json::Value> {
    report["recovery"][key]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

fn doctor_report(dir: &Path, env: &[(&str, &str)]) -> serde_json::Value {
    let out = capm_in(dir)
        .args(["doctor", "--format", "json"])
        .envs(env.iter().copied())
        .output()
        .unwrap();
    serde_json::from_slice(&out.stdout).expect("doctor prints its report")
}

#[test]
fn a_lock_arriving_from_elsewhere_does_not_finish_a_half_applied_update() {
    let work = tempdir();
    // The lock a teammate committed after the same update.
    let theirs = work.path().join("theirs");
    installed(&theirs);
    to_v2(&theirs);
    let (code, err) = run(&theirs, &["update", "-y"], &[]);
    assert_eq!(code, Some(0), "{err}");
    let dir = work.path().join("mine");
    installed(&dir);
    to_v2(&dir);
    let before = project_tree(&dir);
    let (code, _) = run(
        &dir,
        &["update", "-y"],
        &[("CAPM_FAILPOINTS", "swapped#1=abort")],
    );
    assert_eq!(code, None);
    // `git pull` brings the same bytes capm was about to write.
    std::fs::copy(theirs.join("capm.lock"), dir.join("capm.lock")).unwrap();
    let report = doctor_report(&dir, &[]);
    assert_eq!(recovery_list(&report, "finished").len(), 0, "{report:#}");
    assert_eq!(recovery_list(&report, "rolled_back").len(), 1, "{report:#}");
    assert_eq!(project_tree(&dir), before, "rolled back whole");
}

#[test]
fn an_interrupted_recovery_still_reports_a_directory_kept_as_a_conflict() {
    let work = tempdir();
    let dir = work.path().join("p");
    interrupted_update(&dir, "synced=abort");
    // The user adds a file to the new skill before anything recovers.
    std::fs::write(dir.join(".opencode/skills/notes/mine.txt"), "mine\n").unwrap();
    let (code, _) = run(
        &dir,
        &["doctor"],
        &[("CAPM_FAILPOINTS", "recover-undone=abort")],
    );
    assert_eq!(code, None);
    let report = doctor_report(&dir, &[]);
    let conflicts = recovery_list(&report, "conflicts");
    assert!(
        conflicts
            .iter()
            .any(|c| c["path"] == ".opencode/skills/notes"
                && c["saved"].as_str().is_some_and(|s| dir.join(s).is_dir())),
        "{report:#}"
    );
    assert_eq!(
        std::fs::read_to_string(dir.join(".opencode/skills/notes/mine.txt")).unwrap(),
        "mine\n"
    );
}

#[test]
fn a_crash_before_any_swap_takes_no_later_user_edit_for_a_conflict() {
    let work = tempdir();
    let dir = work.path().join("p");
    interrupted_update(&dir, "backed-up#1=abort");
    let config = std::fs::read_to_string(dir.join("opencode.jsonc")).unwrap();
    let edited = config.replace("tokyonight", "gruvbox");
    std::fs::write(dir.join("opencode.jsonc"), &edited).unwrap();
    let report = doctor_report(&dir, &[]);
    assert_eq!(recovery_list(&report, "rolled_back").len(), 1, "{report:#}");
    assert!(recovery_list(&report, "conflicts").is_empty(), "{report:#}");
    assert_eq!(
        std::fs::read_to_string(dir.join("opencode.jsonc")).unwrap(),
        edited
    );
    assert!(!dir.join(".capm/conflicts").exists());
}

#[test]
fn doctor_reports_what_it_recovered_beside_a_refused_journal() {
    let work = tempdir();
    let dir = work.path().join("p");
    interrupted_update(&dir, "synced=abort");
    let txn = dir.join(".capm/txn");
    let journal = std::fs::read_dir(&txn).unwrap().next().unwrap().unwrap();
    // A copy under another name names the wrong transaction, and is refused.
    std::fs::copy(journal.path(), txn.join("ffffffffffffffff.jsonl")).unwrap();
    let mut config = std::fs::read_to_string(dir.join("opencode.jsonc")).unwrap();
    config.push_str("// mine\n");
    std::fs::write(dir.join("opencode.jsonc"), &config).unwrap();
    let report = doctor_report(&dir, &[]);
    assert_eq!(recovery_list(&report, "refused").len(), 1, "{report:#}");
    assert_eq!(recovery_list(&report, "rolled_back").len(), 1, "{report:#}");
    assert!(
        recovery_list(&report, "conflicts")
            .iter()
            .any(|c| c["path"] == "opencode.jsonc" && c["saved"].is_string()),
        "{report:#}"
    );
}

#[test]
fn a_project_that_is_the_global_config_directory_locks_once() {
    let work = tempdir();
    let xdg = work.path().join("config");
    let dir = xdg.join("opencode");
    base(&dir);
    std::fs::write(
        dir.join("capm.toml"),
        "[project]\nscope = \"global\"\n\n[bundles]\ntool = { path = \"vendor/tool\" }\n",
    )
    .unwrap();
    let env = [
        ("XDG_CONFIG_HOME", xdg.to_str().unwrap()),
        ("CAPM_LOCK_TIMEOUT", "2"),
    ];
    for args in [&["install", "-y"][..], &["doctor"]] {
        let (code, err) = run(&dir, args, &env);
        assert_eq!(code, Some(0), "{args:?}: {err}");
        assert!(!err.contains("Waiting"), "{args:?}: {err}");
    }
}

#[test]
fn a_global_transaction_is_recovered_only_against_the_config_directory_it_changed() {
    let work = tempdir();
    let dir = work.path().join("p");
    base(&dir);
    std::fs::remove_file(dir.join("opencode.jsonc")).unwrap();
    std::fs::write(
        dir.join("capm.toml"),
        "[project]\nscope = \"global\"\n\n[bundles]\ntool = { path = \"vendor/tool\" }\n",
    )
    .unwrap();
    let a = work.path().join("config-a");
    let b = work.path().join("config-b");
    let in_a = [("XDG_CONFIG_HOME", a.to_str().unwrap())];
    let (code, err) = run(&dir, &["install", "-y"], &in_a);
    assert_eq!(code, Some(0), "{err}");
    to_v2(&dir);
    let (code, _) = run(
        &dir,
        &["update", "-y"],
        &[in_a[0], ("CAPM_FAILPOINTS", "synced=abort")],
    );
    assert_eq!(code, None);
    let before = (project_tree(&dir), project_tree(&a));
    // Another environment: the journal's paths would land in the wrong directory.
    let elsewhere = doctor_report(&dir, &[("XDG_CONFIG_HOME", b.to_str().unwrap())]);
    let refused = recovery_list(&elsewhere, "refused");
    assert_eq!(refused.len(), 1, "{elsewhere:#}");
    assert!(
        refused[0]["reason"]
            .as_str()
            .is_some_and(|r| r.contains(&a.canonicalize().unwrap().display().to_string())),
        "{elsewhere:#}"
    );
    assert_eq!(
        (project_tree(&dir), project_tree(&a)),
        before,
        "nothing touched"
    );
    // The environment it had: recovered.
    let home = doctor_report(&dir, &in_a);
    assert_eq!(recovery_list(&home, "rolled_back").len(), 1, "{home:#}");
    assert!(recovery_list(&home, "conflicts").is_empty(), "{home:#}");
}

#[test]
fn a_codex_config_rewritten_before_its_swap_aborts_every_client_and_keeps_the_rewrite() {
    let work = tempdir();
    let dir = work.path().join("p");
    multi(&dir);
    let before = project_tree(&dir);
    // Before the first compare-and-swap, so before the Codex config's wherever it comes.
    let rewrite = "swap#1=run:sed -i s/gpt-5/o3/ .codex/config.toml";
    let (code, err) = run(&dir, &["install", "-y"], &[("CAPM_FAILPOINTS", rewrite)]);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("error[plan-stale]"), "{err}");
    assert!(
        err.contains("`.codex/config.toml` was changed by another program"),
        "{err}"
    );
    let mut expected = before;
    expected.insert(
        ".codex/config.toml".into(),
        clients_fixture::CODEX_CONFIG
            .replace("gpt-5", "o3")
            .into_bytes(),
    );
    assert_eq!(project_tree(&dir), expected, "every client rolled back");
    assert_no_debris(&dir, "after the aborted swap");
}

#[test]
fn a_codex_config_rewritten_after_capm_wrote_it_is_kept_while_every_other_client_rolls_back() {
    let work = tempdir();
    let dir = work.path().join("p");
    multi(&dir);
    let before = project_tree(&dir);
    // The last compare-and-swap is capm.lock's, the commit point.
    let probe = work.path().join("probe");
    copy_dir(&dir, &probe);
    let trace = work.path().join("trace");
    let (code, err) = run(
        &probe,
        &["install", "-y"],
        &[("CAPM_FAILPOINTS_TRACE", trace.to_str().unwrap())],
    );
    assert_eq!(code, Some(0), "{err}");
    let swaps = std::fs::read_to_string(&trace)
        .unwrap()
        .lines()
        .filter(|l| *l == "swap")
        .count();
    // Codex rewrites its config after capm swapped every file in; the commit fails.
    let rules = format!("synced=run:sed -i s/gpt-5/o3/ .codex/config.toml;swap#{swaps}=enospc");
    let (code, err) = run(&dir, &["install", "-y"], &[("CAPM_FAILPOINTS", &rules)]);
    let codex = kept_with_saved_copy(
        &dir,
        &before,
        ".codex/config.toml",
        clients_fixture::CODEX_CONFIG,
        (code, &err),
    );
    assert!(
        codex.contains("model = \"o3\"") && codex.contains("[mcp_servers.tool]"),
        "{codex}"
    );
    let now = project_tree(&dir);
    let new: Vec<&String> = now
        .keys()
        .filter(|k| !before.contains_key(*k) && !k.starts_with(".capm/conflicts/"))
        .collect();
    assert!(new.is_empty(), "left by the rollback: {new:?}");
    assert_no_debris(&dir, "after the rollback");
}

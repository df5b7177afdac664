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

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use fixtures::{USER_CONFIG, base, to_v2};
use support::{bin, copy_dir, tempdir};

/// Runs capm in `dir` with extra environment variables; `None` as the code when killed.
fn run(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> (Option<i32>, String) {
    let mut cmd = Command::new(bin());
    cmd.args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env("XDG_CONFIG_HOME", dir.join(".no-user-config"))
        .env_remove("CAPM_FAILPOINTS")
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
    let out = Command::new(bin())
        .args(["doctor", "--format", "json"])
        .current_dir(dir)
        .env("XDG_CONFIG_HOME", dir.join(".no-user-config"))
        .env_remove("CAPM_FAILPOINTS")
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

fn installed(dir: &Path) {
    base(dir);
    let (code, err) = run(dir, &["install", "-y"], &[]);
    assert_eq!(code, Some(0), "{err}");
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
    name: &'static str,
    setup: fn(&Path),
    args: &'static [&'static str],
}

fn scenarios() -> Vec<Scenario> {
    vec![
        Scenario {
            name: "install",
            setup: base,
            args: &["install", "-y"],
        },
        Scenario {
            name: "add",
            setup: installed,
            args: &["add", "time", "-y"],
        },
        Scenario {
            name: "update",
            setup: |d| {
                installed(d);
                to_v2(d);
            },
            args: &["update", "-y"],
        },
        Scenario {
            name: "update-over-user-edit",
            setup: |d| {
                installed(d);
                user_edits(d);
                to_v2(d);
            },
            args: &["update", "-y"],
        },
        Scenario {
            name: "uninstall",
            setup: installed,
            args: &["remove", "tool", "-y"],
        },
        Scenario {
            name: "uninstall-over-user-edit",
            setup: |d| {
                installed(d);
                user_edits(d);
            },
            args: &["remove", "tool", "-y"],
        },
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
    is_after
}

#[test]
fn every_fail_point_of_every_operation_recovers_to_before_or_after() {
    let work = tempdir();
    let mut sites = std::collections::BTreeSet::new();
    let mut runs = 0usize;
    let errors = ["enospc", "eacces", "erofs"];
    for s in scenarios() {
        let template = work.path().join(format!("{}-template", s.name));
        std::fs::create_dir_all(&template).unwrap();
        (s.setup)(&template);
        // The clean run: the sites it passes, and the tree after.
        let clean = work.path().join(format!("{}-clean", s.name));
        copy_dir(&template, &clean);
        let trace = work.path().join(format!("{}.trace", s.name));
        let (before_doctor, _) = doctor(&template);
        let (code, err) = run(
            &clean,
            s.args,
            &[("CAPM_FAILPOINTS_TRACE", trace.to_str().unwrap())],
        );
        assert_eq!(code, Some(0), "{}: {err}", s.name);
        let (after_doctor, _) = doctor(&clean);
        let reference = Reference {
            before: project_tree(&template),
            after: project_tree(&clean),
            doctor_before: before_doctor,
            doctor_after: after_doctor,
        };
        assert_ne!(
            reference.before, reference.after,
            "{}: changes something",
            s.name
        );
        let trace = std::fs::read_to_string(&trace).unwrap();
        let points = hits(&trace);
        assert!(points.len() >= 8, "{}: only {} hits", s.name, points.len());
        for (i, (site, nth)) in points.iter().enumerate() {
            sites.insert(site.clone());
            // Killed on the spot, then recovered by the next capm.
            let dir = work.path().join(format!("{}-{i}-abort", s.name));
            copy_dir(&template, &dir);
            let rule = format!("{site}#{nth}=abort");
            let (code, err) = run(&dir, s.args, &[("CAPM_FAILPOINTS", &rule)]);
            assert_eq!(code, None, "{}: {rule} did not kill capm: {err}", s.name);
            if site == "swapped" && *nth == 2 {
                // Recovery itself crashes at each of its sites, and is recovered in turn.
                let context = format!("{} {rule}", s.name);
                sites.extend(crash_recovery(work.path(), &dir, &reference, &context));
            }
            check(&dir, &reference, &format!("{} {rule}", s.name));
            runs += 1;
            std::fs::remove_dir_all(&dir).unwrap();
            // An I/O error there: capm rolls back itself (or, past the commit point,
            // finishes) and says so.
            let dir = work.path().join(format!("{}-{i}-error", s.name));
            copy_dir(&template, &dir);
            let rule = format!("{site}#{nth}={}", errors[i % errors.len()]);
            let (code, err) = run(&dir, s.args, &[("CAPM_FAILPOINTS", &rule)]);
            let finished = project_tree(&dir) == reference.after;
            if finished {
                assert_eq!(code, Some(0), "{}: {rule}: {err}", s.name);
            } else {
                assert_eq!(code, Some(2), "{}: {rule}: {err}", s.name);
                assert!(err.contains("error"), "{}: {rule}: {err}", s.name);
                assert_eq!(
                    project_tree(&dir),
                    reference.before,
                    "{}: {rule}: an I/O error must roll back at once",
                    s.name
                );
            }
            check(&dir, &reference, &format!("{} {rule}", s.name));
            runs += 1;
            std::fs::remove_dir_all(&dir).unwrap();
        }
    }
    println!(
        "fail points: {} sites, {} fault runs: {}",
        sites.len(),
        runs,
        sites.iter().cloned().collect::<Vec<_>>().join(", ")
    );
    assert!(sites.len() >= 12, "{sites:?}");
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
        let mut child = Command::new(bin())
            .args(&args)
            .current_dir(&dir)
            .env("XDG_CONFIG_HOME", dir.join(".no-user-config"))
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
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("No space left on device"), "{err}");
    assert!(
        err.contains("`opencode.jsonc` (its earlier content is saved at `.capm/conflicts/"),
        "{err}"
    );
    let now = project_tree(&dir);
    // The client's file stays as the client wrote it: capm's entry and the client's edit.
    let config = String::from_utf8(now["opencode.jsonc"].clone()).unwrap();
    assert!(
        config.contains("solarized") && config.contains("\"tool\""),
        "{config}"
    );
    // The user's original is kept where they can find it, and reported.
    let saved: Vec<&String> = now
        .keys()
        .filter(|k| k.starts_with(".capm/conflicts/") && k.ends_with("/opencode.jsonc"))
        .collect();
    assert_eq!(saved.len(), 1, "{:?}", now.keys().collect::<Vec<_>>());
    assert_eq!(now[saved[0]], USER_CONFIG.as_bytes());
    // Everything else is as before.
    for (k, v) in &before {
        if k != "opencode.jsonc" {
            assert_eq!(now.get(k), Some(v), "{k}");
        }
    }
    assert!(!now.contains_key("capm.lock") && !now.contains_key(".opencode/"));
    assert_no_debris(&dir, "after the rollback");
}

/// A model-based test: random sequences of install, update, uninstall, user edits and
/// crashes at random fail points followed by recovery, checked after every step against a
/// reference model of what the project must hold.
mod model {
    use std::collections::BTreeMap;
    use std::path::Path;

    use proptest::prelude::*;

    use super::{assert_no_debris, run};

    const NAMES: [&str; 2] = ["alpha", "beta"];

    static RUNS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    static ROLLED_BACK: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    static FINISHED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

    #[test]
    fn the_model_test_crashes_and_recovers() {
        random_sequences_match_the_model();
        let load =
            |a: &std::sync::atomic::AtomicUsize| a.load(std::sync::atomic::Ordering::Relaxed);
        println!(
            "model: {} capm runs, {} crashes rolled back, {} finished",
            load(&RUNS),
            load(&ROLLED_BACK),
            load(&FINISHED)
        );
        // Which way a crash goes depends on the random site; the enumeration above covers
        // both deterministically. Here the sequences must have crashed somewhere.
        assert!(load(&ROLLED_BACK) + load(&FINISHED) > 0);
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
    const MANIFEST_HEAD: &str = "# my project: keep this comment\n[bundles]\n";
    const CONFIG: &str = "// my settings, keep me\n{\n  \"theme\": \"mine\", // mine\n  \"mcp\": {\n    \"own\": { \"type\": \"remote\", \"url\": \"https://own.example.com/mcp\" },\n  },\n}\n";

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

    fn write_manifest(dir: &Path, requested: &[usize]) {
        let mut text = MANIFEST_HEAD.to_string();
        for i in requested {
            text.push_str(&format!("{0} = {{ path = \"vendor/{0}\" }}\n", NAMES[*i]));
        }
        std::fs::write(dir.join("capm.toml"), text).unwrap();
    }

    fn agent(dir: &Path, i: usize) -> std::path::PathBuf {
        dir.join(format!(".opencode/agents/{}-agent.md", NAMES[i]))
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
    fn check(dir: &Path, m: &Model, context: &str) {
        assert_eq!(locked(dir), expected_lock(m), "{context}: capm.lock");
        let config = std::fs::read_to_string(dir.join("opencode.json")).unwrap();
        assert!(
            config.starts_with("// my settings, keep me\n{\n  \"theme\": \"mine\", // mine\n"),
            "{context}: the user's config lines: {config}"
        );
        assert!(
            config.contains("\"own\": { \"type\": \"remote\""),
            "{context}"
        );
        for (i, n) in NAMES.iter().enumerate() {
            let url = m
                .installed
                .get(&i)
                .map(|v| format!("https://{n}.example.com/v{v}/mcp"));
            match &url {
                Some(u) => assert!(config.contains(u.as_str()), "{context}: {u} in {config}"),
                None => assert!(
                    !config.contains(&format!("{n}.example.com")),
                    "{context}: {n} left in {config}"
                ),
            }
            let agent_text = std::fs::read_to_string(agent(dir, i)).ok();
            let want = if let Some(e) = m.edited.get(&i).or(m.orphans.get(&i)) {
                Some(e.clone())
            } else {
                m.installed
                    .get(&i)
                    .map(|v| format!("---\ndescription: Agent\n---\n{n} agent v{v}\n"))
            };
            assert_eq!(agent_text, want, "{context}: {n}'s agent");
            let skill =
                std::fs::read_to_string(dir.join(format!(".opencode/skills/{n}-notes/SKILL.md")))
                    .ok();
            assert_eq!(
                skill,
                m.installed.get(&i).map(|v| format!(
                    "---\nname: {n}-notes\ndescription: Notes\n---\n{n} notes v{v}\n"
                )),
                "{context}: {n}'s skill"
            );
        }
        let manifest = std::fs::read_to_string(dir.join("capm.toml")).unwrap();
        assert!(manifest.starts_with(MANIFEST_HEAD), "{context}: {manifest}");
        assert_no_debris(dir, context);
    }

    /// Runs one step (crashing it at `crash` if given, then recovering), and returns the
    /// model after it.
    fn apply(dir: &Path, m: &Model, step: &Step, crash: Option<(usize, u32)>) -> Model {
        let mut after = m.clone();
        let mut expect_refused = false;
        let args: Vec<&str> = match step {
            Step::Edit(i) => {
                if m.installed.contains_key(i) {
                    let text = format!("my own {} agent, edit {}\n", NAMES[*i], m.vendor[*i]);
                    std::fs::write(agent(dir, *i), &text).unwrap();
                    after.edited.insert(*i, text);
                }
                return after;
            }
            Step::Install(i) => {
                if m.requested.contains(i) {
                    return after;
                }
                after.requested.push(*i);
                write_manifest(dir, &after.requested);
                if m.orphans.contains_key(i) {
                    // The user's own file is in the way: the plan is blocked.
                    expect_refused = true;
                }
                vec!["install", "-y"]
            }
            Step::Update(i) => {
                after.vendor[*i] += 1;
                write_bundle(dir, *i, after.vendor[*i]);
                vec!["update", "-y"]
            }
            Step::Uninstall(i, purge) => {
                if !m.requested.contains(i) {
                    return after;
                }
                after.requested.retain(|x| x != i);
                if *purge {
                    vec!["remove", NAMES[*i], "-y", "--purge"]
                } else {
                    vec!["remove", NAMES[*i], "-y"]
                }
            }
        };
        if expect_refused {
            let (code, err) = run(dir, &args, &[]);
            assert_eq!(code, Some(1), "{err}");
            write_manifest(dir, &m.requested);
            return m.clone();
        }
        // The model after success.
        after.installed = after
            .requested
            .iter()
            .map(|i| (*i, after.vendor[*i]))
            .collect();
        if let Step::Uninstall(i, purge) = step
            && let Some(text) = after.edited.remove(i)
            && !purge
        {
            after.orphans.insert(*i, text);
        }
        // Bundles whose version did not move keep their state; an updated one keeps the
        // user's edit.
        let rule = crash.map(|(s, n)| format!("{}#{n}=abort", SITES[s]));
        let env: Vec<(&str, &str)> = rule
            .as_deref()
            .map(|r| vec![("CAPM_FAILPOINTS", r)])
            .unwrap_or_default();
        let (code, err) = run(dir, &args, &env);
        RUNS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        if code.is_some() {
            assert_eq!(code, Some(0), "{step:?}: {err}");
            return after;
        }
        // Killed: the next capm recovers to one of the two.
        let (code, err) = run(dir, &["doctor"], &[]);
        assert!(matches!(code, Some(0 | 1)), "{err}");
        if locked(dir) == expected_lock(&after) && expected_lock(&after) != expected_lock(m) {
            FINISHED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            after
        } else {
            let mut before = m.clone();
            before.vendor = after.vendor;
            if matches!(step, Step::Install(_)) {
                // Undo the test's own edit of capm.toml, which the rollback rightly kept.
                write_manifest(dir, &m.requested);
            }
            ROLLED_BACK.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            before
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]
        fn random_sequences_match_the_model(steps in prop::collection::vec(step(), 1..9)) {
            let tmp = super::tempdir();
            let dir = tmp.path();
            write_manifest(dir, &[]);
            std::fs::write(dir.join("opencode.json"), CONFIG).unwrap();
            let mut m = Model { vendor: [1, 1], ..Model::default() };
            for i in 0..2 {
                write_bundle(dir, i, 1);
            }
            for (n, (step, crash)) in steps.iter().enumerate() {
                m = apply(dir, &m, step, *crash);
                check(dir, &m, &format!("step {n} {step:?} crash {crash:?}"));
            }
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
    let out = Command::new(bin())
        .args(["doctor", "--format", "json"])
        .current_dir(&dir)
        .env("XDG_CONFIG_HOME", dir.join(".no-user-config"))
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
    let out = Command::new(bin())
        .args(["doctor", "--format", "json"])
        .current_dir(dir)
        .env("XDG_CONFIG_HOME", dir.join(".no-user-config"))
        .env_remove("CAPM_FAILPOINTS")
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

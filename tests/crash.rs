//! Crash and fault tests of the apply path (TRANSACTIONS.md), run against the real binary
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

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use support::{bin, copy_dir, tempdir, write_files};

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
/// only capm's bookkeeping (`.capm/lock`, `.gitignore`, `txn/`, `backup/`), which is
/// checked separately. Proposals and conflict copies under `.capm/` are included.
fn project_tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    support::tree(dir)
        .into_iter()
        .filter(|(k, _)| {
            !(k == ".capm/"
                || k == ".capm/lock"
                || k == ".capm/.gitignore"
                || k.starts_with(".capm/txn/")
                || k.starts_with(".capm/backup/"))
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

const TOOL_V1: &[(&str, &str)] = &[
    (
        "vendor/tool/bundle.toml",
        r#"[bundle]
name = "tool"
version = "1.0.0"
description = "A tool bundle"
license = "MIT"

[compatibility.product-modes]
desktop-local = "supported"

[mcp.tool]
url = "https://tool.example.com/v1/mcp"

[skills.notes]
path = "skills/notes"

[agents.helper]
path = "agents/helper.md"

[commands.go]
path = "commands/go.md"
"#,
    ),
    (
        "vendor/tool/skills/notes/SKILL.md",
        "---\nname: notes\ndescription: Takes notes\n---\nTake notes, version one.\n",
    ),
    (
        "vendor/tool/skills/notes/reference/format.md",
        "The format, version one.\n",
    ),
    (
        "vendor/tool/agents/helper.md",
        "---\ndescription: Helps\n---\nHelper, version one.\n",
    ),
    (
        "vendor/tool/commands/go.md",
        "---\ndescription: Go\n---\nGo, version one.\n",
    ),
];

const TOOL_V2: &[(&str, &str)] = &[
    (
        "vendor/tool/bundle.toml",
        r#"[bundle]
name = "tool"
version = "2.0.0"
description = "A tool bundle"
license = "MIT"

[compatibility.product-modes]
desktop-local = "supported"

[mcp.tool]
url = "https://tool.example.com/v2/mcp"

[skills.notes]
path = "skills/notes"

[agents.helper]
path = "agents/helper.md"
"#,
    ),
    (
        "vendor/tool/skills/notes/SKILL.md",
        "---\nname: notes\ndescription: Takes notes\n---\nTake notes, version two.\n",
    ),
    (
        "vendor/tool/agents/helper.md",
        "---\ndescription: Helps\n---\nHelper, version two.\n",
    ),
];

const USER_CONFIG: &str = r#"// My OpenCode settings.
{
  "$schema": "https://opencode.ai/config.json",
  /* the theme I like */
  "theme": "tokyonight",
  "mcp": {
    // my own server
    "mine": { "type": "local", "command": ["my-server", "--fast"], },
  },
  "plugin": [
    "opencode-wakatime@1.0.0",
  ],
}
"#;

/// A project using the `tool` path bundle, with the user's own commented config.
fn base(dir: &Path) {
    write_files(
        dir,
        &[
            (
                "capm.toml",
                "# my project\n[bundles]\ntool = { path = \"vendor/tool\" }\n",
            ),
            ("opencode.jsonc", USER_CONFIG),
        ],
    );
    write_files(dir, TOOL_V1);
}

fn installed(dir: &Path) {
    base(dir);
    let (code, err) = run(dir, &["install", "-y"], &[]);
    assert_eq!(code, Some(0), "{err}");
}

fn to_v2(dir: &Path) {
    std::fs::remove_dir_all(dir.join("vendor/tool")).unwrap();
    write_files(dir, TOOL_V2);
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

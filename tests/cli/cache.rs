//! `capm cache dir | clean | prune`: where the cache is by each environment rule, what
//! clean and prune remove and report, bad arguments, and waiting for another capm.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use capm::remote::Cache;
use capm::remote::cache::sha256;

use crate::support::{capm, capm_with, command, tempdir, tree};

const DAY: Duration = Duration::from_secs(86_400);

/// The cache every test's capm uses unless told otherwise (tests/cli/support.rs).
fn default_cache(dir: &Path) -> Cache {
    Cache::new(dir.join(".no-user-cache/capm"))
}

fn blob_path(cache: &Cache, digest: &str) -> PathBuf {
    let hex = &digest["sha256:".len()..];
    cache.root().join("blobs/sha256").join(&hex[..2]).join(hex)
}

/// A cache holding a blob used 40 days ago and one used now; their digests.
fn cache_with_old_and_new(cache: &Cache) -> (String, String) {
    let (old, new) = (sha256(&[7u8; 3000]), sha256(b"fresh"));
    cache.put_blob(&old, &[7u8; 3000]).unwrap();
    cache.put_blob(&new, b"fresh").unwrap();
    let f = std::fs::File::open(blob_path(cache, &old)).unwrap();
    f.set_modified(SystemTime::now() - 40 * DAY).unwrap();
    (old, new)
}

#[test]
fn cache_dir_follows_capm_cache_dir_then_xdg_cache_home_then_home() {
    let dir = tempdir();
    let own = dir.path().join("own");
    let run = capm_with(
        dir.path(),
        &["cache", "dir"],
        &[("CAPM_CACHE_DIR", own.to_str().unwrap())],
    );
    assert_eq!(
        (run.code, run.stdout.trim(), run.stderr.as_str()),
        (0, own.to_str().unwrap(), "")
    );
    let xdg = dir.path().join("xdg");
    let run = capm_with(
        dir.path(),
        &["cache", "dir"],
        &[("XDG_CACHE_HOME", xdg.to_str().unwrap())],
    );
    assert_eq!(PathBuf::from(run.stdout.trim()), xdg.join("capm"));
    let home = dir.path().join("home");
    let out = command(dir.path(), &["cache", "dir", "--format", "json"])
        .env_remove("XDG_CACHE_HOME")
        .env("HOME", &home)
        .output()
        .unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["schema"], "capm.cache/v1");
    assert_eq!(doc["command"], "dir");
    assert_eq!(
        PathBuf::from(doc["dir"].as_str().unwrap()),
        home.join(".cache/capm")
    );
    assert!(
        !home.exists() && !own.exists() && !xdg.exists(),
        "cache dir creates nothing"
    );
}

#[test]
fn clean_empties_the_cache_and_says_what_it_freed() {
    let dir = tempdir();
    let cache = default_cache(dir.path());
    cache_with_old_and_new(&cache);
    let run = capm(dir.path(), &["cache", "clean"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout, "");
    let expected = format!(
        "Removed 2 entries, 2.9 KiB from `{}`",
        cache.root().display()
    );
    assert!(run.stderr.contains(&expected), "{}", run.stderr);
    let left: Vec<String> = tree(cache.root()).into_keys().collect();
    assert_eq!(left, [".capm-lock", "CACHEDIR.TAG"]);
    let again = capm(dir.path(), &["cache", "clean", "--format", "json"]);
    assert_eq!(
        again.json()["removed"],
        serde_json::json!({"entries": 0, "bytes": 0})
    );
}

#[test]
fn clean_of_a_cache_never_written_creates_nothing() {
    let dir = tempdir();
    let run = capm(dir.path(), &["cache", "clean"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains("Removed 0 entries, 0 B"),
        "{}",
        run.stderr
    );
    assert!(!dir.path().join(".no-user-cache").exists());
}

#[test]
fn prune_removes_what_was_not_used_and_keeps_the_rest() {
    let dir = tempdir();
    let cache = default_cache(dir.path());
    let (old, new) = cache_with_old_and_new(&cache);
    let run = capm(dir.path(), &["cache", "prune", "--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let doc = run.json();
    assert_eq!(doc["command"], "prune");
    assert_eq!(doc["max_age_days"], 30);
    assert_eq!(
        doc["removed"],
        serde_json::json!({"entries": 1, "bytes": 3000})
    );
    assert_eq!(doc["kept"], serde_json::json!({"entries": 1, "bytes": 5}));
    assert!(!blob_path(&cache, &old).exists());
    assert_eq!(cache.blob(&new).unwrap().unwrap(), b"fresh");
}

#[test]
fn prune_max_age_moves_the_line() {
    let dir = tempdir();
    let cache = default_cache(dir.path());
    let (old, _) = cache_with_old_and_new(&cache);
    let run = capm(dir.path(), &["cache", "prune", "--max-age", "60"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains("Removed 0 entries, 0 B from"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("(unused for more than 60 days); kept 2 entries"),
        "{}",
        run.stderr
    );
    assert!(blob_path(&cache, &old).exists());
    let run = capm(dir.path(), &["cache", "prune", "--max-age", "10"]);
    assert!(
        run.stderr.contains("Removed 1 entry, 2.9 KiB"),
        "{}",
        run.stderr
    );
}

#[test]
fn bad_arguments_and_settings_are_usage_errors_that_touch_nothing() {
    let dir = tempdir();
    let cache = default_cache(dir.path());
    cache_with_old_and_new(&cache);
    let before = tree(dir.path());
    for args in [
        &["cache", "prune", "--max-age", "-1"][..],
        &["cache", "prune", "--max-age", "soon"],
        &["cache", "purge"],
        &["cache"],
    ] {
        let run = capm(dir.path(), args);
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
    }
    for (var, value) in [
        ("CAPM_HTTP_TIMEOUT", "soon"),
        ("CAPM_HTTP_RETRIES", "99"),
        ("CAPM_HTTP_TIMEOUT", "0"),
    ] {
        let run = capm_with(dir.path(), &["cache", "clean"], &[(var, value)]);
        assert_eq!(run.code, 2, "{var}={value}");
        assert!(
            run.stderr.contains(&format!("{var}=`{value}` is not")),
            "{}",
            run.stderr
        );
    }
    assert_eq!(tree(dir.path()), before);
}

#[test]
fn clean_waits_for_a_capm_using_the_cache_then_gives_up_with_exit_3() {
    let dir = tempdir();
    let cache = default_cache(dir.path());
    let (old, new) = cache_with_old_and_new(&cache);
    let held = cache.lock_shared(Duration::ZERO, &|_| {}).unwrap();
    let start = std::time::Instant::now();
    let run = capm_with(
        dir.path(),
        &["cache", "clean"],
        &[("CAPM_LOCK_TIMEOUT", "0.5")],
    );
    assert!(start.elapsed() >= Duration::from_millis(500));
    assert_eq!(run.code, 3, "{}", run.stderr);
    let lock = cache.root().join(".capm-lock");
    assert!(
        run.stderr.contains(&format!(
            "Waiting for lock on `{}` held by another capm",
            lock.display()
        )),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("is locked by another capm process; gave up after 0 s"),
        "{}",
        run.stderr
    );
    assert!(blob_path(&cache, &old).exists() && blob_path(&cache, &new).exists());
    drop(held);
    let run = capm(dir.path(), &["cache", "clean"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
}

#[test]
fn every_cache_command_prints_one_document_of_its_schema() {
    let dir = tempdir();
    cache_with_old_and_new(&default_cache(dir.path()));
    let mut schemas = crate::json_outputs::Schemas::default();
    for sub in [&["dir"][..], &["prune", "--max-age", "1"], &["clean"]] {
        let args: Vec<&str> = ["cache"]
            .iter()
            .chain(sub)
            .chain(&["--format", "json"])
            .copied()
            .collect();
        let doc = schemas.check(dir.path(), &args, 0, "cache.schema.json");
        assert_eq!(doc["command"], sub[0]);
    }
}

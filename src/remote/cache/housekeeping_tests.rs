//! Tests of the cache's housekeeping: the tag, the lock, size, clean, prune, and many
//! writers at once.

use std::time::{Duration, SystemTime};

use super::super::{Cache, sha256};
use crate::remote::RemoteError;
use crate::remote::http::Validators;

const DAY: Duration = Duration::from_secs(86_400);

fn cache() -> (tempfile::TempDir, Cache) {
    let dir = tempfile::tempdir().unwrap();
    let cache = Cache::new(dir.path().join("capm"));
    (dir, cache)
}

fn age(path: &std::path::Path, by: Duration) {
    let f = std::fs::File::open(path).unwrap();
    f.set_modified(SystemTime::now() - by).unwrap();
}

fn no_wait(_: &std::path::Path) {}

/// Names under the root, sorted, for comparisons.
fn listing(cache: &Cache) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![cache.root().to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p.clone());
            }
            let rel = p.strip_prefix(cache.root()).unwrap();
            out.push(rel.to_string_lossy().into_owned());
        }
    }
    out.sort();
    out
}

#[test]
fn the_first_write_tags_the_cache_and_nothing_is_written_before() {
    let (_d, cache) = cache();
    assert!(cache.blob(&sha256(b"x")).unwrap().is_none());
    assert!(!cache.root().exists(), "reading writes nothing");
    cache.put_blob(&sha256(b"x"), b"x").unwrap();
    let tag = std::fs::read_to_string(cache.root().join("CACHEDIR.TAG")).unwrap();
    assert!(tag.starts_with("Signature: 8a477f597d28d172789f06886806bc55"));
}

#[test]
fn size_counts_entries_and_bytes_per_area() {
    let (_d, cache) = cache();
    cache.put_blob(&sha256(b"abc"), b"abc").unwrap();
    cache.put_blob(&sha256(b"hello"), b"hello").unwrap();
    let v = Validators::default();
    cache
        .put_file("index", "k", "gi/th/github", b"line\n", &v)
        .unwrap();
    let size = cache.size().unwrap();
    assert_eq!(
        (size.areas["blobs"].entries, size.areas["blobs"].bytes),
        (2, 8)
    );
    assert_eq!(
        size.areas["index"].entries, 1,
        "a file and its meta are one entry"
    );
    assert!(size.areas["index"].bytes > 5);
    assert_eq!(size.total.entries, 3);
    assert!(!size.areas.contains_key("tmp"), "no staging leftovers");
}

#[test]
fn clean_removes_everything_but_the_lock_and_the_tag() {
    let (_d, cache) = cache();
    cache.put_blob(&sha256(b"abc"), b"abc").unwrap();
    cache
        .put_file("index", "k", "a/b", b"12", &Validators::default())
        .unwrap();
    std::fs::create_dir_all(cache.root().join("git/db/k.git/objects")).unwrap();
    std::fs::write(cache.root().join("git/db/k.git/objects/o"), b"1234").unwrap();
    drop(cache.lock_shared(Duration::ZERO, &no_wait).unwrap());
    let report = cache.clean(Duration::ZERO, &no_wait).unwrap();
    assert_eq!(report.entries, 3);
    assert!(report.bytes > 3 + 2 + 4, "{report:?}");
    assert_eq!(listing(&cache), [".capm-lock", "CACHEDIR.TAG"]);
    assert_eq!(cache.clean(Duration::ZERO, &no_wait).unwrap().entries, 0);
}

#[test]
fn prune_removes_unused_entries_and_old_staging_files() {
    let (_d, cache) = cache();
    let (old, fresh) = (sha256(b"old"), sha256(b"fresh"));
    cache.put_blob(&old, b"old").unwrap();
    cache.put_blob(&fresh, b"fresh").unwrap();
    cache
        .put_file("index", "k", "ol/d", b"o", &Validators::default())
        .unwrap();
    let blobs = cache.root().join("blobs/sha256");
    age(&blobs.join(&old[7..9]).join(&old[7..]), 40 * DAY);
    age(&cache.dir("index", "k").join("ol/d"), 40 * DAY);
    std::fs::write(cache.root().join("tmp/.tmpOLD"), b"partial").unwrap();
    std::fs::write(cache.root().join("tmp/.tmpNEW"), b"writing").unwrap();
    age(
        &cache.root().join("tmp/.tmpOLD"),
        Duration::from_secs(2 * 3600),
    );
    let report = cache.prune(30 * DAY, Duration::ZERO, &no_wait).unwrap();
    assert_eq!(
        (report.removed.entries, report.kept.entries),
        (3, 2),
        "{report:?}"
    );
    assert!(cache.blob(&old).unwrap().is_none());
    assert_eq!(cache.blob(&fresh).unwrap().unwrap(), b"fresh");
    assert!(
        !cache.dir("index", "k").join("ol/d.meta").exists(),
        "meta goes with its file"
    );
    assert!(cache.root().join("tmp/.tmpNEW").exists());
    assert!(!cache.root().join("tmp/.tmpOLD").exists());
}

#[test]
fn reading_an_entry_records_its_use() {
    let (_d, cache) = cache();
    let d = sha256(b"used");
    cache.put_blob(&d, b"used").unwrap();
    let path = cache
        .root()
        .join("blobs/sha256")
        .join(&d[7..9])
        .join(&d[7..]);
    age(&path, 40 * DAY);
    cache.blob(&d).unwrap().unwrap();
    let report = cache.prune(30 * DAY, Duration::ZERO, &no_wait).unwrap();
    assert_eq!(report.removed.entries, 0);
    assert!(cache.blob(&d).unwrap().is_some());
}

#[test]
fn clean_waits_for_users_then_gives_up() {
    let (_d, cache) = cache();
    cache.put_blob(&sha256(b"x"), b"x").unwrap();
    let shared = cache.lock_shared(Duration::ZERO, &no_wait).unwrap();
    let told = std::cell::Cell::new(false);
    let start = std::time::Instant::now();
    let err = cache
        .clean(Duration::from_millis(200), &|_| told.set(true))
        .unwrap_err();
    assert!(start.elapsed() >= Duration::from_millis(200));
    assert!(matches!(err, RemoteError::CacheLocked { .. }), "{err}");
    assert_eq!(err.code(), "locked");
    assert!(told.get(), "the caller hears that it waits");
    assert!(
        cache.blob(&sha256(b"x")).unwrap().is_some(),
        "nothing removed"
    );
    drop(shared);
    assert_eq!(cache.clean(Duration::ZERO, &no_wait).unwrap().entries, 1);
}

#[test]
fn many_writers_at_once_leave_each_blob_once_and_no_staging_files() {
    let (_d, cache) = cache();
    let shared: Vec<u8> = b"shared".repeat(10_000);
    std::thread::scope(|s| {
        for t in 0..8 {
            let (cache, shared) = (&cache, &shared);
            s.spawn(move || {
                for round in 0..20 {
                    cache.put_blob(&sha256(shared), shared).unwrap();
                    let own = format!("thread {t} round {round}").repeat(500);
                    cache
                        .put_blob(&sha256(own.as_bytes()), own.as_bytes())
                        .unwrap();
                    assert_eq!(cache.blob(&sha256(shared)).unwrap().as_ref(), Some(shared));
                }
            });
        }
    });
    let size = cache.size().unwrap();
    assert_eq!(size.areas["blobs"].entries, 1 + 8 * 20);
    assert!(!size.areas.contains_key("tmp"), "{size:?}");
    for t in 0..8 {
        let own = format!("thread {t} round 19").repeat(500);
        assert!(cache.blob(&sha256(own.as_bytes())).unwrap().is_some());
    }
}

//! Git sources through the library (`capm::remote::git`): repositories built in a temporary
//! directory, served by path and by `git daemon` on 127.0.0.1; version requirements over
//! tags, tags, branches, commits, subdirectories, a force-moved tag, offline runs from the
//! cache, and the URLs the SRC rules refuse.

use std::path::{Path, PathBuf};

use tempfile::TempDir;

use capm::remote::git::{GitRef, GitSource, check_url, materialize};
use capm::remote::{Fetch, Net, Release, RemoteError};

use crate::git_server::{GitDaemon, GitHttp, commit_bundle, git, git_config, init_repo};
use crate::support::tempdir;

/// A repository `kit` with tags v1.0.0 (annotated), 1.1.0, v2.0.0, a branch `next` at
/// 2.1.0 and `main` at 2.0.0. Returns the commits by version.
fn kit_repo(repo: &Path) -> Vec<(&'static str, String)> {
    git_config();
    init_repo(repo);
    let mut commits = Vec::new();
    for (version, tag) in [("1.0.0", "v1.0.0"), ("1.1.0", "1.1.0"), ("2.0.0", "v2.0.0")] {
        let c = commit_bundle(repo, None, "kit", version);
        if version == "1.0.0" {
            git(repo, &["tag", "-a", tag, "-m", tag]);
        } else {
            git(repo, &["tag", tag]);
        }
        commits.push((version, c));
    }
    git(repo, &["checkout", "--quiet", "-b", "next"]);
    commits.push(("2.1.0", commit_bundle(repo, None, "kit", "2.1.0")));
    git(repo, &["checkout", "--quiet", "main"]);
    commits
}

/// [`kit_repo`] in a new temporary directory, used by path: (dir, repository, URL).
fn local_kit() -> (TempDir, PathBuf, String) {
    let dir = tempdir();
    let repo = dir.path().join("kit");
    kit_repo(&repo);
    let url = repo.to_str().unwrap().to_string();
    (dir, repo, url)
}

fn net(dir: &Path) -> Net {
    Net::new(dir.join("cache"))
}

fn offline(dir: &Path) -> Net {
    let mut n = net(dir);
    n.offline = true;
    n
}

fn versions(releases: &[Release]) -> Vec<String> {
    releases.iter().map(|r| r.version.to_string()).collect()
}

fn commit_of(r: &Release) -> &str {
    match &r.fetch {
        Fetch::Git { commit, .. } => commit,
        other => panic!("not a git fetch: {other:?}"),
    }
}

fn one(url: &str, reference: GitRef, net: &Net) -> Release {
    let mut all = GitSource::new(url, reference, None).releases(net).unwrap();
    assert_eq!(all.len(), 1);
    all.remove(0)
}

#[test]
fn a_version_requirement_takes_every_matching_tag_newest_first() {
    let dir = tempdir();
    let repo = dir.path().join("kit");
    let commits = kit_repo(&repo);
    let url = repo.to_str().unwrap();
    let req = GitRef::Version("^1".parse().unwrap());
    let releases = GitSource::new(url, req, None)
        .releases(&net(dir.path()))
        .unwrap();
    assert_eq!(versions(&releases), ["1.1.0", "1.0.0"]);
    assert_eq!(commit_of(&releases[0]), commits[1].1);
    // The annotated tag is peeled to its commit.
    assert_eq!(commit_of(&releases[1]), commits[0].1);
    let r = &releases[0];
    assert_eq!(r.name, "kit");
    assert_eq!(r.description, "Bundle kit");
    assert_eq!(r.keywords, ["git"]);
    let tree = materialize(
        url,
        commit_of(r),
        None,
        &Default::default(),
        &net(dir.path()),
    )
    .unwrap();
    assert_eq!(tree.content_digest(), r.digest);
    assert!(tree.file("skills/hello/SKILL.md").is_some());
    assert!(tree.get(".git").is_none());
    let all = GitSource::new(url, GitRef::Version("*".parse().unwrap()), None);
    assert_eq!(
        versions(&all.releases(&net(dir.path())).unwrap()),
        ["2.0.0", "1.1.0", "1.0.0"]
    );
}

#[test]
fn tags_branches_commits_and_the_default_branch_over_git_daemon() {
    let dir = tempdir();
    let commits = kit_repo(&dir.path().join("srv/kit"));
    let daemon = GitDaemon::start(&dir.path().join("srv"));
    let url = daemon.url("kit");
    let n = net(dir.path());
    let tag = one(&url, GitRef::Tag("v2.0.0".into()), &n);
    assert_eq!(
        (tag.version.to_string(), commit_of(&tag)),
        ("2.0.0".into(), &*commits[2].1)
    );
    let branch = one(&url, GitRef::Branch("next".into()), &n);
    assert_eq!(commit_of(&branch), commits[3].1);
    assert_eq!(branch.version.to_string(), "2.1.0");
    let head = one(&url, GitRef::Default, &n);
    assert_eq!(commit_of(&head), commits[2].1);
    let short = commits[0].1[..10].to_string();
    let rev = one(&url, GitRef::Rev(short), &n);
    assert_eq!(commit_of(&rev), commits[0].1);
    let req = GitRef::Version(">=1.1, <3".parse().unwrap());
    let ranged = GitSource::new(&url, req, None).releases(&n).unwrap();
    assert_eq!(versions(&ranged), ["2.0.0", "1.1.0"]);
    let cache = dir.path().join("cache/git");
    assert!(std::fs::read_dir(cache.join("db")).unwrap().count() >= 1);
    assert_eq!(
        std::fs::read_dir(cache.join("checkouts")).unwrap().count(),
        1
    );
}

#[test]
fn a_bundle_in_a_subdirectory() {
    let dir = tempdir();
    let repo = dir.path().join("mono");
    git_config();
    init_repo(&repo);
    std::fs::write(repo.join("README"), "monorepo\n").unwrap();
    let commit = commit_bundle(&repo, Some("bundles/mono"), "mono", "0.3.0");
    git(&repo, &["tag", "v0.3.0"]);
    let url = repo.to_str().unwrap();
    let src = GitSource::new(
        url,
        GitRef::Tag("v0.3.0".into()),
        Some("bundles/mono".into()),
    );
    let r = &src.releases(&net(dir.path())).unwrap()[0];
    assert_eq!(
        (r.name.as_str(), r.version.to_string()),
        ("mono", "0.3.0".into())
    );
    let expected = Fetch::Git {
        url: url.to_string(),
        commit: commit.clone(),
        subdir: Some("bundles/mono".into()),
        options: capm::formats::Options {
            version: Some("0.3.0".parse().unwrap()),
            ..Default::default()
        },
    };
    assert_eq!(r.fetch, expected);
    let tree = materialize(
        url,
        &commit,
        Some("bundles/mono"),
        &Default::default(),
        &net(dir.path()),
    )
    .unwrap();
    assert!(tree.file("bundle.toml").is_some());
    assert!(tree.file("README").is_none());
    assert_eq!(tree.content_digest(), r.digest);
    // At the root there is no bundle.toml.
    let root = GitSource::new(url, GitRef::Tag("v0.3.0".into()), None);
    let err = root.releases(&net(dir.path())).unwrap_err();
    assert_eq!(err.code(), "invalid-bundle-source", "{err}");
    assert!(err.to_string().contains("no bundle.toml"), "{err}");
    for bad in ["../up", "/abs", "-x", "a/./b"] {
        let err = materialize(
            url,
            &commit,
            Some(bad),
            &Default::default(),
            &net(dir.path()),
        )
        .unwrap_err();
        assert_eq!(err.code(), "invalid-bundle-source", "{bad}: {err}");
    }
}

#[test]
fn a_force_moved_tag_keeps_the_pinned_commit_and_shows_the_new_one() {
    let dir = tempdir();
    let repo = dir.path().join("srv/kit");
    let commits = kit_repo(&repo);
    let daemon = GitDaemon::start(&dir.path().join("srv"));
    let url = daemon.url("kit");
    let pinned = one(&url, GitRef::Tag("v2.0.0".into()), &net(dir.path()));
    std::fs::write(repo.join("CHANGELOG"), "2.0.0 again\n").unwrap();
    let moved = commit_bundle(&repo, None, "kit", "2.0.0");
    git(&repo, &["tag", "-f", "v2.0.0"]);
    let now = one(&url, GitRef::Tag("v2.0.0".into()), &net(dir.path()));
    assert_eq!(commit_of(&pinned), commits[2].1);
    assert_eq!(commit_of(&now), moved);
    assert_ne!(now.digest, pinned.digest);
    // The old commit still materializes, from this cache and from an empty one.
    let other = tempdir();
    for n in [net(dir.path()), net(other.path())] {
        let tree = materialize(&url, commit_of(&pinned), None, &Default::default(), &n).unwrap();
        assert_eq!(tree.content_digest(), pinned.digest);
    }
}

#[test]
fn offline_reads_the_cache_after_the_repository_is_gone() {
    let dir = tempdir();
    let repo = dir.path().join("kit");
    let commits = kit_repo(&repo);
    let url = repo.to_str().unwrap().to_string();
    let pinned = one(&url, GitRef::Tag("v1.0.0".into()), &net(dir.path()));
    std::fs::remove_dir_all(&repo).unwrap();
    let tree = materialize(
        &url,
        &commits[0].1,
        None,
        &Default::default(),
        &offline(dir.path()),
    )
    .unwrap();
    assert_eq!(tree.content_digest(), pinned.digest);
    let again = one(&url, GitRef::Tag("v1.0.0".into()), &offline(dir.path()));
    assert_eq!(again, pinned);
    // Online, the repository is gone: the checkout in the cache still answers.
    let tree = materialize(
        &url,
        &commits[0].1,
        None,
        &Default::default(),
        &net(dir.path()),
    )
    .unwrap();
    assert_eq!(tree.content_digest(), pinned.digest);
    // What was never fetched is named.
    let err = materialize(
        &url,
        &commits[2].1,
        None,
        &Default::default(),
        &offline(dir.path()),
    )
    .unwrap_err();
    assert!(matches!(err, RemoteError::Offline { .. }), "{err}");
    assert!(err.to_string().contains(&commits[2].1), "{err}");
    let never = GitSource::new("../elsewhere", GitRef::Branch("main".into()), None);
    let err = never.releases(&offline(dir.path())).unwrap_err();
    assert_eq!(err.code(), "offline-missing");
    assert!(err.to_string().contains("../elsewhere"), "{err}");
    assert!(
        !dir.path()
            .join("cache/git/db")
            .read_dir()
            .unwrap()
            .any(|e| e
                .unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with("elsewhere"))
    );
}

#[test]
fn a_version_tag_must_match_the_bundle_version() {
    let (dir, repo, url) = local_kit();
    git(&repo, &["tag", "v3.0.0"]);
    let src = GitSource::new(&url, GitRef::Version("^3".parse().unwrap()), None);
    let err = src.releases(&net(dir.path())).unwrap_err();
    assert_eq!(err.code(), "invalid-bundle-source");
    assert!(err.is_refusal());
    let text = err.to_string();
    assert!(
        text.contains("tag v3.0.0") && text.contains("says version 2.0.0"),
        "{text}"
    );
    // A tag named as such claims its version too; a tag that is not a version claims none.
    let tag = GitSource::new(&url, GitRef::Tag("v3.0.0".into()), None);
    let err = tag.releases(&net(dir.path())).unwrap_err();
    assert_eq!(err.code(), "invalid-bundle-source");
    git(&repo, &["tag", "stable", "v2.0.0"]);
    let stable = GitSource::new(&url, GitRef::Tag("stable".into()), None);
    assert_eq!(
        versions(&stable.releases(&net(dir.path())).unwrap()),
        ["2.0.0"]
    );
}

#[test]
fn two_tags_of_one_version_on_different_commits_are_refused() {
    let (dir, repo, url) = local_kit();
    git(&repo, &["tag", "1.0.0", "v2.0.0"]);
    let src = GitSource::new(&url, GitRef::Version("^1".parse().unwrap()), None);
    let err = src.releases(&net(dir.path())).unwrap_err();
    assert_eq!(err.code(), "invalid-bundle-source");
    let text = err.to_string();
    assert!(
        text.contains("`1.0.0`") && text.contains("`v1.0.0`"),
        "{text}"
    );
    // The same commit under both spellings is one release.
    git(&repo, &["tag", "-f", "1.0.0", "v1.0.0^{}"]);
    let releases = src.releases(&net(dir.path())).unwrap();
    assert_eq!(versions(&releases), ["1.1.0", "1.0.0"]);
}

#[test]
fn a_missing_ref_is_named() {
    let (dir, _, url) = local_kit();
    let url = url.as_str();
    for (reference, shown) in [
        (GitRef::Tag("v9.0.0".into()), "tag v9.0.0"),
        (GitRef::Branch("gone".into()), "branch gone"),
        (
            GitRef::Version("^7".parse().unwrap()),
            "has no tag matching ^7",
        ),
        (GitRef::Rev("abcdef1".into()), "commit abcdef1"),
    ] {
        let err = GitSource::new(url, reference, None)
            .releases(&net(dir.path()))
            .unwrap_err();
        assert_eq!(err.code(), "git-ref-not-found", "{err}");
        assert!(err.to_string().contains(shown), "{err}");
    }
    let err = materialize(url, "abc", None, &Default::default(), &net(dir.path())).unwrap_err();
    assert_eq!(err.code(), "invalid-bundle-source");
}

#[test]
fn refused_urls_name_their_rule_and_touch_nothing() {
    let cases = [
        ("ext::sh -c touch% /tmp/pwned", "SRC-001"),
        ("fd::7", "SRC-001"),
        ("file:///srv/repos/kit", "SRC-001"),
        ("ftp://example.com/kit.git", "SRC-001"),
        ("-uhelp", "SRC-001"),
        ("git@-oProxyCommand=x:kit.git", "SRC-001"),
        ("ssh://-oProxyCommand=x/kit.git", "SRC-001"),
        ("example.com/org/kit", "SRC-001"),
        ("https://user:ghp_secret@github.com/org/kit.git", "SRC-002"),
        ("https://ghp_secret@github.com/org/kit.git", "SRC-002"),
        ("ssh://git:pw@github.com/org/kit.git", "SRC-002"),
        ("http://github.com/org/kit.git", "SRC-003"),
        ("git://github.com/org/kit.git", "SRC-003"),
        ("http://10.0.0.5/kit.git", "SRC-003"),
    ];
    let dir = tempdir();
    for (url, rule) in cases {
        let err = check_url(url).unwrap_err();
        assert_eq!(err.code(), rule, "{url}: {err}");
        assert!(err.is_refusal());
        let src = GitSource::new(url, GitRef::Default, None);
        let err = src.releases(&net(dir.path())).unwrap_err();
        assert_eq!(err.code(), rule, "{url}");
        let err = materialize(
            url,
            &"a".repeat(40),
            None,
            &Default::default(),
            &net(dir.path()),
        )
        .unwrap_err();
        assert_eq!(err.code(), rule, "{url}");
    }
    assert!(!dir.path().join("cache").exists());
    for fine in [
        "https://github.com/org/kit.git",
        "ssh://git@github.com/org/kit.git",
        "git@github.com:org/kit.git",
        "git://127.0.0.1:9418/kit",
        "http://localhost:8080/kit.git",
        "http://[::1]/kit.git",
        "/srv/repos/kit",
        "../kit",
        "./kit",
    ] {
        assert!(check_url(fine).is_ok(), "{fine}");
    }
}

#[test]
fn a_ref_starting_with_a_dash_is_not_an_option() {
    let (dir, _, url) = local_kit();
    let url = url.as_str();
    for reference in [
        GitRef::Rev("--upload-pack=touch".into()),
        GitRef::Tag("--output=x".into()),
        GitRef::Branch("-b".into()),
        GitRef::Tag(String::new()),
    ] {
        let err = GitSource::new(url, reference, None)
            .releases(&net(dir.path()))
            .unwrap_err();
        assert_eq!(err.code(), "invalid-bundle-source", "{err}");
    }
    assert!(!dir.path().join("cache").exists());
    assert!(!dir.path().join("x").exists());
}

#[test]
fn a_private_repository_over_http_uses_the_credential_helper() {
    let dir = tempdir();
    let commits = kit_repo(&dir.path().join("srv/kit"));
    let server = GitHttp::start(&dir.path().join("srv"));
    let url = server.url("kit");
    let n = net(dir.path());
    let req = GitRef::Version("^2".parse().unwrap());
    let releases = GitSource::new(&url, req, None).releases(&n).unwrap();
    assert_eq!(versions(&releases), ["2.0.0"]);
    assert_eq!(commit_of(&releases[0]), commits[2].1);
    // The server asked for credentials, and the configured helper answered.
    assert!(server.refused.load(std::sync::atomic::Ordering::SeqCst) > 0);
    let other = tempdir();
    let tree = materialize(
        &url,
        &commits[0].1,
        None,
        &Default::default(),
        &net(other.path()),
    )
    .unwrap();
    assert!(tree.file("bundle.toml").is_some());
    // Credentials in the URL itself are refused before git runs.
    let with_token = url.replace("http://", "http://u:p@");
    let err = GitSource::new(&with_token, GitRef::Default, None)
        .releases(&n)
        .unwrap_err();
    assert_eq!(err.code(), "SRC-002");
}

#[test]
fn two_fetches_at_once_share_one_cache() {
    let dir = tempdir();
    let commits = kit_repo(&dir.path().join("srv/kit"));
    let daemon = GitDaemon::start(&dir.path().join("srv"));
    let url = daemon.url("kit");
    let results: Vec<Vec<Release>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..2)
            .map(|_| {
                s.spawn(|| {
                    let req = GitRef::Version("*".parse().unwrap());
                    GitSource::new(&url, req, None).releases(&net(dir.path()))
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap().unwrap())
            .collect()
    });
    assert_eq!(results[0], results[1]);
    assert_eq!(versions(&results[0]), ["2.0.0", "1.1.0", "1.0.0"]);
    let cache = dir.path().join("cache");
    let key_dirs: Vec<_> = std::fs::read_dir(cache.join("git/checkouts"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(key_dirs.len(), 1);
    let mut checked_out: Vec<String> = std::fs::read_dir(&key_dirs[0])
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    checked_out.sort();
    let mut expected: Vec<String> = commits[..3].iter().map(|(_, c)| c.clone()).collect();
    expected.sort();
    assert_eq!(checked_out, expected);
    assert_eq!(std::fs::read_dir(cache.join("tmp")).unwrap().count(), 0);
}

//! OCI registries: bundles pushed to a real registry (docker-registry on 127.0.0.1),
//! resolved from their tags and manifests, pulled by digest into the cache and verified;
//! and `capm publish --oci` through the binary.

use std::path::Path;

use capm::manifest::tree::BundleTree;
use capm::remote::oci::{self, OciSource, PushMeta, Pushed};
use capm::remote::{Dep, Fetch, Net, RemoteError};

use super::oci_registry::OciRegistry;
use super::support::{capm_with, tempdir, tree, write_files, write_valid_bundle};

/// A bundle `name` at `version` whose skill says `text`.
fn bundle(dir: &Path, name: &str, version: &str, text: &str) -> (BundleTree, PushMeta) {
    write_valid_bundle(dir, name);
    let manifest = std::fs::read_to_string(dir.join("bundle.toml")).unwrap();
    let manifest = manifest.replace("version = \"1.0.0\"", &format!("version = \"{version}\""));
    std::fs::write(dir.join("bundle.toml"), manifest).unwrap();
    write_files(dir, &[("skills/extra.md", text)]);
    let meta = PushMeta {
        name: name.into(),
        version: semver::Version::parse(version).unwrap(),
        description: "A test bundle".into(),
        deps: vec![Dep {
            name: "base".into(),
            req: "^1".into(),
            optional: false,
        }],
    };
    (BundleTree::read(dir, name).unwrap(), meta)
}

/// A registry, a work directory, a `Net` over a cache in it, and `HOST/capm/kit`.
struct Setup {
    reg: OciRegistry,
    work: tempfile::TempDir,
    net: Net,
    repo: String,
}

fn setup(test: &str) -> Option<Setup> {
    let reg = OciRegistry::start(test)?;
    let work = tempdir();
    let net = Net::new(work.path().join("cache"));
    let repo = format!("{}/capm/kit", reg.host);
    Some(Setup {
        reg,
        work,
        net,
        repo,
    })
}

fn req(r: &str) -> semver::VersionReq {
    semver::VersionReq::parse(r).unwrap()
}

fn layer(fetch: &Fetch) -> String {
    match fetch {
        Fetch::Oci { layer, .. } => layer.clone(),
        other => panic!("not an OCI pin: {other:?}"),
    }
}

fn blobs(cache: &Path) -> usize {
    tree(cache)
        .keys()
        .filter(|p| p.starts_with("blobs/"))
        .count()
}

#[test]
fn pushed_versions_resolve_by_tag_and_materialize_verified() {
    let Some(Setup {
        reg,
        work,
        net,
        repo,
    }) = setup("pushed_versions_resolve_by_tag_and_materialize_verified")
    else {
        return;
    };
    let mut pushed = Vec::new();
    for (i, v) in ["1.0.0", "1.1.0+b1", "2.0.0"].iter().enumerate() {
        let (t, meta) = bundle(&work.path().join(format!("b{i}")), "kit", v, v);
        assert!(matches!(
            oci::push(&t, &meta, &repo, &net).unwrap(),
            Pushed::New { .. }
        ));
        pushed.push(t);
    }
    let mut tags = reg.tags("capm/kit");
    tags.sort();
    assert_eq!(tags, ["1.0.0", "1.1.0_b1", "2.0.0"]);

    let releases = OciSource::new(&repo).releases(&req("^1"), &net).unwrap();
    let versions: Vec<String> = releases.iter().map(|r| r.version.to_string()).collect();
    assert_eq!(versions, ["1.1.0+b1", "1.0.0"], "newest first, ^1 only");
    let r = &releases[0];
    assert_eq!(r.name, "kit");
    assert_eq!(r.digest, pushed[1].content_digest());
    assert_eq!(r.deps[0].name, "base");
    assert_eq!(r.description, "A test bundle");

    let got = oci::materialize(&r.fetch, &r.digest, &net).unwrap();
    assert_eq!(got.content_digest(), pushed[1].content_digest());
    assert_eq!(got.file("skills/extra.md").unwrap(), b"1.1.0+b1");
    let cached = net.cache.blob(&layer(&r.fetch)).unwrap();
    assert!(cached.is_some(), "the layer is kept in the cache by digest");
}

#[test]
fn a_version_is_pushed_once_and_never_changes() {
    let Some(Setup {
        reg: _registry, // kept alive until the end of the test
        work,
        net,
        repo,
    }) = setup("a_version_is_pushed_once_and_never_changes")
    else {
        return;
    };
    let (t, meta) = bundle(&work.path().join("a"), "kit", "1.0.0", "first");
    let Pushed::New { manifest, .. } = oci::push(&t, &meta, &repo, &net).unwrap() else {
        panic!("first push is new");
    };
    let again = oci::push(&t, &meta, &repo, &net).unwrap();
    assert!(matches!(again, Pushed::Unchanged { .. }), "{again:?}");

    let (other, meta) = bundle(&work.path().join("b"), "kit", "1.0.0", "second");
    let err = oci::push(&other, &meta, &repo, &net).unwrap_err();
    assert!(matches!(err, RemoteError::VersionTaken { .. }), "{err:?}");
    assert!(err.is_refusal());
    assert!(err.to_string().contains(&t.content_digest()), "{err}");
    let releases = OciSource::new(&repo).releases(&req("*"), &net).unwrap();
    match &releases[0].fetch {
        Fetch::Oci { manifest: m, .. } => assert_eq!(m, &manifest, "the tag did not move"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn foreign_manifests_and_conflicting_tags_are_refused() {
    let Some(Setup {
        reg,
        work,
        net,
        repo,
    }) = setup("foreign_manifests_and_conflicting_tags_are_refused")
    else {
        return;
    };
    let (t, meta) = bundle(&work.path().join("a"), "kit", "1.0.0", "text");
    oci::push(&t, &meta, &repo, &net).unwrap();
    let mut m = reg.manifest("capm/kit", "1.0.0");

    m["annotations"]["org.opencontainers.image.description"] = "changed".into();
    reg.put_manifest("capm/kit", "v1.0.0", &m);
    let err = OciSource::new(&repo)
        .releases(&req("^1"), &net)
        .unwrap_err();
    assert_eq!(err.code(), "oci-error");
    assert!(
        err.to_string()
            .contains("two tags name version 1.0.0 with different manifests"),
        "{err}"
    );

    m["artifactType"] = "application/vnd.example.other".into();
    m["annotations"]["org.opencontainers.image.version"] = "2.0.0".into();
    reg.put_manifest("capm/kit", "2.0.0", &m);
    let err = OciSource::new(&repo)
        .releases(&req("^2"), &net)
        .unwrap_err();
    assert!(err.to_string().contains("not a capm bundle"), "{err}");
    assert!(!err.is_refusal(), "exit 2, oci-error");
}

#[test]
fn a_tampered_layer_is_refused_and_not_cached() {
    let Some(Setup {
        reg,
        work,
        net,
        repo,
    }) = setup("a_tampered_layer_is_refused_and_not_cached")
    else {
        return;
    };
    let (t, meta) = bundle(&work.path().join("a"), "kit", "1.0.0", "text");
    oci::push(&t, &meta, &repo, &net).unwrap();
    let r = OciSource::new(&repo).releases(&req("^1"), &net).unwrap()[0].clone();
    let data = reg.blob_file(&layer(&r.fetch));
    let mut bytes = std::fs::read(&data).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    std::fs::write(&data, bytes).unwrap();
    let before = blobs(&work.path().join("cache"));

    let err = oci::materialize(&r.fetch, &r.digest, &net).unwrap_err();
    assert!(matches!(err, RemoteError::Digest { .. }), "{err:?}");
    assert_eq!(err.code(), "SC-002");
    assert!(err.to_string().contains(&layer(&r.fetch)), "{err}");
    assert_eq!(
        blobs(&work.path().join("cache")),
        before,
        "nothing was cached"
    );
    assert!(net.cache.blob(&layer(&r.fetch)).unwrap().is_none());
}

#[test]
fn offline_answers_from_what_was_pulled() {
    let Some(Setup {
        reg,
        work,
        mut net,
        repo,
    }) = setup("offline_answers_from_what_was_pulled")
    else {
        return;
    };
    let (t, meta) = bundle(&work.path().join("a"), "kit", "1.0.0", "text");
    oci::push(&t, &meta, &repo, &net).unwrap();

    let mut cold = Net::new(work.path().join("cold"));
    cold.offline = true;
    let err = OciSource::new(&repo)
        .releases(&req("^1"), &cold)
        .unwrap_err();
    assert!(matches!(err, RemoteError::Offline { .. }), "{err:?}");
    assert_eq!(err.code(), "offline-missing");

    let r = OciSource::new(&repo).releases(&req("^1"), &net).unwrap()[0].clone();
    oci::materialize(&r.fetch, &r.digest, &net).unwrap();
    drop(reg);
    net.offline = true;
    let again = OciSource::new(&repo).releases(&req("^1"), &net).unwrap();
    assert_eq!(again, vec![r.clone()]);
    let got = oci::materialize(&r.fetch, &r.digest, &net).unwrap();
    assert_eq!(got.content_digest(), t.content_digest());
    let err = oci::materialize(&r.fetch, &r.digest, &cold).unwrap_err();
    assert!(err.to_string().contains("is not in the cache"), "{err}");
}

/// `capm publish` with the cache and Docker config inside `dir`.
fn publish(dir: &Path, args: &[&str]) -> super::support::Run {
    let mut all = vec!["publish"];
    all.extend_from_slice(args);
    let cache = dir.join(".cache");
    let docker = dir.join(".docker");
    capm_with(
        dir,
        &all,
        &[
            ("CAPM_CACHE_DIR", cache.to_str().unwrap()),
            ("DOCKER_CONFIG", docker.to_str().unwrap()),
        ],
    )
}

#[test]
fn publish_oci_pushes_and_reports_in_both_formats() {
    let Some(reg) = OciRegistry::start("publish_oci_pushes_and_reports_in_both_formats") else {
        return;
    };
    let dir = tempdir();
    write_valid_bundle(&dir.path().join("kit"), "kit");
    let repo = format!("{}/capm/kit", reg.host);
    let run = publish(dir.path(), &["kit", "--oci", &repo]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    assert_eq!(run.stdout, "");
    let prefix = format!("Published kit 1.0.0 to {repo}:1.0.0 (sha256:");
    assert!(run.stderr.trim().starts_with(&prefix), "{}", run.stderr);
    assert_eq!(reg.tags("capm/kit"), ["1.0.0"]);

    let run = publish(dir.path(), &["kit", "--oci", &repo, "--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    let doc = run.json();
    assert_eq!(doc["schema"], "capm.publish/v1");
    assert_eq!(doc["outcome"], "unchanged");
    assert_eq!(doc["registry"], format!("{repo}:1.0.0"));

    let other = format!("{}/capm/other", reg.host);
    let run = publish(dir.path(), &["kit", "--oci", &other, "--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    let doc = run.json();
    assert_eq!(doc["outcome"], "published");
    let tree = BundleTree::read(&dir.path().join("kit"), "kit").unwrap();
    assert_eq!(doc["digest"], tree.content_digest());
    assert!(doc["manifest"].as_str().unwrap().starts_with("sha256:"));

    write_files(&dir.path().join("kit"), &[("skills/more.md", "changed")]);
    let run = publish(dir.path(), &["kit", "--oci", &repo]);
    assert_eq!(run.code, 1, "{}", run.transcript());
    assert!(
        run.stderr.starts_with("error[publish-refused]: "),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("already published with different content"),
        "{}",
        run.stderr
    );
}

#[test]
fn publish_oci_refuses_bad_input_and_pushes_nothing() {
    let Some(reg) = OciRegistry::start("publish_oci_refuses_bad_input_and_pushes_nothing") else {
        return;
    };
    let dir = tempdir();
    write_valid_bundle(&dir.path().join("kit"), "kit");
    write_files(
        &dir.path().join("broken"),
        &[("bundle.toml", "[bundle]\nname = \"Broken!\"\n")],
    );
    let repo = format!("{}/capm/kit", reg.host);

    let run = publish(dir.path(), &["broken", "--oci", &repo]);
    assert_eq!(run.code, 1, "{}", run.transcript());
    assert!(
        run.stderr.contains("nothing was published"),
        "{}",
        run.stderr
    );

    let run = publish(dir.path(), &["kit", "--oci", &repo, "--registry", "reg"]);
    assert_eq!(run.code, 2, "{}", run.transcript());
    assert!(run.stderr.contains("cannot be used with"), "{}", run.stderr);
    assert!(!dir.path().join("reg").exists());

    let run = publish(dir.path(), &["kit"]);
    assert_eq!(run.code, 2, "{}", run.transcript());
    assert!(run.stderr.contains("--registry"), "{}", run.stderr);

    let tagged = format!("{repo}:1.0.0");
    let run = publish(dir.path(), &["kit", "--oci", &tagged, "--format", "json"]);
    assert_eq!(run.code, 2, "{}", run.transcript());
    assert_eq!(run.json()["code"], "oci-error");
    assert!(run.stderr.contains("without a tag"), "{}", run.stderr);

    std::fs::create_dir_all(dir.path().join(".docker")).unwrap();
    std::fs::write(dir.path().join(".docker/config.json"), "{not json").unwrap();
    let run = publish(dir.path(), &["kit", "--oci", &repo]);
    assert_eq!(run.code, 2, "{}", run.transcript());
    assert!(run.stderr.contains("config.json"), "{}", run.stderr);
    assert!(reg.tags("capm/kit").is_empty(), "nothing was pushed");
}

/// `u:p`, bcrypt (cost 4), as docker-registry's htpasswd wants it.
const HTPASSWD: &str = "u:$2b$04$uqMP1hKcaWtRP8s/Xdcz2eJCxAqrdNFCAdIjcoAaaDHDEJXm7k8IS";

#[test]
fn credentials_come_from_the_environment_or_the_docker_config() {
    let test = "credentials_come_from_the_environment_or_the_docker_config";
    let Some(reg) = OciRegistry::start_with_auth(test, HTPASSWD) else {
        return;
    };
    let dir = tempdir();
    write_valid_bundle(&dir.path().join("kit"), "kit");
    let repo = |name: &str| format!("{}/capm/{name}", reg.host);

    let run = publish(
        dir.path(),
        &["kit", "--oci", &repo("anon"), "--format", "json"],
    );
    assert_eq!(run.code, 2, "{}", run.transcript());
    assert_eq!(run.json()["code"], "oci-error");
    assert!(
        run.stderr.contains("not authorized at http://"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("CAPM_OCI_USERNAME"), "{}", run.stderr);

    let with_env = |user: &str, pass: &str, name: &str| {
        let cache = dir.path().join(".cache");
        let args = ["publish", "kit", "--oci", &repo(name)];
        capm_with(
            dir.path(),
            &args,
            &[
                ("CAPM_CACHE_DIR", cache.to_str().unwrap()),
                ("DOCKER_CONFIG", "/nonexistent"),
                ("CAPM_OCI_USERNAME", user),
                ("CAPM_OCI_PASSWORD", pass),
            ],
        )
    };
    let run = with_env("u", "wrong", "bad");
    assert_eq!(run.code, 2, "{}", run.transcript());
    let run = with_env("u", "p", "env");
    assert_eq!(run.code, 0, "{}", run.transcript());

    // base64("u:p")
    let config = format!(r#"{{"auths":{{"{}":{{"auth":"dTpw"}}}}}}"#, reg.host);
    write_files(&dir.path().join(".docker"), &[("config.json", &config)]);
    let run = publish(dir.path(), &["kit", "--oci", &repo("docker")]);
    assert_eq!(run.code, 0, "{}", run.transcript());

    let (_, body) = reg.get(&format!("http://u:p@{}/v2/_catalog", reg.host));
    assert!(
        body.contains("capm/env") && body.contains("capm/docker"),
        "{body}"
    );
    assert!(
        !body.contains("capm/anon") && !body.contains("capm/bad"),
        "{body}"
    );
}

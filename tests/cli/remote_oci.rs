//! OCI registries end to end through the `capm` binary: bundles published with
//! `capm publish --oci` to a real registry on 127.0.0.1, then installed, added by URL,
//! pinned by manifest in capm.lock, refused when a blob was tampered with, installed
//! offline from the cache, and updated when a newer version is pushed.

use std::path::{Path, PathBuf};

use super::oci_registry::OciRegistry;
use super::support::{Run, capm_with, tempdir, tree, write_files};

/// A registry and a work directory whose `cache` every run shares.
struct Env {
    reg: OciRegistry,
    work: tempfile::TempDir,
}

impl Env {
    fn start(test: &str) -> Option<Env> {
        Some(Env {
            reg: OciRegistry::start(test)?,
            work: tempdir(),
        })
    }

    /// `HOST/org/NAME`.
    fn repo(&self, name: &str) -> String {
        format!("{}/org/{name}", self.reg.host)
    }

    fn cache(&self) -> PathBuf {
        self.work.path().join("cache")
    }

    /// `capm ARGS` in `dir`, with the shared cache and no Docker credentials.
    fn capm(&self, dir: &Path, args: &[&str]) -> Run {
        capm_in(dir, args, &self.cache())
    }

    /// Writes bundle `name` at `version` (its skill says `text`; `kit` depends on
    /// `base ^1`) and publishes it to `HOST/org/REPO`; returns the manifest digest.
    fn publish(&self, repo: &str, name: &str, version: &str, text: &str) -> String {
        let dir = self
            .work
            .path()
            .join(format!("src/{repo}-{version}-{text}"));
        write_bundle(&dir, name, version, text);
        let d = dir.to_str().unwrap();
        let args = ["publish", d, "--oci", &self.repo(repo), "--format", "json"];
        let run = self.capm(self.work.path(), &args);
        assert_eq!(run.code, 0, "{}", run.transcript());
        run.json()["manifest"].as_str().unwrap().to_string()
    }

    /// base 1.0.0, and kit 1.0.0 and 1.1.0 (depending on base ^1); the manifest digests
    /// of kit's versions.
    fn publish_kit(&self) -> [String; 2] {
        self.publish("base", "base", "1.0.0", "base one");
        [
            self.publish("kit", "kit", "1.0.0", "kit one"),
            self.publish("kit", "kit", "1.1.0", "kit two"),
        ]
    }

    /// A new project whose capm.toml asks for kit and base from their repositories.
    fn project(&self, kit_req: &str) -> tempfile::TempDir {
        let dir = tempdir();
        let toml = format!(
            "[bundles]\nkit = {{ oci = \"{}\", version = \"{kit_req}\" }}\n\
             base = {{ oci = \"{}\", version = \"^1\" }}\n",
            self.repo("kit"),
            self.repo("base")
        );
        write_files(dir.path(), &[("capm.toml", &toml)]);
        dir
    }
}

fn capm_in(dir: &Path, args: &[&str], cache: &Path) -> Run {
    let env = [
        ("XDG_CACHE_HOME", cache.to_str().unwrap()),
        ("DOCKER_CONFIG", "/nonexistent"),
    ];
    capm_with(dir, args, &env)
}

fn write_bundle(dir: &Path, name: &str, version: &str, text: &str) {
    let deps = if name == "kit" {
        "\n[dependencies]\nbase = \"^1\"\n"
    } else {
        ""
    };
    let manifest = format!(
        "[bundle]\nname = \"{name}\"\nversion = \"{version}\"\ndescription = \"A test bundle\"\n\n\
         [compatibility.product-modes]\ndesktop-local = \"supported\"\n{deps}\n\
         [skills.{name}]\npath = \"skills/{name}\"\n"
    );
    let skill = format!("---\nname: {name}\ndescription: Does one thing well\n---\n\n{text}\n");
    write_files(
        dir,
        &[
            ("bundle.toml", &manifest),
            (&format!("skills/{name}/SKILL.md"), &skill),
        ],
    );
}

fn skill(dir: &Path, name: &str) -> String {
    let path = dir.join(format!(".opencode/skills/{name}/SKILL.md"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// capm.lock's entry for `name`.
fn locked(dir: &Path, name: &str) -> toml::Value {
    let text = std::fs::read_to_string(dir.join("capm.lock")).unwrap();
    let lock: toml::Value = toml::from_str(&text).unwrap();
    let entries = lock["bundle"].as_array().unwrap();
    let entry = entries.iter().find(|b| b["name"].as_str() == Some(name));
    entry
        .unwrap_or_else(|| panic!("{name} not in capm.lock:\n{text}"))
        .clone()
}

fn field(entry: &toml::Value, key: &str) -> String {
    entry[key].as_str().unwrap_or_default().to_string()
}

fn assert_ok(run: &Run) {
    assert_eq!(run.code, 0, "{}", run.transcript());
}

#[test]
fn published_versions_install_and_the_lock_pins_manifest_and_layer() {
    let Some(env) = Env::start("published_versions_install_and_the_lock_pins_manifest_and_layer")
    else {
        return;
    };
    let [_, manifest_digest] = env.publish_kit();
    let project = env.project("^1");
    let run = env.capm(project.path(), &["install", "-y"]);
    assert_ok(&run);
    assert!(skill(project.path(), "kit").contains("kit two"));
    assert!(skill(project.path(), "base").contains("base one"));

    let kit = locked(project.path(), "kit");
    assert_eq!(field(&kit, "version"), "1.1.0");
    assert_eq!(field(&kit, "source"), format!("oci+{}", env.repo("kit")));
    let manifest = env.reg.manifest("org/kit", "1.1.0");
    let layer = manifest["layers"][0]["digest"].as_str().unwrap();
    assert_eq!(field(&kit, "archive"), layer);
    assert_eq!(
        field(&kit, "sha256"),
        manifest["annotations"]["dev.capm.bundle.content-digest"]
    );
    assert_eq!(field(&kit, "manifest"), manifest_digest);
    assert_eq!(
        field(&locked(project.path(), "base"), "source"),
        format!("oci+{}", env.repo("base"))
    );
    assert!(
        env.cache().join("capm/blobs/sha256").is_dir(),
        "the layers are cached"
    );
    let again = env.capm(project.path(), &["install", "-y"]);
    assert_ok(&again);
}

#[test]
fn add_by_url_writes_the_newest_version_and_installs() {
    let Some(env) = Env::start("add_by_url_writes_the_newest_version_and_installs") else {
        return;
    };
    env.publish_kit();
    let project = tempdir();
    write_files(project.path(), &[("capm.toml", "[bundles]\n")]);
    for name in ["base", "kit"] {
        let url = format!("oci://{}", env.repo(name));
        let run = env.capm(project.path(), &["add", &url, "-y"]);
        assert_ok(&run);
    }
    let toml = std::fs::read_to_string(project.path().join("capm.toml")).unwrap();
    let want = format!(
        "kit = {{ oci = \"{}\", version = \"^1.1.0\" }}",
        env.repo("kit")
    );
    assert!(toml.contains(&want), "{toml}");
    let base = format!(
        "base = {{ oci = \"{}\", version = \"^1.0.0\" }}",
        env.repo("base")
    );
    assert!(toml.contains(&base), "{toml}");
    assert!(skill(project.path(), "kit").contains("kit two"));
    assert_eq!(field(&locked(project.path(), "kit"), "version"), "1.1.0");
}

#[test]
fn the_locked_manifest_wins_over_a_moved_tag_and_update_refuses_it() {
    let Some(env) = Env::start("the_locked_manifest_wins_over_a_moved_tag_and_update_refuses_it")
    else {
        return;
    };
    env.publish("base", "base", "1.0.0", "base one");
    let first = env.publish("kit", "kit", "1.0.0", "kit one");
    let project = env.project("^1");
    assert_ok(&env.capm(project.path(), &["install", "-y"]));
    assert_eq!(field(&locked(project.path(), "kit"), "manifest"), first);

    // Tag 1.0.0 of org/kit now names other content, pushed past capm's refusal: the
    // manifest of another repository, its layer mounted.
    let other = env.publish("scratch", "kit", "1.0.0", "kit moved");
    let moved = env.reg.manifest("org/scratch", "1.0.0");
    let layer = moved["layers"][0]["digest"].as_str().unwrap();
    env.reg.mount_blob("org/kit", layer, "org/scratch");
    env.reg.put_manifest("org/kit", "1.0.0", &moved);
    assert_ne!(
        env.reg.manifest("org/kit", "1.0.0"),
        env.reg.manifest("org/kit", &first)
    );

    // A clone of the project, with a cold cache: the lock's manifest is installed.
    let clone = tempdir();
    for f in ["capm.toml", "capm.lock"] {
        std::fs::copy(project.path().join(f), clone.path().join(f)).unwrap();
    }
    let cold = clone.path().join("cache");
    let run = capm_in(clone.path(), &["install", "-y"], &cold);
    assert_ok(&run);
    assert!(skill(clone.path(), "kit").contains("kit one"));
    assert_eq!(field(&locked(clone.path(), "kit"), "manifest"), first);
    let lock = std::fs::read(project.path().join("capm.lock")).unwrap();
    assert_eq!(std::fs::read(clone.path().join("capm.lock")).unwrap(), lock);

    let run = env.capm(project.path(), &["install", "-y"]);
    assert_ok(&run);
    assert!(skill(project.path(), "kit").contains("kit one"));

    // Update sees the tag: version 1.0.0 with other content is refused, not installed.
    let before = tree(project.path());
    let run = env.capm(project.path(), &["update", "-y"]);
    assert_eq!(run.code, 1, "{}", run.transcript());
    let said = format!(
        "error[SC-002]: kit 1.0.0 from oci+{} does not match its digest",
        env.repo("kit")
    );
    assert!(run.stderr.starts_with(&said), "{}", run.stderr);
    let moved_digest = moved["annotations"]["dev.capm.bundle.content-digest"]
        .as_str()
        .unwrap();
    assert!(run.stderr.contains(moved_digest), "{}", run.stderr);
    assert_eq!(tree(project.path()), before, "nothing was written");
    assert_ne!(other, first);
}

#[test]
fn a_tampered_layer_is_refused_and_nothing_is_written_or_cached() {
    let Some(env) = Env::start("a_tampered_layer_is_refused_and_nothing_is_written_or_cached")
    else {
        return;
    };
    env.publish_kit();
    let manifest = env.reg.manifest("org/kit", "1.1.0");
    let layer = manifest["layers"][0]["digest"].as_str().unwrap();
    let data = env.reg.blob_file(layer);
    let mut bytes = std::fs::read(&data).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    std::fs::write(&data, bytes).unwrap();

    let project = env.project("^1");
    let before = tree(project.path());
    let fresh = tempdir();
    let run = capm_in(project.path(), &["install", "-y"], fresh.path());
    assert_eq!(run.code, 1, "{}", run.transcript());
    assert!(run.stderr.starts_with("error[SC-002]: "), "{}", run.stderr);
    assert!(run.stderr.contains(layer), "{}", run.stderr);
    assert_eq!(tree(project.path()), before, "nothing was written");
    let hex = layer.strip_prefix("sha256:").unwrap();
    let cached = tree(fresh.path());
    assert!(
        cached.keys().any(|p| p.contains("blobs/")),
        "manifests were cached"
    );
    assert!(
        !cached.keys().any(|p| p.contains(hex)),
        "the layer was not cached: {:?}",
        cached.keys()
    );
}

#[test]
fn offline_and_frozen_installs_come_from_the_cache() {
    let Some(env) = Env::start("offline_and_frozen_installs_come_from_the_cache") else {
        return;
    };
    env.publish_kit();
    let first = env.project("^1");
    assert_ok(&env.capm(first.path(), &["install", "-y"]));
    let offline = env.project("^1");
    let frozen = env.project("^1");
    let cold = env.project("^1");
    std::fs::copy(
        first.path().join("capm.lock"),
        frozen.path().join("capm.lock"),
    )
    .unwrap();
    let kit = env.repo("kit");
    let Env { reg, work } = env;
    drop(reg);
    let cache = work.path().join("cache");

    let run = capm_in(offline.path(), &["install", "-y", "--offline"], &cache);
    assert_ok(&run);
    assert!(skill(offline.path(), "kit").contains("kit two"));
    let lock = std::fs::read(first.path().join("capm.lock")).unwrap();
    assert_eq!(
        std::fs::read(offline.path().join("capm.lock")).unwrap(),
        lock
    );

    let run = capm_in(frozen.path(), &["install", "-y", "--frozen"], &cache);
    assert_ok(&run);
    assert!(skill(frozen.path(), "kit").contains("kit two"));

    let before = tree(cold.path());
    let empty = cold.path().join("empty-cache");
    let run = capm_in(cold.path(), &["install", "-y", "--offline"], &empty);
    assert_eq!(run.code, 2, "{}", run.transcript());
    let missing = format!("the tags of {kit} are not in the cache");
    assert!(run.stderr.contains(&missing), "{}", run.stderr);
    let args = ["install", "-y", "--offline", "--format", "json"];
    let run = capm_in(cold.path(), &args, &empty);
    assert_eq!(run.code, 2, "{}", run.transcript());
    assert_eq!(
        run.json()["code"],
        "offline-missing",
        "{}",
        run.transcript()
    );
    assert_eq!(tree(cold.path()), before, "nothing was written");
}

#[test]
fn update_moves_to_a_newly_pushed_version_and_outdated_shows_it() {
    let Some(env) = Env::start("update_moves_to_a_newly_pushed_version_and_outdated_shows_it")
    else {
        return;
    };
    env.publish_kit();
    let project = env.project("^1");
    assert_ok(&env.capm(project.path(), &["install", "-y"]));
    let old = field(&locked(project.path(), "kit"), "manifest");
    let newest = env.publish("kit", "kit", "1.2.0", "kit three");

    let run = env.capm(project.path(), &["outdated"]);
    assert_ok(&run);
    let line = run.stdout.lines().find(|l| l.starts_with("kit"));
    let line = line.unwrap_or_else(|| panic!("{}", run.transcript()));
    assert!(line.contains("1.1.0") && line.contains("1.2.0"), "{line}");

    let run = env.capm(project.path(), &["update", "-y"]);
    assert_ok(&run);
    assert!(
        run.stdout.contains("kit 1.1.0 → 1.2.0"),
        "{}",
        run.transcript()
    );
    let kit = locked(project.path(), "kit");
    assert_eq!(field(&kit, "version"), "1.2.0");
    assert_eq!(field(&kit, "manifest"), newest);
    assert_ne!(newest, old);
    assert!(skill(project.path(), "kit").contains("kit three"));
}

#[test]
fn a_locked_manifest_out_of_the_new_requirement_gives_way() {
    let Some(env) = Env::start("a_locked_manifest_out_of_the_new_requirement_gives_way") else {
        return;
    };
    let [_, newest] = env.publish_kit();
    let project = env.project("=1.0.0");
    assert_ok(&env.capm(project.path(), &["install", "-y"]));
    assert_eq!(field(&locked(project.path(), "kit"), "version"), "1.0.0");

    let toml = std::fs::read_to_string(project.path().join("capm.toml")).unwrap();
    let toml = toml.replace("\"=1.0.0\"", "\"^1.1\"");
    std::fs::write(project.path().join("capm.toml"), toml).unwrap();
    let run = env.capm(project.path(), &["install", "-y"]);
    assert_ok(&run);
    assert!(
        run.stdout.contains("kit 1.0.0 → 1.1.0"),
        "{}",
        run.transcript()
    );
    assert_eq!(field(&locked(project.path(), "kit"), "manifest"), newest);
    assert!(skill(project.path(), "kit").contains("kit two"));
}

#[test]
fn a_locked_manifest_the_registry_lost_is_named_and_nothing_is_written() {
    let test = "a_locked_manifest_the_registry_lost_is_named_and_nothing_is_written";
    let Some(env) = Env::start(test) else {
        return;
    };
    let [_, newest] = env.publish_kit();
    let project = env.project("^1");
    assert_ok(&env.capm(project.path(), &["install", "-y"]));
    std::fs::remove_dir_all(project.path().join(".opencode")).unwrap();
    env.reg.delete_manifest("org/kit", &newest);

    let before = tree(project.path());
    let cold = tempdir();
    let args = ["install", "-y", "--format", "json"];
    let run = capm_in(project.path(), &args, cold.path());
    assert_eq!(run.code, 2, "{}", run.transcript());
    assert_eq!(run.json()["code"], "oci-error");
    let said = format!("{}@{newest}", env.repo("kit"));
    assert!(run.stderr.contains(&said), "{}", run.stderr);
    assert!(run.stderr.contains("no such manifest"), "{}", run.stderr);
    assert_eq!(tree(project.path()), before, "nothing was written");
}

//! Agent and command front matter: for each case, what the real OpenCode does with the file
//! in `.opencode/agents/` or `.opencode/commands/` (refuse the whole configuration, ignore
//! the front matter, or load it) and what `capm lint` says of a bundle shipping it.

use std::path::Path;

use crate::client::{OpenCode, binary};
use crate::support::{capm, tempdir};

/// What OpenCode does with a file, and so what capm must say.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Outcome {
    /// Every OpenCode command fails ("Configuration is invalid"); capm: error `code`.
    Refused(&'static str),
    /// OpenCode loads the file with its front matter read as prompt text; capm: error.
    Ignored,
    /// OpenCode loads it; capm accepts it, with warning `code` when given.
    Loaded(Option<&'static str>),
}

use Outcome::{Ignored, Loaded, Refused};

const VALUE: Outcome = Refused("front-matter-value");

const AGENTS: &[(&str, &str, Outcome)] = &[
    (
        "weird",
        "mode: weird\ntemperature: hot\ncolor: notacolor",
        VALUE,
    ),
    ("hexnoquote", "color: #FF5733", VALUE),
    ("shorthex", "color: \"#fff\"", VALUE),
    ("steps", "steps: 0", VALUE),
    ("stepsfloat", "steps: 2.5", VALUE),
    ("hiddenyes", "hidden: yes", VALUE),
    ("tools", "tools:\n  bash: maybe", VALUE),
    ("perm", "permission:\n  edit: sometimes", VALUE),
    ("todo", "permission:\n  todowrite:\n    \"*\": allow", VALUE),
    ("descnull", "description:", VALUE),
    ("dup", "description: a\ndescription: b", Ignored),
    ("flow", "description: [unclosed", Ignored),
    (
        "good",
        "description: Reviews\nmode: subagent\ncolor: \"#FF5733\"\ntemperature: 0.2\ntop_p: 1\nsteps: 3\nhidden: true\ntools:\n  bash: false\npermission:\n  edit: deny\n  bash:\n    \"git *\": allow",
        Loaded(None),
    ),
    (
        "colon",
        "description: Use this: when reviewing",
        Loaded(None),
    ),
    (
        "hiddentrue",
        "hidden: True\ncolor: accent\ntemperature: 0x1\npermission: ask",
        Loaded(None),
    ),
    (
        "typo",
        "descriptoin: Reviews",
        Loaded(Some("front-matter-key")),
    ),
];

const COMMANDS: &[(&str, &str, Outcome)] = &[
    ("subtask", "subtask: \"yes\"", VALUE),
    ("agentnum", "agent: 1", VALUE),
    ("flow", "description: [x", Ignored),
    (
        "good",
        "description: Review\nagent: build\nmodel: anthropic/claude\nsubtask: true",
        Loaded(None),
    ),
    (
        "typo",
        "descriptoin: x\nmode: primary",
        Loaded(Some("front-matter-key")),
    ),
];

#[test]
fn agent_front_matter_is_judged_as_opencode_judges_it() {
    cases(
        "agent_front_matter_is_judged_as_opencode_judges_it",
        "agent",
        AGENTS,
    );
}

#[test]
fn command_front_matter_is_judged_as_opencode_judges_it() {
    cases(
        "command_front_matter_is_judged_as_opencode_judges_it",
        "command",
        COMMANDS,
    );
}

fn cases(test: &str, kind: &str, list: &[(&str, &str, Outcome)]) {
    let Some(bin) = binary(test) else {
        return;
    };
    let oc = OpenCode::new(bin);
    for (name, yaml, outcome) in list {
        case(&oc, kind, name, yaml, *outcome);
    }
}

fn case(oc: &OpenCode, kind: &str, name: &str, yaml: &str, outcome: Outcome) {
    let text = format!("---\n{yaml}\n---\nThe body.\n");
    let dir = tempdir();
    let seen = opencode_sees(oc, &dir.path().join("project"), kind, name, &text);
    let lint = lint(&dir.path().join("bundle"), kind, name, &text);
    let what = format!("{kind} {name}:\n{text}\nopencode: {seen:?}\ncapm: {lint:?}");
    match outcome {
        Refused(code) => {
            let Err(err) = &seen else {
                panic!("OpenCode loaded it: {what}")
            };
            assert!(err.contains("Configuration is invalid"), "{what}");
            assert_eq!(lint.0, 1, "{what}");
            assert!(lint.1.contains(&format!("error[{code}]")), "{what}");
        }
        Ignored => {
            let entry = seen.as_ref().expect("OpenCode loads the file");
            let field = if kind == "agent" {
                "prompt"
            } else {
                "template"
            };
            assert!(entry[field].as_str().unwrap().starts_with("---"), "{what}");
            assert_eq!(lint.0, 1, "{what}");
            assert!(lint.1.contains("error[invalid-front-matter]"), "{what}");
        }
        Loaded(warning) => {
            let entry = seen.as_ref().expect("OpenCode loads the file");
            let field = if kind == "agent" {
                "prompt"
            } else {
                "template"
            };
            assert_eq!(entry[field], "The body.", "{what}");
            assert_eq!(lint.0, 0, "{what}");
            assert!(!lint.1.contains("error["), "{what}");
            match warning {
                Some(code) => assert!(lint.1.contains(&format!("warning[{code}]")), "{what}"),
                None => assert!(!lint.1.contains("warning["), "{what}"),
            }
        }
    }
}

/// The entry OpenCode's resolved config holds for the file, or its error.
fn opencode_sees(
    oc: &OpenCode,
    project: &Path,
    kind: &str,
    name: &str,
    text: &str,
) -> Result<serde_json::Value, String> {
    let dir = project.join(format!(".opencode/{kind}s"));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(format!("{name}.md")), text).unwrap();
    let git = std::process::Command::new("git")
        .args(["init", "-q"])
        .current_dir(project)
        .status()
        .unwrap();
    assert!(git.success());
    let out = oc.run(project, &["debug", "config"], &[]);
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    let config: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    Ok(config[kind][name].clone())
}

/// `capm lint` of a bundle shipping the file: exit code and stderr.
fn lint(bundle: &Path, kind: &str, name: &str, text: &str) -> (i32, String) {
    std::fs::create_dir_all(bundle.join(format!("{kind}s"))).unwrap();
    std::fs::write(bundle.join(format!("{kind}s/{name}.md")), text).unwrap();
    let manifest = format!(
        "[bundle]\nname = \"fm\"\nversion = \"0.1.0\"\ndescription = \"x\"\n\n\
         [compatibility.product-modes]\ndesktop-local = \"supported\"\n\n\
         [{kind}s.{name}]\npath = \"{kind}s/{name}.md\"\n"
    );
    std::fs::write(bundle.join("bundle.toml"), manifest).unwrap();
    let run = capm(bundle, &["lint", "."]);
    (run.code, run.stderr)
}

/// The schemas capm checks front matter against are the ones this OpenCode serves at `/doc`.
#[test]
fn the_schema_data_file_is_what_opencode_publishes() {
    let Some(bin) = binary("the_schema_data_file_is_what_opencode_publishes") else {
        return;
    };
    let doc = served_doc(&bin);
    let ours: serde_json::Value = serde_json::from_str(capm::validate::OPENCODE_SCHEMA).unwrap();
    let theirs = &doc["components"]["schemas"];
    let version = std::process::Command::new(&bin)
        .arg("--version")
        .output()
        .unwrap();
    let version = String::from_utf8_lossy(&version.stdout);
    assert_eq!(
        version.trim(),
        ours["opencode"],
        "the data file names another release"
    );
    for (name, schema) in ours["schemas"].as_object().unwrap() {
        let published = match name.as_str() {
            "CommandConfig" => &theirs["Config"]["properties"]["command"]["additionalProperties"],
            _ => &theirs[name],
        };
        assert_eq!(schema, published, "{name} differs from OpenCode's /doc");
    }
    let agent = &theirs["Config"]["properties"]["agent"]["additionalProperties"];
    assert_eq!(agent["$ref"], "#/components/schemas/AgentConfig");
}

/// `GET /doc` of `opencode serve` on 127.0.0.1, in an empty directory.
fn served_doc(bin: &Path) -> serde_json::Value {
    let dir = tempdir();
    OpenCode::new(bin.to_path_buf()).openapi(dir.path())
}

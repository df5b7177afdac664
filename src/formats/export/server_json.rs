//! `capm export --to server.json`: each MCP server as an MCP Registry `server.json`
//! (schema 2025-12-11). A local server becomes a package when its command is one a
//! registry entry can describe (`npx -y pkg@1.2.3`, `uvx pkg==1.2.3`,
//! `uvx --from pkg==1.2.3 pkg`, `docker run … image`); any other command is refused. A
//! remote server becomes a remote. Values read from the environment become inputs.

use serde_json::{Map, Value, json};

use super::{ExportError, Exported, Options, bundle_name, env_refs, env_text, other_resources};
use crate::manifest::bundle::{BundleManifest, EnvValue, McpServer};
use crate::manifest::span::Spanned;
use crate::security::launch::{npm_pin, program, python_pin};

/// The schema every document names.
pub const SCHEMA: &str =
    "https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json";
/// The longest description the registry accepts, in characters.
const MAX_DESCRIPTION: usize = 100;

pub(super) fn export(m: &BundleManifest, opts: &Options) -> Result<Exported, ExportError> {
    if m.mcp.is_empty() {
        return Err(ExportError::Nothing {
            bundle: bundle_name(m),
            what: "MCP servers",
            to: "server.json",
        });
    }
    let namespace = namespace(m, opts)?;
    let mut out = Exported::default();
    let common = common_fields(m, &mut out);
    for (name, s) in &m.mcp {
        let mut doc = common.clone();
        doc.insert("name".into(), format!("{namespace}/{}", name.value).into());
        let id = format!("mcp:{}", name.value);
        match &s.command {
            Some(_) => doc.insert("packages".into(), json!([package(&id, s)?])),
            None => doc.insert(
                "remotes".into(),
                json!([super::remote(s, "streamable-http", inputs)]),
            ),
        };
        unsaid(&mut out, &id, s);
        let path = if m.mcp.len() == 1 {
            "server.json".to_string()
        } else {
            format!("{}/server.json", name.value)
        };
        out.json(path, &Value::Object(doc));
    }
    out.left_out(
        other_resources(m, &["mcp"]),
        "server.json describes MCP servers only",
    );
    Ok(out)
}

/// `--namespace`, or `io.github.OWNER` from a GitHub repository.
fn namespace(m: &BundleManifest, opts: &Options) -> Result<String, ExportError> {
    if let Some(ns) = &opts.namespace {
        let valid = !ns.is_empty()
            && ns
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-');
        return if valid {
            Ok(ns.clone())
        } else {
            Err(ExportError::BadNamespace(ns.clone()))
        };
    }
    let repository = repository(m);
    let owner = repository
        .as_deref()
        .and_then(|r| github(r))
        .map(|(o, _)| o);
    match owner {
        Some(owner) => Ok(format!("io.github.{owner}")),
        None => Err(ExportError::NoNamespace { repository }),
    }
}

fn repository(m: &BundleManifest) -> Option<String> {
    let meta = m.bundle.as_ref()?;
    meta.repository.as_ref().map(|r| r.value.clone())
}

/// The owner and repository of a `https://github.com/OWNER/REPO…` URL.
fn github(url: &str) -> Option<(&str, &str)> {
    let rest = url
        .strip_prefix("https://github.com/")
        .or_else(|| url.strip_prefix("https://www.github.com/"))?;
    let mut parts = rest.split('/');
    let owner = parts.next().filter(|o| !o.is_empty())?;
    let repo = parts.next().filter(|r| !r.is_empty())?;
    Some((owner, repo.trim_end_matches(".git")))
}

/// server.json's `repository` for a GitHub URL: the repository's own URL, and a directory
/// in it (`…/tree/REF/src/fetch`) as `subfolder`, as the registry requires.
fn github_repository(url: &str) -> Value {
    let Some((owner, repo)) = github(url) else {
        return Value::Null;
    };
    let mut out =
        json!({ "url": format!("https://github.com/{owner}/{repo}"), "source": "github" });
    let rest: Vec<&str> = url.split('/').skip(5).filter(|p| !p.is_empty()).collect();
    if let ["tree", _reference, sub @ ..] = rest.as_slice()
        && !sub.is_empty()
    {
        out["subfolder"] = sub.join("/").into();
    }
    out
}

/// `$schema`, `description`, `version` and `repository`, the same for every server.
fn common_fields(m: &BundleManifest, out: &mut Exported) -> Map<String, Value> {
    let meta = m.bundle.clone().unwrap_or_default();
    let mut doc = Map::new();
    doc.insert("$schema".into(), SCHEMA.into());
    doc.insert(
        "description".into(),
        description(&meta.description_text(), out).into(),
    );
    let version = meta.version.map(|v| v.value).unwrap_or_default();
    doc.insert("version".into(), version.into());
    match repository(m) {
        Some(url) if github(&url).is_some() => {
            doc.insert("repository".into(), github_repository(&url));
        }
        Some(url) => out.notes.push(format!(
            "the repository `{url}` is left out: server.json names GitHub repositories only"
        )),
        None => {}
    }
    doc
}

/// The description cut to what the registry accepts, with a note when it was cut.
fn description(text: &str, out: &mut Exported) -> String {
    if text.chars().count() <= MAX_DESCRIPTION {
        return text.to_string();
    }
    let cut: String = text.chars().take(MAX_DESCRIPTION - 1).collect();
    out.notes.push(format!(
        "the description is cut to {MAX_DESCRIPTION} characters, the most server.json allows"
    ));
    format!("{}…", cut.trim_end())
}

/// Fields of a server that server.json has no place for.
fn unsaid(out: &mut Exported, id: &str, s: &McpServer) {
    for (field, set) in [
        ("cwd", s.cwd.is_some()),
        ("timeout", s.timeout.is_some()),
        ("enabled", s.enabled.is_some()),
        ("oauth", s.oauth.is_some()),
    ] {
        if set {
            out.notes.push(format!(
                "{id}: `{field}` is left out: server.json has no such field"
            ));
        }
    }
}

/// A local server as a package, or why it cannot be one.
fn package(id: &str, s: &McpServer) -> Result<Value, ExportError> {
    let command = s.command.as_ref().map(|c| c.value.as_str()).unwrap_or("");
    let args: Vec<&str> = s.args.iter().map(|a| a.value.as_str()).collect();
    let launch = match program(command).as_str() {
        "npx" => npm(&args),
        "uvx" => pypi(&args),
        "docker" | "podman" => oci(program(command), &args),
        _ => Err("a package is run with npx, uvx or docker run, and capm cannot tell which package this is".into()),
    };
    let launch = launch.map_err(|why| ExportError::Inexpressible {
        server: id.trim_start_matches("mcp:").to_string(),
        command: std::iter::once(command)
            .chain(args.iter().copied())
            .collect::<Vec<_>>()
            .join(" "),
        why,
    })?;
    let mut doc = launch.doc;
    doc["transport"] = json!({ "type": "stdio" });
    if !launch.runtime.is_empty() {
        doc["runtimeArguments"] = positional(&launch.runtime);
    }
    if !launch.rest.is_empty() {
        doc["packageArguments"] = positional(&launch.rest);
    }
    if !s.env.is_empty() {
        doc["environmentVariables"] = inputs(&s.env);
    }
    Ok(doc)
}

/// What a launcher's arguments say: the package, the runtime's own arguments, and the
/// arguments handed to the package.
struct Launch<'a> {
    doc: Value,
    runtime: Vec<&'a str>,
    rest: Vec<&'a str>,
}

/// `npx [-y|--yes] pkg@VERSION ARGS…`.
fn npm<'a>(args: &[&'a str]) -> Result<Launch<'a>, String> {
    let at = args.iter().position(|a| !matches!(*a, "-y" | "--yes"));
    let Some(spec) = at.map(|i| args[i]) else {
        return Err("npx is given no package".into());
    };
    if spec.starts_with('-') {
        return Err(format!(
            "the npx option `{spec}` has no place in server.json"
        ));
    }
    npm_pin(spec).map_err(|e| format!("`{spec}` {e}"))?;
    let split = spec[1..]
        .find('@')
        .map(|i| i + 1)
        .expect("a pinned spec has a version");
    Ok(Launch {
        doc: json!({
            "registryType": "npm",
            "identifier": &spec[..split],
            "version": &spec[split + 1..],
            "runtimeHint": "npx",
        }),
        runtime: Vec::new(),
        rest: args[at.expect("found above") + 1..].to_vec(),
    })
}

/// The options of uvx that take the next argument as their value.
const UVX_VALUED: &[&str] = &[
    "--python",
    "-p",
    "--with",
    "--with-requirements",
    "--index",
    "--default-index",
    "--index-url",
    "--extra-index-url",
];

/// `uvx [OPTIONS…] pkg==VERSION ARGS…` or `uvx [OPTIONS…] --from pkg==VERSION pkg ARGS…`;
/// the options (`--python 3.12`, `--with mcp==1.30.0`) as the runtime's arguments.
fn pypi<'a>(args: &[&'a str]) -> Result<Launch<'a>, String> {
    let mut i = 0;
    while let Some(a) = args
        .get(i)
        .filter(|a| a.starts_with('-') && **a != "--from")
    {
        i += if UVX_VALUED.contains(a) { 2 } else { 1 };
    }
    let (runtime, args) = args.split_at(i.min(args.len()));
    let (spec, rest) = match args {
        ["--from", spec, command, rest @ ..] => {
            let name = spec.split(['=', '@']).next().unwrap_or(spec);
            if !same_python_name(name, command) {
                return Err(format!(
                    "it runs `{command}` from `{name}`, and a registry entry runs the command named after its package"
                ));
            }
            (*spec, rest)
        }
        [spec, rest @ ..] if !spec.starts_with('-') => (*spec, rest),
        [option, ..] => {
            return Err(format!(
                "the uvx option `{option}` has no place in server.json"
            ));
        }
        [] => return Err("uvx is given no package".into()),
    };
    python_pin(spec).map_err(|e| format!("`{spec}` {e}"))?;
    let (name, version) = spec
        .split_once("==")
        .or_else(|| spec.split_once('@'))
        .expect("a pinned spec has a version");
    if name.contains('[') {
        return Err(format!(
            "`{spec}` asks for extras, which server.json cannot name"
        ));
    }
    Ok(Launch {
        doc: json!({
            "registryType": "pypi",
            "identifier": name.trim(),
            "version": version.trim_start_matches('=').trim(),
            "runtimeHint": "uvx",
        }),
        runtime: runtime.to_vec(),
        rest: rest.to_vec(),
    })
}

/// Python package names compare case-insensitively, with `-`, `_` and `.` alike.
fn same_python_name(a: &str, b: &str) -> bool {
    let norm = |s: &str| s.to_ascii_lowercase().replace(['_', '.'], "-");
    norm(a) == norm(b)
}

/// `docker run OPTIONS… IMAGE ARGS…`: the image, with the options as the runtime's.
fn oci<'a>(engine: String, args: &[&'a str]) -> Result<Launch<'a>, String> {
    if args.first() != Some(&"run") {
        return Err(format!("only `{engine} run IMAGE` describes a package"));
    }
    let mut i = 1;
    while let Some(a) = args.get(i) {
        if *a == "--" {
            i += 1;
            break;
        }
        if !a.starts_with('-') || *a == "-" {
            break;
        }
        i += option_width(a);
    }
    let Some(image) = args.get(i) else {
        return Err(format!("`{engine} run` is given no image"));
    };
    Ok(Launch {
        doc: json!({ "registryType": "oci", "identifier": image, "runtimeHint": engine }),
        runtime: args[..i].to_vec(),
        rest: args[i + 1..].to_vec(),
    })
}

/// How many arguments a `run` option takes up: two when its value is the next one.
fn option_width(a: &str) -> usize {
    use crate::security::container::RUN_VALUED;
    if let Some(long) = a.strip_prefix("--") {
        let valued = !long.contains('=') && RUN_VALUED.contains(&a);
        return if valued { 2 } else { 1 };
    }
    // A cluster of short flags ends with at most one option that takes a value.
    for (at, c) in a[1..].char_indices() {
        if RUN_VALUED.contains(&format!("-{c}").as_str()) {
            let rest = &a[1 + at + c.len_utf8()..];
            return if rest.is_empty() { 2 } else { 1 };
        }
    }
    1
}

/// Each argument as written, in order.
fn positional(args: &[&str]) -> Value {
    let items = args
        .iter()
        .map(|a| json!({ "type": "positional", "value": a }));
    Value::Array(items.collect())
}

/// `env` or `headers` as inputs: a variable read under its own name is asked for; any
/// other value is written with `{VAR}` for each variable, each described in `variables`.
fn inputs(map: &indexmap::IndexMap<Spanned<String>, EnvValue>) -> Value {
    let items = map.iter().map(|(key, v)| {
        let (secret, required) = flags(v);
        let mut doc = json!({ "name": key.value });
        let asked = matches!(v, EnvValue::FromEnv { from_env, .. } if from_env.value == key.value);
        if !asked {
            doc["value"] = env_text(v, |var| format!("{{{var}}}")).into();
            let vars = referenced(v);
            if !vars.is_empty() {
                let described = vars
                    .into_iter()
                    .map(|var| (var, json!({ "isRequired": required, "isSecret": secret })));
                doc["variables"] = Value::Object(described.collect());
            }
        }
        if required && asked {
            doc["isRequired"] = true.into();
        }
        if secret {
            doc["isSecret"] = true.into();
        }
        doc
    });
    Value::Array(items.collect())
}

/// `secret` and `required` of a value read from the environment (`required` defaults to
/// true); a literal is neither.
fn flags(v: &EnvValue) -> (bool, bool) {
    let on = |b: &Option<Spanned<bool>>, default| b.as_ref().map_or(default, |b| b.value);
    match v {
        EnvValue::Literal(_) => (false, false),
        EnvValue::FromEnv {
            secret, required, ..
        }
        | EnvValue::Template {
            secret, required, ..
        } => (on(secret, false), on(required, true)),
    }
}

/// The variables a value reads from the environment.
fn referenced(v: &EnvValue) -> Vec<String> {
    match v {
        EnvValue::Literal(_) => Vec::new(),
        EnvValue::FromEnv { from_env, .. } => vec![from_env.value.clone()],
        EnvValue::Template { template, .. } => env_refs(&template.value),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_options_with_values_are_skipped_to_the_image() {
        let args = [
            "run",
            "-i",
            "--rm",
            "-e",
            "TOKEN",
            "--name=x",
            "-ie",
            "A",
            "img@sha256:00",
            "--flag",
        ];
        let l = oci("docker".into(), &args).unwrap();
        assert_eq!(l.doc["identifier"], "img@sha256:00");
        assert_eq!(l.runtime.len(), 8);
        assert_eq!(l.rest, ["--flag"]);
    }

    #[test]
    fn launchers_name_their_package_and_version() {
        let l = npm(&["-y", "@acme/weather@1.2.0", "--units", "metric"]).unwrap();
        assert_eq!(l.doc["identifier"], "@acme/weather");
        assert_eq!(l.doc["version"], "1.2.0");
        assert_eq!(l.rest, ["--units", "metric"]);
        let l = pypi(&["--from", "mcp-server-git==0.6.2", "mcp-server-git"]).unwrap();
        assert_eq!(
            (l.doc["identifier"].as_str(), l.doc["version"].as_str()),
            (Some("mcp-server-git"), Some("0.6.2"))
        );
        assert!(pypi(&["--from", "tools==1.0", "other"]).is_err());
        assert!(npm(&["-y", "pkg"]).is_err());
    }
}

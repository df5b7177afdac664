//! MCP Registry `server.json` documents (schema 2025-09-16 and later, any `$schema`), read
//! as native bundles of one MCP server.
//!
//! The bundle is named after the document's `name` (`io.github.acme/weather` →
//! `io-github-acme-weather`), its server after the part after `/` (`weather`). One server
//! is installed, never two copies of the same tools: the first package capm can run, in the
//! document's order (`npx` for npm, `uvx` for PyPI, `docker` for OCI, or the package's
//! `runtimeHint`), else the first remote. The choice depends on the document alone, never
//! on what this machine has installed, so capm.lock's digest means the same everywhere. A package type capm does not run (nuget, mcpb, …) or a remote whose URL needs a
//! value nobody gave is FMT-002 when nothing else can be installed.

use std::sync::Arc;

use super::generated::{From, string as toml_string};
use super::json::{self, Node};
use super::{Options, Translation, bundle_name};
use crate::diagnostic::Diagnostic;
use crate::manifest::span::{SourceFile, Span};
use crate::manifest::tree::BundleTree;

/// Keys only the first, snake_case schema (2025-07-09) has.
const LEGACY_KEYS: &[&str] = &[
    "website_url",
    "version_detail",
    "registry_type",
    "registry_name",
    "environment_variables",
    "package_arguments",
    "runtime_hint",
];

/// A server.json as a native bundle's tree.
pub fn translate(raw: BundleTree, _opts: &Options) -> BundleTree {
    let mut t = Translation::new(raw, "server.json");
    let Some((file, source)) = t.source("server.json") else {
        return t.fail();
    };
    let root = match json::parse(&source) {
        Ok(root) => root,
        Err(d) => {
            t.finding(*d);
            return t.fail();
        }
    };
    let mut doc = Doc { t, file, source };
    let Some(name) = doc.check_shape(&root) else {
        return doc.t.fail();
    };
    let bundle = bundle_name(&name).unwrap_or(name.clone());
    doc.header(&root, &bundle);
    let part = name.rsplit('/').next().unwrap_or(&name);
    let resource = bundle_name(part).unwrap_or_else(|| bundle.clone());
    if let Some(server) = doc.choose(&root, &bundle) {
        doc.write_server(&resource, server);
    }
    doc.t.finish(file)
}

/// A translation of one document.
struct Doc {
    t: Translation,
    file: usize,
    source: Arc<SourceFile>,
}

/// The server chosen, as the generated manifest will say it.
enum Server {
    Local {
        command: (String, From),
        args: Vec<(String, From)>,
        env: Vec<(String, String, From)>,
    },
    Remote {
        url: (String, From),
        transport: (String, From),
        headers: Vec<(String, String, From)>,
    },
}

/// How a package is run: its kind and the launcher.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Npm,
    Pypi,
    Oci,
}

impl Doc {
    fn from(&self, node: &Node) -> From {
        Some((self.file, Some(node.span)))
    }

    fn error(&mut self, code: &'static str, span: Span, message: String) {
        let d = Diagnostic::new(code, message).at(&self.source, span);
        self.t.finding(d);
    }

    /// The document's `name`, once the document is known to be of the current shape.
    fn check_shape(&mut self, root: &Node) -> Option<String> {
        if let Some((key, span)) = legacy_key(root) {
            let message = format!(
                "server.json uses `{key}`, a key of the first (2025-07-09) schema; capm reads the camelCase schema of 2025-09-16 and later"
            );
            let d = Diagnostic::new("server-json-invalid", message)
                .at(&self.source, span)
                .help("rename the keys to camelCase (`registryType`, `environmentVariables`, `websiteUrl`, …) as the current schema says");
            self.t.finding(d);
            return None;
        }
        match root.get("name") {
            Some(n) if n.as_str().is_some() => n.as_str().map(str::to_string),
            other => {
                let span = other.map_or(root.span, |n| n.span);
                let what = other.map_or("missing", |n| n.kind());
                let message = format!(
                    "server.json needs `name`, a string such as `io.github.owner/server` (found {what})"
                );
                self.error("server-json-invalid", span, message);
                None
            }
        }
    }

    /// `[bundle]` and `[compatibility]`.
    fn header(&mut self, root: &Node, bundle: &str) {
        let name_from = root.get("name").and_then(|n| self.from(n));
        let strings: Vec<(&str, Option<&Node>)> = vec![
            ("version", root.get("version")),
            ("description", root.get("description")),
            (
                "repository",
                root.get("repository")
                    .and_then(|r| r.get("url"))
                    .or_else(|| root.get("websiteUrl")),
            ),
        ];
        let m = &mut self.t.manifest;
        m.table(&["bundle"]);
        m.string("name", bundle, name_from);
        for (key, node) in strings {
            let Some(node) = node else { continue };
            let from = Some((self.file, Some(node.span)));
            match node.as_str() {
                Some(s) => m.string(key, s, from),
                // The check of the generated manifest reports the wrong type here.
                None => m.raw(key, &node.to_json().to_string(), from),
            }
        }
        self.t.compatibility();
    }

    /// The one server to install, or none (with findings saying why).
    fn choose(&mut self, root: &Node, bundle: &str) -> Option<Server> {
        let packages = root.get("packages").map(Node::elements).unwrap_or_default();
        let runnable: Vec<(&Node, Kind, String)> = packages
            .iter()
            .filter_map(|p| runtime(p).ok().map(|(k, c)| (p, k, c)))
            .collect();
        if let Some((pkg, kind, cmd)) = runnable.first() {
            return self.package(pkg, *kind, cmd);
        }
        let remotes = root.get("remotes").map(Node::elements).unwrap_or_default();
        for remote in remotes {
            if let Ok(server) = self.remote(remote) {
                return Some(server);
            }
        }
        for p in packages {
            if let Err(why) = runtime(p) {
                let span = p.get("registryType").map_or(p.span, |n| n.span);
                self.unusable(span, bundle, why, p);
            }
        }
        for r in remotes {
            if let Err(why) = self.remote(r) {
                self.unusable(r.span, bundle, why, r);
            }
        }
        None
    }

    /// FMT-002 for a package or remote capm cannot install.
    fn unusable(&mut self, span: Span, bundle: &str, why: String, node: &Node) {
        let reviewed = node.to_json().to_string();
        let message = format!("{why}, and the server has no package or remote capm can install");
        let resource = format!("bundle:{bundle}");
        self.t
            .rule("FMT-002", (self.file, span), &resource, message, &reviewed);
    }

    /// A package as a server: `streamable-http` and `sse` transports become a URL server.
    fn package(&mut self, pkg: &Node, kind: Kind, cmd: &str) -> Option<Server> {
        let mut args = vec![];
        let runtime_args = self.arguments(pkg.get("runtimeArguments"))?;
        let package_args = self.arguments(pkg.get("packageArguments"))?;
        if kind == Kind::Oci {
            args.push(("run".to_string(), None));
            for flag in ["-i", "--rm"] {
                if !runtime_args.iter().any(|(a, _)| a == flag) {
                    args.push((flag.to_string(), None));
                }
            }
        }
        let yes = ["-y", "--yes"];
        if cmd == "npx" && !runtime_args.iter().any(|(a, _)| yes.contains(&a.as_str())) {
            args.push(("-y".to_string(), None));
        }
        args.extend(runtime_args);
        let envs = pkg
            .get("environmentVariables")
            .map(Node::elements)
            .unwrap_or_default();
        let mut env = vec![];
        for var in envs {
            let Some(name) = var.get("name").and_then(Node::as_str) else {
                let message = "an environment variable needs a `name`".to_string();
                self.error("server-json-invalid", var.span, message);
                continue;
            };
            if kind == Kind::Oci {
                // The container sees only the variables docker is told to pass on.
                args.push(("-e".to_string(), None));
                args.push((name.to_string(), self.from(var)));
            }
            env.push((name.to_string(), key_value(var, name), self.from(var)));
        }
        args.push(self.package_spec(pkg, kind));
        args.extend(package_args);
        if let Some(transport) = pkg.get("transport")
            && let Some(kind @ ("streamable-http" | "sse")) =
                transport.get("type").and_then(Node::as_str)
        {
            return Some(self.served(pkg, (transport, kind), cmd, &args));
        }
        let command = (
            cmd.to_string(),
            pkg.get("registryType").and_then(|n| self.from(n)),
        );
        Some(Server::Local { command, args, env })
    }

    /// A package that serves HTTP: OpenCode connects to its URL; it does not start it.
    fn served(
        &mut self,
        pkg: &Node,
        (transport, kind): (&Node, &str),
        cmd: &str,
        args: &[(String, From)],
    ) -> Server {
        let url = transport.get("url");
        let text = package_url(pkg, url.and_then(Node::as_str).unwrap_or_default());
        let line: Vec<&str> = std::iter::once(cmd)
            .chain(args.iter().map(|(a, _)| a.as_str()))
            .collect();
        let message = format!(
            "the package serves MCP over {kind} at `{text}`; OpenCode connects to it but does not start it"
        );
        let d = Diagnostic::new("format-not-carried", message)
            .at(&self.source, transport.span)
            .help(format!("start it yourself: `{}`", line.join(" ")));
        self.t.finding(d);
        let headers = self.headers(transport);
        Server::Remote {
            url: (text, url.and_then(|u| self.from(u))),
            transport: (
                kind.to_string(),
                transport.get("type").and_then(|n| self.from(n)),
            ),
            headers,
        }
    }

    /// `IDENT@VERSION` (npm, PyPI) or the image reference (OCI).
    fn package_spec(&self, pkg: &Node, kind: Kind) -> (String, From) {
        let ident = pkg.get("identifier");
        let version = pkg.get("version").filter(|_| kind != Kind::Oci);
        let mut spec = ident.and_then(Node::as_str).unwrap_or_default().to_string();
        if let Some(v) = version.and_then(Node::as_str) {
            spec = format!("{spec}@{v}");
        }
        (spec, version.or(ident).and_then(|n| self.from(n)))
    }

    /// The arguments of `runtimeArguments` or `packageArguments`; `None` after reporting
    /// a required one without a value.
    fn arguments(&mut self, list: Option<&Node>) -> Option<Vec<(String, From)>> {
        let mut out = vec![];
        let mut ok = true;
        for arg in list.map(Node::elements).unwrap_or_default() {
            let from = self.from(arg);
            let name = arg.get("name").and_then(Node::as_str);
            let named = arg.get("type").and_then(Node::as_str) == Some("named");
            match (fixed_value(arg), named, name) {
                (Some(v), true, Some(n)) if n.starts_with("--") => {
                    out.push((format!("{n}={v}"), from))
                }
                (Some(v), true, Some(n)) => out.extend([(n.to_string(), from), (v, from)]),
                (Some(v), false, _) => out.push((v, from)),
                (None, _, _) if is_true(arg, "isRequired") => {
                    ok = false;
                    let label = name
                        .or(arg.get("valueHint").and_then(Node::as_str))
                        .unwrap_or("an argument");
                    let message = format!(
                        "`{label}` is required but server.json gives it no value or default, and capm cannot ask for one"
                    );
                    let d = Diagnostic::new("server-json-input-missing", message)
                        .at(&self.source, arg.span)
                        .help("give the argument a `value` or a `default` in server.json, or write a native bundle.toml");
                    self.t.finding(d);
                }
                _ => {}
            }
        }
        ok.then_some(out)
    }

    /// A remote as a URL server; why not when its URL needs a value nobody gave.
    fn remote(&self, remote: &Node) -> Result<Server, String> {
        let ty = remote.get("type");
        let transport = match ty.and_then(Node::as_str) {
            Some(t @ ("streamable-http" | "sse")) => t.to_string(),
            other => {
                return Err(format!(
                    "a remote of type `{}` cannot be installed",
                    other.unwrap_or("?")
                ));
            }
        };
        let url = remote.get("url");
        let text = url.and_then(Node::as_str).unwrap_or_default();
        let (filled, missing) = fill(text, remote.get("variables"), false);
        let unfilled = missing.first().map(String::as_str);
        if let Some(var) = unfilled.or_else(|| placeholder(&filled)) {
            return Err(format!(
                "the remote URL `{text}` needs `{var}`, which has no value or default"
            ));
        }
        let headers = self.headers(remote);
        Ok(Server::Remote {
            url: (filled, url.and_then(|u| self.from(u))),
            transport: (transport, ty.and_then(|n| self.from(n))),
            headers,
        })
    }

    fn headers(&self, node: &Node) -> Vec<(String, String, From)> {
        let list = node.get("headers").map(Node::elements).unwrap_or_default();
        list.iter()
            .filter_map(|h| {
                let name = h.get("name").and_then(Node::as_str)?;
                Some((
                    name.to_string(),
                    key_value(h, &env_name(name)),
                    self.from(h),
                ))
            })
            .collect()
    }

    /// `[mcp.NAME]` with its `env` or `headers` table.
    fn write_server(&mut self, resource: &str, server: Server) {
        let m = &mut self.t.manifest;
        m.table(&["mcp", resource]);
        let (values, table) = match server {
            Server::Local { command, args, env } => {
                m.string("command", &command.0, command.1);
                m.strings("args", &args);
                (env, "env")
            }
            Server::Remote {
                url,
                transport,
                headers,
            } => {
                m.string("url", &url.0, url.1);
                m.string("transport", &transport.0, transport.1);
                (headers, "headers")
            }
        };
        if values.is_empty() {
            return;
        }
        m.table(&["mcp", resource, table]);
        for (key, value, from) in values {
            m.raw(&key, &value, from);
        }
    }
}

/// The first key of the 2025-07-09 schema found in the document, and where.
fn legacy_key(root: &Node) -> Option<(&'static str, Span)> {
    let packages = root.get("packages").map(Node::elements).unwrap_or_default();
    std::iter::once(root).chain(packages).find_map(|n| {
        n.members().iter().find_map(|(k, _)| {
            LEGACY_KEYS
                .iter()
                .find(|l| **l == k.value)
                .map(|l| (*l, k.span))
        })
    })
}

/// The package's kind and launcher (`runtimeHint` when it names one capm knows for the
/// kind); why not when capm does not run it.
fn runtime(pkg: &Node) -> Result<(Kind, String), String> {
    let ty = pkg
        .get("registryType")
        .and_then(Node::as_str)
        .unwrap_or("?");
    let (kind, launchers): (Kind, &[&str]) = match ty {
        "npm" => (Kind::Npm, &["npx", "bunx", "pnpx"]),
        "pypi" => (Kind::Pypi, &["uvx"]),
        "oci" => (Kind::Oci, &["docker", "podman"]),
        other => return Err(format!("capm does not run `{other}` packages")),
    };
    match pkg.get("runtimeHint").and_then(Node::as_str) {
        None => Ok((kind, launchers[0].to_string())),
        Some(h) if launchers.contains(&h) => Ok((kind, h.to_string())),
        Some(h) => Err(format!("capm does not run `{ty}` packages with `{h}`")),
    }
}

fn is_true(node: &Node, key: &str) -> bool {
    node.get(key).and_then(Node::as_bool) == Some(true)
}

/// An input's `value` (else `default`) with its `{variables}` filled in; `None` when it has
/// neither, or a variable in it has no value.
fn fixed_value(input: &Node) -> Option<String> {
    let text = input.get("value").or(input.get("default"))?.as_str()?;
    let (filled, missing) = fill(text, input.get("variables"), false);
    missing.is_empty().then_some(filled)
}

/// `text` with every `{name}` that `vars` gives a value (or default) replaced by it. With
/// `from_env`, a variable without one (or a secret one) becomes `{env:NAME}`; otherwise
/// those are returned as missing. A `{name}` `vars` does not declare is left as written.
fn fill(text: &str, vars: Option<&Node>, from_env: bool) -> (String, Vec<String>) {
    let mut out = String::new();
    let mut missing = vec![];
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else {
            rest = &rest[open..];
            break;
        };
        let name = &after[..close];
        match vars.and_then(|v| v.get(name)) {
            None => out.push_str(&rest[open..open + close + 2]),
            Some(var) => match fixed_value(var).filter(|_| !(from_env && is_true(var, "isSecret")))
            {
                Some(v) => out.push_str(&v),
                None if from_env => out.push_str(&format!("{{env:{}}}", env_name(name))),
                None => missing.push(name.to_string()),
            },
        }
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    (out, missing)
}

/// A package transport's URL with each `{name}` filled by the value (or default) of the
/// package's argument of that `valueHint` or name (`--port` for `{port}`), or of its
/// environment variable of that name, as the package is started with them.
fn package_url(pkg: &Node, text: &str) -> String {
    let inputs = [
        "runtimeArguments",
        "packageArguments",
        "environmentVariables",
    ];
    let all: Vec<&Node> = inputs
        .iter()
        .flat_map(|k| pkg.get(k).map(Node::elements).unwrap_or_default())
        .collect();
    let mut out = text.to_string();
    while let Some(var) = placeholder(&out).map(str::to_string) {
        let names = |n: &&&Node| {
            let name = n
                .get("name")
                .and_then(Node::as_str)
                .map(|s| s.trim_start_matches('-'));
            let hint = n.get("valueHint").and_then(Node::as_str);
            name == Some(var.as_str()) || hint == Some(var.as_str())
        };
        let Some(value) = all.iter().find(names).and_then(|n| fixed_value(n)) else {
            break;
        };
        out = out.replacen(&format!("{{{var}}}"), &value, 1);
    }
    out
}

/// The first `{name}` left in `text`.
fn placeholder(text: &str) -> Option<&str> {
    let open = text.find('{')?;
    let close = text[open..].find('}')?;
    Some(&text[open + 1..open + close])
}

/// An environment variable named after a header or variable (`X-Api-Key` → `X_API_KEY`).
fn env_name(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect()
}

/// The TOML value of an environment variable or header (a KeyValueInput): a secret is
/// read from the environment (`var`, or a template of `{env:…}` when its value has
/// variables); a value or default that is not secret is written as it is; no value at all
/// is read from the environment.
fn key_value(input: &Node, var: &str) -> String {
    let vars = input.get("variables");
    let text = input
        .get("value")
        .or(input.get("default"))
        .and_then(Node::as_str);
    let (filled, _) = fill(text.unwrap_or_default(), vars, true);
    let templated = text.is_some() && filled.contains("{env:");
    // What a variable of the value says holds for the value.
    let says = |key| {
        is_true(input, key)
            || vars.is_some_and(|v| v.members().iter().any(|(_, n)| is_true(n, key)))
    };
    let (secret, required) = (says("isSecret"), says("isRequired"));
    let flags = format!(
        "{}, required = {required} }}",
        if secret { ", secret = true" } else { "" }
    );
    if templated {
        format!("{{ template = {}{flags}", toml_string(&filled))
    } else if text.is_some() && !secret {
        toml_string(&filled)
    } else {
        format!("{{ from-env = {}{flags}", toml_string(var))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(doc: &str) -> BundleTree {
        let raw = BundleTree::from_files("srv", [("server.json", doc.as_bytes())]);
        translate(raw, &Options::default())
    }

    fn manifest(tree: &BundleTree) -> String {
        String::from_utf8(tree.file("bundle.toml").unwrap().to_vec()).unwrap()
    }

    const TWO: &str = r#"{"name": "io.github.acme/weather", "description": "Weather", "version": "1.2.0",
      "packages": [
        {"registryType": "npm", "identifier": "@acme/weather", "version": "1.2.0", "transport": {"type": "stdio"}},
        {"registryType": "pypi", "identifier": "acme-weather", "version": "1.2.0", "transport": {"type": "stdio"}}]}"#;

    #[test]
    fn the_first_package_capm_runs_is_chosen_whatever_is_installed() {
        let npm = manifest(&read(TWO));
        assert!(
            npm.contains("command = \"npx\"\nargs = [\"-y\", \"@acme/weather@1.2.0\"]"),
            "{npm}"
        );
        assert!(npm.contains("[mcp.weather]") && npm.contains("name = \"io-github-acme-weather\""));
        let nuget_first = TWO.replace(
            r#"{"registryType": "npm", "identifier": "@acme/weather""#,
            r#"{"registryType": "nuget", "identifier": "Acme.Weather""#,
        );
        let uv = manifest(&read(&nuget_first));
        assert!(
            uv.contains("command = \"uvx\"\nargs = [\"acme-weather@1.2.0\"]"),
            "{uv}"
        );
    }

    #[test]
    fn variables_fill_values_and_secrets_come_from_the_environment() {
        let vars = json::parse(&SourceFile::new(
            "v.json",
            r#"{"region": {"default": "eu"}, "token": {"isSecret": true}, "x": {}}"#,
        ))
        .unwrap();
        assert_eq!(
            fill("https://{region}.x/{other}", Some(&vars), false).0,
            "https://eu.x/{other}"
        );
        assert_eq!(fill("{x}", Some(&vars), false).1, ["x"]);
        assert_eq!(
            fill("Bearer {token}", Some(&vars), true).0,
            "Bearer {env:TOKEN}"
        );
    }

    #[test]
    fn a_package_serving_http_is_a_url_server_with_a_warning_on_how_to_start_it() {
        let doc = r#"{"name": "io.github.acme/web", "description": "Web", "version": "1.0.0",
          "packages": [{"registryType": "npm", "identifier": "web-mcp", "version": "1.0.0",
            "packageArguments": [{"type": "named", "name": "-p", "value": "8080"}],
            "transport": {"type": "streamable-http", "url": "http://localhost:8080/mcp"}}]}"#;
        let tree = read(doc);
        let text = manifest(&tree);
        assert!(
            text.contains("url = \"http://localhost:8080/mcp\"\ntransport = \"streamable-http\""),
            "{text}"
        );
        let origin = tree.origin.as_ref().unwrap();
        let help = origin.findings[0].help.as_deref().unwrap();
        assert_eq!(help, "start it yourself: `npx -y web-mcp@1.0.0 -p 8080`");
    }

    #[test]
    fn a_remote_stands_in_when_no_package_can_run_and_unpinned_pypi_is_sc_001() {
        let doc = r#"{"name": "io.github.acme/dual", "description": "Dual", "version": "1.0.0",
          "packages": [{"registryType": "nuget", "identifier": "Acme.Dual", "version": "1.0.0"}],
          "remotes": [{"type": "sse", "url": "https://dual.acme.example/sse"}]}"#;
        let tree = read(doc);
        let text = manifest(&tree);
        assert!(
            text.contains("url = \"https://dual.acme.example/sse\"\ntransport = \"sse\""),
            "{text}"
        );
        let check = crate::validate::check_bundle(&tree);
        assert!(check.diagnostics.is_empty(), "{:#?}", check.diagnostics);
        let pypi = r#"{"name": "io.github.acme/py", "description": "Py", "version": "1.0.0",
          "packages": [{"registryType": "pypi", "identifier": "acme-py", "transport": {"type": "stdio"}}]}"#;
        let check = crate::validate::check_bundle(&read(pypi));
        let codes: Vec<_> = check.diagnostics.iter().map(|d| d.code).collect();
        assert_eq!(codes, ["SC-001"]);
        let at = check.diagnostics[0].location.as_ref().unwrap();
        assert_eq!((at.file.as_str(), at.line), ("srv/server.json", Some(2)));
    }
}

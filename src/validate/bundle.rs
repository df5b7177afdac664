//! Layer 2 checks of one bundle: names, versions, paths, resources, permissions.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use super::{BundleCheck, front_matter, parse_resource_ref, resource_ids, skill};
use crate::diagnostic::{Diagnostic, Location};
use crate::manifest::bundle::{BundleManifest, EnvValue, McpServer};
use crate::manifest::common::{ProductMode, Tier, is_env_name, is_valid_name, template_vars};
use crate::manifest::decode::{self, Decoder};
use crate::manifest::origin::Origin;
use crate::manifest::span::{SourceFile, Span, Spanned};
use crate::manifest::tree::{BundleTree, Entry, MANIFEST};
use crate::security::Finding;

/// What a path in the manifest must name.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Expect {
    Dir,
    File,
}

/// Shared state of the checks of one bundle.
pub(super) struct Checker<'a> {
    pub tree: &'a BundleTree,
    pub source: Arc<SourceFile>,
    pub diags: Vec<Diagnostic>,
    pub extra_sources: Vec<Arc<SourceFile>>,
}

impl Checker<'_> {
    pub fn push(&mut self, d: Diagnostic) {
        self.diags.push(d);
    }

    pub fn at(&self, code: &'static str, span: Span, message: impl Into<String>) -> Diagnostic {
        Diagnostic::new(code, message).at(&self.source, span)
    }

    /// Checks a manifest path and returns it normalised (no `./`, no trailing `/`) when it
    /// names an entry of the expected kind.
    pub fn path(&mut self, p: &Spanned<String>, expect: Expect, resource: &str) -> Option<String> {
        let raw = p.value.as_str();
        let fail = |this: &mut Self, code, msg: String, help: &str| {
            let d = this.at(code, p.span, msg).resource(resource).help(help);
            this.push(d);
            None
        };
        if raw.is_empty() {
            return fail(
                self,
                "path-not-found",
                "path is empty".into(),
                "write a path relative to bundle.toml",
            );
        }
        let drive =
            raw.len() >= 2 && raw.as_bytes()[1] == b':' && raw.as_bytes()[0].is_ascii_alphabetic();
        if raw.starts_with('/') || raw.starts_with('\\') || raw.starts_with('~') || drive {
            return fail(
                self,
                "absolute-path",
                format!("path `{raw}` is absolute"),
                "write the path relative to the directory holding bundle.toml",
            );
        }
        let rel = crate::manifest::tree::normalise(raw);
        if rel.split('/').any(|p| p == "..") {
            return fail(
                self,
                "path-escapes-bundle",
                format!("path `{raw}` leaves the bundle"),
                "move the files into the bundle and drop the `..`",
            );
        }
        if rel.is_empty() {
            return fail(
                self,
                "wrong-path-kind",
                format!("path `{raw}` names the bundle root itself"),
                "point at a file or directory inside the bundle",
            );
        }
        match (self.tree.get(&rel), expect) {
            (None, _) => {
                let what = if expect == Expect::Dir {
                    "directory"
                } else {
                    "file"
                };
                let display = self.tree.display_path(&rel);
                fail(
                    self,
                    "path-not-found",
                    format!("{what} `{raw}` does not exist (looked for {display})"),
                    "paths are relative to bundle.toml and case-sensitive",
                )
            }
            // Links are reported once, by the tree scan.
            (Some(Entry::Symlink { .. }), _) => None,
            (Some(Entry::Dir), Expect::Dir) | (Some(Entry::File(_)), Expect::File) => Some(rel),
            (Some(Entry::Dir), Expect::File) => fail(
                self,
                "wrong-path-kind",
                format!("`{raw}` is a directory, but a file is expected here"),
                "point at the file itself",
            ),
            (Some(Entry::File(_)), Expect::Dir) => fail(
                self,
                "wrong-path-kind",
                format!("`{raw}` is a file, but a skill is a directory holding SKILL.md"),
                "point at the skill's directory",
            ),
        }
    }
}

pub(super) fn check(tree: &BundleTree, modes: Option<&[ProductMode]>) -> BundleCheck {
    let mut check = check_generated(tree, modes);
    if let Some(origin) = &tree.origin {
        to_origin(&mut check, tree, origin);
    }
    mask_secret_sources(&mut check);
    check
}

/// A finding in a shipped file as a diagnostic at its line and column there; the file's
/// text joins the sources snippets are shown from. A file that is not text is named
/// without a place (the message says at which byte).
fn shipped_diagnostic(ck: &mut Checker<'_>, f: &Finding, rel: &str) -> Diagnostic {
    let display = ck.tree.display_path(rel);
    let known = ck.extra_sources.iter().find(|s| s.path == display).cloned();
    let source = known.or_else(|| {
        let text = std::str::from_utf8(ck.tree.file(rel)?).ok()?;
        let file = Arc::new(SourceFile::new(display.clone(), text));
        ck.extra_sources.push(file.clone());
        Some(file)
    });
    match source {
        Some(file) => f.to_diagnostic(&file),
        None => {
            let mut d = f.to_diagnostic(&ck.source);
            d.location = Some(Box::new(Location::file(display)));
            d
        }
    }
}

/// Masks the credentials of every source a FILE-001 diagnostic points into (after it was
/// moved to the author's file), so that a snippet shows where a secret is, never the
/// secret.
fn mask_secret_sources(check: &mut BundleCheck) {
    let files: BTreeSet<String> = check
        .diagnostics
        .iter()
        .filter(|d| d.code == "FILE-001")
        .filter_map(|d| d.location.as_ref().map(|l| l.file.clone()))
        .collect();
    for source in &mut check.sources {
        if files.contains(&source.path)
            && let Some(masked) = crate::security::mask_secrets(&source.text)
        {
            *source = Arc::new(SourceFile::new(source.path.clone(), masked));
        }
    }
}

/// Moves the diagnostics of a translated bundle into the files it was translated from,
/// adds the translation's own findings, and keeps the generated manifest only as the
/// source of what still points into it.
fn to_origin(check: &mut BundleCheck, tree: &BundleTree, origin: &Origin) {
    let shown = |rel: &str| tree.display_path(rel);
    if tree.get(MANIFEST).is_none() {
        // Nothing could be generated: the translation's findings say why.
        check.diagnostics.clear();
    }
    for d in &mut check.diagnostics {
        origin.relocate(d, &shown);
    }
    let mut findings = origin.findings.clone();
    findings.append(&mut check.diagnostics);
    check.diagnostics = findings;
    check.sources.extend(origin.files.iter().cloned());
}

fn check_generated(tree: &BundleTree, modes: Option<&[ProductMode]>) -> BundleCheck {
    let manifest_path = tree.display_path(MANIFEST);
    let fail = |d: Diagnostic| BundleCheck {
        manifest: None,
        sources: Vec::new(),
        diagnostics: vec![d],
    };
    let bytes = match tree.get(MANIFEST) {
        Some(Entry::File(b)) => b,
        Some(Entry::Symlink { .. }) => {
            return fail(
                Diagnostic::new("symlink-in-bundle", "bundle.toml is a symbolic link")
                    .in_file(manifest_path)
                    .help("replace the link with the file itself"),
            );
        }
        _ if tree.too_large => return fail(too_large(tree)),
        _ => {
            return fail(
                Diagnostic::new(
                    "missing-manifest",
                    format!("no bundle.toml in `{}`", tree.display_root),
                )
                .in_file(manifest_path),
            );
        }
    };
    let source = match super::manifest_source(manifest_path, bytes) {
        Ok(source) => source,
        Err(d) => return fail(*d),
    };
    let root = match decode::parse(&source) {
        Ok(root) => root,
        Err(diags) => {
            return BundleCheck {
                manifest: None,
                sources: vec![source],
                diagnostics: diags,
            };
        }
    };
    let mut dec = Decoder::new(&source);
    let mut manifest = BundleManifest::decode(&mut dec, &root);
    manifest.span = Span::new(0, 0);
    let mut ck = Checker {
        tree,
        source: source.clone(),
        diags: dec.diags,
        extra_sources: Vec::new(),
    };
    if tree.too_large {
        ck.push(too_large(tree));
    }
    check_meta(&mut ck, &manifest);
    check_dependencies(&mut ck, &manifest);
    check_resources(&mut ck, &manifest);
    check_permissions(&mut ck, &manifest);
    check_uninstall(&mut ck, &manifest);
    check_links(&mut ck);
    let modes = modes.map_or_else(
        || crate::security::declared_modes(&manifest),
        <[ProductMode]>::to_vec,
    );
    for f in crate::security::check_bundle(&manifest, tree, &modes) {
        let d = match &f.file {
            Some(rel) => shipped_diagnostic(&mut ck, &f, rel),
            None => f.to_diagnostic(&ck.source),
        };
        ck.push(d);
    }
    if resource_ids(&manifest).is_empty() && manifest.dependencies.is_empty() {
        let span = manifest.bundle.as_ref().map(|b| b.span).unwrap_or_default();
        let d = ck.at(
            "empty-bundle",
            span,
            "the bundle provides no resources and has no dependencies",
        );
        ck.push(d);
    }
    let mut sources = vec![source];
    sources.extend(ck.extra_sources);
    BundleCheck {
        manifest: Some(manifest),
        sources,
        diagnostics: ck.diags,
    }
}

fn too_large(tree: &BundleTree) -> Diagnostic {
    Diagnostic::new(
        "bundle-too-large",
        format!(
            "`{}` holds more than {} files or {} MiB; capm stopped reading it",
            tree.display_root,
            crate::manifest::tree::MAX_BUNDLE_FILES,
            crate::manifest::tree::MAX_BUNDLE_BYTES / (1024 * 1024)
        ),
    )
    .in_file(tree.display_path(MANIFEST))
}

fn check_name(ck: &mut Checker<'_>, name: &Spanned<String>, what: &str, resource: Option<&str>) {
    if !is_valid_name(&name.value) {
        let d = ck
            .at("invalid-name", name.span, format!("invalid {what} name `{}`", name.value))
            .maybe_resource(resource)
            .help("names are 1 to 64 lower-case letters and digits separated by single hyphens, e.g. `code-review`");
        ck.push(d);
    }
}

fn check_length(
    ck: &mut Checker<'_>,
    value: &Spanned<String>,
    field: &str,
    max: usize,
    resource: Option<&str>,
) {
    let n = value.value.trim().chars().count();
    if n == 0 || value.value.chars().count() > max {
        let msg = if n == 0 {
            format!("`{field}` is empty")
        } else {
            format!(
                "`{field}` is {} characters long; the limit is {max}",
                value.value.chars().count()
            )
        };
        let d = ck
            .at("invalid-length", value.span, msg)
            .maybe_resource(resource);
        ck.push(d);
    }
}

fn check_meta(ck: &mut Checker<'_>, m: &BundleManifest) {
    let Some(meta) = &m.bundle else { return };
    if let Some(name) = &meta.name {
        check_name(ck, name, "bundle", None);
    }
    if let Some(v) = &meta.version
        && let Err(e) = semver::Version::parse(&v.value)
    {
        let d = ck
            .at(
                "invalid-semver",
                v.span,
                format!("version `{}` is not a semantic version: {e}", v.value),
            )
            .help("write MAJOR.MINOR.PATCH, e.g. `1.0.0`");
        ck.push(d);
    }
    if let Some(desc) = &meta.description {
        check_length(ck, desc, "bundle.description", 1024, None);
    }
    if let Some(lic) = &meta.license
        && spdx::Expression::parse_mode(&lic.value, spdx::ParseMode::LAX).is_err()
    {
        let d = ck
            .at(
                "invalid-license",
                lic.span,
                format!("`{}` is not a valid SPDX license expression", lic.value),
            )
            .help("e.g. `MIT`, `Apache-2.0` or `MIT OR Apache-2.0`");
        ck.push(d);
    }
    if let Some(repo) = &meta.repository
        && url::Url::parse(&repo.value).is_err()
    {
        let d = ck.at(
            "invalid-url",
            repo.span,
            format!(
                "repository `{}` is not a valid URL",
                crate::security::redact_url_text(&repo.value)
            ),
        );
        ck.push(d);
    }
    for field in [&meta.keywords, &meta.authors].into_iter().flatten() {
        for item in field {
            if item.value.trim().is_empty() {
                let d = ck.at("invalid-length", item.span, "empty entry");
                ck.push(d);
            }
        }
    }
    let compat = m.compatibility.as_ref();
    if let Some(req) = compat.and_then(|c| c.opencode.as_ref())
        && let Err(e) = semver::VersionReq::parse(&req.value)
    {
        let d = ck.at(
            "invalid-version-req",
            req.span,
            format!(
                "`compatibility.opencode = \"{}\"` is not a version requirement: {e}",
                req.value
            ),
        );
        ck.push(d);
    }
    let usable = compat.is_some_and(|c| {
        c.product_modes
            .values()
            .any(|t| matches!(t.value, Tier::Supported | Tier::Experimental))
    });
    if !usable {
        let d = ck
            .at("no-supported-mode", meta.span, "no product mode is declared supported or experimental, so the bundle cannot be installed anywhere")
            .help("add `[compatibility.product-modes]` with `desktop-local = \"supported\"`");
        ck.push(d);
    }
}

fn check_dependencies(ck: &mut Checker<'_>, m: &BundleManifest) {
    let own = m
        .bundle
        .as_ref()
        .and_then(|b| b.name.as_ref())
        .map(|n| n.value.clone());
    for (name, dep) in &m.dependencies {
        check_name(ck, name, "dependency", None);
        if own.as_deref() == Some(name.as_str()) {
            let d = ck.at(
                "invalid-version-req",
                name.span,
                format!("the bundle `{name}` depends on itself"),
            );
            ck.push(d);
        }
        if let Some(req) = dep.requirement()
            && let Err(e) = semver::VersionReq::parse(&req.value)
        {
            let d = ck
                .at(
                    "invalid-version-req",
                    req.span,
                    format!("`{}` is not a version requirement: {e}", req.value),
                )
                .help("e.g. `^1.2`, `~0.3`, `>=1.0, <2.0`");
            ck.push(d);
        }
    }
}

fn check_resources(ck: &mut Checker<'_>, m: &BundleManifest) {
    for (name, server) in &m.mcp {
        let id = format!("mcp:{name}");
        check_name(ck, name, "MCP server", Some(&id));
        check_mcp(ck, &id, server);
    }
    for (name, s) in &m.skills {
        let id = format!("skill:{name}");
        check_name(ck, name, "skill", Some(&id));
        if let Some(p) = &s.path
            && let Some(rel) = ck.path(p, Expect::Dir, &id)
        {
            skill::check_skill(ck, &id, &name.value, p, &rel);
        }
    }
    let mut npm_packages: BTreeMap<String, &Spanned<String>> = BTreeMap::new();
    for (name, p) in &m.plugins {
        let id = format!("plugin:{name}");
        check_name(ck, name, "plugin", Some(&id));
        match (&p.npm, &p.path) {
            (Some(npm), None) => {
                let pkg = npm_package_name(&npm.value);
                if let Some(first) = npm_packages.get(pkg) {
                    let line = ck.source.line_col(first.span.start).line;
                    let d = ck
                        .at("duplicate-resource", npm.span, format!("the npm package `{pkg}` is already installed by another plugin (line {line})"))
                        .resource(&id)
                        .help("keep one plugin entry per npm package");
                    ck.push(d);
                } else {
                    npm_packages.insert(pkg.to_string(), npm);
                }
            }
            (None, Some(path)) => {
                let as_dir = matches!(
                    ck.tree.get(&crate::manifest::tree::normalise(&path.value)),
                    Some(Entry::Dir)
                );
                if as_dir {
                    if let Some(rel) = ck.path(path, Expect::Dir, &id) {
                        check_plugin_dir(ck, &id, path, &rel);
                    }
                } else if let Some(rel) = ck.path(path, Expect::File, &id) {
                    check_plugin_file(ck, &id, path, &rel);
                }
            }
            (Some(_), Some(path)) => {
                let d = ck
                    .at(
                        "invalid-plugin-source",
                        path.span,
                        "the plugin has both `npm` and `path`",
                    )
                    .resource(&id)
                    .help("keep exactly one of `npm` and `path`");
                ck.push(d);
            }
            (None, None) => {
                let d = ck
                    .at(
                        "invalid-plugin-source",
                        p.span,
                        "the plugin has neither `npm` nor `path`",
                    )
                    .resource(&id)
                    .help("add `npm = \"package@1.2.3\"` or `path = \"plugins/NAME.ts\"`");
                ck.push(d);
            }
        }
        if p.tier.is_none() {
            let mut d = ck
                .at("PLUGIN-001", p.span, format!("plugin `{name}` has no `tier`: unclassified plugins are refused"))
                .resource(&id)
                .help("review the plugin, then add `tier = \"supported\"` (or experimental, blocked, unsupported)");
            d.rule_severity = Some(crate::diagnostic::Level::Block);
            ck.push(d);
        }
    }
    for (kind, section, map) in [
        ("agent", "agents", &m.agents),
        ("command", "commands", &m.commands),
    ] {
        for (name, r) in map {
            let id = format!("{kind}:{name}");
            check_name(ck, name, kind, Some(&id));
            let Some(p) = &r.path else { continue };
            let Some(rel) = ck.path(p, Expect::File, &id) else {
                continue;
            };
            if !rel.ends_with(".md") {
                let d = ck
                    .at(
                        "not-markdown",
                        p.span,
                        format!("{section}.{name}.path `{rel}` is not a .md file"),
                    )
                    .resource(&id);
                ck.push(d);
            } else {
                check_markdown(ck, kind, name, p, &rel);
            }
        }
    }
    check_requires_syntax(ck, m);
}

/// An agent's or command's markdown: UTF-8, and its front matter as OpenCode reads it.
fn check_markdown(ck: &mut Checker<'_>, kind: &str, name: &str, p: &Spanned<String>, rel: &str) {
    let id = format!("{kind}:{name}");
    let Some(bytes) = ck.tree.file(rel) else {
        return;
    };
    let Ok(text) = std::str::from_utf8(bytes) else {
        let d = ck
            .at(
                "invalid-utf8",
                p.span,
                format!("`{rel}` is not valid UTF-8"),
            )
            .resource(&id);
        ck.push(d);
        return;
    };
    let file = Arc::new(SourceFile::new(ck.tree.display_path(rel), text));
    let fm_kind = if kind == "agent" {
        front_matter::Kind::Agent
    } else {
        front_matter::Kind::Command
    };
    let diags = front_matter::check(&file, fm_kind, name);
    if !diags.is_empty() {
        ck.extra_sources.push(file);
    }
    for d in diags {
        ck.push(d.resource(&id));
    }
}

/// The package name of an npm spec: `@scope/name@1.0.0` → `@scope/name`.
pub fn npm_package_name(spec: &str) -> &str {
    let search_from = usize::from(spec.starts_with('@'));
    match spec[search_from..].find('@') {
        Some(i) => &spec[..i + search_from],
        None => spec,
    }
}

fn check_mcp(ck: &mut Checker<'_>, id: &str, s: &McpServer) {
    match (&s.command, &s.url) {
        (Some(_), Some(url)) => {
            let d = ck
                .at(
                    "invalid-mcp-launch",
                    url.span,
                    "the server has both `command` (local) and `url` (remote)",
                )
                .resource(id)
                .help("a server is either launched locally or reached by URL: keep one");
            ck.push(d);
        }
        (None, None) => {
            let d = ck
                .at(
                    "invalid-mcp-launch",
                    s.span,
                    "the server has neither `command` nor `url`",
                )
                .resource(id)
                .help("add `command` and `args` for a local server, or `url` for a remote one");
            ck.push(d);
        }
        (Some(cmd), None) => {
            if cmd.value.trim().is_empty() {
                let d = ck
                    .at("invalid-mcp-launch", cmd.span, "`command` is empty")
                    .resource(id);
                ck.push(d);
            }
            if let Some(t) = &s.transport {
                let d = ck
                    .at(
                        "invalid-mcp-launch",
                        t.span,
                        "`transport` applies to remote servers only",
                    )
                    .resource(id)
                    .help("local servers speak stdio; remove `transport`");
                ck.push(d);
            }
            if let Some((k, _)) = s.headers.first() {
                let d = ck
                    .at(
                        "invalid-mcp-launch",
                        k.span,
                        "`headers` apply to remote servers only",
                    )
                    .resource(id)
                    .help("pass settings to a local server through `env`");
                ck.push(d);
            }
            if let Some(o) = &s.oauth {
                let d = ck
                    .at(
                        "invalid-mcp-launch",
                        o.span(),
                        "`oauth` applies to remote servers only",
                    )
                    .resource(id)
                    .help("remove `oauth`; a local server gets credentials through `env`");
                ck.push(d);
            }
        }
        (None, Some(url)) => {
            if let Err(e) = url::Url::parse(&url.value) {
                let d = ck
                    .at(
                        "invalid-url",
                        url.span,
                        format!(
                            "`{}` is not a valid URL: {e}",
                            crate::security::redact_url_text(&url.value)
                        ),
                    )
                    .resource(id);
                ck.push(d);
            }
            let local_only = [
                (s.args.first().map(|a| a.span), "args"),
                (s.env.first().map(|(k, _)| k.span), "env"),
                (s.cwd.as_ref().map(|c| c.span), "cwd"),
            ];
            for (span, key) in local_only {
                if let Some(span) = span {
                    let d = ck
                        .at(
                            "invalid-mcp-launch",
                            span,
                            format!("`{key}` applies to local servers only"),
                        )
                        .resource(id)
                        .help("a remote server takes `url`, `transport` and `headers`");
                    ck.push(d);
                }
            }
        }
    }
    for (key, value) in &s.env {
        if !is_env_name(&key.value) {
            let d = ck
                .at(
                    "invalid-env-name",
                    key.span,
                    format!("`{key}` is not a valid environment variable name"),
                )
                .resource(id)
                .help("use letters, digits and underscores, not starting with a digit");
            ck.push(d);
        }
        check_env_value(ck, id, value);
    }
    for (key, value) in &s.headers {
        if key.value.is_empty() || !key.value.bytes().all(is_header_token_byte) {
            let d = ck
                .at(
                    "invalid-env-name",
                    key.span,
                    format!("`{key}` is not a valid HTTP header name"),
                )
                .resource(id);
            ck.push(d);
        }
        check_env_value(ck, id, value);
    }
    for (value, _) in s.oauth.iter().flat_map(|o| o.values()) {
        check_env_value(ck, id, value);
    }
}

fn is_header_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// A path plugin's file: JavaScript or TypeScript, and installed as its one file, so a local
/// import would not resolve there.
fn check_plugin_file(ck: &mut Checker<'_>, id: &str, path: &Spanned<String>, rel: &str) {
    if !(rel.ends_with(".ts") || rel.ends_with(".js")) {
        let d = ck
            .at(
                "invalid-plugin-source",
                path.span,
                format!("plugin file `{rel}` must be a .ts or .js file"),
            )
            .resource(id);
        ck.push(d);
    }
    let Some(bytes) = ck.tree.file(rel) else {
        return;
    };
    let source = String::from_utf8_lossy(bytes);
    for spec in super::plugin::specifiers(&source) {
        if !super::plugin::is_local(&spec.text) {
            continue;
        }
        let d = ck
            .at(
                "plugin-local-import",
                path.span,
                format!(
                    "`{rel}` imports `{}` (line {}), which is not installed with it",
                    spec.text, spec.line
                ),
            )
            .resource(id)
            .help("a plugin file is installed alone, and OpenCode skips a plugin whose import fails: make the plugin a directory holding `index.ts` and the files it imports (`path = \"plugins/NAME\"`), or put the code in this file");
        ck.push(d);
    }
}

/// A path plugin's directory: installed whole, loaded through its `index.ts` or `index.js`,
/// and every local import of every module in it leads to a file inside it.
fn check_plugin_dir(ck: &mut Checker<'_>, id: &str, path: &Spanned<String>, rel: &str) {
    let entries: Vec<String> = ["index.ts", "index.js"]
        .iter()
        .map(|e| format!("{rel}/{e}"))
        .filter(|p| ck.tree.file(p).is_some())
        .collect();
    if entries.len() != 1 {
        let what = if entries.is_empty() {
            "neither"
        } else {
            "both"
        };
        let d = ck
            .at(
                "invalid-plugin-source",
                path.span,
                format!("the plugin directory `{rel}` holds {what} `index.ts` and `index.js`"),
            )
            .resource(id)
            .help(
                "a plugin directory is loaded through its one entry file, `index.ts` or `index.js`",
            );
        ck.push(d);
    }
    let tree = ck.tree;
    let modules = tree.below(rel).filter_map(|(p, e)| match e {
        Entry::File(b) if super::plugin::is_module(p) => Some((p, b)),
        _ => None,
    });
    for (file, bytes) in modules {
        let source = String::from_utf8_lossy(bytes);
        for spec in super::plugin::specifiers(&source) {
            if !super::plugin::is_local(&spec.text) {
                continue;
            }
            let found = super::plugin::resolve(&spec.text, file, rel, |f| tree.file(f).is_some());
            let Err(why) = found else { continue };
            let what = match why {
                super::plugin::Unresolved::Absolute => "a file outside the bundle",
                super::plugin::Unresolved::Outside => "a file outside the plugin directory",
                super::plugin::Unresolved::Missing => "no file of the plugin",
            };
            let d = ck
                .at(
                    "plugin-local-import",
                    path.span,
                    format!(
                        "`{file}` imports `{}` (line {}), which names {what}",
                        spec.text, spec.line
                    ),
                )
                .resource(id)
                .help(format!("the directory `{rel}` is installed whole and nothing else with it: keep every file the plugin imports inside it"));
            ck.push(d);
        }
    }
}

fn check_env_value(ck: &mut Checker<'_>, id: &str, v: &EnvValue) {
    match v {
        EnvValue::Literal(_) => {}
        EnvValue::FromEnv { from_env, .. } => {
            if !is_env_name(&from_env.value) {
                let d = ck
                    .at(
                        "invalid-env-name",
                        from_env.span,
                        format!(
                            "`from-env = \"{}\"` is not a valid environment variable name",
                            from_env.value
                        ),
                    )
                    .resource(id);
                ck.push(d);
            }
        }
        EnvValue::Template { template, .. } => match template_vars(&template.value) {
            Ok(vars) if vars.is_empty() => {
                let d = ck
                    .at(
                        "invalid-template",
                        template.span,
                        "the template references no `{env:VAR}`",
                    )
                    .resource(id)
                    .help("write the variable part as `{env:NAME}`, e.g. `Bearer {env:API_KEY}`");
                ck.push(d);
            }
            Ok(_) => {}
            Err(msg) => {
                let d = ck.at("invalid-template", template.span, msg).resource(id);
                ck.push(d);
            }
        },
    }
}

fn check_requires_syntax(ck: &mut Checker<'_>, m: &BundleManifest) {
    for (owner, list) in super::requires_of(m) {
        let mut seen = BTreeSet::new();
        for r in list {
            if parse_resource_ref(&r.value).is_none() {
                let d = ck
                    .at(
                        "invalid-requires",
                        r.span,
                        format!("`{}` is not a resource reference", r.value),
                    )
                    .resource(&owner)
                    .help("write `KIND:NAME` with KIND one of mcp, skill, plugin, agent, command");
                ck.push(d);
            } else if r.value == owner {
                let d = ck
                    .at(
                        "invalid-requires",
                        r.span,
                        format!("`{owner}` requires itself"),
                    )
                    .resource(&owner);
                ck.push(d);
            } else if !seen.insert(r.value.as_str()) {
                let d = ck
                    .at(
                        "invalid-requires",
                        r.span,
                        format!("`{}` is listed twice", r.value),
                    )
                    .resource(&owner);
                ck.push(d);
            }
        }
    }
}

fn check_permissions(ck: &mut Checker<'_>, m: &BundleManifest) {
    let mut seen: BTreeMap<(String, String), usize> = BTreeMap::new();
    for p in &m.permissions {
        if let Some(id) = &p.id {
            let valid = {
                let mut b = id.value.bytes();
                matches!(b.next(), Some(c) if c.is_ascii_alphanumeric())
                    && id.value.len() <= 128
                    && b.all(|c| c.is_ascii_alphanumeric() || b"._:-".contains(&c))
            };
            if !valid {
                let d = ck
                    .at(
                        "invalid-permission-id",
                        id.span,
                        format!("permission id `{}` is not valid", id.value),
                    )
                    .help("ids match ^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$");
                ck.push(d);
            }
            if let Some(kind) = &p.kind {
                let key = (kind.value.to_string(), id.value.clone());
                let line = ck.source.line_col(id.span.start).line;
                if let Some(first) = seen.insert(key, line) {
                    let d = ck.at(
                        "duplicate-permission",
                        id.span,
                        format!(
                            "permission `{}:{}` is declared twice (first on line {first})",
                            kind.value, id.value
                        ),
                    );
                    ck.push(d);
                }
            }
        }
        if let Some(reason) = &p.reason {
            check_length(ck, reason, "permissions.reason", 1000, None);
        }
    }
}

fn check_uninstall(ck: &mut Checker<'_>, m: &BundleManifest) {
    let Some(u) = &m.uninstall else { return };
    let ids = resource_ids(m);
    for p in &u.preserves {
        if parse_resource_ref(&p.value).is_none() {
            let d = ck
                .at(
                    "invalid-requires",
                    p.span,
                    format!("`{}` is not a resource reference", p.value),
                )
                .help("write `KIND:NAME`, e.g. `skill:code-review`");
            ck.push(d);
        } else if !ids.contains(&p.value) {
            let d = ck
                .at(
                    "unknown-resource",
                    p.span,
                    format!("`{}` is not a resource of this bundle", p.value),
                )
                .maybe_help(
                    decode::suggest(
                        &p.value,
                        &ids.iter().map(String::as_str).collect::<Vec<_>>(),
                    )
                    .map(|s| format!("did you mean `{s}`?")),
                );
            ck.push(d);
        }
    }
}

/// Reports every symbolic link in the bundle.
fn check_links(ck: &mut Checker<'_>) {
    let links: Vec<(String, String, bool)> = ck
        .tree
        .entries
        .iter()
        .filter_map(|(path, e)| match e {
            Entry::Symlink { target, escapes } => {
                Some((path.clone(), target.display().to_string(), *escapes))
            }
            _ => None,
        })
        .collect();
    for (path, target, escapes) in links {
        let where_ = if escapes { ", outside the bundle" } else { "" };
        let d = Diagnostic::new(
            "symlink-in-bundle",
            format!("`{path}` is a symbolic link to `{target}`{where_}"),
        )
        .in_file(ck.tree.display_path(&path))
        .help("replace the link with a copy of what it points to");
        ck.push(d);
    }
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use proptest::prelude::*;

    use super::*;
    use crate::mutation;

    /// A bundle with one of each markdown resource, whose files are `files`' texts.
    fn bundle(manifest: &[u8], skill: &[u8], agent: &[u8], command: &[u8]) -> BundleTree {
        BundleTree::from_files(
            "b",
            [
                ("bundle.toml", manifest),
                ("skills/s/SKILL.md", skill),
                ("agents/a.md", agent),
                ("commands/c.md", command),
            ],
        )
    }

    const MANIFEST_TEXT: &str = "[bundle]\nname = \"b\"\nversion = \"1.0.0\"\ndescription = \"d\"\n\n\
        [compatibility.product-modes]\ndesktop-local = \"supported\"\n\n\
        [skills.s]\npath = \"skills/s\"\n[agents.a]\npath = \"agents/a.md\"\n\
        [commands.c]\npath = \"commands/c.md\"\n";

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]
        /// One file of a catalog bundle (its manifest, a SKILL.md, an agent or command)
        /// damaged: the whole bundle is checked, security rules included.
        #[test]
        fn a_damaged_catalog_bundle_is_checked_without_panicking(
            which in any::<prop::sample::Index>(),
            file in any::<prop::sample::Index>(),
            edits in mutation::edits(),
        ) {
            let trees = crate::catalog::bundles();
            let mut tree = trees[which.index(trees.len())].clone();
            let files: Vec<String> = tree
                .entries
                .iter()
                .filter(|(p, e)| matches!(e, Entry::File(_)) && p.as_str() != "README.md")
                .map(|(p, _)| p.clone())
                .collect();
            let path = &files[file.index(files.len())];
            let mut bytes = tree.file(path).unwrap().to_vec();
            mutation::apply(&mut bytes, &edits);
            tree.entries.insert(path.clone(), Entry::File(Cow::Owned(bytes)));
            super::check(&tree, None);
        }

        #[test]
        fn any_bundle_toml_is_checked_without_panicking(manifest in mutation::bytes(400)) {
            super::check(&bundle(&manifest, b"", b"", b""), None);
        }

        /// Arbitrary SKILL.md, agent and command files behind a valid manifest.
        #[test]
        fn any_markdown_is_checked_without_panicking(
            skill in mutation::text(200),
            agent in mutation::bytes(200),
            command in mutation::text(200),
        ) {
            let skill = format!("---\n{skill}");
            let tree = bundle(MANIFEST_TEXT.as_bytes(), skill.as_bytes(), &agent, command.as_bytes());
            super::check(&tree, None);
            let tree = bundle(MANIFEST_TEXT.as_bytes(), command.as_bytes(), &agent, skill.as_bytes());
            super::check(&tree, None);
        }
    }

    #[test]
    fn the_template_bundle_is_clean() {
        let tree = bundle(
            MANIFEST_TEXT.as_bytes(),
            b"---\nname: s\ndescription: d\n---\n",
            b"agent",
            b"command",
        );
        let check = super::check(&tree, None);
        let errors: Vec<_> = check.diagnostics.iter().filter(|d| d.is_error()).collect();
        assert!(errors.is_empty(), "{errors:#?}");
    }
}

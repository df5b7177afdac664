//! Checks of `capm.toml`: the project's settings, requested bundles, registries and policy.

use std::sync::Arc;

use crate::diagnostic::{Diagnostic, Severity};
use crate::manifest::common::is_valid_name;
use crate::manifest::decode::{self, Decoder};
use crate::manifest::project::{BundleRequest, ProjectManifest, RegistryDecl};
use crate::manifest::span::{SourceFile, Spanned};

use super::parse_resource_ref;

/// The result of checking a `capm.toml`.
#[derive(Debug)]
pub struct ProjectCheck {
    pub manifest: Option<ProjectManifest>,
    pub source: Arc<SourceFile>,
    pub diagnostics: Vec<Diagnostic>,
}

/// Checks the text of a `capm.toml` shown to the user as `display_path`.
pub fn check_project(display_path: &str, bytes: &[u8]) -> ProjectCheck {
    let source = match super::manifest_source(display_path.to_string(), bytes) {
        Ok(source) => source,
        Err(d) => {
            return ProjectCheck {
                manifest: None,
                source: Arc::new(SourceFile::new(display_path, "")),
                diagnostics: vec![*d],
            };
        }
    };
    let root = match decode::parse(&source) {
        Ok(r) => r,
        Err(diagnostics) => {
            return ProjectCheck {
                manifest: None,
                source,
                diagnostics,
            };
        }
    };
    let mut dec = Decoder::new(&source);
    let m = ProjectManifest::decode(&mut dec, &root);
    let mut diags = dec.diags;
    // capm.toml is the user's own short file: a key capm does not know is a typo whose
    // setting would be silently ignored (`[bundle]` for `[bundles]` would uninstall
    // everything), so here it is an error, not the warning it is in a bundle.
    for d in diags.iter_mut().filter(|d| d.code == "unknown-key") {
        d.severity = Severity::Error;
    }
    let at = |code, span, msg: String| Diagnostic::new(code, msg).at(&source, span);
    for (name, req) in &m.bundles {
        if !is_valid_name(&name.value) {
            diags.push(at(
                "invalid-name",
                name.span,
                format!("invalid bundle name `{name}`"),
            ));
        }
        diags.extend(check_skips(req, &source));
        let version = match req {
            BundleRequest::Requirement(v) => Some(v),
            BundleRequest::Detailed { version, .. } => version.as_ref(),
        };
        if let Some(v) = version
            && let Err(e) = semver::VersionReq::parse(&v.value)
        {
            diags.push(
                at(
                    "invalid-version-req",
                    v.span,
                    format!("`{}` is not a version requirement: {e}", v.value),
                )
                .help("e.g. `^1.2`, `~0.3`, `>=1.0, <2.0`"),
            );
        }
        diags.extend(check_source(name, req, &m, &source));
        diags.extend(check_skills(name, req, &source));
    }
    for (name, reg) in &m.registries {
        if !is_valid_name(&name.value) {
            diags.push(at(
                "invalid-name",
                name.span,
                format!("invalid registry name `{name}`"),
            ));
        }
        diags.extend(check_registry(name, reg, &source));
    }
    if let Some(policy) = &m.policy {
        for a in &policy.allow {
            if let Some(rule) = &a.rule {
                match crate::security::rules::RULES
                    .iter()
                    .find(|r| r.code == rule.value)
                {
                    None => diags.push(
                        at(
                            "invalid-policy",
                            rule.span,
                            format!("`{rule}` is not a security rule"),
                        )
                        .help("`capm explain --list` lists every rule"),
                    ),
                    Some(r) => {
                        let level = r.rule.as_ref().and_then(|i| i.level);
                        if level != Some(crate::security::Level::High) {
                            let what = level.map_or("a design rule".to_string(), |l| {
                                format!("a {} rule", l.as_str())
                            });
                            diags.push(
                                at("invalid-policy", rule.span, format!("`{rule}` is {what}; only high rules can be allowed"))
                                    .help("block findings cannot be overridden, and medium and low ones never block"),
                            );
                        }
                    }
                }
            }
            // `bundle:NAME` names a bundle as a whole (what FMT-001 and FMT-002 concern).
            let whole_bundle = r_is_bundle(a.resource.as_ref());
            if let Some(r) = &a.resource
                && parse_resource_ref(&r.value).is_none()
                && !whole_bundle
            {
                diags.push(at(
                    "invalid-policy",
                    r.span,
                    format!("`{r}` is not a resource reference like `mcp:NAME` or `bundle:NAME`"),
                ));
            }
            match &a.spec {
                Some(s) if !is_digest(&s.value) => diags.push(
                    at(
                        "TRUST-001",
                        s.span,
                        "`spec` must be `sha256:` followed by 64 lower-case hex digits".into(),
                    )
                    .help("copy the spec digest capm lint prints for the finding"),
                ),
                Some(_) => {}
                None => diags.push(
                    at(
                        "TRUST-001",
                        a.span,
                        "the allowance names no `spec`: allowances are keyed by the sha256 of the launch spec, never by name".into(),
                    )
                    .help("copy the `spec = \"sha256:…\"` capm lint prints for the finding"),
                ),
            }
        }
    }
    ProjectCheck {
        manifest: Some(m),
        source,
        diagnostics: diags,
    }
}

/// Where a detailed capm.toml entry says the bundle comes from: exactly one of `path`,
/// `registry`, `git` (where `path` is the directory inside the repository) and `oci`; a
/// git reference is one of `tag`, `branch`, `rev` and `version`.
/// Whether an allowance's resource is `bundle:NAME`.
fn r_is_bundle(r: Option<&Spanned<String>>) -> bool {
    r.and_then(|r| r.value.strip_prefix("bundle:"))
        .is_some_and(is_valid_name)
}

/// A registry names exactly one location, of a kind capm can reach.
fn check_registry(
    name: &Spanned<String>,
    reg: &RegistryDecl,
    source: &SourceFile,
) -> Vec<Diagnostic> {
    let at = |code, span, msg: String| Diagnostic::new(code, msg).at(source, span);
    let kinds: Vec<(&str, &Spanned<String>)> = [
        ("path", reg.path.as_ref()),
        ("url", reg.url.as_ref()),
        ("marketplace", reg.marketplace.as_ref()),
        ("mcp-registry", reg.mcp_registry.as_ref()),
    ]
    .into_iter()
    .filter_map(|(k, v)| v.map(|v| (k, v)))
    .collect();
    let mut out = Vec::new();
    match kinds.as_slice() {
        [] => out.push(
            at(
                "missing-field",
                name.span,
                format!("registry `{name}` has no `path`, `url`, `marketplace` or `mcp-registry`"),
            )
            .help(format!(
                "write `{name} = {{ url = \"https://…/\" }}` or `{name} = {{ path = \"../registry\" }}`"
            )),
        ),
        [(first, _), (second, v), ..] => out.push(
            at(
                "invalid-bundle-source",
                v.span,
                format!("registry `{name}` names both `{first}` and `{second}`"),
            )
            .help("a registry is one place: keep one of them"),
        ),
        [(kind, v)] if v.value.is_empty() => out.push(at(
            "invalid-bundle-source",
            v.span,
            format!("registry `{name}` has an empty {kind}"),
        )),
        [("url", u)] | [("mcp-registry", u)] => {
            if let Err(e) = crate::remote::http::check_registry_url(&u.value) {
                out.push(url_refused(e, u, source));
            }
        }
        [("marketplace", u)] => {
            if let Err(e) = crate::remote::git::check_url(&u.value) {
                out.push(url_refused(e, u, source));
            }
        }
        _ => {}
    }
    out
}

/// `skills` picks skills of a repository reached by `git` or `path`, each named once.
fn check_skills(
    name: &Spanned<String>,
    req: &BundleRequest,
    source: &SourceFile,
) -> Vec<Diagnostic> {
    let BundleRequest::Detailed {
        skills, git, path, ..
    } = req
    else {
        return Vec::new();
    };
    let mut out = Vec::new();
    if let Some(first) = skills.first()
        && git.is_none()
        && path.is_none()
    {
        out.push(
            Diagnostic::new(
                "invalid-bundle-source",
                format!("`skills` picks skills of a repository, and bundle `{name}` names no `git` or `path`"),
            )
            .at(source, first.span)
            .help("add `git = \"https://…\"` or `path = \"…\"`, or drop `skills`"),
        );
    }
    for (i, s) in skills.iter().enumerate() {
        let message = if !is_valid_name(&s.value) {
            format!("`{s}` is not a skill name (lower-case letters, digits and `-`)")
        } else if skills[..i].iter().any(|x| x.value == s.value) {
            format!("skill `{s}` is listed twice")
        } else {
            continue;
        };
        out.push(Diagnostic::new("invalid-bundle-source", message).at(source, s.span));
    }
    out
}

fn check_source(
    name: &Spanned<String>,
    req: &BundleRequest,
    m: &ProjectManifest,
    source: &SourceFile,
) -> Vec<Diagnostic> {
    let BundleRequest::Detailed {
        version,
        path,
        registry,
        git,
        tag,
        branch,
        rev,
        oci,
        ..
    } = req
    else {
        return Vec::new();
    };
    let at = |code, span, msg: String| Diagnostic::new(code, msg).at(source, span);
    let mut out = Vec::new();
    let own_path = if git.is_some() { None } else { path.as_ref() };
    let kinds: Vec<(&str, &Spanned<String>)> = [
        ("path", own_path),
        ("registry", registry.as_ref()),
        ("git", git.as_ref()),
        ("oci", oci.as_ref()),
    ]
    .into_iter()
    .filter_map(|(k, v)| v.map(|v| (k, v)))
    .collect();
    match kinds.as_slice() {
        [] if version.is_none() => out.push(
            at(
                "invalid-bundle-source",
                name.span,
                format!("bundle `{name}` names no version, path, registry, git or oci"),
            )
            .help("write `name = \"^1.0\"` or `name = { path = \"../dir\" }`"),
        ),
        [(first, _), (second, v), ..] => out.push(
            at(
                "invalid-bundle-source",
                v.span,
                format!("bundle `{name}` names both `{first}` and `{second}`"),
            )
            .help(format!(
                "a bundle comes from one source: keep `{first}` or `{second}`"
            )),
        ),
        [(kind, v)] if v.value.is_empty() => out.push(at(
            "invalid-bundle-source",
            v.span,
            format!("bundle `{name}` has an empty {kind}"),
        )),
        [("registry", r)] if !m.registries.contains_key(r.value.as_str()) => out.push(
            at(
                "unknown-registry",
                r.span,
                format!("registry `{r}` is not declared under [registries]"),
            )
            .help(format!(
                "add `[registries] {r} = {{ url = \"https://…\" }}`"
            )),
        ),
        _ => {}
    }
    let refs: Vec<(&str, &Spanned<String>)> = [
        ("tag", tag.as_ref()),
        ("branch", branch.as_ref()),
        ("rev", rev.as_ref()),
    ]
    .into_iter()
    .filter_map(|(k, v)| v.map(|v| (k, v)))
    .collect();
    if let Some(g) = git
        && let Err(e) = crate::remote::git::check_url(&g.value)
    {
        out.push(url_refused(e, g, source));
    }
    if git.is_none() {
        if let Some((key, v)) = refs.first() {
            out.push(
                at(
                    "invalid-bundle-source",
                    v.span,
                    format!("`{key}` is for a git source, and bundle `{name}` names no `git`"),
                )
                .help("add `git = \"https://…\"`, or drop the key"),
            );
        }
        return out;
    }
    if let [(first, _), (second, v), ..] = refs.as_slice() {
        out.push(
            at(
                "invalid-bundle-source",
                v.span,
                format!("bundle `{name}` names both `{first}` and `{second}`"),
            )
            .help("a git source follows one reference: a `tag`, a `branch`, a `rev`, or a `version` range over its tags"),
        );
    } else if let (Some((key, v)), Some(_)) = (refs.first(), version) {
        out.push(
            at(
                "invalid-bundle-source",
                v.span,
                format!("bundle `{name}` names both `{key}` and a `version` range"),
            )
            .help("`version` picks among the repository's version tags; `tag`, `branch` and `rev` name one commit"),
        );
    }
    if let Some(r) = rev
        && (!(7..=40).contains(&r.value.len()) || !r.value.bytes().all(|b| b.is_ascii_hexdigit()))
    {
        out.push(
            at(
                "invalid-bundle-source",
                r.span,
                format!("`rev = \"{}\"` is not a commit id", r.value),
            )
            .help("a commit id is 7 to 40 hexadecimal digits; for a branch or tag write `branch` or `tag`"),
        );
    }
    out
}

/// A source URL a security rule refuses, as a blocking finding at its place.
fn url_refused(
    e: crate::remote::RemoteError,
    at: &Spanned<String>,
    source: &SourceFile,
) -> Diagnostic {
    let crate::remote::RemoteError::UrlRefused { rule, why, .. } = &e else {
        return Diagnostic::new("invalid-url", e.to_string()).at(source, at.span);
    };
    let mut d = Diagnostic::new(
        rule,
        format!("`{}`: {why}", crate::remote::redact_url(&at.value)),
    )
    .at(source, at.span);
    if rule.starts_with("SRC-") {
        d.rule_severity = Some(crate::security::Level::Block);
    }
    d.help(format!("`capm explain {rule}` says what to write instead"))
}

/// A bundle's `skip` lists resources as `KIND:NAME`, each once.
fn check_skips(req: &BundleRequest, source: &SourceFile) -> Vec<Diagnostic> {
    let BundleRequest::Detailed { skip, .. } = req else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (i, id) in skip.iter().enumerate() {
        let message = if parse_resource_ref(&id.value).is_none() {
            format!("`{id}` is not a resource reference like `mcp:NAME`")
        } else if skip[..i].iter().any(|x| x.value == id.value) {
            format!("`{id}` is listed twice")
        } else {
            continue;
        };
        out.push(
            Diagnostic::new("invalid-skip", message)
                .at(source, id.span)
                .help("`skip` lists resources as KIND:NAME, where KIND is mcp, skill, plugin, agent or command"),
        );
    }
    out
}

/// Whether `s` is `sha256:` and 64 lower-case hex digits.
pub fn is_digest(s: &str) -> bool {
    s.strip_prefix("sha256:").is_some_and(|h| {
        h.len() == 64
            && h.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::mutation;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1024))]
        #[test]
        fn any_capm_toml_is_checked_without_panicking(bytes in mutation::bytes(400)) {
            check_project("capm.toml", &bytes);
        }

        #[test]
        fn a_damaged_capm_toml_is_checked_without_panicking(
            bytes in mutation::mutated(mutation::repo_files("capm.toml")),
        ) {
            check_project("capm.toml", &bytes);
        }
    }
}

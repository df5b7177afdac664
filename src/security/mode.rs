//! Rules about where resources may run (product modes and tiers), plugin classification
//! and sources, permissions to review, and attempts to switch off the user's trust checks.

use super::launch::{git_unpinned, npm_pin, unpinned_artifact};
use super::{Finding, Level, Sink};
use crate::manifest::bundle::{BundleManifest, Plugin};
use crate::manifest::common::{PermissionKind, ProductMode, Tier};
use crate::manifest::span::{Span, Spanned};

/// The modes a resource runs in: its own `product-modes`, or else the bundle's modes.
fn resource_modes(
    explicit: Option<&Vec<Spanned<ProductMode>>>,
    bundle: &[ProductMode],
) -> Vec<ProductMode> {
    match explicit {
        Some(list) => list.iter().map(|m| m.value).collect(),
        None => bundle.to_vec(),
    }
}

struct Res<'a> {
    id: String,
    span: Span,
    modes: Option<&'a Vec<Spanned<ProductMode>>>,
    stdio: bool,
    plugin: Option<&'a Plugin>,
}

fn resources(m: &BundleManifest) -> Vec<Res<'_>> {
    use crate::manifest::bundle::ResourceItem;
    m.resources()
        .into_iter()
        .map(|r| Res {
            id: r.id(),
            span: r.name.span,
            modes: r.product_modes(),
            stdio: matches!(r.item, ResourceItem::Mcp(s) if s.command.is_some()),
            plugin: match r.item {
                ResourceItem::Plugin(p) => Some(p),
                _ => None,
            },
        })
        .collect()
}

fn finding(
    rule: &'static str,
    level: Level,
    span: Span,
    resource: &str,
    message: String,
    help: &str,
    spec: Option<String>,
) -> Finding {
    Finding {
        rule,
        level,
        message,
        span,
        resource: resource.to_string(),
        help: Some(help.to_string()),
        spec,
        file: None,
    }
}

/// The mode rules, evaluated for each of `modes`, plus PLUGIN-002 and PERM-001.
pub fn check(m: &BundleManifest, modes: &[ProductMode], out: &mut Vec<Finding>) {
    let bundle_name = m
        .bundle
        .as_ref()
        .and_then(|b| b.name.as_ref())
        .map_or("?", |n| n.as_str());
    let bundle_id = format!("bundle:{bundle_name}");
    let bundle_span = m.bundle.as_ref().map_or(Span::default(), |b| b.span);
    let tiers = m.compatibility.as_ref().map(|c| &c.product_modes);
    let declared: Vec<ProductMode> = super::declared_modes(m);
    for &mode in modes {
        let tier = tiers
            .and_then(|t| t.iter().find(|(k, _)| k.value == mode))
            .map(|(k, t)| (k.span, t.value));
        match tier {
            Some((span, Tier::Experimental)) => out.push(finding(
                "MODE-003",
                Level::Medium,
                span,
                &bundle_id,
                format!("the bundle is only experimental in {mode}"),
                "review it before relying on it in this mode",
                None,
            )),
            Some((span, t @ (Tier::Blocked | Tier::Unsupported))) => out.push(finding(
                "MODE-003",
                Level::Block,
                span,
                &bundle_id,
                format!("the bundle is {t} in {mode}"),
                "install it into a mode it supports",
                None,
            )),
            None => out.push(finding(
                "MODE-003",
                Level::Block,
                bundle_span,
                &bundle_id,
                format!("the bundle does not declare {mode}, so it is unsupported there"),
                "install it into a mode it supports",
                None,
            )),
            Some((_, Tier::Supported)) => {}
        }
        for r in resources(m) {
            let runs_in = resource_modes(r.modes, &declared);
            let spec = r.plugin.map(super::plugin_spec_digest);
            if let Some(p) = r.plugin {
                let explicit = p
                    .product_modes
                    .as_ref()
                    .is_some_and(|l| l.iter().any(|x| x.value == mode));
                if mode.is_remote() && !explicit {
                    out.push(finding(
                        "MODE-004",
                        Level::Block,
                        r.span,
                        &r.id,
                        format!(
                            "the plugin `{}` does not list {mode} in its product-modes",
                            r.id
                        ),
                        "list every remote mode the plugin is cleared for in its product-modes",
                        spec.clone(),
                    ));
                }
            }
            if !runs_in.contains(&mode) {
                out.push(finding(
                    "MODE-002", Level::Block, r.span, &r.id,
                    format!("`{}` is not declared for {mode}, which the bundle is used in", r.id),
                    "add the mode to the resource's product-modes, or stop declaring the bundle for it", spec.clone(),
                ));
                continue;
            }
            if r.stdio && mode != ProductMode::DesktopLocal {
                out.push(finding(
                    "MODE-001", Level::Block, r.span, &r.id,
                    format!("`{}` is a local (stdio) server, which cannot run in {mode}", r.id),
                    "offer a remote (url) server for remote modes, or declare the bundle for desktop-local only", None,
                ));
            }
            if let Some(p) = r.plugin {
                match p.tier.as_ref().map(|t| t.value) {
                    Some(Tier::Experimental) if mode == ProductMode::DesktopLocal => out.push(finding(
                        "PLUGIN-003", Level::Medium, p.tier.as_ref().map_or(r.span, |t| t.span), &r.id,
                        format!("the plugin `{}` is experimental", r.id),
                        "review it before use; it cannot run in remote modes until it is supported", spec.clone(),
                    )),
                    Some(t) if mode.is_remote() && t != Tier::Supported => out.push(finding(
                        "PLUGIN-003", Level::Block, p.tier.as_ref().map_or(r.span, |t| t.span), &r.id,
                        format!("the plugin `{}` is {t}, and only supported plugins may run in {mode}", r.id),
                        "promote the plugin to supported after testing, or keep the bundle to desktop-local", spec.clone(),
                    )),
                    _ => {}
                }
            }
        }
    }
    for (n, p) in &m.plugins {
        if let Some(t) = &p.tier
            && matches!(t.value, Tier::Blocked | Tier::Unsupported)
        {
            out.push(finding(
                "PLUGIN-002",
                Level::Block,
                t.span,
                &format!("plugin:{n}"),
                format!("the plugin `{n}` is classified {}", t.value),
                "remove the plugin, or reclassify it after a review",
                Some(super::plugin_spec_digest(p)),
            ));
        }
    }
    for p in &m.permissions {
        let required = p.required.as_ref().is_none_or(|r| r.value);
        if let Some(kind) = &p.kind
            && required
            && matches!(
                kind.value,
                PermissionKind::Shell
                    | PermissionKind::Filesystem
                    | PermissionKind::Plugin
                    | PermissionKind::Credential
            )
        {
            let id = p.id.as_ref().map_or("?", |i| i.as_str());
            out.push(finding(
                "PERM-001",
                Level::Medium,
                kind.span,
                &bundle_id,
                format!(
                    "the bundle requires the {} permission `{id}`, which the user must review",
                    kind.value
                ),
                "plans list it and the installer asks for confirmation",
                None,
            ));
        }
    }
}

/// SC-005, SC-002 and SC-003 over a plugin's npm spec.
pub fn check_plugin_source(p: &Plugin, sink: &mut Sink<'_>) {
    let Some(npm) = &p.npm else { return };
    let spec = npm.value.as_str();
    if let Some(why) = git_unpinned(spec) {
        sink.add("SC-003", Level::High, npm.span, format!("`{spec}` {why}"))
            .help(
                "pin the full 40-character commit, or use a registry release at an exact version",
            );
    } else if let Some(why) = unpinned_artifact(spec) {
        sink.add("SC-002", Level::Block, npm.span, why)
            .help("use `name@exact-version` from the registry");
    } else if spec.contains("://") || spec.starts_with("file:") {
        sink.add(
            "SC-002",
            Level::Block,
            npm.span,
            format!("`{spec}` installs an artifact capm cannot verify"),
        )
        .help("use `name@exact-version` from the registry");
    } else if let Err(why) = npm_pin(spec) {
        sink.add(
            "SC-005",
            Level::High,
            npm.span,
            format!("the plugin `{spec}` {why}"),
        )
        .help("pin the plugin: `name@1.2.3`");
    }
}

/// Whether one key name is a client trust switch. Names are compared lower-case without
/// `_`, `-` or other punctuation; the specific switch words count anywhere in the name
/// (`autoApproveTools`, `yolo_mode`), the generic ones only at its start (`trusted_folders`,
/// `permissions`, `hooks`), so that e.g. `truststore`-like words elsewhere do not.
fn trust_switch(key: &str) -> bool {
    const ANYWHERE: &[&str] = &[
        "enableallprojectmcpservers",
        "enabledmcpjsonservers",
        // Claude Code's record of an accepted trust dialog, Gemini CLI's and Qwen Code's
        // folder trust and approval mode (`yolo` skips every confirmation).
        "trustdialog",
        "foldertrust",
        "approvalmode",
        "autoapprove",
        "autoallow",
        "autoaccept",
        "alwaysallow",
        "autotrust",
        "trustall",
        "yolo",
        "bypasspermission",
        "skippermission",
        "dangerously",
        "pretooluse",
        "allowalltools",
    ];
    const START: &[&str] = &["trust", "hook", "permission"];
    let norm: String = key
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect::<String>()
        .to_ascii_lowercase();
    ANYWHERE.iter().any(|w| norm.contains(w))
        || START
            .iter()
            .any(|w| norm.starts_with(w) && !norm.starts_with("truststore"))
}

/// TRUST-002 over keys capm does not know, at any depth: a bundle cannot switch off the
/// client's trust.
pub fn check_trust(m: &BundleManifest, out: &mut Vec<Finding>) {
    // Every unknown key is recorded on its own, nested ones included, so the last segment
    // is the key's own name (the rest is the path of known tables, resource names too).
    for key in &m.unknown_keys {
        if trust_switch(key.value.rsplit('.').next().unwrap_or(&key.value)) {
            out.push(finding(
                "TRUST-002",
                Level::Block,
                key.span,
                &format!(
                    "bundle:{}",
                    m.bundle
                        .as_ref()
                        .and_then(|b| b.name.as_ref())
                        .map_or("?", |n| n.as_str())
                ),
                format!("`{}` tries to set a client trust switch", key.value),
                "trust is the user's decision; remove the setting",
                None,
            ));
        }
    }
}

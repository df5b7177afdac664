//! A plugin's hooks (`hooks/hooks.json`, and the files or inline object `hooks` adds in
//! plugin.json or the marketplace entry): OpenCode has none, so each handler is an FMT-001
//! finding at its command, whose spec digest is that of the handler's JSON. Allowed, the
//! plugin is installed without it.

use super::Plugin;
use super::manifest::Doc;
use crate::formats::Translation;
use crate::formats::json::{Node, Value};

/// Reports every hook handler of the plugin.
pub fn report(t: &mut Translation, doc: &Doc, p: &Plugin) {
    let roots = doc.documents(t, "hooks", "hooks/hooks.json");
    for (file, root) in roots {
        let events = root
            .get("hooks")
            .filter(|h| matches!(h.value, Value::Object(_)));
        for (event, groups) in events.unwrap_or(&root).members() {
            if event.value == "description" {
                continue;
            }
            for handler in handlers(groups) {
                finding(t, p, file, &event.value, handler);
            }
        }
    }
}

/// The handlers of an event: `[{ matcher, hooks: [handler] }]`; anything else counts as one
/// handler, so that nothing the event holds goes unreviewed.
fn handlers(groups: &Node) -> Vec<&Node> {
    let mut out = Vec::new();
    for group in groups.elements() {
        match group.get("hooks") {
            Some(list) if !list.elements().is_empty() => out.extend(list.elements()),
            _ => out.push(group),
        }
    }
    if out.is_empty() {
        out.push(groups);
    }
    out
}

fn finding(t: &mut Translation, p: &Plugin, file: usize, event: &str, handler: &Node) {
    let what = ["command", "prompt", "url", "tool"]
        .iter()
        .find_map(|k| handler.get(k).map(|n| (*k, n)));
    let (span, message) = match what {
        Some((k, n)) => {
            let shown = n
                .as_str()
                .map_or_else(|| n.to_json().to_string(), str::to_string);
            let kind = handler.get("type").and_then(Node::as_str).unwrap_or(k);
            (
                n.span,
                format!(
                    "the plugin runs a {kind} hook on {event}: `{shown}`; OpenCode has no hooks, \
                     so the plugin can only be installed without it"
                ),
            )
        }
        None => (
            handler.span,
            format!(
                "the plugin has a hook on {event}; OpenCode has no hooks, so the plugin can \
                 only be installed without it"
            ),
        ),
    };
    let reviewed = handler.to_json().to_string();
    t.rule("FMT-001", (file, span), &p.resource, message, &reviewed);
}

//! Format-preserving edits of OpenCode's JSONC config: capm changes only the keys and
//! array elements it owns, on the file's concrete syntax tree, so comments, key order,
//! indentation and trailing commas of everything else survive byte for byte. Installing
//! an entry and removing it again gives back the original file.
//!
//! Known gap: removing the last element of a single-line array written with a trailing
//! comma (`["a", "b",]`) drops that comma, because the syntax tree library only keeps
//! trailing commas on multi-line containers; multi-line arrays round-trip exactly.

use jsonc_parser::cst::{CstInputValue, CstObject, CstRootNode};
use serde_json::Value;

use crate::target::jsonc;

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum EditError {
    #[error("the file does not parse: {0}")]
    Parse(String),
    #[error("`{0}` is not an object in the file")]
    NotAnObject(String),
    #[error("`{0}` is not an array in the file")]
    NotAnArray(String),
    #[error("`{0}` is not a JSON pointer to a key")]
    BadPointer(String),
}

fn input(v: &Value) -> CstInputValue {
    match v {
        Value::Null => CstInputValue::Null,
        Value::Bool(b) => CstInputValue::Bool(*b),
        Value::Number(n) => CstInputValue::Number(n.to_string()),
        Value::String(s) => CstInputValue::String(s.clone()),
        Value::Array(items) => CstInputValue::Array(items.iter().map(input).collect()),
        Value::Object(map) => {
            CstInputValue::Object(map.iter().map(|(k, v)| (k.clone(), input(v))).collect())
        }
    }
}

/// `/mcp/github` → `["mcp", "github"]`, with `~1` and `~0` unescaped.
pub(super) fn segments(pointer: &str) -> Result<Vec<String>, EditError> {
    let rest = pointer
        .strip_prefix('/')
        .ok_or_else(|| EditError::BadPointer(pointer.into()))?;
    let parts: Vec<String> = rest
        .split('/')
        .map(|s| s.replace("~1", "/").replace("~0", "~"))
        .collect();
    if parts.iter().any(String::is_empty) {
        return Err(EditError::BadPointer(pointer.into()));
    }
    Ok(parts)
}

fn parse(text: &str) -> Result<CstRootNode, EditError> {
    CstRootNode::parse(text, &jsonc::options()).map_err(|e| EditError::Parse(e.to_string()))
}

/// The object at `path` below the root, created (as an empty object) where missing.
fn object_at(
    root: &CstRootNode,
    path: &[String],
    create: bool,
) -> Result<Option<CstObject>, EditError> {
    let mut obj = if create {
        root.object_value_or_set()
    } else {
        match root.object_value() {
            Some(o) => o,
            None => return Ok(None),
        }
    };
    for (i, key) in path.iter().enumerate() {
        let shown = || format!("/{}", path[..=i].join("/"));
        obj = match obj.get(key) {
            Some(prop) => match prop.object_value() {
                Some(o) => o,
                None => return Err(EditError::NotAnObject(shown())),
            },
            None if create => obj.object_value_or_set(key),
            None => return Ok(None),
        };
    }
    Ok(Some(obj))
}

/// Sets the entry at `pointer` to `value`, replacing what is there, creating the objects
/// above it as needed.
pub fn set_entry(text: &str, pointer: &str, value: &Value) -> Result<String, EditError> {
    let segs = segments(pointer)?;
    let (key, parents) = segs.split_last().expect("segments are never empty");
    let root = parse(text)?;
    let obj = object_at(&root, parents, true)?.expect("created");
    match obj.get(key) {
        Some(prop) => prop.set_value(input(value)),
        None => {
            obj.append(key, input(value));
        }
    }
    Ok(root.to_string())
}

/// Removes the entry at `pointer`; objects above it that this leaves empty are removed
/// too when `prune` (capm created them). Nothing there is not an error.
pub fn remove_entry(text: &str, pointer: &str, prune: bool) -> Result<String, EditError> {
    let segs = segments(pointer)?;
    let (key, parents) = segs.split_last().expect("segments are never empty");
    let root = parse(text)?;
    let Some(obj) = object_at(&root, parents, false)? else {
        return Ok(text.to_string());
    };
    if let Some(prop) = obj.get(key) {
        prop.remove();
    }
    if prune {
        // Walk back up, removing containers left empty.
        for depth in (0..parents.len()).rev() {
            let Some(parent) = object_at(&root, &parents[..depth], false)? else {
                break;
            };
            let Some(prop) = parent.get(&parents[depth]) else {
                break;
            };
            if prop
                .object_value()
                .is_some_and(|o| o.properties().is_empty())
            {
                prop.remove();
            } else {
                break;
            }
        }
    }
    Ok(root.to_string())
}

/// Appends a string element to the array at `pointer` (created where missing).
pub fn add_element(text: &str, pointer: &str, element: &str) -> Result<String, EditError> {
    let segs = segments(pointer)?;
    let (key, parents) = segs.split_last().expect("segments are never empty");
    let root = parse(text)?;
    let obj = object_at(&root, parents, true)?.expect("created");
    let array = match obj.get(key) {
        Some(prop) => prop
            .array_value()
            .ok_or_else(|| EditError::NotAnArray(pointer.into()))?,
        None => obj.array_value_or_set(key),
    };
    array.append(CstInputValue::String(element.to_string()));
    Ok(root.to_string())
}

/// Removes every string element of the array at `pointer` for which `matches` holds;
/// an array left empty goes too when `prune`.
pub fn remove_elements(
    text: &str,
    pointer: &str,
    matches: impl Fn(&str) -> bool,
    prune: bool,
) -> Result<String, EditError> {
    let segs = segments(pointer)?;
    let (key, parents) = segs.split_last().expect("segments are never empty");
    let root = parse(text)?;
    let Some(obj) = object_at(&root, parents, false)? else {
        return Ok(text.to_string());
    };
    let Some(prop) = obj.get(key) else {
        return Ok(text.to_string());
    };
    let array = prop
        .array_value()
        .ok_or_else(|| EditError::NotAnArray(pointer.into()))?;
    for el in array.elements() {
        let hit = el
            .as_string_lit()
            .and_then(|s| s.decoded_value().ok())
            .is_some_and(|s| matches(&s));
        if hit {
            el.remove();
        }
    }
    if prune && array.elements().is_empty() {
        prop.remove();
    }
    Ok(root.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const USER: &str = r#"// My OpenCode settings: keep these comments!
{
  "$schema": "https://opencode.ai/config.json",
  /* theme first */
  "theme": "tokyonight",
  "mcp": {
    // the server I wrote
    "mine": { "type": "local", "command": ["my-server", "--fast"], },
  },
  "plugin": [
    "opencode-wakatime@1.2.0", // time tracking
  ],
}
"#;

    #[test]
    fn install_then_remove_gives_back_every_byte() {
        let server =
            json!({"type": "remote", "url": "https://mcp.example.com/mcp", "enabled": true});
        let added = set_entry(USER, "/mcp/github", &server).unwrap();
        assert!(
            added.contains("// the server I wrote") && added.contains("\"github\""),
            "{added}"
        );
        assert_eq!(jsonc::parse(&added).unwrap()["mcp"]["github"], server);
        assert_eq!(remove_entry(&added, "/mcp/github", true).unwrap(), USER);
        let with_plugin = add_element(USER, "/plugin", "opencode-notify@1.0.3").unwrap();
        assert_eq!(
            jsonc::parse(&with_plugin).unwrap()["plugin"],
            json!(["opencode-wakatime@1.2.0", "opencode-notify@1.0.3"])
        );
        let back = remove_elements(
            &with_plugin,
            "/plugin",
            |s| s.starts_with("opencode-notify@"),
            true,
        )
        .unwrap();
        assert_eq!(back, USER);
    }

    #[test]
    fn containers_capm_created_are_removed_with_the_last_entry() {
        let bare = "{\n  \"theme\": \"dark\"\n}\n";
        let added = set_entry(bare, "/mcp/github", &json!({"type": "remote"})).unwrap();
        let with_plugin = add_element(&added, "/plugin", "p@1.0.0").unwrap();
        let less = remove_elements(&with_plugin, "/plugin", |s| s == "p@1.0.0", true).unwrap();
        assert_eq!(remove_entry(&less, "/mcp/github", true).unwrap(), bare);
    }

    #[test]
    fn replacing_an_entry_touches_nothing_else() {
        let changed = set_entry(
            USER,
            "/mcp/mine",
            &json!({"type": "local", "command": ["other"]}),
        )
        .unwrap();
        assert!(
            changed.starts_with("// My OpenCode settings: keep these comments!\n{\n  \"$schema\""),
            "{changed}"
        );
        assert!(
            changed.contains("/* theme first */")
                && changed.contains("\"opencode-wakatime@1.2.0\", // time tracking"),
            "{changed}"
        );
        assert_eq!(
            set_entry("{ \"mcp\": 3 }", "/mcp/x", &json!(1)),
            Err(EditError::NotAnObject("/mcp".into()))
        );
        assert!(matches!(
            set_entry("{ 'a': 1 }", "/mcp/x", &json!(1)),
            Err(EditError::Parse(_))
        ));
    }
}

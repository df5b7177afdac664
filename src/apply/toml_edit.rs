//! Format-preserving edits of a TOML config (Codex's `config.toml`) with `toml_edit`: an
//! entry at a JSON pointer (`/mcp_servers/github`) set as a table of its own, or removed,
//! so that an install followed by a removal gives the file back byte for byte. Comments,
//! the order of keys and the user's own tables stay as they are.

use serde_json::Value;
use toml_edit::{DocumentMut, Item, Table, TableLike};

use super::jsonc_edit::{EditError, segments};

fn parse(text: &str) -> Result<DocumentMut, EditError> {
    text.parse::<DocumentMut>()
        .map_err(|e| EditError::Parse(e.message().to_string()))
}

/// The edited document as text, with the line endings of `original`: `toml_edit` writes
/// `\n` throughout, which would turn every line of a file saved with `\r\n` into a change.
fn written(original: &str, doc: &DocumentMut) -> String {
    let text = doc.to_string();
    if original.contains("\r\n") {
        text.replace("\r\n", "\n").replace('\n', "\r\n")
    } else {
        text
    }
}

/// A JSON value as TOML: objects become tables (`[mcp_servers.x]`, `[mcp_servers.x.env]`),
/// `null`s are left out.
fn item(value: &Value) -> Item {
    match value {
        Value::Object(map) => {
            let mut t = Table::new();
            for (k, v) in map {
                if !v.is_null() {
                    t.insert(k, item(v));
                }
            }
            Item::Table(t)
        }
        other => toml_edit::value(toml_value(other)),
    }
}

fn toml_value(value: &Value) -> toml_edit::Value {
    match value {
        Value::Bool(b) => (*b).into(),
        Value::Number(n) => match n.as_i64() {
            Some(i) => i.into(),
            None => n.as_f64().unwrap_or_default().into(),
        },
        Value::String(s) => s.as_str().into(),
        Value::Array(items) => {
            let arr: toml_edit::Array = items.iter().map(toml_value).collect();
            toml_edit::Value::Array(arr)
        }
        Value::Object(map) => {
            let mut t = toml_edit::InlineTable::new();
            for (k, v) in map.iter().filter(|(_, v)| !v.is_null()) {
                t.insert(k, toml_value(v));
            }
            toml_edit::Value::InlineTable(t)
        }
        Value::Null => "".into(),
    }
}

/// The table at `parents`, created (implicit, so that no empty header is written) where
/// `create`; `None` where missing and not created. A table the user wrote inline
/// (`mcp_servers = { mine = { … } }`) is edited inline.
fn table_at<'a>(
    doc: &'a mut DocumentMut,
    parents: &[String],
    create: bool,
) -> Result<Option<&'a mut dyn TableLike>, EditError> {
    let mut t: &mut dyn TableLike = doc.as_table_mut();
    for (i, key) in parents.iter().enumerate() {
        if !t.contains_key(key) {
            if !create {
                return Ok(None);
            }
            let mut new = Table::new();
            new.set_implicit(true);
            t.insert(key, Item::Table(new));
        }
        t = t
            .get_mut(key)
            .and_then(Item::as_table_like_mut)
            .ok_or_else(|| EditError::NotAnObject(format!("/{}", parents[..=i].join("/"))))?;
    }
    Ok(Some(t))
}

/// Sets the entry at `pointer` to `value` (a table of its own for an object).
pub fn set_entry(text: &str, pointer: &str, value: &Value) -> Result<String, EditError> {
    let segs = segments(pointer)?;
    let (key, parents) = segs.split_last().expect("segments are never empty");
    let mut doc = parse(text)?;
    let t = table_at(&mut doc, parents, true)?.expect("created");
    let mut new = item(value);
    if let (Some(old), Item::Table(table)) = (t.get(key).and_then(Item::as_table), &mut new) {
        // Replacing an entry keeps its place and the comments above it.
        table.decor_mut().clone_from(old.decor());
        table.set_position(old.position());
    }
    t.insert(key, new);
    Ok(written(text, &doc))
}

/// Removes the entry at `pointer`; tables above it that this leaves empty go too when
/// `prune` and nothing of theirs was written (they were implicit). Nothing there is not an
/// error.
pub fn remove_entry(text: &str, pointer: &str, prune: bool) -> Result<String, EditError> {
    let segs = segments(pointer)?;
    let (key, parents) = segs.split_last().expect("segments are never empty");
    let mut doc = parse(text)?;
    let Some(t) = table_at(&mut doc, parents, false)? else {
        return Ok(text.to_string());
    };
    t.remove(key);
    if prune {
        for depth in (0..parents.len()).rev() {
            let Some(parent) = table_at(&mut doc, &parents[..depth], false)? else {
                break;
            };
            let empty_implicit = parent
                .get(&parents[depth])
                .and_then(Item::as_table)
                .is_some_and(|t| t.is_empty() && t.is_implicit());
            if !empty_implicit {
                break;
            }
            parent.remove(&parents[depth]);
        }
    }
    Ok(written(text, &doc))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const MINE: &str = "# my settings\nmodel = \"o3\"\n\n[mcp_servers.mine]\ncommand = \"mine\" # keep\n\n[profiles.x]\nmodel = \"y\"\n";

    #[test]
    fn a_file_with_crlf_line_endings_keeps_them() {
        let mine = "# mine\r\nmodel = \"o3\"\r\n";
        let set = set_entry(mine, "/mcp_servers/x", &json!({"command": "x"})).unwrap();
        assert_eq!(
            set,
            "# mine\r\nmodel = \"o3\"\r\n\r\n[mcp_servers.x]\r\ncommand = \"x\"\r\n"
        );
        assert_eq!(remove_entry(&set, "/mcp_servers/x", true).unwrap(), mine);
    }

    #[test]
    fn an_entry_set_then_removed_gives_the_file_back() {
        let v = json!({"command": "npx", "args": ["-y", "s@1.0.0"], "env_vars": ["TOKEN"], "env": {"MODE": "fast"}});
        let set = set_entry(MINE, "/mcp_servers/github", &v).unwrap();
        assert!(
            set.contains("[mcp_servers.github]\ncommand = \"npx\""),
            "{set}"
        );
        assert!(set.contains("# my settings") && set.contains("# keep"));
        let back: toml::Value = toml::from_str(&set).unwrap();
        assert_eq!(
            back["mcp_servers"]["github"]["env_vars"][0].as_str(),
            Some("TOKEN")
        );
        assert_eq!(
            remove_entry(&set, "/mcp_servers/github", true).unwrap(),
            MINE
        );
    }

    #[test]
    fn a_new_file_comes_back_empty() {
        let v = json!({"url": "https://x/mcp", "bearer_token_env_var": "T"});
        let set = set_entry("", "/mcp_servers/remote", &v).unwrap();
        assert_eq!(
            set,
            "[mcp_servers.remote]\nurl = \"https://x/mcp\"\nbearer_token_env_var = \"T\"\n"
        );
        assert_eq!(remove_entry(&set, "/mcp_servers/remote", true).unwrap(), "");
        // Replacing keeps its place.
        let two = set_entry(&set, "/mcp_servers/other", &json!({"url": "u"})).unwrap();
        let replaced = set_entry(&two, "/mcp_servers/remote", &json!({"url": "v"})).unwrap();
        assert!(
            replaced.find("remote").unwrap() < replaced.find("other").unwrap(),
            "{replaced}"
        );
    }

    #[test]
    fn a_user_table_in_the_way_is_an_error() {
        let e = set_entry("mcp_servers = 3\n", "/mcp_servers/x", &json!({})).unwrap_err();
        assert!(matches!(e, EditError::NotAnObject(_)), "{e}");
    }
}

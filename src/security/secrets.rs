//! Secrets in free text: the credentials a file capm copies into the user's configuration
//! could carry (a skill's markdown and resources, agents, commands, plugin sources).

use std::ops::Range;

/// A credential found in a text: where it is and what kind it is. The value itself is never
/// kept or shown.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Secret {
    /// Byte range of the credential in the text.
    pub range: Range<usize>,
    /// What it looks like, for messages ("a GitHub token").
    pub kind: &'static str,
}

/// Every credential in `text`, in order.
pub fn find(text: &str) -> Vec<Secret> {
    let mut out = Vec::new();
    let mut start = None;
    let delimiter = |c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '`' | '<' | '>');
    for (i, c) in text.char_indices().chain([(text.len(), ' ')]) {
        match (delimiter(c), start) {
            (true, Some(s)) => {
                if let Some(kind) = super::text::token_shape(&text[s..i]) {
                    out.push(Secret { range: s..i, kind });
                }
                start = None;
            }
            (false, None) => start = Some(i),
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_a_token_in_prose() {
        let text = "Use the key ghp_0123456789abcdefghijklmnopqrstuvwxyzAB to call it.";
        let found = find(text);
        assert_eq!(found.len(), 1);
        assert!(text[found[0].range.clone()].starts_with("ghp_"));
        assert!(find("No credentials here, only prose.").is_empty());
    }
}

//! Reading OpenCode's configuration: JSON with comments and trailing commas (JSONC), as
//! OpenCode itself accepts it, and nothing looser (no single quotes, no missing commas).
//! A file that does not parse is reported with its line and column and never written.

use jsonc_parser::ParseOptions;

/// Why a config file could not be read, with where.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message} at line {line}, column {column}")]
pub struct JsoncError {
    pub message: String,
    /// 1-based.
    pub line: usize,
    /// 1-based.
    pub column: usize,
    /// Byte offsets of the offending text.
    pub start: usize,
    pub end: usize,
}

/// The options OpenCode's own parser accepts: comments and trailing commas.
pub fn options() -> ParseOptions {
    ParseOptions {
        allow_comments: true,
        allow_trailing_commas: true,
        allow_loose_object_property_names: false,
        allow_missing_commas: false,
        allow_single_quoted_strings: false,
        allow_hexadecimal_numbers: false,
        allow_unary_plus_numbers: false,
        ..ParseOptions::default()
    }
}

/// The error for a config file that is not UTF-8, pointing at the first invalid byte.
pub fn not_utf8(bytes: &[u8], e: std::str::Utf8Error) -> JsoncError {
    let at = e.valid_up_to();
    let before = &bytes[..at];
    let line = before.iter().filter(|b| **b == b'\n').count() + 1;
    let line_start = before
        .iter()
        .rposition(|b| *b == b'\n')
        .map_or(0, |i| i + 1);
    let column = String::from_utf8_lossy(&before[line_start..])
        .chars()
        .count()
        + 1;
    JsoncError {
        message: "the file is not UTF-8 (an invalid byte)".into(),
        line,
        column,
        start: at,
        end: at + e.error_len().unwrap_or(1),
    }
}

/// Parses JSONC text into a value; an empty file is an empty object.
pub fn parse(text: &str) -> Result<serde_json::Value, JsoncError> {
    if text.starts_with('\u{feff}') {
        return Err(JsoncError {
            message: "the file starts with a byte-order mark (U+FEFF), which a JSON file must not begin with; save it as UTF-8 without one".into(),
            line: 1,
            column: 1,
            start: 0,
            end: '\u{feff}'.len_utf8(),
        });
    }
    if text.trim().is_empty() {
        return Ok(serde_json::Value::Object(Default::default()));
    }
    match jsonc_parser::parse_to_serde_value(text, &options()) {
        Ok(Some(v)) => Ok(v),
        // No value: only comments, an empty object; or a literal `null`, kept as itself so
        // that it is not taken for an object capm may write into.
        Ok(None) => match jsonc_parser::parse_to_value(text, &options()) {
            Ok(Some(_)) => Ok(serde_json::Value::Null),
            _ => Ok(serde_json::Value::Object(Default::default())),
        },
        Err(e) => {
            let range = e.range();
            Err(JsoncError {
                message: e.kind().to_string(),
                line: e.line_display(),
                column: e.column_display(),
                start: range.start,
                end: range.end,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::mutation;

    #[test]
    fn comments_and_trailing_commas_are_jsonc() {
        let v = parse(
            "// mine\n{\n  /* servers */ \"mcp\": { \"a\": { \"type\": \"local\", }, },\n}\n",
        )
        .unwrap();
        assert_eq!(v["mcp"]["a"]["type"], "local");
        assert_eq!(parse("").unwrap(), serde_json::json!({}));
    }

    #[test]
    fn errors_carry_line_and_column() {
        let e = parse("{\n  \"mcp\": {\n    \"a\": 'single'\n  }\n}\n").unwrap_err();
        assert_eq!((e.line, e.column), (3, 10), "{e}");
        assert!(
            parse("{ \"a\": 1 \"b\": 2 }").is_err(),
            "missing commas are refused"
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1024))]
        #[test]
        fn any_text_is_read_or_refused_without_panicking(text in mutation::text(300)) {
            if let Err(e) = parse(&text) {
                prop_assert!(e.start <= e.end && e.line >= 1 && e.column >= 1, "{e:?}");
            }
        }

        /// The OpenCode configs of the plan cases, with their comments, damaged.
        #[test]
        fn a_damaged_config_is_read_or_refused_without_panicking(bytes in mutation::mutated(samples())) {
            let _ = parse(&String::from_utf8_lossy(&bytes));
        }
    }

    fn samples() -> Vec<Vec<u8>> {
        let mut all = mutation::repo_files("opencode.json");
        all.extend(mutation::repo_files("opencode.jsonc"));
        all
    }
}

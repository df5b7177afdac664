//! `capm explain`: what a diagnostic code or security rule means, why it matters, how to fix it.

use std::io::Write;

use clap::{Args, ValueEnum};
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::Serialize;

use super::{CliError, Status, Term, print_json};
use crate::diagnostic::Severity;
use crate::diagnostic::codes::CodeInfo;
use crate::security::Level;
use crate::security::rules as codes;

#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// The code to explain, e.g. `invalid-semver` or `PLUGIN-001`.
    #[arg(required_unless_present = "list")]
    code: Option<String>,
    /// List every code with its severity and summary.
    #[arg(long, conflicts_with = "code")]
    list: bool,
    /// Output format: human for people, or json for one `capm.explain/v1` (with --list,
    /// `capm.explain-list/v1`) document on stdout.
    #[arg(long, value_enum, default_value_t = ExplainFormat::Human)]
    format: ExplainFormat,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum ExplainFormat {
    Human,
    Json,
}

const EXPLAIN_SCHEMA: &str = "capm.explain/v1";
const EXPLAIN_LIST_SCHEMA: &str = "capm.explain-list/v1";

/// What `capm explain CODE --format json` prints.
#[derive(Debug, Serialize, JsonSchema)]
#[schemars(title = "capm explanation (capm explain CODE --format json)")]
pub struct ExplainDoc {
    #[serde(flatten)]
    pub code: CodeDoc,
    /// Always `capm.explain/v1`.
    #[schemars(extend("const" = EXPLAIN_SCHEMA))]
    pub schema: &'static str,
}

/// What `capm explain --list --format json` prints.
#[derive(Debug, Serialize, JsonSchema)]
#[schemars(title = "capm codes (capm explain --list --format json)")]
pub struct ExplainListDoc {
    /// Always `capm.explain-list/v1`.
    #[schemars(extend("const" = EXPLAIN_LIST_SCHEMA))]
    pub schema: &'static str,
    /// Every code: validation codes, then security rules.
    pub codes: Vec<CodeDoc>,
}

/// One diagnostic code or security rule.
#[derive(Debug, Serialize, JsonSchema)]
pub struct CodeDoc {
    pub code: &'static str,
    /// The severity of the diagnostics it reports.
    pub severity: Severity,
    /// One line: what the code reports.
    pub summary: &'static str,
    /// Why it matters.
    pub why: &'static str,
    /// How to fix it.
    pub fix: &'static str,
    /// Present for security rules.
    #[serde(flatten)]
    pub rule: Option<RuleDoc>,
}

/// What a security rule adds to its code.
#[derive(Debug, Serialize, JsonSchema)]
pub struct RuleDoc {
    /// The rule's own severity; `null` for design rules, which have none.
    #[schemars(schema_with = "nullable_level")]
    pub rule_severity: Option<Level>,
    /// A manifest fragment that triggers the rule.
    pub example_bad: &'static str,
    /// A fragment that does the same job and passes.
    pub example_good: &'static str,
}

/// `rule_severity` is the one place capm writes `null`, so its schema says so in a form
/// the schema generator's removal of `null` types leaves alone.
fn nullable_level(generator: &mut SchemaGenerator) -> Schema {
    let level = generator.subschema_for::<Level>();
    json_schema!({ "anyOf": [level, { "const": null }] })
}

impl CodeDoc {
    fn of(c: &CodeInfo) -> Self {
        CodeDoc {
            code: c.code,
            severity: c.severity,
            summary: c.summary,
            why: c.why,
            fix: c.fix,
            rule: c.rule.as_ref().map(|r| RuleDoc {
                rule_severity: r.level,
                example_bad: r.bad,
                example_good: r.good,
            }),
        }
    }
}

/// `error`, or for a rule `security rule, high`.
fn kind(c: &CodeInfo) -> String {
    match &c.rule {
        Some(r) => match r.level {
            Some(level) => format!("security rule, {}", level.as_str()),
            None => "security design rule".to_string(),
        },
        None => c.severity.as_str().to_string(),
    }
}

fn indent(text: &str) -> String {
    text.lines().map(|l| format!("    {l}\n")).collect()
}

pub fn run(args: ExplainArgs, term: &mut Term) -> Result<Status, CliError> {
    if args.list {
        if args.format == ExplainFormat::Json {
            print_json(
                term,
                &ExplainListDoc {
                    schema: EXPLAIN_LIST_SCHEMA,
                    codes: codes::all().map(CodeDoc::of).collect(),
                },
            )?;
        } else {
            let width = codes::all().map(|c| c.code.len()).max().unwrap_or(0);
            let out = term.out();
            for c in codes::all() {
                let sev = match &c.rule {
                    Some(r) => r.level.map_or("-", |l| l.as_str()),
                    None => c.severity.as_str(),
                };
                writeln!(out, "{:<width$}  {sev:<7}  {}", c.code, c.summary)?;
            }
        }
        return Ok(Status::Success);
    }
    let code = args.code.unwrap_or_default();
    let Some(c) = codes::lookup(&code) else {
        let names: Vec<&str> = codes::all().map(|c| c.code).collect();
        let help = match crate::manifest::decode::suggest(&code, &names) {
            Some(s) => format!("did you mean `{s}`? `capm explain --list` lists every code"),
            None => "`capm explain --list` lists every code".into(),
        };
        return Err(CliError::Refused {
            code: "unknown-code",
            message: format!("unknown code `{code}`"),
            details: Vec::new(),
            help: Some(help),
        });
    };
    if args.format == ExplainFormat::Json {
        print_json(
            term,
            &ExplainDoc {
                code: CodeDoc::of(c),
                schema: EXPLAIN_SCHEMA,
            },
        )?;
    } else {
        let out = term.out();
        writeln!(out, "{} ({})\n", c.code, kind(c))?;
        writeln!(out, "{}\n", c.summary)?;
        writeln!(out, "Why it matters:\n  {}\n", c.why)?;
        writeln!(out, "How to fix it:\n  {}", c.fix)?;
        if let Some(r) = &c.rule {
            write!(out, "\nExample that triggers it:\n{}", indent(r.bad))?;
            write!(out, "\nExample that passes:\n{}", indent(r.good))?;
        }
    }
    Ok(Status::Success)
}

/// The `capm.explain/v1` document for a code, as `capm explain CODE --format json` prints
/// it; `None` for an unknown code.
pub(super) fn document(code: &str) -> Option<serde_json::Value> {
    let doc = ExplainDoc {
        code: CodeDoc::of(codes::lookup(code)?),
        schema: EXPLAIN_SCHEMA,
    };
    Some(serde_json::to_value(doc).expect("explanations always serialise"))
}

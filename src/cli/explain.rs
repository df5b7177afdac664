//! `capm explain`: what a diagnostic code or security rule means, why it matters, how to fix it.

use std::io::Write;

use clap::{Args, ValueEnum};
use serde_json::json;

use super::{CliError, Status, Term, print_json};
use crate::diagnostic::codes::{self, CodeInfo};

#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// The code to explain, e.g. `invalid-semver` or `PLUGIN-001`.
    #[arg(required_unless_present = "list")]
    code: Option<String>,
    /// List every code with its severity and summary.
    #[arg(long, conflicts_with = "code")]
    list: bool,
    #[arg(long, value_enum, default_value_t = ExplainFormat::Human)]
    format: ExplainFormat,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum ExplainFormat {
    Human,
    Json,
}

fn info_json(c: &CodeInfo) -> serde_json::Value {
    let mut v = json!({
        "code": c.code,
        "severity": c.severity,
        "summary": c.summary,
        "why": c.why,
        "fix": c.fix,
    });
    if let Some(r) = &c.rule {
        v["rule_severity"] = json!(r.level);
        v["example_bad"] = json!(r.bad);
        v["example_good"] = json!(r.good);
    }
    v
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
            let list: Vec<_> = codes::all().map(info_json).collect();
            print_json(
                term,
                &json!({ "schema": "capm.explain-list/v1", "codes": list }),
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
        return Err(CliError::Usage {
            message: format!("unknown code `{code}`"),
            help: Some(help),
        });
    };
    if args.format == ExplainFormat::Json {
        let mut v = info_json(c);
        v["schema"] = json!("capm.explain/v1");
        print_json(term, &v)?;
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

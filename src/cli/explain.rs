//! `capm explain`: what a diagnostic code or security rule means, why it matters, how to fix it.

use std::io::Write;

use clap::{Args, ValueEnum};
use serde_json::json;

use super::{CliError, Status, Term, print_json};
use crate::diagnostic::codes::{self, CODES, CodeInfo};

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
    json!({
        "code": c.code,
        "severity": c.severity,
        "summary": c.summary,
        "why": c.why,
        "fix": c.fix,
    })
}

pub fn run(args: ExplainArgs, term: &mut Term) -> Result<Status, CliError> {
    if args.list {
        if args.format == ExplainFormat::Json {
            let list: Vec<_> = CODES.iter().map(info_json).collect();
            print_json(
                term,
                &json!({ "schema": "capm.explain-list/v1", "codes": list }),
            )?;
        } else {
            let width = CODES.iter().map(|c| c.code.len()).max().unwrap_or(0);
            let out = term.out();
            for c in CODES {
                writeln!(
                    out,
                    "{:<width$}  {:<7}  {}",
                    c.code,
                    c.severity.as_str(),
                    c.summary
                )?;
            }
        }
        return Ok(Status::Success);
    }
    let code = args.code.unwrap_or_default();
    let Some(c) = codes::lookup(&code) else {
        let names: Vec<&str> = CODES.iter().map(|c| c.code).collect();
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
        writeln!(out, "{} ({})\n", c.code, c.severity.as_str())?;
        writeln!(out, "{}\n", c.summary)?;
        writeln!(out, "Why it matters:\n  {}\n", c.why)?;
        writeln!(out, "How to fix it:\n  {}", c.fix)?;
    }
    Ok(Status::Success)
}

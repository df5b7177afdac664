//! Diagnostics: the one shape every validation and security finding takes.
//!
//! A diagnostic has a stable code (kebab-case for validation, `RULE-NNN` for security
//! rules), a severity, a message, a location in a source file, the resource it concerns and
//! an optional `help` line. Codes and their explanations live in [`codes`].

pub mod codes;
pub mod span;

use std::collections::BTreeMap;
use std::sync::Arc;

use schemars::JsonSchema;
use serde::Serialize;

use self::span::{SourceFile, Span};

/// How much a diagnostic matters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
    Info,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }
}

/// Where a diagnostic points: a file, and when known the place in it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Location {
    /// The file, as a path relative to the directory capm was run from when possible.
    pub file: String,
    /// 1-based line of the start of the span.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    /// 1-based column (in characters) of the start of the span.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_line: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_column: Option<usize>,
    /// Byte offsets of the span in the file.
    #[serde(skip)]
    pub span: Option<Span>,
}

impl Location {
    pub fn file(path: impl Into<String>) -> Self {
        Location {
            file: path.into(),
            line: None,
            column: None,
            end_line: None,
            end_column: None,
            span: None,
        }
    }

    pub fn at(source: &SourceFile, span: Span) -> Self {
        let start = source.line_col(span.start);
        let end = source.line_col(span.end.max(span.start));
        Location {
            file: source.path.clone(),
            line: Some(start.line),
            column: Some(start.column),
            end_line: Some(end.line),
            end_column: Some(end.column),
            span: Some(span),
        }
    }
}

/// One problem found in the user's input.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Diagnostic {
    /// Stable code: `capm explain CODE` says what it means.
    pub code: &'static str,
    pub severity: Severity,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<Box<Location>>,
    /// The resource concerned, as `KIND:NAME`, or `bundle:NAME` for the bundle itself.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
    /// For security findings: the rule's own severity (block, high, medium, low).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule_severity: Option<Level>,
    /// For security findings on a resource: the digest of its launch spec, which a
    /// `[policy] allow` entry must name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub spec: Option<String>,
    /// Set when a `[policy] allow` entry accepted this finding.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub allowed: bool,
}

/// How severe a rule's finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// The plan is blocked; nothing overrides it.
    Block,
    /// The plan is blocked unless `[policy] allow` names the rule, resource and spec digest.
    High,
    /// A warning; the interactive installer asks for explicit confirmation.
    Medium,
    /// Reported only.
    Low,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Block => "block",
            Level::High => "high",
            Level::Medium => "medium",
            Level::Low => "low",
        }
    }

    /// The diagnostic severity lint gives a finding of this level.
    pub fn lint_severity(self) -> Severity {
        match self {
            Level::Block | Level::High => Severity::Error,
            Level::Medium => Severity::Warning,
            Level::Low => Severity::Info,
        }
    }
}

impl Diagnostic {
    /// A diagnostic with the severity its code is registered with.
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        let severity = codes::lookup(code)
            .map(|c| c.severity)
            .unwrap_or(Severity::Error);
        Diagnostic {
            code,
            severity,
            message: message.into(),
            location: None,
            resource: None,
            help: None,
            rule_severity: None,
            spec: None,
            allowed: false,
        }
    }

    pub fn with_severity(mut self, severity: Severity) -> Self {
        self.severity = severity;
        self
    }

    pub fn at(mut self, source: &SourceFile, span: Span) -> Self {
        self.location = Some(Box::new(Location::at(source, span)));
        self
    }

    pub fn in_file(mut self, path: impl Into<String>) -> Self {
        self.location = Some(Box::new(Location::file(path)));
        self
    }

    pub fn resource(mut self, resource: impl Into<String>) -> Self {
        self.resource = Some(resource.into());
        self
    }

    pub fn maybe_resource(mut self, resource: Option<&str>) -> Self {
        self.resource = resource.map(str::to_owned);
        self
    }

    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn maybe_help(mut self, help: Option<String>) -> Self {
        self.help = help;
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// Counts of diagnostics by severity.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Summary {
    pub errors: usize,
    pub warnings: usize,
    pub infos: usize,
}

impl Summary {
    pub fn of<'a>(diags: impl IntoIterator<Item = &'a Diagnostic>) -> Self {
        let mut s = Summary::default();
        for d in diags {
            match d.severity {
                Severity::Error => s.errors += 1,
                Severity::Warning => s.warnings += 1,
                Severity::Info => s.infos += 1,
            }
        }
        s
    }
}

/// The source files diagnostics point into, so renderers can show the offending line.
#[derive(Clone, Debug, Default)]
pub struct Sources {
    files: BTreeMap<String, Arc<SourceFile>>,
}

impl Sources {
    pub fn insert(&mut self, file: Arc<SourceFile>) {
        self.files.insert(file.path.clone(), file);
    }

    pub fn get(&self, path: &str) -> Option<&SourceFile> {
        self.files.get(path).map(|f| &**f)
    }

    pub fn extend(&mut self, other: Sources) {
        self.files.extend(other.files);
    }
}

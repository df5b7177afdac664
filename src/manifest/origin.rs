//! Where a translated bundle came from: a bundle read from a format of its own (an Agent
//! Skill, a Claude Code plugin, an MCP Registry `server.json`) is checked as the
//! `bundle.toml` capm generates for it, and its diagnostics are then moved back into the
//! files the author wrote.
//!
//! An [`Origin`] holds those original files, a map from places in the generated files to
//! places in the originals, and the findings of the translation itself (what could not be
//! carried over). `validate` applies it; `formats` builds it.

use std::sync::Arc;

use super::span::{SourceFile, Span};
use crate::diagnostic::{Diagnostic, Location};

/// The original files of a translated bundle and how the generated ones map onto them.
#[derive(Clone, Debug, Default)]
pub struct Origin {
    /// The format's name as users know it: `agent-skill`, `skills`, `claude-plugin`,
    /// `server.json`.
    pub format: &'static str,
    /// The files the author wrote that diagnostics may point into, by display path.
    pub files: Vec<Arc<SourceFile>>,
    /// The file most diagnostics about the bundle as a whole belong in (an index of
    /// `files`): `plugin.json`, `SKILL.md`, `server.json`.
    pub main: usize,
    /// Places in generated files and where each came from.
    pub map: Vec<Mapped>,
    /// What the translation found: fields it could not carry over, components capm cannot
    /// install, malformed input. Located in `files` already.
    pub findings: Vec<Diagnostic>,
}

/// One generated range and the original range it was made from.
#[derive(Clone, Debug)]
pub struct Mapped {
    /// The generated file, relative to the bundle root (`bundle.toml`, `agents/x.md`).
    pub file: String,
    /// The range in the generated file.
    pub span: Span,
    /// An index of [`Origin::files`].
    pub to_file: usize,
    /// The range in the original, or `None` for the whole file.
    pub to_span: Option<Span>,
}

impl Origin {
    /// Adds an original file and returns its index.
    pub fn add_file(&mut self, file: Arc<SourceFile>) -> usize {
        if let Some(i) = self.files.iter().position(|f| f.path == file.path) {
            return i;
        }
        self.files.push(file);
        self.files.len() - 1
    }

    /// Records that `span` of the generated `file` was made from `to_span` of original
    /// `to_file`.
    pub fn map(&mut self, file: &str, span: Span, to_file: usize, to_span: Option<Span>) {
        self.map.push(Mapped {
            file: file.to_string(),
            span,
            to_file,
            to_span,
        });
    }

    /// Moves a diagnostic located in a generated file (`shown` gives a bundle file's display
    /// path) to the original place it came from: the narrowest mapped range holding it,
    /// shifted when the two ranges have the same length (text copied unchanged), else the
    /// whole original range. A diagnostic in `bundle.toml` no range holds goes to the main
    /// file, so nothing points at a file that does not exist.
    pub fn relocate(&self, d: &mut Diagnostic, shown: &dyn Fn(&str) -> String) {
        let Some(loc) = d.location.as_deref() else {
            return;
        };
        let at = loc.span;
        let mut best: Option<&Mapped> = None;
        for m in &self.map {
            if shown(&m.file) != loc.file {
                continue;
            }
            // A diagnostic about a generated file as a whole goes to the file it was made
            // from (a mapping from its start), never to one value of it.
            let holds = match at {
                Some(s) => m.span.start <= s.start && s.end <= m.span.end.max(m.span.start),
                None => m.span.start == 0 && m.to_span.is_none_or(|t| t.start == 0),
            };
            let narrower =
                best.is_none_or(|b| m.span.end - m.span.start < b.span.end - b.span.start);
            if holds && narrower {
                best = Some(m);
            }
        }
        let new = match best {
            Some(m) => self.place(m, at),
            None if loc.file == shown(super::tree::MANIFEST) => self.main_file(),
            None => return,
        };
        d.location = new.map(Box::new);
    }

    fn place(&self, m: &Mapped, at: Option<Span>) -> Option<Location> {
        let file = self.files.get(m.to_file)?;
        let (Some(to), Some(_)) = (m.to_span, at) else {
            return Some(Location::file(file.path.clone()));
        };
        let span = match at {
            Some(s) if m.span.end - m.span.start == to.end - to.start => Span::new(
                to.start + (s.start - m.span.start),
                to.start + (s.end - m.span.start),
            ),
            _ => to,
        };
        Some(Location::at(file, span))
    }

    fn main_file(&self) -> Option<Location> {
        let file = self.files.get(self.main)?;
        Some(Location::file(file.path.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn origin() -> Origin {
        let mut o = Origin::default();
        o.add_file(Arc::new(SourceFile::new(
            "kit/plugin.json",
            "{\n  \"name\": \"kit\"\n}",
        )));
        o.add_file(Arc::new(SourceFile::new(
            "kit/agents/a.md",
            "---\nx: 1\n---\nbody\n",
        )));
        // `name = "kit"` in the generated manifest came from `"kit"` on line 2.
        o.map("bundle.toml", Span::new(17, 22), 0, Some(Span::new(12, 17)));
        o.map("agents/a.md", Span::new(0, 18), 1, Some(Span::new(0, 18)));
        o
    }

    fn moved(o: &Origin, d: Diagnostic) -> Location {
        let mut d = d;
        o.relocate(&mut d, &|rel: &str| format!("kit/{rel}"));
        *d.location.unwrap()
    }

    #[test]
    fn diagnostics_move_to_where_the_generated_text_came_from() {
        let o = origin();
        let generated = SourceFile::new("kit/bundle.toml", "[bundle]\n# pad\nname = \"kit\"\n");
        let at_value = moved(
            &o,
            Diagnostic::new("x", "m").at(&generated, Span::new(17, 22)),
        );
        assert_eq!(
            (at_value.file.as_str(), at_value.line),
            ("kit/plugin.json", Some(2))
        );
        // About the manifest as a whole: the main file, not one value of it.
        let whole = moved(&o, Diagnostic::new("x", "m").in_file("kit/bundle.toml"));
        assert_eq!((whole.file.as_str(), whole.line), ("kit/plugin.json", None));
        // Text copied unchanged keeps its place.
        let copy = SourceFile::new("kit/agents/a.md", "---\nx: 1\n---\nbody\n");
        let body = moved(&o, Diagnostic::new("x", "m").at(&copy, Span::new(13, 17)));
        assert_eq!(
            (body.file.as_str(), body.line),
            ("kit/agents/a.md", Some(4))
        );
        let file = moved(&o, Diagnostic::new("x", "m").in_file("kit/agents/a.md"));
        assert_eq!((file.file.as_str(), file.line), ("kit/agents/a.md", None));
    }
}

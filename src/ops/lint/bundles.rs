//! Linting the bundles themselves. Each bundle is read, checked and reduced, in parallel,
//! to what the rest of lint needs: its diagnostics, the files they point into, and the few
//! facts the checks across bundles use. Its tree and manifest are dropped right away, on
//! the worker that checked it: memory holds a tree per worker, not every bundle linted.

use std::path::PathBuf;
use std::sync::Arc;

use rayon::prelude::*;

use super::{CheckedBundle, LintError, io_err};
use crate::diagnostic::Diagnostic;
use crate::manifest::span::{SourceFile, Spanned};
use crate::manifest::tree::BundleTree;
use crate::validate::{self, BundleFacts, Collisions};

/// A bundle to lint: built into capm, or a directory to read.
pub(super) enum Input {
    Embedded(BundleTree),
    Dir { dir: PathBuf, shown: String },
}

/// One linted bundle, once its tree and manifest are gone.
pub(super) struct Linted {
    pub bundle: CheckedBundle,
    /// Its own findings; then, once settled, the `requires` and NAME-001 ones.
    pub diagnostics: Vec<Diagnostic>,
    /// NAME-001 findings, found before the `requires` ones but reported after them.
    collisions: Vec<Diagnostic>,
    /// The files its diagnostics point into; none when it has no diagnostic.
    pub sources: Vec<Arc<SourceFile>>,
    facts: Option<BundleFacts>,
}

/// How many bundles are checked in parallel before their NAME-001 check, which goes in
/// linting order. Large enough to keep every core busy, small enough that the source files
/// a batch keeps until then are little memory.
const BATCH: usize = 256;

/// Lints every input, in order: each bundle on its own (in parallel), then NAME-001 and
/// `requires` across them all. A bundle directory that cannot be read stops lint with
/// the error of the first such input.
pub(super) fn lint_all(inputs: Vec<Input>) -> Result<Vec<Linted>, LintError> {
    let mut collisions = Collisions::default();
    let mut linted = Vec::with_capacity(inputs.len());
    let mut inputs = inputs.into_iter();
    let mut checked: Vec<Result<Linted, LintError>> = Vec::new();
    loop {
        let batch: Vec<Input> = inputs.by_ref().take(BATCH).collect();
        if batch.is_empty() && checked.is_empty() {
            break;
        }
        // The previous batch goes through NAME-001 while this one is checked.
        let (next, folded) = rayon::join(
            || batch.into_par_iter().map(lint_one).collect(),
            || fold(std::mem::take(&mut checked), &mut collisions, &mut linted),
        );
        folded?;
        checked = next;
    }
    // What NAME-001 remembered goes while `requires` are settled.
    rayon::join(|| drop(collisions), || settle_requires(&mut linted));
    Ok(linted)
}

/// Adds a checked batch to `linted`, in order, through NAME-001.
fn fold(
    checked: Vec<Result<Linted, LintError>>,
    collisions: &mut Collisions,
    linted: &mut Vec<Linted>,
) -> Result<(), LintError> {
    for l in checked {
        let mut l = l?;
        l.fold(collisions);
        linted.push(l);
    }
    Ok(())
}

fn lint_one(input: Input) -> Result<Linted, LintError> {
    match input {
        Input::Embedded(tree) => Ok(Linted::of(&tree)),
        Input::Dir { dir, shown } => {
            let options = crate::formats::Options::default();
            let tree = crate::formats::read_dir(&dir, shown, &options).map_err(io_err(&dir))?;
            Ok(Linted::of(&tree))
        }
    }
}

impl Linted {
    /// Checks one bundle on its own.
    fn of(tree: &BundleTree) -> Linted {
        let check = validate::check_bundle(tree);
        let facts = BundleFacts::of(&check, tree);
        let meta = check.manifest.as_ref().and_then(|m| m.bundle.as_ref());
        let text = |v: &Option<Spanned<String>>| v.as_ref().map(|s| s.value.clone());
        Linted {
            bundle: CheckedBundle {
                name: meta.and_then(|m| text(&m.name)),
                version: meta.and_then(|m| text(&m.version)),
                path: tree.display_root.clone(),
            },
            diagnostics: check.diagnostics,
            collisions: Vec::new(),
            sources: check.sources,
            facts,
        }
    }

    /// NAME-001 against the bundles before this one; then forgets what no later check
    /// needs, including the source files when nothing points into them.
    fn fold(&mut self, collisions: &mut Collisions) {
        if let Some(f) = &mut self.facts {
            self.collisions = collisions.check(f);
            f.collisions_done();
        }
        let open = self
            .facts
            .as_ref()
            .is_some_and(BundleFacts::has_open_requires);
        if self.diagnostics.is_empty() && self.collisions.is_empty() && !open {
            self.sources = Vec::new();
        }
    }
}

/// Adds each bundle's `requires` findings, then its NAME-001 ones, after its own.
fn settle_requires(linted: &mut [Linted]) {
    let facts: Vec<Option<&BundleFacts>> = linted.iter().map(|l| l.facts.as_ref()).collect();
    for (i, d) in validate::check_requires(&facts) {
        linted[i].diagnostics.push(d);
    }
    linted.par_iter_mut().for_each(|l| {
        l.diagnostics.append(&mut l.collisions);
        l.facts = None;
    });
}

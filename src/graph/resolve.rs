//! Version resolution: for each bundle name, the highest version that satisfies every
//! requirement on it, one version per name.
//!
//! The search is a depth-first backtracking over candidates, newest first (a version the
//! lock already records is tried first, so resolution is stable), choosing next the name
//! with the fewest remaining candidates. It is complete: when it reports a conflict, no
//! assignment satisfies every requirement. Optional dependencies are constraints only: they
//! bring nothing in, but bind the version of a bundle that is in the graph for another
//! reason. Prerelease versions match only requirements that name a prerelease.

use std::collections::BTreeMap;

use semver::{Version, VersionReq};

use super::GraphError;
use super::source::{Candidate, Sources};

/// What the project asks for directly.
#[derive(Clone, Debug)]
pub struct Request {
    pub name: String,
    pub req: VersionReq,
}

/// A requirement on a name, and who made it.
#[derive(Clone, Debug)]
struct Edge {
    req: VersionReq,
    optional: bool,
    /// The requiring bundle, or `None` for the project.
    from: Option<(String, Version)>,
}

/// One requirement in a conflict, with the chain of bundles that led to it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Blame {
    /// `project`, or `NAME VERSION`.
    pub requirer: String,
    pub req: String,
    /// From the project down to the requirer: `project → left ^1 → …`.
    pub chain: Vec<String>,
}

struct Solver<'a> {
    sources: &'a Sources,
    locked: &'a BTreeMap<String, Version>,
    decided: BTreeMap<String, &'a Candidate>,
    edges: BTreeMap<String, Vec<Edge>>,
    first_conflict: Option<GraphError>,
}

/// The chosen candidates, by name.
pub type Solution<'a> = BTreeMap<String, &'a Candidate>;

pub fn resolve<'a>(
    sources: &'a Sources,
    requests: &[Request],
    locked: &'a BTreeMap<String, Version>,
) -> Result<Solution<'a>, GraphError> {
    let _span = tracing::info_span!("resolve", requests = requests.len()).entered();
    let mut s = Solver {
        sources,
        locked,
        decided: BTreeMap::new(),
        edges: BTreeMap::new(),
        first_conflict: None,
    };
    for r in requests {
        s.edges.entry(r.name.clone()).or_default().push(Edge {
            req: r.req.clone(),
            optional: false,
            from: None,
        });
    }
    if s.search()? {
        for (name, c) in &s.decided {
            tracing::info!("picked {name} {} ({})", c.version, c.source);
        }
        Ok(s.decided)
    } else {
        Err(s
            .first_conflict
            .take()
            .expect("a failed search records its conflict"))
    }
}

impl<'a> Solver<'a> {
    /// Names some non-optional requirement brings into the graph.
    fn active(&self, name: &str) -> bool {
        self.edges.get(name).is_some_and(|es| {
            es.iter().any(|e| {
                !e.optional
                    && e.from
                        .as_ref()
                        .is_none_or(|(n, v)| self.decided.get(n).is_some_and(|c| &c.version == v))
            })
        })
    }

    fn matches(&self, name: &str, v: &Version) -> bool {
        self.edges
            .get(name)
            .is_none_or(|es| es.iter().all(|e| e.req.matches(v)))
    }

    /// Whether every requirement on `name` is `*`.
    fn only_star(&self, name: &str) -> bool {
        self.edges
            .get(name)
            .is_none_or(|es| es.iter().all(|e| e.req == VersionReq::STAR))
    }

    fn options(&self, name: &str) -> Result<Vec<&'a Candidate>, GraphError> {
        let mut cands: Vec<&Candidate> = self
            .sources
            .candidates(name)?
            .into_iter()
            .filter(|c| self.matches(name, &c.version) || (c.pinned && self.only_star(name)))
            // A yanked version only where capm.lock already has it (cargo's rule).
            .filter(|c| !c.yanked || self.locked.get(name) == Some(&c.version))
            .collect();
        if let Some(v) = self.locked.get(name)
            && let Some(i) = cands.iter().position(|c| &c.version == v)
        {
            let c = cands.remove(i);
            cands.insert(0, c);
        }
        Ok(cands)
    }

    /// Returns whether a solution was found; records the first conflict met otherwise.
    fn search(&mut self) -> Result<bool, GraphError> {
        // The undecided name with the fewest options next; ties by name for determinism.
        let mut next: Option<(usize, String, Vec<&'a Candidate>)> = None;
        let names: Vec<String> = self
            .edges
            .keys()
            .filter(|n| !self.decided.contains_key(*n))
            .cloned()
            .collect();
        for name in names {
            if !self.active(&name) {
                continue;
            }
            let opts = self.options(&name)?;
            if next.as_ref().is_none_or(|(k, _, _)| opts.len() < *k) {
                next = Some((opts.len(), name, opts));
            }
        }
        let Some((_, name, options)) = next else {
            return Ok(true);
        };
        if options.is_empty() {
            tracing::debug!("no version of {name} fits; backtracking");
            self.record_conflict(&name)?;
            return Ok(false);
        }
        let count = options.len();
        for cand in options {
            tracing::debug!("trying {name} {} (of {count} that fit)", cand.version);
            self.decided.insert(name.clone(), cand);
            let from = Some((cand.name.clone(), cand.version.clone()));
            let mut consistent = true;
            for d in &cand.deps {
                self.edges.entry(d.name.clone()).or_default().push(Edge {
                    req: d.req.clone(),
                    optional: d.optional,
                    from: from.clone(),
                });
                if let Some(chosen) = self.decided.get(&d.name)
                    && !d.req.matches(&chosen.version)
                {
                    consistent = false;
                }
            }
            if !consistent {
                let culprit = cand.deps.iter().find(|d| {
                    self.decided
                        .get(&d.name)
                        .is_some_and(|c| !d.req.matches(&c.version))
                });
                if let Some(d) = culprit {
                    let n = d.name.clone();
                    self.record_conflict(&n)?;
                }
            } else if self.search()? {
                return Ok(true);
            }
            for d in cand.deps.iter().rev() {
                let list = self.edges.get_mut(&d.name).expect("pushed above");
                list.pop();
                if list.is_empty() {
                    self.edges.remove(&d.name);
                }
            }
            self.decided.remove(&name);
        }
        Ok(false)
    }

    /// The chain of requirements from the project to `name`, as first brought in.
    fn chain_to(&self, name: &str, depth: usize) -> Vec<String> {
        let Some(edge) = self
            .edges
            .get(name)
            .and_then(|es| es.iter().find(|e| !e.optional))
        else {
            return vec!["project".into()];
        };
        let step = format!("{name} {}", edge.req);
        match (&edge.from, depth < 32) {
            (Some((n, _)), true) => {
                let mut c = self.chain_to(n, depth + 1);
                c.push(step);
                c
            }
            _ => vec!["project".into(), step],
        }
    }

    fn record_conflict(&mut self, name: &str) -> Result<(), GraphError> {
        if self.first_conflict.is_some() {
            return Ok(());
        }
        let all = self.sources.candidates(name)?;
        let blames: Vec<Blame> = self
            .edges
            .get(name)
            .into_iter()
            .flatten()
            .map(|e| {
                let (requirer, chain) = match &e.from {
                    None => ("project".to_string(), vec!["project".to_string()]),
                    Some((n, v)) => (format!("{n} {v}"), self.chain_to(n, 0)),
                };
                Blame {
                    requirer,
                    req: e.req.to_string(),
                    chain,
                }
            })
            .collect();
        self.first_conflict = Some(if all.is_empty() {
            GraphError::NotFound {
                name: name.to_string(),
                required_by: blames,
                suggestion: self.sources.suggest(name),
            }
        } else {
            GraphError::Conflict {
                name: name.to_string(),
                requirements: blames,
                available: all.iter().map(|c| c.version.to_string()).collect(),
            }
        });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use proptest::prelude::*;

    use super::*;
    use crate::graph::source::{Candidate, Dep, Sources};

    /// `("name", "1.0.0", &[("dep", "^1", optional)])`
    type Spec<'a> = (&'a str, &'a str, &'a [(&'a str, &'a str, bool)]);

    fn sources(specs: &[Spec<'_>]) -> Sources {
        Sources::from_candidates(
            specs
                .iter()
                .map(|(n, v, deps)| {
                    let deps = deps
                        .iter()
                        .map(|(d, r, o)| Dep {
                            name: d.to_string(),
                            req: VersionReq::parse(r).unwrap(),
                            optional: *o,
                        })
                        .collect();
                    Candidate::in_memory(n, Version::parse(v).unwrap(), deps)
                })
                .collect(),
        )
    }

    fn run(specs: &[Spec<'_>], roots: &[(&str, &str)]) -> Result<Vec<String>, GraphError> {
        let s = sources(specs);
        let requests: Vec<Request> = roots
            .iter()
            .map(|(n, r)| Request {
                name: n.to_string(),
                req: VersionReq::parse(r).unwrap(),
            })
            .collect();
        let locked = BTreeMap::new();
        resolve(&s, &requests, &locked).map(|sol| {
            sol.values()
                .map(|c| format!("{} {}", c.name, c.version))
                .collect()
        })
    }

    #[test]
    fn resolution_table() {
        struct Case<'a> {
            name: &'a str,
            registry: &'a [Spec<'a>],
            roots: &'a [(&'a str, &'a str)],
            expect: Result<&'a [&'a str], &'a str>,
        }
        let cases = [
            Case {
                name: "highest compatible version wins",
                registry: &[
                    ("a", "1.0.0", &[]),
                    ("a", "1.4.0", &[]),
                    ("a", "2.0.0", &[]),
                ],
                roots: &[("a", "^1")],
                expect: Ok(&["a 1.4.0"]),
            },
            Case {
                name: "diamond settles on a version both sides accept",
                registry: &[
                    ("left", "1.0.0", &[("base", "^1.1", false)]),
                    ("right", "1.0.0", &[("base", ">=1.0, <1.3", false)]),
                    ("base", "1.0.0", &[]),
                    ("base", "1.2.0", &[]),
                    ("base", "1.5.0", &[]),
                ],
                roots: &[("left", "*"), ("right", "*")],
                expect: Ok(&["base 1.2.0", "left 1.0.0", "right 1.0.0"]),
            },
            Case {
                name: "backtracks to an older version of a dependent",
                registry: &[
                    ("app", "2.0.0", &[("lib", "^2", false)]),
                    ("app", "1.0.0", &[("lib", "^1", false)]),
                    ("lib", "1.0.0", &[]),
                    ("pin", "1.0.0", &[("lib", "=1.0.0", false)]),
                ],
                roots: &[("app", "*"), ("pin", "*")],
                expect: Ok(&["app 1.0.0", "lib 1.0.0", "pin 1.0.0"]),
            },
            Case {
                name: "an optional dependency brings nothing in",
                registry: &[
                    ("a", "1.0.0", &[("extra", "^1", true)]),
                    ("extra", "1.0.0", &[]),
                ],
                roots: &[("a", "*")],
                expect: Ok(&["a 1.0.0"]),
            },
            Case {
                name: "an optional dependency binds a bundle that is there anyway",
                registry: &[
                    ("a", "1.0.0", &[("extra", "^1", true)]),
                    ("extra", "1.0.0", &[]),
                    ("extra", "2.0.0", &[]),
                ],
                roots: &[("a", "*"), ("extra", "*")],
                expect: Ok(&["a 1.0.0", "extra 1.0.0"]),
            },
            Case {
                name: "prereleases only when asked for",
                registry: &[("a", "1.0.0", &[]), ("a", "1.1.0-beta.1", &[])],
                roots: &[("a", "^1")],
                expect: Ok(&["a 1.0.0"]),
            },
            Case {
                name: "a prerelease when the requirement names one",
                registry: &[("a", "1.0.0", &[]), ("a", "1.1.0-beta.1", &[])],
                roots: &[("a", "^1.1.0-beta")],
                expect: Ok(&["a 1.1.0-beta.1"]),
            },
            Case {
                name: "conflicting requirements",
                registry: &[
                    ("left", "1.0.0", &[("base", "^1.0", false)]),
                    ("right", "1.0.0", &[("base", "^2.0", false)]),
                    ("base", "1.0.0", &[]),
                    ("base", "2.0.0", &[]),
                ],
                roots: &[("left", "^1"), ("right", "^1")],
                expect: Err(
                    "base: left 1.0.0 requires ^1.0 (project → left ^1); right 1.0.0 requires ^2.0 (project → right ^1)",
                ),
            },
            Case {
                name: "a missing bundle",
                registry: &[("a", "1.0.0", &[("ghost", "^1", false)])],
                roots: &[("a", "*")],
                expect: Err("not found: ghost"),
            },
        ];
        for case in cases {
            let got = run(case.registry, case.roots);
            match (case.expect, got) {
                (Ok(want), Ok(got)) => assert_eq!(got, want, "{}", case.name),
                (
                    Err(want),
                    Err(GraphError::Conflict {
                        name, requirements, ..
                    }),
                ) => {
                    let mut parts: Vec<String> = requirements
                        .iter()
                        .map(|b| {
                            format!(
                                "{} requires {} ({})",
                                b.requirer,
                                b.req,
                                b.chain.join(" → ")
                            )
                        })
                        .collect();
                    parts.sort();
                    assert_eq!(
                        format!("{name}: {}", parts.join("; ")),
                        want,
                        "{}",
                        case.name
                    );
                }
                (Err(want), Err(GraphError::NotFound { name, .. })) => {
                    assert_eq!(format!("not found: {name}"), want, "{}", case.name)
                }
                (want, got) => panic!("{}: wanted {want:?}, got {got:?}", case.name),
            }
        }
    }

    #[test]
    fn the_lock_keeps_a_version_that_still_fits() {
        let s = sources(&[("a", "1.0.0", &[]), ("a", "1.2.0", &[])]);
        let requests = [Request {
            name: "a".into(),
            req: VersionReq::parse("^1").unwrap(),
        }];
        let locked = BTreeMap::from([("a".to_string(), Version::parse("1.0.0").unwrap())]);
        let sol = resolve(&s, &requests, &locked).unwrap();
        assert_eq!(sol["a"].version.to_string(), "1.0.0");
        let stale = BTreeMap::from([("a".to_string(), Version::parse("0.9.0").unwrap())]);
        assert_eq!(
            resolve(&s, &requests, &stale).unwrap()["a"]
                .version
                .to_string(),
            "1.2.0"
        );
    }

    const NAMES: [&str; 4] = ["n0", "n1", "n2", "n3"];
    const VERSIONS: [&str; 5] = ["0.1.0", "1.0.0", "1.1.0", "2.0.0", "2.1.0-rc.1"];
    const REQS: [&str; 8] = ["^1", "^2", "~1.1", ">=1.0", "*", "=1.0.0", "^0.1", "<2"];

    /// A random small registry: each name has some of the versions; each version depends
    /// on some other names with random requirements, some optional.
    /// A dependency as indexes: (name, requirement, optional).
    type DepIdx = (usize, usize, bool);

    fn registry() -> impl Strategy<Value = Vec<(usize, usize, Vec<DepIdx>)>> {
        let version = (
            0..NAMES.len(),
            0..VERSIONS.len(),
            proptest::collection::vec(
                (0..NAMES.len(), 0..REQS.len(), proptest::bool::weighted(0.2)),
                0..3,
            ),
        );
        proptest::collection::vec(version, 1..12)
    }

    /// A chosen version of each chosen name, with that version's dependencies.
    type Chosen<'a> = BTreeMap<usize, (usize, &'a Vec<DepIdx>)>;

    fn valid(sol: &Chosen<'_>, roots: &[(usize, usize)]) -> bool {
        let ok = |n: &usize, r: &usize| {
            sol.get(n).is_some_and(|(v, _)| {
                VersionReq::parse(REQS[*r])
                    .unwrap()
                    .matches(&Version::parse(VERSIONS[*v]).unwrap())
            })
        };
        roots.iter().all(|(n, r)| ok(n, r))
            && sol.values().all(|(_, deps)| {
                deps.iter().all(|(d, r, optional)| {
                    if *optional && !sol.contains_key(d) {
                        true
                    } else {
                        ok(d, r)
                    }
                })
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(400))]
        #[test]
        fn solutions_satisfy_every_requirement_and_conflicts_are_real(
            reg in registry(),
            roots in proptest::collection::vec((0..NAMES.len(), 0..REQS.len()), 1..3),
        ) {
            // One entry per (name, version): the first one generated wins.
            let mut entries: BTreeMap<(usize, usize), Vec<DepIdx>> = BTreeMap::new();
            for (n, v, deps) in reg {
                let deps = deps.into_iter().filter(|(d, _, _)| *d != n).collect();
                entries.entry((n, v)).or_insert(deps);
            }
            let cands: Vec<Candidate> = entries.iter().map(|((n, v), deps)| {
                let deps = deps.iter().map(|(d, r, o)| Dep { name: NAMES[*d].into(), req: VersionReq::parse(REQS[*r]).unwrap(), optional: *o }).collect();
                Candidate::in_memory(NAMES[*n], Version::parse(VERSIONS[*v]).unwrap(), deps)
            }).collect();
            let s = Sources::from_candidates(cands);
            let requests: Vec<Request> = roots.iter().map(|(n, r)| Request { name: NAMES[*n].into(), req: VersionReq::parse(REQS[*r]).unwrap() }).collect();
            let locked = BTreeMap::new();
            match resolve(&s, &requests, &locked) {
                Ok(sol) => {
                    let chosen: Chosen<'_> = sol.values().map(|c| {
                        let n = NAMES.iter().position(|x| *x == c.name).unwrap();
                        let v = VERSIONS.iter().position(|x| *x == c.version.to_string()).unwrap();
                        (n, (v, &entries[&(n, v)]))
                    }).collect();
                    prop_assert!(valid(&chosen, &roots), "invalid solution {chosen:?}");
                }
                Err(GraphError::Conflict { .. } | GraphError::NotFound { .. }) => {
                    // Brute force: every name absent or at one of its versions.
                    let per_name: Vec<Vec<Option<usize>>> = (0..NAMES.len()).map(|n| {
                        let mut opts = vec![None];
                        opts.extend(entries.keys().filter(|(m, _)| *m == n).map(|(_, v)| Some(*v)));
                        opts
                    }).collect();
                    let mut idx = vec![0usize; NAMES.len()];
                    loop {
                        let chosen: Chosen<'_> = idx.iter().enumerate()
                            .filter_map(|(n, i)| per_name[n][*i].map(|v| (n, (v, &entries[&(n, v)]))))
                            .collect();
                        prop_assert!(!valid(&chosen, &roots), "a solution exists: {chosen:?}");
                        let mut k = 0;
                        while k < idx.len() { idx[k] += 1; if idx[k] < per_name[k].len() { break; } idx[k] = 0; k += 1; }
                        if k == idx.len() { break; }
                    }
                }
                Err(other) => prop_assert!(false, "unexpected error {other}"),
            }
        }
    }
}

//! What a run will do, decided once before it starts and handed to the
//! executor: the nodes selected, the resolver their `ref()`s use (with
//! `--defer`'s relations and the `graph` templates see), the models the SQL
//! check stopped, and the SQL of the models the check compiled, which the
//! run uses instead of compiling them again.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use crate::check::CheckReport;
use crate::compile::Compiled;
use crate::diagnostic::Diagnostic;
use crate::jinja::context::Resolver;

pub struct Plan {
    /// The nodes to run, by unique id.
    pub selected: BTreeSet<String>,
    /// What every `ref()` and `source()` resolves to in this run.
    pub resolver: Arc<Resolver>,
    /// Models that must not reach the database, with why: they fail, and
    /// what reads them is skipped.
    pub blocked: BTreeMap<String, Diagnostic>,
    /// Models compiled ahead of the run, by unique id.
    pub compiled: BTreeMap<String, Compiled>,
}

impl Plan {
    /// A plan to run `selected`, with what the SQL check found when it ran.
    pub fn new(
        selected: BTreeSet<String>,
        resolver: Arc<Resolver>,
        check: Option<CheckReport>,
    ) -> Plan {
        let (blocked, compiled) = match check {
            Some(report) => {
                let blocked = report
                    .errors
                    .into_iter()
                    .filter(|(id, _)| selected.contains(id))
                    .filter_map(|(id, diagnostics)| {
                        diagnostics.into_iter().next().map(|first| (id, first))
                    })
                    .collect();
                let mut compiled = report.compiled;
                compiled.retain(|id, _| selected.contains(id));
                (blocked, compiled)
            }
            None => Default::default(),
        };
        Plan {
            selected,
            resolver,
            blocked,
            compiled,
        }
    }
}

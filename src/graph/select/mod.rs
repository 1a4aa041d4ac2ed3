//! Node selection (`--select`, `--exclude`) with dbt's grammar: criteria
//! separated by spaces are a union, joined by commas an intersection; each
//! is `[@][n+]value[+n]`, where value is a name or fqn (`staging`,
//! `shop.marts.*`) or `method:value` (`tag:`, `path:`, `file:`, `fqn:`,
//! `config.<key>:`, `resource_type:`, `source:`, `test_type:`, `test_name:`,
//! `package:`). Tests come with the nodes they test (eager indirect
//! selection). Unknown methods are errors with a suggestion.

mod evaluate;
mod parse;

use std::collections::BTreeSet;

use super::Graph;
use super::state::State;
use crate::diagnostic::Diagnostic;
use crate::error::{Error, Result};
use crate::parse::Parsed;
use evaluate::{evaluate, with_tests};
use parse::{Criterion, parse_criterion, tokens};

/// What a selection picked, and a warning for each criterion that matched nothing.
#[derive(Debug, Default)]
pub struct Selection {
    /// The nodes picked.
    pub ids: BTreeSet<String>,
    /// The sources picked (`source:raw`, the sources upstream of `+x`, all
    /// of them when nothing is selected), which `ls` lists as dbt does.
    pub sources: BTreeSet<String>,
    pub warnings: Vec<Diagnostic>,
}

/// The unique ids that `select` (all nodes when empty) minus `exclude` picks.
/// A malformed criterion or an unknown method is an error; one that matches
/// nothing is a warning, as in dbt.
pub fn select(
    parsed: &Parsed,
    graph: &Graph,
    select: &[String],
    exclude: &[String],
) -> Result<Selection> {
    select_with(parsed, graph, select, exclude, &SelectOptions::default())
}

/// How tests come with the nodes they test (`--indirect-selection`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Indirect {
    /// A test comes when any node it tests is selected (dbt's default).
    #[default]
    Eager,
    /// Only when every node it tests is selected.
    Cautious,
    /// When every node it tests is selected or upstream of the selection.
    Buildable,
    /// Tests come only when selected themselves.
    Empty,
}

/// What else a selection depends on.
#[derive(Debug, Clone, Copy, Default)]
pub struct SelectOptions<'a> {
    /// An earlier run's artifacts, for `state:` and `result:`.
    pub state: Option<&'a State>,
    pub indirect: Indirect,
}

/// As `select`, with an earlier run's artifacts and an indirect-selection mode.
pub fn select_with(
    parsed: &Parsed,
    graph: &Graph,
    select: &[String],
    exclude: &[String],
    options: &SelectOptions<'_>,
) -> Result<Selection> {
    let state = options.state;
    let mut errors = Vec::new();
    let mut parse_all = |args: &[String]| -> Vec<Vec<(String, Criterion)>> {
        tokens(args)
            .map(|union_member| {
                union_member
                    .split(',')
                    .filter_map(|part| match parse_criterion(part) {
                        Ok(c)
                            if state.is_none()
                                && matches!(c.method.as_deref(), Some("state" | "result")) =>
                        {
                            errors.push(Error::Selector {
                                selector: part.to_string(),
                                message: format!(
                                    "`{}:` compares with an earlier run, and needs --state",
                                    c.method.as_deref().unwrap_or_default()
                                ),
                                help: Some("pass --state path/to/earlier/target".into()),
                            });
                            None
                        }
                        Ok(c) => Some((part.to_string(), c)),
                        Err(e) => {
                            errors.push(e);
                            None
                        }
                    })
                    .collect()
            })
            .collect()
    };
    let selected = parse_all(select);
    let excluded = parse_all(exclude);
    if let Some(error) = Error::from_many(errors) {
        return Err(error);
    }
    let mut warnings = Vec::new();
    let chosen: BTreeSet<String> = if select.is_empty() {
        parsed
            .nodes
            .keys()
            .chain(parsed.project.sources.keys())
            .cloned()
            .collect()
    } else {
        let (mut direct, mut indirect) = (BTreeSet::new(), BTreeSet::new());
        for intersection in &selected {
            let (d, i) = evaluate(
                parsed,
                graph,
                intersection,
                options.state,
                options.indirect,
                &mut warnings,
            );
            direct.extend(d);
            indirect.extend(i);
        }
        with_tests(parsed, graph, direct, indirect, options.indirect)
    };
    let (mut direct, mut indirect) = (BTreeSet::new(), BTreeSet::new());
    for intersection in &excluded {
        let (d, i) = evaluate(
            parsed,
            graph,
            intersection,
            options.state,
            options.indirect,
            &mut Vec::new(),
        );
        direct.extend(d);
        indirect.extend(i);
    }
    let dropped = with_tests(parsed, graph, direct, indirect, options.indirect);
    let (sources, ids) = chosen
        .difference(&dropped)
        .cloned()
        .partition(|id| parsed.project.sources.contains_key(id));
    Ok(Selection {
        ids,
        sources,
        warnings,
    })
}

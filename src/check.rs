//! The SQL check, between `graph` and `exec`: SQL checked before it runs.
//! It compiles the models a run selects (the run then uses that SQL: see
//! [`check_project`]) and, from the project's column lineage, gives an error for
//! each model that reads a column its upstream relation does not have (at
//! the line of the model's own file that names it), and a warning for each
//! model whose SQL kiln's parser cannot read (it runs unchecked: sqlparser
//! does not know every construct of every database, so this is never an
//! error).

use std::collections::BTreeMap;

use crate::diagnostic::{Code, Diagnostic};
use crate::error::Location;
use crate::lineage::project::ProjectLineage;
use crate::parse::Parsed;

/// What the check found.
#[derive(Debug, Default)]
pub struct CheckReport {
    /// Models that must not run, each with why.
    pub errors: BTreeMap<String, Vec<Diagnostic>>,
    /// Models whose SQL kiln's parser cannot read (they run unchecked).
    pub warnings: BTreeMap<String, Diagnostic>,
    /// The selected models compiled for the check whose SQL the run uses
    /// as it is (see [`check_project`]).
    pub compiled: BTreeMap<String, crate::compile::Compiled>,
}

pub fn check(parsed: &Parsed, lineage: &ProjectLineage) -> CheckReport {
    let mut report = CheckReport::default();
    for (id, unknown) in &lineage.unknown {
        let Some(node) = parsed.nodes.get(id) else {
            continue;
        };
        let file = parsed.project.display_path(&node.node.original_file_path);
        for reference in unknown {
            let upstream = reference.relation.last().cloned().unwrap_or_default();
            let upstream_name = upstream_display(parsed, &reference.relation).unwrap_or(upstream);
            let known = known_columns(lineage, parsed, &reference.relation);
            let location = match find_in_source(&node.node.raw_code, &reference.column) {
                Some((line, column)) => Location::at(&file, line, Some(column))
                    .spanning(reference.column.chars().count()),
                None => Location::file(&file),
            };
            let mut diagnostic = Diagnostic::error(
                Code::UnknownColumn,
                format!(
                    "{} reads column '{}' of {upstream_name}, which has no such column",
                    node.node.name, reference.column
                ),
            )
            .at(location)
            .with_label("no such column");
            if let Some(known) = known {
                diagnostic = diagnostic
                    .with_help(crate::diagnostic::did_you_mean(
                        &reference.column,
                        known.iter().map(String::as_str),
                    ))
                    .with_note(format!("{upstream_name} has: {}", known.join(", ")));
            }
            diagnostic = diagnostic.with_note(format!(
                "in the compiled SQL at line {}, column {}; `--no-check` runs it unchecked",
                reference.line, reference.column_number
            ));
            report
                .errors
                .entry(id.clone())
                .or_default()
                .push(diagnostic);
        }
    }
    for (id, failure) in &lineage.failures {
        let Some(node) = parsed.nodes.get(id) else {
            continue;
        };
        let compiled = parsed.compiled_path(node);
        let location = if failure.line > 0 {
            Location::at(
                &compiled,
                failure.line as usize,
                Some(failure.column as usize),
            )
        } else {
            Location::file(&compiled)
        };
        report.warnings.insert(
            id.clone(),
            Diagnostic::warning(
                Code::UnreadableSql,
                format!(
                    "kiln's SQL parser cannot read {} ({}); it runs unchecked",
                    node.node.name, failure.message
                ),
            )
            .at(location)
            .with_note(format!(
                "the model's file is {}",
                parsed
                    .project
                    .display_path(&node.node.original_file_path)
                    .display()
            )),
        );
    }
    report
}

/// The node or source whose relation a reference resolved to (by its name,
/// the last part), when it is one of the project's.
fn upstream_id(parsed: &Parsed, parts: &[String]) -> Option<String> {
    let last = parts.last()?;
    parsed
        .nodes
        .values()
        .find(|n| {
            n.relation
                .identifier
                .as_deref()
                .is_some_and(|i| i.eq_ignore_ascii_case(last))
        })
        .map(|n| n.node.unique_id.clone())
        .or_else(|| {
            parsed
                .project
                .sources
                .values()
                .find(|s| s.identifier.eq_ignore_ascii_case(last))
                .map(|s| s.unique_id.clone())
        })
}

/// The user's name for an upstream: a model's name, `source.table`.
fn upstream_display(parsed: &Parsed, parts: &[String]) -> Option<String> {
    let id = upstream_id(parsed, parts)?;
    match parsed.nodes.get(&id) {
        Some(node) => Some(node.node.name.clone()),
        None => parsed
            .project
            .sources
            .get(&id)
            .map(|s| format!("{}.{}", s.source_name, s.name)),
    }
}

fn known_columns(
    lineage: &ProjectLineage,
    parsed: &Parsed,
    parts: &[String],
) -> Option<Vec<String>> {
    lineage.columns.get(&upstream_id(parsed, parts)?).cloned()
}

/// The first place `word` is written as a whole word in `source` (1-based
/// line and column), outside `--` comments.
pub fn find_in_source(source: &str, word: &str) -> Option<(usize, usize)> {
    let pattern = regex::Regex::new(&format!(r"(?i)\b{}\b", regex::escape(word))).ok()?;
    for (i, line) in source.lines().enumerate() {
        let code = line.split("--").next().unwrap_or(line);
        if let Some(found) = pattern.find(code) {
            return Some((i + 1, code[..found.start()].chars().count() + 1));
        }
    }
    None
}

/// The check of the `selected` models (and the models they read, whose
/// columns they need), compiled as the run will compile them: with the
/// run's `resolver` and `connection` when there is one (so that macros that
/// read the catalog, `dbt_utils.star`, render as they will run), and each
/// selected model with the flags it runs with (an incremental model's
/// incremental branch is what is checked). A model that does not compile
/// here is left unchecked, never flagged.
///
/// The selected models whose render did not read the database come back in
/// [`CheckReport::compiled`]: the run uses that SQL and does not render them
/// again. One whose render did (its SQL may change once its parents are
/// rebuilt) renders again when it runs; so do the ephemeral models it read.
pub fn check_project(
    parsed: &Parsed,
    graph: &crate::graph::Graph,
    selected: &std::collections::BTreeSet<String>,
    resolver: &std::sync::Arc<crate::jinja::context::Resolver>,
    connection: Option<crate::adapter::SharedConnection>,
    full_refresh: bool,
) -> CheckReport {
    use crate::compile::{Compiled, compile_node_inlining, run_flags};
    use crate::jinja::context::{RunFlags, introspection};
    use crate::jinja::functions::capturing_log_output;
    use rayon::prelude::*;
    // The selected models and what they read: nothing else is compiled (its
    // macros may query the database).
    let mut wanted: std::collections::BTreeSet<&str> =
        selected.iter().map(String::as_str).collect();
    let mut queue: Vec<&str> = wanted.iter().copied().collect();
    while let Some(id) = queue.pop() {
        for parent in graph.parents.get(id).into_iter().flatten() {
            if wanted.insert(parent.as_str()) {
                queue.push(parent.as_str());
            }
        }
    }
    let models: Vec<&crate::parse::ParsedNode> = wanted
        .iter()
        .filter_map(|id| parsed.nodes.get(*id))
        .filter(|n| {
            matches!(
                n.node.kind,
                crate::project::node::NodeKind::Model | crate::project::node::NodeKind::Snapshot
            )
        })
        .collect();
    let rendered: Vec<(String, Compiled, introspection::Seen)> = models
        .par_iter()
        .filter_map(|node| {
            let id = &node.node.unique_id;
            let runs = selected.contains(id);
            let flags = match (&connection, runs) {
                (Some(connection), true) => run_flags(node, connection, full_refresh).ok()?,
                _ => RunFlags::default(),
            };
            // Its log() lines are shown when it runs, not now.
            let ((compiled, seen), log) = capturing_log_output(|| {
                introspection::watch(|| {
                    compile_node_inlining(parsed, resolver, node, connection.clone(), flags)
                })
            });
            let (sql, inlined) = compiled.ok()?;
            let compiled = Compiled {
                flags,
                sql,
                log,
                inlined,
            };
            Some((id.clone(), compiled, seen))
        })
        .collect();
    // Ephemeral SQL that read the database renders again in the run, and
    // so does every model that inlines it (whichever model rendered it
    // first, the others found it cached).
    let stale = resolver.forget_database_reads();
    let mut checked = BTreeMap::new();
    let mut reusable = BTreeMap::new();
    for (id, compiled, seen) in rendered {
        // Rendered against a parent not built yet (a fresh schema), the SQL
        // is not what will run: unchecked, like one that fails here.
        if !seen.missing_relation {
            checked.insert(id.clone(), compiled.sql.clone());
        }
        // Without a connection, what a query would have given is missing.
        let inlines_stale = compiled.inlined.iter().any(|e| stale.contains(e));
        if connection.is_some() && !seen.read_database && !inlines_stale && selected.contains(&id) {
            reusable.insert(id, compiled);
        }
    }
    let lineage = crate::lineage::project::analyze(parsed, graph, &checked, None);
    let mut report = check(parsed, &lineage);
    report.compiled = reusable;
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_a_whole_word_not_a_part_of_one() {
        let source = "select\n  amount_total,\n  o.amount\nfrom x";
        assert_eq!(find_in_source(source, "amount"), Some((3, 5)));
        assert_eq!(find_in_source(source, "AMOUNT_TOTAL"), Some((2, 3)));
        assert_eq!(find_in_source(source, "missing"), None);
        // Lowercasing changes some characters' length: no panic, the right column.
        assert_eq!(
            find_in_source("-- İİ id\nselect İ, id", "id"),
            Some((2, 11))
        );
    }
}

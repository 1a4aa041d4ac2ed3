//! SQL checked before it runs: from a project's column lineage, an error for
//! each model that reads a column its upstream relation does not have (at
//! the line of the model's own file that names it), and a warning for each
//! model whose SQL kiln's parser cannot read (it runs unchecked: sqlparser
//! does not know every construct of every database, so this is never an
//! error).

use std::collections::BTreeMap;

use super::project::ProjectLineage;
use crate::diagnostic::{Code, Diagnostic};
use crate::error::Location;
use crate::parse::Parsed;

/// What the check found.
#[derive(Debug, Default)]
pub struct CheckReport {
    /// Models that must not run, each with why.
    pub errors: BTreeMap<String, Vec<Diagnostic>>,
    /// Models whose SQL kiln's parser cannot read (they run unchecked).
    pub warnings: BTreeMap<String, Diagnostic>,
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
        let compiled = crate::compile::compiled_path(parsed, node);
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
/// columns they need), compiled as `build` compiles them: with
/// `connection` when there is one, so that macros that read the catalog
/// (`dbt_utils.star`) render as they will run. A model that does not
/// compile here is left unchecked, never flagged.
pub fn check_project(
    parsed: &Parsed,
    graph: &crate::graph::Graph,
    selected: &std::collections::BTreeSet<String>,
    connection: Option<crate::adapter::SharedConnection>,
) -> CheckReport {
    use rayon::prelude::*;
    let resolver = crate::compile::resolver(parsed);
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
    let compiled: BTreeMap<String, String> = models
        .par_iter()
        .filter_map(|node| {
            // The build renders each model again when it runs it; its log()
            // lines are printed then, not twice.
            let (compiled, read_missing) = crate::jinja::context::introspection::watch(|| {
                crate::jinja::functions::without_log_output(|| {
                    crate::compile::compile_node(
                        parsed,
                        &resolver,
                        node,
                        connection.clone(),
                        crate::jinja::context::RunFlags::default(),
                    )
                })
            });
            // Rendered against a parent not built yet (a fresh schema), the
            // SQL is not what will run: unchecked, like one that fails here.
            if read_missing {
                return None;
            }
            compiled.ok().map(|sql| (node.node.unique_id.clone(), sql))
        })
        .collect();
    let lineage = super::project::analyze(parsed, graph, &compiled, None);
    check(parsed, &lineage)
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

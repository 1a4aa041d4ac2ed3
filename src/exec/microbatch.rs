//! Running a microbatch model (dbt 1.9): one batch after another, each its
//! own transaction through the incremental materialization, with a line
//! for the output each; the model's result says which batches were built and which
//! failed, so `kiln retry` builds only those again.

use chrono::Utc;

use super::{BatchLine, BatchResults, ExecOptions, NodeResult, Status, error_result, node_result};
use crate::adapter::SharedConnection;
use crate::diagnostic::{Code, Diagnostic};
use crate::error::Location;
use crate::exec::plan::Plan;
use crate::materialize::microbatch::{self, Batch};
use crate::materialize::{NodeFailure, materialize};
use crate::parse::Parsed;

/// Builds the batches of the microbatch model `id`.
pub(super) fn run(
    parsed: &Parsed,
    plan: &Plan,
    id: &str,
    connection: SharedConnection,
    exec: &ExecOptions,
) -> NodeResult {
    let node = &parsed.nodes[id];
    let settings = match microbatch::settings(&node.node.config) {
        Ok(settings) => settings,
        Err(message) => {
            let file = parsed.project.display_path(&node.node.original_file_path);
            let failure =
                NodeFailure::new(Diagnostic::error(Code::Config, message).at(Location::file(file)));
            return error_result(parsed, id, &failure, 0.0);
        }
    };
    let options = exec.materialize;
    let incremental = match crate::compile::run_flags(node, &connection, options.full_refresh) {
        Ok(flags) => flags.is_incremental,
        Err(e) => return error_result(parsed, id, &NodeFailure::from_error(&e), 0.0),
    };
    let retrying = exec.retry_batches.contains_key(id);
    let batches: Vec<Batch> = match exec.retry_batches.get(id) {
        Some(windows) => windows
            .iter()
            .map(|(start, end)| Batch {
                start: *start,
                end: *end,
                size: settings.size,
            })
            .collect(),
        None => microbatch::window(
            &settings,
            incremental,
            exec.event_time.0,
            exec.event_time.1,
            Utc::now(),
        ),
    };
    let display = format!(
        "{}.{}",
        node.relation.schema.as_deref().unwrap_or_default(),
        node.relation.identifier()
    );
    let total = batches.len();
    let mut results = BatchResults::default();
    let mut first_error = None;
    let mut exists = incremental;
    for (index, batch) in batches.iter().enumerate() {
        let label = format!("batch {} of {display}", batch.label());
        // A table not built yet: its first batch builds it, and when that
        // fails there is nothing for the others to go into (dbt skips them).
        if !exists && index > 0 && results.successful.is_empty() {
            results
                .lines
                .push(BatchLine::new(index, total, "SKIP", label, None));
            results.failed.push((batch.start, batch.end));
            continue;
        }
        if crate::cancel::cancelled() {
            results.failed.push((batch.start, batch.end));
            continue;
        }
        let started = std::time::Instant::now();
        let batch_options = crate::materialize::Options {
            // Only the first batch replaces the table (never a retried one:
            // the batches built before are kept).
            full_refresh: options.full_refresh && index == 0 && !retrying,
            batch: Some(*batch),
            ..options
        };
        match materialize(
            parsed,
            &plan.resolver,
            node,
            connection.clone(),
            batch_options,
            None,
        ) {
            Ok(_) => {
                exists = true;
                results.successful.push((batch.start, batch.end));
                results.lines.push(BatchLine::new(
                    index,
                    total,
                    "OK",
                    format!("created {label}"),
                    Some(started.elapsed().as_secs_f64()),
                ));
            }
            Err(failure) => {
                results.failed.push((batch.start, batch.end));
                let mut line = BatchLine::new(
                    index,
                    total,
                    "ERROR",
                    format!("creating {label}"),
                    Some(started.elapsed().as_secs_f64()),
                );
                line.diagnostic = Some(*failure.diagnostic.clone());
                results.lines.push(line);
                first_error.get_or_insert(failure);
            }
        }
    }
    let mut result = match (&first_error, results.successful.is_empty() && total > 0) {
        (Some(failure), true) => error_result(parsed, id, failure, 0.0),
        (Some(_), false) => node_result(
            parsed,
            id,
            Status::PartialSuccess,
            "PARTIAL SUCCESS".into(),
            0.0,
        ),
        (None, _) => node_result(parsed, id, Status::Success, "SUCCESS".into(), 0.0),
    };
    result.materialized = "microbatch".into();
    result.batch_results = Some(results);
    result
}

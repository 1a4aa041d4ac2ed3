//! How results, warnings and errors are printed.

use std::io::Write;

use crate::exec::{NodeResult, RunResults, Status};
use crate::secrets;

/// Prints a line of results to stdout. A closed pipe (`kiln ls | head`) is
/// not an error worth a panic: the rest of the output is dropped.
pub fn line(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{text}");
}

pub fn error(error: &crate::Error) {
    eprintln!("error: {}", secrets::redact(&error.to_string()));
}

pub fn warning(message: &str) {
    eprintln!("warning: {}", secrets::redact(message));
}

/// One line a finished node: ` 3 of 11 OK    view model main.stg_orders ...... [CREATE VIEW in 0.01s]`.
pub fn node_line(result: &NodeResult, index: usize, total: usize) {
    let status = match result.status {
        Status::Success => "OK",
        Status::Error => "ERROR",
        Status::Skipped => "SKIP",
    };
    let width = total.to_string().len();
    let label = match result.kind {
        crate::project::node::NodeKind::Seed => format!("seed {}", result.display_name),
        crate::project::node::NodeKind::Model => {
            format!("{} model {}", result.materialized, result.display_name)
        }
    };
    let dots = ".".repeat(60usize.saturating_sub(label.len()).max(3));
    let detail = match result.status {
        Status::Success => format!("[{} in {:.2}s]", result.message, result.seconds),
        Status::Error => format!("[ERROR in {:.2}s]", result.seconds),
        Status::Skipped => "[SKIP]".to_string(),
    };
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "{index:>width$} of {total} {status:<5} {label} {dots} {detail}"
    );
    if result.status == Status::Error {
        for line in secrets::redact(&result.message).lines() {
            let _ = writeln!(out, "    {line}");
        }
    }
    let _ = out.flush();
}

/// `Finished 11 nodes in 0.42s: 10 succeeded, 1 failed, 0 skipped.`
pub fn summary(results: &RunResults) {
    line(&format!(
        "\nFinished {} node{} in {:.2}s: {} succeeded, {} failed, {} skipped.",
        results.results.len(),
        if results.results.len() == 1 { "" } else { "s" },
        results.elapsed,
        results.count(Status::Success),
        results.count(Status::Error),
        results.count(Status::Skipped),
    ));
}

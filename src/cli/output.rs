//! How results, warnings and errors are printed: results to stdout,
//! diagnostics to stderr as miette reports (`--log-format text`, the
//! default) or everything to stdout as one JSON object a line
//! (`--log-format json`). Under GitHub Actions (`GITHUB_ACTIONS=true`)
//! diagnostics are also printed as workflow commands, which Actions shows as
//! annotations on the file and line.

use std::io::{IsTerminal, Write};
use std::sync::OnceLock;

use clap::ValueEnum;

use crate::diagnostic::{Diagnostic, render};
use crate::exec::{NodeResult, RunResults, Status};
use crate::project::node::NodeKind;
use crate::secrets;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

/// How many diagnostics are printed at most; the rest are counted.
const MAX_DIAGNOSTICS: usize = 50;

static FORMAT: OnceLock<LogFormat> = OnceLock::new();

pub fn set_format(format: LogFormat) {
    let _ = FORMAT.set(format);
}

/// How much is printed: `-q` only problems, `-v` also where each node's SQL is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Verbosity {
    pub quiet: bool,
    pub verbose: bool,
    pub no_color: bool,
}

static VERBOSITY: OnceLock<Verbosity> = OnceLock::new();

pub fn set_verbosity(verbosity: Verbosity) {
    let _ = VERBOSITY.set(verbosity);
}

fn verbosity() -> Verbosity {
    VERBOSITY.get().copied().unwrap_or_default()
}

fn format() -> LogFormat {
    FORMAT.get().copied().unwrap_or_default()
}

fn github_actions() -> bool {
    std::env::var("GITHUB_ACTIONS").is_ok_and(|v| v == "true")
}

fn color() -> bool {
    !verbosity().no_color
        && std::env::var_os("NO_COLOR").is_none()
        && std::io::stderr().is_terminal()
}

/// Prints a line of results to stdout. A closed pipe (`kiln ls | head`) is
/// not an error worth a panic: the rest of the output is dropped.
pub fn line(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{text}");
}

/// With `-v`: how much of the project was rendered and how much partial
/// parsing took from the last parse.
pub fn parse_stats(stats: &crate::parse::ParseStats) {
    if !verbosity().verbose || format() == LogFormat::Json {
        return;
    }
    let total = stats.rendered + stats.reused;
    match stats.not_reused {
        Some(reason) => line(&format!(
            "Parsed {total} node{}, all rendered: {reason}",
            if total == 1 { "" } else { "s" }
        )),
        None => line(&format!(
            "Partial parse: rendered {} of {total} nodes, {} unchanged since the last parse",
            stats.rendered, stats.reused
        )),
    }
}

/// With `-v`: how many renders compiling the run's nodes took (each node
/// compiles once: the SQL check's render is the one the run uses, unless it
/// read the database).
pub fn compile_renders(renders: usize) {
    if !verbosity().verbose || format() == LogFormat::Json {
        return;
    }
    line(&format!(
        "Compiling took {renders} render{} of nodes",
        if renders == 1 { "" } else { "s" }
    ));
}

/// One JSON event on stdout.
fn event(value: serde_json::Value) {
    line(&value.to_string());
}

pub fn diagnostic(d: &Diagnostic) {
    match format() {
        LogFormat::Json => line(&render::json(d)),
        LogFormat::Text => {
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "{}", render::human(d, color()));
        }
    }
    if github_actions() {
        line(&render::github(d));
    }
}

/// Prints every diagnostic of `error` (up to a limit) and how many there were.
pub fn error(error: &crate::Error) {
    let diagnostics: Vec<Diagnostic> = error.into();
    for d in diagnostics.iter().take(MAX_DIAGNOSTICS) {
        diagnostic(d);
    }
    let count = diagnostics.len();
    if count > MAX_DIAGNOSTICS {
        note(&format!(
            "... and {} more error(s) not shown",
            count - MAX_DIAGNOSTICS
        ));
    }
    if count > 1 {
        note(&format!("{count} errors found"));
    }
}

/// `Running on-run-start hook 1 of 2 ........ [OK in 0.01s]`.
pub fn hook_line(kind: &str, index: usize, total: usize, seconds: f64, ok: bool) {
    let status = if ok { "OK" } else { "ERROR" };
    if format() == LogFormat::Json {
        event(serde_json::json!({
            "event": "hook_finished",
            "hook": kind,
            "index": index + 1,
            "total": total,
            "status": status,
            "execution_time": seconds,
        }));
        return;
    }
    let label = format!("{kind} hook {} of {total}", index + 1);
    let dots = ".".repeat(60usize.saturating_sub(label.len()).max(3));
    line(&format!(
        "Running {label} {dots} [{status} in {seconds:.2}s]"
    ));
}

/// `1 of 2 WARN freshness of raw.orders ..... [WARN in 0.01s]`.
pub fn freshness_line(result: &crate::freshness::FreshnessResult, index: usize, total: usize) {
    use crate::freshness::FreshnessStatus;
    let status = match result.status {
        FreshnessStatus::Pass => "PASS",
        FreshnessStatus::Warn => "WARN",
        FreshnessStatus::Error => "ERROR STALE",
        FreshnessStatus::RuntimeError => "ERROR",
    };
    if format() == LogFormat::Json {
        event(serde_json::json!({
            "event": "freshness_checked",
            "index": index,
            "total": total,
            "unique_id": result.unique_id,
            "status": result.status.as_str(),
            "max_loaded_at": result.max_loaded_at,
            "max_loaded_at_time_ago_in_s": result.age_seconds,
        }));
    } else {
        let width = total.to_string().len();
        let label = format!("freshness of {}", result.name);
        let dots = ".".repeat(60usize.saturating_sub(label.len()).max(3));
        line(&format!(
            "{index:>width$} of {total} {status:<5} {label} {dots} [{status} in {:.2}s]",
            result.seconds
        ));
    }
    if let Some(d) = &result.diagnostic {
        diagnostic(d);
    }
}

/// A line of commentary on stderr (a JSON event in JSON mode).
pub fn note(text: &str) {
    match format() {
        LogFormat::Json => event(serde_json::json!({"level": "info", "message": text})),
        LogFormat::Text => eprintln!("{text}"),
    }
}

/// One line a finished node: ` 3 of 11 OK    view model main.stg_orders ...... [CREATE VIEW in 0.01s]`,
/// ` 5 of 11 FAIL 2 unique_orders_order_id ...... [FAIL 2 in 0.02s]`.
pub fn node_line(result: &NodeResult, index: usize, total: usize) {
    if format() == LogFormat::Json {
        event(serde_json::json!({
            "event": "node_finished",
            "index": index,
            "total": total,
            "unique_id": result.unique_id,
            "resource_type": result.kind.resource_type(),
            "status": result.status.as_str(),
            "failures": result.failures,
            "execution_time": result.seconds,
            "message": secrets::redact(&result.message),
        }));
        if let Some(d) = &result.diagnostic {
            diagnostic(d);
        }
        return;
    }
    let problem = matches!(
        result.status,
        Status::Error | Status::Fail | Status::Warn | Status::PartialSuccess
    );
    if verbosity().quiet && !problem {
        return;
    }
    for batch in result.batch_results.iter().flat_map(|b| &b.lines) {
        let dots = ".".repeat(60usize.saturating_sub(batch.label.len()).max(3));
        let detail = match batch.seconds {
            Some(seconds) => format!("[{} in {seconds:.2}s]", batch.status),
            None => "[SKIP]".to_string(),
        };
        line(&format!(
            "Batch {} of {} {:<5} {} {dots} {detail}",
            batch.index, batch.total, batch.status, batch.label
        ));
        if let Some(d) = &batch.diagnostic {
            diagnostic(d);
        }
    }
    let failures = result.failures.unwrap_or(0);
    let status = match result.status {
        Status::Success => "OK".to_string(),
        Status::Error => "ERROR".to_string(),
        Status::Skipped => "SKIP".to_string(),
        Status::Pass => "PASS".to_string(),
        Status::Warn => format!("WARN {failures}"),
        Status::Fail => format!("FAIL {failures}"),
        Status::NoOp => "NO-OP".to_string(),
        Status::PartialSuccess => "PARTIAL SUCCESS".to_string(),
    };
    let width = total.to_string().len();
    let label = match result.kind {
        NodeKind::Seed => format!("seed {}", result.display_name),
        NodeKind::Test => format!("test {}", result.name),
        // dbt: `PASS orders::test_x`, and `SKIP unit_test test_x`.
        NodeKind::UnitTest if result.status == Status::Skipped => {
            format!("unit_test {}", result.name)
        }
        NodeKind::UnitTest => result.display_name.clone(),
        NodeKind::Snapshot => format!("snapshot {}", result.display_name),
        NodeKind::Model | NodeKind::Analysis => {
            format!("{} model {}", result.materialized, result.display_name)
        }
        // dbt: `NO-OP exposure weekly_dashboard`, `NO-OP saved query x`.
        other => format!(
            "{} {}",
            other.resource_type().replace('_', " "),
            result.name
        ),
    };
    let dots = ".".repeat(60usize.saturating_sub(label.len()).max(3));
    let detail = match result.status {
        Status::Success => format!("[{} in {:.2}s]", result.message, result.seconds),
        Status::Skipped => "[SKIP]".to_string(),
        _ => format!("[{status} in {:.2}s]", result.seconds),
    };
    let text = format!("{index:>width$} of {total} {status:<5} {label} {dots} {detail}");
    match progress() {
        Some(bar) => {
            bar.println(text);
            bar.set_position(index as u64);
        }
        None => {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{text}");
            let _ = out.flush();
        }
    }
    if verbosity().verbose
        && let Some(path) = &result.compiled_path
        && result.status != Status::Skipped
    {
        line(&format!("      compiled SQL: {}", path.display()));
    }
    if let Some(d) = &result.diagnostic {
        diagnostic(d);
    }
}

static PROGRESS: std::sync::Mutex<Option<indicatif::ProgressBar>> = std::sync::Mutex::new(None);

fn progress() -> Option<indicatif::ProgressBar> {
    PROGRESS.lock().ok()?.clone()
}

/// On a terminal, a progress bar under the node lines for a run of `total`
/// nodes (not in JSON mode, not with `-q`, not when output is piped).
pub fn start_progress(total: usize) {
    let on_terminal = std::io::stdout().is_terminal() && std::io::stderr().is_terminal();
    if format() != LogFormat::Text || verbosity().quiet || !on_terminal || total < 2 {
        return;
    }
    let bar = indicatif::ProgressBar::new(total as u64);
    if let Ok(style) =
        indicatif::ProgressStyle::with_template("{elapsed_precise} [{bar:40}] {pos}/{len} nodes")
    {
        bar.set_style(style.progress_chars("=> "));
    }
    if let Ok(mut slot) = PROGRESS.lock() {
        *slot = Some(bar);
    }
}

fn finish_progress() {
    if let Ok(mut slot) = PROGRESS.lock()
        && let Some(bar) = slot.take()
    {
        bar.finish_and_clear();
    }
}

/// The end of a run: what failed or warned, then dbt's count line,
/// `Done. PASS=16 WARN=4 ERROR=2 SKIP=1 TOTAL=23`, where PASS counts built
/// nodes and passed tests, and ERROR errors and failed tests.
pub fn summary(results: &RunResults) {
    finish_progress();
    let pass = results.count(Status::Success) + results.count(Status::Pass);
    let warn = results.count(Status::Warn);
    let error = results.count(Status::Error)
        + results.count(Status::Fail)
        + results.count(Status::PartialSuccess);
    let skip = results.count(Status::Skipped);
    // dbt 1.10 counts its no-ops (exposures, saved queries) too.
    let no_ops = results.count(Status::NoOp);
    let no_op = if no_ops > 0 {
        format!(" NO-OP={no_ops}")
    } else {
        String::new()
    };
    let total = results.results.len();
    if format() == LogFormat::Json {
        event(serde_json::json!({
            "event": "summary",
            "elapsed_time": results.elapsed,
            "pass": pass,
            "warn": warn,
            "error": error,
            "skip": skip,
            "total": total,
        }));
        return;
    }
    let mut text = format!(
        "\nFinished running {total} node{} in {:.2}s.\n",
        if total == 1 { "" } else { "s" },
        results.elapsed
    );
    let mut notable: Vec<&NodeResult> = results
        .results
        .iter()
        .filter(|r| {
            matches!(
                r.status,
                Status::Error | Status::Fail | Status::Warn | Status::PartialSuccess
            )
        })
        .collect();
    notable.sort_by_key(|r| (r.status == Status::Warn, r.unique_id.clone()));
    if !notable.is_empty() {
        text.push_str(&format!(
            "\nCompleted with {error} error{} and {warn} warning{}:\n",
            if error == 1 { "" } else { "s" },
            if warn == 1 { "" } else { "s" },
        ));
        for r in notable {
            let what = match r.status {
                Status::Warn => "Warning in",
                Status::Fail => "Failure in",
                _ => "Error in",
            };
            let message = secrets::redact(&r.message).replace('\n', "\n    ");
            text.push_str(&format!(
                "\n  {what} {} {} ({})\n    {message}\n",
                r.kind.resource_type(),
                r.name,
                r.file,
            ));
            if let Some(path) = &r.compiled_path
                && r.kind.is_test()
            {
                text.push_str(&format!("    compiled code at {}\n", path.display()));
            }
        }
        text.push('\n');
    }
    text.push_str(&format!(
        "Done. PASS={pass} WARN={warn} ERROR={error} SKIP={skip}{no_op} TOTAL={total}"
    ));
    if verbosity().quiet {
        // Only the problems, when there are any.
        if let Some(start) = text.find("\nCompleted with") {
            let end = text.rfind("Done. PASS=").unwrap_or(text.len());
            line(text[start..end].trim_end());
        }
        return;
    }
    line(&text);
}

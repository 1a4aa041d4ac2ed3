//! The executor: runs a [`Plan`] (what is selected, the run's resolver, the
//! models the check blocked, the SQL compiled ahead) in dependency order
//! ([`order`]) on worker threads, each with its own connection, decides each
//! test's status, and skips whatever is downstream of an error or a failed
//! test.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use chrono::{DateTime, Utc};

use crate::adapter::{Adapter, SharedConnection};
use crate::config::NodeConfig;
use crate::diagnostic::Diagnostic;
use crate::error::{Error, Result};
use crate::graph::Graph;
use crate::materialize::unit_test::{UnitOutcome, run_unit_test};
use crate::materialize::{Options, TestCounts, materialize};
use crate::parse::Parsed;
use crate::project::node::NodeKind;
use crate::secrets;
use order::Order;
pub use plan::Plan;

use crate::cancel;
mod microbatch;
pub mod order;
pub mod plan;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// A model or seed was built.
    Success,
    /// It could not be built, or a test's query failed.
    Error,
    Skipped,
    /// A test found no failures worth a warning.
    Pass,
    /// A test's failures met `error_if` (or `warn_if` with `--warn-error`).
    Fail,
    /// A test's failures met `warn_if`.
    Warn,
    /// Nothing to do: an exposure or a saved query in a build.
    NoOp,
    /// Some of a microbatch model's batches failed, the others were built.
    PartialSuccess,
}

impl Status {
    /// The status in run_results.json.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Success => "success",
            Status::Error => "error",
            Status::Skipped => "skipped",
            Status::Pass => "pass",
            Status::Fail => "fail",
            Status::Warn => "warn",
            Status::NoOp => "no-op",
            Status::PartialSuccess => "partial success",
        }
    }

    /// Whether what runs after it must be skipped.
    pub fn is_failure(self) -> bool {
        matches!(self, Status::Error | Status::Fail)
    }
}

#[derive(Debug, Clone)]
pub struct NodeResult {
    pub unique_id: String,
    pub name: String,
    pub kind: NodeKind,
    /// The relation built, as SQL (for a test, where it stored its failures).
    pub relation: Option<String>,
    /// `schema.identifier`, as dbt prints it.
    pub display_name: String,
    pub materialized: String,
    pub status: Status,
    pub seconds: f64,
    /// What happened: `CREATE VIEW`, the error, or why it was skipped.
    pub message: String,
    /// A test's failure count.
    pub failures: Option<i64>,
    /// Why it failed, to show the user.
    pub diagnostic: Option<Diagnostic>,
    pub compiled_code: Option<String>,
    /// When it started and finished (RFC 3339), when it ran.
    pub timing: Option<(String, String)>,
    pub thread_id: String,
    /// The node's file, as the user sees it.
    pub file: String,
    /// Where its compiled SQL is (models and tests).
    pub compiled_path: Option<std::path::PathBuf>,
    /// A microbatch model's batches.
    pub batch_results: Option<BatchResults>,
}

#[derive(Debug, Clone, Default)]
pub struct RunResults {
    pub results: Vec<NodeResult>,
    pub elapsed: f64,
    /// An on-run-start or on-run-end hook failed.
    pub hooks_failed: bool,
    /// Ctrl-C stopped the run.
    pub cancelled: bool,
}

impl RunResults {
    pub fn count(&self, status: Status) -> usize {
        self.results.iter().filter(|r| r.status == status).count()
    }

    /// Whether anything errored or failed: the run exits 1.
    /// Whether the run failed: a node failed, or some of a microbatch
    /// model's batches did (dbt exits 1 on a partial success too).
    pub fn failed(&self) -> bool {
        self.results
            .iter()
            .any(|r| r.status.is_failure() || r.status == Status::PartialSuccess)
    }
}

/// How to run.
#[derive(Debug, Clone, Default)]
pub struct ExecOptions {
    pub threads: usize,
    pub materialize: Options,
    /// Stop at the first error or failure; the rest is skipped.
    pub fail_fast: bool,
    /// Whether nodes wait for the tests of the nodes they read (`build`).
    pub tests_gate: bool,
    /// `--event-time-start` and `--event-time-end`.
    pub event_time: (Option<DateTime<Utc>>, Option<DateTime<Utc>>),
    /// `kiln retry`: the batches each microbatch model builds again.
    pub retry_batches: RetryBatches,
}

/// The windows (start, end) to build again, by microbatch model.
pub type RetryBatches = BTreeMap<String, Vec<(DateTime<Utc>, DateTime<Utc>)>>;

/// A microbatch model's batches: which were built and which failed (as
/// run_results.json records them), and a line for the output each.
#[derive(Debug, Clone, Default)]
pub struct BatchResults {
    pub successful: Vec<(DateTime<Utc>, DateTime<Utc>)>,
    pub failed: Vec<(DateTime<Utc>, DateTime<Utc>)>,
    pub lines: Vec<BatchLine>,
}

/// `Batch 2 of 3 OK created batch 2024-01-02 of main.daily`, as dbt prints it.
#[derive(Debug, Clone)]
pub struct BatchLine {
    pub index: usize,
    pub total: usize,
    pub status: &'static str,
    pub label: String,
    pub seconds: Option<f64>,
    pub diagnostic: Option<Diagnostic>,
}

impl BatchLine {
    fn new(
        index: usize,
        total: usize,
        status: &'static str,
        label: String,
        seconds: Option<f64>,
    ) -> BatchLine {
        BatchLine {
            index: index + 1,
            total,
            status,
            label,
            seconds,
            diagnostic: None,
        }
    }
}

/// Runs what `plan` selected of `graph`; `report` hears of each node as it
/// finishes, with its position and the total.
pub fn run(
    parsed: &Parsed,
    graph: &Graph,
    plan: &Plan,
    adapter: &dyn Adapter,
    options: ExecOptions,
    report: &mut dyn FnMut(&NodeResult, usize, usize),
) -> Result<RunResults> {
    let started = Instant::now();
    let selected = &plan.selected;
    let total = selected.len();
    if total == 0 {
        return Ok(RunResults::default());
    }
    let threads = options.threads.clamp(1, total);
    cancel::protect_database_work();
    let mut connections: Vec<SharedConnection> = Vec::with_capacity(threads);
    for _ in 0..threads {
        connections.push(Arc::new(Mutex::new(adapter.connect()?)));
    }
    create_schemas(parsed, selected, &connections[0])?;
    let order = Order::new(parsed, graph, selected, options.tests_gate);

    let mut waiting: BTreeMap<&str, usize> = order
        .deps
        .iter()
        .map(|(id, ds)| (id.as_str(), ds.len()))
        .collect();
    // Tests first among the ready nodes, so a model's tests run right after it.
    let key = |id: &str| {
        let node = &parsed.nodes[id].node;
        (
            node.kind != NodeKind::Test,
            node.name.clone(),
            id.to_string(),
        )
    };
    let mut ready: BinaryHeap<Reverse<(bool, String, String)>> = waiting
        .iter()
        .filter(|(_, n)| **n == 0)
        .map(|(id, _)| Reverse(key(id)))
        .collect();

    let (job_tx, job_rx) = crossbeam_channel::unbounded::<String>();
    let (done_tx, done_rx) = crossbeam_channel::unbounded::<NodeResult>();
    let mut results = Vec::with_capacity(total);
    let mut finished_ids: BTreeSet<String> = BTreeSet::new();
    let mut skipped: BTreeSet<String> = BTreeSet::new();

    std::thread::scope(|scope| {
        for (index, connection) in connections.iter().enumerate() {
            let job_rx = job_rx.clone();
            let done_tx = done_tx.clone();
            let thread_id = format!("Thread-{}", index + 1);
            let options = &options;
            scope.spawn(move || {
                // Why this worker has no connection: its connection was
                // lost and the one attempt to open a new one failed.
                let mut unconnected: Option<Box<Diagnostic>> = None;
                while let Ok(id) = job_rx.recv() {
                    if cancel::cancelled() {
                        let skip =
                            skipped_result(parsed, &id, "skipped: cancelled (Ctrl-C)".into());
                        if done_tx.send(skip).is_err() {
                            break;
                        }
                        continue;
                    }
                    if unconnected.is_none() {
                        unconnected = reconnect_if_lost(adapter, connection).err();
                    }
                    if let Some(why) = &unconnected {
                        let failed = NodeResult {
                            diagnostic: Some(*why.clone()),
                            ..node_result(parsed, &id, Status::Error, why.summary(), 0.0)
                        };
                        if done_tx.send(failed).is_err() {
                            break;
                        }
                        continue;
                    }
                    // A bug in one node must not hang the run: it becomes that node's error.
                    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        run_node(parsed, plan, &id, connection.clone(), options, &thread_id)
                    }))
                    .unwrap_or_else(|_| {
                        node_result(
                            parsed,
                            &id,
                            Status::Error,
                            "internal error: kiln panicked while running this node".into(),
                            0.0,
                        )
                    });
                    if done_tx.send(result).is_err() {
                        break;
                    }
                }
            });
        }
        drop(done_tx);

        let mut in_flight = 0;
        let mut finished = 0;
        let mut stopped_by: Option<String> = None;
        loop {
            while stopped_by.is_none()
                && let Some(Reverse((_, _, id))) = ready.pop()
            {
                if skipped.contains(&id) {
                    continue;
                }
                if job_tx.send(id).is_ok() {
                    in_flight += 1;
                }
            }
            if in_flight == 0 {
                break;
            }
            let result = match done_rx.recv_timeout(std::time::Duration::from_millis(100)) {
                Ok(result) => result,
                Err(crossbeam_channel::RecvTimeoutError::Timeout) => {
                    // The Ctrl-C handler interrupted what runs (its
                    // transaction rolls back); nothing new starts.
                    if cancel::cancelled() {
                        stopped_by.get_or_insert_with(|| "Ctrl-C was pressed".to_string());
                    }
                    continue;
                }
                Err(crossbeam_channel::RecvTimeoutError::Disconnected) => break,
            };
            in_flight -= 1;
            finished += 1;
            report(&result, finished, total);
            let failed = result.status.is_failure();
            let id = result.unique_id.clone();
            finished_ids.insert(id.clone());
            results.push(result);
            if failed {
                let what = describe_upstream(parsed, &id);
                for child in order.downstream(&id) {
                    if skipped.insert(child.clone()) {
                        finished += 1;
                        let skip = skipped_result(parsed, &child, format!("skipped: {what}"));
                        report(&skip, finished, total);
                        results.push(skip);
                    }
                }
                if options.fail_fast && stopped_by.is_none() {
                    stopped_by = Some(what);
                }
            }
            for child in order.dependents.get(&id).into_iter().flatten() {
                if let Some(n) = waiting.get_mut(child.as_str()) {
                    *n -= 1;
                    if *n == 0 && !skipped.contains(child) {
                        ready.push(Reverse(key(child)));
                    }
                }
            }
        }
        drop(job_tx);
        if let Some(what) = stopped_by {
            for id in selected {
                if !finished_ids.contains(id) && skipped.insert(id.clone()) {
                    finished += 1;
                    let skip = skipped_result(
                        parsed,
                        id,
                        if cancel::cancelled() {
                            "skipped: cancelled (Ctrl-C)".to_string()
                        } else {
                            format!("skipped: --fail-fast stopped the run when {what}")
                        },
                    );
                    report(&skip, finished, total);
                    results.push(skip);
                }
            }
        }
    });
    Ok(RunResults {
        results,
        elapsed: started.elapsed().as_secs_f64(),
        hooks_failed: false,
        cancelled: cancel::cancelled(),
    })
}

/// Replaces a worker's connection when it was lost (the server ended the
/// session, the network dropped): one new connection for the next node, no
/// retries. The error says why none could be opened.
fn reconnect_if_lost(
    adapter: &dyn Adapter,
    connection: &SharedConnection,
) -> std::result::Result<(), Box<Diagnostic>> {
    let mut current = connection.lock().unwrap_or_else(|p| p.into_inner());
    if !current.is_lost() {
        return Ok(());
    }
    match adapter.connect() {
        Ok(fresh) => {
            *current = fresh;
            Ok(())
        }
        Err(e) => Err(Box::new(Diagnostic::error(
            crate::diagnostic::Code::Database,
            secrets::redact(&format!(
                "not run: this worker lost its connection to the database and could not open a new one: {e}"
            )),
        ))),
    }
}

/// `upstream model orders failed`, `test unique_orders_id failed`.
fn describe_upstream(parsed: &Parsed, id: &str) -> String {
    let node = &parsed.nodes[id].node;
    match node.kind {
        NodeKind::Test => format!("test {} failed", node.name),
        NodeKind::UnitTest => format!("unit test {} failed", node.name),
        kind => format!("upstream {} {} failed", kind.resource_type(), node.name),
    }
}

fn skipped_result(parsed: &Parsed, id: &str, message: String) -> NodeResult {
    node_result(parsed, id, Status::Skipped, message, 0.0)
}

/// Builds (or tests) one node and says how it went.
fn run_node(
    parsed: &Parsed,
    plan: &Plan,
    id: &str,
    connection: SharedConnection,
    exec: &ExecOptions,
    thread_id: &str,
) -> NodeResult {
    let options = exec.materialize;
    let node = &parsed.nodes[id];
    let start = Instant::now();
    let started_at = now();
    if node.node.kind.is_declared_resource() {
        let mut result = node_result(parsed, id, Status::NoOp, "NO-OP".into(), 0.0);
        result.timing = Some((started_at, now()));
        result.thread_id = thread_id.to_string();
        return result;
    }
    if node.node.kind == NodeKind::Model
        && crate::materialize::microbatch::is_microbatch(&node.node.config)
        && !plan.blocked.contains_key(id)
    {
        let mut result = microbatch::run(parsed, plan, id, connection, exec);
        result.seconds = start.elapsed().as_secs_f64();
        result.timing = Some((started_at, now()));
        result.thread_id = thread_id.to_string();
        return result;
    }
    if node.node.kind == NodeKind::UnitTest && !plan.blocked.contains_key(id) {
        let outcome = run_unit_test(parsed, &plan.resolver, node, connection);
        let mut result = unit_test_result(parsed, id, outcome, start.elapsed().as_secs_f64());
        result.timing = Some((started_at, now()));
        result.thread_id = thread_id.to_string();
        return result;
    }
    let outcome = match plan.blocked.get(id) {
        Some(diagnostic) => Err(crate::materialize::NodeFailure {
            diagnostic: Box::new(diagnostic.clone()),
            run_file: None,
        }),
        None => materialize(
            parsed,
            &plan.resolver,
            node,
            connection,
            options,
            plan.compiled.get(id),
        ),
    };
    let seconds = start.elapsed().as_secs_f64();
    let timing = Some((started_at, now()));
    let mut result = match outcome {
        Ok(done) => {
            let mut result = node_result(parsed, id, Status::Success, done.message, seconds);
            if let Some(counts) = done.test {
                let (status, message) = test_status(&node.node.config, counts, options.warn_error);
                result.status = status;
                result.message = message;
                // As dbt: the count is reported for failures and warnings only.
                result.failures = Some(match status {
                    Status::Fail | Status::Warn => counts.failures,
                    _ => 0,
                });
                result.relation = done.relation;
            }
            result.compiled_code = done.compiled_code;
            result
        }
        Err(failure) => error_result(parsed, id, &failure, seconds),
    };
    result.timing = timing;
    result.thread_id = thread_id.to_string();
    result
}

/// A unit test's result: `pass`, `fail` with the diff as its message, or
/// the error that stopped it.
fn unit_test_result(
    parsed: &Parsed,
    id: &str,
    outcome: std::result::Result<UnitOutcome, crate::materialize::NodeFailure>,
    seconds: f64,
) -> NodeResult {
    match outcome {
        Ok(unit) if unit.passed => NodeResult {
            compiled_code: Some(unit.compiled_code),
            failures: Some(0),
            ..node_result(parsed, id, Status::Pass, "PASS".into(), seconds)
        },
        // As a failed data test: the summary shows the message, the diff.
        Ok(unit) => NodeResult {
            compiled_code: Some(unit.compiled_code),
            failures: Some(1),
            ..node_result(parsed, id, Status::Fail, unit.diff, seconds)
        },
        Err(failure) => error_result(parsed, id, &failure, seconds),
    }
}

/// A node that could not be built or run: its error, the secrets masked.
fn error_result(
    parsed: &Parsed,
    id: &str,
    failure: &crate::materialize::NodeFailure,
    seconds: f64,
) -> NodeResult {
    NodeResult {
        diagnostic: Some(*failure.diagnostic.clone()),
        ..node_result(
            parsed,
            id,
            Status::Error,
            secrets::redact(&failure.diagnostic.summary()),
            seconds,
        )
    }
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

/// dbt's verdict on a test: with severity `error`, `error_if` is checked
/// first, then `warn_if`; with severity `warn` only `warn_if`. The message
/// is dbt's: `Got 3 results, configured to fail if != 0`.
pub fn test_status(config: &NodeConfig, counts: TestCounts, warn_error: bool) -> (Status, String) {
    let condition = |key: &str| match config.get(key) {
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
        None => "!= 0".to_string(),
    };
    let severity = config.get_str("severity").unwrap_or("error");
    let got = format!(
        "Got {} result{}",
        counts.failures,
        if counts.failures == 1 { "" } else { "s" }
    );
    if severity.eq_ignore_ascii_case("error") && counts.should_error {
        (
            Status::Fail,
            format!("{got}, configured to fail if {}", condition("error_if")),
        )
    } else if counts.should_warn {
        if warn_error {
            (
                Status::Fail,
                format!("{got}, configured to fail if {}", condition("warn_if")),
            )
        } else {
            (
                Status::Warn,
                format!("{got}, configured to warn if {}", condition("warn_if")),
            )
        }
    } else {
        (Status::Pass, "PASS".to_string())
    }
}

fn node_result(
    parsed: &Parsed,
    id: &str,
    status: Status,
    message: String,
    seconds: f64,
) -> NodeResult {
    let node = &parsed.nodes[id];
    NodeResult {
        unique_id: id.to_string(),
        name: node.node.name.clone(),
        kind: node.node.kind,
        relation: node
            .node
            .kind
            .builds_relation()
            .then(|| node.relation.render()),
        display_name: match &node.node.unit {
            // As dbt prints a unit test: `orders::test_name`.
            Some(unit) => unit.shown_as.clone(),
            None => format!(
                "{}.{}",
                node.relation.schema.as_deref().unwrap_or_default(),
                node.relation.identifier()
            ),
        },
        materialized: match node.node.kind {
            NodeKind::Test => "test".into(),
            NodeKind::UnitTest => "unit".into(),
            NodeKind::Model | NodeKind::Analysis => node.node.config.materialized().to_string(),
            other => other.resource_type().into(),
        },
        status,
        seconds,
        message,
        failures: None,
        diagnostic: None,
        compiled_code: None,
        timing: None,
        thread_id: String::new(),
        file: parsed
            .project
            .display_path(&node.node.original_file_path)
            .display()
            .to_string(),
        compiled_path: node.node.kind.has_sql().then(|| parsed.compiled_path(node)),
        batch_results: None,
    }
}

/// Creates every schema the selected nodes are built in, once each (before
/// the on-run-start hooks, as dbt does, and again when the run starts).
pub fn create_schemas(
    parsed: &Parsed,
    selected: &BTreeSet<String>,
    connection: &SharedConnection,
) -> Result<()> {
    // A test has a schema only when it stores its failures.
    let schemas: BTreeSet<(String, String)> = selected
        .iter()
        .map(|id| &parsed.nodes[id])
        .filter(|n| {
            n.node.kind.builds_relation()
                || n.node
                    .config
                    .get("store_failures")
                    .and_then(serde_json::Value::as_bool)
                    .unwrap_or(false)
        })
        .map(|n| &n.relation)
        .filter_map(|r| Some((r.database.clone()?, r.schema.clone()?)))
        .collect();
    let mut conn = connection.lock().unwrap_or_else(|p| p.into_inner());
    for (database, schema) in schemas {
        conn.create_schema(&database, &schema).map_err(|e| {
            Error::connection(format!("cannot create schema {database}.{schema}: {e}"))
        })?;
        // Before any node runs, so that no worker's open transaction is missed.
        conn.prefetch_relations(&database, &schema).map_err(|e| {
            Error::connection(format!(
                "cannot read the catalog of {database}.{schema}: {e}"
            ))
        })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(pairs: &[(&str, &str)]) -> NodeConfig {
        let mut config = NodeConfig::default();
        for (k, v) in pairs {
            config.merge(k, serde_json::Value::String(v.to_string()));
        }
        config
    }

    fn counts(failures: i64, should_warn: bool, should_error: bool) -> TestCounts {
        TestCounts {
            failures,
            should_warn,
            should_error,
        }
    }

    #[test]
    fn error_if_is_checked_before_warn_if() {
        let c = config(&[("warn_if", ">0"), ("error_if", ">5")]);
        assert_eq!(
            test_status(&c, counts(7, true, true), false),
            (
                Status::Fail,
                "Got 7 results, configured to fail if >5".into()
            )
        );
        assert_eq!(
            test_status(&c, counts(1, true, false), false),
            (
                Status::Warn,
                "Got 1 result, configured to warn if >0".into()
            )
        );
        assert_eq!(
            test_status(&c, counts(0, false, false), false).0,
            Status::Pass
        );
    }

    #[test]
    fn severity_warn_ignores_error_if_and_warn_error_fails_warnings() {
        let c = config(&[("severity", "warn")]);
        assert_eq!(
            test_status(&c, counts(3, true, true), false).0,
            Status::Warn
        );
        assert_eq!(
            test_status(&c, counts(3, true, true), true),
            (
                Status::Fail,
                "Got 3 results, configured to fail if != 0".into()
            )
        );
    }
}

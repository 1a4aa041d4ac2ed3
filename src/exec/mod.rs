//! The executor: runs the selected nodes in dependency order on worker
//! threads, each with its own connection, and skips whatever is downstream
//! of a failure.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use crate::adapter::{Adapter, SharedConnection};
use crate::compile::resolver;
use crate::diagnostic::Diagnostic;
use crate::error::{Error, Result};
use crate::graph::Graph;
use crate::materialize::{Options, materialize};
use crate::parse::Parsed;
use crate::project::node::NodeKind;
use crate::secrets;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Success,
    Error,
    Skipped,
}

impl Status {
    /// The status in run_results.json.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Success => "success",
            Status::Error => "error",
            Status::Skipped => "skipped",
        }
    }
}

#[derive(Debug, Clone)]
pub struct NodeResult {
    pub unique_id: String,
    pub name: String,
    pub kind: NodeKind,
    /// The relation built, as SQL.
    pub relation: String,
    /// `schema.identifier`, as dbt prints it.
    pub display_name: String,
    pub materialized: String,
    pub status: Status,
    pub seconds: f64,
    /// What happened: `CREATE VIEW`, the error, or why it was skipped.
    pub message: String,
    /// Why it failed, to show the user.
    pub diagnostic: Option<Diagnostic>,
}

#[derive(Debug, Clone, Default)]
pub struct RunResults {
    pub results: Vec<NodeResult>,
    pub elapsed: f64,
}

impl RunResults {
    pub fn count(&self, status: Status) -> usize {
        self.results.iter().filter(|r| r.status == status).count()
    }
}

/// Runs `selected` (unique ids) of `graph`; `report` hears of each node as it
/// finishes, with its position and the total.
pub fn run(
    parsed: &Parsed,
    graph: &Graph,
    selected: &BTreeSet<String>,
    adapter: &dyn Adapter,
    threads: usize,
    options: Options,
    report: &mut dyn FnMut(&NodeResult, usize, usize),
) -> Result<RunResults> {
    let started = Instant::now();
    let total = selected.len();
    if total == 0 {
        return Ok(RunResults::default());
    }
    let threads = threads.clamp(1, total);
    let mut connections: Vec<SharedConnection> = Vec::with_capacity(threads);
    for _ in 0..threads {
        connections.push(Arc::new(Mutex::new(adapter.connect()?)));
    }
    create_schemas(parsed, selected, &connections[0])?;
    let resolver = resolver(parsed);

    // Parents that are themselves selected; the rest are taken to exist.
    let parents: BTreeMap<&str, BTreeSet<&str>> = selected
        .iter()
        .map(|id| {
            let ps = graph.parents[id]
                .iter()
                .filter(|p| selected.contains(*p))
                .map(String::as_str)
                .collect();
            (id.as_str(), ps)
        })
        .collect();
    let mut waiting: BTreeMap<&str, usize> =
        parents.iter().map(|(id, ps)| (*id, ps.len())).collect();
    let key = |id: &str| (parsed.nodes[id].node.name.clone(), id.to_string());
    let mut ready: BinaryHeap<Reverse<(String, String)>> = waiting
        .iter()
        .filter(|(_, n)| **n == 0)
        .map(|(id, _)| Reverse(key(id)))
        .collect();

    let (job_tx, job_rx) = crossbeam_channel::unbounded::<String>();
    let (done_tx, done_rx) = crossbeam_channel::unbounded::<NodeResult>();
    let mut results = Vec::with_capacity(total);
    let mut skipped: BTreeSet<String> = BTreeSet::new();

    std::thread::scope(|scope| {
        for connection in &connections {
            let job_rx = job_rx.clone();
            let done_tx = done_tx.clone();
            let resolver = resolver.clone();
            scope.spawn(move || {
                while let Ok(id) = job_rx.recv() {
                    let node = &parsed.nodes[&id];
                    let start = Instant::now();
                    let outcome = materialize(parsed, &resolver, node, connection.clone(), options);
                    let seconds = start.elapsed().as_secs_f64();
                    let result = match outcome {
                        Ok(done) => {
                            node_result(parsed, &id, Status::Success, done.message, seconds)
                        }
                        Err(failure) => NodeResult {
                            diagnostic: Some(*failure.diagnostic.clone()),
                            ..node_result(
                                parsed,
                                &id,
                                Status::Error,
                                secrets::redact(&failure.diagnostic.summary()),
                                seconds,
                            )
                        },
                    };
                    if done_tx.send(result).is_err() {
                        break;
                    }
                }
            });
        }
        drop(done_tx);

        let mut in_flight = 0;
        let mut finished = 0;
        loop {
            while let Some(Reverse((_, id))) = ready.pop() {
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
            let Ok(result) = done_rx.recv() else { break };
            in_flight -= 1;
            finished += 1;
            report(&result, finished, total);
            let failed = result.status == Status::Error;
            let id = result.unique_id.clone();
            results.push(result);
            if failed {
                for child in graph.descendants(&id) {
                    if selected.contains(&child) && skipped.insert(child.clone()) {
                        finished += 1;
                        let skip = node_result(
                            parsed,
                            &child,
                            Status::Skipped,
                            format!("skipped: upstream {} failed", parsed.nodes[&id].node.name),
                            0.0,
                        );
                        report(&skip, finished, total);
                        results.push(skip);
                    }
                }
            }
            for child in graph.children.get(&id).into_iter().flatten() {
                if let Some(n) = waiting.get_mut(child.as_str()) {
                    *n -= 1;
                    if *n == 0 && !skipped.contains(child) {
                        ready.push(Reverse(key(child)));
                    }
                }
            }
        }
        drop(job_tx);
    });
    Ok(RunResults {
        results,
        elapsed: started.elapsed().as_secs_f64(),
    })
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
        relation: node.relation.render(),
        display_name: format!(
            "{}.{}",
            node.relation.schema.as_deref().unwrap_or_default(),
            node.relation.identifier()
        ),
        materialized: match node.node.kind {
            NodeKind::Seed => "seed".into(),
            NodeKind::Model => node.node.config.materialized().to_string(),
        },
        status,
        seconds,
        message,
        diagnostic: None,
    }
}

/// Creates every schema the selected nodes are built in, once each.
fn create_schemas(
    parsed: &Parsed,
    selected: &BTreeSet<String>,
    connection: &SharedConnection,
) -> Result<()> {
    let schemas: BTreeSet<(String, String)> = selected
        .iter()
        .map(|id| &parsed.nodes[id].relation)
        .filter_map(|r| Some((r.database.clone()?, r.schema.clone()?)))
        .collect();
    let mut conn = connection.lock().unwrap_or_else(|p| p.into_inner());
    for (database, schema) in schemas {
        conn.create_schema(&database, &schema).map_err(|e| {
            Error::connection(format!("cannot create schema {database}.{schema}: {e}"))
        })?;
    }
    Ok(())
}

//! The limit kiln is measured against: the statements a `kiln build` ran,
//! replayed straight through the database crate — in dependency order, on
//! the same number of threads, one connection each, one transaction per
//! node as kiln has — with no templating, graph or catalog work around them.
//!
//! The statements come from the build itself: `target/run/` holds, for
//! every node, the SQL kiln sent, and `target/manifest.json` the edges.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

/// One node to replay.
pub struct Step {
    /// The SQL statements, in the order kiln sent them.
    statements: Vec<Statement>,
    /// Indexes of the steps that must finish first.
    after: Vec<usize>,
}

enum Statement {
    Sql(String),
    /// A seed's rows, loaded as kiln loads them: batched `INSERT`s.
    LoadCsv {
        relation: String,
        csv: PathBuf,
    },
}

/// Reads the replay plan of the project in `dir` from its last build.
pub fn plan(dir: &Path) -> Vec<Step> {
    let manifest: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("target/manifest.json")).expect("a kiln build ran"),
    )
    .unwrap();
    let nodes = manifest["nodes"].as_object().unwrap();
    let ids: Vec<&String> = nodes.keys().collect();
    let index: BTreeMap<&str, usize> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| (id.as_str(), i))
        .collect();
    let mut steps: Vec<Step> = Vec::new();
    for id in &ids {
        let node = &nodes[id.as_str()];
        let mut run_file = dir
            .join("target/run")
            .join(node["package_name"].as_str().unwrap())
            .join(node["original_file_path"].as_str().unwrap());
        if node["resource_type"] == "test" {
            run_file = run_file.join(node["path"].as_str().unwrap());
        }
        let seed = (node["resource_type"] == "seed")
            .then(|| dir.join(node["original_file_path"].as_str().unwrap()));
        let statements = match std::fs::read_to_string(&run_file) {
            Ok(text) => statements(&text, seed),
            // Ephemeral models run nothing of their own.
            Err(_) => Vec::new(),
        };
        let after = node["depends_on"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|d| index.get(d.as_str()?).copied())
            .collect();
        steps.push(Step { statements, after });
    }
    gate_on_tests(
        &mut steps,
        nodes
            .values()
            .map(|n| n["resource_type"] == "test")
            .collect(),
    );
    steps
}

/// `kiln build` (like `dbt build`) starts a node only after the tests of
/// the nodes it reads have passed: a test gates the nodes downstream of all
/// the nodes it tests. The replay waits for them too.
fn gate_on_tests(steps: &mut [Step], is_test: Vec<bool>) {
    let mut children: Vec<Vec<usize>> = vec![Vec::new(); steps.len()];
    for (i, step) in steps.iter().enumerate() {
        for &parent in &step.after {
            children[parent].push(i);
        }
    }
    let downstream_of = |from: usize, to: usize| {
        let mut stack = vec![from];
        let mut seen = vec![false; steps.len()];
        while let Some(node) = stack.pop() {
            for &child in &children[node] {
                if child == to {
                    return true;
                }
                if !seen[child] {
                    seen[child] = true;
                    stack.push(child);
                }
            }
        }
        false
    };
    let mut gates: Vec<(usize, usize)> = Vec::new();
    for (test, step) in steps.iter().enumerate().filter(|(t, _)| is_test[*t]) {
        for &parent in &step.after {
            for &child in &children[parent] {
                let gated = !is_test[child]
                    && step
                        .after
                        .iter()
                        .all(|&q| q == parent || downstream_of(q, child));
                if gated {
                    gates.push((child, test));
                }
            }
        }
    }
    for (node, test) in gates {
        steps[node].after.push(test);
    }
}

fn statements(text: &str, seed: Option<PathBuf>) -> Vec<Statement> {
    text.split(";\n\n")
        .map(|s| s.trim().trim_end_matches(';').trim())
        .filter(|s| !s.is_empty())
        .map(|s| {
            match s
                .strip_prefix("-- ")
                .and_then(|s| s.split_once(" rows loaded into "))
            {
                Some((_, relation)) => Statement::LoadCsv {
                    relation: relation.to_string(),
                    csv: seed.clone().expect("rows are loaded only by seeds"),
                },
                None => Statement::Sql(s.to_string()),
            }
        })
        .collect()
}

/// The `INSERT` kiln's default loader sends for a CSV's rows.
fn insert_sql(relation: &str, csv: &Path) -> String {
    let text = std::fs::read_to_string(csv).unwrap();
    let rows: Vec<String> = text
        .lines()
        .skip(1)
        .map(|line| {
            let cells: Vec<String> = line
                .split(',')
                .map(|c| format!("'{}'", c.replace('\'', "''")))
                .collect();
            format!("({})", cells.join(", "))
        })
        .collect();
    format!("insert into {relation} values\n{}", rows.join(",\n"))
}

/// A database connection as the replay needs it.
pub trait Session: Send {
    /// Runs one statement and reads every row it returns.
    fn run(&mut self, sql: &str);
}

pub struct DuckDbSession(pub duckdb::Connection);

impl Session for DuckDbSession {
    fn run(&mut self, sql: &str) {
        let head = sql.trim_start().get(..6).unwrap_or_default().to_lowercase();
        if head.starts_with("select") || head.starts_with("with") {
            let mut statement = self.0.prepare(sql).unwrap_or_else(|e| panic!("{e}\n{sql}"));
            let mut rows = statement.query([]).unwrap_or_else(|e| panic!("{e}\n{sql}"));
            while rows.next().unwrap().is_some() {}
        } else {
            self.0
                .execute_batch(sql)
                .unwrap_or_else(|e| panic!("{e}\n{sql}"));
        }
    }
}

pub struct PostgresSession(pub postgres::Client);

impl Session for PostgresSession {
    fn run(&mut self, sql: &str) {
        self.0
            .simple_query(sql)
            .unwrap_or_else(|e| panic!("{e}\n{sql}"));
    }
}

/// Replays `steps` on `sessions.len()` threads; returns the wall time.
pub fn replay<S: Session + 'static>(
    steps: Arc<Vec<Step>>,
    sessions: Vec<S>,
    schemas: &[String],
) -> Duration {
    let start = Instant::now();
    let mut sessions = sessions;
    for schema in schemas {
        sessions[0].run(&format!("create schema if not exists {schema}"));
    }
    let waiting: Vec<usize> = steps.iter().map(|s| s.after.len()).collect();
    let mut children: Vec<Vec<usize>> = vec![Vec::new(); steps.len()];
    for (i, step) in steps.iter().enumerate() {
        for &p in &step.after {
            children[p].push(i);
        }
    }
    let ready: Vec<usize> = (0..steps.len()).filter(|&i| waiting[i] == 0).collect();
    let state = Arc::new((
        Mutex::new(Queue {
            ready,
            waiting,
            done: 0,
        }),
        Condvar::new(),
    ));
    let children = Arc::new(children);
    let workers: Vec<_> = sessions
        .into_iter()
        .map(|mut session| {
            let (steps, state, children) = (steps.clone(), state.clone(), children.clone());
            std::thread::spawn(move || {
                let total = steps.len();
                loop {
                    let next = {
                        let (queue, wake) = &*state;
                        let mut queue = queue.lock().unwrap();
                        loop {
                            if queue.done == total {
                                break None;
                            }
                            if let Some(i) = queue.ready.pop() {
                                break Some(i);
                            }
                            queue = wake.wait(queue).unwrap();
                        }
                    };
                    let Some(i) = next else { return };
                    // A statement that fails ends the benchmark, not just this worker.
                    let ran = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        run_step(&mut session, &steps[i])
                    }));
                    if ran.is_err() {
                        std::process::exit(1);
                    }
                    let (queue, wake) = &*state;
                    let mut queue = queue.lock().unwrap();
                    queue.done += 1;
                    for &c in &children[i] {
                        queue.waiting[c] -= 1;
                        if queue.waiting[c] == 0 {
                            queue.ready.push(c);
                        }
                    }
                    wake.notify_all();
                }
            })
        })
        .collect();
    for worker in workers {
        worker.join().unwrap();
    }
    start.elapsed()
}

struct Queue {
    ready: Vec<usize>,
    waiting: Vec<usize>,
    done: usize,
}

fn run_step(session: &mut dyn Session, step: &Step) {
    if step.statements.is_empty() {
        return;
    }
    session.run("begin");
    for statement in &step.statements {
        match statement {
            Statement::Sql(sql) => session.run(sql),
            Statement::LoadCsv { relation, csv } => session.run(&insert_sql(relation, csv)),
        }
    }
    session.run("commit");
}

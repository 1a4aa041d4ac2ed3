//! One node's render state, shared by its functions: the phase (parse,
//! compile, execute), what a parse records, the run's flags, and the
//! statements run on the connection.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use minijinja::value::Value;
use minijinja::{Error, ErrorKind};
use serde_json::Value as Json;

use crate::adapter::{DbError, LoadColumn, QueryResult, SharedConnection};
use crate::config::NodeConfig;
use crate::secrets;

use super::Resolver;
use super::lock;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Discovering refs, sources and configs: no relations, no database.
    Parse,
    /// Rendering SQL with real relation names; `run_query` and `statement`
    /// reach the database when the render has a connection.
    Compile,
    /// Running a materialization on a connection.
    Execute,
}

/// A `ref()` call as written.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct RefCall {
    pub package: Option<String>,
    pub name: String,
}

/// What a parse render records.
#[derive(Debug, Clone, Default)]
pub struct Captured {
    pub refs: Vec<RefCall>,
    pub sources: Vec<(String, String)>,
    pub configs: Vec<BTreeMap<String, Json>>,
}

/// Rows to load into a seed's table (`adapter.load_csv_rows`).
#[derive(Debug, Clone, Default)]
pub struct SeedData {
    pub columns: Vec<LoadColumn>,
    /// The rows as text, unless the database reads `file` itself.
    pub rows: Vec<Vec<Option<String>>>,
    pub row_count: usize,
    /// The seed's file, when its values are plain enough for the
    /// database's own CSV reader (`seed_csv::scan_plain`).
    pub file: Option<crate::adapter::CsvFile>,
}

/// The state one node's render shares between its functions.
pub struct RenderScope {
    pub phase: Phase,
    pub unique_id: String,
    pub(super) captured: Mutex<Captured>,
    pub(super) config: Mutex<NodeConfig>,
    pub(super) resolver: Option<Arc<Resolver>>,
    pub(super) connection: Option<SharedConnection>,
    pub(super) results: Mutex<BTreeMap<String, Value>>,
    /// The rows of each named statement that fetched its result.
    pub(super) tables: Mutex<BTreeMap<String, QueryResult>>,
    pub(super) seed: Option<SeedData>,
    /// What this run is: `--full-refresh`, and whether an incremental model
    /// adds to an existing relation.
    pub flags: RunFlags,
    /// The ephemeral models this render referenced, by unique id, in order.
    pub(super) ephemerals: Mutex<Vec<String>>,
    /// Every statement run, in order, for `target/run/`.
    pub(super) executed: Mutex<Vec<String>>,
    /// dbt's query comment: its text, and whether it goes after the statement.
    query_comment: Option<(String, bool)>,
    /// External files put in place, their old ones kept aside until the
    /// node's transaction ends.
    pub(super) replaced_files: Mutex<Vec<crate::materialize::external::Replaced>>,
    /// The database's error, when a statement failed: which one, and why.
    pub(super) failed: Mutex<Option<FailedStatement>>,
}

/// Facts about the run that templates read through `flags` and
/// `is_incremental()`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunFlags {
    /// `--full-refresh`.
    pub full_refresh: bool,
    /// The model is incremental, its table exists, and no full refresh is due.
    pub is_incremental: bool,
    /// The window a microbatch model is being built for: its refs with an
    /// `event_time` read only that window.
    pub batch: Option<crate::materialize::microbatch::Batch>,
}

/// A statement the database refused.
#[derive(Debug, Clone)]
pub struct FailedStatement {
    /// Its index among the executed statements.
    pub index: usize,
    pub error: DbError,
}

impl RenderScope {
    pub fn new(phase: Phase, unique_id: &str, config: NodeConfig) -> RenderScope {
        RenderScope {
            phase,
            unique_id: unique_id.to_string(),
            captured: Mutex::new(Captured::default()),
            config: Mutex::new(config),
            resolver: None,
            connection: None,
            results: Mutex::new(BTreeMap::new()),
            tables: Mutex::new(BTreeMap::new()),
            seed: None,
            flags: RunFlags::default(),
            ephemerals: Mutex::new(Vec::new()),
            executed: Mutex::new(Vec::new()),
            failed: Mutex::new(None),
            query_comment: None,
            replaced_files: Mutex::new(Vec::new()),
        }
    }

    /// Ends the external files this node replaced: kept when it committed,
    /// their old ones put back when it failed.
    pub fn finish_replaced_files(&self, committed: bool) {
        for replaced in lock(&self.replaced_files).drain(..) {
            if let Err(e) = crate::materialize::external::finish(&replaced, committed) {
                eprintln!(
                    "warning: could not {} {}: {e}",
                    if committed {
                        "clear the old file beside"
                    } else {
                        "restore the old file of"
                    },
                    replaced.location.display()
                );
            }
        }
    }

    /// The comment each statement this node sends carries (dbt's
    /// `query-comment`), and whether it goes after the statement.
    pub fn with_query_comment(mut self, comment: Option<(String, bool)>) -> Self {
        self.query_comment = comment;
        self
    }

    /// `sql` as sent: with the query comment before it (`/* ... */` and a
    /// line break) or after it (before a final `;`).
    fn commented(&self, sql: &str) -> (String, bool) {
        match &self.query_comment {
            None => (sql.to_string(), false),
            Some((comment, false)) => (format!("/* {comment} */\n{sql}"), true),
            Some((comment, true)) => {
                let body = sql.trim_end();
                let (body, semicolon) = match body.strip_suffix(';') {
                    Some(body) => (body, ";"),
                    None => (body, ""),
                };
                (format!("{body}\n/* {comment} */{semicolon}"), false)
            }
        }
    }

    /// dbt's `graph`: what the graph stage built, once there is a resolver
    /// (compiling and executing); undefined while parsing.
    pub fn graph(&self) -> minijinja::Value {
        self.resolver
            .as_ref()
            .map(|r| r.graph.clone())
            .unwrap_or(minijinja::Value::UNDEFINED)
    }

    pub fn with_resolver(mut self, resolver: Arc<Resolver>) -> Self {
        self.resolver = Some(resolver);
        self
    }

    pub fn with_connection(mut self, connection: SharedConnection) -> Self {
        self.connection = Some(connection);
        self
    }

    pub fn with_flags(mut self, flags: RunFlags) -> Self {
        self.flags = flags;
        self
    }

    /// The ephemeral models referenced so far, by unique id.
    pub fn ephemerals(&self) -> Vec<String> {
        lock(&self.ephemerals).clone()
    }

    pub fn with_seed(mut self, seed: SeedData) -> Self {
        self.seed = Some(seed);
        self
    }

    pub fn captured(&self) -> Captured {
        lock(&self.captured).clone()
    }

    pub fn config(&self) -> NodeConfig {
        lock(&self.config).clone()
    }

    pub fn executed(&self) -> Vec<String> {
        lock(&self.executed).clone()
    }

    /// The rows the statement named `name` fetched (`fetch_result=True`).
    pub fn query_result(&self, name: &str) -> Option<QueryResult> {
        lock(&self.tables).get(name).cloned()
    }

    /// The statement the database refused, if one was.
    pub fn failed(&self) -> Option<FailedStatement> {
        lock(&self.failed).clone()
    }

    /// Records that the last statement executed failed, and makes the error
    /// the template sees.
    pub(super) fn database_error(&self, error: DbError) -> Error {
        let index = lock(&self.executed).len().saturating_sub(1);
        let message = secrets::redact(&error.message);
        *lock(&self.failed) = Some(FailedStatement { index, error });
        Error::new(ErrorKind::InvalidOperation, message)
    }

    pub(super) fn run_sql(&self, sql: &str, fetch: bool) -> Result<Option<QueryResult>, Error> {
        let Some(connection) = &self.connection else {
            return Ok(None);
        };
        super::introspection::saw_database();
        lock(&self.executed).push(sql.to_string());
        let (sent, shifted) = self.commented(sql);
        let mut conn = lock(connection);
        let outcome = if fetch {
            conn.query(&sent).map(Some)
        } else {
            conn.execute(&sent).map(|_| None)
        };
        drop(conn);
        outcome.map_err(|mut e| {
            // The line the database names is one of the statement kiln wrote.
            if shifted {
                e.line = e.line.map(|l| l.saturating_sub(1).max(1));
            }
            self.database_error(e)
        })
    }
}

//! Ctrl-C.
//!
//! Until a command starts work on the database (parse, compile, reading the
//! catalog), there is nothing to protect: the first Ctrl-C exits 130 at
//! once, however long a Jinja loop would have run.
//!
//! Once it has (`protect_database_work`), the first Ctrl-C asks the run to
//! stop: the statements in flight on every connection are interrupted
//! (DuckDB's interrupt, PostgreSQL's cancel request) so their transactions
//! roll back, every later statement, seed batch and commit is refused, no
//! new node starts, and kiln exits 130 after writing run_results.json. A
//! second Ctrl-C exits at once.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use crate::adapter::{
    Adapter, AdapterKind, CatalogColumn, CatalogRelation, Connection, DbError, Interrupter,
    LoadColumn, QueryResult, SchemaLock,
};
use crate::error::Result;

static CANCELLED: AtomicBool = AtomicBool::new(false);
/// Whether work on the database has started: Ctrl-C then stops it cleanly.
static PROTECTING: AtomicBool = AtomicBool::new(false);

/// The statements running now, each with what interrupts it.
static IN_FLIGHT: Mutex<Vec<(u64, Interrupter)>> = Mutex::new(Vec::new());
static NEXT_STATEMENT: AtomicU64 = AtomicU64::new(0);

/// What the statement (or commit) refused after Ctrl-C says.
pub const CANCELLED_MESSAGE: &str = "cancelled (Ctrl-C): not run, the transaction is rolled back";

/// Installs the handler (once; later calls do nothing). `notify` prints a
/// line for the user.
pub fn install_handler(notify: fn(&str)) {
    let _ = ctrlc::set_handler(move || {
        if CANCELLED.swap(true, Ordering::SeqCst) || !PROTECTING.load(Ordering::SeqCst) {
            if !PROTECTING.load(Ordering::SeqCst) {
                notify("Cancelled (Ctrl-C): nothing was run.");
            }
            std::process::exit(crate::cli::EXIT_CANCELLED);
        }
        notify(
            "Ctrl-C: stopping; running statements are rolled back (press Ctrl-C again to exit now)",
        );
        interrupt_in_flight();
    });
}

/// From now on, Ctrl-C stops the run cleanly instead of exiting at once.
pub fn protect_database_work() {
    PROTECTING.store(true, Ordering::SeqCst);
}

/// Whether Ctrl-C was pressed.
pub fn cancelled() -> bool {
    CANCELLED.load(Ordering::SeqCst)
}

fn in_flight() -> std::sync::MutexGuard<'static, Vec<(u64, Interrupter)>> {
    IN_FLIGHT.lock().unwrap_or_else(|p| p.into_inner())
}

/// Interrupts every statement running now.
fn interrupt_in_flight() {
    // Copied out: a cancel request opens a connection, and statements must
    // be able to finish (and deregister) meanwhile.
    let interrupters: Vec<Interrupter> = in_flight().iter().map(|(_, i)| i.clone()).collect();
    for interrupt in interrupters {
        interrupt();
    }
}

/// An adapter whose connections stop working after Ctrl-C.
pub struct Cancellable {
    inner: Box<dyn Adapter>,
}

impl Cancellable {
    pub fn new(inner: Box<dyn Adapter>) -> Cancellable {
        Cancellable { inner }
    }
}

impl Adapter for Cancellable {
    fn kind(&self) -> AdapterKind {
        self.inner.kind()
    }

    fn connect(&self) -> Result<Box<dyn Connection>> {
        let inner = self.inner.connect()?;
        let interrupter = inner.interrupter();
        Ok(Box::new(CancellableConnection { inner, interrupter }))
    }
}

/// A connection that refuses every statement after Ctrl-C, and while a
/// statement runs, lets the Ctrl-C handler interrupt it.
struct CancellableConnection {
    inner: Box<dyn Connection>,
    interrupter: Option<Interrupter>,
}

/// Deregisters a statement when it ends.
struct Registered(Option<u64>);

impl Drop for Registered {
    fn drop(&mut self) {
        if let Some(id) = self.0 {
            in_flight().retain(|(i, _)| *i != id);
        }
    }
}

impl CancellableConnection {
    /// Runs `work` unless Ctrl-C was pressed, interruptible by it.
    fn guarded<T>(
        &mut self,
        work: impl FnOnce(&mut dyn Connection) -> std::result::Result<T, DbError>,
    ) -> std::result::Result<T, DbError> {
        // Registered before the flag is read: a Ctrl-C after the read finds
        // the statement to interrupt; one before it is seen here.
        let registered = Registered(self.interrupter.as_ref().map(|interrupter| {
            let id = NEXT_STATEMENT.fetch_add(1, Ordering::SeqCst);
            in_flight().push((id, interrupter.clone()));
            id
        }));
        if cancelled() {
            return Err(DbError::new(CANCELLED_MESSAGE));
        }
        let outcome = work(self.inner.as_mut());
        drop(registered);
        match outcome {
            // An interrupted statement fails with the database's words
            // ("INTERRUPT Error", "canceling statement due to user request").
            Err(e) if cancelled() => Err(DbError::new(format!(
                "cancelled (Ctrl-C) while it ran: {}",
                e.message.lines().next().unwrap_or_default()
            ))),
            other => other,
        }
    }
}

impl Connection for CancellableConnection {
    fn kind(&self) -> AdapterKind {
        self.inner.kind()
    }

    fn interrupter(&self) -> Option<Interrupter> {
        self.interrupter.clone()
    }

    fn execute(&mut self, sql: &str) -> std::result::Result<(), DbError> {
        self.guarded(|c| c.execute(sql))
    }

    fn query(&mut self, sql: &str) -> std::result::Result<QueryResult, DbError> {
        self.guarded(|c| c.query(sql))
    }

    fn begin(&mut self) -> std::result::Result<(), DbError> {
        self.guarded(|c| c.begin())
    }

    /// After Ctrl-C, a commit rolls back instead.
    fn commit(&mut self) -> std::result::Result<(), DbError> {
        if cancelled() {
            let _ = self.inner.rollback();
            return Err(DbError::new(CANCELLED_MESSAGE));
        }
        self.guarded(|c| c.commit())
    }

    fn rollback(&mut self) -> std::result::Result<(), DbError> {
        self.inner.rollback()
    }

    fn is_lost(&self) -> bool {
        self.inner.is_lost()
    }

    fn list_relations(
        &mut self,
        database: &str,
        schema: &str,
    ) -> std::result::Result<Vec<CatalogRelation>, DbError> {
        self.guarded(|c| c.list_relations(database, schema))
    }

    fn prefetch_relations(
        &mut self,
        database: &str,
        schema: &str,
    ) -> std::result::Result<(), DbError> {
        self.guarded(|c| c.prefetch_relations(database, schema))
    }

    fn find_relation(
        &mut self,
        database: &str,
        schema: &str,
        name: &str,
    ) -> std::result::Result<Option<CatalogRelation>, DbError> {
        self.guarded(|c| c.find_relation(database, schema, name))
    }

    fn list_columns(
        &mut self,
        database: &str,
        schema: &str,
        identifier: &str,
    ) -> std::result::Result<Vec<CatalogColumn>, DbError> {
        self.guarded(|c| c.list_columns(database, schema, identifier))
    }

    fn create_schema(&mut self, database: &str, schema: &str) -> std::result::Result<(), DbError> {
        self.guarded(|c| c.create_schema(database, schema))
    }

    /// Loaded in batches, with Ctrl-C checked between them.
    fn load_rows(
        &mut self,
        relation: &str,
        columns: &[LoadColumn],
        rows: &[Vec<Option<String>>],
    ) -> std::result::Result<(), DbError> {
        const BATCH: usize = 10_000;
        if rows.is_empty() {
            return self.guarded(|c| c.load_rows(relation, columns, rows));
        }
        for batch in rows.chunks(BATCH) {
            self.guarded(|c| c.load_rows(relation, columns, batch))?;
        }
        Ok(())
    }

    fn lock_schema(
        &mut self,
        database: &str,
        schema: &str,
    ) -> std::result::Result<SchemaLock, DbError> {
        self.guarded(|c| c.lock_schema(database, schema))
    }
}

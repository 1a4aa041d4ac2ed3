//! The adapter wrapper `for_target` puts around every adapter: after Ctrl-C
//! (the flag in `crate::cancel`) its connections refuse every statement and
//! roll back instead of committing, and a statement in flight is registered
//! so the handler can interrupt it.

use super::{
    Adapter, AdapterKind, CatalogColumn, CatalogRelation, Connection, CsvFile, DbError,
    Interrupter, LoadColumn, LoadTable, QueryResult, SchemaLock,
};
use crate::cancel;
use crate::error::Result;

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

impl CancellableConnection {
    /// Runs `work` unless Ctrl-C was pressed, interruptible by it.
    fn guarded<T>(
        &mut self,
        work: impl FnOnce(&mut dyn Connection) -> std::result::Result<T, DbError>,
    ) -> std::result::Result<T, DbError> {
        // Registered before the flag is read: a Ctrl-C after the read finds
        // the statement to interrupt; one before it is seen here.
        let registered = cancel::register(self.interrupter.as_ref());
        if cancel::cancelled() {
            return Err(DbError::new(cancel::CANCELLED_MESSAGE));
        }
        let outcome = work(self.inner.as_mut());
        drop(registered);
        match outcome {
            // An interrupted statement fails with the database's words
            // ("INTERRUPT Error", "canceling statement due to user request").
            Err(e) if cancel::cancelled() => Err(DbError::new(format!(
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
        if cancel::cancelled() {
            let _ = self.inner.rollback();
            return Err(DbError::new(cancel::CANCELLED_MESSAGE));
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

    fn describe_query(&mut self, sql: &str) -> std::result::Result<Vec<CatalogColumn>, DbError> {
        self.guarded(|c| c.describe_query(sql))
    }

    fn query_column_types(
        &mut self,
        sql: &str,
    ) -> std::result::Result<Vec<CatalogColumn>, DbError> {
        self.guarded(|c| c.query_column_types(sql))
    }

    fn create_schema(&mut self, database: &str, schema: &str) -> std::result::Result<(), DbError> {
        self.guarded(|c| c.create_schema(database, schema))
    }

    /// Loaded in batches, with Ctrl-C checked between them.
    fn load_rows(
        &mut self,
        table: LoadTable<'_>,
        columns: &[LoadColumn],
        rows: &[Vec<Option<String>>],
    ) -> std::result::Result<(), DbError> {
        const BATCH: usize = 10_000;
        if rows.is_empty() {
            return self.guarded(|c| c.load_rows(table, columns, rows));
        }
        for batch in rows.chunks(BATCH) {
            self.guarded(|c| c.load_rows(table, columns, batch))?;
        }
        Ok(())
    }

    fn load_csv_file(
        &mut self,
        table: LoadTable<'_>,
        columns: &[LoadColumn],
        file: &CsvFile,
    ) -> std::result::Result<(), DbError> {
        self.guarded(|c| c.load_csv_file(table, columns, file))
    }

    fn lock_schema(
        &mut self,
        database: &str,
        schema: &str,
    ) -> std::result::Result<SchemaLock, DbError> {
        self.guarded(|c| c.lock_schema(database, schema))
    }
}

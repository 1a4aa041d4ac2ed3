//! The one place that knows a database exists. `Adapter` opens connections;
//! `Connection` runs SQL, manages transactions and reads the catalog. DuckDB
//! and PostgreSQL are implementations; everything above speaks to the traits.

pub mod cache;
pub mod cancellable;
#[cfg(feature = "duckdb")]
pub mod duckdb;
pub mod kind;
pub mod postgres;
pub mod relation_type;
pub mod target;

use std::fmt;
use std::sync::{Arc, Mutex};

pub use crate::cancel::Interrupter;
pub use cancellable::Cancellable;
pub use kind::{AdapterKind, UnnamedColumn};
pub use relation_type::RelationType;
pub use target::Target;

use crate::error::{Error, Result};

/// An error the database returned, with where in the statement it points
/// (1-based line and column) when the database says.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DbError {
    pub message: String,
    pub line: Option<usize>,
    pub column: Option<usize>,
}

impl DbError {
    pub fn new(message: impl Into<String>) -> DbError {
        DbError {
            message: message.into(),
            ..DbError::default()
        }
    }

    /// The place of a 1-based character offset into `sql` (PostgreSQL's `position`).
    pub fn at_offset(mut self, sql: &str, position: usize) -> DbError {
        let before: String = sql.chars().take(position.saturating_sub(1)).collect();
        self.line = Some(before.matches('\n').count() + 1);
        self.column = Some(before.rsplit('\n').next().unwrap_or("").chars().count() + 1);
        self
    }
}

impl fmt::Display for DbError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// One value of a query result.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    /// Text, and every other type (dates, decimals, ...) in its text form.
    Text(String),
}

impl fmt::Display for Cell {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Cell::Null => f.write_str("NULL"),
            Cell::Bool(b) => write!(f, "{b}"),
            Cell::Int(i) => write!(f, "{i}"),
            Cell::Float(x) => write!(f, "{x}"),
            Cell::Text(s) => f.write_str(s),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct QueryResult {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
}

/// A relation found in the catalog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogRelation {
    pub database: String,
    pub schema: String,
    pub name: String,
    pub kind: RelationType,
}

/// The rows of a query of `information_schema.tables` (catalog, schema,
/// name, type) as relations.
pub(crate) fn catalog_relations(result: QueryResult) -> Vec<CatalogRelation> {
    result
        .rows
        .into_iter()
        .filter_map(|row| match row.as_slice() {
            [
                Cell::Text(db),
                Cell::Text(s),
                Cell::Text(name),
                Cell::Text(kind),
            ] => Some(CatalogRelation {
                database: db.clone(),
                schema: s.clone(),
                name: name.clone(),
                kind: RelationType::parse(kind).unwrap_or(RelationType::Table),
            }),
            _ => None,
        })
        .collect()
}

/// A column of a relation, as the catalog describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogColumn {
    pub name: String,
    pub data_type: String,
}

/// A column of a table being loaded from a seed file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadColumn {
    pub name: String,
    pub data_type: String,
}

/// A seed's CSV file, plain enough for a database's own CSV reader: every
/// value in the form its column's type reads, NULL empty or one of
/// `NULL_WORDS`.
#[derive(Debug, Clone, PartialEq)]
pub struct CsvFile {
    pub path: std::path::PathBuf,
    pub delimiter: u8,
    /// Some row is shorter than the header (its missing values are NULL).
    pub short_rows: bool,
    /// Some NULL is written as a word (`null`), not left empty.
    pub null_words: bool,
}

impl CsvFile {
    /// The file's rows as text values (None = NULL), short rows padded:
    /// what `load_rows` takes, for a database that cannot read the file.
    pub fn read_rows(&self, width: usize) -> Result<Vec<Vec<Option<String>>>, DbError> {
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(self.delimiter)
            .has_headers(true)
            .flexible(true)
            .from_path(&self.path)
            .map_err(|e| DbError::new(format!("reading {}: {e}", self.path.display())))?;
        let mut rows = Vec::new();
        for record in reader.records() {
            let record = record
                .map_err(|e| DbError::new(format!("reading {}: {e}", self.path.display())))?;
            let mut row: Vec<Option<String>> = record
                .iter()
                .map(|v| (!v.is_empty() && !v.eq_ignore_ascii_case("null")).then(|| v.to_string()))
                .collect();
            row.resize(width, None);
            rows.push(row);
        }
        Ok(rows)
    }
}

/// The table a seed's rows are loaded into: its name as SQL, and its parts
/// as the catalog names them (for a bulk loader that takes them apart).
#[derive(Debug, Clone, Copy)]
pub struct LoadTable<'a> {
    pub sql: &'a str,
    pub database: &'a str,
    pub schema: &'a str,
    pub identifier: &'a str,
}

/// What `Connection::lock_schema` found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SchemaLock {
    /// This connection holds it now.
    Held,
    /// Another session holds it: its server process id, when known, and
    /// the client it connected from.
    HeldElsewhere {
        pid: Option<i64>,
        client: Option<String>,
    },
    /// The database needs no such lock.
    NotNeeded,
}

/// Held for the length of a run that builds: a second run into the same
/// schema is refused while it lives.
pub struct TargetLock {
    _connection: Option<Box<dyn Connection>>,
}

impl TargetLock {
    /// Locks the target's `database.schema` on a connection of its own.
    pub fn acquire(adapter: &dyn Adapter, database: &str, schema: &str) -> Result<TargetLock> {
        if adapter.kind() == AdapterKind::DuckDb {
            return Ok(TargetLock { _connection: None });
        }
        let mut connection = adapter.connect()?;
        let found = connection.lock_schema(database, schema).map_err(|e| {
            Error::connection(format!(
                "cannot take the lock on schema {database}.{schema}: {e}"
            ))
        })?;
        match found {
            SchemaLock::Held => Ok(TargetLock {
                _connection: Some(connection),
            }),
            SchemaLock::NotNeeded => Ok(TargetLock { _connection: None }),
            SchemaLock::HeldElsewhere { pid, client } => Err(Error::Locked {
                code: crate::diagnostic::Code::ProjectLocked,
                message: format!(
                    "another kiln is already running into schema {schema} of database {database}{} \
                     (it holds the advisory lock named after them)",
                    match (pid, client) {
                        (Some(pid), Some(client)) if !client.is_empty() => {
                            format!(" as server process {pid}, connected from {client}")
                        }
                        (Some(pid), _) => format!(" as server process {pid}"),
                        _ => String::new(),
                    }
                ),
                help: Some("wait for it to finish, then run again".into()),
            }),
        }
    }
}

pub trait Connection: Send {
    fn kind(&self) -> AdapterKind;

    /// A way to stop this connection's running statement (Ctrl-C).
    fn interrupter(&self) -> Option<Interrupter> {
        None
    }

    /// Runs one or more statements, discarding any rows.
    fn execute(&mut self, sql: &str) -> Result<(), DbError>;

    /// Runs a query and returns its rows.
    fn query(&mut self, sql: &str) -> Result<QueryResult, DbError>;

    fn begin(&mut self) -> Result<(), DbError> {
        self.execute("begin")
    }

    fn commit(&mut self) -> Result<(), DbError> {
        self.execute("commit")
    }

    fn rollback(&mut self) -> Result<(), DbError> {
        self.execute("rollback")
    }

    /// The tables and views of one schema, from `information_schema`
    /// (which DuckDB and PostgreSQL both have).
    fn list_relations(
        &mut self,
        database: &str,
        schema: &str,
    ) -> Result<Vec<CatalogRelation>, DbError> {
        let sql = format!(
            "select table_catalog, table_schema, table_name, table_type \
             from information_schema.tables \
             where table_catalog = {} and table_schema = {} \
             order by table_name",
            sql_literal(database),
            sql_literal(schema)
        );
        Ok(catalog_relations(self.query(&sql)?))
    }

    /// Reads a schema's relations ahead of the lookups to come, where the
    /// connection keeps a cache of them; nothing otherwise.
    fn prefetch_relations(&mut self, _database: &str, _schema: &str) -> Result<(), DbError> {
        Ok(())
    }

    /// One relation of a schema, if it exists: `adapter.get_relation`.
    fn find_relation(
        &mut self,
        database: &str,
        schema: &str,
        name: &str,
    ) -> Result<Option<CatalogRelation>, DbError> {
        let sql = format!(
            "select table_catalog, table_schema, table_name, table_type \
             from information_schema.tables \
             where table_catalog = {} and table_schema = {} and table_name = {}",
            sql_literal(database),
            sql_literal(schema),
            sql_literal(name)
        );
        Ok(catalog_relations(self.query(&sql)?).into_iter().next())
    }

    /// The columns of one relation, in order (none when it does not exist).
    fn list_columns(
        &mut self,
        database: &str,
        schema: &str,
        identifier: &str,
    ) -> Result<Vec<CatalogColumn>, DbError> {
        let sql = format!(
            "select column_name, data_type from information_schema.columns \
             where table_catalog = {} and table_schema = {} and table_name = {} \
             order by ordinal_position",
            sql_literal(database),
            sql_literal(schema),
            sql_literal(identifier)
        );
        Ok(self
            .query(&sql)?
            .rows
            .into_iter()
            .filter_map(|row| match row.as_slice() {
                [Cell::Text(name), Cell::Text(data_type)] => Some(CatalogColumn {
                    name: name.clone(),
                    data_type: data_type.clone(),
                }),
                _ => None,
            })
            .collect())
    }

    /// The columns a query would return, named and typed as a contract
    /// compares them ([`AdapterKind::contract_type`]), without running it.
    fn describe_query(&mut self, sql: &str) -> Result<Vec<CatalogColumn>, DbError> {
        let kind = self.kind();
        Ok(self
            .query_column_types(sql)?
            .into_iter()
            .map(|c| CatalogColumn {
                data_type: kind.contract_type(&c.data_type),
                ..c
            })
            .collect())
    }

    /// The columns a query would return with the types the database gives
    /// them, each one `cast(x as <type>)` accepts, without running it:
    /// DuckDB describes it (`DESCRIBE (<sql>)`).
    fn query_column_types(&mut self, sql: &str) -> Result<Vec<CatalogColumn>, DbError> {
        Ok(self
            .query(&format!("describe ({sql})"))?
            .rows
            .into_iter()
            .filter_map(|row| match row.as_slice() {
                [Cell::Text(name), Cell::Text(data_type), ..] => Some(CatalogColumn {
                    name: name.clone(),
                    data_type: data_type.clone(),
                }),
                _ => None,
            })
            .collect())
    }

    fn create_schema(&mut self, database: &str, schema: &str) -> Result<(), DbError>;

    /// Whether the connection is gone (the server closed it, the network
    /// dropped): nothing more can run on it, and a new one is needed.
    fn is_lost(&self) -> bool {
        false
    }

    /// Takes a lock on building into `database.schema` that lasts as long
    /// as this connection, so that two runs never build into one schema at
    /// once. A database that lets one process write at a time (DuckDB, by
    /// its file lock) needs none.
    fn lock_schema(&mut self, _database: &str, _schema: &str) -> Result<SchemaLock, DbError> {
        Ok(SchemaLock::NotNeeded)
    }

    /// Loads a seed's CSV file into `table`, whose columns are `columns` in
    /// the file's order. The default reads the rows and sends them as
    /// [`Connection::load_rows`] does.
    fn load_csv_file(
        &mut self,
        table: LoadTable<'_>,
        columns: &[LoadColumn],
        file: &CsvFile,
    ) -> Result<(), DbError> {
        load_file_as_rows(self, table, columns, file)
    }

    /// Inserts text values (None = NULL) into `relation`, cast by the database
    /// to the column types. The default sends batched `INSERT ... VALUES`.
    fn load_rows(
        &mut self,
        table: LoadTable<'_>,
        columns: &[LoadColumn],
        rows: &[Vec<Option<String>>],
    ) -> Result<(), DbError> {
        const BATCH: usize = 1000;
        let relation = table.sql;
        let kind = self.kind();
        let column_list: Vec<String> = columns.iter().map(|c| kind.quote(&c.name)).collect();
        for chunk in rows.chunks(BATCH) {
            let mut sql = format!(
                "insert into {relation} ({}) values\n",
                column_list.join(", ")
            );
            for (i, row) in chunk.iter().enumerate() {
                if i > 0 {
                    sql.push_str(",\n");
                }
                sql.push('(');
                for (j, (value, column)) in row.iter().zip(columns).enumerate() {
                    if j > 0 {
                        sql.push_str(", ");
                    }
                    match value {
                        None => sql.push_str("null"),
                        Some(v) => {
                            sql.push_str(&format!(
                                "cast('{}' as {})",
                                v.replace('\'', "''"),
                                column.data_type
                            ));
                        }
                    }
                }
                sql.push(')');
            }
            self.execute(&sql)?;
        }
        Ok(())
    }
}

/// A seed file read here and sent as rows ([`Connection::load_rows`]): the
/// default load, and a database reader's fallback for a file it would read
/// otherwise.
fn load_file_as_rows<C: Connection + ?Sized>(
    connection: &mut C,
    table: LoadTable<'_>,
    columns: &[LoadColumn],
    file: &CsvFile,
) -> Result<(), DbError> {
    let rows = file.read_rows(columns.len())?;
    connection.load_rows(table, columns, &rows)
}

/// `text` as a SQL string literal.
fn sql_literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// A connection that a node's render and the executor share.
pub type SharedConnection = Arc<Mutex<Box<dyn Connection>>>;

pub trait Adapter: Send + Sync {
    fn kind(&self) -> AdapterKind;

    /// A new connection, for one worker.
    fn connect(&self) -> Result<Box<dyn Connection>, Error>;
}

/// The adapter for a target.
pub fn for_target(target: &Target) -> Result<Box<dyn Adapter>> {
    // Every connection of the run shares one cache of the catalog: reading
    // it for each `adapter.get_relation` costs a query (on DuckDB, a scan
    // of every relation) three times a table built.
    // Outermost, Ctrl-C: after it no statement starts, and the one running
    // is interrupted.
    match target.adapter {
        #[cfg(feature = "duckdb")]
        AdapterKind::DuckDb => Ok(Box::new(Cancellable::new(Box::new(
            cache::CachingAdapter::new(
                Box::new(duckdb::DuckDbAdapter::open(target)?),
                &target.database,
            ),
        )))),
        #[cfg(not(feature = "duckdb"))]
        AdapterKind::DuckDb => Err(Error::connection(
            "this build of kiln has no DuckDB adapter (built without the `duckdb` feature)",
        )),
        AdapterKind::Postgres => Ok(Box::new(Cancellable::new(Box::new(
            cache::CachingAdapter::new(
                Box::new(postgres::PostgresAdapter::new(target)?),
                &target.database,
            ),
        )))),
    }
}

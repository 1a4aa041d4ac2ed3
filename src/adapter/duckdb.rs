//! DuckDB, embedded: one database instance per run, one connection per worker
//! (cloned from the instance), the file path resolved from the current
//! directory as dbt-duckdb does.

use duckdb::types::{TimeUnit, Value as DuckValue};

use super::Target;
use super::{
    Adapter, AdapterKind, Cell, Connection, CsvFile, DbError, LoadColumn, LoadTable, QueryResult,
};
use crate::diagnostic::Code;
use crate::error::{Error, Result};

pub struct DuckDbAdapter {
    /// The first connection; workers get clones that share its database.
    root: std::sync::Mutex<duckdb::Connection>,
    /// The profile's `settings:`, as `SET` statements run on every connection.
    settings: String,
}

impl DuckDbAdapter {
    pub fn open(target: &Target) -> Result<DuckDbAdapter> {
        let path = target.duckdb_path();
        let conn = if path == ":memory:" {
            duckdb::Connection::open_in_memory()
        } else {
            if let Some(parent) = std::path::Path::new(&path).parent()
                && !parent.as_os_str().is_empty()
                && !parent.is_dir()
            {
                return Err(Error::connection(format!(
                    "DuckDB file {path}: its directory {} does not exist",
                    parent.display()
                )));
            }
            duckdb::Connection::open(&path)
        }
        .map_err(|e| open_error(&path, &e.to_string()))?;
        no_downloads(&conn)?;
        let settings = settings_sql(target)?;
        conn.execute_batch(&settings).map_err(|e| {
            Error::connection(format!("cannot apply the profile's `settings`: {e}"))
        })?;
        for statement in attach_sql(target)? {
            conn.execute_batch(&statement).map_err(|e| {
                Error::connection(format!(
                    "cannot attach a database ({statement}): {}",
                    db_error(e)
                ))
            })?;
        }
        Ok(DuckDbAdapter {
            root: std::sync::Mutex::new(conn),
            settings,
        })
    }
}

impl Adapter for DuckDbAdapter {
    fn kind(&self) -> AdapterKind {
        AdapterKind::DuckDb
    }

    fn connect(&self) -> Result<Box<dyn Connection>> {
        let root = self.root.lock().unwrap_or_else(|p| p.into_inner());
        let conn = root
            .try_clone()
            .map_err(|e| Error::connection(format!("cannot open a DuckDB connection: {e}")))?;
        conn.execute_batch(&self.settings).map_err(|e| {
            Error::connection(format!("cannot apply the profile's `settings`: {e}"))
        })?;
        Ok(Box::new(DuckDbConnection { conn }))
    }
}

/// dbt-duckdb's `settings:` as `SET` statements, each value quoted as it
/// quotes them (`SET memory_limit = '1GB'`).
fn settings_sql(target: &Target) -> Result<String> {
    let Some(settings) = target.settings.get("settings") else {
        return Ok(String::new());
    };
    let serde_json::Value::Object(settings) = settings else {
        if settings.is_null() {
            return Ok(String::new());
        }
        return Err(Error::connection(
            "the profile's `settings:` must be a mapping of DuckDB settings to values",
        ));
    };
    Ok(settings
        .iter()
        .map(|(name, value)| {
            let value = match value {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            format!(
                "set {} = '{}';\n",
                AdapterKind::DuckDb.quote(name),
                value.replace('\'', "''")
            )
        })
        .collect())
}

/// dbt-duckdb's `attach:` as `ATTACH` statements: each entry's `path`, as
/// `alias`, with `read_only`, `type` and its other `options`.
fn attach_sql(target: &Target) -> Result<Vec<String>> {
    let Some(entries) = target.settings.get("attach") else {
        return Ok(Vec::new());
    };
    let entries = match entries {
        serde_json::Value::Null => return Ok(Vec::new()),
        serde_json::Value::Array(entries) => entries,
        _ => {
            return Err(Error::connection(
                "the profile's `attach:` must be a list of databases to attach (each with a `path:`)",
            ));
        }
    };
    let mut statements = Vec::new();
    for entry in entries {
        let Some(path) = entry.get("path").and_then(|p| p.as_str()) else {
            return Err(Error::connection(
                "each entry of the profile's `attach:` needs a `path:` (the database file)",
            ));
        };
        // dbt-duckdb drops a URL's query string from the path.
        let path = path.split('?').next().unwrap_or(path);
        let mut sql = format!("attach if not exists '{}'", path.replace('\'', "''"));
        if let Some(alias) = entry.get("alias").and_then(|a| a.as_str()) {
            sql.push_str(&format!(" as {}", AdapterKind::DuckDb.quote(alias)));
        }
        let mut options = Vec::new();
        if let Some(kind) = entry.get("type").and_then(|t| t.as_str()) {
            options.push(format!("type {kind}"));
        }
        if entry.get("read_only").and_then(|r| r.as_bool()) == Some(true) {
            options.push("read_only".to_string());
        }
        if let Some(serde_json::Value::Object(extra)) = entry.get("options") {
            for (name, value) in extra {
                options.push(match value {
                    serde_json::Value::String(s) => format!("{name} '{}'", s.replace('\'', "''")),
                    other => format!("{name} {other}"),
                });
            }
        }
        if !options.is_empty() {
            sql.push_str(&format!(" ({})", options.join(", ")));
        }
        statements.push(sql);
    }
    Ok(statements)
}

/// Why a DuckDB file did not open. DuckDB lets one process write a file at a
/// time; another holding it is worth its own message.
fn open_error(path: &str, message: &str) -> Error {
    if message.contains("Could not set lock on file") || message.contains("Conflicting lock") {
        let holder = message
            .split("PID ")
            .nth(1)
            .and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
            .filter(|pid| !pid.is_empty())
            .map(|pid| format!(" (process {pid})"))
            .unwrap_or_default();
        return Error::Locked {
            code: Code::DatabaseLocked,
            message: format!("the DuckDB file {path} is in use by another process{holder}"),
            help: Some(
                "close the other program using it (a DuckDB shell, a notebook, another kiln), then run again"
                    .into(),
            ),
        };
    }
    Error::connection(format!("cannot open DuckDB file {path}: {message}"))
}

pub struct DuckDbConnection {
    conn: duckdb::Connection,
}

/// DuckDB's error, with the statement line it names (`LINE 3: ...`).
fn db_error(err: duckdb::Error) -> DbError {
    let message = err.to_string();
    let message = missing_extension(&message).unwrap_or(message);
    let line = message
        .lines()
        .find_map(|l| l.strip_prefix("LINE "))
        .and_then(|rest| rest.split(':').next())
        .and_then(|n| n.trim().parse().ok());
    DbError {
        message,
        line,
        column: None,
    }
}

/// DuckDB installs a known extension from the network the first time a
/// statement needs it; kiln's DuckDB downloads nothing, so that a build does
/// the same with or without a network (one already installed in
/// `~/.duckdb/extensions` still loads).
fn no_downloads(conn: &duckdb::Connection) -> Result<()> {
    conn.execute_batch("set autoinstall_known_extensions = false")
        .map_err(|e| Error::connection(format!("cannot configure DuckDB: {e}")))
}

/// A statement that needs an extension kiln has not compiled in (DuckDB
/// cannot install it: see [`no_downloads`]). Says so,
/// naming the extension and those kiln has; `None` for any other error.
fn missing_extension(message: &str) -> Option<String> {
    let named_after = |marker: &str| {
        let rest = &message[message.find(marker)? + marker.len()..];
        let name: String = rest
            .trim_start_matches(['\'', '"'])
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        (!name.is_empty()).then_some(name)
    };
    let name = named_after("install the required extension ")
        .or_else(|| named_after("load the required extension "))
        .or_else(|| named_after("but it exists in the "))
        .or_else(|| named_after("Failed to download extension "))
        .or_else(|| named_after("Extension Autoloading Error: An error occurred while trying to automatically install the required extension "))?;
    if super::kind::DUCKDB_EXTENSIONS.contains(&name.as_str()) {
        return None;
    }
    // DuckDB's first two lines: what it tried, and why that failed.
    let said: Vec<&str> = message
        .lines()
        .take_while(|l| !l.trim().is_empty())
        .take(2)
        .collect();
    let said = said.join(" ");
    // Keep DuckDB's `LINE n:` so that the error still points at the line.
    let line = message
        .lines()
        .find(|l| l.starts_with("LINE "))
        .map(|l| format!("\n{l}"))
        .unwrap_or_default();
    Some(format!(
        "{}\nDuckDB said: {said}{line}",
        super::kind::missing_duckdb_extension(&name)
    ))
}

impl Connection for DuckDbConnection {
    fn kind(&self) -> AdapterKind {
        AdapterKind::DuckDb
    }

    fn interrupter(&self) -> Option<super::Interrupter> {
        let handle = self.conn.interrupt_handle();
        Some(std::sync::Arc::new(move || handle.interrupt()))
    }

    fn execute(&mut self, sql: &str) -> Result<(), DbError> {
        self.conn.execute_batch(sql).map_err(db_error)
    }

    fn query(&mut self, sql: &str) -> Result<QueryResult, DbError> {
        let mut stmt = self.conn.prepare(sql).map_err(db_error)?;
        let mut rows = stmt.query([]).map_err(db_error)?;
        let columns = rows.as_ref().map(|s| s.column_names()).unwrap_or_default();
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(db_error)? {
            let mut cells = Vec::with_capacity(columns.len());
            for i in 0..columns.len() {
                let value: DuckValue = row.get(i).map_err(db_error)?;
                cells.push(to_cell(value));
            }
            out.push(cells);
        }
        Ok(QueryResult { columns, rows: out })
    }

    /// Through DuckDB's appender: each text value cast to its column's type
    /// as `cast('…' as type)` would, without a statement to parse per row.
    fn load_rows(
        &mut self,
        table: LoadTable<'_>,
        columns: &[LoadColumn],
        rows: &[Vec<Option<String>>],
    ) -> Result<(), DbError> {
        let names: Vec<&str> = columns.iter().map(|c| c.name.as_str()).collect();
        let mut appender = self
            .conn
            .appender_with_columns_to_catalog_and_db(
                table.identifier,
                table.database,
                table.schema,
                &names,
            )
            .map_err(db_error)?;
        for (i, row) in rows.iter().enumerate() {
            appender
                .append_row(duckdb::appender_params_from_iter(
                    row.iter().map(|v| v.as_deref()),
                ))
                .map_err(|e| row_error(e, i))?;
        }
        appender.flush().map_err(db_error)
    }

    /// DuckDB's own CSV reader, the column types pinned to the seed's
    /// (dbt's inference, or its `column_types`), NULL empty or a word.
    fn load_csv_file(
        &mut self,
        table: LoadTable<'_>,
        columns: &[LoadColumn],
        file: &CsvFile,
    ) -> Result<(), DbError> {
        // DuckDB reads a path with `*`, `?` or `[` as a glob.
        if file.path.to_string_lossy().contains(['*', '?', '[']) {
            return super::load_file_as_rows(self, table, columns, file);
        }
        let quote = |s: &str| format!("'{}'", s.replace('\'', "''"));
        let names: Vec<String> = columns
            .iter()
            .map(|c| AdapterKind::DuckDb.quote(&c.name))
            .collect();
        let types: Vec<String> = columns
            .iter()
            .enumerate()
            .map(|(i, c)| format!("'c{i}': {}", quote(&c.data_type)))
            .collect();
        let nulls: Vec<String> = std::iter::once("")
            .chain(crate::materialize::seed_csv::NULL_WORDS)
            .map(quote)
            .collect();
        let sql = format!(
            "insert into {} ({}) select * from read_csv({}, header = true, auto_detect = false, \
             delim = {}, quote = '\"', escape = '\"', nullstr = [{}], {}columns = {{{}}})",
            table.sql,
            names.join(", "),
            quote(&file.path.display().to_string()),
            quote(&(file.delimiter as char).to_string()),
            nulls.join(", "),
            // Short rows' missing values are NULL; DuckDB pads them only
            // when it reads the file in one thread.
            if file.short_rows {
                "null_padding = true, parallel = false, "
            } else {
                ""
            },
            types.join(", ")
        );
        self.execute(&sql)
    }

    /// Only when it is missing (as dbt-duckdb): a read-only attached
    /// database refuses even `create schema if not exists`.
    fn create_schema(&mut self, database: &str, schema: &str) -> Result<(), DbError> {
        let kind = AdapterKind::DuckDb;
        let exists = self.query(&format!(
            "select 1 from information_schema.schemata where catalog_name = '{}' and schema_name = '{}'",
            database.replace('\'', "''"),
            schema.replace('\'', "''")
        ))?;
        if !exists.rows.is_empty() {
            return Ok(());
        }
        self.execute(&format!(
            "create schema if not exists {}.{}",
            kind.quote(database),
            kind.quote(schema)
        ))
    }
}

/// A row the appender refused, named by its place among the seed's rows.
fn row_error(err: duckdb::Error, index: usize) -> DbError {
    DbError::new(format!(
        "loading row {} of the seed's data: {}",
        index + 1,
        db_error(err).message
    ))
}

fn to_cell(value: DuckValue) -> Cell {
    match value {
        DuckValue::Null => Cell::Null,
        DuckValue::Boolean(b) => Cell::Bool(b),
        DuckValue::TinyInt(i) => Cell::Int(i.into()),
        DuckValue::SmallInt(i) => Cell::Int(i.into()),
        DuckValue::Int(i) => Cell::Int(i.into()),
        DuckValue::BigInt(i) => Cell::Int(i),
        DuckValue::UTinyInt(i) => Cell::Int(i.into()),
        DuckValue::USmallInt(i) => Cell::Int(i.into()),
        DuckValue::UInt(i) => Cell::Int(i.into()),
        DuckValue::UBigInt(i) => i64::try_from(i)
            .map(Cell::Int)
            .unwrap_or_else(|_| Cell::Text(i.to_string())),
        DuckValue::HugeInt(i) => i64::try_from(i)
            .map(Cell::Int)
            .unwrap_or_else(|_| Cell::Text(i.to_string())),
        DuckValue::UHugeInt(i) => i64::try_from(i)
            .map(Cell::Int)
            .unwrap_or_else(|_| Cell::Text(i.to_string())),
        DuckValue::Float(f) => Cell::Float(f.into()),
        DuckValue::Double(f) => Cell::Float(f),
        DuckValue::Decimal(d) => Cell::Text(d.to_string()),
        DuckValue::Text(s) | DuckValue::Enum(s) => Cell::Text(s),
        DuckValue::Date32(days) => Cell::Text(
            chrono::NaiveDate::from_ymd_opt(1970, 1, 1)
                .and_then(|epoch| epoch.checked_add_signed(chrono::Duration::days(days.into())))
                .map(|d| d.to_string())
                .unwrap_or_else(|| days.to_string()),
        ),
        DuckValue::Timestamp(unit, amount) => {
            let micros = match unit {
                TimeUnit::Second => amount.saturating_mul(1_000_000),
                TimeUnit::Millisecond => amount.saturating_mul(1_000),
                TimeUnit::Microsecond => amount,
                TimeUnit::Nanosecond => amount / 1_000,
            };
            Cell::Text(
                chrono::DateTime::from_timestamp_micros(micros)
                    .map(|t| t.naive_utc().to_string())
                    .unwrap_or_else(|| amount.to_string()),
            )
        }
        other => Cell::Text(format!("{other:?}")),
    }
}

//! PostgreSQL (and engines that speak its protocol), with the `postgres`
//! crate: one client per worker, statements sent as simple queries, seeds
//! loaded with `COPY ... FROM STDIN`, the server's error positions kept so an
//! error points at its line.

use std::io::Write;
use std::time::Duration;

use postgres::types::Type;
use postgres::{Client, NoTls, SimpleQueryMessage};

use super::Target;
use super::{
    Adapter, AdapterKind, CatalogColumn, Cell, Connection, CsvFile, DbError, LoadColumn, LoadTable,
    QueryResult, SchemaLock,
};
use crate::error::{Error, Result};
use crate::secrets;

/// Connection settings read from a `type: postgres` profile output.
pub struct PostgresAdapter {
    config: postgres::Config,
    host: String,
    port: u16,
    user: String,
    /// `role:`, set on every connection.
    role: Option<String>,
}

impl PostgresAdapter {
    pub fn new(target: &Target) -> Result<PostgresAdapter> {
        let setting = |key: &str| target.setting_str(key);
        let host = setting("host").unwrap_or_else(|| "localhost".into());
        let port = match setting("port") {
            None => 5432,
            Some(p) => p.parse::<u16>().map_err(|_| {
                Error::connection(format!("`port` must be a port number, not '{p}'"))
            })?,
        };
        let user = setting("user").unwrap_or_else(|| "postgres".into());
        let mut config = postgres::Config::new();
        config
            .host(&host)
            .port(port)
            .user(&user)
            .dbname(&target.database)
            .application_name("kiln");
        if let Some(password) = setting("password") {
            secrets::register(&password);
            config.password(password);
        }
        let seconds = |key: &str| -> Result<Option<Duration>> {
            match setting(key) {
                None => Ok(None),
                Some(s) => s
                    .parse::<u64>()
                    .map(|n| Some(Duration::from_secs(n)))
                    .map_err(|_| {
                        Error::connection(format!("`{key}` must be a number of seconds, not '{s}'"))
                    }),
            }
        };
        config.connect_timeout(seconds("connect_timeout")?.unwrap_or(Duration::from_secs(10)));
        if let Some(idle) = seconds("keepalives_idle")? {
            config.keepalives_idle(idle);
        }
        if let Some(path) = setting("search_path") {
            config.options(&format!("-c search_path={}", path.replace(' ', "\\ ")));
        }
        match setting("sslmode").as_deref() {
            None | Some("disable") | Some("allow") | Some("prefer") => {
                config.ssl_mode(postgres::config::SslMode::Disable);
            }
            Some(mode) => {
                return Err(Error::connection(format!(
                    "sslmode '{mode}' needs TLS, which this build of kiln does not include"
                ))
                .with_help(
                    "use sslmode: disable or prefer, or connect through a TLS-terminating proxy",
                ));
            }
        }
        Ok(PostgresAdapter {
            config,
            host,
            port,
            user,
            role: setting("role"),
        })
    }
}

impl Adapter for PostgresAdapter {
    fn kind(&self) -> AdapterKind {
        AdapterKind::Postgres
    }

    fn connect(&self) -> Result<Box<dyn Connection>> {
        let client = self.config.connect(NoTls).map_err(|e| {
            let reason = match e.as_db_error() {
                Some(db) => db.message().to_string(),
                None => std::error::Error::source(&e)
                    .map(|s| s.to_string())
                    .unwrap_or_else(|| e.to_string()),
            };
            Error::connection(secrets::redact(&format!(
                "cannot connect to PostgreSQL at {}:{} as user '{}': {reason}",
                self.host, self.port, self.user
            )))
            .with_help(
                "check host, port, user and dbname in profiles.yml, and that the server is running",
            )
        })?;
        let mut connection = PostgresConnection {
            client,
            lost: false,
        };
        if let Some(role) = &self.role {
            connection
                .execute(&format!("set role {}", AdapterKind::Postgres.quote(role)))
                .map_err(|e| Error::connection(format!("cannot set role '{role}': {e}")))?;
        }
        Ok(Box::new(connection))
    }
}

pub struct PostgresConnection {
    client: Client,
    /// Set when an error said the connection is gone.
    lost: bool,
}

/// Whether `err` means the connection is gone: the server ended the session
/// (`pg_terminate_backend`, a shutdown, a crash: a FATAL error) or the
/// socket closed.
fn is_lost(err: &postgres::Error) -> bool {
    if err.is_closed() {
        return true;
    }
    match err.as_db_error() {
        Some(db) => matches!(db.severity(), "FATAL" | "PANIC"),
        None => std::error::Error::source(err).is_some_and(|s| s.is::<std::io::Error>()),
    }
}

/// What a lost connection is reported as.
fn lost_message(err: &postgres::Error) -> String {
    let reason = match err.as_db_error() {
        Some(db) => format!("{}: {}", db.severity(), db.message()),
        None if err.is_closed() => "the server closed the connection".to_string(),
        None => std::error::Error::source(err)
            .map(|s| s.to_string())
            .unwrap_or_else(|| err.to_string()),
    };
    format!("lost the connection to PostgreSQL ({reason})")
}

impl PostgresConnection {
    /// Sends `data` to `copy ... from stdin` statement `sql`.
    fn copy_in(&mut self, sql: &str, data: &[u8]) -> Result<(), DbError> {
        let sent = match self.client.copy_in(sql) {
            Ok(mut writer) => {
                if let Err(e) = writer.write_all(data) {
                    // Dropped unfinished: the server aborts the copy.
                    return Err(DbError::new(format!("sending rows to PostgreSQL: {e}")));
                }
                writer.finish().map(|_| ())
            }
            Err(e) => Err(e),
        };
        sent.map_err(|e| self.error(e, sql))
    }

    /// The error of a call on this connection, noting when it is gone.
    fn error(&mut self, err: postgres::Error, sql: &str) -> DbError {
        if is_lost(&err) {
            self.lost = true;
            return DbError::new(lost_message(&err));
        }
        db_error(err, sql)
    }
}

/// The key of the advisory lock named after `database.schema`: the first
/// eight bytes of its SHA-256, so that every kiln (of any version, on any
/// server) names the same schema with the same key.
fn schema_lock_key(database: &str, schema: &str) -> i64 {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(format!("kiln build into {database}.{schema}").as_bytes());
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&digest[..8]);
    i64::from_be_bytes(bytes)
}

/// The server's error: `ERROR: message`, its detail and hint, and where in
/// `sql` it points.
fn db_error(err: postgres::Error, sql: &str) -> DbError {
    let Some(db) = err.as_db_error() else {
        return DbError::new(err.to_string());
    };
    let mut message = format!("{}: {}", db.severity(), db.message());
    if let Some(detail) = db.detail() {
        message.push_str(&format!("\nDETAIL: {detail}"));
    }
    if let Some(hint) = db.hint() {
        message.push_str(&format!("\nHINT: {hint}"));
    }
    let error = DbError::new(message);
    match db.position() {
        Some(postgres::error::ErrorPosition::Original(position)) => {
            error.at_offset(sql, *position as usize)
        }
        _ => error,
    }
}

impl Connection for PostgresConnection {
    fn kind(&self) -> AdapterKind {
        AdapterKind::Postgres
    }

    /// The server cancels the running query (a cancel request on its own connection).
    fn interrupter(&self) -> Option<super::Interrupter> {
        let token = self.client.cancel_token();
        Some(std::sync::Arc::new(move || {
            let _ = token.cancel_query(NoTls);
        }))
    }

    fn execute(&mut self, sql: &str) -> Result<(), DbError> {
        self.client
            .batch_execute(sql)
            .map_err(|e| self.error(e, sql))
    }

    /// PostgreSQL describes a prepared statement: its columns' types.
    fn query_column_types(&mut self, sql: &str) -> Result<Vec<CatalogColumn>, DbError> {
        let statement = self.client.prepare(sql).map_err(|e| self.error(e, sql))?;
        Ok(statement
            .columns()
            .iter()
            .map(|c| CatalogColumn {
                name: c.name().to_string(),
                data_type: c.type_().name().to_string(),
            })
            .collect())
    }

    /// Runs `sql` as a simple query (any statement, any column type, values
    /// as text), typed by the columns the server describes for it.
    fn query(&mut self, sql: &str) -> Result<QueryResult, DbError> {
        // Describing takes one statement. A statement the server cannot
        // describe fails here with its own error (and, inside a transaction,
        // would abort it), so that error is the answer.
        let one_statement = !sql.trim().trim_end_matches(';').contains(';');
        let types: Vec<Type> = if one_statement {
            let statement = match self.client.prepare(sql) {
                Ok(statement) => statement,
                Err(e) => return Err(self.error(e, sql)),
            };
            statement
                .columns()
                .iter()
                .map(|c| c.type_().clone())
                .collect()
        } else {
            Vec::new()
        };
        let messages = match self.client.simple_query(sql) {
            Ok(messages) => messages,
            Err(e) => return Err(self.error(e, sql)),
        };
        let mut result = QueryResult::default();
        for message in messages {
            match message {
                SimpleQueryMessage::RowDescription(columns) if result.columns.is_empty() => {
                    result.columns = columns.iter().map(|c| c.name().to_string()).collect();
                }
                SimpleQueryMessage::Row(row) => {
                    if result.columns.is_empty() {
                        result.columns =
                            row.columns().iter().map(|c| c.name().to_string()).collect();
                    }
                    let cells = (0..row.len())
                        .map(|i| to_cell(row.get(i), types.get(i)))
                        .collect();
                    result.rows.push(cells);
                }
                _ => {}
            }
        }
        Ok(result)
    }

    fn is_lost(&self) -> bool {
        self.lost || self.client.is_closed()
    }

    /// A session-level advisory lock, released when the connection ends
    /// (however kiln ends); when another session holds it, which one.
    fn lock_schema(&mut self, database: &str, schema: &str) -> Result<SchemaLock, DbError> {
        let key = schema_lock_key(database, schema);
        let taken = self.query(&format!("select pg_try_advisory_lock({key})"))?;
        if matches!(
            taken.rows.first().and_then(|r| r.first()),
            Some(Cell::Bool(true))
        ) {
            return Ok(SchemaLock::Held);
        }
        // A bigint key is stored as two oids: its high and low 32 bits.
        let (high, low) = ((key as u64) >> 32, (key as u64) & 0xffff_ffff);
        let holder = self.query(&format!(
            "select l.pid, coalesce(host(a.client_addr), 'a local socket') \
             from pg_locks l left join pg_stat_activity a on a.pid = l.pid \
             where l.locktype = 'advisory' and l.granted and l.classid = {high}::oid \
             and l.objid = {low}::oid and l.objsubid = 1 limit 1"
        ))?;
        let row = holder.rows.first();
        Ok(SchemaLock::HeldElsewhere {
            pid: match row.and_then(|r| r.first()) {
                Some(Cell::Int(pid)) => Some(*pid),
                _ => None,
            },
            client: match row.and_then(|r| r.get(1)) {
                Some(Cell::Text(client)) => Some(client.clone()),
                _ => None,
            },
        })
    }

    fn create_schema(&mut self, _database: &str, schema: &str) -> Result<(), DbError> {
        self.execute(&format!(
            "create schema if not exists {}",
            AdapterKind::Postgres.quote(schema)
        ))
    }

    /// The file's own bytes through `COPY ... FROM STDIN` (empty values,
    /// quoted or not, NULL); a file with short rows or NULLs written as
    /// words, which COPY does not read so, goes as rows.
    fn load_csv_file(
        &mut self,
        table: LoadTable<'_>,
        columns: &[LoadColumn],
        file: &CsvFile,
    ) -> Result<(), DbError> {
        if file.short_rows || file.null_words || !file.delimiter.is_ascii() {
            return super::load_file_as_rows(self, table, columns, file);
        }
        let data = std::fs::read(&file.path)
            .map_err(|e| DbError::new(format!("reading {}: {e}", file.path.display())))?;
        let names: Vec<String> = columns
            .iter()
            .map(|c| AdapterKind::Postgres.quote(&c.name))
            .collect();
        let delimiter = (file.delimiter as char).to_string().replace('\'', "''");
        let sql = format!(
            "copy {} ({}) from stdin with (format csv, header true, delimiter '{delimiter}', force_null ({}))",
            table.sql,
            names.join(", "),
            names.join(", ")
        );
        self.copy_in(&sql, &data)
    }

    /// From `pg_class`, which has materialized views (information_schema
    /// has none).
    fn list_relations(
        &mut self,
        database: &str,
        schema: &str,
    ) -> Result<Vec<super::CatalogRelation>, DbError> {
        let sql = relations_sql(database, schema, None);
        Ok(super::catalog_relations(self.query(&sql)?))
    }

    fn find_relation(
        &mut self,
        database: &str,
        schema: &str,
        name: &str,
    ) -> Result<Option<super::CatalogRelation>, DbError> {
        let sql = relations_sql(database, schema, Some(name));
        Ok(super::catalog_relations(self.query(&sql)?)
            .into_iter()
            .next())
    }

    /// `COPY ... FROM STDIN` in CSV form: every value quoted, NULL unquoted.
    fn load_rows(
        &mut self,
        table: LoadTable<'_>,
        columns: &[LoadColumn],
        rows: &[Vec<Option<String>>],
    ) -> Result<(), DbError> {
        let relation = table.sql;
        let column_list: Vec<String> = columns
            .iter()
            .map(|c| AdapterKind::Postgres.quote(&c.name))
            .collect();
        let sql = format!(
            "copy {relation} ({}) from stdin with (format csv)",
            column_list.join(", ")
        );
        let mut data = Vec::new();
        for row in rows {
            for (i, value) in row.iter().enumerate() {
                if i > 0 {
                    data.push(b',');
                }
                if let Some(value) = value {
                    data.push(b'"');
                    data.extend_from_slice(value.replace('"', "\"\"").as_bytes());
                    data.push(b'"');
                }
            }
            data.push(b'\n');
        }
        self.copy_in(&sql, &data)
    }
}

/// The tables, views and materialized views of a schema (one of them, by
/// `name`), as rows of (catalog, schema, name, type).
fn relations_sql(database: &str, schema: &str, name: Option<&str>) -> String {
    let literal = |s: &str| format!("'{}'", s.replace('\'', "''"));
    format!(
        "select {}::text, n.nspname::text, c.relname::text, \
         case c.relkind when 'v' then 'VIEW' when 'm' then 'MATERIALIZED VIEW' else 'BASE TABLE' end \
         from pg_class c join pg_namespace n on n.oid = c.relnamespace \
         where c.relkind in ('r', 'p', 'v', 'm', 'f') and n.nspname = {}{} \
         and current_database() = {} order by c.relname",
        literal(database),
        literal(schema),
        name.map(|n| format!(" and c.relname = {}", literal(n)))
            .unwrap_or_default(),
        literal(database)
    )
}

fn to_cell(text: Option<&str>, data_type: Option<&Type>) -> Cell {
    let Some(text) = text else {
        return Cell::Null;
    };
    match data_type {
        Some(t) if *t == Type::BOOL => Cell::Bool(text == "t"),
        Some(t) if [Type::INT2, Type::INT4, Type::INT8, Type::OID].contains(t) => text
            .parse()
            .map(Cell::Int)
            .unwrap_or_else(|_| Cell::Text(text.to_string())),
        Some(t) if [Type::FLOAT4, Type::FLOAT8].contains(t) => text
            .parse()
            .map(Cell::Float)
            .unwrap_or_else(|_| Cell::Text(text.to_string())),
        _ => Cell::Text(text.to_string()),
    }
}

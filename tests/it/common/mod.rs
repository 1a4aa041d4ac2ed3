//! Fixture projects for the integration tests: a temporary directory with a
//! dbt project and a profiles.yml pointing at a DuckDB file inside it, or at
//! a schema of its own on the PostgreSQL server, the real `kiln` binary run
//! against it, and the database read back.
//!
//! The server is `$KILN_TEST_POSTGRES` (libpq key=value settings), by default
//! `host=127.0.0.1 port=5432 user=postgres dbname=test`. Each fixture builds
//! in its own schema, dropped afterwards, so tests run in parallel.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use assert_cmd::Command;

/// The databases the conformance tests run on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Db {
    DuckDb,
    Postgres,
}

pub struct Fixture {
    pub dir: tempfile::TempDir,
    pub db: Db,
    /// The target schema: `main` on DuckDB, the fixture's own on PostgreSQL.
    pub schema: String,
}

/// Runs each named test function (taking a `Db`) once per adapter, as
/// `on_duckdb::name` and `on_postgres::name`.
#[macro_export]
macro_rules! on_each_adapter {
    ($($name:ident),* $(,)?) => {
        mod on_duckdb {
            $( #[test] fn $name() { super::$name($crate::common::Db::DuckDb) } )*
        }
        mod on_postgres {
            $( #[test] fn $name() { super::$name($crate::common::Db::Postgres) } )*
        }
    };
}

/// The PostgreSQL server the tests use, as libpq key=value settings.
pub fn postgres_settings() -> String {
    std::env::var("KILN_TEST_POSTGRES")
        .unwrap_or_else(|_| "host=127.0.0.1 port=5432 user=postgres dbname=test".to_string())
}

fn postgres_setting(key: &str) -> Option<String> {
    postgres_settings().split_whitespace().find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (k == key).then(|| v.to_string())
    })
}

fn postgres_client() -> postgres::Client {
    postgres::Client::connect(&postgres_settings(), postgres::NoTls)
        .unwrap_or_else(|e| panic!("PostgreSQL at {} is needed: {e}", postgres_settings()))
}

/// `text` with LIKE's wildcards escaped, to match it literally.
fn like_escape(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('_', "\\_")
        .replace('%', "\\%")
}

static SCHEMAS: AtomicUsize = AtomicUsize::new(0);

/// A schema name no other fixture (of this or another test process) uses.
fn unique_schema() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "kiln_t{}_{}_{}",
        std::process::id(),
        SCHEMAS.fetch_add(1, Ordering::SeqCst),
        nanos % 100_000
    )
}

impl Drop for Fixture {
    fn drop(&mut self) {
        if self.db != Db::Postgres {
            return;
        }
        if let Ok(mut client) = postgres::Client::connect(&postgres_settings(), postgres::NoTls) {
            let schemas: Vec<String> = client
                .query(
                    "select nspname::text from pg_namespace where nspname = $1 or nspname like $2",
                    &[&self.schema, &format!("{}\\_%", like_escape(&self.schema))],
                )
                .map(|rows| rows.iter().map(|r| r.get(0)).collect())
                .unwrap_or_default();
            for schema in schemas {
                let _ =
                    client.batch_execute(&format!("drop schema if exists \"{schema}\" cascade"));
            }
        }
    }
}

pub struct Output {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// `text` as words: whitespace runs and a diagnostic's gutter (`│`) made
/// single spaces.
pub fn words(text: &str) -> String {
    text.replace('│', " ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

impl Output {
    /// Both streams, for assertions that don't care which one a line is on.
    pub fn all(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }

    /// Both streams as words, a diagnostic's line wrapping and gutter (`│`)
    /// undone, so that a sentence can be looked for whole.
    pub fn words(&self) -> String {
        words(&self.all())
    }
}

impl Fixture {
    /// An empty project named `proj` with a DuckDB profile.
    pub fn new() -> Fixture {
        Fixture::new_on(Db::DuckDb)
    }

    /// An empty project named `proj` whose profile points at `db`.
    pub fn new_on(db: Db) -> Fixture {
        let fixture = Fixture::empty(db);
        fixture.write(
            "dbt_project.yml",
            "name: proj\nprofile: proj\nconfig-version: 2\n",
        );
        fixture.write_profile("proj");
        fixture
    }

    fn empty(db: Db) -> Fixture {
        Fixture {
            dir: tempfile::tempdir().expect("temp dir"),
            db,
            schema: match db {
                Db::DuckDb => "main".to_string(),
                Db::Postgres => unique_schema(),
            },
        }
    }

    /// A copy of a directory of the repository (e.g. `example_project`).
    pub fn copy_of(relative: &str) -> Fixture {
        let fixture = Fixture::empty(Db::DuckDb);
        let source = Path::new(env!("CARGO_MANIFEST_DIR")).join(relative);
        copy_dir(&source, fixture.path());
        fixture
    }

    /// A copy of a fixture project whose profiles.yml (written here) points
    /// the profile `profile` at the fixture's DuckDB file.
    pub fn project(relative: &str, profile: &str) -> Fixture {
        Fixture::project_on(Db::DuckDb, relative, profile)
    }

    /// A copy of a fixture project built on `db`.
    pub fn project_on(db: Db, relative: &str, profile: &str) -> Fixture {
        let fixture = Fixture::empty(db);
        let source = Path::new(env!("CARGO_MANIFEST_DIR")).join(relative);
        copy_dir(&source, fixture.path());
        fixture.write_profile(profile);
        fixture
    }

    /// profiles.yml with the profile `profile` pointing at the fixture's database.
    pub fn write_profile(&self, profile: &str) {
        let output = match self.db {
            Db::DuckDb => format!(
                "type: duckdb\n      path: '{}'\n      threads: 2",
                self.db_path().display()
            ),
            Db::Postgres => format!(
                "type: postgres\n      host: '{}'\n      port: {}\n      user: '{}'\n      password: '{}'\n      dbname: '{}'\n      schema: '{}'\n      threads: 2",
                postgres_setting("host").unwrap_or_else(|| "127.0.0.1".into()),
                postgres_setting("port").unwrap_or_else(|| "5432".into()),
                postgres_setting("user").unwrap_or_else(|| "postgres".into()),
                postgres_setting("password").unwrap_or_default(),
                postgres_setting("dbname").unwrap_or_else(|| "test".into()),
                self.schema,
            ),
        };
        self.write(
            "profiles.yml",
            &format!("{profile}:\n  target: dev\n  outputs:\n    dev:\n      {output}\n"),
        );
    }

    /// `text` with `{schema}` and `{db}` replaced by the fixture's.
    pub fn sql(&self, text: &str) -> String {
        text.replace("{schema}", &self.schema)
            .replace("{db}", &self.database())
    }

    /// The database name relations are rendered with (`"test"."schema"."x"`).
    pub fn database(&self) -> String {
        match self.db {
            Db::DuckDb => "test".to_string(),
            Db::Postgres => postgres_setting("dbname").unwrap_or_else(|| "test".into()),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn db_path(&self) -> PathBuf {
        self.path().join("test.duckdb")
    }

    pub fn write(&self, relative: &str, text: &str) -> &Self {
        let path = self.path().join(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
        self
    }

    pub fn read(&self, relative: &str) -> String {
        std::fs::read_to_string(self.path().join(relative))
            .unwrap_or_else(|e| panic!("reading {relative}: {e}"))
    }

    /// Runs `kiln <args>` in the project directory.
    pub fn kiln(&self, args: &[&str]) -> Output {
        self.kiln_env(args, &[])
    }

    pub fn kiln_env(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        let mut cmd = Command::cargo_bin("kiln").expect("kiln binary");
        cmd.current_dir(self.path())
            .args(args)
            .env_remove("DBT_PROFILES_DIR");
        for (k, v) in env {
            cmd.env(k, v);
        }
        let out = cmd.output().expect("kiln runs");
        Output {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).to_string(),
            stderr: String::from_utf8_lossy(&out.stderr).to_string(),
        }
    }

    /// Each node's status in target/run_results.json, by unique id.
    pub fn statuses(&self) -> std::collections::BTreeMap<String, String> {
        let json: serde_json::Value =
            serde_json::from_str(&self.read("target/run_results.json")).expect("run_results.json");
        json["results"]
            .as_array()
            .expect("results")
            .iter()
            .map(|r| {
                (
                    r["unique_id"].as_str().expect("unique_id").to_string(),
                    r["status"].as_str().expect("status").to_string(),
                )
            })
            .collect()
    }

    /// Runs `sql` on the fixture's database; every value as text ("NULL"
    /// for null, booleans as `true`/`false`). `{schema}` and `{db}` in it
    /// stand for the fixture's target schema and database.
    pub fn query(&self, sql: &str) -> Vec<Vec<String>> {
        let sql = self.sql(sql);
        let sql = sql.as_str();
        match self.db {
            Db::DuckDb => query_duckdb(&self.db_path(), sql),
            Db::Postgres => query_postgres(sql),
        }
    }
}

pub fn query_postgres(sql: &str) -> Vec<Vec<String>> {
    let mut client = postgres_client();
    let statement = client.prepare(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
    let bools: Vec<bool> = statement
        .columns()
        .iter()
        .map(|c| *c.type_() == postgres::types::Type::BOOL)
        .collect();
    let mut out = Vec::new();
    for message in client
        .simple_query(sql)
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
    {
        if let postgres::SimpleQueryMessage::Row(row) = message {
            out.push(
                (0..row.len())
                    .map(|i| match (row.get(i), bools.get(i)) {
                        (None, _) => "NULL".to_string(),
                        (Some("t"), Some(true)) => "true".to_string(),
                        (Some("f"), Some(true)) => "false".to_string(),
                        (Some(v), _) => v.to_string(),
                    })
                    .collect(),
            );
        }
    }
    out
}

pub fn query_duckdb(path: &Path, sql: &str) -> Vec<Vec<String>> {
    let conn = duckdb::Connection::open(path).expect("open duckdb");
    let wrapped = format!("select * from ({sql}) as q");
    let mut stmt = conn
        .prepare(&wrapped)
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    let mut rows = stmt.query([]).unwrap();
    let count = rows.as_ref().unwrap().column_count();
    let mut out = Vec::new();
    while let Some(row) = rows.next().unwrap() {
        let mut cells = Vec::new();
        for i in 0..count {
            let v: duckdb::types::Value = row.get(i).unwrap();
            cells.push(match v {
                duckdb::types::Value::Null => "NULL".to_string(),
                duckdb::types::Value::Text(s) => s,
                duckdb::types::Value::Boolean(b) => b.to_string(),
                duckdb::types::Value::Int(i) => i.to_string(),
                duckdb::types::Value::BigInt(i) => i.to_string(),
                duckdb::types::Value::HugeInt(i) => i.to_string(),
                duckdb::types::Value::Double(f) => f.to_string(),
                duckdb::types::Value::Decimal(d) => d.to_string(),
                other => format!("{other:?}"),
            });
        }
        out.push(cells);
    }
    out
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name();
        let name_str = name.to_string_lossy();
        if name_str == "target" || name_str.ends_with(".duckdb") || name_str.ends_with(".wal") {
            continue;
        }
        let dest = to.join(&name);
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &dest);
        } else {
            std::fs::copy(entry.path(), dest).unwrap();
        }
    }
}

/// Rows as `a|b|c` lines, for compact assertions.
pub fn lines(rows: &[Vec<String>]) -> Vec<String> {
    rows.iter().map(|r| r.join("|")).collect()
}

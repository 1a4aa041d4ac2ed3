//! Fixture projects for the integration tests: a temporary directory with a
//! dbt project and a profiles.yml pointing at a DuckDB file inside it, the
//! real `kiln` binary run against it, and the DuckDB file read back.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use assert_cmd::Command;

pub struct Fixture {
    pub dir: tempfile::TempDir,
}

pub struct Output {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    /// Both streams, for assertions that don't care which one a line is on.
    pub fn all(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }
}

impl Fixture {
    /// An empty project named `proj` with a DuckDB profile.
    pub fn new() -> Fixture {
        let fixture = Fixture {
            dir: tempfile::tempdir().expect("temp dir"),
        };
        fixture.write(
            "dbt_project.yml",
            "name: proj\nprofile: proj\nconfig-version: 2\n",
        );
        let db = fixture.db_path();
        fixture.write(
            "profiles.yml",
            &format!(
                "proj:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n      path: '{}'\n      threads: 2\n",
                db.display()
            ),
        );
        fixture
    }

    /// A copy of a directory of the repository (e.g. `example_project`).
    pub fn copy_of(relative: &str) -> Fixture {
        let fixture = Fixture {
            dir: tempfile::tempdir().expect("temp dir"),
        };
        let source = Path::new(env!("CARGO_MANIFEST_DIR")).join(relative);
        copy_dir(&source, fixture.path());
        fixture
    }

    /// A copy of a fixture project whose profiles.yml (written here) points
    /// the profile `profile` at the fixture's DuckDB file.
    pub fn project(relative: &str, profile: &str) -> Fixture {
        let fixture = Fixture::copy_of(relative);
        let db = fixture.db_path();
        fixture.write(
            "profiles.yml",
            &format!(
                "{profile}:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n      path: '{}'\n      threads: 2\n",
                db.display()
            ),
        );
        fixture
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

    /// Runs `sql` on the fixture's DuckDB file; every value as text ("NULL" for null).
    pub fn query(&self, sql: &str) -> Vec<Vec<String>> {
        query_duckdb(&self.db_path(), sql)
    }
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

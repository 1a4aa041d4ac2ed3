//! A large seed: `kiln seed` of one CSV file against the database loading
//! the same file by itself — DuckDB's `read_csv` with the column types
//! pinned to those kiln infers (and dbt declares), PostgreSQL's
//! `COPY ... FROM STDIN` of the file's bytes into a table of those types.
//!
//! The file has one column of each type dbt infers for a seed: integer,
//! text, date, number (decimals), boolean and timestamp.

use std::fmt::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};

/// The columns of the file, with the types dbt infers for them.
pub const COLUMNS: [(&str, &str); 6] = [
    ("id", "integer"),
    ("customer", "text"),
    ("ordered_on", "date"),
    ("amount", "float8"),
    ("paid", "boolean"),
    ("updated_at", "timestamp without time zone"),
];

/// Writes a project of one seed of `rows` rows into `dir`, building into
/// `schema` (`profile` is the output's connection keys, indented).
pub fn write_project(dir: &Path, rows: usize, profile: &str, schema: &str) {
    std::fs::create_dir_all(dir.join("seeds")).unwrap();
    std::fs::write(
        dir.join("dbt_project.yml"),
        "name: seeded\nversion: '1.0'\nprofile: seeded\nseed-paths: [seeds]\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("profiles.yml"),
        format!(
            "seeded:\n  target: bench\n  outputs:\n    bench:\n{profile}      schema: {schema}\n      threads: 1\n"
        ),
    )
    .unwrap();
    std::fs::write(dir.join("seeds/orders.csv"), csv(rows)).unwrap();
}

fn csv(rows: usize) -> String {
    let names = ["ada", "grace", "edsger", "barbara", "donald", "frances"];
    let mut text = String::with_capacity(rows * 64);
    let header: Vec<&str> = COLUMNS.iter().map(|(name, _)| *name).collect();
    text.push_str(&header.join(","));
    text.push('\n');
    for id in 1..=rows {
        let _ = writeln!(
            text,
            "{id},{} {},2024-{:02}-{:02},{}.{:02},{},2024-{:02}-{:02} {:02}:{:02}:{:02}",
            names[id % names.len()],
            id % 997,
            1 + id % 12,
            1 + id % 28,
            (id * 37) % 10_000,
            id % 100,
            id % 3 == 0,
            1 + (id / 7) % 12,
            1 + (id / 3) % 28,
            id % 24,
            id % 60,
            (id / 60) % 60,
        );
    }
    text
}

/// The table kiln's seed creates, as DDL.
fn create_table(relation: &str) -> String {
    let columns: Vec<String> = COLUMNS
        .iter()
        .map(|(name, data_type)| format!("{name} {data_type}"))
        .collect();
    format!("create table {relation} ({})", columns.join(", "))
}

/// DuckDB reading the file by itself into a new database file.
pub fn duckdb_limit(database: &Path, csv: &Path) -> Duration {
    let start = Instant::now();
    let conn = duckdb::Connection::open(database).unwrap();
    let types: Vec<String> = COLUMNS
        .iter()
        .map(|(name, data_type)| format!("'{name}': '{data_type}'"))
        .collect();
    conn.execute_batch(&format!(
        "create table main.orders as select * from read_csv('{}', header = true, columns = {{{}}})",
        csv.display(),
        types.join(", ")
    ))
    .unwrap();
    start.elapsed()
}

/// PostgreSQL copying the file's bytes into a new table of kiln's types.
pub fn postgres_limit(client: &mut postgres::Client, schema: &str, csv: &Path) -> Duration {
    use std::io::Write as _;
    let start = Instant::now();
    let data = std::fs::read(csv).unwrap();
    client
        .batch_execute(&format!(
            "create schema if not exists {schema}; {}",
            create_table(&format!("{schema}.orders"))
        ))
        .unwrap();
    let mut writer = client
        .copy_in(&format!(
            "copy {schema}.orders from stdin with (format csv, header true)"
        ))
        .unwrap();
    writer.write_all(&data).unwrap();
    writer.finish().unwrap();
    start.elapsed()
}

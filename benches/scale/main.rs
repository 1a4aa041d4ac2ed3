//! kiln against the physical limit, at scale. Run by hand:
//!
//! ```sh
//! benches/run                          # N = 1,000 and 10,000; DuckDB, PostgreSQL, TPC-H
//! benches/run --sizes 1000 --runs 3 --no-postgres --tpch-scale 0
//! ```
//!
//! For each size it writes a synthetic project (`generate.rs`) and measures
//! - `kiln compile` from nothing, and again after one file is edited (the
//!   partial parse), with peak memory from `/usr/bin/time -v`;
//! - `kiln build` against the same statements replayed directly through the
//!   database crate (`direct.rs`) on DuckDB and PostgreSQL, alternating the
//!   two so that both see the same machine.
//!
//! - `kiln seed` of a CSV of 100,000 and 1,000,000 rows against the database
//!   loading the same file by itself (`seed.rs`), with `dbt seed` beside it
//!   when `--dbt` names a dbt executable.
//!
//! Every figure is the median of `--runs` runs; the ratios compare figures
//! of one run of this program. It prints a Markdown table for the README.

mod direct;
mod generate;
mod seed;
mod tpch;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;

#[derive(Parser)]
struct Args {
    /// Project sizes, in models.
    #[arg(long, value_delimiter = ',', default_value = "1000,10000")]
    sizes: Vec<usize>,
    /// Runs of each measurement; the median is reported.
    #[arg(long, default_value_t = 5)]
    runs: usize,
    /// Skip the PostgreSQL builds.
    #[arg(long)]
    no_postgres: bool,
    /// Skip the compile measurements.
    #[arg(long)]
    no_compile: bool,
    /// Skip the DuckDB builds of the synthetic projects.
    #[arg(long)]
    no_duckdb: bool,
    /// libpq settings of the PostgreSQL server (database `test` by default).
    #[arg(
        long,
        default_value = "host=127.0.0.1 port=5432 user=postgres dbname=test"
    )]
    postgres: String,
    /// TPC-H scale factor for the data-heavy case (0 skips it); needs
    /// `tpchgen-cli` (`cargo install tpchgen-cli`).
    #[arg(long, default_value_t = 0.1)]
    tpch_scale: f64,
    /// Rows of the large-seed case (empty skips it).
    #[arg(long, value_delimiter = ',', default_value = "100000,1000000")]
    seed_rows: Vec<usize>,
    /// A dbt executable (with dbt-duckdb and dbt-postgres) to time `dbt seed`
    /// beside kiln in the large-seed case.
    #[arg(long)]
    dbt: Option<PathBuf>,
    /// Where the projects are written (kept afterwards).
    #[arg(long, default_value = "target/bench")]
    work_dir: PathBuf,
    // `cargo bench` passes `--bench`; accept and ignore it.
    #[arg(long, hide = true)]
    bench: bool,
}

fn main() {
    let args = Args::parse();
    let _ = std::fs::remove_dir_all(&args.work_dir);
    std::fs::create_dir_all(&args.work_dir).unwrap();
    let work = args.work_dir.canonicalize().unwrap();
    let mut table = Table::default();
    for &size in args.sizes.iter().filter(|&&size| size > 0) {
        if !args.no_compile {
            compile_case(&work, size, args.runs, &mut table);
        }
        if !args.no_duckdb {
            duckdb_case(&work, size, args.runs, &mut table);
        }
        if !args.no_postgres {
            postgres_case(&work, size, args.runs, &args.postgres, &mut table);
        }
    }
    if args.tpch_scale > 0.0 {
        tpch_case(&work, args.tpch_scale, args.runs, &mut table);
    }
    for &rows in args.seed_rows.iter().filter(|&&rows| rows > 0) {
        if !args.no_duckdb {
            seed_duckdb_case(&work, rows, args.runs, args.dbt.as_deref(), &mut table);
        }
        if !args.no_postgres {
            seed_postgres_case(
                &work,
                rows,
                args.runs,
                &args.postgres,
                args.dbt.as_deref(),
                &mut table,
            );
        }
    }
    println!("\n{}", table.markdown());
}

/// The rows of the results table.
#[derive(Default)]
struct Table {
    rows: Vec<[String; 5]>,
}

impl Table {
    fn row(&mut self, case: String, kiln: String, limit: String, ratio: String, note: String) {
        eprintln!("  {case}: {kiln} | {limit} | {ratio} | {note}");
        self.rows.push([case, kiln, limit, ratio, note]);
    }

    fn markdown(&self) -> String {
        let mut text = String::from(
            "| case | kiln | limit | kiln / limit | notes |\n|---|---:|---:|---:|---|\n",
        );
        for row in &self.rows {
            text.push_str(&format!("| {} |\n", row.join(" | ")));
        }
        text
    }
}

/// Wall time and peak resident memory (KiB) of one run of `command`.
fn measure(dir: &Path, command: &[&str]) -> (Duration, u64) {
    let report = dir.join(".time-report");
    let start = Instant::now();
    let output = Command::new("/usr/bin/time")
        .arg("-v")
        .arg("-o")
        .arg(&report)
        .arg(env!("CARGO_BIN_EXE_kiln"))
        .args(command)
        .current_dir(dir)
        .output()
        .expect("/usr/bin/time (Debian package `time`)");
    let elapsed = start.elapsed();
    assert!(
        output.status.success(),
        "kiln {command:?} failed in {}:\n{}{}",
        dir.display(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let report = std::fs::read_to_string(&report).unwrap();
    let rss = report
        .lines()
        .find_map(|l| {
            l.trim()
                .strip_prefix("Maximum resident set size (kbytes): ")
        })
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    (elapsed, rss)
}

fn median<T: Copy + Ord>(mut values: Vec<T>) -> T {
    values.sort();
    values[values.len() / 2]
}

fn seconds(d: Duration) -> String {
    if d < Duration::from_secs(1) {
        format!("{:.0} ms", d.as_secs_f64() * 1000.0)
    } else {
        format!("{:.2} s", d.as_secs_f64())
    }
}

fn ratio(a: Duration, b: Duration) -> String {
    format!("{:.2}x", a.as_secs_f64() / b.as_secs_f64())
}

fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `kiln compile` three ways: from nothing (no target/), rendering every
/// node again over an earlier compile (`--no-partial-parse`), and after one
/// model is edited (partial parsing). The limit of the first is the file
/// system: writing the same compiled files (`cp -r` of target/compiled);
/// the others are held to the compile from nothing.
fn compile_case(work: &Path, size: usize, runs: usize, table: &mut Table) {
    let dir = work.join(format!("compile_{size}"));
    std::fs::create_dir_all(&dir).unwrap();
    generate::write_project(&dir, size, generate::Target::DuckDb, "bench.duckdb", "main");
    eprintln!("compile, {size} models");
    let (mut cold, mut copy, mut memory) = (Vec::new(), Vec::new(), Vec::new());
    let copied = work.join(format!("compiled_copy_{size}"));
    for _ in 0..runs {
        let _ = std::fs::remove_dir_all(dir.join("target"));
        let (time, rss) = measure(&dir, &["compile", "-q"]);
        cold.push(time);
        memory.push(rss);
        let _ = std::fs::remove_dir_all(&copied);
        let start = Instant::now();
        let status = Command::new("cp")
            .arg("-r")
            .arg(dir.join("target/compiled"))
            .arg(&copied)
            .status()
            .unwrap();
        assert!(status.success());
        copy.push(start.elapsed());
    }
    let (mut again, mut again_memory) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        let (time, rss) = measure(&dir, &["compile", "-q", "--no-partial-parse"]);
        again.push(time);
        again_memory.push(rss);
    }
    let (mut warm, mut warm_memory) = (Vec::new(), Vec::new());
    let edited = dir.join("models/staging/sta_00000.sql");
    let original = std::fs::read_to_string(&edited).unwrap();
    for run in 0..runs {
        std::fs::write(&edited, format!("{original}-- edit {run}\n")).unwrap();
        let (time, rss) = measure(&dir, &["compile", "-q"]);
        warm.push(time);
        warm_memory.push(rss);
    }
    let (cold, copy) = (median(cold), median(copy));
    let (again, warm) = (median(again), median(warm));
    let files = thousands(count_files(&dir.join("target/compiled")));
    table.row(
        format!("compile {} models, from nothing", thousands(size)),
        seconds(cold),
        seconds(copy),
        ratio(cold, copy),
        format!(
            "limit: `cp -r` of the {files} compiled files; peak memory {} MB",
            median(memory) / 1024
        ),
    );
    table.row(
        format!(
            "compile {} models, every node rendered again",
            thousands(size)
        ),
        seconds(again),
        seconds(cold),
        ratio(again, cold),
        format!(
            "`--no-partial-parse`, files unchanged; peak memory {} MB",
            median(again_memory) / 1024
        ),
    );
    table.row(
        format!("compile {} models, one file edited", thousands(size)),
        seconds(warm),
        seconds(cold),
        ratio(warm, cold),
        format!(
            "partial parse; peak memory {} MB",
            median(warm_memory) / 1024
        ),
    );
}

fn count_files(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| match e.file_type() {
                    Ok(t) if t.is_dir() => count_files(&e.path()),
                    _ => 1,
                })
                .sum()
        })
        .unwrap_or(0)
}

/// The nodes a build ran statements for (ephemeral models run none).
fn executed_nodes(dir: &Path) -> usize {
    let results: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("target/run_results.json")).unwrap(),
    )
    .unwrap();
    results["results"].as_array().unwrap().len()
}

fn build_row(
    table: &mut Table,
    case: String,
    nodes: usize,
    kiln: Vec<Duration>,
    direct: Vec<Duration>,
) {
    let (kiln, direct) = (median(kiln), median(direct));
    let overhead = kiln.saturating_sub(direct).as_secs_f64() * 1000.0 / nodes as f64;
    table.row(
        case,
        seconds(kiln),
        seconds(direct),
        ratio(kiln, direct),
        format!(
            "{} nodes; {overhead:.2} ms a node over the limit",
            thousands(nodes)
        ),
    );
}

fn remove_duckdb(path: &Path) {
    let _ = std::fs::remove_file(path);
    let _ = std::fs::remove_file(path.with_extension("duckdb.wal"));
}

fn duckdb_sessions(path: &Path, threads: usize) -> Vec<direct::DuckDbSession> {
    let first = duckdb::Connection::open(path).unwrap();
    let mut sessions = Vec::new();
    for _ in 1..threads {
        sessions.push(direct::DuckDbSession(first.try_clone().unwrap()));
    }
    sessions.insert(0, direct::DuckDbSession(first));
    sessions
}

/// `kiln build` on DuckDB against the replay of its statements.
fn duckdb_case(work: &Path, size: usize, runs: usize, table: &mut Table) {
    let dir = work.join(format!("duckdb_{size}"));
    std::fs::create_dir_all(&dir).unwrap();
    generate::write_project(&dir, size, generate::Target::DuckDb, "bench.duckdb", "main");
    eprintln!("build on DuckDB, {size} models");
    let database = dir.join("bench.duckdb");
    let (mut kiln_times, mut direct_times) = (Vec::new(), Vec::new());
    let mut steps = None;
    for _ in 0..runs {
        remove_duckdb(&database);
        kiln_times.push(measure(&dir, &["build", "-q"]).0);
        let steps = steps
            .get_or_insert_with(|| Arc::new(direct::plan(&dir)))
            .clone();
        remove_duckdb(&database);
        let sessions = duckdb_sessions(&database, 4);
        direct_times.push(direct::replay(steps, sessions, &["main".to_string()]));
    }
    build_row(
        table,
        format!("build {} models, DuckDB", thousands(size)),
        executed_nodes(&dir),
        kiln_times,
        direct_times,
    );
}

/// `kiln build` on PostgreSQL against the replay of its statements.
fn postgres_case(work: &Path, size: usize, runs: usize, conninfo: &str, table: &mut Table) {
    let dir = work.join(format!("postgres_{size}"));
    std::fs::create_dir_all(&dir).unwrap();
    let schema = format!("kiln_bench_{size}");
    let config: postgres::Config = conninfo.parse().unwrap();
    let database = config.get_dbname().unwrap_or("test").to_string();
    generate::write_project(&dir, size, generate::Target::Postgres, &database, &schema);
    eprintln!("build on PostgreSQL, {size} models");
    let connect = || {
        config
            .connect(postgres::NoTls)
            .expect("PostgreSQL on --postgres")
    };
    // A schema of ten thousand relations cannot be dropped in one
    // transaction (each relation takes a lock: "out of shared memory"), so
    // its relations go a few hundred at a time first.
    let reset = || {
        let mut client = connect();
        loop {
            let rows = client
                .query(
                    "select table_name, table_type from information_schema.tables \
                     where table_schema = $1 order by table_type desc limit 300",
                    &[&schema],
                )
                .unwrap();
            if rows.is_empty() {
                break;
            }
            let drops: String = rows
                .iter()
                .map(|row| {
                    let (name, kind): (String, String) = (row.get(0), row.get(1));
                    let what = if kind == "VIEW" { "view" } else { "table" };
                    format!("drop {what} if exists \"{schema}\".\"{name}\" cascade;")
                })
                .collect();
            client.batch_execute(&drops).unwrap();
        }
        client
            .batch_execute(&format!("drop schema if exists {schema} cascade"))
            .unwrap()
    };
    let (mut kiln_times, mut direct_times) = (Vec::new(), Vec::new());
    let mut steps = None;
    for _ in 0..runs {
        reset();
        kiln_times.push(measure(&dir, &["build", "-q"]).0);
        let steps = steps
            .get_or_insert_with(|| Arc::new(direct::plan(&dir)))
            .clone();
        reset();
        let start = Instant::now();
        let sessions: Vec<_> = (0..4).map(|_| direct::PostgresSession(connect())).collect();
        let connected = start.elapsed();
        direct_times
            .push(connected + direct::replay(steps, sessions, std::slice::from_ref(&schema)));
    }
    reset();
    build_row(
        table,
        format!("build {} models, PostgreSQL", thousands(size)),
        executed_nodes(&dir),
        kiln_times,
        direct_times,
    );
}

/// TPC-H under staging views and mart tables, on DuckDB.
fn tpch_case(work: &Path, scale: f64, runs: usize, table: &mut Table) {
    let data = work.join("tpch_data");
    eprintln!("TPC-H data at scale {scale}");
    let status = Command::new("tpchgen-cli")
        .args([
            "parquet",
            "--scale-factor",
            &scale.to_string(),
            "--output-dir",
        ])
        .arg(&data)
        .status();
    if !matches!(status, Ok(s) if s.success()) {
        eprintln!("  skipped: tpchgen-cli is missing (cargo install tpchgen-cli)");
        return;
    }
    let dir = work.join("tpch");
    std::fs::create_dir_all(&dir).unwrap();
    tpch::write_project(&dir, &data, "bench.duckdb");
    let database = dir.join("bench.duckdb");
    let (mut kiln_times, mut direct_times) = (Vec::new(), Vec::new());
    let mut steps = None;
    for _ in 0..runs {
        remove_duckdb(&database);
        kiln_times.push(measure(&dir, &["build", "-q"]).0);
        let steps = steps
            .get_or_insert_with(|| Arc::new(direct::plan(&dir)))
            .clone();
        remove_duckdb(&database);
        let sessions = duckdb_sessions(&database, 4);
        direct_times.push(direct::replay(steps, sessions, &["main".to_string()]));
    }
    build_row(
        table,
        format!("build TPC-H at scale {scale}, DuckDB"),
        executed_nodes(&dir),
        kiln_times,
        direct_times,
    );
}

/// `dbt seed` in `dir`, timed (its own files kept apart from kiln's).
fn dbt_seed(dbt: &Path, dir: &Path) -> Duration {
    let start = Instant::now();
    let output = Command::new(dbt)
        .args([
            "seed",
            "--profiles-dir",
            ".",
            "--target-path",
            "dbt_target",
            "-q",
        ])
        .current_dir(dir)
        .output()
        .expect("the --dbt executable");
    assert!(
        output.status.success(),
        "dbt seed failed in {}:\n{}{}",
        dir.display(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    start.elapsed()
}

/// A large-seed row of the table: the medians of kiln's, the limit's and
/// dbt's times (when it ran), and whether the catalog had dbt's types.
fn seed_row(table: &mut Table, case: String, times: [Vec<Duration>; 3], types: Vec<String>) {
    let [kiln, limit, dbt] = times;
    let (kiln, limit) = (median(kiln), median(limit));
    let dbt = (!dbt.is_empty()).then(|| median(dbt));
    table.row(
        case,
        seconds(kiln),
        seconds(limit),
        ratio(kiln, limit),
        seed_note(seed_types_match(types), dbt, kiln),
    );
}

/// The note of a large-seed row: the types kiln gave the columns (dbt's),
/// and dbt's time when it ran.
fn seed_note(types_match: bool, dbt: Option<Duration>, kiln: Duration) -> String {
    let types = if types_match {
        "dbt's column types"
    } else {
        "COLUMN TYPES DIFFER FROM dbt's"
    };
    match dbt {
        Some(dbt) => format!(
            "{types}; dbt seed {} ({} kiln's time)",
            seconds(dbt),
            ratio(dbt, kiln)
        ),
        None => types.to_string(),
    }
}

/// Whether the catalog's column types are those of [`seed::COLUMNS`].
fn seed_types_match(types: Vec<String>) -> bool {
    let expected: Vec<&str> = seed::COLUMNS
        .iter()
        .map(|(_, t)| match *t {
            "text" => "VARCHAR|text",
            "float8" => "DOUBLE|double precision",
            "timestamp without time zone" => "TIMESTAMP|timestamp without time zone",
            "integer" => "INTEGER|integer",
            "date" => "DATE|date",
            "boolean" => "BOOLEAN|boolean",
            other => other,
        })
        .collect();
    types.len() == expected.len()
        && types
            .iter()
            .zip(expected)
            .all(|(found, allowed)| allowed.split('|').any(|a| a == found))
}

/// `kiln seed` of a large CSV on DuckDB against `read_csv` of the file.
fn seed_duckdb_case(work: &Path, rows: usize, runs: usize, dbt: Option<&Path>, table: &mut Table) {
    let dir = work.join(format!("seed_duckdb_{rows}"));
    seed::write_project(
        &dir,
        rows,
        "      type: duckdb\n      path: bench.duckdb\n",
        "main",
    );
    eprintln!("seed of {rows} rows on DuckDB");
    let database = dir.join("bench.duckdb");
    let csv = dir.join("seeds/orders.csv");
    let (mut kiln_times, mut limit_times, mut dbt_times) = (Vec::new(), Vec::new(), Vec::new());
    let mut types = Vec::new();
    for _ in 0..runs {
        remove_duckdb(&database);
        kiln_times.push(measure(&dir, &["seed", "-q"]).0);
        let conn = duckdb::Connection::open(&database).unwrap();
        let mut statement = conn
            .prepare(
                "select data_type from information_schema.columns \
                 where table_name = 'orders' order by ordinal_position",
            )
            .unwrap();
        types = statement
            .query_map([], |row| row.get::<_, String>(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        let count: i64 = conn
            .query_row("select count(*) from main.orders", [], |row| row.get(0))
            .unwrap();
        assert_eq!(count as usize, rows, "kiln loaded every row");
        drop(statement);
        drop(conn);
        remove_duckdb(&database);
        limit_times.push(seed::duckdb_limit(&database, &csv));
        if let Some(dbt) = dbt {
            remove_duckdb(&database);
            dbt_times.push(dbt_seed(dbt, &dir));
        }
    }
    seed_row(
        table,
        format!("seed of {} rows, DuckDB", thousands(rows)),
        [kiln_times, limit_times, dbt_times],
        types,
    );
}

/// `kiln seed` of a large CSV on PostgreSQL against `COPY` of the file.
fn seed_postgres_case(
    work: &Path,
    rows: usize,
    runs: usize,
    conninfo: &str,
    dbt: Option<&Path>,
    table: &mut Table,
) {
    let dir = work.join(format!("seed_postgres_{rows}"));
    let config: postgres::Config = conninfo.parse().unwrap();
    let database = config.get_dbname().unwrap_or("test").to_string();
    let schema = format!("kiln_bench_seed_{rows}");
    let host = config
        .get_hosts()
        .first()
        .map(|h| match h {
            postgres::config::Host::Tcp(name) => name.clone(),
            #[allow(unreachable_patterns)]
            _ => "127.0.0.1".to_string(),
        })
        .unwrap_or_else(|| "127.0.0.1".into());
    let port = config.get_ports().first().copied().unwrap_or(5432);
    let user = config.get_user().unwrap_or("postgres").to_string();
    seed::write_project(
        &dir,
        rows,
        &format!(
            "      type: postgres\n      host: {host}\n      port: {port}\n      user: {user}\n      password: \"\"\n      dbname: {database}\n"
        ),
        &schema,
    );
    eprintln!("seed of {rows} rows on PostgreSQL");
    let csv = dir.join("seeds/orders.csv");
    let mut client = config
        .connect(postgres::NoTls)
        .expect("PostgreSQL on --postgres");
    let reset = |client: &mut postgres::Client| {
        client
            .batch_execute(&format!("drop schema if exists {schema} cascade"))
            .unwrap()
    };
    let (mut kiln_times, mut limit_times, mut dbt_times) = (Vec::new(), Vec::new(), Vec::new());
    let mut types = Vec::new();
    for _ in 0..runs {
        reset(&mut client);
        kiln_times.push(measure(&dir, &["seed", "-q"]).0);
        types = client
            .query(
                "select data_type::text from information_schema.columns \
                 where table_schema = $1 and table_name = 'orders' order by ordinal_position",
                &[&schema],
            )
            .unwrap()
            .iter()
            .map(|row| row.get::<_, String>(0))
            .collect();
        let count: i64 = client
            .query_one(&format!("select count(*) from {schema}.orders"), &[])
            .unwrap()
            .get(0);
        assert_eq!(count as usize, rows, "kiln loaded every row");
        reset(&mut client);
        limit_times.push(seed::postgres_limit(&mut client, &schema, &csv));
        if let Some(dbt) = dbt {
            reset(&mut client);
            dbt_times.push(dbt_seed(dbt, &dir));
        }
    }
    reset(&mut client);
    seed_row(
        table,
        format!("seed of {} rows, PostgreSQL", thousands(rows)),
        [kiln_times, limit_times, dbt_times],
        types,
    );
}

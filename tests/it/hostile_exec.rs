//! Unlucky runs, on the real binary: Ctrl-C outside a running statement
//! (parse, an on-run-start hook, a seed), a PostgreSQL connection that the
//! server ends mid-run, and two runs building into one PostgreSQL schema.
//!
//! Each test holds kiln at a gate it controls (a PostgreSQL advisory lock
//! the test holds, or a named pipe DuckDB reads), so that what happens at
//! that moment is decided by the test, not by timing. The deadlines only
//! keep a broken kiln from hanging the suite; what is asserted is exit
//! codes, messages and rows.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::PathBuf;
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::common::{Db, Fixture, lines, postgres_settings};

/// How long a broken kiln may hang before the test gives up on it.
const HANG: Duration = Duration::from_secs(90);

/// A kiln running in the background, its output collected as it comes.
struct Running {
    child: Child,
    stdout: Arc<Mutex<String>>,
    stderr: Arc<Mutex<String>>,
    stderr_lines: mpsc::Receiver<String>,
}

struct Finished {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Finished {
    fn all(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }
}

fn collect(
    stream: impl Read + Send + 'static,
    into: Arc<Mutex<String>>,
    lines: mpsc::Sender<String>,
) {
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines().map_while(Result::ok) {
            {
                let mut text = into.lock().unwrap();
                text.push_str(&line);
                text.push('\n');
            }
            let _ = lines.send(line);
        }
    });
}

impl Running {
    fn start(f: &Fixture, args: &[&str]) -> Running {
        let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("kiln"))
            .current_dir(f.path())
            .args(args)
            .env_remove("DBT_PROFILES_DIR")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("kiln starts");
        let stdout = Arc::new(Mutex::new(String::new()));
        let stderr = Arc::new(Mutex::new(String::new()));
        let (out_tx, _) = mpsc::channel();
        let (err_tx, stderr_lines) = mpsc::channel();
        collect(child.stdout.take().unwrap(), stdout.clone(), out_tx);
        collect(child.stderr.take().unwrap(), stderr.clone(), err_tx);
        Running {
            child,
            stdout,
            stderr,
            stderr_lines,
        }
    }

    /// Waits for a line on stderr containing `needle`; false if kiln ended
    /// or `within` passed first.
    fn wait_for_stderr(&self, needle: &str, within: Duration) -> bool {
        let until = Instant::now() + within;
        loop {
            let left = until.saturating_duration_since(Instant::now());
            match self.stderr_lines.recv_timeout(left) {
                Ok(line) if line.contains(needle) => return true,
                Ok(_) => {}
                Err(_) => return false,
            }
        }
    }

    /// Ctrl-C, as a terminal sends it.
    fn interrupt(&self) {
        let status = std::process::Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success());
    }

    fn finish(mut self) -> Finished {
        let started = Instant::now();
        let code = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status.code();
            }
            if started.elapsed() > HANG {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!(
                    "kiln did not finish:\n{}\n{}",
                    self.stdout.lock().unwrap(),
                    self.stderr.lock().unwrap()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        // The readers see the end of the pipes once the process is gone.
        let drained = Instant::now();
        while drained.elapsed() < Duration::from_secs(5)
            && self
                .stderr_lines
                .recv_timeout(Duration::from_millis(200))
                .is_ok()
        {}
        let stdout = self.stdout.lock().unwrap().clone();
        let stderr = self.stderr.lock().unwrap().clone();
        Finished {
            code,
            stdout,
            stderr,
        }
    }
}

/// The line kiln prints when it has seen the first Ctrl-C of a run that
/// touches the database.
const STOPPING: &str = "Ctrl-C: stopping";

fn postgres() -> postgres::Client {
    postgres::Client::connect(&postgres_settings(), postgres::NoTls).expect("PostgreSQL runs")
}

/// A gate kiln waits at, opened by the test.
enum Gate {
    /// An advisory lock the test holds; kiln's statement waits for it.
    Postgres {
        client: Box<postgres::Client>,
        key: String,
    },
    /// A named pipe kiln's DuckDB reads from; it waits for the test to write.
    DuckDb { fifo: PathBuf },
}

impl Gate {
    fn new(f: &Fixture) -> Gate {
        match f.db {
            Db::Postgres => {
                let mut client = postgres();
                let key = format!("hashtext('gate {}')", f.schema);
                client
                    .batch_execute(&format!("select pg_advisory_lock({key})"))
                    .unwrap();
                Gate::Postgres {
                    client: Box::new(client),
                    key,
                }
            }
            Db::DuckDb => {
                let fifo = f.path().join("gate.fifo");
                let status = std::process::Command::new("mkfifo")
                    .arg(&fifo)
                    .status()
                    .expect("mkfifo runs");
                assert!(status.success());
                Gate::DuckDb { fifo }
            }
        }
    }

    /// A statement that waits at the gate. With `swallow_cancel`, a cancel
    /// request does not stop it (as a statement past the point where it
    /// can be interrupted): kiln must stop before its next statement.
    fn statement(&self, swallow_cancel: bool) -> String {
        match self {
            Gate::Postgres { key, .. } if swallow_cancel => format!(
                "do $gate$ begin perform pg_advisory_lock({key}); \
                 exception when query_canceled then null; end $gate$"
            ),
            Gate::Postgres { key, .. } => format!("select pg_advisory_lock({key})"),
            // A read of a pipe blocks in the kernel, where DuckDB's
            // interrupt does not reach it.
            Gate::DuckDb { fifo } => format!(
                "select count(*) from read_csv('{}', header = false, columns = {{'x': 'integer'}})",
                fifo.display()
            ),
        }
    }

    /// Waits until kiln waits at the gate; returns its server process id on PostgreSQL.
    fn wait_until_reached(&mut self) -> Option<i32> {
        match self {
            Gate::Postgres { client, key } => {
                let started = Instant::now();
                loop {
                    let rows = client
                        .query(
                            "select pid from pg_stat_activity where wait_event_type = 'Lock' \
                             and pid <> pg_backend_pid() and position($1 in query) > 0",
                            &[&format!("pg_advisory_lock({key})")],
                        )
                        .unwrap();
                    if let Some(row) = rows.first() {
                        return Some(row.get(0));
                    }
                    assert!(started.elapsed() < HANG, "kiln never reached the gate");
                    std::thread::sleep(Duration::from_millis(20));
                }
            }
            // Opening a pipe to write waits for its reader: the open returns
            // when DuckDB is reading; the write end is kept for `open`.
            Gate::DuckDb { .. } => None,
        }
    }

    /// Lets kiln through (after `wait_until_reached`).
    fn open(self, writer: Option<std::fs::File>) {
        match self {
            Gate::Postgres {
                mut client, key, ..
            } => {
                client
                    .batch_execute(&format!("select pg_advisory_unlock({key})"))
                    .unwrap();
            }
            Gate::DuckDb { .. } => {
                let mut writer = writer.expect("the pipe is open");
                // The reader may be gone already (it stopped): that is fine.
                let _ = writer.write_all(b"1\n");
            }
        }
    }
}

/// Waits until kiln is held at `gate`; on DuckDB, the pipe's write end.
fn reach(gate: &mut Gate) -> (Option<i32>, Option<std::fs::File>) {
    match gate {
        Gate::DuckDb { fifo } => {
            // Blocks until DuckDB opens the pipe to read it.
            let (tx, rx) = mpsc::channel();
            let path = fifo.clone();
            std::thread::spawn(move || {
                let _ = tx.send(std::fs::OpenOptions::new().write(true).open(path));
            });
            let file = rx
                .recv_timeout(HANG)
                .expect("kiln never reached the gate")
                .expect("the pipe opens");
            (None, Some(file))
        }
        Gate::Postgres { .. } => (gate.wait_until_reached(), None),
    }
}

/// Presses Ctrl-C while kiln waits at `gate`, waits (a while) for kiln to
/// say it is stopping, then opens the gate. Returns how kiln ended, and
/// whether it said it was stopping.
fn ctrl_c_at_the_gate(kiln: Running, mut gate: Gate) -> (Finished, bool) {
    let (_, writer) = reach(&mut gate);
    kiln.interrupt();
    // A kiln that says nothing is let through anyway: the rows then tell
    // what it did after Ctrl-C.
    let acknowledged = kiln.wait_for_stderr(STOPPING, Duration::from_secs(20));
    gate.open(writer);
    (kiln.finish(), acknowledged)
}

fn relation_exists(f: &Fixture, name: &str) -> bool {
    !f.query(&format!(
        "select table_name from information_schema.tables \
         where table_schema = '{{schema}}' and table_name = '{name}'"
    ))
    .is_empty()
}

fn statuses(f: &Fixture) -> Vec<String> {
    f.statuses()
        .into_iter()
        .map(|(id, status)| format!("{id}={status}"))
        .collect()
}

// ---------------------------------------------------------------- item 6

/// A Jinja loop at parse time that would run for days: Ctrl-C ends kiln at
/// once with 130, before any database is opened.
#[test]
fn ctrl_c_during_a_long_jinja_loop_at_parse_time_exits_130_at_once() {
    let f = Fixture::new();
    // A key kiln warns about while loading: the sign that it runs, and
    // that parsing comes next.
    f.write(
        "dbt_project.yml",
        "name: proj\nprofile: proj\nconfig-version: 2\nkiln_test_marker: 1\n",
    );
    f.write(
        "models/endless.sql",
        "{% for i in range(100000) %}{% for j in range(100000) %}{% for k in range(100000) %}\
         {% endfor %}{% endfor %}{% endfor %}select 1 as x\n",
    );
    let kiln = Running::start(&f, &["run"]);
    assert!(
        kiln.wait_for_stderr("kiln_test_marker", HANG),
        "kiln did not warn about the unknown key"
    );
    kiln.interrupt();
    let out = kiln.finish();
    assert_eq!(out.code, Some(130), "{}", out.all());
    assert!(out.stderr.contains("Cancelled (Ctrl-C)"), "{}", out.all());
    assert!(!f.db_path().exists(), "no database was opened");
}

/// Ctrl-C while an on-run-start hook runs: no later hook runs, no node
/// runs, and kiln exits 130.
fn ctrl_c_during_an_on_run_start_hook_runs_nothing_after_it(db: Db) {
    let f = Fixture::new_on(db);
    let gate = Gate::new(&f);
    let hooks = [
        gate.statement(false),
        f.sql("create table {schema}.after_gate as select 1 as x"),
    ];
    f.write(
        "dbt_project.yml",
        &format!(
            "name: proj\nprofile: proj\nconfig-version: 2\non-run-start:\n{}",
            hooks
                .iter()
                .map(|h| format!("  - {}\n", serde_json::to_string(h).unwrap()))
                .collect::<String>()
        ),
    );
    f.write("models/m.sql", "select 1 as x\n");
    let kiln = Running::start(&f, &["run", "--threads", "1"]);
    let (out, acknowledged) = ctrl_c_at_the_gate(kiln, gate);
    assert!(
        !relation_exists(&f, "after_gate"),
        "hook 2 ran after Ctrl-C: {}",
        out.all()
    );
    assert!(!relation_exists(&f, "m"), "a model ran after Ctrl-C");
    assert_eq!(out.code, Some(130), "{}", out.all());
    assert!(!out.stdout.contains("hook 2 of 2"), "{}", out.all());
    assert!(
        acknowledged,
        "kiln never said it was stopping: {}",
        out.all()
    );
}

/// Ctrl-C while a seed is being built, at a point past which its running
/// statement cannot be stopped: no later statement runs, the seed's
/// transaction rolls back, the old rows stay, and kiln exits 130.
fn ctrl_c_while_a_seed_loads_rolls_it_back(db: Db) {
    let f = Fixture::new_on(db);
    f.write("seeds/s.csv", "id,name\n1,a\n2,b\n3,c\n");
    let first = f.kiln(&["seed"]);
    assert_eq!(first.code, 0, "{}", first.all());
    // Now bigger (several load batches), and held at a gate in its pre-hook.
    let gate = Gate::new(&f);
    let mut csv = String::from("id,name\n");
    for i in 0..25_000 {
        csv.push_str(&format!("{i},n{i}\n"));
    }
    f.write("seeds/s.csv", &csv);
    f.write(
        "dbt_project.yml",
        &format!(
            "name: proj\nprofile: proj\nconfig-version: 2\nseeds:\n  +pre-hook: {}\n",
            serde_json::to_string(&gate.statement(true)).unwrap()
        ),
    );
    let kiln = Running::start(&f, &["seed", "--threads", "1"]);
    let (out, acknowledged) = ctrl_c_at_the_gate(kiln, gate);
    assert_eq!(
        lines(&f.query("select count(*), max(name) from {schema}.s")),
        ["3|c"],
        "the seed was loaded after Ctrl-C: {}",
        out.all()
    );
    assert!(
        f.query(
            "select table_name from information_schema.tables \
             where table_schema = '{schema}' and table_name <> 's'"
        )
        .is_empty(),
        "a temporary relation was left"
    );
    assert_eq!(out.code, Some(130), "{}", out.all());
    assert_eq!(statuses(&f), ["seed.proj.s=error"]);
    assert!(
        acknowledged,
        "kiln never said it was stopping: {}",
        out.all()
    );
}

crate::on_each_adapter!(
    ctrl_c_during_an_on_run_start_hook_runs_nothing_after_it,
    ctrl_c_while_a_seed_loads_rolls_it_back,
);

// ---------------------------------------------------------------- item 7

/// The server ends kiln's session while a model runs: that model fails
/// with a message that says the connection was lost, and the next nodes
/// on the same worker run on a new connection.
#[test]
fn a_postgres_connection_ended_by_the_server_fails_one_node_and_the_rest_reconnect() {
    let f = Fixture::new_on(Db::Postgres);
    let mut gate = Gate::new(&f);
    f.write(
        "models/a.sql",
        &format!(
            "{{{{ config(materialized='table') }}}}\nselect 1 as x from ({}) g\n",
            gate.statement(false)
        ),
    );
    f.write(
        "models/b.sql",
        "{{ config(materialized='table') }}\nselect 2 as x\n",
    );
    f.write("models/c.sql", "select x + 1 as x from {{ ref('b') }}\n");
    let kiln = Running::start(&f, &["run", "--threads", "1"]);
    let (pid, _) = reach(&mut gate);
    let pid = pid.expect("kiln's server process");
    let mut admin = postgres();
    let ended: bool = admin
        .query_one("select pg_terminate_backend($1)", &[&pid])
        .unwrap()
        .get(0);
    assert!(ended);
    gate.open(None);
    let out = kiln.finish();
    assert_eq!(out.code, Some(1), "{}", out.all());
    assert!(
        out.all().contains("lost the connection to PostgreSQL"),
        "{}",
        out.all()
    );
    assert!(!out.all().contains("connection closed"), "{}", out.all());
    assert_eq!(
        statuses(&f),
        [
            "model.proj.a=error",
            "model.proj.b=success",
            "model.proj.c=success"
        ]
    );
    assert_eq!(lines(&f.query("select x from {schema}.c")), ["3"]);
    assert!(!relation_exists(&f, "a"));
}

// ---------------------------------------------------------------- item 8

/// While one kiln builds into a PostgreSQL schema, a second (from another
/// project directory, so the project's file lock does not stop it) is
/// refused with K4004 before it builds anything; once the first is done,
/// the second runs.
#[test]
fn a_second_run_into_the_same_postgres_schema_is_refused_with_k4004() {
    let first = Fixture::new_on(Db::Postgres);
    let mut gate = Gate::new(&first);
    first.write(
        "models/a.sql",
        &format!(
            "{{{{ config(materialized='table') }}}}\nselect 1 as x from ({}) g\n",
            gate.statement(false)
        ),
    );
    let second = Fixture::new_on(Db::Postgres);
    second.write("profiles.yml", &first.read("profiles.yml"));
    second.write(
        "models/other.sql",
        "{{ config(materialized='table') }}\nselect 7 as y\n",
    );

    let kiln = Running::start(&first, &["run"]);
    reach(&mut gate);
    let refused = second.kiln(&["run"]);
    // Compiling writes no relation: it is not refused.
    let compiled = second.kiln(&["compile"]);
    gate.open(None);
    let out = kiln.finish();
    assert_eq!(out.code, Some(0), "{}", out.all());

    assert_eq!(refused.code, 2, "{}", refused.all());
    assert!(refused.stderr.contains("K4004"), "{}", refused.all());
    assert!(
        refused.stderr.contains("another kiln is already running"),
        "{}",
        refused.all()
    );
    assert!(refused.stderr.contains(&first.schema), "{}", refused.all());
    assert_eq!(compiled.code, 0, "{}", compiled.all());
    assert!(!relation_exists(&first, "other"), "the refused run built");

    let again = second.kiln(&["run"]);
    assert_eq!(again.code, 0, "{}", again.all());
    assert_eq!(lines(&first.query("select y from {schema}.other")), ["7"]);
}

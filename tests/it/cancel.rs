//! Ctrl-C during a run, on every adapter: the statement in flight is
//! interrupted and rolled back, nothing else starts, and kiln exits 130
//! leaving the previous relation as it was and no temporary one behind.

use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::common::{Db, Fixture, lines};

fn ctrl_c_interrupts_rolls_back_and_exits_130(db: Db) {
    let f = Fixture::new_on(db);
    f.write(
        "models/slow.sql",
        "{{ config(materialized='table') }}\nselect 1 as x\n",
    );
    f.write("models/after.sql", "select * from {{ ref('slow') }}\n");
    assert_eq!(f.kiln(&["run"]).code, 0);
    // Now `slow` takes minutes: long enough to be interrupted.
    let slow = match db {
        Db::DuckDb => "select count(*) as x from range(100000000000) a",
        Db::Postgres => "select 2 as x from pg_sleep(120)",
    };
    f.write(
        "models/slow.sql",
        &format!("{{{{ config(materialized='table') }}}}\n{slow}\n"),
    );
    f.write(
        "models/after.sql",
        "select x + 1 as x from {{ ref('slow') }}\n",
    );
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("kiln"))
        .current_dir(f.path())
        .args(["run", "--threads", "1"])
        .env_remove("DBT_PROFILES_DIR")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("kiln starts");
    // Wait until the slow statement is running (its run file is not yet
    // written, but the lock file is), then press Ctrl-C.
    std::thread::sleep(Duration::from_millis(1500));
    let status = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
    let started = Instant::now();
    let code = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status.code();
        }
        if started.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            panic!("kiln did not stop after Ctrl-C");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let output = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(code, Some(130), "{stdout}");
    // The old `slow` is intact, `after` was not rebuilt, no temporary relation.
    assert_eq!(lines(&f.query("select x from {schema}.slow")), ["1"]);
    assert_eq!(lines(&f.query("select x from {schema}.after")), ["1"]);
    assert!(
        f.query("select table_name from information_schema.tables where table_schema = '{schema}' and table_name like '%dbt_%'")
            .is_empty()
    );
    let results: serde_json::Value =
        serde_json::from_str(&f.read("target/run_results.json")).unwrap();
    let statuses: Vec<&str> = results["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["status"].as_str().unwrap())
        .collect();
    assert_eq!(
        statuses,
        ["skipped", "error"],
        "after, then slow: {results}"
    );
}

crate::on_each_adapter!(ctrl_c_interrupts_rolls_back_and_exits_130);

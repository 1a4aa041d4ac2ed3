//! Comparing with an earlier run (`--state`): `state:modified`, `state:new`,
//! `result:`, `--defer`, and `kiln retry`.

use crate::common::{Fixture, lines};

fn copy_target(f: &Fixture, to: &str) {
    let from = f.path().join("target");
    let dest = f.path().join(to);
    std::fs::create_dir_all(&dest).unwrap();
    for file in ["manifest.json", "run_results.json"] {
        if from.join(file).exists() {
            std::fs::copy(from.join(file), dest.join(file)).unwrap();
        }
    }
}

fn names(out: &crate::common::Output) -> Vec<String> {
    out.stdout.lines().map(str::to_string).collect()
}

#[test]
fn state_modified_and_new_pick_what_changed() {
    let f = Fixture::new();
    f.write("models/a.sql", "select 1 as x\n");
    f.write("models/b.sql", "select * from {{ ref('a') }}\n");
    f.write("models/c.sql", "select 2 as y\n");
    assert_eq!(f.kiln(&["compile"]).code, 0);
    copy_target(&f, "prod");

    let none = f.kiln(&["ls", "-s", "state:modified", "--state", "prod"]);
    assert_eq!(none.code, 0, "{}", none.all());
    assert!(names(&none).is_empty(), "{}", none.stdout);

    f.write("models/a.sql", "select 1 as x -- changed\n");
    f.write(
        "models/c.sql",
        "{{ config(materialized='table') }}\nselect 2 as y\n",
    );
    f.write("models/d.sql", "select 3 as z\n");
    let ls = |selector: &str| {
        names(&f.kiln(&["ls", "-s", selector, "--state", "prod", "--output", "name"]))
    };
    assert_eq!(ls("state:modified"), ["a", "c", "d"]);
    assert_eq!(ls("state:modified.body"), ["a", "c", "d"]);
    assert_eq!(ls("state:modified.configs"), ["c", "d"]);
    assert_eq!(ls("state:new"), ["d"]);
    // What is downstream of a change, as CI runs it.
    assert_eq!(
        ls("state:modified+,resource_type:model"),
        ["a", "b", "c", "d"]
    );

    let out = f.kiln(&["ls", "-s", "state:modified"]);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("compares with an earlier run"),
        "{}",
        out.stderr
    );
}

#[test]
fn result_selects_by_the_last_runs_status_and_retry_reruns_it() {
    let f = Fixture::new();
    f.write("models/a.sql", "select 1 as x\n");
    f.write("models/b.sql", "select * from no_such_table\n");
    f.write("models/c.sql", "select * from {{ ref('b') }}\n");
    assert_eq!(f.kiln(&["run"]).code, 1);
    copy_target(&f, "last");
    let ls = |selector: &str| {
        names(&f.kiln(&["ls", "-s", selector, "--state", "last", "--output", "name"]))
    };
    assert_eq!(ls("result:error"), ["b"]);
    assert_eq!(ls("result:skipped"), ["c"]);

    // Fixed, then retried: only what errored or was skipped runs.
    f.write("models/b.sql", "select * from {{ ref('a') }}\n");
    let out = f.kiln(&["retry"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(
        out.stdout
            .contains("Done. PASS=2 WARN=0 ERROR=0 SKIP=0 TOTAL=2"),
        "{}",
        out.stdout
    );
    assert_eq!(lines(&f.query("select x from main.c")), ["1"]);
    let out = f.kiln(&["retry"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(out.stdout.contains("Nothing to retry"), "{}", out.stdout);
}

#[test]
fn defer_reads_unselected_parents_from_the_state_run() {
    let f = Fixture::new();
    f.write("models/a.sql", "select 41 as x\n");
    f.write("models/b.sql", "select x + 1 as x from {{ ref('a') }}\n");
    assert_eq!(f.kiln(&["run"]).code, 0);
    copy_target(&f, "prod");
    // A developer's target: its own schema, where `a` was never built.
    let profile = f.read("profiles.yml");
    f.write(
        "profiles.yml",
        &profile.replace("threads: 2", "threads: 2\n      schema: dev"),
    );
    let out = f.kiln(&["run", "-s", "b", "--defer", "--state", "prod"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(lines(&f.query("select x from dev.b")), ["42"]);
    let compiled = f.read("target/compiled/proj/models/b.sql");
    assert!(compiled.contains(r#"from "test"."main"."a""#), "{compiled}");
}

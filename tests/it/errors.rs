//! Bad input: each case names the file (and line), exits non-zero, does not
//! panic, and leaves no half-built relation.

use crate::common::{Db, Fixture};

fn assert_clean_error(out: &crate::common::Output, code: i32, needles: &[&str]) {
    assert_eq!(out.code, code, "exit code\n{}", out.all());
    let text = out.all();
    for needle in needles {
        assert!(text.contains(needle), "expected {needle:?} in:\n{text}");
    }
    assert!(!text.contains("panicked"), "{text}");
    assert!(!text.contains("internal error"), "{text}");
}

#[test]
fn missing_project_file_says_where_it_looked() {
    let f = Fixture::new();
    std::fs::remove_file(f.path().join("dbt_project.yml")).unwrap();
    let out = f.kiln(&["build"]);
    assert_clean_error(&out, 2, &["dbt_project.yml", "--project-dir"]);
}

#[test]
fn malformed_project_file_names_the_line() {
    let f = Fixture::new();
    f.write(
        "dbt_project.yml",
        "name: proj\nprofile: proj\nmodels: [unclosed\n",
    );
    let out = f.kiln(&["build"]);
    assert_clean_error(&out, 2, &["dbt_project.yml:", "invalid YAML"]);
}

#[test]
fn missing_profiles_file_is_reported() {
    let f = Fixture::new();
    std::fs::remove_file(f.path().join("profiles.yml")).unwrap();
    let out = f.kiln_env(&["build"], &[("HOME", f.path().to_str().unwrap())]);
    assert_clean_error(&out, 2, &["profiles.yml not found"]);
}

#[test]
fn unknown_profile_and_target_list_what_exists() {
    let f = Fixture::new();
    f.write("dbt_project.yml", "name: proj\nprofile: nope\n");
    let out = f.kiln(&["build"]);
    assert_clean_error(&out, 2, &["profile 'nope'", "proj"]);

    let f = Fixture::new();
    let out = f.kiln(&["build", "--target", "prod"]);
    assert_clean_error(&out, 2, &["target 'prod'", "dev"]);
}

#[test]
fn jinja_syntax_error_names_file_and_line() {
    let f = Fixture::new();
    f.write(
        "models/a.sql",
        "select 1 as id\n{% if true %}\nunion all select 2\n",
    );
    let out = f.kiln(&["compile"]);
    assert_clean_error(&out, 2, &["models/a.sql:", "Jinja syntax error"]);
}

#[test]
fn several_broken_models_are_all_reported() {
    let f = Fixture::new();
    f.write("models/a.sql", "select {{ 1 + }} as id\n");
    f.write("models/b.sql", "select {% for %} as id\n");
    let out = f.kiln(&["compile"]);
    assert_clean_error(&out, 2, &["models/a.sql:1", "models/b.sql:1", "2 errors"]);
}

#[test]
fn undefined_macro_names_the_model() {
    let f = Fixture::new();
    f.write(
        "models/a.sql",
        "select 1 as id\n\nwhere {{ no_such_macro() }}\n",
    );
    let out = f.kiln(&["compile"]);
    assert_clean_error(&out, 2, &["models/a.sql:3", "no_such_macro"]);
}

#[test]
fn a_cycle_lists_every_node_on_it_with_its_file() {
    let f = Fixture::new();
    f.write("models/a.sql", "select * from {{ ref('c') }}\n");
    f.write("models/b.sql", "select * from {{ ref('a') }}\n");
    f.write("models/c.sql", "select * from {{ ref('b') }}\n");
    let out = f.kiln(&["build"]);
    assert_clean_error(
        &out,
        2,
        &[
            "cycle",
            "model.proj.a refs model.proj.c at models/a.sql:1",
            "model.proj.b refs model.proj.a at models/b.sql:1",
            "model.proj.c refs model.proj.b at models/c.sql:1",
        ],
    );
    assert!(
        !f.db_path().exists(),
        "nothing may run when the graph is wrong"
    );
}

#[test]
fn unknown_ref_names_the_file_line_and_a_close_name() {
    let f = Fixture::new();
    f.write("models/customers.sql", "select 1 as id\n");
    f.write(
        "models/orders.sql",
        "select *\nfrom {{ ref('customer') }}\n",
    );
    let out = f.kiln(&["build"]);
    assert_clean_error(
        &out,
        2,
        &[
            "models/orders.sql:2:",
            "ref('customer')",
            "did you mean 'customers'?",
        ],
    );
}

#[test]
fn ragged_csv_names_file_and_line_and_builds_nothing_from_it() {
    let f = Fixture::new();
    f.write("seeds/people.csv", "id,name\n1,ann\n2,bob,extra\n");
    let out = f.kiln(&["seed"]);
    assert_clean_error(&out, 1, &["seeds/people.csv:3", "3 values", "2 columns"]);
    let tables =
        f.query("select count(*) from information_schema.tables where table_name like 'people%'");
    assert_eq!(tables[0][0], "0");
}

fn a_failing_model_keeps_the_previous_table_and_skips_its_children(db: Db) {
    let f = Fixture::new_on(db);
    f.write(
        "models/base.sql",
        "{{ config(materialized='table') }}\nselect 1 as id union all select 2\n",
    );
    f.write("models/child.sql", "select * from {{ ref('base') }}\n");
    assert_eq!(f.kiln(&["run"]).code, 0);

    f.write(
        "models/base.sql",
        "{{ config(materialized='table') }}\nselect id from no_such_table\n",
    );
    let out = f.kiln(&["run"]);
    assert_clean_error(
        &out,
        1,
        &[
            "database error in model base",
            "no_such_table",
            "target/run/proj/models/base.sql",
            "SKIP",
        ],
    );
    assert_eq!(f.query("select count(*) from {schema}.base")[0][0], "2");
    let leftovers = f
        .query("select count(*) from information_schema.tables where table_schema = '{schema}' and table_name like 'base__dbt%'");
    assert_eq!(leftovers[0][0], "0");
    let run_file = f.read("target/run/proj/models/base.sql");
    assert!(run_file.contains("no_such_table"), "{run_file}");
}

#[test]
fn missing_var_names_the_var_and_the_model() {
    let f = Fixture::new();
    f.write("models/a.sql", "select {{ var('nope') }} as x\n");
    let out = f.kiln(&["compile"]);
    assert_clean_error(&out, 2, &["models/a.sql", "Required var 'nope' not found"]);
}

#[test]
fn bad_vars_argument_is_a_usage_error() {
    let f = Fixture::new();
    let out = f.kiln(&["compile", "--vars", "{x: "]);
    assert_clean_error(&out, 2, &["--vars"]);
}

#[test]
fn secrets_from_env_vars_are_never_printed() {
    let f = Fixture::new();
    f.write(
        "models/a.sql",
        "select '{{ env_var('DBT_ENV_SECRET_TOKEN') }}' as t from {{ ref('missing_model') }}\n",
    );
    let out = f.kiln_env(&["compile"], &[("DBT_ENV_SECRET_TOKEN", "s3cr3t-value")]);
    assert_eq!(out.code, 2);
    assert!(!out.all().contains("s3cr3t-value"), "{}", out.all());
}

fn a_failing_view_keeps_the_previous_view(db: Db) {
    let f = Fixture::new_on(db);
    f.write("models/v.sql", "select 1 as id\n");
    assert_eq!(f.kiln(&["run"]).code, 0);
    f.write("models/v.sql", "select id from no_such_table\n");
    let out = f.kiln(&["run"]);
    assert_clean_error(&out, 1, &["K4001", "no_such_table"]);
    assert_eq!(f.query("select id from {schema}.v"), vec![vec!["1"]]);
}

#[test]
fn a_second_kiln_in_the_same_project_is_refused() {
    let f = Fixture::new();
    f.write("models/a.sql", "select 1 as id\n");
    let held = kiln::lock::ProjectLock::acquire(&f.path().join("target")).unwrap();
    let out = f.kiln(&["run"]);
    assert_clean_error(
        &out,
        2,
        &["K4004", "another kiln is already running", "kiln.lock"],
    );
    assert!(!f.db_path().exists(), "nothing was built");
    drop(held);
    assert_eq!(f.kiln(&["run"]).code, 0);
}

#[test]
fn a_duckdb_file_held_by_another_process_is_named() {
    let f = Fixture::new();
    f.write("models/a.sql", "select 1 as id\n");
    let holder = duckdb::Connection::open(f.db_path()).unwrap();
    holder
        .execute_batch("create table kept as select 42 as x")
        .unwrap();
    let out = f.kiln(&["run"]);
    assert_clean_error(
        &out,
        2,
        &["K4003", "test.duckdb", "in use by another process"],
    );
    drop(holder);
    assert_eq!(f.kiln(&["run"]).code, 0);
    assert_eq!(f.query("select x from kept"), vec![vec!["42"]]);
}

#[test]
fn artifacts_leave_no_temporary_files() {
    let f = Fixture::new();
    f.write("models/a.sql", "select 1 as id\n");
    assert_eq!(f.kiln(&["run"]).code, 0);
    let leftovers: Vec<_> = walk(&f.path().join("target"))
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    let results: serde_json::Value =
        serde_json::from_str(&f.read("target/run_results.json")).unwrap();
    assert_eq!(results["results"][0]["status"], "success");
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

#[test]
fn a_macro_that_calls_itself_without_end_is_an_error_not_a_crash() {
    // Found by the fuzzer: this overflowed the stack.
    let f = Fixture::new();
    f.write(
        "macros/loop.sql",
        "{% macro again(x) %}{{ again(x) }}{% endmacro %}\n",
    );
    f.write("models/a.sql", "select {{ again(1) }} as x\n");
    for command in ["compile", "run"] {
        let out = f.kiln(&[command]);
        assert_clean_error(
            &out,
            2,
            &[
                "macro 'again' is nested more than 64 calls deep",
                "macros/loop.sql",
            ],
        );
    }
}

// The promise that a failure loses nothing, on every adapter.
crate::on_each_adapter!(
    a_failing_model_keeps_the_previous_table_and_skips_its_children,
    a_failing_view_keeps_the_previous_view,
);

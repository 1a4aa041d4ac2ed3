//! `kiln build` compiles each selected node once: the SQL check's render is
//! the one the run uses, with the flags the node runs with, unless that
//! render read the database (then the node renders again once its parents
//! are built, as dbt compiles each node just before it runs it).

use crate::common::Fixture;

/// The count `-v` prints after a run.
fn renders(output: &str) -> usize {
    let line = output
        .lines()
        .find(|l| l.starts_with("Compiling took "))
        .unwrap_or_else(|| panic!("no render count in:\n{output}"));
    line["Compiling took ".len()..]
        .split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no number in {line}"))
}

fn project() -> Fixture {
    let f = Fixture::new();
    f.write("models/a.sql", "select 1 as id\n");
    f.write(
        "models/b.sql",
        "{{ config(materialized='table') }}select id from {{ ref('a') }}\n",
    );
    f.write(
        "models/inc.sql",
        "{{ config(materialized='incremental') }}select id from {{ ref('b') }}\n\
         {% if is_incremental() %}where id > (select max(id) from {{ this }}){% endif %}\n",
    );
    f.write(
        "models/schema.yml",
        "version: 2\nmodels:\n  - name: a\n    columns:\n      - name: id\n        data_tests: [not_null]\n",
    );
    f
}

#[test]
fn build_renders_each_model_and_test_once() {
    let f = project();
    let first = f.kiln(&["build", "-v", "--no-partial-parse"]);
    assert_eq!(first.code, 0, "{}", first.all());
    // Three models and one test: four renders, not one more per model for
    // the SQL check.
    assert_eq!(renders(&first.all()), 4, "{}", first.all());
    // The second build runs the incremental model incrementally: the check
    // compiled it so too, and the run uses that.
    let second = f.kiln(&["build", "-v", "--no-partial-parse"]);
    assert_eq!(second.code, 0, "{}", second.all());
    assert_eq!(renders(&second.all()), 4, "{}", second.all());
    assert_eq!(
        f.query("select count(*) from inc"),
        vec![vec!["1".to_string()]]
    );
    // Without the check, the run renders each node itself, once.
    let unchecked = f.kiln(&["build", "-v", "--no-check", "--no-partial-parse"]);
    assert_eq!(unchecked.code, 0, "{}", unchecked.all());
    assert_eq!(renders(&unchecked.all()), 4, "{}", unchecked.all());
}

#[test]
fn the_check_reads_an_incremental_models_incremental_branch() {
    let f = Fixture::new();
    f.write("models/a.sql", "select 1 as id\n");
    f.write(
        "models/inc.sql",
        "{{ config(materialized='incremental') }}\n\
         {% if is_incremental() %}select id, missing_col from {{ ref('a') }}\n\
         {% else %}select id from {{ ref('a') }}{% endif %}\n",
    );
    let first = f.kiln(&["build"]);
    assert_eq!(first.code, 0, "{}", first.all());
    // The table exists: now the incremental branch runs, and reads a column
    // that `a` does not have. The check stops it before the database sees it.
    let second = f.kiln(&["build"]);
    assert_eq!(second.code, 1, "{}", second.all());
    assert!(second.all().contains("K3004"), "{}", second.all());
    assert!(second.all().contains("missing_col"), "{}", second.all());
    assert!(
        second.all().contains("models/inc.sql:2:37"),
        "{}",
        second.all()
    );
    assert_eq!(f.statuses()["model.proj.inc"], "error");
    assert_eq!(
        f.query("select count(*) from inc"),
        vec![vec!["1".to_string()]]
    );
}

#[test]
fn a_model_that_queries_while_compiling_renders_again_after_its_parents() {
    let f = Fixture::new();
    f.write(
        "models/a.sql",
        "{{ config(materialized='table') }}select 1 as v\n",
    );
    f.write(
        "models/b.sql",
        "{% set found = run_query('select v from ' ~ ref('a')) %}\
         select {{ found.rows[0][0] if execute and found else 0 }} as v\n",
    );
    let first = f.kiln(&["build", "-v"]);
    assert_eq!(first.code, 0, "{}", first.all());
    assert_eq!(f.query("select v from b"), vec![vec!["1".to_string()]]);
    // `a` changes: the check renders `b` while `a` still holds 1, so the run
    // renders `b` again after `a` is rebuilt, as dbt would compile it then.
    f.write(
        "models/a.sql",
        "{{ config(materialized='table') }}select 2 as v\n",
    );
    let second = f.kiln(&["build", "-v"]);
    assert_eq!(second.code, 0, "{}", second.all());
    assert_eq!(f.query("select v from b"), vec![vec!["2".to_string()]]);
    assert_eq!(renders(&second.all()), 3, "{}", second.all());
}

#[test]
fn run_operation_refuses_a_project_with_a_cycle_as_dbt_does() {
    let f = Fixture::new();
    f.write("models/a.sql", "select * from {{ ref('b') }}\n");
    f.write("models/b.sql", "select * from {{ ref('a') }}\n");
    f.write(
        "macros/hello.sql",
        "{% macro hello() %}{% do log('hello ran', info=True) %}{% endmacro %}\n",
    );
    let out = f.kiln(&["run-operation", "hello"]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(out.all().contains("cycle"), "{}", out.all());
    assert!(!out.all().contains("hello ran"), "{}", out.all());
}

#[test]
fn models_inlining_an_ephemeral_model_that_queries_render_again_after_its_parents() {
    let f = Fixture::new();
    f.write(
        "models/a.sql",
        "{{ config(materialized='table') }}select 1 as v\n",
    );
    f.write(
        "models/e.sql",
        "{{ config(materialized='ephemeral') }}\
         {% set found = run_query('select v from ' ~ ref('a')) %}\
         select {{ found.rows[0][0] if execute and found else 0 }} as v\n",
    );
    for model in ["x", "y"] {
        f.write(
            &format!("models/{model}.sql"),
            "{{ config(materialized='table') }}select v from {{ ref('e') }}\n",
        );
    }
    assert_eq!(f.kiln(&["build"]).code, 0);
    f.write(
        "models/a.sql",
        "{{ config(materialized='table') }}select 2 as v\n",
    );
    let out = f.kiln(&["build"]);
    assert_eq!(out.code, 0, "{}", out.all());
    // Only one of x and y rendered `e` in the check; both read it again in
    // the run, after `a` holds 2.
    assert_eq!(f.query("select v from x"), vec![vec!["2".to_string()]]);
    assert_eq!(f.query("select v from y"), vec![vec!["2".to_string()]]);
}

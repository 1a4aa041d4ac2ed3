//! Project hooks (`on-run-start`, `on-run-end`), model hooks, and
//! `kiln run-operation`, on every adapter.

use crate::common::{Db, Fixture, lines};

fn project(db: Db, hooks: &str) -> Fixture {
    let f = Fixture::new_on(db);
    f.write(
        "dbt_project.yml",
        &format!("name: proj\nprofile: proj\nconfig-version: 2\n{hooks}"),
    );
    f
}

fn run_hooks_see_the_target_and_the_results(db: Db) {
    let f = project(
        db,
        "on-run-start:\n  - \"create table if not exists {{ target.schema }}.audit (event varchar, detail varchar)\"\n  - \"insert into {{ target.schema }}.audit values ('start', '{{ target.name }}')\"\non-run-end: \"insert into {{ target.schema }}.audit values ('end', '{% for r in results %}{{ r.node.name }}={{ r.status }};{% endfor %}{{ schemas | join(',') }}')\"\n",
    );
    f.write(
        "models/m.sql",
        "{{ config(materialized='table', post_hook=\"insert into {{ this }} values (2)\") }}\nselect 1 as x\n",
    );
    let out = f.kiln(&["run"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(
        out.stdout.contains("Running on-run-start hook 2 of 2"),
        "{}",
        out.stdout
    );
    assert_eq!(
        lines(&f.query("select event, detail from {schema}.audit order by event desc")),
        ["start|dev", &f.sql("end|m=success;{schema}")]
    );
    // The model's post-hook ran inside its transaction, after the build.
    assert_eq!(
        lines(&f.query("select x from {schema}.m order by x")),
        ["1", "2"]
    );
}

fn a_failing_start_hook_runs_nothing_and_exits_1(db: Db) {
    let f = project(db, "on-run-start: \"select * from no_such_table\"\n");
    f.write("models/m.sql", "select 1 as x\n");
    let out = f.kiln(&["run"]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(
        out.stderr.contains("database error in on-run-start hook 1"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("no_such_table"), "{}", out.stderr);
    assert!(
        f.query("select * from information_schema.tables where table_schema = '{schema}' and table_name = 'm'")
            .is_empty()
    );
}

fn run_operation_calls_a_macro_with_arguments(db: Db) {
    let f = Fixture::new_on(db);
    f.write(
        "macros/ops.sql",
        "{% macro make_table(name, rows=1) %}\n{% do run_query('create schema if not exists ' ~ target.schema) %}\n{% do run_query('create table ' ~ target.schema ~ '.' ~ name ~ ' as select ' ~ rows ~ ' as n') %}\n{% set result = run_query('select n from ' ~ target.schema ~ '.' ~ name) %}\n{{ log('made ' ~ name ~ ' with ' ~ result.rows[0][0], info=True) }}\n{% endmacro %}\n",
    );
    let out = f.kiln(&[
        "run-operation",
        "make_table",
        "--args",
        "{name: made, rows: 7}",
    ]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(out.stderr.contains("made made with 7"), "{}", out.all());
    assert_eq!(lines(&f.query("select n from {schema}.made")), ["7"]);

    let out = f.kiln(&["run-operation", "make_tabel"]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(
        out.stderr.contains("there is no macro named 'make_tabel'"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("did you mean 'make_table'?"),
        "{}",
        out.stderr
    );

    // A failing statement rolls the whole operation back.
    f.write(
        "macros/ops.sql",
        "{% macro half() %}\n{% do run_query('create schema if not exists ' ~ target.schema) %}\n{% do run_query('create table ' ~ target.schema ~ '.half as select 1 as n') %}\n{% do run_query('select * from no_such_table') %}\n{% endmacro %}\n",
    );
    let out = f.kiln(&["run-operation", "half"]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(
        out.stderr.contains("database error in operation half"),
        "{}",
        out.stderr
    );
    assert!(
        f.query("select * from information_schema.tables where table_schema = '{schema}' and table_name = 'half'")
            .is_empty()
    );
}

crate::on_each_adapter!(
    run_hooks_see_the_target_and_the_results,
    a_failing_start_hook_runs_nothing_and_exits_1,
    run_operation_calls_a_macro_with_arguments,
);

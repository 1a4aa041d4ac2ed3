//! What public dbt projects (compat/run's corpus) needed of kiln, each class
//! pinned in the fixture tests/fixtures/compat_projects. Every status and
//! row asserted here is what dbt-core 1.10 (dbt-duckdb 1.10) gave on the
//! same fixture:
//!
//! - a generic test's argument `"{{ date.today() - timedelta(2) }}"` does
//!   Python's date arithmetic (dbt_expectations' integration tests), and the
//!   test is named from the argument as written, not as rendered;
//! - `list.index(x)` works on a filter's `| list` (dbt_expectations'
//!   `expect_column_to_exist`);
//! - a `datetime` is true in `{% if %}` (dbt_date's `get_base_dates`, called
//!   with `start_date=datetime...`, quotes it only when it is);
//! - dbt_project.yml's `quoting:` (DataRecce/dbt-tpch turns it all off):
//!   a model's relation is written unquoted in `ref`, `this` and the DDL, a
//!   source keeps its own quoting, and on PostgreSQL the relation the catalog
//!   then holds (folded to lower case) is found again on the next run.

use std::collections::BTreeMap;

use crate::common::{Db, Fixture, lines};

fn fixture(db: Db) -> Fixture {
    Fixture::project_on(db, "tests/fixtures/compat_projects", "kiln_test")
}

/// unique_id (without dbt's hash suffix) -> status, from run_results.json.
fn statuses(f: &Fixture) -> BTreeMap<String, String> {
    f.statuses()
        .into_iter()
        .map(|(id, status)| {
            let id = match id.rsplit_once('.') {
                Some((head, hash))
                    if id.starts_with("test.") && hash.chars().all(|c| c.is_ascii_hexdigit()) =>
                {
                    head.to_string()
                }
                _ => id,
            };
            (id, status)
        })
        .collect()
}

fn the_fixture_builds_with_dbts_statuses(db: Db) {
    let f = fixture(db);
    let out = f.kiln(&["build"]);
    // `column_at` with the wrong position fails, as in dbt: exit 1.
    assert_eq!(out.code, 1, "{}", out.all());
    let expected: BTreeMap<String, String> = [
        ("model.compat_projects.days", "success"),
        ("model.compat_projects.window_bounds", "success"),
        ("test.compat_projects.column_at_days_day_at__0", "pass"),
        ("test.compat_projects.column_at_days_n__1", "pass"),
        ("test.compat_projects.column_at_days_n__0", "fail"),
        (
            "test.compat_projects.on_or_after_days_day_at___modules_datetime_date_today_modules_datetime_timedelta_days_2____modules_datetime_date_2024_1_3_modules_datetime_timedelta_2_",
            "pass",
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    assert_eq!(statuses(&f), expected, "{}", out.all());
}

fn date_arithmetic_in_a_test_argument_renders(db: Db) {
    let f = fixture(db);
    let out = f.kiln(&["compile", "--select", "test_name:on_or_after"]);
    assert_eq!(out.code, 0, "{}", out.all());
    let compiled = std::fs::read_dir(
        f.path()
            .join("target/compiled/compat_projects/models/schema.yml"),
    )
    .unwrap()
    .map(|e| e.unwrap().path())
    .find(|p| {
        p.file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("on_or_after")
    })
    .expect("the test's compiled SQL");
    let sql = std::fs::read_to_string(compiled).unwrap();
    assert!(sql.contains("cast('2024-01-01' as date)"), "{sql}");
    let two_days_ago = (chrono::Local::now().date_naive() - chrono::Duration::days(2)).to_string();
    assert!(
        sql.contains(&format!("cast('{two_days_ago}' as date)")),
        "{sql}"
    );
}

fn a_datetime_is_true_in_if(db: Db) {
    let f = fixture(db);
    let out = f.kiln(&["run", "--select", "window_bounds"]);
    assert_eq!(out.code, 0, "{}", out.all());
    let rows = f.query(
        "select cast(start_at as varchar), cast(end_at as varchar) from {schema}.window_bounds",
    );
    assert_eq!(
        lines(&rows),
        vec!["2024-01-01 00:00:00|2024-01-03 00:00:00"],
        "{}",
        out.all()
    );
}

/// A project with `quoting:` all off and a mixed-case model name.
fn unquoted_project(db: Db) -> Fixture {
    let f = Fixture::new_on(db);
    f.write(
        "dbt_project.yml",
        "name: proj\nprofile: proj\nconfig-version: 2\nquoting:\n  database: false\n  schema: false\n  identifier: false\n",
    );
    f.write(
        "models/Base_Rows.sql",
        "{{ config(materialized='table') }}\nselect 1 as id",
    );
    f.write(
        "models/uses.sql",
        "select * from {{ ref('Base_Rows') }} -- {{ this }}",
    );
    f
}

fn project_quoting_leaves_relations_unquoted(db: Db) {
    let f = unquoted_project(db);
    for run in ["first", "second"] {
        let out = f.kiln(&["run"]);
        assert_eq!(out.code, 0, "{run} run: {}", out.all());
    }
    let compiled = f.read("target/compiled/proj/models/uses.sql");
    let run = f.read("target/run/proj/models/Base_Rows.sql");
    match db {
        // What dbt-duckdb compiles.
        Db::DuckDb => {
            assert_eq!(
                compiled.trim(),
                "select * from test.main.Base_Rows -- test.main.uses"
            );
            assert!(run.contains("rename to Base_Rows;"), "{run}");
        }
        Db::Postgres => {
            let schema = &f.schema;
            assert!(
                compiled.contains(&format!("test.{schema}.base_rows ")),
                "{compiled}"
            );
            assert!(
                run.contains(&format!("create table test.{schema}.base_rows__dbt_tmp as")),
                "{run}"
            );
            assert!(run.contains("rename to base_rows;"), "{run}");
        }
    }
    // The catalog holds what dbt's run leaves: `base_rows` on PostgreSQL.
    let names = f.query(
        "select table_name from information_schema.tables where table_schema = '{schema}' order by 1",
    );
    let expected = match db {
        Db::DuckDb => vec!["Base_Rows", "uses"],
        Db::Postgres => vec!["base_rows", "uses"],
    };
    assert_eq!(lines(&names), expected);
}

crate::on_each_adapter!(
    project_quoting_leaves_relations_unquoted,
    the_fixture_builds_with_dbts_statuses,
    date_arithmetic_in_a_test_argument_renders,
    a_datetime_is_true_in_if,
);

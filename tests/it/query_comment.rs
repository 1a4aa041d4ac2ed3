//! dbt's `query-comment` (issue 22): each statement a node sends carries a
//! comment naming the app, the profile, the target and the node, before
//! the statement (or after it with `append: true`), or none when it is
//! `null`. Read back with `current_query()`, the text the database ran.

use crate::common::{Db, Fixture};

fn ran(db: Db, query_comment: Option<&str>) -> String {
    let f = Fixture::new_on(db);
    f.write(
        "dbt_project.yml",
        &format!(
            "name: proj\nprofile: proj\nconfig-version: 2\n{}",
            query_comment.unwrap_or_default()
        ),
    );
    f.write(
        "models/who.sql",
        "{{ config(materialized='table') }}\nselect current_query() as q\n",
    );
    let out = f.kiln(&["run"]);
    assert_eq!(out.code, 0, "{}", out.all());
    f.query("select q from {schema}.who").remove(0).remove(0)
}

/// On PostgreSQL, where `current_query()` keeps comments (DuckDB's drops
/// them; kiln sends the same comment there).
#[test]
fn statements_carry_the_query_comment_dbt_sends() {
    let db = Db::Postgres;
    let default = ran(db, None);
    assert!(
        default.starts_with(&format!(
            "/* {{\"app\": \"kiln\", \"kiln_version\": \"{}\", \"profile_name\": \"proj\", \"target_name\": \"dev\", \"node_id\": \"model.proj.who\"}} */\n",
            env!("CARGO_PKG_VERSION")
        )),
        "{default}"
    );
    let appended = ran(
        db,
        Some("query-comment:\n  comment: nightly {{ target.name }} run\n  append: true\n"),
    );
    assert!(
        appended.trim_end().ends_with("/* nightly dev run */"),
        "{appended}"
    );
    assert!(!appended.starts_with("/*"), "{appended}");
    let off = ran(db, Some("query-comment: null\n"));
    assert!(!off.contains("/*"), "{off}");
}

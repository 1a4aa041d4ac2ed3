//! Incremental and ephemeral models on every adapter: each is run twice with
//! the source data changed in between, and the rows are checked.

use crate::common::{Db, Fixture, lines};

/// A seed `src` (id, v, updated) and an incremental model `inc` over it
/// that takes rows updated since its last run.
fn incremental_fixture(db: Db, config: &str) -> Fixture {
    let f = Fixture::new_on(db);
    f.write("seeds/src.csv", "id,v,updated\n1,a,1\n2,b,1\n");
    f.write(
        "models/inc.sql",
        &format!(
            "{{{{ config(materialized='incremental'{config}) }}}}\nselect * from {{{{ ref('src') }}}}\n{{% if is_incremental() %}}\nwhere updated > (select max(updated) from {{{{ this }}}})\n{{% endif %}}\n"
        ),
    );
    let out = f.kiln(&["build"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(out.stdout.contains("[CREATE TABLE"), "{}", out.stdout);
    // Row 2 changes, row 3 is new; row 1 is as it was.
    f.write("seeds/src.csv", "id,v,updated\n1,a,1\n2,B,2\n3,c,2\n");
    f
}

fn rows(f: &Fixture) -> Vec<String> {
    lines(&f.query("select id, v, updated from {schema}.inc order by id, v"))
}

fn delete_insert_replaces_changed_rows_and_adds_new_ones(db: Db) {
    let f = incremental_fixture(db, ", unique_key='id'");
    let out = f.kiln(&["build"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(out.stdout.contains("[INSERT"), "{}", out.stdout);
    assert_eq!(rows(&f), ["1|a|1", "2|B|2", "3|c|2"]);
    let run = f.read("target/run/proj/models/inc.sql");
    assert!(run.contains("delete from"), "{run}");
    // No staging relation is left behind.
    assert_eq!(
        lines(&f.query(
            "select count(*) from information_schema.tables where table_schema = '{schema}' and table_name like 'inc%'"
        )),
        ["1"]
    );
}

fn merge_updates_matched_rows_and_inserts_the_rest(db: Db) {
    let f = incremental_fixture(
        db,
        ", unique_key=['id'], incremental_strategy='merge', merge_exclude_columns=['updated']",
    );
    assert_eq!(f.kiln(&["build"]).code, 0);
    // `updated` is excluded from the update, so row 2 keeps its old one.
    assert_eq!(rows(&f), ["1|a|1", "2|B|1", "3|c|2"]);
}

fn append_without_a_unique_key_keeps_every_version(db: Db) {
    let f = incremental_fixture(db, "");
    assert_eq!(f.kiln(&["build"]).code, 0);
    assert_eq!(rows(&f), ["1|a|1", "2|B|2", "2|b|1", "3|c|2"]);
}

fn full_refresh_rebuilds_unless_the_model_forbids_it(db: Db) {
    let f = incremental_fixture(db, ", unique_key='id'");
    f.write("seeds/src.csv", "id,v,updated\n9,z,0\n");
    assert_eq!(f.kiln(&["build", "--full-refresh"]).code, 0);
    assert_eq!(rows(&f), ["9|z|0"]);

    let f = incremental_fixture(db, ", unique_key='id', full_refresh=false");
    assert_eq!(f.kiln(&["build", "--full-refresh"]).code, 0);
    assert_eq!(rows(&f), ["1|a|1", "2|B|2", "3|c|2"]);
}

fn incremental_predicates_limit_what_is_replaced(db: Db) {
    let f = incremental_fixture(
        db,
        ", unique_key='id', incremental_predicates=['DBT_INTERNAL_DEST.id > 5']",
    );
    assert_eq!(f.kiln(&["build"]).code, 0);
    // The old row 2 is outside the predicate, so it stays beside the new one.
    assert_eq!(rows(&f), ["1|a|1", "2|B|2", "2|b|1", "3|c|2"]);
}

fn on_schema_change_adds_syncs_or_fails(db: Db) {
    let f = incremental_fixture(
        db,
        ", unique_key='id', on_schema_change='append_new_columns'",
    );
    f.write("seeds/src.csv", "id,v,updated,extra\n2,B,2,x\n");
    assert_eq!(f.kiln(&["build"]).code, 0);
    assert_eq!(
        lines(&f.query("select id, v, extra from {schema}.inc order by id")),
        ["1|a|NULL", "2|B|x"]
    );

    let f = incremental_fixture(db, ", unique_key='id', on_schema_change='sync_all_columns'");
    f.write("seeds/src.csv", "id,updated,extra\n2,2,x\n");
    assert_eq!(f.kiln(&["build"]).code, 0);
    assert_eq!(
        lines(&f.query(
            "select column_name from information_schema.columns where table_schema = '{schema}' and table_name = 'inc' order by ordinal_position"
        )),
        ["id", "updated", "extra"]
    );

    let f = incremental_fixture(db, ", unique_key='id', on_schema_change='fail'");
    f.write("seeds/src.csv", "id,v,updated,extra\n2,B,2,x\n");
    let out = f.kiln(&["build"]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(out.stderr.contains("out of sync"), "{}", out.stderr);
    // The failed run changed nothing.
    assert_eq!(rows(&f), ["1|a|1", "2|b|1"]);
}

fn ephemeral_models_are_inlined_once_and_never_built(db: Db) {
    let f = Fixture::new_on(db);
    f.write("seeds/raw.csv", "id\n1\n2\n3\n");
    f.write(
        "models/base.sql",
        "{{ config(materialized='ephemeral') }}\nselect id from {{ ref('raw') }}\n",
    );
    f.write(
        "models/evens.sql",
        "{{ config(materialized='ephemeral') }}\nselect id from {{ ref('base') }} where id % 2 = 0\n",
    );
    f.write(
        "models/report.sql",
        "with odds as (select id from {{ ref('base') }} where id % 2 = 1)\nselect (select count(*) from odds) as odd, (select count(*) from {{ ref('evens') }}) as even\n",
    );
    let out = f.kiln(&["build"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(
        lines(&f.query("select odd, even from {schema}.report")),
        ["2|1"]
    );
    assert_eq!(
        lines(&f.query(
            "select table_name from information_schema.tables where table_schema = '{schema}' order by 1"
        )),
        ["raw", "report"]
    );
    let compiled = f.read("target/compiled/proj/models/report.sql");
    assert_eq!(
        compiled.matches("__dbt__cte__base as (").count(),
        1,
        "{compiled}"
    );
    assert!(
        compiled.find("__dbt__cte__base as").unwrap()
            < compiled.find("__dbt__cte__evens as").unwrap(),
        "{compiled}"
    );
    assert!(compiled.contains("),\nodds as ("), "{compiled}");
    // Not built, so not in the run's results either (as in dbt).
    let results = f.read("target/run_results.json");
    assert!(!results.contains("model.proj.base"), "{results}");
}

crate::on_each_adapter!(
    delete_insert_replaces_changed_rows_and_adds_new_ones,
    merge_updates_matched_rows_and_inserts_the_rest,
    append_without_a_unique_key_keeps_every_version,
    full_refresh_rebuilds_unless_the_model_forbids_it,
    incremental_predicates_limit_what_is_replaced,
    on_schema_change_adds_syncs_or_fails,
    ephemeral_models_are_inlined_once_and_never_built,
);

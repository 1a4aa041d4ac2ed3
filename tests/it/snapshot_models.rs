//! Snapshots (SCD type 2) on every adapter: run, change the source, run
//! again, and check the versions and their validity ranges.

use crate::common::{Db, Fixture, lines};

const FIRST: &str =
    "id,status,updated_at\n1,placed,2024-01-01\n2,placed,2024-01-01\n3,placed,2024-01-01\n";
/// Row 1 changes, row 2 stays, row 3 is deleted, row 4 is new.
const SECOND: &str =
    "id,status,updated_at\n1,shipped,2024-01-05\n2,placed,2024-01-01\n4,placed,2024-01-05\n";

fn snapshot_fixture(db: Db, config: &str) -> Fixture {
    let f = Fixture::new_on(db);
    f.write("seeds/src.csv", FIRST);
    f.write(
        "snapshots/orders.sql",
        &format!(
            "{{% snapshot orders_snapshot %}}\n{{{{ config(unique_key='id', {config}) }}}}\nselect * from {{{{ ref('src') }}}}\n{{% endsnapshot %}}\n"
        ),
    );
    let out = f.kiln(&["build"]);
    assert_eq!(out.code, 0, "{}", out.all());
    f
}

fn timestamp_strategy_closes_changed_and_deleted_versions(db: Db) {
    let f = snapshot_fixture(
        db,
        "strategy='timestamp', updated_at='updated_at', hard_deletes='invalidate', schema='history'",
    );
    f.write("seeds/src.csv", SECOND);
    assert_eq!(f.kiln(&["seed"]).code, 0);
    let out = f.kiln(&["snapshot"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(out.stdout.contains("snapshot "), "{}", out.stdout);
    let versions = "select id, status, cast(dbt_valid_from as varchar), coalesce(cast(dbt_valid_to as varchar), 'current') from {schema}_history.orders_snapshot where id <> 3 order by id, dbt_valid_from";
    assert_eq!(
        lines(&f.query(versions)),
        [
            "1|placed|2024-01-01|2024-01-05",
            "1|shipped|2024-01-05|current",
            "2|placed|2024-01-01|current",
            "4|placed|2024-01-05|current",
        ]
    );
    // Row 3 left the source: its version is closed, at the time of the run.
    assert_eq!(
        lines(&f.query(
            "select count(*), count(dbt_valid_to) from {schema}_history.orders_snapshot where id = 3"
        )),
        ["1|1"]
    );
    // A run with nothing changed adds nothing.
    assert_eq!(f.kiln(&["snapshot"]).code, 0);
    assert_eq!(
        lines(&f.query("select count(*) from {schema}_history.orders_snapshot")),
        ["5"]
    );
    // No staging table is left behind.
    assert_eq!(
        lines(&f.query(
            "select count(*) from information_schema.tables where table_name like 'orders_snapshot%'  and table_schema = '{schema}_history'"
        )),
        ["1"]
    );
}

fn check_strategy_records_new_versions_and_deletions(db: Db) {
    let f = snapshot_fixture(
        db,
        "strategy='check', check_cols=['status'], hard_deletes='new_record'",
    );
    f.write("seeds/src.csv", SECOND);
    // updated_at changes for row 4 only; check_cols is status alone.
    assert_eq!(f.kiln(&["build"]).code, 0);
    assert_eq!(
        lines(&f.query(
            "select id, status, dbt_is_deleted, case when dbt_valid_to is null then 'current' else 'closed' end from {schema}.orders_snapshot order by id, dbt_valid_from, dbt_is_deleted"
        )),
        [
            "1|placed|False|closed",
            "1|shipped|False|current",
            "2|placed|False|current",
            "3|placed|False|closed",
            "3|placed|True|current",
            "4|placed|False|current",
        ]
    );
    // Row 3 comes back: its deletion record is closed and a new version opens.
    f.write("seeds/src.csv", FIRST);
    assert_eq!(f.kiln(&["build"]).code, 0);
    assert_eq!(
        lines(&f.query(
            "select dbt_is_deleted, case when dbt_valid_to is null then 'current' else 'closed' end from {schema}.orders_snapshot where id = 3 order by dbt_valid_from, dbt_is_deleted"
        )),
        ["False|closed", "True|closed", "False|current"]
    );
}

fn check_all_columns_and_legacy_target_schema(db: Db) {
    let f = Fixture::new_on(db);
    let schema = format!("{}_legacy", f.schema);
    f.write("seeds/src.csv", FIRST);
    f.write(
        "snapshots/orders.sql",
        &format!(
            "{{% snapshot orders_snapshot %}}\n{{{{ config(unique_key='id', strategy='check', check_cols='all', target_schema='{schema}') }}}}\nselect * from {{{{ ref('src') }}}}\n{{% endsnapshot %}}\n"
        ),
    );
    assert_eq!(f.kiln(&["build"]).code, 0);
    // Only updated_at changes for row 2: with check_cols 'all' that is a new version.
    f.write(
        "seeds/src.csv",
        "id,status,updated_at\n1,placed,2024-01-01\n2,placed,2024-02-02\n3,placed,2024-01-01\n",
    );
    assert_eq!(f.kiln(&["build"]).code, 0);
    assert_eq!(
        lines(&f.query(&format!(
            "select id, count(*) from {schema}.orders_snapshot group by id order by id"
        ))),
        ["1|1", "2|2", "3|1"]
    );
}

fn snapshot_errors_name_the_snapshot(db: Db) {
    let f = Fixture::new_on(db);
    f.write("seeds/src.csv", FIRST);
    f.write(
        "snapshots/orders.sql",
        "{% snapshot orders_snapshot %}\n{{ config(unique_key='id', strategy='timestamp') }}\nselect * from {{ ref('src') }}\n{% endsnapshot %}\n",
    );
    let out = f.kiln(&["build"]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(
        out.stderr.contains("snapshot orders_snapshot") && out.stderr.contains("needs updated_at"),
        "{}",
        out.stderr
    );
    f.write(
        "snapshots/orders.sql",
        "{% snapshot orders_snapshot %}\nselect 1\n",
    );
    let out = f.kiln(&["build"]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(
        out.stderr.contains("snapshots/orders.sql:1"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("is not closed with {% endsnapshot %}"),
        "{}",
        out.stderr
    );
}

fn snapshots_declared_in_yaml_work_like_blocks(db: Db) {
    let f = Fixture::new_on(db);
    f.write("seeds/src.csv", FIRST);
    f.write(
        "snapshots/snapshots.yml",
        "version: 2\nsnapshots:\n  - name: src_history\n    relation: ref('src')\n    config:\n      unique_key: id\n      strategy: timestamp\n      updated_at: updated_at\n",
    );
    assert_eq!(f.kiln(&["build"]).code, 0);
    f.write("seeds/src.csv", SECOND);
    let out = f.kiln(&["build"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(
        lines(&f.query(
            "select id, status, case when dbt_valid_to is null then 'current' else 'closed' end from {schema}.src_history order by id, dbt_valid_from"
        )),
        [
            "1|placed|closed",
            "1|shipped|current",
            "2|placed|current",
            "3|placed|current",
            "4|placed|current",
        ]
    );
}

crate::on_each_adapter!(
    timestamp_strategy_closes_changed_and_deleted_versions,
    check_strategy_records_new_versions_and_deletions,
    check_all_columns_and_legacy_target_schema,
    snapshot_errors_name_the_snapshot,
    snapshots_declared_in_yaml_work_like_blocks,
);

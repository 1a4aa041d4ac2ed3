//! dbt_utils, unchanged: the fixture tests/fixtures/dbt_utils_project calls
//! the macros a typical project calls (generate_surrogate_key, star,
//! date_spine, union_relations, pivot, get_column_values) and the package's
//! generic tests, and must build the rows dbt-core 1.10 builds (see the
//! fixture's EXPECTED.md, made with dbt-duckdb 1.10 and dbt-postgres 1.9).
//!
//! dbt_utils is not part of this repository (the tests have no network to
//! fetch it): put a copy of dbt_utils 1.3 somewhere and run
//! `KILN_DBT_UTILS=/path/to/dbt_utils cargo test --test dbt_utils -- --ignored`.

use crate::common::{Db, Fixture, lines};

fn built(db: Db) -> Fixture {
    let source = std::env::var("KILN_DBT_UTILS")
        .expect("KILN_DBT_UTILS must name a copy of dbt_utils (see this file's comment)");
    let f = Fixture::project_on(db, "tests/fixtures/dbt_utils_project", "kiln_test");
    let _ = std::fs::remove_dir_all(f.path().join("expected"));
    let target = f.path().join("dbt_packages/dbt_utils");
    std::fs::create_dir_all(f.path().join("dbt_packages")).unwrap();
    let status = std::process::Command::new("cp")
        .arg("-r")
        .arg(&source)
        .arg(&target)
        .status()
        .unwrap();
    assert!(status.success());
    let out = f.kiln(&["build"]);
    assert_eq!(out.code, 0, "{}", out.all());
    // As dbt: every test passes but the one set to warn.
    assert!(
        out.stdout
            .contains("PASS=24 WARN=1 ERROR=0 SKIP=0 TOTAL=25"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains(
            "WARN 1 test dbt_utils_unique_combination_of_columns_stg_orders_customer_id__order_date"
        ),
        "{}",
        out.stdout
    );
    f
}

fn dbt_utils_builds_what_dbt_builds(db: Db) {
    let f = built(db);
    assert_eq!(
        lines(&f.query("select order_key, order_id from {schema}.stg_orders order by order_id")),
        vec![
            "ea66c06c1e1c05fa9f1aa39d98dc5bc1|1",
            "8fbdbf5573b18fae93736180f8d0197a|2",
            "b772d43b49bb57b596d0343c33bcffec|3",
            "4864dafb55d05d74897fdce5dee7fd22|4",
            "0dd954ea204f19a1b391b7828491927b|5",
            "a5cb00d7c8fffe5fb2c79c540a54817a|6",
            "6ab5dbc886d46770a86e6cc0be54a9d1|7",
            "b8b43c37536f2cb1c1080240cddc4f2c|8",
        ]
    );
    // star(except=...) and star(relation_alias, prefix)
    assert_eq!(
        lines(&f.query(
            "select column_name from information_schema.columns \
             where table_schema = '{schema}' and table_name = 'orders_enriched' order by ordinal_position"
        )),
        vec!["order_id", "amount", "customer_first_name", "customer_country"]
    );
    // date_spine: ten days, the end excluded
    assert_eq!(
        lines(&f.query(
            "select count(*), cast(cast(min(date_day) as date) as varchar), cast(cast(max(date_day) as date) as varchar) from {schema}.calendar"
        )),
        vec!["10|2024-01-01|2024-01-10"]
    );
    // union_relations: the union of both column sets, nulls where one lacks a column
    assert_eq!(
        lines(&f.query(
            "select event_id, coalesce(device, '-'), coalesce(page, '-') from {schema}.all_events order by event_id"
        )),
        vec!["1|ios|-", "2|android|-", "3|ios|-", "101|-|/home", "102|-|/products"]
    );
    // get_column_values feeding pivot
    assert_eq!(
        lines(&f.query(
            "select customer_id, completed, \"on-hold\", placed, returned, amount_completed, amount_on_hold \
             from {schema}.orders_pivot order by customer_id"
        )),
        vec!["1|2|0|0|0|200|0", "2|1|0|0|1|300|0", "3|1|0|1|0|15|0", "4|0|1|0|0|0|60", "5|0|0|1|0|0|0"]
    );
    assert_eq!(
        lines(
            &f.query("select country, position from {schema}.customer_countries order by position")
        ),
        vec!["DE|1", "ES|2", "FR|3"]
    );
    assert_eq!(
        lines(&f.query(
            "select cast(cast(date_day as date) as varchar), order_count, revenue from {schema}.daily_orders where order_count > 0 order by 1"
        )),
        vec![
            "2024-01-01|1|120",
            "2024-01-03|2|125",
            "2024-01-04|2|215",
            "2024-01-07|1|60",
            "2024-01-08|1|300",
            "2024-01-10|1|25",
        ]
    );
}

mod on_duckdb {
    #[test]
    #[ignore = "needs a copy of dbt_utils: KILN_DBT_UTILS=path cargo test --test dbt_utils -- --ignored"]
    fn dbt_utils_builds_what_dbt_builds() {
        super::dbt_utils_builds_what_dbt_builds(crate::common::Db::DuckDb)
    }
}

mod on_postgres {
    #[test]
    #[ignore = "needs a copy of dbt_utils: KILN_DBT_UTILS=path cargo test --test dbt_utils -- --ignored"]
    fn dbt_utils_builds_what_dbt_builds() {
        super::dbt_utils_builds_what_dbt_builds(crate::common::Db::Postgres)
    }
}

//! The example shop project builds on DuckDB from a fresh copy, with the rows
//! its seeds imply (expected values computed independently from the CSVs and
//! checked against dbt-duckdb 1.10 on the same project).

use crate::common::{Fixture, lines};

fn build(fixture: &Fixture) -> crate::common::Output {
    let db = fixture.db_path();
    let out = fixture.kiln_env(&["build"], &[("KILN_EXAMPLE_DB", db.to_str().unwrap())]);
    assert_eq!(out.code, 0, "build failed:\n{}", out.all());
    out
}

#[test]
fn example_project_builds_every_relation_with_the_right_rows() {
    let fixture = Fixture::copy_of("example_project");
    let out = build(&fixture);
    assert!(
        out.stdout
            .contains("Done. PASS=38 WARN=1 ERROR=0 SKIP=0 TOTAL=39"),
        "{}",
        out.stdout
    );

    let relations = fixture.query(
        "select table_schema || '.' || table_name || ':' || table_type from information_schema.tables order by 1",
    );
    assert_eq!(
        lines(&relations),
        [
            "main.completed_orders_daily:BASE TABLE",
            "main.customers:BASE TABLE",
            "main.orders:BASE TABLE",
            "main.raw_customers:BASE TABLE",
            "main.raw_orders:BASE TABLE",
            "main.raw_payments:BASE TABLE",
            "main.raw_products:BASE TABLE",
            "main.stg_customers:VIEW",
            "main.stg_orders:VIEW",
            "main.stg_payments:VIEW",
            "main.stg_products:VIEW",
            "main_finance.revenue_by_month:BASE TABLE",
            "main_snapshots.orders_snapshot:BASE TABLE",
        ]
    );
    // The incremental model over the ephemeral one, and the snapshot, hold
    // what dbt-duckdb 1.10 built from the same project.
    assert_eq!(
        lines(&fixture.query(
            "select count(*), sum(completed_orders), sum(revenue)::varchar from main.completed_orders_daily"
        )),
        ["23|23|858.65"]
    );
    assert_eq!(
        lines(
            &fixture
                .query("select count(*), count(dbt_valid_to) from main_snapshots.orders_snapshot")
        ),
        ["40|0"]
    );
    // A second build adds to the incremental model and snapshots again,
    // changing nothing as the data has not changed.
    let again = build(&fixture);
    assert!(again.stdout.contains("[INSERT in"), "{}", again.stdout);
    assert_eq!(
        lines(
            &fixture
                .query("select count(*), sum(revenue)::varchar from main.completed_orders_daily")
        ),
        ["23|858.65"]
    );
    assert_eq!(
        lines(&fixture.query("select count(*) from main_snapshots.orders_snapshot")),
        ["40"]
    );
    assert_eq!(
        lines(&fixture.query(
            "select customer_lifetime_value::varchar, number_of_orders, first_order::varchar, most_recent_order::varchar from main.customers where customer_id = 1"
        )),
        ["188.22|5|2024-01-03|2024-04-05"]
    );
    assert_eq!(
        lines(&fixture.query("select count(*), sum(customer_lifetime_value)::varchar, sum(number_of_orders) from main.customers")),
        ["20|1429.81|40"]
    );
    assert_eq!(
        lines(&fixture.query(
            "select order_month::varchar, number_of_orders, gross_revenue::varchar, net_revenue::varchar from main_finance.revenue_by_month order by 1"
        )),
        [
            "2024-01-01|12|458.70|375.71",
            "2024-02-01|13|487.45|472.71",
            "2024-03-01|13|418.93|418.93",
            "2024-04-01|2|64.73|64.73",
        ]
    );
    // The Jinja loop over `var('payment_methods')` made one column per method.
    assert_eq!(
        lines(&fixture.query(
            "select amount::varchar, coupon_amount::varchar, bank_transfer_amount::varchar from main.orders where order_id = 2"
        )),
        ["47.74|10.00|37.74"]
    );
    // column_types kept the zip code's leading zero; quoting and unicode survived.
    let zips = fixture.query("select count(*) from main.raw_customers where zip like '0%'");
    assert_ne!(zips[0][0], "0");
    let names = fixture.query(
        "select count(*) from main.raw_customers where first_name = 'Zoë' or last_name = 'Okafor, Jr.'",
    );
    assert_eq!(names[0][0], "2");
}

#[test]
fn a_second_build_gives_the_same_relations_and_leaves_no_temporary_ones() {
    let fixture = Fixture::copy_of("example_project");
    build(&fixture);
    let before =
        fixture.query("select count(*), sum(customer_lifetime_value)::varchar from main.customers");
    build(&fixture);
    let after =
        fixture.query("select count(*), sum(customer_lifetime_value)::varchar from main.customers");
    assert_eq!(before, after);
    let leftovers = fixture.query(
        "select table_name from information_schema.tables where table_name like '%__dbt_tmp' or table_name like '%__dbt_backup'",
    );
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn compile_writes_sql_with_quoted_relations_and_touches_no_database() {
    let fixture = Fixture::copy_of("example_project");
    let db = fixture.db_path();
    let out = fixture.kiln_env(&["compile"], &[("KILN_EXAMPLE_DB", db.to_str().unwrap())]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(!db.exists(), "compile must not create the database file");
    let compiled = fixture.read("target/compiled/shop/models/marts/customers.sql");
    assert!(
        compiled.contains(r#""test"."main"."stg_customers""#),
        "{compiled}"
    );
    let orders = fixture.read("target/compiled/shop/models/marts/orders.sql");
    for method in ["credit_card", "coupon", "bank_transfer", "gift_card"] {
        assert!(orders.contains(&format!("as {method}_amount")), "{orders}");
    }
    assert!(!orders.contains("{{"), "{orders}");
}

#[test]
fn ls_lists_every_node_like_dbt_ls() {
    let fixture = Fixture::copy_of("example_project");
    let out = fixture.kiln(&[
        "ls",
        "--output",
        "name",
        "--resource-type",
        "model",
        "--resource-type",
        "seed",
        "--resource-type",
        "snapshot",
    ]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(
        out.stdout.lines().collect::<Vec<_>>(),
        // As `dbt ls` printed them for this project.
        [
            "completed_orders_daily",
            "customers",
            "int_completed_orders",
            "orders",
            "revenue_by_month",
            "stg_customers",
            "stg_orders",
            "stg_payments",
            "stg_products",
            "raw_customers",
            "raw_orders",
            "raw_payments",
            "raw_products",
            "orders_snapshot",
        ]
    );
    // Tests come with the models they test (dbt's eager indirect selection);
    // the list is what `dbt ls -s +customers` printed for this project.
    let out = fixture.kiln(&["ls", "-s", "+customers"]);
    assert_eq!(
        out.stdout.lines().collect::<Vec<_>>(),
        [
            "shop.marts.customers",
            "shop.staging.stg_customers",
            "shop.staging.stg_orders",
            "shop.staging.stg_payments",
            "shop.raw_customers",
            "shop.raw_orders",
            "shop.raw_payments",
            "shop.staging.accepted_values_stg_orders_status__placed__shipped__completed__return_pending__returned",
            "shop.staging.accepted_values_stg_payments_payment_method__credit_card__coupon__bank_transfer__gift_card",
            "shop.assert_few_returned_orders",
            "shop.assert_order_amounts_match_payments",
            "shop.staging.is_non_negative_stg_payments_amount",
            "shop.marts.not_null_customers_customer_id",
            "shop.staging.not_null_stg_customers_customer_id",
            "shop.staging.not_null_stg_orders_customer_id",
            "shop.staging.not_null_stg_orders_order_id",
            "shop.staging.not_null_stg_payments_order_id",
            "shop.staging.not_null_stg_payments_payment_id",
            "shop.staging.relationships_stg_orders_customer_id__customer_id__ref_stg_customers_",
            "shop.marts.unique_customers_customer_id",
            "shop.staging.unique_stg_customers_customer_id",
            "shop.staging.unique_stg_orders_order_id",
            "shop.staging.unique_stg_payments_payment_id",
        ]
    );
}

#[test]
fn run_results_name_relations_as_dbt_does() {
    // dbt 1.10 on this project: models and snapshots carry their relation,
    // seeds and tests (without store_failures) a null.
    let fixture = Fixture::copy_of("example_project");
    build(&fixture);
    let results: serde_json::Value =
        serde_json::from_str(&fixture.read("target/run_results.json")).unwrap();
    for result in results["results"].as_array().unwrap() {
        let id = result["unique_id"].as_str().unwrap();
        let relation = &result["relation_name"];
        match id.split('.').next().unwrap() {
            "seed" | "test" => assert!(relation.is_null(), "{id}: {relation}"),
            "model" | "snapshot" => assert!(relation.is_string(), "{id}: {relation}"),
            other => panic!("unexpected node {other}"),
        }
    }
}

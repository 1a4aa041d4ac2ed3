//! Node selection as `dbt ls -s ...` makes it: every case below is a
//! selection run through dbt-core 1.10 on the example project, with the names
//! it printed (set order, as both print them sorted by unique id).

use crate::common::Fixture;

/// (selection, the names `dbt ls -s <selection> --output name` printed).
const CASES: &[(&str, &[&str])] = &[
    (
        "staging",
        &[
            "accepted_values_stg_orders_status__placed__shipped__completed__return_pending__returned",
            "accepted_values_stg_payments_payment_method__credit_card__coupon__bank_transfer__gift_card",
            "assert_few_returned_orders",
            "assert_order_amounts_match_payments",
            "is_non_negative_stg_payments_amount",
            "not_null_stg_customers_customer_id",
            "not_null_stg_orders_customer_id",
            "not_null_stg_orders_order_id",
            "not_null_stg_payments_order_id",
            "not_null_stg_payments_payment_id",
            "not_null_stg_products_product_id",
            "relationships_stg_orders_customer_id__customer_id__ref_stg_customers_",
            "stg_customers",
            "stg_orders",
            "stg_payments",
            "stg_products",
            "unique_stg_customers_customer_id",
            "unique_stg_orders_order_id",
            "unique_stg_payments_payment_id",
            "unique_stg_products_product_id",
        ],
    ),
    (
        "shop.marts.*",
        &[
            "assert_order_amounts_match_payments",
            "completed_orders_daily",
            "customers",
            "int_completed_orders",
            "not_null_customers_customer_id",
            "not_null_orders_customer_id",
            "not_null_orders_order_id",
            "not_null_revenue_by_month_order_month",
            "orders",
            "revenue_by_month",
            "unique_customers_customer_id",
            "unique_orders_order_id",
            "unique_revenue_by_month_order_month",
        ],
    ),
    (
        "fqn:marts",
        &[
            "assert_order_amounts_match_payments",
            "completed_orders_daily",
            "customers",
            "int_completed_orders",
            "not_null_customers_customer_id",
            "not_null_orders_customer_id",
            "not_null_orders_order_id",
            "not_null_revenue_by_month_order_month",
            "orders",
            "revenue_by_month",
            "unique_customers_customer_id",
            "unique_orders_order_id",
            "unique_revenue_by_month_order_month",
        ],
    ),
    (
        "file:orders.sql",
        &[
            "assert_order_amounts_match_payments",
            "not_null_orders_customer_id",
            "not_null_orders_order_id",
            "orders",
            "unique_orders_order_id",
        ],
    ),
    (
        "config.materialized:table",
        &[
            "assert_order_amounts_match_payments",
            "customers",
            "not_null_customers_customer_id",
            "not_null_orders_customer_id",
            "not_null_orders_order_id",
            "not_null_revenue_by_month_order_month",
            "orders",
            "revenue_by_month",
            "unique_customers_customer_id",
            "unique_orders_order_id",
            "unique_revenue_by_month_order_month",
        ],
    ),
    (
        "tag:finance,resource_type:model",
        &[
            "not_null_revenue_by_month_order_month",
            "revenue_by_month",
            "unique_revenue_by_month_order_month",
        ],
    ),
    (
        "marts,resource_type:test",
        &[
            "assert_order_amounts_match_payments",
            "not_null_customers_customer_id",
            "not_null_orders_customer_id",
            "not_null_orders_order_id",
            "not_null_revenue_by_month_order_month",
            "unique_customers_customer_id",
            "unique_orders_order_id",
            "unique_revenue_by_month_order_month",
        ],
    ),
    (
        "test_type:singular",
        &[
            "assert_few_returned_orders",
            "assert_order_amounts_match_payments",
        ],
    ),
    (
        "test_name:accepted_values",
        &[
            "accepted_values_stg_orders_status__placed__shipped__completed__return_pending__returned",
            "accepted_values_stg_payments_payment_method__credit_card__coupon__bank_transfer__gift_card",
        ],
    ),
    (
        "package:shop,config.materialized:incremental",
        &["completed_orders_daily"],
    ),
    (
        "1+orders",
        &[
            "accepted_values_stg_orders_status__placed__shipped__completed__return_pending__returned",
            "accepted_values_stg_payments_payment_method__credit_card__coupon__bank_transfer__gift_card",
            "assert_few_returned_orders",
            "assert_order_amounts_match_payments",
            "is_non_negative_stg_payments_amount",
            "not_null_orders_customer_id",
            "not_null_orders_order_id",
            "not_null_stg_orders_customer_id",
            "not_null_stg_orders_order_id",
            "not_null_stg_payments_order_id",
            "not_null_stg_payments_payment_id",
            "orders",
            "relationships_stg_orders_customer_id__customer_id__ref_stg_customers_",
            "stg_orders",
            "stg_payments",
            "unique_orders_order_id",
            "unique_stg_orders_order_id",
            "unique_stg_payments_payment_id",
        ],
    ),
    (
        "orders+1",
        &[
            "assert_order_amounts_match_payments",
            "int_completed_orders",
            "not_null_orders_customer_id",
            "not_null_orders_order_id",
            "not_null_revenue_by_month_order_month",
            "orders",
            "revenue_by_month",
            "unique_orders_order_id",
            "unique_revenue_by_month_order_month",
        ],
    ),
    (
        "@stg_orders",
        &[
            "accepted_values_stg_orders_status__placed__shipped__completed__return_pending__returned",
            "accepted_values_stg_payments_payment_method__credit_card__coupon__bank_transfer__gift_card",
            "assert_few_returned_orders",
            "assert_order_amounts_match_payments",
            "completed_orders_daily",
            "customers",
            "int_completed_orders",
            "is_non_negative_stg_payments_amount",
            "not_null_customers_customer_id",
            "not_null_orders_customer_id",
            "not_null_orders_order_id",
            "not_null_revenue_by_month_order_month",
            "not_null_stg_customers_customer_id",
            "not_null_stg_orders_customer_id",
            "not_null_stg_orders_order_id",
            "not_null_stg_payments_order_id",
            "not_null_stg_payments_payment_id",
            "orders",
            "orders_snapshot",
            "raw_customers",
            "raw_orders",
            "raw_payments",
            "relationships_stg_orders_customer_id__customer_id__ref_stg_customers_",
            "revenue_by_month",
            "stg_customers",
            "stg_orders",
            "stg_payments",
            "unique_customers_customer_id",
            "unique_orders_order_id",
            "unique_revenue_by_month_order_month",
            "unique_stg_customers_customer_id",
            "unique_stg_orders_order_id",
            "unique_stg_payments_payment_id",
        ],
    ),
    (
        "2+revenue_by_month",
        &[
            "accepted_values_stg_orders_status__placed__shipped__completed__return_pending__returned",
            "accepted_values_stg_payments_payment_method__credit_card__coupon__bank_transfer__gift_card",
            "assert_few_returned_orders",
            "assert_order_amounts_match_payments",
            "is_non_negative_stg_payments_amount",
            "not_null_orders_customer_id",
            "not_null_orders_order_id",
            "not_null_revenue_by_month_order_month",
            "not_null_stg_orders_customer_id",
            "not_null_stg_orders_order_id",
            "not_null_stg_payments_order_id",
            "not_null_stg_payments_payment_id",
            "orders",
            "relationships_stg_orders_customer_id__customer_id__ref_stg_customers_",
            "revenue_by_month",
            "stg_orders",
            "stg_payments",
            "unique_orders_order_id",
            "unique_revenue_by_month_order_month",
            "unique_stg_orders_order_id",
            "unique_stg_payments_payment_id",
        ],
    ),
    ("stg_*", &[]),
];

#[test]
fn selections_pick_what_dbt_picks() {
    let f = Fixture::copy_of("example_project");
    let mut differences = Vec::new();
    for (selection, want) in CASES {
        let out = f.kiln(&["ls", "-s", selection, "--output", "name"]);
        assert_eq!(out.code, 0, "{selection}: {}", out.all());
        let mut got: Vec<&str> = out.stdout.lines().collect();
        got.sort();
        if got != *want {
            differences.push(format!("{selection}:\n  dbt:  {want:?}\n  kiln: {got:?}"));
        }
    }
    assert!(differences.is_empty(), "{}", differences.join("\n"));
}

#[test]
fn exclude_and_union_combine() {
    let f = Fixture::copy_of("example_project");
    let out = f.kiln(&[
        "ls",
        "-s",
        "tag:finance stg_products",
        "--exclude",
        "resource_type:test",
        "--output",
        "name",
    ]);
    assert_eq!(
        out.stdout.lines().collect::<Vec<_>>(),
        ["revenue_by_month", "stg_products"]
    );
}

#[test]
fn bad_selectors_are_errors_that_name_them() {
    let f = Fixture::copy_of("example_project");
    let out = f.kiln(&["ls", "-s", "confg.materialized:table"]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(
        out.stderr.contains("did you mean 'config'?"),
        "{}",
        out.stderr
    );
    let out = f.kiln(&["ls", "-s", "@+orders"]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(
        out.stderr.contains("`@` cannot be combined with `+`"),
        "{}",
        out.stderr
    );
}

/// (mode, selection, the tests `dbt ls -s <selection> --indirect-selection
/// <mode> --resource-type test --output name` printed).
const INDIRECT: &[(&str, &str, &[&str])] = &[
    (
        "eager",
        "orders",
        &[
            "assert_order_amounts_match_payments",
            "not_null_orders_customer_id",
            "not_null_orders_order_id",
            "unique_orders_order_id",
        ],
    ),
    (
        "eager",
        "stg_orders stg_customers",
        &[
            "accepted_values_stg_orders_status__placed__shipped__completed__return_pending__returned",
            "assert_few_returned_orders",
            "not_null_stg_customers_customer_id",
            "not_null_stg_orders_customer_id",
            "not_null_stg_orders_order_id",
            "relationships_stg_orders_customer_id__customer_id__ref_stg_customers_",
            "unique_stg_customers_customer_id",
            "unique_stg_orders_order_id",
        ],
    ),
    (
        "eager",
        "stg_payments+",
        &[
            "accepted_values_stg_payments_payment_method__credit_card__coupon__bank_transfer__gift_card",
            "assert_order_amounts_match_payments",
            "is_non_negative_stg_payments_amount",
            "not_null_customers_customer_id",
            "not_null_orders_customer_id",
            "not_null_orders_order_id",
            "not_null_revenue_by_month_order_month",
            "not_null_stg_payments_order_id",
            "not_null_stg_payments_payment_id",
            "unique_customers_customer_id",
            "unique_orders_order_id",
            "unique_revenue_by_month_order_month",
            "unique_stg_payments_payment_id",
        ],
    ),
    (
        "cautious",
        "orders",
        &[
            "not_null_orders_customer_id",
            "not_null_orders_order_id",
            "unique_orders_order_id",
        ],
    ),
    (
        "cautious",
        "stg_orders stg_customers",
        &[
            "accepted_values_stg_orders_status__placed__shipped__completed__return_pending__returned",
            "assert_few_returned_orders",
            "not_null_stg_customers_customer_id",
            "not_null_stg_orders_customer_id",
            "not_null_stg_orders_order_id",
            "relationships_stg_orders_customer_id__customer_id__ref_stg_customers_",
            "unique_stg_customers_customer_id",
            "unique_stg_orders_order_id",
        ],
    ),
    (
        "cautious",
        "stg_payments+",
        &[
            "accepted_values_stg_payments_payment_method__credit_card__coupon__bank_transfer__gift_card",
            "assert_order_amounts_match_payments",
            "is_non_negative_stg_payments_amount",
            "not_null_customers_customer_id",
            "not_null_orders_customer_id",
            "not_null_orders_order_id",
            "not_null_revenue_by_month_order_month",
            "not_null_stg_payments_order_id",
            "not_null_stg_payments_payment_id",
            "unique_customers_customer_id",
            "unique_orders_order_id",
            "unique_revenue_by_month_order_month",
            "unique_stg_payments_payment_id",
        ],
    ),
    (
        "buildable",
        "orders",
        &[
            "assert_order_amounts_match_payments",
            "not_null_orders_customer_id",
            "not_null_orders_order_id",
            "unique_orders_order_id",
        ],
    ),
    (
        "buildable",
        "stg_orders stg_customers",
        &[
            "accepted_values_stg_orders_status__placed__shipped__completed__return_pending__returned",
            "assert_few_returned_orders",
            "not_null_stg_customers_customer_id",
            "not_null_stg_orders_customer_id",
            "not_null_stg_orders_order_id",
            "relationships_stg_orders_customer_id__customer_id__ref_stg_customers_",
            "unique_stg_customers_customer_id",
            "unique_stg_orders_order_id",
        ],
    ),
    (
        "buildable",
        "stg_payments+",
        &[
            "accepted_values_stg_payments_payment_method__credit_card__coupon__bank_transfer__gift_card",
            "assert_order_amounts_match_payments",
            "is_non_negative_stg_payments_amount",
            "not_null_customers_customer_id",
            "not_null_orders_customer_id",
            "not_null_orders_order_id",
            "not_null_revenue_by_month_order_month",
            "not_null_stg_payments_order_id",
            "not_null_stg_payments_payment_id",
            "unique_customers_customer_id",
            "unique_orders_order_id",
            "unique_revenue_by_month_order_month",
            "unique_stg_payments_payment_id",
        ],
    ),
    ("empty", "orders", &[]),
    ("empty", "stg_orders stg_customers", &[]),
    (
        "empty",
        "stg_payments+",
        &[
            "accepted_values_stg_payments_payment_method__credit_card__coupon__bank_transfer__gift_card",
            "assert_order_amounts_match_payments",
            "is_non_negative_stg_payments_amount",
            "not_null_customers_customer_id",
            "not_null_orders_customer_id",
            "not_null_orders_order_id",
            "not_null_revenue_by_month_order_month",
            "not_null_stg_payments_order_id",
            "not_null_stg_payments_payment_id",
            "unique_customers_customer_id",
            "unique_orders_order_id",
            "unique_revenue_by_month_order_month",
            "unique_stg_payments_payment_id",
        ],
    ),
];

#[test]
fn indirect_selection_modes_pick_the_tests_dbt_picks() {
    let f = Fixture::copy_of("example_project");
    let mut differences = Vec::new();
    for (mode, selection, want) in INDIRECT {
        let mut args = vec!["ls", "-s"];
        args.extend(selection.split(' '));
        args.extend([
            "--indirect-selection",
            mode,
            "--resource-type",
            "test",
            "--output",
            "name",
        ]);
        let out = f.kiln(&args);
        assert_eq!(out.code, 0, "{selection}: {}", out.all());
        let mut got: Vec<&str> = out.stdout.lines().collect();
        got.sort();
        if got != *want {
            differences.push(format!(
                "{mode} {selection}:\n  dbt:  {want:?}\n  kiln: {got:?}"
            ));
        }
    }
    assert!(differences.is_empty(), "{}", differences.join("\n"));
}

/// Named selections from selectors.yml, with the names dbt's ls printed.
#[test]
fn selectors_yml_definitions_select_what_dbt_selects() {
    let f = Fixture::copy_of("example_project");
    f.write(
        "selectors.yml",
        "selectors:\n  - name: marts_no_tests\n    definition:\n      union:\n        - method: fqn\n          value: marts\n          children: true\n        - exclude:\n            - method: resource_type\n              value: test\n  - name: finance_upstream\n    definition:\n      union:\n        - intersection:\n            - method: tag\n              value: finance\n            - method: resource_type\n              value: model\n        - method: path\n          value: models/staging/stg_orders.sql\n          parents: true\n",
    );
    let names = |selector: &str| {
        let out = f.kiln(&["ls", "--selector", selector, "--output", "name"]);
        assert_eq!(out.code, 0, "{}", out.all());
        let mut names: Vec<String> = out.stdout.lines().map(str::to_string).collect();
        names.sort();
        names
    };
    assert_eq!(
        names("marts_no_tests"),
        [
            "completed_orders_daily",
            "customers",
            "int_completed_orders",
            "orders",
            "revenue_by_month"
        ]
    );
    assert_eq!(
        names("finance_upstream"),
        [
            "accepted_values_stg_orders_status__placed__shipped__completed__return_pending__returned",
            "assert_few_returned_orders",
            "not_null_revenue_by_month_order_month",
            "not_null_stg_orders_customer_id",
            "not_null_stg_orders_order_id",
            "raw_orders",
            "relationships_stg_orders_customer_id__customer_id__ref_stg_customers_",
            "revenue_by_month",
            "stg_orders",
            "unique_revenue_by_month_order_month",
            "unique_stg_orders_order_id",
        ]
    );
    let out = f.kiln(&["ls", "--selector", "marts_no_test"]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(
        out.stderr.contains("did you mean 'marts_no_tests'?"),
        "{}",
        out.stderr
    );
}

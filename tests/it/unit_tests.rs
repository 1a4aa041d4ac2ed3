//! Unit tests (dbt 1.8, issue 20): a model's SQL run on given rows and
//! compared with the expected ones. What is pinned here was asked of dbt
//! 1.10 (dbt-duckdb 1.10, dbt-postgres 1.9) on the same kind of fixture: the
//! console lines (`PASS orders::name`, `FAIL 1 orders::name`), the diff
//! (`@@`, `→`, `+++`, `---`), the order in `build` (a model's unit tests
//! before it, the model skipped when one fails), `ls` (`unit_test:proj.name`),
//! the manifest's `unit_tests` section and the parse errors' words.

use crate::common::{Db, Fixture};

const ORDERS: &str = "{{ config(materialized='table') }}\n\
    with o as (select * from {{ ref('stg_orders') }}),\n\
    c as (select * from {{ source('raw', 'raw_customers') }})\n\
    select o.id as order_id, c.name as customer_name,\n\
      case when o.status = 'returned' then 0 else o.amount end as net_amount,\n\
      '{{ var(\"region\", \"eu\") }}' as region,\n\
      '{{ env_var(\"KILN_UT_CHANNEL\", \"web\") }}' as channel\n\
    from o left join c on c.id = o.customer_id\n";

const INCREMENTAL: &str = "{{ config(materialized='incremental', unique_key='id') }}\n\
    select id, amount from {{ ref('stg_orders') }}\n\
    {% if is_incremental() %} where id > (select max(id) from {{ this }}) {% endif %}\n";

const UNIT_TESTS: &str = r#"version: 2
unit_tests:
  - name: orders_dict
    model: orders
    given:
      - input: ref('stg_orders')
        rows:
          - {id: 1, customer_id: 100, amount: 10.5, status: placed}
          - {id: 2, customer_id: 101, amount: 3, status: returned}
      - input: source('raw', 'raw_customers')
        rows:
          - {id: 100, name: alice}
          - {id: 101, name: bob}
    expect:
      rows:
        - {order_id: 2, customer_name: bob, net_amount: 0}
        - {order_id: 1, customer_name: alice, net_amount: 10.5}
  - name: orders_csv
    model: orders
    given:
      - input: ref('stg_orders')
        format: csv
        rows: |
          id,customer_id,amount,status
          1,100,10.5,placed
      - input: source('raw', 'raw_customers')
        format: csv
        fixture: customers
    expect:
      format: csv
      rows: |
        order_id,customer_name
        1,alice
  - name: orders_sql_and_no_rows
    model: orders
    given:
      - input: ref('stg_orders')
        format: sql
        rows: select 7 as id, 100 as customer_id, 2.5 as amount, 'placed' as status
      - input: source('raw', 'raw_customers')
        rows: []
    expect:
      rows:
        - {order_id: 7, customer_name: null, net_amount: 2.5}
  - name: orders_overrides
    model: orders
    overrides:
      vars: {region: us}
      env_vars: {KILN_UT_CHANNEL: store}
    given:
      - input: ref('stg_orders')
        rows: [{id: 1, customer_id: 100}]
      - input: source('raw', 'raw_customers')
        rows: [{id: 100, name: alice}]
    expect:
      rows: [{order_id: 1, region: us, channel: store}]
  - name: inc_full
    model: inc_orders
    overrides: {macros: {is_incremental: false}}
    given:
      - input: ref('stg_orders')
        rows: [{id: 1, amount: 1}, {id: 2, amount: 2}]
    expect:
      rows: [{id: 1}, {id: 2}]
  - name: inc_new_rows_only
    model: inc_orders
    overrides: {macros: {is_incremental: true}}
    given:
      - input: ref('stg_orders')
        rows: [{id: 1, amount: 1}, {id: 2, amount: 2}]
      - input: this
        rows: [{id: 1, amount: 1}]
    expect:
      rows: [{id: 2, amount: 2}]
"#;

const WRONG: &str = r#"version: 2
unit_tests:
  - name: orders_wrong
    model: orders
    given:
      - input: ref('stg_orders')
        rows:
          - {id: 1, customer_id: 100, amount: 10.5, status: placed}
          - {id: 2, customer_id: 999, amount: 3, status: returned}
      - input: source('raw', 'raw_customers')
        rows: [{id: 100, name: alice}, {id: 101, name: bob}]
    expect:
      rows:
        - {order_id: 1, customer_name: alice, net_amount: 10.5}
        - {order_id: 2, customer_name: bob, net_amount: 3}
"#;

fn project(db: Db) -> Fixture {
    let f = Fixture::new_on(db);
    f.write(
        "seeds/raw_orders.csv",
        "id,customer_id,amount,status\n1,100,10.5,placed\n2,101,3,returned\n",
    );
    f.write("seeds/raw_customers.csv", "id,name\n100,alice\n101,bob\n");
    f.write(
        "models/sources.yml",
        "version: 2\nsources:\n  - name: raw\n    schema: \"{{ target.schema }}\"\n    tables:\n      - name: raw_customers\n",
    );
    f.write(
        "models/stg_orders.sql",
        "select id, customer_id, cast(amount as double precision) as amount, status from {{ ref('raw_orders') }}\n",
    );
    f.write("models/orders.sql", ORDERS);
    f.write(
        "models/orders_summary.sql",
        "select count(*) as n from {{ ref('orders') }}\n",
    );
    f.write("models/inc_orders.sql", INCREMENTAL);
    f.write("models/unit_tests.yml", UNIT_TESTS);
    f.write(
        "tests/fixtures/customers.csv",
        "id,name\n100,alice\n101,bob\n",
    );
    f
}

crate::on_each_adapter!(
    unit_tests_pass_after_a_schema_only_build_and_run_before_their_model,
    a_failing_unit_test_shows_the_diff_and_skips_its_model_and_what_reads_it,
    a_unit_test_whose_input_relation_is_missing_errors,
);

fn unit_tests_pass_after_a_schema_only_build_and_run_before_their_model(db: Db) {
    let f = project(db);
    // dbt's way in CI: build the relations empty, then run the unit tests.
    let out = f.kiln(&["build", "--empty", "--exclude-resource-type", "unit_test"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(!out.stdout.contains("::"), "{}", out.stdout);
    let out = f.kiln(&["test", "--select", "test_type:unit"]);
    assert_eq!(out.code, 0, "{}", out.all());
    for name in [
        "orders::orders_dict",
        "orders::orders_csv",
        "orders::orders_sql_and_no_rows",
        "orders::orders_overrides",
        "inc_orders::inc_full",
        "inc_orders::inc_new_rows_only",
    ] {
        assert!(
            out.stdout
                .lines()
                .any(|l| l.contains(&format!("PASS  {name} ")) && l.contains("[PASS in")),
            "{name}: {}",
            out.stdout
        );
    }
    let statuses = f.statuses();
    assert_eq!(statuses.len(), 6, "{statuses:?}");
    assert_eq!(statuses["unit_test.proj.orders.orders_dict"], "pass");
    // The empty build left the tables empty; the unit tests read none of it.
    assert_eq!(f.query("select count(*) from {schema}.orders"), [["0"]]);

    // A full build: each model's unit tests run before it.
    let out = f.kiln(&["build"]);
    assert_eq!(out.code, 0, "{}", out.all());
    let position = |needle: &str| {
        out.stdout
            .lines()
            .position(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("{needle} not in {}", out.stdout))
    };
    assert!(position("orders::orders_dict") < position("table model"));
    assert!(position("view model") < position("orders::orders_dict"));
    assert_eq!(
        f.query("select order_id, net_amount from {schema}.orders order by order_id"),
        [["1", "10.5"], ["2", "0"]]
    );
    let results: serde_json::Value =
        serde_json::from_str(&f.read("target/run_results.json")).unwrap();
    let unit = results["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["unique_id"] == "unit_test.proj.orders.orders_csv")
        .expect("the unit test's result");
    assert_eq!(unit["status"], "pass");
    assert_eq!(unit["failures"], 0);
    // Its SQL on the fixtures is kept where dbt keeps it.
    let compiled = f.read("target/compiled/proj/models/unit_tests.yml/models/orders_csv.sql");
    assert!(
        compiled.contains("__dbt__cte__stg_orders as ("),
        "{compiled}"
    );
    assert!(compiled.contains("__dbt__cte__raw_customers"), "{compiled}");
}

fn a_failing_unit_test_shows_the_diff_and_skips_its_model_and_what_reads_it(db: Db) {
    let f = project(db);
    f.write("models/wrong.yml", WRONG);
    let out = f.kiln(&["build"]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(
        out.stdout.contains("FAIL 1 orders::orders_wrong "),
        "{}",
        out.stdout
    );
    // dbt's diff of the same rows: the row of order 2 changed, each changed
    // value as expected→actual, the null in capitals.
    for line in [
        "Failure in unit_test orders_wrong (models/wrong.yml)",
        "actual differs from expected:",
        "@@,order_id,customer_name,net_amount",
        "  ,1       ,alice        ,10.5",
        "→ ,2       ,bob→NULL     ,3.0→0.0",
        "compiled code at target/compiled/proj/models/wrong.yml/models/orders_wrong.sql",
    ] {
        assert!(out.stdout.contains(line), "{line}\n{}", out.stdout);
    }
    let statuses = f.statuses();
    assert_eq!(statuses["unit_test.proj.orders.orders_wrong"], "fail");
    assert_eq!(statuses["model.proj.orders"], "skipped");
    assert_eq!(statuses["model.proj.orders_summary"], "skipped");
    assert_eq!(statuses["model.proj.stg_orders"], "success");
    let results = f.read("target/run_results.json");
    assert!(results.contains("bob→NULL"), "{results}");
    // The model was never built.
    let found = f.query(
        "select count(*) from information_schema.tables where table_schema = '{schema}' and table_name = 'orders'",
    );
    assert_eq!(found, [["0"]]);
    // CI's report has it, its diff as the failure's text.
    let out = f.kiln(&[
        "test",
        "-s",
        "unit_test:orders_wrong",
        "--junit-xml",
        "report.xml",
    ]);
    assert_eq!(out.code, 1, "{}", out.all());
    let xml = f.read("report.xml");
    assert!(
        xml.contains("name=\"orders_wrong\"") && xml.contains("bob→NULL"),
        "{xml}"
    );
    assert!(xml.contains("failures=\"1\""), "{xml}");
    // In build, a model's unit tests run one after another (by name, here)
    // and, as in dbt, those after a failed one are skipped.
    f.write(
        "models/wrong.yml",
        &WRONG.replace("orders_wrong", "orders_a_wrong"),
    );
    let out = f.kiln(&["build"]);
    assert_eq!(out.code, 1, "{}", out.all());
    let statuses = f.statuses();
    assert_eq!(statuses["unit_test.proj.orders.orders_a_wrong"], "fail");
    assert_eq!(statuses["unit_test.proj.orders.orders_csv"], "skipped");
    assert_eq!(statuses["unit_test.proj.inc_orders.inc_full"], "pass");
}

fn a_unit_test_whose_input_relation_is_missing_errors(db: Db) {
    let f = project(db);
    // Nothing is built: the unit tests cannot read their inputs' columns.
    let out = f.kiln(&["test", "--select", "unit_test:orders_dict"]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(
        out.all()
            .contains("Not able to get columns for unit test 'stg_orders' from relation"),
        "{}",
        out.all()
    );
    assert!(
        out.all().contains("models/unit_tests.yml:6:"),
        "{}",
        out.all()
    );
    assert_eq!(f.statuses()["unit_test.proj.orders.orders_dict"], "error");
}

#[test]
fn unit_tests_are_listed_and_selected_as_dbt_lists_them() {
    let f = project(Db::DuckDb);
    let ls = |args: &[&str]| {
        let out = f.kiln(&[&["ls"], args].concat());
        assert_eq!(out.code, 0, "{}", out.all());
        out.stdout.lines().map(str::to_string).collect::<Vec<_>>()
    };
    let units = [
        "unit_test:proj.inc_full",
        "unit_test:proj.inc_new_rows_only",
        "unit_test:proj.orders_csv",
        "unit_test:proj.orders_dict",
        "unit_test:proj.orders_overrides",
        "unit_test:proj.orders_sql_and_no_rows",
    ];
    let mut got = ls(&["--resource-type", "unit_test"]);
    got.sort();
    assert_eq!(got, units);
    let mut got = ls(&["-s", "test_type:unit"]);
    got.sort();
    assert_eq!(got, units);
    assert_eq!(ls(&["-s", "unit_test:inc_*"]), units[..2]);
    assert!(ls(&["-s", "test_type:data"]).is_empty());
    // A model selected brings its unit tests, as in dbt.
    let orders = ls(&["-s", "orders"]);
    assert!(orders.contains(&"proj.orders".to_string()), "{orders:?}");
    assert!(
        orders.contains(&"unit_test:proj.orders_dict".to_string()),
        "{orders:?}"
    );
    assert!(
        !orders.contains(&"unit_test:proj.inc_full".to_string()),
        "{orders:?}"
    );
    // Configured by path in dbt_project.yml, as dbt's `unit_tests:` tree.
    f.write(
        "dbt_project.yml",
        "name: proj\nprofile: proj\nconfig-version: 2\nunit_tests:\n  proj:\n    orders:\n      +tags: [nightly]\n",
    );
    let mut nightly = ls(&["-s", "tag:nightly"]);
    nightly.sort();
    assert_eq!(nightly, units[2..]);
    f.write(
        "dbt_project.yml",
        "name: proj\nprofile: proj\nconfig-version: 2\n",
    );
    let without = ls(&["--exclude-resource-type", "unit_test"]);
    assert!(
        !without.iter().any(|l| l.starts_with("unit_test:")),
        "{without:?}"
    );

    // The manifest's own section, in dbt's shape.
    let out = f.kiln(&["compile"]);
    assert_eq!(out.code, 0, "{}", out.all());
    // A unit test compiles against its inputs' columns when it runs, not in
    // `kiln compile`, which touches no database: no empty file stands for it.
    assert!(
        !f.path()
            .join("target/compiled/proj/models/unit_tests.yml/models/orders_csv.sql")
            .exists()
    );
    // The docs page leaves unit tests out of the lineage, as dbt's.
    let out = f.kiln(&["docs", "generate"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(!f.read("target/index.html").contains("unit_test.proj."));
    let manifest: serde_json::Value =
        serde_json::from_str(&f.read("target/manifest.json")).unwrap();
    let unit = &manifest["unit_tests"]["unit_test.proj.orders.orders_csv"];
    assert_eq!(unit["resource_type"], "unit_test");
    assert_eq!(unit["model"], "orders");
    assert_eq!(
        unit["fqn"],
        serde_json::json!(["proj", "orders", "orders_csv"])
    );
    assert_eq!(
        unit["depends_on"]["nodes"],
        serde_json::json!(["model.proj.orders"])
    );
    assert_eq!(unit["original_file_path"], "models/unit_tests.yml");
    // Inline CSV is recorded as the rows it reads to, each value text.
    assert_eq!(
        unit["given"][0]["rows"],
        serde_json::json!([{"id": "1", "customer_id": "100", "amount": "10.5", "status": "placed"}])
    );
    assert_eq!(unit["given"][1]["fixture"], "customers");
    assert!(
        manifest["nodes"]
            .as_object()
            .unwrap()
            .keys()
            .all(|k| !k.starts_with("unit_test."))
    );
    assert_eq!(
        manifest["parent_map"]["unit_test.proj.orders.orders_csv"],
        serde_json::json!(["model.proj.orders"])
    );
    // `kiln run` does not run unit tests, nor count them.
    assert_eq!(f.kiln(&["seed"]).code, 0);
    let out = f.kiln(&["run"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(!out.stdout.contains("::"), "{}", out.stdout);
}

#[test]
fn a_wrong_unit_test_is_an_error_at_its_line_in_dbts_words() {
    let f = project(Db::DuckDb);
    let cases = [
        (
            "  - name: t\n    model: nope\n    given: []\n    expect: {rows: []}\n",
            "Unable to find model 'proj.nope' for unit test 't' in models/more.yml",
        ),
        (
            "  - name: t\n    model: orders\n    given:\n      - input: ref('stg_orders')\n        format: json\n        rows: []\n    expect: {rows: []}\n",
            "format 'json' is not one of ['csv', 'dict', 'sql']",
        ),
        (
            "  - name: t\n    model: orders\n    given:\n      - input: ref('stg_orders')\n        format: csv\n        fixture: no_such_fixture\n    expect: {rows: []}\n",
            "File not found for fixture 'no_such_fixture' in unit tests in models/more.yml",
        ),
        (
            "  - name: t\n    model: orders\n    given:\n      - input: ref('stg_orders')\n        format: csv\n        rows: [{id: 1}]\n    expect: {rows: []}\n",
            "Unit test t has input rows or fixtures which do not match format csv.  Expected string.",
        ),
        (
            "  - name: t\n    model: inc_orders\n    given:\n      - input: ref('stg_orders')\n        rows: []\n    expect: {rows: []}\n",
            "Boolean override for 'is_incremental' must be provided for unit test 't' in model 'inc_orders'",
        ),
        (
            "  - name: t\n    model: inc_orders\n    overrides: {macros: {is_incremental: true}}\n    given:\n      - input: ref('stg_orders')\n        rows: []\n    expect: {rows: []}\n",
            "Unit test 't' for incremental model 'inc_orders' must have a 'this' input",
        ),
        (
            "  - name: t\n    model: orders\n    given: []\n",
            "'expect' is a required property",
        ),
        (
            "  - name: t\n    model: orders\n    given:\n      - input: ref('stg_orders')\n        row: []\n    expect: {rows: []}\n",
            "Additional properties are not allowed ('row' was unexpected)",
        ),
    ];
    for (entry, message) in cases {
        f.write(
            "models/more.yml",
            &format!("version: 2\nunit_tests:\n{entry}"),
        );
        let out = f.kiln(&["ls"]);
        assert_eq!(out.code, 2, "{message}\n{}", out.all());
        let message = crate::common::words(message);
        assert!(out.words().contains(&message), "{message}\n{}", out.all());
        assert!(out.all().contains("models/more.yml:"), "{}", out.all());
    }
}

/// `overrides: macros:` names a package's macro as dbt does, `pkg.macro`:
/// the model (and the macros it calls) get the value given; the package's
/// other macros stay its own.
#[test]
fn a_package_qualified_macro_override_replaces_that_macro_only() {
    let f = Fixture::new();
    f.write(
        "macros/codes.sql",
        "{% macro region_code() %}'eu'{% endmacro %}\n{% macro channel_code() %}'web'{% endmacro %}\n{% macro both() %}{{ proj.region_code() }} as region, {{ proj.channel_code() }} as channel{% endmacro %}\n",
    );
    f.write("models/base.sql", "select 1 as id\n");
    f.write(
        "models/coded.sql",
        "select id, {{ both() }} from {{ ref('base') }}\n",
    );
    f.write(
        "models/unit.yml",
        "version: 2\nunit_tests:\n  - name: coded_region\n    model: coded\n    overrides:\n      macros:\n        proj.region_code: \"'us'\"\n    given:\n      - input: ref('base')\n        rows: [{id: 1}]\n    expect:\n      rows: [{id: 1, region: us, channel: web}]\n",
    );
    assert_eq!(f.kiln(&["run"]).code, 0);
    let out = f.kiln(&["test"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(
        out.stdout.contains("PASS  coded::coded_region"),
        "{}",
        out.stdout
    );
}

/// A seed given without rows is given its own file's rows (dbt 1.8); any
/// other input without rows is dbt's error.
#[test]
fn a_seed_given_without_rows_reads_its_file() {
    let f = project(Db::DuckDb);
    f.write(
        "models/from_seed.sql",
        "select count(*) as n from {{ ref('raw_orders') }}\n",
    );
    f.write(
        "models/more.yml",
        "version: 2\nunit_tests:\n  - name: counts_the_seed\n    model: from_seed\n    given:\n      - input: ref('raw_orders')\n    expect:\n      rows: [{n: 2}]\n",
    );
    assert_eq!(f.kiln(&["seed"]).code, 0);
    let out = f.kiln(&["test", "-s", "unit_test:counts_the_seed"]);
    assert_eq!(out.code, 0, "{}", out.all());
    f.write(
        "models/more.yml",
        "version: 2\nunit_tests:\n  - name: counts_the_seed\n    model: orders\n    given:\n      - input: ref('stg_orders')\n    expect:\n      rows: []\n",
    );
    let out = f.kiln(&["ls"]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(
        out.all().contains(
            "Unable to find seed 'proj.stg_orders' for unit tests in directories: ['seeds']"
        ),
        "{}",
        out.all()
    );
}

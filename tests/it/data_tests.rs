//! Data tests on DuckDB: generic (built-in and custom), singular, on models,
//! seeds and sources, with severity, warn_if/error_if, where, limit,
//! fail_calc and store_failures. The fixture `tests/fixtures/data_tests` was
//! also run with dbt-core 1.10 (dbt-duckdb 1.10): every name, unique id,
//! status, failure count and message expected below is what dbt reported.

use std::collections::BTreeMap;

use crate::common::{Db, Fixture, lines};

/// The fixture project, its seeds loaded: its source `raw.raw_orders` is
/// the seed table, as if a loader had filled it before the run.
fn fixture(db: Db) -> Fixture {
    let f = Fixture::project_on(db, "tests/fixtures/data_tests", "shop");
    // The source is the seed table, in the target schema.
    let schema_yml = f.read("models/staging/schema.yml");
    f.write(
        "models/staging/schema.yml",
        &schema_yml.replace("    schema: main\n", &format!("    schema: {}\n", f.schema)),
    );
    let out = f.kiln(&["seed"]);
    assert_eq!(out.code, 0, "{}", out.all());
    f
}

/// unique_id -> (status, failures, message) from target/run_results.json.
fn run_results(f: &Fixture) -> BTreeMap<String, (String, Option<i64>, Option<String>)> {
    let json: serde_json::Value =
        serde_json::from_str(&f.read("target/run_results.json")).expect("run_results.json");
    json["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| {
            (
                r["unique_id"].as_str().unwrap().to_string(),
                (
                    r["status"].as_str().unwrap().to_string(),
                    r["failures"].as_i64(),
                    r["message"].as_str().map(str::to_string),
                ),
            )
        })
        .collect()
}

fn expected(
    rows: &[(&str, &str, Option<i64>, Option<&str>)],
) -> BTreeMap<String, (String, Option<i64>, Option<String>)> {
    rows.iter()
        .map(|(id, status, failures, message)| {
            (
                id.to_string(),
                (status.to_string(), *failures, message.map(str::to_string)),
            )
        })
        .collect()
}

const WARN_1: Option<&str> = Some("Got 1 result, configured to warn if != 0");
const FAIL_1: Option<&str> = Some("Got 1 result, configured to fail if != 0");

/// What `dbt build` reported for the fixture's tests.
fn dbt_test_results() -> Vec<(
    &'static str,
    &'static str,
    Option<i64>,
    Option<&'static str>,
)> {
    vec![
        (
            "test.shop.accepted_values_orders_amount__False__10__20__5__7__3.c99376f1d9",
            "pass",
            Some(0),
            None,
        ),
        (
            "test.shop.accepted_values_orders_status__placed__shipped.7de09bf3cd",
            "warn",
            Some(1),
            WARN_1,
        ),
        (
            "test.shop.accepted_values_orders_status__placed__shipped__returned__completed__return_pending__cancelled_by_customer.e9f492ab4c",
            "pass",
            Some(0),
            None,
        ),
        ("test.shop.assert_customers_named", "pass", Some(0), None),
        (
            "test.shop.assert_limited",
            "warn",
            Some(2),
            Some("Got 2 results, configured to warn if != 0"),
        ),
        ("test.shop.assert_no_big_orders", "warn", Some(1), WARN_1),
        (
            "test.shop.is_positive_orders_amount.be4089b5e0",
            "pass",
            Some(0),
            None,
        ),
        (
            "test.shop.not_null_orders_amount.106140f9fd",
            "warn",
            Some(1),
            Some("Got 1 result, configured to warn if >0"),
        ),
        (
            "test.shop.not_null_orders_customer_id.c5f02694af",
            "pass",
            Some(0),
            None,
        ),
        (
            "test.shop.not_null_orders_order_id.cf6c17daed",
            "pass",
            Some(0),
            None,
        ),
        (
            "test.shop.relationships_orders_customer_id__customer_id__ref_customers_.c6ec7f58f2",
            "warn",
            Some(1),
            WARN_1,
        ),
        (
            "test.shop.row_count_between_orders_100__1.33a34426ab",
            "pass",
            Some(0),
            None,
        ),
        (
            "test.shop.source_not_null_raw_raw_orders_id.de303a4e50",
            "pass",
            Some(0),
            None,
        ),
        (
            "test.shop.source_unique_raw_raw_orders_id.0de38b1856",
            "fail",
            Some(1),
            FAIL_1,
        ),
        (
            "test.shop.status_is_known.031b5e6efa",
            "pass",
            Some(0),
            None,
        ),
        (
            "test.shop.unique_customers_customer_id.c5af1ff4b1",
            "pass",
            Some(0),
            None,
        ),
        (
            "test.shop.unique_orders_customer_id.ec855526f1",
            "pass",
            Some(0),
            None,
        ),
        (
            "test.shop.unique_orders_order_id.fed79b3a6e",
            "fail",
            Some(1),
            FAIL_1,
        ),
        (
            "test.shop.unique_orders_status.ebb808ec66",
            "warn",
            Some(5),
            Some("Got 5 results, configured to warn if >3"),
        ),
        (
            "test.shop.unique_raw_customers_id.3d7786e4b7",
            "pass",
            Some(0),
            None,
        ),
    ]
}

fn build_reports_what_dbt_reports(db: Db) {
    let f = fixture(db);
    let out = f.kiln(&["build"]);
    assert_eq!(out.code, 1, "a failed test exits 1\n{}", out.all());
    assert!(
        out.stdout
            .contains("Done. PASS=17 WARN=6 ERROR=2 SKIP=1 TOTAL=26"),
        "{}",
        out.stdout
    );
    let mut want = dbt_test_results();
    want.extend([
        (
            "model.shop.after_customers",
            "success",
            None,
            Some("CREATE VIEW"),
        ),
        ("model.shop.customers", "success", None, Some("CREATE VIEW")),
        ("model.shop.orders", "success", None, Some("CREATE VIEW")),
        ("seed.shop.raw_customers", "success", None, Some("INSERT 3")),
        ("seed.shop.raw_orders", "success", None, Some("INSERT 6")),
    ]);
    let mut got = run_results(&f);
    let (status, failures, message) = got.remove("model.shop.downstream").expect("downstream");
    assert_eq!((status.as_str(), failures), ("skipped", None));
    assert_eq!(message, None, "dbt leaves a skipped node's message empty");
    assert!(
        out.stdout
            .contains(&format!("SKIP  view model {}.downstream", f.schema)),
        "{}",
        out.stdout
    );
    assert_eq!(got, expected(&want));

    // The failed unique test skipped the model reading orders; the warning
    // on the relationship did not stop the model reading customers.
    assert!(
        f.query(&format!(
            "select * from information_schema.tables where table_schema = '{}' and table_name = 'downstream'",
            f.schema
        ))
            .is_empty()
    );
    assert_eq!(
        lines(&f.query(&format!(
            "select count(*) from {}.after_customers",
            f.schema
        ))),
        ["3"]
    );
    // Failing rows are kept in <schema>_dbt_test__audit, as dbt keeps them.
    assert_eq!(
        lines(&f.query(&format!(
            "select * from {}_dbt_test__audit.unique_orders_order_id",
            f.schema
        ))),
        ["5|2"]
    );
    assert_eq!(
        lines(&f.query(&format!(
            "select count(*) from {}_dbt_test__audit.is_positive_orders_amount",
            f.schema
        ))),
        ["0"]
    );
    assert!(
        out.stdout.contains("FAIL 1 ") && out.stdout.contains("test unique_orders_order_id"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("Failure in test unique_orders_order_id (models/staging/schema.yml)"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("compiled code at target/compiled/shop/models/staging/schema.yml/unique_orders_order_id.sql"),
        "{}",
        out.stdout
    );
}

fn run_results_have_dbt_shape(db: Db) {
    let f = fixture(db);
    f.kiln(&["build", "--threads", "1"]);
    let json: serde_json::Value = serde_json::from_str(&f.read("target/run_results.json")).unwrap();
    assert_eq!(json["args"]["which"], "build");
    assert!(json["elapsed_time"].as_f64().unwrap() > 0.0);
    assert_eq!(
        json["metadata"]["dbt_schema_version"],
        "https://schemas.getdbt.com/dbt/run-results/v6.json"
    );
    let results = json["results"].as_array().unwrap();
    let stored = results
        .iter()
        .find(|r| r["unique_id"] == "test.shop.unique_orders_order_id.fed79b3a6e")
        .unwrap();
    assert_eq!(
        stored["relation_name"],
        format!(
            "\"{}\".\"{}_dbt_test__audit\".\"unique_orders_order_id\"",
            f.database(),
            f.schema
        )
    );
    assert_eq!(stored["compiled"], true);
    assert!(
        stored["compiled_code"]
            .as_str()
            .unwrap()
            .contains("having count(*) > 1")
    );
    let timing = stored["timing"].as_array().unwrap();
    assert_eq!(timing.len(), 2);
    assert_eq!(timing[1]["name"], "execute");
    assert_eq!(stored["thread_id"], "Thread-1");
    let skipped = results
        .iter()
        .find(|r| r["unique_id"] == "model.shop.downstream")
        .unwrap();
    assert_eq!(skipped["timing"].as_array().unwrap().len(), 0);
}

fn test_runs_the_tests_of_the_selected_models(db: Db) {
    let f = fixture(db);
    assert_eq!(f.kiln(&["run"]).code, 0);
    let out = f.kiln(&["test", "-s", "customers"]);
    assert_eq!(out.code, 0, "{}", out.all());
    // As `dbt ls -s customers --resource-type test`: its own tests and the
    // relationship test that reads it.
    let got: Vec<String> = run_results(&f).into_keys().collect();
    assert_eq!(
        got,
        [
            "test.shop.assert_customers_named",
            "test.shop.relationships_orders_customer_id__customer_id__ref_customers_.c6ec7f58f2",
            "test.shop.unique_customers_customer_id.c5af1ff4b1",
        ]
    );
    assert!(
        out.stdout
            .contains("PASS  test unique_customers_customer_id"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("WARN 1 test relationships_orders_customer_id__customer_id__ref_customers_"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("Done. PASS=2 WARN=1 ERROR=0 SKIP=0 TOTAL=3"),
        "{}",
        out.stdout
    );

    let out = f.kiln(&["test", "-s", "orders"]);
    assert_eq!(out.code, 1, "unique_orders_order_id fails\n{}", out.all());
}

fn warn_error_turns_warnings_into_failures(db: Db) {
    let f = fixture(db);
    assert_eq!(f.kiln(&["run"]).code, 0);
    let out = f.kiln(&["--warn-error", "test", "-s", "assert_no_big_orders"]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert_eq!(
        run_results(&f)["test.shop.assert_no_big_orders"],
        ("fail".to_string(), Some(1), FAIL_1.map(str::to_string))
    );
    let out = f.kiln(&["test", "-s", "assert_no_big_orders"]);
    assert_eq!(out.code, 0, "a warning alone exits 0\n{}", out.all());
}

fn fail_fast_skips_everything_after_the_first_failure(db: Db) {
    let f = fixture(db);
    let out = f.kiln(&["build", "--fail-fast", "--threads", "1"]);
    assert_eq!(out.code, 1, "{}", out.all());
    let results = run_results(&f);
    assert_eq!(results.len(), 26, "every selected node has a result");
    let failed: Vec<&String> = results
        .iter()
        .filter(|(_, r)| r.0 == "fail" || r.0 == "error")
        .map(|(id, _)| id)
        .collect();
    assert_eq!(failed.len(), 1, "{failed:?}");
    // Without --fail-fast only `downstream` is skipped; with it, whatever
    // had not run when the failure came.
    let skipped = results.values().filter(|r| r.0 == "skipped").count();
    assert!(skipped > 1, "{results:?}");
    assert_eq!(
        results
            .values()
            .filter(|r| r.0 == "success" || r.0 == "pass" || r.0 == "warn")
            .count(),
        26 - 1 - skipped
    );
}

fn ls_lists_tests_as_dbt_ls_does(db: Db) {
    let f = fixture(db);
    let out = f.kiln(&["ls", "-s", "orders"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(
        out.stdout.lines().collect::<Vec<_>>(),
        [
            "shop.staging.orders",
            "shop.staging.accepted_values_orders_amount__False__10__20__5__7__3",
            "shop.staging.accepted_values_orders_status__placed__shipped",
            "shop.staging.accepted_values_orders_status__placed__shipped__returned__completed__return_pending__cancelled_by_customer",
            "shop.assert_limited",
            "shop.assert_no_big_orders",
            "shop.staging.is_positive_orders_amount",
            "shop.staging.not_null_orders_amount",
            "shop.staging.not_null_orders_customer_id",
            "shop.staging.not_null_orders_order_id",
            "shop.staging.relationships_orders_customer_id__customer_id__ref_customers_",
            "shop.staging.row_count_between_orders_100__1",
            "shop.staging.status_is_known",
            "shop.staging.unique_orders_customer_id",
            "shop.staging.unique_orders_order_id",
            "shop.staging.unique_orders_status",
        ]
    );
    let out = f.kiln(&[
        "ls",
        "-s",
        "customers",
        "--exclude",
        "assert_customers_named",
    ]);
    assert_eq!(
        out.stdout.lines().collect::<Vec<_>>(),
        [
            "shop.staging.customers",
            "shop.staging.relationships_orders_customer_id__customer_id__ref_customers_",
            "shop.staging.unique_customers_customer_id",
        ]
    );
}

fn compiled_tests_sit_under_their_properties_file(db: Db) {
    let f = fixture(db);
    let out = f.kiln(&["compile"]);
    assert_eq!(out.code, 0, "{}", out.all());
    let dir = "target/compiled/shop/models/staging/schema.yml";
    // A name of 64 characters or more is shortened as dbt shortens it.
    let long = f.read(&format!(
        "{dir}/accepted_values_orders_36116aa79c880e0ab23a312dda1ac40b.sql"
    ));
    assert!(long.contains("'cancelled_by_customer'"), "{long}");
    let filtered = f.read(&format!("{dir}/unique_orders_customer_id.sql"));
    assert!(
        filtered.contains(&format!(
            r#"(select * from "{}"."{}"."orders" where status = 'shipped') dbt_subquery"#,
            f.database(),
            f.schema
        )),
        "{filtered}"
    );
    let unquoted = f.read(&format!(
        "{dir}/accepted_values_orders_amount__False__10__20__5__7__3.sql"
    ));
    assert!(unquoted.contains("not in (10, 20, 5, 7, 3)"), "{unquoted}");
    let singular = f.read("target/compiled/shop/tests/assert_no_big_orders.sql");
    assert!(
        singular.contains(&format!(
            r#"from "{}"."{}"."orders" where amount > 15"#,
            f.database(),
            f.schema
        )),
        "{singular}"
    );
}

fn a_project_test_replaces_the_built_in_one(db: Db) {
    let f = Fixture::new_on(db);
    f.write("seeds/nums.csv", "n\n1\n1\n");
    f.write(
        "seeds/props.yml",
        "version: 2\nseeds:\n  - name: nums\n    columns:\n      - name: n\n        data_tests: [unique]\n",
    );
    assert_eq!(f.kiln(&["build"]).code, 1, "1 appears twice");
    // A project's `default__test_unique` wins over kiln's, as in dbt.
    f.write(
        "macros/lenient.sql",
        "{% macro default__test_unique(model, column_name) %}select 1 as x where false{% endmacro %}\n",
    );
    let out = f.kiln(&["build"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(
        out.stdout.contains("PASS  test unique_nums_n"),
        "{}",
        out.stdout
    );
}

fn an_undefined_generic_test_names_the_properties_file_line(db: Db) {
    let f = fixture(db);
    let schema = f.read("models/staging/schema.yml");
    f.write(
        "models/staging/schema.yml",
        &schema.replace("          - is_positive:", "          - is_positiv:"),
    );
    let out = f.kiln(&["build"]);
    assert_eq!(out.code, 2, "{}", out.all());
    let line = schema
        .lines()
        .position(|l| l.contains("- is_positive:"))
        .unwrap()
        + 1;
    assert!(
        out.stderr
            .contains(&format!("models/staging/schema.yml:{line}")),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("there is no generic test named 'is_positiv'"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("did you mean 'is_positive'?"),
        "{}",
        out.stderr
    );
    // Nothing was built.
    assert!(
        f.query(&format!(
            "select * from information_schema.tables where table_schema = '{}' and table_type = 'VIEW'",
            f.schema
        ))
            .is_empty()
    );
}

fn a_malformed_warn_if_is_an_error_before_anything_runs(db: Db) {
    let f = fixture(db);
    let schema = f.read("models/staging/schema.yml");
    f.write(
        "models/staging/schema.yml",
        &schema.replace("warn_if: \">3\"", "warn_if: \"more than three\""),
    );
    let out = f.kiln(&["build"]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(
        out.stderr
            .contains("test unique_orders_status: warn_if 'more than three' is not a"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("models/staging/schema.yml:"),
        "{}",
        out.stderr
    );
}

// A missing argument is undefined in the macro, as in dbt (tests/compat_leniency.rs);
// an argument the macro does not take stops the parse, as dbt's does.
fn missing_and_unknown_arguments_name_the_test(db: Db) {
    let f = Fixture::new_on(db);
    f.write("models/m.sql", "select 1 as id, 'a' as status\n");
    f.write(
        "models/props.yml",
        "version: 2\nmodels:\n  - name: m\n    columns:\n      - name: status\n        data_tests:\n          - accepted_values:\n              valuez: [a]\n",
    );
    let out = f.kiln(&["build"]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(out.stderr.contains("models/props.yml:7"), "{}", out.stderr);
    assert!(
        out.stderr
            .contains("test accepted_values_m_status__a has no argument 'valuez'"),
        "{}",
        out.stderr
    );
    f.write(
        "models/props.yml",
        "version: 2\nmodels:\n  - name: m\n    columns:\n      - name: status\n        data_tests:\n          - accepted_values:\n              values: [a]\n              quoted: false\n",
    );
    let out = f.kiln(&["build"]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(
        out.stderr.contains("has no argument 'quoted'"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("did you mean 'quote'?"),
        "{}",
        out.stderr
    );
}

fn a_test_of_a_missing_column_is_an_error_naming_the_test(db: Db) {
    let f = Fixture::new_on(db);
    f.write("models/m.sql", "select 1 as id\n");
    f.write(
        "models/props.yml",
        "version: 2\nmodels:\n  - name: m\n    columns:\n      - name: idd\n        data_tests: [not_null]\n",
    );
    let out = f.kiln(&["build"]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert_eq!(
        run_results(&f)["test.proj.not_null_m_idd.58353bf5c2"].0,
        "error"
    );
    assert!(
        out.stderr.contains("database error in test not_null_m_idd"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("idd"), "{}", out.stderr);
    assert!(
        out.stderr
            .contains("test not_null_m_idd is declared at models/props.yml:6"),
        "{}",
        out.stderr
    );
    assert!(
        out.stdout
            .contains("Done. PASS=1 WARN=0 ERROR=1 SKIP=0 TOTAL=2"),
        "{}",
        out.stdout
    );
}

fn a_ref_to_a_missing_model_in_a_test_points_at_the_test(db: Db) {
    let f = Fixture::new_on(db);
    f.write("models/m.sql", "select 1 as id\n");
    f.write(
        "models/props.yml",
        "version: 2\nmodels:\n  - name: m\n    columns:\n      - name: id\n        data_tests:\n          - relationships:\n              to: ref('customer')\n              field: id\n",
    );
    let out = f.kiln(&["build"]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(out.stderr.contains("models/props.yml:7"), "{}", out.stderr);
    assert!(
        out.stderr
            .contains("ref('customer') does not match any model or seed"),
        "{}",
        out.stderr
    );
}

crate::on_each_adapter!(
    build_reports_what_dbt_reports,
    run_results_have_dbt_shape,
    test_runs_the_tests_of_the_selected_models,
    warn_error_turns_warnings_into_failures,
    fail_fast_skips_everything_after_the_first_failure,
    ls_lists_tests_as_dbt_ls_does,
    compiled_tests_sit_under_their_properties_file,
    a_project_test_replaces_the_built_in_one,
    an_undefined_generic_test_names_the_properties_file_line,
    a_malformed_warn_if_is_an_error_before_anything_runs,
    missing_and_unknown_arguments_name_the_test,
    a_test_of_a_missing_column_is_an_error_naming_the_test,
    a_ref_to_a_missing_model_in_a_test_points_at_the_test,
);

#[test]
fn junit_xml_reports_each_test() {
    let f = fixture(Db::DuckDb);
    assert_eq!(f.kiln(&["run"]).code, 0);
    let out = f.kiln(&["test", "--junit-xml", "report.xml"]);
    assert_eq!(out.code, 1, "{}", out.all());
    let xml = f.read("report.xml");
    assert!(
        xml.contains(
            r#"<testsuite name="kiln test" tests="20" failures="2" errors="0" skipped="0""#
        ),
        "{xml}"
    );
    assert!(
        xml.contains(r#"<testcase classname="test.shop.unique_orders_order_id" name="unique_orders_order_id" file="models/staging/schema.yml""#),
        "{xml}"
    );
    assert!(
        xml.contains(r#"<failure type="fail" message="Got 1 result, configured to fail if != 0">1 failing row</failure>"#),
        "{xml}"
    );
    assert!(
        xml.contains("<system-out>WARN: Got 5 results, configured to warn if &gt;3</system-out>"),
        "{xml}"
    );
}

#[test]
fn ls_json_describes_each_node() {
    let f = fixture(Db::DuckDb);
    let out = f.kiln(&[
        "ls",
        "-s",
        "relationships_orders_customer_id__customer_id__ref_customers_",
        "--output",
        "json",
    ]);
    assert_eq!(out.code, 0, "{}", out.all());
    let node: serde_json::Value = serde_json::from_str(out.stdout.trim()).unwrap();
    assert_eq!(node["resource_type"], "test");
    assert_eq!(
        node["unique_id"],
        "test.shop.relationships_orders_customer_id__customer_id__ref_customers_.c6ec7f58f2"
    );
    assert_eq!(
        node["depends_on"]["nodes"],
        serde_json::json!(["model.shop.customers", "model.shop.orders"])
    );
    assert_eq!(node["config"]["severity"], "warn");
}

#[test]
fn manifest_json_has_dbts_shape_and_is_deterministic() {
    let f = fixture(Db::DuckDb);
    assert_eq!(f.kiln(&["compile"]).code, 0);
    let first: serde_json::Value = serde_json::from_str(&f.read("target/manifest.json")).unwrap();
    assert_eq!(first["metadata"]["project_name"], "shop");
    assert_eq!(first["metadata"]["adapter_type"], "duckdb");
    let test = &first["nodes"]["test.shop.relationships_orders_customer_id__customer_id__ref_customers_.c6ec7f58f2"];
    // What dbt's manifest holds for the same test.
    assert_eq!(test["test_metadata"]["name"], "relationships");
    assert_eq!(test["test_metadata"]["kwargs"]["to"], "ref('customers')");
    assert_eq!(
        test["test_metadata"]["kwargs"]["model"],
        "{{ get_where_subquery(ref('orders')) }}"
    );
    assert_eq!(test["attached_node"], "model.shop.orders");
    assert_eq!(test["schema"], "main_dbt_test__audit");
    assert_eq!(
        test["fqn"],
        serde_json::json!([
            "shop",
            "staging",
            "relationships_orders_customer_id__customer_id__ref_customers_"
        ])
    );
    assert_eq!(
        first["parent_map"]["test.shop.relationships_orders_customer_id__customer_id__ref_customers_.c6ec7f58f2"],
        serde_json::json!(["model.shop.customers", "model.shop.orders"])
    );
    assert_eq!(
        first["child_map"]["source.shop.raw.raw_orders"],
        serde_json::json!([
            "test.shop.source_not_null_raw_raw_orders_id.de303a4e50",
            "test.shop.source_unique_raw_raw_orders_id.0de38b1856"
        ])
    );
    assert_eq!(
        first["nodes"]["model.shop.orders"]["relation_name"],
        r#""test"."main"."orders""#
    );
    // A second parse writes the same manifest, but for its metadata.
    assert_eq!(f.kiln(&["compile"]).code, 0);
    let mut second: serde_json::Value =
        serde_json::from_str(&f.read("target/manifest.json")).unwrap();
    let mut first = first;
    first["metadata"] = serde_json::Value::Null;
    second["metadata"] = serde_json::Value::Null;
    assert_eq!(first, second);
}

#[test]
fn quiet_prints_only_problems_and_verbose_where_the_sql_is() {
    let f = fixture(Db::DuckDb);
    let out = f.kiln(&["-q", "build"]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(!out.stdout.contains("PASS  test"), "{}", out.stdout);
    assert!(!out.stdout.contains("OK    view"), "{}", out.stdout);
    assert!(
        out.stdout.contains("FAIL 1 test unique_orders_order_id"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("Completed with 2 errors and 6 warnings"),
        "{}",
        out.stdout
    );
    assert!(!out.stdout.contains("Done. PASS="), "{}", out.stdout);

    let out = f.kiln(&["-v", "run", "-s", "orders"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(
        out.stdout
            .contains("compiled SQL: target/compiled/shop/models/staging/orders.sql"),
        "{}",
        out.stdout
    );
}

#[test]
fn a_failing_source_test_skips_what_reads_the_source() {
    let f = Fixture::new();
    f.write("seeds/raw_ids.csv", "id\n1\n1\n");
    f.write(
        "models/sources.yml",
        "version: 2\nsources:\n  - name: raw\n    schema: main\n    tables:\n      - name: raw_ids\n        columns:\n          - name: id\n            data_tests: [unique]\n",
    );
    f.write(
        "models/stg.sql",
        "select * from {{ source('raw', 'raw_ids') }}\n",
    );
    f.write("models/other.sql", "select 1 as x\n");
    assert_eq!(f.kiln(&["seed"]).code, 0);
    let out = f.kiln(&["build", "--exclude", "resource_type:seed"]);
    assert_eq!(out.code, 1, "{}", out.all());
    let results = run_results(&f);
    assert_eq!(results["model.proj.stg"].0, "skipped", "{results:?}");
    assert_eq!(results["model.proj.other"].0, "success");
}

#[test]
fn passing_tests_report_no_failures_and_string_defaults_keep_their_commas() {
    let f = Fixture::new();
    f.write("models/m.sql", "select 'a, b' as v union all select 'c'\n");
    f.write(
        "tests/generic/has_sep.sql",
        "{% test has_sep(model, column_name, sep=', ') %}\nselect * from {{ model }} where {{ column_name }} like '%{{ sep }}%'\n{% endtest %}\n",
    );
    f.write(
        "models/props.yml",
        "version: 2\nmodels:\n  - name: m\n    columns:\n      - name: v\n        data_tests:\n          - has_sep:\n              warn_if: '>5'\n              error_if: '>5'\n",
    );
    let out = f.kiln(&["build"]);
    assert_eq!(out.code, 0, "{}", out.all());
    // One row matches, but below warn_if: a pass, with no failures counted (as dbt).
    let results = run_results(&f);
    let (status, failures, _) = &results["test.proj.has_sep_m_v.426349119d"];
    assert_eq!(
        (status.as_str(), *failures),
        ("pass", Some(0)),
        "{results:?}"
    );
}

#[test]
fn two_singular_tests_with_one_name_are_an_error() {
    let f = Fixture::new();
    f.write("models/m.sql", "select 1 as x\n");
    f.write(
        "tests/a/check.sql",
        "select * from {{ ref('m') }} where x < 0\n",
    );
    f.write(
        "tests/b/check.sql",
        "select * from {{ ref('m') }} where x > 9\n",
    );
    let out = f.kiln(&["build"]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(
        out.stderr.contains("two singular tests are named 'check'"),
        "{}",
        out.stderr
    );
}

/// `data_tests:` in dbt_project.yml (dbt 1.8's name, with an underscore
/// where the other keys have dashes) configures the tests under it, as the
/// older `tests:` does: here every test warns instead of failing, as dbt
/// 1.10 gives on the same project (PASS=1 WARN=1).
#[test]
fn data_tests_in_dbt_project_configure_the_tests() {
    let f = Fixture::new();
    f.write(
        "dbt_project.yml",
        "name: proj\nprofile: proj\nconfig-version: 2\ndata_tests:\n  +severity: warn\n",
    );
    f.write("models/m.sql", "select null as id\n");
    f.write(
        "models/s.yml",
        "version: 2\nmodels:\n  - name: m\n    columns:\n      - name: id\n        data_tests: [not_null]\n",
    );
    let out = f.kiln(&["build"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(f.statuses()["test.proj.not_null_m_id.41ed50364b"], "warn");
}

//! Where dbt is lenient, kiln is too; where dbt renders Jinja in a config,
//! kiln renders it with the same context. The fixture
//! (tests/fixtures/compat_leniency) was built with dbt-core 1.10 and
//! dbt-duckdb 1.10, and every status and row asserted below is what dbt gave:
//!
//! - its `dbt_packages/` holds what packages.yml lists, but the git package's
//!   project is named `some_helper` (its repository `dbt-some-helper`) and
//!   package-lock.yml pins other versions, without names (an older dbt's);
//! - the package's dbt_project.yml renders `target` in `+materialized` and
//!   in `vars:`;
//! - test configs (`severity`, `where`, `warn_if`, `enabled`) and a model's
//!   `materialized` in the properties file are Jinja;
//! - two generic tests are called without one of their macro's arguments:
//!   one passes, the one whose SQL needs the argument errors on its own.

use std::collections::BTreeMap;

use crate::common::{Db, Fixture, lines};

fn fixture(db: Db) -> Fixture {
    Fixture::project_on(db, "tests/fixtures/compat_leniency", "kiln_test")
}

/// The fixture without what the other classes need, so a test of one class
/// fails only for its own: no packages.yml (what dbt_packages/ holds still
/// loads), no Jinja in the package's dbt_project.yml or the tests' configs.
fn without_packages_yml(f: &Fixture) {
    std::fs::remove_file(f.path().join("packages.yml")).unwrap();
    std::fs::remove_file(f.path().join("package-lock.yml")).unwrap();
}

/// models/schema.yml with the same tests and no configs.
const PLAIN_SCHEMA: &str = "version: 2
models:
  - name: customers
    columns:
      - name: customer_id
        data_tests: [unique, not_null, is_not_null_or]
      - name: name
        data_tests: [not_null]
  - name: orders
    columns:
      - name: order_id
        data_tests: [unique, equals_value]
";

fn without_config_jinja(f: &Fixture) {
    f.write(
        "dbt_packages/some_helper/dbt_project.yml",
        "name: some_helper\nversion: '2.0.0'\nconfig-version: 2\nvars:\n  helper_flag: duckdb\n  helper_plain: 7\n",
    );
    f.write("models/schema.yml", PLAIN_SCHEMA);
}

fn the_project_builds_with_dbts_statuses(db: Db) {
    let f = fixture(db);
    let out = f.kiln(&["build"]);
    // One test errors (its SQL needs the argument it was not given): exit 1.
    assert_eq!(out.code, 1, "{}", out.all());
    let expected: BTreeMap<String, String> = [
        ("model.leniency.customers", "success"),
        ("model.leniency.orders", "success"),
        ("model.some_helper.helper_model", "success"),
        (
            "test.leniency.equals_value_orders_order_id.384f4388c9",
            "error",
        ),
        (
            "test.leniency.is_not_null_or_customers_customer_id.f6e3702ddc",
            "pass",
        ),
        (
            "test.leniency.not_null_customers_customer_id.5c9bf9911d",
            "pass",
        ),
        ("test.leniency.not_null_customers_name.1b78bf32b9", "warn"),
        (
            "test.leniency.unique_customers_customer_id.c5af1ff4b1",
            "pass",
        ),
        ("test.leniency.unique_orders_order_id.fed79b3a6e", "pass"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    assert_eq!(f.statuses(), expected, "{}", out.all());
    assert!(out.all().contains("PASS=7 WARN=1 ERROR=1"), "{}", out.all());
}

fn a_packages_dbt_project_renders_target(db: Db) {
    let f = fixture(db);
    without_packages_yml(&f);
    let out = f.kiln(&["run"]);
    assert_eq!(out.code, 0, "{}", out.all());
    // `+materialized: "{{ 'table' if target.type in [...] else 'view' }}"`.
    assert_eq!(
        lines(&f.query(
            "select table_type from information_schema.tables \
             where table_schema = '{schema}' and table_name = 'helper_model'"
        )),
        vec!["BASE TABLE"]
    );
    // `helper_flag: "{{ target.type }}"` in the package's `vars:`.
    let flag = match db {
        Db::DuckDb => "duckdb",
        Db::Postgres => "postgres",
    };
    assert_eq!(
        lines(&f.query("select flag, n from {schema}.helper_model")),
        vec![format!("{flag}|7")]
    );
}

fn test_configs_are_rendered(db: Db) {
    let f = fixture(db);
    without_packages_yml(&f);
    let out = f.kiln(&["compile"]);
    assert_eq!(out.code, 0, "{}", out.all());
    let manifest: serde_json::Value =
        serde_json::from_str(&f.read("target/manifest.json")).unwrap();
    let nodes = &manifest["nodes"];
    let config = |id: &str| nodes[id]["config"].clone();
    let not_null_id = config("test.leniency.not_null_customers_customer_id.5c9bf9911d");
    assert_eq!(not_null_id["severity"], "error");
    assert_eq!(not_null_id["where"], "customer_id > 0");
    let not_null_name = config("test.leniency.not_null_customers_name.1b78bf32b9");
    assert_eq!(not_null_name["severity"], "warn");
    assert_eq!(not_null_name["warn_if"], ">0");
    // A model's config in the properties file renders too.
    assert_eq!(
        nodes["model.leniency.customers"]["config"]["materialized"],
        "table"
    );
    // `enabled: "{{ target.type == 'sqlite' }}"` is false: no such test.
    assert!(
        !nodes
            .as_object()
            .unwrap()
            .keys()
            .any(|k| k.starts_with("test.leniency.accepted_values")),
        "{nodes:#}"
    );
}

/// `relation.information_schema('columns')`, which audit_helper's
/// `compare_relation_columns` reads: the database's INFORMATION_SCHEMA.
fn a_relations_information_schema_is_queryable(db: Db) {
    let f = Fixture::new_on(db);
    f.write("models/base.sql", "select 1 as id, 2 as amount\n");
    f.write(
        "models/columns_of_base.sql",
        "{% set r = ref('base') %}\nselect count(*) as n from {{ r.information_schema('columns') }}\nwhere table_name = 'base' and table_schema = '{{ r.schema }}'\n",
    );
    let out = f.kiln(&["run"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(f.query("select n from {schema}.columns_of_base"), [["2"]]);
    let compiled = f.read("target/compiled/proj/models/columns_of_base.sql");
    assert!(
        compiled.contains(".INFORMATION_SCHEMA.columns"),
        "{compiled}"
    );
}

crate::on_each_adapter!(
    a_relations_information_schema_is_queryable,
    the_project_builds_with_dbts_statuses,
    a_packages_dbt_project_renders_target,
    test_configs_are_rendered,
);

#[test]
fn installed_packages_are_named_by_their_project_whatever_the_lock_says() {
    let f = fixture(Db::DuckDb);
    without_config_jinja(&f);
    let out = f.kiln(&["compile"]);
    assert_eq!(out.code, 0, "{}", out.all());
    let manifest: serde_json::Value =
        serde_json::from_str(&f.read("target/manifest.json")).unwrap();
    // Both packages load: the git one under its project's name.
    assert_eq!(
        manifest["nodes"]["model.some_helper.helper_model"]["compiled_code"]
            .as_str()
            .map(str::trim),
        Some("select 'duckdb' as flag, 7 as n")
    );
    assert!(
        manifest["nodes"]["model.leniency.customers"]["compiled_code"]
            .as_str()
            .is_some_and(|c| c.contains("upper('a')"))
    );
}

#[test]
fn too_few_installed_packages_is_still_an_error() {
    let f = fixture(Db::DuckDb);
    std::fs::remove_dir_all(f.path().join("dbt_packages/fake_utils")).unwrap();
    let out = f.kiln(&["compile"]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(out.all().contains("kiln deps"), "{}", out.all());
    assert!(out.all().contains("packages.yml"), "{}", out.all());
}

#[test]
fn an_error_in_a_packages_dbt_project_names_its_file_and_line() {
    let f = fixture(Db::DuckDb);
    without_packages_yml(&f);
    f.write(
        "dbt_packages/some_helper/dbt_project.yml",
        "name: some_helper\nversion: '2.0.0'\nconfig-version: 2\nmodels:\n  some_helper:\n    +materialized: \"{{ target.nope.deeper }}\"\n",
    );
    let out = f.kiln(&["compile"]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(
        out.all()
            .contains("dbt_packages/some_helper/dbt_project.yml:6"),
        "{}",
        out.all()
    );
}

#[test]
fn a_missing_macro_argument_is_undefined_not_an_error() {
    let f = fixture(Db::DuckDb);
    without_packages_yml(&f);
    without_config_jinja(&f);
    let out = f.kiln(&["compile", "-s", "orders"]);
    assert_eq!(out.code, 0, "{}", out.all());
    // Undefined renders as nothing, as in dbt.
    let sql = f.read("target/compiled/leniency/models/schema.yml/equals_value_orders_order_id.sql");
    assert!(sql.trim_end().ends_with("where order_id ="), "{sql}");
}

#[test]
fn an_intersection_with_a_test_method_selects_the_tests_of_the_model() {
    let f = fixture(Db::DuckDb);
    without_packages_yml(&f);
    without_config_jinja(&f);
    // What `dbt ls --output name -s <selection>` printed.
    for (selection, expected) in [
        (
            "customers,test_type:data",
            vec![
                "is_not_null_or_customers_customer_id",
                "not_null_customers_customer_id",
                "not_null_customers_name",
                "unique_customers_customer_id",
            ],
        ),
        ("customers,test_type:singular", vec![]),
        // In dbt 1.10 `data` is every data test, generic ones too.
        (
            "test_type:data",
            vec![
                "equals_value_orders_order_id",
                "is_not_null_or_customers_customer_id",
                "not_null_customers_customer_id",
                "not_null_customers_name",
                "unique_customers_customer_id",
                "unique_orders_order_id",
            ],
        ),
        ("orders,test_name:unique", vec!["unique_orders_order_id"]),
    ] {
        let out = f.kiln(&["ls", "--output", "name", "-s", selection]);
        assert_eq!(out.code, 0, "{}", out.all());
        let mut got: Vec<&str> = out
            .stdout
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.contains("warning") && !l.contains('│'))
            .collect();
        got.sort();
        assert_eq!(got, expected, "{selection}: {}", out.all());
    }
}

#[test]
fn the_manifest_after_compile_has_each_nodes_compiled_code() {
    let f = fixture(Db::DuckDb);
    without_packages_yml(&f);
    without_config_jinja(&f);
    let out = f.kiln(&["compile"]);
    assert_eq!(out.code, 0, "{}", out.all());
    let manifest: serde_json::Value =
        serde_json::from_str(&f.read("target/manifest.json")).unwrap();
    let nodes = manifest["nodes"].as_object().unwrap();
    // What dbt's manifest holds for it.
    assert_eq!(
        nodes["model.leniency.customers"]["compiled_code"]
            .as_str()
            .map(str::trim_end),
        Some("select 1 as customer_id, upper('a') as name\nunion all\nselect 2, null")
    );
    for (id, node) in nodes {
        assert_eq!(node["compiled"], true, "{id}");
        assert!(
            node["compiled_code"]
                .as_str()
                .is_some_and(|c| !c.is_empty()),
            "{id} has no compiled_code"
        );
    }
}

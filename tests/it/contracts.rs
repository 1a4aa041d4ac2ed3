//! Model contracts and constraints (dbt 1.5, issue 20). With `contract:
//! {enforced: true}` the columns a model's SQL gives must be the declared
//! ones, by name, type (as the database names it) and number, or the node
//! errors with dbt's table of mismatches and the old relation stays; a
//! contracted table is `create table x (col type constraints..., model
//! constraints...)` then `insert into x (cols) select cols from (sql) as
//! model_subq`, so a row a constraint rejects fails the node. The messages,
//! type names and DDL are dbt 1.10's (dbt-duckdb 1.10, dbt-postgres 1.9),
//! asked on the same fixtures.

use crate::common::{Db, Fixture};

const GOOD_SQL: &str = "{{ config(materialized='table') }}\n\
    select 1 as id, cast('a' as varchar) as name, cast(2.5 as numeric(10,2)) as amount\n\
    union all select 2, 'b', 3.5\n";

const CONTRACT: &str = "version: 2\nmodels:\n  - name: orders\n    config:\n      contract: {enforced: true}\n    columns:\n      - name: id\n        data_type: integer\n      - name: name\n        data_type: varchar\n      - name: amount\n        data_type: numeric(10,2)\n";

fn project(db: Db) -> Fixture {
    let f = Fixture::new_on(db);
    f.write("models/orders.sql", GOOD_SQL);
    f.write("models/schema.yml", CONTRACT);
    f
}

fn rows(f: &Fixture, table: &str) -> Vec<Vec<String>> {
    f.query(&format!("select id from {{schema}}.{table} order by id"))
}

fn ids(list: &[&str]) -> Vec<Vec<String>> {
    list.iter().map(|i| vec![i.to_string()]).collect()
}

/// The type names each database gives, as dbt's table shows them.
fn text_type(db: Db) -> &'static str {
    match db {
        Db::DuckDb => "VARCHAR",
        Db::Postgres => "TEXT",
    }
}

crate::on_each_adapter!(
    a_contract_that_holds_builds_the_table,
    a_failing_contract_errors_with_the_mismatch_table_and_keeps_the_old_table,
    constraints_go_into_the_ddl_and_a_rejected_row_keeps_the_old_table,
    a_foreign_key_refers_to_its_parent_and_rejects_an_orphan,
    an_incremental_model_with_a_contract_checks_new_columns,
    a_contracted_view_is_checked_and_its_constraints_warned,
    a_column_without_data_type_is_an_error,
    a_contract_set_in_dbt_project_or_config_is_enforced,
);

// Parse-time checks need no database.
#[test]
fn a_bad_constraint_type_or_two_primary_key_columns_fail_the_parse() {
    let f = Fixture::new_on(Db::DuckDb);
    f.write("models/m.sql", "select 1 as id, 2 as b\n");
    // dbt 1.10's words on the same fixture.
    f.write(
        "models/schema.yml",
        "version: 2\nmodels:\n  - name: m\n    config:\n      contract: {enforced: true}\n    constraints:\n      - type: bogus\n    columns:\n      - {name: id, data_type: integer}\n      - {name: b, data_type: integer}\n",
    );
    let out = f.kiln(&["ls"]);
    assert_ne!(out.code, 0, "{}", out.all());
    assert!(
        out.words().contains("Invalid constraint type on model m: Type must be one of ['check', 'not_null', 'unique', 'primary_key', 'foreign_key', 'custom']"),
        "{}",
        out.all()
    );
    f.write(
        "models/schema.yml",
        "version: 2\nmodels:\n  - name: m\n    config:\n      contract: {enforced: true}\n    columns:\n      - {name: id, data_type: integer, constraints: [{type: primary_key}]}\n      - {name: b, data_type: integer, constraints: [{type: primary_key}]}\n",
    );
    let out = f.kiln(&["ls"]);
    assert_ne!(out.code, 0, "{}", out.all());
    let all = out.words();
    assert!(
        all.contains("Primary key constraint error: (models/m.sql)"),
        "{all}"
    );
    assert!(
        all.contains("Found 2 columns (['id', 'b']) with primary key constraints defined. Primary keys for multiple columns must be defined as a model level constraint."),
        "{all}"
    );
}

fn a_contract_that_holds_builds_the_table(db: Db) {
    let f = project(db);
    let out = f.kiln(&["run"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(f.statuses()["model.proj.orders"], "success");
    assert_eq!(
        f.query("select id, name, amount from {schema}.orders order by id"),
        vec![vec!["1", "a", "2.50"], vec!["2", "b", "3.50"]]
    );
    // dbt's DDL: the declared columns, then an insert of the model's rows.
    let run = f.read("target/run/proj/models/orders.sql");
    assert!(
        run.contains("(\n    id integer,\n    name varchar,\n    amount numeric(10,2)\n);"),
        "{run}"
    );
    assert!(
        run.contains("__dbt_tmp\" (id, name, amount)\n(\nselect id, name, amount\nfrom ("),
        "{run}"
    );
    assert!(run.contains(") as model_subq"), "{run}");
    // The manifest has the contract as dbt writes it.
    let manifest: serde_json::Value =
        serde_json::from_str(&f.read("target/manifest.json")).unwrap();
    let node = &manifest["nodes"]["model.proj.orders"];
    assert_eq!(node["contract"]["enforced"], true);
    assert_eq!(node["constraints"], serde_json::json!([]));
    assert_eq!(node["columns"]["id"]["constraints"], serde_json::json!([]));
}

fn a_failing_contract_errors_with_the_mismatch_table_and_keeps_the_old_table(db: Db) {
    let f = project(db);
    assert_eq!(f.kiln(&["run"]).code, 0);
    let text = text_type(db);
    // A wrong type (id as text), a column missing (amount) and one the
    // contract does not have (extra).
    f.write(
        "models/orders.sql",
        "{{ config(materialized='table') }}\nselect cast(9 as varchar) as id, cast('z' as varchar) as name, 1 as extra\n",
    );
    let out = f.kiln(&["run"]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert_eq!(f.statuses()["model.proj.orders"], "error");
    let amount = match db {
        Db::DuckDb => "DECIMAL(10,2)",
        Db::Postgres => "DECIMAL",
    };
    let table = [
        "This model has an enforced contract that failed.".to_string(),
        "Please ensure the name, data_type, and number of columns in your contract match the columns in your model's definition.".to_string(),
        "| column_name | definition_type | contract_type | mismatch_reason       |".to_string(),
        "| ----------- | --------------- | ------------- | --------------------- |".to_string(),
        format!("| amount      |                 | {amount:<13} | missing in definition |"),
        "| extra       | INTEGER         |               | missing in contract   |".to_string(),
        format!("| id          | {text:<15} | INTEGER       | data type mismatch    |"),
    ];
    let all = out.all();
    for line in &table {
        assert!(all.contains(line.as_str()), "{line}\nin\n{all}");
    }
    // The old table and its rows stay.
    assert_eq!(rows(&f, "orders"), ids(&["1", "2"]));

    // Only a type differs: one row.
    f.write(
        "models/orders.sql",
        "{{ config(materialized='table') }}\nselect 1 as id, cast('a' as varchar) as name, 2.5 as amount\n",
    );
    let out = f.kiln(&["run"]);
    if db == Db::DuckDb {
        // DuckDB names the literal's type DECIMAL(2,1).
        assert_eq!(out.code, 1, "{}", out.all());
        assert!(
            out.all()
                .contains("| amount      | DECIMAL(2,1)    | DECIMAL(10,2) | data type mismatch |"),
            "{}",
            out.all()
        );
        assert_eq!(rows(&f, "orders"), ids(&["1", "2"]));
    } else {
        // PostgreSQL names every numeric DECIMAL, as dbt-postgres does: the
        // contract holds.
        assert_eq!(out.code, 0, "{}", out.all());
        assert_eq!(rows(&f, "orders"), ids(&["1"]));
    }
}

const CONSTRAINED: &str = "version: 2\nmodels:\n  - name: orders\n    config:\n      contract: {enforced: true}\n    constraints:\n      - type: check\n        name: positive_id\n        expression: id > 0\n    columns:\n      - name: id\n        data_type: integer\n        constraints:\n          - type: not_null\n          - type: unique\n      - name: name\n        data_type: varchar\n        constraints:\n          - type: check\n            expression: \"name <> 'bad'\"\n";

fn constraints_go_into_the_ddl_and_a_rejected_row_keeps_the_old_table(db: Db) {
    let f = Fixture::new_on(db);
    let model = |body: &str| format!("{{{{ config(materialized='table') }}}}\n{body}\n");
    f.write("models/schema.yml", CONSTRAINED);
    f.write(
        "models/orders.sql",
        &model("select 1 as id, cast('a' as varchar) as name union all select 2, 'b'"),
    );
    let out = f.kiln(&["run"]);
    assert_eq!(out.code, 0, "{}", out.all());
    // Both databases enforce all five constraint types: no warning.
    assert!(!out.all().contains("not enforced by"), "{}", out.all());
    assert!(!out.all().contains("not supported by"), "{}", out.all());
    let run = f.read("target/run/proj/models/orders.sql");
    assert!(
        run.contains(
            "(\n    id integer not null unique,\n    name varchar check (name <> 'bad'),\n    constraint positive_id check (id > 0)\n);"
        ),
        "{run}"
    );
    assert_eq!(rows(&f, "orders"), ids(&["1", "2"]));
    let manifest: serde_json::Value =
        serde_json::from_str(&f.read("target/manifest.json")).unwrap();
    let node = &manifest["nodes"]["model.proj.orders"];
    assert_eq!(
        node["constraints"],
        serde_json::json!([{"type": "check", "name": "positive_id", "expression": "id > 0", "warn_unenforced": true, "warn_unsupported": true, "to": null, "to_columns": [], "columns": []}])
    );
    assert_eq!(node["columns"]["id"]["constraints"][0]["type"], "not_null");

    // What each database says as it rejects the row (dbt shows the same).
    for (bad, on_duckdb, on_postgres) in [
        (
            "select cast(null as integer) as id, cast('a' as varchar) as name",
            "NOT NULL constraint failed",
            "violates not-null constraint",
        ),
        (
            "select 3 as id, cast('bad' as varchar) as name",
            "CHECK constraint failed",
            "violates check constraint",
        ),
        (
            "select -1 as id, cast('a' as varchar) as name",
            "CHECK constraint failed",
            "violates check constraint \"positive_id\"",
        ),
        (
            "select 5 as id, cast('a' as varchar) as name union all select 5, 'b'",
            "PRIMARY KEY or UNIQUE constraint violation",
            "violates unique constraint",
        ),
    ] {
        f.write("models/orders.sql", &model(bad));
        let out = f.kiln(&["run"]);
        assert_eq!(out.code, 1, "{bad}: {}", out.all());
        assert_eq!(f.statuses()["model.proj.orders"], "error", "{bad}");
        let expected = match db {
            Db::DuckDb => on_duckdb,
            Db::Postgres => on_postgres,
        };
        assert!(out.all().contains(expected), "{bad}: {}", out.all());
        assert_eq!(rows(&f, "orders"), ids(&["1", "2"]), "{bad}");
    }
}

fn a_foreign_key_refers_to_its_parent_and_rejects_an_orphan(db: Db) {
    let f = Fixture::new_on(db);
    f.write(
        "models/customers.sql",
        "{{ config(materialized='table') }}\nselect 1 as id union all select 2\n",
    );
    f.write(
        "models/orders.sql",
        "{{ config(materialized='table') }}\nselect 10 as id, 1 as customer_id\n",
    );
    f.write(
        "models/schema.yml",
        "version: 2\nmodels:\n  - name: customers\n    config:\n      contract: {enforced: true}\n    columns:\n      - name: id\n        data_type: integer\n        constraints:\n          - type: primary_key\n  - name: orders\n    config:\n      contract: {enforced: true}\n    constraints:\n      - type: foreign_key\n        columns: [customer_id]\n        to: ref('customers')\n        to_columns: [id]\n    columns:\n      - name: id\n        data_type: integer\n      - name: customer_id\n        data_type: integer\n",
    );
    // The foreign key's `to:` is a ref: customers is built first.
    let out = f.kiln(&["run"]);
    assert_eq!(out.code, 0, "{}", out.all());
    let run = f.read("target/run/proj/models/orders.sql");
    let customers = f.sql("\"{db}\".\"{schema}\".\"customers\"");
    assert!(
        run.contains(&format!(
            "foreign key (customer_id) references {customers} (id)"
        )),
        "{run}"
    );
    assert!(
        f.read("target/run/proj/models/customers.sql")
            .contains("id integer primary key\n")
    );
    // An order of a customer that does not exist.
    f.write(
        "models/orders.sql",
        "{{ config(materialized='table') }}\nselect 11 as id, 3 as customer_id\n",
    );
    let out = f.kiln(&["run", "-s", "orders"]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert_eq!(f.statuses()["model.proj.orders"], "error");
    assert!(
        out.all()
            .to_lowercase()
            .contains("violates foreign key constraint"),
        "{}",
        out.all()
    );
    assert_eq!(rows(&f, "orders"), ids(&["10"]));
}

fn an_incremental_model_with_a_contract_checks_new_columns(db: Db) {
    let f = Fixture::new_on(db);
    let model = "{{ config(materialized='incremental', on_schema_change='append_new_columns') }}\n\
        select * from (select 1 as id union all select 2) as t\n\
        {% if is_incremental() %}where id > (select max(id) from {{ this }}){% endif %}\n";
    f.write("models/events.sql", model);
    f.write(
        "models/schema.yml",
        "version: 2\nmodels:\n  - name: events\n    config:\n      contract: {enforced: true}\n    columns:\n      - name: id\n        data_type: integer\n        constraints:\n          - type: not_null\n",
    );
    let out = f.kiln(&["run"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(rows(&f, "events"), ids(&["1", "2"]));
    // More rows, same columns: appended.
    f.write(
        "models/events.sql",
        &model.replace("select 2)", "select 2 union all select 3)"),
    );
    let out = f.kiln(&["run"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(rows(&f, "events"), ids(&["1", "2", "3"]));
    // A new column the contract does not declare: the mismatch table, and
    // the table as it was.
    f.write(
        "models/events.sql",
        &model.replace(
            "select * from (select 1 as id union all select 2)",
            "select *, 'x' as note from (select 4 as id)",
        ),
    );
    let out = f.kiln(&["run"]);
    assert_eq!(out.code, 1, "{}", out.all());
    let note = format!(
        "| note        | {:<15} |               | missing in contract |",
        text_type(db)
    );
    assert!(out.all().contains(&note), "{}", out.all());
    assert_eq!(rows(&f, "events"), ids(&["1", "2", "3"]));
}

fn a_contracted_view_is_checked_and_its_constraints_warned(db: Db) {
    let f = Fixture::new_on(db);
    f.write("models/v.sql", "select 1 as id\n");
    f.write(
        "models/schema.yml",
        "version: 2\nmodels:\n  - name: v\n    config:\n      contract: {enforced: true}\n    columns:\n      - name: id\n        data_type: integer\n        constraints:\n          - type: not_null\n",
    );
    let out = f.kiln(&["run"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(
        out.all().contains("Constraint types are not supported for view materializations and will be ignored.  Set 'warn_unsupported: false' on this constraint to ignore this warning."),
        "{}",
        out.all()
    );
    assert_eq!(rows(&f, "v"), ids(&["1"]));
    // The view's SQL changes to a text id: the old view stays.
    f.write("models/v.sql", "select cast('1' as varchar) as id\n");
    let out = f.kiln(&["run"]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(out.all().contains("data type mismatch"), "{}", out.all());
    assert_eq!(
        f.query("select id + 1 from {schema}.v"),
        vec![vec!["2".to_string()]]
    );
}

fn a_column_without_data_type_is_an_error(db: Db) {
    let f = project(db);
    f.write(
        "models/schema.yml",
        &CONTRACT.replace("        data_type: varchar\n", ""),
    );
    let out = f.kiln(&["run"]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(
        out.all().contains("Contracted models require data_type to be defined for each column. Please ensure that the column name and data_type are defined within the YAML configuration for the ['name'] column(s)."),
        "{}",
        out.all()
    );
}

fn a_contract_set_in_dbt_project_or_config_is_enforced(db: Db) {
    let f = project(db);
    let columns = "version: 2\nmodels:\n  - name: orders\n    columns:\n      - name: id\n        data_type: text\n";
    f.write("models/schema.yml", columns);
    // In dbt_project.yml.
    f.write(
        "dbt_project.yml",
        "name: proj\nprofile: proj\nconfig-version: 2\nmodels:\n  proj:\n    +contract:\n      enforced: true\n",
    );
    let out = f.kiln(&["run"]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(out.all().contains("missing in contract"), "{}", out.all());
    // Off in config(), which wins.
    f.write(
        "models/orders.sql",
        &GOOD_SQL.replace(
            "materialized='table'",
            "materialized='table', contract={'enforced': false}",
        ),
    );
    let out = f.kiln(&["run"]);
    assert_eq!(out.code, 0, "{}", out.all());
    // `contract:` beside `config:` in the properties file.
    f.write(
        "dbt_project.yml",
        "name: proj\nprofile: proj\nconfig-version: 2\n",
    );
    f.write("models/orders.sql", GOOD_SQL);
    f.write(
        "models/schema.yml",
        &columns.replace(
            "    columns:",
            "    contract:\n      enforced: true\n    columns:",
        ),
    );
    let out = f.kiln(&["run"]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(out.all().contains("missing in contract"), "{}", out.all());
}

//! Views, tables and seeds on DuckDB: the relations built, where they are
//! built (schema, alias), and the Jinja context dbt projects rely on.

use crate::common::{Db, Fixture, lines};

fn views_and_tables_are_built_in_dependency_order(db: Db) {
    let f = Fixture::new_on(db);
    f.write("seeds/raw.csv", "id,amount\n1,10\n2,20\n3,\n");
    f.write(
        "models/stg.sql",
        "select id, amount from {{ ref('raw') }}\n",
    );
    f.write(
        "models/total.sql",
        "{{ config(materialized='table') }}\nselect count(*) as n, sum(amount) as total from {{ ref('stg') }}\n",
    );
    let out = f.kiln(&["build"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(
        out.stdout
            .contains("Done. PASS=3 WARN=0 ERROR=0 SKIP=0 TOTAL=3"),
        "{}",
        out.stdout
    );
    assert_eq!(
        lines(&f.query("select table_name, table_type from information_schema.tables where table_schema = '{schema}' order by 1")),
        ["raw|BASE TABLE", "stg|VIEW", "total|BASE TABLE"]
    );
    assert_eq!(
        lines(&f.query("select n, total from {schema}.total")),
        ["3|30"]
    );
}

fn seed_types_follow_dbt_and_column_types_override_them(db: Db) {
    let f = Fixture::new_on(db);
    f.write(
        "dbt_project.yml",
        "name: proj\nprofile: proj\nseeds:\n  proj:\n    typed:\n      +column_types:\n        zip: varchar\n",
    );
    f.write(
        "seeds/typed.csv",
        "id,price,active,day,at,label,zip,empty\n1,1.5,true,2024-01-15,2024-01-15 10:30:00,\"a, b\",02139,\n2,2,False,2024-02-01,2024-02-01T08:00:00,Zoë,00501,\n",
    );
    let out = f.kiln(&["seed"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(
        lines(&f.query(
            "select column_name, data_type from information_schema.columns where table_schema = '{schema}' and table_name = 'typed' order by ordinal_position"
        )),
        // Each database's own names for the types dbt declares.
        match db {
            Db::DuckDb => [
                "id|INTEGER",
                "price|DOUBLE",
                "active|BOOLEAN",
                "day|DATE",
                "at|TIMESTAMP",
                "label|VARCHAR",
                "zip|VARCHAR",
                "empty|INTEGER",
            ],
            Db::Postgres => [
                "id|integer",
                "price|double precision",
                "active|boolean",
                "day|date",
                "at|timestamp without time zone",
                "label|text",
                "zip|character varying",
                "empty|integer",
            ],
        }
    );
    assert_eq!(
        lines(&f.query("select id, price, active, day::varchar, \"at\"::varchar, label, zip, empty from {schema}.typed order by id")),
        [
            "1|1.5|true|2024-01-15|2024-01-15 10:30:00|a, b|02139|NULL",
            "2|2|false|2024-02-01|2024-02-01 08:00:00|Zoë|00501|NULL",
        ]
    );
}

fn seeds_reload_with_full_refresh_and_without(db: Db) {
    let f = Fixture::new_on(db);
    f.write("seeds/s.csv", "id\n1\n2\n");
    assert_eq!(f.kiln(&["seed"]).code, 0);
    f.write("seeds/s.csv", "id,name\n1,a\n");
    assert_eq!(f.kiln(&["seed"]).code, 0);
    assert_eq!(lines(&f.query("select id, name from {schema}.s")), ["1|a"]);
    assert_eq!(f.kiln(&["seed", "--full-refresh"]).code, 0);
    assert_eq!(lines(&f.query("select count(*) from {schema}.s")), ["1"]);
}

fn custom_schema_alias_and_this_render_as_dbt_does(db: Db) {
    let f = Fixture::new_on(db);
    f.write(
        "dbt_project.yml",
        "name: proj\nprofile: proj\nmodels:\n  proj:\n    finance:\n      +schema: finance\n      +materialized: table\n",
    );
    f.write(
        "models/finance/rev.sql",
        "select '{{ this }}' as me, '{{ this.schema }}' as s\n",
    );
    f.write(
        "models/aliased.sql",
        "{{ config(alias='my_alias', materialized='table') }}\nselect '{{ this }}' as me\n",
    );
    f.write(
        "models/uses_alias.sql",
        "select * from {{ ref('aliased') }}\n",
    );
    let out = f.kiln(&["run"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(
        lines(&f.query("select me, s from {schema}_finance.rev")),
        [f.sql(r#""{db}"."{schema}_finance"."rev"|{schema}_finance"#)]
    );
    assert_eq!(
        lines(&f.query("select me from {schema}.my_alias")),
        [f.sql(r#""{db}"."{schema}"."my_alias""#)]
    );
    assert_eq!(
        lines(&f.query("select count(*) from {schema}.uses_alias")),
        ["1"]
    );
    let compiled = f.read("target/compiled/proj/models/uses_alias.sql");
    assert_eq!(
        compiled.trim(),
        f.sql(r#"select * from "{db}"."{schema}"."my_alias""#)
    );
}

fn project_generate_schema_name_overrides_the_builtin(db: Db) {
    let f = Fixture::new_on(db);
    f.write(
        "macros/schema.sql",
        "{% macro generate_schema_name(custom_schema_name, node) -%}\n{{ custom_schema_name or target.schema }}\n{%- endmacro %}\n",
    );
    f.write(
        "models/m.sql",
        &f.sql("{{ config(schema='{schema}_reporting') }}\nselect 1 as x\n"),
    );
    let out = f.kiln(&["run"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(lines(&f.query("select x from {schema}_reporting.m")), ["1"]);
}

fn project_macro_overrides_builtin_ddl_macro(db: Db) {
    let f = Fixture::new_on(db);
    f.write(
        "macros/ddl.sql",
        "{% macro create_view_as(relation, compiled_code) -%}\ncreate view {{ relation }} as select 42 as overridden\n{%- endmacro %}\n",
    );
    f.write("models/v.sql", "select 1 as x\n");
    assert_eq!(f.kiln(&["run"]).code, 0);
    assert_eq!(lines(&f.query("select overridden from {schema}.v")), ["42"]);
}

fn macros_return_values_and_vars_resolve_with_cli_precedence(db: Db) {
    let f = Fixture::new_on(db);
    f.write(
        "dbt_project.yml",
        "name: proj\nprofile: proj\nvars:\n  greeting: hello\n  limit_rows: 2\n",
    );
    f.write(
        "macros/helpers.sql",
        "{% macro columns_of() %}{{ return(['a', 'b', 'c']) }}{% endmacro %}\n{% macro shout(x) %}upper('{{ x }}'){% endmacro %}\n",
    );
    f.write(
        "models/m.sql",
        "{% set cols = columns_of() %}\nselect {% for c in cols %}'{{ c }}' as {{ c }}, {% endfor %}{{ shout(var('greeting')) }} as g, {{ var('limit_rows') }} as l, '{{ var('missing', 'dflt') }}' as d, '{{ env_var('KILN_TEST_ENV', 'none') }}' as e\n",
    );
    let out = f.kiln_env(
        &["run", "--vars", "{limit_rows: 5}"],
        &[("KILN_TEST_ENV", "from-env")],
    );
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(
        lines(&f.query("select a, b, c, g, l, d, e from {schema}.m")),
        ["a|b|c|HELLO|5|dflt|from-env"]
    );
}

#[test]
fn disabled_models_are_not_built_and_refs_to_them_fail_clearly() {
    let f = Fixture::new();
    f.write(
        "models/off.sql",
        "{{ config(enabled=false) }}\nselect 1 as x\n",
    );
    f.write("models/on.sql", "select 1 as x\n");
    let out = f.kiln(&["ls"]);
    assert_eq!(out.stdout.trim(), "proj.on");
    f.write("models/user.sql", "select * from {{ ref('off') }}\n");
    let out = f.kiln(&["run"]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(
        out.all()
            .contains("ref('off') points at a node that is disabled"),
        "{}",
        out.all()
    );
}

fn select_runs_only_the_chosen_nodes(db: Db) {
    let f = Fixture::new_on(db);
    f.write("models/a.sql", "select 1 as x\n");
    f.write("models/b.sql", "select * from {{ ref('a') }}\n");
    f.write("models/c.sql", "select 2 as y\n");
    let out = f.kiln(&["run", "-s", "a+"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(
        lines(&f.query("select table_name from information_schema.tables where table_schema = '{schema}' order by 1")),
        ["a", "b"]
    );
}

#[test]
fn env_var_in_profiles_and_memory_database_work() {
    let f = Fixture::new();
    f.write(
        "profiles.yml",
        "proj:\n  target: \"{{ env_var('KILN_TARGET', 'mem') }}\"\n  outputs:\n    mem:\n      type: duckdb\n      path: ':memory:'\n      threads: \"{{ env_var('KILN_THREADS', '3') | as_number }}\"\n",
    );
    f.write("models/a.sql", "select '{{ target.name }}' as t, {{ target.threads }} as n, '{{ target.database }}' as d\n");
    let out = f.kiln(&["run"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(
        out.stdout
            .contains("Done. PASS=1 WARN=0 ERROR=0 SKIP=0 TOTAL=1"),
        "{}",
        out.stdout
    );
    let compiled = f.read("target/compiled/proj/models/a.sql");
    assert_eq!(compiled.trim(), "select 'mem' as t, 3 as n, 'memory' as d");
}

fn run_results_json_records_each_node(db: Db) {
    let f = Fixture::new_on(db);
    f.write("models/a.sql", "select 1 as x\n");
    f.write("models/b.sql", "select * from nowhere\n");
    let out = f.kiln(&["run"]);
    assert_eq!(out.code, 1);
    let results: serde_json::Value =
        serde_json::from_str(&f.read("target/run_results.json")).unwrap();
    let statuses: Vec<(String, String)> = results["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["unique_id"].as_str().unwrap().into(),
                r["status"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        statuses,
        [
            ("model.proj.a".into(), "success".into()),
            ("model.proj.b".into(), "error".into())
        ]
    );
}

fn seed_text_survives_quotes_commas_newlines_and_unicode(db: Db) {
    let f = Fixture::new_on(db);
    f.write(
        "seeds/texts.csv",
        "id,body\n1,\"she said \"\"hi\"\", then left\"\n2,\"two\nlines\"\n3,Zoë — 東京 🚀\n4,\n5,\\N\n",
    );
    let out = f.kiln(&["seed"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(
        f.query("select body from {schema}.texts order by id"),
        [
            vec!["she said \"hi\", then left".to_string()],
            vec!["two\nlines".to_string()],
            vec!["Zoë — 東京 🚀".to_string()],
            vec!["NULL".to_string()],
            vec!["\\N".to_string()],
        ]
    );
}

fn the_catalog_gives_a_relations_columns_to_macros(db: Db) {
    let f = Fixture::new_on(db);
    f.write("seeds/wide.csv", "id,name,amount\n1,a,1.5\n");
    f.write(
        "models/narrow.sql",
        "{%- set columns = adapter.get_columns_in_relation(ref('wide')) -%}\nselect {% for c in columns if c.name != 'amount' %}{{ c.quoted }}{{ ', ' if not loop.last }}{% endfor %}, '{{ columns | map(attribute='name') | join(',') }}' as seen\nfrom {{ ref('wide') }}\n",
    );
    let out = f.kiln(&["build"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(
        lines(&f.query("select * from {schema}.narrow")),
        ["1|a|id,name,amount"]
    );
}

fn source_quoting_leaves_parts_bare(db: Db) {
    let f = Fixture::new_on(db);
    f.write("seeds/orders.csv", "id\n1\n2\n");
    f.write(
        "models/sources.yml",
        &f.sql("version: 2\nsources:\n  - name: raw\n    schema: '{schema}'\n    quoting:\n      identifier: false\n    tables:\n      - name: shouting\n        identifier: ORDERS\n"),
    );
    f.write(
        "models/from_source.sql",
        "select count(*) as n from {{ source('raw', 'shouting') }}\n",
    );
    // The source is loaded before the run, as a loader would.
    assert_eq!(f.kiln(&["seed"]).code, 0);
    let out = f.kiln(&["run"]);
    assert_eq!(out.code, 0, "{}", out.all());
    // Unquoted, the database folds ORDERS to the seed's table `orders`.
    assert_eq!(lines(&f.query("select n from {schema}.from_source")), ["2"]);
    let compiled = f.read("target/compiled/proj/models/from_source.sql");
    assert!(
        compiled.contains(&f.sql(r#"from "{db}"."{schema}".ORDERS"#)),
        "{compiled}"
    );
}

crate::on_each_adapter!(
    source_quoting_leaves_parts_bare,
    the_catalog_gives_a_relations_columns_to_macros,
    seed_text_survives_quotes_commas_newlines_and_unicode,
    views_and_tables_are_built_in_dependency_order,
    seed_types_follow_dbt_and_column_types_override_them,
    seeds_reload_with_full_refresh_and_without,
    custom_schema_alias_and_this_render_as_dbt_does,
    project_generate_schema_name_overrides_the_builtin,
    project_macro_overrides_builtin_ddl_macro,
    macros_return_values_and_vars_resolve_with_cli_precedence,
    select_runs_only_the_chosen_nodes,
    run_results_json_records_each_node,
);

/// On a terminal (here a pseudo-terminal made by util-linux's `script`), a
/// progress bar follows the run; piped output, as in every other test, has none.
#[test]
fn a_terminal_gets_a_progress_bar() {
    let f = Fixture::new();
    f.write("models/a.sql", "select 1 as x\n");
    f.write("models/b.sql", "select * from {{ ref('a') }}\n");
    let kiln = assert_cmd::cargo::cargo_bin("kiln");
    let typescript = f.path().join("typescript");
    let status = std::process::Command::new("script")
        .current_dir(f.path())
        .args(["-qec", &format!("{} run", kiln.display())])
        .arg(&typescript)
        .env_remove("DBT_PROFILES_DIR")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .status()
        .expect("util-linux script runs");
    assert!(status.success());
    let screen = String::from_utf8_lossy(&std::fs::read(&typescript).unwrap()).to_string();
    assert!(screen.contains("/2 nodes"), "{screen}");
    assert!(screen.contains("Done. PASS=2"), "{screen}");
    let piped = f.kiln(&["run"]);
    assert!(!piped.all().contains("/2 nodes"), "{}", piped.all());
}

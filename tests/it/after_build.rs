//! What follows a relation's build (issue 22): PostgreSQL indexes and
//! unlogged tables, grants (revoked when they change, as dbt-postgres 1.9
//! revokes them), and `persist_docs` comments, each checked in the
//! database's own catalog after a build and after the config is removed.

use crate::common::{Db, Fixture, query_postgres};

/// Roles to grant to; the server's, shared by every test.
fn roles() {
    for role in ["kiln_reporter", "kiln_analyst"] {
        query_postgres(&format!(
            "do $$ begin create role {role}; exception when others then null; end $$"
        ));
    }
}

fn grantees(f: &Fixture, table: &str) -> Vec<String> {
    f.query(&format!(
        "select grantee from information_schema.role_table_grants \
         where table_schema = '{{schema}}' and table_name = '{table}' \
         and grantee like 'kiln_%' and privilege_type = 'SELECT' order by 1"
    ))
    .into_iter()
    .map(|row| row[0].clone())
    .collect()
}

#[test]
fn grants_are_given_and_revoked_as_dbt_postgres_gives_them() {
    roles();
    let f = Fixture::new_on(Db::Postgres);
    f.write(
        "dbt_project.yml",
        "name: proj\nprofile: proj\nconfig-version: 2\nmodels:\n  proj:\n    +grants:\n      select: ['{{ var(\"who\", \"kiln_reporter\") }}']\n",
    );
    f.write(
        "models/orders.sql",
        "{{ config(materialized='table') }}\nselect 1 as id\n",
    );
    f.write(
        "models/orders_view.sql",
        "select * from {{ ref('orders') }}\n",
    );
    f.write(
        "models/orders_log.sql",
        "{{ config(materialized='incremental') }}\nselect 1 as id\n",
    );
    // `+select` adds to the folder's grantees (dbt's merge).
    f.write(
        "models/shared.sql",
        "{{ config(materialized='table', grants={'+select': ['kiln_analyst']}) }}\nselect 1 as id\n",
    );
    let out = f.kiln(&["run"]);
    assert_eq!(out.code, 0, "{}", out.all());
    for table in ["orders", "orders_view", "orders_log"] {
        assert_eq!(grantees(&f, table), ["kiln_reporter"], "{table}");
    }
    assert_eq!(grantees(&f, "shared"), ["kiln_analyst", "kiln_reporter"]);
    // Changed: a rebuilt table or view has only the new grants; an
    // incremental model's old grantee is revoked.
    let out = f.kiln(&["run", "--vars", "{who: kiln_analyst}"]);
    assert_eq!(out.code, 0, "{}", out.all());
    for table in ["orders", "orders_view", "orders_log"] {
        assert_eq!(grantees(&f, table), ["kiln_analyst"], "{table}");
    }
    let run = f.read("target/run/proj/models/orders_log.sql");
    assert!(
        run.contains(&format!(
            "revoke SELECT on \"{}\".\"{}\".\"orders_log\" from \"kiln_reporter\";",
            f.database(),
            f.sql("{schema}")
        )),
        "{run}"
    );
    // Removed from the config, a rebuilt table has none.
    f.write(
        "dbt_project.yml",
        "name: proj\nprofile: proj\nconfig-version: 2\n",
    );
    assert_eq!(f.kiln(&["run", "-s", "orders"]).code, 0);
    assert!(grantees(&f, "orders").is_empty());
}

/// A table's index definitions from `pg_indexes`, their generated names
/// left out (dbt-postgres's are new each build).
fn pg_indexes(f: &Fixture, table: &str) -> Vec<String> {
    f.query(&format!(
        "select regexp_replace(indexdef, 'INDEX \\S+ ON', 'INDEX ON') from pg_indexes \
         where schemaname = '{{schema}}' and tablename = '{table}' order by 1"
    ))
    .into_iter()
    .map(|row| row[0].clone())
    .collect()
}

#[test]
fn indexes_and_unlogged_tables_are_in_postgres_catalog() {
    let f = Fixture::new_on(Db::Postgres);
    f.write(
        "models/events.sql",
        "{{ config(materialized='table', unlogged=true, indexes=[{'columns': ['id'], 'unique': true}, {'columns': ['kind'], 'type': 'hash'}, {'columns': ['id', 'kind']}]) }}\nselect 1 as id, 'a' as kind\n",
    );
    let out = f.kiln(&["run"]);
    assert_eq!(out.code, 0, "{}", out.all());
    let indexes = |f: &Fixture| pg_indexes(f, "events");
    let schema = f.sql("{schema}");
    assert_eq!(
        indexes(&f),
        [
            format!("CREATE INDEX ON {schema}.events USING btree (id, kind)"),
            format!("CREATE INDEX ON {schema}.events USING hash (kind)"),
            format!("CREATE UNIQUE INDEX ON {schema}.events USING btree (id)"),
        ]
    );
    let persistence = |f: &Fixture| {
        f.query(
            "select relpersistence from pg_class c join pg_namespace n on n.oid = c.relnamespace \
             where n.nspname = '{schema}' and c.relname = 'events'",
        )
    };
    assert_eq!(persistence(&f), [["u"]]);
    // Built again the indexes are those of the new table (the names are
    // new each build, as dbt-postgres names them), and removed they go.
    assert_eq!(f.kiln(&["run"]).code, 0);
    assert_eq!(indexes(&f).len(), 3);
    f.write(
        "models/events.sql",
        "{{ config(materialized='table') }}\nselect 1 as id, 'a' as kind\n",
    );
    assert_eq!(f.kiln(&["run"]).code, 0);
    assert!(indexes(&f).is_empty());
    assert_eq!(persistence(&f), [["p"]]);
}

crate::on_each_adapter!(descriptions_are_persisted_as_comments);

fn descriptions_are_persisted_as_comments(db: Db) {
    let f = Fixture::new_on(db);
    f.write(
        "models/customers.sql",
        "{{ config(materialized='table', persist_docs={'relation': true, 'columns': true}) }}\nselect 1 as id, 'ada' as name, 2 as undocumented\n",
    );
    f.write(
        "models/customers_view.sql",
        "{{ config(persist_docs={'relation': true}) }}\nselect * from {{ ref('customers') }}\n",
    );
    f.write(
        "models/schema.yml",
        "version: 2\nmodels:\n  - name: customers\n    description: \"The customer's table; has $$ and \\\\ a backslash\"\n    columns:\n      - name: id\n        description: It's the id\n      - name: name\n        description: Their name\n      - name: gone\n        description: Not in the table\n  - name: customers_view\n    description: A view of them\n",
    );
    let out = f.kiln(&["run"]);
    assert_eq!(out.code, 0, "{}", out.all());
    let (table, columns, view) = match db {
        Db::Postgres => (
            "select obj_description('{schema}.customers'::regclass)",
            "select a.attname, col_description(a.attrelid, a.attnum) from pg_attribute a \
             where a.attrelid = '{schema}.customers'::regclass and a.attnum > 0 order by a.attnum",
            "select obj_description('{schema}.customers_view'::regclass)",
        ),
        Db::DuckDb => (
            "select comment from duckdb_tables() where table_name = 'customers'",
            "select column_name, comment from duckdb_columns() where table_name = 'customers' order by column_index",
            "select comment from duckdb_views() where view_name = 'customers_view'",
        ),
    };
    assert_eq!(
        f.query(table),
        [["The customer's table; has $$ and \\ a backslash"]]
    );
    assert_eq!(
        f.query(columns),
        [
            ["id", "It's the id"],
            ["name", "Their name"],
            ["undocumented", "NULL"]
        ]
    );
    assert_eq!(f.query(view), [["A view of them"]]);
}

#[test]
fn grants_on_duckdb_are_a_warning_as_dbt_duckdb_gives() {
    let f = Fixture::new();
    f.write(
        "models/orders.sql",
        "{{ config(materialized='table', grants={'select': ['reporter']}) }}\nselect 1 as id\n",
    );
    let out = f.kiln(&["run"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(
        out.words()
            .contains("Grants for relations are not supported by DuckDB"),
        "{}",
        out.all()
    );
}

/// dbt-postgres's materialized view: created, refreshed while unchanged (a
/// change of its SQL alone too, as dbt), its indexes applied on a change
/// of them, rebuilt with `--full-refresh`; `continue` warns, `fail` fails.
#[test]
fn materialized_views_are_created_refreshed_and_reindexed_as_dbt_postgres_does() {
    let f = Fixture::new_on(Db::Postgres);
    f.write(
        "models/base.sql",
        "{{ config(materialized='table') }}\nselect 1 as id, 'a' as kind\n",
    );
    let model = |indexes: &str, extra: &str| {
        format!(
            "{{{{ config(materialized='materialized_view', indexes={indexes}{extra}) }}}}\nselect id, kind from {{{{ ref('base') }}}}\n"
        )
    };
    f.write("models/kinds.sql", &model("[{'columns': ['id']}]", ""));
    let out = f.kiln(&["run"]);
    assert_eq!(out.code, 0, "{}", out.all());
    let matviews =
        |f: &Fixture| f.query("select matviewname from pg_matviews where schemaname = '{schema}'");
    let indexes = |f: &Fixture| pg_indexes(f, "kinds");
    let schema = f.sql("{schema}");
    assert_eq!(matviews(&f), [["kinds"]]);
    assert_eq!(
        indexes(&f),
        [format!("CREATE INDEX ON {schema}.kinds USING btree (id)")]
    );
    // Its table rebuilt upstream (the old one dropped with `cascade`, as
    // dbt-postgres drops it, and the view with it), it is created again.
    f.write(
        "models/base.sql",
        "{{ config(materialized='table') }}\nselect 1 as id, 'a' as kind union all select 2, 'b'\n",
    );
    assert_eq!(f.kiln(&["run"]).code, 0);
    assert_eq!(f.query("select count(*) from {schema}.kinds"), [["2"]]);
    // Unchanged, it is refreshed; its SQL changed alone, too (as dbt).
    f.write(
        "models/kinds.sql",
        &model("[{'columns': ['id']}]", "").replace("select id", "select distinct id"),
    );
    assert_eq!(f.kiln(&["run", "-s", "kinds"]).code, 0);
    assert!(
        f.read("target/run/proj/models/kinds.sql")
            .contains("refresh materialized view")
    );
    assert_eq!(indexes(&f).len(), 1);
    // Its indexes changed: applied, without a rebuild.
    f.write(
        "models/kinds.sql",
        &model("[{'columns': ['kind'], 'unique': true}]", ""),
    );
    assert_eq!(f.kiln(&["run", "-s", "kinds"]).code, 0);
    assert_eq!(
        indexes(&f),
        [format!(
            "CREATE UNIQUE INDEX ON {schema}.kinds USING btree (kind)"
        )]
    );
    // `continue` leaves it as it is with a warning; `fail` fails.
    f.write(
        "models/kinds.sql",
        &model("[]", ", on_configuration_change='continue'"),
    );
    let out = f.kiln(&["run", "-s", "kinds"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(
        out.words()
            .contains("Configuration changes were identified"),
        "{}",
        out.all()
    );
    assert_eq!(indexes(&f).len(), 1);
    f.write(
        "models/kinds.sql",
        &model("[]", ", on_configuration_change='fail'"),
    );
    assert_eq!(f.kiln(&["run", "-s", "kinds"]).code, 1);
    // --full-refresh builds it anew, under its temporary name first.
    f.write("models/kinds.sql", &model("[]", ""));
    let out = f.kiln(&["run", "-s", "kinds", "--full-refresh"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(indexes(&f).is_empty());
    assert_eq!(matviews(&f), [["kinds"]]);
    assert_eq!(f.query("select count(*) from {schema}.kinds"), [["2"]]);
}

/// dbt-duckdb's indexes: made once the table has its name, and dropped
/// from the old table before it is renamed aside (DuckDB renames no table
/// with indexes), so a second build works.
#[test]
fn duckdb_indexes_survive_a_rebuild() {
    let f = Fixture::new();
    f.write(
        "models/events.sql",
        "{{ config(materialized='table', indexes=[{'columns': ['id'], 'unique': true}]) }}\nselect 1 as id\n",
    );
    for _ in 0..2 {
        let out = f.kiln(&["run"]);
        assert_eq!(out.code, 0, "{}", out.all());
        assert_eq!(
            f.query(
                "select table_name, is_unique from duckdb_indexes() where table_name = 'events'"
            ),
            [["events", "true"]]
        );
    }
}

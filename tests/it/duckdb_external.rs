//! dbt-duckdb's own features (issue 22): `external` models written to
//! Parquet, CSV and JSON files (partitioned too) with a view over each,
//! sources read from files by `external_location`, and the profile's
//! `external_root`, `settings` and `attach`. The files and rows are those
//! dbt 1.10 (dbt-duckdb 1.10.1) wrote from `tests/fixtures/duckdb_external`.

use std::path::Path;

use crate::common::Fixture;

/// The fixture, with its Parquet sources written by DuckDB itself.
fn external_shop() -> Fixture {
    let f = Fixture::copy_of("tests/fixtures/duckdb_external");
    let conn = duckdb::Connection::open_in_memory().unwrap();
    let data = f.path().join("data");
    conn.execute_batch(&format!(
        "copy (select * from (values (1, 1, 'shipped', 12.5), (2, 2, 'placed', 8.0), (3, 1, 'returned', 3.25), \
         (4, 3, 'shipped', 40.0), (5, 2, 'shipped', 1.75)) t(id, customer_id, status, amount)) \
         to '{0}/orders.parquet' (format parquet); \
         copy (select * from (values (1, 'ada'), (2, 'grace'), (3, 'edsger')) t(id, name)) \
         to '{0}/raw_customers.parquet' (format parquet);",
        data.display()
    ))
    .unwrap();
    f
}

/// Rows of `sql` on the project's database, its relative file paths read
/// from the project's folder (as kiln, run there, reads them).
fn rows(project: &Path, sql: &str) -> Vec<String> {
    let conn = duckdb::Connection::open(project.join("dev.duckdb")).unwrap();
    conn.execute_batch(&format!("set file_search_path = '{}'", project.display()))
        .unwrap();
    let mut statement = conn.prepare(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
    let mut found = statement.query([]).unwrap();
    let width = found.as_ref().unwrap().column_count();
    let mut out = Vec::new();
    while let Some(row) = found.next().unwrap() {
        let cells: Vec<String> = (0..width)
            .map(|i| match row.get::<_, duckdb::types::Value>(i).unwrap() {
                duckdb::types::Value::Null => "NULL".into(),
                duckdb::types::Value::Text(s) => s,
                duckdb::types::Value::Decimal(d) => d.to_string(),
                duckdb::types::Value::Int(i) => i.to_string(),
                duckdb::types::Value::BigInt(i) => i.to_string(),
                duckdb::types::Value::HugeInt(i) => i.to_string(),
                other => format!("{other:?}"),
            })
            .collect();
        out.push(cells.join("|"));
    }
    out
}

fn files_under(dir: &Path, root: &Path, out: &mut Vec<String>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files_under(&path, root, out);
        } else {
            out.push(path.strip_prefix(root).unwrap().display().to_string());
        }
    }
}

fn files(f: &Fixture) -> Vec<String> {
    let mut out = Vec::new();
    files_under(&f.path().join("out"), f.path(), &mut out);
    out.sort();
    out
}

#[test]
fn external_models_write_the_files_and_rows_dbt_duckdb_writes() {
    let f = external_shop();
    let out = f.kiln(&["build"]);
    assert_eq!(out.code, 0, "{}", out.all());
    // dbt-duckdb's files, name for name, and the mark kiln leaves in a
    // partition folder it wrote (it replaces no folder without one).
    let written = files(&f);
    assert!(written.contains(&"out/orders_by_status/.kiln-external".to_string()));
    assert_eq!(
        written
            .into_iter()
            .filter(|f| !f.ends_with(".kiln-external"))
            .collect::<Vec<_>>(),
        [
            "out/customers.csv",
            "out/order_events.json",
            "out/orders_by_status/status=placed/data_0.parquet",
            "out/orders_by_status/status=returned/data_0.parquet",
            "out/orders_by_status/status=shipped/data_0.parquet",
            "out/stg_orders.parquet",
        ]
    );
    // A csv `location` with `delimiter: '|'` has a header; json is one
    // object a line: byte for byte what dbt-duckdb wrote.
    assert_eq!(
        f.read("out/customers.csv"),
        "id|name\n1|ada\n2|grace\n3|edsger\n"
    );
    assert_eq!(
        f.read("out/order_events.json").lines().next(),
        Some(r#"{"event_id":1,"order_id":1,"kind":"placed"}"#)
    );
    assert_eq!(f.read("out/order_events.json").lines().count(), 6);
    let p = f.path();
    assert_eq!(
        rows(p, "select * from customer_totals order by all"),
        ["ada|28.25|3", "edsger|80.00|2", "grace|9.75|1"]
    );
    // Each external model is a view over its file; the partitioned one
    // reads its partition column back from the folder names.
    assert_eq!(
        rows(
            p,
            "select table_name, table_type from information_schema.tables order by 1"
        ),
        [
            "customer_totals|BASE TABLE",
            "order_events|VIEW",
            "orders_by_status|VIEW",
            "stg_customers|VIEW",
            "stg_orders|VIEW",
        ]
    );
    assert_eq!(
        rows(p, "select * from orders_by_status order by id"),
        [
            "1|12.50|shipped",
            "2|8.00|placed",
            "3|3.25|returned",
            "4|40.00|shipped",
            "5|1.75|shipped",
        ]
    );
    // The file itself holds the model's rows, read without kiln's view.
    assert_eq!(
        rows(
            p,
            "select count(*), sum(amount) from 'out/stg_orders.parquet'"
        ),
        ["5|65.50"]
    );
    // A source's `external_location` is read in place of a relation, as
    // dbt-duckdb renders it.
    let compiled = f.read("target/compiled/external_shop/models/order_events.sql");
    assert!(compiled.contains("from 'data/events_*.csv'"), "{compiled}");
    // Built again, every file is replaced in place, and no temporary file
    // is left beside them.
    let again = f.kiln(&["build"]);
    assert_eq!(again.code, 0, "{}", again.all());
    assert_eq!(files(&f).len(), 7, "{:?}", files(&f));
    // A `location` that is a folder of the user's is refused, not replaced.
    f.write(
        "models/stg_orders.sql",
        "{{ config(location='data', options={'partition_by': 'status'}) }}\nselect * from {{ source('raw', 'orders') }}\n",
    );
    let out = f.kiln(&["run", "-s", "stg_orders"]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(
        out.words().contains("is a folder kiln did not write"),
        "{}",
        out.all()
    );
    assert!(f.path().join("data/orders.parquet").is_file());
}

#[test]
fn a_failed_external_model_keeps_its_file_and_view() {
    let f = external_shop();
    assert_eq!(f.kiln(&["run", "-s", "stg_orders"]).code, 0);
    f.write(
        "models/stg_orders.sql",
        "select id, cast('x' || id as integer) as customer_id from {{ source('raw', 'orders') }}\n",
    );
    let out = f.kiln(&["run", "-s", "stg_orders"]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert_eq!(
        rows(f.path(), "select count(*), sum(amount) from stg_orders"),
        ["5|65.50"]
    );
    assert_eq!(files(&f), ["out/stg_orders.parquet"]);
    // A failure after the new file is written (a post-hook) puts the old
    // one back with the transaction's rollback.
    f.write(
        "models/stg_orders.sql",
        "{{ config(post_hook=\"select cast('x' as integer)\") }}\nselect id from {{ source('raw', 'orders') }} where id = 1\n",
    );
    let out = f.kiln(&["run", "-s", "stg_orders"]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert_eq!(
        rows(
            f.path(),
            "select count(*), sum(amount) from 'out/stg_orders.parquet'"
        ),
        ["5|65.50"]
    );
    assert_eq!(files(&f), ["out/stg_orders.parquet"]);
}

#[test]
fn a_top_level_partition_by_is_a_warning_as_dbt_duckdb_writes_one_file() {
    let f = external_shop();
    f.write(
        "models/stg_orders.sql",
        "{{ config(partition_by='status') }}\nselect * from {{ source('raw', 'orders') }}\n",
    );
    let out = f.kiln(&["run", "-s", "stg_orders"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(
        out.words()
            .contains("`partition_by` of an external model is read only inside `options:`"),
        "{}",
        out.all()
    );
    assert_eq!(files(&f), ["out/stg_orders.parquet"]);
}

#[test]
fn the_profile_attaches_databases_and_applies_settings() {
    let f = external_shop();
    let other = f.path().join("other.duckdb");
    {
        let conn = duckdb::Connection::open(&other).unwrap();
        conn.execute_batch("create table main.regions as select * from (values (1, 'north'), (3, 'south')) t(customer_id, region)")
            .unwrap();
    }
    f.write(
        "profiles.yml",
        "external_shop:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n      path: dev.duckdb\n      external_root: out\n      settings:\n        memory_limit: '1GB'\n        threads: 1\n      attach:\n        - path: other.duckdb\n          alias: other\n          read_only: true\n",
    );
    f.write(
        "models/regions.yml",
        "version: 2\nsources:\n  - name: other\n    database: other\n    schema: main\n    tables:\n      - name: regions\n",
    );
    f.write(
        "models/order_regions.sql",
        "{{ config(materialized='table') }}\nselect o.id, r.region, current_setting('threads') as threads, current_setting('memory_limit') as memory_limit\nfrom {{ ref('stg_orders') }} o join {{ source('other', 'regions') }} r using (customer_id)\n",
    );
    let out = f.kiln(&["run", "-s", "+order_regions"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(
        rows(f.path(), "select * from order_regions order by id"),
        [
            "1|north|1|953.6 MiB",
            "3|north|1|953.6 MiB",
            "4|south|1|953.6 MiB"
        ]
    );
    // Read-only, as attached: a model that writes into it fails there.
    f.write(
        "models/into_other.sql",
        "{{ config(materialized='table', database='other') }}\nselect 1 as id\n",
    );
    let out = f.kiln(&["run", "-s", "into_other"]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(out.all().contains("read-only"), "{}", out.all());
}

#[test]
fn profile_keys_kiln_cannot_serve_are_errors_at_their_line() {
    let f = external_shop();
    for (key, line, body, said) in [
        (
            "plugins",
            7,
            "      plugins:\n        - module: excel\n",
            "`plugins:` is not supported by kiln",
        ),
        (
            "module_paths",
            7,
            "      module_paths: [lib]\n",
            "`module_paths:` is not supported by kiln",
        ),
        (
            "filesystems",
            7,
            "      filesystems:\n        - fs: s3\n",
            "`filesystems:` is not supported by kiln",
        ),
        (
            "attach",
            9,
            "      attach:\n        - path: x.sqlite\n          type: sqlite\n",
            "attaching a `type: sqlite` database needs DuckDB's sqlite extension",
        ),
    ] {
        f.write(
            "profiles.yml",
            &format!(
                "external_shop:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n      path: dev.duckdb\n{body}"
            ),
        );
        let out = f.kiln(&["run"]);
        assert_eq!(out.code, 2, "{key}: {}", out.all());
        assert!(out.words().contains(said), "{key}: {}", out.all());
        assert!(
            out.all().contains(&format!("profiles.yml:{line}")),
            "{key}: {}",
            out.all()
        );
    }
}

#[test]
fn an_external_model_without_rows_writes_a_row_of_nulls_its_view_hides() {
    // As dbt-duckdb 1.10: the file holds one all-NULL row, the view none.
    let f = external_shop();
    f.write(
        "models/stg_orders.sql",
        "select id, status from {{ source('raw', 'orders') }} where false\n",
    );
    let out = f.kiln(&["run", "-s", "stg_orders"]);
    assert_eq!(out.code, 0, "{}", out.all());
    let p = f.path();
    assert_eq!(rows(p, "select count(*) from stg_orders"), ["0"]);
    assert_eq!(
        rows(p, "select id, status from 'out/stg_orders.parquet'"),
        ["NULL|NULL"]
    );
}

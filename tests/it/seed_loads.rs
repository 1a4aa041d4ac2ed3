//! Seeds loaded by the database's own CSV reader (issue 22): a file whose
//! values need no normalizing goes to DuckDB's `read_csv` or PostgreSQL's
//! `COPY` with dbt's inferred types pinned; short rows, NULLs written as
//! words and quoted line breaks load as they did row by row.

use crate::common::{Db, Fixture};

crate::on_each_adapter!(
    a_plain_file_loads_with_dbt_types_and_its_nulls,
    a_quote_inside_a_field_loads_as_the_csv_reader_reads_it,
);

/// `x"y` unquoted is the text `x"y` to dbt's reader; COPY would start a
/// quoted value at it (and swallow the next line), so it goes row by row.
fn a_quote_inside_a_field_loads_as_the_csv_reader_reads_it(db: Db) {
    let f = Fixture::new_on(db);
    f.write("seeds/odd.csv", "a,b\nx\"y,1\nz\"w,2\n");
    let out = f.kiln(&["seed"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(
        f.query("select a, b from {schema}.odd order by b"),
        [["x\"y", "1"], ["z\"w", "2"]]
    );
}

fn a_plain_file_loads_with_dbt_types_and_its_nulls(db: Db) {
    let f = Fixture::new_on(db);
    let mut csv = String::from("id,name,day,amount,paid,at\n");
    for i in 1..=20_000 {
        csv.push_str(&format!(
            "{i},n{i},2024-01-{:02},{i}.5,{},2024-01-01 00:00:{:02}\n",
            1 + i % 28,
            i % 2 == 0,
            i % 60
        ));
    }
    // A short row (NULLs after it), NULL as a word and as empty, a quoted
    // line break and quote.
    csv.push_str("20001,\"two\nlines \"\"quoted\"\"\"\n20002,null,,NULL,,\n");
    f.write("seeds/orders.csv", &csv);
    let out = f.kiln(&["seed"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(
        f.query("select count(*), count(name), count(day), sum(id) from {schema}.orders"),
        [["20002", "20001", "20000", "200050003"]]
    );
    assert_eq!(
        f.query("select name, amount is null from {schema}.orders where id = 20001"),
        [["two\nlines \"quoted\"", "true"]]
    );
    let types: Vec<String> = f
        .query(
            "select data_type from information_schema.columns where table_schema = '{schema}' \
             and table_name = 'orders' order by ordinal_position",
        )
        .into_iter()
        .map(|row| row[0].to_lowercase())
        .collect();
    let expected: &[&str] = match db {
        Db::DuckDb => &[
            "integer",
            "varchar",
            "date",
            "double",
            "boolean",
            "timestamp",
        ],
        Db::Postgres => &[
            "integer",
            "text",
            "date",
            "double precision",
            "boolean",
            "timestamp without time zone",
        ],
    };
    assert_eq!(types, expected);
}

/// dbt does not hash a seed file over 1 MiB: its manifest checksum is its
/// path (dbt 1.10 wrote `{"name": "path", "checksum": "seeds/orders.csv"}`).
#[test]
fn a_large_seed_is_checksummed_by_its_path_as_dbt_does() {
    let f = Fixture::new();
    let mut csv = String::from("id,name\n");
    for i in 0..100_000 {
        csv.push_str(&format!("{i},name number {i}\n"));
    }
    assert!(csv.len() > 1024 * 1024);
    f.write("seeds/orders.csv", &csv);
    f.write("seeds/small.csv", "id\n1\n");
    assert_eq!(f.kiln(&["parse"]).code, 0);
    let manifest: serde_json::Value =
        serde_json::from_str(&f.read("target/manifest.json")).unwrap();
    assert_eq!(
        manifest["nodes"]["seed.proj.orders"]["checksum"],
        serde_json::json!({"name": "path", "checksum": "seeds/orders.csv"})
    );
    assert_eq!(
        manifest["nodes"]["seed.proj.small"]["checksum"]["name"],
        "sha256"
    );
}

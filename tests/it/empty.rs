//! `--empty` (dbt 1.8): every ref and source reads no rows, so a build
//! creates each model's relation with its columns and nothing in it. Seeds
//! load whole, as in dbt; the SQL is dbt 1.10's: `(select * from x where
//! false limit 0)` in place of each ref and source, and on PostgreSQL, which
//! wants an alias on a subquery, `... limit 0) _dbt_limit_subq_x` (so a ref
//! the model aliases itself fails there, as it does in dbt-postgres).

use crate::common::{Db, Fixture};

fn project(db: Db) -> Fixture {
    let f = Fixture::new_on(db);
    f.write("seeds/people.csv", "id,name\n1,ann\n2,bo\n");
    f.write(
        "models/sources.yml",
        &f.sql(
            "version: 2\nsources:\n  - name: raw\n    schema: '{schema}'\n    tables:\n      - name: people\n",
        ),
    );
    f.write(
        "models/a.sql",
        "select id, name from {{ ref('people') }}\nwhere id in (select id from {{ source('raw', 'people') }})\n",
    );
    f.write(
        "models/b.sql",
        "{{ config(materialized='table') }}select id, name from {{ ref('a') }}\n",
    );
    f.write(
        "models/c.sql",
        "{{ config(materialized='incremental') }}select id from {{ ref('b') }}\n\
         {% if is_incremental() %}where id > (select coalesce(max(id), 0) from {{ this }}){% endif %}\n",
    );
    f.write(
        "models/schema.yml",
        "version: 2\nmodels:\n  - name: b\n    columns:\n      - name: id\n        data_tests: [not_null]\n",
    );
    f
}

fn count(f: &Fixture, table: &str) -> String {
    f.query(&format!("select count(*) from {{schema}}.{table}"))[0][0].clone()
}

crate::on_each_adapter!(
    build_empty_makes_every_model_with_no_rows,
    compile_empty_writes_refs_as_subqueries_of_no_rows,
);

fn build_empty_makes_every_model_with_no_rows(db: Db) {
    let f = project(db);
    let out = f.kiln(&["build", "--empty"]);
    assert_eq!(out.code, 0, "{}", out.all());
    let statuses = f.statuses();
    assert_eq!(statuses["seed.proj.people"], "success");
    assert_eq!(statuses["model.proj.c"], "success");
    let test = statuses
        .iter()
        .find(|(id, _)| id.starts_with("test.proj.not_null_b_id"))
        .map(|(_, status)| status.as_str());
    assert_eq!(test, Some("pass"), "{statuses:?}");
    // The seed is loaded whole; every model is there with its columns, empty.
    assert_eq!(count(&f, "people"), "2");
    for model in ["a", "b", "c"] {
        assert_eq!(count(&f, model), "0", "{model} has no rows");
    }
    assert_eq!(
        f.query("select id, name from {schema}.b where false"),
        Vec::<Vec<String>>::new()
    );
    // The same project built for real fills them (the incremental model
    // adds to its empty table, whose max(id) is null: hence the coalesce).
    let out = f.kiln(&["build"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(count(&f, "b"), "2");
    assert_eq!(count(&f, "c"), "2");
}

fn compile_empty_writes_refs_as_subqueries_of_no_rows(db: Db) {
    let f = project(db);
    assert_eq!(f.kiln(&["seed"]).code, 0);
    let out = f.kiln(&["compile", "--empty"]);
    assert_eq!(out.code, 0, "{}", out.all());
    let compiled = f.read("target/compiled/proj/models/a.sql");
    let people = f.sql("\"{db}\".\"{schema}\".\"people\"");
    let empty = match db {
        Db::DuckDb => format!("(select * from {people} where false limit 0)"),
        Db::Postgres => {
            format!("(select * from {people} where false limit 0) _dbt_limit_subq_people")
        }
    };
    assert_eq!(
        compiled.trim(),
        format!("select id, name from {empty}\nwhere id in (select id from {empty})"),
    );
    // A data test reads its model the same way.
    let test = f.read("target/compiled/proj/models/schema.yml/not_null_b_id.sql");
    assert!(test.contains("where false limit 0"), "{test}");
    // Without --empty the refs are plain names again.
    assert_eq!(f.kiln(&["compile"]).code, 0);
    let compiled = f.read("target/compiled/proj/models/a.sql");
    assert!(!compiled.contains("limit 0"), "{compiled}");
}

#[test]
fn empty_is_refused_where_dbt_has_no_such_flag() {
    let f = project(Db::DuckDb);
    for command in ["test", "seed"] {
        let out = f.kiln(&[command, "--empty"]);
        assert_eq!(out.code, 2, "{}", out.all());
        assert!(
            out.stderr
                .contains("--empty applies to build, run, snapshot and compile"),
            "{}",
            out.stderr
        );
    }
}

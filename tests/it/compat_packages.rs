//! What dbt's own packages (dbt_utils, codegen, audit_helper) need of kiln,
//! in their integration tests, pinned in a small fixture
//! (tests/fixtures/compat_packages). Every status, row and name asserted is
//! what dbt-core 1.10 gave on the same fixture:
//!
//! - `adapter.drop_relation(...)` in a seed's post-hook, and
//!   `adapter.create_schema(...)` and `adapter.check_schema_exists(...)` in
//!   an operation, run as dbt's adapter runs them;
//! - a source's `schema:` is Jinja, rendered with `target`;
//! - a macro reads what it was given beyond its parameters from `kwargs`
//!   (dbt_utils' `not_null_proportion`);
//! - `tests/fixtures/` holds unit tests' fixtures, never singular tests;
//! - a list changes in place whatever made it (`split()`, a filter, a
//!   namespace attribute), and `(... | list).pop()` gives the last item.

use std::collections::BTreeMap;

use crate::common::{Db, Fixture, lines};

fn fixture(db: Db) -> Fixture {
    Fixture::project_on(db, "tests/fixtures/compat_packages", "kiln_test")
}

fn relations(f: &Fixture) -> Vec<String> {
    lines(&f.query(&format!(
        "select table_name from information_schema.tables where table_schema = '{}' order by 1",
        f.schema
    )))
}

fn the_adapters_methods_run_as_dbts(db: Db) {
    let f = fixture(db);
    let op = f.kiln(&["run-operation", "make_extra_schema"]);
    assert_eq!(op.code, 0, "{}", op.all());
    assert!(op.all().contains("extra exists: True"), "{}", op.all());
    let out = f.kiln(&["build"]);
    assert_eq!(out.code, 0, "{}", out.all());
    let expected: BTreeMap<String, String> = [
        ("model.compat_packages.lists", "success"),
        ("model.compat_packages.things", "success"),
        ("seed.compat_packages.dropped", "success"),
        ("seed.compat_packages.kept", "success"),
        // A generic test whose arguments reach it as `kwargs`, named as dbt
        // names it (0.5 as `0_5`).
        (
            "test.compat_packages.proportion_at_least_kept_0_5__id.c3be3480f3",
            "pass",
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    assert_eq!(f.statuses(), expected, "{}", out.all());
    // The seed's post-hook dropped it.
    assert_eq!(relations(&f), ["kept", "lists", "things"], "{}", out.all());
    // The source's schema rendered: its columns were read.
    assert_eq!(
        lines(&f.query(&f.sql("select thing_id, thing_name from {schema}.things"))),
        ["1|x"]
    );
}

fn lists_change_in_place_whatever_made_them(db: Db) {
    let f = fixture(db);
    let op = f.kiln(&["run-operation", "make_extra_schema"]);
    assert_eq!(op.code, 0, "{}", op.all());
    let out = f.kiln(&["build", "--select", "lists"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(
        lines(&f.query(
            &f.sql("select joined, popped, last_item, appended, pair_length from {schema}.lists")
        )),
        ["a-b-c-d|b-c-d|z|2|2"]
    );
}

crate::on_each_adapter!(
    the_adapters_methods_run_as_dbts,
    lists_change_in_place_whatever_made_them,
);

/// Keyword arguments beyond a macro's parameters reach it as `kwargs` only
/// when its body reads `kwargs`; otherwise they are an error naming the
/// macro and the argument, as Jinja2 (and so dbt 1.10) says it.
#[test]
fn unknown_keyword_arguments_are_refused_unless_the_macro_reads_kwargs() {
    let f = Fixture::new();
    f.write(
        "macros/m.sql",
        "{% macro plain(a) %}{{ a }}{% endmacro %}\n",
    );
    f.write("models/x.sql", "select {{ plain(1, b=2) }} as x\n");
    let out = f.kiln(&["compile"]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(
        out.all()
            .contains("macro 'plain' takes no keyword argument 'b'"),
        "{}",
        out.all()
    );
    f.write(
        "macros/m.sql",
        "{% macro plain(a) %}{{ a }}{{ kwargs.get('b') }}{% endmacro %}\n",
    );
    let out = f.kiln(&["compile"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(
        f.read("target/compiled/proj/models/x.sql").trim(),
        "select 12 as x"
    );
}

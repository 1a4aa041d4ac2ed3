//! What dbt-audit-helper's integration tests need of kiln on PostgreSQL,
//! pinned in a small fixture (tests/fixtures/compat_postgres). Every value
//! asserted is what dbt-core 1.10 with dbt-postgres 1.9 and dbt-duckdb 1.10
//! gave on the same fixture, built twice:
//!
//! - a relation whose name is 63 characters long (PostgreSQL's limit) is
//!   built and rebuilt: its `__dbt_tmp` and `__dbt_backup` names are cut
//!   before the suffix (dbt-postgres's `make_relation_with_suffix`), where
//!   PostgreSQL would cut the suffix off and find the name taken;
//! - a seed's columns are quoted unless `quote_columns: false`: then they are
//!   written bare, and PostgreSQL folds `Col_A` to `col_a` (DuckDB keeps it).

use crate::common::{Db, Fixture, lines};

fn fixture(db: Db) -> Fixture {
    Fixture::project_on(db, "tests/fixtures/compat_postgres", "kiln_test")
}

/// The columns of the fixture's relations named `pattern` (LIKE), in the
/// catalog's words.
fn columns(f: &Fixture, pattern: &str) -> Vec<String> {
    lines(&f.query(&format!(
        "select table_name, column_name from information_schema.columns \
         where table_schema = '{{schema}}' and table_name like '{pattern}' \
         order by table_name, ordinal_position"
    )))
}

fn names_at_the_identifier_limit_build_twice(db: Db) {
    let f = fixture(db);
    for run in ["first", "second"] {
        let out = f.kiln(&["build"]);
        assert_eq!(out.code, 0, "{run} build: {}", out.all());
    }
    assert_eq!(
        lines(&f.query(
            "select table_name, table_type from information_schema.tables \
             where table_schema = '{schema}' order by table_name"
        )),
        [
            "a_table_model_whose_name_is_sixty_three_characters_long_xxxxxxx|BASE TABLE",
            "a_view_model_whose_name_is_sixty_three_characters_long_xxxxxxxx|VIEW",
            "an_incremental_model_whose_name_is_sixty_three_characters_xxxxx|BASE TABLE",
            "expected_results__compare_all_columns_concat_pk_without_summary|BASE TABLE",
            "mixed_case_quoted|BASE TABLE",
            "mixed_case_unquoted|BASE TABLE",
        ]
    );
    // dbt quotes a seed's columns by default.
    assert_eq!(
        columns(&f, "expected_results%"),
        [
            "expected_results__compare_all_columns_concat_pk_without_summary|ID",
            "expected_results__compare_all_columns_concat_pk_without_summary|Col_A",
        ]
    );
    assert_eq!(
        lines(&f.query(
            "select id from {schema}.a_table_model_whose_name_is_sixty_three_characters_long_xxxxxxx \
             order by id"
        )),
        ["1", "2"]
    );
    assert_eq!(
        lines(&f.query(
            "select count(*) from \
             {schema}.an_incremental_model_whose_name_is_sixty_three_characters_xxxxx"
        )),
        ["1"]
    );
}

fn seed_columns_are_quoted_unless_quote_columns_is_false(db: Db) {
    let f = fixture(db);
    let view = "a_view_model_whose_name_is_sixty_three_characters_long_xxxxxxxx";
    let out = f.kiln(&[
        "build",
        "--select",
        "mixed_case_quoted",
        &format!("+{view}"),
    ]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(
        columns(&f, "mixed_case%"),
        match db {
            Db::Postgres => [
                "mixed_case_quoted|ID",
                "mixed_case_quoted|Col_A",
                "mixed_case_unquoted|id",
                "mixed_case_unquoted|col_a",
            ],
            Db::DuckDb => [
                "mixed_case_quoted|ID",
                "mixed_case_quoted|Col_A",
                "mixed_case_unquoted|ID",
                "mixed_case_unquoted|Col_A",
            ],
        }
    );
    // Unquoted, the view's `col_a` finds the seed's column on both databases.
    assert_eq!(
        lines(&f.query(&format!(
            "select id, col_a from {{schema}}.{view} order by id"
        ))),
        ["1|a", "2|b", "3|c"]
    );
}

crate::on_each_adapter!(
    names_at_the_identifier_limit_build_twice,
    seed_columns_are_quoted_unless_quote_columns_is_false,
);

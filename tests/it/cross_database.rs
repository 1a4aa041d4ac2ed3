//! dbt's cross-database macros (templates/macros/cross_database/, one file per family) on
//! DuckDB and PostgreSQL: the fixture tests/fixtures/cross_database calls each
//! one with fixed inputs, as `dbt.name(...)` and bare, with positional and
//! keyword arguments. Both databases must give the answers dbt gives (each
//! value below is what dbt-core 1.10 with dbt-duckdb and dbt-postgres builds
//! from the same fixture).

use crate::common::{Db, Fixture, lines};

/// The fixture project, built.
fn built(db: Db) -> Fixture {
    let f = Fixture::project_on(db, "tests/fixtures/cross_database", "kiln_test");
    let out = f.kiln(&["build"]);
    assert_eq!(out.code, 0, "{}", out.all());
    f
}

/// Each column of `macros_out` as the test reads it (as text, so that both
/// databases print it alike) and the value it must have.
const VALUES: &[(&str, &str, &str)] = &[
    // dates and times
    ("d_add", "cast(d_add as varchar)", "2024-02-02 00:00:00"),
    (
        "d_add_month",
        "cast(d_add_month as varchar)",
        "2024-02-29 00:00:00",
    ),
    (
        "d_add_hours_back",
        "cast(d_add_hours_back as varchar)",
        "2023-12-31 23:00:00",
    ),
    ("d_diff", "cast(d_diff as varchar)", "60"),
    ("d_diff_month", "cast(d_diff_month as varchar)", "2"),
    ("d_diff_year", "cast(d_diff_year as varchar)", "1"),
    // Wednesday to the next Monday: one week boundary (Sunday) crossed.
    ("d_diff_week", "cast(d_diff_week as varchar)", "1"),
    ("d_diff_hour", "cast(d_diff_hour as varchar)", "2"),
    ("d_trunc", "cast(d_trunc as varchar)", "2024-02-01 00:00:00"),
    ("l_day_month", "cast(l_day_month as varchar)", "2024-02-29"),
    (
        "l_day_quarter",
        "cast(l_day_quarter as varchar)",
        "2024-06-30",
    ),
    ("l_day_year", "cast(l_day_year as varchar)", "2023-12-31"),
    ("d_date", "cast(d_date as varchar)", "2024-02-29"),
    (
        "timestamps",
        "cast(ts_now is not null and ts_backcompat is not null and ts_utc_backcompat is not null as varchar)",
        "true",
    ),
    // strings
    ("cat", "cat", "abc"),
    ("cat_bare", "cat_bare", "x-1"),
    ("h", "h", "9e8287435ae73a052c9459e215e46a28"),
    ("sp_2", "sp_2", "b"),
    ("sp_last", "sp_last", "c"),
    ("sp_second_last", "sp_second_last", "b"),
    ("lit", "lit", "hello"),
    ("esc", "esc", "they're"),
    ("bool_text", "bool_text", "true"),
    ("pos", "cast(pos as varchar)", "3"),
    ("repl", "repl", "a+b+c"),
    ("rgt", "rgt", "ln"),
    ("len", "cast(len as varchar)", "4"),
    // aggregates and set operators
    ("agg", "agg", "a|b|c"),
    ("agg_default_delimiter", "agg_default_delimiter", "a,b,c"),
    ("agg_limit", "agg_limit", "c, b"),
    ("any_v", "cast(any_v as varchar)", "7"),
    ("bool_any", "cast(bool_any as varchar)", "true"),
    ("bool_none", "cast(bool_none as varchar)", "false"),
    ("except_sum", "cast(except_sum as varchar)", "4"),
    ("intersect_sum", "cast(intersect_sum as varchar)", "5"),
    ("series_sum", "cast(series_sum as varchar)", "55"),
    ("series_count", "cast(series_count as varchar)", "16"),
    ("powers_of_two", "cast(powers_of_two as varchar)", "4"),
    // casts and types
    ("cast_int", "cast(cast_int as varchar)", "7"),
    ("safe_cast_int", "cast(safe_cast_int as varchar)", "42"),
    ("t_string", "t_string", "abc"),
    ("t_int", "cast(t_int as varchar)", "7"),
    ("t_bigint", "cast(t_bigint as varchar)", "9000000000"),
    ("t_float", "cast(t_float as varchar)", "1.5"),
    ("t_numeric", "cast(t_numeric as varchar)", "1.250000"),
    (
        "t_timestamp",
        "cast(t_timestamp as varchar)",
        "2024-01-02 03:04:05",
    ),
    ("t_boolean", "cast(t_boolean as varchar)", "true"),
    // arrays
    ("arr", "array_to_string(arr, ',')", "1,2,3"),
    ("arr_empty", "cast(cardinality(arr_empty) as varchar)", "0"),
    (
        "arr_empty_bigint",
        "cast(cardinality(arr_empty_bigint) as varchar)",
        "0",
    ),
    ("arr_append", "array_to_string(arr_append, ',')", "1,2,3"),
    ("arr_concat", "array_to_string(arr_concat, ',')", "1,2,3"),
];

fn every_macro_gives_the_value_dbt_gives(db: Db) {
    let f = built(db);
    let columns: Vec<&str> = VALUES.iter().map(|(_, expr, _)| *expr).collect();
    let rows = f.query(&format!(
        "select {} from {{schema}}.macros_out",
        columns.join(", ")
    ));
    assert_eq!(rows.len(), 1, "{rows:?}");
    let got: Vec<String> = VALUES
        .iter()
        .zip(&rows[0])
        .map(|((name, _, _), value)| format!("{name}={value}"))
        .collect();
    let expected: Vec<String> = VALUES
        .iter()
        .map(|(name, _, value)| format!("{name}={value}"))
        .collect();
    assert_eq!(got, expected);
}

fn type_macros_give_the_column_types_dbt_gives(db: Db) {
    let f = built(db);
    let types: Vec<String> = lines(&f.query(
        "select column_name, data_type from information_schema.columns \
         where table_schema = '{schema}' and table_name = 'macros_out' \
         order by ordinal_position",
    ))
    .into_iter()
    .filter(|line| ["t_", "ts_", "arr"].iter().any(|p| line.starts_with(p)))
    .collect();
    // dbt's names for the types (TEXT, integer, bigint, float, numeric(28,6),
    // timestamp, boolean) as each database stores them: `float` is single
    // precision on DuckDB, double precision on PostgreSQL, as under dbt.
    let expected: &[&str] = match db {
        Db::DuckDb => &[
            "ts_now|TIMESTAMP WITH TIME ZONE",
            "ts_backcompat|TIMESTAMP",
            "ts_utc_backcompat|TIMESTAMP",
            "t_string|VARCHAR",
            "t_int|INTEGER",
            "t_bigint|BIGINT",
            "t_float|FLOAT",
            "t_numeric|DECIMAL(28,6)",
            "t_timestamp|TIMESTAMP",
            "t_boolean|BOOLEAN",
            "arr|INTEGER[]",
            "arr_empty|INTEGER[]",
            "arr_empty_bigint|BIGINT[]",
            "arr_append|INTEGER[]",
            "arr_concat|INTEGER[]",
        ],
        Db::Postgres => &[
            "ts_now|timestamp with time zone",
            "ts_backcompat|timestamp without time zone",
            "ts_utc_backcompat|timestamp without time zone",
            "t_string|text",
            "t_int|integer",
            "t_bigint|bigint",
            "t_float|double precision",
            "t_numeric|numeric",
            "t_timestamp|timestamp without time zone",
            "t_boolean|boolean",
            "arr|ARRAY",
            "arr_empty|ARRAY",
            "arr_empty_bigint|ARRAY",
            "arr_append|ARRAY",
            "arr_concat|ARRAY",
        ],
    };
    assert_eq!(types, expected);
}

/// Each adapter renders its own SQL where the dialects differ.
fn dispatch_picks_each_adapters_sql(db: Db) {
    let f = built(db);
    let compiled = f.read("target/compiled/cross_db/models/macros_out.sql");
    let expected: &[&str] = match db {
        Db::DuckDb => &[
            "(cast('2024-01-30' as date) + cast(3 as bigint) * interval 1 day) as d_add",
            "(date_diff('day', (cast('2024-01-01' as date))::timestamp, (cast('2024-03-01' as date))::timestamp)) as d_diff",
            "string_split('a,b,c', ',')[2] as sp_2",
            "string_split('a,b,c', ',')[-1] as sp_last",
            "make_date(2024, 2, 29) as d_date",
            "(select arbitrary(v) from",
            "list_aggr((array_agg(v order by v desc))[1:2], 'string_agg', ', ')",
            "from generate_series(1, 10)",
            "now() as ts_now",
            "current_timestamp::timestamp as ts_utc_backcompat",
        ],
        Db::Postgres => &[
            "cast('2024-01-30' as date) + ((interval '1 day') * (3)) as d_add",
            "((cast('2024-03-01' as date))::date - (cast('2024-01-01' as date))::date) as d_diff",
            "split_part('a,b,c', ',', 2) as sp_2",
            "length('a,b,c') - length(replace('a,b,c', ',', '')) + 2 + -1",
            "to_date('2024-02-29', 'YYYY-MM-DD') as d_date",
            "(select min(v) from",
            "array_to_string((array_agg(v order by v desc))[1:2], ', ')",
            "p3.generated_number * power(2, 3) +",
            "now() as ts_now",
            "(current_timestamp at time zone 'utc')::timestamp as ts_utc_backcompat",
        ],
    };
    for snippet in expected {
        assert!(
            compiled.contains(snippet),
            "{snippet:?} not in compiled SQL:\n{compiled}"
        );
    }
    // The same on both: dbt's type names and the plain defaults.
    for snippet in [
        "md5(cast('kiln' as TEXT)) as h",
        "cast(1.25 as numeric(28,6)) as t_numeric",
        "'they''re' as esc",
        "'x' || '-' || cast(1 as TEXT) as cat_bare",
        "position('c' in 'abcd') as pos",
        "array[]::bigint[] as arr_empty_bigint",
        "4 as powers_of_two",
    ] {
        assert!(
            compiled.contains(snippet),
            "{snippet:?} not in compiled SQL:\n{compiled}"
        );
    }
}

/// dbt.date_spine asks the database, while compiling, how many days lie
/// between its ends (the end is excluded).
fn date_spine_counts_the_days_between_its_ends(db: Db) {
    let f = built(db);
    assert_eq!(
        lines(&f.query("select cast(date_day as varchar) from {schema}.spine order by 1")),
        [
            "2024-01-01 00:00:00",
            "2024-01-02 00:00:00",
            "2024-01-03 00:00:00",
            "2024-01-04 00:00:00",
        ]
    );
}

crate::on_each_adapter!(
    every_macro_gives_the_value_dbt_gives,
    type_macros_give_the_column_types_dbt_gives,
    dispatch_picks_each_adapters_sql,
    date_spine_counts_the_days_between_its_ends,
);

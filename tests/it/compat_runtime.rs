//! What real dbt projects lean on at run time: Python's `datetime` and
//! `pytz` in `modules`, the DuckDB extensions this kiln has (and a clear
//! error for one it has not), and a warning for every properties-file
//! section kiln does not act on.

use crate::common::Fixture;

const PROJECT: &str = "tests/fixtures/compat_runtime";

/// Both streams with the diagnostic's wrapping undone (lines joined, the
/// frame's `│` gone), so that a sentence can be looked for whole.
fn flat(out: &crate::common::Output) -> String {
    out.all()
        .split_whitespace()
        .filter(|w| *w != "│")
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn python_datetime_and_pytz_render_as_in_dbt() {
    let f = Fixture::project(PROJECT, "compat_runtime");
    let out = f.kiln(&["build"]);
    assert_eq!(out.code, 0, "{}", out.all());
    let rows = f.query(
        "select next_day, after_new_year, datetime_text, midnight, noon_eastern_in_utc, span, \
         february_days, ordered, run_year_digits from main.dates",
    );
    assert_eq!(
        rows,
        vec![vec![
            "2024-02-01".to_string(),
            "2025-01-01".to_string(),
            "2024-01-02 03:04:05".to_string(),
            "2024-03-09T00:00:00".to_string(),
            "2024-07-01 16:00:00+00:00".to_string(),
            "1 day, 2:00:00".to_string(),
            "29".to_string(),
            "true".to_string(),
            "4".to_string(),
        ]]
    );
}

#[test]
fn unit_tests_run_and_exposures_are_no_ops_of_the_build() {
    let f = Fixture::project(PROJECT, "compat_runtime");
    let out = f.kiln(&["build"]);
    assert_eq!(out.code, 0, "{}", out.all());
    let text = flat(&out);
    assert!(!text.contains("unit tests under"), "{text}");
    for needle in [
        "PASS dates::dates_next_day",
        "PASS dates::dates_span",
        // An exposure is a node (issue 21): a no-op in a build, as in dbt.
        "NO-OP exposure weekly_report",
    ] {
        assert!(text.contains(needle), "expected {needle:?} in:\n{text}");
    }
}

#[test]
fn a_function_of_an_extension_not_compiled_in_fails_at_the_model() {
    let f = Fixture::new();
    f.write("models/ok.sql", "select 1 as id\n");
    f.write(
        "models/zoned.sql",
        "select\n    id,\n    timezone('America/New_York', timestamptz '2024-01-01 00:00:00+00') as local_time\nfrom {{ ref('ok') }}\n",
    );
    let out = f.kiln(&["build"]);
    assert_eq!(out.code, 1, "{}", out.all());
    let text = flat(&out);
    for needle in [
        "models/zoned.sql",
        "DuckDB extension 'icu'",
        "compiled into this kiln: parquet, json",
        "nothing can be downloaded",
    ] {
        assert!(text.contains(needle), "expected {needle:?} in:\n{text}");
    }
    assert!(!text.contains("panicked"), "{text}");
    // The model that needs no extension is built.
    assert_eq!(
        f.query("select id from main.ok"),
        vec![vec!["1".to_string()]]
    );
}

#[test]
fn a_profile_extension_not_compiled_in_is_an_error_at_its_line() {
    let f = Fixture::new();
    f.write("models/ok.sql", "select 1 as id\n");
    f.write(
        "profiles.yml",
        &format!(
            "proj:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n      path: '{}'\n      extensions:\n        - parquet\n        - icu\n",
            f.db_path().display()
        ),
    );
    let out = f.kiln(&["build"]);
    assert_eq!(out.code, 2, "{}", out.all());
    let text = flat(&out);
    for needle in [
        "profiles.yml:9",
        "DuckDB extension 'icu'",
        "compiled into this kiln: parquet, json",
        "nothing can be downloaded",
    ] {
        assert!(text.contains(needle), "expected {needle:?} in:\n{text}");
    }

    // The extensions it has are fine.
    f.write(
        "profiles.yml",
        &format!(
            "proj:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n      path: '{}'\n      extensions: [parquet, json]\n",
            f.db_path().display()
        ),
    );
    let out = f.kiln(&["build"]);
    assert_eq!(out.code, 0, "{}", out.all());
}

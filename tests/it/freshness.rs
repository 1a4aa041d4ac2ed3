//! `kiln source freshness` on every adapter: tables last loaded at known
//! times ago, judged against their criteria.

use crate::common::{Db, Fixture};

fn freshness_reports_pass_warn_and_error(db: Db) {
    let f = Fixture::new_on(db);
    for (name, ago) in [
        ("recent", "5 minutes"),
        ("lagging", "2 hours"),
        ("stale", "3 days"),
    ] {
        f.write(
            &format!("models/{name}.sql"),
            &format!(
                "{{{{ config(materialized='table') }}}}\nselect cast(current_timestamp as timestamp) - interval '{ago}' as loaded_at, 'eu' as region\nunion all select cast(current_timestamp as timestamp) - interval '10 days', 'us'\n"
            ),
        );
    }
    f.write(
        "models/sources.yml",
        &f.sql(
            "version: 2\nsources:\n  - name: raw\n    schema: '{schema}'\n    loaded_at_field: loaded_at\n    freshness:\n      warn_after: {count: 1, period: hour}\n      error_after: {count: 1, period: day}\n    tables:\n      - name: recent\n      - name: lagging\n      - name: stale\n      - name: lagging_us\n        identifier: lagging\n        freshness:\n          warn_after: {count: 12, period: hour}\n          filter: \"region = 'us'\"\n      - name: unchecked\n        identifier: stale\n        freshness: null\n",
        ),
    );
    assert_eq!(f.kiln(&["run"]).code, 0);
    let out = f.kiln(&["source", "freshness"]);
    assert_eq!(
        out.code,
        1,
        "a table past error_after exits 1\n{}",
        out.all()
    );
    assert!(
        out.stdout.contains("PASS  freshness of raw.recent"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("WARN  freshness of raw.lagging"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("ERROR STALE freshness of raw.stale"),
        "{}",
        out.stdout
    );
    let json: serde_json::Value = serde_json::from_str(&f.read("target/sources.json")).unwrap();
    let results = json["results"].as_array().unwrap();
    let status: Vec<(String, String)> = results
        .iter()
        .map(|r| {
            (
                r["unique_id"].as_str().unwrap().to_string(),
                r["status"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        status,
        [
            ("source.proj.raw.lagging".to_string(), "warn".to_string()),
            // Only the us rows count (10 days old), and the table's own
            // warn_after merges with its source's error_after, as in dbt.
            (
                "source.proj.raw.lagging_us".to_string(),
                "error".to_string()
            ),
            ("source.proj.raw.recent".to_string(), "pass".to_string()),
            ("source.proj.raw.stale".to_string(), "error".to_string()),
        ]
    );
    let lagging = &results[0];
    let age = lagging["max_loaded_at_time_ago_in_s"].as_f64().unwrap();
    assert!((7190.0..7300.0).contains(&age), "{age}");
    assert_eq!(lagging["criteria"]["warn_after"]["period"], "hour");

    let out = f.kiln(&["source", "freshness", "-s", "source:raw.recent"]);
    assert_eq!(out.code, 0, "{}", out.all());
}

fn an_empty_or_missing_table_is_an_error_naming_the_source(db: Db) {
    let f = Fixture::new_on(db);
    f.write(
        "models/sources.yml",
        &f.sql(
            "version: 2\nsources:\n  - name: raw\n    schema: '{schema}'\n    tables:\n      - name: gone\n        loaded_at_field: loaded_at\n        freshness:\n          error_after: {count: 1, period: hour}\n",
        ),
    );
    let out = f.kiln(&["source", "freshness"]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(
        out.stderr.contains("freshness of raw.gone"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("models/sources.yml:6"),
        "{}",
        out.stderr
    );
    let json: serde_json::Value = serde_json::from_str(&f.read("target/sources.json")).unwrap();
    assert_eq!(json["results"][0]["status"], "runtime error");
}

crate::on_each_adapter!(
    freshness_reports_pass_warn_and_error,
    an_empty_or_missing_table_is_an_error_naming_the_source,
    a_project_collect_freshness_replaces_the_built_in_one,
);

/// A project's `collect_freshness` replaces kiln's, as in dbt: here it
/// judges by another column than `loaded_at_field`, with `run_query`.
fn a_project_collect_freshness_replaces_the_built_in_one(db: Db) {
    let f = Fixture::new_on(db);
    f.write(
        "models/events.sql",
        "{{ config(materialized='table') }}\nselect cast(current_timestamp as timestamp) - interval '3 days' as loaded_at, cast(current_timestamp as timestamp) - interval '5 minutes' as updated_at\n",
    );
    f.write(
        "models/sources.yml",
        &f.sql(
            "version: 2\nsources:\n  - name: raw\n    schema: '{schema}'\n    loaded_at_field: loaded_at\n    freshness:\n      error_after: {count: 1, period: day}\n    tables:\n      - name: events\n",
        ),
    );
    assert_eq!(f.kiln(&["run"]).code, 0);
    let out = f.kiln(&["source", "freshness"]);
    assert_eq!(out.code, 1, "by loaded_at it is stale\n{}", out.all());
    f.write(
        "macros/freshness.sql",
        "{% macro collect_freshness(source, loaded_at_field, filter) %}\n  {{ return(run_query('select max(updated_at) as max_loaded_at, cast(current_timestamp as timestamp) as snapshotted_at from ' ~ source)) }}\n{% endmacro %}\n",
    );
    let out = f.kiln(&["source", "freshness"]);
    assert_eq!(out.code, 0, "by updated_at it is fresh\n{}", out.all());
    assert!(
        out.stdout.contains("PASS  freshness of raw.events"),
        "{}",
        out.stdout
    );
    // It may read the project's models with ref(), as dbt links the graph
    // before it checks freshness: here the load times come from `events`.
    f.write(
        "macros/freshness.sql",
        "{% macro collect_freshness(source, loaded_at_field, filter) %}\n  {{ return(run_query('select max(updated_at) as max_loaded_at, cast(current_timestamp as timestamp) as snapshotted_at from ' ~ ref('events'))) }}\n{% endmacro %}\n",
    );
    let out = f.kiln(&["source", "freshness"]);
    assert_eq!(
        out.code,
        0,
        "ref() resolves in collect_freshness\n{}",
        out.all()
    );
    // One that fails to render is an error naming the source.
    f.write(
        "macros/freshness.sql",
        "{% macro collect_freshness(source, loaded_at_field, filter) %}\n  {{ return(no_such_macro(source)) }}\n{% endmacro %}\n",
    );
    let out = f.kiln(&["source", "freshness"]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(
        out.stderr.contains("freshness of raw.events"),
        "{}",
        out.stderr
    );
}

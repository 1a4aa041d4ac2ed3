//! Microbatch models (dbt 1.9, issue 21): an incremental model built one
//! time window at a time, refs with an `event_time` read only the window,
//! each batch its own transaction and line, and `kiln retry` builds only
//! the batches that failed. The rows are those dbt 1.10 (dbt-duckdb 1.10)
//! built from the same files with `--event-time-start 2024-01-01
//! --event-time-end 2024-01-04`.

use crate::common::{Db, Fixture};

const WINDOW: [&str; 4] = [
    "--event-time-start",
    "2024-01-01",
    "--event-time-end",
    "2024-01-04",
];

fn project(db: Db) -> Fixture {
    let f = Fixture::new_on(db);
    f.write(
        "seeds/raw_events.csv",
        "id,amount,occurred_at\n1,10,2024-01-01 03:00:00\n2,20,2024-01-01 23:00:00\n3,5,2024-01-02 10:00:00\n4,7,2024-01-03 00:00:00\n5,1,2025-06-01 12:00:00\n",
    );
    f.write(
        "models/events.sql",
        "{{ config(event_time='occurred_at') }}\nselect id, amount, occurred_at from {{ ref('raw_events') }}\n",
    );
    // `bad` makes the 2024-01-02 batch fail (a cast of 'x' to int).
    f.write(
        "models/daily.sql",
        "{{ config(materialized='incremental', incremental_strategy='microbatch', event_time='day', begin='2024-01-01', batch_size='day') }}\nselect date_trunc('day', occurred_at) as day, sum(amount) as amount, count(*) as n,\n  max(cast(case when cast(occurred_at as date) = date '2024-01-02' then '{{ var(\"bad\", \"1\") }}' else '1' end as int)) as ok\nfrom {{ ref('events') }} group by 1\n",
    );
    // The seed read as a source whose table has an `event_time` (dbt
    // filters a source's rows to the batch as it does a model's).
    f.write(
        "models/sources.yml",
        "version: 2\nsources:\n  - name: raw\n    schema: \"{{ target.schema }}\"\n    tables:\n      - name: raw_events\n        config:\n          event_time: occurred_at\n",
    );
    f.write(
        "models/daily_from_source.sql",
        "{{ config(materialized='incremental', incremental_strategy='microbatch', event_time='day', begin='2024-01-01', batch_size='day') }}\nselect date_trunc('day', occurred_at) as day, count(*) as n from {{ source('raw', 'raw_events') }} group by 1\n",
    );
    f.write(
        "models/yearly.sql",
        "{{ config(materialized='incremental', incremental_strategy='microbatch', event_time='occurred_at', begin='2024-01-01', batch_size='year') }}\nselect id, amount, occurred_at from {{ ref('events') }}\n",
    );
    f
}

fn daily(f: &Fixture) -> Vec<Vec<String>> {
    f.query("select cast(cast(day as date) as varchar), amount, n from {schema}.daily order by 1")
}

crate::on_each_adapter!(
    a_microbatch_model_builds_batch_by_batch_as_dbt_does,
    a_failed_batch_is_a_partial_success_and_retry_builds_it_alone,
);

fn a_microbatch_model_builds_batch_by_batch_as_dbt_does(db: Db) {
    let f = project(db);
    assert_eq!(f.kiln(&["seed"]).code, 0);
    let out = f.kiln(&[&["run"], &WINDOW[..]].concat());
    assert_eq!(out.code, 0, "{}", out.all());
    let words = out.words();
    for line in [
        "Batch 1 of 3 OK created batch 2024-01-01 of",
        "Batch 3 of 3 OK created batch 2024-01-03 of",
        // The window widened to a whole year: one batch.
        "Batch 1 of 1 OK created batch 2024 of",
        "microbatch model",
    ] {
        assert!(words.contains(line), "{line}: {}", out.all());
    }
    // dbt's rows: each day's batch read only that day's events.
    assert_eq!(
        daily(&f),
        [
            ["2024-01-01", "30", "2"],
            ["2024-01-02", "5", "1"],
            ["2024-01-03", "7", "1"],
        ]
    );
    // The 2025 event is outside the window.
    assert_eq!(f.query("select count(*) from {schema}.yearly"), [["4"]]);
    assert_eq!(
        f.query("select cast(cast(day as date) as varchar), n from {schema}.daily_from_source order by 1"),
        [["2024-01-01", "2"], ["2024-01-02", "1"], ["2024-01-03", "1"]]
    );
    let from_source =
        f.read("target/run/proj/models/daily_from_source/daily_from_source_2024-01-03.sql");
    assert!(
        from_source.contains("where occurred_at >= '2024-01-03 00:00:00+00:00'"),
        "{from_source}"
    );
    let results: serde_json::Value =
        serde_json::from_str(&f.read("target/run_results.json")).expect("run_results");
    let daily_result = results["results"]
        .as_array()
        .expect("results")
        .iter()
        .find(|r| r["unique_id"] == "model.proj.daily")
        .expect("daily");
    assert_eq!(daily_result["status"], "success");
    assert_eq!(
        daily_result["batch_results"]["successful"][1],
        serde_json::json!(["2024-01-02T00:00:00+00:00", "2024-01-03T00:00:00+00:00"])
    );
    // Each batch's SQL is written as dbt names it.
    let batch = f.read("target/run/proj/models/daily/daily_2024-01-02.sql");
    assert!(
        batch.contains("occurred_at >= '2024-01-02 00:00:00+00:00' and occurred_at < '2024-01-03 00:00:00+00:00'"),
        "{batch}"
    );
    // Run again over the same window: the batches replace their rows.
    let again = f.kiln(&[&["run", "-s", "daily"], &WINDOW[..]].concat());
    assert_eq!(again.code, 0, "{}", again.all());
    assert_eq!(daily(&f).len(), 3);
}

fn a_failed_batch_is_a_partial_success_and_retry_builds_it_alone(db: Db) {
    let f = project(db);
    assert_eq!(f.kiln(&["seed"]).code, 0);
    let out = f.kiln(&[&["run", "--vars", "{bad: x}"], &WINDOW[..]].concat());
    assert_eq!(out.code, 1, "{}", out.all());
    let words = out.words();
    assert!(
        words.contains("Batch 2 of 3 ERROR creating batch 2024-01-02 of"),
        "{}",
        out.all()
    );
    assert!(
        words.contains("Batch 3 of 3 OK created batch 2024-01-03 of"),
        "{}",
        out.all()
    );
    assert_eq!(f.statuses()["model.proj.daily"], "partial success");
    assert_eq!(
        daily(&f),
        [["2024-01-01", "30", "2"], ["2024-01-03", "7", "1"]]
    );
    // Without the bad var the failed batch builds; only it runs again.
    let retry = f.kiln(&["retry"]);
    assert_eq!(retry.code, 0, "{}", retry.all());
    let words = retry.words();
    assert!(
        words.contains("Batch 1 of 1 OK created batch 2024-01-02 of"),
        "{}",
        retry.all()
    );
    assert!(!words.contains("2024-01-01 of"), "{}", retry.all());
    assert_eq!(
        daily(&f),
        [
            ["2024-01-01", "30", "2"],
            ["2024-01-02", "5", "1"],
            ["2024-01-03", "7", "1"],
        ]
    );
}

#[test]
fn a_microbatch_model_without_begin_is_an_error_that_says_so() {
    let f = project(Db::DuckDb);
    f.write(
        "models/yearly.sql",
        "{{ config(materialized='incremental', incremental_strategy='microbatch', event_time='occurred_at', batch_size='year') }}\nselect 1 as id\n",
    );
    let out = f.kiln(&["run", "-s", "yearly"]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(
        out.words().contains("requires a 'begin' config"),
        "{}",
        out.all()
    );
    assert!(out.all().contains("models/yearly.sql"), "{}", out.all());
}

//! Microbatch (dbt 1.9): an incremental model built one time window at a
//! time. This module decides the windows: from `begin` on a first run or a
//! full refresh, else from `lookback` batches before now; or the window
//! `--event-time-start`/`--event-time-end` give, widened to whole batches.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, TimeZone, Timelike, Utc};

use crate::config::NodeConfig;

/// `batch_size`: how long each window is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BatchSize {
    Hour,
    Day,
    Month,
    Year,
}

impl BatchSize {
    pub fn parse(text: &str) -> Option<BatchSize> {
        match text {
            "hour" => Some(BatchSize::Hour),
            "day" => Some(BatchSize::Day),
            "month" => Some(BatchSize::Month),
            "year" => Some(BatchSize::Year),
            _ => None,
        }
    }

    /// The start of the batch `at` falls in.
    pub fn truncate(self, at: DateTime<Utc>) -> DateTime<Utc> {
        let date = at.date_naive();
        let start = match self {
            BatchSize::Hour => date.and_hms_opt(at.hour(), 0, 0),
            BatchSize::Day => date.and_hms_opt(0, 0, 0),
            BatchSize::Month => date.with_day(1).and_then(|d| d.and_hms_opt(0, 0, 0)),
            BatchSize::Year => {
                NaiveDate::from_ymd_opt(date.year(), 1, 1).and_then(|d| d.and_hms_opt(0, 0, 0))
            }
        };
        start.map(|s| Utc.from_utc_datetime(&s)).unwrap_or(at)
    }

    /// The start of the batch after the one starting at `start`.
    pub fn next(self, start: DateTime<Utc>) -> DateTime<Utc> {
        match self {
            BatchSize::Hour => start + Duration::hours(1),
            BatchSize::Day => start + Duration::days(1),
            BatchSize::Month => start
                .checked_add_months(chrono::Months::new(1))
                .unwrap_or(start),
            BatchSize::Year => start
                .checked_add_months(chrono::Months::new(12))
                .unwrap_or(start),
        }
    }

    /// `n` batches before the one starting at `start`.
    fn back(self, start: DateTime<Utc>, n: u32) -> DateTime<Utc> {
        match self {
            BatchSize::Hour => start - Duration::hours(i64::from(n)),
            BatchSize::Day => start - Duration::days(i64::from(n)),
            BatchSize::Month => start
                .checked_sub_months(chrono::Months::new(n))
                .unwrap_or(start),
            BatchSize::Year => start
                .checked_sub_months(chrono::Months::new(12 * n))
                .unwrap_or(start),
        }
    }
}

/// One window: from `start` (included) to `end` (excluded).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Batch {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub size: BatchSize,
}

impl Batch {
    /// As dbt names a batch in its output: `2024-01-01`, `2024-01`, `2024`,
    /// `2024-01-01 03:00`.
    pub fn label(&self) -> String {
        let format = match self.size {
            BatchSize::Hour => "%Y-%m-%d %H:00",
            BatchSize::Day => "%Y-%m-%d",
            BatchSize::Month => "%Y-%m",
            BatchSize::Year => "%Y",
        };
        self.start.format(format).to_string()
    }

    /// The batch's part of its files' names (`daily_2024-01-02.sql`).
    pub fn file_suffix(&self) -> String {
        self.label().replace([' ', ':'], "-")
    }

    /// A time as dbt writes a batch's bounds in SQL:
    /// `2024-01-02 00:00:00+00:00`.
    pub fn sql_time(at: DateTime<Utc>) -> String {
        at.format("%Y-%m-%d %H:%M:%S+00:00").to_string()
    }

    /// A time as run_results.json records it: `2024-01-02T00:00:00+00:00`.
    pub fn json_time(at: DateTime<Utc>) -> String {
        at.format("%Y-%m-%dT%H:%M:%S+00:00").to_string()
    }
}

/// A time as a config or the command line gives it: a date, or a date and
/// time (with `T` or a space, optionally with seconds and `Z`/`+00:00`).
pub fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        return Some(at.with_timezone(&Utc));
    }
    let plain = text.trim_end_matches('Z').trim_end_matches("+00:00");
    for format in [
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M",
    ] {
        if let Ok(at) = NaiveDateTime::parse_from_str(plain, format) {
            return Some(Utc.from_utc_datetime(&at));
        }
    }
    NaiveDate::parse_from_str(plain, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|d| Utc.from_utc_datetime(&d))
}

/// A microbatch model's settings, read from its config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub event_time: String,
    pub size: BatchSize,
    pub begin: DateTime<Utc>,
    pub lookback: u32,
}

/// Whether `config` is a microbatch model's.
pub fn is_microbatch(config: &NodeConfig) -> bool {
    config.materialized() == "incremental"
        && config.get_str("incremental_strategy") == Some("microbatch")
}

/// The settings of a microbatch model, or what is missing, in dbt's words.
pub fn settings(config: &NodeConfig) -> Result<Settings, String> {
    let event_time = config
        .get_str("event_time")
        .ok_or("Microbatch incremental strategy requires an 'event_time' config, the column that orders the model's rows in time")?
        .to_string();
    let size_text = config.get_str("batch_size").ok_or(
        "Microbatch incremental strategy requires a 'batch_size' config: one of 'hour', 'day', 'month', 'year'",
    )?;
    let size = BatchSize::parse(size_text).ok_or_else(|| {
        format!("batch_size '{size_text}' is not one of 'hour', 'day', 'month', 'year'")
    })?;
    let begin_text = config
        .get_str("begin")
        .ok_or("Microbatch incremental strategy requires a 'begin' config: the first time to build, such as '2024-01-01'")?;
    let begin = parse_time(begin_text).ok_or_else(|| {
        format!("begin '{begin_text}' is not a date or a timestamp such as '2024-01-01'")
    })?;
    let lookback = match config.get("lookback") {
        None | Some(serde_json::Value::Null) => 1,
        Some(value) => value
            .as_u64()
            .and_then(|n| u32::try_from(n).ok())
            .ok_or_else(|| format!("lookback must be a whole number of batches, got {value}"))?,
    };
    Ok(Settings {
        event_time,
        size,
        begin,
        lookback,
    })
}

/// The window to build: the command line's `--event-time-start` and
/// `--event-time-end` when given, else from `begin` (a first run, a full
/// refresh) or `lookback` batches before now's, to now.
pub fn window(
    settings: &Settings,
    incremental: bool,
    start: Option<DateTime<Utc>>,
    end: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Vec<Batch> {
    let size = settings.size;
    let start = match start {
        Some(start) => size.truncate(start),
        None if incremental => size.back(size.truncate(now), settings.lookback),
        None => size.truncate(settings.begin),
    };
    let end = end.unwrap_or(now);
    let mut batches = Vec::new();
    let mut at = start;
    while at < end {
        let next = size.next(at);
        if next <= at {
            break;
        }
        batches.push(Batch {
            start: at,
            end: next,
            size,
        });
        at = next;
    }
    batches
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        parse_time(text).unwrap()
    }

    fn settings(size: BatchSize) -> Settings {
        Settings {
            event_time: "occurred_at".into(),
            size,
            begin: at("2024-01-01"),
            lookback: 1,
        }
    }

    #[test]
    fn a_window_is_widened_to_whole_batches_as_dbt_does() {
        // dbt 1.10: --event-time-start 2024-01-01 --event-time-end 2024-01-04
        // gives three day batches, and one year batch, 2024.
        let day = window(
            &settings(BatchSize::Day),
            false,
            Some(at("2024-01-01")),
            Some(at("2024-01-04")),
            at("2026-12-08 01:00"),
        );
        let labels: Vec<String> = day.iter().map(Batch::label).collect();
        assert_eq!(labels, ["2024-01-01", "2024-01-02", "2024-01-03"]);
        assert_eq!(Batch::json_time(day[2].end), "2024-01-04T00:00:00+00:00");
        let year = window(
            &settings(BatchSize::Year),
            false,
            Some(at("2024-01-01")),
            Some(at("2024-01-04")),
            at("2026-12-08 01:00"),
        );
        assert_eq!(year.len(), 1);
        assert_eq!(Batch::sql_time(year[0].end), "2025-01-01 00:00:00+00:00");
    }

    #[test]
    fn a_first_run_starts_at_begin_and_a_later_one_looks_back() {
        let now = at("2026-03-15 10:30");
        let first = window(&settings(BatchSize::Year), false, None, None, now);
        assert_eq!(
            first.iter().map(Batch::label).collect::<Vec<_>>(),
            ["2024", "2025", "2026"]
        );
        let later = window(&settings(BatchSize::Day), true, None, None, now);
        assert_eq!(
            later.iter().map(Batch::label).collect::<Vec<_>>(),
            ["2026-03-14", "2026-03-15"]
        );
        let months = window(&settings(BatchSize::Month), true, None, None, now);
        assert_eq!(months[0].label(), "2026-02");
    }
}

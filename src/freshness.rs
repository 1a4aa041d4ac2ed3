//! Source freshness: how long ago each source table was last loaded
//! (`max(loaded_at_field)` against the database's clock), judged against its
//! `warn_after` and `error_after` criteria, as `dbt source freshness` does.
//!
//! The query is the `collect_freshness` macro's (`templates/macros/relations.sql`,
//! dispatched as dbt dispatches it); a project macro of that name, or a
//! `<adapter>__collect_freshness`, replaces it. It returns
//! `load_result(...)` or a table whose first row is `max_loaded_at`,
//! `snapshotted_at`.

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use chrono::NaiveDateTime;
use minijinja::Value;
use serde_json::Value as Json;

use crate::adapter::{Adapter, SharedConnection};
use crate::config::NodeConfig;
use crate::diagnostic::{Code, Diagnostic};
use crate::error::{Error, Result};
use crate::jinja::context::{Phase, RenderScope, Resolver};
use crate::parse::Parsed;
use crate::project::node::{Node, NodeKind, SourceTable};
use crate::sql::Relation;

/// Why a source table's freshness could not be judged.
#[derive(Debug, Clone, PartialEq)]
pub enum FreshnessError {
    /// Its `freshness:` block is not one kiln can read.
    Criteria(String),
    /// The database refused the query `collect_freshness` ran.
    Database(String),
    /// `collect_freshness` failed to render (a project's own, most likely).
    Template(String),
    /// The query found no `loaded_at_field` value: the table is empty, or
    /// the filter leaves no row.
    NothingToJudge {
        relation: String,
        loaded_at_field: String,
    },
}

impl FreshnessError {
    pub fn code(&self) -> Code {
        match self {
            FreshnessError::Criteria(_) => Code::Config,
            FreshnessError::Template(_) => Code::JinjaRender,
            FreshnessError::Database(_) | FreshnessError::NothingToJudge { .. } => Code::Database,
        }
    }

    /// The diagnostic for the table `name` (`source.table`) declared at `table`.
    pub fn diagnostic(&self, name: &str, table: &SourceTable) -> Diagnostic {
        Diagnostic::error(self.code(), format!("freshness of {name}: {self}"))
            .at(table.location.clone())
    }
}

impl fmt::Display for FreshnessError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FreshnessError::Criteria(message)
            | FreshnessError::Database(message)
            | FreshnessError::Template(message) => f.write_str(message),
            FreshnessError::NothingToJudge {
                relation,
                loaded_at_field,
            } => write!(
                f,
                "{relation} has no {loaded_at_field} to judge (is it empty?)"
            ),
        }
    }
}

impl std::error::Error for FreshnessError {}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FreshnessStatus {
    Pass,
    Warn,
    Error,
    /// The query failed, or the criteria could not be read.
    RuntimeError,
}

impl FreshnessStatus {
    /// As sources.json writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            FreshnessStatus::Pass => "pass",
            FreshnessStatus::Warn => "warn",
            FreshnessStatus::Error => "error",
            FreshnessStatus::RuntimeError => "runtime error",
        }
    }
}

/// `count` `period`s, e.g. 12 hours.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Threshold {
    pub count: u64,
    pub period: Period,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    Minute,
    Hour,
    Day,
}

impl Threshold {
    fn seconds(self) -> f64 {
        let unit = match self.period {
            Period::Minute => 60.0,
            Period::Hour => 3600.0,
            Period::Day => 86400.0,
        };
        self.count as f64 * unit
    }

    fn to_json(self) -> Json {
        let period = match self.period {
            Period::Minute => "minute",
            Period::Hour => "hour",
            Period::Day => "day",
        };
        serde_json::json!({"count": self.count, "period": period})
    }
}

/// A source table's criteria.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Criteria {
    pub warn_after: Option<Threshold>,
    pub error_after: Option<Threshold>,
    pub filter: Option<String>,
}

impl Criteria {
    /// Reads a `freshness:` block; an error says what is wrong with it.
    pub fn read(value: &Json) -> std::result::Result<Criteria, FreshnessError> {
        let threshold = |key: &str| -> std::result::Result<Option<Threshold>, FreshnessError> {
            let Some(block) = value.get(key).filter(|v| !v.is_null()) else {
                return Ok(None);
            };
            let count = block
                .get("count")
                .and_then(|c| c.as_u64().or_else(|| c.as_str()?.parse().ok()))
                .ok_or_else(|| {
                    FreshnessError::Criteria(format!("`{key}` needs a whole `count`"))
                })?;
            let period = match block.get("period").and_then(Json::as_str) {
                Some("minute") => Period::Minute,
                Some("hour") => Period::Hour,
                Some("day") => Period::Day,
                other => {
                    return Err(FreshnessError::Criteria(format!(
                        "`{key}.period` must be minute, hour or day, not {}",
                        other.map(|p| format!("'{p}'")).unwrap_or("missing".into())
                    )));
                }
            };
            Ok(Some(Threshold { count, period }))
        };
        Ok(Criteria {
            warn_after: threshold("warn_after")?,
            error_after: threshold("error_after")?,
            filter: value
                .get("filter")
                .and_then(Json::as_str)
                .map(str::to_string),
        })
    }

    /// The verdict on a table last loaded `age` seconds ago.
    pub fn judge(&self, age: f64) -> FreshnessStatus {
        if self.error_after.is_some_and(|t| age > t.seconds()) {
            FreshnessStatus::Error
        } else if self.warn_after.is_some_and(|t| age > t.seconds()) {
            FreshnessStatus::Warn
        } else {
            FreshnessStatus::Pass
        }
    }

    fn to_json(&self) -> Json {
        serde_json::json!({
            "warn_after": self.warn_after.map(Threshold::to_json).unwrap_or(serde_json::json!({"count": null, "period": null})),
            "error_after": self.error_after.map(Threshold::to_json).unwrap_or(serde_json::json!({"count": null, "period": null})),
            "filter": self.filter,
        })
    }
}

/// One source table's check.
#[derive(Debug, Clone)]
pub struct FreshnessResult {
    pub unique_id: String,
    /// `source_name.table_name`.
    pub name: String,
    pub status: FreshnessStatus,
    pub max_loaded_at: Option<String>,
    pub snapshotted_at: Option<String>,
    pub age_seconds: Option<f64>,
    pub criteria: Criteria,
    pub seconds: f64,
    pub diagnostic: Option<Diagnostic>,
}

impl FreshnessResult {
    pub fn to_json(&self) -> Json {
        serde_json::json!({
            "unique_id": self.unique_id,
            "max_loaded_at": self.max_loaded_at,
            "snapshotted_at": self.snapshotted_at,
            "max_loaded_at_time_ago_in_s": self.age_seconds,
            "status": self.status.as_str(),
            "criteria": self.criteria.to_json(),
            "adapter_response": {},
            "timing": [],
            "thread_id": "Thread-1",
            "execution_time": self.seconds,
        })
    }
}

/// The source tables with freshness criteria and a `loaded_at_field`,
/// among those `selected` (every one when empty: `source:raw` or
/// `source:raw.orders` style names pick some).
pub fn tables_to_check<'a>(parsed: &'a Parsed, selected: &[String]) -> Vec<&'a SourceTable> {
    parsed
        .project
        .sources
        .values()
        .filter(|s| s.freshness.is_some() && s.loaded_at_field.is_some())
        .filter(|s| {
            selected.is_empty()
                || selected.iter().any(|wanted| {
                    let wanted = wanted.strip_prefix("source:").unwrap_or(wanted);
                    wanted == s.source_name || wanted == format!("{}.{}", s.source_name, s.name)
                })
        })
        .collect()
}

/// Checks each table on one connection, telling `report` of each result.
pub fn check(
    parsed: &Parsed,
    resolver: &Arc<Resolver>,
    adapter: &dyn Adapter,
    tables: &[&SourceTable],
    report: &mut dyn FnMut(&FreshnessResult, usize, usize),
) -> Result<Vec<FreshnessResult>> {
    let connection: SharedConnection = Arc::new(Mutex::new(adapter.connect()?));
    let mut results = Vec::with_capacity(tables.len());
    for (index, table) in tables.iter().enumerate() {
        let started = Instant::now();
        let mut result = check_one(parsed, resolver, &connection, table);
        result.seconds = started.elapsed().as_secs_f64();
        report(&result, index + 1, tables.len());
        results.push(result);
    }
    Ok(results)
}

fn check_one(
    parsed: &Parsed,
    resolver: &Arc<Resolver>,
    connection: &SharedConnection,
    table: &SourceTable,
) -> FreshnessResult {
    let mut result = FreshnessResult {
        unique_id: table.unique_id.clone(),
        name: format!("{}.{}", table.source_name, table.name),
        status: FreshnessStatus::RuntimeError,
        max_loaded_at: None,
        snapshotted_at: None,
        age_seconds: None,
        criteria: Criteria::default(),
        seconds: 0.0,
        diagnostic: None,
    };
    match judge(parsed, resolver, connection, table, &mut result) {
        Ok(status) => result.status = status,
        Err(error) => result.diagnostic = Some(error.diagnostic(&result.name, table)),
    }
    result
}

/// Reads the table's criteria and last load into `result`; the verdict.
fn judge(
    parsed: &Parsed,
    resolver: &Arc<Resolver>,
    connection: &SharedConnection,
    table: &SourceTable,
    result: &mut FreshnessResult,
) -> std::result::Result<FreshnessStatus, FreshnessError> {
    let criteria = match &table.freshness {
        Some(block) => Criteria::read(block)?,
        None => Criteria::default(),
    };
    result.criteria = criteria.clone();
    let relation = Relation::new(
        parsed.target.adapter,
        &table.database,
        &table.schema,
        &table.identifier,
    )
    .with_quoting(table.quoting);
    let loaded_at = table.loaded_at_field.as_deref().unwrap_or_default();
    let found = collect_freshness(
        parsed, resolver, connection, table, &relation, loaded_at, &criteria,
    )?;
    let (max_loaded_at, snapshotted_at) = first_row(&found);
    result.max_loaded_at = max_loaded_at;
    result.snapshotted_at = snapshotted_at;
    let (Some(max), Some(now)) = (
        result.max_loaded_at.as_deref().and_then(parse_timestamp),
        result.snapshotted_at.as_deref().and_then(parse_timestamp),
    ) else {
        return Err(FreshnessError::NothingToJudge {
            relation: relation.to_string(),
            loaded_at_field: loaded_at.to_string(),
        });
    };
    let age = (now - max).num_milliseconds() as f64 / 1000.0;
    result.age_seconds = Some(age);
    Ok(criteria.judge(age))
}

/// Calls `collect_freshness(source, loaded_at_field, filter)` in a context
/// of the source table's own; what it returned.
fn collect_freshness(
    parsed: &Parsed,
    resolver: &Arc<Resolver>,
    connection: &SharedConnection,
    table: &SourceTable,
    relation: &Relation,
    loaded_at_field: &str,
    criteria: &Criteria,
) -> std::result::Result<Value, FreshnessError> {
    let node = source_node(parsed, table);
    let scope = Arc::new(
        RenderScope::new(Phase::Execute, &node.unique_id, NodeConfig::default())
            .with_resolver(resolver.clone())
            .with_connection(connection.clone()),
    );
    let ctx = parsed.context(&node, scope.clone(), relation.clone(), None, Vec::new());
    let args = [
        Value::from_object(relation.clone()),
        Value::from(loaded_at_field),
        Value::from(criteria.filter.clone()),
    ];
    parsed
        .env
        .call_macro("collect_freshness", &ctx, &args)
        .map_err(|error| match scope.failed() {
            Some(failed) => FreshnessError::Database(failed.error.message.trim().to_string()),
            None => {
                let error = crate::jinja::render::jinja_error(&error, &parsed.project.root, None);
                let diagnostics: Vec<Diagnostic> = (&error).into();
                FreshnessError::Template(
                    diagnostics
                        .into_iter()
                        .next()
                        .map(|d| d.message)
                        .unwrap_or_else(|| error.to_string()),
                )
            }
        })
}

/// The node a source table's freshness query renders as.
fn source_node(parsed: &Parsed, table: &SourceTable) -> Node {
    Node {
        unique_id: table.unique_id.clone(),
        kind: NodeKind::Model,
        name: table.name.clone(),
        package: parsed.project.config.name.clone(),
        original_file_path: table.original_file_path.clone(),
        path: table.original_file_path.clone(),
        fqn: vec![
            table.package.clone(),
            table.source_name.clone(),
            table.name.clone(),
        ],
        raw_code: String::new(),
        config: NodeConfig::default(),
        description: table.description.clone(),
        columns: Vec::new(),
        constraints: Vec::new(),
        patch_path: None,
        test: None,
        unit: None,
        version: None,
        resource: None,
    }
}

/// The first two cells of the first row of what `collect_freshness`
/// returned (`load_result(...)`, or its table), as text.
fn first_row(found: &Value) -> (Option<String>, Option<String>) {
    let present = |v: Value| (!v.is_none() && !v.is_undefined()).then_some(v);
    let table = found
        .get_attr("table")
        .ok()
        .and_then(present)
        .unwrap_or_else(|| found.clone());
    let row = table.get_item(&Value::from(0)).ok().and_then(present);
    let cell = |i: i64| {
        row.as_ref()
            .and_then(|r| r.get_item(&Value::from(i)).ok())
            .and_then(present)
            .map(|v| v.to_string())
    };
    (cell(0), cell(1))
}

fn parse_timestamp(text: &str) -> Option<NaiveDateTime> {
    [
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S",
    ]
    .iter()
    .find_map(|f| NaiveDateTime::parse_from_str(text.trim(), f).ok())
    .or_else(|| {
        chrono::NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
            .ok()
            .and_then(|d| d.and_hms_opt(0, 0, 0))
    })
}

/// An error for a project without any source to check.
pub fn nothing_to_check() -> Error {
    Error::config(
        crate::error::Location::default(),
        "no source table has both `freshness` and `loaded_at_field`: nothing to check",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn criteria_judge_error_before_warn() {
        let criteria = Criteria::read(&serde_json::json!({
            "warn_after": {"count": 1, "period": "hour"},
            "error_after": {"count": 2, "period": "day"},
        }))
        .unwrap();
        assert_eq!(criteria.judge(60.0), FreshnessStatus::Pass);
        assert_eq!(criteria.judge(7200.0), FreshnessStatus::Warn);
        assert_eq!(criteria.judge(3.0 * 86400.0), FreshnessStatus::Error);
        assert!(
            Criteria::read(&serde_json::json!({"warn_after": {"count": 1, "period": "week"}}))
                .unwrap_err()
                .to_string()
                .contains("minute, hour or day")
        );
    }

    #[test]
    fn timestamps_as_either_database_prints_them() {
        assert!(parse_timestamp("2024-01-01 10:00:00").is_some());
        assert!(parse_timestamp("2024-01-01 10:00:00.123456").is_some());
        assert!(parse_timestamp("2024-01-01").is_some());
    }
}

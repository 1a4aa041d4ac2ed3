//! The node context builder: [`NodeContext`] puts `ref`, `source`, `config`,
//! `adapter`, `statement`, ... and the node's values in one context; and
//! `flags.WHICH`.

use std::collections::BTreeMap;
use std::sync::Arc;

use minijinja::value::Value;

use crate::config::Target;
use crate::sql::Relation;

use super::adapter::AdapterObject;
use super::config::{ConfigFunction, VarFunction};
use super::resolve::{RefFunction, SourceFunction};
use super::statement::{LoadResultFunction, RunQueryFunction, StatementFunction};
use super::{Phase, RenderScope, Vars};

static WHICH: std::sync::OnceLock<&'static str> = std::sync::OnceLock::new();

/// Records the command being run (`build`, `compile`, ...) for `flags.WHICH`.
pub fn set_which(command: &'static str) {
    let _ = WHICH.set(command);
}

/// The command being run, as `flags.WHICH` gives it (`run` when unset).
pub fn which() -> &'static str {
    WHICH.get().copied().unwrap_or("run")
}

/// Everything needed to build a node's context.
pub struct NodeContext<'a> {
    pub scope: Arc<RenderScope>,
    pub target: Arc<Target>,
    /// `target` as templates see it (made once per run: see [`crate::jinja_base::target_value`]).
    pub target_value: Value,
    pub vars: Arc<Vars>,
    pub package: &'a str,
    /// The root project's name.
    pub root_project: &'a str,
    pub this: Relation,
    /// The node as `model` (name, unique_id, config, ...).
    pub model: Value,
    /// The compiled SQL, for materializations.
    pub sql: Option<String>,
    pub invocation_id: &'a str,
    pub run_started_at: &'a str,
    /// dbt's `graph`: the project's nodes and sources.
    pub graph: Value,
    /// Anything else a materialization needs (`pre_hooks`, `seed_columns`, ...).
    pub extra: Vec<(&'static str, Value)>,
}

impl NodeContext<'_> {
    pub fn into_value(self) -> Value {
        let scope = self.scope;
        let target = &self.target;
        let mut map: BTreeMap<String, Value> = BTreeMap::new();
        map.insert(
            "ref".into(),
            Value::from_object(RefFunction {
                scope: scope.clone(),
                target: target.clone(),
                package: self.package.to_string(),
            }),
        );
        map.insert(
            "source".into(),
            Value::from_object(SourceFunction {
                scope: scope.clone(),
                target: target.clone(),
                package: self.package.to_string(),
            }),
        );
        map.insert(
            "config".into(),
            Value::from_object(ConfigFunction {
                scope: scope.clone(),
            }),
        );
        map.insert(
            "var".into(),
            Value::from_object(VarFunction {
                vars: self.vars.clone(),
                package: self.package.to_string(),
            }),
        );
        map.insert(
            "adapter".into(),
            Value::from_object(AdapterObject {
                scope: scope.clone(),
                target: target.clone(),
            }),
        );
        map.insert(
            "statement".into(),
            Value::from_object(StatementFunction {
                scope: scope.clone(),
            }),
        );
        map.insert(
            "load_result".into(),
            Value::from_object(LoadResultFunction {
                scope: scope.clone(),
            }),
        );
        map.insert(
            "run_query".into(),
            Value::from_object(RunQueryFunction {
                scope: scope.clone(),
            }),
        );
        map.insert("this".into(), Value::from_object(self.this));
        map.insert("target".into(), self.target_value);
        map.insert("model".into(), self.model);
        map.insert("execute".into(), Value::from(scope.phase != Phase::Parse));
        let incremental = scope.flags.is_incremental;
        map.insert(
            "is_incremental".into(),
            Value::from_function(move || incremental),
        );
        map.insert(
            "flags".into(),
            minijinja::context! {
                FULL_REFRESH => scope.flags.full_refresh,
                WHICH => which(),
                STORE_FAILURES => false,
            },
        );
        map.insert("graph".into(), self.graph);
        map.insert("invocation_id".into(), Value::from(self.invocation_id));
        // An aware datetime in UTC, as dbt's (`run_started_at.strftime(...)`).
        map.insert(
            "run_started_at".into(),
            super::super::python_compat::datetime_value(self.run_started_at),
        );
        // dbt's `project_name` is the root project's, whichever package the
        // node is in.
        map.insert("project_name".into(), Value::from(self.root_project));
        map.insert(
            crate::jinja::macros::NODE_PACKAGE_KEY.into(),
            Value::from(self.package),
        );
        if let Some(sql) = self.sql {
            map.insert("sql".into(), Value::from(sql.clone()));
            map.insert("compiled_code".into(), Value::from(sql));
        }
        for (key, value) in self.extra {
            map.insert(key.to_string(), value);
        }
        Value::from_object(map)
    }
}

//! `config()` (recorded while parsing, read with `config.get`/`require`)
//! and `var()`, with the [`Vars`] it looks names up in.

use std::collections::BTreeMap;
use std::sync::Arc;

use minijinja::value::{Object, Value};
use minijinja::{Error, ErrorKind, State};
use serde_json::Value as Json;

use super::{Phase, RenderScope, invalid, lock, split_kwargs};

/// `config(...)`, `config.get(key, default)`, `config.require(key)`.
pub(super) struct ConfigFunction {
    pub(super) scope: Arc<RenderScope>,
}

impl std::fmt::Debug for ConfigFunction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("config")
    }
}

impl Object for ConfigFunction {
    fn call(self: &Arc<Self>, _state: &mut State<'_, '_>, args: &[Value]) -> Result<Value, Error> {
        let (args, kwargs) = split_kwargs(args);
        let mut values: BTreeMap<String, Json> = BTreeMap::new();
        if let Some(first) = args.first() {
            let json = serde_json::to_value(first).map_err(|e| invalid(e.to_string()))?;
            match json {
                Json::Object(map) => values.extend(map),
                _ => return Err(invalid("config() takes keyword arguments or one mapping")),
            }
        }
        if let Some(kwargs) = kwargs {
            for key in kwargs.args() {
                let value: Value = kwargs.get(key)?;
                let json = serde_json::to_value(&value).map_err(|e| invalid(e.to_string()))?;
                values.insert(key.to_string(), json);
            }
        }
        if self.scope.phase == Phase::Parse {
            let mut config = lock(&self.scope.config);
            config.merge_all(&values);
            lock(&self.scope.captured).configs.push(values);
        }
        Ok(Value::from(""))
    }

    fn call_method(
        self: &Arc<Self>,
        _state: &mut State<'_, '_>,
        method: &str,
        args: &[Value],
    ) -> Result<Value, Error> {
        let (args, _) = split_kwargs(args);
        let key = args
            .first()
            .and_then(Value::as_str)
            .ok_or_else(|| invalid(format!("config.{method}() takes a key name")))?;
        let key = crate::config::node_config::normalize_key(key);
        let found = lock(&self.scope.config).get(&key).cloned();
        match (method, found) {
            ("get", Some(v)) | ("require", Some(v)) => Ok(crate::jinja::json_value(&v)),
            ("get", None) => Ok(args.get(1).cloned().unwrap_or(Value::from(()))),
            ("require", None) => Err(invalid(format!(
                "config '{key}' is required by this model but not set"
            ))),
            _ => Err(Error::new(
                ErrorKind::UnknownMethod,
                format!("config has no method '{method}'"),
            )),
        }
    }
}

/// `var(name, default)`.
#[derive(Debug)]
pub(super) struct VarFunction {
    pub(super) vars: Arc<Vars>,
    pub(super) package: String,
}

/// Vars from `--vars` and dbt_project.yml.
#[derive(Debug, Clone, Default)]
pub struct Vars {
    pub cli: BTreeMap<String, Json>,
    pub project: BTreeMap<String, Json>,
    /// Each installed package's own `vars:`, by package name.
    pub packages: BTreeMap<String, BTreeMap<String, Json>>,
}

impl Vars {
    /// `--vars` first, then the root project's block for the package, then
    /// the root project's global ones, then the package's own (as dbt).
    pub fn lookup(&self, package: &str, name: &str) -> Option<&Json> {
        if let Some(v) = self.cli.get(name) {
            return Some(v);
        }
        if let Some(Json::Object(scoped)) = self.project.get(package)
            && let Some(v) = scoped.get(name)
        {
            return Some(v);
        }
        if let Some(v) = self.project.get(name) {
            return Some(v);
        }
        let own = self.packages.get(package)?;
        if let Some(Json::Object(scoped)) = own.get(package)
            && let Some(v) = scoped.get(name)
        {
            return Some(v);
        }
        own.get(name)
    }
}

impl Object for VarFunction {
    fn call(self: &Arc<Self>, _state: &mut State<'_, '_>, args: &[Value]) -> Result<Value, Error> {
        let (args, _) = split_kwargs(args);
        let name = args
            .first()
            .and_then(Value::as_str)
            .ok_or_else(|| invalid("var() takes the variable's name as a string"))?;
        match self.vars.lookup(&self.package, name) {
            Some(v) => Ok(crate::jinja::json_value(v)),
            None => match args.get(1) {
                Some(default) => Ok(default.clone()),
                None => Err(Error::new(
                    ErrorKind::UndefinedError,
                    format!(
                        "Required var '{name}' not found in config: set it under `vars:` in dbt_project.yml or pass --vars"
                    ),
                )),
            },
        }
    }
}

//! A unit test's overrides over a node's context (dbt's `overrides:`): each
//! macro it names returns the value given, `var()` sees its vars first and
//! `env_var()` its env vars.

use std::collections::BTreeMap;
use std::sync::Arc;

use minijinja::value::{Object, Rest, Value};
use minijinja::{Environment, Error};

use super::Vars;
use super::config::VarFunction;
use crate::project::unit_tests::Overrides;

/// A package's macros with some of them overridden
/// (`audit_helper._get_comparison_bounds`): the rest are the package's own.
#[derive(Debug)]
struct OverriddenNamespace {
    inner: Value,
    names: BTreeMap<String, Value>,
}

impl Object for OverriddenNamespace {
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let name = key.as_str()?;
        self.names
            .get(name)
            .cloned()
            .or_else(|| self.inner.get_attr(name).ok().filter(|v| !v.is_undefined()))
    }
}

/// `ctx` with `overrides` over it; `vars` are the run's, `package` the
/// rendering node's, `env` the environment whose globals hold the packages'
/// macro namespaces.
pub fn with_overrides(
    ctx: &Value,
    env: &Environment<'_>,
    vars: &Vars,
    package: &str,
    overrides: &Overrides,
) -> Value {
    let mut map: BTreeMap<String, Value> = BTreeMap::new();
    if let Ok(keys) = ctx.try_iter() {
        for key in keys {
            if let Some(name) = key.as_str()
                && let Ok(value) = ctx.get_attr(name)
            {
                map.insert(name.to_string(), value);
            }
        }
    }
    if !overrides.vars.is_empty() {
        let mut vars = vars.clone();
        vars.cli.extend(overrides.vars.clone());
        map.insert(
            "var".into(),
            Value::from_object(VarFunction {
                vars: Arc::new(vars),
                package: package.to_string(),
            }),
        );
    }
    if !overrides.env_vars.is_empty() {
        let env = overrides.env_vars.clone();
        map.insert(
            "env_var".into(),
            Value::from_function(
                move |name: String, default: Option<Value>| -> Result<Value, Error> {
                    match env.get(&name) {
                        Some(value) => Ok(Value::from(value.clone())),
                        None => crate::jinja_base::functions::env_var(&name, default),
                    }
                },
            ),
        );
    }
    let mut qualified: BTreeMap<&str, BTreeMap<String, Value>> = BTreeMap::new();
    for (name, value) in &overrides.macros {
        let value = crate::jinja::json_value(value);
        let function = Value::from_function(move |_args: Rest<Value>| value.clone());
        match name.split_once('.') {
            // `pkg.macro` (`dbt.current_timestamp`): in the package's namespace.
            Some((namespace, macro_name)) => {
                qualified
                    .entry(namespace)
                    .or_default()
                    .insert(macro_name.to_string(), function);
            }
            None => {
                map.insert(name.clone(), function);
            }
        }
    }
    for (namespace, names) in qualified {
        let inner = map.get(namespace).cloned().or_else(|| {
            env.globals()
                .find(|(name, _)| *name == namespace)
                .map(|(_, value)| value)
        });
        map.insert(
            namespace.to_string(),
            Value::from_object(OverriddenNamespace {
                inner: inner.unwrap_or(Value::UNDEFINED),
                names,
            }),
        );
    }
    Value::from_object(map)
}

//! A unit test's overrides over a node's context (dbt's `overrides:`): each
//! macro it names returns the value given, `var()` sees its vars first and
//! `env_var()` its env vars.

use std::collections::BTreeMap;
use std::sync::Arc;

use minijinja::Error;
use minijinja::value::{Rest, Value};

use super::Vars;
use super::config::VarFunction;
use crate::project::unit_tests::Overrides;

/// `ctx` with `overrides` over it; `vars` are the run's, `package` the
/// rendering node's.
pub fn with_overrides(ctx: &Value, vars: &Vars, package: &str, overrides: &Overrides) -> Value {
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
    for (name, value) in &overrides.macros {
        let value = crate::jinja::json_value(value);
        map.insert(
            name.clone(),
            Value::from_function(move |_args: Rest<Value>| value.clone()),
        );
    }
    Value::from_object(map)
}

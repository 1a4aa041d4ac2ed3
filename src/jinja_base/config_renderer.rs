//! Renders the Jinja inside config files (profiles.yml, dbt_project.yml,
//! properties files): `env_var()`, `var()` and the `as_*` filters.

use std::collections::BTreeMap;
use std::sync::Arc;

use minijinja::{Environment, Error as JinjaError, ErrorKind, Value};
use serde_yaml::Value as Yaml;

use super::functions;
use crate::error::{Error, Location};

/// Jinja in a config file that does not render, in minijinja's words
/// (`Required var 'x' not found in config`). The caller knows where the
/// string sits: `at` makes it the config error (K1004) the user reads.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RenderError {
    /// The string does not parse as Jinja, or its render failed.
    #[error("{0}")]
    Jinja(String),
    /// A native render whose value has no JSON form.
    #[error("{0}")]
    NotJson(String),
    /// The same error, in a named part of a config (`config `severity``).
    #[error("{context}: {source}")]
    Within {
        context: String,
        source: Box<RenderError>,
    },
}

impl RenderError {
    /// This error inside `context`, which its message then starts with.
    pub fn within(self, context: impl Into<String>) -> RenderError {
        RenderError::Within {
            context: context.into(),
            source: Box::new(self),
        }
    }

    /// The error a user reads: a config error (K1004) at `location`.
    pub fn at(self, location: Location) -> Error {
        Error::config(location, self.to_string())
    }
}

pub struct ConfigRenderer {
    env: Environment<'static>,
}

impl ConfigRenderer {
    /// A renderer whose `var()` sees `vars` (the `--vars` given on the command line
    /// and, once it is read, the project's own).
    pub fn new(vars: BTreeMap<String, serde_json::Value>) -> Self {
        let mut env = Environment::new();
        env.set_debug(false);
        functions::register_common(&mut env);
        // Until profiles.yml is read there is no target: `target.type` is
        // undefined then, not an error (see `with_target`).
        env.add_global(
            "target",
            Value::from_object(BTreeMap::<String, Value>::new()),
        );
        add_var(&mut env, vars);
        ConfigRenderer { env }
    }

    /// The same renderer for profiles.yml and packages.yml, the two files
    /// where dbt lets `env_var()` read a `DBT_ENV_SECRET_` variable.
    pub fn allowing_secrets(&self) -> ConfigRenderer {
        let mut env = self.env.clone();
        env.add_function("env_var", functions::env_var_allowing_secrets);
        ConfigRenderer { env }
    }

    /// Renders one string. A result rendered through `as_number`, `as_bool` or
    /// `as_native` becomes a YAML scalar of that type; anything else stays text.
    pub fn render(&self, source: &str) -> Result<Yaml, RenderError> {
        let rendered = self.env.render_str(source, ()).map_err(|e| describe(&e))?;
        let native = ["as_number", "as_bool", "as_native"]
            .iter()
            .any(|f| source.contains(f));
        if native
            && let Ok(value) = serde_yaml::from_str::<Yaml>(&rendered)
            && (!value.is_mapping() && !value.is_sequence() || source.contains("as_native"))
        {
            return Ok(value);
        }
        Ok(Yaml::String(rendered))
    }
}

impl ConfigRenderer {
    /// The same renderer with `target` (see `jinja_base::target_value`),
    /// as dbt renders dbt_project.yml and the configs of properties files.
    pub fn with_target(&self, target: Value) -> ConfigRenderer {
        let mut env = self.env.clone();
        env.add_global("target", target);
        ConfigRenderer { env }
    }

    /// This renderer with dbt's `doc('name')` (or `doc('package', 'name')`),
    /// which gives a docs block's text: the package's own block first,
    /// then any package's. A block none has is dbt's error.
    pub fn with_docs(
        &self,
        docs: Arc<crate::project::docs_blocks::DocIndex>,
        package: &str,
    ) -> ConfigRenderer {
        let mut env = self.env.clone();
        let package = package.to_string();
        env.add_function(
            "doc",
            move |first: String, second: Option<String>| -> Result<String, JinjaError> {
                let (wanted_package, name) = match &second {
                    Some(name) => (Some(first.as_str()), name.as_str()),
                    None => (None, first.as_str()),
                };
                let found = match wanted_package {
                    Some(p) => docs.get(&(p.to_string(), name.to_string())),
                    None => docs.get(&(package.clone(), name.to_string())).or_else(|| {
                        docs.iter()
                            .find(|((_, n), _)| n == name)
                            .map(|(_, text)| text)
                    }),
                };
                found.cloned().ok_or_else(|| {
                    JinjaError::new(
                        ErrorKind::InvalidOperation,
                        format!("depends on doc '{name}'  which was not found"),
                    )
                })
            },
        );
        ConfigRenderer { env }
    }

    /// This renderer with `var()` seeing `vars` instead.
    pub fn with_vars(&self, vars: BTreeMap<String, serde_json::Value>) -> ConfigRenderer {
        let mut env = self.env.clone();
        add_var(&mut env, vars);
        ConfigRenderer { env }
    }

    /// Renders one string to a value, as dbt renders a config with
    /// `native=True`: a string that is one `{{ expression }}` becomes what the
    /// expression evaluates to (`{{ target.type == 'x' }}` is a boolean);
    /// other text with Jinja becomes the rendered text.
    pub fn render_native(&self, source: &str) -> Result<serde_json::Value, RenderError> {
        let trimmed = source.trim();
        if let Some(inner) = trimmed
            .strip_prefix("{{")
            .and_then(|rest| rest.strip_suffix("}}"))
            && !inner.contains("{{")
            && !inner.contains("}}")
            && !inner.contains("{%")
        {
            let expression = self
                .env
                .compile_expression(inner.trim())
                .map_err(|e| describe(&e))?;
            let value = expression.eval(()).map_err(|e| describe(&e))?;
            if value.is_undefined() || value.is_none() {
                return Ok(serde_json::Value::Null);
            }
            return serde_json::to_value(&value).map_err(|e| RenderError::NotJson(e.to_string()));
        }
        let rendered = self.env.render_str(source, ()).map_err(|e| describe(&e))?;
        Ok(serde_json::Value::String(rendered))
    }
}

/// `var(name, default)` reading `vars`.
fn add_var(env: &mut Environment<'static>, vars: BTreeMap<String, serde_json::Value>) {
    let vars = Arc::new(vars);
    env.add_function(
        "var",
        move |name: &str, default: Option<Value>| -> Result<Value, JinjaError> {
            match vars.get(name) {
                Some(v) => Ok(super::json_value(v)),
                None => default.ok_or_else(|| {
                    JinjaError::new(
                        ErrorKind::UndefinedError,
                        format!("Required var '{name}' not found in config"),
                    )
                }),
            }
        },
    );
}

fn describe(err: &JinjaError) -> RenderError {
    RenderError::Jinja(match err.detail() {
        Some(detail) => detail.to_string(),
        None => err.kind().to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_var_default_and_number() {
        let r = ConfigRenderer::new(BTreeMap::new());
        assert_eq!(
            r.render("{{ env_var('KILN_SURELY_UNSET', 'x.duckdb') }}")
                .unwrap(),
            Yaml::String("x.duckdb".into())
        );
        assert_eq!(
            r.render("{{ env_var('KILN_SURELY_UNSET', '5432') | as_number }}")
                .unwrap(),
            Yaml::Number(5432.into())
        );
    }

    #[test]
    fn native_rendering_keeps_the_expressions_type() {
        let target = Value::from_object(BTreeMap::from([(
            "type".to_string(),
            Value::from("duckdb"),
        )]));
        let r = ConfigRenderer::new(BTreeMap::new()).with_target(target);
        assert_eq!(
            r.render_native("{{ target.type == 'duckdb' }}").unwrap(),
            serde_json::json!(true)
        );
        assert_eq!(
            r.render_native("{{ 'warn' if target.type == 'x' else 'error' }}")
                .unwrap(),
            serde_json::json!("error")
        );
        assert_eq!(
            r.render_native("x > {{ 1 + 1 }}").unwrap(),
            serde_json::json!("x > 2")
        );
        // Before profiles.yml is read, `target.type` is undefined, not an error.
        let base = ConfigRenderer::new(BTreeMap::new());
        assert_eq!(
            base.render("{{ 'table' if target.type in ['duckdb'] else 'view' }}")
                .unwrap(),
            Yaml::String("view".into())
        );
    }

    #[test]
    fn missing_env_var_is_an_error_naming_it() {
        let r = ConfigRenderer::new(BTreeMap::new());
        let err = r.render("{{ env_var('KILN_SURELY_UNSET') }}").unwrap_err();
        assert!(matches!(err, RenderError::Jinja(_)), "{err:?}");
        assert!(err.to_string().contains("KILN_SURELY_UNSET"), "{err}");
    }

    #[test]
    fn a_render_error_becomes_a_config_error_where_the_string_is() {
        let r = ConfigRenderer::new(BTreeMap::new());
        let err = r.render_native("{{ var('nope') }}").unwrap_err();
        assert_eq!(
            err,
            RenderError::Jinja("Required var 'nope' not found in config".into())
        );
        let error =
            err.within("config `severity`")
                .at(Location::at("models/schema.yml", 7, Some(9)));
        assert_eq!(error.code(), crate::diagnostic::Code::Config);
        assert_eq!(
            error.to_string(),
            "models/schema.yml:7:9: config `severity`: Required var 'nope' not found in config"
        );
    }
}

//! What a [`Parsed`] project offers once loaded: the Jinja context for a
//! node, where each node is built (the naming macros), and the macro behind
//! a generic test.

use std::collections::BTreeMap;
use std::sync::Arc;

use minijinja::Value;

use super::Parsed;
use crate::diagnostic::did_you_mean;
use crate::error::{Error, Result};
use crate::jinja::context::{NodeContext, Phase, RenderScope};
use crate::jinja::generic_test::macro_params;
use crate::jinja::render::jinja_error;
use crate::project::node::{Node, TestMetadata};
use crate::sql::Relation;

impl Parsed {
    /// A parse-time scope and context for `node`: `this` is the target
    /// schema and the node's name, as its final relation is not known yet.
    pub(super) fn parse_context(&self, node: &Node) -> (Arc<RenderScope>, Value) {
        let scope = Arc::new(RenderScope::new(
            Phase::Parse,
            &node.unique_id,
            node.config.clone(),
        ));
        let this = Relation::new(
            self.target.adapter,
            &self.target.database,
            &self.target.schema,
            &node.name,
        );
        let ctx = self.context(node, scope.clone(), this, None, Vec::new());
        (scope, ctx)
    }

    /// The Jinja context for `node`.
    pub fn context(
        &self,
        node: &Node,
        scope: Arc<RenderScope>,
        this: Relation,
        sql: Option<String>,
        extra: Vec<(&'static str, Value)>,
    ) -> Value {
        let graph = scope.graph();
        NodeContext {
            scope,
            target: self.target.clone(),
            target_value: self.target_value.clone(),
            vars: self.vars.clone(),
            package: &node.package,
            root_project: &self.project.config.name,
            this,
            model: model_value(node),
            sql,
            invocation_id: &self.invocation.invocation_id,
            run_started_at: &self.invocation.run_started_at,
            graph,
            extra,
        }
        .into_value()
    }

    /// Where `node` is built: `generate_database_name`, `generate_schema_name`
    /// and `generate_alias_name` applied to its `database`, `schema` and
    /// `alias` configs. kiln's own rules run in Rust unless the project
    /// overrides the macro.
    pub(super) fn relation_for(&self, node: &Node) -> Result<Relation> {
        let config = &node.config;
        let target = &self.target;
        // An exposure or a metric is no relation: the target's schema names it.
        if node.kind.is_declared_resource() {
            return Ok(self.as_quoted(
                target.database.clone(),
                target.schema.clone(),
                node.name.clone(),
            ));
        }
        // A snapshot's legacy `target_schema`/`target_database` are used as written.
        if let Some(schema) = config.get_str("target_schema") {
            let database = config
                .get_str("target_database")
                .unwrap_or(&target.database)
                .to_string();
            let alias = config.get_str("alias").unwrap_or(&node.name).to_string();
            return Ok(self.as_quoted(database, schema.to_string(), alias));
        }
        let database =
            match self.naming_macro(node, "generate_database_name", config.get_str("database"))? {
                Some(name) => name,
                None => config
                    .get_str("database")
                    .map(str::trim)
                    .unwrap_or(&target.database)
                    .to_string(),
            };
        let schema =
            match self.naming_macro(node, "generate_schema_name", config.get_str("schema"))? {
                Some(name) => name,
                None => match config.get_str("schema") {
                    Some(custom) => format!("{}_{}", target.schema, custom.trim()),
                    None => target.schema.clone(),
                },
            };
        let alias = match self.naming_macro(node, "generate_alias_name", config.get_str("alias"))? {
            Some(name) => name,
            None => match config
                .get_str("alias")
                .map(str::trim)
                .filter(|a| !a.is_empty())
            {
                Some(alias) => alias.to_string(),
                // A version is built as `<name>_v<v>`, as dbt names it.
                None => match &node.version {
                    Some(v) => format!("{}_v{}", node.name, v.v.replace('.', "_")),
                    None => node.name.clone(),
                },
            },
        };
        Ok(self.as_quoted(database, schema, alias))
    }

    /// A node's relation with the root project's `quoting:` (dbt's quote
    /// policy, for a package's nodes too). PostgreSQL folds an unquoted
    /// name to lower case: the relation names what the catalog will hold,
    /// so that finding it again (incremental runs, `adapter.get_relation`,
    /// the relation cache) matches.
    fn as_quoted(&self, database: String, schema: String, alias: String) -> Relation {
        let quoting = self.project.config.quoting;
        let fold = |part: String, quoted: bool| {
            if quoted {
                part
            } else {
                self.target.adapter.fold_unquoted(&part)
            }
        };
        Relation::new(
            self.target.adapter,
            fold(database, quoting[0]),
            fold(schema, quoting[1]),
            fold(alias, quoting[2]),
        )
        .with_quoting(quoting)
    }

    /// The macro that implements a generic test (`test_<name>`), after
    /// checking that it exists and takes the arguments the test gives it.
    pub(super) fn generic_test_macro(&self, node: &Node, test: &TestMetadata) -> Result<String> {
        let project = &self.project.config.name;
        let macro_name = test.macro_name(project);
        if let Some(namespace) = &test.namespace
            && namespace != project
            && !self.env.macros.packages.contains_key(namespace)
        {
            return Err(Error::config(
                test.location.clone(),
                format!(
                    "test '{namespace}.{}' comes from package '{namespace}', which is not installed",
                    test.name
                ),
            )
            .with_help("add it to packages.yml and run `kiln deps`"));
        }
        if self.env.macros.find(&macro_name, &node.package).is_none() {
            let known: Vec<&str> = self
                .env
                .macros
                .names()
                .into_iter()
                .filter_map(|m| m.strip_prefix("test_"))
                .collect();
            return Err(Error::UnknownReference {
                location: test.location.clone(),
                message: format!(
                    "there is no generic test named '{}' (no `{{% test {} %}}` block or `test_{}` macro)",
                    test.name, test.name, test.name
                ),
                help: did_you_mean(&test.name, known).or_else(|| {
                    Some("define it in macros/ or tests/generic/ with `{% test name(model, column_name) %}`".into())
                }),
            });
        }
        if let Some(signature) = macro_params(&self.env, &macro_name, &node.package) {
            // A parameter the test does not give is undefined in the macro, as
            // in dbt: the test compiles, and fails only if its SQL needs it.
            let given: Vec<&str> = test.kwargs.keys().map(String::as_str).collect();
            if !signature.takes_kwargs {
                let names: Vec<&str> = signature.params.iter().map(|(p, _)| p.as_str()).collect();
                for arg in &given {
                    if !names.contains(arg) {
                        let error = Error::config(
                            test.location.clone(),
                            format!(
                                "test {} has no argument '{arg}'; it takes {}",
                                node.name,
                                names.join(", ")
                            ),
                        );
                        return Err(match did_you_mean(arg, names.iter().copied()) {
                            Some(help) => error.with_help(help),
                            None => error,
                        });
                    }
                }
            }
        }
        Ok(macro_name)
    }

    /// Calls a naming macro when the project overrides it.
    fn naming_macro(
        &self,
        node: &Node,
        name: &str,
        custom: Option<&str>,
    ) -> Result<Option<String>> {
        if !self.env.macros.is_overridden(name) {
            return Ok(None);
        }
        let (_, ctx) = self.parse_context(node);
        let custom = custom.map(Value::from).unwrap_or(Value::from(()));
        let value = self
            .env
            .call_macro(name, &ctx, &[custom, model_value(node)])
            .map_err(|e| jinja_error(&e, &self.project.root, Some((&node.unique_id, ""))))?;
        Ok(Some(value.to_string().trim().to_string()))
    }
}

/// `model` (and the `node` argument of naming macros) as templates see it.
pub fn model_value(node: &Node) -> Value {
    let config: BTreeMap<&String, &serde_json::Value> = node.config.0.iter().collect();
    // In the order the properties file lists them, as a contracted table's
    // DDL writes them.
    let columns: serde_json::Map<String, serde_json::Value> = node
        .columns
        .iter()
        .map(|c| {
            (
                c.name.clone(),
                serde_json::json!({
                    "name": c.name,
                    "description": c.description,
                    "data_type": c.data_type,
                    "quote": c.quote,
                    "constraints": c.constraints.iter().map(|k| crate::contract::constraint_json(k, false)).collect::<Vec<_>>(),
                }),
            )
        })
        .collect();
    let constraints: Vec<serde_json::Value> = node
        .constraints
        .iter()
        .map(|k| crate::contract::constraint_json(k, true))
        .collect();
    crate::jinja::json_value(&serde_json::json!({
        "unique_id": node.unique_id,
        "name": node.name,
        "resource_type": node.kind.resource_type(),
        "package_name": node.package,
        "path": node.path.to_string_lossy(),
        "original_file_path": node.original_file_path.to_string_lossy(),
        "fqn": node.fqn,
        "description": node.description,
        "tags": node.config.tags(),
        "config": config,
        "columns": columns,
        "constraints": constraints,
        "contract": crate::contract::contract_json(&node.config),
        "raw_code": node.raw_code,
    }))
}

//! The `adapter` object: its methods, on the node's connection when there
//! is one, and the [`introspection`] watcher for relations not built yet.

use std::sync::Arc;

use minijinja::value::{Object, Value};
use minijinja::{Error, ErrorKind, State};

use crate::adapter::{LoadColumn, LoadTable};
use crate::config::Target;
use crate::sql::Relation;

use super::super::relation::relation_of;
use super::statement::result_value;
use super::{Phase, RenderScope, invalid, lock, split_kwargs};

/// Whether a render read the database, and whether it asked about a
/// relation that does not exist yet. The SQL such a render gives (a column
/// list from `get_columns_in_relation`, values from `run_query`) may not be
/// what the model runs once its parents are built: the SQL check before a
/// build leaves a model that missed a relation unchecked, and the run
/// renders again a model whose check render read the database.
pub mod introspection {
    use std::cell::Cell;

    /// What a watched render did.
    #[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
    pub struct Seen {
        /// It ran a query or read the catalog.
        pub read_database: bool,
        /// It read the columns of a relation that does not exist.
        pub missing_relation: bool,
    }

    thread_local! {
        static SEEN: Cell<Seen> = const { Cell::new(Seen { read_database: false, missing_relation: false }) };
    }

    pub(crate) fn saw_missing_relation() {
        SEEN.with(|s| {
            s.set(Seen {
                read_database: true,
                missing_relation: true,
            })
        });
    }

    pub(crate) fn saw_database() {
        SEEN.with(|s| {
            let mut seen = s.get();
            seen.read_database = true;
            s.set(seen);
        });
    }

    /// Runs `f` (a render, on this thread) and says what it read. A watch
    /// inside another one leaves what it saw to the outer one too.
    pub fn watch<T>(f: impl FnOnce() -> T) -> (T, Seen) {
        let before = SEEN.with(|s| s.replace(Seen::default()));
        let result = f();
        let seen = SEEN.with(|s| s.get());
        SEEN.with(|s| {
            s.set(Seen {
                read_database: before.read_database || seen.read_database,
                missing_relation: before.missing_relation || seen.missing_relation,
            })
        });
        (result, seen)
    }
}

/// `adapter.*`.
pub(super) struct AdapterObject {
    pub(super) scope: Arc<RenderScope>,
    pub(super) target: Arc<Target>,
}

impl std::fmt::Debug for AdapterObject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("adapter")
    }
}

impl Object for AdapterObject {
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        match key.as_str()? {
            "type" => Some(Value::from(self.target.adapter.name())),
            _ => None,
        }
    }

    fn call_method(
        self: &Arc<Self>,
        state: &mut State<'_, '_>,
        method: &str,
        args: &[Value],
    ) -> Result<Value, Error> {
        let (args, kwargs) = split_kwargs(args);
        let arg = |i: usize, name: &str| -> Result<Option<Value>, Error> {
            if let Some(v) = args.get(i) {
                return Ok(Some(v.clone()));
            }
            match &kwargs {
                Some(k) => k.get::<Option<Value>>(name),
                None => Ok(None),
            }
        };
        match method {
            "quote" => {
                let identifier = arg(0, "identifier")?.unwrap_or(Value::from(""));
                Ok(Value::from(
                    self.target.adapter.quote(&identifier.to_string()),
                ))
            }
            "type" => Ok(Value::from(self.target.adapter.name())),
            // A seed's column in its DDL: quoted unless `quote_columns` is
            // false (dbt's default is to quote).
            "quote_seed_column" => {
                let column = arg(0, "column")?.unwrap_or(Value::from("")).to_string();
                let quoted = quote_columns(arg(1, "quote_config")?.as_ref())?;
                Ok(Value::from(if quoted {
                    self.target.adapter.quote(&column)
                } else {
                    column
                }))
            }
            "dispatch" => {
                let name = arg(0, "macro_name")?
                    .and_then(|v| v.as_str().map(str::to_string))
                    .ok_or_else(|| invalid("adapter.dispatch() takes the macro's name"))?;
                let namespace = arg(1, "macro_namespace")?
                    .filter(|v| !v.is_none() && !v.is_undefined())
                    .map(|v| v.to_string());
                if let Some(kwargs) = &kwargs {
                    // dbt < 1.0 called it `packages`; a list of packages to search.
                    let _: Option<Value> = kwargs.get("packages")?;
                }
                let registry = crate::jinja::environment::registry_of(state)
                    .ok_or_else(|| invalid("adapter.dispatch() is not available here"))?;
                let node_package = crate::jinja::macros::node_package(&registry.root);
                let own = crate::jinja::macros::calling_macro_package();
                let def = registry
                    .dispatch(&name, namespace.as_deref(), &node_package, own.as_deref())
                    .map_err(|message| Error::new(ErrorKind::UnknownFunction, message))?
                    .clone();
                Ok(Value::from_object(crate::jinja::macros::MacroFunction {
                    name: def.name.clone(),
                    def: Some(def),
                    registry,
                }))
            }
            "get_relation" => {
                let part = |i, name| -> Result<String, Error> {
                    Ok(arg(i, name)?.map(|v| v.to_string()).unwrap_or_default())
                };
                let database = part(0, "database")?;
                let schema = part(1, "schema")?;
                let identifier = part(2, "identifier")?;
                self.get_relation(&database, &schema, &identifier)
            }
            "get_missing_columns" => {
                let from = arg(0, "from_relation")?.as_ref().and_then(relation_of);
                let to = arg(1, "to_relation")?.as_ref().and_then(relation_of);
                let (Some(from), Some(to)) = (from, to) else {
                    return Err(invalid("adapter.get_missing_columns() takes two relations"));
                };
                let to_names: Vec<String> = self
                    .get_columns_in_relation(&to)?
                    .try_iter()?
                    .filter_map(|c| c.get_attr("name").ok().map(|n| n.to_string()))
                    .collect();
                Ok(Value::from(
                    self.get_columns_in_relation(&from)?
                        .try_iter()?
                        .filter(|c| {
                            c.get_attr("name")
                                .map(|n| !to_names.contains(&n.to_string()))
                                .unwrap_or(false)
                        })
                        .collect::<Vec<_>>(),
                ))
            }
            "get_columns_in_relation" => {
                let relation = arg(0, "relation")?
                    .as_ref()
                    .and_then(relation_of)
                    .ok_or_else(|| invalid("adapter.get_columns_in_relation() takes a relation"))?;
                self.get_columns_in_relation(&relation)
            }
            // The columns a query would return, typed as a contract
            // compares them (dbt's `get_column_schema_from_query`).
            "get_column_schema_from_query" => {
                let sql = arg(0, "sql")?.map(|v| v.to_string()).unwrap_or_default();
                self.get_column_schema_from_query(&sql)
            }
            "render_raw_columns_constraints" => {
                let columns = arg(0, "raw_columns")?.unwrap_or_default();
                let columns: Vec<serde_json::Value> = match serde_json::to_value(&columns) {
                    Ok(serde_json::Value::Object(map)) => map.into_iter().map(|(_, v)| v).collect(),
                    Ok(serde_json::Value::Array(items)) => items,
                    _ => Vec::new(),
                };
                let mut warnings = Vec::new();
                let targets = resolve_targets(
                    state,
                    columns.iter().flat_map(|c| {
                        c.get("constraints")
                            .and_then(serde_json::Value::as_array)
                            .cloned()
                            .unwrap_or_default()
                    }),
                );
                let to = |target: &str| lookup_target(&targets, target);
                let rendered = columns
                    .iter()
                    .map(|c| {
                        crate::contract::column_ddl(self.target.adapter, c, &to, &mut warnings)
                    })
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(invalid)?;
                warn_all(&warnings);
                Ok(Value::from(rendered))
            }
            "render_raw_model_constraints" => {
                let constraints = arg(0, "raw_constraints")?.unwrap_or_default();
                let constraints: Vec<serde_json::Value> = match serde_json::to_value(&constraints) {
                    Ok(serde_json::Value::Array(items)) => items,
                    _ => Vec::new(),
                };
                let mut warnings = Vec::new();
                let targets = resolve_targets(state, constraints.iter().cloned());
                let to = |target: &str| lookup_target(&targets, target);
                let mut rendered = Vec::new();
                for c in &constraints {
                    if let Some(ddl) = crate::contract::model_constraint_ddl(
                        self.target.adapter,
                        c,
                        &to,
                        &mut warnings,
                    )
                    .map_err(invalid)?
                    {
                        rendered.push(ddl);
                    }
                }
                warn_all(&warnings);
                Ok(Value::from(rendered))
            }
            // dbt-duckdb's external materialization: the profile's root
            // folder, the model's file, and putting its written rows in place.
            "external_root" => Ok(Value::from(self.target.external_root())),
            "external_file" | "replace_external" => {
                let relation = arg(0, "relation")?
                    .as_ref()
                    .and_then(relation_of)
                    .ok_or_else(|| {
                        invalid(format!("adapter.{method}() takes the model's relation"))
                    })?;
                self.external_file(&relation, method == "replace_external")
            }
            "load_csv_rows" => {
                let relation = arg(0, "relation")?
                    .as_ref()
                    .and_then(relation_of)
                    .ok_or_else(|| invalid("adapter.load_csv_rows() takes a relation"))?;
                self.load_csv_rows(&relation)
            }
            // dbt's adapter methods that run DDL do it through the macro of
            // the same name (a project may replace it), as dbt does.
            "drop_relation" | "truncate_relation" | "drop_schema" => {
                let relation = arg(0, "relation")?
                    .filter(|v| relation_of(v).is_some())
                    .ok_or_else(|| invalid(format!("adapter.{method}() takes a relation")))?;
                call_named_macro(state, method, &[relation])?;
                Ok(Value::from(()))
            }
            "rename_relation" => {
                let from = arg(0, "from_relation")?.filter(|v| relation_of(v).is_some());
                let to = arg(1, "to_relation")?.filter(|v| relation_of(v).is_some());
                let (Some(from), Some(to)) = (from, to) else {
                    return Err(invalid("adapter.rename_relation() takes two relations"));
                };
                call_named_macro(state, method, &[from, to])?;
                Ok(Value::from(()))
            }
            "create_schema" => {
                let relation = arg(0, "relation")?
                    .as_ref()
                    .and_then(relation_of)
                    .ok_or_else(|| invalid("adapter.create_schema() takes a relation"))?;
                self.create_schema(&relation)
            }
            "already_exists" => {
                let schema = arg(0, "schema")?.map(|v| v.to_string()).unwrap_or_default();
                let name = arg(1, "name")?.map(|v| v.to_string()).unwrap_or_default();
                let database = self.target.database.clone();
                Ok(Value::from(
                    !self.get_relation(&database, &schema, &name)?.is_none(),
                ))
            }
            "check_schema_exists" => {
                let database =
                    arg(0, "database")?.unwrap_or(Value::from(self.target.database.clone()));
                let schema = arg(1, "schema")?.unwrap_or_default();
                call_named_macro(state, method, &[database, schema])
            }
            "execute" => {
                let sql = arg(0, "sql")?.map(|v| v.to_string()).unwrap_or_default();
                let fetch = arg(2, "fetch")?.is_some_and(|v| v.is_true());
                let _ = arg(1, "auto_begin")?;
                if self.scope.phase == Phase::Parse {
                    return Ok(Value::from(vec![Value::from("OK"), Value::from(())]));
                }
                let result = self.scope.run_sql(sql.trim(), fetch)?;
                let table = result_value(result).get_attr("table")?;
                Ok(Value::from(vec![Value::from("OK"), table]))
            }
            _ => Err(Error::new(
                ErrorKind::UnknownMethod,
                format!("adapter has no method '{method}'"),
            )),
        }
    }
}

impl AdapterObject {
    fn get_relation(&self, database: &str, schema: &str, identifier: &str) -> Result<Value, Error> {
        let Some(connection) = &self.scope.connection else {
            return Ok(Value::from(()));
        };
        introspection::saw_database();
        let found = lock(connection)
            .find_relation(database, schema, identifier)
            .map_err(|e| invalid(format!("reading the catalog of {schema}: {e}")))?;
        Ok(found
            .map(|r| {
                Value::from_object(
                    Relation::new(self.target.adapter, r.database, r.schema, r.name)
                        .with_type(r.kind),
                )
            })
            .unwrap_or(Value::from(())))
    }

    /// The relation's columns as dbt's Column objects show them: `name`,
    /// `data_type` (and `dtype`), `quoted`. Empty without a connection.
    fn get_columns_in_relation(&self, relation: &Relation) -> Result<Value, Error> {
        let Some(connection) = &self.scope.connection else {
            return Ok(Value::from(Vec::<Value>::new()));
        };
        introspection::saw_database();
        let database = relation.database.clone().unwrap_or_default();
        let schema = relation.schema.clone().unwrap_or_default();
        let columns = lock(connection)
            .list_columns(&database, &schema, relation.identifier())
            .map_err(|e| invalid(format!("reading the columns of {}: {e}", relation.render())))?;
        if columns.is_empty() {
            // No relation has no columns: this one is not built yet.
            introspection::saw_missing_relation();
        }
        Ok(Value::from(
            columns
                .into_iter()
                .map(|c| {
                    crate::jinja::api::Column::value(&c.name, &c.data_type, self.target.adapter)
                })
                .collect::<Vec<_>>(),
        ))
    }

    /// `adapter.get_column_schema_from_query(sql)`: the columns `sql` gives,
    /// as Column objects whose `data_type` is the contract's type.
    fn get_column_schema_from_query(&self, sql: &str) -> Result<Value, Error> {
        let Some(connection) = &self.scope.connection else {
            return Ok(Value::from(Vec::<Value>::new()));
        };
        introspection::saw_database();
        let columns = lock(connection)
            .describe_query(sql)
            .map_err(|e| invalid(e.to_string()))?;
        Ok(Value::from(
            columns
                .into_iter()
                .map(|c| {
                    crate::jinja::api::Column::value(&c.name, &c.data_type, self.target.adapter)
                })
                .collect::<Vec<_>>(),
        ))
    }

    /// `adapter.create_schema(relation)`: the relation's schema, made if
    /// it is missing; nothing without a connection.
    fn create_schema(&self, relation: &Relation) -> Result<Value, Error> {
        let Some(connection) = &self.scope.connection else {
            return Ok(Value::from(()));
        };
        let database = relation
            .database
            .clone()
            .unwrap_or_else(|| self.target.database.clone());
        let schema = relation.schema.clone().unwrap_or_default();
        introspection::saw_database();
        lock(&self.scope.executed).push(format!("-- create schema {schema}"));
        lock(connection)
            .create_schema(&database, &schema)
            .map_err(|e| self.scope.database_error(e))?;
        Ok(Value::from(()))
    }

    /// The external file of the model rendered, as the materialization
    /// needs it; while it runs, its folder is made and a leftover temporary
    /// file cleared (`replace`: the written rows put in place of the old).
    fn external_file(&self, relation: &Relation, replace: bool) -> Result<Value, Error> {
        use crate::materialize::external;
        let config = lock(&self.scope.config).clone();
        let file = external::plan(&config, relation.identifier(), &self.target.external_root())
            .map_err(invalid)?;
        if self.scope.connection.is_some() {
            if !replace {
                let warnings: Vec<String> = external::ignored_keys(&config)
                    .into_iter()
                    .map(|w| format!("{}: {w}", self.scope.unique_id))
                    .collect();
                warn_all(&warnings);
            }
            let done = if replace {
                lock(&self.scope.executed).push(format!(
                    "-- {} moved to {}",
                    file.temp_location, file.location
                ));
                external::replace(&file)
                    .map(|replaced| lock(&self.scope.replaced_files).push(replaced))
            } else {
                external::prepare(&file)
            };
            done.map_err(|e| {
                invalid(format!(
                    "cannot {} the external file {}: {e}",
                    if replace { "write" } else { "prepare" },
                    file.location
                ))
            })?;
        }
        Ok(minijinja::context! {
            location => file.location,
            temp_location => file.temp_location,
            format => file.format,
            copy_options => file.copy_options,
            read => file.read,
            partitioned => file.partitioned,
        })
    }

    fn load_csv_rows(&self, relation: &Relation) -> Result<Value, Error> {
        let (Some(connection), Some(seed)) = (&self.scope.connection, &self.scope.seed) else {
            return Ok(Value::from(""));
        };
        introspection::saw_database();
        lock(&self.scope.executed).push(format!(
            "-- {} rows loaded into {}",
            seed.row_count,
            relation.render()
        ));
        // Unquoted in the DDL, the columns are named as the database
        // folded them; the load names them so.
        let quote_config = lock(&self.scope.config)
            .get("quote_columns")
            .map(crate::jinja::json_value);
        let folded: Vec<LoadColumn>;
        let columns = if quote_columns(quote_config.as_ref())? {
            &seed.columns
        } else {
            folded = seed
                .columns
                .iter()
                .map(|c| LoadColumn {
                    name: self.target.adapter.fold_unquoted(&c.name),
                    data_type: c.data_type.clone(),
                })
                .collect();
            &folded
        };
        let part = |i: usize, value: Option<&str>| {
            let value = value.unwrap_or_default();
            if relation.quote[i] {
                value.to_string()
            } else {
                self.target.adapter.fold_unquoted(value)
            }
        };
        let database = part(
            0,
            Some(
                relation
                    .database
                    .as_deref()
                    .unwrap_or(&self.target.database),
            ),
        );
        let schema = part(
            1,
            Some(relation.schema.as_deref().unwrap_or(&self.target.schema)),
        );
        let identifier = part(2, relation.identifier.as_deref());
        let rendered = relation.render();
        let table = LoadTable {
            sql: &rendered,
            database: &database,
            schema: &schema,
            identifier: &identifier,
        };
        let mut connection = lock(connection);
        match &seed.file {
            Some(file) => connection.load_csv_file(table, columns, file),
            None => connection.load_rows(table, columns, &seed.rows),
        }
        .map_err(|e| self.scope.database_error(e))?;
        Ok(Value::from(""))
    }
}

/// Whether a seed's columns are quoted: dbt's `quote_columns`, true unless
/// set to false.
fn quote_columns(config: Option<&Value>) -> Result<bool, Error> {
    match config {
        None => Ok(true),
        Some(v) if v.is_none() || v.is_undefined() => Ok(true),
        Some(v) if v.kind() == minijinja::value::ValueKind::Bool => Ok(v.is_true()),
        Some(v) => Err(invalid(format!(
            "quote_columns must be true or false, not '{v}'"
        ))),
    }
}

/// Calls the macro `name` as a node's SQL would, unqualified (the
/// project's own first, then kiln's built-in).
fn call_named_macro(state: &State<'_, '_>, name: &str, args: &[Value]) -> Result<Value, Error> {
    let registry = crate::jinja::environment::registry_of(state)
        .ok_or_else(|| invalid(format!("adapter.{name}() is not available here")))?;
    let package = crate::jinja::macros::node_package(&registry.root);
    let own = crate::jinja::macros::calling_macro_package();
    let def = registry
        .resolve(name, &package, own.as_deref())
        .ok_or_else(|| invalid(format!("adapter.{name}(): no macro named '{name}'")))?
        .clone();
    crate::jinja::macros::call_macro(state.env(), &def, args)
}

/// A foreign key's `to:` (`ref('orders')`, `source('raw', 'orders')`) as
/// the relation it names, resolved as the node's own `ref` and `source` do.
fn resolve_to(state: &mut State<'_, '_>, target: &str) -> Result<String, String> {
    let (function, args) = crate::contract::parse_ref_or_source(target).ok_or_else(|| {
        format!("Invalid 'ref' or 'source' syntax on foreign key constraint 'to': {target}.")
    })?;
    let callable = state
        .lookup(function)
        .ok_or_else(|| format!("{function}() is not available to resolve {target}"))?;
    let args: Vec<Value> = args.into_iter().map(Value::from).collect();
    callable
        .call(state, &args)
        .map(|relation| relation.to_string())
        .map_err(|e| e.to_string())
}

/// Warnings found rendering constraints, as `exceptions.warn` prints them.
fn warn_all(warnings: &[String]) {
    for warning in warnings {
        eprintln!("warning: {warning}");
    }
}

/// Each foreign key's `to:` among `constraints`, resolved (or why not).
fn resolve_targets(
    state: &mut State<'_, '_>,
    constraints: impl Iterator<Item = serde_json::Value>,
) -> Vec<(String, Result<String, String>)> {
    let mut targets: Vec<(String, Result<String, String>)> = Vec::new();
    for constraint in constraints {
        if let Some(target) = constraint.get("to").and_then(serde_json::Value::as_str)
            && !targets.iter().any(|(t, _)| t == target)
        {
            let resolved = resolve_to(state, target);
            targets.push((target.to_string(), resolved));
        }
    }
    targets
}

fn lookup_target(
    targets: &[(String, Result<String, String>)],
    target: &str,
) -> Result<String, String> {
    targets
        .iter()
        .find(|(t, _)| t == target)
        .map(|(_, resolved)| resolved.clone())
        .unwrap_or_else(|| Err(format!("unresolved foreign key target {target}")))
}

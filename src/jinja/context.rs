//! The per-node part of dbt's Jinja context: `ref`, `source`, `config`, `var`,
//! `this`, `target`, `model`, `adapter`, `statement`, `load_result`,
//! `run_query`, `execute`, `is_incremental`.
//!
//! While parsing, `ref`/`source`/`config` calls are recorded, not resolved, and
//! nothing touches a database. While compiling, `ref` and `source` resolve to
//! relations. While executing, `statement` and `run_query` run SQL on the
//! worker's connection.

use std::collections::BTreeMap;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use minijinja::value::{Kwargs, Object, Value};
use minijinja::{Error, ErrorKind, State};
use serde_json::Value as Json;

use crate::adapter::{DbError, LoadColumn, QueryResult, SharedConnection};
use crate::config::{NodeConfig, Target};
use crate::project::lookup::ByPackage;
use crate::secrets;
use crate::sql::{Relation, RelationType};

use super::relation::relation_of;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Discovering refs, sources and configs: no relations, no database.
    Parse,
    /// Rendering SQL with real relation names; `run_query` and `statement`
    /// reach the database when the render has a connection.
    Compile,
    /// Running a materialization on a connection.
    Execute,
}

/// A `ref()` call as written.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct RefCall {
    pub package: Option<String>,
    pub name: String,
}

/// What a parse render records.
#[derive(Debug, Clone, Default)]
pub struct Captured {
    pub refs: Vec<RefCall>,
    pub sources: Vec<(String, String)>,
    pub configs: Vec<BTreeMap<String, Json>>,
}

/// Relations that `ref()` and `source()` resolve to while compiling.
#[derive(Debug, Default)]
pub struct Resolver {
    /// The root project's name, second in the search order of a name.
    pub root: String,
    /// By model or seed name (and package): one lookup, so that a ref finds
    /// one node whether it is built or ephemeral.
    pub refs: ByPackage<RefTarget>,
    /// By `source_name.table_name` (and package).
    pub sources: ByPackage<Relation>,
    /// Each ephemeral model's rendered SQL and the ephemeral models it
    /// reads, by unique id: rendered once for the whole run, however many
    /// models inline it (a chain of them would otherwise render its upstream
    /// again for every link).
    pub ephemeral_sql: std::sync::Mutex<HashMap<String, (String, Vec<String>)>>,
}

/// What a `ref()` resolves to while compiling.
#[derive(Debug, Clone)]
pub enum RefTarget {
    /// A built relation (or, with `--defer`, the state run's).
    Relation(Relation),
    /// An ephemeral model, by unique id: the ref is the CTE
    /// `__dbt__cte__<name>`.
    Ephemeral(String),
}

/// Rows to load into a seed's table (`adapter.load_csv_rows`).
#[derive(Debug, Clone, Default)]
pub struct SeedData {
    pub columns: Vec<LoadColumn>,
    pub rows: Vec<Vec<Option<String>>>,
}

/// The state one node's render shares between its functions.
pub struct RenderScope {
    pub phase: Phase,
    pub unique_id: String,
    captured: Mutex<Captured>,
    config: Mutex<NodeConfig>,
    resolver: Option<Arc<Resolver>>,
    connection: Option<SharedConnection>,
    results: Mutex<BTreeMap<String, Value>>,
    /// The rows of each named statement that fetched its result.
    tables: Mutex<BTreeMap<String, QueryResult>>,
    seed: Option<SeedData>,
    /// What this run is: `--full-refresh`, and whether an incremental model
    /// adds to an existing relation.
    pub flags: RunFlags,
    /// The ephemeral models this render referenced, by unique id, in order.
    ephemerals: Mutex<Vec<String>>,
    /// Every statement run, in order, for `target/run/`.
    executed: Mutex<Vec<String>>,
    /// The database's error, when a statement failed: which one, and why.
    failed: Mutex<Option<FailedStatement>>,
}

/// Facts about the run that templates read through `flags` and
/// `is_incremental()`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunFlags {
    /// `--full-refresh`.
    pub full_refresh: bool,
    /// The model is incremental, its table exists, and no full refresh is due.
    pub is_incremental: bool,
}

/// A statement the database refused.
#[derive(Debug, Clone)]
pub struct FailedStatement {
    /// Its index among the executed statements.
    pub index: usize,
    pub error: DbError,
}

impl RenderScope {
    pub fn new(phase: Phase, unique_id: &str, config: NodeConfig) -> RenderScope {
        RenderScope {
            phase,
            unique_id: unique_id.to_string(),
            captured: Mutex::new(Captured::default()),
            config: Mutex::new(config),
            resolver: None,
            connection: None,
            results: Mutex::new(BTreeMap::new()),
            tables: Mutex::new(BTreeMap::new()),
            seed: None,
            flags: RunFlags::default(),
            ephemerals: Mutex::new(Vec::new()),
            executed: Mutex::new(Vec::new()),
            failed: Mutex::new(None),
        }
    }

    pub fn with_resolver(mut self, resolver: Arc<Resolver>) -> Self {
        self.resolver = Some(resolver);
        self
    }

    pub fn with_connection(mut self, connection: SharedConnection) -> Self {
        self.connection = Some(connection);
        self
    }

    pub fn with_flags(mut self, flags: RunFlags) -> Self {
        self.flags = flags;
        self
    }

    /// The ephemeral models referenced so far, by unique id.
    pub fn ephemerals(&self) -> Vec<String> {
        lock(&self.ephemerals).clone()
    }

    pub fn with_seed(mut self, seed: SeedData) -> Self {
        self.seed = Some(seed);
        self
    }

    pub fn captured(&self) -> Captured {
        lock(&self.captured).clone()
    }

    pub fn config(&self) -> NodeConfig {
        lock(&self.config).clone()
    }

    pub fn executed(&self) -> Vec<String> {
        lock(&self.executed).clone()
    }

    /// The rows the statement named `name` fetched (`fetch_result=True`).
    pub fn query_result(&self, name: &str) -> Option<QueryResult> {
        lock(&self.tables).get(name).cloned()
    }

    /// The statement the database refused, if one was.
    pub fn failed(&self) -> Option<FailedStatement> {
        lock(&self.failed).clone()
    }

    /// Records that the last statement executed failed, and makes the error
    /// the template sees.
    fn database_error(&self, error: DbError) -> Error {
        let index = lock(&self.executed).len().saturating_sub(1);
        let message = secrets::redact(&error.message);
        *lock(&self.failed) = Some(FailedStatement { index, error });
        Error::new(ErrorKind::InvalidOperation, message)
    }

    fn run_sql(&self, sql: &str, fetch: bool) -> Result<Option<QueryResult>, Error> {
        let Some(connection) = &self.connection else {
            return Ok(None);
        };
        lock(&self.executed).push(sql.to_string());
        let mut conn = lock(connection);
        let outcome = if fetch {
            conn.query(sql).map(Some)
        } else {
            conn.execute(sql).map(|_| None)
        };
        drop(conn);
        outcome.map_err(|e| self.database_error(e))
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn invalid(message: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidOperation, message.into())
}

/// `ref('name')`, `ref('package', 'name')`.
struct RefFunction {
    scope: Arc<RenderScope>,
    target: Arc<Target>,
    /// The package of the node rendering, whose own nodes come first.
    package: String,
}

impl std::fmt::Debug for RefFunction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ref")
    }
}

impl Object for RefFunction {
    fn call(self: &Arc<Self>, _state: &mut State<'_, '_>, args: &[Value]) -> Result<Value, Error> {
        let (args, kwargs) = split_kwargs(args);
        if let Some(kwargs) = kwargs {
            // `v=`/`version=` select a model version; kiln has one version a model.
            let _: Option<Value> = kwargs.get("v")?;
            let _: Option<Value> = kwargs.get("version")?;
        }
        let names: Vec<String> = args
            .iter()
            .map(|a| {
                a.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| invalid(format!("ref() takes model names as strings, not {a}")))
            })
            .collect::<Result<_, _>>()?;
        let call = match names.as_slice() {
            [name] => RefCall {
                package: None,
                name: name.clone(),
            },
            [package, name] => RefCall {
                package: Some(package.clone()),
                name: name.clone(),
            },
            _ => {
                return Err(invalid(format!(
                    "ref() takes one or two arguments (name, or package and name), not {}",
                    names.len()
                )));
            }
        };
        match self.scope.phase {
            Phase::Parse => {
                let relation = Relation::new(
                    self.target.adapter,
                    &self.target.database,
                    &self.target.schema,
                    &call.name,
                );
                lock(&self.scope.captured).refs.push(call);
                Ok(Value::from_object(relation))
            }
            Phase::Compile | Phase::Execute => {
                let resolver = self
                    .scope
                    .resolver
                    .as_ref()
                    .ok_or_else(|| invalid("ref() cannot be resolved here"))?;
                let package = call.package.as_deref();
                match resolver
                    .refs
                    .find(&call.name, package, &self.package, &resolver.root)
                {
                    Some(RefTarget::Ephemeral(unique_id)) => {
                        let mut seen = lock(&self.scope.ephemerals);
                        if !seen.contains(unique_id) {
                            seen.push(unique_id.clone());
                        }
                        Ok(Value::from_object(Relation::cte(
                            self.target.adapter,
                            &format!("__dbt__cte__{}", call.name),
                        )))
                    }
                    Some(RefTarget::Relation(relation)) => Ok(Value::from_object(relation.clone())),
                    None => Err(invalid(format!(
                        "ref('{}') is not a model or seed of this project, or was not found while parsing",
                        call.name
                    ))),
                }
            }
        }
    }
}

/// `source('source_name', 'table_name')`.
struct SourceFunction {
    scope: Arc<RenderScope>,
    target: Arc<Target>,
    package: String,
}

impl std::fmt::Debug for SourceFunction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("source")
    }
}

impl Object for SourceFunction {
    fn call(self: &Arc<Self>, _state: &mut State<'_, '_>, args: &[Value]) -> Result<Value, Error> {
        let (args, _) = split_kwargs(args);
        let (Some(source), Some(table), 2) = (
            args.first().and_then(Value::as_str),
            args.get(1).and_then(Value::as_str),
            args.len(),
        ) else {
            return Err(invalid(
                "source() takes two strings: the source name and the table name",
            ));
        };
        match self.scope.phase {
            Phase::Parse => {
                lock(&self.scope.captured)
                    .sources
                    .push((source.to_string(), table.to_string()));
                Ok(Value::from_object(Relation::new(
                    self.target.adapter,
                    &self.target.database,
                    source,
                    table,
                )))
            }
            Phase::Compile | Phase::Execute => {
                let resolver = self
                    .scope
                    .resolver
                    .as_ref()
                    .ok_or_else(|| invalid("source() cannot be resolved here"))?;
                match resolver.sources.find(
                    &format!("{source}.{table}"),
                    None,
                    &self.package,
                    &resolver.root,
                ) {
                    Some(relation) => Ok(Value::from_object(relation.clone())),
                    None => Err(invalid(format!(
                        "source('{source}', '{table}') is not declared in a properties file"
                    ))),
                }
            }
        }
    }
}

/// `config(...)`, `config.get(key, default)`, `config.require(key)`.
struct ConfigFunction {
    scope: Arc<RenderScope>,
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
struct VarFunction {
    vars: Arc<Vars>,
    package: String,
}

/// Vars from `--vars` and dbt_project.yml.
#[derive(Debug, Default)]
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

/// Whether a render asked the database about a relation that does not
/// exist yet. The SQL such a render gives (a column list from
/// `get_columns_in_relation`) is not what the model will run once its
/// parents are built, so the SQL check before a build leaves it unchecked.
pub mod introspection {
    use std::cell::Cell;

    thread_local! {
        static MISSED: Cell<bool> = const { Cell::new(false) };
    }

    pub(super) fn saw_missing_relation() {
        MISSED.with(|m| m.set(true));
    }

    /// Runs `f` (a render, on this thread) and says whether it read a
    /// relation that does not exist.
    pub fn watch<T>(f: impl FnOnce() -> T) -> (T, bool) {
        let before = MISSED.with(|m| m.replace(false));
        let result = f();
        let missed = MISSED.with(|m| m.replace(before));
        (result, missed)
    }
}

/// `adapter.*`.
struct AdapterObject {
    scope: Arc<RenderScope>,
    target: Arc<Target>,
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
        lock(&self.scope.executed).push(format!("-- create schema {schema}"));
        lock(connection)
            .create_schema(&database, &schema)
            .map_err(|e| self.scope.database_error(e))?;
        Ok(Value::from(()))
    }

    fn load_csv_rows(&self, relation: &Relation) -> Result<Value, Error> {
        let (Some(connection), Some(seed)) = (&self.scope.connection, &self.scope.seed) else {
            return Ok(Value::from(""));
        };
        lock(&self.scope.executed).push(format!(
            "-- {} rows loaded into {}",
            seed.rows.len(),
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
        lock(connection)
            .load_rows(&relation.render(), columns, &seed.rows)
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

/// `{% call statement('name', fetch_result=True) %}sql{% endcall %}`.
struct StatementFunction {
    scope: Arc<RenderScope>,
}

impl std::fmt::Debug for StatementFunction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("statement")
    }
}

impl Object for StatementFunction {
    fn call(self: &Arc<Self>, state: &mut State<'_, '_>, args: &[Value]) -> Result<Value, Error> {
        let (args, kwargs) = split_kwargs(args);
        let mut name = args.first().and_then(|v| v.as_str().map(str::to_string));
        let mut fetch = args.get(1).is_some_and(Value::is_true);
        let mut caller = None;
        if let Some(kwargs) = kwargs {
            if let Some(n) = kwargs.get::<Option<String>>("name")? {
                name = Some(n);
            }
            if let Some(f) = kwargs.get::<Option<bool>>("fetch_result")? {
                fetch = f;
            }
            caller = kwargs.get::<Option<Value>>("caller")?;
            let _: Option<Value> = kwargs.get("auto_begin")?;
            let _: Option<Value> = kwargs.get("language")?;
        }
        let caller =
            caller.ok_or_else(|| invalid("statement() is used as `{% call statement(...) %}`"))?;
        let sql = caller.call(state, &[])?.to_string();
        let sql = sql.trim();
        if self.scope.phase == Phase::Parse || sql.is_empty() {
            return Ok(Value::from(""));
        }
        let result = self.scope.run_sql(sql, fetch)?;
        if let Some(name) = name {
            if let Some(rows) = &result {
                lock(&self.scope.tables).insert(name.clone(), rows.clone());
            }
            lock(&self.scope.results).insert(name, result_value(result));
        }
        Ok(Value::from(""))
    }
}

/// `load_result('name')`.
struct LoadResultFunction {
    scope: Arc<RenderScope>,
}

impl std::fmt::Debug for LoadResultFunction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("load_result")
    }
}

impl Object for LoadResultFunction {
    fn call(self: &Arc<Self>, _state: &mut State<'_, '_>, args: &[Value]) -> Result<Value, Error> {
        let name = args.first().and_then(Value::as_str).unwrap_or_default();
        Ok(lock(&self.scope.results)
            .get(name)
            .cloned()
            .unwrap_or(Value::from(())))
    }
}

/// `run_query(sql)`: the result table while executing, none otherwise.
struct RunQueryFunction {
    scope: Arc<RenderScope>,
}

impl std::fmt::Debug for RunQueryFunction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("run_query")
    }
}

impl Object for RunQueryFunction {
    fn call(self: &Arc<Self>, _state: &mut State<'_, '_>, args: &[Value]) -> Result<Value, Error> {
        let sql = args.first().map(|v| v.to_string()).unwrap_or_default();
        if self.scope.phase == Phase::Parse {
            return Ok(Value::from(()));
        }
        let Some(result) = self.scope.run_sql(sql.trim(), true)? else {
            return Ok(Value::from(()));
        };
        let result = Some(result);
        Ok(result_value(result)
            .get_attr("table")
            .unwrap_or(Value::from(())))
    }
}

/// A statement's result as dbt shapes it: `{response, data, table}`, where
/// `table` has `columns`, `column_names` and `rows`.
fn result_value(result: Option<QueryResult>) -> Value {
    let result = result.unwrap_or_default();
    let table = crate::jinja::agate::Table::value(&result);
    let data: Vec<Value> = table
        .try_iter()
        .map(|rows| rows.collect())
        .unwrap_or_default();
    minijinja::context! {
        response => "OK",
        data => data,
        table => table,
    }
}

fn split_kwargs(args: &[Value]) -> (&[Value], Option<Kwargs>) {
    match args.last().cloned().map(Kwargs::try_from) {
        Some(Ok(kwargs)) => (&args[..args.len() - 1], Some(kwargs)),
        _ => (args, None),
    }
}

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
            super::python_compat::datetime_value(self.run_started_at),
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

/// The relation a node's relation type maps to.
pub fn relation_type_for(materialized: &str) -> RelationType {
    match materialized {
        "view" => RelationType::View,
        "ephemeral" => RelationType::Cte,
        _ => RelationType::Table,
    }
}

//! Parsing: render every model once with capturing `ref`/`source`/`config`,
//! merge in-file configs, and decide where each node will be built. No
//! database is touched and every error found is reported, not just the first.

use std::collections::BTreeMap;
use std::sync::Arc;

use minijinja::Value;
use rayon::prelude::*;

use crate::config::Target;
use crate::config::known_keys::{CONFIG_KEYS, is_config_key, unknown_key};
use crate::diagnostic::{Diagnostic, did_you_mean};
use crate::error::{Error, Location, Result};
use crate::jinja::JinjaEnv;
use crate::jinja::context::{NodeContext, Phase, RefCall, RenderScope, Vars};
use crate::jinja::environment::node_template;
use crate::jinja::generic_test::{macro_params, render_generic_test};
use crate::jinja::render::jinja_error;
use crate::partial_parse::{Found, PartialParse, node_checksum};
use crate::project::Project;
use crate::project::node::{Node, NodeKind, TestMetadata};
use crate::sql::Relation;

/// Facts of this invocation that templates can read.
#[derive(Debug, Clone)]
pub struct Invocation {
    pub invocation_id: String,
    pub run_started_at: String,
}

impl Invocation {
    pub fn new() -> Invocation {
        Invocation {
            invocation_id: uuid::Uuid::new_v4().to_string(),
            run_started_at: chrono::Utc::now()
                .format("%Y-%m-%d %H:%M:%S%.6f+00:00")
                .to_string(),
        }
    }
}

impl Default for Invocation {
    fn default() -> Self {
        Invocation::new()
    }
}

#[derive(Debug, Clone)]
pub struct ParsedNode {
    /// The node, its config now including `{{ config() }}` from its file.
    pub node: Node,
    pub refs: Vec<RefCall>,
    pub sources: Vec<(String, String)>,
    /// Where it is built.
    pub relation: Relation,
}

/// A project whose nodes are parsed, with the environment that rendered them.
pub struct Parsed {
    pub project: Project,
    pub env: Arc<JinjaEnv>,
    pub target: Arc<Target>,
    /// The target as templates see it.
    pub target_value: Value,
    pub vars: Arc<Vars>,
    pub invocation: Invocation,
    pub nodes: BTreeMap<String, ParsedNode>,
    /// Unknown keys in `{{ config() }}` calls, with where they are.
    pub warnings: Vec<Diagnostic>,
    /// `--defer`: where refs to nodes not selected point instead, by name
    /// (the relations an earlier run built).
    pub deferred: BTreeMap<String, Relation>,
    /// What the parse rendered and what it reused.
    pub stats: ParseStats,
    /// dbt's `graph` variable, set once the graph is built (see
    /// [`crate::artifacts::manifest::graph_value`]); undefined while parsing.
    pub graph: std::sync::OnceLock<Value>,
    /// Models the SQL check stopped before they reach the database, with why
    /// (see [`crate::lineage::check`]).
    pub blocked: std::sync::OnceLock<BTreeMap<String, crate::diagnostic::Diagnostic>>,
}

/// How many nodes a parse rendered, and how many it took from the last
/// parse (partial parsing).
#[derive(Debug, Clone, Default)]
pub struct ParseStats {
    pub rendered: usize,
    pub reused: usize,
    /// Why nothing was reused, when nothing could be.
    pub not_reused: Option<&'static str>,
}

/// Parses every node, rendering them all.
pub fn parse(project: Project) -> Result<Parsed> {
    parse_with(project, false)
}

/// Parses every node; with `partial`, a node whose inputs are unchanged
/// since the last parse is not rendered again (see [`crate::partial_parse`]).
/// Nodes are rendered in parallel.
pub fn parse_with(project: Project, partial: bool) -> Result<Parsed> {
    let env = Arc::new(JinjaEnv::new(&project)?);
    let target = Arc::new(project.target.clone());
    let vars = Arc::new(Vars {
        cli: project.cli_vars.clone(),
        project: project.config.vars.clone(),
        packages: project
            .packages
            .iter()
            .map(|p| (p.name.clone(), p.vars.clone()))
            .collect(),
    });
    let invocation = Invocation::new();
    let mut parsed = Parsed {
        env,
        target_value: crate::jinja_base::target_value(&target),
        target,
        vars,
        invocation,
        nodes: BTreeMap::new(),
        project,
        warnings: Vec::new(),
        deferred: BTreeMap::new(),
        stats: ParseStats::default(),
        graph: std::sync::OnceLock::new(),
        blocked: std::sync::OnceLock::new(),
    };
    let cache = PartialParse::load(&parsed.project, partial);
    let outcomes: Vec<NodeOutcome> = parsed
        .project
        .nodes
        .values()
        .collect::<Vec<_>>()
        .into_par_iter()
        .map(|node| {
            let checksum = node_checksum(node);
            if let Some(found) = cache.reuse(node, &checksum) {
                let result = reparse_node(&parsed, node, found);
                return NodeOutcome {
                    result,
                    warnings: Vec::new(),
                    checksum,
                    reused: true,
                };
            }
            let mut warnings = Vec::new();
            let result = parse_node(&parsed, node, &mut warnings);
            NodeOutcome {
                result,
                warnings,
                checksum,
                reused: false,
            }
        })
        .collect();
    let mut errors = Vec::new();
    let mut disabled = Vec::new();
    let mut warnings = Vec::new();
    let mut found = BTreeMap::new();
    for outcome in outcomes {
        if outcome.reused {
            parsed.stats.reused += 1;
        } else {
            parsed.stats.rendered += 1;
        }
        match outcome.result {
            Ok(p) => {
                // A node that warned is rendered again, to warn again.
                if outcome.warnings.is_empty() {
                    let entry = Found::new(&p.refs, &p.sources, &p.node.config);
                    found.insert(p.node.unique_id.clone(), (outcome.checksum, entry));
                }
                warnings.extend(outcome.warnings);
                // `{{ config(enabled=false) }}` in the file disables the node too.
                if p.node.config.enabled() {
                    parsed.nodes.insert(p.node.unique_id.clone(), p);
                } else {
                    disabled.push(p.node);
                }
            }
            Err(e) => {
                warnings.extend(outcome.warnings);
                errors.push(e);
            }
        }
    }
    if parsed.stats.reused == 0 {
        parsed.stats.not_reused = cache.reason.or(Some("every node changed"));
    }
    if errors.is_empty() {
        cache.save(found);
    }
    for node in disabled {
        parsed.project.nodes.remove(&node.unique_id);
        parsed.project.disabled.insert(node.unique_id.clone(), node);
    }
    // A test of a node disabled by its own `config()` goes with it.
    let orphans: Vec<String> = parsed
        .nodes
        .values()
        .filter(|n| {
            n.node
                .test
                .as_ref()
                .is_some_and(|t| parsed.project.disabled.contains_key(&t.attached_to))
        })
        .map(|n| n.node.unique_id.clone())
        .collect();
    for id in orphans {
        if let Some(test) = parsed.nodes.remove(&id) {
            parsed.project.nodes.remove(&id);
            parsed.project.disabled.insert(id, test.node);
        }
    }
    if let Some(error) = Error::from_many(errors) {
        return Err(error);
    }
    parsed.warnings = warnings;
    Ok(parsed)
}

/// One node's parse, and what partial parsing needs to keep it.
struct NodeOutcome {
    result: Result<ParsedNode>,
    warnings: Vec<Diagnostic>,
    checksum: String,
    reused: bool,
}

/// A node whose inputs are unchanged: what its last render found, without
/// rendering it.
fn reparse_node(parsed: &Parsed, node: &Node, found: Found) -> Result<ParsedNode> {
    let mut node = node.clone();
    node.config = crate::config::NodeConfig(found.config.clone());
    if node.kind == NodeKind::Test {
        check_test_config(parsed, &node)?;
    }
    let relation = parsed.relation_for(&node)?;
    Ok(ParsedNode {
        refs: found.refs(),
        sources: found.sources,
        node,
        relation,
    })
}

fn parse_node(parsed: &Parsed, node: &Node, warnings: &mut Vec<Diagnostic>) -> Result<ParsedNode> {
    let mut node = node.clone();
    let mut refs = Vec::new();
    let mut sources = Vec::new();
    if node.kind != NodeKind::Seed {
        let (scope, ctx) = parsed.parse_context(&node);
        match &node.test {
            Some(test) => {
                let macro_name = parsed.generic_test_macro(&node, test)?;
                render_generic_test(&parsed.env, &macro_name, &test.kwargs, &ctx)
                    .map_err(|e| test_error(&e, parsed, &node, test))?;
            }
            None => {
                let template = node_template(&node);
                parsed
                    .env
                    .render(&template, &node.raw_code, &ctx)
                    .map_err(|e| {
                        jinja_error(&e, &parsed.project.root, Some((&node.unique_id, &template)))
                    })?;
            }
        }
        let captured = scope.captured();
        if node.test.is_none() {
            let file = parsed.project.display_path(&node.original_file_path);
            for key in captured.configs.iter().flat_map(|c| c.keys()) {
                if !is_config_key(key) {
                    let location = keyword_location(&node.raw_code, key, &file);
                    warnings.push(unknown_key(key, "config()", CONFIG_KEYS, location));
                }
            }
        }
        refs = captured.refs;
        sources = captured.sources;
        node.config = scope.config();
        // A test's properties-file entry wins over its macro's `config()`.
        if let Some(test) = &node.test {
            node.config.merge_all(&test.config);
        }
        // For a package's node, the root project's dbt_project.yml has the
        // last word, over the package's `config()` and properties (dbt's
        // `calculate_node_config`).
        for level in parsed.project.root_config_levels(&node) {
            node.config.merge_all(&level);
        }
        if node.kind == NodeKind::Test {
            check_test_config(parsed, &node)?;
        }
    }
    let relation = parsed.relation_for(&node)?;
    Ok(ParsedNode {
        node,
        refs,
        sources,
        relation,
    })
}

/// An error while rendering a generic test, at the test's line in its
/// properties file.
fn test_error(err: &minijinja::Error, parsed: &Parsed, node: &Node, test: &TestMetadata) -> Error {
    match jinja_error(err, &parsed.project.root, Some((&node.unique_id, ""))) {
        Error::Jinja {
            location,
            kind,
            message,
            ..
        } if location.file.as_os_str().is_empty()
            || location.file.to_string_lossy().contains('<') =>
        {
            Error::Jinja {
                location: test.location.clone(),
                kind,
                message: format!("in test {}: {message}", node.name),
                node: None,
            }
        }
        other => other,
    }
}

/// `severity`, `warn_if` and `error_if` are checked before anything runs:
/// a typo there would otherwise be a database error, or no check at all.
fn check_test_config(parsed: &Parsed, node: &Node) -> Result<()> {
    let location = match &node.test {
        Some(test) => test.location.clone(),
        None => Location::file(parsed.project.display_path(&node.original_file_path)),
    };
    let severity = match node.config.get("severity") {
        None => "error".to_string(),
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    };
    let severity = severity.as_str();
    if !severity.eq_ignore_ascii_case("error") && !severity.eq_ignore_ascii_case("warn") {
        return Err(Error::config(
            location,
            format!(
                "test {}: severity '{severity}' is neither 'error' nor 'warn'",
                node.name
            ),
        ));
    }
    for key in ["warn_if", "error_if"] {
        if let Some(value) = node.config.get(key) {
            let text = match value {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            if !is_condition(&text) {
                return Err(Error::config(
                    location,
                    format!(
                        "test {}: {key} '{text}' is not a condition on the failure count",
                        node.name
                    ),
                )
                .with_help(r#"write a comparison with a number, such as ">10", "!=0" or ">= 5""#));
            }
        }
    }
    Ok(())
}

/// `">10"`, `"!= 0"`, `"between 1 and 5"`: what dbt appends to the failure count.
fn is_condition(text: &str) -> bool {
    use std::sync::OnceLock;
    static CONDITION: OnceLock<regex::Regex> = OnceLock::new();
    let re = CONDITION.get_or_init(|| {
        regex::Regex::new(
            r"(?i)^\s*(?:(?:=|==|!=|<>|<=|>=|<|>)\s*-?\d+(?:\.\d+)?|(?:not\s+)?between\s+-?\d+(?:\.\d+)?\s+and\s+-?\d+(?:\.\d+)?)\s*$",
        )
        .expect("valid regex")
    });
    re.is_match(text)
}

/// Where `key=` is first written in a file's text.
fn keyword_location(text: &str, key: &str, file: &std::path::Path) -> Location {
    for (i, line) in text.lines().enumerate() {
        if let Some(col) = line.find(key)
            && line[col + key.len()..].trim_start().starts_with('=')
        {
            let column = line[..col].chars().count() + 1;
            return Location::at(file, i + 1, Some(column)).spanning(key.chars().count());
        }
    }
    Location::file(file)
}

impl Parsed {
    /// A parse-time scope and context for `node`: `this` is the target
    /// schema and the node's name, as its final relation is not known yet.
    fn parse_context(&self, node: &Node) -> (Arc<RenderScope>, Value) {
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
            graph: self.graph.get().cloned().unwrap_or(Value::UNDEFINED),
            extra,
        }
        .into_value()
    }

    /// Where `node` is built: `generate_database_name`, `generate_schema_name`
    /// and `generate_alias_name` applied to its `database`, `schema` and
    /// `alias` configs. kiln's own rules run in Rust unless the project
    /// overrides the macro.
    fn relation_for(&self, node: &Node) -> Result<Relation> {
        let config = &node.config;
        let target = &self.target;
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
            None => config
                .get_str("alias")
                .map(str::trim)
                .filter(|a| !a.is_empty())
                .unwrap_or(&node.name)
                .to_string(),
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
    fn generic_test_macro(&self, node: &Node, test: &TestMetadata) -> Result<String> {
        let project = &self.project.config.name;
        let macro_name = generic_test_macro_name(test, project);
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

/// The macro a generic test calls: `test_<name>`, or `<package>.test_<name>`
/// for a test of an installed package (`dbt_utils.expression_is_true`).
pub fn generic_test_macro_name(test: &TestMetadata, root_project: &str) -> String {
    match &test.namespace {
        Some(namespace) if namespace != root_project => format!("{namespace}.test_{}", test.name),
        _ => format!("test_{}", test.name),
    }
}

/// `model` (and the `node` argument of naming macros) as templates see it.
pub fn model_value(node: &Node) -> Value {
    let config: BTreeMap<&String, &serde_json::Value> = node.config.0.iter().collect();
    let columns: BTreeMap<&str, serde_json::Value> = node
        .columns
        .iter()
        .map(|c| {
            (
                c.name.as_str(),
                serde_json::json!({"name": c.name, "description": c.description, "data_type": c.data_type}),
            )
        })
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
        "raw_code": node.raw_code,
    }))
}

#[cfg(test)]
mod tests {
    use super::is_condition;

    #[test]
    fn conditions_on_the_failure_count() {
        for ok in [
            ">10",
            "!=0",
            "!= 0",
            ">= 5",
            "= 0",
            "<> 1",
            "between 1 and 5",
            "NOT BETWEEN 0 and 2",
        ] {
            assert!(is_condition(ok), "{ok}");
        }
        for bad in [
            "more than three",
            "> x",
            "10",
            "; drop table t",
            ">1; select 1",
        ] {
            assert!(!is_condition(bad), "{bad}");
        }
    }
}

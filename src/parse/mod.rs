//! Parsing: render every model once with capturing `ref`/`source`/`config`,
//! merge in-file configs, and decide where each node will be built. No
//! database is touched and every error found is reported, not just the first.

use std::collections::BTreeMap;
use std::sync::Arc;

use minijinja::Value;
use rayon::prelude::*;

use crate::config::Target;
use crate::config::known_keys::{CONFIG_KEYS, is_config_key, unknown_key};
use crate::diagnostic::Diagnostic;
use crate::error::{Error, Result};
use crate::jinja::JinjaEnv;
use crate::jinja::context::{RefCall, Vars};
use crate::jinja::environment::node_template;
use crate::jinja::generic_test::render_generic_test;
use crate::jinja::render::jinja_error;
use crate::project::Project;
use crate::project::node::{Node, NodeKind};
use crate::sql::Relation;

mod checks;
mod parsed;
pub mod partial;
mod paths;

use checks::{check_test_config, keyword_location, test_error};
pub use parsed::model_value;
use partial::{Found, PartialParse, node_checksum};

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
    /// What the parse rendered and what it reused.
    pub stats: ParseStats,
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
/// since the last parse is not rendered again (see [`partial`]).
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
        stats: ParseStats::default(),
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
            // A unit test renders nothing: it is parsed afresh.
            if node.kind != NodeKind::UnitTest
                && let Some(found) = cache.reuse(node, &checksum)
            {
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
            let disabled = |id: &str| parsed.project.disabled.contains_key(id);
            n.node
                .test
                .as_ref()
                .is_some_and(|t| disabled(&t.attached_to))
                || n.node.unit.as_ref().is_some_and(|u| disabled(&u.model_id))
        })
        .map(|n| n.node.unique_id.clone())
        .collect();
    for id in orphans {
        if let Some(test) = parsed.nodes.remove(&id) {
            parsed.project.nodes.remove(&id);
            parsed.project.disabled.insert(id, test.node);
        }
    }
    for node in parsed.nodes.values() {
        if let Err(e) = checks::check_unit_test(&parsed, &node.node) {
            errors.push(e);
        }
    }
    if let Some(error) = Error::from_many(errors) {
        return Err(error);
    }
    warnings.extend(deprecated_refs(&parsed));
    parsed.warnings = warnings;
    Ok(parsed)
}

/// A warning for each ref to a version past its deprecation date, in
/// dbt's words, naming the version to move to.
fn deprecated_refs(parsed: &Parsed) -> Vec<Diagnostic> {
    let mut warnings = Vec::new();
    // The deprecated versions, by every name a ref finds them by.
    let mut deprecated: BTreeMap<String, &ParsedNode> = BTreeMap::new();
    for target in parsed.nodes.values() {
        if let Some(version) = &target.node.version
            && version
                .deprecation_date
                .as_deref()
                .is_some_and(crate::project::deprecated)
        {
            for name in target.node.ref_names() {
                deprecated.insert(name, target);
            }
        }
    }
    if deprecated.is_empty() {
        return warnings;
    }
    for node in parsed.nodes.values() {
        // A test of the version itself is no reference to migrate.
        if node.node.kind.is_test() {
            continue;
        }
        for call in &node.refs {
            let Some(target) = deprecated.get(&call.name) else {
                continue;
            };
            let Some(version) = &target.node.version else {
                continue;
            };
            let date = version.deprecation_date.clone().unwrap_or_default();
            let date = &date;
            warnings.push(
                Diagnostic::warning(
                    crate::diagnostic::Code::Config,
                    format!(
                        "While compiling '{}': Found a reference to {}.v{}, which was deprecated on '{}'. A new version of '{}' is available. Migrate now: {{{{ ref('{}', '{}', v='{}') }}}}.",
                        node.node.name,
                        target.node.name,
                        version.v,
                        crate::project::dbt_date(date),
                        target.node.name,
                        target.node.package,
                        target.node.name,
                        version.latest
                    ),
                )
                .at(crate::error::Location::file(
                    parsed.project.display_path(&node.node.original_file_path),
                )),
            );
        }
    }
    warnings
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
    if let Some(unit) = &node.unit {
        // A unit test reads the model it tests (dbt's `depends_on`).
        let name = match parsed
            .project
            .nodes
            .get(&unit.model_id)
            .and_then(|m| m.version.as_ref())
        {
            Some(version) => format!("{}.v{}", unit.model, version.v),
            None => unit.model.clone(),
        };
        refs.push(crate::jinja::context::RefCall {
            package: None,
            name,
        });
    } else if node.kind != NodeKind::Seed {
        let (scope, ctx) = parsed.parse_context(&node);
        match &node.test {
            Some(test) => {
                let macro_name = parsed.generic_test_macro(&node, test)?;
                render_generic_test(&parsed.env, &macro_name, &test.kwargs, &ctx)
                    .map_err(|e| test_error(&e, parsed, &node, test))?;
            }
            None => {
                let template = node_template(&node);
                // An exposure's `depends_on` and a semantic model's `model`
                // are Jinja calls, rendered as dbt renders them.
                let code = match &node.resource {
                    Some(resource) => resource
                        .calls
                        .iter()
                        .map(|call| format!("{{{{ {call} }}}}"))
                        .collect::<Vec<_>>()
                        .join("\n"),
                    None => node.raw_code.clone(),
                };
                parsed.env.render(&template, &code, &ctx).map_err(|e| {
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
        // A foreign key's `to:` is a ref or source of the model, as in dbt.
        for (function, mut args) in crate::contract::foreign_key_targets(&node) {
            match (function, args.len()) {
                ("ref", 1 | 2) => {
                    let name = args.pop().unwrap_or_default();
                    let call = crate::jinja::context::RefCall {
                        package: args.pop(),
                        name,
                    };
                    if !refs.contains(&call) {
                        refs.push(call);
                    }
                }
                ("source", 2) => {
                    let table = (args[0].clone(), args[1].clone());
                    if !sources.contains(&table) {
                        sources.push(table);
                    }
                }
                _ => {}
            }
        }
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
        if node.kind == NodeKind::Model {
            checks::check_constraints(parsed, &node)?;
        }
        if node.kind != NodeKind::Seed {
            checks::check_access(parsed, &node)?;
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

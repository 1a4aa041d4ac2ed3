//! Compiling: render each model and test with `ref()` and `source()`
//! resolved to the relations they name, and write the SQL to `target/compiled/`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::adapter::SharedConnection;
use crate::error::{Error, Result};
use crate::graph::Graph;
use crate::jinja::context::{Phase, RenderScope, Resolver};
use crate::jinja::environment::template_name;
use crate::jinja::generic_test::render_generic_test;
use crate::jinja::render::jinja_error;
use crate::parse::{Parsed, ParsedNode};
use crate::project::node::NodeKind;
use crate::sql::Relation;

/// The relations every `ref()` and `source()` of the project resolves to.
pub fn resolver(parsed: &Parsed) -> Arc<Resolver> {
    let mut resolver = Resolver::default();
    let mut ordered: Vec<&ParsedNode> = parsed.nodes.values().collect();
    // Models win a name shared with a seed, as in the graph.
    ordered.sort_by_key(|n| n.node.kind == NodeKind::Model);
    for node in ordered {
        if node.node.kind == NodeKind::Test {
            continue;
        }
        resolver
            .refs
            .insert(node.node.name.clone(), node.relation.clone());
    }
    for source in parsed.project.sources.values() {
        resolver.sources.insert(
            (source.source_name.clone(), source.name.clone()),
            Relation::new(
                parsed.target.adapter,
                &source.database,
                &source.schema,
                &source.identifier,
            ),
        );
    }
    Arc::new(resolver)
}

/// Renders the SQL of a model or test. With a connection, `run_query`
/// reaches the database.
pub fn compile_node(
    parsed: &Parsed,
    resolver: &Arc<Resolver>,
    node: &ParsedNode,
    connection: Option<SharedConnection>,
) -> Result<String> {
    let mut scope = RenderScope::new(
        Phase::Compile,
        &node.node.unique_id,
        node.node.config.clone(),
    )
    .with_resolver(resolver.clone());
    if let Some(connection) = connection {
        scope = scope.with_connection(connection);
    }
    let ctx = parsed.context(
        &node.node,
        Arc::new(scope),
        node.relation.clone(),
        None,
        Vec::new(),
    );
    if let Some(test) = &node.node.test {
        let macro_name = format!("test_{}", test.name);
        return render_generic_test(&parsed.env, &macro_name, &test.kwargs, &ctx)
            .map_err(|e| jinja_error(&e, &parsed.project.root, Some((&node.node.unique_id, ""))));
    }
    let template = template_name(&node.node.original_file_path);
    parsed.env.render(&template, &ctx).map_err(|e| {
        jinja_error(
            &e,
            &parsed.project.root,
            Some((&node.node.unique_id, &template)),
        )
    })
}

/// Where a node's compiled SQL goes: `target/compiled/<project>/<file>`,
/// and for a generic test `target/compiled/<project>/<properties file>/<test>.sql`.
pub fn compiled_path(parsed: &Parsed, node: &ParsedNode) -> PathBuf {
    artifact_path(parsed, node, "compiled")
}

/// Where the SQL a node ran goes: `target/run/<project>/<file>`.
pub fn run_path(parsed: &Parsed, node: &ParsedNode) -> PathBuf {
    artifact_path(parsed, node, "run")
}

fn artifact_path(parsed: &Parsed, node: &ParsedNode, folder: &str) -> PathBuf {
    let path = parsed
        .project
        .target_dir()
        .join(folder)
        .join(&node.node.package)
        .join(&node.node.original_file_path);
    if node.node.test.is_some() {
        path.join(&node.node.path)
    } else {
        path
    }
}

/// Writes `text` to `path` whole or not at all: into a temporary file beside
/// it, then renamed over it, so a reader (or a crash) never sees half a file.
pub fn write_file(path: &Path, text: &str) -> Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, &e))?;
    }
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let temporary = path.with_file_name(format!(".{name}.{}.tmp", std::process::id()));
    std::fs::write(&temporary, text).map_err(|e| Error::io(path, &e))?;
    std::fs::rename(&temporary, path).map_err(|e| {
        let _ = std::fs::remove_file(&temporary);
        Error::io(path, &e)
    })
}

/// Compiles every selected model (in graph order) and writes the files.
/// All errors are reported together.
pub fn compile_selected(
    parsed: &Parsed,
    graph: &Graph,
    selected: &std::collections::BTreeSet<String>,
) -> Result<BTreeMap<String, String>> {
    let resolver = resolver(parsed);
    let mut compiled = BTreeMap::new();
    let mut errors = Vec::new();
    for id in &graph.order {
        if !selected.contains(id) {
            continue;
        }
        let node = &parsed.nodes[id];
        if node.node.kind == NodeKind::Seed {
            continue;
        }
        match compile_node(parsed, &resolver, node, None) {
            Ok(sql) => {
                if let Err(e) = write_file(&compiled_path(parsed, node), &sql) {
                    errors.push(e);
                }
                compiled.insert(id.clone(), sql);
            }
            Err(e) => errors.push(e),
        }
    }
    match Error::from_many(errors) {
        Some(e) => Err(e),
        None => Ok(compiled),
    }
}

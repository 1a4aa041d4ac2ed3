//! `kiln docs generate`: `target/index.html`, one self-contained page with
//! the interactive lineage graph (the template is `templates/docs/`: index.html,
//! docs.css, graph.js and panel.js, written into one page),
//! and `target/catalog.json` with the column types the database reports.
//! `kiln docs serve` serves them on 127.0.0.1.

use std::collections::BTreeMap;
use std::path::PathBuf;

use clap::{Args, Subcommand};
use serde_json::{Value as Json, json};

use super::{EXIT_OK, GlobalArgs, load_project, parse_project};
use crate::error::{Error, Result};
use crate::graph::Graph;
use crate::parse::Parsed;
use crate::project::node::NodeKind;

/// The page's HTML, with `/*KILN_DOCS_CSS*/` and `/*KILN_DOCS_JS*/` lines
/// where its style sheet and script go (see [`template`]).
const HTML: &str = include_str!("../../templates/docs/index.html");
const CSS: &str = include_str!("../../templates/docs/docs.css");
/// The script's two parts, one scope: the graph and the panel (the HTML
/// holds `/*KILN_DOCS_DATA*/null`, where the project's data goes).
const GRAPH_JS: &str = include_str!("../../templates/docs/graph.js");
const PANEL_JS: &str = include_str!("../../templates/docs/panel.js");
const PLACEHOLDER: &str = "/*KILN_DOCS_DATA*/null";

/// The page as one self-contained file: the HTML with its style sheet and
/// script written in, the data still to come.
fn template() -> String {
    // One function around both parts: their names stay off `window`.
    let script = format!("(function () {{\n{GRAPH_JS}\n{PANEL_JS}}})();\n");
    HTML.replacen("/*KILN_DOCS_CSS*/\n", CSS, 1)
        .replacen("/*KILN_DOCS_JS*/\n", &script, 1)
}

#[derive(Debug, Clone, Subcommand)]
pub enum DocsCommand {
    /// Write target/index.html (the lineage site) and target/catalog.json.
    Generate,
    /// Serve target/ on 127.0.0.1 (run `kiln docs generate` first).
    Serve(ServeArgs),
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    #[arg(long, default_value_t = 8080)]
    pub port: u16,
}

pub fn run(global: &GlobalArgs, command: &DocsCommand) -> Result<i32> {
    match command {
        DocsCommand::Generate => generate(global),
        DocsCommand::Serve(args) => serve(global, args),
    }
}

fn generate(global: &GlobalArgs) -> Result<i32> {
    let project = load_project(global)?;
    let parsed = parse_project(global, project)?;
    let graph = super::build_graph(&parsed)?;
    let types = database_types(&parsed);
    // The lineage reads the columns the database reported above: one query a
    // relation, not two.
    let by_relation: BTreeMap<Vec<String>, Vec<String>> = types
        .values()
        .map(|(parts, columns)| {
            let key = parts.iter().map(|p| p.to_lowercase()).collect();
            (key, columns.iter().map(|(name, _)| name.clone()).collect())
        })
        .collect();
    let lookup = |parts: &[String]| -> Option<Vec<String>> {
        let key: Vec<String> = parts.iter().map(|p| p.to_lowercase()).collect();
        by_relation.get(&key).cloned()
    };
    let (compiled, lineage) = super::lineage::project_lineage(&parsed, &graph, Some(&lookup))?;
    let data = page_data(&parsed, &graph, &compiled, &lineage, &types);
    let target = parsed.project.target_dir();
    let page = template().replacen(PLACEHOLDER, &script_json(&data), 1);
    crate::files::write_file(&target.join("index.html"), &page)?;
    let catalog = catalog_json(&parsed, &types);
    crate::files::write_file(
        &target.join("catalog.json"),
        &serde_json::to_string_pretty(&catalog).expect("JSON values serialize"),
    )?;
    super::output::line(&format!(
        "Wrote {} and {}",
        target.join("index.html").display(),
        target.join("catalog.json").display()
    ));
    if types.is_empty() {
        super::output::line(
            "The database could not be read: column types come from properties files only",
        );
    }
    Ok(EXIT_OK)
}

/// JSON that is safe inside a `<script>`: `<` and the line separators that
/// end a JavaScript string are escaped (still the same JSON).
pub fn script_json(value: &Json) -> String {
    serde_json::to_string(value)
        .expect("JSON values serialize")
        .replace('<', "\\u003c")
        .replace('\u{2028}', "\\u2028")
        .replace('\u{2029}', "\\u2029")
}

/// Each relation's name parts and column types as the database reports
/// them, by unique id (empty when it cannot be reached).
type Types = BTreeMap<String, (Vec<String>, Vec<(String, String)>)>;

fn database_types(parsed: &Parsed) -> Types {
    let mut types = Types::new();
    let connection = super::lineage::database_connection(parsed);
    if connection.is_none() {
        return types;
    }
    let mut relations: Vec<(String, Vec<String>)> = parsed
        .project
        .sources
        .values()
        .map(|s| {
            (
                s.unique_id.clone(),
                vec![s.database.clone(), s.schema.clone(), s.identifier.clone()],
            )
        })
        .collect();
    for node in parsed.nodes.values() {
        if node.node.kind.is_test() || node.node.is_ephemeral() {
            continue;
        }
        let r = &node.relation;
        relations.push((
            node.node.unique_id.clone(),
            [&r.database, &r.schema, &r.identifier]
                .into_iter()
                .map(|part| part.clone().unwrap_or_default())
                .collect(),
        ));
    }
    for (id, parts) in relations {
        if let Some(columns) = super::lineage::columns_from(&connection, &parts) {
            let columns = columns.into_iter().map(|c| (c.name, c.data_type)).collect();
            types.insert(id, (parts, columns));
        }
    }
    types
}

fn page_data(
    parsed: &Parsed,
    graph: &Graph,
    compiled_sql: &BTreeMap<String, String>,
    lineage: &crate::lineage::project::ProjectLineage,
    types: &Types,
) -> Json {
    let mut tests_of: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for node in parsed.nodes.values() {
        if let Some(test) = &node.node.test {
            tests_of
                .entry(test.attached_to.as_str())
                .or_default()
                .push(node.node.name.as_str());
        }
    }
    let column_json = |id: &str, declared: &[crate::project::node::ColumnInfo]| -> Vec<Json> {
        let known = lineage.columns.get(id).cloned().unwrap_or_default();
        let typed = types.get(id).map(|(_, columns)| columns);
        let mut names: Vec<String> = known;
        for c in declared {
            if !names.iter().any(|n| n.eq_ignore_ascii_case(&c.name)) {
                names.push(c.name.clone());
            }
        }
        if let Some(typed) = typed {
            for (name, _) in typed {
                if !names.iter().any(|n| n.eq_ignore_ascii_case(name)) {
                    names.push(name.clone());
                }
            }
        }
        names
            .iter()
            .map(|name| {
                let info = declared.iter().find(|c| c.name.eq_ignore_ascii_case(name));
                let data_type = typed
                    .and_then(|t| t.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)))
                    .map(|(_, t)| t.clone())
                    .or_else(|| info.and_then(|i| i.data_type.clone()));
                json!({
                    "name": name,
                    "type": data_type,
                    "description": info.map(|i| i.description.clone()).unwrap_or_default(),
                })
            })
            .collect()
    };
    let mut nodes: Vec<Json> = Vec::new();
    for node in parsed.nodes.values() {
        let n = &node.node;
        // As in dbt's docs: unit tests are not nodes of the lineage graph.
        if n.kind == NodeKind::UnitTest {
            continue;
        }
        let id = n.unique_id.as_str();
        let compiled = compiled_sql.get(id);
        let column_lineage: serde_json::Map<String, Json> = lineage
            .edges
            .get(id)
            .into_iter()
            .flatten()
            .map(|(column, edges)| {
                (
                    column.clone(),
                    serde_json::to_value(edges).unwrap_or_default(),
                )
            })
            .collect();
        nodes.push(json!({
            "id": id,
            "name": n.name,
            "kind": n.kind.resource_type(),
            "materialization": n.kind.builds_relation().then(|| n.config.materialized().to_string()),
            "path": n.original_file_path.to_string_lossy(),
            "package": n.package,
            "description": n.description,
            "sql": compiled,
            "raw_sql": n.raw_code,
            "columns": column_json(id, &n.columns),
            "tests": tests_of.get(id).cloned().unwrap_or_default(),
            "column_lineage": column_lineage,
        }));
    }
    for source in parsed.project.sources.values() {
        let id = source.unique_id.as_str();
        nodes.push(json!({
            "id": id,
            "name": format!("{}.{}", source.source_name, source.name),
            "kind": "source",
            "materialization": null,
            "path": source.original_file_path.to_string_lossy(),
            "package": source.package,
            "description": source.description,
            "sql": null,
            "raw_sql": null,
            "columns": column_json(id, &source.columns),
            "tests": tests_of.get(id).cloned().unwrap_or_default(),
            "column_lineage": {},
        }));
    }
    let mut edges: Vec<Json> = Vec::new();
    for (child, parents) in &graph.parents {
        if parsed.nodes[child].node.kind == NodeKind::UnitTest {
            continue;
        }
        for parent in parents {
            edges.push(json!([parent, child]));
        }
    }
    for (child, sources) in &graph.source_parents {
        for source in sources {
            edges.push(json!([source, child]));
        }
    }
    json!({
        "project": parsed.project.config.name,
        "generated_at": parsed.invocation.run_started_at,
        "nodes": nodes,
        "edges": edges,
    })
}

/// `target/catalog.json` in dbt's shape: each relation's columns with their
/// types, as the database reports them.
fn catalog_json(parsed: &Parsed, types: &Types) -> Json {
    let entry = |id: &str, database: &str, schema: &str, name: &str, kind: &str| {
        let columns: serde_json::Map<String, Json> = types
            .get(id)
            .into_iter()
            .flat_map(|(_, columns)| columns)
            .enumerate()
            .map(|(i, (column, data_type))| {
                (
                    column.clone(),
                    json!({"type": data_type, "index": i + 1, "name": column, "comment": null}),
                )
            })
            .collect();
        json!({
            "metadata": {"type": kind, "schema": schema, "name": name, "database": database, "comment": null, "owner": null},
            "columns": columns,
            "stats": {},
            "unique_id": id,
        })
    };
    let mut nodes = serde_json::Map::new();
    for node in parsed.nodes.values() {
        if node.node.kind.is_test() || !types.contains_key(&node.node.unique_id) {
            continue;
        }
        let r = &node.relation;
        let kind = if node.node.config.materialized() == "view" {
            "VIEW"
        } else {
            "BASE TABLE"
        };
        nodes.insert(
            node.node.unique_id.clone(),
            entry(
                &node.node.unique_id,
                r.database.as_deref().unwrap_or_default(),
                r.schema.as_deref().unwrap_or_default(),
                r.identifier.as_deref().unwrap_or_default(),
                kind,
            ),
        );
    }
    let mut sources = serde_json::Map::new();
    for source in parsed.project.sources.values() {
        if types.contains_key(&source.unique_id) {
            sources.insert(
                source.unique_id.clone(),
                entry(
                    &source.unique_id,
                    &source.database,
                    &source.schema,
                    &source.identifier,
                    "BASE TABLE",
                ),
            );
        }
    }
    json!({
        "metadata": {
            "dbt_schema_version": "https://schemas.getdbt.com/dbt/catalog/v1.json",
            "generated_at": parsed.invocation.run_started_at,
            "invocation_id": parsed.invocation.invocation_id,
        },
        "nodes": nodes,
        "sources": sources,
        "errors": null,
    })
}

/// Serves `target/` on 127.0.0.1 until stopped.
fn serve(global: &GlobalArgs, args: &ServeArgs) -> Result<i32> {
    let (dbt_project, _) = super::load_dbt_project(global)?;
    let target = crate::files::display_join(
        &global.project_dir,
        std::path::Path::new(&dbt_project.target_path),
    );
    if !target.join("index.html").is_file() {
        return Err(Error::config(
            crate::error::Location::file(target.join("index.html")),
            "no docs site to serve: run `kiln docs generate` first",
        ));
    }
    let address = format!("127.0.0.1:{}", args.port);
    let server = tiny_http::Server::http(&address).map_err(|e| Error::Connection {
        message: format!("cannot listen on {address}: {e}"),
        help: Some("choose another --port".into()),
    })?;
    super::output::line(&format!(
        "Serving the docs at http://{address}/ (Ctrl-C stops)"
    ));
    for request in server.incoming_requests() {
        let path = request
            .url()
            .split('?')
            .next()
            .unwrap_or("/")
            .trim_start_matches('/')
            .to_string();
        let file: PathBuf = match path.as_str() {
            "" => target.join("index.html"),
            "catalog.json" | "manifest.json" | "run_results.json" | "index.html" => {
                target.join(&path)
            }
            _ => PathBuf::new(),
        };
        let response = match std::fs::read(&file) {
            Ok(bytes) if !file.as_os_str().is_empty() => {
                let kind = if path.ends_with(".json") {
                    "application/json"
                } else {
                    "text/html; charset=utf-8"
                };
                tiny_http::Response::from_data(bytes).with_header(
                    tiny_http::Header::from_bytes("Content-Type", kind).expect("a valid header"),
                )
            }
            _ => tiny_http::Response::from_data(b"not found".to_vec()).with_status_code(404),
        };
        let _ = request.respond(response);
    }
    Ok(EXIT_OK)
}

#[cfg(test)]
mod template_tests {
    #[test]
    fn the_page_is_one_file_with_its_style_and_script_written_in() {
        let page = super::template();
        assert!(!page.contains("/*KILN_DOCS_CSS*/") && !page.contains("/*KILN_DOCS_JS*/"));
        assert_eq!(page.matches(super::PLACEHOLDER).count(), 1);
        assert!(page.contains(&format!("<style>\n{}</style>\n", super::CSS)));
        assert!(page.contains(&format!(
            "<script>\nconst DATA = {};\n(function () {{\n{}\n{}}})();\n</script>\n",
            super::PLACEHOLDER,
            super::GRAPH_JS,
            super::PANEL_JS
        )));
        assert!(page.starts_with("<!doctype html>") && page.ends_with("</html>\n"));
    }
}

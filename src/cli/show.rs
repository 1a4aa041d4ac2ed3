//! `kiln show`: the first rows of a selected model's SQL, or of an inline
//! query (`--inline "select ..."`, with `ref()` and `source()`), run on the
//! target without building anything: a table for people, JSON with
//! `--output json`, as dbt's `show`.

use std::sync::{Arc, Mutex};

use clap::{Args, ValueEnum};

use super::{EXIT_OK, GlobalArgs, SelectArgs, load_project, parse_project, select_nodes};
use crate::adapter::{Cell, QueryResult};
use crate::error::{Error, Location, Result};
use crate::jinja::context::RunFlags;
use crate::parse::{Parsed, ParsedNode};
use crate::project::node::NodeKind;

#[derive(Debug, Clone, Copy, ValueEnum, Default, PartialEq, Eq)]
pub enum ShowOutput {
    #[default]
    Text,
    Json,
}

#[derive(Debug, Clone, Args)]
pub struct ShowArgs {
    #[command(flatten)]
    pub selection: SelectArgs,
    /// A query to preview instead of a model (`ref()` and `source()` work).
    #[arg(long, conflicts_with = "select")]
    pub inline: Option<String>,
    /// How many rows (all with -1).
    #[arg(long, default_value_t = 5, allow_negative_numbers = true)]
    pub limit: i64,
    #[arg(long, value_enum, default_value_t = ShowOutput::Text)]
    pub output: ShowOutput,
}

pub fn run(global: &GlobalArgs, args: &ShowArgs) -> Result<i32> {
    let project = load_project(global)?;
    let parsed = parse_project(global, project)?;
    let graph = super::build_graph(&parsed)?;
    let previews: Vec<ParsedNode> = match &args.inline {
        Some(sql) => vec![inline_node(&parsed, sql)],
        None => {
            if args.selection.select.is_empty() && args.selection.selector.is_none() {
                return Err(Error::config(
                    Location::file("kiln show"),
                    "say what to show: --select <model> or --inline \"select ...\"",
                ));
            }
            select_nodes(&parsed, &graph, &args.selection)?
                .iter()
                .map(|id| &parsed.nodes[id])
                .filter(|n| {
                    matches!(
                        n.node.kind,
                        NodeKind::Model | NodeKind::Seed | NodeKind::Snapshot
                    )
                })
                .cloned()
                .collect()
        }
    };
    let resolver =
        crate::compile::resolver(&parsed, graph.template_value.clone(), &Default::default());
    let adapter = crate::adapter::for_target(&parsed.target)?;
    let connection: crate::adapter::SharedConnection = Arc::new(Mutex::new(adapter.connect()?));
    for node in &previews {
        let sql = match node.node.kind {
            NodeKind::Seed => format!("select * from {}", node.relation.render()),
            _ => crate::compile::compile_node(
                &parsed,
                &resolver,
                node,
                Some(connection.clone()),
                RunFlags::default(),
            )?,
        };
        let sql = sql.trim().trim_end_matches(';');
        let limited = if args.limit < 0 {
            format!("select * from (\n{sql}\n) as kiln_show")
        } else {
            format!(
                "select * from (\n{sql}\n) as kiln_show limit {}",
                args.limit
            )
        };
        let result = connection
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .query(&limited)
            .map_err(|e| {
                Error::config(
                    Location::file(parsed.project.display_path(&node.node.original_file_path)),
                    format!("the database refused the preview: {}", e.message.trim()),
                )
            })?;
        let name = if args.inline.is_some() {
            "inline".to_string()
        } else {
            node.node.name.clone()
        };
        match args.output {
            ShowOutput::Json => super::output::line(&json(&name, &result).to_string()),
            ShowOutput::Text => {
                super::output::line(&if args.inline.is_some() {
                    "Previewing inline node:".to_string()
                } else {
                    format!("Previewing node '{name}':")
                });
                super::output::line(&table(&result));
            }
        }
    }
    Ok(EXIT_OK)
}

/// The stand-in node an inline query renders as: an operation's, with the
/// query as its code.
fn inline_node(parsed: &Parsed, sql: &str) -> ParsedNode {
    let mut node = crate::materialize::operation::operation_node(parsed, "inline_query");
    node.raw_code = sql.to_string();
    // Its template is named by its path: not a `.yml` one, which minijinja
    // would render as JSON.
    node.original_file_path = "inline_query".into();
    node.path = "inline_query".into();
    ParsedNode {
        relation: crate::sql::Relation::new(
            parsed.target.adapter,
            &parsed.target.database,
            &parsed.target.schema,
            "inline_query",
        ),
        node,
        refs: Vec::new(),
        sources: Vec::new(),
    }
}

fn cell_json(cell: &Cell) -> serde_json::Value {
    match cell {
        Cell::Null => serde_json::Value::Null,
        Cell::Bool(b) => serde_json::Value::Bool(*b),
        Cell::Int(i) => serde_json::Value::from(*i),
        Cell::Float(x) => serde_json::Value::from(*x),
        Cell::Text(s) => serde_json::Value::from(s.as_str()),
    }
}

fn json(name: &str, result: &QueryResult) -> serde_json::Value {
    let rows: Vec<serde_json::Value> = result
        .rows
        .iter()
        .map(|row| {
            let object: serde_json::Map<String, serde_json::Value> = result
                .columns
                .iter()
                .zip(row)
                .map(|(c, v)| (c.clone(), cell_json(v)))
                .collect();
            serde_json::Value::Object(object)
        })
        .collect();
    serde_json::json!({"node": name, "show": rows})
}

/// The rows as dbt prints them: a Markdown table, numbers to the right.
fn table(result: &QueryResult) -> String {
    let text = |cell: &Cell| match cell {
        Cell::Null => String::new(),
        other => other.to_string(),
    };
    let mut widths: Vec<usize> = result.columns.iter().map(|c| c.chars().count()).collect();
    for row in &result.rows {
        for (i, cell) in row.iter().enumerate() {
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(text(cell).chars().count());
            }
        }
    }
    let line = |cells: Vec<(String, bool)>| {
        let parts: Vec<String> = cells
            .into_iter()
            .enumerate()
            .map(|(i, (value, right))| {
                let width = widths[i];
                if right {
                    format!("{value:>width$}")
                } else {
                    format!("{value:<width$}")
                }
            })
            .collect();
        format!("| {} |", parts.join(" | "))
    };
    let mut lines = vec![line(
        result.columns.iter().map(|c| (c.clone(), false)).collect(),
    )];
    lines.push(format!(
        "| {} |",
        widths
            .iter()
            .map(|w| "-".repeat(*w))
            .collect::<Vec<_>>()
            .join(" | ")
    ));
    for row in &result.rows {
        lines.push(line(
            row.iter()
                .map(|c| (text(c), matches!(c, Cell::Int(_) | Cell::Float(_))))
                .collect(),
        ));
    }
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_a_table_with_numbers_to_the_right() {
        let result = QueryResult {
            columns: vec!["id".into(), "name".into()],
            rows: vec![
                vec![Cell::Int(1), Cell::Text("alice".into())],
                vec![Cell::Int(10), Cell::Null],
            ],
        };
        assert_eq!(
            table(&result),
            "| id | name  |\n| -- | ----- |\n|  1 | alice |\n| 10 |       |"
        );
    }
}

//! An earlier run's artifacts (`--state DIR`): its manifest, to tell which
//! nodes are new or modified and where `--defer` finds the relations of
//! nodes not selected, and its run results, for `result:<status>`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value as Json;

use crate::error::{Error, Location, Result};
use crate::parse::{Parsed, ParsedNode};
use crate::sql::Relation;

/// A node as the state manifest recorded it.
#[derive(Debug, Clone, PartialEq)]
pub struct StateNode {
    pub checksum: String,
    pub config: Json,
    pub database: Option<String>,
    pub schema: Option<String>,
    pub alias: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct State {
    pub dir: PathBuf,
    pub nodes: BTreeMap<String, StateNode>,
    /// Each node's status in the state's run_results.json (when there is one).
    pub results: BTreeMap<String, String>,
}

impl State {
    /// Reads `dir/manifest.json` (required) and `dir/run_results.json`.
    pub fn load(dir: &Path) -> Result<State> {
        let manifest_path = dir.join("manifest.json");
        let text = std::fs::read_to_string(&manifest_path).map_err(|e| {
            Error::config(
                Location::file(&manifest_path),
                format!(
                    "--state {}: cannot read its manifest.json ({e})",
                    dir.display()
                ),
            )
            .with_help("point --state at the target/ folder of an earlier run")
        })?;
        let manifest: Json = serde_json::from_str(&text).map_err(|e| {
            Error::config(
                Location::at(&manifest_path, e.line(), Some(e.column())),
                format!("not a manifest.json: {e}"),
            )
        })?;
        let text_of = |v: &Json, key: &str| v.get(key).and_then(Json::as_str).map(str::to_string);
        let nodes = manifest
            .get("nodes")
            .and_then(Json::as_object)
            .map(|nodes| {
                nodes
                    .iter()
                    .map(|(id, node)| {
                        (
                            id.clone(),
                            StateNode {
                                checksum: node
                                    .pointer("/checksum/checksum")
                                    .and_then(Json::as_str)
                                    .unwrap_or_default()
                                    .to_string(),
                                config: node.get("config").cloned().unwrap_or(Json::Null),
                                database: text_of(node, "database"),
                                schema: text_of(node, "schema"),
                                alias: text_of(node, "alias"),
                            },
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        let results = std::fs::read_to_string(dir.join("run_results.json"))
            .ok()
            .and_then(|text| serde_json::from_str::<Json>(&text).ok())
            .and_then(|doc| doc.get("results").and_then(Json::as_array).cloned())
            .map(|results| {
                results
                    .iter()
                    .filter_map(|r| Some((text_of(r, "unique_id")?, text_of(r, "status")?)))
                    .collect()
            })
            .unwrap_or_default();
        Ok(State {
            dir: dir.to_path_buf(),
            nodes,
            results,
        })
    }

    /// `state:new`, `state:modified` (`.body`, `.configs`) of one node.
    pub fn matches(&self, parsed: &Parsed, node: &ParsedNode, selector: &str) -> bool {
        let Some(before) = self.nodes.get(&node.node.unique_id) else {
            return selector != "old" && selector != "unmodified";
        };
        let body_changed = before.checksum != node.node.checksum(&parsed.project.root);
        let config_changed =
            before.config != serde_json::to_value(&node.node.config.0).unwrap_or(Json::Null);
        match selector {
            "new" => false,
            "old" => true,
            "modified" => body_changed || config_changed,
            "modified.body" => body_changed,
            "modified.configs" => config_changed,
            "unmodified" => !body_changed && !config_changed,
            _ => false,
        }
    }

    /// `--defer`: where refs to the nodes not `selected` point instead, by
    /// name (the relations the state's run built; tests are not read).
    pub fn deferred(
        &self,
        parsed: &Parsed,
        selected: &std::collections::BTreeSet<String>,
    ) -> BTreeMap<String, Relation> {
        parsed
            .nodes
            .iter()
            .filter(|(id, node)| {
                !selected.contains(*id) && node.node.kind != crate::project::node::NodeKind::Test
            })
            .filter_map(|(id, node)| Some((node.node.name.clone(), self.relation(parsed, id)?)))
            .collect()
    }

    /// Where the state's run built `unique_id`, for `--defer`.
    pub fn relation(&self, parsed: &Parsed, unique_id: &str) -> Option<Relation> {
        let node = self.nodes.get(unique_id)?;
        Some(Relation::new(
            parsed.target.adapter,
            node.database.clone()?,
            node.schema.clone()?,
            node.alias.clone()?,
        ))
    }
}

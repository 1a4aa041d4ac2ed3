//! Snapshots: the `{% snapshot name %} ... {% endsnapshot %}` blocks of the
//! files in snapshot paths, one node each. A node's code is its file with
//! everything but the block's body blanked out, so errors keep the lines the
//! user sees.

use std::path::Path;
use std::sync::OnceLock;

use regex::Regex;

use super::discovery;
use super::node::{Node, NodeKind};
use crate::config::NodeConfig;
use crate::config::dbt_project::DbtProject;
use crate::error::{Error, Location};

/// A snapshot block found in a file: its name and the byte range of its body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotBlock {
    pub name: String,
    pub body: std::ops::Range<usize>,
    /// 1-based line of the opening tag.
    pub line: usize,
}

/// The snapshot blocks of `text`, or the line of a block left open.
pub fn snapshot_blocks(text: &str) -> Result<Vec<SnapshotBlock>, (usize, String)> {
    static OPEN: OnceLock<Regex> = OnceLock::new();
    static CLOSE: OnceLock<Regex> = OnceLock::new();
    let open = OPEN.get_or_init(|| {
        Regex::new(r"\{%-?\s*snapshot\s+([A-Za-z_][A-Za-z0-9_]*)\s*-?%\}").expect("valid regex")
    });
    let close =
        CLOSE.get_or_init(|| Regex::new(r"\{%-?\s*endsnapshot\s*-?%\}").expect("valid regex"));
    let line_of = |offset: usize| text[..offset].matches('\n').count() + 1;
    let mut blocks = Vec::new();
    let mut at = 0;
    while let Some(start) = open.captures_at(text, at) {
        let whole = start.get(0).expect("a match");
        let name = start[1].to_string();
        let Some(end) = close.find_at(text, whole.end()) else {
            return Err((
                line_of(whole.start()),
                format!("snapshot '{name}' is not closed with {{% endsnapshot %}}"),
            ));
        };
        blocks.push(SnapshotBlock {
            name,
            body: whole.end()..end.start(),
            line: line_of(whole.start()),
        });
        at = end.end();
    }
    Ok(blocks)
}

/// `text` with everything outside `body` replaced by spaces (newlines kept).
fn only_body(text: &str, body: &std::ops::Range<usize>) -> String {
    text.char_indices()
        .map(|(i, c)| {
            if body.contains(&i) || c == '\n' {
                c
            } else {
                ' '
            }
        })
        .collect()
}

/// One node for each snapshot block in the snapshot paths.
pub fn snapshots(root: &Path, config: &DbtProject, errors: &mut Vec<Error>) -> Vec<Node> {
    let mut nodes = Vec::new();
    for file in discovery::find_files(root, &config.snapshot_paths, &["sql"], errors) {
        let text = match std::fs::read_to_string(root.join(&file)) {
            Ok(text) => text,
            Err(e) => {
                errors.push(Error::io(&file, &e));
                continue;
            }
        };
        let display = crate::files::display_join(root, &file);
        let blocks = match snapshot_blocks(&text) {
            Ok(blocks) => blocks,
            Err((line, message)) => {
                errors.push(Error::config(Location::at(&display, line, None), message));
                continue;
            }
        };
        let relative = discovery::relative_to_folder(&file, &config.snapshot_paths);
        for block in blocks {
            let fqn = discovery::fqn(&config.name, &relative, &block.name);
            let mut node_config = NodeConfig::default();
            for level in config.config_levels("snapshots", &fqn) {
                node_config.merge_all(&level);
            }
            node_config.merge("materialized", serde_json::Value::String("snapshot".into()));
            nodes.push(Node {
                unique_id: format!("snapshot.{}.{}", config.name, block.name),
                kind: NodeKind::Snapshot,
                name: block.name.clone(),
                package: config.name.clone(),
                original_file_path: file.clone(),
                path: relative.clone(),
                fqn,
                raw_code: only_body(&text, &block.body),
                config: node_config,
                description: String::new(),
                columns: Vec::new(),
                constraints: Vec::new(),
                patch_path: None,
                test: None,
                unit: None,
                version: None,
                resource: None,
            });
        }
    }
    nodes
}

/// Snapshots declared in properties files (dbt 1.9): an entry with a
/// `relation:` snapshots `select * from` that relation.
pub fn yaml_snapshots(
    config: &DbtProject,
    entries: &std::collections::BTreeMap<String, super::node::Patch>,
) -> Vec<Node> {
    let mut nodes = Vec::new();
    for (name, patch) in entries {
        let Some(relation) = &patch.relation else {
            continue;
        };
        let fqn = vec![config.name.clone(), name.clone()];
        let mut node_config = NodeConfig::default();
        for level in config.config_levels("snapshots", &fqn) {
            node_config.merge_all(&level);
        }
        node_config.merge("materialized", serde_json::Value::String("snapshot".into()));
        // The code sits on the entry's line, so errors point there.
        let line = patch.location.line.unwrap_or(1);
        nodes.push(Node {
            unique_id: format!("snapshot.{}.{name}", config.name),
            kind: NodeKind::Snapshot,
            name: name.clone(),
            package: config.name.clone(),
            original_file_path: patch.file.clone(),
            path: patch.file.clone(),
            fqn,
            raw_code: format!(
                "{}select * from {{{{ {relation} }}}}\n",
                "\n".repeat(line.saturating_sub(1))
            ),
            config: node_config,
            description: String::new(),
            columns: Vec::new(),
            constraints: Vec::new(),
            patch_path: None,
            test: None,
            unit: None,
            version: None,
            resource: None,
        });
    }
    nodes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_each_block_and_keeps_lines() {
        let text = "-- a file\n{% snapshot a %}\nselect 1\n{% endsnapshot %}\n{%- snapshot b -%}select 2{%- endsnapshot -%}\n";
        let blocks = snapshot_blocks(text).unwrap();
        assert_eq!(
            blocks
                .iter()
                .map(|b| (b.name.as_str(), b.line))
                .collect::<Vec<_>>(),
            [("a", 2), ("b", 5)]
        );
        let body = only_body(text, &blocks[0].body);
        assert_eq!(body.lines().nth(2), Some("select 1"));
        assert_eq!(body.lines().count(), text.lines().count());
        assert!(!body.contains("snapshot"));
    }

    #[test]
    fn an_open_block_names_its_line() {
        assert_eq!(
            snapshot_blocks("\n{% snapshot s %}\nselect 1\n")
                .unwrap_err()
                .0,
            2
        );
    }
}

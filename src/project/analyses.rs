//! Analyses: the `.sql` files of `analysis-paths`, Jinja SQL that reads the
//! project with `ref()` and `source()`. `compile` writes their SQL; nothing
//! runs them, as in dbt.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::discovery;
use super::node::{Node, NodeKind, Patch};
use crate::config::NodeConfig;
use crate::config::dbt_project::DbtProject;
use crate::diagnostic::{Code, Diagnostic, did_you_mean};
use crate::error::Error;

/// The analyses of one package, with what its properties files say of
/// them; an entry for an analysis that has no file is a warning.
pub fn analysis_nodes(
    root: &Path,
    config: &DbtProject,
    patches: &BTreeMap<String, Patch>,
    errors: &mut Vec<Error>,
    warnings: &mut Vec<Diagnostic>,
) -> Vec<Node> {
    let mut nodes: Vec<Node> = Vec::new();
    for file in discovery::find_files(root, &config.analysis_paths, &["sql"], errors) {
        let Some((name, raw_code)) = discovery::read_named(root, &file, errors) else {
            continue;
        };
        let relative = discovery::relative_to_folder(&file, &config.analysis_paths);
        // dbt's fqn and path of an analysis put it under `analysis`.
        let path = PathBuf::from("analysis").join(&relative);
        let fqn = discovery::fqn(&config.name, &path, &name);
        let mut node_config = NodeConfig::default();
        for level in config.config_levels("analyses", &fqn) {
            node_config.merge_all(&level);
        }
        let patch = patches.get(&name).cloned().unwrap_or_default();
        node_config.merge_all(&patch.config);
        let unique_id = format!("analysis.{}.{name}", config.name);
        if let Some(first) = nodes.iter().find(|n| n.unique_id == unique_id) {
            errors.push(Error::config(
                crate::error::Location::file(crate::files::display_join(root, &file)),
                format!(
                    "two analyses are named '{name}': {} and {}; names must be unique",
                    first.original_file_path.display(),
                    file.display()
                ),
            ));
            continue;
        }
        nodes.push(Node {
            unique_id,
            kind: NodeKind::Analysis,
            name,
            package: config.name.clone(),
            original_file_path: file,
            path,
            fqn,
            raw_code,
            config: node_config,
            description: patch.description.clone(),
            columns: patch.columns.clone(),
            constraints: Vec::new(),
            patch_path: (patch != Patch::default()).then(|| patch.file.clone()),
            test: None,
            unit: None,
            version: None,
            resource: None,
        });
    }
    for (name, patch) in patches {
        if !nodes.iter().any(|n| &n.name == name) {
            let known = nodes.iter().map(|n| n.name.as_str());
            warnings.push(
                Diagnostic::warning(
                    Code::Config,
                    format!("describes analysis '{name}', but there is no such analysis"),
                )
                .at(patch.location.clone())
                .with_help(did_you_mean(name, known)),
            );
        }
    }
    nodes
}

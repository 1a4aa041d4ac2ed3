//! Data tests as nodes: singular tests (`.sql` files in test paths) and the
//! generic tests properties files declare, with dbt's names, unique ids, fqns
//! and configs (`data_tests:` in dbt_project.yml < the test's own entry).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value as Json;

use super::data_tests::{read_entry, synthesize_names, test_hash};
use super::discovery;
use super::node::{Node, NodeKind, SourceTable, TestMetadata};
use super::properties::{DeclaredTest, TestTarget};
use crate::config::NodeConfig;
use crate::config::dbt_project::DbtProject;
use crate::error::{Error, Location};
use crate::jinja_base::config_renderer::{ConfigRenderer, RenderError};

/// The schema a test's failing rows are stored in, under the target's.
pub const AUDIT_SCHEMA: &str = "dbt_test__audit";

/// The config a test starts from: dbt's defaults, then the project's tree.
fn base_config(config: &DbtProject, fqn: &[String]) -> NodeConfig {
    let mut node_config = NodeConfig::default();
    node_config.merge("schema", Json::String(AUDIT_SCHEMA.into()));
    for level in config.config_levels("data_tests", fqn) {
        node_config.merge_all(&level);
    }
    node_config
}

/// Every `.sql` file of the test paths outside `generic/`, one test each.
pub fn singular_tests(root: &Path, config: &DbtProject, errors: &mut Vec<Error>) -> Vec<Node> {
    let mut tests: Vec<Node> = Vec::new();
    for file in discovery::find_files(root, &config.test_paths, &["sql"], errors) {
        let relative = discovery::relative_to_folder(&file, &config.test_paths);
        // `generic/` holds generic tests, `fixtures/` unit tests' fixture
        // files: dbt makes neither a singular test.
        if relative.starts_with("generic") || relative.starts_with("fixtures") {
            continue;
        }
        let Some((name, raw_code)) = discovery::read_named(root, &file, errors) else {
            continue;
        };
        if let Some(first) = tests.iter().find(|t| t.name == name) {
            errors.push(Error::config(
                Location::file(crate::files::display_join(root, &file)),
                format!(
                    "two singular tests are named '{name}': {} and {}; names must be unique",
                    first.original_file_path.display(),
                    file.display()
                ),
            ));
            continue;
        }
        let fqn = discovery::fqn(&config.name, &relative, &name);
        tests.push(Node {
            unique_id: format!("test.{}.{name}", config.name),
            kind: NodeKind::Test,
            name,
            package: config.name.clone(),
            original_file_path: file,
            path: relative,
            config: base_config(config, &fqn),
            fqn,
            raw_code,
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
    tests
}

/// A node for each declared generic test whose model, seed or source exists
/// and is enabled; the Jinja in its configs rendered with `renderer` (see
/// [`render_config`]). (A test of a node that does not exist is dropped: the
/// properties file already has a warning for that node.)
pub fn generic_tests(
    declared: &[DeclaredTest],
    config: &DbtProject,
    nodes: &BTreeMap<String, Node>,
    sources: &BTreeMap<String, SourceTable>,
    renderer: &ConfigRenderer,
    errors: &mut Vec<Error>,
) -> Vec<Node> {
    let mut tests: Vec<Node> = Vec::new();
    let mut seen: BTreeMap<String, Location> = BTreeMap::new();
    let folders: Vec<String> = config
        .model_paths
        .iter()
        .chain(&config.seed_paths)
        .chain(&config.snapshot_paths)
        .chain(&config.macro_paths)
        .cloned()
        .collect();
    for test in declared {
        // What the test is attached to: the node, or (dbt 1.5) each version
        // of a versioned model, named `<model>_v<v>`.
        let targets: Vec<(String, String, String)> = match &test.target {
            TestTarget::Node { kind, name } => {
                let id = format!("{kind}.{}.{name}", config.name);
                if nodes.contains_key(&id) {
                    vec![(
                        id,
                        name.clone(),
                        format!("{{{{ get_where_subquery(ref('{name}')) }}}}"),
                    )]
                } else {
                    // Disabled or missing: the test goes with it.
                    nodes
                        .values()
                        .filter(|n| n.kind.resource_type() == *kind && n.name == *name)
                        .filter_map(|n| Some((n, n.version.as_ref()?)))
                        .map(|(n, v)| {
                            (
                                n.unique_id.clone(),
                                format!("{name}_v{}", v.v),
                                format!(
                                    "{{{{ get_where_subquery(ref('{name}', version='{}')) }}}}",
                                    v.v
                                ),
                            )
                        })
                        .collect()
                }
            }
            TestTarget::Source { source, table } => {
                let id = format!("source.{}.{source}.{table}", config.name);
                if !sources.contains_key(&id) {
                    continue;
                }
                vec![(
                    id,
                    format!("{source}_{table}"),
                    format!("{{{{ get_where_subquery(source('{source}', '{table}')) }}}}"),
                )]
            }
        };
        for (attached_to, target_name, model_kwarg) in targets {
            let mut entry = match read_entry(&test.entry) {
                Ok(entry) => entry,
                Err(message) => {
                    errors.push(Error::config(test.location.clone(), message));
                    continue;
                }
            };
            if let Err(error) = render_config(&mut entry.config, renderer) {
                errors.push(error.at(test.location.clone()));
                continue;
            }
            let mut args = entry.args.clone();
            if let Some(column) = &test.column {
                args.insert("column_name".into(), Json::String(column.clone()));
            }
            // dbt puts `source_` on the name first, then the namespace in front.
            let mut test_type = entry.test_name.clone();
            if matches!(test.target, TestTarget::Source { .. }) {
                test_type = format!("source_{test_type}");
            }
            if let Some(ns) = &entry.namespace {
                test_type = format!("{ns}_{test_type}");
            }
            let (short, full) = synthesize_names(&test_type, &target_name, &args);
            let name = entry.name.clone().unwrap_or(full);
            let file_name = entry.name.clone().unwrap_or(short.clone());
            args.insert("model".into(), Json::String(model_kwarg));
            let hash = test_hash(&name, &entry.test_name, entry.namespace.as_deref(), &args);
            let unique_id = format!("test.{}.{name}.{hash}", config.name);
            if let Some(first) = seen.insert(unique_id.clone(), test.location.clone()) {
                errors.push(
                Error::config(
                    test.location.clone(),
                    format!("test '{name}' is declared twice with the same arguments: here and at {first}"),
                )
                .with_help("remove one, or give one a different `name:`"),
            );
                continue;
            }

            let relative = discovery::relative_to_folder(&test.file, &folders);
            let fqn = discovery::fqn(&config.name, &relative, &name);
            let mut node_config = base_config(config, &fqn);
            node_config.merge_all(&entry.config);
            let own_config = entry.config.clone();
            if short != name && entry.name.is_none() && node_config.get("alias").is_none() {
                node_config.merge("alias", Json::String(short));
            }
            let metadata = TestMetadata {
                name: entry.test_name,
                namespace: entry.namespace,
                kwargs: args,
                column_name: test.column.clone(),
                attached_to,
                location: test.location.clone(),
                config: own_config,
            };
            let call = metadata.macro_call();
            tests.push(Node {
                unique_id,
                kind: NodeKind::Test,
                name,
                package: config.name.clone(),
                original_file_path: test.file.clone(),
                path: PathBuf::from(format!("{file_name}.sql")),
                fqn,
                raw_code: format!("{{{{ {call}(**_dbt_generic_test_kwargs) }}}}"),
                config: node_config,
                description: entry.description.clone(),
                columns: Vec::new(),
                constraints: Vec::new(),
                patch_path: None,
                test: Some(metadata),
                unit: None,
                version: None,
                resource: None,
            });
        }
    }
    tests
}

/// Renders the Jinja in the configs a properties file gives a test or a
/// node (`severity: "{{ 'warn' if target.type == 'x' else 'error' }}"`,
/// `where`, `enabled`, `materialized`, ...) as dbt renders them when it parses
/// the file: with `target`, `var()` and `env_var()`, to a value (`enabled:
/// "{{ target.type == 'duckdb' }}"` is a boolean). Hooks render when they run.
pub(super) fn render_config(
    config: &mut BTreeMap<String, Json>,
    renderer: &ConfigRenderer,
) -> Result<(), RenderError> {
    for (key, value) in config.iter_mut() {
        if matches!(
            key.as_str(),
            "pre_hook" | "post_hook" | "pre-hook" | "post-hook"
        ) {
            continue;
        }
        render_json(value, renderer).map_err(|error| error.within(format!("config `{key}`")))?;
    }
    config.retain(|_, value| !value.is_null());
    Ok(())
}

fn render_json(value: &mut Json, renderer: &ConfigRenderer) -> Result<(), RenderError> {
    match value {
        Json::String(text) if text.contains("{{") || text.contains("{%") => {
            *value = renderer.render_native(text)?;
        }
        Json::Array(items) => {
            for item in items {
                render_json(item, renderer)?;
            }
        }
        Json::Object(map) => {
            for item in map.values_mut() {
                render_json(item, renderer)?;
            }
        }
        _ => {}
    }
    Ok(())
}

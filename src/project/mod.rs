//! Loading a project: its config files, and every model, seed, source and macro
//! found under the folders dbt_project.yml names. No Jinja is rendered here
//! beyond the config files' own `env_var()`s, and no database is touched.

pub mod analyses;
pub mod data_tests;
pub mod discovery;
pub mod docs_blocks;
pub mod lookup;
pub mod node;
pub mod properties;
pub mod resources;
pub mod snapshot_nodes;
mod test_nodes;
pub mod unit_tests;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::config::Target;
use crate::config::dbt_project::DbtProject;
use crate::config::node_config::NodeConfig;
use crate::config::profiles::{find_profiles_file, load_target};
use crate::diagnostic::{Code, Diagnostic, did_you_mean};
use crate::error::{Error, Location, Result};
use crate::files::display_join;
use crate::jinja_base::config_renderer::ConfigRenderer;
use node::{MacroFile, Node, NodeKind, Patch, SourceTable};
use properties::Properties;

/// What the command line says about where and how to load the project.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    pub project_dir: PathBuf,
    pub profiles_dir: Option<PathBuf>,
    pub target: Option<String>,
    /// `--vars`, which win over the project's own.
    pub vars: BTreeMap<String, serde_json::Value>,
}

#[derive(Debug)]
pub struct Project {
    pub root: PathBuf,
    pub config: DbtProject,
    pub target: Target,
    pub cli_vars: BTreeMap<String, serde_json::Value>,
    /// Enabled models and seeds by unique id.
    pub nodes: BTreeMap<String, Node>,
    /// Nodes with `enabled: false`, kept to explain refs to them.
    pub disabled: BTreeMap<String, Node>,
    pub sources: BTreeMap<String, SourceTable>,
    pub macros: Vec<MacroFile>,
    /// Things worth telling the user that do not stop the run.
    pub warnings: Vec<Diagnostic>,
    /// The installed packages, their folders seen from `root`.
    pub packages: Vec<DbtProject>,
    /// The `groups:` of every properties file, with the package of each.
    pub groups: Vec<(String, properties::DeclaredGroup)>,
    /// The `{% docs %}` blocks of every package.
    pub docs: Vec<docs_blocks::DocBlock>,
}

/// What the root project and its packages hold, gathered together.
#[derive(Debug, Default)]
struct Content {
    nodes: BTreeMap<String, Node>,
    disabled: BTreeMap<String, Node>,
    sources: BTreeMap<String, SourceTable>,
    macros: Vec<MacroFile>,
    groups: Vec<(String, properties::DeclaredGroup)>,
    docs: Vec<docs_blocks::DocBlock>,
}

impl Project {
    pub fn load(options: &LoadOptions) -> Result<Project> {
        let root = options.project_dir.clone();
        let renderer = ConfigRenderer::new(options.vars.clone());
        let (profile, profile_location) = DbtProject::profile_of(&root, &renderer)?;
        let profiles_file = find_profiles_file(options.profiles_dir.as_deref())?;
        let target = load_target(
            &profiles_file,
            &profile,
            &profile_location,
            options.target.as_deref(),
            &renderer,
        )?;
        // As in dbt, the rest of dbt_project.yml (a package's too) renders
        // with the target the profile gave.
        let renderer = renderer.with_target(crate::jinja_base::target_value(&target));
        let config = DbtProject::load(&root, &renderer)?;

        let mut errors = Vec::new();
        let mut warnings = config.warnings.clone();
        let packages = crate::packages::installed(&root, &config, &renderer)?;
        let mut content = Content::default();
        load_package(
            &root,
            &config,
            &target,
            &renderer.with_vars(config_vars(&config, &config, &options.vars)),
            &mut content,
            &mut errors,
            &mut warnings,
        );
        for package in &packages {
            // A package's own warnings are its author's to fix, not the user's.
            let mut ignored = Vec::new();
            load_package(
                &root,
                package,
                &target,
                &renderer.with_vars(config_vars(&config, package, &options.vars)),
                &mut content,
                &mut errors,
                &mut ignored,
            );
        }
        errors.extend(resources::link(&mut content.nodes, &root));
        let docs = docs_blocks::index(&content.docs);
        docs_blocks::render_descriptions(
            &mut content.nodes,
            &mut content.sources,
            &root,
            &renderer.with_vars(config_vars(&config, &config, &options.vars)),
            &docs,
            &mut errors,
        );
        if let Some(error) = Error::from_many(errors) {
            return Err(error);
        }
        Ok(Project {
            root,
            config,
            target,
            cli_vars: options.vars.clone(),
            nodes: content.nodes,
            disabled: content.disabled,
            sources: content.sources,
            macros: content.macros,
            warnings,
            packages,
            groups: content.groups,
            docs: content.docs,
        })
    }

    /// `source(source, table)` as a node of package `calling` sees it: the
    /// root project's, its own package's, or any package's (dbt's order).
    pub fn find_source(&self, source: &str, table: &str, calling: &str) -> Option<&SourceTable> {
        let of = |package: &str| {
            self.sources
                .get(&format!("source.{package}.{source}.{table}"))
        };
        of(&self.config.name).or_else(|| of(calling)).or_else(|| {
            self.sources
                .values()
                .find(|s| s.source_name == source && s.name == table)
        })
    }

    /// The root project's configs of `node` when it belongs to a package (none
    /// for the root's own nodes), least specific first.
    pub fn root_config_levels(&self, node: &Node) -> Vec<BTreeMap<String, serde_json::Value>> {
        if node.package == self.config.name {
            return Vec::new();
        }
        let tree = match node.kind {
            NodeKind::Model => "models",
            NodeKind::Seed => "seeds",
            NodeKind::Snapshot => "snapshots",
            NodeKind::Test => "data_tests",
            NodeKind::UnitTest => "unit_tests",
            NodeKind::Analysis => "analyses",
            NodeKind::Exposure => "exposures",
            NodeKind::Metric => "metrics",
            NodeKind::SemanticModel => "semantic_models",
            NodeKind::SavedQuery => "saved_queries",
        };
        self.config
            .config_trees
            .get(tree)
            .map(|tree| crate::config::node_config::configs_from_tree(tree, &node.fqn))
            .unwrap_or_default()
    }

    /// The `on-run-start` (or `on-run-end`) hooks to run, in dbt's order:
    /// each installed package's (by package name), then the root project's.
    pub fn run_hooks(&self, start: bool) -> Vec<&String> {
        let mut hooks: Vec<&String> = Vec::new();
        for config in self.packages.iter().chain(std::iter::once(&self.config)) {
            hooks.extend(if start {
                &config.on_run_start
            } else {
                &config.on_run_end
            });
        }
        hooks
    }

    /// The directory artifacts go to (`target/` by default).
    pub fn target_dir(&self) -> PathBuf {
        display_join(&self.root, Path::new(&self.config.target_path))
    }

    /// The path a user should see for a file of the project.
    pub fn display_path(&self, relative: &Path) -> PathBuf {
        display_join(&self.root, relative)
    }
}

/// The vars `var()` sees in the configs of `package`'s properties files:
/// the package's own, the root project's (global, then those scoped to the
/// package), then `--vars`.
fn config_vars(
    root: &DbtProject,
    package: &DbtProject,
    cli: &BTreeMap<String, serde_json::Value>,
) -> BTreeMap<String, serde_json::Value> {
    let mut vars = BTreeMap::new();
    let scoped = |project: &DbtProject| -> Vec<(String, serde_json::Value)> {
        match project.vars.get(&package.name) {
            Some(serde_json::Value::Object(map)) => {
                map.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
            }
            _ => Vec::new(),
        }
    };
    vars.extend(package.vars.clone());
    vars.extend(scoped(package));
    if root.name != package.name {
        vars.extend(root.vars.clone());
        vars.extend(scoped(root));
    }
    vars.extend(cli.clone());
    vars
}

/// Reads one project's (the root's or a package's) models, seeds, sources,
/// macros, snapshots and tests into `content`; `renderer` renders the Jinja
/// in the configs its properties files give.
fn load_package(
    root: &Path,
    config: &DbtProject,
    target: &Target,
    renderer: &ConfigRenderer,
    content: &mut Content,
    errors: &mut Vec<Error>,
    warnings: &mut Vec<Diagnostic>,
) {
    let mut properties = read_properties(root, config, errors);
    warnings.append(&mut properties.warnings);

    let mut nodes = BTreeMap::new();
    let mut disabled = BTreeMap::new();
    let mut names: BTreeMap<(NodeKind, String), PathBuf> = BTreeMap::new();

    let versioned = versioned_files(&properties.models);
    let model_files = discovery::find_files(root, &config.model_paths, &["sql"], errors);
    let seed_files = discovery::find_files(root, &config.seed_paths, &["csv"], errors);
    for (kind, files, folders, tree, patches) in [
        (
            NodeKind::Model,
            model_files,
            &config.model_paths,
            "models",
            &properties.models,
        ),
        (
            NodeKind::Seed,
            seed_files,
            &config.seed_paths,
            "seeds",
            &properties.seeds,
        ),
    ] {
        for file in files {
            let Some(name) = file.file_stem().map(|s| s.to_string_lossy().to_string()) else {
                continue;
            };
            if let Some(first) = names.insert((kind, name.clone()), file.clone()) {
                errors.push(Error::config(
                    Location::file(&file),
                    format!(
                        "two {}s are named '{name}': {} and {}; names must be unique",
                        kind.resource_type(),
                        first.display(),
                        file.display()
                    ),
                ));
                continue;
            }
            let raw_code = match kind {
                NodeKind::Model => match std::fs::read_to_string(root.join(&file)) {
                    Ok(text) => text,
                    Err(e) => {
                        errors.push(Error::io(&file, &e));
                        continue;
                    }
                },
                _ => String::new(),
            };
            let relative = discovery::relative_to_folder(&file, folders);
            let mut fqn = discovery::fqn(&config.name, &relative, &name);
            // A version of a versioned model: named as the model, `.v<v>`.
            let version = match versioned.get(&name) {
                Some((model, v)) if kind == NodeKind::Model => Some((model.clone(), (*v).clone())),
                _ => None,
            };
            let name = version.as_ref().map_or(name, |(model, _)| model.clone());
            if let Some((_, v)) = &version {
                fqn.pop();
                fqn.push(name.clone());
                fqn.push(format!("v{}", v.v));
            }
            let mut node_config = NodeConfig::default();
            for level in config.config_levels(tree, &fqn) {
                node_config.merge_all(&level);
            }
            let mut patch = patches.get(&name).cloned().unwrap_or_default();
            let model_version = version.as_ref().map(|(_, v)| {
                patch.config.extend(v.config.clone());
                patch.columns = version_columns(&patch.columns, v);
                Box::new(node::ModelVersion {
                    v: v.v.clone(),
                    latest: latest_version(&patch),
                    deprecation_date: v
                        .deprecation_date
                        .clone()
                        .or_else(|| patch.deprecation_date.clone()),
                })
            });
            if let Err(error) = test_nodes::render_config(&mut patch.config, renderer) {
                errors.push(error.at(patch.location.clone()));
                continue;
            }
            node_config.merge_all(&patch.config);
            let unique_id = match &model_version {
                Some(v) => format!("model.{}.{}.v{}", config.name, name, v.v),
                None => format!("{}.{}.{}", kind.resource_type(), config.name, name),
            };
            if let Some(v) = &model_version
                && let Some(date) = &v.deprecation_date
                && deprecated(date)
            {
                warnings.push(
                    Diagnostic::warning(
                        Code::Config,
                        format!(
                            "Model {name}.v{} has passed its deprecation date of {}. This model should be disabled or removed.",
                            v.v,
                            dbt_date(date)
                        ),
                    )
                    .at(patch.location.clone()),
                );
            }
            let node = Node {
                unique_id,
                kind,
                name,
                package: config.name.clone(),
                original_file_path: file,
                path: relative,
                fqn,
                raw_code,
                config: node_config,
                description: patch.description.clone(),
                columns: patch.columns.clone(),
                constraints: patch.constraints.clone(),
                patch_path: (patch != Patch::default()).then(|| patch.file.clone()),
                test: None,
                unit: None,
                version: model_version,
                resource: None,
            };
            if node.config.enabled() {
                nodes.insert(node.unique_id.clone(), node);
            } else {
                disabled.insert(node.unique_id.clone(), node);
            }
        }
    }
    for (kind, patches) in [("model", &properties.models), ("seed", &properties.seeds)] {
        for (name, patch) in patches {
            let id = format!("{kind}.{}.{name}", config.name);
            if !nodes.contains_key(&id) && !disabled.contains_key(&id) && patch.versions.is_empty()
            {
                let known: Vec<&str> = nodes
                    .values()
                    .filter(|n| n.kind.resource_type() == kind)
                    .map(|n| n.name.as_str())
                    .collect();
                warnings.push(
                    Diagnostic::warning(
                        Code::Config,
                        format!("describes {kind} '{name}', but there is no such {kind}"),
                    )
                    .at(patch.location.clone())
                    .with_help(did_you_mean(name, known)),
                );
            }
            for version in &patch.versions {
                let id = format!("model.{}.{name}.v{}", config.name, version.v);
                if !nodes.contains_key(&id) && !disabled.contains_key(&id) {
                    let file = version
                        .defined_in
                        .clone()
                        .unwrap_or_else(|| format!("{name}_v{}", version.v));
                    warnings.push(
                        Diagnostic::warning(
                            Code::Config,
                            format!(
                                "version {} of model '{name}' has no file: there is no {file}.sql in the model paths",
                                version.v
                            ),
                        )
                        .at(patch.location.clone()),
                    );
                }
            }
        }
    }

    let sources = build_sources(&properties, config, target, renderer, errors);
    let macros = read_macros(root, config, errors);
    let declared = snapshot_nodes::yaml_snapshots(config, &properties.snapshots);
    for snapshot in snapshot_nodes::snapshots(root, config, errors)
        .into_iter()
        .chain(declared)
    {
        let mut snapshot = snapshot;
        if let Some(patch) = properties.snapshots.get(&snapshot.name) {
            snapshot.config.merge_all(&patch.config);
            snapshot.description = patch.description.clone();
            snapshot.columns = patch.columns.clone();
            snapshot.patch_path = Some(patch.file.clone());
        }
        if let Some(first) = nodes.get(&snapshot.unique_id) {
            errors.push(Error::config(
                Location::file(&snapshot.original_file_path),
                format!(
                    "two snapshots are named '{}': in {} and {}",
                    snapshot.name,
                    first.original_file_path.display(),
                    snapshot.original_file_path.display()
                ),
            ));
            continue;
        }
        if snapshot.config.enabled() {
            nodes.insert(snapshot.unique_id.clone(), snapshot);
        } else {
            disabled.insert(snapshot.unique_id.clone(), snapshot);
        }
    }
    let tests = test_nodes::singular_tests(root, config, errors)
        .into_iter()
        .chain(test_nodes::generic_tests(
            &properties.tests,
            config,
            &nodes,
            &sources,
            renderer,
            errors,
        ));
    let unit_tests = unit_tests::unit_test_nodes(
        root,
        config,
        &properties.unit_tests,
        &nodes,
        &disabled,
        errors,
    );
    let analyses = analyses::analysis_nodes(root, config, &properties.analyses, errors, warnings);
    let resources = resources::resource_nodes(config, &properties.resources, errors);
    for test in tests.chain(unit_tests).chain(analyses).chain(resources) {
        if test.config.enabled() {
            nodes.insert(test.unique_id.clone(), test);
        } else {
            disabled.insert(test.unique_id.clone(), test);
        }
    }
    content.nodes.append(&mut nodes);
    content.disabled.append(&mut disabled);
    content.sources.extend(sources);
    content.macros.extend(macros);
    content
        .docs
        .extend(docs_blocks::read_docs(root, config, errors));
    content.groups.extend(
        properties
            .groups
            .into_iter()
            .map(|g| (config.name.clone(), g)),
    );
}

impl PartialEq for Patch {
    fn eq(&self, other: &Self) -> bool {
        self.description == other.description
            && self.config == other.config
            && self.columns == other.columns
            && self.file == other.file
            && self.relation == other.relation
            && self.constraints == other.constraints
            && self.versions == other.versions
            && self.latest_version == other.latest_version
    }
}

/// The files of versioned models' versions, by name without `.sql`
/// (`defined_in`, else `<model>_v<v>`): the model and the version.
fn versioned_files(
    models: &BTreeMap<String, Patch>,
) -> BTreeMap<String, (String, &node::VersionPatch)> {
    let mut files = BTreeMap::new();
    for (name, patch) in models {
        for version in &patch.versions {
            let file = version
                .defined_in
                .clone()
                .unwrap_or_else(|| format!("{name}_v{}", version.v));
            files.insert(file, (name.clone(), version));
        }
    }
    files
}

/// A model's `latest_version`, else its highest version.
fn latest_version(patch: &Patch) -> String {
    patch.latest_version.clone().unwrap_or_else(|| {
        patch
            .versions
            .iter()
            .map(|v| v.v.clone())
            .max_by(|a, b| node::compare_versions(a, b))
            .unwrap_or_default()
    })
}

/// A version's columns: the model's it includes (all, or those named),
/// less those it excludes, then its own over them.
fn version_columns(
    model: &[node::ColumnInfo],
    version: &node::VersionPatch,
) -> Vec<node::ColumnInfo> {
    let mut columns: Vec<node::ColumnInfo> = model
        .iter()
        .filter(|c| {
            version
                .include
                .as_ref()
                .is_none_or(|names| names.contains(&c.name))
                && !version.exclude.contains(&c.name)
        })
        .cloned()
        .collect();
    for own in &version.columns {
        match columns.iter_mut().find(|c| c.name == own.name) {
            Some(existing) => *existing = own.clone(),
            None => columns.push(own.clone()),
        }
    }
    columns
}

/// A `deprecation_date` as dbt writes it: a date is its midnight in UTC.
pub fn dbt_date(date: &str) -> String {
    if date.len() == 10 {
        format!("{date}T00:00:00+00:00")
    } else {
        date.to_string()
    }
}

/// Whether a `deprecation_date` (a date, or a date and time) is past.
pub fn deprecated(date: &str) -> bool {
    let day = date.get(..10).unwrap_or(date);
    chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d")
        .is_ok_and(|d| d < chrono::Utc::now().date_naive())
}

fn read_properties(root: &Path, config: &DbtProject, errors: &mut Vec<Error>) -> Properties {
    let folders = config.properties_paths();
    let mut properties = Properties::default();
    for file in discovery::find_files(root, &folders, &["yml", "yaml"], errors) {
        match std::fs::read_to_string(root.join(&file)) {
            Ok(text) => {
                let display = display_join(root, &file);
                if let Err(e) = properties.add_file_at(&text, &display, &file) {
                    errors.push(e);
                }
            }
            Err(e) => errors.push(Error::io(&file, &e)),
        }
    }
    properties
}

fn build_sources(
    properties: &Properties,
    config: &DbtProject,
    target: &Target,
    renderer: &ConfigRenderer,
    errors: &mut Vec<Error>,
) -> BTreeMap<String, SourceTable> {
    let mut sources = BTreeMap::new();
    for declared in &properties.sources {
        // dbt renders a source's `database`, `schema` and `identifier`
        // (`schema: "{{ target.schema ~ '_raw' }}"`) with target, var and
        // env_var.
        let mut render = |part: &Option<String>, what: &str| -> Option<String> {
            let text = part.as_ref()?;
            if !text.contains("{{") && !text.contains("{%") {
                return Some(text.clone());
            }
            match renderer.render(text) {
                Ok(serde_yaml::Value::String(rendered)) => Some(rendered),
                Ok(other) => Some(
                    serde_yaml::to_string(&other)
                        .unwrap_or_default()
                        .trim()
                        .to_string(),
                ),
                Err(error) => {
                    errors.push(
                        error
                            .within(format!(
                                "source '{}.{}': `{what}`",
                                declared.source_name, declared.table_name
                            ))
                            .at(Location::file(&declared.file)),
                    );
                    Some(text.clone())
                }
            }
        };
        let database = render(&declared.database, "database");
        let schema = render(&declared.schema, "schema");
        let identifier = render(&declared.identifier, "identifier");
        let unique_id = format!(
            "source.{}.{}.{}",
            config.name, declared.source_name, declared.table_name
        );
        if sources.contains_key(&unique_id) {
            errors.push(Error::config(
                Location::file(&declared.file),
                format!(
                    "source '{}.{}' is declared twice",
                    declared.source_name, declared.table_name
                ),
            ));
            continue;
        }
        let database = database.unwrap_or_else(|| target.database.clone());
        let schema = schema.unwrap_or_else(|| declared.source_name.clone());
        let identifier = identifier.unwrap_or_else(|| declared.table_name.clone());
        let external_location = match &declared.external_location {
            None => None,
            Some(template) => {
                let mut values = declared.meta_strings.clone();
                values.extend([
                    ("name".to_string(), declared.table_name.clone()),
                    ("identifier".to_string(), identifier.clone()),
                    ("schema".to_string(), schema.clone()),
                    ("database".to_string(), database.clone()),
                ]);
                match fill_placeholders(template, &values) {
                    Ok(location) => Some(location),
                    Err(missing) => {
                        errors.push(Error::config(
                            declared.location.clone(),
                            format!(
                                "source '{}.{}': `external_location` '{template}' names {{{missing}}}, \
                                 which is not one of name, identifier, schema, database or a key of its meta",
                                declared.source_name, declared.table_name
                            ),
                        ));
                        None
                    }
                }
            }
        };
        sources.insert(
            unique_id.clone(),
            SourceTable {
                external_location,
                unique_id,
                source_name: declared.source_name.clone(),
                name: declared.table_name.clone(),
                database,
                schema,
                identifier,
                description: declared.description.clone(),
                package: config.name.clone(),
                original_file_path: declared.file.clone(),
                loaded_at_field: declared.loaded_at_field.clone(),
                freshness: declared.freshness.clone(),
                location: declared.location.clone(),
                quoting: declared.quoting,
                columns: declared.columns.clone(),
                event_time: declared.event_time.clone(),
            },
        );
    }
    sources
}

/// `template` with each `{key}` replaced by its value (the last one given
/// for a key), `{{` and `}}` as braces: Python's `str.format_map`, which
/// dbt-duckdb fills an `external_location` with. The key it lacks, if any.
fn fill_placeholders(template: &str, values: &[(String, String)]) -> Result<String, String> {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(i) = rest.find(['{', '}']) {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        if tail.starts_with("{{") || tail.starts_with("}}") {
            out.push(tail.as_bytes()[0] as char);
            rest = &tail[2..];
        } else if let Some(stripped) = tail.strip_prefix('{')
            && let Some(end) = stripped.find('}')
        {
            let key = &stripped[..end];
            let value = values
                .iter()
                .rev()
                .find(|(k, _)| k == key)
                .ok_or_else(|| key.to_string())?;
            out.push_str(&value.1);
            rest = &stripped[end + 1..];
        } else {
            out.push_str(&tail[..1]);
            rest = &tail[1..];
        }
    }
    out.push_str(rest);
    Ok(out)
}

/// The macro files: those in macro paths, and the generic tests in a
/// `generic/` folder of the test paths.
fn read_macros(root: &Path, config: &DbtProject, errors: &mut Vec<Error>) -> Vec<MacroFile> {
    let mut macros = Vec::new();
    let mut folders = config.macro_paths.clone();
    folders.extend(config.test_paths.iter().map(|t| format!("{t}/generic")));
    for file in discovery::find_files(root, &folders, &["sql", "jinja", "j2"], errors) {
        match std::fs::read_to_string(root.join(&file)) {
            Ok(source) => macros.push(MacroFile {
                path: file,
                source,
                package: config.name.clone(),
            }),
            Err(e) => errors.push(Error::io(&file, &e)),
        }
    }
    macros
}

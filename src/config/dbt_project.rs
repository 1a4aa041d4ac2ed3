//! `dbt_project.yml`: the project's name, profile, paths, vars and the
//! per-folder config trees (`models:`, `seeds:`, ...).

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;
use serde_yaml::Value as Yaml;

use super::known_keys::{CONFIG_KEYS, PROJECT_KEYS, is_config_key, unknown_key};
use super::yaml::{from_text, key_string, parse_yaml, to_json};
use super::yaml_locate::{Seg, locate};
use crate::config::node_config::configs_from_tree;
use crate::diagnostic::Diagnostic;
use crate::error::{Error, Location, Result};
use crate::jinja_base::config_renderer::ConfigRenderer;

pub const PROJECT_FILE: &str = "dbt_project.yml";

/// Keys that dbt renders late (when they run), not while reading the file.
const RENDERED_LATER: &[&str] = &["pre_hook", "post_hook", "on_run_start", "on_run_end"];

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "kebab-case")]
struct RawProject {
    name: String,
    #[serde(default)]
    profile: Option<String>,
    #[serde(default, alias = "source-paths")]
    model_paths: Option<Vec<String>>,
    #[serde(default, alias = "data-paths")]
    seed_paths: Option<Vec<String>>,
    #[serde(default)]
    test_paths: Option<Vec<String>>,
    #[serde(default)]
    macro_paths: Option<Vec<String>>,
    #[serde(default)]
    snapshot_paths: Option<Vec<String>>,
    #[serde(default)]
    analysis_paths: Option<Vec<String>>,
    #[serde(default)]
    docs_paths: Option<Vec<String>>,
    #[serde(default)]
    target_path: Option<String>,
    #[serde(default)]
    clean_targets: Option<Vec<String>>,
    #[serde(default)]
    vars: Option<Yaml>,
    #[serde(default)]
    models: Option<Yaml>,
    #[serde(default)]
    seeds: Option<Yaml>,
    #[serde(default)]
    snapshots: Option<Yaml>,
    // dbt writes these two with underscores, unlike the kebab-case keys.
    #[serde(default, rename = "data_tests", alias = "tests")]
    data_tests: Option<Yaml>,
    #[serde(default)]
    sources: Option<Yaml>,
    /// `unit_tests:` configs (`+tags`, `+enabled`, `+meta`) by path.
    #[serde(default, rename = "unit_tests")]
    unit_tests: Option<Yaml>,
    #[serde(default)]
    analyses: Option<Yaml>,
    #[serde(default)]
    exposures: Option<Yaml>,
    #[serde(default)]
    metrics: Option<Yaml>,
    #[serde(default)]
    semantic_models: Option<Yaml>,
    #[serde(default)]
    saved_queries: Option<Yaml>,
    #[serde(default)]
    on_run_start: Option<Yaml>,
    #[serde(default)]
    on_run_end: Option<Yaml>,
    #[serde(default)]
    packages_install_path: Option<String>,
    #[serde(default)]
    dispatch: Option<Vec<DispatchEntry>>,
    #[serde(default)]
    quoting: Option<ProjectQuoting>,
    /// dbt 1.6: the project's protected models are not refable from
    /// other packages.
    #[serde(default)]
    restrict_access: Option<bool>,
}

/// `quoting:` of dbt_project.yml: which parts of a model's, seed's and
/// snapshot's name are quoted (sources keep their own).
#[derive(Debug, Clone, Copy, Default, Deserialize)]
struct ProjectQuoting {
    #[serde(default)]
    database: Option<bool>,
    #[serde(default)]
    schema: Option<bool>,
    #[serde(default)]
    identifier: Option<bool>,
}

/// One entry of `dispatch:`: where `adapter.dispatch(name, macro_namespace)`
/// looks, in order.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct DispatchEntry {
    pub macro_namespace: String,
    pub search_order: Vec<String>,
}

/// The parsed `dbt_project.yml`.
#[derive(Debug, Clone)]
pub struct DbtProject {
    pub name: String,
    pub profile: String,
    /// Where `profile:` is written, for errors about the profile it names.
    pub profile_location: Location,
    pub model_paths: Vec<String>,
    pub seed_paths: Vec<String>,
    pub test_paths: Vec<String>,
    pub macro_paths: Vec<String>,
    pub snapshot_paths: Vec<String>,
    pub analysis_paths: Vec<String>,
    /// Where `{% docs %}` blocks are read: `docs-paths`, else every
    /// resource folder (dbt's default).
    pub docs_paths: Vec<String>,
    pub target_path: String,
    /// `clean-targets`: what `kiln clean` empties (the target path by default).
    pub clean_targets: Vec<String>,
    /// Vars as dbt_project.yml declares them: global ones, and per-package ones
    /// under the package's name.
    pub vars: BTreeMap<String, serde_json::Value>,
    /// The `models:`, `seeds:`, `snapshots:`, `data_tests:`, `sources:` trees.
    pub config_trees: BTreeMap<&'static str, Yaml>,
    /// `on-run-start` and `on-run-end`: SQL (Jinja) run before and after the
    /// nodes of `run`, `build`, `seed`, `snapshot` and `test`.
    pub on_run_start: Vec<String>,
    pub on_run_end: Vec<String>,
    /// Unknown keys, with where they are.
    pub warnings: Vec<Diagnostic>,
    /// Where `kiln deps` installs packages (`packages-install-path`).
    pub packages_install_path: String,
    /// `dispatch:`: the search order of `adapter.dispatch` per namespace.
    pub dispatch: Vec<DispatchEntry>,
    /// `restrict-access: true`: a protected model is refable only from
    /// its own package.
    pub restrict_access: bool,
    /// `quoting:`: whether the database, schema and identifier of the
    /// relations the project builds are quoted (all by default).
    pub quoting: [bool; 3],
    /// For an installed package: the root project's config trees, which
    /// apply after the package's own (dbt's precedence). Empty for the root.
    pub root_config_trees: BTreeMap<&'static str, Yaml>,
    /// `query-comment:`: the comment each statement carries.
    pub query_comment: QueryComment,
}

/// dbt's `query-comment:` — the comment each statement sent carries, so
/// that the database's own logs say which node sent it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum QueryComment {
    /// kiln's: the app, its version, the profile, the target and the node.
    #[default]
    Default,
    /// `query-comment: null` or `''`.
    Off,
    /// A comment of the project's own, before the statement or after it
    /// (`append: true`).
    Text { text: String, append: bool },
}

impl QueryComment {
    fn from_yaml(value: Option<&Yaml>, display: &Path) -> Result<QueryComment> {
        let text_of = |value: &Yaml| match value {
            Yaml::Null => Ok(None),
            Yaml::String(s) => Ok(Some(s.clone())),
            Yaml::Number(n) => Ok(Some(n.to_string())),
            Yaml::Bool(b) => Ok(Some(b.to_string())),
            _ => Err(Error::config(
                Location::file(display),
                "`query-comment:` is a string, or a mapping with `comment` and `append`",
            )),
        };
        let (text, append) = match value {
            None => return Ok(QueryComment::Default),
            Some(Yaml::Mapping(map)) => {
                let append = map
                    .get(Yaml::from("append"))
                    .and_then(Yaml::as_bool)
                    .unwrap_or(false);
                match map.get(Yaml::from("comment")) {
                    // A mapping without `comment` keeps the default text.
                    None if append => (None, true),
                    None => return Ok(QueryComment::Default),
                    Some(comment) => (text_of(comment)?, append),
                }
            }
            Some(other) => (text_of(other)?, false),
        };
        match text {
            Some(text) if text.contains("*/") => Err(Error::config(
                Location::file(display),
                format!("query comment contains illegal value \"*/\": {text}"),
            )),
            Some(text) if text.trim().is_empty() => Ok(QueryComment::Off),
            None if !append => Ok(QueryComment::Off),
            None => Ok(QueryComment::Text {
                text: String::new(),
                append,
            }),
            Some(text) => Ok(QueryComment::Text {
                text: text.trim().to_string(),
                append,
            }),
        }
    }

    /// The comment for a statement of `node_id`, run against `target`
    /// (`None`: no comment).
    pub fn render(&self, profile: &str, target: &str, node_id: &str) -> Option<(String, bool)> {
        // In dbt's order of keys (app, version, profile, target, node).
        let default = || {
            let quoted = |s: &str| serde_json::Value::from(s).to_string();
            format!(
                "{{\"app\": \"kiln\", \"kiln_version\": \"{}\", \"profile_name\": {}, \"target_name\": {}, \"node_id\": {}}}",
                env!("CARGO_PKG_VERSION"),
                quoted(profile),
                quoted(target),
                quoted(node_id)
            )
        };
        match self {
            QueryComment::Off => None,
            QueryComment::Default => Some((default(), false)),
            QueryComment::Text { text, append } if text.is_empty() => Some((default(), *append)),
            QueryComment::Text { text, append } => Some((text.clone(), *append)),
        }
    }
}

impl DbtProject {
    /// Reads `dbt_project.yml` from `dir`; `renderer` renders its `env_var()`s.
    pub fn load(dir: &Path, renderer: &ConfigRenderer) -> Result<DbtProject> {
        let path = dir.join(PROJECT_FILE);
        let display_buf = crate::files::display_join(dir, Path::new(PROJECT_FILE));
        let display = display_buf.as_path();
        if !path.is_file() {
            return Err(Error::config(
                Location::file(dir.join(PROJECT_FILE)),
                format!(
                    "no {PROJECT_FILE} found in {}: run kiln in a dbt project or pass --project-dir",
                    display_dir(dir)
                ),
            ));
        }
        let text = std::fs::read_to_string(&path).map_err(|e| Error::io(display, &e))?;
        let mut yaml = parse_yaml(&text, display)?;
        if !yaml.is_mapping() {
            return Err(Error::config(
                Location::file(display),
                "expected a mapping of keys (name, profile, model-paths, ...)",
            ));
        }
        // The shape is checked on the text, where a wrong value has a line.
        from_text::<RawProject>(&text, display)?;
        let warnings = unknown_keys(&yaml, &text, display);
        render_project(&mut yaml, renderer, &text, display)?;
        let query_comment = QueryComment::from_yaml(yaml.get("query-comment"), display)?;
        let raw: RawProject = serde_yaml::from_value(yaml).map_err(|e| Error::Yaml {
            location: Location::file(display),
            message: e.to_string(),
            key_path: None,
        })?;
        if !is_identifier(&raw.name) {
            return Err(Error::config(
                Location::file(display),
                format!(
                    "project name '{}' must be letters, digits and underscores, starting with a letter",
                    raw.name
                ),
            ));
        }
        let vars = match raw.vars {
            Some(v) if v.is_mapping() => match to_json(&v) {
                serde_json::Value::Object(map) => map.into_iter().collect(),
                _ => BTreeMap::new(),
            },
            Some(Yaml::Null) | None => BTreeMap::new(),
            Some(_) => {
                return Err(Error::config(
                    Location::file(display),
                    "`vars` must be a mapping of names to values",
                ));
            }
        };
        let mut config_trees = BTreeMap::new();
        for (key, tree) in [
            ("models", raw.models),
            ("seeds", raw.seeds),
            ("snapshots", raw.snapshots),
            ("data_tests", raw.data_tests),
            ("sources", raw.sources),
            ("unit_tests", raw.unit_tests),
            ("analyses", raw.analyses),
            ("exposures", raw.exposures),
            ("metrics", raw.metrics),
            ("semantic_models", raw.semantic_models),
            ("saved_queries", raw.saved_queries),
        ] {
            if let Some(tree) = tree {
                config_trees.insert(key, tree);
            }
        }
        Ok(DbtProject {
            profile_location: match locate(&text, &[Seg::key("profile")]) {
                Some(p) => Location::at(display, p.line, Some(p.column)).spanning(p.length),
                None => Location::file(display),
            },
            profile: raw.profile.unwrap_or_else(|| raw.name.clone()),
            name: raw.name,
            model_paths: raw.model_paths.unwrap_or_else(|| vec!["models".into()]),
            seed_paths: raw.seed_paths.unwrap_or_else(|| vec!["seeds".into()]),
            test_paths: raw.test_paths.unwrap_or_else(|| vec!["tests".into()]),
            macro_paths: raw.macro_paths.unwrap_or_else(|| vec!["macros".into()]),
            snapshot_paths: raw
                .snapshot_paths
                .unwrap_or_else(|| vec!["snapshots".into()]),
            analysis_paths: raw
                .analysis_paths
                .unwrap_or_else(|| vec!["analyses".into()]),
            docs_paths: raw.docs_paths.unwrap_or_default(),
            clean_targets: raw.clean_targets.unwrap_or_else(|| {
                vec![raw.target_path.clone().unwrap_or_else(|| "target".into())]
            }),
            target_path: raw.target_path.unwrap_or_else(|| "target".into()),
            vars,
            config_trees,
            on_run_start: hook_list(raw.on_run_start),
            on_run_end: hook_list(raw.on_run_end),
            warnings,
            packages_install_path: raw
                .packages_install_path
                .unwrap_or_else(|| "dbt_packages".into()),
            dispatch: raw.dispatch.unwrap_or_default(),
            restrict_access: raw.restrict_access.unwrap_or(false),
            quoting: {
                let q = raw.quoting.unwrap_or_default();
                [q.database, q.schema, q.identifier].map(|part| part.unwrap_or(true))
            },
            root_config_trees: BTreeMap::new(),
            query_comment,
        })
    }

    /// The profile the project in `dir` names (its `profile:`, else its
    /// `name:`) and where that is written: what dbt reads before it knows
    /// the target, which the rest of the file is rendered with.
    pub fn profile_of(dir: &Path, renderer: &ConfigRenderer) -> Result<(String, Location)> {
        let display_buf = crate::files::display_join(dir, Path::new(PROJECT_FILE));
        let display = display_buf.as_path();
        let text = match std::fs::read_to_string(dir.join(PROJECT_FILE)) {
            Ok(text) => text,
            // The full load says what is wrong.
            Err(_) => {
                let project = DbtProject::load(dir, renderer)?;
                return Ok((project.profile, project.profile_location));
            }
        };
        let yaml = parse_yaml(&text, display)?;
        let (key, value) = match yaml.get("profile") {
            Some(value) if !value.is_null() => ("profile", value),
            _ => match yaml.get("name") {
                Some(value) => ("name", value),
                None => {
                    let project = DbtProject::load(dir, renderer)?;
                    return Ok((project.profile, project.profile_location));
                }
            },
        };
        let location = match locate(&text, &[Seg::key(key)]) {
            Some(p) => Location::at(display, p.line, Some(p.column)).spanning(p.length),
            None => Location::file(display),
        };
        let mut value = value.clone();
        render_value(
            &mut value,
            renderer,
            &text,
            display,
            &mut vec![Seg::key(key)],
        )?;
        Ok((key_string(&value), location))
    }

    /// The configs of the `tree` (`models`, `seeds`, ...) that apply to a node
    /// with this `fqn`, least specific first: the project's own levels, then,
    /// for a package, the root project's (which win, as in dbt).
    pub fn config_levels(
        &self,
        tree: &str,
        fqn: &[String],
    ) -> Vec<BTreeMap<String, serde_json::Value>> {
        let mut levels = Vec::new();
        for trees in [&self.config_trees, &self.root_config_trees] {
            if let Some(tree) = trees.get(tree) {
                levels.extend(configs_from_tree(tree, fqn));
            }
        }
        levels
    }

    /// The folders whose `.yml` files are properties files: the model,
    /// seed, snapshot and macro paths.
    pub fn properties_paths(&self) -> Vec<String> {
        let mut folders = self.model_paths.clone();
        folders.extend(self.seed_paths.iter().cloned());
        folders.extend(self.snapshot_paths.iter().cloned());
        folders.extend(self.macro_paths.iter().cloned());
        folders
    }

    /// This project as an installed package of `root`: its folders seen from
    /// the root project's directory (`prefix` is where the package lives,
    /// relative to it), the root's config trees over its own, and no
    /// warnings about its file (the package's author owns it).
    pub fn into_package_of(mut self, root: &DbtProject, prefix: &Path) -> DbtProject {
        let rebase = |folders: &mut Vec<String>| {
            for folder in folders.iter_mut() {
                *folder = crate::files::join_folder(prefix, folder);
            }
        };
        rebase(&mut self.model_paths);
        rebase(&mut self.seed_paths);
        rebase(&mut self.test_paths);
        rebase(&mut self.macro_paths);
        rebase(&mut self.snapshot_paths);
        rebase(&mut self.analysis_paths);
        rebase(&mut self.docs_paths);
        self.root_config_trees = root.config_trees.clone();
        self.warnings.clear();
        self
    }
}

/// Renders the Jinja in dbt_project.yml's values as dbt does when it reads
/// the file, with `target`, `var()` (the command line's) and `env_var()`:
/// all but the hooks, which render when they run. An error names the file
/// and the line of the value. A value of `vars:` that does not render here
/// (it may need what only a node's context has) is kept as written.
fn render_project(
    yaml: &mut Yaml,
    renderer: &ConfigRenderer,
    text: &str,
    display: &Path,
) -> Result<()> {
    let Some(map) = yaml.as_mapping_mut() else {
        return Ok(());
    };
    for (key, value) in map.iter_mut() {
        let key = key_string(key);
        // `on-run-start` and `on-run-end` render when they run, with the
        // run's `results` and `schemas`.
        if RENDERED_LATER.contains(&key.replace('-', "_").as_str()) {
            continue;
        }
        let mut path = vec![Seg::key(&key)];
        if key == "vars" {
            let _ = render_value(value, renderer, text, display, &mut path);
        } else {
            render_value(value, renderer, text, display, &mut path)?;
        }
    }
    Ok(())
}

fn render_value(
    value: &mut Yaml,
    renderer: &ConfigRenderer,
    text: &str,
    display: &Path,
    path: &mut Vec<Seg>,
) -> Result<()> {
    let mut first_error = None;
    match value {
        Yaml::String(s) if s.contains("{{") || s.contains("{%") => match renderer.render(s) {
            Ok(rendered) => *value = rendered,
            Err(error) => {
                let location = match locate(text, path) {
                    Some(p) => Location::at(display, p.line, Some(p.column)).spanning(p.length),
                    None => Location::file(display),
                };
                return Err(error.at(location));
            }
        },
        Yaml::Sequence(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                path.push(Seg::Item(i));
                let result = render_value(item, renderer, text, display, path);
                path.pop();
                if let Err(e) = result {
                    first_error.get_or_insert(e);
                }
            }
        }
        Yaml::Mapping(map) => {
            for (key, item) in map.iter_mut() {
                let key = key_string(key);
                let bare = key.trim_start_matches('+').replace('-', "_");
                if RENDERED_LATER.contains(&bare.as_str()) {
                    continue;
                }
                path.push(Seg::key(&key));
                let result = render_value(item, renderer, text, display, path);
                path.pop();
                if let Err(e) = result {
                    first_error.get_or_insert(e);
                }
            }
        }
        Yaml::Tagged(tagged) => render_value(&mut tagged.value, renderer, text, display, path)?,
        _ => {}
    }
    match first_error {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// A hook key's SQL: one string or a list of them.
fn hook_list(value: Option<Yaml>) -> Vec<String> {
    match value {
        Some(Yaml::String(s)) => vec![s],
        Some(Yaml::Sequence(items)) => items
            .into_iter()
            .filter_map(|item| match item {
                Yaml::String(s) => Some(s),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// The keys of dbt_project.yml that hold per-folder config trees.
const CONFIG_TREES: &[&str] = &[
    "models",
    "seeds",
    "snapshots",
    "tests",
    "data_tests",
    "sources",
    "analyses",
    "exposures",
    "metrics",
    "semantic-models",
    "saved-queries",
];

/// Warnings for unknown top-level keys and for unknown configs (`+key`, or a
/// key with a scalar value) in the config trees.
fn unknown_keys(yaml: &Yaml, text: &str, display: &Path) -> Vec<Diagnostic> {
    let mut warnings = Vec::new();
    let place = |path: &[Seg]| match locate(text, path) {
        Some(p) => Location::at(display, p.line, Some(p.column)).spanning(p.length),
        None => Location::file(display),
    };
    let Some(map) = yaml.as_mapping() else {
        return warnings;
    };
    for (key, value) in map {
        let key = key_string(key);
        if !PROJECT_KEYS.contains(&key.as_str()) {
            warnings.push(unknown_key(
                &key,
                PROJECT_FILE,
                PROJECT_KEYS,
                place(&[Seg::key(&key)]),
            ));
        } else if CONFIG_TREES.contains(&key.as_str()) {
            walk_tree(value, &mut vec![Seg::key(&key)], &mut |path, k| {
                warnings.push(unknown_key(
                    k,
                    &format!("`{}:` of {PROJECT_FILE}", key),
                    CONFIG_KEYS,
                    place(path),
                ));
            });
        }
    }
    warnings
}

/// Calls `unknown` with the path of each config key of a tree dbt does not know.
fn walk_tree(tree: &Yaml, path: &mut Vec<Seg>, unknown: &mut dyn FnMut(&[Seg], &str)) {
    let Some(map) = tree.as_mapping() else { return };
    for (key, value) in map {
        let key = key_string(key);
        path.push(Seg::key(&key));
        if key.starts_with('+') {
            if !is_config_key(&key) {
                unknown(path, &key);
            }
        } else if value.is_mapping() {
            // A folder (or a config whose value is a mapping, such as `meta`).
            if !is_config_key(&key) {
                walk_tree(value, path, unknown);
            }
        } else if !is_config_key(&key) {
            unknown(path, &key);
        }
        path.pop();
    }
}

fn display_dir(dir: &Path) -> String {
    let shown = dir.display().to_string();
    if shown.is_empty() { ".".into() } else { shown }
}

pub fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

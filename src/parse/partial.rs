//! Partial parsing: what a parse render found in each node (its `ref()`s,
//! `source()`s and `config()`), kept in `target/partial_parse.json` with a
//! checksum of everything the render read, so that the next parse renders
//! only the nodes whose inputs changed.
//!
//! A node's checksum covers the node as loaded (its file's text, the
//! configs dbt_project.yml and the properties files give it, a test's
//! arguments) and the values of the environment variables its code names.
//! One project checksum covers what every render reads: kiln's version and
//! built-in templates, the macros (and the environment variables they
//! name), dbt_project.yml, `--vars` and the target. When that changes,
//! everything is rendered again.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::LazyLock;

use regex::Regex;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::config::NodeConfig;
use crate::digest::hex;
use crate::jinja::context::RefCall;
use crate::project::Project;
use crate::project::node::Node;

/// The file, under the target path.
pub const FILE: &str = "partial_parse.json";

/// What a parse render of one node found.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Found {
    /// `(package, name)` of each `ref()`.
    pub refs: Vec<(Option<String>, String)>,
    pub sources: Vec<(String, String)>,
    /// The node's config after its `config()` calls.
    pub config: BTreeMap<String, serde_json::Value>,
}

impl Found {
    pub fn new(refs: &[RefCall], sources: &[(String, String)], config: &NodeConfig) -> Found {
        Found {
            refs: refs
                .iter()
                .map(|r| (r.package.clone(), r.name.clone()))
                .collect(),
            sources: sources.to_vec(),
            config: config.0.clone(),
        }
    }

    pub fn refs(&self) -> Vec<RefCall> {
        self.refs
            .iter()
            .map(|(package, name)| RefCall {
                package: package.clone(),
                name: name.clone(),
            })
            .collect()
    }
}

#[derive(Serialize, Deserialize)]
struct Entry {
    checksum: String,
    found: Found,
}

#[derive(Serialize, Deserialize, Default)]
struct Stored {
    project: String,
    nodes: BTreeMap<String, Entry>,
}

/// The results of the last parse, and the checksums to decide what of it
/// still holds.
pub struct PartialParse {
    file: PathBuf,
    project: String,
    /// The stored results, when the project checksum still matches.
    previous: BTreeMap<String, Entry>,
    /// Why nothing was reused, when nothing was.
    pub reason: Option<&'static str>,
}

impl PartialParse {
    /// Reads `target/partial_parse.json` of `project`; `enabled` false (as
    /// `--no-partial-parse`) reads nothing and renders everything.
    pub fn load(project: &Project, enabled: bool) -> PartialParse {
        let file = project.target_dir().join(FILE);
        let checksum = project_checksum(project);
        let mut partial = PartialParse {
            file,
            project: checksum,
            previous: BTreeMap::new(),
            reason: None,
        };
        if !enabled {
            partial.reason = Some("partial parsing is off");
            return partial;
        }
        let stored: Option<Stored> = std::fs::read(&partial.file)
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok());
        match stored {
            None => partial.reason = Some("no earlier parse in the target path"),
            Some(stored) if stored.project != partial.project => {
                partial.reason = Some(
                    "the project changed (macros, dbt_project.yml, --vars, the target or kiln)",
                )
            }
            Some(stored) => partial.previous = stored.nodes,
        }
        partial
    }

    /// What the last parse found in `node`, if its inputs are unchanged.
    pub fn reuse(&self, node: &Node, checksum: &str) -> Option<Found> {
        self.previous
            .get(&node.unique_id)
            .filter(|entry| entry.checksum == checksum)
            .map(|entry| entry.found.clone())
    }

    /// Writes this parse's results (`found`: by unique id, with the node's
    /// checksum) for the next parse. A file that cannot be written only
    /// means the next parse renders everything.
    pub fn save(&self, found: BTreeMap<String, (String, Found)>) {
        // Every node reused as it was: the file already says all of it.
        let unchanged = found.len() == self.previous.len()
            && found.iter().all(|(id, (checksum, _))| {
                self.previous
                    .get(id)
                    .is_some_and(|entry| &entry.checksum == checksum)
            });
        if unchanged && self.file.is_file() {
            return;
        }
        let stored = Stored {
            project: self.project.clone(),
            nodes: found
                .into_iter()
                .map(|(id, (checksum, found))| (id, Entry { checksum, found }))
                .collect(),
        };
        if let Ok(text) = serde_json::to_vec(&stored) {
            let _ = crate::files::write_file_bytes(&self.file, &text);
        }
    }
}

/// The checksum of everything a node's parse render reads of its own.
pub fn node_checksum(node: &Node) -> String {
    let mut hash = Sha256::new();
    // Debug covers every field of the loaded node, config and test
    // included; written straight into the hash, not into a string first.
    let _ = std::fmt::Write::write_fmt(&mut Hashing(&mut hash), format_args!("{node:?}"));
    hash_env_vars(&mut hash, &node.raw_code);
    hex(&hash.finalize())
}

/// Text written into a hash as it is formatted.
struct Hashing<'a>(&'a mut Sha256);

impl std::fmt::Write for Hashing<'_> {
    fn write_str(&mut self, text: &str) -> std::fmt::Result {
        self.0.update(text.as_bytes());
        Ok(())
    }
}

/// The checksum of what every node's parse render reads.
fn project_checksum(project: &Project) -> String {
    let mut hash = Sha256::new();
    hash.update(env!("CARGO_PKG_VERSION").as_bytes());
    for (name, source) in crate::jinja::builtins::TEMPLATES {
        hash.update(name.as_bytes());
        hash.update(source.as_bytes());
    }
    for file in &project.macros {
        hash.update(format!("{:?}{}", file.path, file.package).as_bytes());
        hash.update(file.source.as_bytes());
        hash_env_vars(&mut hash, &file.source);
    }
    hash.update(format!("{:?}{:?}", project.config, project.cli_vars).as_bytes());
    let target = &project.target;
    let settings: BTreeMap<&String, &serde_json::Value> = target
        .settings
        .iter()
        .filter(|(key, _)| key.as_str() != "threads")
        .collect();
    hash.update(
        format!(
            "{}{}{:?}{}{}{settings:?}",
            target.profile_name, target.name, target.adapter, target.schema, target.database
        )
        .as_bytes(),
    );
    hex(&hash.finalize())
}

/// Adds the values of the environment variables `code` names in `env_var()`.
fn hash_env_vars(hash: &mut Sha256, code: &str) {
    static ENV_VAR: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r#"env_var\(\s*['"]([^'"]+)['"]"#).unwrap());
    if !code.contains("env_var") {
        return;
    }
    let names: BTreeSet<&str> = ENV_VAR
        .captures_iter(code)
        .filter_map(|c| c.get(1).map(|m| m.as_str()))
        .collect();
    for name in names {
        hash.update(format!("{name}={:?}", std::env::var_os(name)).as_bytes());
    }
}

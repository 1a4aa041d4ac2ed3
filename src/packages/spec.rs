//! `packages.yml` / `dependencies.yml`: the packages a project asks for, each
//! with the line it is written on.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::config::yaml::{from_text, key_string, parse_yaml, render_strings};
use crate::config::yaml_locate::{Locator, Seg};
use crate::error::{Error, Location, Result};
use crate::jinja_base::config_renderer::ConfigRenderer;

/// The files dbt reads the package list from, in the order it looks.
pub const PACKAGE_FILES: &[&str] = &["packages.yml", "dependencies.yml"];

/// One entry of the package list.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Source {
    /// `local: path`, relative to the project.
    Local { path: PathBuf },
    /// `git: url` with an optional `revision` (branch, tag or commit) and
    /// `subdirectory` (where in the repository the dbt project is).
    Git {
        url: String,
        revision: Option<String>,
        subdirectory: Option<String>,
    },
    /// `package: namespace/name` from the package hub, with version ranges.
    Hub { name: String, versions: Vec<String> },
}

impl Source {
    /// The name the package most likely has once installed (the project
    /// name in its dbt_project.yml, known for sure only after `kiln deps`).
    pub fn name_guess(&self) -> Option<String> {
        let last = match self {
            Source::Local { path } => path.file_name()?.to_string_lossy().to_string(),
            Source::Git {
                url, subdirectory, ..
            } => match subdirectory {
                Some(sub) => sub.rsplit('/').next()?.to_string(),
                None => url
                    .trim_end_matches('/')
                    .rsplit('/')
                    .next()?
                    .trim_end_matches(".git")
                    .to_string(),
            },
            Source::Hub { name, .. } => name.rsplit('/').next()?.to_string(),
        };
        Some(last.replace('-', "_"))
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageSpec {
    pub source: Source,
    /// Where the entry is written.
    pub location: Location,
}

impl PackageSpec {
    /// What the entry is, as a user would name it.
    pub fn describe(&self) -> String {
        match &self.source {
            Source::Local { path } => format!("local package {}", path.display()),
            Source::Git { url, revision, .. } => {
                let url = super::install::mask_url(url);
                match revision {
                    Some(rev) => format!("git package {url}@{rev}"),
                    None => format!("git package {url}"),
                }
            }
            Source::Hub { name, versions } => {
                format!("hub package {name} {}", versions.join(", "))
            }
        }
    }
}

#[derive(Deserialize)]
struct RawFile {
    #[serde(default)]
    packages: Vec<RawEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntry {
    local: Option<String>,
    git: Option<String>,
    revision: Option<serde_yaml::Value>,
    subdirectory: Option<String>,
    package: Option<String>,
    version: Option<serde_yaml::Value>,
    #[serde(rename = "install-prerelease")]
    #[allow(dead_code)]
    install_prerelease: Option<bool>,
    #[serde(rename = "warn-unpinned")]
    #[allow(dead_code)]
    warn_unpinned: Option<bool>,
    #[allow(dead_code)]
    name: Option<String>,
}

/// The package list of the project in `root`, or none when it has no
/// packages file. The path returned is the file's, as the user sees it.
pub fn read(root: &Path, renderer: &ConfigRenderer) -> Result<Option<(PathBuf, Vec<PackageSpec>)>> {
    let Some(name) = PACKAGE_FILES.iter().find(|f| root.join(f).is_file()) else {
        return Ok(None);
    };
    let display = crate::files::display_join(root, Path::new(name));
    let text = std::fs::read_to_string(root.join(name)).map_err(|e| Error::io(&display, &e))?;
    Ok(Some((
        display.clone(),
        parse(&text, &display, &renderer.allowing_secrets())?,
    )))
}

/// The entries of a packages file's `text`.
pub fn parse(text: &str, display: &Path, renderer: &ConfigRenderer) -> Result<Vec<PackageSpec>> {
    let mut yaml = parse_yaml(text, display)?;
    if yaml.is_null() {
        return Ok(Vec::new());
    }
    from_text::<RawFile>(text, display)?;
    render_strings(&mut yaml, renderer, display, &[])?;
    let raw: RawFile = serde_yaml::from_value(yaml).map_err(|e| Error::Yaml {
        location: Location::file(display),
        message: e.to_string(),
        key_path: None,
    })?;
    let locator = Locator::new(text);
    let mut specs = Vec::new();
    for (i, entry) in raw.packages.into_iter().enumerate() {
        let location = match locator.locate(&[Seg::key("packages"), Seg::Item(i)]) {
            Some(p) => Location::at(display, p.line, Some(p.column)),
            None => Location::file(display),
        };
        let source = match (entry.local, entry.git, entry.package) {
            (Some(path), None, None) => Source::Local { path: path.into() },
            (None, Some(url), None) => Source::Git {
                url,
                revision: entry.revision.as_ref().map(key_string),
                subdirectory: entry.subdirectory,
            },
            (None, None, Some(name)) => {
                if !name.contains('/') {
                    return Err(Error::config(
                        location,
                        format!(
                            "package '{name}' must be written namespace/name, as on the package hub (e.g. dbt-labs/dbt_utils)"
                        ),
                    ));
                }
                let versions = match &entry.version {
                    None => Vec::new(),
                    Some(serde_yaml::Value::Sequence(items)) => {
                        items.iter().map(key_string).collect()
                    }
                    Some(other) => vec![key_string(other)],
                };
                Source::Hub { name, versions }
            }
            _ => {
                return Err(Error::config(
                    location,
                    "a package entry takes exactly one of `local:`, `git:` or `package:`",
                ));
            }
        };
        specs.push(PackageSpec { source, location });
    }
    Ok(specs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn specs(text: &str) -> Result<Vec<PackageSpec>> {
        parse(
            text,
            Path::new("packages.yml"),
            &ConfigRenderer::new(Default::default()),
        )
    }

    #[test]
    fn reads_each_kind_of_entry_with_its_line() {
        let found = specs(
            "packages:\n  - package: dbt-labs/dbt_utils\n    version: [\">=1.0.0\", \"<2.0.0\"]\n  - git: https://example.com/pkg.git\n    revision: 1.0\n    subdirectory: sub\n  - local: ../shared\n",
        )
        .unwrap();
        assert_eq!(
            found[0].source,
            Source::Hub {
                name: "dbt-labs/dbt_utils".into(),
                versions: vec![">=1.0.0".into(), "<2.0.0".into()]
            }
        );
        assert_eq!(found[0].location.line, Some(2));
        assert_eq!(
            found[1].source,
            Source::Git {
                url: "https://example.com/pkg.git".into(),
                revision: Some("1.0".into()),
                subdirectory: Some("sub".into())
            }
        );
        assert_eq!(found[1].location.line, Some(4));
        assert_eq!(
            found[2].source,
            Source::Local {
                path: "../shared".into()
            }
        );
        assert_eq!(found[2].location.line, Some(7));
    }

    #[test]
    fn an_entry_of_two_kinds_is_an_error_at_its_line() {
        let err = specs("packages:\n  - local: a\n    git: b\n").unwrap_err();
        let text = err.to_string();
        assert!(text.contains("packages.yml:2"), "{text}");
        assert!(text.contains("exactly one of"), "{text}");
    }

    #[test]
    fn a_misspelt_key_is_an_error() {
        let err = specs("packages:\n  - locl: a\n").unwrap_err();
        assert!(err.to_string().contains("locl"), "{err}");
    }
}

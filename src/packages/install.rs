//! `kiln deps`: install what `packages.yml` lists into
//! `packages-install-path`, and pin it in `package-lock.yml`.
//!
//! - `local:` packages become a symlink to their folder, as dbt makes them;
//! - `git:` packages are cloned with the system `git`, checked out at
//!   `revision`, and their `subdirectory` taken;
//! - hub packages are resolved against the hub's index (`hub`) and their
//!   tarball unpacked with the system `curl` and `tar`.
//!
//! A lock whose spec hash matches the packages file installs the pinned
//! versions (the git commit, the hub version) instead of resolving again.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde::{Deserialize, Serialize};

use super::hub;
use super::spec::{PackageSpec, Source};
use crate::config::dbt_project::{DbtProject, PROJECT_FILE};
use crate::error::{Error, Location, Result};
use crate::jinja_base::config_renderer::ConfigRenderer;

pub const LOCK_FILE: &str = "package-lock.yml";

/// One installed package, as `package-lock.yml` records it.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct LockEntry {
    /// The package's project name (its folder in the install path); dbt
    /// 1.7's lock files have none.
    #[serde(default)]
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub local: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub git: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub package: Option<String>,
    /// The commit of a git package.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub revision: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub subdirectory: Option<String>,
    /// The version of a hub package.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub version: Option<String>,
}

impl LockEntry {
    /// The spec's key this entry answers: the same package, any version.
    pub fn key(&self) -> String {
        if let Some(path) = &self.local {
            format!("local:{path}")
        } else if let Some(url) = &self.git {
            format!(
                "git:{}#{}",
                mask_url(url),
                self.subdirectory.as_deref().unwrap_or("")
            )
        } else {
            format!("hub:{}", self.package.as_deref().unwrap_or(""))
        }
    }
}

/// The same package whatever its version or revision.
pub fn spec_key(source: &Source) -> String {
    match source {
        Source::Local { path } => format!("local:{}", path.display()),
        Source::Git {
            url, subdirectory, ..
        } => {
            format!("git:{url}#{}", subdirectory.as_deref().unwrap_or(""))
        }
        Source::Hub { name, .. } => format!("hub:{name}"),
    }
}

#[derive(Debug, Serialize, Deserialize, Default)]
struct LockFile {
    #[serde(default)]
    packages: Vec<LockEntry>,
    /// The sha256 of the packages file the lock was made from.
    #[serde(default)]
    kiln_spec_sha256: Option<String>,
}

/// The entries of `root`'s `package-lock.yml` (none when there is none, or
/// it does not parse: the packages file is the truth then).
pub fn read_lock(root: &Path) -> Vec<LockEntry> {
    read_lock_file(root).packages
}

fn read_lock_file(root: &Path) -> LockFile {
    std::fs::read_to_string(root.join(LOCK_FILE))
        .ok()
        .and_then(|text| serde_yaml::from_str(&text).ok())
        .unwrap_or_default()
}

/// A system tool (`git`, `curl`, `tar`) that did not do its job.
#[derive(Debug, thiserror::Error)]
pub enum ToolError {
    #[error("cannot run {program}: {source}")]
    NotRun {
        program: String,
        source: std::io::Error,
    },
    /// It ran and failed: what it said on stderr, secrets masked.
    #[error("{0}")]
    Failed(String),
}

/// Why one package did not install. `install` reports it as a config error
/// (K1004) at the package's entry in packages.yml.
#[derive(Debug, thiserror::Error)]
pub enum InstallError {
    /// A `local:` package whose folder is not there.
    #[error("{}: {source}", .path.display())]
    NoFolder {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot link {}: {source}", .link.display())]
    Link {
        link: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot replace {}: {source}", .path.display())]
    Replace {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot move the package to {}: {source}", .destination.display())]
    Move {
        destination: PathBuf,
        source: std::io::Error,
    },
    /// The staging folder could not be made or read.
    #[error(transparent)]
    Staging(#[from] std::io::Error),
    /// `url` is masked (`https://***@host/...`).
    #[error("cannot clone {url}: {source}")]
    Clone { url: String, source: ToolError },
    #[error("revision '{revision}' of {url}: {source}")]
    Checkout {
        revision: String,
        url: String,
        source: ToolError,
    },
    #[error("subdirectory '{0}' must be a path inside the repository")]
    SubdirectoryOutside(String),
    #[error(
        "cannot read the package hub's index of {name} ({url}): {source}; without network, put the package in the install folder yourself or use a `git:` or `local:` entry"
    )]
    HubUnreachable {
        name: String,
        url: String,
        source: ToolError,
    },
    #[error("the hub's index of {name} is not JSON: {source}")]
    HubIndexNotJson {
        name: String,
        source: serde_json::Error,
    },
    #[error(transparent)]
    Hub(#[from] hub::HubError),
    #[error("cannot download {name} {version} ({tarball}): {source}")]
    Download {
        name: String,
        /// The version, as the hub writes it.
        version: String,
        tarball: String,
        source: ToolError,
    },
    #[error("the tarball of {name} {version} holds no {}", PROJECT_FILE)]
    NoProjectInTarball { name: String, version: hub::Version },
    /// `git rev-parse`, `tar`: the tool's own words.
    #[error(transparent)]
    Tool(#[from] ToolError),
    #[error("no {} in {}", PROJECT_FILE, .0.display())]
    NoProject(PathBuf),
    #[error("{}: {source}", .file.display())]
    ProjectNotYaml {
        file: PathBuf,
        source: serde_yaml::Error,
    },
    #[error("{} has no `name:`", .0.display())]
    NoName(PathBuf),
    #[error(
        "{}: the package's name '{name}' must be letters, digits and underscores",
        .file.display()
    )]
    BadName { file: PathBuf, name: String },
}

impl InstallError {
    /// The error `kiln deps` reports: a config error (K1004) at the
    /// package's entry in packages.yml.
    pub fn at(self, location: Location) -> Error {
        Error::config(location, self.to_string())
    }
}

/// What `kiln deps` did for one package.
#[derive(Debug, Clone)]
pub struct Installed {
    pub entry: LockEntry,
    /// `1.3.0`, a commit, or a path.
    pub pinned: String,
}

/// Installs every package of `root`'s packages file and writes the lock.
pub fn install(
    root: &Path,
    config: &DbtProject,
    renderer: &ConfigRenderer,
) -> Result<Vec<Installed>> {
    let Some((file, specs)) = super::spec::read(root, renderer)? else {
        return Ok(Vec::new());
    };
    let spec_text = std::fs::read(&file).unwrap_or_default();
    let spec_hash = crate::digest::sha256_hex(spec_text.as_ref());
    let lock = read_lock_file(root);
    let pinned: BTreeMap<String, LockEntry> =
        if lock.kiln_spec_sha256.as_deref() == Some(&spec_hash) {
            lock.packages.into_iter().map(|e| (e.key(), e)).collect()
        } else {
            BTreeMap::new()
        };
    let install_dir = root.join(&config.packages_install_path);
    std::fs::create_dir_all(&install_dir).map_err(|e| Error::io_write(&install_dir, &e))?;
    let mut installed = Vec::new();
    for (i, spec) in specs.iter().enumerate() {
        let staging = install_dir.join(format!(".kiln-staging-{i}"));
        let _ = std::fs::remove_dir_all(&staging);
        let result = install_one(
            root,
            spec,
            pinned.get(&spec_key(&spec.source)),
            &staging,
            &install_dir,
        );
        let _ = std::fs::remove_dir_all(&staging);
        installed.push(result.map_err(|error| error.at(spec.location.clone()))?);
    }
    let names: Vec<&str> = installed.iter().map(|i| i.entry.name.as_str()).collect();
    for (i, name) in names.iter().enumerate() {
        if names[..i].contains(name) || *name == config.name {
            return Err(Error::config(
                specs[i].location.clone(),
                format!(
                    "{} is a project named '{name}', as another one is; package names must be unique",
                    specs[i].describe()
                ),
            ));
        }
    }
    let lock = LockFile {
        packages: installed.iter().map(|i| i.entry.clone()).collect(),
        kiln_spec_sha256: Some(spec_hash),
    };
    let text = serde_yaml::to_string(&lock).map_err(|e| Error::Artifact {
        path: root.join(LOCK_FILE),
        message: e.to_string(),
    })?;
    crate::files::write_file(&root.join(LOCK_FILE), &text)?;
    Ok(installed)
}

fn install_one(
    root: &Path,
    spec: &PackageSpec,
    pinned: Option<&LockEntry>,
    staging: &Path,
    install_dir: &Path,
) -> std::result::Result<Installed, InstallError> {
    match &spec.source {
        Source::Local { path } => {
            let target = root.join(path);
            let name = project_name(&target)?;
            let link = install_dir.join(&name);
            let absolute = target
                .canonicalize()
                .map_err(|source| InstallError::NoFolder {
                    path: target.clone(),
                    source,
                })?;
            // A local package that already lives in the install folder is
            // installed as it is: never replaced by a link to itself.
            if link.canonicalize().ok().as_ref() != Some(&absolute) {
                remove_existing(&link)?;
                symlink_dir(&absolute, &link)
                    .map_err(|source| InstallError::Link { link, source })?;
            }
            Ok(Installed {
                pinned: path.display().to_string(),
                entry: LockEntry {
                    name,
                    local: Some(path.display().to_string()),
                    ..Default::default()
                },
            })
        }
        Source::Git {
            url,
            revision,
            subdirectory,
        } => {
            let revision = pinned
                .and_then(|p| p.revision.clone())
                .or_else(|| revision.clone());
            let shown = mask_url(url);
            let staging_text = staging.display().to_string();
            run("git", &["clone", "--quiet", "--", url, &staging_text], None).map_err(
                |source| InstallError::Clone {
                    url: shown.clone(),
                    source,
                },
            )?;
            if let Some(rev) = &revision {
                run("git", &["checkout", "--quiet", rev, "--"], Some(staging)).map_err(
                    |source| InstallError::Checkout {
                        revision: rev.clone(),
                        url: shown.clone(),
                        source,
                    },
                )?;
            }
            let commit = run("git", &["rev-parse", "HEAD"], Some(staging))?
                .trim()
                .to_string();
            let project = match subdirectory {
                Some(sub) => {
                    let inside = Path::new(sub)
                        .components()
                        .all(|c| matches!(c, std::path::Component::Normal(_)));
                    if !inside {
                        return Err(InstallError::SubdirectoryOutside(sub.clone()));
                    }
                    staging.join(sub)
                }
                None => staging.to_path_buf(),
            };
            let name = place(&project, install_dir)?;
            Ok(Installed {
                pinned: commit.clone(),
                entry: LockEntry {
                    name,
                    git: Some(mask_url(url)),
                    revision: Some(commit),
                    subdirectory: subdirectory.clone(),
                    ..Default::default()
                },
            })
        }
        Source::Hub {
            name: hub_name,
            versions,
        } => {
            let ranges = match pinned.and_then(|p| p.version.clone()) {
                Some(version) => vec![version],
                None => versions.clone(),
            };
            let index_url = format!("{}/{hub_name}.json", hub::base_url());
            let index_text = run("curl", &["-fsSL", "--max-time", "60", &index_url], None)
                .map_err(|source| InstallError::HubUnreachable {
                    name: hub_name.clone(),
                    url: mask_url(&index_url),
                    source,
                })?;
            let index: serde_json::Value = serde_json::from_str(&index_text).map_err(|source| {
                InstallError::HubIndexNotJson {
                    name: hub_name.clone(),
                    source,
                }
            })?;
            let (version, tarball) = hub::resolve(hub_name, &index, &ranges)?;
            std::fs::create_dir_all(staging)?;
            let archive = staging.join("package.tar.gz");
            run(
                "curl",
                &[
                    "-fsSL",
                    "--max-time",
                    "300",
                    "-o",
                    &archive.display().to_string(),
                    &tarball,
                ],
                None,
            )
            .map_err(|source| InstallError::Download {
                name: hub_name.clone(),
                version: version.to_string(),
                tarball: tarball.clone(),
                source,
            })?;
            let unpacked = staging.join("unpacked");
            std::fs::create_dir_all(&unpacked)?;
            run(
                "tar",
                &[
                    "-xzf",
                    &archive.display().to_string(),
                    "-C",
                    &unpacked.display().to_string(),
                ],
                None,
            )?;
            // A tarball holds one folder, named after the repository and tag.
            let project = if unpacked.join(PROJECT_FILE).is_file() {
                unpacked
            } else {
                std::fs::read_dir(&unpacked)?
                    .flatten()
                    .map(|e| e.path())
                    .find(|p| p.join(PROJECT_FILE).is_file())
                    .ok_or_else(|| InstallError::NoProjectInTarball {
                        name: hub_name.clone(),
                        version: version.clone(),
                    })?
            };
            let name = place(&project, install_dir)?;
            Ok(Installed {
                pinned: version.to_string(),
                entry: LockEntry {
                    name,
                    package: Some(hub_name.clone()),
                    version: Some(version.to_string()),
                    ..Default::default()
                },
            })
        }
    }
}

/// Moves the project in `project` to `install_dir/<its name>`; gives the name.
fn place(project: &Path, install_dir: &Path) -> std::result::Result<String, InstallError> {
    let name = project_name(project)?;
    let destination = install_dir.join(&name);
    remove_existing(&destination)?;
    std::fs::rename(project, &destination).map_err(|source| InstallError::Move {
        destination,
        source,
    })?;
    Ok(name)
}

/// The `name:` of the dbt project in `dir`.
fn project_name(dir: &Path) -> std::result::Result<String, InstallError> {
    let file = dir.join(PROJECT_FILE);
    let text =
        std::fs::read_to_string(&file).map_err(|_| InstallError::NoProject(dir.to_path_buf()))?;
    let yaml: serde_yaml::Value = match serde_yaml::from_str(&text) {
        Ok(yaml) => yaml,
        Err(source) => return Err(InstallError::ProjectNotYaml { file, source }),
    };
    let Some(name) = yaml.get("name").and_then(|n| n.as_str()) else {
        return Err(InstallError::NoName(file));
    };
    // An identifier, as dbt requires: one folder of the install path, never
    // a path (`..`, `/home/me`) that `kiln deps` would replace.
    if !crate::config::dbt_project::is_identifier(name) {
        return Err(InstallError::BadName {
            file,
            name: name.to_string(),
        });
    }
    Ok(name.to_string())
}

/// `url` with any user and password in it hidden: `https://***@host/...`.
/// Git URLs carry tokens (`{{ env_var('DBT_ENV_SECRET_GIT_CREDENTIAL') }}`);
/// they are never printed or written to the lock.
pub fn mask_url(url: &str) -> String {
    match (url.find("://"), url.find('@')) {
        (Some(scheme), Some(at)) if at > scheme && !url[scheme + 3..at].contains('/') => {
            format!("{}***{}", &url[..scheme + 3], &url[at..])
        }
        _ => url.to_string(),
    }
}

fn remove_existing(path: &Path) -> std::result::Result<(), InstallError> {
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() || meta.is_file() => std::fs::remove_file(path),
        Ok(_) => std::fs::remove_dir_all(path),
        Err(_) => Ok(()),
    }
    .map_err(|source| InstallError::Replace {
        path: path.to_path_buf(),
        source,
    })
}

#[cfg(unix)]
fn symlink_dir(target: &Path, link: &Path) -> std::io::Result<()> {
    std::os::unix::fs::symlink(target, link)
}

#[cfg(not(unix))]
fn symlink_dir(target: &Path, link: &Path) -> std::io::Result<()> {
    std::os::windows::fs::symlink_dir(target, link)
}

/// Runs a system tool; its stdout, or what it said on stderr.
fn run(program: &str, args: &[&str], dir: Option<&Path>) -> std::result::Result<String, ToolError> {
    let mut command = Command::new(program);
    command.args(args).env("GIT_TERMINAL_PROMPT", "0");
    if let Some(dir) = dir {
        command.current_dir(dir);
    }
    let output = command.output().map_err(|source| ToolError::NotRun {
        program: program.to_string(),
        source,
    })?;
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    } else {
        let stderr = String::from_utf8_lossy(&output.stderr);
        Err(ToolError::Failed(
            crate::secrets::redact(stderr.trim()).to_string(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_in_git_urls_are_hidden() {
        assert_eq!(
            mask_url("https://user:ghp_secret@github.com/org/pkg.git"),
            "https://***@github.com/org/pkg.git"
        );
        assert_eq!(
            mask_url("git@github.com:org/pkg.git"),
            "git@github.com:org/pkg.git"
        );
        assert_eq!(
            mask_url("https://github.com/org/pkg.git"),
            "https://github.com/org/pkg.git"
        );
    }

    #[test]
    fn a_package_name_that_is_a_path_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        for bad in ["..", "", "/etc", "a/b"] {
            std::fs::write(dir.path().join(PROJECT_FILE), format!("name: '{bad}'\n")).unwrap();
            let err = project_name(dir.path()).unwrap_err();
            assert!(
                matches!(err, InstallError::BadName { .. }),
                "{bad}: {err:?}"
            );
            assert!(
                err.to_string().ends_with(&format!(
                    "the package's name '{bad}' must be letters, digits and underscores"
                )),
                "{bad}: {err}"
            );
        }
    }

    #[test]
    fn a_folder_without_a_project_says_so() {
        let dir = tempfile::tempdir().unwrap();
        let err = project_name(dir.path()).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("no {PROJECT_FILE} in {}", dir.path().display())
        );
        std::fs::write(dir.path().join(PROJECT_FILE), "version: 1\n").unwrap();
        let err = project_name(dir.path()).unwrap_err();
        assert!(matches!(err, InstallError::NoName(_)), "{err:?}");
        assert!(err.to_string().ends_with("has no `name:`"), "{err}");
    }

    #[test]
    fn a_tool_that_fails_is_a_typed_error_that_becomes_a_config_error() {
        let err = run("kiln-surely-no-such-program", &[], None).unwrap_err();
        assert!(matches!(err, ToolError::NotRun { .. }), "{err:?}");
        assert!(
            err.to_string()
                .starts_with("cannot run kiln-surely-no-such-program: "),
            "{err}"
        );
        let error = InstallError::Clone {
            url: "https://***@host/pkg.git".into(),
            source: ToolError::Failed("fatal: not found".into()),
        }
        .at(Location::at("packages.yml", 3, Some(5)));
        assert_eq!(error.code(), crate::diagnostic::Code::Config);
        assert_eq!(
            error.to_string(),
            "packages.yml:3:5: cannot clone https://***@host/pkg.git: fatal: not found"
        );
    }
}

//! Packages: the dbt projects a project depends on. `spec` reads
//! `packages.yml`, `install` is `kiln deps`, and [`installed`] finds the
//! packages to load with the root project: every project in
//! `packages-install-path` (`dbt_packages/`), and `local:` packages straight
//! from their folders when they are not installed there.

pub mod hub;
pub mod install;
pub mod spec;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::config::dbt_project::{DbtProject, PROJECT_FILE};
use crate::error::{Error, Location, Result};
use crate::jinja_base::config_renderer::ConfigRenderer;
use spec::Source;

/// The packages of the project `config` in `root`, each as seen from `root`
/// (see [`DbtProject::into_package_of`]), sorted by name.
pub fn installed(
    root: &Path,
    config: &DbtProject,
    renderer: &ConfigRenderer,
) -> Result<Vec<DbtProject>> {
    let mut found: BTreeMap<String, DbtProject> = BTreeMap::new();
    let install_dir = Path::new(&config.packages_install_path);
    if install_dir.is_absolute() {
        return Err(Error::config(
            Location::file(crate::files::display_join(root, Path::new(PROJECT_FILE))),
            format!(
                "packages-install-path '{}' is absolute; kiln reads packages from a folder of the project",
                install_dir.display()
            ),
        )
        .with_help("write it relative to the project (a symlink can point elsewhere)"));
    }
    for folder in package_folders(&root.join(install_dir)) {
        let prefix = install_dir.join(&folder);
        let package = DbtProject::load(&root.join(&prefix), renderer)?;
        add(
            &mut found,
            config,
            package.into_package_of(config, &prefix),
            &prefix,
        )?;
    }
    if let Some((file, specs)) = spec::read(root, renderer)? {
        // dbt names a package by its dbt_project.yml, never by its spec, and
        // only checks that as many are installed as the file lists: a lock
        // that pins other versions, or a repository named otherwise than its
        // project, changes nothing. A spec is matched to the package its
        // lock entry or its name points at, and the ones left over to the
        // packages left over; only when those are too few is one missing.
        let locked = install::read_lock(root)
            .into_iter()
            .filter(|entry| !entry.name.is_empty())
            .map(|entry| (entry.key(), entry.name))
            .collect::<BTreeMap<_, _>>();
        let mut claimed: BTreeSet<String> = BTreeSet::new();
        let mut unmatched = Vec::new();
        for spec in &specs {
            match &spec.source {
                Source::Local { path } if path.is_absolute() => {
                    return Err(Error::config(
                        spec.location.clone(),
                        format!(
                            "local package {}: write its path relative to the project",
                            path.display()
                        ),
                    ));
                }
                Source::Local { path } => {
                    let dir = root.join(path);
                    if !dir.join(PROJECT_FILE).is_file() {
                        return Err(Error::config(
                            spec.location.clone(),
                            format!("local package {}: no {PROJECT_FILE} there", path.display()),
                        ));
                    }
                    let package = DbtProject::load(&dir, renderer)?;
                    claimed.insert(package.name.clone());
                    if !found.contains_key(&package.name) {
                        add(
                            &mut found,
                            config,
                            package.into_package_of(config, path),
                            path,
                        )?;
                    }
                }
                Source::Git { .. } | Source::Hub { .. } => {
                    let name = locked
                        .get(&install::spec_key(&spec.source))
                        .cloned()
                        .into_iter()
                        .chain(spec.source.name_guess())
                        .find(|n| found.contains_key(n) && !claimed.contains(n));
                    match name {
                        Some(name) => {
                            claimed.insert(name);
                        }
                        None => unmatched.push(spec),
                    }
                }
            }
        }
        let left_over = found.keys().filter(|n| !claimed.contains(*n)).count();
        if let Some(spec) = unmatched.get(left_over) {
            return Err(Error::config(
                spec.location.clone(),
                format!(
                    "{} is not installed in {}/ ({} lists {} packages, {} are installed)",
                    spec.describe(),
                    install_dir.display(),
                    file.display(),
                    specs.len(),
                    found.len()
                ),
            )
            .with_help(format!(
                "run `kiln deps` to install what {} lists",
                file.display()
            )));
        }
    }
    Ok(found.into_values().collect())
}

fn add(
    found: &mut BTreeMap<String, DbtProject>,
    root: &DbtProject,
    package: DbtProject,
    prefix: &Path,
) -> Result<()> {
    if package.name == root.name {
        return Err(Error::config(
            Location::file(prefix.join(PROJECT_FILE)),
            format!(
                "package in {} is named '{}', as the root project is; package names must be unique",
                prefix.display(),
                package.name
            ),
        ));
    }
    if found.contains_key(&package.name) {
        return Err(Error::config(
            Location::file(prefix.join(PROJECT_FILE)),
            format!("two installed packages are named '{}'", package.name),
        ));
    }
    found.insert(package.name.clone(), package);
    Ok(())
}

/// The folders of `dir` that hold a dbt project, sorted.
fn package_folders(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    // Hidden folders are kiln deps' own staging, left by an interrupted run.
    let mut folders: Vec<PathBuf> = entries
        .flatten()
        .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
        .filter(|e| e.path().join(PROJECT_FILE).is_file())
        .map(|e| PathBuf::from(e.file_name()))
        .collect();
    folders.sort();
    folders
}

//! `kiln clean`: empties the folders `clean-targets` names (the target path
//! by default), as dbt does, and refuses, before removing anything, a path
//! outside the project, the project itself, or a folder of its sources.

use std::path::{Component, Path, PathBuf};

use super::{EXIT_OK, GlobalArgs};
use crate::error::{Error, Location, Result};

pub fn run(global: &GlobalArgs) -> Result<i32> {
    let (config, _) = super::load_dbt_project(global)?;
    let root = &global.project_dir;
    let location = Location::file(crate::files::display_join(
        root,
        Path::new("dbt_project.yml"),
    ));
    let mut sources: Vec<&String> = config.model_paths.iter().collect();
    sources.extend(&config.seed_paths);
    sources.extend(&config.test_paths);
    sources.extend(&config.macro_paths);
    sources.extend(&config.snapshot_paths);
    let mut outside = Vec::new();
    let mut protected = Vec::new();
    let mut folders = Vec::new();
    for target in &config.clean_targets {
        match inside(Path::new(target)) {
            None => outside.push(target.clone()),
            Some(relative) if relative.as_os_str().is_empty() => protected.push(target.clone()),
            Some(relative) => {
                let holds_sources = sources
                    .iter()
                    .any(|s| inside(Path::new(s)).is_some_and(|s| s.starts_with(&relative)));
                if holds_sources {
                    protected.push(target.clone());
                } else {
                    folders.push(relative);
                }
            }
        }
    }
    if !outside.is_empty() {
        return Err(Error::config(
            location,
            format!(
                "kiln will not clean the following directories outside the project: {}",
                quoted(&outside)
            ),
        ));
    }
    if !protected.is_empty() {
        return Err(Error::config(
            location,
            format!(
                "kiln will not clean the project or a folder that holds its models, seeds, tests, macros or snapshots: {}",
                quoted(&protected)
            ),
        ));
    }
    for folder in folders {
        let path = root.join(&folder);
        let shown = crate::files::display_join(root, &folder);
        super::output::line(&format!("Checking {}/*", shown.display()));
        match std::fs::remove_dir_all(&path) {
            Ok(()) => super::output::line(&format!("Cleaned {}/*", shown.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::io_write(&path, &e)),
        }
    }
    super::output::line("Finished cleaning all paths.");
    Ok(EXIT_OK)
}

/// `path` as a path inside the project, `..` and `.` resolved; `None` when
/// it is absolute or climbs out.
fn inside(path: &Path) -> Option<PathBuf> {
    let mut parts: Vec<&std::ffi::OsStr> = Vec::new();
    for component in path.components() {
        match component {
            Component::Normal(part) => parts.push(part),
            Component::CurDir => {}
            Component::ParentDir => {
                parts.pop()?;
            }
            Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    Some(parts.iter().collect())
}

fn quoted(paths: &[String]) -> String {
    let list: Vec<String> = paths.iter().map(|p| format!("'{p}'")).collect();
    format!("[{}]", list.join(", "))
}

#[cfg(test)]
mod tests {
    use super::inside;
    use std::path::{Path, PathBuf};

    #[test]
    fn paths_are_kept_inside_the_project() {
        assert_eq!(inside(Path::new("target")), Some(PathBuf::from("target")));
        assert_eq!(inside(Path::new("a/../b/./c")), Some(PathBuf::from("b/c")));
        assert_eq!(inside(Path::new(".")), Some(PathBuf::new()));
        assert_eq!(inside(Path::new("../outside")), None);
        assert_eq!(inside(Path::new("a/../../x")), None);
        assert_eq!(inside(Path::new("/tmp")), None);
    }
}

//! Finding a project's files: models, seeds, macros and properties files under
//! the folders dbt_project.yml names, in a stable (sorted) order.

use std::path::{Path, PathBuf};

use walkdir::WalkDir;

use crate::error::{Error, IoAction};

/// Every file under `root/<folder>` for each folder, whose extension is one of
/// `extensions`, as paths relative to `root`, sorted. A folder that cannot
/// be listed (no permission, a symlink loop) is an error in `errors`, never
/// skipped in silence.
pub fn find_files(
    root: &Path,
    folders: &[String],
    extensions: &[&str],
    errors: &mut Vec<Error>,
) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for folder in folders {
        let base = root.join(folder);
        if !base.is_dir() {
            continue;
        }
        let walker = WalkDir::new(&base)
            .follow_links(true)
            .sort_by_file_name()
            .into_iter()
            .filter_entry(|e| !is_hidden(e.file_name().to_str().unwrap_or("")));
        for entry in walker {
            let entry = match entry {
                Ok(entry) => entry,
                Err(e) => {
                    let error = walk_error(root, &e);
                    if !errors
                        .iter()
                        .any(|known| known.to_string() == error.to_string())
                    {
                        errors.push(error);
                    }
                    continue;
                }
            };
            if !entry.file_type().is_file() {
                continue;
            }
            let path = entry.path();
            let matches = path
                .extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| extensions.contains(&e));
            if matches && let Ok(relative) = path.strip_prefix(root) {
                found.push(relative.to_path_buf());
            }
        }
    }
    found.sort();
    found.dedup();
    found
}

/// A file's name without its extension, and its text; a file that cannot
/// be read is an error in `errors` (and `None`).
pub fn read_named(root: &Path, file: &Path, errors: &mut Vec<Error>) -> Option<(String, String)> {
    let name = file.file_stem()?.to_string_lossy().to_string();
    match std::fs::read_to_string(root.join(file)) {
        Ok(text) => Some((name, text)),
        Err(e) => {
            errors.push(Error::io(file, &e));
            None
        }
    }
}

/// A folder walk that failed, named by the path relative to the project.
fn walk_error(root: &Path, e: &walkdir::Error) -> Error {
    let shown = |path: &Path| path.strip_prefix(root).unwrap_or(path).to_path_buf();
    let path = e.path().map(shown).unwrap_or_default();
    if let Some(ancestor) = e.loop_ancestor() {
        let looped = std::io::Error::other(format!(
            "a symbolic link loop: it leads back to {}",
            shown(ancestor).display()
        ));
        return Error::io_doing(IoAction::Walk, &path, &looped);
    }
    let io = match e.io_error() {
        Some(io) => std::io::Error::new(io.kind(), io.to_string()),
        None => std::io::Error::other(e.to_string()),
    };
    Error::io_doing(IoAction::Walk, &path, &io)
}

fn is_hidden(name: &str) -> bool {
    name.starts_with('.') && name != "." && name != ".."
}

/// The path of `file` relative to whichever of `folders` contains it.
pub fn relative_to_folder(file: &Path, folders: &[String]) -> PathBuf {
    for folder in folders {
        if let Ok(rest) = file.strip_prefix(folder) {
            return rest.to_path_buf();
        }
    }
    file.to_path_buf()
}

/// dbt's fqn: the project, the folders under the resource folder, and the name.
pub fn fqn(project: &str, relative: &Path, name: &str) -> Vec<String> {
    let mut parts = vec![project.to_string()];
    if let Some(parent) = relative.parent() {
        for part in parent.components() {
            parts.push(part.as_os_str().to_string_lossy().to_string());
        }
    }
    parts.push(name.to_string());
    parts
}

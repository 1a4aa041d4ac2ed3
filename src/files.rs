//! Files kiln writes, and paths as the user sees them: the atomic writers
//! every stage that writes under `target/` (or `package-lock.yml`) uses, and
//! the joins that name a project file in messages. Low in the house: it
//! imports only `error` and `secrets`. (`file_name` makes names safe.)

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Writes `text` to `path` whole or not at all: into a temporary file beside
/// it, then renamed over it, so a reader (or a crash) never sees half a file.
/// A secret kiln knows of (a profile's password, a `DBT_ENV_SECRET_` value)
/// is masked in it.
pub fn write_file(path: &Path, text: &str) -> Result<()> {
    write_file_bytes(path, crate::secrets::redacted_for_file(text).as_bytes())
}

/// [`write_file`] for bytes.
pub fn write_file_bytes(path: &Path, bytes: &[u8]) -> Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| Error::io_write(parent, &e))?;
    }
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let temporary = path.with_file_name(format!(".{name}.{}.tmp", std::process::id()));
    std::fs::write(&temporary, bytes).map_err(|e| Error::io_write(path, &e))?;
    std::fs::rename(&temporary, path).map_err(|e| {
        let _ = std::fs::remove_file(&temporary);
        Error::io_write(path, &e)
    })
}

/// [`write_file`], unless the file already holds `text`: a compile that
/// changes nothing writes nothing.
///
/// A file that does not exist yet is written in place, without the
/// temporary file and rename (a third of a cold compile's time for ten
/// thousand models): nothing can see an older version of it, and one left
/// half-written by a crash differs from the SQL, so the next compile
/// writes it again.
pub fn write_if_changed(path: &Path, text: &str) -> Result<()> {
    let text = &*crate::secrets::redacted_for_file(text);
    match std::fs::read(path) {
        Ok(existing) if existing == text.as_bytes() => Ok(()),
        Ok(_) => write_file(path, text),
        Err(_) => {
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).map_err(|e| Error::io_write(parent, &e))?;
            }
            std::fs::write(path, text).map_err(|e| Error::io_write(path, &e))
        }
    }
}

/// `root/relative`, without a leading `./` when root is the current directory:
/// the path of a project file as the user sees it.
pub fn display_join(root: &Path, relative: &Path) -> PathBuf {
    if root.as_os_str().is_empty() || root == Path::new(".") {
        relative.to_path_buf()
    } else {
        root.join(relative)
    }
}

/// `folder` under `prefix`, as a folder name of dbt_project.yml is written.
pub fn join_folder(prefix: &Path, folder: &str) -> String {
    let joined = prefix.join(folder);
    joined
        .components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

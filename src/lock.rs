//! One kiln at a time in a project: commands that write the target directory
//! or build relations hold an exclusive lock on `<target>/kiln.lock`. A second
//! run is refused with a clear message instead of both writing the same
//! artifacts and relations. The lock is the operating system's (released when
//! the process ends, however it ends), so a crash never leaves a stale lock.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use crate::diagnostic::Code;
use crate::error::{Error, Result};

pub const LOCK_FILE: &str = "kiln.lock";

/// Held for as long as the command runs.
#[derive(Debug)]
pub struct ProjectLock {
    _file: File,
    pub path: PathBuf,
}

impl ProjectLock {
    pub fn acquire(target_dir: &Path) -> Result<ProjectLock> {
        std::fs::create_dir_all(target_dir).map_err(|e| Error::io_write(target_dir, &e))?;
        let path = target_dir.join(LOCK_FILE);
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| Error::io_write(&path, &e))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let mut holder = String::new();
                let _ = file.read_to_string(&mut holder);
                let holder = holder.trim();
                return Err(Error::Locked {
                    code: Code::ProjectLocked,
                    message: format!(
                        "another kiln is already running in this project{} (it holds {})",
                        if holder.is_empty() {
                            String::new()
                        } else {
                            format!(" as process {holder}")
                        },
                        path.display()
                    ),
                    help: Some("wait for it to finish, then run again".into()),
                });
            }
            Err(TryLockError::Error(e)) => return Err(Error::io(&path, &e)),
        }
        // Who holds it, for the message a second run prints.
        let _ = file.set_len(0);
        let _ = file.seek(SeekFrom::Start(0));
        let _ = write!(file, "{}", std::process::id());
        let _ = file.flush();
        Ok(ProjectLock { _file: file, path })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_on_the_same_target_is_refused_until_the_first_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let first = ProjectLock::acquire(dir.path()).unwrap();
        let err = ProjectLock::acquire(dir.path()).unwrap_err();
        assert_eq!(err.code(), Code::ProjectLocked);
        let message = err.to_string();
        assert!(
            message.contains(&format!("process {}", std::process::id())),
            "{message}"
        );
        drop(first);
        ProjectLock::acquire(dir.path()).unwrap();
    }
}

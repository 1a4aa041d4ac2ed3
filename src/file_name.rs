//! Names a project gives (a test's `name:`, an alias, a node's file path)
//! turned into paths that stay under the folder kiln writes into: one safe
//! file name component, or only the plain components of a relative path.

use std::path::{Component, Path, PathBuf};

/// The longest file name kiln writes, in bytes (file systems allow 255).
const MAX_BYTES: usize = 200;

/// `name` as one file name component: path separators, NUL and control
/// characters become `_`, a name of only dots becomes underscores, and a
/// name too long for a file system keeps its start and an md5 of the whole.
pub fn safe_file_name(name: &str) -> String {
    let mut out: String = name
        .chars()
        .map(|c| {
            if c == '/' || c == '\\' || c.is_control() {
                '_'
            } else {
                c
            }
        })
        .collect();
    if out.is_empty() || out.chars().all(|c| c == '.') {
        out = "_".repeat(out.len().max(1));
    }
    if out.len() > MAX_BYTES {
        let hex = crate::digest::md5_hex(name);
        let mut cut = MAX_BYTES - hex.len() - 1;
        while !out.is_char_boundary(cut) {
            cut -= 1;
        }
        out = format!("{}_{hex}", &out[..cut]);
    }
    out
}

/// Only the plain components of `path`: no root, no `..`, no `.`, so that
/// joined onto a folder it stays inside it.
pub fn plain_components(path: &Path) -> PathBuf {
    path.components()
        .filter_map(|c| match c {
            Component::Normal(part) => Some(safe_file_name(&part.to_string_lossy())),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn separators_and_dots_cannot_leave_the_folder() {
        assert_eq!(safe_file_name("../../models/x.sql"), ".._.._models_x.sql");
        assert_eq!(safe_file_name("/tmp/y.sql"), "_tmp_y.sql");
        assert_eq!(safe_file_name(".."), "__");
        assert_eq!(safe_file_name(""), "_");
        assert_eq!(safe_file_name("a\\b\0c"), "a_b_c");
        assert_eq!(
            safe_file_name("not_null_orders_id.sql"),
            "not_null_orders_id.sql"
        );
    }

    #[test]
    fn long_names_keep_their_start_and_a_digest() {
        let long = "é".repeat(300);
        let safe = safe_file_name(&long);
        assert!(safe.len() <= MAX_BYTES, "{}", safe.len());
        assert!(safe.starts_with("éé"));
        assert_ne!(safe, safe_file_name(&"é".repeat(301)));
    }

    #[test]
    fn plain_components_drop_roots_and_parents() {
        assert_eq!(
            plain_components(Path::new("/abs/../x/./y.sql")),
            PathBuf::from("abs/x/y.sql")
        );
    }
}

//! `{% docs name %} ... {% enddocs %}` blocks of a project's `.md` files,
//! and the descriptions that read them with `doc('name')`: rendered once,
//! when the project is loaded, as dbt renders them into its manifest.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::discovery;
use super::node::{ColumnInfo, Node, SourceTable};
use crate::config::dbt_project::DbtProject;
use crate::error::{Error, Location};
use crate::jinja_base::config_renderer::ConfigRenderer;

/// One docs block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocBlock {
    pub name: String,
    pub package: String,
    /// The file, relative to the project, and to its resource folder.
    pub original_file_path: PathBuf,
    pub path: PathBuf,
    /// The text between the tags, trimmed as dbt trims it.
    pub contents: String,
}

impl DocBlock {
    /// `doc.<package>.<name>`.
    pub fn unique_id(&self) -> String {
        format!("doc.{}.{}", self.package, self.name)
    }
}

/// Where a package's docs blocks are: `docs-paths`, else every folder dbt
/// reads resources from.
fn docs_folders(config: &DbtProject) -> Vec<String> {
    if !config.docs_paths.is_empty() {
        return config.docs_paths.clone();
    }
    let mut folders = config.model_paths.clone();
    for more in [
        &config.seed_paths,
        &config.test_paths,
        &config.analysis_paths,
        &config.macro_paths,
        &config.snapshot_paths,
    ] {
        folders.extend(more.iter().cloned());
    }
    folders
}

/// The docs blocks of one package's `.md` files. A block without its end,
/// or two blocks of one name, is an error naming the file and line.
pub fn read_docs(root: &Path, config: &DbtProject, errors: &mut Vec<Error>) -> Vec<DocBlock> {
    let folders = docs_folders(config);
    let mut blocks: Vec<DocBlock> = Vec::new();
    for file in discovery::find_files(root, &folders, &["md"], errors) {
        let text = match std::fs::read_to_string(root.join(&file)) {
            Ok(text) => text,
            Err(e) => {
                errors.push(Error::io(&file, &e));
                continue;
            }
        };
        let shown = crate::files::display_join(root, &file);
        match scan(&text) {
            Ok(found) => {
                for (name, contents, line) in found {
                    if let Some(first) = blocks.iter().find(|b| b.name == name) {
                        errors.push(Error::config(
                            Location::at(&shown, line, None),
                            format!(
                                "dbt found two docs with the same name: '{name}' in files: '{}' and '{}'",
                                first.original_file_path.display(),
                                file.display()
                            ),
                        ));
                        continue;
                    }
                    blocks.push(DocBlock {
                        name,
                        package: config.name.clone(),
                        path: discovery::relative_to_folder(&file, &folders),
                        original_file_path: file.clone(),
                        contents,
                    });
                }
            }
            Err((line, message)) => {
                errors.push(Error::config(Location::at(&shown, line, None), message));
            }
        }
    }
    blocks
}

/// A block found in a file: its name, its trimmed contents, its tag's line.
type Found = (String, String, usize);

/// The blocks of one file; or the line and what is wrong.
fn scan(text: &str) -> Result<Vec<Found>, (usize, String)> {
    let mut found = Vec::new();
    let mut rest = text;
    let mut offset = 0;
    let line_at = |at: usize| text[..at].matches('\n').count() + 1;
    while let Some(start) = find_tag(rest, "docs") {
        let (tag_start, tag_end, name) = start;
        let body_start = offset + tag_end;
        let line = line_at(offset + tag_start);
        if name.is_empty() || !name.chars().all(|c| c.is_alphanumeric() || c == '_') {
            return Err((
                line,
                format!(
                    "a docs block needs a name of letters, digits and underscores: `{{% docs name %}}`, got '{name}'"
                ),
            ));
        }
        let after = &text[body_start..];
        let Some((end_start, end_end, _)) = find_tag(after, "enddocs") else {
            return Err((
                line,
                format!("the docs block '{name}' is not closed: expected `{{% enddocs %}}`"),
            ));
        };
        found.push((name, after[..end_start].trim().to_string(), line));
        offset = body_start + end_end;
        rest = &text[offset..];
    }
    Ok(found)
}

/// The first `{% <word> ... %}` tag of `text` (with `-` trims allowed): its
/// start, its end, and what follows the word inside it.
fn find_tag(text: &str, word: &str) -> Option<(usize, usize, String)> {
    let mut from = 0;
    while let Some(at) = text[from..].find("{%") {
        let start = from + at;
        let inner_start = start + 2;
        let end = text[inner_start..].find("%}")? + inner_start;
        let inner = text[inner_start..end]
            .trim_start_matches('-')
            .trim_end_matches('-')
            .trim();
        if let Some(rest) = inner.strip_prefix(word)
            && (rest.is_empty() || rest.starts_with(char::is_whitespace))
        {
            return Some((start, end + 2, rest.trim().to_string()));
        }
        from = end + 2;
    }
    None
}

/// The blocks by (package, name), as `doc()` finds them.
pub type DocIndex = BTreeMap<(String, String), String>;

pub fn index(blocks: &[DocBlock]) -> Arc<DocIndex> {
    Arc::new(
        blocks
            .iter()
            .map(|b| ((b.package.clone(), b.name.clone()), b.contents.clone()))
            .collect(),
    )
}

/// Renders the `doc()` calls (and other Jinja) of every description of
/// `nodes` and `sources`. A doc that no package has is dbt's error, at the
/// properties file that asks for it.
pub fn render_descriptions(
    nodes: &mut BTreeMap<String, Node>,
    sources: &mut BTreeMap<String, SourceTable>,
    root: &Path,
    renderer: &ConfigRenderer,
    docs: &Arc<DocIndex>,
    errors: &mut Vec<Error>,
) {
    for node in nodes.values_mut() {
        let renderer = renderer.with_docs(docs.clone(), &node.package);
        let file = crate::files::display_join(
            root,
            node.patch_path.as_ref().unwrap_or(&node.original_file_path),
        );
        let id = node.unique_id.clone();
        render_one(&mut node.description, &id, &file, &renderer, errors);
        render_columns(&mut node.columns, &id, &file, &renderer, errors);
    }
    for source in sources.values_mut() {
        let renderer = renderer.with_docs(docs.clone(), &source.package);
        let id = source.unique_id.clone();
        let file = crate::files::display_join(root, &source.original_file_path);
        render_one(&mut source.description, &id, &file, &renderer, errors);
        render_columns(&mut source.columns, &id, &file, &renderer, errors);
    }
}

fn render_columns(
    columns: &mut [ColumnInfo],
    id: &str,
    file: &Path,
    renderer: &ConfigRenderer,
    errors: &mut Vec<Error>,
) {
    for column in columns {
        render_one(&mut column.description, id, file, renderer, errors);
    }
}

fn render_one(
    description: &mut String,
    id: &str,
    file: &Path,
    renderer: &ConfigRenderer,
    errors: &mut Vec<Error>,
) {
    if !description.contains("{{") && !description.contains("{%") {
        return;
    }
    match renderer.render(description) {
        Ok(serde_yaml::Value::String(text)) => *description = text,
        Ok(other) => {
            *description = serde_yaml::to_string(&other)
                .unwrap_or_default()
                .trim()
                .to_string()
        }
        Err(error) => {
            let error = error.to_string();
            let message = if error.contains("which was not found") {
                format!("Documentation for '{id}' {error}")
            } else {
                format!("Documentation for '{id}' does not render: {error}")
            };
            errors.push(Error::config(Location::file(file), message));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::scan;

    #[test]
    fn blocks_are_found_with_their_lines_and_trimmed() {
        let text = "# notes\n{% docs orders %}\nOne row per **order**.\n{% enddocs %}\n\n{%- docs __overview__ -%}\nThe shop.\n{%- enddocs -%}\n";
        let found = scan(text).unwrap();
        assert_eq!(
            found,
            vec![
                ("orders".into(), "One row per **order**.".into(), 2),
                ("__overview__".into(), "The shop.".into(), 6),
            ]
        );
    }

    #[test]
    fn an_unclosed_block_is_an_error_at_its_line() {
        let (line, message) = scan("\n\n{% docs orders %}\ntext\n").unwrap_err();
        assert_eq!(line, 3);
        assert!(message.contains("'orders' is not closed"), "{message}");
    }
}

//! The errors kiln reports at its library boundary.
//!
//! Every variant carries where the problem came from (a file, and a line and
//! column where there is one) so the CLI can point the user at it. The CLI maps
//! every `Error` to exit code 2: the project or the command could not be run.

use std::fmt;
use std::path::{Path, PathBuf};

/// A place in a user's file. Lines and columns are 1-based.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Location {
    pub file: PathBuf,
    pub line: Option<usize>,
    pub column: Option<usize>,
}

impl Location {
    pub fn file(file: impl Into<PathBuf>) -> Self {
        Location {
            file: file.into(),
            line: None,
            column: None,
        }
    }

    pub fn at(file: impl Into<PathBuf>, line: usize, column: Option<usize>) -> Self {
        Location {
            file: file.into(),
            line: Some(line),
            column,
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(column) = self.column {
                write!(f, ":{column}")?;
            }
        }
        Ok(())
    }
}

/// One node of a dependency cycle: its id and the file that defines it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CycleMember {
    pub unique_id: String,
    pub file: PathBuf,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{location}: cannot read file: {message}")]
    Io { location: Location, message: String },

    #[error("{location}: invalid YAML: {message}")]
    Yaml { location: Location, message: String },

    #[error("{location}: {message}")]
    Config { location: Location, message: String },

    #[error("{location}: {message}{}", in_node(node))]
    Jinja {
        location: Location,
        message: String,
        /// The node whose render raised the error, when the error sits in a macro file.
        node: Option<String>,
    },

    #[error("{location}: {message}")]
    UnknownReference { location: Location, message: String },

    #[error("dependency cycle: {}", render_cycle(members))]
    Cycle { members: Vec<CycleMember> },

    #[error("{location}: invalid CSV: {message}")]
    Csv { location: Location, message: String },

    #[error("cannot connect to the database: {message}")]
    Connection { message: String },

    #[error("{path}: {message}")]
    Artifact { path: PathBuf, message: String },

    #[error("{}", render_many(.0))]
    Many(Vec<Error>),
}

fn in_node(node: &Option<String>) -> String {
    match node {
        Some(node) => format!(" (while rendering {node})"),
        None => String::new(),
    }
}

fn render_cycle(members: &[CycleMember]) -> String {
    let mut out = String::new();
    for member in members {
        out.push_str(&format!(
            "\n  {} ({}) ->",
            member.unique_id,
            member.file.display()
        ));
    }
    if let Some(first) = members.first() {
        out.push_str(&format!("\n  {}", first.unique_id));
    }
    out
}

fn render_many(errors: &[Error]) -> String {
    let parts: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
    format!(
        "{}\n{} error{} found",
        parts.join("\n"),
        errors.len(),
        if errors.len() == 1 { "" } else { "s" }
    )
}

impl Error {
    pub fn io(path: &Path, err: &std::io::Error) -> Self {
        Error::Io {
            location: Location::file(path),
            message: err.to_string(),
        }
    }

    pub fn config(location: Location, message: impl Into<String>) -> Self {
        Error::Config {
            location,
            message: message.into(),
        }
    }

    /// Folds a list of errors into one: itself when there is one, `Many` otherwise.
    pub fn from_many(mut errors: Vec<Error>) -> Option<Error> {
        match errors.len() {
            0 => None,
            1 => errors.pop(),
            _ => Some(Error::Many(errors)),
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

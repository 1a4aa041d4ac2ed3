//! The errors kiln reports at its library boundary.
//!
//! Every variant carries where the problem came from (a file, and a line and
//! column where there is one) so the CLI can point the user at it, and maps to
//! one stable diagnostic code (`Error::code`). `crate::diagnostic` turns an
//! error into what the user reads. The CLI maps every `Error` to exit code 2:
//! the project or the command could not be run.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::diagnostic::Code;

/// A place in a user's file. Lines and columns are 1-based; `length` is how
/// many characters from the column the problem spans.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Location {
    pub file: PathBuf,
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub length: Option<usize>,
}

impl Location {
    pub fn file(file: impl Into<PathBuf>) -> Self {
        Location {
            file: file.into(),
            ..Location::default()
        }
    }

    pub fn at(file: impl Into<PathBuf>, line: usize, column: Option<usize>) -> Self {
        Location {
            file: file.into(),
            line: Some(line),
            column,
            length: None,
        }
    }

    /// The same place, spanning `length` characters.
    pub fn spanning(mut self, length: usize) -> Self {
        self.length = Some(length);
        self
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

/// One node of a dependency cycle: its id, and where in its file it refs the
/// member before it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CycleMember {
    pub unique_id: String,
    pub location: Location,
}

/// What kiln was doing with a file when the operating system said no.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IoAction {
    Read,
    Write,
    /// Listing a folder's files (an unreadable folder, a symlink loop).
    Walk,
}

impl fmt::Display for IoAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            IoAction::Read => "read file",
            IoAction::Write => "write",
            IoAction::Walk => "read folder",
        })
    }
}

/// What went wrong while rendering Jinja.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JinjaKind {
    Syntax,
    UndefinedMacro,
    Undefined,
    /// `exceptions.raise_compiler_error()` and friends.
    Raised,
    Other,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{location}: cannot {action}: {message}")]
    Io {
        location: Location,
        action: IoAction,
        message: String,
    },

    /// YAML that does not parse (`key_path` empty) or whose value at
    /// `key_path` has the wrong shape.
    #[error("{location}: invalid YAML{}: {message}", at_key(key_path))]
    Yaml {
        location: Location,
        message: String,
        key_path: Option<String>,
    },

    #[error("{location}: {message}")]
    Config {
        location: Location,
        message: String,
        help: Option<String>,
    },

    /// No profile, no such target, or a profile without what it needs.
    #[error("{location}: {message}")]
    Profile {
        location: Location,
        message: String,
        help: Option<String>,
    },

    /// `--vars` that are not a YAML mapping; `text` is the argument, with the
    /// line and column of the problem in it.
    #[error("--vars: {message}")]
    Vars {
        message: String,
        text: String,
        line: Option<usize>,
        column: Option<usize>,
    },

    #[error("{location}: {message}{}", in_node(node))]
    Jinja {
        location: Location,
        kind: JinjaKind,
        message: String,
        /// The node whose render raised the error, when the error sits in a macro file.
        node: Option<String>,
    },

    #[error("{location}: {message}")]
    UnknownReference {
        location: Location,
        message: String,
        help: Option<String>,
    },

    #[error("dependency cycle: {}", render_cycle(members))]
    Cycle { members: Vec<CycleMember> },

    #[error("--select/--exclude '{selector}': {message}")]
    Selector {
        selector: String,
        message: String,
        help: Option<String>,
    },

    #[error("{location}: invalid CSV: {message}")]
    Csv { location: Location, message: String },

    #[error("cannot connect to the database: {message}")]
    Connection {
        message: String,
        help: Option<String>,
    },

    /// Another process holds the database file or the project's lock.
    #[error("{message}")]
    Locked {
        code: Code,
        message: String,
        help: Option<String>,
    },

    #[error("{path}: {message}")]
    Artifact { path: PathBuf, message: String },

    #[error("{}", render_many(.0))]
    Many(Vec<Error>),
}

fn at_key(key_path: &Option<String>) -> String {
    match key_path {
        Some(path) => format!(" at `{path}`"),
        None => String::new(),
    }
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
            member.unique_id, member.location
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
    /// A file that could not be read.
    pub fn io(path: &Path, err: &std::io::Error) -> Self {
        Error::io_doing(IoAction::Read, path, err)
    }

    /// A file or folder that could not be written.
    pub fn io_write(path: &Path, err: &std::io::Error) -> Self {
        Error::io_doing(IoAction::Write, path, err)
    }

    pub fn io_doing(action: IoAction, path: &Path, err: &std::io::Error) -> Self {
        Error::Io {
            location: Location::file(path),
            action,
            message: err.to_string(),
        }
    }

    pub fn config(location: Location, message: impl Into<String>) -> Self {
        Error::Config {
            location,
            message: message.into(),
            help: None,
        }
    }

    pub fn profile(location: Location, message: impl Into<String>) -> Self {
        Error::Profile {
            location,
            message: message.into(),
            help: None,
        }
    }

    pub fn connection(message: impl Into<String>) -> Self {
        Error::Connection {
            message: message.into(),
            help: None,
        }
    }

    /// The same error with a hint on how to fix it, where the variant has room for one.
    pub fn with_help(mut self, text: impl Into<String>) -> Self {
        match &mut self {
            Error::Config { help, .. }
            | Error::Profile { help, .. }
            | Error::UnknownReference { help, .. }
            | Error::Selector { help, .. }
            | Error::Connection { help, .. }
            | Error::Locked { help, .. } => *help = Some(text.into()),
            _ => {}
        }
        self
    }

    /// The stable code a user can search for. `Many` has the code of its first error.
    pub fn code(&self) -> Code {
        match self {
            Error::Io { .. } => Code::Io,
            Error::Yaml { key_path: None, .. } => Code::YamlSyntax,
            Error::Yaml { .. } => Code::YamlShape,
            Error::Config { .. } => Code::Config,
            Error::Profile { .. } => Code::Profile,
            Error::Vars { .. } => Code::Vars,
            Error::Jinja { kind, .. } => match kind {
                JinjaKind::Syntax => Code::JinjaSyntax,
                JinjaKind::UndefinedMacro => Code::UndefinedMacro,
                JinjaKind::Undefined => Code::UndefinedValue,
                JinjaKind::Raised => Code::CompilerError,
                JinjaKind::Other => Code::JinjaRender,
            },
            Error::UnknownReference { .. } => Code::UnknownReference,
            Error::Cycle { .. } => Code::Cycle,
            Error::Selector { .. } => Code::Selector,
            Error::Csv { .. } => Code::Csv,
            Error::Connection { .. } => Code::Connection,
            Error::Locked { code, .. } => *code,
            Error::Artifact { .. } => Code::Artifact,
            Error::Many(errors) => errors.first().map(Error::code).unwrap_or(Code::Config),
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

//! The errors kiln reports at its library boundary.
//!
//! Every variant carries where the problem came from (a file, and a line and
//! column where there is one) so the CLI can point the user at it, and maps to
//! one stable diagnostic code (`Error::code`), and becomes what the user reads
//! here (`From<&Error> for Vec<Diagnostic>`; `Location` and `Code` live in
//! `crate::diagnostic`). The CLI maps every `Error` to exit code 2:
//! the project or the command could not be run.

use std::fmt;
use std::path::{Path, PathBuf};

pub use crate::diagnostic::Location;
use crate::diagnostic::{Code, Diagnostic};

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

impl From<&Error> for Vec<Diagnostic> {
    fn from(error: &Error) -> Self {
        let code = error.code();
        let one = |message: String, location: Option<&Location>, help: &Option<String>| {
            let mut d = Diagnostic::error(code, message).with_help(help.clone());
            d.location = location.cloned();
            vec![d]
        };
        match error {
            Error::Many(errors) => errors.iter().flat_map(Vec::<Diagnostic>::from).collect(),
            Error::Io {
                location,
                action,
                message,
            } => one(format!("cannot {action}: {message}"), Some(location), &None),
            Error::Yaml {
                location,
                message,
                key_path,
            } => {
                let message = match key_path {
                    Some(path) => format!("wrong value at `{path}`: {message}"),
                    None => format!("invalid YAML: {message}"),
                };
                one(message, Some(location), &None)
            }
            Error::Config {
                location,
                message,
                help,
            }
            | Error::Profile {
                location,
                message,
                help,
            }
            | Error::UnknownReference {
                location,
                message,
                help,
            } => one(message.clone(), Some(location), help),
            Error::Vars {
                message,
                text,
                line,
                column,
            } => {
                let mut d = Diagnostic::error(code, format!("--vars: {message}"));
                if let Some(line) = line {
                    d = d.at(Location::at("--vars", *line, *column));
                    d.source_text = Some(text.clone());
                }
                vec![d]
            }
            Error::Jinja {
                location,
                message,
                node,
                ..
            } => {
                let mut d = Diagnostic::error(code, message.clone()).at(location.clone());
                if let Some(node) = node {
                    d = d.with_note(format!("called while rendering {node}"));
                }
                vec![d]
            }
            Error::Cycle { members } => {
                let mut d = Diagnostic::error(
                    code,
                    format!(
                        "dependency cycle between {} nodes: {}",
                        members.len(),
                        cycle_path(members)
                    ),
                );
                if let Some(first) = members.first() {
                    d = d
                        .at(first.location.clone())
                        .with_label("this ref closes the cycle");
                }
                let count = members.len();
                for (k, member) in members.iter().enumerate() {
                    let parent = &members[(k + count - 1) % count];
                    d = d.with_note(format!(
                        "{} refs {} at {}",
                        member.unique_id, parent.unique_id, member.location
                    ));
                }
                vec![d.with_help(Some("remove one of the ref() calls in the cycle".into()))]
            }
            Error::Selector {
                selector,
                message,
                help,
            } => {
                let location =
                    Location::at("--select", 1, Some(1)).spanning(selector.chars().count());
                let mut d = Diagnostic::error(code, format!("selector '{selector}': {message}"))
                    .at(location)
                    .with_help(help.clone());
                d.source_text = Some(selector.clone());
                vec![d]
            }
            Error::Csv { location, message } => {
                one(format!("invalid CSV: {message}"), Some(location), &None)
            }
            Error::Connection { message, help } => one(
                format!("cannot connect to the database: {message}"),
                None,
                help,
            ),
            Error::Locked { message, help, .. } => one(message.clone(), None, help),
            Error::Artifact { path, message } => {
                one(message.clone(), Some(&Location::file(path)), &None)
            }
        }
    }
}

fn cycle_path(members: &[CycleMember]) -> String {
    let mut names: Vec<&str> = members.iter().map(|m| m.unique_id.as_str()).collect();
    if let Some(first) = members.first() {
        names.push(&first.unique_id);
    }
    names.join(" --> ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn many_errors_flatten_into_one_diagnostic_each() {
        let error = Error::Many(vec![
            Error::config(Location::at("a.yml", 2, Some(3)), "first"),
            Error::Vars {
                message: "second".into(),
                text: String::new(),
                line: None,
                column: None,
            },
        ]);
        let diagnostics: Vec<Diagnostic> = (&error).into();
        assert_eq!(diagnostics.len(), 2);
        assert_eq!(diagnostics[0].code, Code::Config);
        assert_eq!(diagnostics[0].summary(), "a.yml:2:3: first");
        assert_eq!(diagnostics[1].code, Code::Vars);
    }
}

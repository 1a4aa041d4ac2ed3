//! Rendering a template or calling a macro with a node's context, and turning
//! minijinja's errors into kiln errors that name the file and line.

use std::cell::RefCell;
use std::path::Path;

use minijinja::Value;

use crate::error::{Error, JinjaKind, Location};

thread_local! {
    /// The contexts of the renders in progress on this thread; macro calls
    /// render their file with the innermost one.
    static CONTEXTS: RefCell<Vec<Value>> = const { RefCell::new(Vec::new()) };
}

/// The context of the render in progress (undefined outside a render).
pub fn current_context() -> Value {
    CONTEXTS.with(|c| c.borrow().last().cloned().unwrap_or(Value::UNDEFINED))
}

/// Runs `f` with `ctx` as the current context.
pub fn with_context<T>(ctx: &Value, f: impl FnOnce() -> T) -> T {
    CONTEXTS.with(|c| c.borrow_mut().push(ctx.clone()));
    let result = f();
    CONTEXTS.with(|c| c.borrow_mut().pop());
    result
}

/// Maps a minijinja error to a kiln error at the template's file and line.
/// `root` is the project directory, so the path shown is one the user can open;
/// `node` is the node being rendered, named when the error sits in another file.
pub fn jinja_error(err: &minijinja::Error, root: &Path, node: Option<(&str, &str)>) -> Error {
    // A snapshot's template is `file#name`: the file is what the user opens.
    let template = err
        .name()
        .unwrap_or_default()
        .split('#')
        .next()
        .unwrap_or_default()
        .to_string();
    let file = if template.starts_with(super::BUILTIN_PREFIX) || template.is_empty() {
        Path::new(&template).to_path_buf()
    } else {
        display_join(root, &template)
    };
    let location = match err.line() {
        Some(line) => {
            let column = column_of(err);
            let length = err
                .range()
                .zip(err.template_source())
                .and_then(|(r, src)| src.get(r))
                .filter(|text| !text.contains('\n'))
                .map(|text| text.chars().count());
            let location = Location::at(file, line, column);
            match length {
                Some(n) if column.is_some() => location.spanning(n),
                _ => location,
            }
        }
        None => Location::file(file),
    };
    let mut message = describe(err);
    let mut source = std::error::Error::source(err);
    while let Some(inner) = source {
        if let Some(inner) = inner.downcast_ref::<minijinja::Error>()
            && let Some(detail) = inner.detail()
        {
            message.push_str(&format!(": {detail}"));
        }
        source = inner.source();
    }
    let node = match node {
        Some((unique_id, template_of_node)) if template_of_node != template => {
            Some(unique_id.to_string())
        }
        _ => None,
    };
    Error::Jinja {
        location,
        kind: kind_of(err),
        message,
        node,
    }
}

/// The 1-based column where the error's span starts, from the template's source.
fn column_of(err: &minijinja::Error) -> Option<usize> {
    let start = err.range()?.start;
    let source = err.template_source()?;
    let before = source.get(..start)?;
    let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
    Some(before[line_start..].chars().count() + 1)
}

fn kind_of(err: &minijinja::Error) -> JinjaKind {
    use minijinja::ErrorKind;
    match err.kind() {
        ErrorKind::SyntaxError => JinjaKind::Syntax,
        ErrorKind::UnknownFunction | ErrorKind::UnknownMethod => JinjaKind::UndefinedMacro,
        ErrorKind::UndefinedError => JinjaKind::Undefined,
        _ if err
            .detail()
            .is_some_and(|d| d.starts_with(super::functions::RAISED_PREFIX)) =>
        {
            JinjaKind::Raised
        }
        _ => JinjaKind::Other,
    }
}

fn describe(err: &minijinja::Error) -> String {
    use minijinja::ErrorKind;
    let detail = err.detail().map(str::to_string);
    match (err.kind(), detail) {
        (ErrorKind::SyntaxError, Some(d)) => format!("Jinja syntax error: {d}"),
        (ErrorKind::UnknownFunction, Some(d)) => format!("undefined macro or function: {d}"),
        (ErrorKind::UnknownFunction, None) => "call of an undefined macro or function".to_string(),
        (ErrorKind::UndefinedError, Some(d)) => d,
        (ErrorKind::UndefinedError, None) => "use of an undefined value".to_string(),
        (_, Some(d)) => d,
        (kind, None) => kind.to_string(),
    }
}

/// `root/relative`, as the user sees it.
pub fn display_join(root: &Path, relative: &str) -> std::path::PathBuf {
    crate::files::display_join(root, Path::new(relative))
}

//! Macros: finding the macros a file defines, and calling them by name from any
//! template, with `return()` values and the caller's context.
//!
//! Each macro file is one template of the environment. A macro is exposed as a
//! global callable; calling it renders its file in the calling node's context
//! and calls the macro there. A project macro shadows kiln's built-in one of
//! the same name, as in dbt.

mod function;
mod registry;
mod source;

use super::BUILTIN_PACKAGE;
pub use function::{
    MacroFunction, MacroKwargs, MacroNamespace, NODE_PACKAGE_KEY, call_macro,
    calling_macro_package, node_package, package_of,
};
pub use registry::MacroRegistry;
pub use source::{local_name, macro_names, rename_definitions, test_blocks_to_macros};

/// Where a macro is defined.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MacroDef {
    pub name: String,
    /// The template (file) that defines it.
    pub template: String,
    /// `kiln` for built-ins, the project's name for the project's own.
    pub package: String,
}

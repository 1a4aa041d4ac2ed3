//! Building the one Jinja environment of a command: built-in macros, the
//! project's macros (which shadow built-ins of the same name) and every model
//! file, each compiled once.

use std::path::PathBuf;
use std::sync::Arc;

use minijinja::{Environment, UndefinedBehavior, Value};

use super::macros::{
    MacroFunction, MacroRegistry, call_macro, rename_definitions, test_blocks_to_macros,
};
use super::render::{jinja_error, with_context};
use super::{BUILTIN_PACKAGE, builtins, functions};
use crate::error::{Error, Result};
use crate::project::Project;

pub struct JinjaEnv {
    pub env: Environment<'static>,
    pub macros: MacroRegistry,
    /// The project directory, to show template paths the user can open.
    pub root: PathBuf,
}

impl JinjaEnv {
    /// Compiles every built-in template and macro file of `project`.
    /// Syntax errors in any of them are reported together.
    pub fn new(project: &Project) -> Result<JinjaEnv> {
        let mut env = Environment::new();
        env.set_debug(true);
        env.set_undefined_behavior(UndefinedBehavior::Lenient);
        env.set_recursion_limit(256);
        functions::register_common(&mut env);
        env.add_function(
            "render",
            |state: &minijinja::State<'_, '_>,
             source: String|
             -> Result<String, minijinja::Error> {
                state
                    .env()
                    .render_str(&source, super::render::current_context())
            },
        );

        let mut errors = Vec::new();
        let mut macros = MacroRegistry::default();
        for (name, source) in builtins::TEMPLATES {
            let source = test_blocks_to_macros(source);
            if let Err(e) = env.add_template_owned(*name, rename_definitions(&source)) {
                errors.push(jinja_error(&e, &project.root, None));
            }
            macros.add_file(name, BUILTIN_PACKAGE, &source);
        }
        for file in &project.macros {
            let name = template_name(&file.path);
            let source = test_blocks_to_macros(&file.source);
            if let Err(e) = env.add_template_owned(name.clone(), rename_definitions(&source)) {
                errors.push(jinja_error(&e, &project.root, None));
                continue;
            }
            macros.add_file(&name, &file.package, &source);
        }
        for def in macros.macros.values() {
            env.add_global(
                def.name.clone(),
                Value::from_object(MacroFunction { def: def.clone() }),
            );
        }
        if let Some(error) = Error::from_many(errors) {
            return Err(error);
        }
        Ok(JinjaEnv {
            env,
            macros,
            root: project.root.clone(),
        })
    }

    /// Renders a node's code, named `template` in errors, with its context.
    /// The code is compiled for this render and not kept: a project of ten
    /// thousand models holds no ten thousand compiled templates.
    pub fn render(
        &self,
        template: &str,
        source: &str,
        ctx: &Value,
    ) -> Result<String, minijinja::Error> {
        super::render::with_context(ctx, || {
            self.env.render_named_str(template, source, ctx.clone())
        })
    }

    /// Calls a macro by name with the node context `ctx`.
    pub fn call_macro(
        &self,
        name: &str,
        ctx: &Value,
        args: &[Value],
    ) -> Result<Value, minijinja::Error> {
        let def = self.macros.get(name).ok_or_else(|| {
            minijinja::Error::new(
                minijinja::ErrorKind::UnknownFunction,
                format!("macro '{name}' is not defined"),
            )
        })?;
        with_context(ctx, || call_macro(&self.env, def, args))
    }

    pub fn has_macro(&self, name: &str) -> bool {
        self.macros.get(name).is_some()
    }
}

/// The template a node's code is registered under: its file, and for a
/// snapshot (a file can hold several) `file#name`.
pub fn node_template(node: &crate::project::node::Node) -> String {
    let file = template_name(&node.original_file_path);
    match node.kind {
        crate::project::node::NodeKind::Snapshot => format!("{file}#{}", node.name),
        _ => file,
    }
}

/// A file's template name: its project-relative path with `/` separators.
pub fn template_name(path: &std::path::Path) -> String {
    path.components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

/// The environment shared by worker threads.
pub type SharedEnv = Arc<JinjaEnv>;

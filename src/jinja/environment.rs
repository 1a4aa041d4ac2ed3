//! Building the one Jinja environment of a command: built-in macros, the
//! project's macros (which shadow built-ins of the same name) and every model
//! file, each compiled once.

use std::path::PathBuf;
use std::sync::Arc;

use minijinja::{Environment, UndefinedBehavior, Value};

use super::macros::{
    MacroFunction, MacroNamespace, MacroRegistry, call_macro, rename_definitions,
    test_blocks_to_macros,
};
use super::python_compat::mutable_literals;
use super::render::{jinja_error, with_context};
use super::{BUILTIN_PACKAGE, builtins, functions};
use crate::error::{Error, Result};
use crate::project::Project;

pub struct JinjaEnv {
    pub env: Environment<'static>,
    pub macros: Arc<MacroRegistry>,
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
        super::python_compat::register(&mut env);
        env.add_global(
            "api",
            Value::from_object(super::api::Api {
                adapter: project.target.adapter,
            }),
        );
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
        let mut macros = MacroRegistry {
            root: project.config.name.clone(),
            adapter: project.target.adapter.name().to_string(),
            dispatch: project
                .config
                .dispatch
                .iter()
                .map(|d| (d.macro_namespace.clone(), d.search_order.clone()))
                .collect(),
            ..MacroRegistry::default()
        };
        for (name, source) in builtins::TEMPLATES {
            let source = test_blocks_to_macros(source);
            let compiled = rename_definitions(&mutable_literals(&source));
            if let Err(e) = env.add_template_owned(*name, compiled) {
                errors.push(jinja_error(&e, &project.root, None));
            }
            macros.add_file(name, BUILTIN_PACKAGE, &source);
        }
        for file in &project.macros {
            let name = template_name(&file.path);
            let source = test_blocks_to_macros(&file.source);
            let compiled = rename_definitions(&mutable_literals(&source));
            if let Err(e) = env.add_template_owned(name.clone(), compiled) {
                errors.push(jinja_error(&e, &project.root, None));
                continue;
            }
            macros.add_file(&name, &file.package, &source);
        }
        let macros = Arc::new(macros);
        for name in macros.names() {
            env.add_global(
                name.to_string(),
                Value::from_object(MacroFunction {
                    name: name.to_string(),
                    def: None,
                    registry: macros.clone(),
                }),
            );
        }
        for package in macros.packages.keys() {
            env.add_global(
                package.clone(),
                Value::from_object(MacroNamespace {
                    package: package.clone(),
                    registry: macros.clone(),
                }),
            );
        }
        // A macro's `kwargs`: what it was given beyond its parameters.
        env.add_global(
            "kwargs",
            Value::from_object(crate::jinja::macros::MacroKwargs),
        );
        env.add_global(
            REGISTRY_GLOBAL,
            Value::from_object(RegistryHandle(macros.clone())),
        );
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
        let source = mutable_literals(source);
        super::render::with_context(ctx, || {
            self.env.render_named_str(template, &source, ctx.clone())
        })
    }

    /// Calls a macro by name with the node context `ctx`.
    pub fn call_macro(
        &self,
        name: &str,
        ctx: &Value,
        args: &[Value],
    ) -> Result<Value, minijinja::Error> {
        let package = super::macros::package_of(ctx, &self.macros.root);
        let def = self.macros.find(name, &package).ok_or_else(|| {
            minijinja::Error::new(
                minijinja::ErrorKind::UnknownFunction,
                format!("macro '{name}' is not defined"),
            )
        })?;
        with_context(ctx, || call_macro(&self.env, def, args))
    }

    /// Whether `name` (or `pkg.name`) is a macro the root project can call.
    pub fn has_macro(&self, name: &str) -> bool {
        self.macros.find(name, &self.macros.root).is_some()
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

/// The global under which the macro registry is reachable from functions
/// that only have the template state (`adapter.dispatch`).
pub const REGISTRY_GLOBAL: &str = "__kiln_macro_registry";

/// The macro registry as a Jinja value.
#[derive(Debug)]
pub struct RegistryHandle(pub Arc<MacroRegistry>);

impl minijinja::value::Object for RegistryHandle {}

/// The registry of the environment `state` renders in.
pub fn registry_of(state: &minijinja::State<'_, '_>) -> Option<Arc<MacroRegistry>> {
    state
        .lookup(REGISTRY_GLOBAL)?
        .downcast_object_ref::<RegistryHandle>()
        .map(|h| h.0.clone())
}

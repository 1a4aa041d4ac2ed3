//! `kiln deps`: install the packages of packages.yml (no profile needed, as
//! in dbt).

use super::{EXIT_OK, GlobalArgs};
use crate::error::Result;

pub fn run(global: &GlobalArgs) -> Result<i32> {
    let (config, renderer) = super::load_dbt_project(global)?;
    let root = &global.project_dir;
    let installed = crate::packages::install::install(root, &config, &renderer)?;
    if installed.is_empty() {
        super::output::line("No packages to install: packages.yml lists none");
    }
    for package in &installed {
        super::output::line(&format!(
            "Installed {} ({})",
            package.entry.name, package.pinned
        ));
    }
    if !installed.is_empty() {
        super::output::line(&format!(
            "Installed {} package{} into {}/, pinned in {}",
            installed.len(),
            if installed.len() == 1 { "" } else { "s" },
            config.packages_install_path,
            crate::packages::install::LOCK_FILE
        ));
    }
    Ok(EXIT_OK)
}

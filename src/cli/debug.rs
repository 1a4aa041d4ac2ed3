//! `kiln debug`: which files kiln reads, whether they are valid, the
//! connection's settings (never a secret) and whether the database answers,
//! as dbt's `debug` tells them. It exits 1 when a check fails.

use super::{EXIT_FAILURE, EXIT_OK, GlobalArgs};
use crate::error::Result;

/// The settings of an output shown as they are; any other key (a password,
/// a token, a key file) is not shown at all.
const SHOWN: &[&str] = &[
    "type",
    "host",
    "port",
    "user",
    "dbname",
    "database",
    "schema",
    "path",
    "threads",
    "sslmode",
    "search_path",
    "role",
    "keepalives_idle",
    "connect_timeout",
];

pub fn run(global: &GlobalArgs) -> Result<i32> {
    let out = super::output::line;
    out(&format!("kiln {}", env!("CARGO_PKG_VERSION")));
    let mut failed = false;
    let project_file = global.project_dir.join("dbt_project.yml");
    out(&format!(
        "Using dbt_project.yml file at {}",
        project_file.display()
    ));
    let profiles = crate::config::profiles::find_profiles_file(global.profiles_dir.as_deref());
    match &profiles {
        Ok(file) => out(&format!("Using profiles.yml file at {}", file.display())),
        Err(_) => out("No profiles.yml file found"),
    }
    out("");
    out("Configuration:");
    let project = match super::load_dbt_project(global) {
        Ok(_) => {
            out("  dbt_project.yml file [OK found and valid]");
            match super::load_project(global) {
                Ok(project) => {
                    out("  profiles.yml file [OK found and valid]");
                    Some(project)
                }
                Err(error) => {
                    out("  profiles.yml file [ERROR invalid]");
                    super::output::error(&error);
                    failed = true;
                    None
                }
            }
        }
        Err(error) => {
            out("  dbt_project.yml file [ERROR not found or invalid]");
            super::output::error(&error);
            failed = true;
            None
        }
    };
    if let Some(project) = project {
        let target = &project.target;
        out("");
        out(&format!(
            "Connection (profile '{}', target '{}'):",
            target.profile_name, target.name
        ));
        out(&format!("  adapter type: {}", target.adapter.name()));
        for (key, value) in &target.settings {
            if SHOWN.contains(&key.as_str()) && key != "type" {
                let text = match value {
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                out(&format!("  {key}: {}", crate::secrets::redact(&text)));
            }
        }
        let answered = crate::adapter::for_target(target)
            .and_then(|adapter| adapter.connect())
            .map_err(|e| e.to_string())
            .and_then(|mut connection| {
                connection
                    .query("select 1")
                    .map(|_| ())
                    .map_err(|e| e.message)
            });
        match answered {
            Ok(()) => out("  Connection test: [OK connection ok]"),
            Err(message) => {
                out("  Connection test: [ERROR]");
                out(&format!("    {}", crate::secrets::redact(message.trim())));
                failed = true;
            }
        }
    }
    out("");
    if failed {
        out("Some checks failed: see above.");
        Ok(EXIT_FAILURE)
    } else {
        out("All checks passed!");
        Ok(EXIT_OK)
    }
}

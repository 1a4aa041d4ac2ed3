//! `kiln parse`: reads the project, renders what it must, links the graph
//! and writes target/manifest.json, saying how long each phase took (dbt's
//! `parse`, whose timings go to perf_info.json; kiln's go to the console).

use std::time::Instant;

use super::{EXIT_OK, GlobalArgs};
use crate::error::Result;

pub fn run(global: &GlobalArgs) -> Result<i32> {
    let started = Instant::now();
    let mut phase = Instant::now();
    let mut phases: Vec<(String, f64)> = Vec::new();
    let mut done = |what: String, phase: &mut Instant| {
        phases.push((what, phase.elapsed().as_secs_f64()));
        *phase = Instant::now();
    };
    let project = super::load_project(global)?;
    done("read the project's files".into(), &mut phase);
    let parsed = super::parse_project(global, project)?;
    let stats = &parsed.stats;
    let total = stats.rendered + stats.reused;
    done(
        format!(
            "parsed {total} node{} ({} rendered, {} kept from the last parse)",
            if total == 1 { "" } else { "s" },
            stats.rendered,
            stats.reused
        ),
        &mut phase,
    );
    let graph = super::build_graph(&parsed)?;
    done("linked the graph".into(), &mut phase);
    crate::artifacts::manifest::write_manifest(&parsed, &graph)?;
    let manifest = parsed.project.target_dir().join("manifest.json");
    done(format!("wrote {}", manifest.display()), &mut phase);
    for (what, seconds) in &phases {
        super::output::line(&format!("{seconds:>7.3}s  {what}"));
    }
    super::output::line(&format!(
        "Parsed in {:.3}s; the manifest is {}",
        started.elapsed().as_secs_f64(),
        manifest.display()
    ));
    Ok(EXIT_OK)
}

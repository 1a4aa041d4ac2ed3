//! One fuzz input run through loading, parsing, the graph, selection,
//! compiling, seed reading and diagnostic rendering — everything kiln does
//! before it opens a database. Shared by the cargo-fuzz target
//! (`fuzz/fuzz_targets/project.rs`) and the regression test that replays the
//! kept corpus (`tests/it/fuzz_regressions.rs`). Errors are fine; a panic, a
//! hang or a crash is a bug.
//!
//! The input is split at 0xFF bytes (never valid UTF-8, so never in a
//! meaningful file); each part's first byte picks the file it becomes and
//! the rest is its content.

use std::path::{Path, PathBuf};

use kiln::diagnostic::{Diagnostic, render};
use kiln::graph::Graph;
use kiln::project::{LoadOptions, Project};

const FILES: &[&str] = &[
    "dbt_project.yml",
    "models/a.sql",
    "models/b.sql",
    "models/schema.yml",
    "seeds/s.csv",
    "macros/m.sql",
    "models/sub/c.sql",
    "profiles.yml",
    "--vars",
];

const PROJECT: &str = "name: fuzz\nprofile: fuzz\nconfig-version: 2\n";
const PROFILES: &str =
    "fuzz:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n      path: ':memory:'\n";

/// Writes the project `data` describes into `dir` (emptied first) and runs it.
pub fn run(data: &[u8], dir: &Path) {
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).expect("fuzz dir");
    let mut vars = None;
    let mut written = [false; 9];
    for part in data.split(|b| *b == 0xFF) {
        let Some((&slot, content)) = part.split_first() else {
            continue;
        };
        let slot = slot as usize % FILES.len();
        written[slot] = true;
        if FILES[slot] == "--vars" {
            vars = Some(String::from_utf8_lossy(content).into_owned());
            continue;
        }
        let path = dir.join(FILES[slot]);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("folder");
        std::fs::write(path, content).expect("write");
    }
    if !written[0] {
        std::fs::write(dir.join("dbt_project.yml"), PROJECT).expect("write");
    }
    if !written[7] {
        std::fs::write(dir.join("profiles.yml"), PROFILES).expect("write");
    }
    load_parse_compile(dir, vars.as_deref());
    if written[4] {
        let csv = dir.join("seeds/s.csv");
        let _ =
            kiln::materialize::seed_csv::read_seed(&csv, &csv, &Default::default(), b',', &|| {
                false
            });
    }
}

fn load_parse_compile(dir: &Path, vars: Option<&str>) {
    #[allow(clippy::result_large_err)]
    let outcome: kiln::Result<()> = (|| {
        let vars = match vars {
            Some(text) => kiln::cli::parse_vars(text)?,
            None => Default::default(),
        };
        let project = Project::load(&LoadOptions {
            project_dir: dir.to_path_buf(),
            profiles_dir: Some(PathBuf::from(dir)),
            target: None,
            vars,
        })?;
        for warning in &project.warnings {
            show(warning);
        }
        let parsed = kiln::parse::parse(project)?;
        let graph = Graph::build(&parsed)?;
        let selection = kiln::graph::select::select(&parsed, &graph, &[], &[])?;
        kiln::compile::compile_selected(&parsed, &graph, &selection.ids, false)?;
        Ok(())
    })();
    if let Err(error) = &outcome {
        let diagnostics: Vec<Diagnostic> = error.into();
        for d in &diagnostics {
            show(d);
        }
    }
}

/// Renders a diagnostic every way the CLI can, which reads the file it names.
fn show(d: &Diagnostic) {
    let _ = render::human(d, false);
    let _ = render::json(d);
    let _ = render::github(d);
}

//! Hostile and unlucky input (issue 17): names that try to leave target/,
//! secrets that try to reach the disk, profiles.yml written in every YAML
//! style, lines too long to draw, folders that cannot be walked, and the
//! smaller things a run must get right (log lines once, write errors named
//! as such, long chains of ephemeral models).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::common::{Db, Fixture};

/// Every file under `dir` with its bytes.
fn files(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(folder) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&folder) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let Ok(meta) = std::fs::symlink_metadata(&path) else {
                continue;
            };
            if meta.is_dir() {
                stack.push(path);
            } else if meta.is_file() {
                out.insert(path.clone(), std::fs::read(&path).unwrap_or_default());
            }
        }
    }
    out
}

/// The files that `run` created or changed in the project outside target/
/// (the DuckDB file aside, which is the database itself).
fn written_outside_target(f: &Fixture, run: impl FnOnce()) -> Vec<PathBuf> {
    let before = files(f.path());
    run();
    let after = files(f.path());
    after
        .into_iter()
        .filter(|(path, bytes)| before.get(path) != Some(bytes))
        .map(|(path, _)| path.strip_prefix(f.path()).unwrap().to_path_buf())
        .filter(|p| !p.starts_with("target") && !p.to_string_lossy().contains(".duckdb"))
        .collect()
}

fn assert_no_panic(out: &crate::common::Output) {
    let text = out.all();
    assert!(!text.contains("panicked"), "{text}");
    assert!(!text.contains("internal error"), "{text}");
}

#[test]
fn a_test_name_cannot_write_outside_target() {
    let f = Fixture::new();
    let outside = std::env::temp_dir().join(format!("kiln_escape_{}", std::process::id()));
    let _ = std::fs::remove_file(outside.with_extension("sql"));
    f.write("models/orders.sql", "select 1 as id\n");
    f.write(
        "models/schema.yml",
        &format!(
            "version: 2\nmodels:\n  - name: orders\n    columns:\n      - name: id\n        data_tests:\n          - not_null:\n              name: \"../../../../../models/orders\"\n          - unique:\n              name: \"{}\"\n",
            outside.display()
        ),
    );
    let original = f.read("models/orders.sql");
    let changed = written_outside_target(&f, || {
        for command in [&["compile"][..], &["build"], &["docs", "generate"]] {
            let out = f.kiln(command);
            assert_eq!(out.code, 0, "{command:?}\n{}", out.all());
            assert_no_panic(&out);
        }
    });
    assert!(changed.is_empty(), "written outside target/: {changed:?}");
    assert_eq!(f.read("models/orders.sql"), original);
    assert!(!outside.with_extension("sql").exists());
    // The tests still ran, their files under their properties file's folder.
    let results: serde_json::Value =
        serde_json::from_str(&f.read("target/run_results.json")).unwrap();
    let passed = results["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["status"] == "pass")
        .count();
    assert_eq!(passed, 2, "{results:#}");
    let compiled = f.path().join("target/compiled/proj/models/schema.yml");
    let names: Vec<String> = std::fs::read_dir(&compiled)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
    assert!(names.iter().all(|n| !n.contains('/')), "{names:?}");
}

/// Every file kiln wrote (target/ and the database file) holds no `secret`.
fn assert_secret_nowhere(f: &Fixture, out: &crate::common::Output, secret: &str) {
    assert!(!out.all().contains(secret), "printed:\n{}", out.all());
    for (path, bytes) in files(f.path()) {
        let text = String::from_utf8_lossy(&bytes);
        assert!(
            !text.contains(secret),
            "{} holds the secret",
            path.display()
        );
    }
}

#[test]
fn a_secret_env_var_is_refused_in_a_model_as_dbt_refuses_it() {
    let f = Fixture::new();
    f.write("models/ok.sql", "select 1 as id\n");
    f.write(
        "models/leaky.sql",
        "select '{{ env_var(\"DBT_ENV_SECRET_X\") }}' as token\n",
    );
    let secret = "kiln-secret-value-31337";
    for command in [&["build"][..], &["compile"], &["docs", "generate"]] {
        let mut args = command.to_vec();
        args.extend(["--log-format", "json"]);
        let out = f.kiln_env(&args, &[("DBT_ENV_SECRET_X", secret)]);
        assert_eq!(out.code, 2, "{command:?}\n{}", out.all());
        // dbt's message, word for word.
        assert!(
            out.all().contains(
                "Secret env vars are allowed only in profiles.yml or packages.yml. Found 'DBT_ENV_SECRET_X' referenced elsewhere."
            ),
            "{}",
            out.all()
        );
        assert!(out.all().contains("models/leaky.sql"), "{}", out.all());
        assert_no_panic(&out);
        assert_secret_nowhere(&f, &out, secret);
    }
}

#[test]
fn a_secret_env_var_is_refused_in_dbt_project_yml() {
    let f = Fixture::new();
    f.write(
        "dbt_project.yml",
        "name: proj\nprofile: proj\nconfig-version: 2\nmodels:\n  proj:\n    +meta:\n      token: \"{{ env_var('DBT_ENV_SECRET_Y') }}\"\n",
    );
    f.write("models/a.sql", "select 1 as id\n");
    let secret = "kiln-project-secret-4242";
    let out = f.kiln_env(&["build"], &[("DBT_ENV_SECRET_Y", secret)]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(
        out.all()
            .contains("'DBT_ENV_SECRET_Y' referenced elsewhere"),
        "{}",
        out.all()
    );
    assert_secret_nowhere(&f, &out, secret);
}

#[test]
fn a_secret_env_var_in_profiles_yml_is_used_and_never_written() {
    // Trust authentication takes any password: the secret is read, sent,
    // and must appear nowhere kiln writes.
    let f = Fixture::new_on(Db::Postgres);
    let profile = f.read("profiles.yml");
    let profile = profile
        .lines()
        .map(|l| {
            if l.trim_start().starts_with("password:") {
                "      password: \"{{ env_var('DBT_ENV_SECRET_PG_PASSWORD') }}\"".to_string()
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    f.write("profiles.yml", &profile);
    f.write(
        "models/a.sql",
        "select '{{ target.name }}' as t, '{{ target.get(\"password\", \"none\") }}' as p\n",
    );
    let secret = "kiln-pg-secret-9001";
    let out = f.kiln_env(&["build"], &[("DBT_ENV_SECRET_PG_PASSWORD", secret)]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(f.query("select t from {schema}.a"), vec![vec!["dev"]]);
    let out = f.kiln_env(
        &["docs", "generate"],
        &[("DBT_ENV_SECRET_PG_PASSWORD", secret)],
    );
    assert_eq!(out.code, 0, "{}", out.all());
    assert_secret_nowhere(&f, &out, secret);
}

#[test]
fn a_password_in_a_broken_profiles_yml_is_never_shown() {
    let cases = [
        // A flow mapping on one line, broken after the password.
        "proj:\n  target: dev\n  outputs:\n    dev: {type: postgres, password: hunter2-flow, user: me, threads: [}\n",
        // A quoted key.
        "proj:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n      \"password\": hunter2-flow\n      threads: [\n",
        // A block scalar.
        "proj:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n      password: |\n        hunter2-flow\n      threads: {\n",
        // An explicit key.
        "proj:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n      ? password\n      : hunter2-flow\n      threads: [\n",
    ];
    for profile in cases {
        let f = Fixture::new();
        f.write("profiles.yml", profile);
        f.write("models/a.sql", "select 1 as id\n");
        for format in ["text", "json"] {
            let out = f.kiln(&["build", "--log-format", format]);
            assert_eq!(out.code, 2, "{profile}\n{}", out.all());
            assert!(out.all().contains("profiles.yml"), "{}", out.all());
            assert!(
                !out.all().contains("hunter2-flow"),
                "{profile}\n{}",
                out.all()
            );
            assert_no_panic(&out);
        }
    }
}

#[test]
fn an_error_past_column_65535_is_shown_and_the_run_goes_on() {
    let f = Fixture::new();
    let padding = " ".repeat(70_000);
    f.write(
        "models/wide.sql",
        &format!("select 1 as id,{padding} no_such_column as x from (select 1 as id) t\n"),
    );
    f.write("models/fine.sql", "select 2 as id\n");
    let out = f.kiln(&["build"]);
    assert_eq!(out.code, 1, "{}", &out.all()[..out.all().len().min(4000)]);
    assert_no_panic(&out);
    assert!(out.all().contains("no_such_column"));
    assert!(out.all().len() < 20_000, "the snippet is clipped");
    let statuses = f.statuses();
    assert_eq!(statuses["model.proj.wide"], "error");
    assert_eq!(statuses["model.proj.fine"], "success");

    // A Jinja error far along a line.
    let f = Fixture::new();
    f.write(
        "models/wide.sql",
        &format!("select 1 as id{padding}{{{{ no_such_macro() }}}}\n"),
    );
    let out = f.kiln(&["compile"]);
    assert_eq!(out.code, 2);
    assert_no_panic(&out);
    assert!(out.all().contains("models/wide.sql"), "{}", out.all());
    assert!(out.all().contains("no_such_macro"));
}

#[test]
fn a_symlink_loop_under_models_is_an_error_naming_it() {
    let f = Fixture::new();
    f.write("models/a.sql", "select 1 as id\n");
    std::fs::create_dir_all(f.path().join("models/sub")).unwrap();
    std::os::unix::fs::symlink("..", f.path().join("models/sub/again")).unwrap();
    let out = f.kiln(&["ls"]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(out.all().contains("models/sub/again"), "{}", out.all());
    assert!(out.all().contains("symbolic link loop"), "{}", out.all());
    assert_no_panic(&out);
}

#[test]
fn an_unreadable_models_folder_is_an_error_naming_it() {
    use std::os::unix::fs::PermissionsExt;
    let f = Fixture::new();
    f.write("models/a.sql", "select 1 as id\n");
    f.write("models/private/b.sql", "select 2 as id\n");
    let private = f.path().join("models/private");
    std::fs::set_permissions(&private, std::fs::Permissions::from_mode(0o000)).unwrap();
    let readable_anyway = std::fs::read_dir(&private).is_ok();
    let out = f.kiln(&["ls"]);
    std::fs::set_permissions(&private, std::fs::Permissions::from_mode(0o755)).unwrap();
    if readable_anyway {
        // Root reads every folder: the case cannot happen, and both models list.
        assert_eq!(out.code, 0, "{}", out.all());
        assert!(out.stdout.contains("proj.private.b"), "{}", out.stdout);
        return;
    }
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(out.all().contains("models/private"), "{}", out.all());
    assert!(out.all().contains("cannot read folder"), "{}", out.all());
}

#[test]
fn log_lines_print_once_at_parse_and_once_at_run_as_in_dbt() {
    let f = Fixture::new();
    f.write(
        "models/a.sql",
        "{{ log('kiln-log-marker', info=True) }}select 1 as id\n",
    );
    let out = f.kiln(&["build", "--no-partial-parse"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(
        out.all().matches("kiln-log-marker").count(),
        2,
        "{}",
        out.all()
    );
}

#[test]
fn an_unwritable_target_is_reported_as_a_write() {
    let f = Fixture::new();
    f.write("models/a.sql", "select 1 as id\n");
    f.write("target", "a file where the folder should be\n");
    let out = f.kiln(&["compile"]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(out.all().contains("cannot write"), "{}", out.all());
    assert!(!out.all().contains("cannot read file"), "{}", out.all());
}

#[test]
fn a_long_chain_of_ephemeral_models_renders_each_once() {
    let f = Fixture::new();
    let depth = 300;
    f.write(
        "models/e1.sql",
        "{{ config(materialized='ephemeral') }}{{ log('kiln-e1-rendered', info=True) }}select 1 as n\n",
    );
    for i in 2..=depth {
        f.write(
            &format!("models/e{i}.sql"),
            &format!(
                "{{{{ config(materialized='ephemeral') }}}}select n + 1 as n from {{{{ ref('e{}') }}}}\n",
                i - 1
            ),
        );
    }
    f.write(
        "models/last.sql",
        &format!("select n from {{{{ ref('e{depth}') }}}}\n"),
    );
    let out = f.kiln(&["run", "--no-partial-parse"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(f.query("select n from last"), vec![vec![depth.to_string()]]);
    // Rendered at parse, then once for the whole run (not once a link).
    assert_eq!(out.all().matches("kiln-e1-rendered").count(), 2);
    let compiled = f.read("target/compiled/proj/models/last.sql");
    assert_eq!(compiled.matches("__dbt__cte__e1 as (").count(), 1);
}

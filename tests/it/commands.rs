//! `kiln clean` and `kiln parse` end to end (issue 21). clean empties what
//! `clean-targets` names (target/ by default) with dbt 1.10's lines, and,
//! as dbt, refuses a path outside the project before removing anything;
//! kiln also refuses the project itself and folders of its sources.

use crate::common::Fixture;

fn project() -> Fixture {
    let f = Fixture::new();
    f.write("models/m.sql", "select 1 as id\n");
    f
}

#[test]
fn clean_empties_the_target_path_and_refuses_paths_outside_the_project() {
    let f = project();
    assert_eq!(f.kiln(&["parse"]).code, 0);
    assert!(f.path().join("target/manifest.json").exists());
    f.write("logs/kiln.log", "old\n");
    let out = f.kiln(&["clean"]);
    assert_eq!(out.code, 0, "{}", out.all());
    // dbt's lines.
    for line in [
        "Checking target/*",
        "Cleaned target/*",
        "Finished cleaning all paths.",
    ] {
        assert!(out.stdout.contains(line), "{line}\n{}", out.stdout);
    }
    assert!(!f.path().join("target").exists());
    assert!(f.path().join("models/m.sql").exists());
    assert!(f.path().join("logs/kiln.log").exists());

    // Outside the project: refused, and nothing is removed.
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("keep.txt"), "keep").unwrap();
    f.write(
        "dbt_project.yml",
        &format!(
            "name: proj\nprofile: proj\nconfig-version: 2\nclean-targets: [logs, \"{}\", ../elsewhere]\n",
            outside.path().display()
        ),
    );
    let out = f.kiln(&["clean"]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(
        out.words()
            .contains("will not clean the following directories outside the project"),
        "{}",
        out.all()
    );
    assert!(outside.path().join("keep.txt").exists());
    assert!(f.path().join("logs/kiln.log").exists());

    // The project, or a folder holding its models: refused too.
    for target in [".", "models", "models/.."] {
        f.write(
            "dbt_project.yml",
            &format!(
                "name: proj\nprofile: proj\nconfig-version: 2\nclean-targets: [\"{target}\"]\n"
            ),
        );
        let out = f.kiln(&["clean"]);
        assert_eq!(out.code, 2, "{target}: {}", out.all());
        assert!(f.path().join("models/m.sql").exists(), "{target}");
    }
    f.write(
        "dbt_project.yml",
        "name: proj\nprofile: proj\nconfig-version: 2\nclean-targets: [logs]\n",
    );
    assert_eq!(f.kiln(&["clean"]).code, 0);
    assert!(!f.path().join("logs").exists());
}

#[test]
fn parse_writes_the_manifest_and_times_each_phase() {
    let f = project();
    f.write("models/n.sql", "select * from {{ ref('m') }}\n");
    let out = f.kiln(&["parse"]);
    assert_eq!(out.code, 0, "{}", out.all());
    for phase in [
        "read the project's files",
        "parsed 2 nodes (2 rendered, 0 kept from the last parse)",
        "linked the graph",
        "wrote target/manifest.json",
    ] {
        assert!(out.stdout.contains(phase), "{phase}\n{}", out.stdout);
    }
    let manifest: serde_json::Value =
        serde_json::from_str(&f.read("target/manifest.json")).unwrap();
    assert_eq!(
        manifest["parent_map"]["model.proj.n"],
        serde_json::json!(["model.proj.m"])
    );
    // Again, unchanged: partial parsing keeps both nodes.
    let out = f.kiln(&["parse"]);
    assert!(
        out.stdout
            .contains("parsed 2 nodes (0 rendered, 2 kept from the last parse)"),
        "{}",
        out.stdout
    );
    // A broken project is located, and no manifest is claimed.
    f.write("models/n.sql", "select * from {{ ref('nope') }}\n");
    let out = f.kiln(&["parse"]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(out.all().contains("models/n.sql"), "{}", out.all());
}

crate::on_each_adapter!(
    debug_checks_the_files_and_the_connection,
    show_previews_a_model_or_an_inline_query_without_building,
);

fn debug_checks_the_files_and_the_connection(db: crate::common::Db) {
    let f = Fixture::new_on(db);
    let out = f.kiln(&["debug"]);
    assert_eq!(out.code, 0, "{}", out.all());
    for line in [
        "dbt_project.yml file [OK found and valid]",
        "profiles.yml file [OK found and valid]",
        "Connection test: [OK connection ok]",
        "All checks passed!",
    ] {
        assert!(out.stdout.contains(line), "{line}\n{}", out.stdout);
    }
}

#[test]
fn debug_says_which_check_failed_and_never_shows_the_password() {
    let f = Fixture::new();
    f.write(
        "profiles.yml",
        "proj:\n  target: p\n  outputs:\n    p: {type: postgres, host: 127.0.0.1, port: 1, user: postgres, password: s3cret-pw, dbname: test, schema: x}\n",
    );
    let out = f.kiln(&["debug"]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(
        out.stdout.contains("Connection test: [ERROR]"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("port: 1"), "{}", out.stdout);
    assert!(!out.all().contains("s3cret-pw"), "{}", out.all());
    // A profiles.yml that does not name the project's profile.
    f.write(
        "profiles.yml",
        "other:\n  target: d\n  outputs:\n    d: {type: duckdb}\n",
    );
    let out = f.kiln(&["debug"]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(
        out.stdout.contains("profiles.yml file [ERROR invalid]"),
        "{}",
        out.stdout
    );
}

fn show_previews_a_model_or_an_inline_query_without_building(db: crate::common::Db) {
    let f = Fixture::new_on(db);
    f.write(
        "models/nums.sql",
        "select 1 as id, 'one' as word union all select 2, 'two' union all select 3, 'three'\n",
    );
    let out = f.kiln(&["show", "--select", "nums", "--limit", "2"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(
        out.stdout.contains("Previewing node 'nums':"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("| id | word |"), "{}", out.stdout);
    let rows = out.stdout.lines().filter(|l| l.starts_with("|  ")).count();
    assert_eq!(rows, 2, "{}", out.stdout);
    // Nothing was built.
    let built = f.query(
        "select count(*) from information_schema.tables where table_schema = '{schema}' and table_name = 'nums'",
    );
    assert_eq!(built, [["0"]]);
    // Inline, with a ref (to an ephemeral-free view built first), as JSON.
    assert_eq!(f.kiln(&["run"]).code, 0);
    let out = f.kiln(&[
        "show",
        "--inline",
        "select id, word from {{ ref('nums') }} where id > 1 order by id",
        "--output",
        "json",
    ]);
    assert_eq!(out.code, 0, "{}", out.all());
    let shown: serde_json::Value = serde_json::from_str(out.stdout.trim()).unwrap();
    assert_eq!(
        shown["show"],
        serde_json::json!([{"id": 2, "word": "two"}, {"id": 3, "word": "three"}])
    );
    // A query the database refuses is an error, located.
    let out = f.kiln(&["show", "--inline", "select nope from {{ ref('nums') }}"]);
    assert_ne!(out.code, 0, "{}", out.all());
    assert!(
        out.all().contains("the database refused the preview"),
        "{}",
        out.all()
    );
}

#[test]
fn init_makes_a_project_that_builds_and_never_writes_into_an_existing_folder() {
    let f = Fixture::new();
    let out = f.kiln(&["init", "shop"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(f.read("shop/dbt_project.yml").contains("name: shop"));
    assert!(f.path().join("shop/seeds").is_dir());
    let out = f.kiln(&["build", "--project-dir", "shop", "--profiles-dir", "shop"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(out.stdout.contains("PASS=5"), "{}", out.stdout);
    // Again: the folder exists, and nothing in it changes.
    f.write("shop/models/example/first_model.sql", "select 7 as id\n");
    let out = f.kiln(&["init", "shop"]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert_eq!(
        f.read("shop/models/example/first_model.sql"),
        "select 7 as id\n"
    );
    let out = f.kiln(&["init", "../escape"]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(!f.path().join("../escape").exists());
}

/// `kiln clone --state`: as dbt-duckdb makes it (asked of dbt 1.10), each
/// node a view of the state's relation in the target, a No-op when one is
/// there already, replaced with --full-refresh.
#[test]
fn clone_makes_each_node_a_view_of_the_states_relation() {
    let f = Fixture::new();
    let db = f.db_path();
    f.write(
        "profiles.yml",
        &format!(
            "proj:\n  target: prod\n  outputs:\n    prod: {{type: duckdb, path: '{0}', schema: prod}}\n    dev: {{type: duckdb, path: '{0}', schema: dev}}\n",
            db.display()
        ),
    );
    f.write("models/a.sql", "select 1 as id\n");
    f.write(
        "models/b.sql",
        "{{ config(materialized='table') }}\nselect id + 1 as id from {{ ref('a') }}\n",
    );
    f.write(
        "models/e.sql",
        "{{ config(materialized='ephemeral') }}\nselect 3 as id\n",
    );
    f.write("seeds/s.csv", "id\n7\n");
    assert_eq!(f.kiln(&["build"]).code, 0);
    std::fs::rename(f.path().join("target"), f.path().join("prod_state")).unwrap();
    let out = f.kiln(&["clone", "--state", "prod_state", "--target", "dev"]);
    assert_eq!(out.code, 0, "{}", out.all());
    let kinds = f.query(
        "select table_name, table_type from information_schema.tables where table_schema = 'dev' order by 1",
    );
    assert_eq!(
        kinds,
        [["a", "VIEW"], ["b", "VIEW"], ["s", "VIEW"]],
        "{}",
        out.stdout
    );
    assert_eq!(f.query("select id from dev.b"), [["2"]]);
    assert_eq!(f.statuses()["model.proj.b"], "success");
    // Again: each is there, so nothing is done.
    let out = f.kiln(&["clone", "--state", "prod_state", "--target", "dev"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(out.stdout.matches("[No-op in").count(), 3, "{}", out.stdout);
    // A table in the way is replaced only with --full-refresh.
    duckdb::Connection::open(&db)
        .unwrap()
        .execute_batch("drop view dev.a; create table dev.a as select 99 as id")
        .unwrap();
    let out = f.kiln(&[
        "clone",
        "--state",
        "prod_state",
        "--target",
        "dev",
        "--full-refresh",
    ]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(f.query("select id from dev.a"), [["1"]]);
    // Without --state, a clear error.
    let out = f.kiln(&["clone", "--target", "dev"]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(out.all().contains("needs --state"), "{}", out.all());
}

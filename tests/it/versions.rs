//! Model versions (dbt 1.5, issue 20): `versions:` with `v`, `defined_in`,
//! per-version config and columns, `latest_version` and `deprecation_date`;
//! `ref('m')` is the latest, `ref('m', v=1)` / `version=3` a version; each
//! version built as `m_v<v>` unless its alias says otherwise. `kiln ls`, the
//! `version:` selector, the relations and the deprecation warning are what
//! dbt 1.10 gives on the same fixture.

use crate::common::{Db, Fixture};

fn project(db: Db) -> Fixture {
    let f = Fixture::new_on(db);
    f.write("models/dim_v1.sql", "select 1 as id, 'a' as old_col\n");
    f.write("models/dim_v2.sql", "select 1 as id, 'b' as new_col\n");
    f.write("models/dim_next.sql", "select 3 as id, 'c' as new_col\n");
    f.write("models/uses_latest.sql", "select * from {{ ref('dim') }}\n");
    f.write(
        "models/uses_v1.sql",
        "select * from {{ ref('dim', v=1) }}\n",
    );
    f.write(
        "models/uses_v3.sql",
        "select * from {{ ref('dim', version=3) }}\n",
    );
    f.write(
        "models/schema.yml",
        "version: 2\nmodels:\n  - name: dim\n    latest_version: 2\n    columns:\n      - name: id\n        description: key\n      - name: new_col\n    versions:\n      - v: 1\n        deprecation_date: 2020-01-01\n        columns:\n          - include: all\n            exclude: [new_col]\n          - name: old_col\n      - v: 2\n      - v: 3\n        defined_in: dim_next\n        config: {alias: dim_preview}\n",
    );
    f
}

crate::on_each_adapter!(versions_build_as_their_own_relations_and_refs_pick_them);

fn versions_build_as_their_own_relations_and_refs_pick_them(db: Db) {
    let f = project(db);
    let out = f.kiln(&["build"]);
    assert_eq!(out.code, 0, "{}", out.all());
    for relation in ["dim_v1", "dim_v2", "dim_preview"] {
        assert!(
            out.stdout.contains(&format!(".{relation} ")),
            "{relation}: {}",
            out.stdout
        );
    }
    // Unpinned: the latest (v2); pinned: the version named.
    assert_eq!(
        f.query("select id, new_col from {schema}.uses_latest"),
        [["1", "b"]]
    );
    assert_eq!(
        f.query("select id, old_col from {schema}.uses_v1"),
        [["1", "a"]]
    );
    assert_eq!(
        f.query("select id, new_col from {schema}.uses_v3"),
        [["3", "c"]]
    );
    assert!(
        out.words().contains("Model dim.v1 has passed its deprecation date of 2020-01-01T00:00:00+00:00. This model should be disabled or removed."),
        "{}",
        out.all()
    );
    assert!(
        out.words().contains("While compiling 'uses_v1': Found a reference to dim.v1, which was deprecated on '2020-01-01T00:00:00+00:00'. A new version of 'dim' is available. Migrate now: {{ ref('proj', 'dim', v='2') }}."),
        "{}",
        out.all()
    );
}

#[test]
fn versions_are_listed_and_selected_as_dbt_lists_them() {
    let f = project(Db::DuckDb);
    let ls = |args: &[&str]| {
        let out = f.kiln(&[&["ls"], args].concat());
        assert_eq!(out.code, 0, "{}", out.all());
        out.stdout.lines().map(str::to_string).collect::<Vec<_>>()
    };
    assert_eq!(
        ls(&[]),
        [
            "proj.dim.v1",
            "proj.dim.v2",
            "proj.dim.v3",
            "proj.uses_latest",
            "proj.uses_v1",
            "proj.uses_v3"
        ]
    );
    assert_eq!(ls(&["-s", "version:latest"]), ["proj.dim.v2"]);
    assert_eq!(ls(&["-s", "version:prerelease"]), ["proj.dim.v3"]);
    assert_eq!(ls(&["-s", "version:old"]), ["proj.dim.v1"]);
    assert_eq!(
        ls(&["-s", "dim"]),
        ["proj.dim.v1", "proj.dim.v2", "proj.dim.v3"]
    );
    assert_eq!(ls(&["-s", "dim.v1"]), ["proj.dim.v1"]);
    assert_eq!(
        ls(&["-s", "dim", "--output", "name"]),
        ["dim", "dim", "dim"]
    );

    let out = f.kiln(&["compile"]);
    assert_eq!(out.code, 0, "{}", out.all());
    let manifest: serde_json::Value =
        serde_json::from_str(&f.read("target/manifest.json")).unwrap();
    let v1 = &manifest["nodes"]["model.proj.dim.v1"];
    assert_eq!(v1["name"], "dim");
    assert_eq!(v1["version"], 1);
    assert_eq!(v1["latest_version"], 2);
    assert_eq!(v1["alias"], "dim_v1");
    assert_eq!(v1["fqn"], serde_json::json!(["proj", "dim", "v1"]));
    // v1's columns: the model's, less new_col, and its own.
    let columns: Vec<&String> = v1["columns"].as_object().unwrap().keys().collect();
    assert_eq!(columns, ["id", "old_col"]);
    assert_eq!(
        manifest["nodes"]["model.proj.dim.v3"]["alias"],
        "dim_preview"
    );
    assert_eq!(
        manifest["nodes"]["model.proj.uses_v1"]["refs"],
        serde_json::json!([{"name": "dim", "package": null, "version": 1}])
    );
    assert_eq!(
        manifest["nodes"]["model.proj.uses_latest"]["depends_on"]["nodes"],
        serde_json::json!(["model.proj.dim.v2"])
    );
}

/// A data test on a versioned model's column is one test a version, named
/// and hashed as dbt 1.10 names them on the same fixture.
#[test]
fn a_data_test_of_a_versioned_model_tests_each_version() {
    let f = project(Db::DuckDb);
    let schema = f.read("models/schema.yml").replace(
        "      - name: id\n        description: key\n",
        "      - name: id\n        description: key\n        data_tests: [unique]\n",
    );
    f.write("models/schema.yml", &schema);
    let out = f.kiln(&["build"]);
    assert_eq!(out.code, 0, "{}", out.all());
    let statuses = f.statuses();
    for id in [
        "test.proj.unique_dim_v1_id.2f98b9f679",
        "test.proj.unique_dim_v2_id.fb0fd31dac",
        "test.proj.unique_dim_v3_id.d958999bf2",
    ] {
        assert_eq!(
            statuses.get(id).map(String::as_str),
            Some("pass"),
            "{id}: {statuses:?}"
        );
    }
}

/// A unit test of a versioned model is one test a version (`_v<v>` in its
/// unique id), `versions: {include: [...]}` narrowing them, as in dbt.
#[test]
fn a_unit_test_of_a_versioned_model_runs_on_each_version_it_includes() {
    let f = project(Db::DuckDb);
    f.write(
        "models/unit.yml",
        "version: 2\nunit_tests:\n  - name: ids_kept\n    model: dim\n    given: []\n    expect:\n      rows: [{id: 1}]\n  - name: only_v2\n    model: dim\n    versions: {include: [2]}\n    given: []\n    expect:\n      rows: [{id: 1}]\n",
    );
    let out = f.kiln(&["ls", "--resource-type", "unit_test", "--output", "json"]);
    assert_eq!(out.code, 0, "{}", out.all());
    let ids: Vec<String> = out
        .stdout
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["unique_id"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(
        ids,
        [
            "unit_test.proj.dim.ids_kept_v1",
            "unit_test.proj.dim.ids_kept_v2",
            "unit_test.proj.dim.ids_kept_v3",
            "unit_test.proj.dim.only_v2_v2"
        ]
    );
    let out = f.kiln(&["test", "-s", "unit_test:ids_kept"]);
    // v3 gives id 3, so its test fails; v1 and v2 pass.
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(
        out.stdout.contains("PASS  dim::ids_kept_v1"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("FAIL 1 dim::ids_kept_v3"),
        "{}",
        out.stdout
    );
}

/// What a version says that kiln does not act on is a warning at its line.
#[test]
fn a_version_key_kiln_does_not_act_on_is_a_warning() {
    let f = project(Db::DuckDb);
    let schema = f.read("models/schema.yml").replace(
        "      - v: 2\n",
        "      - v: 2\n        description: the current one\n",
    );
    f.write("models/schema.yml", &schema);
    let out = f.kiln(&["ls"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(
        out.words()
            .contains("kiln does not act on `description` of a model version yet"),
        "{}",
        out.all()
    );
    assert!(out.all().contains("models/schema.yml:17"), "{}", out.all());
    // A version whose file is not there is said too.
    std::fs::remove_file(f.path().join("models/dim_next.sql")).unwrap();
    let out = f.kiln(&["ls"]);
    assert!(
        out.words().contains(
            "version 3 of model 'dim' has no file: there is no dim_next.sql in the model paths"
        ),
        "{}",
        out.all()
    );
}

//! Groups and access (dbt 1.5, issue 20): `groups:` in properties files, a
//! node's `group` and `access` (beside `config:` or in it), and refs that
//! access refuses, each an error at the ref's line in dbt 1.10's words
//! (asked of dbt-duckdb 1.10 on the same fixture).

use crate::common::Fixture;

fn project() -> Fixture {
    let f = Fixture::new();
    f.write("models/fin_base.sql", "select 1 as id\n");
    f.write(
        "models/fin_report.sql",
        "select * from {{ ref('fin_base') }}\n",
    );
    f.write("models/mkt.sql", "select 1 as id\n");
    f.write(
        "models/schema.yml",
        "version: 2\ngroups:\n  - name: finance\n    owner: {name: Fin Team, email: fin@example.com}\n  - name: marketing\n    owner: {email: mkt@example.com}\nmodels:\n  - name: fin_base\n    access: private\n    config: {group: finance}\n  - name: fin_report\n    group: finance\n  - name: mkt\n    config: {group: marketing, access: public}\n",
    );
    f
}

#[test]
fn a_private_model_is_refable_from_its_group_only() {
    let f = project();
    let out = f.kiln(&["build"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(
        !out.all().contains("kiln does not read groups"),
        "{}",
        out.all()
    );
    // From another group: dbt's error, at the ref's line.
    f.write(
        "models/mkt.sql",
        "{{ config(materialized='table') }}\nselect * from {{ ref('fin_base') }}\n",
    );
    let out = f.kiln(&["ls"]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(
        out.words().contains("Node model.proj.mkt attempted to reference node model.proj.fin_base, which is not allowed because the referenced node is private to the 'finance' group."),
        "{}",
        out.all()
    );
    assert!(out.all().contains("models/mkt.sql:2"), "{}", out.all());
    // From a node of no group, to a private model of none: dbt names ''.
    f.write("models/mkt.sql", "select * from {{ ref('fin_base') }}\n");
    f.write(
        "models/schema.yml",
        "version: 2\nmodels:\n  - name: fin_base\n    config: {access: private}\n",
    );
    let out = f.kiln(&["ls"]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(
        out.words().contains("is private to the '' group."),
        "{}",
        out.all()
    );
}

#[test]
fn groups_and_access_are_selected_and_in_the_manifest() {
    let f = project();
    let ls = |selector: &str| {
        let out = f.kiln(&["ls", "-s", selector]);
        assert_eq!(out.code, 0, "{}", out.all());
        out.stdout.lines().map(str::to_string).collect::<Vec<_>>()
    };
    assert_eq!(ls("group:finance"), ["proj.fin_base", "proj.fin_report"]);
    assert_eq!(ls("access:private"), ["proj.fin_base"]);
    assert_eq!(ls("access:public"), ["proj.mkt"]);
    assert_eq!(ls("access:protected"), ["proj.fin_report"]);
    let out = f.kiln(&["compile"]);
    assert_eq!(out.code, 0, "{}", out.all());
    let manifest: serde_json::Value =
        serde_json::from_str(&f.read("target/manifest.json")).unwrap();
    let finance = &manifest["groups"]["group.proj.finance"];
    assert_eq!(finance["resource_type"], "group");
    assert_eq!(
        finance["owner"],
        serde_json::json!({"name": "Fin Team", "email": "fin@example.com"})
    );
    assert_eq!(finance["original_file_path"], "models/schema.yml");
    assert_eq!(
        manifest["group_map"]["finance"],
        serde_json::json!(["model.proj.fin_base", "model.proj.fin_report"])
    );
    let node = &manifest["nodes"]["model.proj.fin_base"];
    assert_eq!(node["access"], "private");
    assert_eq!(node["group"], "finance");
    assert_eq!(
        manifest["nodes"]["model.proj.fin_report"]["access"],
        "protected"
    );
}

#[test]
fn a_bad_access_or_an_undeclared_group_is_dbts_error() {
    let f = project();
    f.write(
        "models/schema.yml",
        "version: 2\ngroups:\n  - name: finance\n    owner: {name: Fin}\nmodels:\n  - name: fin_base\n    config: {group: nope}\n",
    );
    let out = f.kiln(&["ls"]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(
        out.words()
            .contains("Invalid group 'nope', expected one of ['finance']"),
        "{}",
        out.all()
    );
    f.write(
        "models/schema.yml",
        "version: 2\nmodels:\n  - name: fin_base\n    access: secret\n",
    );
    let out = f.kiln(&["ls"]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(
        out.words().contains(
            "Node model.proj.fin_base has an invalid value (secret) for the access field"
        ),
        "{}",
        out.all()
    );
}

#[test]
fn a_protected_model_of_a_package_that_restricts_access_is_not_refable() {
    let f = Fixture::new();
    f.write(
        "vendor/pkg/dbt_project.yml",
        "name: pkg\nconfig-version: 2\nrestrict-access: true\n",
    );
    f.write("vendor/pkg/models/pkg_base.sql", "select 1 as id\n");
    f.write("packages.yml", "packages:\n  - local: vendor/pkg\n");
    f.write("models/mine.sql", "select * from {{ ref('pkg_base') }}\n");
    let out = f.kiln(&["deps"]);
    assert_eq!(out.code, 0, "{}", out.all());
    let out = f.kiln(&["ls"]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(
        out.words().contains("Node model.proj.mine attempted to reference node model.pkg.pkg_base, which is not allowed because the referenced node is protected to the 'pkg' package."),
        "{}",
        out.all()
    );
    // Public, it may be.
    f.write(
        "vendor/pkg/models/schema.yml",
        "version: 2\nmodels:\n  - name: pkg_base\n    config: {access: public}\n",
    );
    let out = f.kiln(&["deps"]);
    assert_eq!(out.code, 0, "{}", out.all());
    let out = f.kiln(&["ls"]);
    assert_eq!(out.code, 0, "{}", out.all());
}

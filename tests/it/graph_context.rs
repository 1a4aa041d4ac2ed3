//! dbt's `graph` as packages read it (codegen's upstream descriptions walk
//! `graph.sources` and `graph.nodes`), and the manifest it mirrors; each
//! value here is what dbt 1.10 compiled on the same fixture.

use crate::common::Fixture;

#[test]
fn sources_in_graph_and_manifest_carry_their_columns() {
    let f = Fixture::new();
    f.write(
        "models/src.yml",
        "version: 2\nsources:\n  - name: raw\n    schema: main\n    tables:\n      - name: t\n        columns:\n          - name: a\n            description: \"Col A\"\n",
    );
    f.write(
        "macros/descriptions.sql",
        "{% macro add(d) %}\n  {% for node in graph.sources.values() | selectattr('resource_type', 'equalto', 'source') | selectattr('name', 'equalto', 't') %}\n    {% for col_name, col_values in node.columns.items() %}\n      {% do d.update({col_name: col_values.description}) %}\n    {% endfor %}\n  {% endfor %}\n  {{ return(d) }}\n{% endmacro %}\n{% macro descriptions() %}\n  {% set found = {} %}\n  {% do add(found) %}\n  {{ return(found) }}\n{% endmacro %}\n",
    );
    f.write(
        "models/m.sql",
        "{% if execute %}select $${{ descriptions() }}$$ as x{% else %}select 1 as x{% endif %}\n",
    );
    let out = f.kiln(&["compile"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(
        f.read("target/compiled/proj/models/m.sql").trim(),
        "select $${'a': 'Col A'}$$ as x"
    );
    let manifest: serde_json::Value =
        serde_json::from_str(&f.read("target/manifest.json")).unwrap();
    assert_eq!(
        manifest["sources"]["source.proj.raw.t"]["columns"]["a"]["description"],
        "Col A"
    );
}

//! What dbt-codegen's macros need of kiln, in its integration tests, pinned
//! in a small fixture (tests/fixtures/compat_codegen). Every value asserted
//! is what dbt-core 1.10 gave on the same fixture:
//!
//! - `modules.re` is Python's `re`: a `{` that is no repetition is a
//!   character, verbose mode keeps the spaces of a class, lookahead,
//!   backreferences, `findall` gives the groups (a tuple for several), `sub`
//!   reads `\g<n>` and `\1`, flags are `re.IGNORECASE` ..., a match object
//!   is true and has `group()`, `start()`, `end()`, `groups()`, and `$`
//!   matches before a final newline;
//! - a macro parameter's default may name an earlier parameter
//!   (`name=schema_name`, codegen's generate_source) and sees its argument.

use crate::common::{Db, Fixture, lines};

fn fixture(db: Db) -> Fixture {
    Fixture::project_on(db, "tests/fixtures/compat_codegen", "kiln_test")
}

fn modules_re_answers_as_pythons_re(db: Db) {
    let f = fixture(db);
    let out = f.kiln(&["build", "--select", "regex"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(
        lines(&f.query(&f.sql(
            "select ref_groups, table_sub, tuple_groups, no_groups, match_object, ignorecase, \
             truthy, backref, braces, dollar from {schema}.regex"
        ))),
        [
            "from/{{ ref('/orders/'/) }}|select * from {{ ref('orders') }} join raw items on x\
          |2+|1,2|me:5:7:1|--|yes|<a>b<c>|a,b|a!N!"
        ]
    );
}

fn defaults_see_the_earlier_parameters(db: Db) {
    let f = fixture(db);
    let out = f.kiln(&["build", "--select", "defaults"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(
        lines(&f.query(&f.sql("select left_out, given, by_position from {schema}.defaults"))),
        ["raw/%|given/%|third/x%"]
    );
}

crate::on_each_adapter!(
    modules_re_answers_as_pythons_re,
    defaults_see_the_earlier_parameters,
);

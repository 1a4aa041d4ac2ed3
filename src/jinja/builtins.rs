//! kiln's built-in macros and materializations, embedded from `templates/`.

/// (template name, source) for every built-in file.
pub const TEMPLATES: &[(&str, &str)] = &[
    (
        "kiln://macros/naming.sql",
        include_str!("../../templates/macros/naming.sql"),
    ),
    (
        "kiln://macros/relations.sql",
        include_str!("../../templates/macros/relations.sql"),
    ),
    (
        "kiln://macros/incremental.sql",
        include_str!("../../templates/macros/incremental.sql"),
    ),
    (
        "kiln://materializations/incremental.sql",
        include_str!("../../templates/materializations/incremental.sql"),
    ),
    (
        "kiln://materializations/view.sql",
        include_str!("../../templates/materializations/view.sql"),
    ),
    (
        "kiln://materializations/table.sql",
        include_str!("../../templates/materializations/table.sql"),
    ),
    (
        "kiln://materializations/seed.sql",
        include_str!("../../templates/materializations/seed.sql"),
    ),
    (
        "kiln://materializations/test.sql",
        include_str!("../../templates/materializations/test.sql"),
    ),
    (
        "kiln://tests/generic.sql",
        include_str!("../../templates/tests/generic.sql"),
    ),
];

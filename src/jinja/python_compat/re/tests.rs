//! `modules.re` in templates, with Python's results.

use super::module;

fn render(source: &str) -> String {
    let mut env = minijinja::Environment::new();
    env.add_global("re", module());
    env.render_str(source, ()).unwrap()
}

// Each expected answer is what Python 3's `re` gives.

#[test]
fn braces_that_are_no_repetition_are_characters() {
    assert_eq!(
        render(
            r"{{ re.findall('{{\s*ref\(([^)]+)\)\s*}}', 'from {{ ref(a) }} join {{ref(b)}}') }}"
        ),
        "['a', 'b']"
    );
    assert_eq!(render("{{ re.sub('a{2}', '-', 'aaa{}') }}"), "-a{}");
    assert_eq!(render("{{ re.sub('a{,2}b', '-', 'aab') }}"), "-");
    assert_eq!(render("{{ re.sub('x{a}', '-', 'x{a}') }}"), "-");
    assert_eq!(render("{{ re.sub('{', '(', '{}') }}"), "(}");
}

#[test]
fn verbose_mode_strips_as_python_does() {
    // Whitespace in a class is kept; an escaped space and `#` are characters.
    let pattern = "(?ix)\n  (from|join) \\s+  # the keyword\n  ([\\w ]+) \\# \\ x";
    let out = render(&format!(
        "{{{{ re.findall({pattern:?}, 'FROM my table # x') }}}}"
    ));
    assert_eq!(out, "[['FROM', 'my table ']]");
    assert_eq!(
        render("{{ re.findall('a b # c', 'ab', re.VERBOSE) }}"),
        "['ab']"
    );
}

#[test]
fn lookaround_and_backreferences() {
    assert_eq!(
        render(r"{{ re.findall('\w+(?=\s|$)', 'a b, c') }}"),
        "['a', 'c']"
    );
    assert_eq!(render(r"{{ re.findall('(?<!x)y', 'xy zy') }}"), "['y']");
    assert_eq!(
        render(r"{{ re.sub('(\w)\\1', '<\\1>', 'aabcc') }}"),
        "<a>b<c>"
    );
    assert_eq!(
        render(r"{{ re.search('(?P<q>\w)-(?P=q)', 'a-b c-c').group() }}"),
        "c-c"
    );
}

#[test]
fn findall_gives_the_groups() {
    assert_eq!(render(r"{{ re.findall('\d', 'a1b2') }}"), "['1', '2']");
    assert_eq!(render(r"{{ re.findall('(\d)x', '1x2y3x') }}"), "['1', '3']");
    assert_eq!(
        render(r"{{ re.findall('(\d)(x)?', '1x2') }}"),
        "[['1', 'x'], ['2', '']]"
    );
    assert_eq!(render("{{ re.findall('x*', 'axb') }}"), "['', 'x', '', '']");
}

#[test]
fn sub_reads_pythons_template() {
    assert_eq!(
        render(r"{{ re.sub('(a)(b)', '\g<2>\g<1>\\2', 'ab ab') }}"),
        "bab bab"
    );
    assert_eq!(
        render(r"{{ re.sub('(?P<w>\w+)', '[\g<w>]', 'hi yo', 1) }}"),
        "[hi] yo"
    );
    assert_eq!(render(r"{{ re.sub('b', '\\\\n', 'abc') }}"), "a\\nc");
    assert_eq!(render(r"{{ re.sub('(x)?b', '[\\1]', 'ab') }}"), "a[]");
    assert_eq!(
        render("{{ re.subn('a', 'b', 'aaa', count=2) }}"),
        "['bba', 2]"
    );
    assert_eq!(render("{{ re.sub('$', '!', 'a\n') }}"), "a!\n!");
}

#[test]
fn flags_as_constants_and_inline() {
    assert_eq!(
        render("{{ re.sub('A', '-', 'aA', flags=re.IGNORECASE) }}"),
        "--"
    );
    assert_eq!(
        render("{{ re.findall('^\\w', 'a\nb', re.MULTILINE) }}"),
        "['a', 'b']"
    );
    assert_eq!(render("{{ re.findall('^\\w', 'a\nb') }}"), "['a']");
    assert_eq!(
        render("{{ re.search('a.b', 'a\nb', re.DOTALL) is none }}"),
        "False"
    );
    assert_eq!(render("{{ re.search('a.b', 'a\nb') is none }}"), "True");
    assert_eq!(
        render("{{ re.search('(?i)(?s)A.B', 'xa\nb').group() }}"),
        "a\nb"
    );
    assert_eq!(render("{{ re.IGNORECASE + re.MULTILINE }}"), "10");
}

#[test]
fn match_objects() {
    let m = "{% set m = re.search('(é)(x)?(?P<n>c)', 'aébc éc') %}";
    assert_eq!(
        render(&format!(
            "{m}{{{{ m.group() }}}} {{{{ m.group(1) }}}} {{{{ m.group('n') }}}} {{{{ m.groups() }}}} {{{{ m.start() }}}} {{{{ m.end(3) }}}} {{{{ m.span(2) }}}} {{{{ m[0] }}}}"
        )),
        "éc é c ['é', None, 'c'] 5 7 [-1, -1] éc"
    );
    assert_eq!(render("{{ re.match('b', 'ab') is none }}"), "True");
    assert_eq!(
        render("{{ 'yes' if re.search('a', 'ba') else 'no' }}"),
        "yes"
    );
    assert_eq!(
        render("{{ 'yes' if not re.search('x', 'ba') else 'no' }}"),
        "yes"
    );
    assert_eq!(render("{{ re.match('a|ab', 'ab').group() }}"), "a");
    assert_eq!(render("{{ re.fullmatch('a|ab', 'ab').group() }}"), "ab");
    assert_eq!(render("{{ re.fullmatch('a', 'a\n') is none }}"), "True");
    assert_eq!(
        render("{{ re.match('(a)(b)', 'ab').groups() | join('-') }}"),
        "a-b"
    );
}

#[test]
fn compile_split_escape() {
    assert_eq!(
        render(r"{% set p = re.compile('(,)\s*') %}{{ p.split('a, b,c') }} {{ p.pattern }}"),
        r"['a', ',', 'b', ',', 'c'] (,)\s*"
    );
    assert_eq!(render("{{ re.split(',', 'a,b,c', 1) }}"), "['a', 'b,c']");
    assert_eq!(render("{{ re.escape('a.b-c d_e') }}"), "a\\.b\\-c\\ d_e");
    assert_eq!(
        render("{{ re.compile('x', re.I).findall('xX') }}"),
        "['x', 'X']"
    );
}

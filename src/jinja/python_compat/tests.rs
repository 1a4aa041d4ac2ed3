//! Templates using the Python objects, with what Python 3.11 prints.

use super::datetime::datetime_value;
use super::register;
use super::rewrite::{arithmetic_calls, mutable_literals};

fn render(source: &str) -> String {
    let mut env = minijinja::Environment::new();
    register(&mut env);
    env.render_str(&mutable_literals(source), ()).unwrap()
}

#[test]
fn lists_made_with_set_change_in_place_across_loops() {
    let out = render(
        "{% set xs = [] %}{% for i in [1, 2, 3] %}{% do xs.append(i * 2) %}{% endfor %}{{ xs | join(',') }} {{ xs | length }} {{ xs[-1] }}",
    );
    assert_eq!(out, "2,4,6 3 6");
}

#[test]
fn dicts_made_with_set_take_updates_in_order() {
    let out = render(
        "{% set d = {'b': 1} %}{% for k in ['a', 'b'] %}{% do d.update({k: loop.index}) %}{% endfor %}{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}{{ d.get('z', 'none') }}",
    );
    assert_eq!(out, "b=2;a=1;none");
}

#[test]
fn lists_stored_in_a_dict_change_in_place() {
    let out = render(
        "{% set d = {} %}{% for k in ['a', 'b'] %}{% do d.update({k: []}) %}{% do d[k].append(k ~ '1') %}{% endfor %}{{ d['a'] | join }}{{ d['b'] | join }}",
    );
    assert_eq!(out, "a1b1");
}

#[test]
fn python_methods_zip_set_and_re() {
    assert_eq!(render("{{ 'a_{}_{}'.format(1, 'x') }}"), "a_1_x");
    assert_eq!(render("{{ {'k': 1}.keys() | list }}"), "['k']");
    assert_eq!(
        render("{% for a, b in zip([1, 2, 3], ['x', 'y']) %}{{ a }}{{ b }} {% endfor %}"),
        "1x 2y "
    );
    assert_eq!(
        render("{{ set(['b', 'a', 'b']) == set(['a', 'b']) }}"),
        "True"
    );
    assert_eq!(
        render("{{ modules.re.sub('[^a-z]+', '_', 'Hello World!') }}"),
        "_ello_orld_"
    );
    assert_eq!(
        render("{{ modules.re.match('(a)(b)?', 'ac').group(1) }}"),
        "a"
    );
    assert_eq!(
        render("{{ modules.datetime.datetime.now().strftime('%Y') | length }}"),
        "4"
    );
}

/// Renders `source` as kiln compiles it (date arithmetic included).
fn py(source: &str) -> String {
    let mut env = minijinja::Environment::new();
    register(&mut env);
    let compiled = mutable_literals(source).into_owned();
    env.render_str(&compiled, ())
        .unwrap_or_else(|e| panic!("{source}: {e:#}"))
}

fn py_err(source: &str) -> String {
    let mut env = minijinja::Environment::new();
    register(&mut env);
    let compiled = mutable_literals(source).into_owned();
    env.render_str(&compiled, ()).unwrap_err().to_string()
}

// Each expected text is what Python 3.11 (with pytz) prints.

#[test]
fn datetimes_print_as_python_does() {
    let dt = "{% set m = modules.datetime %}";
    assert_eq!(
        py(&format!("{dt}{{{{ m.datetime(2024, 1, 2, 3, 4, 5) }}}}")),
        "2024-01-02 03:04:05"
    );
    assert_eq!(
        py(&format!(
            "{dt}{{{{ m.datetime(2024, 1, 2, 3, 4, 5, 123456) }}}}"
        )),
        "2024-01-02 03:04:05.123456"
    );
    assert_eq!(
        py(&format!(
            "{dt}{{{{ m.datetime(2024, 1, 2, 3, 4, 5).isoformat() }}}}"
        )),
        "2024-01-02T03:04:05"
    );
    assert_eq!(
        py(&format!(
            "{dt}{{{{ m.datetime(2024, 1, 2, 3, 4, 5, 120).isoformat(' ', 'milliseconds') }}}}"
        )),
        "2024-01-02 03:04:05.000"
    );
    assert_eq!(
        py(&format!("{dt}{{{{ m.date(2024, 1, 2) }}}}")),
        "2024-01-02"
    );
    assert_eq!(
        py(&format!(
            "{dt}{{{{ m.datetime(2024, 1, 2, 3, 4, 5, 6).replace(hour=0, minute=0, second=0, microsecond=0) }}}}"
        )),
        "2024-01-02 00:00:00"
    );
    assert_eq!(
        py(&format!(
            "{dt}{{{{ m.datetime(2024, 1, 2, 3, 4, 5).date() }}}}"
        )),
        "2024-01-02"
    );
    assert_eq!(
        py(&format!(
            "{dt}{{{{ m.datetime(2024, 3, 9, 14, 5, 7, 42).strftime('%Y/%m/%d %H-%M-%S.%f %a %b %j %I%p %%') }}}}"
        )),
        "2024/03/09 14-05-07.000042 Sat Mar 069 02PM %"
    );
    // A naive datetime has no %z or %Z.
    assert_eq!(
        py(&format!(
            "{dt}[{{{{ m.datetime(2024, 1, 2).strftime('%z%Z') }}}}]"
        )),
        "[]"
    );
    assert_eq!(
        py(&format!(
            "{dt}{{{{ m.date(2024, 3, 9).weekday() }}}} {{{{ m.date(2024, 3, 9).isoweekday() }}}} {{{{ m.date(2024, 3, 9).toordinal() }}}}"
        )),
        "5 6 738954"
    );
    // A date has no hour: dbt_date tells dates from datetimes so.
    assert_eq!(
        py(&format!(
            "{dt}{{{{ m.date(2024, 1, 2).hour is defined }}}} {{{{ m.datetime(2024, 1, 2).hour is defined }}}} {{{{ m.datetime(2024, 1, 2).tzinfo is none }}}}"
        )),
        "False True True"
    );
    assert!(
        py_err(&format!("{dt}{{{{ m.date(2023, 2, 29) }}}}"))
            .contains("ValueError: day is out of range for month")
    );
    assert!(
        py_err(&format!("{dt}{{{{ m.datetime(2023, 13, 1) }}}}"))
            .contains("month must be in 1..12")
    );
}

#[test]
fn now_today_and_utcnow_are_the_current_time() {
    for call in [
        "datetime.now()",
        "datetime.today()",
        "datetime.utcnow()",
        "date.today()",
    ] {
        let out = py(&format!("{{{{ modules.datetime.{call}.year }}}}"));
        assert!(
            out.len() == 4 && out.parse::<i32>().is_ok(),
            "{call}: {out}"
        );
    }
    assert_eq!(
        py("{{ modules.datetime.date.today() | string | length }}"),
        "10"
    );
    assert_eq!(
        py("{{ modules.datetime.datetime.utcnow().tzinfo is none }}"),
        "True"
    );
    assert_eq!(
        py("{{ modules.datetime.datetime.now(modules.pytz.utc).isoformat()[-6:] }}"),
        "+00:00"
    );
}

#[test]
fn strptime_and_fromisoformat_read_what_python_reads() {
    let dt = "{% set m = modules.datetime %}";
    assert_eq!(
        py(&format!(
            "{dt}{{{{ m.datetime.strptime('2024-03-09 14:05', '%Y-%m-%d %H:%M') }}}}"
        )),
        "2024-03-09 14:05:00"
    );
    assert_eq!(
        py(&format!(
            "{dt}{{{{ m.datetime.strptime('9 mar 24', '%d %b %y') }}}}"
        )),
        "2024-03-09 00:00:00"
    );
    assert_eq!(
        py(&format!(
            "{dt}{{{{ m.datetime.strptime('2024-03-09T14:05:07.5+0200', '%Y-%m-%dT%H:%M:%S.%f%z') }}}}"
        )),
        "2024-03-09 14:05:07.500000+02:00"
    );
    assert!(
        py_err(&format!(
            "{dt}{{{{ m.datetime.strptime('2024/01/02', '%Y-%m-%d') }}}}"
        ))
        .contains("ValueError: time data '2024/01/02' does not match format '%Y-%m-%d'")
    );
    assert!(
        py_err(&format!(
            "{dt}{{{{ m.datetime.strptime('2024-01-02x', '%Y-%m-%d') }}}}"
        ))
        .contains("unconverted data remains: x")
    );
    assert_eq!(
        py(&format!(
            "{dt}{{{{ m.datetime.fromisoformat('2024-03-09T14:05:07.5+02:00') }}}}"
        )),
        "2024-03-09 14:05:07.500000+02:00"
    );
    assert_eq!(
        py(&format!(
            "{dt}{{{{ m.datetime.fromisoformat('2024-03-09T14:05:07.5+02:00').tzname() }}}}"
        )),
        "UTC+02:00"
    );
    assert_eq!(
        py(&format!(
            "{dt}{{{{ m.datetime.fromisoformat('2024-03-09 14:05Z') }}}}"
        )),
        "2024-03-09 14:05:00+00:00"
    );
    assert_eq!(
        py(&format!("{dt}{{{{ m.date.fromisoformat('2024-03-09') }}}}")),
        "2024-03-09"
    );
    assert!(
        py_err(&format!(
            "{dt}{{{{ m.datetime.fromisoformat('2024/01/02') }}}}"
        ))
        .contains("Invalid isoformat string: '2024/01/02'")
    );
}

#[test]
fn timedeltas_print_and_count_as_python_does() {
    let td = "{% set td = modules.datetime.timedelta %}";
    assert_eq!(
        py(&format!("{td}{{{{ td(days=1, hours=2) }}}}")),
        "1 day, 2:00:00"
    );
    assert_eq!(
        py(&format!("{td}{{{{ td(hours=-1) }}}}")),
        "-1 day, 23:00:00"
    );
    assert_eq!(
        py(&format!(
            "{td}{{{{ td(hours=-1).days }}}} {{{{ td(hours=-1).seconds }}}}"
        )),
        "-1 82800"
    );
    assert_eq!(
        py(&format!(
            "{td}{{{{ td(weeks=1, minutes=90, microseconds=5) }}}}"
        )),
        "7 days, 1:30:00.000005"
    );
    assert_eq!(py(&format!("{td}{{{{ td(hours=1.5) }}}}")), "1:30:00");
    assert_eq!(py(&format!("{td}{{{{ td(2) }}}}")), "2 days, 0:00:00");
    assert_eq!(
        py(&format!(
            "{td}{{{{ td(days=1, microseconds=500000).total_seconds() }}}}"
        )),
        "86400.5"
    );
}

#[test]
fn dates_add_subtract_and_compare_with_timedeltas() {
    let m = "{% set m = modules.datetime %}";
    assert_eq!(
        py(&format!(
            "{m}{{{{ m.date(2024, 1, 31) + m.timedelta(days=1) }}}}"
        )),
        "2024-02-01"
    );
    assert_eq!(
        py(&format!(
            "{m}{{{{ m.timedelta(days=1) + m.date(2024, 1, 31) }}}}"
        )),
        "2024-02-01"
    );
    // A date moves by whole days only.
    assert_eq!(
        py(&format!(
            "{m}{{{{ m.date(2024, 3, 1) + m.timedelta(hours=47) }}}}"
        )),
        "2024-03-02"
    );
    assert_eq!(
        py(&format!(
            "{m}{{{{ m.datetime(2024, 3, 1) - m.timedelta(seconds=1) }}}}"
        )),
        "2024-02-29 23:59:59"
    );
    assert_eq!(
        py(&format!(
            "{m}{{{{ m.datetime(2024, 3, 1) - m.datetime(2024, 2, 28, 12) }}}}"
        )),
        "1 day, 12:00:00"
    );
    assert_eq!(
        py(&format!(
            "{m}{{{{ m.date(2024, 3, 1) - m.date(2024, 2, 1) }}}}"
        )),
        "29 days, 0:00:00"
    );
    assert_eq!(
        py(&format!(
            "{m}{{% set d = m.date(2024, 1, 1) %}}{{{{ (d - m.timedelta(days=1)).isoformat() }}}} {{{{ d + m.timedelta(days=7) - m.timedelta(days=1) }}}}"
        )),
        "2023-12-31 2024-01-07"
    );
    assert_eq!(
        py(&format!(
            "{m}{{{{ m.date(2024, 1, 1) < m.date(2024, 1, 2) }}}} {{{{ m.datetime(2024, 1, 1) + m.timedelta(days=1) == m.datetime(2024, 1, 2) }}}} {{{{ m.timedelta(days=1) > m.timedelta(hours=23) }}}}"
        )),
        "True True True"
    );
    assert_eq!(
        py(&format!(
            "{m}{{% set ds = [m.date(2024, 2, 1), m.date(2023, 5, 1)] %}}{{{{ ds | sort | first }}}} {{{{ ds | max }}}}"
        )),
        "2023-05-01 2024-02-01"
    );
    assert!(
        py_err(&format!("{m}{{{{ m.date(2024, 1, 1) + 1 }}}}"))
            .contains("unsupported operand type(s) for +: 'datetime.date' and 'int'")
    );
    // Every other `+` and `-` is minijinja's own.
    assert_eq!(
        py(&format!(
            "{m}{{{{ 1 + 2 - 4 }}}} {{{{ 'a' + 'b' }}}} {{{{ [1] + [2] }}}} {{{{ -3 - -1 }}}} {{{{ 2 * 3 - 1 }}}} {{{{ 10 - 2 | int }}}} {{{{ 1e-2 + 1 }}}}"
        )),
        "-1 ab [1, 2] -2 5 8 1.01"
    );
    assert_eq!(
        py(&format!(
            "{m}{{% for i in range(3) %}}{{{{ loop.index - 1 }}}}{{% if i - 1 > 0 %}}!{{% endif %}}{{% endfor %}}"
        )),
        "012!"
    );
}

#[test]
fn only_binary_plus_and_minus_become_calls() {
    assert_eq!(
        arithmetic_calls("{{ 1 + 2 }}"),
        "{{ 1 + 2 }}",
        "no date named"
    );
    assert_eq!(
        arithmetic_calls("{# datetime #}{{ a + b - c }}"),
        "{# datetime #}{{ __kiln_sub(__kiln_add(a , b) , c) }}"
    );
    assert_eq!(
        arithmetic_calls("{# pytz #}{{ -a + f(x - 1, y=-2)[0] | int }}"),
        "{# pytz #}{{ __kiln_add(-a , f(__kiln_sub(x , 1), y=-2)[0] | int) }}"
    );
    assert_eq!(
        arithmetic_calls(
            "{# timedelta #}{% set x = a - b if c + d > e else f -%}{% raw %}{{ a + b }}{% endraw %}"
        ),
        "{# timedelta #}{% set x = __kiln_sub(a , b) if __kiln_add(c , d) > e else f -%}{% raw %}{{ a + b }}{% endraw %}"
    );
    assert_eq!(
        arithmetic_calls("{# datetime #}{{ 'a-b' ~ x is not none }}{{ x -}}"),
        "{# datetime #}{{ 'a-b' ~ x is not none }}{{ x -}}"
    );
}

#[test]
fn pytz_zones_localize_and_convert() {
    let p = "{% set m = modules.datetime %}{% set tz = modules.pytz.timezone('US/Eastern') %}";
    assert_eq!(
        py(&format!(
            "{p}{{{{ tz }}}} {{{{ tz.zone }}}} {{{{ modules.pytz.utc }}}}"
        )),
        "US/Eastern US/Eastern UTC"
    );
    assert_eq!(
        py(&format!(
            "{p}{{{{ tz.localize(m.datetime(2002, 10, 27, 6, 0, 0)) }}}}"
        )),
        "2002-10-27 06:00:00-05:00"
    );
    assert_eq!(
        py(&format!(
            "{p}{{{{ tz.localize(m.datetime(2024, 7, 1, 12)).strftime('%Z %z') }}}}"
        )),
        "EDT -0400"
    );
    // In the hour that repeats, is_dst picks which.
    assert_eq!(
        py(&format!(
            "{p}{{{{ tz.localize(m.datetime(2002, 10, 27, 1, 30)) }}}}"
        )),
        "2002-10-27 01:30:00-05:00"
    );
    assert_eq!(
        py(&format!(
            "{p}{{{{ tz.localize(m.datetime(2002, 10, 27, 1, 30), is_dst=true) }}}}"
        )),
        "2002-10-27 01:30:00-04:00"
    );
    assert_eq!(
        py(&format!(
            "{p}{{{{ m.datetime(2024, 7, 1, 12, tzinfo=modules.pytz.utc).astimezone(modules.pytz.timezone('America/New_York')) }}}}"
        )),
        "2024-07-01 08:00:00-04:00"
    );
    assert_eq!(
        py(&format!(
            "{p}{{{{ tz.localize(m.datetime(2024, 1, 2, 3, 4, 5)).astimezone(modules.pytz.utc).isoformat() }}}}"
        )),
        "2024-01-02T08:04:05+00:00"
    );
    // tzinfo= takes pytz's first offset of the zone (local mean time), as
    // pytz does: dbt_date's datetime() writes this.
    assert_eq!(
        py(&format!(
            "{p}{{{{ m.datetime(1997, 9, 29, 6, 14, 0, tzinfo=modules.pytz.timezone('America/Los_Angeles')) }}}}"
        )),
        "1997-09-29 06:14:00-07:53"
    );
    assert_eq!(
        py(&format!(
            "{p}{{{{ m.datetime(2024, 1, 2, 3, 4, 5, tzinfo=modules.pytz.utc).timestamp() }}}}"
        )),
        "1704164645.0"
    );
    assert_eq!(
        py(&format!(
            "{p}{{{{ (tz.localize(m.datetime(2024, 3, 9, 12)) + m.timedelta(days=1)).isoformat() }}}} {{{{ tz.normalize(tz.localize(m.datetime(2024, 3, 9, 12)) + m.timedelta(days=1)) }}}}"
        )),
        "2024-03-10T12:00:00-05:00 2024-03-10 13:00:00-04:00"
    );
    assert_eq!(
        py(&format!(
            "{p}{{{{ tz.localize(m.datetime(2024, 1, 1, 7)) == m.datetime(2024, 1, 1, 12, tzinfo=modules.pytz.utc) }}}}"
        )),
        "True"
    );
    assert!(
        py_err("{{ modules.pytz.timezone('Mars/Olympus') }}")
            .contains("UnknownTimeZoneError: 'Mars/Olympus'")
    );
    assert!(
        py_err(&format!(
            "{p}{{{{ tz.localize(tz.localize(m.datetime(2024, 1, 1))) }}}}"
        ))
        .contains("Not naive datetime (tzinfo is already set)")
    );
}

#[test]
fn run_started_at_is_an_aware_datetime() {
    let mut env = minijinja::Environment::new();
    register(&mut env);
    let at = datetime_value("2024-01-02 03:04:05.123456+00:00");
    let out = env
            .render_str(
                "{{ run_started_at }}|{{ run_started_at.strftime('%Y-%m-%d') }}|{{ run_started_at.astimezone(modules.pytz.timezone('America/New_York')) }}|{{ run_started_at.tzinfo }}",
                minijinja::context! { run_started_at => at },
            )
            .unwrap();
    assert_eq!(
        out,
        "2024-01-02 03:04:05.123456+00:00|2024-01-02|2024-01-01 22:04:05.123456-05:00|UTC"
    );
}

#[test]
fn changing_a_plain_list_says_how_to_make_one_that_changes() {
    let mut env = minijinja::Environment::new();
    register(&mut env);
    let err = env
        .render_str("{% set xs = [1] | list %}{% do xs.append(3) %}", ())
        .unwrap_err();
    assert!(
        err.to_string().contains("cannot append() this list"),
        "{err}"
    );
}

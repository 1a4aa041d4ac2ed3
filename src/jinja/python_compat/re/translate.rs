//! Python's regex syntax as fancy_regex reads it: flags, escapes,
//! repetitions and literals.

use super::{ASCII, DOTALL, IGNORECASE, LOCALE, MULTILINE, UNICODE, VERBOSE};

/// Why a pattern is not one Python would compile; its text is what Python's
/// `re.error` says (the caller adds the pattern).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(super) enum PatternError {
    #[error("unterminated character set")]
    UnterminatedSet,
    #[error("missing ), unterminated name")]
    UnterminatedName,
    #[error("bad escape (end of pattern)")]
    EscapeAtEnd,
    /// `\x`, `\u` or `\U` without its hex digits.
    #[error("incomplete escape \\{letter}{digits}")]
    IncompleteEscape { letter: char, digits: String },
    #[error("bad escape \\{0}")]
    BadEscape(char),
}

/// Python's regex syntax as fancy_regex reads it, with `flags` (Python's
/// numbers) and the inline flags the pattern starts with. `$` without
/// MULTILINE matches before a final newline too, as in Python; when
/// `text_ends_in_newline` is false that cannot happen and `$` stays the
/// plain end of text, which keeps the pattern one the fast engine runs.
pub(super) fn translate(
    pattern: &str,
    flags: i64,
    text_ends_in_newline: bool,
) -> Result<String, PatternError> {
    let chars: Vec<char> = pattern.chars().collect();
    let mut flags = flags;
    let mut i = 0;
    // Leading inline flags: `(?ix)`, `(?i)(?s)`.
    while chars.get(i) == Some(&'(') && chars.get(i + 1) == Some(&'?') {
        let mut j = i + 2;
        let mut found = 0;
        while let Some(c) = chars.get(j) {
            let bit = match c {
                'i' => IGNORECASE,
                'L' => LOCALE,
                'm' => MULTILINE,
                's' => DOTALL,
                'u' => UNICODE,
                'x' => VERBOSE,
                'a' => ASCII,
                _ => break,
            };
            found |= bit;
            j += 1;
        }
        if j == i + 2 || chars.get(j) != Some(&')') {
            break;
        }
        flags |= found;
        i = j + 1;
    }
    let verbose = flags & VERBOSE != 0;
    let mut out = String::new();
    for (bit, letter) in [(IGNORECASE, 'i'), (MULTILINE, 'm'), (DOTALL, 's')] {
        if flags & bit != 0 {
            out.push_str("(?");
            out.push(letter);
            out.push(')');
        }
    }
    let dollar = if flags & MULTILINE != 0 {
        "$"
    } else if text_ends_in_newline {
        r"(?:\z|(?=\n\z))"
    } else {
        r"\z"
    };
    let mut in_class = false;
    while i < chars.len() {
        let c = chars[i];
        i += 1;
        if in_class {
            match c {
                ']' => {
                    in_class = false;
                    out.push(']');
                }
                '\\' => i = escape(&chars, i, true, &mut out)?,
                '[' | '&' | '~' => {
                    out.push('\\');
                    out.push(c);
                }
                _ => out.push(c),
            }
            continue;
        }
        match c {
            _ if verbose && c.is_whitespace() => {}
            '#' if verbose => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
            }
            '\\' => i = escape(&chars, i, false, &mut out)?,
            '[' => {
                in_class = true;
                out.push('[');
                if chars.get(i) == Some(&'^') {
                    out.push('^');
                    i += 1;
                }
                // A `]` first in a class is the character.
                if chars.get(i) == Some(&']') {
                    out.push_str(r"\]");
                    i += 1;
                }
            }
            '{' => match repetition(&chars, i) {
                Some((lo, hi, end)) => {
                    if lo == hi {
                        out.push_str(&format!("{{{lo}}}"));
                    } else {
                        out.push_str(&format!("{{{lo},{hi}}}"));
                    }
                    i = end;
                }
                None => out.push_str(r"\{"),
            },
            '}' => out.push_str(r"\}"),
            '$' => out.push_str(dollar),
            '(' if chars.get(i) == Some(&'?') => {
                let rest: String = chars[i..chars.len().min(i + 3)].iter().collect();
                if rest.starts_with("?#") {
                    // A comment group.
                    while i < chars.len() && chars[i] != ')' {
                        i += 1;
                    }
                    i += 1;
                } else if rest.starts_with("?P=") {
                    let close = chars[i..]
                        .iter()
                        .position(|&c| c == ')')
                        .ok_or(PatternError::UnterminatedName)?;
                    let name: String = chars[i + 3..i + close].iter().collect();
                    out.push_str(&format!(r"\k<{name}>"));
                    i += close + 1;
                } else {
                    out.push('(');
                }
            }
            _ => out.push(c),
        }
    }
    if in_class {
        return Err(PatternError::UnterminatedSet);
    }
    Ok(out)
}

/// A Python repetition `{m}`, `{m,n}`, `{,n}`, `{m,}` from `i` (after the
/// `{`): its bounds and where it ends; `None` where the `{` is a character.
fn repetition(chars: &[char], mut i: usize) -> Option<(String, String, usize)> {
    let digits = |i: &mut usize| {
        let start = *i;
        while chars.get(*i).is_some_and(char::is_ascii_digit) {
            *i += 1;
        }
        chars[start..*i].iter().collect::<String>()
    };
    let lo = digits(&mut i);
    let hi = if chars.get(i) == Some(&',') {
        i += 1;
        digits(&mut i)
    } else if lo.is_empty() {
        return None;
    } else {
        lo.clone()
    };
    if chars.get(i) != Some(&'}') {
        return None;
    }
    let lo = if lo.is_empty() { "0".to_string() } else { lo };
    Some((lo, hi, i + 1))
}

/// One escape from `i` (after the backslash), written for fancy_regex.
fn escape(
    chars: &[char],
    i: usize,
    in_class: bool,
    out: &mut String,
) -> Result<usize, PatternError> {
    let Some(&c) = chars.get(i) else {
        return Err(PatternError::EscapeAtEnd);
    };
    let mut end = i + 1;
    match c {
        'd' | 'D' | 's' | 'S' | 'w' | 'W' | 'n' | 't' | 'r' | 'f' | 'v' | 'a' => {
            out.push('\\');
            out.push(c);
        }
        'b' if in_class => out.push_str(r"\x08"),
        'b' | 'B' | 'A' => {
            out.push('\\');
            out.push(c);
        }
        'Z' if !in_class => out.push_str(r"\z"),
        'x' | 'u' | 'U' => {
            let len = match c {
                'x' => 2,
                'u' => 4,
                _ => 8,
            };
            let hex: String = chars.iter().skip(end).take(len).collect();
            if hex.len() != len || !hex.chars().all(|h| h.is_ascii_hexdigit()) {
                return Err(PatternError::IncompleteEscape {
                    letter: c,
                    digits: hex,
                });
            }
            out.push_str(&format!(r"\x{{{hex}}}"));
            end += len;
        }
        '0'..='9' => {
            // `\0` and three octal digits are a character; others a group.
            let octal = |k: usize| chars.get(k).is_some_and(|d| ('0'..='7').contains(d));
            if c == '0' || (octal(i) && octal(i + 1) && octal(i + 2)) {
                let mut digits = String::from(c);
                while digits.len() < 3 && octal(end) {
                    digits.push(chars[end]);
                    end += 1;
                }
                let code = u32::from_str_radix(&digits, 8).unwrap_or(0);
                out.push_str(&format!(r"\x{{{code:x}}}"));
            } else if in_class {
                return Err(PatternError::BadEscape(c));
            } else {
                let mut digits = String::from(c);
                if chars.get(end).is_some_and(char::is_ascii_digit) {
                    digits.push(chars[end]);
                    end += 1;
                }
                out.push('\\');
                out.push_str(&digits);
            }
        }
        _ if c.is_ascii_alphanumeric() => return Err(PatternError::BadEscape(c)),
        // Any other character escaped is itself.
        _ => push_literal(c, out),
    }
    Ok(end)
}

/// `c` as a literal, escaped where fancy_regex would read it otherwise.
fn push_literal(c: char, out: &mut String) {
    if c.is_ascii_punctuation() {
        out.push('\\');
        out.push(c);
    } else if c.is_whitespace() {
        out.push_str(&format!(r"\x{{{:x}}}", c as u32));
    } else {
        out.push(c);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(pattern: &str) -> PatternError {
        translate(pattern, 0, false).unwrap_err()
    }

    #[test]
    fn patterns_python_refuses_are_typed_errors_with_pythons_words() {
        assert_eq!(error("[ab"), PatternError::UnterminatedSet);
        assert_eq!(error("(?P=name"), PatternError::UnterminatedName);
        assert_eq!(error("ab\\"), PatternError::EscapeAtEnd);
        assert_eq!(error("\\q"), PatternError::BadEscape('q'));
        assert_eq!(error("[\\1]"), PatternError::BadEscape('1'));
        let incomplete = error("\\x4");
        assert_eq!(
            incomplete,
            PatternError::IncompleteEscape {
                letter: 'x',
                digits: "4".into()
            }
        );
        assert_eq!(incomplete.to_string(), "incomplete escape \\x4");
        assert_eq!(error("\\q").to_string(), "bad escape \\q");
        assert_eq!(error("[ab").to_string(), "unterminated character set");
    }

    #[test]
    fn a_valid_pattern_translates() {
        assert_eq!(translate("a\\d+", 0, false).unwrap(), "a\\d+");
    }
}

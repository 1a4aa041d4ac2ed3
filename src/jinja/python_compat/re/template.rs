//! Python's replacement template for `sub`: `\1`, `\g<n>`, `\g<name>` and
//! the escapes.

use super::super::args::py_error;
use minijinja::Error;

/// One piece of a replacement template.
#[derive(Debug)]
pub(super) enum Part {
    Text(String),
    Group(GroupRef),
}

#[derive(Debug)]
pub(super) enum GroupRef {
    Number(usize),
    Name(String),
}

/// Python's replacement template: `\1`..`\99`, `\g<n>`, `\g<name>`, the
/// escapes `\n` `\t` ... and `\\`; another backslash is kept.
pub(super) fn parse_template(template: &str) -> Result<Vec<Part>, Error> {
    let chars: Vec<char> = template.chars().collect();
    let mut parts = Vec::new();
    let mut text = String::new();
    let mut i = 0;
    let bad = |m: String| py_error("re.error", m);
    while i < chars.len() {
        let c = chars[i];
        i += 1;
        if c != '\\' {
            text.push(c);
            continue;
        }
        let Some(&next) = chars.get(i) else {
            return Err(bad("bad escape (end of pattern)".to_string()));
        };
        i += 1;
        let group = match next {
            'g' => {
                if chars.get(i) != Some(&'<') {
                    return Err(bad("missing <".to_string()));
                }
                let close = chars[i..]
                    .iter()
                    .position(|&c| c == '>')
                    .ok_or_else(|| bad("missing >, unterminated name".to_string()))?;
                let name: String = chars[i + 1..i + close].iter().collect();
                i += close + 1;
                Some(match name.parse::<usize>() {
                    Ok(n) => GroupRef::Number(n),
                    Err(_) if !name.is_empty() => GroupRef::Name(name),
                    Err(_) => return Err(bad("missing group name".to_string())),
                })
            }
            '0'..='9' => {
                let octal = |k: usize| chars.get(k).is_some_and(|d| ('0'..='7').contains(d));
                if next == '0' || (octal(i - 1) && octal(i) && octal(i + 1)) {
                    let mut digits = String::from(next);
                    while digits.len() < 3 && octal(i) {
                        digits.push(chars[i]);
                        i += 1;
                    }
                    let code = u32::from_str_radix(&digits, 8).unwrap_or(0);
                    text.extend(char::from_u32(code));
                    None
                } else {
                    let mut n = next.to_digit(10).unwrap_or(0) as usize;
                    if let Some(d) = chars.get(i).and_then(|d| d.to_digit(10)) {
                        n = n * 10 + d as usize;
                        i += 1;
                    }
                    Some(GroupRef::Number(n))
                }
            }
            _ => {
                match next {
                    'n' => text.push('\n'),
                    't' => text.push('\t'),
                    'r' => text.push('\r'),
                    'f' => text.push('\x0c'),
                    'v' => text.push('\x0b'),
                    'a' => text.push('\x07'),
                    'b' => text.push('\x08'),
                    '\\' => text.push('\\'),
                    _ if next.is_ascii_alphabetic() => {
                        return Err(bad(format!("bad escape \\{next}")));
                    }
                    _ => {
                        text.push('\\');
                        text.push(next);
                    }
                }
                None
            }
        };
        if let Some(group) = group {
            if !text.is_empty() {
                parts.push(Part::Text(std::mem::take(&mut text)));
            }
            parts.push(Part::Group(group));
        }
    }
    if !text.is_empty() {
        parts.push(Part::Text(text));
    }
    Ok(parts)
}

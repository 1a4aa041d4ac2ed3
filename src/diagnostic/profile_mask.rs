//! Hiding the values of password-like keys in a profiles.yml before any of
//! it is shown in a snippet. The file may not parse (that is often why it is
//! shown), so this is a lenient scan of what the YAML means rather than a
//! parse: it finds keys however they are written (plain, quoted, `? key`,
//! inside a flow mapping on one line) and masks the value each one has
//! (plain, quoted across lines, a block scalar, a flow entry).
//!
//! Values are masked byte for byte with `*`, so every byte offset into the
//! text (the span of the diagnostic) still points at the same place.

use std::sync::LazyLock;

use regex::Regex;

static SECRET_KEY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)pass|secret|token|private_key|credential|api_key|keyfile")
        .expect("valid regex")
});

/// `text` with the value of every password-like key masked.
pub fn mask(text: &str) -> String {
    let mut bytes = text.as_bytes().to_vec();
    let mut scanner = Scanner {
        text: text.as_bytes(),
        out: &mut bytes,
    };
    scanner.run();
    // Only ASCII bytes were replaced, and only whole characters (a masked
    // range starts and ends at ASCII delimiters); fall back to a fully
    // masked text rather than ever panic.
    String::from_utf8(bytes).unwrap_or_else(|e| {
        e.into_bytes()
            .iter()
            .map(|b| {
                if b.is_ascii_whitespace() {
                    *b as char
                } else {
                    '*'
                }
            })
            .collect()
    })
}

struct Scanner<'a> {
    text: &'a [u8],
    out: &'a mut Vec<u8>,
}

impl Scanner<'_> {
    fn run(&mut self) {
        let text = self.text;
        let mut depth = 0usize; // flow collections open ({ or [)
        let mut i = 0;
        // Where the text of the key before the next `:` starts.
        let mut key_start = 0;
        // The key of a `? key` line, waiting for its `: value` line.
        let mut explicit_key: Option<(usize, usize)> = None;
        while i < text.len() {
            match text[i] {
                b'"' | b'\'' if self.opens_scalar(i) => i = self.quoted_end(i),
                b'{' | b'[' => {
                    depth += 1;
                    key_start = i + 1;
                    i += 1;
                }
                b'}' | b']' => {
                    depth = depth.saturating_sub(1);
                    key_start = i + 1;
                    i += 1;
                }
                b',' if depth > 0 => {
                    key_start = i + 1;
                    i += 1;
                }
                b'\n' => {
                    key_start = i + 1;
                    i += 1;
                    let line_end = self.line_end(i);
                    let line = &text[i..line_end];
                    let trimmed = trim_start(line);
                    if trimmed.starts_with(b"? ") || trimmed == b"?" {
                        explicit_key = Some((i, line_end));
                    }
                }
                b':' if self.ends_key(i, depth) => {
                    let mut key = (key_start, i);
                    let before = trim_start(&text[key_start..i]);
                    if before.is_empty()
                        && let Some(explicit) = explicit_key.take()
                    {
                        key = explicit;
                    }
                    i += 1;
                    if SECRET_KEY.is_match(&String::from_utf8_lossy(&text[key.0..key.1])) {
                        i = self.mask_value(i, depth, self.indent_of(key.0));
                    }
                    key_start = i;
                }
                _ => i += 1,
            }
        }
    }

    /// A `:` ends a key when a space, a line end or (in a flow collection) a
    /// flow indicator follows it.
    fn ends_key(&self, i: usize, depth: usize) -> bool {
        match self.text.get(i + 1) {
            None => true,
            Some(b' ' | b'\t' | b'\r' | b'\n') => true,
            Some(b',' | b'}' | b']') => depth > 0,
            _ => false,
        }
    }

    /// Masks the value that starts after the `:` at `from` and returns where
    /// scanning goes on.
    fn mask_value(&mut self, from: usize, depth: usize, key_indent: usize) -> usize {
        let text = self.text;
        let mut i = from;
        while i < text.len() && (text[i] == b' ' || text[i] == b'\t') {
            i += 1;
        }
        match text.get(i) {
            Some(b'"' | b'\'') => {
                let end = self.quoted_end(i);
                self.blank(i, end);
                end
            }
            _ if depth > 0 => {
                let mut end = i;
                while end < text.len() && !matches!(text[end], b',' | b'}' | b']' | b'\n') {
                    end += 1;
                }
                self.blank(i, end);
                end
            }
            _ => {
                // The rest of the line (a plain value, a block scalar's
                // header, an anchor or tag), then every following line
                // indented deeper than the key: a block scalar's body, a
                // plain value's continuation, or a value on the next line.
                let mut end = self.line_end(i);
                self.blank(i, end);
                while end < text.len() {
                    let next = end + 1;
                    let next_end = self.line_end(next);
                    let line = &text[next..next_end];
                    let blank_line = trim_start(line).iter().all(|b| b.is_ascii_whitespace());
                    if !blank_line && self.indent_of(next) <= key_indent {
                        break;
                    }
                    self.blank(next, next_end);
                    end = next_end;
                }
                end
            }
        }
    }

    /// A quote opens a quoted scalar only where a scalar can start: at the
    /// start of a line or after `:`, `-`, `?`, `[`, `{` or `,` (an apostrophe
    /// inside a plain value, `it's`, opens nothing).
    fn opens_scalar(&self, at: usize) -> bool {
        let before = self.text[..at]
            .iter()
            .rev()
            .find(|b| **b != b' ' && **b != b'\t');
        matches!(
            before,
            None | Some(b'\n' | b':' | b'-' | b'?' | b'[' | b'{' | b',')
        )
    }

    /// Where the quoted scalar opening at `start` ends (just past its
    /// closing quote, or the end of the text).
    fn quoted_end(&self, start: usize) -> usize {
        let text = self.text;
        let quote = text[start];
        let mut i = start + 1;
        while i < text.len() {
            match text[i] {
                b'\\' if quote == b'"' => i += 2,
                b'\'' if quote == b'\'' && text.get(i + 1) == Some(&b'\'') => i += 2,
                c if c == quote => return i + 1,
                _ => i += 1,
            }
        }
        text.len()
    }

    fn line_end(&self, from: usize) -> usize {
        let from = from.min(self.text.len());
        self.text[from..]
            .iter()
            .position(|b| *b == b'\n')
            .map_or(self.text.len(), |p| from + p)
    }

    /// How far the line holding `at` is indented (list dashes count as
    /// indentation, as they do for the mapping inside a list item).
    fn indent_of(&self, at: usize) -> usize {
        let start = self.text[..at.min(self.text.len())]
            .iter()
            .rposition(|b| *b == b'\n')
            .map_or(0, |p| p + 1);
        self.text[start..]
            .iter()
            .take_while(|b| matches!(b, b' ' | b'\t' | b'-'))
            .count()
    }

    /// Replaces every byte of `from..to` but line ends with `*`.
    fn blank(&mut self, from: usize, to: usize) {
        let to = to.min(self.out.len());
        for b in &mut self.out[from.min(to)..to] {
            if *b != b'\n' && *b != b'\r' {
                *b = b'*';
            }
        }
    }
}

fn trim_start(line: &[u8]) -> &[u8] {
    let skip = line.iter().take_while(|b| b.is_ascii_whitespace()).count();
    &line[skip..]
}

#[cfg(test)]
mod tests {
    use super::mask;

    fn hidden(text: &str, secret: &str) -> String {
        let masked = mask(text);
        assert!(!masked.contains(secret), "{secret} shown in:\n{masked}");
        assert_eq!(masked.len(), text.len(), "offsets kept");
        masked
    }

    #[test]
    fn block_mapping_values() {
        let masked = hidden(
            "p:\n  outputs:\n    dev:\n      user: me\n      password: hunter2\n      db_token: abc123\n",
            "hunter2",
        );
        assert!(!masked.contains("abc123"));
        assert!(masked.contains("user: me"), "{masked}");
    }

    #[test]
    fn flow_mapping_on_one_line() {
        let masked = hidden(
            "p:\n  outputs:\n    dev: {type: postgres, password: hunter2, user: me, threads: [}\n",
            "hunter2",
        );
        assert!(masked.contains("user: me"), "{masked}");
        assert!(masked.contains("type: postgres"), "{masked}");
    }

    #[test]
    fn quoted_keys_and_values() {
        hidden("dev:\n  \"password\": 'hun''ter2'\n", "ter2");
        hidden("dev:\n  'pass word': \"a\\\"hunter2\"\n", "hunter2");
        hidden("dev: {\"password\": \"x, hunter2\"}\n", "hunter2");
        hidden(
            "dev:\n  password: \"hunter2\n    continues\"\n",
            "continues",
        );
    }

    #[test]
    fn block_scalars_and_next_line_values() {
        let masked = hidden(
            "dev:\n  private_key: |\n    -----BEGIN-----\n    hunter2\n  user: me\n",
            "hunter2",
        );
        assert!(!masked.contains("BEGIN"));
        assert!(masked.contains("user: me"), "{masked}");
        hidden("dev:\n  password:\n    hunter2\n  user: me\n", "hunter2");
        hidden("dev:\n  password: >-\n\n    hunter2\n", "hunter2");
    }

    #[test]
    fn apostrophes_in_plain_values_open_nothing() {
        hidden(
            "dev:\n  note: it's mine\n  password: hunter2\n  other: 'y'\n",
            "hunter2",
        );
    }

    #[test]
    fn explicit_keys() {
        let masked = hidden("dev:\n  ? password\n  : hunter2\n  user: me\n", "hunter2");
        assert!(masked.contains("user: me"), "{masked}");
    }

    #[test]
    fn colons_inside_values_are_not_keys() {
        let masked = mask("dev:\n  host: \"a:b\"\n  url: http://x\n");
        assert_eq!(masked, "dev:\n  host: \"a:b\"\n  url: http://x\n");
    }

    #[test]
    fn non_ascii_text_stays_valid() {
        let masked = hidden("dev:\n  note: héllo\n  password: pässwört\n", "pässwört");
        assert!(masked.contains("héllo"));
    }
}

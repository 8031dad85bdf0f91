//! Text from the input, made safe for the page. Subjects, folder names, rule parameters
//! and user names are written by whoever sent the mail or ran the cmdlet: an attacker.
//! Every such value passes through [`push`], which escapes the five HTML-significant
//! characters (so it can sit in element content and in double- or single-quoted
//! attributes) and shows control characters and bidirectional overrides visibly, as the
//! terminal output does ([`crate::diag::sanitize`]).

use crate::diag::sanitize;

fn needs_sanitizing(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Appends `text`, escaped, to `out`.
pub fn push(out: &mut String, text: &str) {
    push_escaped(out, &shown(text));
}

/// `text` as the page shows it, before HTML escaping: control characters and
/// bidirectional overrides made visible (the packed timeline's script escapes the rest).
pub fn shown(text: &str) -> std::borrow::Cow<'_, str> {
    if text.chars().any(needs_sanitizing) {
        std::borrow::Cow::Owned(sanitize(text))
    } else {
        std::borrow::Cow::Borrowed(text)
    }
}

fn push_escaped(out: &mut String, text: &str) {
    let mut rest = text;
    while let Some(i) = rest.find(['&', '<', '>', '"', '\'']) {
        out.push_str(&rest[..i]);
        out.push_str(match rest.as_bytes()[i] {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'"' => "&quot;",
            _ => "&#39;",
        });
        rest = &rest[i + 1..];
    }
    out.push_str(rest);
}

/// `text`, escaped.
pub fn esc(text: &str) -> String {
    let mut s = String::with_capacity(text.len() + 8);
    push(&mut s, text);
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_controls() {
        assert_eq!(
            esc("<script>alert(1)</script>"),
            "&lt;script&gt;alert(1)&lt;/script&gt;"
        );
        assert_eq!(
            esc(r#"=HYPERLINK("http://evil.example","open")"#),
            "=HYPERLINK(&quot;http://evil.example&quot;,&quot;open&quot;)"
        );
        assert_eq!(esc("a'b&c"), "a&#39;b&amp;c");
        assert_eq!(esc("Wire\r\nURGENT\u{202E}x"), "Wire\\r\\nURGENT\\u{202e}x");
        assert_eq!(esc("Résumé – ok"), "Résumé – ok");
    }
}

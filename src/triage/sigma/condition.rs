//! A Sigma `condition:` parsed into a tree over the rule's search identifiers.
//!
//! Grammar (keywords case-insensitive; `not` binds tighter than `and`, `and` than `or`):
//!
//! ```text
//! expr := and ("or" and)*        and  := unary ("and" unary)*
//! unary := "not" unary | "(" expr ")" | quant | identifier
//! quant := ("1" | "all" | N) "of" (pattern | "them")
//! ```
//!
//! A pattern is an identifier with `*` wildcards (`1 of selection_*`); `them` is every
//! identifier not starting with `_`. A pattern that matches nothing, an unknown identifier
//! or a stray token is an error naming it; the deprecated aggregations (`| count() > 5`)
//! and `near` are reported as unsupported. Nesting is bounded ([`MAX_DEPTH`]).

use super::RuleError;

/// Deepest nesting of parentheses and `not`s accepted.
pub const MAX_DEPTH: usize = 64;

/// A compiled condition; leaves are indexes into the rule's search identifiers.
#[derive(Clone, Debug, PartialEq)]
pub enum Cond {
    Id(usize),
    Not(Box<Cond>),
    And(Vec<Cond>),
    Or(Vec<Cond>),
    /// At least `n` of the identifiers (`1 of`, `all of`, `N of`).
    AtLeast(usize, Vec<usize>),
}

impl Cond {
    /// Evaluates the condition, asking `id` for each identifier it needs (short-circuit).
    pub fn eval(&self, id: &dyn Fn(usize) -> bool) -> bool {
        match self {
            Cond::Id(i) => id(*i),
            Cond::Not(inner) => !inner.eval(id),
            Cond::And(parts) => parts.iter().all(|p| p.eval(id)),
            Cond::Or(parts) => parts.iter().any(|p| p.eval(id)),
            Cond::AtLeast(n, ids) => {
                let mut hits = 0;
                ids.iter().any(|&i| {
                    hits += usize::from(id(i));
                    hits >= *n
                })
            }
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
enum Token<'a> {
    Open,
    Close,
    Word(&'a str),
}

/// Parses `text` against the identifiers `names` (in rule order).
pub fn parse(text: &str, names: &[String]) -> Result<Cond, RuleError> {
    let tokens = tokenize(text)?;
    let mut p = Parser {
        tokens,
        pos: 0,
        names,
        text,
    };
    let cond = p.expr(0)?;
    match p.tokens.get(p.pos) {
        None => Ok(cond),
        Some(t) => Err(p.error(&format!("unexpected {}", describe(t)))),
    }
}

fn tokenize(text: &str) -> Result<Vec<Token<'_>>, RuleError> {
    let mut tokens = Vec::new();
    let mut rest = text;
    loop {
        rest = rest.trim_start();
        let Some(c) = rest.chars().next() else {
            return Ok(tokens);
        };
        match c {
            '(' => {
                tokens.push(Token::Open);
                rest = &rest[1..];
            }
            ')' => {
                tokens.push(Token::Close);
                rest = &rest[1..];
            }
            '|' => {
                return Err(RuleError::unsupported(format!(
                    "condition '{text}': aggregations after '|' (count, min, max, near...) \
                     are not supported"
                )))
            }
            c if is_word_char(c) => {
                let end = rest.find(|c| !is_word_char(c)).unwrap_or(rest.len());
                tokens.push(Token::Word(&rest[..end]));
                rest = &rest[end..];
            }
            other => {
                return Err(RuleError::invalid(format!(
                    "condition '{text}': unexpected character {other:?}"
                )))
            }
        }
    }
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | '-' | '*' | '.')
}

fn describe(t: &Token<'_>) -> String {
    match t {
        Token::Open => "'('".into(),
        Token::Close => "')'".into(),
        Token::Word(w) => format!("'{w}'"),
    }
}

struct Parser<'a, 'n> {
    tokens: Vec<Token<'a>>,
    pos: usize,
    names: &'n [String],
    text: &'a str,
}

impl<'a> Parser<'a, '_> {
    fn error(&self, what: &str) -> RuleError {
        RuleError::invalid(format!("condition '{}': {what}", self.text))
    }

    fn keyword(&self, word: &str) -> bool {
        matches!(self.tokens.get(self.pos), Some(Token::Word(w)) if w.eq_ignore_ascii_case(word))
    }

    fn expr(&mut self, depth: usize) -> Result<Cond, RuleError> {
        let mut parts = vec![self.and(depth)?];
        while self.keyword("or") {
            self.pos += 1;
            parts.push(self.and(depth)?);
        }
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            Cond::Or(parts)
        })
    }

    fn and(&mut self, depth: usize) -> Result<Cond, RuleError> {
        let mut parts = vec![self.unary(depth)?];
        while self.keyword("and") {
            self.pos += 1;
            parts.push(self.unary(depth)?);
        }
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            Cond::And(parts)
        })
    }

    fn unary(&mut self, depth: usize) -> Result<Cond, RuleError> {
        if depth >= MAX_DEPTH {
            return Err(self.error(&format!("nested more than {MAX_DEPTH} levels deep")));
        }
        let Some(token) = self.tokens.get(self.pos).cloned() else {
            return Err(self.error("ends where an identifier was expected"));
        };
        self.pos += 1;
        match token {
            Token::Open => {
                let inner = self.expr(depth + 1)?;
                match self.tokens.get(self.pos) {
                    Some(Token::Close) => {
                        self.pos += 1;
                        Ok(inner)
                    }
                    _ => Err(self.error("a '(' is not closed")),
                }
            }
            Token::Close => Err(self.error("unexpected ')'")),
            Token::Word(w) if w.eq_ignore_ascii_case("not") => {
                Ok(Cond::Not(Box::new(self.unary(depth + 1)?)))
            }
            Token::Word(w) if w.eq_ignore_ascii_case("near") => Err(RuleError::unsupported(
                format!("condition '{}': 'near' is not supported", self.text),
            )),
            Token::Word(w) if self.keyword("of") => {
                self.pos += 1;
                self.quantifier(w)
            }
            Token::Word(w) => {
                if ["and", "or", "of", "them"]
                    .iter()
                    .any(|k| w.eq_ignore_ascii_case(k))
                {
                    return Err(self.error(&format!("unexpected '{w}'")));
                }
                match self.names.iter().position(|n| n == w) {
                    Some(i) => Ok(Cond::Id(i)),
                    None => {
                        Err(self.error(&format!("'{w}' is not a search identifier of the rule")))
                    }
                }
            }
        }
    }

    fn quantifier(&mut self, count: &str) -> Result<Cond, RuleError> {
        let Some(Token::Word(target)) = self.tokens.get(self.pos).cloned() else {
            return Err(self.error(&format!("'{count} of' needs a pattern or 'them'")));
        };
        self.pos += 1;
        let ids: Vec<usize> = if target.eq_ignore_ascii_case("them") {
            (0..self.names.len())
                .filter(|&i| !self.names[i].starts_with('_'))
                .collect()
        } else {
            (0..self.names.len())
                .filter(|&i| glob(target, &self.names[i]))
                .collect()
        };
        if ids.is_empty() {
            return Err(self.error(&format!("'{target}' matches no search identifier")));
        }
        let n = if count.eq_ignore_ascii_case("all") {
            ids.len()
        } else {
            match count.parse::<usize>() {
                Ok(n) if n >= 1 => n,
                _ => return Err(self.error(&format!("'{count} of': expected 1, all or a count"))),
            }
        };
        Ok(Cond::AtLeast(n, ids))
    }
}

/// `*` matches any run of characters; everything else matches itself.
fn glob(pattern: &str, name: &str) -> bool {
    let mut parts = pattern.split('*');
    let first = parts.next().unwrap_or_default();
    let Some(mut rest) = name.strip_prefix(first) else {
        return false;
    };
    let parts: Vec<&str> = parts.collect();
    let Some((last, middle)) = parts.split_last() else {
        return rest.is_empty();
    };
    for part in middle {
        match rest.find(part) {
            Some(i) => rest = &rest[i + part.len()..],
            None => return false,
        }
    }
    rest.len() >= last.len() && rest.ends_with(last)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn precedence_and_quantifiers() {
        let n = names(&["sel", "filter_a", "filter_b", "_hidden"]);
        assert_eq!(
            parse("sel and not 1 of filter_*", &n),
            Ok(Cond::And(vec![
                Cond::Id(0),
                Cond::Not(Box::new(Cond::AtLeast(1, vec![1, 2])))
            ]))
        );
        assert_eq!(
            parse("sel or filter_a and filter_b", &n),
            Ok(Cond::Or(vec![
                Cond::Id(0),
                Cond::And(vec![Cond::Id(1), Cond::Id(2)])
            ]))
        );
        assert_eq!(
            parse("all of them", &n),
            Ok(Cond::AtLeast(3, vec![0, 1, 2]))
        );
        assert_eq!(parse("(sel)", &n), Ok(Cond::Id(0)));
        assert_eq!(
            parse("SEL", &n).map_err(|e| e.kind),
            Err(super::super::NotLoadedKind::Invalid)
        );
    }

    #[test]
    fn errors_name_the_problem() {
        let n = names(&["sel"]);
        for (text, needle) in [
            ("sel and", "ends where"),
            ("(sel", "not closed"),
            ("sel)", "unexpected ')'"),
            ("1 of nothing_*", "matches no search identifier"),
            ("other", "'other' is not a search identifier"),
            ("sel | count() > 5", "aggregations"),
            ("sel $", "unexpected character"),
        ] {
            let err = parse(text, &n).unwrap_err();
            assert!(err.reason.contains(needle), "{text}: {}", err.reason);
        }
        let deep = "(".repeat(MAX_DEPTH + 1) + "sel" + &")".repeat(MAX_DEPTH + 1);
        assert!(parse(&deep, &n).unwrap_err().reason.contains("nested"));
        let not_deep = "not ".repeat(MAX_DEPTH + 1) + "sel";
        assert!(parse(&not_deep, &n).is_err());
    }

    #[test]
    fn glob_matches_like_sigma() {
        assert!(glob("selection_*", "selection_a"));
        assert!(glob("selection_*", "selection_"));
        assert!(!glob("selection_*", "selection"));
        assert!(glob("*_main_*", "filter_main_x"));
        assert!(glob("a*b*c", "aXbYc"));
        assert!(!glob("a*b*c", "aXcYb"));
        assert!(glob("exact", "exact"));
        assert!(!glob("exact", "exactly"));
    }

    #[test]
    fn at_least_counts() {
        let c = Cond::AtLeast(2, vec![0, 1, 2]);
        assert!(c.eval(&|i| i != 1));
        assert!(!c.eval(&|i| i == 1));
    }
}

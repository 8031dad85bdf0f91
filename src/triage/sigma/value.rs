//! One Sigma field test compiled: the modifier chain and values of `Field|mod|mod: values`
//! turned into a [`FieldTest`] that runs on the values an event's field resolves to.
//!
//! String comparisons (plain, wildcards, `contains`, `startswith`, `endswith`, `re`,
//! `base64`, `base64offset`, `windash`) all become one `regex::Regex` per test (one per
//! value under `|all`), compiled once: the values of a list are alternatives of one
//! regex, so a list of 20 values costs one scan. Sigma matches case-insensitively; only
//! `re` is case-sensitive unless `|re|i` (or inline flags), and `|cased` makes any other
//! comparison case-sensitive.

use std::net::IpAddr;

use regex::{Regex, RegexBuilder};

use super::event::{Event, Leaf};
use super::yaml::{Kind, Node, Scalar};
use super::RuleError;
use crate::base64;

/// Most variants `windash` may generate for one value (5 per dash).
const MAX_WINDASH_VARIANTS: usize = 625;
/// Fields that hold arrays or objects in UAL records: compared as text, they are serialised
/// first, so a selection tests them after its other fields.
const COMPOSITE_FIELDS: [&str; 8] = [
    "Parameters",
    "OperationProperties",
    "ExtendedProperties",
    "ModifiedProperties",
    "AffectedItems",
    "Folders",
    "Item",
    "DeviceProperties",
];
/// The compiled size limit of one test's regex.
const REGEX_SIZE_LIMIT: usize = 4 << 20;

/// A compiled `field|modifiers: values` item of a selection.
#[derive(Debug)]
pub struct FieldTest {
    pub field: String,
    check: Check,
    /// A test that must serialise objects to text (`Parameters|contains`) runs last.
    pub costly: bool,
}

#[derive(Debug)]
enum Check {
    /// `|exists: true/false`.
    Exists(bool),
    /// Any value passes any test (no `|all`), or each test is passed by some value.
    Values { tests: Vec<Test>, all: bool },
}

#[derive(Debug)]
enum Test {
    /// A string comparison; `ascii` answers it without the regex for ASCII text.
    Text {
        regex: Regex,
        ascii: Option<AsciiLiterals>,
    },
    /// `null`: the field is absent or null.
    Null,
    Cmp(Cmp, f64),
    Cidr(Vec<(IpAddr, u8)>),
}

/// Whole, leading or trailing ASCII literals (no wildcards), lower-cased at load: on
/// ASCII text an ASCII case-insensitive comparison gives the regex's answer (only
/// non-ASCII characters such as U+212A KELVIN SIGN fold onto ASCII letters).
#[derive(Debug)]
struct AsciiLiterals {
    anchor: Anchor,
    literals: Vec<Box<[u8]>>,
}

impl AsciiLiterals {
    fn new(m: &Mods, values: &[String]) -> Option<AsciiLiterals> {
        let anchor = m.anchor.unwrap_or(Anchor::Exact);
        let plain =
            !(m.re || m.cased || m.windash || m.base64.is_some() || anchor == Anchor::Contains);
        let literal = |v: &String| v.is_ascii() && !v.contains(['*', '?', '\\']);
        (plain && values.iter().all(literal)).then(|| AsciiLiterals {
            anchor,
            literals: values
                .iter()
                .map(|v| v.to_ascii_lowercase().into_bytes().into_boxed_slice())
                .collect(),
        })
    }

    fn matches(&self, text: &[u8]) -> bool {
        self.literals.iter().any(|lit| {
            let n = lit.len();
            match self.anchor {
                Anchor::Exact => text.eq_ignore_ascii_case(lit),
                Anchor::StartsWith => text.get(..n).is_some_and(|t| t.eq_ignore_ascii_case(lit)),
                Anchor::EndsWith => text
                    .len()
                    .checked_sub(n)
                    .is_some_and(|at| text[at..].eq_ignore_ascii_case(lit)),
                Anchor::Contains => false,
            }
        })
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Cmp {
    Lt,
    Lte,
    Gt,
    Gte,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Anchor {
    Exact,
    Contains,
    StartsWith,
    EndsWith,
}

/// The parsed modifier chain.
#[derive(Debug, Default)]
struct Mods {
    anchor: Option<Anchor>,
    all: bool,
    re: bool,
    re_flags: String,
    cased: bool,
    cidr: bool,
    exists: bool,
    cmp: Option<Cmp>,
    base64: Option<bool>, // Some(offset)
    utf16: Option<Utf16>,
    windash: bool,
    expand: bool,
}

#[derive(Clone, Copy, Debug)]
enum Utf16 {
    Le,
    Be,
}

impl FieldTest {
    /// Compiles `key` (`Field|mod|...`) with its YAML value.
    pub fn compile(key: &str, value: &Node) -> Result<FieldTest, RuleError> {
        let mut parts = key.split('|');
        let field = parts.next().unwrap_or_default().trim().to_string();
        if field.is_empty() {
            return Err(RuleError::unsupported(format!(
                "'{key}': a keyword search with modifiers (no field name)"
            )));
        }
        let mods = parse_mods(key, parts)?;
        let values: Vec<&Node> = match &value.kind {
            Kind::Seq(items) => items.iter().collect(),
            Kind::Scalar(_) => vec![value],
            Kind::Map(_) => {
                return Err(RuleError::invalid(format!(
                    "the value of '{key}' is a mapping; expected a value or a list"
                )))
            }
        };
        if values.is_empty() {
            return Err(RuleError::invalid(format!(
                "'{key}' has an empty list of values"
            )));
        }
        let mut scalars = Vec::with_capacity(values.len());
        for node in values {
            match node.as_scalar() {
                Some(s) => scalars.push(s),
                None => {
                    return Err(RuleError::invalid(format!(
                        "line {}: a value of '{key}' is a list or mapping",
                        node.line
                    )))
                }
            }
        }
        if mods.exists {
            return match scalars.as_slice() {
                [Scalar::Bool(b)] => Ok(FieldTest {
                    field,
                    check: Check::Exists(*b),
                    costly: false,
                }),
                _ => Err(RuleError::invalid(format!("'{key}' needs true or false"))),
            };
        }
        let (tests, costly) = compile_values(key, &mods, &scalars)?;
        Ok(FieldTest {
            field,
            check: Check::Values {
                tests,
                all: mods.all,
            },
            costly,
        })
    }

    /// Whether the event passes this test.
    pub fn matches(&self, event: &Event<'_>) -> bool {
        match &self.check {
            Check::Exists(want) => event.visit_field(&self.field, &mut |_| true).found == *want,
            Check::Values { tests, all: false } => {
                let seen = event.visit_field(&self.field, &mut |leaf| {
                    tests.iter().any(|t| t.matches(&leaf))
                });
                seen.matched || (!seen.found && tests.iter().any(|t| matches!(t, Test::Null)))
            }
            Check::Values { tests, all: true } => tests.iter().all(|t| {
                let seen = event.visit_field(&self.field, &mut |leaf| t.matches(&leaf));
                seen.matched || (!seen.found && matches!(t, Test::Null))
            }),
        }
    }
}

impl Test {
    fn matches(&self, leaf: &Leaf<'_>) -> bool {
        match self {
            Test::Text { regex, ascii } => leaf
                .with_text(|s| match ascii {
                    Some(lits) if s.is_ascii() => lits.matches(s.as_bytes()),
                    _ => regex.is_match(s),
                })
                .unwrap_or(false),
            Test::Null => matches!(leaf, Leaf::Null),
            Test::Cmp(cmp, want) => leaf.as_f64().is_some_and(|got| match cmp {
                Cmp::Lt => got < *want,
                Cmp::Lte => got <= *want,
                Cmp::Gt => got > *want,
                Cmp::Gte => got >= *want,
            }),
            Test::Cidr(nets) => match leaf {
                Leaf::Str(s) => parse_ip(s).is_some_and(|ip| nets.iter().any(|n| in_net(ip, *n))),
                _ => false,
            },
        }
    }
}

fn parse_mods<'k>(key: &str, parts: impl Iterator<Item = &'k str>) -> Result<Mods, RuleError> {
    let mut m = Mods::default();
    let set_anchor = |m: &mut Mods, a: Anchor| {
        if m.anchor.is_some_and(|old| old != a) {
            return Err(RuleError::invalid(format!(
                "'{key}': two of contains/startswith/endswith"
            )));
        }
        m.anchor = Some(a);
        Ok(())
    };
    for raw in parts {
        let name = raw.trim();
        match name {
            "contains" => set_anchor(&mut m, Anchor::Contains)?,
            "startswith" => set_anchor(&mut m, Anchor::StartsWith)?,
            "endswith" => set_anchor(&mut m, Anchor::EndsWith)?,
            "all" => m.all = true,
            "re" => m.re = true,
            "i" | "m" | "s" if m.re => m.re_flags.push_str(name),
            "cased" => m.cased = true,
            "cidr" => m.cidr = true,
            "exists" => m.exists = true,
            "lt" => m.cmp = Some(Cmp::Lt),
            "lte" => m.cmp = Some(Cmp::Lte),
            "gt" => m.cmp = Some(Cmp::Gt),
            "gte" => m.cmp = Some(Cmp::Gte),
            "base64" => m.base64 = Some(false),
            "base64offset" => m.base64 = Some(true),
            "wide" | "utf16le" => m.utf16 = Some(Utf16::Le),
            "utf16be" => m.utf16 = Some(Utf16::Be),
            "utf16" => m.utf16 = Some(Utf16::Le),
            "windash" => m.windash = true,
            "expand" => m.expand = true,
            "fieldref" => {
                return Err(RuleError::unsupported(format!(
                    "'{key}': |fieldref (compare two fields) is not supported"
                )))
            }
            other => {
                return Err(RuleError::unsupported(format!(
                    "'{key}': unknown modifier '{other}'"
                )))
            }
        }
    }
    let kinds = [m.re, m.cidr, m.exists, m.cmp.is_some(), m.base64.is_some()]
        .iter()
        .filter(|&&b| b)
        .count();
    if kinds > 1 || (m.re && m.anchor.is_some()) || (m.exists && (m.all || m.anchor.is_some())) {
        return Err(RuleError::invalid(format!(
            "'{key}': modifiers that cannot be combined"
        )));
    }
    if m.utf16.is_some() && m.base64.is_none() {
        return Err(RuleError::unsupported(format!(
            "'{key}': wide/utf16 only with base64 or base64offset"
        )));
    }
    Ok(m)
}

/// Compiles the values of one test; also says whether it compares objects as text.
fn compile_values(key: &str, m: &Mods, values: &[&Scalar]) -> Result<(Vec<Test>, bool), RuleError> {
    let mut tests = Vec::new();
    // Regex fragments per value; combined into one regex unless `|all`.
    let mut fragments: Vec<Vec<String>> = Vec::new();
    let mut texts: Vec<String> = Vec::new();
    for value in values {
        if let Scalar::Null = value {
            tests.push(Test::Null);
            continue;
        }
        let text = value.text().unwrap_or_default();
        if let Some(cmp) = m.cmp {
            let n = match value {
                Scalar::Int(i) => *i as f64,
                Scalar::Float(f, _) => *f,
                _ => text.trim().parse().map_err(|_| {
                    RuleError::invalid(format!("'{key}': '{text}' is not a number"))
                })?,
            };
            tests.push(Test::Cmp(cmp, n));
            continue;
        }
        if m.cidr {
            let nets = parse_cidr(&text).ok_or_else(|| {
                RuleError::invalid(format!("'{key}': '{text}' is not a CIDR network"))
            })?;
            tests.push(Test::Cidr(vec![nets]));
            continue;
        }
        if m.expand {
            let name = placeholder(&text).unwrap_or(&text);
            return Err(RuleError::unsupported(format!(
                "'{key}': placeholder {name} needs its value from a pySigma pipeline \
                 configuration; mbxaudit cannot resolve it offline"
            )));
        }
        fragments.push(value_fragments(key, m, &text)?);
        texts.push(text);
    }
    let costly = !fragments.is_empty()
        && COMPOSITE_FIELDS
            .iter()
            .any(|f| f.eq_ignore_ascii_case(key.split('|').next().unwrap_or_default().trim()));
    if m.all {
        for (alts, text) in fragments.iter().zip(&texts) {
            tests.push(Test::Text {
                regex: build(key, alts)?,
                ascii: AsciiLiterals::new(m, std::slice::from_ref(text)),
            });
        }
    } else if !fragments.is_empty() {
        let alts: Vec<String> = fragments.into_iter().flatten().collect();
        tests.push(Test::Text {
            regex: build(key, &alts)?,
            ascii: AsciiLiterals::new(m, &texts),
        });
    }
    Ok((tests, costly))
}

/// The regex alternatives that one value stands for.
fn value_fragments(key: &str, m: &Mods, text: &str) -> Result<Vec<String>, RuleError> {
    let case = if m.cased { "" } else { "i" };
    if m.re {
        Regex::new(text).map_err(|e| {
            RuleError::unsupported(format!("'{key}': regular expression {text:?}: {e}"))
        })?;
        let flags = &m.re_flags;
        return Ok(vec![if flags.is_empty() {
            format!("(?:{text})")
        } else {
            format!("(?{flags}:{text})")
        }]);
    }
    let anchor = m.anchor.unwrap_or(Anchor::Exact);
    if let Some(offset) = m.base64 {
        let bytes = match m.utf16 {
            None => text.as_bytes().to_vec(),
            Some(Utf16::Le) => text.encode_utf16().flat_map(u16::to_le_bytes).collect(),
            Some(Utf16::Be) => text.encode_utf16().flat_map(u16::to_be_bytes).collect(),
        };
        let encoded = if offset {
            base64_offsets(&bytes)
        } else {
            vec![base64::encode(&bytes)]
        };
        return Ok(encoded
            .iter()
            .map(|e| anchored(&regex::escape(e), anchor, case))
            .collect());
    }
    let variants = if m.windash {
        windash(text).ok_or_else(|| {
            RuleError::unsupported(format!(
                "'{key}': |windash on {text:?} gives too many variants"
            ))
        })?
    } else {
        vec![text.to_string()]
    };
    Ok(variants
        .iter()
        .map(|v| anchored(&wildcards(v), anchor, case))
        .collect())
}

fn anchored(body: &str, anchor: Anchor, case: &str) -> String {
    let body = match anchor {
        Anchor::Exact => format!(r"\A(?:{body})\z"),
        Anchor::Contains => body.to_string(),
        Anchor::StartsWith => format!(r"\A(?:{body})"),
        Anchor::EndsWith => format!(r"(?:{body})\z"),
    };
    format!("(?s{case}:{body})")
}

fn build(key: &str, alternatives: &[String]) -> Result<Regex, RuleError> {
    RegexBuilder::new(&alternatives.join("|"))
        .size_limit(REGEX_SIZE_LIMIT)
        .build()
        .map_err(|e| RuleError::unsupported(format!("'{key}': cannot compile the values: {e}")))
}

/// A Sigma value with `*` and `?` wildcards (`\*`, `\?`, `\\` escaped) as a regex.
pub fn wildcards(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 8);
    let mut chars = value.chars().peekable();
    let mut lit = [0u8; 4];
    while let Some(c) = chars.next() {
        match c {
            '*' => out.push_str(".*"),
            '?' => out.push('.'),
            '\\' => match chars.peek() {
                Some(&next @ ('*' | '?' | '\\')) => {
                    chars.next();
                    out.push_str(&regex::escape(next.encode_utf8(&mut lit)));
                }
                _ => out.push_str(r"\\"),
            },
            _ => out.push_str(&regex::escape(c.encode_utf8(&mut lit))),
        }
    }
    out
}

/// `%name%` in a value: a pipeline placeholder.
fn placeholder(text: &str) -> Option<&str> {
    let start = text.find('%')?;
    let len = text[start + 1..].find('%')?;
    let name = &text[start..start + len + 2];
    let inner = &name[1..name.len() - 1];
    (!inner.is_empty()
        && inner
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_'))
    .then_some(name)
}

/// The three forms `base64offset` looks for: the value's encoding at each byte offset
/// modulo 3, cut to the characters that do not depend on its neighbours (as pySigma).
pub fn base64_offsets(bytes: &[u8]) -> Vec<String> {
    const START: [usize; 3] = [0, 2, 3];
    const END_TRIM: [usize; 3] = [0, 3, 2];
    (0..3)
        .map(|i| {
            let mut shifted = vec![b' '; i];
            shifted.extend_from_slice(bytes);
            let enc = base64::encode(&shifted);
            let end = enc.len().saturating_sub(END_TRIM[(bytes.len() + i) % 3]);
            enc.get(START[i]..end).unwrap_or("").to_string()
        })
        .collect()
}

/// `windash`: every `-` or `/` that starts a word, as each of `-`, `/`, en dash, em dash
/// and horizontal bar (as pySigma); `None` when that makes too many variants.
pub fn windash(value: &str) -> Option<Vec<String>> {
    const DASHES: [char; 5] = ['-', '/', '\u{2013}', '\u{2014}', '\u{2015}'];
    let chars: Vec<char> = value.chars().collect();
    let word = |c: Option<&char>| c.is_some_and(|c| c.is_alphanumeric() || *c == '_');
    let spots: Vec<usize> = (0..chars.len())
        .filter(|&i| {
            matches!(chars[i], '-' | '/')
                && !word(i.checked_sub(1).and_then(|p| chars.get(p)))
                && word(chars.get(i + 1))
        })
        .collect();
    let count = DASHES.len().checked_pow(u32::try_from(spots.len()).ok()?)?;
    if count > MAX_WINDASH_VARIANTS {
        return None;
    }
    let mut out = Vec::with_capacity(count);
    for n in 0..count {
        let mut v = chars.clone();
        let mut rest = n;
        for &spot in &spots {
            v[spot] = DASHES[rest % DASHES.len()];
            rest /= DASHES.len();
        }
        out.push(v.into_iter().collect());
    }
    Some(out)
}

fn parse_cidr(text: &str) -> Option<(IpAddr, u8)> {
    let (addr, len) = match text.trim().split_once('/') {
        Some((a, l)) => (a.parse::<IpAddr>().ok()?, l.parse::<u8>().ok()?),
        None => {
            let a = text.trim().parse::<IpAddr>().ok()?;
            (a, if a.is_ipv4() { 32 } else { 128 })
        }
    };
    let max = if addr.is_ipv4() { 32 } else { 128 };
    (len <= max).then_some((addr, len))
}

/// An address as UAL writes it: `1.2.3.4`, `1.2.3.4:5678`, `::1`, `[::1]:5678`.
fn parse_ip(text: &str) -> Option<IpAddr> {
    let t = text.trim();
    if let Ok(ip) = t.parse() {
        return Some(ip);
    }
    if let Some(rest) = t.strip_prefix('[') {
        return rest.split_once(']')?.0.parse().ok();
    }
    let (host, port) = t.rsplit_once(':')?;
    port.parse::<u16>().ok()?;
    host.parse::<std::net::Ipv4Addr>().ok().map(IpAddr::V4)
}

fn in_net(ip: IpAddr, (net, len): (IpAddr, u8)) -> bool {
    let bits = |ip: IpAddr| -> Option<(u128, u32)> {
        match ip {
            IpAddr::V4(v4) => Some((u128::from(u32::from(v4)), 32)),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) if net.is_ipv4() => Some((u128::from(u32::from(v4)), 32)),
                _ => Some((u128::from(v6), 128)),
            },
        }
    };
    let (Some((a, width_a)), Some((n, width_n))) = (bits(ip), bits(net)) else {
        return false;
    };
    if width_a != width_n {
        return false;
    }
    let shift = width_n - u32::from(len);
    shift >= 128 || (a >> shift) == (n >> shift)
}

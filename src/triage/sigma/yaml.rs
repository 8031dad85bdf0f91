//! YAML text → a small tree of [`Node`]s that remembers the line of every node.
//!
//! Sigma rules are YAML, and the rules that users bring are often hand-edited: the errors
//! must say where (`line 23: key 'OperationProperties.Value|contains' repeated`). We drive
//! `saphyr-parser`'s event stream ourselves instead of using a serde loader so that
//!
//! - a repeated key is an error naming the key and both lines (YAML forbids it; PyYAML,
//!   which pySigma uses, silently keeps the last one, which would drop half a selection);
//! - nesting is bounded ([`MAX_DEPTH`]) so hostile input cannot exhaust the stack later;
//! - aliases are refused (no rule needs them, and expanding them is how YAML bombs work);
//! - plain scalars are typed by the YAML 1.2 core schema (`2` is a number, `true` a
//!   boolean, `~` null), quoted ones stay strings (`'False'`).

use saphyr_parser::{Event, Parser, ScalarStyle};

/// Deepest nesting of mappings and sequences accepted. Sigma rules use 5 or 6 levels.
pub const MAX_DEPTH: usize = 32;

/// One YAML value and the line (1-based) where it starts.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub line: usize,
    pub kind: Kind,
}

/// What a node holds.
#[derive(Clone, Debug, PartialEq)]
pub enum Kind {
    Scalar(Scalar),
    Seq(Vec<Node>),
    /// Entries in file order; keys are unique.
    Map(Vec<Entry>),
}

/// A mapping entry: a scalar key (as text) and its value.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    pub key: String,
    pub key_line: usize,
    pub value: Node,
}

/// A scalar as typed by the YAML 1.2 core schema.
#[derive(Clone, Debug, PartialEq)]
pub enum Scalar {
    Null,
    Bool(bool),
    Int(i64),
    /// Kept with its text, so `1.50` stays `1.50` when compared as text.
    Float(f64, String),
    Str(String),
}

/// Why a text is not a YAML document we can use.
#[derive(Clone, Debug, PartialEq)]
pub struct YamlError {
    pub line: usize,
    pub message: String,
    /// Valid YAML that uses a feature we refuse (aliases): "unsupported", not "invalid".
    pub unsupported: bool,
}

impl std::fmt::Display for YamlError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

impl Node {
    /// The entries when this node is a mapping.
    pub fn as_map(&self) -> Option<&[Entry]> {
        match &self.kind {
            Kind::Map(entries) => Some(entries),
            _ => None,
        }
    }

    /// The value of `key` when this node is a mapping holding it.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.as_map()?
            .iter()
            .find(|e| e.key == key)
            .map(|e| &e.value)
    }

    /// The scalar when this node is one.
    pub fn as_scalar(&self) -> Option<&Scalar> {
        match &self.kind {
            Kind::Scalar(s) => Some(s),
            _ => None,
        }
    }

    /// The text of a string, number or boolean scalar (not of null).
    pub fn as_text(&self) -> Option<String> {
        self.as_scalar().and_then(Scalar::text)
    }
}

impl Scalar {
    /// The scalar as text, as a rule author would read it; `None` for null.
    pub fn text(&self) -> Option<String> {
        match self {
            Scalar::Null => None,
            Scalar::Bool(b) => Some(b.to_string()),
            Scalar::Int(i) => Some(i.to_string()),
            Scalar::Float(_, text) => Some(text.clone()),
            Scalar::Str(s) => Some(s.clone()),
        }
    }
}

/// Parses every document of a YAML stream (`---` separated).
pub fn parse_documents(text: &str) -> Result<Vec<Node>, YamlError> {
    let mut parser = Parser::new_from_str(text);
    let mut builder = Builder::default();
    while let Some(event) = parser.next_event() {
        let (event, span) = event.map_err(|e| YamlError {
            line: e.marker().line(),
            message: e.info().to_string(),
            unsupported: false,
        })?;
        builder.on_event(event, span.start.line())?;
    }
    Ok(builder.docs)
}

/// A container being filled.
enum Open {
    Seq(Node),
    /// The mapping so far and the key waiting for its value.
    Map(Node, Option<(String, usize)>),
}

#[derive(Default)]
struct Builder {
    docs: Vec<Node>,
    stack: Vec<Open>,
}

impl Builder {
    fn on_event(&mut self, event: Event<'_>, line: usize) -> Result<(), YamlError> {
        match event {
            Event::Scalar(value, style, _, tag) => {
                let plain = style == ScalarStyle::Plain
                    && tag
                        .as_ref()
                        .is_none_or(|t| !(t.is_yaml_core_schema() && t.suffix == "str"));
                let scalar = if plain {
                    typed(&value)
                } else {
                    Scalar::Str(value.into_owned())
                };
                self.add(Node {
                    line,
                    kind: Kind::Scalar(scalar),
                })
            }
            Event::SequenceStart(..) => self.open(Open::Seq(Node {
                line,
                kind: Kind::Seq(Vec::new()),
            })),
            Event::MappingStart(..) => self.open(Open::Map(
                Node {
                    line,
                    kind: Kind::Map(Vec::new()),
                },
                None,
            )),
            Event::SequenceEnd | Event::MappingEnd => match self.stack.pop() {
                Some(Open::Seq(node)) | Some(Open::Map(node, None)) => self.add(node),
                Some(Open::Map(node, Some((key, _)))) => Err(YamlError {
                    line: node.line,
                    message: format!("key '{key}' has no value"),
                    unsupported: false,
                }),
                None => Err(YamlError {
                    line,
                    message: "unbalanced end of a mapping or sequence".into(),
                    unsupported: false,
                }),
            },
            Event::Alias(_) => Err(YamlError {
                line,
                message: "YAML aliases (*name) are not supported in Sigma rules".into(),
                unsupported: true,
            }),
            Event::Nothing
            | Event::StreamStart
            | Event::StreamEnd
            | Event::DocumentStart(_)
            | Event::DocumentEnd => Ok(()),
        }
    }

    fn open(&mut self, container: Open) -> Result<(), YamlError> {
        if self.stack.len() >= MAX_DEPTH {
            let line = match &container {
                Open::Seq(n) | Open::Map(n, _) => n.line,
            };
            return Err(YamlError {
                line,
                message: format!("nested more than {MAX_DEPTH} levels deep"),
                unsupported: false,
            });
        }
        self.stack.push(container);
        Ok(())
    }

    /// Puts a finished node into the open container, or makes it a document.
    fn add(&mut self, node: Node) -> Result<(), YamlError> {
        match self.stack.last_mut() {
            None => {
                self.docs.push(node);
                Ok(())
            }
            Some(Open::Seq(seq)) => {
                if let Kind::Seq(items) = &mut seq.kind {
                    items.push(node);
                }
                Ok(())
            }
            Some(Open::Map(map, pending)) => match pending.take() {
                None => {
                    let key = match node.kind {
                        Kind::Scalar(s) => s.text().unwrap_or_default(),
                        Kind::Seq(_) | Kind::Map(_) => {
                            return Err(YamlError {
                                line: node.line,
                                message:
                                    "a mapping key must be a plain value, not a list or mapping"
                                        .into(),
                                unsupported: false,
                            })
                        }
                    };
                    *pending = Some((key, node.line));
                    Ok(())
                }
                Some((key, key_line)) => {
                    if let Kind::Map(entries) = &mut map.kind {
                        if let Some(first) = entries.iter().find(|e| e.key == key) {
                            return Err(YamlError {
                                line: key_line,
                                message: format!(
                                    "key '{key}' repeated (first on line {}); YAML forbids \
                                     it and tools disagree on which value wins",
                                    first.key_line
                                ),
                                unsupported: false,
                            });
                        }
                        entries.push(Entry {
                            key,
                            key_line,
                            value: node,
                        });
                    }
                    Ok(())
                }
            },
        }
    }
}

/// Types a plain scalar by the YAML 1.2 core schema.
fn typed(text: &str) -> Scalar {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Scalar::Null,
        "true" | "True" | "TRUE" => return Scalar::Bool(true),
        "false" | "False" | "FALSE" => return Scalar::Bool(false),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" | "-.inf" | "-.Inf" | "-.INF"
        | ".nan" | ".NaN" | ".NAN" => return Scalar::Str(text.to_string()),
        _ => {}
    }
    if let Some(hex) = text.strip_prefix("0x") {
        if let Ok(i) = i64::from_str_radix(hex, 16) {
            return Scalar::Int(i);
        }
    }
    if let Some(oct) = text.strip_prefix("0o") {
        if let Ok(i) = i64::from_str_radix(oct, 8) {
            return Scalar::Int(i);
        }
    }
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        if let Ok(i) = text.parse::<i64>() {
            return Scalar::Int(i);
        }
    }
    let float_like = !digits.is_empty()
        && digits
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'-' | b'+'))
        && digits.bytes().any(|b| b.is_ascii_digit());
    if float_like {
        if let Ok(f) = text.parse::<f64>() {
            return Scalar::Float(f, text.to_string());
        }
    }
    Scalar::Str(text.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(text: &str) -> Node {
        match parse_documents(text) {
            Ok(mut docs) if docs.len() == 1 => docs.remove(0),
            other => panic!("expected one document, got {other:?}"),
        }
    }

    #[test]
    fn types_plain_scalars_by_the_core_schema() {
        let doc = one("a: 2\nb: '2'\nc: true\nd: ~\ne: 1.50\nf: 0x1F\ng: 2024-02-05\nh:\n");
        let get = |k: &str| doc.get(k).and_then(Node::as_scalar).cloned();
        assert_eq!(get("a"), Some(Scalar::Int(2)));
        assert_eq!(get("b"), Some(Scalar::Str("2".into())));
        assert_eq!(get("c"), Some(Scalar::Bool(true)));
        assert_eq!(get("d"), Some(Scalar::Null));
        assert_eq!(get("e"), Some(Scalar::Float(1.5, "1.50".into())));
        assert_eq!(get("f"), Some(Scalar::Int(31)));
        assert_eq!(get("g"), Some(Scalar::Str("2024-02-05".into())));
        assert_eq!(get("h"), Some(Scalar::Null));
    }

    #[test]
    fn repeated_key_names_both_lines() {
        let err = parse_documents("a:\n  x: 1\n  y: 2\n  x: 3\n").unwrap_err();
        assert_eq!(err.line, 4);
        assert!(
            err.message.contains("'x' repeated (first on line 2)"),
            "{err}"
        );
    }

    #[test]
    fn keeps_lines_and_order() {
        let doc = one("# c\ntitle: t\ndetection:\n  sel:\n    - a\n    - b\n");
        let det = doc.get("detection").unwrap();
        assert_eq!(det.line, 4);
        let sel = det.get("sel").unwrap();
        match &sel.kind {
            Kind::Seq(items) => {
                assert_eq!(items.iter().map(|n| n.line).collect::<Vec<_>>(), [5, 6])
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn bounds_depth_and_refuses_aliases() {
        let deep = "[".repeat(MAX_DEPTH + 1) + &"]".repeat(MAX_DEPTH + 1);
        assert!(parse_documents(&deep)
            .unwrap_err()
            .message
            .contains("nested"));
        let ok = "[".repeat(MAX_DEPTH) + &"]".repeat(MAX_DEPTH);
        assert!(parse_documents(&ok).is_ok());
        let alias = parse_documents("a: &x 1\nb: *x\n").unwrap_err();
        assert!(alias.unsupported);
    }

    #[test]
    fn splits_documents() {
        let docs = parse_documents("a: 1\n---\nb: 2\n").unwrap();
        assert_eq!(docs.len(), 2);
    }
}

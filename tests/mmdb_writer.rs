//! A small MaxMind DB (`.mmdb`) writer for tests: enrichment is tested on databases the
//! tests build themselves, never on downloaded files.
//!
//! It writes the format as documented in the MaxMind DB File Format Specification 2.0:
//! a binary search tree (24-, 28- or 32-bit records), 16 zero bytes, the data section,
//! the `\xAB\xCD\xEFMaxMind.com` marker and the metadata map. It is deliberately plain
//! (no pointer sharing, every record stored once per insert) and lets tests choose
//! where IPv4 networks live in an IPv6 tree: under `::/96` with `::ffff:0:0/96` aliased
//! to it (as GeoLite2 files do), or only under `::ffff:0:0/96`.
//!
//! Used by the unit tests of `src/enrich` (through `#[path]`); integration tests may
//! `mod mmdb_writer;` it too.

#![allow(dead_code)]

use std::net::IpAddr;

/// A value in the data section.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Str(String),
    Double(f64),
    Bytes(Vec<u8>),
    U16(u16),
    U32(u32),
    Map(Vec<(String, Value)>),
    I32(i32),
    U64(u64),
    U128(u128),
    Array(Vec<Value>),
    Bool(bool),
    Float(f32),
}

/// A UTF-8 string value.
pub fn s(text: &str) -> Value {
    Value::Str(text.to_string())
}

/// A map value from `(key, value)` pairs, in order.
pub fn map(pairs: &[(&str, Value)]) -> Value {
    Value::Map(
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect(),
    )
}

/// Where IPv4 networks go in an IPv6 tree.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum V4Layout {
    /// Under `::/96`, with `::ffff:0:0/96` pointing at the same subtree (GeoLite2).
    Geolite2,
    /// Only under `::ffff:0:0/96`.
    MappedOnly,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Child {
    Empty,
    Node(usize),
    Data(usize),
}

pub struct MmdbWriter {
    pub database_type: String,
    pub ip_version: u16,
    pub build_epoch: u64,
    /// 24, 28 or 32; `None` picks the smallest that fits.
    pub record_size: Option<u16>,
    pub layout: V4Layout,
    entries: Vec<(u128, u8, Value)>,
}

impl MmdbWriter {
    pub fn new(database_type: &str, ip_version: u16) -> MmdbWriter {
        MmdbWriter {
            database_type: database_type.to_string(),
            ip_version,
            build_epoch: 1_700_000_000,
            record_size: None,
            layout: V4Layout::Geolite2,
            entries: Vec::new(),
        }
    }

    /// Adds `network` (`203.0.113.0/24`, `2001:db8::/32`, or one address). A more
    /// specific network overrides a broader one whatever the insertion order.
    pub fn insert(&mut self, network: &str, value: Value) -> &mut MmdbWriter {
        let (addr, len) = match network.split_once('/') {
            Some((a, l)) => (a, l.parse::<u8>().expect("prefix length")),
            None => (network, u8::MAX),
        };
        let addr: IpAddr = addr.parse().expect("network address");
        match addr {
            IpAddr::V4(v4) => {
                let len = len.min(32);
                let bits = u32::from(v4);
                if self.ip_version == 4 {
                    self.entries.push((u128::from(bits) << 96, len, value));
                } else {
                    let base = match self.layout {
                        V4Layout::Geolite2 => 0,
                        V4Layout::MappedOnly => 0xffff_u128 << 32,
                    };
                    self.entries
                        .push((base | u128::from(bits), 96 + len, value));
                }
            }
            IpAddr::V6(v6) => {
                assert_eq!(self.ip_version, 6, "IPv6 network in an IPv4 database");
                self.entries.push((u128::from(v6), len.min(128), value));
            }
        }
        self
    }

    /// The database file's bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        // Broader networks first, so that narrower ones split them.
        let mut entries: Vec<&(u128, u8, Value)> = self.entries.iter().collect();
        entries.sort_by_key(|e| e.1);

        let mut nodes: Vec<[Child; 2]> = vec![[Child::Empty; 2]];
        let mut data = Vec::new();
        let mut offsets = Vec::new();
        for (bits, len, value) in entries {
            offsets.push(data.len());
            encode(value, &mut data);
            let id = offsets.len() - 1;
            let mut node = 0;
            for i in 0..*len {
                let bit = bit_at(*bits, i);
                if i + 1 == *len {
                    nodes[node][bit] = Child::Data(id);
                    break;
                }
                node = match nodes[node][bit] {
                    Child::Node(n) => n,
                    other => {
                        // Empty, or a broader network's data: push it down both ways.
                        nodes.push([other; 2]);
                        let n = nodes.len() - 1;
                        nodes[node][bit] = Child::Node(n);
                        n
                    }
                };
            }
        }
        if self.ip_version == 6 && self.layout == V4Layout::Geolite2 {
            alias_mapped_to_compat(&mut nodes);
        }

        let node_count = nodes.len();
        let max = node_count + 16 + data.len();
        let record_size = self.record_size.unwrap_or(if max < 1 << 24 {
            24
        } else if max < 1 << 28 {
            28
        } else {
            32
        });
        let value_of = |c: Child| -> u32 {
            let v = match c {
                Child::Empty => node_count,
                Child::Node(n) => n,
                Child::Data(id) => node_count + 16 + offsets[id],
            };
            u32::try_from(v).expect("record fits")
        };
        let mut out = Vec::new();
        for [l, r] in &nodes {
            let (l, r) = (value_of(*l), value_of(*r));
            match record_size {
                24 => {
                    out.extend_from_slice(&l.to_be_bytes()[1..]);
                    out.extend_from_slice(&r.to_be_bytes()[1..]);
                }
                28 => {
                    out.extend_from_slice(&l.to_be_bytes()[1..]);
                    out.push((((l >> 24) & 0x0f) << 4) as u8 | ((r >> 24) & 0x0f) as u8);
                    out.extend_from_slice(&r.to_be_bytes()[1..]);
                }
                32 => {
                    out.extend_from_slice(&l.to_be_bytes());
                    out.extend_from_slice(&r.to_be_bytes());
                }
                other => panic!("record size {other}"),
            }
        }
        out.extend_from_slice(&[0; 16]);
        out.extend_from_slice(&data);
        out.extend_from_slice(b"\xAB\xCD\xEFMaxMind.com");
        let metadata = map(&[
            ("binary_format_major_version", Value::U16(2)),
            ("binary_format_minor_version", Value::U16(0)),
            ("build_epoch", Value::U64(self.build_epoch)),
            ("database_type", s(&self.database_type)),
            ("description", map(&[("en", s("mbxaudit test database"))])),
            ("ip_version", Value::U16(self.ip_version)),
            ("languages", Value::Array(vec![s("en")])),
            ("node_count", Value::U32(node_count as u32)),
            ("record_size", Value::U16(record_size)),
        ]);
        encode(&metadata, &mut out);
        out
    }
}

/// Bit `i` (0 = most significant) of an address kept in the top bits of a u128 (IPv4
/// databases store `a.b.c.d` shifted up by 96).
fn bit_at(bits: u128, i: u8) -> usize {
    ((bits >> (127 - u32::from(i))) & 1) as usize
}

/// Points `::ffff:0:0/96` at the `::/96` subtree, as GeoLite2 files do.
fn alias_mapped_to_compat(nodes: &mut Vec<[Child; 2]>) {
    let mut node = 0;
    for _ in 0..96 {
        match nodes[node][0] {
            Child::Node(n) => node = n,
            _ => return, // no IPv4 networks
        }
    }
    let v4_root = node;
    let mut node = 0;
    for i in 0..95u8 {
        let bit = usize::from(i >= 80);
        node = match nodes[node][bit] {
            Child::Node(n) => n,
            _ => {
                nodes.push([Child::Empty; 2]);
                let n = nodes.len() - 1;
                nodes[node][bit] = Child::Node(n);
                n
            }
        };
    }
    nodes[node][1] = Child::Node(v4_root);
}

fn control(out: &mut Vec<u8>, kind: u8, size: usize) {
    let (type_bits, extended) = if kind <= 7 {
        (kind, None)
    } else {
        (0, Some(kind - 7))
    };
    let (size_bits, extra): (u8, Vec<u8>) = if size < 29 {
        (size as u8, vec![])
    } else if size < 29 + 256 {
        (29, vec![(size - 29) as u8])
    } else if size < 285 + 65536 {
        (30, ((size - 285) as u16).to_be_bytes().to_vec())
    } else {
        (31, ((size - 65821) as u32).to_be_bytes()[1..].to_vec())
    };
    out.push(type_bits << 5 | size_bits);
    out.extend(extended);
    out.extend(extra);
}

fn uint(out: &mut Vec<u8>, kind: u8, bytes: &[u8]) {
    let first = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
    control(out, kind, bytes.len() - first);
    out.extend_from_slice(&bytes[first..]);
}

/// Appends one value in the data-section encoding.
pub fn encode(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Str(t) => {
            control(out, 2, t.len());
            out.extend_from_slice(t.as_bytes());
        }
        Value::Double(d) => {
            control(out, 3, 8);
            out.extend_from_slice(&d.to_be_bytes());
        }
        Value::Bytes(b) => {
            control(out, 4, b.len());
            out.extend_from_slice(b);
        }
        Value::U16(n) => uint(out, 5, &n.to_be_bytes()),
        Value::U32(n) => uint(out, 6, &n.to_be_bytes()),
        Value::Map(pairs) => {
            control(out, 7, pairs.len());
            for (k, v) in pairs {
                encode(&Value::Str(k.clone()), out);
                encode(v, out);
            }
        }
        Value::I32(n) => {
            control(out, 8, 4);
            out.extend_from_slice(&n.to_be_bytes());
        }
        Value::U64(n) => uint(out, 9, &n.to_be_bytes()),
        Value::U128(n) => uint(out, 10, &n.to_be_bytes()),
        Value::Array(items) => {
            control(out, 11, items.len());
            for v in items {
                encode(v, out);
            }
        }
        Value::Bool(b) => control(out, 14, usize::from(*b)),
        Value::Float(f) => {
            control(out, 15, 4);
            out.extend_from_slice(&f.to_be_bytes());
        }
    }
}

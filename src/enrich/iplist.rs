//! `--ip-list FILE`: the networks and autonomous systems a responder wants flagged (known
//! VPN exits, hosting ranges, an attacker's ASN), each with a label.
//!
//! The file is CSV (UTF-8): each line a network (`203.0.113.0/24`, `2001:db8::/32`, a
//! single address) or an AS number (`AS64500` or `64500`), then an optional label
//! (quote it if it holds a comma). Blank lines and lines starting with `#` are skipped; a
//! first line whose first field is `network`, `asn`, `cidr`, `ip`, `indicator` or
//! `value` is a header. A line that cannot be read stops the load with the file, the
//! line and the value. If a network or ASN is listed twice, the first label counts.
//!
//! [`IpList::flag`]: the most specific listed network holding the address wins, then the
//! address's AS number.

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::Path;

use anyhow::{bail, Context, Result};

use super::mmdb::parse_asn;
use crate::ip::IpNet;

/// First fields that mark a header line.
const HEADER_WORDS: [&str; 7] = [
    "network",
    "network_or_asn",
    "asn",
    "cidr",
    "ip",
    "indicator",
    "value",
];

/// Flagged networks and AS numbers, each with its label.
#[derive(Clone, Debug, Default)]
pub struct IpList {
    /// Networks by prefix length (IPv6 space), longest first.
    nets: Vec<(u8, HashMap<IpNet, usize>)>,
    asns: HashMap<u32, usize>,
    labels: Vec<Box<str>>,
    /// The file's name, as given.
    name: String,
}

impl IpList {
    /// The file's name, as given.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Reads a list file; errors name the file and line.
    pub fn load(path: &Path) -> Result<IpList> {
        let bytes = std::fs::read(path)
            .with_context(|| format!("'{}': cannot read the IP list", path.display()))?;
        IpList::parse(&path.display().to_string(), &bytes)
    }

    /// Reads a list from its bytes; `name` is how errors name the file.
    pub fn parse(name: &str, bytes: &[u8]) -> Result<IpList> {
        let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .comment(Some(b'#'))
            .trim(csv::Trim::All)
            .from_reader(bytes);
        let mut list = IpList {
            name: name.to_string(),
            ..IpList::default()
        };
        let mut nets: HashMap<u8, HashMap<IpNet, usize>> = HashMap::new();
        let mut first = true;
        let mut record = csv::ByteRecord::new();
        loop {
            let line = reader.position().line();
            match reader.read_byte_record(&mut record) {
                Ok(true) => {}
                Ok(false) => break,
                Err(e) => {
                    let at = e.position().map_or(line, csv::Position::line);
                    bail!("{name}:{at}: cannot read this line as CSV ({e})");
                }
            }
            let line = record.position().map_or(line, csv::Position::line);
            let fields = record
                .iter()
                .map(std::str::from_utf8)
                .collect::<Result<Vec<&str>, _>>()
                .map_err(|_| {
                    anyhow::anyhow!("{name}:{line}: not UTF-8 text; save the list as UTF-8")
                })?;
            let value = fields.first().copied().unwrap_or_default();
            if fields.iter().all(|f| f.is_empty()) || value.starts_with('#') {
                continue;
            }
            let is_header = first && HEADER_WORDS.iter().any(|w| w.eq_ignore_ascii_case(value));
            first = false;
            if is_header {
                continue;
            }
            if fields.len() > 2 {
                bail!(
                    "{name}:{line}: {} fields where a network or AS number and a label were \
                     expected; quote a label that contains a comma",
                    fields.len()
                );
            }
            let label = match fields.get(1) {
                Some(l) if !l.is_empty() => *l,
                _ => value,
            };
            let index = list.labels.len();
            let added = if looks_like_asn(value) {
                let asn = parse_asn(value).ok_or_else(|| {
                    anyhow::anyhow!(
                        "{name}:{line}: '{value}' is not an AS number (AS0 to AS4294967295)"
                    )
                })?;
                list.asns.entry(asn).or_insert(index) == &index
            } else {
                let net = IpNet::parse(value).map_err(|e| {
                    anyhow::anyhow!(
                        "{name}:{line}: '{value}' is not a network, an address or an AS \
                         number ({e}); write 203.0.113.0/24, 2001:db8::/32, 203.0.113.7 or \
                         AS64500"
                    )
                })?;
                let by_len = nets.entry(net.prefix_len_v6()).or_default();
                by_len.entry(net).or_insert(index) == &index
            };
            if added {
                list.labels.push(label.into());
            }
        }
        list.nets = nets.into_iter().collect();
        list.nets.sort_by_key(|(len, _)| std::cmp::Reverse(*len));
        Ok(list)
    }

    /// The label of the most specific listed network holding `ip`, else of the listed
    /// AS number `asn`.
    pub fn flag(&self, ip: Option<IpAddr>, asn: Option<u32>) -> Option<&str> {
        let by_net = ip.and_then(|ip| {
            self.nets
                .iter()
                .find_map(|(len, nets)| nets.get(&IpNet::covering(ip, *len)))
        });
        by_net
            .or_else(|| asn.and_then(|a| self.asns.get(&a)))
            .map(|&i| &*self.labels[i])
    }

    /// Networks and AS numbers listed.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }
}

/// `AS…` or digits only: meant as an AS number (an address has dots or colons).
fn looks_like_asn(value: &str) -> bool {
    value.get(..2).is_some_and(|p| p.eq_ignore_ascii_case("as"))
        || (!value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ip(s: &str) -> Option<IpAddr> {
        Some(s.parse().expect("test address"))
    }

    const LIST: &str = "\u{feff}network,label\n\
        # hosting ranges\n\
        203.0.113.0/24,Hosting Co\n\
        \n\
        203.0.113.128/25 ,\"VPN exit, Berlin\"\n\
        203.0.113.7,the attacker\n\
        2001:db8::/32,lab v6\n\
        AS64500,Bulletproof AS\n\
        64501\n\
        as64502,  \n\
        203.0.113.0/24,listed twice\n\
        \x20\x20# indented comment\n";

    #[test]
    fn most_specific_network_then_asn() {
        let list = IpList::parse("list.csv", LIST.as_bytes()).expect("list");
        assert_eq!(list.len(), 7);
        assert_eq!(list.flag(ip("203.0.113.7"), None), Some("the attacker"));
        assert_eq!(
            list.flag(ip("::ffff:203.0.113.7"), None),
            Some("the attacker")
        );
        assert_eq!(
            list.flag(ip("203.0.113.200"), None),
            Some("VPN exit, Berlin")
        );
        assert_eq!(
            list.flag(ip("203.0.113.8"), Some(64500)),
            Some("Hosting Co")
        );
        assert_eq!(list.flag(ip("2001:db8:1::9"), None), Some("lab v6"));
        assert_eq!(
            list.flag(ip("198.51.100.1"), Some(64500)),
            Some("Bulletproof AS")
        );
        assert_eq!(
            list.flag(None, Some(64501)),
            Some("64501"),
            "the value is the label"
        );
        assert_eq!(list.flag(None, Some(64502)), Some("as64502"));
        assert_eq!(list.flag(ip("198.51.100.1"), Some(1)), None);
        assert_eq!(list.flag(None, None), None);
    }

    #[test]
    fn bad_lines_name_file_line_and_value() {
        let err = |text: &str| {
            IpList::parse("flags.csv", text.as_bytes())
                .expect_err(text)
                .to_string()
        };
        let e = err("# c\n203.0.113.0/24,ok\n10.11.12.300,bad\n");
        assert!(e.starts_with("flags.csv:3: '10.11.12.300'"), "{e}");
        let e = err("10.0.0.0/33,x\n");
        assert!(
            e.contains("flags.csv:1: '10.0.0.0/33'") && e.contains("/0 to /32"),
            "{e}"
        );
        let e = err("AS99999999999,x\n");
        assert!(
            e.contains("flags.csv:1: 'AS99999999999' is not an AS number"),
            "{e}"
        );
        let e = err("network,label\nmail.contoso.com,x\n");
        assert!(e.contains("flags.csv:2: 'mail.contoso.com'"), "{e}");
        let e = err("203.0.113.0/24,VPN, Berlin\n");
        assert!(
            e.contains("flags.csv:1: 3 fields") && e.contains("quote"),
            "{e}"
        );
        let e = IpList::parse("flags.csv", b"203.0.113.0/24,\xff\n").expect_err("latin-1");
        assert!(e.to_string().contains("flags.csv:1: not UTF-8"), "{e}");
        let e = err("network,label\nnetwork,label\n");
        assert!(
            e.contains("flags.csv:2: 'network'"),
            "only the first line is a header: {e}"
        );
    }

    #[test]
    fn the_documented_example_does_what_the_doc_says() {
        let doc = include_str!("../../docs/enrichment.md");
        let start = doc.find("```csv\n").expect("example") + 7;
        let len = doc[start..].find("```").expect("end of example");
        let list = IpList::parse("doc", &doc.as_bytes()[start..start + len]).expect("example");
        assert_eq!(list.len(), 6);
        assert_eq!(
            list.flag(ip("203.0.113.200"), None),
            Some("VPN exit, Berlin")
        );
        assert_eq!(list.flag(ip("203.0.113.7"), None), Some("Hosting provider"));
        assert_eq!(list.flag(ip("2001:db8:4::1"), None), Some("lab"));
        assert_eq!(
            list.flag(None, Some(64501)),
            Some("residential proxy network")
        );
        let e = IpList::parse(
            "flags.csv",
            b"network,label\n# c\n1.2.3.0/24,a\n10.11.12.300,b\n",
        )
        .expect_err("bad line");
        assert!(
            doc.contains(&format!("error: {e}")),
            "the doc shows the message: {e}"
        );
    }

    #[test]
    fn empty_and_comment_only_lists() {
        for text in ["", "\n\n", "# nothing\n", "asn,label\n"] {
            let list = IpList::parse("l", text.as_bytes()).expect(text);
            assert!(list.is_empty());
            assert_eq!(list.flag(ip("1.2.3.4"), Some(1)), None);
        }
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
            if let Ok(list) = IpList::parse("p", &bytes) {
                let _ = list.flag(ip("203.0.113.7"), Some(64500));
            }
        }

        #[test]
        fn list_like_text_never_panics(text in "([0-9a-fA-Fs:./#, \"\n]{0,24}\n){0,8}") {
            if let Ok(list) = IpList::parse("p", text.as_bytes()) {
                let _ = list.flag(ip("2001:db8::1"), Some(1));
            }
        }
    }
}

//! Client addresses as exports write them, and the `--ip` patterns that select them.
//!
//! One reader for the whole tool: the `--ip` filter, the summary's client table, triage
//! keys and IP enrichment all go through [`parse_client_ip`] (and [`client_host`] for the
//! few exports that name a host), so one client is one value everywhere.
//!
//! Exports write `203.0.113.7`, `203.0.113.7:52044`, `[2001:db8::1]:443`, `2001:db8::1`,
//! `::ffff:203.0.113.7` (IPv4-mapped), `fe80::1%eth0` (zone id), sometimes padded with
//! spaces, and now and then a host name (`mail.contoso.com`, `mail.contoso.com:443`) or
//! junk. Addresses are normalised: port, brackets and zone id dropped, IPv4-mapped IPv6
//! read as IPv4. Host names are RFC 1123 names with at least one dot whose last label is
//! not all digits (so `10.11.12.300` is a bad address, not a host), compared without
//! regard to case or a trailing dot.
//!
//! Networks ([`IpNet`]) live in one IPv6 space: an IPv4 block `a.b.c.d/n` is the mapped
//! block `::ffff:a.b.c.d/(96+n)`, so IPv4, IPv6 and mapped forms of the same client meet.

use std::borrow::Cow;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Longer text is never an address or a host name (a host name is at most 253 bytes,
/// plus `:65535` and padding).
const MAX_TEXT: usize = 300;

/// Reads a client address: ports, brackets, zone ids and surrounding white space
/// removed; IPv4-mapped IPv6 (`::ffff:203.0.113.7`) returned as IPv4. `None` for host
/// names and anything else that is not an address.
pub fn parse_client_ip(text: &str) -> Option<IpAddr> {
    let s = text.trim();
    if s.is_empty() || s.len() > MAX_TEXT {
        return None;
    }
    let addr = if let Some(rest) = s.strip_prefix('[') {
        let (inside, after) = rest.split_once(']')?;
        if !(after.is_empty() || after.strip_prefix(':').is_some_and(is_port)) {
            return None;
        }
        bare_ip(inside)?
    } else if let Some(a) = bare_ip(s) {
        a
    } else {
        // `a.b.c.d:port`, and unbracketed IPv6 with a port where the whole text is not
        // itself an address (`::ffff:203.0.113.7:443`, eight groups and a port).
        let (addr, port) = s.rsplit_once(':')?;
        if !is_port(port) {
            return None;
        }
        bare_ip(addr)?
    };
    Some(addr.to_canonical())
}

/// An address without port or brackets, with an optional IPv6 zone id (`%eth0`, `%12`).
fn bare_ip(s: &str) -> Option<IpAddr> {
    match s.split_once('%') {
        None => s.parse().ok(),
        Some((addr, zone)) => {
            let zone_ok = !zone.is_empty()
                && zone
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
            if !zone_ok {
                return None;
            }
            addr.parse::<Ipv6Addr>().ok().map(IpAddr::V6)
        }
    }
}

/// A decimal port, 0 to 65535, digits only.
fn is_port(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 5
        && s.bytes().all(|b| b.is_ascii_digit())
        && s.parse::<u16>().is_ok()
}

/// The host name in a client value written as `name` or `name:port` (trimmed, without
/// a trailing dot, case as written), when it is a valid host name; see the module doc.
pub fn client_host(text: &str) -> Option<&str> {
    let s = text.trim();
    if s.is_empty() || s.len() > MAX_TEXT {
        return None;
    }
    let name = match s.rsplit_once(':') {
        Some((name, port)) if is_port(port) => name,
        Some(_) => return None,
        None => s,
    };
    let name = name.strip_suffix('.').unwrap_or(name);
    is_host_name(name).then_some(name)
}

/// RFC 1123 host name with at least two labels, the last not all digits.
fn is_host_name(name: &str) -> bool {
    if name.is_empty() || name.len() > 253 {
        return false;
    }
    let mut labels = 0;
    let mut last_all_digits = false;
    for label in name.split('.') {
        let b = label.as_bytes();
        let ok = !b.is_empty()
            && b.len() <= 63
            && b.iter().all(|&c| c.is_ascii_alphanumeric() || c == b'-')
            && b[0] != b'-'
            && b[b.len() - 1] != b'-';
        if !ok {
            return false;
        }
        labels += 1;
        last_all_digits = b.iter().all(u8::is_ascii_digit);
    }
    labels >= 2 && !last_all_digits
}

/// The value one client is counted under: the normalised address (`203.0.113.7` for
/// `203.0.113.7:52044` and `::ffff:203.0.113.7`), else the lower-cased host name without
/// its port, else the text as written (trimmed). Borrows when nothing changes.
pub fn client_key(text: &str) -> Cow<'_, str> {
    let s = text.trim();
    // Most clients are written `a.b.c.d`, which is how the address prints: the standard
    // parser takes no leading zero, sign or space, so a text it reads as an IPv4 address
    // is that address's printing, returned without printing it (a summary or triage
    // reading every client of a whole export spent ~2% of its time formatting them).
    if s.parse::<Ipv4Addr>().is_ok() {
        return Cow::Borrowed(s);
    }
    // `a.b.c.d:port`: the address as written, without its port.
    if let Some((addr, port)) = s.rsplit_once(':') {
        if is_port(port) && addr.parse::<Ipv4Addr>().is_ok() {
            return Cow::Borrowed(addr);
        }
    }
    if let Some(addr) = parse_client_ip(s) {
        let mut buf = Shown::default();
        let shown = buf.of(addr);
        return if shown == s {
            Cow::Borrowed(s)
        } else {
            Cow::Owned(shown.to_string())
        };
    }
    match client_host(s) {
        Some(host) if host.len() == s.len() && !host.bytes().any(|b| b.is_ascii_uppercase()) => {
            Cow::Borrowed(s)
        }
        Some(host) => Cow::Owned(host.to_ascii_lowercase()),
        None => Cow::Borrowed(s),
    }
}

/// Room for an address as the standard library prints it, printed without its
/// formatting machinery (a tenth of the instructions): the longest of
/// `ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff` and `::ffff:255.255.255.255` fits.
struct Shown {
    bytes: [u8; 40],
    len: usize,
}

impl Default for Shown {
    fn default() -> Shown {
        Shown {
            bytes: [0; 40],
            len: 0,
        }
    }
}

impl Shown {
    /// `addr` as its `Display` prints it (tested against it).
    fn of(&mut self, addr: IpAddr) -> &str {
        self.len = 0;
        match addr {
            IpAddr::V4(v4) => self.v4(v4),
            IpAddr::V6(v6) => self.v6(v6),
        }
        // Only ASCII digits, hex digits, dots and colons are pushed.
        std::str::from_utf8(&self.bytes[..self.len]).unwrap_or_default()
    }

    fn push(&mut self, b: u8) {
        if let Some(slot) = self.bytes.get_mut(self.len) {
            *slot = b;
            self.len += 1;
        }
    }

    fn push_str(&mut self, s: &[u8]) {
        for &b in s {
            self.push(b);
        }
    }

    fn v4(&mut self, v4: Ipv4Addr) {
        for (i, octet) in v4.octets().into_iter().enumerate() {
            if i > 0 {
                self.push(b'.');
            }
            if octet >= 100 {
                self.push(b'0' + octet / 100);
            }
            if octet >= 10 {
                self.push(b'0' + octet / 10 % 10);
            }
            self.push(b'0' + octet % 10);
        }
    }

    /// RFC 5952, as `Ipv6Addr`'s `Display`: groups in lower-case hex without leading
    /// zeros, the first longest run of two or more zero groups written `::`, an
    /// IPv4-mapped address as `::ffff:a.b.c.d`.
    fn v6(&mut self, v6: Ipv6Addr) {
        if let Some(v4) = v6.to_ipv4_mapped() {
            self.push_str(b"::ffff:");
            self.v4(v4);
            return;
        }
        let groups = v6.segments();
        let (mut best, mut best_len, mut run_start, mut run_len) = (0, 0, 0, 0);
        for (i, &g) in groups.iter().enumerate() {
            if g == 0 {
                if run_len == 0 {
                    run_start = i;
                }
                run_len += 1;
                if run_len > best_len {
                    (best, best_len) = (run_start, run_len);
                }
            } else {
                run_len = 0;
            }
        }
        if best_len > 1 {
            self.groups(&groups[..best]);
            self.push_str(b"::");
            self.groups(&groups[best + best_len..]);
        } else {
            self.groups(&groups);
        }
    }

    fn groups(&mut self, groups: &[u16]) {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        for (i, &g) in groups.iter().enumerate() {
            if i > 0 {
                self.push(b':');
            }
            let digits = (4 - g.leading_zeros() / 4).max(1);
            for d in (0..digits).rev() {
                self.push(HEX[usize::from((g >> (4 * d)) as u8 & 0xF)]);
            }
        }
    }
}

/// An address block in the IPv6 space (IPv4 blocks as their mapped form).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct IpNet {
    /// The network's address, host bits cleared.
    bits: u128,
    /// Prefix length in the IPv6 space, 0 to 128.
    len: u8,
}

/// The 128-bit value of an address, IPv4 as `::ffff:a.b.c.d`.
pub fn v6_bits(addr: IpAddr) -> u128 {
    match addr {
        IpAddr::V4(v4) => u128::from(v4.to_ipv6_mapped()),
        IpAddr::V6(v6) => u128::from(v6),
    }
}

fn mask(len: u8) -> u128 {
    u128::MAX.checked_shl(128 - u32::from(len)).unwrap_or(0)
}

impl IpNet {
    /// The block of `addr` with `prefix` bits, counted in `addr`'s own family (/0 to /32
    /// for IPv4, /0 to /128 for IPv6); `None` when `prefix` is too long.
    pub fn new(addr: IpAddr, prefix: u8) -> Option<IpNet> {
        // `::ffff:10.0.0.0/104`, written as IPv6, keeps its IPv6 prefix length.
        let len = match addr {
            IpAddr::V4(_) if prefix <= 32 => prefix + 96,
            IpAddr::V6(_) if prefix <= 128 => prefix,
            _ => return None,
        };
        Some(IpNet {
            bits: v6_bits(addr) & mask(len),
            len,
        })
    }

    /// The block of `len_v6` bits (in the IPv6 space, clamped to 128) holding `addr`.
    pub fn covering(addr: IpAddr, len_v6: u8) -> IpNet {
        let len = len_v6.min(128);
        IpNet {
            bits: v6_bits(addr) & mask(len),
            len,
        }
    }

    /// One address.
    pub fn host(addr: IpAddr) -> IpNet {
        IpNet {
            bits: v6_bits(addr),
            len: 128,
        }
    }

    /// Reads `203.0.113.0/24`, `2001:db8::/32` or a single address (no port). Host bits
    /// below the prefix are ignored (`203.0.113.7/24` is `203.0.113.0/24`).
    pub fn parse(text: &str) -> Result<IpNet, IpSyntaxError> {
        let s = text.trim();
        let Some((addr, prefix)) = s.split_once('/') else {
            return bare_ip(s)
                .map(IpNet::host)
                .ok_or_else(|| IpSyntaxError::not_an_address(s));
        };
        let addr = bare_ip(addr.trim()).ok_or_else(|| IpSyntaxError::not_an_address(addr))?;
        let prefix = prefix.trim();
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let family = if addr.is_ipv4() { "IPv4" } else { "IPv6" };
        let bits = prefix
            .parse::<u8>()
            .ok()
            .filter(|_| prefix.bytes().all(|b| b.is_ascii_digit()))
            .ok_or_else(|| {
                IpSyntaxError(format!(
                    "the prefix length '{prefix}' is not a number from 0 to {max}"
                ))
            })?;
        IpNet::new(addr, bits).ok_or_else(|| {
            IpSyntaxError(format!(
                "the prefix length /{bits} is too long: {family} blocks take /0 to /{max}"
            ))
        })
    }

    pub fn contains(&self, addr: IpAddr) -> bool {
        v6_bits(addr) & mask(self.len) == self.bits
    }

    /// Prefix length in the IPv6 space (an IPv4 /24 is 120): larger is more specific.
    pub fn prefix_len_v6(&self) -> u8 {
        self.len
    }

    /// The network's address bits in the IPv6 space.
    pub fn bits_v6(&self) -> u128 {
        self.bits
    }
}

impl fmt::Display for IpNet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let v6 = Ipv6Addr::from(self.bits);
        match v6.to_ipv4_mapped() {
            Some(v4) if self.len >= 96 => write!(f, "{v4}/{}", self.len - 96),
            _ => write!(f, "{v6}/{}", self.len),
        }
    }
}

/// What is wrong with an address, block or pattern (without the value itself: the
/// caller names it, with its flag or file and line).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IpSyntaxError(String);

impl IpSyntaxError {
    fn not_an_address(text: &str) -> IpSyntaxError {
        let t = text.trim();
        let dotted_quad =
            t.split('.').count() == 4 && t.bytes().all(|b| b.is_ascii_digit() || b == b'.');
        IpSyntaxError(if dotted_quad {
            "not a valid IPv4 address (four numbers from 0 to 255)".to_string()
        } else {
            "not an IP address".to_string()
        })
    }
}

impl fmt::Display for IpSyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for IpSyntaxError {}

/// The forms `--ip` accepts, for error messages and help.
pub const PATTERN_FORMS: &str = "an address (203.0.113.7, 2001:db8::1; a port is ignored), \
a CIDR block (203.0.113.0/24, 2001:db8::/32) or a host name with a dot (mail.contoso.com)";

/// An `--ip` value: an address or block, matched against the record's normalised client
/// address; or a host name, matched without regard to case against a client value that
/// is that host name (with or without a port).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IpPattern {
    Net(IpNet),
    /// Lower case, no trailing dot.
    Host(Box<str>),
}

impl IpPattern {
    /// Reads an `--ip` value; anything that is neither an address, a block nor a host
    /// name is an error saying what was expected.
    pub fn parse(spec: &str) -> Result<IpPattern, IpSyntaxError> {
        let s = spec.trim();
        if s.contains('/') {
            return IpNet::parse(s).map(IpPattern::Net);
        }
        if let Some(addr) = parse_client_ip(s) {
            return Ok(IpPattern::Net(IpNet::host(addr)));
        }
        if let Some(host) = client_host(s) {
            return Ok(IpPattern::Host(host.to_ascii_lowercase().into()));
        }
        let why = IpSyntaxError::not_an_address(s);
        Err(IpSyntaxError(format!("{why}; expected {PATTERN_FORMS}")))
    }

    /// Whether a record's client value (ClientIPAddress or ClientIP, as written) matches.
    pub fn is_match(&self, value: &[u8]) -> bool {
        let Ok(text) = std::str::from_utf8(value) else {
            return false;
        };
        match self {
            IpPattern::Net(net) => parse_client_ip(text).is_some_and(|a| net.contains(a)),
            IpPattern::Host(host) => {
                client_host(text).is_some_and(|h| h.eq_ignore_ascii_case(host))
            }
        }
    }
}

#[cfg(test)]
mod tests;

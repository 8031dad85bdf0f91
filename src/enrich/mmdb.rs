//! One MaxMind DB file: opened (memory-mapped, else read), recognised from its metadata
//! and the shape of its records, and read for a country code and an autonomous system.
//!
//! Records are decoded leniently: only the fields below are looked at, and a field of an
//! unexpected type counts as absent rather than failing the lookup.
//!
//! | field | databases |
//! |---|---|
//! | `country_code` (ISO code) | IPinfo Lite |
//! | `country.iso_code`, else `registered_country.iso_code` | GeoLite2/GeoIP2 Country, City, Enterprise; DB-IP lite |
//! | `country` as a two-letter string | IPinfo country, country_asn |
//! | `autonomous_system_number`, `autonomous_system_organization` | GeoLite2-ASN, GeoIP2-ISP, DB-IP ASN lite |
//! | `traits.autonomous_system_number`, `traits.autonomous_system_organization` | GeoIP2-Enterprise |
//! | `asn` (`AS64500` or a number), `as_name` (else `name`) | IPinfo Lite, country_asn, asn |

use std::fmt;
use std::fs::File;
use std::io::Read;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

use anyhow::{bail, Context, Result};
use maxminddb::{MaxMindDbError, Reader, WithinOptions};
use memmap2::Mmap;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

/// Records sampled at open to learn what a database holds.
const SAMPLE_RECORDS: usize = 64;

/// The bytes of a database file.
pub(super) enum Source {
    Mapped(Mmap),
    Read(Vec<u8>),
}

impl AsRef<[u8]> for Source {
    fn as_ref(&self) -> &[u8] {
        match self {
            Source::Mapped(m) => m,
            Source::Read(v) => v,
        }
    }
}

fn load(path: &Path) -> std::io::Result<Source> {
    let mut file = File::open(path)?;
    if file.metadata()?.len() == 0 {
        let mut buf = Vec::new();
        file.read_to_end(&mut buf)?;
        return Ok(Source::Read(buf));
    }
    // SAFETY: the file is opened read-only and never written through the map. Another
    // process rewriting it in place while we read could change the bytes under us (or,
    // on truncation, fault); database updaters (geoipupdate, ipinfo's) replace the file
    // by renaming a new one over it, which leaves this mapping intact.
    match unsafe { Mmap::map(&file) } {
        Ok(map) => {
            #[cfg(unix)]
            let _ = map.advise(memmap2::Advice::Random);
            Ok(Source::Mapped(map))
        }
        Err(_) => {
            let mut buf = Vec::new();
            file.read_to_end(&mut buf)?;
            Ok(Source::Read(buf))
        }
    }
}

/// What a database gives.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Provides {
    /// Country ISO codes.
    pub country: bool,
    /// AS numbers and organisations.
    pub asn: bool,
}

impl fmt::Display for Provides {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match (self.country, self.asn) {
            (true, true) => "country, ASN",
            (true, false) => "country",
            (false, true) => "ASN",
            (false, false) => "nothing",
        })
    }
}

/// What one database says about one address.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(super) struct Found {
    pub country: Option<Box<str>>,
    pub asn: Option<u32>,
    pub as_org: Option<Box<str>>,
}

pub(super) struct Database {
    pub path: PathBuf,
    reader: Reader<Source>,
    pub provides: Provides,
    errors: AtomicU64,
    first_error: OnceLock<String>,
}

impl Database {
    /// Opens and recognises one file; errors name the file and what is wrong.
    pub fn open(path: &Path) -> Result<Database> {
        let shown = path.display();
        let bytes = load(path).with_context(|| format!("'{shown}': cannot read"))?;
        let reader = Reader::from_source(bytes).map_err(|e| {
            anyhow::anyhow!(
                "'{shown}': not a readable MaxMind DB (.mmdb) file ({e}); --geoip takes \
                 GeoLite2/GeoIP2, IPinfo or DB-IP .mmdb files"
            )
        })?;
        let database_type = reader.metadata().database_type.clone();
        let mut provides = hinted_by_name(&database_type);
        let (sampled, bad) = sample(&reader).map_err(|e| {
            anyhow::anyhow!(
                "'{shown}' (database_type '{database_type}'): damaged search tree ({e})"
            )
        })?;
        provides.country |= sampled.country;
        provides.asn |= sampled.asn;
        if provides == Provides::default() {
            let bad = bad.map_or(String::new(), |e| {
                format!("; a record could not be read: {e}")
            });
            bail!(
                "'{shown}': database_type '{database_type}' holds neither country codes nor \
                 AS numbers (looked for country.iso_code, country_code, \
                 autonomous_system_number and asn{bad}); --geoip takes GeoLite2/GeoIP2 \
                 Country, City, ASN, ISP or Enterprise, IPinfo Lite, country, country_asn or \
                 asn, and DB-IP lite databases"
            );
        }
        Ok(Database {
            path: path.to_path_buf(),
            reader,
            provides,
            errors: AtomicU64::new(0),
            first_error: OnceLock::new(),
        })
    }

    pub fn database_type(&self) -> &str {
        &self.reader.metadata().database_type
    }

    pub fn build_epoch(&self) -> u64 {
        self.reader.metadata().build_epoch
    }

    pub fn ip_version(&self) -> u16 {
        self.reader.metadata().ip_version
    }

    /// Lookups that failed (a damaged record), and the first one's message.
    pub fn errors(&self) -> (u64, Option<&str>) {
        (
            self.errors.load(Ordering::Relaxed),
            self.first_error.get().map(String::as_str),
        )
    }

    /// What the database says about `ip` (already normalised); a damaged record is
    /// counted in [`Database::errors`] and gives nothing.
    pub fn lookup(&self, ip: IpAddr) -> Found {
        match self.try_lookup(ip) {
            Ok(found) => found,
            Err(e) => {
                self.errors.fetch_add(1, Ordering::Relaxed);
                let _ = self.first_error.set(format!("{ip}: {e}"));
                Found::default()
            }
        }
    }

    fn try_lookup(&self, ip: IpAddr) -> Result<Found, MaxMindDbError> {
        let v4_only = self.ip_version() == 4;
        if v4_only && ip.is_ipv6() {
            return Ok(Found::default());
        }
        let mut result = self.reader.lookup(ip)?;
        // IPv4 networks sit under ::/96 in most IPv6 databases (aliased at ::ffff:0:0/96);
        // a database that keeps them only under ::ffff:0:0/96 is read there.
        if let IpAddr::V4(v4) = ip {
            if !result.has_data() && !v4_only {
                result = self.reader.lookup(IpAddr::V6(v4.to_ipv6_mapped()))?;
            }
        }
        Ok(result
            .decode::<Record>()?
            .map(Record::found)
            .unwrap_or_default())
    }
}

/// What the database's type name promises (MaxMind and DB-IP names).
fn hinted_by_name(database_type: &str) -> Provides {
    let t = database_type.to_ascii_lowercase();
    Provides {
        country: ["country", "city", "enterprise", "precision"]
            .iter()
            .any(|w| t.contains(w)),
        asn: ["asn", "isp"].iter().any(|w| t.contains(w)),
    }
}

/// What the first records hold, and the first record that could not be decoded.
fn sample(reader: &Reader<Source>) -> Result<(Provides, Option<String>), MaxMindDbError> {
    let mut seen = Provides::default();
    let mut bad = None;
    let networks = reader.networks(WithinOptions::default().skip_empty_values())?;
    for item in networks.take(SAMPLE_RECORDS) {
        match item?.decode::<Record>() {
            Ok(Some(record)) => {
                let found = record.found();
                seen.country |= found.country.is_some();
                seen.asn |= found.asn.is_some() || found.as_org.is_some();
            }
            Ok(None) => {}
            Err(e) => {
                bad.get_or_insert_with(|| e.to_string());
            }
        }
    }
    Ok((seen, bad))
}

/// The fields read from a record (see the module doc).
#[derive(Deserialize, Default)]
#[serde(default)]
struct Record {
    country: Country,
    registered_country: Country,
    country_code: Country,
    autonomous_system_number: Asn,
    autonomous_system_organization: Text,
    traits: Traits,
    asn: Asn,
    as_name: Text,
    name: Text,
}

impl Record {
    fn found(self) -> Found {
        let country = (self.country_code.0)
            .or(self.country.0)
            .or(self.registered_country.0);
        let (asn, as_org) = if self.autonomous_system_number.0.is_some()
            || self.autonomous_system_organization.0.is_some()
        {
            (
                self.autonomous_system_number.0,
                self.autonomous_system_organization.0,
            )
        } else if self.traits.asn.is_some() || self.traits.as_org.is_some() {
            (self.traits.asn, self.traits.as_org)
        } else if self.asn.0.is_some() {
            (self.asn.0, self.as_name.0.or(self.name.0))
        } else {
            (None, self.as_name.0)
        };
        Found {
            country,
            asn,
            as_org,
        }
    }
}

/// Visitor methods that take any other kind of value as "absent".
macro_rules! absent_for_scalars {
    () => {
        fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
            Ok(Default::default())
        }
        fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
            Ok(Default::default())
        }
        fn visit_u128<E: de::Error>(self, _: u128) -> Result<Self::Value, E> {
            Ok(Default::default())
        }
        fn visit_i128<E: de::Error>(self, _: i128) -> Result<Self::Value, E> {
            Ok(Default::default())
        }
        fn visit_bytes<E: de::Error>(self, _: &[u8]) -> Result<Self::Value, E> {
            Ok(Default::default())
        }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(Default::default())
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(Default::default())
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            Ok(Default::default())
        }
    };
}

macro_rules! absent_for_integers {
    () => {
        fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
            Ok(Default::default())
        }
        fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
            Ok(Default::default())
        }
    };
}

macro_rules! absent_for_maps {
    () => {
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
            Ok(Default::default())
        }
    };
}

/// Text, trimmed; empty or not text is absent.
#[derive(Default)]
struct Text(Option<Box<str>>);

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Text, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Text;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("text")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Text, E> {
                let v = v.trim();
                Ok(Text((!v.is_empty()).then(|| v.into())))
            }
            absent_for_scalars!();
            absent_for_integers!();
            absent_for_maps!();
        }
        d.deserialize_any(V)
    }
}

/// An AS number: an unsigned number, or text `AS64500` / `64500`.
#[derive(Default)]
struct Asn(Option<u32>);

impl<'de> Deserialize<'de> for Asn {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Asn, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Asn;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an AS number")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Asn, E> {
                Ok(Asn(u32::try_from(v).ok()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Asn, E> {
                Ok(Asn(u32::try_from(v).ok()))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Asn, E> {
                Ok(Asn(parse_asn(v)))
            }
            absent_for_scalars!();
            absent_for_maps!();
        }
        d.deserialize_any(V)
    }
}

/// `AS64500`, `as64500` or `64500`.
pub(super) fn parse_asn(text: &str) -> Option<u32> {
    let t = text.trim();
    let digits = match t.get(..2) {
        Some(p) if p.eq_ignore_ascii_case("as") => &t[2..],
        _ => t,
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// A two-letter country code (upper-cased), written as text or as a map's `iso_code`.
/// Longer text (a country's name) is absent.
#[derive(Default)]
struct Country(Option<Box<str>>);

fn iso_code(text: &str) -> Option<Box<str>> {
    let t = text.trim();
    (t.len() == 2 && t.bytes().all(|b| b.is_ascii_alphabetic()))
        .then(|| t.to_ascii_uppercase().into())
}

impl<'de> Deserialize<'de> for Country {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Country, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Country;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a country")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Country, E> {
                Ok(Country(iso_code(v)))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Country, A::Error> {
                let mut code = None;
                while let Some(key) = map.next_key_seed(KeyIn(&["iso_code"]))? {
                    match key {
                        Some(_) => code = map.next_value::<Text>()?.0.as_deref().and_then(iso_code),
                        None => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Ok(Country(code))
            }
            absent_for_scalars!();
            absent_for_integers!();
        }
        d.deserialize_any(V)
    }
}

/// GeoIP2-Enterprise's `traits` map.
#[derive(Default)]
struct Traits {
    asn: Option<u32>,
    as_org: Option<Box<str>>,
}

impl<'de> Deserialize<'de> for Traits {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Traits, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Traits;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("traits")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Traits, A::Error> {
                let mut t = Traits::default();
                const KEYS: &[&str] =
                    &["autonomous_system_number", "autonomous_system_organization"];
                while let Some(key) = map.next_key_seed(KeyIn(KEYS))? {
                    match key {
                        Some(0) => t.asn = map.next_value::<Asn>()?.0,
                        Some(_) => t.as_org = map.next_value::<Text>()?.0,
                        None => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Ok(t)
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<Traits, E> {
                Ok(Traits::default())
            }
            absent_for_scalars!();
            absent_for_integers!();
        }
        d.deserialize_any(V)
    }
}

/// A map key: its index in the wanted list, `None` for any other key (or a key that is
/// not text).
struct KeyIn(&'static [&'static str]);

impl<'de> DeserializeSeed<'de> for KeyIn {
    type Value = Option<usize>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Option<usize>, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for KeyIn {
    type Value = Option<usize>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a key")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Option<usize>, E> {
        Ok(self.0.iter().position(|k| *k == v))
    }
    absent_for_scalars!();
    absent_for_integers!();
    absent_for_maps!();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn asn_text_forms() {
        assert_eq!(parse_asn("AS64500"), Some(64500));
        assert_eq!(parse_asn(" as64500 "), Some(64500));
        assert_eq!(parse_asn("64500"), Some(64500));
        assert_eq!(parse_asn("4294967295"), Some(u32::MAX));
        for bad in [
            "",
            "AS",
            "AS-1",
            "AS 1",
            "4294967296",
            "ASN64500",
            "+5",
            "é1",
        ] {
            assert_eq!(parse_asn(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn names_hint_at_contents() {
        let h = |t| hinted_by_name(t).to_string();
        assert_eq!(h("GeoLite2-Country"), "country");
        assert_eq!(h("GeoIP2-City"), "country");
        assert_eq!(h("GeoLite2-ASN"), "ASN");
        assert_eq!(h("GeoIP2-ISP"), "ASN");
        assert_eq!(h("DBIP-ASN-Lite (compat=GeoLite2-ASN)"), "ASN");
        assert_eq!(h("ipinfo country_asn.mmdb"), "country, ASN");
        assert_eq!(h("GeoIP2-Anonymous-IP"), "nothing");
        assert_eq!(
            h("ipinfo_lite"),
            "nothing",
            "IPinfo Lite is known by its records"
        );
    }
}

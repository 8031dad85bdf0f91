//! Where the client addresses are (`--geoip`): the country and autonomous system each
//! client address of the summary was placed in, so that the client-IP table can show
//! them and the countries and networks tables can count records by them.
//!
//! Only the places are stored, per address; the counts by country and by AS are derived
//! from the client-IP counts when the tables are drawn. So merging summaries stays
//! exact (the union of the places, the sum of the address counts), and an address one
//! part placed and another did not is placed in the merged summary.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::enrich::Enricher;

/// The places of a summary's client addresses.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Networks {
    /// Per client address (the keys of `Summary::client_ips`) the databases know.
    pub places: BTreeMap<String, Place>,
}

/// Where one address is; empty where no database knows.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Place {
    /// ISO 3166-1 alpha-2 code (`DE`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub country: String,
    /// Autonomous system number, without `AS`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub asn: String,
    /// The autonomous system's organisation.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub as_org: String,
}

impl Networks {
    /// The places of `addresses` (client values as the summary keys them), looked up in
    /// `geo`; addresses no database knows (and host names) are left out.
    pub fn locate<'a>(geo: &Enricher, addresses: impl Iterator<Item = &'a String>) -> Networks {
        let places = addresses
            .filter(|a| !a.is_empty())
            .filter_map(|a| {
                let info = geo.lookup_text(a);
                let place = Place {
                    country: info.country.map(String::from).unwrap_or_default(),
                    asn: info.asn.map(|n| n.to_string()).unwrap_or_default(),
                    as_org: info.as_org.map(String::from).unwrap_or_default(),
                };
                (place != Place::default()).then(|| (a.clone(), place))
            })
            .collect();
        Networks { places }
    }

    /// Adds the places of `other` this one does not know (a place both know is this
    /// one's: the same address in two parts is placed by the same databases, normally).
    pub fn merge(&mut self, other: Networks) {
        for (address, place) in other.places {
            self.places.entry(address).or_insert(place);
        }
    }

    /// Records per country (`""` for addresses no database places, and records without
    /// an address), from the records per address.
    pub fn countries(&self, client_ips: &BTreeMap<String, u64>) -> BTreeMap<String, u64> {
        self.count_by(client_ips, |p| p.country.clone())
    }

    /// Records per autonomous system number (`""` as for [`Networks::countries`]).
    pub fn asns(&self, client_ips: &BTreeMap<String, u64>) -> BTreeMap<String, u64> {
        self.count_by(client_ips, |p| p.asn.clone())
    }

    /// The organisation of an autonomous system number, as some address's place names it.
    pub fn as_org(&self, asn: &str) -> &str {
        self.places
            .values()
            .find(|p| p.asn == asn && !p.as_org.is_empty())
            .map_or("", |p| p.as_org.as_str())
    }

    /// The place of `address`, or an empty one.
    pub fn place(&self, address: &str) -> Place {
        self.places.get(address).cloned().unwrap_or_default()
    }

    fn count_by(
        &self,
        client_ips: &BTreeMap<String, u64>,
        key: impl Fn(&Place) -> String,
    ) -> BTreeMap<String, u64> {
        let mut out: BTreeMap<String, u64> = BTreeMap::new();
        for (address, n) in client_ips {
            let k = self.places.get(address).map(&key).unwrap_or_default();
            let slot = out.entry(k).or_default();
            *slot = slot.saturating_add(*n);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn place(country: &str, asn: &str, org: &str) -> Place {
        Place {
            country: country.into(),
            asn: asn.into(),
            as_org: org.into(),
        }
    }

    #[test]
    fn countries_and_asns_are_counted_from_the_addresses() {
        let mut n = Networks::default();
        n.places
            .insert("203.0.113.7".into(), place("DE", "64500", "Example AG"));
        n.places
            .insert("198.51.100.20".into(), place("DE", "64501", ""));
        n.places
            .insert("192.0.2.15".into(), place("", "64500", "Example AG"));
        let ips: BTreeMap<String, u64> = [
            ("203.0.113.7", 9),
            ("198.51.100.20", 1),
            ("192.0.2.15", 3),
            ("", 2),
            ("mail.contoso.com", 1),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        let countries = n.countries(&ips);
        assert_eq!(countries.get("DE"), Some(&10));
        assert_eq!(countries.get(""), Some(&6));
        let asns = n.asns(&ips);
        assert_eq!(asns.get("64500"), Some(&12));
        assert_eq!(asns.get("64501"), Some(&1));
        assert_eq!(asns.get(""), Some(&3));
        assert_eq!(n.as_org("64500"), "Example AG");
        assert_eq!(n.as_org("64501"), "");
        // Every record is counted once in each table.
        assert_eq!(countries.values().sum::<u64>(), 16);
        assert_eq!(asns.values().sum::<u64>(), 16);
    }

    #[test]
    fn merging_keeps_the_first_place_and_adds_the_others() {
        let mut a = Networks::default();
        a.places.insert("a".into(), place("DE", "1", ""));
        let mut b = Networks::default();
        b.places.insert("a".into(), place("FR", "2", ""));
        b.places.insert("b".into(), place("US", "3", ""));
        a.merge(b);
        assert_eq!(a.places["a"].country, "DE");
        assert_eq!(a.places["b"].country, "US");
    }
}

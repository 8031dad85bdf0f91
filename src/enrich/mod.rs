//! Offline IP enrichment: country, AS number and AS organisation of client addresses from
//! MaxMind DB (`.mmdb`) files the user supplies, and a list of flagged networks and ASNs.
//!
//! Nothing is downloaded: users bring GeoLite2/GeoIP2 (MaxMind), IPinfo or DB-IP files
//! (docs/enrichment.md says where to get them). Each file is recognised at open from its
//! `database_type` and the shape of its records ([`mmdb`]'s doc lists the fields read);
//! several files combine field by field, the first file given winning: a country from the
//! first file that has one for the address, the AS number and organisation (as a pair)
//! from the first file that has them.
//!
//! Exports repeat few clients over millions of rows, so answers are cached per distinct
//! normalised address in a sharded map shared by all threads ([`Enricher::lookup`]); the
//! cache is bounded and simply forgets a shard that fills up.

mod iplist;
mod mmdb;

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};

use anyhow::Result;

use crate::ip::{parse_client_ip, v6_bits};

pub use iplist::IpList;
pub use mmdb::Provides;

/// What the databases say about one client address; `None` where none of them knows.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct IpInfo {
    /// ISO 3166-1 alpha-2 code, upper case (`DE`).
    pub country: Option<Box<str>>,
    /// Autonomous system number, without `AS`.
    pub asn: Option<u32>,
    /// The autonomous system's organisation (`Deutsche Telekom AG`).
    pub as_org: Option<Box<str>>,
}

/// One database, for the run's manifest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DbInfo {
    pub path: PathBuf,
    /// As the file's metadata says (`GeoLite2-Country`).
    pub database_type: String,
    /// When the database was built, seconds since 1970 (UTC).
    pub build_epoch: u64,
    /// 4 or 6.
    pub ip_version: u16,
    /// What it is used for.
    pub provides: Provides,
    /// Lookups that met a damaged record (they gave nothing), and the first one's message.
    pub lookup_errors: u64,
    pub first_error: Option<String>,
}

const SHARDS: usize = 16;
/// Cached addresses per shard (16 × 65,536 ≈ 1 M addresses, about 100 MB at most).
const SHARD_CAPACITY: usize = 1 << 16;

type Shard = Mutex<HashMap<IpAddr, Arc<IpInfo>>>;

/// Country and AS lookups over one or more MaxMind DB files. `Send + Sync`: share one
/// by reference across worker threads.
pub struct Enricher {
    dbs: Vec<mmdb::Database>,
    cache: Box<[Shard]>,
}

impl Enricher {
    /// Opens every file, in order (the first wins where two know the same field). An
    /// error names the file and what is wrong with it.
    pub fn open(paths: &[PathBuf]) -> Result<Enricher> {
        let dbs = paths
            .iter()
            .map(|p| mmdb::Database::open(p))
            .collect::<Result<Vec<_>>>()?;
        Ok(Enricher {
            dbs,
            cache: (0..SHARDS).map(|_| Mutex::default()).collect(),
        })
    }

    /// What the databases say about `ip` (cached).
    pub fn lookup(&self, ip: IpAddr) -> IpInfo {
        IpInfo::clone(&self.lookup_shared(ip))
    }

    /// [`Enricher::lookup`] of a client value as exports write it (`203.0.113.7:52044`,
    /// `[2001:db8::1]:443`, `::ffff:203.0.113.7`); nothing for host names and junk.
    pub fn lookup_text(&self, client_ip_text: &str) -> IpInfo {
        parse_client_ip(client_ip_text).map_or_else(IpInfo::default, |ip| self.lookup(ip))
    }

    /// [`Enricher::lookup`] without copying the answer out of the cache.
    pub fn lookup_shared(&self, ip: IpAddr) -> Arc<IpInfo> {
        let ip = ip.to_canonical();
        let shard = &self.cache[shard_of(ip)];
        if let Some(hit) = lock(shard).get(&ip) {
            return Arc::clone(hit);
        }
        let info = Arc::new(self.lookup_uncached(ip));
        let mut map = lock(shard);
        if map.len() >= SHARD_CAPACITY {
            map.clear();
        }
        map.insert(ip, Arc::clone(&info));
        info
    }

    /// Reads the databases, bypassing the cache.
    pub fn lookup_uncached(&self, ip: IpAddr) -> IpInfo {
        let ip = ip.to_canonical();
        let mut info = IpInfo::default();
        for db in &self.dbs {
            let want_country = db.provides.country && info.country.is_none();
            let want_asn = db.provides.asn && info.asn.is_none() && info.as_org.is_none();
            if !want_country && !want_asn {
                continue;
            }
            let found = db.lookup(ip);
            if want_country {
                info.country = found.country;
            }
            if want_asn {
                info.asn = found.asn;
                info.as_org = found.as_org;
            }
        }
        info
    }

    /// Each database in the order given.
    pub fn describe(&self) -> Vec<DbInfo> {
        self.dbs
            .iter()
            .map(|db| {
                let (lookup_errors, first_error) = db.errors();
                DbInfo {
                    path: db.path.clone(),
                    database_type: db.database_type().to_string(),
                    build_epoch: db.build_epoch(),
                    ip_version: db.ip_version(),
                    provides: db.provides,
                    lookup_errors,
                    first_error: first_error.map(str::to_string),
                }
            })
            .collect()
    }
}

fn shard_of(ip: IpAddr) -> usize {
    let b = v6_bits(ip);
    let h = ((b >> 64) as u64 ^ b as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    (h >> 60) as usize % SHARDS
}

/// A poisoned shard (a panic elsewhere while it was held) still holds valid entries.
fn lock(shard: &Shard) -> std::sync::MutexGuard<'_, HashMap<IpAddr, Arc<IpInfo>>> {
    shard.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
#[path = "../../tests/mmdb_writer.rs"]
mod mmdb_writer;

#[cfg(test)]
mod tests;

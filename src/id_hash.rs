//! Hash maps and sets keyed by value numbers: the `u32` a table's pool gives each
//! distinct value, and keys made of them (a triage group's, a summary's operation and
//! hour). The standard library's SipHash is built to resist keys an attacker chooses;
//! these numbers are assigned by the pools, not chosen by the input, so a multiply per
//! word does (a summary hashed each row nine times with SipHash).

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

/// The multiply hasher of [`IdMap`] and [`IdSet`]: a rotate, an xor and a multiply per
/// word, and a final mix.
#[derive(Default)]
pub struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        // Mixes the high bits down: the table picks buckets by the low ones.
        let x = (self.0 ^ (self.0 >> 32)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        x ^ (x >> 29)
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut words = bytes.chunks_exact(8);
        for w in &mut words {
            let mut n = [0u8; 8];
            n.copy_from_slice(w);
            self.write_u64(u64::from_le_bytes(n));
        }
        for &b in words.remainder() {
            self.write_u64(u64::from(b));
        }
    }

    fn write_u8(&mut self, n: u8) {
        self.write_u64(u64::from(n));
    }

    fn write_u32(&mut self, n: u32) {
        self.write_u64(u64::from(n));
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }

    fn write_usize(&mut self, n: usize) {
        self.write_u64(n as u64);
    }
}

/// What builds an [`IdHasher`] for the maps and sets below.
pub type IdBuild = BuildHasherDefault<IdHasher>;
/// A map keyed by value numbers (or keys made of them).
pub type IdMap<K, V> = HashMap<K, V, IdBuild>;
/// A set of value numbers (or of keys made of them).
pub type IdSet<K> = HashSet<K, IdBuild>;

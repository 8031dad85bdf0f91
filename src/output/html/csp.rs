//! The page's Content-Security-Policy: nothing may be loaded from anywhere
//! (`default-src 'none'`), and only the report's own `<style>` and `<script>` blocks may
//! apply or run, named by their SHA-256 hashes. Even if a value from the input escaped
//! the HTML escaping, an injected script or style would not run, and nothing could leave
//! the machine.
//!
//! SHA-256 is RustCrypto's `sha2` (as for the manifest); base64 is [`crate::base64`].

use crate::base64;

/// The `content` of the policy's `<meta http-equiv>` for these style and script texts.
pub fn policy(style: &str, script: &str) -> String {
    format!(
        "default-src 'none'; style-src 'sha256-{}'; script-src 'sha256-{}'; \
         img-src data:; base-uri 'none'; form-action 'none'",
        base64::encode(&sha256(style.as_bytes())),
        base64::encode(&sha256(script.as_bytes()))
    )
}

/// The SHA-256 digest of `data` (RustCrypto's `sha2`).
pub fn sha256(data: &[u8]) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    Sha256::digest(data).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(d: &[u8]) -> String {
        d.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn sha256_vectors() {
        assert_eq!(
            hex(&sha256(b"")),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            hex(&sha256(b"abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            hex(&sha256(
                b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"
            )),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
        );
        let million = vec![b'a'; 1_000_000];
        assert_eq!(
            hex(&sha256(&million)),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"
        );
    }
}

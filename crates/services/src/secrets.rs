//! Secrets at rest (provider API keys): sealed with XChaCha20-Poly1305 under one installation
//! key, bound to where they belong (the organisation and the provider name as associated
//! data, so a ciphertext copied to another row does not open). Never logged, never returned.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::RngCore;

/// The length of an installation key, in bytes.
pub const KEY_BYTES: usize = 32;
const NONCE_BYTES: usize = 24;
/// The longest secret accepted, in bytes.
pub const MAX_SECRET_BYTES: usize = 16 * 1024;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    #[error("the secret key must be {KEY_BYTES} bytes written as {} hex digits", KEY_BYTES * 2)]
    BadKey,
    #[error("a secret may hold at most {MAX_SECRET_BYTES} bytes")]
    TooLarge,
    #[error("the stored secret cannot be opened: wrong key, or the row was tampered with")]
    CannotOpen,
}

/// A sealed secret: what the database stores.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sealed {
    pub ciphertext: Vec<u8>,
    pub nonce: Vec<u8>,
}

/// Seals and opens secrets with the installation key.
#[derive(Clone)]
pub struct SecretBox {
    cipher: XChaCha20Poly1305,
}

impl std::fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretBox(..)")
    }
}

impl SecretBox {
    pub fn new(key: &[u8; KEY_BYTES]) -> Self {
        Self { cipher: XChaCha20Poly1305::new(key.into()) }
    }

    /// A key from its hex form (what `QL_SECRET_KEY` and the key file hold).
    pub fn from_hex(text: &str) -> Result<Self, SecretError> {
        let bytes = hex::decode(text.trim()).map_err(|_| SecretError::BadKey)?;
        let key: [u8; KEY_BYTES] = bytes.try_into().map_err(|_| SecretError::BadKey)?;
        Ok(Self::new(&key))
    }

    /// A fresh random key in hex, for a new installation's key file.
    pub fn generate_hex() -> String {
        let mut key = [0u8; KEY_BYTES];
        rand::rng().fill_bytes(&mut key);
        hex::encode(key)
    }

    /// Seals `secret` for the place named by `context` (such as `org-id/provider-name`).
    pub fn seal(&self, secret: &str, context: &str) -> Result<Sealed, SecretError> {
        if secret.len() > MAX_SECRET_BYTES {
            return Err(SecretError::TooLarge);
        }
        let mut nonce = [0u8; NONCE_BYTES];
        rand::rng().fill_bytes(&mut nonce);
        let ciphertext = self
            .cipher
            .encrypt(
                &XNonce::from(nonce),
                Payload { msg: secret.as_bytes(), aad: context.as_bytes() },
            )
            .map_err(|_| SecretError::TooLarge)?;
        Ok(Sealed { ciphertext, nonce: nonce.to_vec() })
    }

    /// Opens a secret sealed for `context`.
    pub fn open(&self, sealed: &Sealed, context: &str) -> Result<String, SecretError> {
        let nonce: [u8; NONCE_BYTES] =
            sealed.nonce.as_slice().try_into().map_err(|_| SecretError::CannotOpen)?;
        let plain = self
            .cipher
            .decrypt(
                &XNonce::from(nonce),
                Payload { msg: &sealed.ciphertext, aad: context.as_bytes() },
            )
            .map_err(|_| SecretError::CannotOpen)?;
        String::from_utf8(plain).map_err(|_| SecretError::CannotOpen)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sealer() -> SecretBox {
        SecretBox::from_hex(&"ab".repeat(KEY_BYTES)).expect("key")
    }

    #[test]
    fn a_sealed_secret_opens_only_with_its_key_and_its_context() {
        let secrets = sealer();
        let sealed = secrets.seal("sk-live-123", "org-1/openai").expect("sealed");
        assert!(
            !sealed.ciphertext.windows(11).any(|w| w == b"sk-live-123"),
            "no plaintext at rest"
        );
        assert_eq!(secrets.open(&sealed, "org-1/openai").expect("opens"), "sk-live-123");
        assert_eq!(
            secrets.open(&sealed, "org-2/openai"),
            Err(SecretError::CannotOpen),
            "another row"
        );
        let other = SecretBox::from_hex(&SecretBox::generate_hex()).expect("key");
        assert_eq!(
            other.open(&sealed, "org-1/openai"),
            Err(SecretError::CannotOpen),
            "another key"
        );
        let mut tampered = sealed.clone();
        tampered.ciphertext[0] ^= 1;
        assert_eq!(secrets.open(&tampered, "org-1/openai"), Err(SecretError::CannotOpen));
        assert_ne!(
            secrets.seal("sk-live-123", "org-1/openai").expect("sealed"),
            sealed,
            "fresh nonce each time"
        );
    }

    #[test]
    fn keys_and_sizes_are_checked_and_the_key_is_never_printed() {
        for bad in ["", "abc", &"zz".repeat(KEY_BYTES), &"ab".repeat(KEY_BYTES + 1)] {
            assert_eq!(SecretBox::from_hex(bad).err(), Some(SecretError::BadKey), "{bad}");
        }
        assert_eq!(SecretBox::generate_hex().len(), KEY_BYTES * 2);
        assert_eq!(format!("{:?}", sealer()), "SecretBox(..)");
        assert_eq!(
            sealer().seal(&"x".repeat(MAX_SECRET_BYTES + 1), "c"),
            Err(SecretError::TooLarge)
        );
    }
}

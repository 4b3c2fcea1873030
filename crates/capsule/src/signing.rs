//! The installation's ed25519 key and `capsule.sig`.

use ed25519_dalek::{Signer, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};

use crate::CapsuleError;

/// The only algorithm a capsule is signed with.
pub const SIGNATURE_ALGORITHM: &str = "ed25519";

/// `capsule.sig`: the signature of the exact bytes of `capsule.json`, and the public key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Signature {
    pub algorithm: String,
    /// Hex of the 32-byte public key.
    pub public_key: String,
    /// Hex of the 64-byte signature.
    pub signature: String,
}

/// The key an installation signs its capsules with.
pub struct InstallationKey(SigningKey);

impl std::fmt::Debug for InstallationKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "InstallationKey({})", self.public_key_hex())
    }
}

impl InstallationKey {
    /// A new random key.
    pub fn generate() -> Self {
        Self(SigningKey::generate(&mut rand_core::OsRng))
    }

    /// The key from its 32 secret bytes in hex (as [`InstallationKey::to_hex`] writes them).
    pub fn from_hex(text: &str) -> Result<Self, CapsuleError> {
        let bytes = hex::decode(text.trim())
            .map_err(|error| CapsuleError::InvalidKey(error.to_string()))?;
        let bytes: [u8; 32] =
            bytes.try_into().map_err(|_| CapsuleError::InvalidKey("expected 32 bytes".into()))?;
        Ok(Self(SigningKey::from_bytes(&bytes)))
    }

    /// The secret bytes in hex, for the key file.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0.to_bytes())
    }

    pub fn public_key_hex(&self) -> String {
        hex::encode(self.0.verifying_key().to_bytes())
    }

    /// Signs `message` (the bytes of `capsule.json`).
    pub fn sign(&self, message: &[u8]) -> Signature {
        Signature {
            algorithm: SIGNATURE_ALGORITHM.to_owned(),
            public_key: self.public_key_hex(),
            signature: hex::encode(self.0.sign(message).to_bytes()),
        }
    }
}

/// Checks `signature` over `message` with the public key it carries.
pub(crate) fn check(signature: &Signature, message: &[u8]) -> Result<(), CapsuleError> {
    let bad = |message: &str| CapsuleError::BadSignature(message.to_owned());
    if signature.algorithm != SIGNATURE_ALGORITHM {
        return Err(bad("the algorithm is not ed25519"));
    }
    let key: [u8; 32] = hex::decode(&signature.public_key)
        .ok()
        .and_then(|bytes| bytes.try_into().ok())
        .ok_or_else(|| bad("the public key is not 32 bytes of hex"))?;
    let key =
        VerifyingKey::from_bytes(&key).map_err(|_| bad("the public key is not a valid point"))?;
    let value: [u8; 64] = hex::decode(&signature.signature)
        .ok()
        .and_then(|bytes| bytes.try_into().ok())
        .ok_or_else(|| bad("the signature is not 64 bytes of hex"))?;
    key.verify_strict(message, &ed25519_dalek::Signature::from_bytes(&value))
        .map_err(|_| bad("it was not made over this manifest with this key"))
}

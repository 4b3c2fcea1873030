//! The capsule crate's one error type.

/// Why a capsule could not be built or does not verify.
#[derive(Debug, thiserror::Error)]
pub enum CapsuleError {
    /// A project file's path is not a safe relative path.
    #[error("unsafe path `{0}`: paths are relative, use `/`, and never contain `..`")]
    UnsafePath(String),
    /// Over a size or count limit.
    #[error("{0}")]
    TooLarge(String),
    /// The archive is not a zip, or a part of it cannot be read.
    #[error("not a readable capsule: {0}")]
    Unreadable(String),
    /// The archive holds a link, a directory entry or something else than plain files.
    #[error("`{0}` is not a plain file")]
    NotAFile(String),
    /// A file's content does not match the manifest, or files are missing or extra.
    #[error("{0}")]
    Mismatch(String),
    /// The signature does not match the manifest or the key.
    #[error("the signature does not verify: {0}")]
    BadSignature(String),
    /// The installation key cannot be read.
    #[error("invalid installation key: {0}")]
    InvalidKey(String),
}

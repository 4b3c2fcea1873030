//! The engine's one error type.

/// What can go wrong between a description and a spec.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EngineError {
    /// The description is over the size limit.
    #[error("the description is {bytes} bytes; at most {limit} bytes are read")]
    DescriptionTooLong { bytes: usize, limit: usize },
    /// Nothing in the description reads as a thing to keep track of.
    #[error(
        "I could not find anything for the app to keep track of. Say what it stores and what each thing has, for example: \"A library where members borrow books. Books have a title, an author and an ISBN.\""
    )]
    NothingToBuild,
    /// A spec breaks a rule (names, references, limits).
    #[error("invalid spec: {0}")]
    InvalidSpec(String),
}

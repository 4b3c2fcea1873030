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
    /// No stack has this id.
    #[error("unknown stack `{stack}`; choose one of: {known}")]
    UnknownStack { stack: String, known: String },
    /// A template failed to render (a bug in a template, reported with its name).
    #[error("template error: {0}")]
    Template(String),
    /// The model could not be asked, or answered something unreadable.
    #[error("the model failed: {0}")]
    Model(String),
    /// The generated project failed its checks or its tests.
    #[error("{0}")]
    Validation(String),
    /// The sandbox could not run the tests.
    #[error("the sandbox failed: {0}")]
    Sandbox(String),
    /// Dependencies were refused or could not be installed.
    #[error("dependencies: {0}")]
    Dependencies(String),
    /// A spec breaks a rule (names, references, limits).
    #[error("invalid spec: {0}")]
    InvalidSpec(String),
}

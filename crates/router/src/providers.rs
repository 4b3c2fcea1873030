//! One module per vendor protocol, and what the translating ones share.

pub mod anthropic;
pub mod bedrock;
pub mod openai;
pub mod scripted;
pub mod translate;

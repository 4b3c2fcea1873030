//! One module per vendor protocol.

pub mod anthropic;
pub mod openai;
pub mod scripted;

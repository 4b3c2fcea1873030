//! One module per vendor protocol.

pub mod openai;
pub mod scripted;

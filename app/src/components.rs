//! Pieces of UI shared by several pages.

pub mod app_shell;
pub mod loaded;
pub mod page_header;

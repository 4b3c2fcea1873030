//! Pieces of UI shared by several pages.

pub mod app_shell;

//! Pieces of UI shared by several pages.

pub mod app_shell;
pub mod code_editor;
pub mod loaded;
pub mod page_header;
pub mod usage_chart;

//! The files of a finished generation as the person edits them: the saved text and version of
//! each file, what is typed but not saved yet, and each file's save state for the page to show.
//! Pure, so it is tested without a browser.

use std::collections::BTreeMap;

use crate::wire::WorkspaceFileView;

/// Where a file's last save stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SaveStatus {
    Saving,
    Saved(i64),
    Failed(String),
}

/// Everything the editor knows about the files beyond the generation's events.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Workspace {
    /// Whether the saved files have been read (editing starts then).
    pub loaded: bool,
    /// Why they could not be read.
    pub load_error: Option<String>,
    /// Each file's latest saved version and its text.
    pub saved: BTreeMap<String, (i64, String)>,
    /// Text typed and not saved yet, by path.
    pub drafts: BTreeMap<String, String>,
    pub status: BTreeMap<String, SaveStatus>,
}

impl Workspace {
    /// Takes the files as the server holds them now; drafts typed meanwhile stay.
    pub fn load(&mut self, files: Vec<WorkspaceFileView>) {
        self.saved =
            files.into_iter().map(|file| (file.path, (file.version, file.content))).collect();
        self.loaded = true;
    }

    /// The text to show for `path`: the draft, else the saved text, else what the
    /// generation's events wrote.
    pub fn text_of(&self, path: &str, written: Option<&String>) -> Option<String> {
        self.drafts
            .get(path)
            .or_else(|| self.saved.get(path).map(|(_, text)| text))
            .or(written)
            .cloned()
    }

    /// Records typed text; `false` when it equals what is saved (nothing to save).
    pub fn edit(&mut self, path: &str, text: String) -> bool {
        if self.saved.get(path).is_some_and(|(_, saved)| *saved == text) {
            self.drafts.remove(path);
            return false;
        }
        self.drafts.insert(path.to_owned(), text);
        true
    }

    /// The version an edit of `path` is made on.
    pub fn base_of(&self, path: &str) -> Option<i64> {
        self.saved.get(path).map(|(version, _)| *version)
    }

    /// The draft to save for `path`, if any, marking the save as started. `None` while a save
    /// of the file is on its way: its answer starts the next one, so two saves never race.
    pub fn start_save(&mut self, path: &str) -> Option<String> {
        if self.status.get(path) == Some(&SaveStatus::Saving) {
            return None;
        }
        let draft = self.drafts.get(path).cloned()?;
        self.status.insert(path.to_owned(), SaveStatus::Saving);
        Some(draft)
    }

    /// A save of `text` as `version` succeeded; the draft goes unless more was typed since.
    pub fn saved(&mut self, path: &str, version: i64, text: String) {
        if self.drafts.get(path) == Some(&text) {
            self.drafts.remove(path);
        }
        self.saved.insert(path.to_owned(), (version, text));
        self.status.insert(path.to_owned(), SaveStatus::Saved(version));
    }

    /// The files the tree lists once the saved files are read: the workspace's own (a file a
    /// refinement added and the person rejected is not among them); before, what the events
    /// wrote.
    pub fn tree<'a>(&'a self, written: impl Iterator<Item = &'a String>) -> Vec<String> {
        if self.loaded { self.saved.keys().cloned().collect() } else { written.cloned().collect() }
    }

    /// A file left the workspace (a refinement's added file, rejected).
    pub fn omit(&mut self, path: &str) {
        self.saved.remove(path);
        self.drafts.remove(path);
        self.status.remove(path);
    }

    /// A version became the newest without typing (a restore): it replaces any draft.
    pub fn replaced(&mut self, path: &str, version: i64, text: String) {
        self.drafts.remove(path);
        self.saved(path, version, text);
    }

    pub fn failed(&mut self, path: &str, message: String) {
        self.status.insert(path.to_owned(), SaveStatus::Failed(message));
    }

    /// What the page says about `path`'s saving, in words.
    pub fn label(&self, path: &str) -> String {
        match (self.status.get(path), self.drafts.contains_key(path)) {
            (Some(SaveStatus::Failed(message)), _) => format!("Not saved: {message}"),
            (Some(SaveStatus::Saving), _) => "Saving…".to_owned(),
            (_, true) => "Unsaved changes".to_owned(),
            (Some(SaveStatus::Saved(version)), false) => format!("Saved · version {version}"),
            (None, false) => match self.saved.get(path) {
                Some((version, _)) => format!("Version {version}"),
                None => String::new(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn loaded() -> Workspace {
        let mut workspace = Workspace::default();
        workspace.load(vec![WorkspaceFileView {
            path: "app/main.py".into(),
            version: 1,
            content: "print(1)\n".into(),
        }]);
        workspace
    }

    #[test]
    fn the_tree_lists_the_written_files_until_the_workspace_is_read_then_its_own() {
        let written = ["app/main.py".to_owned(), "app/extra.py".to_owned()];
        assert_eq!(Workspace::default().tree(written.iter()), written);
        let mut workspace = loaded();
        assert_eq!(workspace.tree(written.iter()), ["app/main.py"]);
        workspace.edit("app/main.py", "print(2)\n".into());
        workspace.omit("app/main.py");
        assert!(workspace.tree(written.iter()).is_empty());
        assert_eq!(workspace.text_of("app/main.py", None), None);
    }

    #[test]
    fn an_edit_is_saved_and_shown_as_the_new_version() {
        let mut workspace = loaded();
        let path = "app/main.py";
        assert_eq!(workspace.label(path), "Version 1");
        assert!(workspace.edit(path, "print(2)\n".into()));
        assert_eq!(workspace.label(path), "Unsaved changes");
        assert_eq!(workspace.text_of(path, None).as_deref(), Some("print(2)\n"));
        assert_eq!(workspace.base_of(path), Some(1));
        let draft = workspace.start_save(path).expect("a draft");
        assert_eq!(workspace.label(path), "Saving…");
        // More typed while the save is on its way: that stays a draft, saved after it.
        workspace.edit(path, "print(3)\n".into());
        assert_eq!(workspace.start_save(path), None);
        workspace.saved(path, 2, draft);
        assert_eq!(workspace.label(path), "Unsaved changes");
        assert_eq!(workspace.base_of(path), Some(2));
        let draft = workspace.start_save(path).expect("a draft");
        workspace.saved(path, 3, draft);
        assert_eq!(workspace.label(path), "Saved · version 3");
        assert_eq!(workspace.start_save(path), None);
    }

    #[test]
    fn typing_back_the_saved_text_leaves_nothing_to_save() {
        let mut workspace = loaded();
        assert!(workspace.edit("app/main.py", "x".into()));
        assert!(!workspace.edit("app/main.py", "print(1)\n".into()));
        assert_eq!(workspace.start_save("app/main.py"), None);
    }

    #[test]
    fn a_failed_save_is_said_and_a_restore_replaces_the_draft() {
        let mut workspace = loaded();
        workspace.edit("app/main.py", "x".into());
        workspace.start_save("app/main.py");
        workspace.failed("app/main.py", "saved elsewhere".into());
        assert_eq!(workspace.label("app/main.py"), "Not saved: saved elsewhere");
        workspace.replaced("app/main.py", 4, "print(1)\n".into());
        assert_eq!(workspace.label("app/main.py"), "Saved · version 4");
        assert_eq!(workspace.text_of("app/main.py", None).as_deref(), Some("print(1)\n"));
    }

    #[test]
    fn text_comes_from_the_draft_then_the_saved_file_then_the_events() {
        let workspace = Workspace::default();
        let written = "from events".to_owned();
        assert_eq!(workspace.text_of("a", Some(&written)).as_deref(), Some("from events"));
        assert_eq!(workspace.text_of("a", None), None);
        assert_eq!(workspace.label("a"), "");
    }
}

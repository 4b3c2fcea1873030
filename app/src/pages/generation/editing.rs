//! Editing in the browser: once the generation has succeeded its files are read as saved and
//! become editable; typing saves a new version after a pause, and re-analyses the text sooner,
//! so the editor's markers follow the code.

use std::collections::BTreeMap;
use std::time::Duration;

use leptos::prelude::*;
use leptos::task::spawn_local;

use super::live::{FindingState, LiveState, markers_on};
use super::workspace::Workspace;
use crate::api::analysis::analyze_buffer;
use crate::api::files::{save_file, workspace_files};
use crate::components::code_editor::EditorMarker;

/// Quiet time after the last keystroke before a version is saved.
pub const SAVE_AFTER: Duration = Duration::from_millis(700);
/// Quiet time before the text is analysed again.
pub const ANALYSE_AFTER: Duration = Duration::from_millis(250);

/// The editing state of one generation's page.
#[derive(Clone, Copy)]
pub struct Editing {
    pub generation: StoredValue<String>,
    pub selected: RwSignal<Option<String>>,
    pub workspace: RwSignal<Workspace>,
    /// Findings from analysing typed text, by path; they replace the generation's findings
    /// of that file, in the editor's markers and in the problems list.
    pub reanalysed: RwSignal<BTreeMap<String, Vec<FindingState>>>,
    /// Bumped after each save, so the history reads again.
    pub saves: RwSignal<u64>,
    save_tick: StoredValue<u64>,
    analyse_tick: StoredValue<u64>,
}

impl Editing {
    pub fn new(generation: String, selected: RwSignal<Option<String>>) -> Self {
        Self {
            generation: StoredValue::new(generation),
            selected,
            workspace: RwSignal::new(Workspace::default()),
            reanalysed: RwSignal::new(BTreeMap::new()),
            saves: RwSignal::new(0),
            save_tick: StoredValue::new(0),
            analyse_tick: StoredValue::new(0),
        }
    }

    /// Reads the saved files once the generation has succeeded.
    pub fn load_when_succeeded(self, state: RwSignal<LiveState>) {
        let requested = StoredValue::new(false);
        Effect::new(move |_| {
            if !state.with(|state| state.status == "succeeded") || requested.get_value() {
                return;
            }
            requested.set_value(true);
            let generation = self.generation.get_value();
            spawn_local(async move {
                match workspace_files(generation).await {
                    Ok(files) => self.workspace.update(|workspace| workspace.load(files)),
                    Err(error) => {
                        self.workspace
                            .update(|workspace| workspace.load_error = Some(error.message));
                    }
                }
            });
        });
    }

    /// The person typed: keeps the draft, then analyses and saves after their pauses.
    pub fn edited(self, text: String) {
        let Some(path) = self.selected.get_untracked() else { return };
        let changed = self
            .workspace
            .try_update(|workspace| workspace.edit(&path, text.clone()))
            .unwrap_or(false);
        let analyse = next_tick(self.analyse_tick);
        let analysed_path = path.clone();
        set_timeout(
            move || {
                if self.analyse_tick.get_value() == analyse {
                    self.analyse(analysed_path, text);
                }
            },
            ANALYSE_AFTER,
        );
        if changed {
            let save = next_tick(self.save_tick);
            set_timeout(
                move || {
                    if self.save_tick.get_value() == save {
                        self.save(path);
                    }
                },
                SAVE_AFTER,
            );
        }
    }

    fn analyse(self, path: String, text: String) {
        spawn_local(async move {
            if let Ok(analysis) = analyze_buffer(path.clone(), text).await {
                let findings = analysis
                    .problems
                    .into_iter()
                    .map(|problem| FindingState {
                        path: path.clone(),
                        severity: problem.severity,
                        rule: problem.rule,
                        message: problem.message,
                        line: Some(u64::from(problem.line)),
                    })
                    .collect();
                self.reanalysed.update(|all| {
                    all.insert(path, findings);
                });
            }
        });
    }

    /// Saves the file's draft, unless a save of it is on its way (whose answer saves again).
    fn save(self, path: String) {
        let Some(draft) =
            self.workspace.try_update(|workspace| workspace.start_save(&path)).flatten()
        else {
            return;
        };
        let base = self.workspace.with_untracked(|workspace| workspace.base_of(&path));
        let generation = self.generation.get_value();
        spawn_local(async move {
            match save_file(generation, path.clone(), draft.clone(), base).await {
                Ok(saved) => {
                    self.workspace.update(|workspace| workspace.saved(&path, saved.version, draft));
                    self.saves.update(|n| *n += 1);
                    if self
                        .workspace
                        .with_untracked(|workspace| workspace.drafts.contains_key(&path))
                    {
                        self.save(path);
                    }
                }
                Err(error) => {
                    self.workspace.update(|workspace| workspace.failed(&path, error.message))
                }
            }
        });
    }

    /// The markers to draw on `path`: from the latest analysis of typed text, else the
    /// generation's findings.
    pub fn markers_of(self, path: &str, state: &LiveState) -> Vec<EditorMarker> {
        self.reanalysed.with(|reanalysed| match reanalysed.get(path) {
            Some(findings) => markers_on(findings, path),
            None => state.markers_of(path),
        })
    }
}

fn next_tick(tick: StoredValue<u64>) -> u64 {
    tick.update_value(|n| *n += 1);
    tick.get_value()
}

//! The code editor: Monaco in the browser, through the small binding in `code_editor.js`.
//!
//! Monaco is served from our own origin and loaded only when an editor has a document to
//! show, so the rest of the app stays light. The component shows one document at a time (each keeps its
//! own model, so its undo history and scroll survive switching files), streams text that only
//! grows by appending it, draws findings as markers and reports the person's edits.

use leptos::prelude::*;
use serde::Serialize;

/// A finding drawn in the editor at a line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EditorMarker {
    pub line: u64,
    /// `error`, `warning` or `info`.
    pub severity: &'static str,
    pub message: String,
    /// What found it (a rule name).
    pub source: String,
}

impl EditorMarker {
    /// A marker for an analyzer finding of `severity` (`critical`, `high`, `medium`, `low`, …).
    pub fn for_finding(line: u64, severity: &str, rule: &str, message: &str) -> Self {
        let severity = match severity {
            "critical" | "high" | "error" => "error",
            "medium" | "warning" => "warning",
            _ => "info",
        };
        Self { line, severity, message: message.to_owned(), source: rule.to_owned() }
    }
}

/// Monaco's language for a file, from its name; `plaintext` when it has none of its own.
#[cfg_attr(not(feature = "hydrate"), allow(dead_code, reason = "only the browser runs Monaco"))]
pub fn editor_language(path: &str) -> &'static str {
    let name = path.rsplit('/').next().unwrap_or(path);
    if name == "Dockerfile" || name.starts_with("Dockerfile.") {
        return "dockerfile";
    }
    if name == "Makefile" || name.starts_with('.') && name.ends_with("ignore") {
        return "shell";
    }
    let extension = name.rsplit_once('.').map_or("", |(_, extension)| extension);
    match extension.to_ascii_lowercase().as_str() {
        "rs" => "rust",
        "py" => "python",
        "ts" | "tsx" | "mts" | "cts" => "typescript",
        "js" | "jsx" | "mjs" | "cjs" => "javascript",
        "json" => "json",
        "md" | "markdown" => "markdown",
        // TOML's sections and `key = value` lines read as INI.
        "toml" | "lock" | "ini" | "cfg" => "ini",
        "yml" | "yaml" => "yaml",
        "html" | "htm" => "html",
        "css" => "css",
        "scss" => "scss",
        "sql" => "sql",
        "sh" | "bash" => "shell",
        "go" => "go",
        "java" => "java",
        "kt" | "kts" => "kotlin",
        "cs" => "csharp",
        "c" | "h" | "cc" | "cpp" | "hpp" => "cpp",
        "rb" => "ruby",
        "php" => "php",
        "swift" => "swift",
        "xml" => "xml",
        _ => "plaintext",
    }
}

/// An editor filling its box. `document` names what is shown (`None`: nothing yet).
#[component]
pub fn CodeEditor(
    #[prop(into)] document: Signal<Option<String>>,
    #[prop(into)] text: Signal<String>,
    #[prop(into)] read_only: Signal<bool>,
    #[prop(into)] markers: Signal<Vec<EditorMarker>>,
    /// Called with the whole text after each edit the person makes.
    on_change: Callback<String>,
    /// The editor's accessible name.
    label: &'static str,
) -> impl IntoView {
    let host = NodeRef::<leptos::html::Div>::new();
    #[cfg(feature = "hydrate")]
    browser::attach(host, document, text, read_only, markers, on_change, label);
    #[cfg(not(feature = "hydrate"))]
    let _ = (document, text, read_only, markers, on_change);
    view! { <div class="editor-host" node_ref=host data-label=label></div> }
}

#[cfg(feature = "hydrate")]
mod browser {
    use leptos::prelude::*;
    use wasm_bindgen::prelude::*;

    use super::{EditorMarker, editor_language};

    #[wasm_bindgen(module = "/src/components/code_editor.js")]
    extern "C" {
        pub type EditorHandle;

        #[wasm_bindgen(constructor)]
        fn new(
            host: &web_sys::HtmlElement,
            label: &str,
            on_change: &Closure<dyn FnMut(String)>,
        ) -> EditorHandle;

        #[wasm_bindgen(method)]
        fn show(this: &EditorHandle, key: &str, language: &str, text: &str, read_only: bool);

        #[wasm_bindgen(method, js_name = setMarkers)]
        fn set_markers(this: &EditorHandle, json: &str);

        #[wasm_bindgen(method)]
        fn dispose(this: &EditorHandle);
    }

    /// The editor and the closure it calls, kept together so they are dropped together.
    struct Attached {
        handle: EditorHandle,
        _on_change: Closure<dyn FnMut(String)>,
    }

    pub(super) fn attach(
        host: NodeRef<leptos::html::Div>,
        document: Signal<Option<String>>,
        text: Signal<String>,
        read_only: Signal<bool>,
        markers: Signal<Vec<EditorMarker>>,
        on_change: Callback<String>,
        label: &'static str,
    ) {
        let attached = StoredValue::new_local(None::<Attached>);
        // Set once the editor exists, so that what was asked for before is shown then.
        let created = RwSignal::new(false);
        // Monaco is loaded when there is a first document to show: parsing it takes the main
        // thread for a moment, which should not delay what the page shows before that.
        Effect::new(move |_| {
            let Some(element) = host.get() else { return };
            if document.with(Option::is_none) || attached.with_value(Option::is_some) {
                return;
            }
            let closure =
                Closure::<dyn FnMut(String)>::new(move |text: String| on_change.run(text));
            let handle = EditorHandle::new(&element, label, &closure);
            attached.set_value(Some(Attached { handle, _on_change: closure }));
            created.set(true);
        });
        Effect::new(move |_| {
            let key = document.get();
            let text = text.get();
            let read_only = read_only.get();
            created.track();
            let Some(key) = key else { return };
            attached.with_value(|attached| {
                if let Some(attached) = attached {
                    attached.handle.show(&key, editor_language(&key), &text, read_only);
                }
            });
        });
        Effect::new(move |_| {
            let json = markers.with(|markers| serde_json::to_string(markers).unwrap_or_default());
            created.track();
            attached.with_value(|attached| {
                if let Some(attached) = attached {
                    attached.handle.set_markers(&json);
                }
            });
        });
        on_cleanup(move || {
            if let Some(attached) = attached.try_update_value(Option::take).flatten() {
                attached.handle.dispose();
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_of_file_the_engine_writes_gets_a_language() {
        let cases = [
            ("src/main.rs", "rust"),
            ("app/models.py", "python"),
            ("src/books.test.ts", "typescript"),
            ("package.json", "json"),
            ("README.md", "markdown"),
            ("Cargo.toml", "ini"),
            ("Cargo.lock", "ini"),
            ("pyproject.toml", "ini"),
            ("Dockerfile", "dockerfile"),
            (".gitignore", "shell"),
            (".dockerignore", "shell"),
            ("requirements.txt", "plaintext"),
            ("web/index.HTML", "html"),
            ("no_extension", "plaintext"),
        ];
        for (path, language) in cases {
            assert_eq!(editor_language(path), language, "{path}");
        }
    }

    #[test]
    fn finding_severities_map_to_marker_severities() {
        let cases = [
            ("critical", "error"),
            ("high", "error"),
            ("medium", "warning"),
            ("low", "info"),
            ("info", "info"),
        ];
        for (finding, marker) in cases {
            assert_eq!(EditorMarker::for_finding(3, finding, "r", "m").severity, marker);
        }
    }
}

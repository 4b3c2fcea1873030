// The small binding between the pages and Monaco.
//
// Monaco (npm monaco-editor, AMD build) is served from our own origin at /monaco/vs; it is
// loaded the first time a page makes an editor, never by pages without one. An EditorHandle
// can be used at once: what it is asked to show before Monaco has loaded is applied when it
// has. Text that only grows (a file a model is still writing) is appended at the end, so the
// view does not jump back to the top with every piece.

const MONACO_BASE = "/monaco/vs";
let loading = null;

function loadMonaco() {
  if (globalThis.monaco && globalThis.monaco.editor) return Promise.resolve(globalThis.monaco);
  if (loading) return loading;
  loading = new Promise((resolve, reject) => {
    const script = document.createElement("script");
    script.src = `${MONACO_BASE}/loader.js`;
    script.onload = () => {
      globalThis.require.config({ paths: { vs: MONACO_BASE } });
      globalThis.require(["vs/editor/editor.main"], () => resolve(globalThis.monaco), reject);
    };
    script.onerror = () => reject(new Error("the editor's code could not be downloaded"));
    document.head.appendChild(script);
  });
  loading.catch(() => {
    loading = null;
  });
  return loading;
}

// Monaco's marker severities.
const SEVERITY = { error: 8, warning: 4, info: 2 };

export class EditorHandle {
  // `host` is an empty element the editor fills; `onChange(text)` is called with the whole
  // text after each edit the person makes (never for text set through `show`).
  constructor(host, label, onChange) {
    this.host = host;
    this.onChange = onChange;
    this.editor = null;
    this.monaco = null;
    this.document = null;
    this.markers = [];
    this.models = new Map();
    this.disposed = false;
    this.applying = false;
    loadMonaco().then(
      (monaco) => {
        if (this.disposed) return;
        this.monaco = monaco;
        const dark = globalThis.matchMedia && globalThis.matchMedia("(prefers-color-scheme: dark)").matches;
        this.editor = monaco.editor.create(host, {
          model: null,
          readOnly: true,
          automaticLayout: true,
          minimap: { enabled: false },
          scrollBeyondLastLine: false,
          fontSize: 13,
          ariaLabel: label,
          theme: dark ? "vs-dark" : "vs",
        });
        this.editor.onDidChangeModelContent(() => {
          if (!this.applying) this.onChange(this.editor.getValue());
        });
        host.dataset.editor = "ready";
        this.flush();
      },
      (error) => {
        if (this.disposed) return;
        host.dataset.editor = "failed";
        host.textContent = `The editor could not be loaded (${error && error.message ? error.message : error}).`;
      },
    );
  }

  // Shows `text` as the document `key` (one model per key, so each file keeps its own undo
  // history and scroll position) in `language`, editable or not.
  show(key, language, text, readOnly) {
    this.document = { key, language, text, readOnly };
    this.flush();
  }

  // Markers as JSON: [{line, severity: "error"|"warning"|"info", message, source}].
  setMarkers(json) {
    try {
      this.markers = JSON.parse(json);
    } catch {
      this.markers = [];
    }
    this.flushMarkers();
  }

  flush() {
    if (!this.editor || !this.document) return;
    const monaco = this.monaco;
    const { key, language, text, readOnly } = this.document;
    let model = this.models.get(key);
    if (!model || model.isDisposed()) {
      model = monaco.editor.createModel(text, language);
      this.models.set(key, model);
    }
    if (this.editor.getModel() !== model) this.editor.setModel(model);
    const current = model.getValue();
    if (current !== text) {
      this.applying = true;
      try {
        if (current.length > 0 && text.startsWith(current)) {
          const end = model.getFullModelRange().getEndPosition();
          const at = new monaco.Range(end.lineNumber, end.column, end.lineNumber, end.column);
          model.applyEdits([{ range: at, text: text.slice(current.length) }]);
        } else {
          model.setValue(text);
        }
      } finally {
        this.applying = false;
      }
    }
    this.editor.updateOptions({ readOnly });
    this.host.dataset.readOnly = String(readOnly);
    this.flushMarkers();
  }

  flushMarkers() {
    if (!this.editor) return;
    const model = this.editor.getModel();
    if (!model) return;
    const lines = model.getLineCount();
    const markers = this.markers
      .filter((marker) => marker.line >= 1)
      .map((marker) => {
        const line = Math.min(marker.line, lines);
        return {
          startLineNumber: line,
          startColumn: 1,
          endLineNumber: line,
          endColumn: model.getLineMaxColumn(line),
          severity: SEVERITY[marker.severity] || SEVERITY.info,
          message: marker.message,
          source: marker.source,
        };
      });
    this.monaco.editor.setModelMarkers(model, "quantumlayer", markers);
    this.host.dataset.markers = String(markers.length);
  }

  dispose() {
    this.disposed = true;
    if (this.editor) this.editor.dispose();
    for (const model of this.models.values()) model.dispose();
    this.models.clear();
  }
}

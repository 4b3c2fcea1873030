//! The live generation view: watch the agents' steps, the file tree filling, the selected file's text (streamed
//! while a model writes it), findings and tests, live from the generation's event stream —
//! which replays from the start, so a reload shows the same state and keeps following.

#[cfg_attr(
    not(feature = "hydrate"),
    allow(
        dead_code,
        reason = "the browser applies the events; the server renders where they start"
    )
)]
mod live;

#[cfg_attr(
    not(feature = "hydrate"),
    allow(dead_code, reason = "the editor's files are read and saved by the browser")
)]
mod editing;
mod history;
mod refine;
mod workspace;

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;
use leptos_router::{LazyRoute, lazy_route};

use crate::api::generations::{CancelGeneration, generation_overview};
use crate::components::code_editor::CodeEditor;
use crate::components::page_header::PageHeader;
use crate::wire::GenerationSummary;
use editing::Editing;
use history::FileHistory;
use live::{LiveState, count_by_severity};
use refine::{RefineForm, RefinementReview};

/// A generation's page, a lazy route: its code (the editor binding, the live state, editing,
/// history and diffs) is a separate chunk of the wasm, loaded while its data is read, so the
/// other pages do not carry it.
pub struct GenerationPage {
    summary: Resource<Result<GenerationSummary, crate::AppError>>,
}

#[lazy_route]
impl LazyRoute for GenerationPage {
    fn data() -> Self {
        let params = use_params_map();
        let id = move || params.read().get("id").unwrap_or_default();
        Self { summary: Resource::new(id, generation_overview) }
    }

    fn view(this: Self) -> AnyView {
        let summary = this.summary;
        view! {
            <PageHeader title="Generation" />
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || summary.get().map(|summary| match summary {
                    Ok(summary) => view! { <LiveGeneration summary /> }.into_any(),
                    Err(e) => view! { <p class="error" role="alert">{e.message}</p> }.into_any(),
                })}
            </Transition>
        }
        .into_any()
    }
}

#[component]
fn LiveGeneration(summary: GenerationSummary) -> impl IntoView {
    let state = RwSignal::new(LiveState::new(&summary.status));
    let selected = RwSignal::new(None::<String>);
    let editing = Editing::new(summary.id.clone(), selected);
    #[cfg(feature = "hydrate")]
    {
        follow(&summary.id, state);
        editing.load_when_succeeded(state);
    }
    let cancel = ServerAction::<CancelGeneration>::new();
    let cancel_error = move || cancel.value().get().and_then(Result::err).map(|e| e.message);
    let id = StoredValue::new(summary.id.clone());
    let is_refinement = summary.parent_id.is_some();
    let status = move || {
        state.with(|state| match (state.status.as_str(), state.queue_position) {
            ("queued", Some(position)) => format!("Queued: number {position} in line"),
            ("queued", None) => "Queued".to_owned(),
            ("running", _) => "Running".to_owned(),
            ("succeeded", _) => "Succeeded".to_owned(),
            ("cancelled", _) => "Cancelled".to_owned(),
            ("failed", _) => "Failed".to_owned(),
            (other, _) => other.to_owned(),
        })
    };

    // The generation's findings, with files analysed again as they were typed in.
    let findings = Memo::new(move |_| {
        editing.reanalysed.with(|reanalysed| state.with(|state| state.current_findings(reanalysed)))
    });

    view! {
        <section class="card generation-head" aria-label="Generation">
            <p class="description">{summary.description.clone()}</p>
            <p class="muted">{format!("{} · model {}", summary.stack, summary.model)}</p>
            {summary.parent_id.clone().map(|parent| view! {
                <p class="refines">
                    "Refines "<a href=format!("/generations/{parent}")>"an earlier generation"</a>
                    {format!(": \u{201c}{}\u{201d}", summary.instruction.clone().unwrap_or_default())}
                </p>
            })}
            <p role="status" class=move || format!("status status-{}", state.with(|s| s.status.clone()))>
                {status}
            </p>
            <p class="error" role="alert">
                {move || state.with(|s| s.error.clone())}
                {cancel_error}
            </p>
            <div class="actions">
                // With the workspace's edits, once there are any.
                {move || state.with(|s| s.capsule.is_some()).then(|| view! {
                    <a class="button-primary" href=format!("/api/generations/{}/capsule", id.get_value()) download="">"Download capsule"</a>
                })}
                <Show when=move || !state.with(LiveState::is_over)>
                    <ActionForm action=cancel>
                        <input type="hidden" name="id" value=id.get_value() />
                        <button type="submit" class="button-quiet" disabled=move || cancel.pending().get()>"Cancel"</button>
                    </ActionForm>
                </Show>
            </div>
        </section>
        <div class="generation">
            <section class="card steps" aria-label="Steps">
                <h2>"Steps"</h2>
                <ol class="timeline">
                    <For each=move || state.with(|s| s.steps.clone()) key=|step| (step.step.clone(), step.status.clone(), step.attempt) let:step>
                        <li class=format!("step step-{}", step.status)>
                            <span class="step-name">{step.step.clone()}</span>
                            <span class="step-status">{step_status(&step)}</span>
                        </li>
                    </For>
                </ol>
            </section>
            <section class="card files" aria-label="Files">
                <h2>"Files"</h2>
                <ul class="file-tree">
                    <For each=move || state.with(|s| editing.workspace.with(|w| w.tree(s.files.keys()))) key=|path| path.clone() let:path>
                        <li><FileButton path selected /></li>
                    </For>
                </ul>
            </section>
            <section class="card code" aria-label="Code">
                <div class="code-head">
                    <h2>{move || selected.get().unwrap_or_else(|| "Select a file".to_owned())}</h2>
                    <span class="save-state" role="status" aria-label="Save state">{move || {
                        let path = selected.get()?;
                        editing.workspace.with(|workspace| {
                            workspace.load_error.clone().or_else(|| Some(workspace.label(&path)))
                        })
                    }}</span>
                </div>
                <CodeEditor
                    document=Signal::derive(move || selected.get())
                    text=Signal::derive(move || {
                        selected.with(|path| {
                            let path = path.as_ref()?;
                            state.with(|s| editing.workspace.with(|w| w.text_of(path, s.files.get(path))))
                        })
                        .unwrap_or_default()
                    })
                    read_only=Signal::derive(move || !editing.workspace.with(|w| w.loaded))
                    markers=Signal::derive(move || selected.with(|path| {
                        path.as_ref().map(|path| state.with(|s| editing.markers_of(path, s))).unwrap_or_default()
                    }))
                    on_change=Callback::new(move |text: String| editing.edited(text))
                    label="File contents"
                />
            </section>
        </div>
        <Show when=move || editing.workspace.with(|w| w.loaded) && selected.with(Option::is_some)>
            <FileHistory editing />
        </Show>
        <Show when=move || editing.workspace.with(|w| w.loaded)>
            {is_refinement.then(|| view! { <RefinementReview editing /> })}
            <RefineForm generation=id.get_value() />
        </Show>
        <div class="generation-results">
            <section class="card" aria-label="Problems">
                <h2>"Problems"</h2>
                {move || {
                    let (high, medium, low) = count_by_severity(&findings.read());
                    format!("{high} high, {medium} medium, {low} low")
                }}
                <ul class="problems">
                    {move || findings.read().iter().take(100).map(|finding| {
                        let place = finding.line.map_or_else(|| finding.path.clone(), |line| format!("{}:{line}", finding.path));
                        view! { <li><span class=format!("severity severity-{}", finding.severity)>{finding.severity.clone()}</span>" "{place}" — "{finding.message.clone()}</li> }
                    }).collect_view()}
                </ul>
            </section>
            <section class="card" aria-label="Tests">
                <h2>"Tests"</h2>
                <p>{move || state.with(|s| match &s.tests {
                    None if s.test_cases > 0 => format!("{} tests reported…", s.test_cases),
                    None => "Not run yet.".to_owned(),
                    Some(tests) if tests.skipped => "Skipped.".to_owned(),
                    Some(tests) => {
                        let coverage = tests.coverage_percent.map_or_else(String::new, |p| format!(", {p:.1}% covered"));
                        format!("{} passed, {} failed{coverage}", tests.passed, tests.failed)
                    }
                })}</p>
            </section>
        </div>
    }
}

/// A file of the tree; pressed while its text is shown.
#[component]
fn FileButton(path: String, selected: RwSignal<Option<String>>) -> impl IntoView {
    let shown = path.clone();
    let pressed = move || selected.with(|selected| selected.as_deref() == Some(shown.as_str()));
    let label = path.clone();
    view! {
        <button type="button" class="file" aria-pressed=move || pressed().to_string()
            on:click=move |_| selected.set(Some(path.clone()))>
            {label}
        </button>
    }
}

fn step_status(step: &live::StepState) -> String {
    let attempt =
        if step.attempt > 1 { format!(" (attempt {})", step.attempt) } else { String::new() };
    match (step.status.as_str(), step.seconds) {
        ("succeeded", Some(seconds)) => format!("done in {seconds:.1} s{attempt}"),
        ("failed", _) => format!("failed{attempt}: {}", step.error.clone().unwrap_or_default()),
        (status, _) => format!("{status}{attempt}"),
    }
}

/// Follows the generation's event stream in the browser until its final event; the
/// browser's `EventSource` resumes after the last event it saw when the connection drops.
#[cfg(feature = "hydrate")]
fn follow(id: &str, state: RwSignal<LiveState>) {
    use wasm_bindgen::JsCast;
    use wasm_bindgen::closure::Closure;

    let Ok(source) = web_sys::EventSource::new(&format!("/api/generations/{id}/events")) else {
        return;
    };
    let closing = source.clone();
    let handler =
        Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |event: web_sys::MessageEvent| {
            let kind = event.type_();
            let seq = event.last_event_id().parse::<i64>().unwrap_or(0);
            let data = event
                .data()
                .as_string()
                .and_then(|data| serde_json::from_str::<serde_json::Value>(&data).ok())
                .unwrap_or_default();
            state.update(|state| state.apply(seq, &kind, &data));
            if live::FINAL.contains(&kind.as_str()) {
                closing.close();
            }
        });
    for kind in live::KINDS {
        let _ = source.add_event_listener_with_callback(kind, handler.as_ref().unchecked_ref());
    }
    // The listener lives as long as the page's event source.
    handler.forget();
    let source = send_wrapper::SendWrapper::new(source);
    on_cleanup(move || source.close());
}

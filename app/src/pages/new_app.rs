//! New app: describe an app, read the spec the extractor makes of it and fix it where it
//! misunderstood (entities, fields, relations, actions), pick a stack and a model, generate.

mod spec_editor;

use leptos::prelude::*;
use leptos_router::hooks::use_navigate;
use leptos_router::{LazyRoute, lazy_route};

use crate::AppError;
use crate::api::generations::{PreviewSpec, StartGeneration, new_app_choices};
use crate::components::page_header::PageHeader;
use crate::wire::GenerationOptions;
use spec_editor::SpecEditor;

/// The New app page, a lazy route: its form and the spec editor are a chunk of the wasm of
/// their own, loaded while the stacks and models are read, so other pages do not carry them.
pub struct NewAppPage {
    options: Resource<Result<GenerationOptions, AppError>>,
}

#[lazy_route]
impl LazyRoute for NewAppPage {
    fn data() -> Self {
        Self { options: Resource::new(|| (), |()| new_app_choices()) }
    }

    fn view(this: Self) -> AnyView {
        view! { <NewApp options=this.options /> }.into_any()
    }
}

#[component]
fn NewApp(options: Resource<Result<GenerationOptions, AppError>>) -> impl IntoView {
    let start = ServerAction::<StartGeneration>::new();
    let error = move || start.value().get().and_then(Result::err).map(|e| e.message);
    let description = RwSignal::new(String::new());
    let preview = ServerAction::<PreviewSpec>::new();
    let navigate = use_navigate();
    Effect::new(move || {
        if let Some(Ok(id)) = start.value().get() {
            navigate(&format!("/generations/{id}"), Default::default());
        }
    });

    view! {
        <PageHeader title="New app" />
        <section class="card form-card new-app" aria-label="New app">
            <ActionForm action=start>
                <label>
                    "Describe your app"
                    <textarea name="description" rows="6" required maxlength="20000" bind:value=description
                        placeholder="A library where members borrow books. Books have a title, an author and an ISBN."></textarea>
                </label>
                <button type="button" class="button-quiet"
                    disabled=move || description.with(|text| text.trim().is_empty()) || preview.pending().get()
                    on:click=move |_| {
                        preview.dispatch(PreviewSpec { description: description.get_untracked() });
                    }>
                    {move || if preview.value().with(|read| matches!(read, Some(Ok(_)))) { "Read the description again" } else { "Preview spec" }}
                </button>
                <SpecPreviewPanel preview />
                <Suspense fallback=|| view! { <p class="muted">"Loading stacks and models…"</p> }>
                    {move || options.get().map(|options| match options {
                        Ok(options) => {
                            let stacks = options.stacks.into_iter().map(|stack| {
                                let text = format!("{} — {}", stack.id, stack.label);
                                view! { <option value=stack.id>{text}</option> }
                            }).collect_view();
                            let models = options.models.into_iter().map(|model| {
                                let text = if model == "builtin" {
                                    "builtin — the offline engine".to_owned()
                                } else {
                                    model.clone()
                                };
                                view! { <option value=model>{text}</option> }
                            }).collect_view();
                            view! {
                                <div class="row">
                                    <label>"Stack" <select name="stack" required>{stacks}</select></label>
                                    <label>"Model" <select name="model" required>{models}</select></label>
                                </div>
                            }.into_any()
                        }
                        Err(e) => view! { <p class="error" role="alert">{e.message}</p> }.into_any(),
                    })}
                </Suspense>
                <label class="inline">
                    <input type="checkbox" name="run_tests" value="on" checked />
                    " Run its tests in the sandbox"
                </label>
                <p class="error" role="alert">{error}</p>
                <button type="submit" class="button-primary" disabled=move || start.pending().get()>
                    {move || if start.pending().get() { "Starting…" } else { "Generate" }}
                </button>
            </ActionForm>
        </section>
    }
}

/// What the extractor read, as a form to correct, with its questions. While it is shown,
/// Generate builds this spec rather than reading the description again.
#[component]
fn SpecPreviewPanel(preview: ServerAction<PreviewSpec>) -> impl IntoView {
    view! {
        <section class="spec-preview" aria-label="Spec" aria-live="polite">
            {move || preview.value().get().map(|result| match result {
                Ok(preview) => {
                    let questions = (!preview.questions.is_empty()).then(|| view! {
                        <h3>"Questions"</h3>
                        <ul class="questions">
                            {preview.questions.into_iter().map(|q| view! { <li>{q}</li> }).collect_view()}
                        </ul>
                    });
                    view! {
                        <p class="muted">
                            "This is what will be built. Correct names, types and links here; "
                            "Generate uses this spec as it stands."
                        </p>
                        {questions}
                        <SpecEditor draft=preview.spec />
                    }.into_any()
                }
                Err(e) => view! { <p class="error" role="alert">{e.message}</p> }.into_any(),
            })}
        </section>
    }
}

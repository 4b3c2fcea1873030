//! The create and edit forms of a project; both show each error beside its field.

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_params_map};

use super::ProjectActions;
use crate::AppError;
use crate::api::projects::get_project;
use crate::components::loaded::show_result;

/// At `/projects/new`.
#[component]
pub fn NewProjectForm() -> impl IntoView {
    let create = expect_context::<ProjectActions>().create;
    let error = Signal::derive(move || create.value().get().and_then(Result::err));
    let succeeded = move || matches!(create.value().get(), Some(Ok(_)));
    close_when(succeeded, move || create.value().set(None));

    view! {
        <section class="card form-card" aria-label="New project">
            <h2>"New project"</h2>
            <ActionForm action=create>
                <ProjectFields name=String::new() description=String::new() error />
                <FormButtons label="Create project" pending=create.pending() />
            </ActionForm>
        </section>
    }
}

/// At `/projects/:id/edit`.
#[component]
pub fn EditProjectForm() -> impl IntoView {
    let update = expect_context::<ProjectActions>().update;
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let project = Resource::new(id, get_project);
    let error = Signal::derive(move || update.value().get().and_then(Result::err));
    let succeeded = move || matches!(update.value().get(), Some(Ok(_)));
    close_when(succeeded, move || update.value().set(None));

    view! {
        <section class="card form-card" aria-label="Rename project">
            <h2>"Rename project"</h2>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || {
                    project
                        .get()
                        .map(|result| {
                            show_result(
                                result,
                                |project| {
                                    view! {
                                        <ActionForm action=update>
                                            <input type="hidden" name="id" value=project.id />
                                            <ProjectFields
                                                name=project.name
                                                description=project.description
                                                error
                                            />
                                            <FormButtons label="Save changes" pending=update.pending() />
                                        </ActionForm>
                                    }
                                },
                            )
                        })
                }}
            </Transition>
        </section>
    }
}

/// Goes back to the list once `succeeded` turns true, after `reset` clears the action's value.
fn close_when(succeeded: impl Fn() -> bool + 'static, reset: impl Fn() + 'static) {
    let navigate = use_navigate();
    Effect::new(move || {
        if succeeded() {
            reset();
            navigate("/projects", Default::default());
        }
    });
}

#[component]
fn ProjectFields(
    name: String,
    description: String,
    error: Signal<Option<AppError>>,
) -> impl IntoView {
    let message = move |field: &'static str| error.get().and_then(|e| e.for_field(field));
    let general = move || error.get().filter(|e| e.field.is_none()).map(|e| e.message);
    view! {
        <div class="field">
            <label for="project-name">"Project name"</label>
            <input
                id="project-name"
                name="name"
                type="text"
                autocomplete="off"
                value=name
                aria-describedby="project-name-error"
                aria-invalid=move || message("name").is_some().to_string()
            />
            <p id="project-name-error" class="field-error" role="alert">
                {move || message("name")}
            </p>
        </div>
        <div class="field">
            <label for="project-description">"Description"</label>
            <textarea id="project-description" name="description" rows="3">
                {description}
            </textarea>
            <p id="project-description-error" class="field-error" role="alert">
                {move || message("description")}
            </p>
        </div>
        {move || general().map(|m| view! { <p class="error" role="alert">{m}</p> })}
    }
}

#[component]
fn FormButtons(label: &'static str, pending: Memo<bool>) -> impl IntoView {
    view! {
        <div class="actions">
            <button type="submit" class="button-primary" disabled=move || pending.get()>
                {label}
            </button>
            <A href="/projects" attr:class="button-quiet">
                "Cancel"
            </A>
        </div>
    }
}

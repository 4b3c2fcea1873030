//! The organisation's projects, and the form that creates one (at `/projects/new`).

use leptos::prelude::*;
use leptos_router::components::{A, Outlet};
use leptos_router::hooks::use_navigate;

use crate::api::projects::{CreateProject, list_projects};
use crate::components::loaded::show_list;
use crate::components::page_header::{NewProjectLink, PageHeader};
use crate::wire::ProjectView;

#[component]
pub fn ProjectsPage() -> impl IntoView {
    let create = ServerAction::<CreateProject>::new();
    provide_context(create);
    // Refetches whenever a create completes, so a new project shows without a page reload.
    let projects = Resource::new(move || create.version().get(), |_| list_projects());

    view! {
        <PageHeader title="Projects">
            <NewProjectLink />
        </PageHeader>
        <Outlet />
        <Transition fallback=|| view! { <p class="muted">"Loading projects…"</p> }>
            {move || {
                projects
                    .get()
                    .map(|result| {
                        show_list(
                            result,
                            "No projects yet. Create one to start generating code.",
                            |list| view! { <ProjectList projects=list /> },
                        )
                    })
            }}
        </Transition>
    }
}

#[component]
fn ProjectList(projects: Vec<ProjectView>) -> impl IntoView {
    view! {
        <ul class="project-list" aria-label="Projects">
            {projects
                .into_iter()
                .map(|p| {
                    view! {
                        <li class="card project" data-project-id=p.id>
                            <h2 class="project-name">{p.name}</h2>
                            {(!p.description.is_empty())
                                .then(|| view! { <p class="muted">{p.description}</p> })}
                            <p class="meta">"Created " {p.created}</p>
                        </li>
                    }
                })
                .collect_view()}
        </ul>
    }
}

/// The create form; shown above the list at `/projects/new`.
#[component]
pub fn NewProjectForm() -> impl IntoView {
    let create = expect_context::<ServerAction<CreateProject>>();
    let navigate = use_navigate();
    let error = move |field: &'static str| {
        create
            .value()
            .get()
            .and_then(Result::err)
            .and_then(|e| e.for_field(field))
    };
    let other_error = move || {
        create
            .value()
            .get()
            .and_then(Result::err)
            .filter(|e| e.field.is_none())
            .map(|e| e.message)
    };
    // Close the form once the project exists.
    Effect::new(move || {
        if let Some(Ok(_)) = create.value().get() {
            create.value().set(None);
            navigate("/projects", Default::default());
        }
    });

    view! {
        <section class="card form-card" aria-label="New project">
            <h2>"New project"</h2>
            <ActionForm action=create>
                <div class="field">
                    <label for="project-name">"Project name"</label>
                    <input
                        id="project-name"
                        name="name"
                        type="text"
                        autocomplete="off"
                        aria-describedby="project-name-error"
                        aria-invalid=move || error("name").is_some().to_string()
                    />
                    <p id="project-name-error" class="field-error" role="alert">
                        {move || error("name")}
                    </p>
                </div>
                <div class="field">
                    <label for="project-description">"Description"</label>
                    <textarea id="project-description" name="description" rows="3"></textarea>
                    <p class="field-error" role="alert">
                        {move || error("description")}
                    </p>
                </div>
                {move || other_error().map(|m| view! { <p class="error" role="alert">{m}</p> })}
                <div class="actions">
                    <button type="submit" class="button-primary" disabled=move || create.pending().get()>
                        "Create project"
                    </button>
                    <A href="/projects" attr:class="button-quiet">
                        "Cancel"
                    </A>
                </div>
            </ActionForm>
        </section>
    }
}

//! The organisation's projects (`/projects`), with the create form at `/projects/new` and the
//! edit form at `/projects/:id/edit` shown above the list.

mod form;
mod list;

use leptos::prelude::*;
use leptos_router::components::Outlet;

use crate::api::projects::{CreateProject, DeleteProject, UpdateProject, list_projects};
use crate::components::loaded::show_list;
use crate::components::page_header::{NewProjectLink, PageHeader};

pub use form::{EditProjectForm, NewProjectForm};

/// The three actions that change projects; the list refetches after any of them.
#[derive(Clone, Copy)]
struct ProjectActions {
    create: ServerAction<CreateProject>,
    update: ServerAction<UpdateProject>,
    delete: ServerAction<DeleteProject>,
}

#[component]
pub fn ProjectsPage() -> impl IntoView {
    let actions = ProjectActions {
        create: ServerAction::new(),
        update: ServerAction::new(),
        delete: ServerAction::new(),
    };
    provide_context(actions);
    // Refetches whenever a change completes, so the list updates without a page reload.
    let projects = Resource::new(
        move || {
            (
                actions.create.version().get(),
                actions.update.version().get(),
                actions.delete.version().get(),
            )
        },
        |_| list_projects(),
    );

    view! {
        <PageHeader title="Projects">
            <NewProjectLink />
        </PageHeader>
        <Outlet />
        {move || {
            actions
                .delete
                .value()
                .get()
                .and_then(Result::err)
                .map(|e| view! { <p class="error" role="alert">{e.message}</p> })
        }}
        <Transition fallback=|| view! { <p class="muted">"Loading projects…"</p> }>
            {move || {
                projects
                    .get()
                    .map(|result| {
                        show_list(
                            result,
                            "No projects yet. Create one to start generating code.",
                            |list| view! { <list::ProjectList projects=list /> },
                        )
                    })
            }}
        </Transition>
    }
}

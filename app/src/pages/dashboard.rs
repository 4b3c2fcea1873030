//! The first page after sign-in: the organisation's projects and recent activity at a glance.

use leptos::prelude::*;
use leptos_router::components::A;

use crate::api::audit::list_audit;
use crate::api::projects::list_projects;
use crate::components::loaded::{show_list, show_result};
use crate::components::page_header::{NewProjectLink, PageHeader};

/// How many audit entries the dashboard shows.
const RECENT_ACTIVITY: u32 = 5;

#[component]
pub fn DashboardPage() -> impl IntoView {
    let projects = Resource::new(|| (), |_| list_projects());
    let activity = Resource::new(|| (), |_| list_audit(RECENT_ACTIVITY));

    view! {
        <PageHeader title="Dashboard">
            <NewProjectLink />
        </PageHeader>
        <div class="grid">
            <section class="card stat">
                <h2>"Projects"</h2>
                <Transition fallback=|| "…">
                    {move || {
                        projects
                            .get()
                            .map(|r| show_result(r, |list| view! { <p class="stat-value">{list.len()}</p> }))
                    }}
                </Transition>
                <A href="/projects">"All projects →"</A>
            </section>
            <section class="card">
                <h2>"Recent activity"</h2>
                <Transition fallback=|| "…">
                    {move || {
                        activity
                            .get()
                            .map(|r| {
                                show_list(r, "Nothing has happened yet.", |list| {
                                    view! {
                                        <ul class="activity">
                                            {list
                                                .into_iter()
                                                .map(|e| {
                                                    view! {
                                                        <li>
                                                            <code>{e.action}</code>
                                                            " by "
                                                            {e.actor}
                                                            <span class="meta">" · " {e.at}</span>
                                                        </li>
                                                    }
                                                })
                                                .collect_view()}
                                        </ul>
                                    }
                                })
                            })
                    }}
                </Transition>
                <A href="/audit">"Audit log →"</A>
            </section>
        </div>
    }
}

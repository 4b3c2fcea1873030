//! The first page after sign-in: the organisation's projects and recent activity at a glance.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

use crate::api::audit::list_audit;
use crate::api::projects::list_projects;

/// How many audit entries the dashboard shows.
const RECENT_ACTIVITY: u32 = 5;

#[component]
pub fn DashboardPage() -> impl IntoView {
    let projects = Resource::new(|| (), |_| list_projects());
    let activity = Resource::new(|| (), |_| list_audit(RECENT_ACTIVITY));

    view! {
        <Title text="Dashboard" />
        <div class="page-header">
            <h1>"Dashboard"</h1>
            <A href="/projects/new" attr:class="button-primary">
                "New project"
            </A>
        </div>
        <div class="grid">
            <section class="card stat">
                <h2>"Projects"</h2>
                <Transition fallback=|| "…">
                    {move || {
                        projects
                            .get()
                            .map(|r| match r {
                                Ok(list) => view! { <p class="stat-value">{list.len()}</p> }.into_any(),
                                Err(e) => view! { <p class="error">{e.message}</p> }.into_any(),
                            })
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
                            .map(|r| match r {
                                Ok(list) if list.is_empty() => {
                                    view! { <p class="muted">"Nothing has happened yet."</p> }.into_any()
                                }
                                Ok(list) => {
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
                                        .into_any()
                                }
                                Err(e) => view! { <p class="error">{e.message}</p> }.into_any(),
                            })
                    }}
                </Transition>
                <A href="/audit">"Audit log →"</A>
            </section>
        </div>
    }
}

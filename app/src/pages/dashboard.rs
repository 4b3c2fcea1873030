//! The first page after sign-in, the organisation at a glance: its projects with their newest
//! generation, the model routes' health, tokens and cost per day, and recent activity.

use leptos::prelude::*;
use leptos_router::components::A;

use crate::api::audit::list_audit;
use crate::api::dashboard::{projects_activity, usage_per_day};
use crate::api::providers::list_route_targets;
use crate::components::loaded::show_list;
use crate::components::page_header::{NewProjectLink, PageHeader};
use crate::components::usage_chart::UsageChart;
use crate::wire::{ProjectActivityView, RouteTargetView};

/// How many days the usage chart covers.
const CHART_DAYS: u32 = 14;

/// How many audit entries the dashboard shows.
const RECENT_ACTIVITY: u32 = 5;

#[component]
pub fn DashboardPage() -> impl IntoView {
    let projects = Resource::new(|| (), |_| projects_activity());
    let targets = Resource::new(|| (), |_| list_route_targets());
    let usage = Resource::new(|| (), |_| usage_per_day(CHART_DAYS));
    let activity = Resource::new(|| (), |_| list_audit(RECENT_ACTIVITY));

    view! {
        <PageHeader title="Dashboard">
            <NewProjectLink />
        </PageHeader>
        <div class="grid dashboard">
            <section class="card" aria-label="Projects">
                <h2>"Projects"</h2>
                <Transition fallback=|| "…">
                    {move || projects.get().map(|r| show_list(r, "No projects yet.", |list| view! {
                        <ul class="project-activity">
                            {list.into_iter().map(|project| view! { <ProjectLine project /> }).collect_view()}
                        </ul>
                    }))}
                </Transition>
                <A href="/projects">"All projects →"</A>
            </section>
            <section class="card" aria-label="Model routes">
                <h2>"Model routes"</h2>
                <Transition fallback=|| "…">
                    {move || targets.get().map(|r| show_list(r, "No routes: the built-in engine answers.", |list| view! {
                        <ul class="tiles">
                            {list.into_iter().map(|target| view! { <TargetTile target /> }).collect_view()}
                        </ul>
                    }))}
                </Transition>
                <A href="/providers">"Providers →"</A>
            </section>
            <section class="card wide" aria-label="Usage">
                <h2>{format!("Tokens and cost, last {CHART_DAYS} days")}</h2>
                <Transition fallback=|| "…">
                    {move || usage.get().map(|r| show_list(r, "No usage yet.", |days| view! { <UsageChart days /> }))}
                </Transition>
                <A href="/usage">"Usage →"</A>
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

/// A project with its newest generation's state, linked to that generation.
#[component]
fn ProjectLine(project: ProjectActivityView) -> impl IntoView {
    let latest = project.generation_id.clone().map(|id| {
        let status = project.status.clone().unwrap_or_default();
        view! {
            <a href=format!("/generations/{id}") class=format!("status-pill status-{status}")>{status.clone()}</a>
            " "
            <span class="meta">{project.description.clone()}" · "{project.queued.clone()}</span>
        }
    });
    view! {
        <li>
            <A href=format!("/projects/{}/capsules", project.id)>{project.name.clone()}</A>
            " "
            {latest.map_or_else(|| view! { <span class="meta">"No generation yet"</span> }.into_any(), IntoAny::into_any)}
        </li>
    }
}

/// A route's target: healthy or not, and how fast it has been answering.
#[component]
fn TargetTile(target: RouteTargetView) -> impl IntoView {
    let health = if target.healthy { "healthy" } else { "unhealthy" };
    let latency =
        target.latency_ms.map_or_else(|| "no calls yet".to_owned(), |ms| format!("{ms:.0} ms"));
    let label =
        format!("{} via {}/{}: {health}, {latency}", target.route, target.provider, target.model);
    view! {
        <li class=format!("tile tile-{health}") aria-label=label>
            <span class="tile-route">{target.route.clone()}</span>
            <span class="tile-target">{format!("{}/{}", target.provider, target.model)}</span>
            <span class="tile-health">{health}" · "{latency}</span>
        </li>
    }
}

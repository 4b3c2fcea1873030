//! Model providers: the gateway's routes with each target's live health and latency, and the
//! providers the organisation manages itself (their API keys are sealed and never shown).

use leptos::prelude::*;

use crate::api::providers::{
    CreateProvider, CreateRoute, DeleteProvider, DeleteRoute, list_providers, list_route_targets,
    list_routes,
};
use crate::components::loaded::show_list;
use crate::components::page_header::PageHeader;
use crate::wire::{ProviderView, RouteTargetView, RouteView};

/// How often the health table refreshes, in milliseconds.
const REFRESH_MS: u64 = 5_000;

#[component]
pub fn ProvidersPage() -> impl IntoView {
    let tick = RwSignal::new(0u32);
    // In the browser only: refetch the health table every few seconds while the page is open.
    Effect::new(move || {
        if let Ok(handle) = set_interval_with_handle(
            move || tick.update(|n| *n = n.wrapping_add(1)),
            std::time::Duration::from_millis(REFRESH_MS),
        ) {
            on_cleanup(move || handle.clear());
        }
    });
    let targets = Resource::new(move || tick.get(), |_| list_route_targets());
    let create = ServerAction::<CreateProvider>::new();
    let delete = ServerAction::<DeleteProvider>::new();
    let providers = Resource::new(
        move || (create.version().get(), delete.version().get()),
        |_| list_providers(),
    );
    let error = move || create.value().get().and_then(Result::err).map(|e| e.message);
    let create_route = ServerAction::<CreateRoute>::new();
    let delete_route = ServerAction::<DeleteRoute>::new();
    let routes = Resource::new(
        move || (create_route.version().get(), delete_route.version().get()),
        |_| list_routes(),
    );
    let route_error = move || create_route.value().get().and_then(Result::err).map(|e| e.message);

    view! {
        <PageHeader title="Providers" />
        <section class="card" aria-label="Routes">
            <h2>"Routes"</h2>
            <p class="muted">
                "Model names clients send to /v1/chat/completions, and the targets each tries in turn. "
                "Health and latency refresh every few seconds."
            </p>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || targets.get().map(|r| show_list(r, "No routes are configured.", route_table))}
            </Transition>
        </section>
        <section class="card" aria-label="Your routes">
            <h2>"Your routes"</h2>
            <p class="muted">
                "Model names of your own, mapped to targets on the server's providers or yours, tried as the strategy says."
            </p>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || {
                    routes.get().map(|r| show_list(r, "No routes of your own yet.", move |list| own_route_table(list, delete_route)))
                }}
            </Transition>
            <ActionForm action=create_route>
                <div class="form-grid">
                    <label>"Model name" <input name="model" required maxlength="100" placeholder="team-fast" /></label>
                    <label>
                        "Strategy"
                        <select name="strategy">
                            <option value="priority">"Priority (in order)"</option>
                            <option value="weighted">"Weighted"</option>
                            <option value="latency">"Lowest latency"</option>
                            <option value="cost">"Cheapest"</option>
                        </select>
                    </label>
                    <label>
                        "Targets"
                        <input name="targets" required placeholder="mine/gpt-4o-mini, builtin/builtin" />
                    </label>
                </div>
                <p class="muted">"Targets are provider/model, in order; add *3 to give one a weight of 3."</p>
                <p class="error" role="alert">{route_error}</p>
                <button type="submit" disabled=move || create_route.pending().get()>"Add route"</button>
            </ActionForm>
        </section>
        <section class="card" aria-label="Your providers">
            <h2>"Your providers"</h2>
            <p class="muted">
                "Reach them as provider/model, for example mine/gpt-4o-mini. Keys are stored encrypted and never shown again."
            </p>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || {
                    providers.get().map(|r| show_list(r, "No providers yet.", move |list| provider_table(list, delete)))
                }}
            </Transition>
            <ActionForm action=create>
                <div class="form-grid">
                    <label>"Name" <input name="name" required maxlength="100" placeholder="groq" /></label>
                    <label>
                        "Kind"
                        <select name="kind">
                            <option value="openai">"OpenAI-compatible"</option>
                            <option value="anthropic">"Anthropic"</option>
                            <option value="bedrock">"AWS Bedrock"</option>
                        </select>
                    </label>
                    <label>
                        "Base URL" <input name="base_url" placeholder="https://api.groq.com/openai/v1" />
                    </label>
                    <label>"Models" <input name="models" placeholder="llama-3.1-8b-instant, llama-3.3-70b-versatile" /></label>
                    <label>"API key" <input name="api_key" type="password" autocomplete="off" /></label>
                    <label>"Region (Bedrock)" <input name="region" placeholder="us-east-1" /></label>
                </div>
                <p class="error" role="alert">{error}</p>
                <button type="submit" disabled=move || create.pending().get()>"Add provider"</button>
            </ActionForm>
        </section>
    }
}

fn route_table(targets: Vec<RouteTargetView>) -> impl IntoView {
    view! {
        <table class="table" aria-label="Route targets">
            <thead>
                <tr>
                    <th>"Route"</th>
                    <th>"Strategy"</th>
                    <th>"Provider"</th>
                    <th>"Model"</th>
                    <th>"Health"</th>
                    <th>"Latency"</th>
                </tr>
            </thead>
            <tbody>
                {targets
                    .into_iter()
                    .map(|t| {
                        let latency = t.latency_ms.map_or_else(|| "–".to_owned(), |ms| format!("{ms:.0} ms"));
                        view! {
                            <tr>
                                <td><code>{t.route}</code></td>
                                <td>{t.strategy}</td>
                                <td>{format!("{} ({})", t.provider, t.kind)}</td>
                                <td class="mono">{t.model}</td>
                                <td>
                                    {if t.healthy {
                                        view! { <span class="badge">"healthy"</span> }.into_any()
                                    } else {
                                        view! { <span class="badge error">"unhealthy"</span> }.into_any()
                                    }}
                                </td>
                                <td class="nowrap">{latency}</td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
    }
}

fn provider_table(
    providers: Vec<ProviderView>,
    delete: ServerAction<DeleteProvider>,
) -> impl IntoView {
    view! {
        <table class="table" aria-label="Providers">
            <thead>
                <tr>
                    <th>"Name"</th>
                    <th>"Kind"</th>
                    <th>"Base URL"</th>
                    <th>"Models"</th>
                    <th>"Key"</th>
                    <th></th>
                </tr>
            </thead>
            <tbody>
                {providers
                    .into_iter()
                    .map(|p| {
                        let id = p.id.clone();
                        view! {
                            <tr>
                                <td>{p.name}</td>
                                <td>{p.kind}</td>
                                <td class="mono">
                                    {p.base_url}
                                    {(!p.region.is_empty()).then(|| format!(" ({})", p.region))}
                                </td>
                                <td class="mono">{p.models.join(", ")}</td>
                                <td>{if p.has_key { "stored, encrypted" } else { "none" }}</td>
                                <td>
                                    <button
                                        class="danger"
                                        on:click=move |_| {
                                            delete.dispatch(DeleteProvider { id: id.clone() });
                                        }
                                    >
                                        "Delete"
                                    </button>
                                </td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
    }
}

fn own_route_table(routes: Vec<RouteView>, delete: ServerAction<DeleteRoute>) -> impl IntoView {
    view! {
        <table class="table" aria-label="Your routes">
            <thead>
                <tr>
                    <th>"Model name"</th>
                    <th>"Strategy"</th>
                    <th>"Targets"</th>
                    <th></th>
                </tr>
            </thead>
            <tbody>
                {routes
                    .into_iter()
                    .map(|r| {
                        let id = r.id.clone();
                        view! {
                            <tr>
                                <td><code>{r.model}</code></td>
                                <td>{r.strategy}</td>
                                <td class="mono">{r.targets.join(" → ")}</td>
                                <td>
                                    <button
                                        class="danger"
                                        on:click=move |_| {
                                            delete.dispatch(DeleteRoute { id: id.clone() });
                                        }
                                    >
                                        "Delete"
                                    </button>
                                </td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
    }
}

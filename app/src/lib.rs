//! The QuantumLayer web app: the shell, the routes and the server functions behind them.
//!
//! Built twice: with `ssr` into the server (rendering HTML and answering server functions) and
//! with `hydrate` into the browser's wasm. Server-only code is gated once, at the `mod ssr` line;
//! server functions authorize, call one service method, and convert the result to a wire type.

pub mod api;
mod components;
pub mod error;
mod pages;
pub mod wire;

#[cfg(feature = "ssr")]
pub mod ssr;

use leptos::prelude::*;
use leptos_meta::{MetaTags, Stylesheet, Title, provide_meta_context};
use leptos_router::SsrMode;
use leptos_router::components::{ParentRoute, Route, Router, Routes};
use leptos_router::{Lazy, path};

pub use error::AppError;

/// The HTML document around the app, rendered on the server.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name="color-scheme" content="light dark" />
                <link rel="icon" type="image/svg+xml" href="/favicon.svg" />
                <AutoReload options=options.clone() />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// The root component: routes inside the app shell.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    mark_hydrated();

    view! {
        <Stylesheet id="leptos" href="/pkg/quantumlayer.css" />
        <Title formatter=|page: String| format!("{page} · QuantumLayer") />
        <Router>
            <Routes fallback=pages::not_found::NotFoundPage>
                <Route path=path!("/login") view=pages::login::LoginPage />
                <ParentRoute path=path!("") view=components::app_shell::AppShell>
                    <Route path=path!("") view=pages::dashboard::DashboardPage ssr=SsrMode::Async />
                    <Route path=path!("/new") view={Lazy::<pages::new_app::NewAppPage>::new()} />
                    <Route path=path!("/generations/:id") view={Lazy::<pages::generation::GenerationPage>::new()} />
                    <ParentRoute path=path!("/projects") view=pages::projects::ProjectsPage>
                        <Route path=path!("") view=|| () />
                        <Route path=path!("/new") view=pages::projects::NewProjectForm />
                        <Route path=path!("/:id/edit") view=pages::projects::EditProjectForm />
                    </ParentRoute>
                    <Route path=path!("/projects/:id/capsules") view=pages::capsules::CapsulesPage />
                    <Route path=path!("/providers") view=pages::providers::ProvidersPage />
                    <Route path=path!("/usage") view=pages::usage::UsagePage />
                    <Route path=path!("/audit") view=pages::audit::AuditPage />
                    <Route path=path!("/settings") view=pages::settings::SettingsPage />
                </ParentRoute>
            </Routes>
        </Router>
    }
}

/// Marks `<body data-hydrated>` once the wasm has taken over, so that end-to-end tests (and
/// people debugging) can tell a hydrated page from server-rendered HTML.
fn mark_hydrated() {
    #[cfg(feature = "hydrate")]
    Effect::new(|| {
        if let Some(body) = web_sys::window().and_then(|w| w.document()).and_then(|d| d.body()) {
            let _ = body.set_attribute("data-hydrated", "true");
        }
    });
}

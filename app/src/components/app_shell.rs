//! The frame around every signed-in page: top bar with organisation and user, navigation.

use leptos::prelude::*;
use leptos_router::components::{A, Outlet, Redirect};

use crate::api::session::{SignOut, current_user};
use crate::wire::Me;

/// The signed-in person, shared with the pages below the shell.
pub type CurrentUser = Resource<Result<Option<Me>, crate::AppError>>;

const NAV: &[(&str, &str)] = &[
    ("/", "Dashboard"),
    ("/new", "New app"),
    ("/projects", "Projects"),
    ("/providers", "Providers"),
    ("/usage", "Usage"),
    ("/audit", "Audit log"),
    ("/settings", "Settings"),
];

#[component]
pub fn AppShell() -> impl IntoView {
    let me: CurrentUser = Resource::new(|| (), |_| current_user());
    provide_context(me);
    let sign_out = ServerAction::<SignOut>::new();

    view! {
        <div class="shell">
            <header class="topbar">
                <a class="brand" href="/">
                    <span class="brand-mark">"◆"</span>
                    " QuantumLayer"
                </a>
                <Transition fallback=|| ()>
                    {move || {
                        me.get()
                            .map(|result| match result {
                                Ok(Some(me)) => view! { <TopBarUser me sign_out /> }.into_any(),
                                Ok(None) => view! { <Redirect path="/login" /> }.into_any(),
                                Err(e) => view! { <span class="error">{e.message}</span> }.into_any(),
                            })
                    }}
                </Transition>
            </header>
            <div class="body">
                <nav class="sidenav" aria-label="Main">
                    <ul>
                        {NAV
                            .iter()
                            .map(|(href, label)| {
                                view! {
                                    <li>
                                        <A href=*href exact=*href == "/">
                                            {*label}
                                        </A>
                                    </li>
                                }
                            })
                            .collect_view()}
                    </ul>
                </nav>
                <main class="content">
                    <Outlet />
                </main>
            </div>
        </div>
    }
}

#[component]
fn TopBarUser(me: Me, sign_out: ServerAction<SignOut>) -> impl IntoView {
    view! {
        <div class="topbar-right">
            {me
                .local_mode
                .then(|| {
                    view! {
                        <span class="badge badge-local" title="No identity provider is configured">
                            "Local mode"
                        </span>
                    }
                })}
            <span class="org" title="Organisation">
                {me.org_name}
            </span>
            <span class="user" title=format!("Role: {}", me.role)>
                {me.user_name}
            </span>
            <ActionForm action=sign_out attr:class="inline">
                <button type="submit" class="button-quiet">
                    "Sign out"
                </button>
            </ActionForm>
        </div>
    }
}

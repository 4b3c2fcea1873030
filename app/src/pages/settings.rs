//! The organisation and account as they are now.

use crate::components::page_header::PageHeader;
use leptos::prelude::*;

use crate::components::app_shell::CurrentUser;

#[component]
pub fn SettingsPage() -> impl IntoView {
    let me = expect_context::<CurrentUser>();
    view! {
        <PageHeader title="Settings" />
        <Transition fallback=|| ()>
            {move || {
                me.get()
                    .and_then(Result::ok)
                    .flatten()
                    .map(|me| {
                        view! {
                            <section class="card">
                                <h2>"Organisation"</h2>
                                <dl class="facts">
                                    <dt>"Name"</dt>
                                    <dd>{me.org_name}</dd>
                                    <dt>"Identifier"</dt>
                                    <dd class="mono">{me.org_slug}</dd>
                                    <dt>"Your role"</dt>
                                    <dd>{me.role}</dd>
                                </dl>
                            </section>
                            <section class="card">
                                <h2>"Sign-in"</h2>
                                <p>
                                    {if me.local_mode {
                                        "Local mode: no identity provider is configured, and anyone who can reach this server signs in as the local user. Keep it on 127.0.0.1."
                                    } else {
                                        "Signed in through an identity provider."
                                    }}
                                </p>
                            </section>
                        }
                    })
            }}
        </Transition>
    }
}

//! Token use and cost per model and per day. Filled by the LLM router; says so until then.

use crate::components::page_header::PageHeader;
use leptos::prelude::*;

#[component]
pub fn UsagePage() -> impl IntoView {
    view! {
        <PageHeader title="Usage" />
        <section class="card">
            <p>
                "This page will show the tokens and cost of every model call your organisation "
                "makes, by day, model and project, against its quotas."
            </p>
            <p class="muted">"No model call has been recorded: generation is not part of this build."</p>
        </section>
    }
}

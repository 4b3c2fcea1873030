//! Token use and cost per model and per day. Filled by the LLM router; says so until then.

use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn UsagePage() -> impl IntoView {
    view! {
        <Title text="Usage" />
        <div class="page-header">
            <h1>"Usage"</h1>
        </div>
        <section class="card">
            <p>
                "This page will show the tokens and cost of every model call your organisation "
                "makes, by day, model and project, against its quotas."
            </p>
            <p class="muted">"No model call has been recorded: generation is not part of this build."</p>
        </section>
    }
}

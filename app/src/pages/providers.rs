//! Model providers of the organisation. Filled by the LLM router; says so until then.

use crate::components::page_header::PageHeader;
use leptos::prelude::*;

#[component]
pub fn ProvidersPage() -> impl IntoView {
    view! {
        <PageHeader title="Providers" />
        <section class="card">
            <p>
                "This page will list the model providers your organisation uses (OpenAI, "
                "Anthropic, Groq, AWS Bedrock, Ollama and any OpenAI-compatible server), their "
                "health, and the routes and fallback chains built on them. API keys are stored "
                "encrypted."
            </p>
            <p class="muted">
                "No provider can be configured yet: the LLM router is not part of this build."
            </p>
        </section>
    }
}

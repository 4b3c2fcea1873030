//! Model providers of the organisation. Filled by the LLM router; says so until then.

use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn ProvidersPage() -> impl IntoView {
    view! {
        <Title text="Providers" />
        <div class="page-header">
            <h1>"Providers"</h1>
        </div>
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

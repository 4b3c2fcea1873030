//! The sign-in page. Without an identity provider it offers local mode only.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::session::SignInLocal;

#[component]
pub fn LoginPage() -> impl IntoView {
    let sign_in = ServerAction::<SignInLocal>::new();
    let error = move || sign_in.value().get().and_then(Result::err).map(|e| e.message);

    view! {
        <Title text="Sign in" />
        <div class="login">
            <div class="card login-card">
                <h1>
                    <span class="brand-mark">"◆"</span>
                    " QuantumLayer"
                </h1>
                <p class="lead">"Describe an app. Get working, tested code."</p>
                <p class="muted">
                    "No identity provider is configured, so this instance runs in local mode: "
                    "one local user who owns the default organisation."
                </p>
                <ActionForm action=sign_in>
                    <button type="submit" class="button-primary wide">
                        "Continue as local user"
                    </button>
                </ActionForm>
                {move || error().map(|message| view! { <p class="error" role="alert">{message}</p> })}
            </div>
        </div>
    }
}

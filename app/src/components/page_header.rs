//! The title row of a page: the document title, the heading and the page's main actions.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

#[component]
pub fn PageHeader(
    title: &'static str,
    #[prop(optional)] children: Option<Children>,
) -> impl IntoView {
    view! {
        <Title text=title />
        <div class="page-header">
            <h1>{title}</h1>
            {children.map(|actions| actions())}
        </div>
    }
}

/// The link to the create-project form, offered on several pages.
#[component]
pub fn NewProjectLink() -> impl IntoView {
    view! {
        <A href="/projects/new" attr:class="button-primary">
            "New project"
        </A>
    }
}

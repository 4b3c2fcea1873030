//! A project's capsules: describe an app, generate it (optionally running its tests in the
//! sandbox), and download the signed archives kept for the project.

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

use crate::api::capsules::{GenerateCapsule, list_capsules, list_stacks};
use crate::components::loaded::show_list;
use crate::components::page_header::PageHeader;
use crate::wire::CapsuleView;

#[component]
pub fn CapsulesPage() -> impl IntoView {
    let params = use_params_map();
    let project_id = move || params.read().get("id").unwrap_or_default();
    let generate = ServerAction::<GenerateCapsule>::new();
    let capsules = Resource::new(
        move || (project_id(), generate.version().get()),
        |(id, _)| list_capsules(id),
    );
    let error = move || generate.value().get().and_then(Result::err).map(|e| e.message);
    let stacks = Resource::new(|| (), |()| list_stacks());

    view! {
        <PageHeader title="Capsules" />
        <section class="card" aria-label="Generate">
            <h2>"Generate"</h2>
            <ActionForm action=generate>
                <input type="hidden" name="project_id" value=project_id />
                <Suspense fallback=|| ()>
                    {move || stacks.get().map(|stacks| {
                        let options = stacks
                            .unwrap_or_default()
                            .into_iter()
                            .map(|stack| {
                                let text = format!("{} — {}", stack.id, stack.label);
                                view! { <option value=stack.id>{text}</option> }
                            })
                            .collect_view();
                        view! {
                            <label>"Stack" <select name="stack" required>{options}</select></label>
                        }
                    })}
                </Suspense>
                <label>
                    "Description"
                    <textarea name="description" rows="4" required maxlength="20480"
                        placeholder="A todo app: todos have a title, optional notes, a due date and a done flag."></textarea>
                </label>
                <label class="inline"><input type="checkbox" name="validate" value="on" />" Run its tests in the sandbox"</label>
                <p class="error" role="alert">{error}</p>
                <button type="submit" disabled=move || generate.pending().get()>
                    {move || if generate.pending().get() { "Generating…" } else { "Generate" }}
                </button>
            </ActionForm>
        </section>
        <section class="card" aria-label="Kept capsules">
            <h2>"Kept capsules"</h2>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || capsules.get().map(|r| show_list(r, "No capsules yet.", capsule_table))}
            </Transition>
        </section>
    }
}

fn capsule_table(capsules: Vec<CapsuleView>) -> impl IntoView {
    view! {
        <table class="table" aria-label="Capsules">
            <thead>
                <tr>
                    <th>"App"</th>
                    <th>"Stack"</th>
                    <th>"Files"</th>
                    <th>"Tests"</th>
                    <th>"SHA-256"</th>
                    <th></th>
                </tr>
            </thead>
            <tbody>
                {capsules
                    .into_iter()
                    .map(|c| {
                        let tests = if c.tests_ran {
                            let coverage = c.coverage_percent.map_or_else(String::new, |p| format!(", {p:.1}% covered"));
                            format!("{} passed{coverage}", c.tests_passed)
                        } else {
                            "not run".to_owned()
                        };
                        view! {
                            <tr>
                                <td>{c.app}</td>
                                <td>{c.stack}</td>
                                <td>{c.files}</td>
                                <td>{tests}</td>
                                <td class="mono">{c.sha256.chars().take(16).collect::<String>()}</td>
                                <td><a href=format!("/capsules/{}/download", c.id) download="">"Download"</a></td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
    }
}

//! The organisation's audit log: every create, update and delete, newest first.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::audit::list_audit;

/// How many entries the page shows.
const PAGE_SIZE: u32 = 200;

#[component]
pub fn AuditPage() -> impl IntoView {
    let entries = Resource::new(|| (), |_| list_audit(PAGE_SIZE));
    view! {
        <Title text="Audit log" />
        <div class="page-header">
            <h1>"Audit log"</h1>
        </div>
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || {
                entries
                    .get()
                    .map(|r| match r {
                        Ok(list) if list.is_empty() => {
                            view! { <p class="empty">"No entries yet."</p> }.into_any()
                        }
                        Ok(list) => {
                            view! {
                                <table class="table" aria-label="Audit log">
                                    <thead>
                                        <tr>
                                            <th>"When"</th>
                                            <th>"Who"</th>
                                            <th>"Action"</th>
                                            <th>"Target"</th>
                                        </tr>
                                    </thead>
                                    <tbody>
                                        {list
                                            .into_iter()
                                            .map(|e| {
                                                view! {
                                                    <tr>
                                                        <td class="nowrap">{e.at}</td>
                                                        <td>{e.actor}</td>
                                                        <td>
                                                            <code>{e.action}</code>
                                                        </td>
                                                        <td class="mono">{e.target}</td>
                                                    </tr>
                                                }
                                            })
                                            .collect_view()}
                                    </tbody>
                                </table>
                            }
                                .into_any()
                        }
                        Err(e) => view! { <p class="error">{e.message}</p> }.into_any(),
                    })
            }}
        </Transition>
    }
}

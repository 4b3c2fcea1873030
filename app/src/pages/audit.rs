//! The organisation's audit log: every create, update and delete, newest first.

use leptos::prelude::*;

use crate::api::audit::list_audit;
use crate::components::loaded::show_list;
use crate::components::page_header::PageHeader;

/// How many entries the page shows.
const PAGE_SIZE: u32 = 200;

#[component]
pub fn AuditPage() -> impl IntoView {
    let entries = Resource::new(|| (), |_| list_audit(PAGE_SIZE));
    view! {
        <PageHeader title="Audit log" />
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || {
                entries
                    .get()
                    .map(|r| {
                        show_list(r, "No entries yet.", |list| {
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
                        })
                    })
            }}
        </Transition>
    }
}

//! Showing a server function's result: the data, or its error as a sentence.

use leptos::prelude::*;

use crate::AppError;

/// Renders `ok` for a value and the error's message otherwise.
pub fn show_result<T, V: IntoView + 'static>(
    result: Result<T, AppError>,
    ok: impl FnOnce(T) -> V,
) -> AnyView {
    match result {
        Ok(value) => ok(value).into_any(),
        Err(error) => view! { <p class="error" role="alert">{error.message}</p> }.into_any(),
    }
}

/// Renders `empty` for an empty list and `some` otherwise.
pub fn show_list<T, V: IntoView + 'static>(
    result: Result<Vec<T>, AppError>,
    empty: &'static str,
    some: impl FnOnce(Vec<T>) -> V,
) -> AnyView {
    show_result(result, |list| {
        if list.is_empty() {
            view! { <p class="empty">{empty}</p> }.into_any()
        } else {
            some(list).into_any()
        }
    })
}

//! The wasm entry point: takes over the server-rendered page.

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    // Asynchronous hydration: a lazy route's code (a split-off chunk of the wasm) is loaded
    // before its server-rendered part is hydrated.
    leptos::mount::hydrate_lazy(app::App);
}

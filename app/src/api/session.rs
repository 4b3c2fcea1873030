//! Who is signed in; signing in locally and signing out.

use leptos::prelude::*;

use crate::AppError;
use crate::wire::Me;

/// The signed-in person, or `None` when nobody is.
#[server]
pub async fn current_user() -> Result<Option<Me>, AppError> {
    use crate::ssr::current_principal;
    crate::ssr::respond(async move {
        match current_principal().await {
            Ok(p) => Ok(Some(Me {
                user_name: p.user_name,
                org_name: p.org_name,
                org_slug: p.org_slug,
                role: p.role.to_string(),
                local_mode: p.is_local,
            })),
            Err(e) if e.is_unauthenticated() => Ok(None),
            Err(e) => Err(e),
        }
    })
    .await
}

/// Signs in as the local user (local mode only) and goes to the dashboard.
#[server]
pub async fn sign_in_local() -> Result<(), AppError> {
    use crate::ssr::{SESSION_ORG, SESSION_USER, services, session};
    crate::ssr::respond(async move {
        let principal = services()?.sign_in_local().await?;
        let session = session().await?;
        let store_error =
            |e: tower_sessions::session::Error| AppError::new("internal", e.to_string());
        // A new id on every sign-in, so that a session id planted before sign-in is worthless.
        session.cycle_id().await.map_err(store_error)?;
        session.insert(SESSION_USER, principal.user_id.0).await.map_err(store_error)?;
        session.insert(SESSION_ORG, principal.org_id.0).await.map_err(store_error)?;
        leptos_axum::redirect("/");
        Ok(())
    })
    .await
}

/// Ends the session and goes to the sign-in page.
#[server]
pub async fn sign_out() -> Result<(), AppError> {
    use crate::ssr::{current_principal, services, session};
    crate::ssr::respond(async move {
        if let Ok(principal) = current_principal().await {
            services()?.sign_out(&principal).await?;
        }
        session().await?.flush().await.map_err(|e| AppError::new("internal", e.to_string()))?;
        leptos_axum::redirect("/login");
        Ok(())
    })
    .await
}

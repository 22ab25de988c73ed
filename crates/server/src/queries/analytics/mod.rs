//! An app's IVR analytics over a span, from the stored counts
//! (`ivrhook_store::analytics`): never by reading reports.
//!
//! - `span`: the span asked for (`from`, `to`) and the span the counts cover.
//! - `figures`: the figures, summed from the counts.
//! - `funnel`: the most common command sequences, step by step.

mod figures;
mod funnel;
mod span;

pub(crate) use figures::{Figures, Prompt};
pub(crate) use funnel::Path;
pub(crate) use span::Span;

use crate::{error::ApiError, state::AppState};
use ivrhook_protocol::AppId;

/// `app`'s figures over `span`; 404 for an app that is not configured.
pub(crate) async fn figures(st: &AppState, app: &str, span: &Span) -> Result<Figures, ApiError> {
    if !st.accept_any_app && !st.apps.keys().any(|a: &AppId| a.as_str() == app) {
        return Err(ApiError::NotFound(format!(
            "appId: {app} is not a configured app"
        )));
    }
    let counts = st.store.analytics(app, span.from_min, span.to_min).await?;
    Ok(figures::figures(&counts))
}

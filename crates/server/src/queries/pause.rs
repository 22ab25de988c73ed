//! Pausing and resuming a destination, from the API and the dashboard alike.

use crate::{error::ApiError, state::AppState};
use ivrhook_engine::Paused;

/// Pauses (`pause`) or resumes `name`; `None` when no such destination is configured.
pub(crate) async fn switch(
    st: &AppState,
    name: &str,
    pause: bool,
) -> Result<Option<Paused>, ApiError> {
    let Some(engine) = &st.engine else {
        return Ok(None);
    };
    Ok(match pause {
        true => engine.pause(name).await?,
        false => engine.resume(name).await?,
    })
}

//! Deliveries and attempts as tables: the deliveries page, a delivery's page and a call's page
//! show them alike.

use super::frame::when;
use crate::{error::ApiError, state::AppState};
use ivrhook_store::outbox::{AttemptRow, DeliveryRow, DeliveryState};
use maud::{html, Markup};

/// Deliveries as a table, a Retry button on each dead or pending one when the viewer may
/// `operate`; with `attempts`, each delivery's attempts under it.
pub(crate) async fn delivery_rows(
    st: &AppState,
    rows: &[DeliveryRow],
    attempts: bool,
    operate: bool,
) -> Result<Markup, ApiError> {
    let mut tried = Vec::with_capacity(rows.len());
    for d in rows.iter().filter(|_| attempts) {
        tried.push(
            st.store
                .delivery(d.id)
                .await?
                .map(|(_, a)| a)
                .unwrap_or_default(),
        );
    }
    Ok(html! {
        @if rows.is_empty() { p { "No delivery matches." } }
        @else { div.scroll { table.deliveries {
            thead { tr { th { "Delivery" } th { "Destination" } th { "Call" } th { "State" }
                th { "Attempts" } th { "Next or last" } th { "Last error" } th { "Action" } } }
            tbody { @for (i, d) in rows.iter().enumerate() {
                (row(st, d, operate))
                @if let Some(a) = tried.get(i).filter(|a| !a.is_empty()) {
                    tr { td colspan="8" { details {
                        summary { (a.len()) " attempt(s)" }
                        (attempt_table(st, a))
                    } } }
                }
            } }
        } } }
    })
}

fn row(st: &AppState, d: &DeliveryRow, operate: bool) -> Markup {
    let state = d.state.as_str();
    let at = if d.state == DeliveryState::Pending {
        d.next_attempt_at_ms
    } else {
        d.finished_at_ms.unwrap_or(d.updated_at_ms)
    };
    html! {
        tr data-delivery=(d.id) {
            td { a href={ "/deliveries/" (d.id) } { (d.id) } }
            td { (d.destination) }
            td { a href={ "/calls/" (crate::queries::paging::path_segment(&d.call_id)) } { (d.call_id) } }
            td.state.(state) { (state) }
            td { (d.attempts) }
            td { (when(st, at)) }
            td { (d.last_error.as_deref().unwrap_or("")) }
            td { @if operate && d.state != DeliveryState::Delivered {
                form method="post" action={ "/deliveries/" (d.id) "/retry" } {
                    button.retry type="submit" aria-label={ "Retry delivery " (d.id) } { "Retry" }
                }
            } }
        }
    }
}

pub(crate) fn attempt_table(st: &AppState, attempts: &[AttemptRow]) -> Markup {
    html! { div.scroll { table.attempts {
        thead { tr {
            th { "Started" } th { "Took" } th { "HTTP" } th { "Code" } th { "Outcome" }
            th { "Answer or error" }
        } }
        tbody { @for a in attempts {
            tr {
                td { (when(st, a.started_at_ms)) }
                td { (a.duration_ms) " ms" }
                td { (a.http_status.map_or("—".into(), |s| s.to_string())) }
                td { (a.code.as_deref().unwrap_or("—")) }
                td.(a.outcome) { (a.outcome) }
                td { (a.error.as_deref().or(a.body_excerpt.as_deref()).unwrap_or("")) }
            }
        } }
    } } }
}

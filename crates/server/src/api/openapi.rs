//! `/openapi.json`: the `/v1` API as OpenAPI 3.1, generated from the handlers' annotations;
//! `/docs`: the same, as a page ivrhook renders itself (nothing is fetched from elsewhere).

use super::{
    analytics, call_list, calls, consumers, deliveries, events, outbound, pause, recording,
    recordings, setup, stream,
};
use crate::error::ErrorBody;
use axum::{response::Html, Json};
use serde_json::Value;
use utoipa::{
    openapi::{
        security::{HttpAuthScheme, HttpBuilder, SecurityScheme},
        OpenApi as Document,
    },
    Modify, OpenApi,
};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "ivrhook",
        description = "The /v1 API of ivrhook, a callback gateway for voice/IVR platforms. With \
                       admin_token set, every request needs Authorization: Bearer <token>."
    ),
    paths(
        calls::register, calls::timeline, recording::recording, recordings::list, call_list::list,
        events::page, events::one, stream::stream,
        consumers::list, consumers::events, consumers::ack,
        outbound::submit,
        deliveries::list, deliveries::get, deliveries::retry,
        deliveries::retry_app_range, deliveries::retry_destination_range,
        pause::pause_destination, pause::resume_destination,
        pause::pause_callback, pause::resume_callback,
        setup::apps, setup::destinations,
        analytics::json, analytics::csv,
    ),
    components(schemas(ErrorBody)),
    modifiers(&Bearer, &FirstNames),
)]
struct ApiDoc;

struct Bearer;

impl Modify for Bearer {
    fn modify(&self, doc: &mut Document) {
        let bearer = HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build();
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme("admin_token", SecurityScheme::Http(bearer));
        doc.security = Some(vec![utoipa::openapi::security::SecurityRequirement::new(
            "admin_token",
            Vec::<String>::new(),
        )]);
    }
}

/// The feed's first names (`/v1/events…`) serve the same operations as `/v1/reports…`.
struct FirstNames;

impl Modify for FirstNames {
    fn modify(&self, doc: &mut Document) {
        for (now, first) in [
            ("/v1/reports", "/v1/events"),
            ("/v1/reports/stream", "/v1/events/stream"),
            (
                "/v1/consumers/{name}/reports",
                "/v1/consumers/{name}/events",
            ),
        ] {
            let Some(mut item) = doc.paths.paths.get(now).cloned() else {
                continue;
            };
            if let Some(op) = item.get.as_mut() {
                op.operation_id = op
                    .operation_id
                    .as_ref()
                    .map(|id| format!("{id}_first_name"));
                op.deprecated = Some(utoipa::openapi::Deprecated::True);
            }
            doc.paths.paths.insert(first.to_owned(), item);
        }
    }
}

pub(crate) fn document() -> Document {
    ApiDoc::openapi()
}

/// The operator events' JSON Schema, kept where the documentation is.
const OPERATOR_EVENT: &str = include_str!("../../../../docs/operator-events.schema.json");

/// The document as served: the API, and the operator events as the component
/// `OperatorEvent` (they are sent to destinations, not answered by an operation).
pub(crate) fn served() -> Value {
    let mut doc = serde_json::to_value(document()).unwrap_or_default();
    let mut schema: Value = serde_json::from_str(OPERATOR_EVENT).unwrap_or_default();
    if let Some(schema) = schema.as_object_mut() {
        // Identifiers of a schema document of its own, not of a component.
        schema.remove("$schema");
        schema.remove("$id");
    }
    doc["components"]["schemas"]["OperatorEvent"] = schema;
    doc
}

pub async fn openapi_json() -> Json<Value> {
    Json(served())
}

/// Every operation: method, path, summary, parameters and answers, as plain HTML.
pub async fn docs() -> Html<String> {
    let doc = document();
    let mut html = String::from(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width\"><title>ivrhook API</title>\
         <style>body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;\
         padding:0 1rem}code{background:#eee;padding:0 .2rem}h2{font-size:1.1rem;\
         margin-top:2rem}</style></head><body><h1>ivrhook API</h1>\
         <p>The machine-readable document: <a href=\"/openapi.json\">/openapi.json</a>.</p>",
    );
    for (path, item) in &doc.paths.paths {
        for (method, op) in operations(item) {
            html.push_str(&format!("<h2><code>{method} {}</code></h2>", escape(path)));
            if let Some(text) = op.description.as_ref().or(op.summary.as_ref()) {
                html.push_str(&format!("<p>{}</p>", escape(text)));
            }
            let params: Vec<String> = (op.parameters.iter().flatten())
                .map(|p| format!("<code>{}</code>", escape(&p.name)))
                .collect();
            if !params.is_empty() {
                html.push_str(&format!("<p>Parameters: {}</p>", params.join(", ")));
            }
            let answers: Vec<String> = op.responses.responses.keys().cloned().collect();
            html.push_str(&format!("<p>Answers: {}</p>", answers.join(", ")));
        }
    }
    html.push_str("</body></html>");
    Html(html)
}

fn operations(
    item: &utoipa::openapi::PathItem,
) -> Vec<(&'static str, &utoipa::openapi::path::Operation)> {
    [("GET", &item.get), ("POST", &item.post)]
        .into_iter()
        .filter_map(|(m, op)| Some((m, op.as_ref()?)))
        .collect()
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_served_document_carries_the_operator_events_schema() {
        let doc = super::served();
        let schema = &doc["components"]["schemas"]["OperatorEvent"];
        assert_eq!(schema["title"], "OperatorEvent");
        assert!(schema.get("$id").is_none());
        assert!(
            doc["paths"]["/v1/deliveries"].is_object(),
            "the API is still there"
        );
    }
}

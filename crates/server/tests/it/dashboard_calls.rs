//! Finding a call in the dashboard and reading its page: the timeline to scale, the keys,
//! the hang-up and the recording (see `browser`).

use crate::{browser::*, helpers::*};
use fantoccini::{Client, Locator};

/// The width of each bar of the timeline, in drawing units.
async fn bar_widths(client: &Client) -> Vec<f64> {
    let mut widths = Vec::new();
    for bar in client
        .find_all(Locator::Css("svg.timeline rect"))
        .await
        .unwrap()
    {
        let w = bar.attr("width").await.unwrap().expect("a width");
        widths.push(w.parse().unwrap());
    }
    widths
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_is_found_by_prefix_and_its_page_draws_the_commands_to_scale() {
    let app = spawn_app().await;
    app.post_callback(call_report("shop-4711-a", 1, 1, Some("42#")).to_string())
        .await;
    app.post_callback(call_report("other-1", 1, 0, None).to_string())
        .await;
    let b = browser().await;
    b.client.goto(&app.url("/calls")).await.unwrap();
    let field = b
        .client
        .wait()
        .for_element(Locator::Css("input[name=call]"))
        .await;
    field.unwrap().send_keys("shop-47").await.unwrap();
    click(&b.client, "#search").await;
    wait_for_url(&b.client, "call=shop-47").await;
    let rows = texts_of(&b.client, "table.calls tbody tr").await;
    assert_eq!(rows.len(), 1, "only the call with that prefix: {rows:?}");
    assert!(
        rows[0].contains("hungup") && rows[0].contains("42#"),
        "{rows:?}"
    );
    screenshot(&b.client, "calls").await;
    click(&b.client, "table.calls a").await;

    assert_eq!(text_of(&b.client, "h1").await, "Call shop-4711-a");
    let commands = texts_of(&b.client, "ol.commands li").await;
    assert_eq!(commands.len(), 2, "{commands:?}");
    assert!(
        commands[0].starts_with("Playback (TTS/voice), started 17:23:22.010"),
        "{commands:?}"
    );
    assert!(
        commands[0].contains("lasted 3.000 s, code 0"),
        "{commands:?}"
    );
    assert!(
        commands[1].starts_with("DTMF collection, started 17:23:25.010"),
        "{commands:?}"
    );
    assert!(
        commands[1].ends_with("lasted 2.500 s, code 0, keys pressed: 42#"),
        "{commands:?}"
    );
    // Drawn to scale: 3.0 s and 2.5 s.
    let widths = bar_widths(&b.client).await;
    assert_eq!(widths.len(), 2);
    assert!((widths[0] / widths[1] - 1.2).abs() < 0.01, "{widths:?}");
    let marker = text_of(&b.client, "svg.timeline text.hangup").await;
    assert_eq!(marker, "hang-up (reason 16)");
    assert_eq!(text_of(&b.client, "p.hangup").await, "Hung up, reason 16.");
    let link = b.client.find(Locator::Css("a.recording")).await.unwrap();
    let href = link.attr("href").await.unwrap();
    assert_eq!(href.as_deref(), Some("https://rec.example/r.wav"));
    let player = b.client.find(Locator::Css("audio")).await.unwrap();
    assert_eq!(
        player.attr("src").await.unwrap().as_deref(),
        Some("https://rec.example/r.wav")
    );
    let time = b
        .client
        .find(Locator::Css("ol.commands time"))
        .await
        .unwrap();
    let hover = time.attr("title").await.unwrap().unwrap_or_default();
    assert_eq!(hover, "UTC 2018-01-12T09:23:22.010Z", "UTC on hover");
    screenshot(&b.client, "call").await;
    fits_a_phone(&b.client, "call").await;

    // The raw body, on demand.
    click(&b.client, "details.report summary").await;
    click(&b.client, "details.report a").await;
    let raw = text_of(&b.client, "body").await;
    assert!(raw.contains("\"callId\":\"shop-4711-a\""), "{raw}");
    b.client.close().await.unwrap();
    app.stop().await;
}

#[tokio::test]
async fn the_search_keeps_to_its_time_range_and_app_and_refuses_what_it_cannot_read() {
    let app = spawn_app().await;
    app.post_callback(report("ranged-1").to_string()).await;
    let page = |query: &str| {
        let (client, url) = (app.client.clone(), app.url(&format!("/calls?{query}")));
        async move { client.get(url).send().await.unwrap().text().await.unwrap() }
    };
    assert!(page("from=2000-01-01T00:00")
        .await
        .contains(">ranged-1</a>"));
    assert!(page("to=2000-01-01T00:00")
        .await
        .contains("No call matches."));
    assert!(page(&format!("app={APP}")).await.contains(">ranged-1</a>"));
    assert!(page("app=another").await.contains("No call matches."));
    let resp = app
        .client
        .get(app.url("/calls?from=yesterday"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 422);
    let page = resp.text().await.unwrap();
    assert!(
        page.contains("from: &quot;yesterday&quot; is not a time"),
        "{page}"
    );
    let resp = app
        .client
        .get(app.url("/calls/nobody"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
    assert!(resp
        .text()
        .await
        .unwrap()
        .contains("no report has been received or sent for nobody"));
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_destinations_page_shows_the_configuration_without_credentials() {
    let config = format!(
        "[[apps]]\nid = \"{APP}\"\ncallback_url = \"http://ops:cb-pass-123@127.0.0.1:9/cb?key=cb-query-456\"\n\
         [[destinations]]\nname = \"crm\"\nkind = \"webhook\"\nurl = \"http://u:hunter2-pass@127.0.0.1:9/h\"\n\
         secret = \"{SECRET}\"\nheaders = {{ \"X-Api-Key\" = \"header-secret-789\" }}\n"
    );
    let app = spawn_with(&config).await;
    let b = browser().await;
    b.client.goto(&app.url("/destinations")).await.unwrap();
    let rows = texts_of(&b.client, "table.destinations tbody tr").await;
    assert_eq!(rows.len(), 2, "the app's callback and crm: {rows:?}");
    assert!(
        rows.iter().any(|r| r.starts_with("crm\t0 of 16\tclosed")),
        "{rows:?}"
    );
    for summary in b
        .client
        .find_all(Locator::Css("details summary"))
        .await
        .unwrap()
    {
        summary.click().await.unwrap();
    }
    let config_shown = texts_of(&b.client, "details.config pre").await.join("\n");
    assert!(config_shown.contains("\"x-api-key\""), "{config_shown}");
    assert!(
        config_shown.contains("\"2m\""),
        "durations as written: {config_shown}"
    );
    screenshot(&b.client, "destinations").await;
    let page = b.client.source().await.unwrap();
    for secret in [
        "cb-pass-123",
        "cb-query-456",
        "hunter2-pass",
        "whsec_MfKQ",
        "header-secret-789",
    ] {
        assert!(!page.contains(secret), "{secret} is shown");
    }
    b.client.close().await.unwrap();
    app.stop().await;
}

//! The dashboard's overview and sign-in in a real browser (see `browser`).

use crate::{browser::*, helpers::*};
use fantoccini::Locator;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_overview_shows_the_hours_figures_destinations_and_calls_and_updates_live() {
    let config =
        "[[destinations]]\nname = \"crm\"\nkind = \"webhook\"\nurl = \"http://127.0.0.1:9/h\"\n";
    let app = spawn_with(config).await;
    for n in 1..=3 {
        app.post_callback(report(&format!("dash-{n}")).to_string())
            .await;
    }
    let b = browser().await;
    // The counts are stored within a second of each report.
    eventually("the overview to count 3 reports", || async {
        b.client.goto(&app.url("/")).await.unwrap();
        text_of(&b.client, "#reports-chart figcaption").await == "Reports received — 3 reports"
    })
    .await;
    let banner = text_of(&b.client, ".banner").await;
    assert!(banner.contains("open to anyone"), "{banner}");
    // The stored counts are the whole cluster's, over the range asked for.
    let counting = text_of(&b.client, "#counting").await;
    assert_eq!(counting, "Over the last hour, all nodes: 1h 24h 7d 30d");
    let bars = b
        .client
        .find_all(Locator::Css("#reports-chart rect"))
        .await
        .unwrap();
    assert!(
        (1..=2).contains(&bars.len()),
        "this minute's bar (and the last one's)"
    );
    let destinations = texts_of(&b.client, "table.destinations tbody tr").await;
    assert!(destinations[0].starts_with("crm"), "{destinations:?}");
    let calls = texts_of(&b.client, "table.calls tbody tr").await;
    assert_eq!(calls.len(), 3, "{calls:?}");
    assert!(
        calls[0].contains("dash-3") && calls[0].contains("completed"),
        "{calls:?}"
    );
    screenshot(&b.client, "overview").await;

    // A report arriving while the page is open shows without a reload.
    app.post_callback(report("dash-4").to_string()).await;
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    while text_of(&b.client, "#reports-chart figcaption").await != "Reports received — 4 reports"
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the overview did not update"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }

    fits_a_phone(&b.client, "overview").await;
    b.client.goto(&app.url("/?range=7d")).await.unwrap();
    let figures = text_of(&b.client, "#reports-chart figcaption").await;
    assert_eq!(
        figures, "Reports received — 4 reports",
        "the same reports over 7 days"
    );
    assert_eq!(text_of(&b.client, "#counting strong").await, "7d");
    let wrong = app.client.get(app.url("/?range=2h")).send().await.unwrap();
    assert_eq!(wrong.status(), 422);
    assert!(wrong.text().await.unwrap().contains("range"));
    b.client.close().await.unwrap();
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_a_token_the_dashboard_signs_in_with_an_http_only_strict_cookie() {
    let app = spawn_with("admin_token = \"dash-token-000001\"").await;
    let resp = app.client.get(app.url("/")).send().await.unwrap();
    assert_eq!(resp.status(), 401);
    assert!(resp.text().await.unwrap().contains("action=\"/signin\""));
    let resp = app
        .client
        .get(app.url("/"))
        .bearer_auth("dash-token-000001")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200, "the API's token works too");
    // The sign-in page is a page of its own, and says which tokens work.
    let resp = app.client.get(app.url("/signin")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let form = resp.text().await.unwrap();
    assert!(form.contains("action=\"/signin\""), "{form}");
    assert!(form.contains("<code>admin_token</code>"), "{form}");
    assert!(form.contains("<code>read</code>"), "{form}");

    let b = browser().await;
    b.client.goto(&app.url("/")).await.unwrap();
    let sign_in = |token: &'static str| {
        let client = b.client.clone();
        async move {
            let field = client
                .wait()
                .for_element(Locator::Css("#token"))
                .await
                .unwrap();
            field.send_keys(token).await.unwrap();
            let button = client.find(Locator::Css("#signin")).await.unwrap();
            button.click().await.unwrap();
        }
    };
    sign_in("wrong-token").await;
    let alert = text_of(&b.client, "[role=alert]").await;
    assert_eq!(alert, "That is not a token of this server.");
    screenshot(&b.client, "signin").await;
    sign_in("dash-token-000001").await;
    text_of(&b.client, ".signout").await;
    assert_eq!(text_of(&b.client, "h1").await, "Overview");
    let page = b.client.source().await.unwrap();
    assert!(!page.contains("open to anyone"), "no banner with a token");
    let script = b.client.execute("return document.cookie", vec![]).await;
    assert_eq!(script.unwrap(), json!(""), "the session cookie is HttpOnly");
    let cookie = b.client.get_named_cookie("ivrhook_session").await.unwrap();
    let flags = format!("{:?} {:?}", cookie.same_site(), cookie.http_only());
    assert_eq!(flags, "Some(Strict) Some(true)");
    let sign_out = b
        .client
        .find(Locator::Css(".signout button"))
        .await
        .unwrap();
    sign_out.click().await.unwrap();
    text_of(&b.client, "#signin").await;
    b.client.close().await.unwrap();
    app.stop().await;
}

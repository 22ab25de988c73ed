//! Destinations that misbehave do not hold the others up: one that answers after its timeout,
//! one that answers with a 100 MB body (read up to 64 KiB, the rest dropped).

use crate::{helpers::*, sink::Sink};
use axum::{body::Body, routing::post, Router};
use ivrhook_testkit::Reply;
use std::time::Duration;

/// A webhook that holds every request for a minute before answering.
async fn stalling() -> Sink {
    let sink = Sink::start().await;
    sink.always(
        Reply::status(200)
            .body("late")
            .after(Duration::from_secs(60)),
    );
    sink
}

/// A webhook that answers 200 with a 100 MB body, streamed (a body no test keeps in memory,
/// so not a `Sink`).
async fn flooding() -> String {
    let app = Router::new().route(
        "/h",
        post(|| async {
            let chunk = axum::body::Bytes::from(vec![b'x'; 1 << 20]);
            let stream = futures_util::stream::iter(
                (0..100).map(move |_| Ok::<_, std::io::Error>(chunk.clone())),
            );
            Body::from_stream(stream)
        }),
    );
    serve(app).await
}

async fn serve(app: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/h", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

fn webhook(name: &str, url: &str) -> String {
    format!(
        "[[destinations]]\nname = \"{name}\"\nkind = \"webhook\"\nurl = \"{url}\"\n\
         timeout = \"1s\"\nmax_in_flight = 2\nretry_schedule = [\"0s\", \"10m\"]\n"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalling_or_flooding_destination_does_not_hold_the_others() {
    let fast = Sink::start().await;
    let stall = stalling().await;
    let config = webhook("fast", &fast.url())
        + &webhook("stall", &stall.url())
        + &webhook("flood", &flooding().await);
    let app = spawn_with(&config).await;
    for n in 0..20 {
        let answer = app
            .post_callback(call_report(&format!("f-{n}"), n, 0, None).to_string())
            .await;
        assert_eq!(answer.code, "000000");
    }
    delivered(&app, "fast", 20).await;
    delivered(&app, "flood", 20).await;
    // The stalling one timed out on its first attempts and waits for its next (in 10 min).
    let (_, stalled) = app
        .get("/v1/deliveries?destination=stall&state=pending&limit=100")
        .await;
    let stalled = stalled["deliveries"].as_array().unwrap();
    assert_eq!(stalled.len(), 20);
    let first = format!("/v1/deliveries/{}", stalled[0]["id"]);
    eventually("the stalled attempt to time out", || async {
        let (_, one) = app.get(&first).await;
        one["attempts"][0]["error"]
            .as_str()
            .is_some_and(|e| e.contains("timed out"))
    })
    .await;
    let (_, flooded) = app.get("/v1/deliveries?destination=flood&limit=1").await;
    let (_, one) = app
        .get(&format!(
            "/v1/deliveries/{}",
            flooded["deliveries"][0]["id"]
        ))
        .await;
    let excerpt = one["attempts"][0]["bodyExcerpt"]
        .as_str()
        .unwrap_or_default();
    assert_eq!(excerpt.len(), 512, "an excerpt of what was read");
    app.stop().await;
}

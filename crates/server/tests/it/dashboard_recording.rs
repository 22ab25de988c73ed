//! The call page plays a kept recording from ivrhook's own URL, and offers an operator a
//! fresh fetch of a failed one (see `browser`).

use crate::{
    browser::*,
    helpers::*,
    recordings::{hung_up, settled},
};
use fantoccini::Locator;
use ivrhook_testkit::platform::{wav, Platform, Served};
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kept_recording_plays_from_ivrhook_and_a_failed_one_can_be_fetched_again() {
    let platform = Platform::start().await;
    let toml = format!("[[apps]]\nid = \"{APP}\"\nrecordings = true\n");
    let app = spawn_with(&toml).await;
    let kept = platform.file("/rec/played.wav", &wav(16_000, 11));
    let refused = platform.serve(
        "/rec/gone.wav",
        Served {
            always: Some(410),
            ..Served::default()
        },
    );
    assert_eq!(
        app.post_callback(hung_up("played", &kept, 0)).await.code,
        "000000"
    );
    assert_eq!(
        app.post_callback(hung_up("gone", &refused, 0)).await.code,
        "000000"
    );
    let sha = settled(&app, "played").await["sha256"].clone();
    assert_eq!(settled(&app, "gone").await["state"], "failed");
    let b = browser().await;
    b.client.goto(&app.url("/calls/played")).await.unwrap();
    assert_eq!(
        text_of(&b.client, "div.recording strong.state").await,
        "kept"
    );
    assert_eq!(
        text_of(&b.client, "code.sha256").await,
        sha.as_str().unwrap()
    );
    let audio = b.client.find(Locator::Css("audio.kept")).await.unwrap();
    let src = audio.prop("src").await.unwrap().unwrap_or_default();
    assert_eq!(
        src,
        app.url("/v1/calls/played/recording"),
        "ivrhook's own copy"
    );
    let ready = "const a = document.querySelector('audio.kept'); a.preload = 'auto'; a.load();";
    b.client.execute(ready, vec![]).await.unwrap();
    let state = "return document.querySelector('audio.kept').readyState";
    eventually_within(
        "the player to have data",
        Duration::from_secs(20),
        || async {
            let now = b.client.execute(state, vec![]).await.unwrap();
            now.as_u64().unwrap_or(0) >= 2
        },
    )
    .await;
    let played = platform.requests("/rec/played.wav");
    assert_eq!(played, [200], "played from ivrhook, not from the platform");
    screenshot(&b.client, "recording").await;
    b.client.goto(&app.url("/calls/gone")).await.unwrap();
    assert_eq!(
        text_of(&b.client, "div.recording strong.state").await,
        "failed"
    );
    let reason = text_of(&b.client, "div.recording span.reason").await;
    assert_eq!(reason, "the platform answered 410 Gone");
    click(&b.client, "div.recording button.retry").await;
    eventually("the failed recording to be fetched again", || async {
        platform.requests("/rec/gone.wav").len() == 2
    })
    .await;
    fits_a_phone(&b.client, "recording").await;
    app.stop().await;
}

//! The analytics page in a real browser (see `browser`), for the ten calls of `analytics`.

use crate::{analytics::*, browser::*, helpers::*};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_shows_the_funnel_and_the_prompt_hung_up_on_most_first() {
    let app = spawn_with(&config()).await;
    receive(&[&app]).await;
    let b = browser().await;
    b.client.goto(&app.url("/analytics")).await.unwrap();
    click(&b.client, &format!("a[href='/analytics/{APP}']")).await;
    wait_for_url(&b.client, &format!("/analytics/{APP}")).await;
    let summary = texts_of(&b.client, "#summary li").await;
    assert_eq!(
        summary,
        [
            "10\ncalls",
            "60.0 %\ncompleted",
            "40.0 %\nhung up early",
            "10 s\nmedian length",
            "12 s\np90 length"
        ],
        "{summary:?}"
    );
    let first = texts_of(&b.client, "figure.funnel:first-of-type svg text").await;
    assert_eq!(first, ["welcome — 10", "menu — 10", "choose — 6"]);
    let caption = text_of(&b.client, "figure.funnel figcaption").await;
    assert_eq!(caption, "Sequence 1: 6 calls ran exactly it");
    let rows = texts_of(&b.client, "table.prompts tbody tr").await;
    assert_eq!(
        rows,
        [
            "2\tmenu\t10\t40.0 %\t60.0 %\t5 s",
            "1\twelcome\t10\t0.0 %\t100.0 %\t3 s",
            "3\tchoose\t6\t0.0 %\t100.0 %\t2 s"
        ],
        "the highest hang-up share first"
    );
    let keys = texts_of(&b.client, "figure.keys svg text").await;
    assert_eq!(keys, ["1 — 3", "2 — 2", "(no key) — 1"]);
    screenshot(&b.client, "analytics").await;
    fits_a_phone(&b.client, "analytics").await;
    let wrong = app
        .client
        .get(app.url(&format!("/analytics/{APP}?range=2h")))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 422);
    b.client.close().await.unwrap();
    app.stop().await;
}

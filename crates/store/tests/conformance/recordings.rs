//! Kept recordings: one row per app, call and link, saying what is stored now.

use ivrhook_store::{recordings::KeptRecording, Store};

fn kept(call: &str, link: &str, sha256: &str, at: i64) -> KeptRecording {
    KeptRecording {
        app_id: "a1".into(),
        call_id: call.into(),
        link: link.into(),
        report_id: 7,
        key: format!("a1/{call}.wav"),
        size: 44,
        sha256: sha256.into(),
        content_type: "audio/wav".into(),
        kept_at_ms: at,
    }
}

pub async fn a_recording_is_kept_once_per_call_and_link(store: &dyn Store) {
    let link = "https://platform.example/rec/c1.wav";
    assert_eq!(store.kept_recording("a1", "c1", link).await.unwrap(), None);
    store
        .keep_recording(&kept("c1", link, "aa", 1_000))
        .await
        .unwrap();
    let second = kept("c1", "https://platform.example/rec/c1-b.wav", "bb", 2_000);
    store.keep_recording(&second).await.unwrap();
    store
        .keep_recording(&kept("c2", link, "cc", 1_500))
        .await
        .unwrap();
    // Kept again (a fetch that ran again after a crash): the row says what is there now.
    store
        .keep_recording(&kept("c1", link, "dd", 3_000))
        .await
        .unwrap();
    let found = store.kept_recording("a1", "c1", link).await.unwrap();
    assert_eq!(found, Some(kept("c1", link, "dd", 3_000)));
    assert_eq!(store.kept_recording("a2", "c1", link).await.unwrap(), None);
    let of_c1 = store.call_recordings("c1").await.unwrap();
    assert_eq!(
        of_c1,
        [second, kept("c1", link, "dd", 3_000)],
        "oldest first"
    );
}

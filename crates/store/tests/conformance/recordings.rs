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

/// Old recordings page oldest first past a cursor; one whose call has a fetch pending says
/// so; a forgotten one is gone.
pub async fn old_recordings_page_and_say_which_fetch_is_pending(store: &dyn Store) {
    let link = "https://platform.example/rec.wav";
    for (call, at) in [
        ("old-1", 1_000),
        ("old-2", 2_000),
        ("old-3", 3_000),
        ("new", 9_000),
    ] {
        let mut k = kept(call, link, "aa", at);
        k.app_id = crate::reports::report(call, 0).app_id.to_string();
        store.keep_recording(&k).await.unwrap();
    }
    // A second report of old-2 whose fetch is pending.
    let mut again = crate::reports::report("old-2", 1);
    again.forwards = vec![ivrhook_store::Forward {
        destination: "ivrhook:recordings".into(),
        first_attempt_at_ms: 0,
        lease: None,
    }];
    store.insert_report(again).await.unwrap();
    let page = store.old_recordings(5_000, None, 2).await.unwrap();
    let calls: Vec<(&str, bool)> = page.iter().map(|(k, p)| (k.call_id.as_str(), *p)).collect();
    assert_eq!(calls, [("old-1", false), ("old-2", true)]);
    let after = Some(page[1].0.cursor());
    let rest = store.old_recordings(5_000, after, 2).await.unwrap();
    assert_eq!(rest.len(), 1, "new is not old");
    assert_eq!(rest[0].0.call_id, "old-3");
    assert!(store.forget_recording(&page[0].0).await.unwrap());
    assert!(
        !store.forget_recording(&page[0].0).await.unwrap(),
        "gone already"
    );
    let left = store.old_recordings(5_000, None, 10).await.unwrap();
    assert_eq!(left.len(), 2);
}

//! IVR analytics counts: sums per app, hour and key, rolled into local days, capped names.

use ivrhook_store::{
    analytics::{Count, Key, Measure, DAY, HOUR},
    Store,
};
use std::collections::BTreeMap;

fn count(app: &str, at_min: i64, position: i64, prompt: &str, measure: Measure, n: i64) -> Count {
    let key = Key {
        app_id: app.into(),
        at_min,
        span_min: HOUR,
        position,
        prompt: prompt.into(),
        measure,
        label: String::new(),
    };
    Count { key, n }
}

async fn stored(store: &dyn Store, app: &str, from: i64, to: i64) -> BTreeMap<Key, i64> {
    let counts = store.analytics(app, from, to).await.unwrap();
    counts.into_iter().map(|c| (c.key, c.n)).collect()
}

/// Two flushes add to the same rows; a range holds one app's spans that start in it.
pub async fn analytics_from_every_flush_add_up(store: &dyn Store) {
    let first = [
        count("a1", 600, 1, "menu", Measure::Played, 3),
        count("a1", 600, 1, "menu", Measure::HungUp, 1),
        count("a2", 600, 1, "menu", Measure::Played, 9),
    ];
    store.add_analytics(&first).await.unwrap();
    let second = [
        count("a1", 600, 1, "menu", Measure::Played, 4),
        count("a1", 660, 2, "choose", Measure::Played, 2),
    ];
    store.add_analytics(&second).await.unwrap();
    let a1 = stored(store, "a1", 600, 720).await;
    assert_eq!(a1[&count("a1", 600, 1, "menu", Measure::Played, 0).key], 7);
    assert_eq!(a1[&count("a1", 600, 1, "menu", Measure::HungUp, 0).key], 1);
    assert_eq!(
        a1[&count("a1", 660, 2, "choose", Measure::Played, 0).key],
        2
    );
    assert_eq!(a1.len(), 3, "a2's counts are not a1's: {a1:?}");
    assert_eq!(
        stored(store, "a1", 660, 720).await.len(),
        1,
        "only hour 660"
    );
    assert_eq!(stored(store, "a2", 600, 660).await.values().sum::<i64>(), 9);
}

/// Hours before the cut move into local days, summed, once: with a zone 8 hours east of UTC
/// a local day starts at 16:00 UTC.
pub async fn hours_roll_into_local_days(store: &dyn Store) {
    let offset = 8 * 60;
    let hours: Vec<Count> = (0..72)
        .map(|h| count("a1", h * HOUR, 1, "menu", Measure::Played, 1))
        .collect();
    store.add_analytics(&hours).await.unwrap();
    store.roll_analytics(48 * HOUR, offset).await.unwrap();
    let all = stored(store, "a1", -DAY, 4 * DAY).await;
    let days: BTreeMap<i64, i64> = (all.iter())
        .filter(|(k, _)| k.span_min == DAY)
        .map(|(k, n)| (k.at_min, *n))
        .collect();
    // Local days start at -8 h, 16 h and 40 h UTC: hours 0..16 and 16..40, then 40..48.
    let expected = BTreeMap::from([(-8 * HOUR, 16), (16 * HOUR, 24), (40 * HOUR, 8)]);
    assert_eq!(days, expected);
    let hours_left = all.keys().filter(|k| k.span_min == HOUR).count();
    assert_eq!(hours_left, 24, "hours from 48 h on stay hours");
    assert_eq!(
        all.values().sum::<i64>(),
        72,
        "nothing lost or counted twice"
    );
    store.roll_analytics(48 * HOUR, offset).await.unwrap();
    let again = stored(store, "a1", -DAY, 4 * DAY).await;
    assert_eq!(again, all, "a second roll moves nothing again");
}

/// A scope admits names up to its cap, however many ask at once; the ones it holds stay.
pub async fn names_are_admitted_up_to_the_cap(store: &dyn Store) {
    let names = |r: std::ops::Range<u32>| r.map(|i| format!("p{i:02}")).collect::<Vec<_>>();
    let first = store
        .admit_names("a1", "prompt", &names(0..3), 5)
        .await
        .unwrap();
    assert_eq!(first.len(), 3);
    let (some, more) = (names(3..10), names(10..20));
    let both = tokio::join!(
        store.admit_names("a1", "prompt", &some, 5),
        store.admit_names("a1", "prompt", &more, 5),
    );
    let (x, y) = (both.0.unwrap(), both.1.unwrap());
    let held = store.admit_names("a1", "prompt", &[], 5).await.unwrap();
    assert_eq!(held.len(), 5, "{held:?}");
    assert!(names(0..3).iter().all(|n| held.contains(n)), "{held:?}");
    assert!(x.len() <= 5 && y.len() <= 5);
    let again = store
        .admit_names("a1", "prompt", &names(0..1), 5)
        .await
        .unwrap();
    assert_eq!(again.len(), 5, "a held name is held again, not added");
    let other = store
        .admit_names("a1", "keys", &names(0..2), 5)
        .await
        .unwrap();
    assert_eq!(other.len(), 2, "each scope has its own cap");
    let app2 = store
        .admit_names("a2", "prompt", &names(0..1), 5)
        .await
        .unwrap();
    assert_eq!(app2, names(0..1), "each app has its own");
}

/// Counts before the cut go, oldest first, at most the limit a step.
pub async fn old_analytics_are_pruned_oldest_first(store: &dyn Store) {
    let hours: Vec<Count> = (0..10)
        .map(|h| count("a1", h * HOUR, 1, "menu", Measure::Played, 1))
        .collect();
    store.add_analytics(&hours).await.unwrap();
    assert_eq!(store.count_analytics_before(6 * HOUR).await.unwrap(), 6);
    assert_eq!(store.prune_analytics(6 * HOUR, 4).await.unwrap(), 4);
    let left = stored(store, "a1", 0, 10 * HOUR).await;
    assert_eq!(
        left.keys().next().unwrap().at_min,
        4 * HOUR,
        "oldest went first"
    );
    assert_eq!(store.prune_analytics(6 * HOUR, 4).await.unwrap(), 2);
    assert_eq!(stored(store, "a1", 0, 10 * HOUR).await.len(), 4);
}

//! Activity counts: sums per app, minute and key, rolled into hours, pruned oldest first.

use ivrhook_store::{
    activity::{Count, CountKey, What},
    Store,
};
use std::collections::BTreeMap;

fn count(at_min: i64, app: &str, what: What, destination: &str, label: &str, n: i64) -> Count {
    let key = CountKey {
        at_min,
        span_min: 1,
        app_id: app.into(),
        what,
        destination: destination.into(),
        label: label.into(),
    };
    Count { key, n }
}

/// Every count in `from..to`, by key.
async fn stored(store: &dyn Store, from: i64, to: i64) -> BTreeMap<CountKey, i64> {
    let counts = store.activity(from, to).await.unwrap();
    counts.into_iter().map(|c| (c.key, c.n)).collect()
}

/// The sum of every count in `from..to`.
async fn total(store: &dyn Store, from: i64, to: i64) -> i64 {
    stored(store, from, to).await.values().sum()
}

/// Two flushes (two nodes, or one node twice) add to the same rows; a range holds exactly
/// the spans that start in it.
pub async fn counts_from_every_flush_add_up(store: &dyn Store) {
    let first = [
        count(100, "a1", What::Received, "", "000000", 3),
        count(100, "a1", What::Attempt, "hook", "delivered", 2),
        count(101, "a2", What::Duplicate, "", "", 1),
    ];
    store.add_activity(&first).await.unwrap();
    let second = [
        count(100, "a1", What::Received, "", "000000", 4),
        count(100, "a1", What::Received, "", "108100", 1),
        count(102, "a1", What::Answer, "hook", "HTTP 503", 5),
    ];
    store.add_activity(&second).await.unwrap();
    let all = stored(store, 100, 103).await;
    assert_eq!(
        all[&count(100, "a1", What::Received, "", "000000", 0).key],
        7
    );
    assert_eq!(
        all[&count(100, "a1", What::Received, "", "108100", 0).key],
        1
    );
    assert_eq!(
        all[&count(100, "a1", What::Attempt, "hook", "delivered", 0).key],
        2
    );
    assert_eq!(all[&count(101, "a2", What::Duplicate, "", "", 0).key], 1);
    assert_eq!(
        all[&count(102, "a1", What::Answer, "hook", "HTTP 503", 0).key],
        5
    );
    assert_eq!(all.len(), 5);
    assert_eq!(total(store, 101, 102).await, 1, "only minute 101");
    assert_eq!(total(store, 103, 200).await, 0);
    let ordered: Vec<i64> = (store.activity(0, 1_000).await.unwrap().iter())
        .map(|c| c.key.at_min)
        .collect();
    assert!(ordered.is_sorted(), "in time order: {ordered:?}");
}

/// Minutes before the cut move into their hours, summed, once; later minutes stay; a minute
/// that arrives late for a rolled hour is added to it by the next roll.
pub async fn minutes_roll_into_their_hours_once(store: &dyn Store) {
    let minutes: Vec<Count> = (0..150)
        .map(|m| count(m, "a1", What::Received, "", "000000", 1))
        .collect();
    store.add_activity(&minutes).await.unwrap();
    assert_eq!(store.roll_activity(120).await.unwrap(), 2, "hours 0 and 60");
    let all = stored(store, 0, 200).await;
    let hour = |at| CountKey {
        span_min: 60,
        ..count(at, "a1", What::Received, "", "000000", 0).key
    };
    assert_eq!(all[&hour(0)], 60);
    assert_eq!(all[&hour(60)], 60);
    assert_eq!(all.len(), 2 + 30, "two hours and the 30 minutes from 120");
    assert!(all
        .keys()
        .filter(|k| k.span_min == 1)
        .all(|k| k.at_min >= 120));
    assert_eq!(
        total(store, 0, 200).await,
        150,
        "nothing counted twice or lost"
    );
    assert_eq!(
        store.roll_activity(120).await.unwrap(),
        0,
        "nothing left to roll"
    );
    store
        .add_activity(&[count(30, "a1", What::Received, "", "000000", 2)])
        .await
        .unwrap();
    store.roll_activity(120).await.unwrap();
    assert_eq!(stored(store, 0, 60).await[&hour(0)], 62);
}

/// Two rolls at once (two nodes) move each minute once.
pub async fn concurrent_rolls_move_each_minute_once(store: &dyn Store) {
    let minutes: Vec<Count> = (0..600)
        .map(|m| count(m, "a1", What::Attempt, "hook", "delivered", 1 + m % 3))
        .collect();
    store.add_activity(&minutes).await.unwrap();
    let before = total(store, 0, 600).await;
    let (a, b) = tokio::join!(store.roll_activity(540), store.roll_activity(540));
    a.unwrap();
    b.unwrap();
    assert_eq!(total(store, 0, 600).await, before);
    let hours = stored(store, 0, 600).await;
    assert_eq!(hours.keys().filter(|k| k.span_min == 60).count(), 9);
}

/// The minutes that have a count.
async fn minutes_left(store: &dyn Store) -> Vec<i64> {
    let counts = stored(store, 0, 100).await;
    counts.keys().map(|k| k.at_min).collect()
}

/// Pruning removes the oldest counts first, at most the limit a step.
pub async fn old_counts_are_pruned_oldest_first(store: &dyn Store) {
    let minutes: Vec<Count> = (0..5)
        .map(|m| count(m * 10, "a1", What::Duplicate, "", "", 1))
        .collect();
    store.add_activity(&minutes).await.unwrap();
    assert_eq!(store.prune_activity(35, 2).await.unwrap(), 2);
    assert_eq!(minutes_left(store).await, [20, 30, 40]);
    assert_eq!(store.prune_activity(35, 2).await.unwrap(), 2);
    assert_eq!(store.prune_activity(35, 2).await.unwrap(), 0);
    assert_eq!(minutes_left(store).await, [40]);
}

//! The group writer of submissions, on a scratch database: ids, keys, lease offers, plans.
#![allow(clippy::unwrap_used)]

use super::*;
use crate::postgres::test_support::{assert_ordering_probed, kept_plan, scratch_store, PLAN_CASES};

fn job(call: &str, key: Option<&str>) -> (Job, oneshot::Receiver<Result<Submitted, StoreError>>) {
    let event = NewEvent {
        app_id: "app".try_into().unwrap(),
        destination: "app:app".into(),
        call_id: call.try_into().unwrap(),
        idempotency_key: key.map(str::to_owned),
        body: call.as_bytes().to_vec(),
        created_at_ms: 0,
        first_attempt_at_ms: 0,
        lease: None,
    };
    let (answer, answered) = oneshot::channel();
    (Job { event, answer }, answered)
}

/// Keys used in earlier groups, several in one group: each caller gets its own first
/// event's ids, from one read.
#[tokio::test]
async fn repeated_keys_in_a_group_each_get_their_first_event() {
    let (db, store) = scratch_store("ivrhook_batch_repeats", 2).await;
    let mut firsts = Vec::new();
    for key in ["a", "b"] {
        let (job, answered) = job("c1", Some(key));
        write(store.pool.clone(), vec![job]).await;
        match answered.await.unwrap().unwrap() {
            Submitted::New(ids) => firsts.push(ids),
            other => panic!("{other:?}"),
        }
    }
    let (jobs, answers): (Vec<_>, Vec<_>) = [Some("b"), None, Some("a"), Some("b")]
        .into_iter()
        .map(|k| job("c2", k))
        .unzip();
    write(store.pool.clone(), jobs).await;
    let mut got = Vec::new();
    for a in answers {
        got.push(a.await.unwrap().unwrap());
    }
    assert_eq!(got[0], Submitted::Existing(firsts[1]));
    assert!(matches!(got[1], Submitted::New(_)), "{got:?}");
    assert_eq!(got[2], Submitted::Existing(firsts[0]));
    assert_eq!(got[3], Submitted::Existing(firsts[1]));
    crate::Store::close(&store).await;
    db.drop_database().await.unwrap();
}

/// The read of repeated keys looks each up in the keys' index, whatever the kept plan was
/// made from: a scan of every event per group would make each repeat cost the table.
#[tokio::test]
async fn the_repeated_keys_read_uses_the_key_index_whatever_it_was_planned_on() {
    let (db, store) = scratch_store("ivrhook_plans_existing", 2).await;
    let client = store.client().await.unwrap();
    for (case, before, after) in PLAN_CASES {
        let plan = kept_plan(&client, EXISTING, "ARRAY['app'], ARRAY['k']", before, after).await;
        // Each key by its index, each delivery by its event: nothing read whole.
        assert!(
            plan.contains("using outbound_events_idempotency on outbound_events e"),
            "{case}:\n{plan}"
        );
        assert!(
            plan.contains("deliveries_pending_by_event"),
            "{case}:\n{plan}"
        );
        assert!(!plan.contains("Seq Scan"), "{case}:\n{plan}");
    }
    drop(client);
    crate::Store::close(&store).await;
    db.drop_database().await.unwrap();
}

#[tokio::test]
async fn a_group_keeps_callers_order_and_idempotency_keys() {
    let (db, store) = scratch_store("ivrhook_batch_submit", 4).await;
    let (jobs, answers): (Vec<_>, Vec<_>) = [
        ("c1", Some("k")),
        ("c2", None),
        ("c1", Some("k")),
        ("c3", None),
    ]
    .into_iter()
    .map(|(c, k)| job(c, k))
    .unzip();
    write(store.pool.clone(), jobs).await;
    let mut got = Vec::new();
    for a in answers {
        got.push(a.await.unwrap().unwrap());
    }
    let Submitted::New(first) = got[0] else {
        panic!("{got:?}")
    };
    assert_eq!(
        got[2],
        Submitted::Existing(first),
        "same key in the same group"
    );
    let ids: Vec<i64> = [got[0], got[1], got[3]]
        .iter()
        .map(|s| match s {
            Submitted::New(ids) => ids.delivery_id,
            other => panic!("{other:?}"),
        })
        .collect();
    assert!(
        ids.windows(2).all(|w| w[0] < w[1]),
        "deliveries in the callers' order: {ids:?}"
    );
    // Each delivery carries its own event's body.
    let rows = crate::Store::outbound_for_call(&store, &"c3".try_into().unwrap())
        .await
        .unwrap();
    assert_eq!((rows.len(), rows[0].body.as_slice()), (1, b"c3".as_slice()));
    crate::Store::close(&store).await;
    db.drop_database().await.unwrap();
}

/// Writes `jobs` as one group and returns each caller's answer, in order.
async fn one_group(store: &crate::postgres::PgStore, jobs: Vec<(Job, Answer)>) -> Vec<Submitted> {
    let (jobs, answers): (Vec<_>, Vec<_>) = jobs.into_iter().unzip();
    write(store.pool.clone(), jobs).await;
    let mut got = Vec::new();
    for a in answers {
        got.push(a.await.unwrap().unwrap());
    }
    got
}

type Answer = oneshot::Receiver<Result<Submitted, StoreError>>;

fn offered(call: &str, key: Option<&str>, ordered: bool) -> (Job, Answer) {
    let (mut job, answered) = job(call, key);
    job.event.lease = Some(LeaseOffer {
        owner: "n1".into(),
        until_ms: 60_000,
        ordered,
    });
    (job, answered)
}

/// In one group, an ordered call's first event only is leased: the statement cannot see its
/// own rows, so the group is checked apart from the table. Unordered, each is leased; an
/// event whose key was used before is answered as before and leases nothing.
#[tokio::test]
async fn a_group_leases_only_the_first_event_of_an_ordered_call() {
    let (db, store) = scratch_store("ivrhook_batch_offers", 2).await;
    let got = one_group(
        &store,
        vec![
            offered("c1", Some("k"), true),
            offered("c1", None, true),
            offered("c2", None, true),
            offered("c3", None, false),
            offered("c3", None, false),
            job("c4", None),
        ],
    )
    .await;
    let kinds: Vec<&str> = got
        .iter()
        .map(|s| match s {
            Submitted::New(_) => "new",
            Submitted::Leased(_) => "leased",
            Submitted::Existing(_) => "existing",
        })
        .collect();
    assert_eq!(
        kinds,
        ["leased", "new", "leased", "leased", "leased", "new"]
    );
    let again = one_group(&store, vec![offered("c5", Some("k"), true)]).await;
    assert_eq!(again, [Submitted::Existing(ids_of(got[0]))]);
    crate::Store::close(&store).await;
    db.drop_database().await.unwrap();
}

fn ids_of(s: Submitted) -> EventIds {
    match s {
        Submitted::New(ids) | Submitted::Leased(ids) | Submitted::Existing(ids) => ids,
    }
}

/// The lease offer's check for an unfinished delivery of the call reads the ordering index,
/// whatever the kept plan was made from: each submission costs one probe, not the backlog.
#[tokio::test]
async fn the_lease_check_reads_the_ordering_index_whatever_it_was_planned_on() {
    let (db, store) = scratch_store("ivrhook_plans_submit", 2).await;
    let client = store.client().await.unwrap();
    let args = "ARRAY['app'], ARRAY['c1'], ARRAY[NULL], ARRAY['\\x00'::bytea], ARRAY[0], \
                ARRAY[0], ARRAY['n1'], ARRAY[1], ARRAY[true], ARRAY['app:app']";
    // Probed by the row's call: not every unfinished delivery read once and hashed.
    let by = ["destination = i", "call_id = i"];
    assert_ordering_probed(&client, SUBMIT_MANY, args, &by).await;
    drop(client);
    crate::Store::close(&store).await;
    db.drop_database().await.unwrap();
}

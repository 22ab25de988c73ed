//! The group writer of attempt records, on a scratch database: moves, lost leases, plans.
#![allow(clippy::unwrap_used)]

use super::*;
use crate::{
    outbox::{ClaimRequest, DeliveryState, Lane, Settle},
    postgres::test_support::{kept_plan, record, scratch_store, submit, PLAN_CASES},
    Store,
};

fn job(
    delivery_id: i64,
    owner: &str,
    settle: Settle,
) -> (Job, oneshot::Receiver<Result<Recorded, StoreError>>) {
    let record = record(delivery_id, owner, "108104", settle);
    let (answer, answered) = oneshot::channel();
    (Job { record, answer }, answered)
}

/// One group: a delivery delivered, one retried, one whose lease another owner holds (its
/// attempt is kept and marked, the delivery does not move), and one for a delivery that
/// does not exist, which is refused by name while the others are written.
#[tokio::test]
async fn a_group_moves_each_leased_delivery_and_survives_a_bad_record() {
    let (db, store) = scratch_store("ivrhook_batch_record", 4).await;
    let mut ids = Vec::new();
    for call in ["c1", "c2", "c3"] {
        ids.push(submit(&store, call).await);
    }
    let claimed = store
        .claim(ClaimRequest {
            destination: "app:app".to_owned(),
            lane: Lane::First,
            limit: 10,
            now_ms: 1,
            lease_until_ms: 60_000,
            owner: "a".to_owned(),
            ordered: true,
            exclude: Vec::new(),
        })
        .await
        .unwrap();
    assert_eq!(claimed.len(), 3);
    let retry = Settle::Retry {
        at_ms: 99,
        unknown_call: false,
    };
    let (jobs, answers): (Vec<_>, Vec<_>) = [
        job(ids[0], "a", Settle::Delivered),
        job(ids[1], "a", retry),
        job(ids[2], "b", Settle::Delivered),
        job(ids[2] + 1000, "a", Settle::Delivered),
    ]
    .into_iter()
    .unzip();
    write(store.pool.clone(), Arc::default(), jobs).await;
    let mut results = Vec::new();
    for a in answers {
        results.push(a.await.unwrap().map_err(|e| e.to_string()));
    }
    let missing = format!("no delivery {} to record an attempt for", ids[2] + 1000);
    assert_eq!(
        results,
        [
            Ok(Recorded::default()),
            Ok(Recorded::default()),
            Ok(Recorded::default()),
            Err(missing)
        ]
    );

    let (first, attempts) = store.delivery(ids[0]).await.unwrap().unwrap();
    assert_eq!(
        (first.state, first.attempts, attempts.len()),
        (DeliveryState::Delivered, 1, 1)
    );
    let (second, _) = store.delivery(ids[1]).await.unwrap().unwrap();
    assert_eq!(
        (second.state, second.attempts, second.next_attempt_at_ms),
        (DeliveryState::Pending, 1, 99)
    );
    assert_eq!(second.last_error.as_deref(), Some("108104"));
    let (third, attempts) = store.delivery(ids[2]).await.unwrap().unwrap();
    assert_eq!(
        (third.state, third.attempts, attempts.len()),
        (DeliveryState::Pending, 0, 1),
        "another owner's lease: the attempt is kept, the delivery does not move"
    );
    let marks = "SELECT id, attempt_log -> -1 ->> 'lease_lost' FROM deliveries
                 WHERE id = ANY($1) ORDER BY id";
    let client = store.pool.get().await.unwrap();
    let marks: Vec<(i64, Option<String>)> = client
        .query(marks, &[&ids])
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    let lost = Some("true".to_owned());
    assert_eq!(marks, [(ids[0], None), (ids[1], None), (ids[2], lost)]);
    drop(client);
    store.close().await;
    db.drop_database().await.unwrap();
}

/// Two records of one delivery in a group (its lease expired mid-request and this node
/// claimed it again): written in turn, as they would be one by one, so the first moves the
/// delivery and clears the lease, and the second keeps its attempt and moves nothing. (In
/// one statement PostgreSQL would move the row by whichever of the two it met first; it
/// happens to be the first here, so this pins the order rather than catching a mix-up.)
#[tokio::test]
async fn two_records_of_one_delivery_are_written_in_turn() {
    let (db, store) = scratch_store("ivrhook_batch_twice", 2).await;
    let id = submit(&store, "c1").await;
    store
        .pool
        .get()
        .await
        .unwrap()
        .execute(
            "UPDATE deliveries SET lease_owner = 'a' WHERE id = $1",
            &[&id],
        )
        .await
        .unwrap();
    let retry = Settle::Retry {
        at_ms: 99,
        unknown_call: false,
    };
    let (first, a1) = job(id, "a", retry);
    let (second, a2) = job(id, "a", Settle::Delivered);
    write(store.pool.clone(), Arc::default(), vec![first, second]).await;
    assert!(a1.await.unwrap().is_ok());
    assert!(a2.await.unwrap().is_ok());
    let (row, attempts) = store.delivery(id).await.unwrap().unwrap();
    assert_eq!(
        (
            row.state,
            row.next_attempt_at_ms,
            row.attempts,
            attempts.len()
        ),
        (DeliveryState::Pending, 99, 1, 2)
    );
    store.close().await;
    db.drop_database().await.unwrap();
}

/// A group reads its deliveries by primary key and the next pending delivery of each call
/// through `deliveries_ordering`, whatever the plan was made from: a young table with a
/// backlog, an empty one that grew after, or statistics that say nothing is pending. With
/// a `state = 'pending'` term it read through a pending-only index instead; joined to the
/// arrays alone, it hashed every pending row. It reads `deliveries_pending` only.
#[tokio::test]
async fn the_record_reads_by_primary_key_and_ordering_index() {
    let (db, store) = scratch_store("ivrhook_plans_record", 2).await;
    let client = store.pool.get().await.unwrap();
    let two = |v: &str| format!("'{{{v},{v}}}'");
    let args = [
        "'{5,6}'".to_owned(),
        two("o"),
        two("0"),
        two("0"),
        two("NULL"),
        two("NULL"),
        two("NULL"),
        two("NULL"),
        two("NULL"),
        two("delivered"),
        two("delivered"),
        two("0"),
        two("0"),
        two("1"),
        two("NULL"),
        two("0"),
    ]
    .join(", ");
    for (case, before, after) in PLAN_CASES {
        let plan = kept_plan(&client, &RECORD_PENDING, &args, before, after).await;
        // An index scan or a bitmap scan of the primary key, by the group's ids.
        let pkey = plan
            .lines()
            .position(|l| l.contains("deliveries_pending_pkey"))
            .unwrap_or_else(|| panic!("{case}: the primary key is not read:\n{plan}"));
        assert!(
            plan.lines()
                .nth(pkey + 1)
                .is_some_and(|l| l.contains("Index Cond: (id = ANY")),
            "{case}:\n{plan}"
        );
        assert!(
            plan.contains("using deliveries_pending_ordering on deliveries_pending p"),
            "{case}: the next pending delivery of a call is not read by its index:\n{plan}"
        ); // The finished days' partitions (today's and the next two exist) are not read.
        assert!(
            !plan.contains("_delivered") && !plan.contains("_dead"),
            "{case}: a finished day's partition is read:\n{plan}"
        );
    }
    drop(client);
    store.close().await;
    db.drop_database().await.unwrap();
}

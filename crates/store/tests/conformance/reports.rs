//! Received reports and registered calls.

use ivrhook_protocol::{AppId, CallId};
use ivrhook_store::{deadlines::Settle, Inserted, NewReport, Store};

pub fn report(call: &str, content: u8) -> NewReport {
    let raw = format!(r#"{{"appId":"app","callId":"{call}","n":{content},"text":"中文"}}"#);
    NewReport {
        app_id: AppId::try_from("app").unwrap(),
        call_id: CallId::try_from(call).unwrap(),
        event: "multrpt".into(),
        status: Some(1),
        content_hash: [content; 32],
        received_at: chrono::DateTime::from_timestamp_millis(1_700_000_000_123).unwrap(),
        peer: Some("127.0.0.1:5000".into()),
        raw: raw.into_bytes(),
        utc_offset: "+08:00".into(),
        warnings: r#"[{"field":"status","message":"m"}]"#.into(),
        forwards: Vec::new(),
    }
}

fn call(id: &str) -> CallId {
    CallId::try_from(id).unwrap()
}

pub async fn a_new_report_is_stored_byte_for_byte(store: &dyn Store) {
    let r = report("c1", 1);
    let Inserted::New { id, .. } = store.insert_report(r.clone()).await.unwrap() else {
        panic!("a first report must be new");
    };
    let rows = store.reports_for_call(&call("c1")).await.unwrap();
    assert_eq!(rows.len(), 1);
    let got = &rows[0];
    assert_eq!(got.id, id);
    assert_eq!(got.raw, r.raw);
    assert_eq!((got.app_id.as_str(), got.call_id.as_str()), ("app", "c1"));
    assert_eq!((got.event.as_str(), got.status), ("multrpt", Some(1)));
    assert_eq!(got.received_at, r.received_at);
    assert_eq!(got.peer.as_deref(), Some("127.0.0.1:5000"));
    assert_eq!(got.utc_offset.as_deref(), Some("+08:00"));
    assert_eq!(got.warnings[0]["field"], "status");
    assert_eq!(got.duplicates, 0);
}

pub async fn the_same_content_again_is_a_counted_duplicate(store: &dyn Store) {
    let first = store.insert_report(report("c1", 1)).await.unwrap();
    let Inserted::New { id, .. } = first else {
        panic!("{first:?}")
    };
    for times in 1..=2 {
        let again = store.insert_report(report("c1", 1)).await.unwrap();
        assert_eq!(again, Inserted::Duplicate { id, times });
    }
    // Other content, or the same content for another call, is a new report.
    assert!(matches!(
        store.insert_report(report("c1", 2)).await.unwrap(),
        Inserted::New { .. }
    ));
    assert!(matches!(
        store.insert_report(report("c2", 1)).await.unwrap(),
        Inserted::New { .. }
    ));
    let mut other_app = report("c1", 1);
    other_app.app_id = AppId::try_from("app2").unwrap();
    assert!(matches!(
        store.insert_report(other_app).await.unwrap(),
        Inserted::New { .. }
    ));
    let rows = store.reports_for_call(&call("c1")).await.unwrap();
    assert_eq!(
        rows.iter().map(|r| r.duplicates).collect::<Vec<_>>(),
        [2, 0, 0]
    );
    assert!(rows[0].id < rows[1].id, "oldest first");
}

pub async fn concurrent_duplicates_store_one_row(store: &dyn Store) {
    let results = futures_join(store, 16).await;
    let new = results
        .iter()
        .filter(|r| matches!(r, Inserted::New { .. }))
        .count();
    assert_eq!(new, 1, "{results:?}");
    let rows = store.reports_for_call(&call("race")).await.unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].duplicates, 15);
}

/// `n` inserts of one report, all in flight at once.
async fn futures_join(store: &dyn Store, n: usize) -> Vec<Inserted> {
    let pending = (0..n).map(|_| store.insert_report(report("race", 7)));
    let results = futures_util::future::join_all(pending).await;
    results.into_iter().map(Result::unwrap).collect()
}

pub async fn reports_page_in_id_order(store: &dyn Store) {
    for n in 0..5 {
        store
            .insert_report(report(&format!("p{n}"), n))
            .await
            .unwrap();
    }
    let first = store.reports_after(0, 3).await.unwrap();
    assert_eq!(first.len(), 3);
    let rest = store.reports_after(first[2].id, 3).await.unwrap();
    let calls: Vec<_> = first
        .iter()
        .chain(&rest)
        .map(|r| r.call_id.clone())
        .collect();
    assert_eq!(calls, ["p0", "p1", "p2", "p3", "p4"]);
}

pub async fn calls_are_registered_once(store: &dyn Store) {
    let app = AppId::try_from("app").unwrap();
    assert!(!store.is_call_known(&app, &call("k")).await.unwrap());
    assert!(store.register_call(&app, &call("k"), None).await.unwrap());
    assert!(
        !store.register_call(&app, &call("k"), None).await.unwrap(),
        "known already"
    );
    assert!(store.is_call_known(&app, &call("k")).await.unwrap());
    let other = AppId::try_from("other").unwrap();
    assert!(
        !store.is_call_known(&other, &call("k")).await.unwrap(),
        "per app"
    );
}

/// Newest first, below a cursor, of one app when asked (the list of calls reads this).
pub async fn reports_before_a_cursor_come_newest_first(store: &dyn Store) {
    let mut ids = Vec::new();
    for (call, app, content) in [("b1", "app", 1), ("b2", "app", 2), ("b3", "other", 3)] {
        let r = NewReport {
            app_id: AppId::try_from(app).unwrap(),
            ..report(call, content)
        };
        match store.insert_report(r).await.unwrap() {
            Inserted::New { id, .. } => ids.push(id),
            other => panic!("{other:?}"),
        }
    }
    let calls = |rows: Vec<ivrhook_store::StoredReport>| -> Vec<String> {
        rows.iter().map(|r| r.call_id.to_string()).collect()
    };
    let all = store.reports_before(i64::MAX, None, 10).await.unwrap();
    assert_eq!(calls(all), ["b3", "b2", "b1"]);
    let app = store
        .reports_before(i64::MAX, Some("app"), 10)
        .await
        .unwrap();
    assert_eq!(calls(app), ["b2", "b1"]);
    let below = store.reports_before(ids[1], None, 10).await.unwrap();
    assert_eq!(calls(below), ["b1"]);
    assert_eq!(
        store.reports_before(i64::MAX, None, 1).await.unwrap().len(),
        1
    );
}

/// A prefix finds each callId that starts with it once, in order; other callIds stay out.
pub async fn calls_are_found_by_prefix(store: &dyn Store) {
    for (call, content) in [("p-10", 1), ("p-1", 2), ("p-10", 3), ("p-2", 4), ("q-1", 5)] {
        store.insert_report(report(call, content)).await.unwrap();
    }
    let found = |prefix: &'static str, limit| async move {
        store.calls_with_prefix(prefix, limit).await.unwrap()
    };
    assert_eq!(found("p-1", 10).await, ["p-1", "p-10"]);
    assert_eq!(found("p-", 2).await, ["p-1", "p-10"]);
    assert_eq!(found("p-2", 10).await, ["p-2"]);
    assert_eq!(found("q", 10).await, ["q-1"]);
    assert!(found("r", 10).await.is_empty());
}

/// A registered call past its deadline with no report is settled overdue once, and once its
/// report came, resolved once (late); a call reported in time, or before it was registered,
/// is never overdue.
pub async fn overdue_calls_are_settled_once(store: &dyn Store) {
    let app = AppId::try_from("app").unwrap();
    const DUE: i64 = 1_700_000_000_000;
    let register = |c: &'static str, due| {
        let app = app.clone();
        async move { store.register_call(&app, &call(c), due).await.unwrap() }
    };
    store.insert_report(report("early", 1)).await.unwrap();
    register("missing", Some(DUE)).await;
    register("on-time", Some(DUE)).await;
    register("not-yet", Some(DUE + 60_000)).await;
    register("early", Some(DUE)).await;
    register("no-deadline", None).await;
    store.insert_report(report("on-time", 2)).await.unwrap();
    let now = DUE + 1_000;
    let found = store.unsettled(now, 100).await.unwrap();
    let found: Vec<_> = found
        .iter()
        .map(|(s, d)| (*s, d.call_id.as_str()))
        .collect();
    assert_eq!(found, [(Settle::Overdue, "missing")]);
    let missing = [(Settle::Overdue, app.clone(), call("missing"))];
    assert_eq!(store.settle(&missing, now).await.unwrap().len(), 1);
    assert!(
        store.settle(&missing, now).await.unwrap().is_empty(),
        "once"
    );
    assert!(store.unsettled(now, 100).await.unwrap().is_empty());
    assert_eq!(store.overdue_counts().await.unwrap(), [(app.clone(), 1)]);
    let listed = store.overdue_calls(None, None, 10).await.unwrap();
    assert_eq!((listed.len(), listed[0].state(now)), (1, "overdue"));
    assert!(store
        .overdue_calls(Some(&app), Some((now, "missing".into())), 10)
        .await
        .unwrap()
        .is_empty());
    let on_time = store
        .call_deadline(&app, &call("on-time"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(on_time.state(now), "on_time");
    store.insert_report(report("missing", 3)).await.unwrap();
    let found = store.unsettled(now, 100).await.unwrap();
    assert_eq!((found.len(), found[0].0), (1, Settle::Resolved));
    let resolved = [(Settle::Resolved, app.clone(), call("missing"))];
    assert_eq!(store.settle(&resolved, now).await.unwrap().len(), 1);
    assert!(
        store.settle(&resolved, now).await.unwrap().is_empty(),
        "once"
    );
    let late = store
        .call_deadline(&app, &call("missing"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(late.state(now), "late");
    assert!(store.overdue_counts().await.unwrap().is_empty());
    // Announced overdue as its report came: marked, then resolved.
    let raced = [(Settle::Overdue, app.clone(), call("on-time"))];
    assert_eq!(store.settle(&raced, now).await.unwrap().len(), 1);
    let found = store.unsettled(now, 100).await.unwrap();
    assert_eq!((found.len(), found[0].0), (1, Settle::Resolved));
}

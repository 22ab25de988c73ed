use super::*;

const MINUTE: i64 = 60_000;

fn gather() -> Gather {
    Gather::new(15 * MINUTE, 30_000)
}

fn health(failing: bool) -> Subject {
    Subject::Health {
        destination: "crm".into(),
        failing,
        error_rate: 1.0,
        last_error: failing.then(|| "connection refused".into()),
    }
}

fn dead(id: i64) -> DeadDelivery {
    DeadDelivery {
        id,
        app: "a".into(),
        call: format!("c{id}"),
        attempts: 1,
        last_answer: "108100".into(),
        reason: "bad input".into(),
    }
}

fn kinds(events: &[Subject]) -> Vec<&'static str> {
    events.iter().map(Subject::kind).collect()
}

#[test]
fn a_flapping_destination_is_announced_failing_once_per_repeat_after() {
    let mut g = gather();
    let mut sent = Vec::new();
    // Opens and closes every 5 s for a minute.
    for s in 0..12 {
        let now = s * 5_000;
        if s % 2 == 0 {
            g.started(Condition::Failing, health(true), now);
        } else {
            g.ended(Condition::Failing, health(false));
        }
        sent.extend(g.take(now, false));
    }
    assert_eq!(
        kinds(&sent),
        ["destination.failing", "destination.recovered"]
    );
}

#[test]
fn a_lasting_failure_is_repeated_and_its_end_follows_once() {
    let mut g = gather();
    g.started(Condition::Failing, health(true), 0);
    assert_eq!(kinds(&g.take(0, false)), ["destination.failing"]);
    g.started(Condition::Failing, health(true), MINUTE);
    assert!(g.take(14 * MINUTE, false).is_empty(), "within repeat_after");
    assert_eq!(kinds(&g.take(15 * MINUTE, false)), ["destination.failing"]);
    g.ended(Condition::Failing, health(false));
    g.ended(Condition::Failing, health(false));
    assert_eq!(
        kinds(&g.take(16 * MINUTE, false)),
        ["destination.recovered"]
    );
}

#[test]
fn an_end_without_an_announced_start_is_not_sent() {
    let mut g = gather();
    g.ended(Condition::Failing, health(false));
    assert!(g.take(0, false).is_empty());
}

#[test]
fn a_thousand_dead_at_once_are_ten_messages_naming_all() {
    let mut g = gather();
    for id in 0..1000 {
        g.dead("crm", dead(id), id / 100);
    }
    assert!(g.take(29_999, false).is_empty(), "the window is open");
    let sent = g.take(30_000, false);
    assert_eq!(sent.len(), 10);
    let mut named = Vec::new();
    for (i, s) in sent.iter().enumerate() {
        let Subject::Dead {
            deliveries,
            total,
            part,
            parts,
            ..
        } = s
        else {
            panic!("{s:?}")
        };
        assert_eq!((*total, *part, *parts), (1000, i + 1, 10));
        named.extend(deliveries.iter().map(|d| d.id));
    }
    assert_eq!(named, (0..1000).collect::<Vec<_>>());
    assert!(g.take(60_000, false).is_empty(), "sent once");
}

#[test]
fn past_the_cap_dead_deliveries_are_counted_not_named() {
    let mut g = gather();
    for id in 0..(NAMED_PER_WINDOW as i64 + 5) {
        g.dead("crm", dead(id), 0);
    }
    let sent = g.take(0, true);
    assert_eq!(sent.len(), NAMED_PER_WINDOW / IDS_PER_MESSAGE);
    let Subject::Dead { total, .. } = &sent[0] else {
        panic!()
    };
    assert_eq!(*total, NAMED_PER_WINDOW as u64 + 5);
}

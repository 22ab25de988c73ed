//! Properties of the pure core, over generated inputs: the answer classifier, the retry
//! schedule and the route filters.

use ivrhook_engine::{
    classify::{classify_code, classify_status, Verdict},
    route::{Filter, Keys},
    schedule::{settle, RetrySchedule},
};
use ivrhook_store::outbox::Settle;
use proptest::prelude::*;
use std::time::Duration;

const CODES: [&str; 7] = [
    "000000", "108100", "108101", "108102", "108104", "108105", "999999",
];

proptest! {
    /// Delivered only for a 2xx, and only with 000000 or no readable code; the contract's
    /// refusals are dead whatever the status; a full queue or other error is retried.
    #[test]
    fn the_contract_code_decides_and_only_2xx_delivers(
        status in 100u16..600, code in proptest::option::of(0usize..CODES.len()),
    ) {
        let code = code.map(|i| CODES[i]);
        let verdict = classify_code(status, None, code);
        let delivered = matches!(verdict, Verdict::Delivered { .. });
        prop_assert_eq!(delivered, (200..300).contains(&status) && matches!(code, None | Some("000000")));
        match code {
            Some("108100" | "108101") => {
                let dead = matches!(verdict, Verdict::Dead { .. });
                prop_assert!(dead, "{:?}", verdict);
            }
            Some("108102" | "108104") => {
                let retried = matches!(verdict, Verdict::Retry { .. });
                prop_assert!(retried, "{:?}", verdict);
            }
            Some("108105") => {
                let unknown = matches!(verdict, Verdict::UnknownCall);
                prop_assert!(unknown, "{:?}", verdict);
            }
            _ => {}
        }
    }

    /// A webhook: 2xx delivered; 408, 429 and 5xx retried; anything else dead.
    #[test]
    fn a_webhooks_status_decides(status in 100u16..600) {
        let verdict = classify_status(status, None);
        let expected = match status {
            200..=299 => "delivered",
            408 | 429 | 500..=599 => "retry",
            _ => "dead",
        };
        let got = match verdict {
            Verdict::Delivered { .. } => "delivered",
            Verdict::Retry { .. } => "retry",
            _ => "dead",
        };
        prop_assert_eq!(got, expected);
    }

    /// A retry is due within the jitter of its step's delay, never before `Retry-After`; past
    /// the last step the delivery is dead.
    #[test]
    fn retries_follow_the_schedule_then_stop(
        delays in proptest::collection::vec(0u64..100_000, 1..8),
        attempts in 1u32..10, draw in 0.0f64..1.0, retry_after in proptest::option::of(0u64..200_000),
    ) {
        let schedule = RetrySchedule::new(delays.iter().map(|ms| Duration::from_millis(*ms)).collect(), 0.2).unwrap();
        let verdict = Verdict::Retry {
            reason: "HTTP 503".into(),
            retry_after: retry_after.map(Duration::from_millis),
        };
        let now = 1_000_000;
        match settle(&verdict, attempts, 0, &schedule, draw, now) {
            Settle::Retry { at_ms, .. } => {
                let base = delays[attempts as usize] as f64;
                let wait = (at_ms - now) as f64;
                let floor = retry_after.unwrap_or(0) as f64;
                prop_assert!(wait + 1.0 >= floor.max(base * 0.8) && wait <= floor.max(base * 1.2) + 1.0,
                    "wait {wait} for base {base}, retry-after {floor}");
            }
            Settle::Dead { .. } => prop_assert!(attempts as usize >= delays.len()),
            Settle::Delivered => prop_assert!(false, "a retry verdict never delivers"),
        }
    }

    /// A filter with several keys matches exactly when each key alone matches (they AND).
    #[test]
    fn filter_keys_and_together(
        status in 0u8..2, keys in proptest::option::of("[0-9#*]{1,3}"), recording: bool,
        want_status in proptest::option::of(0u8..2), want_keys in proptest::option::of(0usize..3),
        want_recording in proptest::option::of(any::<bool>()),
    ) {
        let report = ivrhook_testkit::decoded_report(status, keys.as_deref(), recording);
        let dtmf = want_keys.map(|i| match i {
            0 => Keys::Any,
            1 => Keys::Exactly(keys.clone().unwrap_or_else(|| "1".into())),
            _ => Keys::Exactly("no-such-keys".into()),
        });
        let status_of = |s: u8| if s == 0 { ivrhook_protocol::CallStatus::Completed } else { ivrhook_protocol::CallStatus::HungUp };
        let alone = [
            Filter { status: want_status.map(status_of), ..Filter::default() },
            Filter { dtmf: dtmf.clone(), ..Filter::default() },
            Filter { has_recording: want_recording, ..Filter::default() },
        ];
        let all = Filter { status: want_status.map(status_of), dtmf, has_recording: want_recording, event: None };
        prop_assert_eq!(all.matches(&report), alone.iter().all(|f| f.matches(&report)));
    }
}

//! What ivrhook's tests share, so that each fact has one home: the app they report for, the
//! reports they send, and waiting on a condition with a deadline (never sleeping and hoping).
#![warn(missing_docs)]
#![forbid(unsafe_code)]
#![allow(clippy::unwrap_used)] // a test helper that unwraps fails the test with the cause, as it should

pub mod mqtt;
pub mod platform;
pub mod rabbitmq;
pub mod redis_streams;
pub mod s3;
pub mod sink;

use serde_json::{json, Value};
pub use sink::{free_addr, Hit, Reply, Sink};
use std::{future::Future, time::Duration};

/// The app the tests' servers are configured for and their reports name.
pub const APP: &str = "247e35ff320a4142a105024055c367cf";

/// A Standard Webhooks signing secret (the specification's example key).
pub const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/// A report for `call_id` in the contract's documented form: `result`, text times, `Code`,
/// a DTMF command with `dtmCode`.
pub fn report(call_id: &str) -> Value {
    report_with(APP, call_id, "订单 42")
}

/// [`report`] for `app`, with `data` as its pass-through data (a tag tests tell reports by).
pub fn report_with(app: &str, call_id: &str, data: &str) -> Value {
    json!({
        "appId": app,
        "callId": call_id,
        "event": "multrpt",
        "data": data,
        "result": [
            {"event": "playoverrpt", "Code": "0", "start": "20180112172322010", "end": "20180112172325010"},
            {"event": "ivrreportdtmf", "Code": "0", "start": "20180112172325010", "end": "20180112172327510", "dtmCode": "1#"}
        ],
        "status": 0
    })
}

/// A report of `call_id` that hung up, its recording at `link` (`hungup.fileName`), with `n`
/// in its pass-through data (so two reports of a call differ).
pub fn hung_up_report(call_id: &str, link: &str, n: u32) -> Value {
    let mut r = report_with(APP, call_id, &format!("n={n}"));
    r["status"] = json!(1);
    let notice =
        json!({"fileName": link, "reason": 16, "dir": 1, "timeStamp": "20180112172328000"});
    r["hungup"] = json!(notice.to_string());
    r
}

/// A report for `call_id` in the form platforms were seen to send: `isNonProfit`, numeric
/// times, `dtmfCode`, an empty `hungup`.
pub fn observed_report(call_id: &str) -> Value {
    json!({
        "appId": APP,
        "callId": call_id,
        "event": "multrpt",
        "isNonProfit": [{"code": 0, "start": 20180112172322010u64, "end": 20180112172325010u64, "dtmfCode": "9"}],
        "status": 0,
        "hungup": ""
    })
}

/// A decoded report with one DTMF command, as routing sees it: `status` 0 or 1, the `keys`
/// pressed, and a hang-up notice with a recording when `recording`.
pub fn decoded_report(status: u8, keys: Option<&str>, recording: bool) -> ivrhook_protocol::Report {
    let dtmf = keys.map_or(String::new(), |k| format!(r#","dtmfCode":"{k}""#));
    let hungup = match recording {
        true => r#","hungup":"{\"fileName\":\"https://r.example/1.wav\",\"reason\":0}""#,
        false => "",
    };
    let body = format!(
        r#"{{"appId":"a1","callId":"c","event":"multrpt","status":{status},"result":[{{"event":"ivrreportdtmf","code":"0","start":"20180112172322010","end":"20180112172325010"{dtmf}}}]{hungup}}}"#
    );
    let options = ivrhook_protocol::DecodeOptions::default();
    ivrhook_protocol::decode(body.as_bytes(), &options)
        .unwrap()
        .report
}

/// Waits for `check` to hold, polling every 20 ms, for at most ten seconds.
pub async fn eventually<F, Fut>(what: &str, check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    eventually_within(what, Duration::from_secs(10), check).await
}

/// Waits for `check` to hold, polling every 20 ms, for at most `limit`; panics naming
/// `what` when it does not.
pub async fn eventually_within<F, Fut>(what: &str, limit: Duration, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + limit;
    while !check().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// [`eventually_within`] for a condition that needs no waiting of its own to check.
pub async fn wait_until(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    eventually_within(what, limit, || std::future::ready(done())).await
}

use super::*;
use crate::{decode, DecodeOptions};
use serde_json::{json, Value};

/// The forwarded form read back as a JSON value.
fn forward_json(decoded: &Decoded, received: Received) -> Value {
    serde_json::to_value(forwarded(decoded, received)).unwrap()
}

const HUNG_UP: &str = r#"{"appId":"a1","callId":"c1","event":"multrpt","data":"order-7",
    "result":[{"event":"playoverrpt","code":"0","start":"20180112172322010","end":"20180112172325010"},
              {"event":"ivrreportdtmf","code":"0","start":"20180112172325010","end":"20180112172329110","dtmfCode":"1"}],
    "status":1,
    "hungup":"{\"reason\":16,\"fileName\":\"https://rec.example/r.wav\",\"dir\":1,\"timeStamp\":\"20180112172330000\"}"}"#;

#[test]
fn a_hung_up_call_reads_as_documented() {
    let d = decode(HUNG_UP.as_bytes(), &DecodeOptions::default()).unwrap();
    let v = forward_json(
        &d,
        Received {
            id: 42,
            at_ms: 1_515_749_010_000,
        },
    );
    assert_eq!(v["schemaVersion"], 1);
    assert_eq!(v["reportId"], 42);
    assert_eq!(v["receivedAt"], "2018-01-12T09:23:30.000Z");
    assert_eq!(
        (v["appId"].as_str(), v["callId"].as_str()),
        (Some("a1"), Some("c1"))
    );
    assert_eq!(
        (v["status"].as_str(), v["keys"].as_str()),
        (Some("hungup"), Some("1"))
    );
    assert_eq!(v["data"], "order-7");
    let play = &v["commands"][0];
    assert_eq!(play["kind"], "playback");
    assert_eq!(play["start"], "2018-01-12T17:23:22.010+08:00");
    assert_eq!(play["durationMs"], 3000);
    assert_eq!(play["keys"], Value::Null);
    let dtmf = &v["commands"][1];
    assert_eq!(
        (dtmf["kind"].as_str(), dtmf["keys"].as_str()),
        (Some("dtmf"), Some("1"))
    );
    assert_eq!(dtmf["durationMs"], 4100);
    let h = &v["hangup"];
    assert_eq!(h["reason"], "16");
    assert_eq!(h["recordingUrl"], "https://rec.example/r.wav");
    assert_eq!(h["time"], "2018-01-12T17:23:30.000+08:00");
    assert!(has_recording(&d.report));
    assert!(v["forms"].as_array().is_some_and(|f| !f.is_empty()));
    assert_eq!(v["warnings"], json!([]));
}

#[test]
fn commands_without_an_event_are_dtmf_only_when_keys_came() {
    let body = r#"{"appId":"a","callId":"c","event":"multrpt","status":0,
        "isNonProfit":[{"code":0,"start":20180112172322010,"end":20180112172325010},
                       {"code":0,"start":20180112172325010,"end":20180112172326010,"dtmfCode":"25"},
                       "value"]}"#;
    let d = decode(body.as_bytes(), &DecodeOptions::default()).unwrap();
    let v = forward_json(&d, Received { id: 1, at_ms: 0 });
    let kinds: Vec<&str> = (0..3)
        .filter_map(|i| v["commands"][i]["kind"].as_str())
        .collect();
    assert_eq!(kinds, ["unknown", "dtmf", "unrecognised"]);
    assert_eq!(v["commands"][2]["value"], "value");
    assert_eq!(v["keys"], Value::Null, "the last entry pressed nothing");
    assert_eq!(
        (v["status"].as_str(), v["hangup"].is_null()),
        (Some("completed"), true)
    );
    assert!(!has_recording(&d.report));
    assert_eq!(v["warnings"][0]["field"], "isNonProfit[2]");
}

#[test]
fn the_bytes_sent_keep_the_keys_in_sorted_order() {
    // A `Value` object writes its keys sorted: the form serialised straight must give the
    // same bytes, for every shape of entry and hang-up notice.
    let unrecognised = r#"{"appId":"a","callId":"c","event":"multrpt","status":0,
        "isNonProfit":["value",{"code":0}],"hungup":"not json"}"#;
    for body in [HUNG_UP, unrecognised] {
        let d = decode(body.as_bytes(), &DecodeOptions::default()).unwrap();
        let received = Received { id: 7, at_ms: 1 };
        let direct = serde_json::to_vec(&forwarded(&d, received)).unwrap();
        let sorted = serde_json::to_vec(&forward_json(&d, received)).unwrap();
        assert_eq!(String::from_utf8(direct), String::from_utf8(sorted));
    }
}

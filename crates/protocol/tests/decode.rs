//! The decoder against the spec's examples and every row of protocol.md's table.
#![allow(clippy::unwrap_used)] // a test that unwraps fails with the cause, as it should

use ivrhook_protocol::{decode, CallStatus, DecodeOptions, Entry, Hangup};
use serde_json::{json, Value};

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/../../fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("reading {path}: {e}"))
}

fn lenient(body: &Value) -> ivrhook_protocol::Decoded {
    decode(body.to_string().as_bytes(), &DecodeOptions::default()).expect("decodes")
}

fn refusal(body: &[u8]) -> String {
    decode(body, &DecodeOptions::default())
        .expect_err("refused")
        .to_string()
}

fn base() -> Value {
    json!({
        "appId": "247e35ff320a4142a105024055c367cf",
        "callId": "88-2018031000182918181271218-108bc381ca0f42d8-out",
        "event": "multrpt",
        "result": [{"event": "ivrreportdtmf", "Code": "0", "start": "20180112172322010",
                    "end": "20180112172325510", "dtmCode": "123#"}],
        "status": 0
    })
}

#[test]
fn the_all_succeeded_example_decodes_with_one_warning_for_the_bare_value() {
    let d = decode(
        &fixture("seed-example-all-succeeded.json"),
        &DecodeOptions::default(),
    )
    .unwrap();
    assert_eq!(d.report.status, Some(CallStatus::Completed));
    assert_eq!(d.report.entries.len(), 4);
    let Entry::Command(first) = &d.report.entries[0] else {
        panic!("first is a command")
    };
    assert_eq!(first.code.as_deref(), Some("0"));
    assert_eq!(first.data.as_deref(), Some("userdata 1"));
    assert_eq!(
        first.start.as_ref().unwrap().rfc3339(),
        "2018-01-12T17:23:22.010+08:00"
    );
    assert_eq!(first.dtmf, None, "an empty dtmfCode means no keys");
    assert_eq!(d.report.entries[3], Entry::Unrecognised(json!("value")));
    assert_eq!(d.warnings.len(), 1);
    assert_eq!(d.warnings[0].field, "isNonProfit[3]");
    assert_eq!(d.report.hangup, None);
    for form in [
        "results-key:isNonProfit",
        "code-type:number",
        "time-type:number",
        "dtmf-key:dtmfCode",
    ] {
        assert!(d.forms.contains(form), "{form} recorded in {:?}", d.forms);
    }
    let strict = decode(
        &fixture("seed-example-all-succeeded.json"),
        &DecodeOptions {
            strict: true,
            ..Default::default()
        },
    );
    let refusal = strict.unwrap_err();
    assert_eq!(refusal.field, "isNonProfit[3]");
    // The lenient warning says what was kept; a refusal keeps nothing and must not say so.
    assert_eq!(
        refusal.to_string(),
        "isNonProfit[3]: is a string, not an object \
         (the contract does not allow this; strict checking refuses it)"
    );
    let lenient = decode(
        &fixture("seed-example-all-succeeded.json"),
        &Default::default(),
    );
    assert_eq!(
        lenient.unwrap().warnings[0].message,
        "is a string, not an object; kept as an unrecognised entry"
    );
}

#[test]
fn the_partly_executed_example_decodes_its_hang_up_notice() {
    let d = decode(
        &fixture("seed-example-partly-not-executed.json"),
        &DecodeOptions::default(),
    )
    .unwrap();
    let Some(Hangup::Notice(n)) = &d.report.hangup else {
        panic!("hang-up decoded")
    };
    assert!(n
        .recording_url
        .as_deref()
        .unwrap()
        .ends_with("20180118204421-18898739887-76988499681.wav"));
    assert_eq!(n.reason.as_deref(), Some("0"));
    assert_eq!(n.direction.as_deref(), Some("1"));
    assert_eq!(
        n.time.as_ref().unwrap().rfc3339(),
        "2018-01-18T20:44:44.584+08:00"
    );
    assert!(d.forms.contains("hungup:text"));
}

#[test]
fn the_documented_form_decodes_without_warnings() {
    let d = lenient(&base());
    assert!(d.warnings.is_empty(), "{:?}", d.warnings);
    let Entry::Command(c) = &d.report.entries[0] else {
        panic!()
    };
    assert_eq!(c.event.as_deref(), Some("ivrreportdtmf"));
    assert_eq!(c.dtmf.as_deref(), Some("123#"));
    assert_eq!(c.duration_ms(), Some(3500));
    for form in [
        "results-key:result",
        "code-key:Code",
        "code-type:string",
        "time-type:string",
        "dtmf-key:dtmCode",
        "entry-event:present",
    ] {
        assert!(d.forms.contains(form), "{form} recorded in {:?}", d.forms);
    }
}

#[test]
fn result_wins_over_is_non_profit_and_the_other_is_kept() {
    let mut body = base();
    body["isNonProfit"] = json!([]);
    let d = lenient(&body);
    assert_eq!(d.report.entries.len(), 1);
    assert_eq!(d.report.extra.get("isNonProfit"), Some(&json!([])));
}

#[test]
fn hungup_as_object_as_empty_and_as_garbage() {
    let mut body = base();
    body["status"] = json!(1);
    body["hungup"] = json!({"fileName": "https://r/x.wav", "reason": 3, "dir": "2", "timeStamp": 20180118204444584u64});
    let d = lenient(&body);
    let Some(Hangup::Notice(n)) = &d.report.hangup else {
        panic!()
    };
    assert_eq!(
        (n.reason.as_deref(), n.direction.as_deref()),
        (Some("3"), Some("2"))
    );
    assert_eq!(d.report.status, Some(CallStatus::HungUp));
    body["hungup"] = json!("");
    assert_eq!(lenient(&body).report.hangup, None);
    body["hungup"] = json!("{not json");
    let d = lenient(&body);
    assert_eq!(
        d.report.hangup,
        Some(Hangup::Undecodable("{not json".into()))
    );
    assert_eq!(d.warnings[0].field, "hungup");
}

#[test]
fn status_as_a_string_is_accepted_with_a_warning_and_refused_in_strict_mode() {
    let mut body = base();
    body["status"] = json!("1");
    let d = lenient(&body);
    assert_eq!(d.report.status, Some(CallStatus::HungUp));
    assert_eq!(d.warnings[0].field, "status");
    let strict = decode(
        body.to_string().as_bytes(),
        &DecodeOptions {
            strict: true,
            ..Default::default()
        },
    );
    assert!(strict.unwrap_err().to_string().starts_with("status: "));
}

#[test]
fn other_events_are_kept_with_a_warning() {
    let d =
        lenient(&json!({"appId": "a", "callId": "c", "event": "calldisconnectrpt", "reason": 3}));
    assert_eq!(d.report.event, "calldisconnectrpt");
    assert_eq!(d.report.extra.get("reason"), Some(&json!(3)));
    assert_eq!(d.warnings[0].field, "event");
}

#[test]
fn refusals_name_the_field_in_the_spec_order() {
    assert!(refusal(b"\xff\xfe{}").starts_with("body: is not UTF-8"));
    assert!(refusal(b"{\"appId\": ").starts_with("body: is not valid JSON"));
    assert!(refusal(b"[1, 2]").starts_with("body: must be a JSON object, got an array"));
    assert_eq!(refusal(b"{}"), "appId: required field is missing");
    let cases: [(&str, Value, &str); 10] = [
        ("appId", json!(7), "appId: must be a string, got a number"),
        ("appId", json!(""), "appId: must not be empty"),
        ("callId", Value::Null, "callId: must be a string, got null"),
        (
            "event",
            json!(["multrpt"]),
            "event: must be a string, got an array",
        ),
        (
            "event",
            json!("mult\u{0}rpt"),
            "event: contains a control character at byte 4",
        ),
        (
            "result",
            json!({}),
            "result: must be an array, got an object",
        ),
        (
            "status",
            json!(2),
            "status: must be 0 (completed) or 1 (hung up early), got 2",
        ),
        (
            "status",
            json!("x"),
            "status: must be 0 (completed) or 1 (hung up early), got the string \"x\"",
        ),
        (
            "status",
            json!(true),
            "status: must be 0 (completed) or 1 (hung up early), got a boolean",
        ),
        (
            "status",
            json!(0.5),
            "status: must be 0 (completed) or 1 (hung up early), got 0.5",
        ),
    ];
    for (field, value, expected) in cases {
        let mut body = base();
        body[field] = value;
        assert_eq!(refusal(body.to_string().as_bytes()), expected);
    }
    for field in ["callId", "event", "result", "status"] {
        let mut body = base();
        body.as_object_mut().unwrap().remove(field);
        assert!(refusal(body.to_string().as_bytes())
            .starts_with(&format!("{field}: required field is missing")));
    }
}

#[test]
fn a_leading_bom_is_fine() {
    let mut body = b"\xEF\xBB\xBF".to_vec();
    body.extend_from_slice(base().to_string().as_bytes());
    assert!(decode(&body, &DecodeOptions::default()).is_ok());
}

#[test]
fn warnings_name_the_field_by_its_path_in_the_body() {
    let body = json!({
        "appId": "a", "callId": "c", "event": "multrpt", "status": 1, "data": 7,
        "result": [
            {"event": "playoverrpt", "code": "0", "start": "20180112172322010", "end": "20180112172325010"},
            {"event": 5, "code": [], "start": "tomorrow", "end": true, "dtmfCode": {"k": 1}, "data": false}
        ],
        "hungup": "{\"reason\":[],\"dir\":{},\"timeStamp\":\"soon\",\"fileName\":3}"
    });
    let fields: Vec<String> = lenient(&body)
        .warnings
        .into_iter()
        .map(|w| w.field)
        .collect();
    assert_eq!(
        fields,
        [
            "result[1].event",
            "result[1].code",
            "result[1].start",
            "result[1].end",
            "result[1].dtmfCode",
            "result[1].data",
            "data",
            "hungup.fileName",
            "hungup.dir",
            "hungup.reason",
            "hungup.timeStamp",
        ]
    );
}

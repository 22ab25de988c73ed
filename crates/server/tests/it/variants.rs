//! Every row of protocol.md's "examples disagree with the tables" table, over real HTTP:
//! each form is answered `000000` and shows up decoded (and recorded) in the timeline.

use crate::helpers::*;
use serde_json::{json, Value};

/// Posts `body` (expecting `000000`) and returns its timeline entry.
async fn accepted(app: &TestApp, body: &Value) -> Value {
    let a = app.post_callback(body.to_string()).await;
    assert_eq!(a.code, "000000", "{body}: {}", a.msg);
    let call = body["callId"].as_str().unwrap();
    app.timeline(call).await.pop().expect("stored")
}

fn has_form(r: &Value, form: &str) -> bool {
    r["forms"].as_array().unwrap().iter().any(|f| f == form)
}

#[tokio::test]
async fn results_array_as_result_as_is_non_profit_and_both() {
    let app = spawn_app().await;
    let documented = report("v-result");
    let r = accepted(&app, &documented).await;
    assert!(has_form(&r, "results-key:result"));
    assert_eq!(r["commands"][1]["keys"], "1#");

    let mut observed = report("v-inp");
    let entries = observed.as_object_mut().unwrap().remove("result").unwrap();
    observed["isNonProfit"] = entries.clone();
    let r = accepted(&app, &observed).await;
    assert!(has_form(&r, "results-key:isNonProfit"));
    assert_eq!(r["commands"].as_array().unwrap().len(), 2);

    let mut both = report("v-both");
    both["isNonProfit"] = json!([]);
    let r = accepted(&app, &both).await;
    assert_eq!(r["commands"].as_array().unwrap().len(), 2, "result wins");
    assert_eq!(r["extra"]["isNonProfit"], json!([]), "the other is kept");
    app.stop().await;
}

#[tokio::test]
async fn code_as_code_or_capital_code_string_or_integer() {
    let app = spawn_app().await;
    for (i, (key, value, form)) in [
        ("Code", json!("0"), "code-type:string"),
        ("Code", json!(17), "code-type:number"),
        ("code", json!(0), "code-type:number"),
        ("code", json!("108"), "code-type:string"),
    ]
    .into_iter()
    .enumerate()
    {
        let mut body = report(&format!("v-code-{i}"));
        let entry = body["result"][0].as_object_mut().unwrap();
        entry.remove("Code");
        entry.insert(key.into(), value.clone());
        let r = accepted(&app, &body).await;
        let expected = match &value {
            Value::String(s) => s.clone(),
            v => v.to_string(),
        };
        assert_eq!(
            r["commands"][0]["code"],
            expected.as_str(),
            "stored as a string"
        );
        assert!(
            has_form(&r, form) && has_form(&r, &format!("code-key:{key}")),
            "{r}"
        );
    }
    app.stop().await;
}

#[tokio::test]
async fn start_and_end_as_text_or_number_at_the_configured_offset() {
    let app = spawn_with("[inbound]\nutc_offset = \"+00:00\"").await;
    let mut body = report("v-time");
    body["result"][0]["start"] = json!(20180112172322010u64);
    let r = accepted(&app, &body).await;
    let c = &r["commands"][0];
    assert_eq!(c["start"], "2018-01-12T17:23:22.010+00:00");
    assert_eq!(c["end"], "2018-01-12T17:23:25.010+00:00");
    assert_eq!(c["durationMs"], 3000);
    assert!(has_form(&r, "time-type:number") && has_form(&r, "time-type:string"));
    app.stop().await;
}

#[tokio::test]
async fn dtmf_keys_as_dtmf_code_or_dtm_code_and_entry_event_optional() {
    let app = spawn_app().await;
    let mut body = report("v-dtmf");
    let last = body["result"][1].as_object_mut().unwrap();
    last.remove("dtmCode");
    last.remove("event");
    last.insert("dtmfCode".into(), json!("5"));
    let r = accepted(&app, &body).await;
    assert_eq!(
        (
            r["commands"][1]["keys"].as_str(),
            r["commands"][1]["kind"].as_str()
        ),
        (Some("5"), Some("dtmf")),
        "keys without an event make a DTMF command"
    );
    assert_eq!(r["commands"][1]["event"], Value::Null);
    assert_eq!(r["commands"][0]["event"], "playoverrpt");
    assert!(
        has_form(&r, "dtmf-key:dtmfCode")
            && has_form(&r, "entry-event:absent")
            && has_form(&r, "entry-event:present")
    );
    let r = accepted(&app, &report("v-dtm")).await;
    assert!(has_form(&r, "dtmf-key:dtmCode"));
    app.stop().await;
}

#[tokio::test]
async fn entries_that_are_not_objects_are_kept_with_a_warning_or_refused_when_strict() {
    let app = spawn_app().await;
    let mut body = report("v-bare");
    body["result"].as_array_mut().unwrap().push(json!("value"));
    let r = accepted(&app, &body).await;
    assert_eq!(
        r["commands"][2],
        json!({"kind": "unrecognised", "value": "value"})
    );
    assert_eq!(r["warnings"][0]["field"], "result[2]");
    app.stop().await;

    let strict = spawn_with("[inbound]\nstrict = true").await;
    let a = strict.post_callback(body.to_string()).await;
    assert_eq!(a.code, "108100");
    assert!(
        a.msg.starts_with("result[2]: is a string, not an object"),
        "{}",
        a.msg
    );
    assert_eq!(
        strict
            .post_callback(report("v-strict-ok").to_string())
            .await
            .code,
        "000000"
    );
    strict.stop().await;
}

#[tokio::test]
async fn hungup_as_text_as_object_as_empty_and_undecodable() {
    let app = spawn_app().await;
    let notice = json!({"event": "", "callId": "v-h", "appId": APP, "dir": 1,
        "fileName": "https://rec.example/a.wav", "reason": 0, "timeStamp": "20180118204444584"});
    let cases = [
        ("v-h-text", json!(notice.to_string()), "hungup:text"),
        ("v-h-object", notice.clone(), "hungup:object"),
        ("v-h-empty", json!(""), "hungup:empty"),
    ];
    for (call, hungup, form) in cases {
        let mut body = report(call);
        body["status"] = json!(1);
        body["hungup"] = hungup;
        let r = accepted(&app, &body).await;
        assert!(has_form(&r, form), "{call}: {r}");
        assert_eq!(r["status"], "hungup");
        if form == "hungup:empty" {
            assert_eq!(r["hangup"], Value::Null);
        } else {
            assert_eq!(r["hangup"]["recordingUrl"], "https://rec.example/a.wav");
            assert_eq!(r["hangup"]["time"], "2018-01-18T20:44:44.584+08:00");
        }
    }
    let mut body = report("v-h-garbage");
    body["hungup"] = json!("{\"callId\": ");
    let r = accepted(&app, &body).await;
    assert_eq!(
        r["hangup"],
        json!({"decoded": false, "raw": "{\"callId\": "})
    );
    assert_eq!(r["warnings"][0]["field"], "hungup");
    app.stop().await;
}

#[tokio::test]
async fn status_as_integer_or_lenient_string() {
    let app = spawn_app().await;
    let mut body = report("v-status");
    body["status"] = json!("1");
    let r = accepted(&app, &body).await;
    assert_eq!(r["status"], "hungup");
    assert_eq!(r["warnings"][0]["field"], "status");
    assert!(has_form(&r, "status-type:string"));
    app.stop().await;
}

#[tokio::test]
async fn other_events_are_kept_raw_and_decoded_as_far_as_they_go() {
    let app = spawn_app().await;
    let body =
        json!({"appId": APP, "callId": "v-other", "event": "calldisconnectrpt", "duration": 31});
    let r = accepted(&app, &body).await;
    assert_eq!(r["event"], "calldisconnectrpt");
    assert_eq!(r["extra"]["duration"], 31);
    assert_eq!(r["warnings"][0]["field"], "event");
    app.stop().await;
}

/// Every row is shown in the one decoded form, derived from its raw body when read: a row
/// from before SQLite's migration 3 (a stored form, no offset) at the default offset, and a
/// body this decoder no longer reads with the reason and the raw text.
#[tokio::test]
async fn the_decoded_form_is_derived_at_read_for_every_row() {
    let app = spawn_app().await;
    accepted(&app, &report("v-derived")).await;
    let db = rusqlite::Connection::open(&app.db_path).unwrap();
    // New rows keep the raw body and the offset, not the decoded form.
    let (decoded, offset): (String, String) = db
        .query_row(
            "SELECT decoded, utc_offset FROM reports WHERE call_id = 'v-derived'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!((decoded.as_str(), offset.as_str()), ("", "+08:00"));
    let old = "INSERT INTO reports (app_id, call_id, content_hash, event, received_at_ms, raw,
                                   decoded, warnings)
               VALUES ('old-app', ?1, ?2, 'multrpt', 0, CAST(?3 AS BLOB), '{\"event\":\"stored\"}', '[]')";
    let body = report("v-old").to_string();
    db.execute(old, ("v-old", vec![1u8], body)).unwrap();
    db.execute(old, ("v-gone", vec![2u8], "{}".to_owned()))
        .unwrap();
    let shown = &app.timeline("v-old").await[0];
    assert_eq!(
        shown["event"], "multrpt",
        "from the raw body, not the stored form"
    );
    assert_eq!(
        shown["commands"][0]["start"],
        "2018-01-12T17:23:22.010+08:00"
    );
    let gone = &app.timeline("v-gone").await[0];
    assert!(
        gone["decodeError"]
            .as_str()
            .is_some_and(|e| e.contains("required field is missing")),
        "{gone}"
    );
    assert_eq!(gone["callId"], "v-gone");
    assert_eq!(
        (gone["appId"].as_str(), gone["raw"].as_str()),
        (Some("old-app"), Some("{}"))
    );
    app.stop().await;
}

//! IVR analytics from reports built so that every figure is known by hand: ten calls through
//! `welcome` (3 s), `menu` (5 s) and the DTMF prompt `choose`. Four hang up two seconds into
//! `menu`; at `choose` three enter `1` (2 s), two enter `2` (4 s) and one enters nothing (6 s).

use crate::helpers::*;
use serde_json::{json, Value};

/// Platform time of second `s` of the calls (local, UTC+08:00).
fn at(s: f64) -> String {
    format!(
        "202612041000{:02}{:03}",
        s as i64,
        ((s.fract()) * 1000.0).round() as i64
    )
}

fn command(event: &str, data: &str, from: f64, to: f64, keys: Option<&str>) -> Value {
    let mut c =
        json!({"event": event, "code": "0", "start": at(from), "end": at(to), "data": data});
    if let Some(k) = keys {
        c["dtmfCode"] = k.into();
    }
    c
}

/// One of the ten calls: `choose` taking `choose_s` with `keys`, or hung up during `menu`.
fn ivr_call(id: &str, choose: Option<(f64, Option<&str>)>) -> Value {
    let mut result = vec![command("playoverrpt", "welcome", 0.0, 3.0, None)];
    let mut call = json!({"appId": APP, "callId": id, "event": "multrpt"});
    match choose {
        Some((secs, keys)) => {
            result.push(command("playoverrpt", "menu", 3.0, 8.0, None));
            result.push(command("ivrreportdtmf", "choose", 8.0, 8.0 + secs, keys));
            call["status"] = 0.into();
        }
        None => {
            result.push(command("playoverrpt", "menu", 3.0, 5.5, None));
            call["status"] = 1.into();
            call["hungup"] = json!({"timeStamp": at(5.0), "reason": 16})
                .to_string()
                .into();
        }
    }
    call["result"] = result.into();
    call
}

pub fn the_ten_calls() -> Vec<Value> {
    let mut calls: Vec<Value> = (0..4)
        .map(|i| ivr_call(&format!("hang-{i}"), None))
        .collect();
    for (i, (secs, keys)) in [(2.0, "1"), (2.0, "1"), (2.0, "1"), (4.0, "2"), (4.0, "2")]
        .into_iter()
        .enumerate()
    {
        calls.push(ivr_call(&format!("key-{i}"), Some((secs, Some(keys)))));
    }
    calls.push(ivr_call("no-key", Some((6.0, None))));
    calls
}

/// Every figure of the answer but the span, worked out by hand.
fn expected() -> Value {
    let prompt = |position, name, played, to_end, listened, hung_up, dtmf: Value| {
        json!({"position": position, "prompt": name, "played": played, "to_end": to_end,
               "to_end_share": to_end as f64 / played as f64, "listened_median_ms": listened,
               "hung_up": hung_up, "hung_up_share": hung_up as f64 / played as f64,
               "dtmf": dtmf})
    };
    let keys = json!({"no_key": 1, "no_key_share": 1.0 / 6.0,
                      "keys": [{"keys": "1", "n": 3}, {"keys": "2", "n": 2}]});
    let step = |name, reached| json!({"prompt": name, "reached": reached});
    json!({
        "calls": 10, "completed": 6, "hung_up": 4,
        "completed_share": 0.6, "hung_up_share": 0.4,
        // Lengths 5.5 s ×4, 10 s ×3, 12 s ×2, 14 s: the 5th and the 9th.
        "length_median_ms": 10_000, "length_p90_ms": 12_000,
        "prompts": [
            prompt(1, "welcome", 10, 10, 3_000, 0, Value::Null),
            // Listened 2 s ×4 (to the hang-up), 5 s ×6.
            prompt(2, "menu", 10, 6, 5_000, 4, Value::Null),
            // Listened 2 s ×3, 4 s ×2, 6 s.
            prompt(3, "choose", 6, 6, 2_000, 0, keys),
        ],
        "funnel": [
            {"calls": 6, "steps": [step("welcome", 10), step("menu", 10), step("choose", 6)]},
            {"calls": 4, "steps": [step("welcome", 10), step("menu", 10)]},
        ],
    })
}

/// The answer without its span (checked on its own).
async fn figures(node: &TestApp) -> Value {
    let (status, mut body) = node.get(&format!("/v1/apps/{APP}/analytics")).await;
    assert_eq!(status, 200, "{body}");
    let obj = body.as_object_mut().unwrap();
    assert_eq!(obj.remove("app_id"), Some(json!(APP)));
    for end in ["from", "to"] {
        let text = obj.remove(end).unwrap();
        assert!(text.as_str().unwrap().ends_with("+08:00"), "{end}: {text}");
    }
    body
}

/// Posts the ten calls round the nodes (and one again, a duplicate that counts nothing),
/// then waits until the counts are written.
pub async fn receive(nodes: &[&TestApp]) {
    for (i, call) in the_ten_calls().into_iter().enumerate() {
        let node = nodes[i % nodes.len()];
        assert_eq!(node.post_callback(call.to_string()).await.code, "000000");
    }
    let again = ivr_call("hang-0", None).to_string();
    assert_eq!(nodes[0].post_callback(again).await.code, "000000");
    eventually("ten calls counted", || async {
        figures(nodes[0]).await["calls"] == 10
    })
    .await;
}

pub fn config() -> String {
    format!("[[apps]]\nid = \"{APP}\"\n")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_figure_on_sqlite_also_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("a.db").display());
    let app = spawn_with_database(&url, &config()).await;
    receive(&[&app]).await;
    assert_eq!(figures(&app).await, expected());
    csv_and_refusals(&app).await;
    app.stop().await;
    let again = spawn_with_database(&url, &config()).await;
    assert_eq!(figures(&again).await, expected(), "after a restart");
    again.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_figure_from_two_postgres_nodes_also_after_a_restart() {
    let a = spawn_on_postgres("analytics_two", &config()).await;
    let b = spawn_with_database(&a.database_url, &config()).await;
    receive(&[&a, &b]).await;
    assert_eq!(figures(&a).await, expected());
    assert_eq!(figures(&b).await, expected());
    b.stop().await;
    let c = spawn_with_database(&a.database_url, &config()).await;
    assert_eq!(figures(&c).await, expected(), "after a restart");
    c.stop().await;
    a.stop().await;
}

/// The CSV holds the same figures, one a line; a wrong span or app is refused by name.
async fn csv_and_refusals(app: &TestApp) {
    let resp = (app
        .client
        .get(app.url(&format!("/v1/apps/{APP}/analytics.csv"))))
    .send()
    .await
    .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "text/csv; charset=utf-8");
    let csv = resp.text().await.unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "section,position,prompt,name,value");
    for line in [
        "calls,,,calls,10",
        "calls,,,hung_up_share,0.4",
        "calls,,,length_p90_ms,12000",
        "prompt,2,menu,hung_up_share,0.4",
        "prompt,3,choose,listened_median_ms,2000",
        "keys,3,choose,(no key),1",
        "keys,3,choose,1,3",
        "funnel,3,choose,path 1 step 3,6",
        "funnel,2,menu,path 2 step 2,10",
    ] {
        assert!(lines.contains(&line), "{line} in:\n{csv}");
    }
    let refused = [
        (
            format!("/v1/apps/{APP}/analytics?from=yesterday"),
            422,
            "from",
        ),
        (
            format!("/v1/apps/{APP}/analytics?from=2026-12-04&to=2026-12-03"),
            422,
            "from",
        ),
        (
            format!("/v1/apps/{APP}/analytics?since=2026-12-04"),
            422,
            "since",
        ),
        ("/v1/apps/not-configured/analytics".to_owned(), 404, ""),
        ("/v1/apps/%0A/analytics.csv".to_owned(), 422, "appId"),
    ];
    for (path, status, field) in refused {
        let (got, body) = app.get(&path).await;
        assert_eq!(got, status, "{path}: {body}");
        if !field.is_empty() {
            assert_eq!(body["error"]["field"], field, "{path}: {body}");
        }
    }
}

/// Past `max_prompts` an app's prompts count as `(other)`, and so do the sequences through
/// them; the prompts counted by name stay the first ones seen.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prompts_past_the_cap_count_as_other() {
    let app = spawn_with(&format!("{}[analytics]\nmax_prompts = 2\n", config())).await;
    let first = ivr_call("cap-0", Some((2.0, Some("1"))));
    assert_eq!(app.post_callback(first.to_string()).await.code, "000000");
    eventually("the first call counted", || async {
        figures(&app).await["calls"] == 1
    })
    .await;
    let mut second = ivr_call("cap-1", Some((2.0, Some("1"))));
    second["result"][2]["data"] = "confirm".into();
    assert_eq!(app.post_callback(second.to_string()).await.code, "000000");
    eventually("the second call counted", || async {
        figures(&app).await["calls"] == 2
    })
    .await;
    let f = figures(&app).await;
    let prompts: Vec<(i64, &str, i64)> = (f["prompts"].as_array().unwrap().iter())
        .map(|p| {
            (
                p["position"].as_i64().unwrap(),
                p["prompt"].as_str().unwrap(),
                p["played"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        prompts,
        [(1, "welcome", 2), (2, "menu", 2), (3, "(other)", 2)],
        "choose and confirm, the third and fourth prompts seen, are (other)"
    );
    let path: Vec<&str> = (f["funnel"][0]["steps"].as_array().unwrap().iter())
        .map(|s| s["prompt"].as_str().unwrap())
        .collect();
    assert_eq!(path, ["welcome", "menu", "(other)"]);
    assert_eq!(
        f["funnel"][0]["calls"], 2,
        "both calls ran the same counted sequence"
    );
    app.stop().await;
}

/// A receiver that takes any appId answers for any: the CSV's file name keeps only the
/// appId's safe characters, and an appId with a control character is refused by name.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn any_app_id_gets_a_csv_with_a_safe_file_name() {
    let app = spawn_app().await;
    let resp = (app
        .client
        .get(app.url("/v1/apps/caf%C3%A9%22x/analytics.csv")))
    .send()
    .await
    .unwrap();
    assert_eq!(resp.status(), 200);
    let disposition = resp.headers()["content-disposition"].to_str().unwrap();
    assert_eq!(disposition, "attachment; filename=\"analytics-caf__x.csv\"");
    let (status, body) = app.get("/v1/apps/a%0Ab/analytics.csv").await;
    assert_eq!(
        (status, &body["error"]["field"]),
        (422, &serde_json::json!("appId")),
        "{body}"
    );
    app.stop().await;
}

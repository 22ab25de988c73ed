//! `ivrhook check URL`: sends a receiver every request form the contract names (see
//! `spec/protocol.md`) and reports, case by case, whether it answered the right code as JSON
//! with a string `code`. Each request carries `Ivrhook-Check: 1`, which an ivrhook receiver
//! answers without storing or forwarding the report; the callIds start `88-check-`.

use serde_json::{json, Value};
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct Options {
    pub target: String,
    /// An app the receiver is configured for.
    pub app: String,
    /// An app it is not.
    pub unknown_app: String,
}

#[derive(Debug, Clone)]
pub struct Outcome {
    pub case: &'static str,
    pub expected: &'static str,
    pub got: String,
    pub verdict: Verdict,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Passed,
    Failed,
    /// The unknown-app case against a receiver that takes any appId: nothing to check.
    NotChecked,
}

/// Why the unknown-app case was not checked.
pub const ACCEPTS_ANY_APP: &str = "the receiver accepted an appId it is not configured for, so \
    it takes any appId (as ivrhook does on loopback with no [[apps]]): 108101 cannot be \
    checked; configure [[apps]] on the receiver to check it";

const UNKNOWN_APP: &str = "108101";

const ALL_SUCCEEDED: &str = include_str!("../../../fixtures/seed-example-all-succeeded.json");
const PARTLY: &str = include_str!("../../../fixtures/seed-example-partly-not-executed.json");

struct Case {
    name: &'static str,
    expected: &'static str,
    body: Vec<u8>,
}

impl Case {
    fn new(name: &'static str, expected: &'static str, body: Vec<u8>) -> Case {
        Case {
            name,
            expected,
            body,
        }
    }
}

const OK: &str = "000000";
const BAD: &str = "108100";

/// The bodies the cases send: the documented form, edited, or a spec example, each on a call
/// of its own in this run.
struct Bodies<'a> {
    o: &'a Options,
    run: &'a str,
}

impl Bodies<'_> {
    fn call(&self, n: &str) -> String {
        format!("88-check-{}-{n}-out", self.run)
    }

    fn documented(&self, n: &str) -> Value {
        json!({"appId": self.o.app, "callId": self.call(n), "event": "multrpt", "data": "检查 check",
               "result": [{"event": "playoverrpt", "Code": "0", "start": "20180112172322010", "end": "20180112172325010"},
                          {"event": "ivrreportdtmf", "Code": "0", "start": "20180112172325010", "end": "20180112172327510", "dtmCode": "1#"}],
               "status": 0})
    }

    fn edit(&self, n: &str, f: &dyn Fn(&mut Value)) -> Vec<u8> {
        let mut v = self.documented(n);
        f(&mut v);
        v.to_string().into_bytes()
    }

    fn example(&self, text: &str, n: &str) -> Vec<u8> {
        let mut v: Value = serde_json::from_str(text).expect("the fixture is JSON");
        v["appId"] = json!(self.o.app);
        v["callId"] = json!(self.call(n));
        v.to_string().into_bytes()
    }
}

fn cases(o: &Options, run: &str) -> Vec<Case> {
    let b = Bodies { o, run };
    let mut cases = tolerated(&b);
    cases.extend(unreadable());
    cases.extend(invalid(&b));
    cases.push(Case::new(
        "unknown appId",
        UNKNOWN_APP,
        b.edit("app", &|v| v["appId"] = json!(o.unknown_app)),
    ));
    cases
}

/// Every form the contract documents or platforms were seen to send: each is accepted.
fn tolerated(b: &Bodies) -> Vec<Case> {
    vec![
        Case::new(
            "documented form (result, Code, text times, dtmCode)",
            OK,
            b.edit("doc", &|_| {}),
        ),
        Case::new(
            "spec example: all succeeded (isNonProfit, numbers, bare entry)",
            OK,
            b.example(ALL_SUCCEEDED, "ex1"),
        ),
        Case::new(
            "spec example: partly executed (hungup as JSON text)",
            OK,
            b.example(PARTLY, "ex2"),
        ),
        Case::new(
            "result and isNonProfit both present",
            OK,
            b.edit("both", &|v| v["isNonProfit"] = json!([])),
        ),
        Case::new(
            "code as an integer under the key code",
            OK,
            b.edit("code", &|v| {
                let e = v["result"][0].as_object_mut().expect("object");
                e.remove("Code");
                e.insert("code".into(), json!(0));
            }),
        ),
        Case::new(
            "start and end as 17-digit numbers",
            OK,
            b.edit("num", &|v| {
                v["result"][0]["start"] = json!(20180112172322010u64);
                v["result"][0]["end"] = json!(20180112172325010u64);
            }),
        ),
        Case::new(
            "entry without event, keys as dtmfCode",
            OK,
            b.edit("dtmf", &|v| {
                let e = v["result"][1].as_object_mut().expect("object");
                e.remove("event");
                e.remove("dtmCode");
                e.insert("dtmfCode".into(), json!("9"));
            }),
        ),
        Case::new(
            "hung up, hungup as an object",
            OK,
            b.edit("hobj", &|v| {
                v["status"] = json!(1);
                v["hungup"] = json!({"event": "", "dir": 1, "fileName": "https://r.example/a.wav", "reason": 0, "timeStamp": "20180118204444584"});
            }),
        ),
        Case::new(
            "hungup as an empty string",
            OK,
            b.edit("hempty", &|v| v["hungup"] = json!("")),
        ),
        Case::new("duplicate of an accepted report", OK, b.edit("doc", &|_| {})),
    ]
}

/// Bodies that are not a JSON object at all.
fn unreadable() -> Vec<Case> {
    vec![
        Case::new("not JSON", BAD, b"appId=1&callId=2".to_vec()),
        Case::new("not UTF-8", BAD, b"{\"appId\": \"\xff\xfe\"}".to_vec()),
        Case::new("a JSON array, not an object", BAD, b"[]".to_vec()),
        Case::new("empty body", BAD, Vec::new()),
    ]
}

/// A required field missing, or of a type or value the contract does not allow.
fn invalid(b: &Bodies) -> Vec<Case> {
    let missing = [
        ("appId missing", "m1", "appId"),
        ("callId missing", "m2", "callId"),
        ("event missing", "m3", "event"),
        ("results array missing", "m4", "result"),
        ("status missing", "m5", "status"),
    ];
    let mut cases: Vec<Case> = (missing.into_iter())
        .map(|(name, n, field)| {
            let body = b.edit(n, &|v| drop(v.as_object_mut().map(|m| m.remove(field))));
            Case::new(name, BAD, body)
        })
        .collect();
    cases.extend([
        Case::new(
            "appId is a number",
            BAD,
            b.edit("t1", &|v| v["appId"] = json!(12345)),
        ),
        Case::new(
            "callId is empty",
            BAD,
            b.edit("t2", &|v| v["callId"] = json!("")),
        ),
        Case::new(
            "result is a string",
            BAD,
            b.edit("t3", &|v| v["result"] = json!("[]")),
        ),
        Case::new(
            "status is 2",
            BAD,
            b.edit("t4", &|v| v["status"] = json!(2)),
        ),
    ]);
    cases
}

/// Runs every case in order (the duplicate case depends on the first).
pub async fn run(opts: &Options) -> Vec<Outcome> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("a plain HTTP client builds");
    let run = format!("{:x}", chrono::Utc::now().timestamp_micros());
    let mut out = Vec::new();
    for case in cases(opts, &run) {
        let got = match answer(&client, &opts.target, case.body).await {
            Ok(code) => code,
            Err(why) => why,
        };
        let verdict = match (got == case.expected, case.expected, got.as_str()) {
            (true, _, _) => Verdict::Passed,
            (false, UNKNOWN_APP, "000000") => Verdict::NotChecked,
            _ => Verdict::Failed,
        };
        out.push(Outcome {
            case: case.name,
            expected: case.expected,
            got,
            verdict,
        });
    }
    out
}

/// The answer's string `code`, or why the answer is not a contract answer.
async fn answer(client: &reqwest::Client, url: &str, body: Vec<u8>) -> Result<String, String> {
    let resp = client
        .post(url)
        .header(ivrhook_server::CHECK_HEADER, "1")
        .body(body)
        .send()
        .await
        .map_err(|e| format!("no answer: {e}"))?;
    let status = resp.status().as_u16();
    let text = resp
        .text()
        .await
        .map_err(|e| format!("HTTP {status}, body unreadable: {e}"))?;
    let value: Value =
        serde_json::from_str(&text).map_err(|_| format!("HTTP {status}, not JSON"))?;
    match &value["code"] {
        Value::String(code) => Ok(code.clone()),
        Value::Null => Err(format!("HTTP {status}, no code")),
        other => Err(format!("HTTP {status}, code {other} is not a string")),
    }
}

pub fn render(outcomes: &[Outcome]) -> String {
    let w = outcomes.iter().map(|o| o.case.len()).max().unwrap_or(0);
    let mut s = format!(
        "  {:<w$}  {:<8}  {:<24}  result\n",
        "case", "expected", "got"
    );
    for o in outcomes {
        let verdict = match o.verdict {
            Verdict::Passed => "ok",
            Verdict::Failed => "FAIL",
            Verdict::NotChecked => "not checked",
        };
        s.push_str(&format!(
            "  {:<w$}  {:<8}  {:<24}  {verdict}\n",
            o.case, o.expected, o.got
        ));
    }
    let count = |v| outcomes.iter().filter(|o| o.verdict == v).count();
    s.push_str(&format!(
        "\n{} passed, {} failed",
        count(Verdict::Passed),
        count(Verdict::Failed)
    ));
    match count(Verdict::NotChecked) {
        0 => s.push('\n'),
        n => s.push_str(&format!(", {n} not checked: {ACCEPTS_ANY_APP}\n")),
    }
    s
}

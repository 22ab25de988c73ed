//! `ivrhook tail`: follows new reports live, one readable line each (or one JSON object a line
//! with `--json`), from the server's event stream. After a dropped connection it reconnects
//! and resumes after the last report it printed.

use serde_json::Value;
use std::time::Duration;

/// One report as a line: local time, app, call, outcome, each command as kind and duration,
/// the keys pressed, the hang-up reason and the recording's URL.
pub fn line(report: &Value) -> String {
    let text = |v: &Value| v.as_str().unwrap_or("-").to_owned();
    let when = report["receivedAt"]
        .as_str()
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
        .map_or_else(
            || "-".to_owned(),
            |t| {
                t.with_timezone(&chrono::Local)
                    .format("%Y-%m-%d %H:%M:%S%.3f")
                    .to_string()
            },
        );
    let outcome = match report["status"].as_str() {
        Some("hungup") => "hung up".to_owned(),
        Some(status) => status.to_owned(),
        None => text(&report["event"]),
    };
    let commands: Vec<String> = report["commands"]
        .as_array()
        .map(|c| c.iter().map(command).collect())
        .unwrap_or_default();
    let mut out = format!(
        "{when}  app={}  call={}  {outcome}",
        text(&report["appId"]),
        text(&report["callId"])
    );
    if !commands.is_empty() {
        out.push_str("  ");
        out.push_str(&commands.join(" · "));
    }
    let hangup = &report["hangup"];
    if hangup["decoded"] == true {
        out.push_str(&format!("  hangup reason={}", text(&hangup["reason"])));
        if let Some(url) = hangup["recordingUrl"].as_str().filter(|u| !u.is_empty()) {
            out.push_str(&format!(" recording={url}"));
        }
    }
    out
}

/// The command's `kind` as the decoded form names it, its `data` (the prompt or menu) when
/// it has one, its duration and keys: `dtmf:menu 2.5s keys=1#`, `playback:welcome 3.0s`,
/// `unknown:welcome 3.0s` (the platform did not say), `(unrecognised)`.
fn command(c: &Value) -> String {
    let kind = c["kind"].as_str().unwrap_or("unknown");
    if kind == "unrecognised" {
        return "(unrecognised)".into();
    }
    let keys = c["keys"].as_str();
    let kind = match c["data"].as_str().filter(|d| !d.is_empty()) {
        Some(data) => format!("{kind}:{data}"),
        None => kind.to_owned(),
    };
    let took = c["durationMs"].as_i64().map_or_else(
        || "?s".to_owned(),
        |ms| format!("{:.1}s", ms as f64 / 1000.0),
    );
    match keys {
        Some(k) => format!("{kind} {took} keys={k}"),
        None => format!("{kind} {took}"),
    }
}

/// Where and what to follow.
#[derive(Debug, Clone)]
pub struct Follow {
    pub server: String,
    pub token: Option<String>,
    pub app: Option<String>,
    pub call: Option<String>,
    pub json: bool,
}

/// Follows the stream until the process is stopped; fails only when the server cannot be
/// reached at the start (later drops reconnect).
pub async fn run(f: Follow, mut out: impl FnMut(&str)) -> Result<(), String> {
    let client = reqwest::Client::new();
    let mut last: Option<String> = None;
    let mut connected_once = false;
    loop {
        let mut request = client
            .get(stream_url(&f))
            .header("accept", "text/event-stream");
        if let Some(t) = &f.token {
            request = request.bearer_auth(t);
        }
        if let Some(id) = &last {
            request = request.header("last-event-id", id);
        }
        match request.send().await {
            Ok(resp) if resp.status().is_success() => {
                connected_once = true;
                read(resp, &f, &mut last, &mut out).await;
                eprintln!(
                    "ivrhook tail: the stream from {} ended; reconnecting",
                    f.server
                );
            }
            Ok(resp) => return Err(refused(resp).await),
            Err(e) if !connected_once => return Err(crate::net::unreachable(&f.server, &e)),
            Err(_) => {}
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

fn stream_url(f: &Follow) -> String {
    let mut query: Vec<(&str, &str)> = Vec::new();
    if let Some(app) = &f.app {
        query.push(("app", app));
    }
    if let Some(call) = &f.call {
        query.push(("call", call));
    }
    let query = serde_urlencoded::to_string(query).unwrap_or_default();
    format!(
        "{}/v1/events/stream?{query}",
        f.server.trim_end_matches('/')
    )
}

async fn refused(resp: reqwest::Response) -> String {
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap_or_default();
    let message = serde_json::from_str::<Value>(&text)
        .ok()
        .and_then(|v| v["error"]["message"].as_str().map(str::to_owned))
        .unwrap_or(text);
    format!("the server refused the event stream with HTTP {status}: {message}")
}

/// Prints each event of one connection; returns when it ends.
async fn read(
    mut resp: reqwest::Response,
    f: &Follow,
    last: &mut Option<String>,
    out: &mut impl FnMut(&str),
) {
    let mut buffer = String::new();
    while let Ok(Some(chunk)) = resp.chunk().await {
        buffer.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(end) = buffer.find("\n\n") {
            let block: String = buffer.drain(..end + 2).collect();
            let field = |name: &str| block.lines().find_map(|l| l.strip_prefix(name));
            let (Some(id), Some(data)) = (field("id:"), field("data:")) else {
                continue; // a keep-alive comment
            };
            *last = Some(id.trim().to_owned());
            let Ok(report) = serde_json::from_str::<Value>(data.trim()) else {
                continue;
            };
            out(&if f.json {
                report.to_string()
            } else {
                line(&report)
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ivrhook_protocol::{
        decode,
        forward::{forwarded, Received},
        DecodeOptions,
    };

    /// `body` in the decoded form the feed serves (received 2018-01-12 09:23:30 UTC).
    fn served(body: &str) -> Value {
        let d = decode(body.as_bytes(), &DecodeOptions::default()).unwrap();
        let received = Received {
            id: 1,
            at_ms: 1_515_749_010_000,
        };
        serde_json::to_value(forwarded(&d, received)).unwrap()
    }

    #[test]
    fn a_line_says_what_happened_on_the_call() {
        let l = line(&served(
            r#"{"appId":"a1","callId":"c-1","event":"multrpt","status":1,
            "result":[{"event":"playoverrpt","start":"20180112172322010","end":"20180112172325010","data":"welcome"},
                      {"start":"20180112172325010","end":"20180112172327510","dtmfCode":"1#"},"value"],
            "hungup":{"reason":16,"fileName":"https://r.example/1.wav"}}"#,
        ));
        assert!(l.contains("app=a1  call=c-1  hung up"), "{l}");
        assert!(
            l.contains("playback:welcome 3.0s · dtmf 2.5s keys=1# · (unrecognised)"),
            "{l}"
        );
        assert!(
            l.ends_with("hangup reason=16 recording=https://r.example/1.wav"),
            "{l}"
        );
        let expected = chrono::DateTime::parse_from_rfc3339("2018-01-12T09:23:30Z")
            .unwrap()
            .with_timezone(&chrono::Local)
            .format("%Y-%m-%d %H:%M:%S")
            .to_string();
        assert!(l.starts_with(&expected), "local time first: {l}");
    }

    /// The README's first report: commands the platform did not name are shown by what they
    /// are called and what they did, never as `?`.
    #[test]
    fn commands_without_an_event_show_their_prompt() {
        let l = line(&served(
            r#"{"appId":"a1","callId":"88-try-it-out","event":"multrpt","status":0,"hungup":"",
            "isNonProfit":[
              {"code":0,"start":20180112172322010,"end":20180112172325010,"data":"welcome","dtmfCode":""},
              {"code":0,"start":20180112172325010,"end":20180112172327510,"data":"menu","dtmfCode":"1"}]}"#,
        ));
        assert!(
            l.contains("completed  unknown:welcome 3.0s · dtmf:menu 2.5s keys=1"),
            "{l}"
        );
        assert!(!l.contains('?'), "{l}");
    }
}

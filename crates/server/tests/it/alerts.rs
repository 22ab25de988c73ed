//! Operator events made to happen and received by real receivers (a webhook, and NATS
//! JetStream read by a JetStream consumer), each checked against the documented schema
//! (`docs/operator-events.schema.json`).

use crate::{
    helpers::*,
    nats::{fresh_stream, nats_url},
};
use async_nats::jetstream::consumer::pull;
use futures_util::StreamExt;
use ivrhook_testkit::{free_addr, Reply, Sink};
use serde_json::Value;
use std::{collections::HashSet, sync::OnceLock, time::Duration};

/// The documented schema, compiled once.
fn schema() -> &'static (boon::Schemas, boon::SchemaIndex) {
    static SCHEMA: OnceLock<(boon::Schemas, boon::SchemaIndex)> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../docs/operator-events.schema.json"
        );
        let text = std::fs::read_to_string(path).expect("the schema file");
        let (mut schemas, mut compiler) = (boon::Schemas::new(), boon::Compiler::new());
        compiler.enable_format_assertions();
        let url = "file:///operator-events.schema.json";
        compiler
            .add_resource(
                url,
                serde_json::from_str(&text).expect("the schema is JSON"),
            )
            .unwrap();
        let index = compiler
            .compile(url, &mut schemas)
            .expect("the schema compiles");
        (schemas, index)
    })
}

/// The operator events in `bodies`, each checked against the schema.
pub fn conforming(bodies: impl IntoIterator<Item = Vec<u8>>) -> Vec<Value> {
    let (schemas, index) = schema();
    (bodies.into_iter())
        .map(|body| {
            let event: Value = serde_json::from_slice(&body).expect("an event is JSON");
            if let Err(e) = schemas.validate(&event, *index) {
                panic!("{event}\ndoes not follow the schema: {e:#}");
            }
            event
        })
        .collect()
}

/// What the webhook has received, checked.
pub fn at(sink: &Sink) -> Vec<Value> {
    conforming(sink.hits().into_iter().map(|h| h.raw))
}

/// The JetStream stream operator events also go to (the destination `pager`), read by a
/// pull consumer: every test's events reach a webhook and JetStream alike.
pub struct Pager {
    name: String,
    consumer: async_nats::jetstream::consumer::Consumer<pull::Config>,
    read: Vec<Value>,
}

impl Pager {
    pub async fn start(name: &str) -> Pager {
        let stream_name = format!("IVRTEST_AL_{}", name.to_uppercase());
        let stream = fresh_stream(&stream_name, &format!("ivrtest-al-{name}.>")).await;
        // An ephemeral consumer idle past its threshold (5 s by default) is removed.
        let config = pull::Config {
            inactive_threshold: Duration::from_secs(600),
            ..Default::default()
        };
        let consumer = (stream.create_consumer(config).await).unwrap();
        Pager {
            name: name.to_owned(),
            consumer,
            read: Vec::new(),
        }
    }

    /// Its `[[destinations]]` entry.
    pub fn destination(&self) -> String {
        format!(
            "[[destinations]]\nname = \"pager\"\nkind = \"nats\"\nurl = \"{}\"\n\
             subject = \"ivrtest-al-{}.events\"\nstream = \"IVRTEST_AL_{}\"\n",
            nats_url(),
            self.name,
            self.name.to_uppercase()
        )
    }

    /// Everything read so far, each checked against the schema.
    async fn read(&mut self) -> &[Value] {
        let expires = Duration::from_millis(300);
        let batch = self.consumer.batch().max_messages(100).expires(expires);
        let mut batch = batch.messages().await.unwrap();
        while let Ok(Some(m)) = tokio::time::timeout(2 * expires, batch.next()).await {
            let m = m.unwrap();
            m.ack().await.unwrap();
            self.read.extend(conforming([m.payload.to_vec()]));
        }
        &self.read
    }

    /// Waits until it has read the same announcements, type for type, as `webhook` got.
    pub async fn has_the_same_as(&mut self, webhook: &[Value]) {
        let types = |events: &[Value]| {
            let mut t: Vec<String> = events.iter().map(|e| e["type"].to_string()).collect();
            t.sort();
            t
        };
        let want = types(webhook);
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        while types(self.read().await) != want {
            assert!(
                tokio::time::Instant::now() < deadline,
                "JetStream has {:?}, the webhook {want:?}",
                types(&self.read)
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

fn of_type<'a>(events: &'a [Value], ty: &str) -> Vec<&'a Value> {
    events.iter().filter(|e| e["type"] == ty).collect()
}

/// The calls the `delivery.dead` events in `events` name.
fn dead_calls(events: &[Value]) -> HashSet<String> {
    (of_type(events, "delivery.dead").iter())
        .flat_map(|e| e["deliveries"].as_array().unwrap().iter())
        .map(|d| d["call"].as_str().unwrap().to_owned())
        .collect()
}

const FAST: &str = "retry_schedule = [\"0s\", \"100ms\", \"100ms\", \"100ms\", \"100ms\", \"100ms\", \
    \"100ms\", \"100ms\", \"100ms\", \"100ms\", \"100ms\", \"100ms\", \"100ms\", \"100ms\", \"100ms\", \
    \"100ms\", \"100ms\", \"100ms\", \"100ms\", \"100ms\", \"1s\", \"1s\", \"1s\", \"1s\", \"1s\", \
    \"1s\", \"1s\", \"1s\", \"1s\", \"1s\", \"1s\", \"1s\", \"1s\", \"1s\", \"1s\", \"1s\"]\n";

fn webhook(name: &str, url: &str, extra: &str) -> String {
    format!("[[destinations]]\nname = \"{name}\"\nkind = \"webhook\"\nurl = \"{url}\"\n{extra}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_delivery_reaches_a_webhook_and_a_jetstream_consumer_as_documented() {
    let business = Sink::start().await;
    business.always(Reply::code("108100"));
    let ops = Sink::start().await;
    let stream = fresh_stream("IVRTEST_ALERTS", "ivrtest-alerts.>").await;
    let app = spawn_with(&format!(
        "[alerts]\ndestinations = [\"ops\", \"pager\"]\ngroup_within = \"300ms\"\n\
         [[apps]]\nid = \"{APP}\"\ncallback_url = \"{}\"\n{}\
         [[destinations]]\nname = \"pager\"\nkind = \"nats\"\nurl = \"{}\"\n\
         subject = \"ivrtest-alerts.events\"\nstream = \"IVRTEST_ALERTS\"\n",
        business.url(),
        webhook("ops", &ops.url(), ""),
        nats_url()
    ))
    .await;
    for call in ["dead-1", "dead-2"] {
        let submitted = (app.client.post(app.url(&format!("/v1/apps/{APP}/events"))))
            .json(&report(call))
            .send()
            .await
            .unwrap();
        assert_eq!(submitted.status(), 202);
    }
    let both = HashSet::from(["dead-1".to_owned(), "dead-2".to_owned()]);
    eventually("both dead deliveries announced to the webhook", || async {
        dead_calls(&at(&ops)) == both
    })
    .await;
    let events = at(&ops);
    let dead = of_type(&events, "delivery.dead");
    let destination = format!("app:{APP}");
    for e in &dead {
        assert_eq!(e["destination"], destination.as_str());
        for d in e["deliveries"].as_array().unwrap() {
            assert_eq!(
                (d["app"].as_str(), d["attempts"].as_u64()),
                (Some(APP), Some(1))
            );
            assert_eq!(d["lastAnswer"], "108100", "{d}");
        }
    }
    assert_eq!(
        events.len(),
        dead.len(),
        "nothing else happened: {events:?}"
    );
    // The same events through JetStream, read by a consumer.
    let consumer = (stream.create_consumer(pull::Config::default()).await).unwrap();
    let mut read = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while dead_calls(&read) != both {
        assert!(
            tokio::time::Instant::now() < deadline,
            "not on the stream: {read:?}"
        );
        let mut batch = (consumer.fetch().max_messages(10).messages().await).unwrap();
        while let Some(m) = batch.next().await {
            let m = m.unwrap();
            m.ack().await.unwrap();
            read.extend(conforming([m.payload.to_vec()]));
        }
    }
    let ids = |v: &[Value]| {
        v.iter()
            .map(|e| e["id"].to_string())
            .collect::<HashSet<_>>()
    };
    assert!(
        ids(&read).is_disjoint(&ids(&events)),
        "each destination its own event ids"
    );
    // Seen where every delivery is: the API and the dashboard.
    let (status, listed) = app
        .get("/v1/deliveries?destination=ops&state=delivered")
        .await;
    assert_eq!(status, 200, "{listed}");
    let first = &listed["deliveries"][0];
    assert_eq!(first["appId"], "ivrhook", "{first}");
    let (status, one) = app.get(&format!("/v1/deliveries/{}", first["id"])).await;
    assert_eq!(status, 200, "{one}");
    let page = app
        .client
        .get(app.url("/deliveries?destination=ops"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_destination_down_is_failing_with_a_high_backlog_then_recovered_and_normal() {
    let ops = Sink::start().await;
    let down = free_addr().await;
    let crm = format!("http://{down}/hook");
    let mut pager = Pager::start("down").await;
    let app = spawn_with(&format!(
        "[alerts]\ndestinations = [\"ops\", \"pager\"]\ngroup_within = \"300ms\"\n{}{}{}",
        webhook("ops", &ops.url(), ""),
        pager.destination(),
        webhook(
            "crm",
            &crm,
            &format!("max_backlog = 10\ntimeout = \"1s\"\n{FAST}")
        ),
    ))
    .await;
    for n in 0..9 {
        let body = call_report(&format!("down-{n}"), n, 0, None).to_string();
        assert_eq!(app.post_callback(body).await.code, "000000");
    }
    eventually_within(
        "failing and high announced",
        Duration::from_secs(30),
        || async {
            let events = at(&ops);
            !of_type(&events, "destination.failing").is_empty()
                && !of_type(&events, "backlog.high").is_empty()
        },
    )
    .await;
    let events = at(&ops);
    let failing = of_type(&events, "destination.failing")[0];
    assert_eq!(failing["destination"], "crm");
    assert_eq!(failing["errorRate"], 1.0);
    assert!(
        failing["lastError"].as_str().unwrap().contains("connect"),
        "{failing}"
    );
    let high = of_type(&events, "backlog.high")[0];
    assert_eq!(
        (high["pending"].as_u64(), high["maxBacklog"].as_u64()),
        (Some(9), Some(10))
    );
    let back = Sink::start_at(down).await;
    eventually_within(
        "recovered and normal announced",
        Duration::from_secs(60),
        || async {
            let events = at(&ops);
            !of_type(&events, "destination.recovered").is_empty()
                && !of_type(&events, "backlog.normal").is_empty()
        },
    )
    .await;
    delivered(&app, "crm", 9).await;
    assert_eq!(back.by_call().len(), 9, "every report delivered after all");
    let events = at(&ops);
    let kinds: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    for ty in [
        "destination.failing",
        "destination.recovered",
        "backlog.high",
        "backlog.normal",
    ] {
        assert_eq!(of_type(&events, ty).len(), 1, "{ty} once: {kinds:?}");
    }
    let at = |ty| kinds.iter().position(|k| *k == ty).unwrap();
    assert!(
        at("destination.failing") < at("destination.recovered"),
        "{kinds:?}"
    );
    assert!(at("backlog.high") < at("backlog.normal"), "{kinds:?}");
    pager.has_the_same_as(&events).await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_alert_destination_down_is_not_announced_and_gets_its_events_once_back() {
    let crm = Sink::start().await;
    let bad = Sink::start().await;
    bad.answer(400);
    let down = free_addr().await;
    let app = spawn_with(&format!(
        "[alerts]\ndestinations = [\"ops\"]\ngroup_within = \"200ms\"\n{}{}{}",
        webhook(
            "ops",
            &format!("http://{down}/hook"),
            &format!("timeout = \"1s\"\n{FAST}")
        ),
        webhook("crm", &crm.url(), ""),
        webhook("bad", &bad.url(), ""),
    ))
    .await;
    for n in 0..20 {
        let body = call_report(&format!("loop-{n}"), n, 0, None).to_string();
        assert_eq!(app.post_callback(body).await.code, "000000");
    }
    delivered(&app, "crm", 20).await;
    eventually("the breaker of ops open", || async {
        app.metric("ivrhook_destination_breaker_state{destination=\"ops\"}")
            .await
            == 1.0
    })
    .await;
    let ops = Sink::start_at(down).await;
    eventually_within(
        "the dead deliveries announced",
        Duration::from_secs(60),
        || async { dead_calls(&at(&ops)).len() == 20 },
    )
    .await;
    let events = at(&ops);
    assert!(
        events.iter().all(|e| e["destination"] == "bad"),
        "only what happened to bad: {events:?}"
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_deliveries_dying_at_once_are_at_most_ten_messages_naming_all() {
    let ops = Sink::start().await;
    let bad = Sink::start().await;
    bad.answer(400);
    let app = spawn_with(&format!(
        "[alerts]\ndestinations = [\"ops\"]\ngroup_within = \"20s\"\n{}{}",
        webhook("ops", &ops.url(), ""),
        webhook("bad", &bad.url(), "max_in_flight = 64\n"),
    ))
    .await;
    let posts: Vec<_> = (0..1000)
        .map(|n| app.spawn_post(call_report(&format!("burst-{n}"), n, 0, None).to_string()))
        .collect();
    for post in posts {
        assert_eq!(post.await.unwrap().code, "000000");
    }
    eventually_within("all 1,000 named", Duration::from_secs(90), || async {
        dead_calls(&at(&ops)).len() == 1000
    })
    .await;
    let events = at(&ops);
    assert!(events.len() <= 10, "{} messages", events.len());
    for e in &events {
        assert_eq!(
            (e["total"].as_u64(), e["parts"].as_u64()),
            (Some(1000), Some(10)),
            "{e}"
        );
    }
    app.stop().await;
}

const PAGE: &str = include_str!("../../../../docs/alerts.md");

/// The page's blocks of one language.
fn blocks(lang: &str) -> Vec<&'static str> {
    let fence = format!("```{lang}\n");
    (PAGE.split(fence.as_str()).skip(1))
        .map(|rest| rest.split("```").next().unwrap())
        .collect()
}

#[test]
fn the_pages_examples_follow_the_schema_one_for_each_type() {
    let examples = conforming(blocks("json").into_iter().map(|b| b.as_bytes().to_vec()));
    let shown: Vec<&str> = examples
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/operator-events.schema.json"
    );
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let described: Vec<&str> = (schema["oneOf"].as_array().unwrap().iter())
        .map(|t| t["properties"]["type"]["const"].as_str().unwrap())
        .collect();
    assert_eq!(
        shown, described,
        "an example of each type, in the schema's order"
    );
}

/// The README's Alerts section: its configuration parses and its example follows the schema.
#[test]
fn the_readmes_alerts_section_is_valid() {
    let readme = include_str!("../../../../README.md");
    let section = readme
        .split("## Alerts\n")
        .nth(1)
        .unwrap()
        .split("\n## ")
        .next()
        .unwrap();
    let block = |lang: &str| {
        let fence = format!("```{lang}\n");
        section
            .split(fence.as_str())
            .nth(1)
            .unwrap()
            .split("```")
            .next()
            .unwrap()
    };
    let c = ivrhook_server::config::Config::from_toml(block("toml"), "README.md")
        .unwrap_or_else(|e| panic!("{e}"));
    let types = c.destinations[0]
        .alerts
        .as_ref()
        .expect("ops takes operator events");
    assert!(types.matches("call.overdue") && !types.matches("backlog.high"));
    let example = conforming([block("json").as_bytes().to_vec()]);
    assert_eq!(example[0]["type"], "destination.failing");
}

#[test]
fn the_pages_configuration_is_valid() {
    let toml = blocks("toml")[0];
    let c = ivrhook_server::config::Config::from_toml(toml, "docs/alerts.md")
        .unwrap_or_else(|e| panic!("{e}"));
    let types = c.destinations[0]
        .alerts
        .as_ref()
        .expect("ops takes operator events");
    assert!(types.matches("delivery.dead") && !types.matches("backlog.high"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_destination_flapping_for_a_minute_is_announced_failing_once() {
    let ops = Sink::start().await;
    let crm = Sink::start().await;
    let app = spawn_with(&format!(
        "[alerts]\ndestinations = [\"ops\"]\n{}{}",
        webhook("ops", &ops.url(), ""),
        webhook("crm", &crm.url(), FAST),
    ))
    .await;
    let breaker = "ivrhook_destination_breaker_state{destination=\"crm\"}";
    let (mut opened, mut was_open) = (0, false);
    let started = tokio::time::Instant::now();
    let mut tick = tokio::time::interval(Duration::from_millis(200));
    for n in 0.. {
        tick.tick().await;
        let elapsed = started.elapsed();
        if elapsed > Duration::from_secs(60) {
            break;
        }
        // Down for 4 s of every 8: a 503 finds it down as no answer does.
        crm.answer(if elapsed.as_secs() % 8 < 4 { 503 } else { 200 });
        app.spawn_post(call_report(&format!("flap-{n}"), n, 0, None).to_string());
        let open = app.metric(breaker).await == 1.0;
        opened += usize::from(open && !was_open);
        was_open = open;
    }
    assert!(
        opened >= 2,
        "the breaker opened {opened} time(s): no flapping to coalesce"
    );
    crm.answer(200);
    eventually_within("closed at the end", Duration::from_secs(60), || async {
        app.metric(breaker).await == 0.0
    })
    .await;
    eventually("the last recovery announced", || async {
        at(&ops)
            .last()
            .is_some_and(|e| e["type"] == "destination.recovered")
    })
    .await;
    let events = at(&ops);
    assert_eq!(
        of_type(&events, "destination.failing").len(),
        1,
        "{events:?}"
    );
    assert_eq!(
        of_type(&events, "destination.recovered").len(),
        1,
        "{events:?}"
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_whose_report_does_not_come_is_overdue_then_late_when_it_comes() {
    let ops = Sink::start().await;
    let mut pager = Pager::start("overdue").await;
    let app = spawn_with(&format!(
        "[alerts]\ndestinations = [\"ops\", \"pager\"]\n[[apps]]\nid = \"{APP}\"\n\
         expect_report_within = \"2s\"\n{}{}",
        webhook("ops", &ops.url(), ""),
        pager.destination(),
    ))
    .await;
    let register = |call: &str, within: Option<&str>| {
        let mut body = serde_json::json!({"callId": call});
        if let Some(w) = within {
            body["reportWithin"] = w.into();
        }
        let request = app.client.post(app.url(&format!("/v1/apps/{APP}/calls")));
        async move {
            request
                .json(&body)
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        }
    };
    let late = register("late-1", None).await;
    assert!(late["reportDueAt"].is_string(), "the app's default: {late}");
    register("in-time-1", Some("2s")).await;
    register("later-1", Some("1h")).await;
    let body = call_report("in-time-1", 0, 0, None).to_string();
    assert_eq!(app.post_callback(body).await.code, "000000");
    eventually_within(
        "late-1 announced overdue",
        Duration::from_secs(30),
        || async { !of_type(&at(&ops), "call.overdue").is_empty() },
    )
    .await;
    let overdue = at(&ops);
    assert_eq!(overdue.len(), 1, "only late-1: {overdue:?}");
    assert_eq!(
        (overdue[0]["app"].as_str(), overdue[0]["call"].as_str()),
        (Some(APP), Some("late-1"))
    );
    let (_, listed) = app.get("/v1/calls?state=overdue").await;
    let listed = listed["calls"].as_array().unwrap().clone();
    assert_eq!(
        (listed.len(), listed[0]["callId"].as_str()),
        (1, Some("late-1")),
        "{listed:?}"
    );
    let page = |path: &'static str| {
        let request = app.client.get(app.url(path));
        async move { request.send().await.unwrap().text().await.unwrap() }
    };
    let overview = page("/").await;
    assert!(
        overview.contains("<strong>1</strong> overdue calls"),
        "{overview}"
    );
    let listed_page = page("/calls?state=overdue").await;
    let row = listed_page
        .split("<table class=\"overdue\">")
        .nth(1)
        .unwrap_or_default();
    assert!(
        row.contains("late-1") && !row.contains("later-1"),
        "{listed_page}"
    );
    let gauge = format!("ivrhook_calls_overdue{{app=\"{APP}\"}}");
    eventually("the gauge to count it", || async {
        app.metric(&gauge).await == 1.0
    })
    .await;
    let body = call_report("late-1", 0, 1, None).to_string();
    assert_eq!(app.post_callback(body).await.code, "000000");
    eventually("the late report announced", || async {
        !of_type(&at(&ops), "call.overdue.resolved").is_empty()
    })
    .await;
    let resolved = of_type(&at(&ops), "call.overdue.resolved")[0].clone();
    assert!(resolved["reportedAt"].is_string(), "{resolved}");
    let (_, timeline) = app.get("/v1/calls/late-1").await;
    assert_eq!(
        timeline["reportDeadlines"][0]["state"], "late",
        "{timeline}"
    );
    let (_, listed) = app.get("/v1/calls?state=overdue").await;
    assert_eq!(listed["calls"], serde_json::json!([]), "late, not missing");
    eventually("the gauge back to 0", || async {
        app.metric(&gauge).await == 0.0
    })
    .await;
    let (_, in_time) = app.get("/v1/calls/in-time-1").await;
    assert_eq!(
        in_time["reportDeadlines"][0]["state"], "on_time",
        "{in_time}"
    );
    let (status, refused) = app.get("/v1/calls?state=missing").await;
    assert_eq!(status, 422, "{refused}");
    assert_eq!(at(&ops).len(), 2, "nothing else announced");
    pager.has_the_same_as(&at(&ops)).await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_apps_callback_down_is_failing_then_recovered() {
    let ops = Sink::start().await;
    let business = Sink::start().await;
    business.answer(503);
    let mut pager = Pager::start("callback").await;
    let app = spawn_with(&format!(
        "[alerts]\ndestinations = [\"ops\", \"pager\"]\n[[apps]]\nid = \"{APP}\"\n\
         callback_url = \"{}\"\n{FAST}{}{}",
        business.url(),
        webhook("ops", &ops.url(), ""),
        pager.destination(),
    ))
    .await;
    for n in 0..6 {
        let submitted = (app.client.post(app.url(&format!("/v1/apps/{APP}/events"))))
            .json(&report(&format!("cb-{n}")))
            .send()
            .await
            .unwrap();
        assert_eq!(submitted.status(), 202);
    }
    eventually_within(
        "the callback announced failing",
        Duration::from_secs(30),
        || async { !of_type(&at(&ops), "app.callback.failing").is_empty() },
    )
    .await;
    let failing = of_type(&at(&ops), "app.callback.failing")[0].clone();
    assert_eq!(
        (failing["app"].as_str(), failing["destination"].clone()),
        (Some(APP), format!("app:{APP}").into())
    );
    assert!(
        failing["lastError"].as_str().unwrap().contains("503"),
        "{failing}"
    );
    business.always(Reply::code("000000"));
    eventually_within(
        "the callback announced recovered",
        Duration::from_secs(60),
        || async { !of_type(&at(&ops), "app.callback.recovered").is_empty() },
    )
    .await;
    let kinds: Vec<Value> = at(&ops).iter().map(|e| e["type"].clone()).collect();
    assert_eq!(kinds, ["app.callback.failing", "app.callback.recovered"]);
    pager.has_the_same_as(&at(&ops)).await;
    app.stop().await;
}

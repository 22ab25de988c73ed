//! PostgreSQL goes away mid-load and comes back: reports posted in the gap are answered
//! `108104` (retry later), none that was answered `000000` is lost, and ivrhook takes
//! reports again by itself, without a restart.

use crate::{helpers::*, own_postgres::OwnPostgres};
use std::sync::{Arc, Mutex};
use tokio_util::sync::CancellationToken;

type Answers = Arc<Mutex<Vec<(String, String)>>>;

/// Posts reports one after another until `stop`, keeping each one's id and answer code.
fn load(app: &TestApp, stop: CancellationToken) -> (Answers, tokio::task::JoinHandle<()>) {
    let answers = Answers::default();
    let (kept, client, url) = (answers.clone(), app.client.clone(), app.url("/callback"));
    let task = tokio::spawn(async move {
        for n in 0.. {
            if stop.is_cancelled() {
                break;
            }
            let id = format!("pr-{n}");
            let resp = client.post(&url).body(report(&id).to_string()).send().await;
            let answer: ivrhook_protocol::Answer = resp.unwrap().json().await.unwrap();
            kept.lock().unwrap().push((id, answer.code));
        }
    });
    (answers, task)
}

fn count(answers: &Answers, code: &str) -> usize {
    let answers = answers.lock().unwrap();
    answers.iter().filter(|(_, c)| c == code).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_restarted_mid_load_loses_nothing_and_ivrhook_recovers_by_itself() {
    let pg = OwnPostgres::start(None).await;
    let app = spawn_with_database(&pg.url(), "").await;
    let stop = CancellationToken::new();
    let (answers, task) = load(&app, stop.clone());
    let before = |n| {
        let answers = answers.clone();
        async move { count(&answers, "000000") >= n }
    };
    eventually("reports to be taken before the fault", || before(20)).await;

    pg.stop().await;
    eventually("reports in the gap to be answered 108104", || async {
        count(&answers, "108104") >= 5
    })
    .await;
    let taken_in_gap = count(&answers, "000000");
    pg.start_again().await;
    eventually_within(
        "reports to be taken again",
        std::time::Duration::from_secs(30),
        || before(taken_in_gap + 20),
    )
    .await;
    stop.cancel();
    task.await.unwrap();

    let answers = answers.lock().unwrap().clone();
    for (id, code) in &answers {
        assert!(
            code == "000000" || code == "108104",
            "{id} was answered {code}"
        );
        if code == "000000" {
            assert!(
                !app.timeline(id).await.is_empty(),
                "{id} was acknowledged, then lost"
            );
        }
    }
    app.stop().await;
}

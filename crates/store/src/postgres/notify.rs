//! Wake-ups across nodes: every new or retried delivery is announced with
//! `NOTIFY ivrhook_due, '<origin> <app id>'`; each delivering node keeps one connection that
//! LISTENs and hands the app ids to its engine. Announcements are sent by one task per node,
//! after the writes commit, several apps in one statement: PostgreSQL serialises the commits
//! of transactions that NOTIFY, so notifying inside each submission would make every
//! submission wait for the one before it. A node's own announcements come back to its
//! listener and are dropped by their origin: its engine was woken directly, and waking it
//! again costs a claim that finds nothing. Polling stays as a slow backstop for anything
//! missed while the connection was down (after a reconnect an empty app asks for a full
//! refresh).

use deadpool_postgres::Pool;
use std::{collections::BTreeSet, future::poll_fn, time::Duration};
use tokio::sync::{broadcast, mpsc};
use tokio_postgres::{AsyncMessage, Config, NoTls};
use tokio_util::sync::CancellationToken;

pub(crate) const CHANNEL: &str = "ivrhook_due";

/// A name for one store's announcements, unique enough among the nodes of one database.
pub(crate) fn origin() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!("{:x}.{nanos:x}", std::process::id())
}

/// The app id of another node's announcement; `None` for this node's own. A payload without
/// an origin (a node of an older version) is all app id.
fn foreign<'a>(payload: &'a str, origin: &str) -> Option<&'a str> {
    match payload.split_once(' ') {
        Some((from, _)) if from == origin => None,
        Some((_, app)) => Some(app),
        None => Some(payload),
    }
}

/// Runs until `stop`, reconnecting after a second whenever the connection drops.
pub(crate) async fn listen(
    config: Config,
    origin: String,
    tx: broadcast::Sender<String>,
    stop: CancellationToken,
) {
    let mut connected_before = false;
    while !stop.is_cancelled() {
        match config.connect(NoTls).await {
            Ok((client, mut conn)) => {
                let (msgs_tx, mut msgs) = tokio::sync::mpsc::unbounded_channel();
                // The connection must be polled for LISTEN to complete and notifications to arrive.
                let origin = origin.clone();
                let driver = tokio::spawn(async move {
                    while let Some(m) = poll_fn(|cx| conn.poll_message(cx)).await {
                        match m {
                            Ok(AsyncMessage::Notification(n)) => {
                                if let Some(app) = foreign(n.payload(), &origin) {
                                    let _ = msgs_tx.send(app.to_owned());
                                }
                            }
                            Ok(_) => {}
                            Err(e) => {
                                tracing::warn!(error = %e, "the LISTEN connection to PostgreSQL failed");
                                break;
                            }
                        }
                    }
                });
                if let Err(e) = client.batch_execute(&format!("LISTEN {CHANNEL}")).await {
                    tracing::warn!(error = %e, "LISTEN failed; retrying in a second");
                } else {
                    if connected_before {
                        // Notifications sent while we were away are lost: look at everything.
                        let _ = tx.send(String::new());
                    }
                    connected_before = true;
                    loop {
                        tokio::select! {
                            m = msgs.recv() => match m {
                                Some(app) => { let _ = tx.send(app); }
                                None => break,
                            },
                            () = stop.cancelled() => break,
                        }
                    }
                }
                driver.abort();
            }
            Err(e) => {
                tracing::warn!(error = %e, "could not open the LISTEN connection; retrying in a second")
            }
        }
        tokio::select! {
            () = tokio::time::sleep(Duration::from_secs(1)) => {}
            () = stop.cancelled() => {}
        }
    }
}

/// Sends what `announce` queued: waits for one app id, takes every other one already queued,
/// and notifies them in one statement. While it runs, new ids queue up and go in the next
/// round, so a burst costs a few NOTIFYs, and no id waits behind more than one round.
pub(crate) async fn announce(
    pool: Pool,
    origin: String,
    mut queued: mpsc::UnboundedReceiver<String>,
) {
    while let Some(first) = queued.recv().await {
        let mut apps = BTreeSet::from([first]);
        while let Ok(app) = queued.try_recv() {
            apps.insert(app);
        }
        let apps: Vec<String> = apps.into_iter().collect();
        let sent = async {
            let client = pool.get().await.map_err(|e| e.to_string())?;
            client
                .execute(
                    "SELECT pg_notify($1, $3 || ' ' || app) FROM unnest($2::text[]) AS app",
                    &[&CHANNEL, &apps, &origin],
                )
                .await
                .map_err(|e| e.to_string())
        };
        if let Err(e) = sent.await {
            tracing::warn!(error = %e, "NOTIFY failed; other nodes find the work by polling");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::foreign;

    #[test]
    fn own_announcements_are_dropped_and_old_payloads_are_all_app() {
        assert_eq!(foreign("me app1", "me"), None);
        assert_eq!(foreign("me ", "me"), None);
        assert_eq!(foreign("other app1", "me"), Some("app1"));
        assert_eq!(
            foreign("other ", "me"),
            Some(""),
            "a refresh from another node"
        );
        assert_eq!(foreign("app1", "me"), Some("app1"));
    }
}

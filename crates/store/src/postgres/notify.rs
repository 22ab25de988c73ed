//! Wake-ups across nodes: every new or retried delivery is announced with
//! `NOTIFY ivrhook_due, '<origin> <destination>'`, every group of new reports with
//! `NOTIFY ivrhook_reports, '<origin> '`; each node that delivers or follows the report feed
//! keeps one connection that LISTENs and hands what arrives to its engine and its feed.
//! Announcements are sent by one task per node, after the writes commit, several in one
//! statement: PostgreSQL serialises the commits of transactions that NOTIFY, so notifying
//! inside each write would make every write wait for the one before it. A node's own
//! announcements come back to its listener and are dropped by their origin: it was told
//! directly. Polling stays as a slow backstop for anything missed while the connection was
//! down (after a reconnect an empty destination asks for a full refresh, and the feed looks
//! again).

use super::Connect;
use deadpool_postgres::Pool;
use std::{collections::BTreeSet, future::poll_fn, time::Duration};
use tokio::sync::{broadcast, mpsc};
use tokio_postgres::AsyncMessage;
use tokio_util::sync::CancellationToken;

pub(crate) const CHANNEL: &str = "ivrhook_due";
pub(crate) const REPORTS: &str = "ivrhook_reports";

/// What a node tells the others.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Announcement {
    /// A destination has new due work ("" for any).
    Due(String),
    /// New reports are stored.
    Reports,
}

/// Where the listener hands what other nodes announced.
#[derive(Debug, Clone)]
pub(crate) struct Heard {
    pub due: broadcast::Sender<String>,
    pub reports: broadcast::Sender<()>,
}

/// A name for one store's announcements, unique enough among the nodes of one database.
pub(crate) fn origin() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!("{:x}.{nanos:x}", std::process::id())
}

/// The destination of another node's announcement; `None` for this node's own. A payload
/// without an origin (a node of an older version) is all destination.
fn foreign<'a>(payload: &'a str, origin: &str) -> Option<&'a str> {
    match payload.split_once(' ') {
        Some((from, _)) if from == origin => None,
        Some((_, app)) => Some(app),
        None => Some(payload),
    }
}

/// Runs until `stop`, reconnecting after a second whenever the connection drops.
pub(crate) async fn listen(to: Connect, origin: String, heard: Heard, stop: CancellationToken) {
    let mut connected_before = false;
    while !stop.is_cancelled() {
        match to.config.connect(to.tls.clone()).await {
            Ok((client, mut conn)) => {
                let (msgs_tx, mut msgs) = mpsc::unbounded_channel();
                // The connection must be polled for LISTEN to complete and notifications to arrive.
                let origin = origin.clone();
                let driver = tokio::spawn(async move {
                    while let Some(m) = poll_fn(|cx| conn.poll_message(cx)).await {
                        match m {
                            Ok(AsyncMessage::Notification(n)) => {
                                if let Some(what) = foreign(n.payload(), &origin) {
                                    let heard = if n.channel() == REPORTS {
                                        Announcement::Reports
                                    } else {
                                        Announcement::Due(what.to_owned())
                                    };
                                    let _ = msgs_tx.send(heard);
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
                let listening = client
                    .batch_execute(&format!("LISTEN {CHANNEL}; LISTEN {REPORTS}"))
                    .await;
                if let Err(e) = listening {
                    tracing::warn!(error = %e, "LISTEN failed; retrying in a second");
                } else {
                    if connected_before {
                        // Notifications sent while we were away are lost: look at everything.
                        let _ = heard.due.send(String::new());
                    }
                    // The feed's waiters look again: a report committed before this LISTEN
                    // (on the first connection too) was announced to nobody here.
                    let _ = heard.reports.send(());
                    connected_before = true;
                    loop {
                        tokio::select! {
                            m = msgs.recv() => match m {
                                Some(Announcement::Due(d)) => { let _ = heard.due.send(d); }
                                Some(Announcement::Reports) => { let _ = heard.reports.send(()); }
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

/// Sends what `announce` queued: waits for one announcement, takes every other one already
/// queued, and notifies them in one statement. While it runs, new ones queue up and go in the
/// next round, so a burst costs a few NOTIFYs, and none waits behind more than one round.
pub(crate) async fn announce(
    pool: Pool,
    origin: String,
    mut queued: mpsc::UnboundedReceiver<Announcement>,
) {
    while let Some(first) = queued.recv().await {
        let mut round = BTreeSet::from([first]);
        while let Ok(next) = queued.try_recv() {
            round.insert(next);
        }
        let (channels, payloads): (Vec<&str>, Vec<&str>) = round
            .iter()
            .map(|a| match a {
                Announcement::Due(d) => (CHANNEL, d.as_str()),
                Announcement::Reports => (REPORTS, ""),
            })
            .unzip();
        let sent = async {
            let client = pool.get().await.map_err(|e| e.to_string())?;
            client
                .execute(
                    "SELECT pg_notify(c, $3 || ' ' || p) FROM unnest($1::text[], $2::text[]) AS t(c, p)",
                    &[&channels, &payloads, &origin],
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

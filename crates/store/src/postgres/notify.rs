//! Wake-ups across nodes: every new or retried delivery sends `NOTIFY ivrhook_due` with its
//! app id in the same transaction; each node keeps one connection that LISTENs and hands the
//! app ids to its engine. Polling stays as a slow backstop for anything missed while the
//! connection was down (after a reconnect an empty payload asks for a full refresh).

use std::{future::poll_fn, time::Duration};
use tokio::sync::broadcast;
use tokio_postgres::{AsyncMessage, Config, NoTls};
use tokio_util::sync::CancellationToken;

pub(crate) const CHANNEL: &str = "ivrhook_due";

/// Runs until `stop`, reconnecting after a second whenever the connection drops.
pub(crate) async fn listen(config: Config, tx: broadcast::Sender<String>, stop: CancellationToken) {
    let mut connected_before = false;
    while !stop.is_cancelled() {
        match config.connect(NoTls).await {
            Ok((client, mut conn)) => {
                let (msgs_tx, mut msgs) = tokio::sync::mpsc::unbounded_channel();
                // The connection must be polled for LISTEN to complete and notifications to arrive.
                let driver = tokio::spawn(async move {
                    while let Some(m) = poll_fn(|cx| conn.poll_message(cx)).await {
                        match m {
                            Ok(AsyncMessage::Notification(n)) => {
                                let _ = msgs_tx.send(n.payload().to_owned());
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

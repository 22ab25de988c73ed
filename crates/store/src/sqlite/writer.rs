//! The group-commit writer: one thread, one connection, many requests per transaction.
//!
//! It blocks for the first operation, then takes whatever else is already queued (up to
//! `MAX_BATCH`), runs them all in one `BEGIN IMMEDIATE … COMMIT`, and only then answers
//! each. Under load batches grow by themselves; when idle a lone request commits at once.

use crate::{BatchHook, Inserted, NewReport, StoreError};
use rusqlite::{Connection, TransactionBehavior};
use std::{sync::Arc, thread::JoinHandle};
use tokio::sync::{mpsc, oneshot};

/// Bounds a transaction so one commit never holds thousands of requests waiting.
const MAX_BATCH: usize = 512;

const INSERT_REPORT: &str = "
    INSERT INTO reports (app_id, call_id, content_hash, event, status, received_at_ms, peer,
                         raw, decoded, warnings)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
    ON CONFLICT (call_id, app_id, content_hash)
    DO UPDATE SET duplicates = duplicates + 1, last_duplicate_at_ms = excluded.received_at_ms
    RETURNING id, duplicates";

const REGISTER_CALL: &str = "
    INSERT INTO calls (app_id, call_id, registered_at_ms) VALUES (?1, ?2, ?3)
    ON CONFLICT DO NOTHING";

type Reply<T> = oneshot::Sender<Result<T, StoreError>>;

#[derive(Debug)]
pub(crate) enum Op {
    Insert(Box<NewReport>, Reply<Inserted>),
    Register {
        app: String,
        call: String,
        at_ms: i64,
        reply: Reply<bool>,
    },
}

/// What one operation did inside the transaction, before the commit decides its fate.
enum Done {
    Inserted(Reply<Inserted>, Result<Inserted, rusqlite::Error>),
    Registered(Reply<bool>, Result<bool, rusqlite::Error>),
}

pub(crate) fn spawn(
    conn: Connection,
    hook: Option<BatchHook>,
) -> Result<(mpsc::UnboundedSender<Op>, JoinHandle<()>), StoreError> {
    let (tx, rx) = mpsc::unbounded_channel();
    let handle = std::thread::Builder::new()
        .name("ivrhook-sqlite-writer".into())
        .spawn(move || run(conn, rx, hook))
        .map_err(|e| StoreError::Task(format!("starting the writer thread: {e}")))?;
    Ok((tx, handle))
}

fn run(mut conn: Connection, mut rx: mpsc::UnboundedReceiver<Op>, hook: Option<BatchHook>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while let Some(first) = rx.blocking_recv() {
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(op) => batch.push(op),
                Err(_) => break,
            }
        }
        let size = batch.len();
        commit(&mut conn, &mut batch);
        if let Some(hook) = &hook {
            hook(size);
        }
    }
    tracing::debug!("store writer stopped: every queued write is committed");
}

fn commit(conn: &mut Connection, ops: &mut Vec<Op>) {
    let mut done = Vec::with_capacity(ops.len());
    let outcome = (|| {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        {
            let mut insert = tx.prepare_cached(INSERT_REPORT)?;
            let mut register = tx.prepare_cached(REGISTER_CALL)?;
            for op in ops.drain(..) {
                // A failing statement is rolled back alone; the rest of the batch goes on.
                done.push(match op {
                    Op::Insert(r, reply) => Done::Inserted(reply, insert_one(&mut insert, &r)),
                    Op::Register {
                        app,
                        call,
                        at_ms,
                        reply,
                    } => Done::Registered(
                        reply,
                        register.execute((&app, &call, at_ms)).map(|n| n == 1),
                    ),
                });
            }
        }
        tx.commit()
    })();
    let failed = outcome.err().map(Arc::new);
    if let Some(e) = &failed {
        tracing::error!(error = %e, "write batch failed; every request in it is answered with an error");
    }
    // Operations the transaction never reached (it failed to begin) share the batch's error.
    for op in ops.drain(..) {
        let e = failed
            .clone()
            .map(StoreError::Write)
            .unwrap_or(StoreError::Closed);
        match op {
            Op::Insert(_, reply) => drop(reply.send(Err(e))),
            Op::Register { reply, .. } => drop(reply.send(Err(e))),
        }
    }
    for d in done {
        match d {
            Done::Inserted(reply, r) => {
                let _ = reply.send(settle(r, &failed));
            }
            Done::Registered(reply, r) => {
                let _ = reply.send(settle(r, &failed));
            }
        }
    }
}

/// An operation's answer: its own error, or the batch's, or its result.
fn settle<T>(
    r: Result<T, rusqlite::Error>,
    failed: &Option<Arc<rusqlite::Error>>,
) -> Result<T, StoreError> {
    match (r, failed) {
        (Err(e), _) => Err(StoreError::Write(Arc::new(e))),
        (Ok(_), Some(e)) => Err(StoreError::Write(e.clone())),
        (Ok(v), None) => Ok(v),
    }
}

fn insert_one(
    stmt: &mut rusqlite::CachedStatement<'_>,
    r: &NewReport,
) -> Result<Inserted, rusqlite::Error> {
    let params = (
        r.app_id.as_str(),
        r.call_id.as_str(),
        &r.content_hash[..],
        &r.event,
        r.status,
        r.received_at.timestamp_millis(),
        &r.peer,
        &r.raw,
        &r.decoded,
        &r.warnings,
    );
    stmt.query_row(params, |row| {
        let id: i64 = row.get(0)?;
        let times: i64 = row.get(1)?;
        Ok(if times == 0 {
            Inserted::New { id }
        } else {
            Inserted::Duplicate { id, times }
        })
    })
}

//! Row mappings shared by both backends: the columns a delivery, a claimed delivery and a
//! count are read from, and the one function that turns each into its type. Each backend's
//! statements select these columns in this order; [`Columns`] reads a value from either
//! driver's row.

use crate::{
    outbox::{
        Claimed, DeliveryRow, DeliveryState, DestinationCount, Payload, ReceivedReport, Source,
    },
    StoreError,
};

/// A delivery row: `d` is `deliveries`.
pub(crate) const DELIVERY: &str = "d.id, d.event_id, d.report_id, d.destination, d.app_id,
    d.call_id, d.state, d.attempts, d.next_attempt_at_ms, d.created_at_ms, d.updated_at_ms,
    d.finished_at_ms, d.last_error";

/// What a claim returns for each delivery, first in its row: `c` the claimed delivery, `e` its
/// event and `r` its report (one of the two is null, joined by `LEFT JOIN`).
pub(crate) const CLAIMED: &str = "c.id, c.call_id, c.attempts, c.unknown_call_answers,
    c.created_at_ms, c.event_id, e.body, c.report_id, r.app_id, r.event, r.status,
    r.received_at_ms, r.raw, r.utc_offset, r.warnings";

/// A stored report's columns. Its decoded form is not among them: the reader derives it from
/// `raw` and `utc_offset`.
pub(crate) const REPORT: &str =
    "id, app_id, call_id, event, status, received_at_ms, peer, raw, warnings, duplicates,
     utc_offset";

/// A row selected with [`REPORT`].
pub(crate) fn report(r: &impl Columns) -> Result<crate::StoredReport, StoreError> {
    let json = |i: usize, what: &str| -> Result<Option<serde_json::Value>, StoreError> {
        match r.text(i)?.filter(|t| !t.is_empty()) {
            Some(text) => serde_json::from_str(&text)
                .map(Some)
                .map_err(|e| StoreError::Corrupt(format!("reports.{what}: {e}"))),
            None => Ok(None),
        }
    };
    let ms = required(r.int(5)?, "reports.received_at_ms")?;
    Ok(crate::StoredReport {
        id: required(r.int(0)?, "reports.id")?,
        app_id: required(r.text(1)?, "reports.app_id")?,
        call_id: required(r.text(2)?, "reports.call_id")?,
        event: required(r.text(3)?, "reports.event")?,
        status: r.int(4)?,
        received_at: chrono::DateTime::from_timestamp_millis(ms).unwrap_or_default(),
        peer: r.text(6)?,
        raw: required(r.bytes(7)?, "reports.raw")?,
        warnings: required(json(8, "warnings")?, "reports.warnings")?,
        duplicates: required(r.int(9)?, "reports.duplicates")?,
        utc_offset: r.text(10)?,
    })
}

/// Reads one column of a row, whichever driver's.
pub(crate) trait Columns {
    fn int(&self, i: usize) -> Result<Option<i64>, StoreError>;
    fn text(&self, i: usize) -> Result<Option<String>, StoreError>;
    fn bytes(&self, i: usize) -> Result<Option<Vec<u8>>, StoreError>;
}

pub(crate) fn required<T>(value: Option<T>, what: &str) -> Result<T, StoreError> {
    value.ok_or_else(|| StoreError::Corrupt(format!("{what} is null")))
}

/// A row selected with [`DELIVERY`].
pub(crate) fn delivery(r: &impl Columns) -> Result<DeliveryRow, StoreError> {
    let source = match (r.int(1)?, r.int(2)?) {
        (Some(event), None) => Source::Event(event),
        (None, Some(report)) => Source::Report(report),
        _ => {
            return Err(StoreError::Corrupt(
                "deliveries: a delivery has exactly one of event_id and report_id".into(),
            ))
        }
    };
    Ok(DeliveryRow {
        id: required(r.int(0)?, "deliveries.id")?,
        source,
        destination: required(r.text(3)?, "deliveries.destination")?,
        app_id: required(r.text(4)?, "deliveries.app_id")?,
        call_id: required(r.text(5)?, "deliveries.call_id")?,
        state: DeliveryState::stored(&required(r.text(6)?, "deliveries.state")?)?,
        attempts: required(r.int(7)?, "deliveries.attempts")?,
        next_attempt_at_ms: required(r.int(8)?, "deliveries.next_attempt_at_ms")?,
        created_at_ms: required(r.int(9)?, "deliveries.created_at_ms")?,
        updated_at_ms: required(r.int(10)?, "deliveries.updated_at_ms")?,
        finished_at_ms: r.int(11)?,
        last_error: r.text(12)?,
    })
}

/// A row selected with [`CLAIMED`].
pub(crate) fn claimed(r: &impl Columns) -> Result<Claimed, StoreError> {
    let count = |i, column| -> Result<u32, StoreError> {
        Ok(u32::try_from(required(r.int(i)?, column)?).unwrap_or(u32::MAX))
    };
    let payload = match (r.int(5)?, r.int(7)?) {
        (Some(id), None) => Payload::Event {
            id,
            body: required(r.bytes(6)?, "outbound_events.body")?,
        },
        (None, Some(id)) => Payload::Report(ReceivedReport {
            id,
            app_id: required(r.text(8)?, "reports.app_id")?,
            event: required(r.text(9)?, "reports.event")?,
            status: r.int(10)?,
            received_at_ms: required(r.int(11)?, "reports.received_at_ms")?,
            raw: required(r.bytes(12)?, "reports.raw")?,
            utc_offset: r.text(13)?,
            warnings: required(r.text(14)?, "reports.warnings")?,
        }),
        _ => {
            return Err(StoreError::Corrupt(
                "deliveries: a delivery has exactly one of event_id and report_id".into(),
            ))
        }
    };
    Ok(Claimed {
        delivery_id: required(r.int(0)?, "deliveries.id")?,
        call_id: required(r.text(1)?, "deliveries.call_id")?,
        attempts: count(2, "deliveries.attempts")?,
        unknown_call_answers: count(3, "deliveries.unknown_call_answers")?,
        created_at_ms: required(r.int(4)?, "deliveries.created_at_ms")?,
        payload,
    })
}

/// The counts statement's row: destination, state, count, oldest creation time.
pub(crate) fn count(r: &impl Columns) -> Result<DestinationCount, StoreError> {
    Ok(DestinationCount {
        destination: required(r.text(0)?, "deliveries.destination")?,
        state: DeliveryState::stored(&required(r.text(1)?, "deliveries.state")?)?,
        count: required(r.int(2)?, "count")?,
        oldest_created_at_ms: required(r.int(3)?, "deliveries.created_at_ms")?,
    })
}

impl Columns for rusqlite::Row<'_> {
    fn int(&self, i: usize) -> Result<Option<i64>, StoreError> {
        Ok(self.get(i)?)
    }
    fn text(&self, i: usize) -> Result<Option<String>, StoreError> {
        Ok(self.get(i)?)
    }
    fn bytes(&self, i: usize) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.get(i)?)
    }
}

impl Columns for tokio_postgres::Row {
    fn int(&self, i: usize) -> Result<Option<i64>, StoreError> {
        Ok(self.try_get(i)?)
    }
    fn text(&self, i: usize) -> Result<Option<String>, StoreError> {
        Ok(self.try_get(i)?)
    }
    fn bytes(&self, i: usize) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.try_get(i)?)
    }
}

/// A mapping's error inside rusqlite's row callbacks, which must return rusqlite's error; the
/// store's error travels inside it as the cause.
pub(crate) fn for_sqlite(e: StoreError) -> rusqlite::Error {
    match e {
        StoreError::Sqlite(e) => e,
        other => rusqlite::Error::FromSqlConversionFailure(
            0,
            rusqlite::types::Type::Null,
            Box::new(other),
        ),
    }
}

/// An upper bound for the texts that start with `prefix`, in byte order (both backends
/// compare callIds as bytes): `prefix` followed by the highest code point, whose UTF-8 bytes
/// begin above any callId byte.
pub(crate) fn prefix_end(prefix: &str) -> String {
    format!("{prefix}\u{10FFFF}")
}

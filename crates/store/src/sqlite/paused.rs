//! Paused destinations.

use rusqlite::Connection;

/// Pauses (`Some(at_ms)`) or resumes (`None`) `destination`; whether anything changed.
pub(crate) fn set(
    conn: &Connection,
    destination: &str,
    at_ms: Option<i64>,
) -> rusqlite::Result<bool> {
    let changed = match at_ms {
        Some(at) => conn
            .prepare_cached(
                "INSERT INTO paused_destinations (destination, paused_at_ms) VALUES (?1, ?2)
                 ON CONFLICT (destination) DO NOTHING",
            )?
            .execute((destination, at))?,
        None => conn
            .prepare_cached("DELETE FROM paused_destinations WHERE destination = ?1")?
            .execute([destination])?,
    };
    Ok(changed == 1)
}

/// Every paused destination, with when it was paused.
pub(crate) fn list(conn: &Connection) -> rusqlite::Result<Vec<(String, i64)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT destination, paused_at_ms FROM paused_destinations ORDER BY destination",
    )?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    rows.collect()
}

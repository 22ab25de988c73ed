//! Retention: which rows may be pruned, in bounded steps that each hold the database briefly.
//!
//! A pass walks one kind of row from the oldest (lowest id) up and stops at the first row
//! newer than the cutoff; a step is the next `limit` rows of it. A received report with a
//! pending delivery is never pruned (its finished deliveries go with it otherwise); a
//! delivery goes with its attempts, and a sent event with its delivery. The newest row of a
//! table (and the report holding the newest delivery) is always kept, so SQLite never hands
//! an id out again (feed cursors and message ids rely on ids only growing).

/// A kind of row retention removes, each kept for its own time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PruneKind {
    /// Received reports, by when they were received.
    Reports,
    /// Delivered deliveries with their attempts, by when they finished.
    Delivered,
    /// Dead deliveries with their attempts, by when they finished.
    Dead,
}

impl PruneKind {
    /// Every kind, in the order a pass prunes them.
    pub const ALL: [PruneKind; 3] = [PruneKind::Reports, PruneKind::Delivered, PruneKind::Dead];

    /// The kind as `[retention]` and the metrics name it.
    pub fn as_str(self) -> &'static str {
        match self {
            PruneKind::Reports => "reports",
            PruneKind::Delivered => "delivered",
            PruneKind::Dead => "dead",
        }
    }
}

/// One step of a pass: rows of `kind` older than `before_ms`, after `after_id`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PruneRequest {
    /// Which rows.
    pub kind: PruneKind,
    /// Older than this.
    pub before_ms: i64,
    /// With ids above this (where the previous step ended).
    pub after_id: i64,
    /// At most this many rows in the step.
    pub limit: u32,
    /// Count what would go; remove nothing.
    pub dry_run: bool,
}

/// What one step did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PruneStep {
    /// Rows of the kind removed (in a dry run: that would be).
    pub removed: u64,
    /// Where the next step starts; `None` when the pass is done.
    pub next_after: Option<i64>,
}

/// A step's scan: each row's id, its time, and whether something keeps it.
pub(crate) fn walk(
    rows: &[(i64, Option<i64>, bool)],
    r: &PruneRequest,
    mut remove: impl FnMut(i64) -> Result<bool, crate::StoreError>,
) -> Result<PruneStep, crate::StoreError> {
    let mut step = PruneStep::default();
    for &(id, at, kept) in rows {
        if at.is_none_or(|at| at >= r.before_ms) {
            return Ok(PruneStep {
                next_after: None,
                ..step
            });
        }
        step.next_after = Some(id);
        if kept {
            continue;
        }
        if r.dry_run || remove(id)? {
            step.removed += 1;
        }
    }
    if rows.len() < r.limit as usize {
        step.next_after = None;
    }
    Ok(step)
}

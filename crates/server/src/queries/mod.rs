//! What the JSON API and the dashboard both ask of the store and the engine, below both:
//! each face only renders (JSON, HTML) what these return.
//!
//! - `activity`: the overview's counts for the whole cluster, in bars.
//! - `analytics`: an app's IVR analytics over a span.
//! - `calls`: calls by their newest report, a call's reports, a report by id.
//! - `overdue`: registered calls whose report did not come in time.
//! - `paging`: query strings and page cursors.
//! - `pause`: a destination paused or resumed.
//! - `recordings`: a call's recording and where its fetch stands.
//! - `retries`: a delivery sent again now, or a destination's in a range.
//! - `setup`: the configuration as shown, without credentials.
//! - `views`: store rows as JSON.
//! - `waiting`: why a pending delivery waits.

pub(crate) mod activity;
pub(crate) mod analytics;
pub(crate) mod calls;
pub(crate) mod overdue;
pub(crate) mod paging;
pub(crate) mod pause;
pub(crate) mod recordings;
pub(crate) mod retries;
pub(crate) mod setup;
pub(crate) mod views;
pub(crate) mod waiting;

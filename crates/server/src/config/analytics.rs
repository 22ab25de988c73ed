//! `[analytics]`: whether IVR analytics are counted, and how many prompts an app may have.

use super::{invalid, ConfigError};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FileAnalytics {
    pub enabled: bool,
    pub max_prompts: u32,
}

/// `[analytics]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Analytics {
    /// Reports are read for the analytics as they are received.
    pub enabled: bool,
    /// Distinct prompts counted by name per app; the rest count as `(other)`.
    pub max_prompts: u32,
}

impl FileAnalytics {
    pub(super) fn validate(&self) -> Result<Analytics, ConfigError> {
        if !(1..=10_000).contains(&self.max_prompts) {
            return Err(invalid(
                "analytics.max_prompts",
                format!("{} is not between 1 and 10000", self.max_prompts),
            ));
        }
        Ok(Analytics {
            enabled: self.enabled,
            max_prompts: self.max_prompts,
        })
    }
}

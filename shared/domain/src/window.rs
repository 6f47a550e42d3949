//! When help is needed or available.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A date window, open-ended on either side; `start <= end` whenever both are set
/// (enforced when a need or offer is posted or revised).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
pub struct TimeWindow {
    /// First day; `None` means "as soon as possible".
    #[serde(default)]
    pub start: Option<NaiveDate>,
    /// Last day; `None` means no deadline.
    #[serde(default)]
    pub end: Option<NaiveDate>,
}

impl TimeWindow {
    /// Whether two windows share at least one day: what the matcher asks of a need and an offer.
    pub fn overlaps(&self, other: &TimeWindow) -> bool {
        let starts_before_other_ends = match (self.start, other.end) {
            (Some(start), Some(end)) => start <= end,
            _ => true,
        };
        let ends_after_other_starts = match (self.end, other.start) {
            (Some(end), Some(start)) => end >= start,
            _ => true,
        };
        starts_before_other_ends && ends_after_other_starts
    }
}

//! What the review workflow has taught about an offer: partnerships its provider completed,
//! and how coordinators decided on it for other needs.
//!
//! For a pair (need, offer), the offer's record is read for **similar** needs (another need
//! sharing a topic with this one, or, where either names none, a theme) and tallied:
//!
//! - **track record**: completed partnerships for similar needs in the same area (the most
//!   specific M49 region the country lies in, such as Western Africa);
//! - **shortlisted**: similar needs for which a coordinator shortlisted (or introduced) it;
//! - **dismissed**: similar needs for which a coordinator dismissed it.
//!
//! Each count `k` weighs `k / (k + 1)` (the first case counts most, none counts nothing), and
//! moves the pair's score toward 1 (track record, shortlists) or toward 0 (dismissals) by the
//! configured share of the distance ([`crate::config::ExperienceConfig`]), always with a
//! reason that says so. The need's own decisions are not counted: they are its
//! status, not experience of similar needs.

use capmatch_domain::ids::NeedId;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::features::NeedHot;
use crate::intern::{TopicBits, tables};

/// How a decided partnership of an offer ended up, as experience.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The partnership was completed.
    Completed,
    /// A coordinator shortlisted or introduced the offer for the need (and it is under way).
    Shortlisted,
    /// A coordinator dismissed the offer for the need.
    Dismissed,
}

/// One need the offer has experience of, as the need was when it was recorded.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Case {
    pub need: NeedId,
    pub outcome: Outcome,
    pub themes: u32,
    pub topic_themes: u32,
    pub topics: TopicBits,
    /// The most specific region the need's country lies in.
    pub area: u16,
}

impl Case {
    pub fn new(need: NeedId, outcome: Outcome, hot: &NeedHot, country: u16) -> Self {
        Case {
            need,
            outcome,
            themes: hot.themes,
            topic_themes: hot.topic_themes,
            topics: hot.topics,
            area: area_of(country),
        }
    }

    /// Whether the case's need is similar to `hot`: a shared topic, or a shared theme where
    /// either names no topic under it.
    fn similar_to(&self, hot: &NeedHot) -> bool {
        if self.topics.intersects(&hot.topics) {
            return true;
        }
        let shared = self.themes & hot.themes;
        shared != 0 && (self.topic_themes & shared == 0 || hot.topic_themes & shared == 0)
    }
}

/// The most specific region containing `country` (its geo id), or the country itself when it
/// lies in none.
pub(crate) fn area_of(country: u16) -> u16 {
    let chain = tables().chain(country);
    chain.get(1).or(chain.first()).copied().unwrap_or(u16::MAX)
}

/// What an offer's record says about one pair.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Tally {
    /// Completed partnerships for similar needs in the need's area.
    pub completed_nearby: u16,
    /// Similar needs for which coordinators shortlisted the offer.
    pub shortlisted: u16,
    /// Similar needs for which coordinators dismissed the offer.
    pub dismissed: u16,
    /// The area the track record counts in (a geo id).
    #[serde(skip)]
    pub(crate) area: u16,
}

impl Tally {
    pub(crate) fn of(cases: &[Case], need: NeedId, hot: &NeedHot, country: u16) -> Tally {
        let area = area_of(country);
        let mut tally = Tally {
            area,
            ..Tally::default()
        };
        for case in cases.iter().filter(|c| c.need != need && c.similar_to(hot)) {
            match case.outcome {
                Outcome::Completed if case.area == area => tally.completed_nearby += 1,
                Outcome::Completed => {}
                Outcome::Shortlisted => tally.shortlisted += 1,
                Outcome::Dismissed => tally.dismissed += 1,
            }
        }
        tally
    }

    pub fn is_empty(&self) -> bool {
        self.completed_nearby == 0 && self.shortlisted == 0 && self.dismissed == 0
    }
}

/// `k / (k + 1)`: how much `k` cases weigh.
pub(crate) fn weight(k: u16) -> f32 {
    let k = f32::from(k);
    k / (k + 1.0)
}

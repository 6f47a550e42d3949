//! Codes as small integers, so a need or offer becomes a few bitsets the scorer can AND and
//! count. Built once from the domain's code lists and the taxonomy.

use std::collections::HashMap;
use std::sync::LazyLock;

use capmatch_domain::codes::{
    BeneficiaryType, CountryCode, DeliveryMode, Geo, LanguageCode, RegionCode, SupportType,
    TargetGroup,
};
use capmatch_domain::taxonomy::{ThemeCode, TopicCode};

/// A fixed-width bitset of `64 * W` bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct Bits<const W: usize>(pub [u64; W]);

impl<const W: usize> Default for Bits<W> {
    fn default() -> Self {
        Self([0; W])
    }
}

impl<const W: usize> Bits<W> {
    pub const CAPACITY: usize = 64 * W;

    /// Sets bit `i`; bits beyond the capacity are ignored (a test checks the code lists fit).
    pub fn insert(&mut self, i: usize) {
        if let Some(word) = self.0.get_mut(i / 64) {
            *word |= 1 << (i % 64);
        }
    }

    pub fn and(&self, other: &Self) -> Self {
        let mut out = *self;
        for (a, b) in out.0.iter_mut().zip(other.0.iter()) {
            *a &= b;
        }
        out
    }

    pub fn count(&self) -> u32 {
        self.0.iter().map(|w| w.count_ones()).sum()
    }

    pub fn intersects(&self, other: &Self) -> bool {
        self.0.iter().zip(other.0.iter()).any(|(a, b)| a & b != 0)
    }

    pub fn iter(&self) -> impl Iterator<Item = usize> + '_ {
        self.0.iter().enumerate().flat_map(|(w, &word)| {
            (0..64)
                .filter(move |b| word & (1 << b) != 0)
                .map(move |b| w * 64 + b)
        })
    }
}

pub(crate) type TopicBits = Bits<2>;
pub(crate) type LanguageBits = Bits<3>;

/// Geography levels, most general first; the index into [`crate::config::GeoSpecificity`].
pub(crate) const LEVEL_WORLD: u8 = 0;
pub(crate) const LEVEL_COUNTRY: u8 = 4;

pub(crate) struct Tables {
    pub themes: Vec<ThemeCode>,
    theme_ids: HashMap<&'static str, u8>,
    pub topics: Vec<TopicCode>,
    topic_ids: HashMap<&'static str, u8>,
    pub languages: Vec<LanguageCode>,
    language_ids: HashMap<&'static str, u8>,
    /// Countries first (`0..countries`), then regions.
    pub geos: Vec<Geo>,
    geo_ids: HashMap<&'static str, u16>,
    /// 4 for a country; for a region its depth below the world (world 0, `002` 1, `202` 2,
    /// `011` 3).
    pub geo_level: Vec<u8>,
    /// For each country id: the geo ids that include it, the country first, then its regions
    /// from the most specific to the world.
    pub chains: Vec<Box<[u16]>>,
    /// For each geo id: the country ids it includes.
    pub members: Vec<Box<[u16]>>,
}

impl Tables {
    fn build() -> Self {
        let themes: Vec<ThemeCode> = ThemeCode::all().take(32).collect();
        let theme_ids = themes
            .iter()
            .enumerate()
            .map(|(i, t)| (t.as_str(), i as u8))
            .collect();
        let topics: Vec<TopicCode> = TopicCode::all().take(TopicBits::CAPACITY).collect();
        let topic_ids = topics
            .iter()
            .enumerate()
            .map(|(i, t)| (t.as_str(), i as u8))
            .collect();
        let languages: Vec<LanguageCode> =
            LanguageCode::all().take(LanguageBits::CAPACITY).collect();
        let language_ids = languages
            .iter()
            .enumerate()
            .map(|(i, l)| (l.as_str(), i as u8))
            .collect();
        let countries: Vec<CountryCode> = CountryCode::all().collect();
        let regions: Vec<RegionCode> = RegionCode::all().collect();
        let geos: Vec<Geo> = countries
            .iter()
            .map(|&c| Geo::Country(c))
            .chain(regions.iter().map(|&r| Geo::Region(r)))
            .collect();
        let geo_ids: HashMap<&'static str, u16> = geos
            .iter()
            .enumerate()
            .map(|(i, g)| (g.as_str(), i as u16))
            .collect();
        let depth = |r: RegionCode| {
            let mut d = 0u8;
            let mut cur = r.parent();
            while let Some(p) = cur {
                d += 1;
                cur = p.parent();
            }
            d.min(LEVEL_COUNTRY - 1)
        };
        let geo_level = geos
            .iter()
            .map(|g| match g {
                Geo::Country(_) => LEVEL_COUNTRY,
                Geo::Region(r) => depth(*r),
            })
            .collect();
        let chains: Vec<Box<[u16]>> = countries
            .iter()
            .map(|c| {
                std::iter::once(geo_ids.get(c.as_str()).copied())
                    .chain(c.regions().map(|r| geo_ids.get(r.as_str()).copied()))
                    .flatten()
                    .collect()
            })
            .collect();
        let mut members: Vec<Vec<u16>> = vec![Vec::new(); geos.len()];
        for (country, chain) in chains.iter().enumerate() {
            for &g in chain.iter() {
                if let Some(m) = members.get_mut(usize::from(g)) {
                    m.push(country as u16);
                }
            }
        }
        let members = members.into_iter().map(Vec::into_boxed_slice).collect();
        Self {
            themes,
            theme_ids,
            topics,
            topic_ids,
            languages,
            language_ids,
            geos,
            geo_ids,
            geo_level,
            chains,
            members,
        }
    }

    pub fn theme(&self, t: &ThemeCode) -> Option<usize> {
        self.theme_ids.get(t.as_str()).map(|&i| usize::from(i))
    }

    pub fn topic(&self, t: &TopicCode) -> Option<usize> {
        self.topic_ids.get(t.as_str()).map(|&i| usize::from(i))
    }

    pub fn language(&self, l: &LanguageCode) -> Option<usize> {
        self.language_ids.get(l.as_str()).map(|&i| usize::from(i))
    }

    pub fn geo(&self, g: &Geo) -> Option<u16> {
        self.geo_ids.get(g.as_str()).copied()
    }

    pub fn country(&self, c: &CountryCode) -> Option<u16> {
        self.geo_ids.get(c.as_str()).copied()
    }

    /// The chain of geo ids including the country (itself first), empty for a non-country.
    pub fn chain(&self, country: u16) -> &[u16] {
        self.chains
            .get(usize::from(country))
            .map(|c| &c[..])
            .unwrap_or_default()
    }

    /// The country ids inside a geo id (a country contains itself).
    pub fn members(&self, geo: u16) -> &[u16] {
        self.members
            .get(usize::from(geo))
            .map(|m| &m[..])
            .unwrap_or_default()
    }

    pub fn level(&self, geo: u16) -> u8 {
        self.geo_level
            .get(usize::from(geo))
            .copied()
            .unwrap_or(LEVEL_WORLD)
    }

    /// The level of the most specific entry of `coverage` that includes `country`.
    pub fn coverage_level(&self, coverage: &[u16], country: u16) -> Option<u8> {
        let chain = self.chain(country);
        coverage
            .iter()
            .filter(|g| chain.contains(g))
            .map(|&g| self.level(g))
            .max()
    }
}

pub(crate) static TABLES: LazyLock<Tables> = LazyLock::new(Tables::build);

pub(crate) fn tables() -> &'static Tables {
    &TABLES
}

/// The bit of a closed-vocabulary value: its position in the vocabulary's `ALL`.
pub(crate) fn bit_of<T: PartialEq>(all: &[T], value: &T) -> u8 {
    all.iter()
        .position(|v| v == value)
        .map_or(0, |i| 1u8 << (i as u32).min(7))
}

pub(crate) fn mask_of<T: PartialEq>(all: &[T], values: &[T]) -> u8 {
    values.iter().fold(0, |m, v| m | bit_of(all, v))
}

pub(crate) fn support_mask(values: &[SupportType]) -> u8 {
    mask_of(SupportType::ALL, values)
}

pub(crate) fn beneficiary_mask(values: &[BeneficiaryType]) -> u8 {
    mask_of(BeneficiaryType::ALL, values)
}

pub(crate) fn delivery_mask(values: &[DeliveryMode]) -> u8 {
    mask_of(DeliveryMode::ALL, values)
}

pub(crate) fn target_mask(values: &[TargetGroup]) -> u8 {
    mask_of(TargetGroup::ALL, values)
}

/// The values of a closed vocabulary whose bits are set in `mask`, in vocabulary order.
pub(crate) fn values_of<T: Copy>(all: &[T], mask: u8) -> Vec<T> {
    all.iter()
        .enumerate()
        .filter(|(i, _)| *i < 8 && mask & (1 << i) != 0)
        .map(|(_, v)| *v)
        .collect()
}

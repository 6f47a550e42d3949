//! Seeded synthetic needs and offers, for the benchmark and the property tests.
//!
//! [`Profile::Realistic`] follows the shape of the real field: theme popularity skewed
//! towards incident response, cybercrime and strategy; needs mostly from Africa, Asia, Latin
//! America and the Pacific, in the languages of their countries (French in francophone
//! Africa, Spanish in Latin America, Arabic, Portuguese, Russian), often with English too;
//! offers covering a few countries, an M49 sub-region, a region or (one in ten) the world;
//! descriptions written from per-topic phrase banks. [`Profile::Dense`] squeezes everything
//! into a few countries, themes and languages so that random pairs often match: for tests.
//!
//! The generator is deterministic for a seed (a seeded `fastrand`), so figures are reproducible.

use capmatch_domain::actor::OrgId;
use capmatch_domain::codes::{
    BeneficiaryType, CountryCode, DeliveryMode, Funding, Geo, LanguageCode, ProviderType,
    RegionCode, SupportType, TargetGroup, Visibility,
};
use capmatch_domain::ids::{NeedId, OfferId};
use capmatch_domain::need::{NeedDetails, NeedState, NeedStatus};
use capmatch_domain::offer::{OfferDetails, OfferState, OfferStatus, Provider};
use capmatch_domain::taxonomy::{ThemeCode, TopicCode};
use capmatch_domain::window::TimeWindow;
use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

/// The generator's random numbers: `fastrand`'s, seeded, with the draws workloads need.
#[derive(Debug, Clone)]
pub struct Rng(fastrand::Rng);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(fastrand::Rng::with_seed(seed))
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0.u64(..)
    }

    /// Uniform in `0..n`; 0 when `n` is 0.
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 { 0 } else { self.0.usize(..n) }
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        self.0.f64()
    }

    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    /// An index drawn with the given (non-negative) weights.
    pub fn weighted(&mut self, weights: &[f64]) -> usize {
        let total: f64 = weights.iter().sum();
        let mut x = self.unit() * total;
        for (i, w) in weights.iter().enumerate() {
            if x < *w {
                return i;
            }
            x -= w;
        }
        weights.len().saturating_sub(1)
    }

    pub fn pick<T: Copy>(&mut self, items: &[T]) -> Option<T> {
        items.get(self.below(items.len())).copied()
    }

    /// `k` distinct items (fewer if there are not enough), in draw order.
    pub fn distinct<T: Copy + PartialEq>(&mut self, items: &[T], k: usize) -> Vec<T> {
        let mut out = Vec::with_capacity(k);
        let mut guard = 0;
        while out.len() < k.min(items.len()) && guard < 64 * (k + 1) {
            guard += 1;
            if let Some(x) = self.pick(items)
                && !out.contains(&x)
            {
                out.push(x);
            }
        }
        out
    }
}

/// The shape of the generated corpus.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Profile {
    Realistic,
    Dense,
}

/// Phrases per topic (by the topic's name after the dot), used to write descriptions.
const TOPIC_PHRASES: &[(&str, &[&str])] = &[
    (
        "national_strategy",
        &[
            "national cybersecurity strategy",
            "strategy drafting",
            "implementation roadmap",
            "action plan costing",
        ],
    ),
    (
        "governance_coordination",
        &[
            "interagency coordination",
            "cybersecurity governance",
            "national cybersecurity agency",
            "steering committee",
        ],
    ),
    (
        "risk_assessment",
        &[
            "national risk assessment",
            "threat landscape",
            "risk register",
            "risk methodology",
        ],
    ),
    (
        "maturity_assessment",
        &[
            "maturity assessment",
            "capacity maturity model",
            "baseline review",
            "gap analysis",
        ],
    ),
    (
        "data_protection",
        &[
            "data protection law",
            "privacy regulator",
            "personal data",
            "data protection authority",
        ],
    ),
    (
        "digital_development",
        &[
            "digital transformation",
            "e-government services",
            "secure digital identity",
            "resilient digital infrastructure",
        ],
    ),
    (
        "csirt_establishment",
        &[
            "national CSIRT",
            "incident response team",
            "CSIRT mandate",
            "CSIRT services catalogue",
        ],
    ),
    (
        "csirt_maturity",
        &[
            "CSIRT maturity",
            "incident handling procedures",
            "SIM3 assessment",
            "security operations",
        ],
    ),
    (
        "sectoral_csirts",
        &[
            "sectoral CSIRT",
            "financial sector CERT",
            "information sharing",
            "ISAC",
        ],
    ),
    (
        "cyber_exercises",
        &[
            "cyber exercise",
            "tabletop exercise",
            "crisis simulation",
            "exercise scenario",
        ],
    ),
    (
        "cii_protection",
        &[
            "critical information infrastructure",
            "critical infrastructure operators",
            "energy grid security",
            "CII identification",
        ],
    ),
    (
        "threat_intelligence",
        &[
            "threat intelligence",
            "MISP platform",
            "indicators of compromise",
            "threat sharing",
        ],
    ),
    (
        "csirt_cooperation",
        &[
            "FIRST membership",
            "regional CSIRT network",
            "international CSIRT cooperation",
            "peer CSIRTs",
        ],
    ),
    (
        "legislation",
        &[
            "cybercrime legislation",
            "cybercrime law",
            "Budapest Convention alignment",
            "legal drafting",
        ],
    ),
    (
        "investigation",
        &[
            "cybercrime investigation",
            "police cyber unit",
            "online fraud investigation",
            "investigators",
        ],
    ),
    (
        "digital_forensics",
        &[
            "digital forensics",
            "forensic laboratory",
            "mobile forensics",
            "forensic tools",
        ],
    ),
    (
        "electronic_evidence",
        &[
            "electronic evidence",
            "chain of custody",
            "evidence handling",
            "data preservation",
        ],
    ),
    (
        "prosecution_judiciary",
        &[
            "prosecutors",
            "judges",
            "judicial training",
            "cybercrime cases in court",
        ],
    ),
    (
        "international_cooperation",
        &[
            "mutual legal assistance",
            "24/7 network",
            "cross-border requests",
            "international cooperation",
        ],
    ),
    (
        "prevention",
        &[
            "cybercrime prevention",
            "online fraud awareness",
            "ransomware prevention",
            "victim support",
        ],
    ),
    (
        "awareness",
        &[
            "public awareness campaign",
            "cyber hygiene",
            "awareness month",
            "citizens online safety",
        ],
    ),
    (
        "workforce_development",
        &[
            "cybersecurity workforce",
            "professional certification",
            "skills programme",
            "technical training",
        ],
    ),
    (
        "higher_education",
        &[
            "university curriculum",
            "master programme",
            "cybersecurity lecturers",
            "academic partnership",
        ],
    ),
    (
        "child_online_protection",
        &[
            "child online protection",
            "schools",
            "parents and teachers",
            "online abuse reporting",
        ],
    ),
    (
        "gender_inclusion",
        &[
            "women in cybersecurity",
            "gender inclusion",
            "mentoring for women",
            "scholarships for women",
        ],
    ),
    (
        "sme_security",
        &[
            "small businesses",
            "SME cyber hygiene",
            "security toolkit",
            "business associations",
        ],
    ),
    (
        "security_management",
        &[
            "ISO 27001",
            "information security management",
            "security policies",
            "audit readiness",
        ],
    ),
    (
        "internet_infrastructure",
        &[
            "DNSSEC",
            "routing security",
            "RPKI",
            "internet exchange point",
        ],
    ),
    (
        "email_web_security",
        &[
            "email authentication",
            "DMARC",
            "HTTPS adoption",
            "web security",
        ],
    ),
    (
        "conformity_assessment",
        &[
            "certification scheme",
            "conformity assessment",
            "accreditation body",
            "testing laboratory",
        ],
    ),
    (
        "iot_security",
        &[
            "IoT security",
            "connected devices",
            "device labelling",
            "baseline requirements",
        ],
    ),
    (
        "supply_chain",
        &[
            "supply chain security",
            "ICT procurement",
            "vendor risk",
            "software bill of materials",
        ],
    ),
    (
        "norms_implementation",
        &[
            "UN norms",
            "norms implementation",
            "responsible state behaviour",
            "national survey of implementation",
        ],
    ),
    (
        "international_law",
        &[
            "international law in cyberspace",
            "national position",
            "legal advisers",
            "state responsibility",
        ],
    ),
    (
        "cyber_diplomacy",
        &[
            "cyber diplomacy",
            "diplomats",
            "negotiation skills",
            "foreign ministry",
        ],
    ),
    (
        "multilateral_participation",
        &[
            "OEWG participation",
            "multilateral processes",
            "delegation support",
            "UN negotiations",
        ],
    ),
    (
        "implementation_reporting",
        &[
            "national implementation report",
            "voluntary report",
            "reporting template",
            "implementation review",
        ],
    ),
    (
        "points_of_contact",
        &[
            "points of contact",
            "POC directory",
            "contact network",
            "communication checks",
        ],
    ),
    (
        "transparency",
        &[
            "transparency measures",
            "doctrine sharing",
            "white paper",
            "national contact",
        ],
    ),
    (
        "regional_cbms",
        &[
            "regional confidence-building measures",
            "OSCE CBMs",
            "regional organisation",
            "ASEAN cooperation",
        ],
    ),
    (
        "crisis_communication",
        &[
            "crisis communication",
            "hotline",
            "escalation procedures",
            "incident notification",
        ],
    ),
    (
        "cooperative_exercises",
        &[
            "joint exercise",
            "cooperative exercise",
            "regional drill",
            "cross-border scenario",
        ],
    ),
];

const FILLER: &[&str] = &[
    "capacity building",
    "ministry of ICT",
    "regulator",
    "law enforcement agencies",
    "universities",
    "civil society",
    "private sector partners",
    "peer learning",
    "train the trainers",
    "good practices",
    "sustainability",
    "national stakeholders",
    "local experts",
    "long-term partnership",
];

/// Languages by country beyond English, for the realistic profile.
const LANGUAGES: &[(&str, &[&str])] = &[
    (
        "fr",
        &[
            "BJ", "BF", "BI", "CM", "CF", "TD", "KM", "CD", "CG", "CI", "DJ", "GA", "GN", "HT",
            "MG", "ML", "NE", "RW", "SN", "SC", "TG", "MA", "DZ", "TN", "LB", "VU", "MU", "GQ",
        ],
    ),
    ("pt", &["AO", "BR", "CV", "GW", "MZ", "ST", "TL"]),
    (
        "es",
        &[
            "AR", "BO", "CL", "CO", "CR", "CU", "DO", "EC", "SV", "GT", "HN", "MX", "NI", "PA",
            "PY", "PE", "UY", "VE", "GQ",
        ],
    ),
    (
        "ar",
        &[
            "DZ", "BH", "KM", "DJ", "EG", "IQ", "JO", "KW", "LB", "LY", "MR", "MA", "OM", "PS",
            "QA", "SA", "SO", "SD", "SY", "TN", "AE", "YE",
        ],
    ),
    (
        "ru",
        &[
            "AM", "AZ", "BY", "GE", "KZ", "KG", "MD", "TJ", "TM", "UZ", "UA",
        ],
    ),
];

fn code<T: std::str::FromStr>(s: &str) -> T
where
    T::Err: std::fmt::Debug,
{
    // The generator only parses codes written in this file.
    s.parse().expect("a valid code written in synth.rs")
}

fn date(y: i32, m: u32, d: u32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(y, m, d)
}

/// A seeded stream of needs and offers.
#[derive(Debug)]
pub struct Generator {
    rng: Rng,
    profile: Profile,
    themes: Vec<ThemeCode>,
    theme_weights: Vec<f64>,
    topics: Vec<Vec<TopicCode>>,
    /// (pool weight, countries) for needs.
    pools: Vec<(f64, Vec<CountryCode>)>,
    sub_regions: Vec<RegionCode>,
    regions: Vec<RegionCode>,
    counter: u64,
    at: DateTime<Utc>,
}

impl Generator {
    pub fn new(seed: u64, profile: Profile) -> Self {
        let themes: Vec<ThemeCode> = ThemeCode::all().collect();
        // Popularity: incident management, cybercrime and strategy lead; the OEWG pillars trail.
        let popularity = |t: &ThemeCode| match t.as_str() {
            "incident_management_cip" => 0.26,
            "cybercrime" => 0.22,
            "policy_strategy" => 0.20,
            "culture_skills" => 0.15,
            "standards" => 0.07,
            "norms_international_law" => 0.06,
            _ => 0.04,
        };
        let (themes, theme_weights): (Vec<ThemeCode>, Vec<f64>) = match profile {
            Profile::Realistic => {
                let w = themes.iter().map(popularity).collect();
                (themes, w)
            }
            Profile::Dense => {
                let t: Vec<ThemeCode> = themes.into_iter().take(3).collect();
                let w = vec![1.0; t.len()];
                (t, w)
            }
        };
        let topics = themes
            .iter()
            .map(|th| {
                let all: Vec<TopicCode> = TopicCode::all().filter(|t| t.theme() == *th).collect();
                match profile {
                    Profile::Realistic => all,
                    Profile::Dense => all.into_iter().take(3).collect(),
                }
            })
            .collect();
        let region = |c: &str| -> Vec<CountryCode> { code::<RegionCode>(c).countries().collect() };
        let pools = match profile {
            Profile::Realistic => vec![
                (0.34, region("002")),
                (0.24, region("142")),
                (0.18, region("419")),
                (0.05, region("054")),
                (0.02, region("057")),
                (0.02, region("061")),
                (0.07, region("151")),
                (0.04, region("039")),
                (0.03, region("155")),
                (0.01, region("021")),
            ],
            Profile::Dense => vec![(
                1.0,
                ["SN", "GM", "CI", "FJ", "PG"]
                    .iter()
                    .map(|c| code(c))
                    .collect(),
            )],
        };
        let sub_regions = match profile {
            Profile::Realistic => [
                "011", "014", "017", "018", "015", "029", "013", "005", "035", "034", "143", "145",
                "030", "054", "057", "061", "151", "039",
            ]
            .iter()
            .map(|c| code(c))
            .collect(),
            Profile::Dense => ["011", "054"].iter().map(|c| code(c)).collect(),
        };
        let regions = match profile {
            Profile::Realistic => ["002", "142", "419", "009", "150"]
                .iter()
                .map(|c| code(c))
                .collect(),
            Profile::Dense => ["002", "009"].iter().map(|c| code(c)).collect(),
        };
        Self {
            rng: Rng::new(seed),
            profile,
            themes,
            theme_weights,
            topics,
            pools,
            sub_regions,
            regions,
            counter: 0,
            at: DateTime::from_timestamp(1_767_225_600, 0).unwrap_or_default(),
        }
    }

    pub fn rng(&mut self) -> &mut Rng {
        &mut self.rng
    }

    fn id(&mut self) -> Uuid {
        self.counter += 1;
        Uuid::from_u64_pair(self.rng.next_u64(), self.counter)
    }

    fn themes(&mut self, counts: &[f64]) -> (Vec<ThemeCode>, Vec<TopicCode>) {
        let k = self.rng.weighted(counts) + 1;
        let mut chosen: Vec<usize> = Vec::new();
        let mut guard = 0;
        while chosen.len() < k.min(self.themes.len()) && guard < 100 {
            guard += 1;
            let i = self.rng.weighted(&self.theme_weights);
            if !chosen.contains(&i) {
                chosen.push(i);
            }
        }
        let themes: Vec<ThemeCode> = chosen.iter().map(|&i| self.themes[i]).collect();
        let mut topics = Vec::new();
        for &i in &chosen {
            let pool = &self.topics[i];
            let n = [0usize, 1, 1, 2][self.rng.below(4)];
            let picks = self.rng.distinct(pool, n);
            topics.extend(picks);
        }
        (themes, topics)
    }

    fn country(&mut self) -> CountryCode {
        let weights: Vec<f64> = self.pools.iter().map(|p| p.0).collect();
        let pool = self.rng.weighted(&weights);
        let countries = &self.pools[pool].1;
        let i = self.rng.below(countries.len());
        countries
            .get(i)
            .copied()
            .unwrap_or_else(|| code::<CountryCode>("SN"))
    }

    fn languages_of(&mut self, country: CountryCode) -> Vec<LanguageCode> {
        let mut out: Vec<LanguageCode> = LANGUAGES
            .iter()
            .filter(|(_, cs)| cs.contains(&country.as_str()))
            .map(|(l, _)| code(l))
            .collect();
        if self.profile == Profile::Dense {
            out = vec![code(if self.rng.chance(0.5) { "fr" } else { "en" })];
        }
        if out.is_empty() || self.rng.chance(0.4) {
            let en = code("en");
            if !out.contains(&en) {
                out.push(en);
            }
        }
        out
    }

    fn phrases(&mut self, topics: &[TopicCode], themes: &[ThemeCode], n: usize) -> Vec<String> {
        let mut pool: Vec<&'static str> = Vec::new();
        let names: Vec<&str> = if topics.is_empty() {
            themes
                .iter()
                .flat_map(|th| {
                    TopicCode::all()
                        .filter(move |t| t.theme() == *th)
                        .take(2)
                        .map(|t| t.as_str())
                })
                .collect()
        } else {
            topics.iter().map(|t| t.as_str()).collect()
        };
        for name in names {
            let short = name.split_once('.').map_or(name, |(_, s)| s);
            if let Some((_, ps)) = TOPIC_PHRASES.iter().find(|(k, _)| *k == short) {
                pool.extend_from_slice(ps);
            }
        }
        (0..n)
            .map(|_| {
                if pool.is_empty() || self.rng.chance(0.25) {
                    self.rng.pick(FILLER).unwrap_or("capacity building")
                } else {
                    self.rng.pick(&pool).unwrap_or("capacity building")
                }
                .to_owned()
            })
            .collect()
    }

    fn support(&mut self, max: usize) -> Vec<SupportType> {
        let weights = [0.30, 0.25, 0.18, 0.10, 0.05, 0.08, 0.04];
        let k = 1 + self.rng.below(max);
        let mut out = Vec::new();
        let mut guard = 0;
        while out.len() < k && guard < 50 {
            guard += 1;
            let s = SupportType::ALL[self.rng.weighted(&weights)];
            if !out.contains(&s) {
                out.push(s);
            }
        }
        out
    }

    fn target_groups(&mut self, p: f64) -> Vec<TargetGroup> {
        if !self.rng.chance(p) {
            return Vec::new();
        }
        let k = 1 + self.rng.below(2);
        self.rng.distinct(TargetGroup::ALL, k)
    }

    fn window(&mut self, p_none: f64) -> TimeWindow {
        if self.rng.chance(p_none) {
            return TimeWindow::default();
        }
        let start_month = 1 + self.rng.below(24) as i32;
        let start = date(
            2026 + (start_month - 1) / 12,
            ((start_month - 1) % 12 + 1) as u32,
            1,
        );
        let len = 6 + self.rng.below(24) as i32;
        let end_month = start_month + len;
        let end = date(
            2026 + (end_month - 1) / 12,
            ((end_month - 1) % 12 + 1) as u32,
            28,
        );
        match self.rng.below(3) {
            0 => TimeWindow { start, end: None },
            1 => TimeWindow { start: None, end },
            _ => TimeWindow { start, end },
        }
    }

    /// A new open need.
    pub fn need(&mut self) -> NeedState {
        let country = self.country();
        let (themes, topics) = self.themes(&[0.6, 0.3, 0.1]);
        let languages = self.languages_of(country);
        let support_types = self.support(3);
        let phrases = self.phrases(&topics, &themes, 5);
        let title = format!("{} for {}", capitalise(&phrases[0]), country.name());
        let description = format!(
            "{} requests support with {}. The government seeks help on {} and {}. Current \
             gaps include {}. Work should involve {}.",
            country.name(),
            phrases[0],
            phrases[1],
            phrases[2],
            phrases[3],
            phrases[4],
        );
        let beneficiary_type = BeneficiaryType::ALL[self.rng.weighted(&[0.7, 0.1, 0.1, 0.1])];
        let delivery_modes = match self.rng.weighted(&[0.7, 0.15, 0.15]) {
            0 => DeliveryMode::ALL.to_vec(),
            1 => vec![DeliveryMode::InPerson],
            _ => vec![DeliveryMode::Remote],
        };
        let window = self.window(0.5);
        let target_groups = self.target_groups(0.3);
        let id = NeedId::from(self.id());
        NeedState {
            id,
            country,
            details: NeedDetails {
                title,
                description,
                themes,
                topics,
                support_types,
                languages,
                languages_required: self.rng.chance(0.15),
                beneficiary_type,
                delivery_modes,
                window,
                target_groups,
                visibility: Visibility::Registered,
                partners_wanted: 1 + self.rng.weighted(&[0.6, 0.3, 0.1]) as u32,
                budget_note: None,
            },
            status: NeedStatus::Open,
            posted_on_behalf: false,
            posted_at: self.at,
            updated_at: self.at,
            version: 1,
            withdraw_reason: None,
        }
    }

    fn coverage(&mut self) -> Vec<Geo> {
        match self.rng.weighted(&[0.40, 0.35, 0.15, 0.10]) {
            0 => {
                let k = 1 + self.rng.below(5);
                let mut out: Vec<Geo> = Vec::new();
                for _ in 0..k {
                    let c = Geo::Country(self.country());
                    if !out.contains(&c) {
                        out.push(c);
                    }
                }
                out
            }
            1 => {
                let k = 1 + self.rng.weighted(&[0.7, 0.3]);
                let regions = self.sub_regions.clone();
                self.rng
                    .distinct(&regions, k)
                    .into_iter()
                    .map(Geo::Region)
                    .collect()
            }
            2 => {
                let regions = self.regions.clone();
                self.rng
                    .pick(&regions)
                    .map(Geo::Region)
                    .into_iter()
                    .collect()
            }
            _ => vec![Geo::Region(RegionCode::WORLD)],
        }
    }

    /// A new open offer.
    pub fn offer(&mut self) -> OfferState {
        let (themes, topics) = self.themes(&[0.4, 0.4, 0.2]);
        let mut languages: Vec<LanguageCode> = Vec::new();
        let lang_p: &[(&str, f64)] = match self.profile {
            Profile::Realistic => &[
                ("en", 0.85),
                ("fr", 0.30),
                ("es", 0.20),
                ("ar", 0.10),
                ("pt", 0.08),
                ("ru", 0.08),
            ],
            Profile::Dense => &[("en", 0.7), ("fr", 0.5)],
        };
        for &(l, p) in lang_p {
            if self.rng.chance(p) {
                languages.push(code(l));
            }
        }
        if languages.is_empty() {
            languages.push(code("en"));
        }
        let coverage = self.coverage();
        let support_types = self.support(3);
        let phrases = self.phrases(&topics, &themes, 5);
        let title = capitalise(&format!("{} programme", phrases[0]));
        let description = format!(
            "We offer expert support on {}. Our team has delivered {} and {} with {}. \
             Activities include {}.",
            phrases[0], phrases[1], phrases[2], phrases[3], phrases[4],
        );
        let beneficiary_types = match self.rng.weighted(&[0.5, 0.3, 0.2]) {
            0 => BeneficiaryType::ALL.to_vec(),
            1 => vec![BeneficiaryType::Government],
            _ => self.rng.distinct(BeneficiaryType::ALL, 2),
        };
        let delivery_modes = match self.rng.weighted(&[0.6, 0.25, 0.15]) {
            0 => DeliveryMode::ALL.to_vec(),
            1 => vec![DeliveryMode::Remote],
            _ => vec![DeliveryMode::InPerson],
        };
        let capacity = 1 + self.rng.weighted(&[0.3, 0.25, 0.15, 0.1, 0.1, 0.05, 0.05]) as u32;
        let window = self.window(0.4);
        let target_groups = self.target_groups(0.3);
        let org: OrgId = format!("org:synthetic-{}", self.rng.below(5000))
            .parse()
            .unwrap_or_else(|_| code("org:synthetic"));
        let id = OfferId::from(self.id());
        OfferState {
            id,
            provider: Provider {
                org,
                org_type: ProviderType::ALL[self.rng.below(ProviderType::ALL.len())],
            },
            details: OfferDetails {
                title,
                description,
                themes,
                topics,
                support_types,
                languages,
                coverage,
                beneficiary_types,
                capacity,
                window,
                delivery_modes,
                target_groups,
                funding: Funding::ALL[self.rng.below(Funding::ALL.len())],
                conditions_attached: false,
                conditions: None,
            },
            status: OfferStatus::Open,
            posted_at: self.at,
            updated_at: self.at,
            version: 1,
            status_reason: None,
        }
    }
}

fn capitalise(s: &str) -> String {
    let mut chars = s.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

//! Concepts: what a need or an offer is about, whatever language and words it uses.
//!
//! The thesaurus (`data/thesaurus.json`) lists capacity-building concepts ("setting up a
//! national CSIRT", "electronic evidence", "capacity maturity assessment", …), each with the
//! taxonomy topics it belongs to and the terms and abbreviations people write for it in
//! English, French, Spanish, Portuguese, Russian and Arabic. A text is read for those terms as
//! whole words and phrases, compared by their Snowball stems (lower-cased, accents folded, so
//! "équipes d'intervention" and "équipe d'intervention" are one phrase, and "establishing" one
//! word with "establish"), with little words ("the", "de", "и") left out and one other word
//! allowed between two of a phrase's ("national computer incident response teams" holds
//! "national incident response team"). The concepts found say two things the words alone do not:
//!
//! - the topics a poster did not name: a need that asks for a "national CERT" is about CSIRT
//!   establishment, an offer that runs "stocktakes" about maturity assessment;
//! - how close two texts are by meaning rather than by word: a French need and an English
//!   offer about incident response share concepts where they share no word.
//!
//! The thesaurus names no provider, programme or state: it is the field's vocabulary.

use std::collections::HashMap;
use std::sync::LazyLock;

use capmatch_domain::taxonomy::{ThemeCode, TopicCode};
use rust_stemmers::{Algorithm, Stemmer};
use serde::Deserialize;
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

use crate::intern::Bits;

/// A set of concepts, by their index in the thesaurus.
pub(crate) type ConceptBits = Bits<4>;

const BUNDLED: &str = include_str!("../data/thesaurus.json");

/// The thesaurus as stored.
#[derive(Debug, Deserialize)]
struct Stored {
    concepts: Vec<StoredConcept>,
}

#[derive(Debug, Deserialize)]
struct StoredConcept {
    id: String,
    label: String,
    topics: Vec<TopicCode>,
    #[serde(default)]
    themes: Vec<ThemeCode>,
    terms: HashMap<String, Vec<String>>,
}

/// One concept: a name for explanations and the topics it belongs to.
#[derive(Debug, Clone)]
pub struct Concept {
    pub id: String,
    pub label: String,
    pub topics: Vec<TopicCode>,
    /// Its topics' themes and any it names itself.
    pub themes: Vec<ThemeCode>,
}

/// The concepts and their terms, ready to read texts with.
#[derive(Debug)]
pub struct Thesaurus {
    concepts: Vec<Concept>,
    /// Every term as its words' stems, filed under its first one: (the other stems, concept).
    by_first: HashMap<String, Vec<(Vec<String>, u16)>>,
}

/// Why a thesaurus could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ThesaurusError {
    #[error("the thesaurus is not valid: {0}")]
    Json(#[from] serde_json::Error),
    #[error("the thesaurus has {0} concepts; at most {max} fit", max = ConceptBits::CAPACITY)]
    TooMany(usize),
}

static BUNDLED_THESAURUS: LazyLock<Result<Thesaurus, ThesaurusError>> =
    LazyLock::new(|| Thesaurus::from_json(BUNDLED));

impl Thesaurus {
    /// The thesaurus shipped in `data/thesaurus.json` (a test checks that it loads); an empty
    /// one if it did not, so matching works on words alone rather than not at all.
    pub fn bundled() -> &'static Thesaurus {
        static EMPTY: LazyLock<Thesaurus> = LazyLock::new(|| Thesaurus {
            concepts: Vec::new(),
            by_first: HashMap::new(),
        });
        BUNDLED_THESAURUS.as_ref().unwrap_or(&EMPTY)
    }

    /// Whether the bundled thesaurus loaded; why not otherwise.
    pub fn check_bundled() -> Result<&'static Thesaurus, &'static ThesaurusError> {
        BUNDLED_THESAURUS.as_ref()
    }

    pub fn from_json(json: &str) -> Result<Self, ThesaurusError> {
        let stored: Stored = serde_json::from_str(json)?;
        if stored.concepts.len() > ConceptBits::CAPACITY {
            return Err(ThesaurusError::TooMany(stored.concepts.len()));
        }
        let mut concepts = Vec::with_capacity(stored.concepts.len());
        let mut by_first: HashMap<String, Vec<(Vec<String>, u16)>> = HashMap::new();
        for (i, c) in stored.concepts.into_iter().enumerate() {
            let index = u16::try_from(i).unwrap_or(u16::MAX);
            let mut themes: Vec<ThemeCode> = c.topics.iter().map(TopicCode::theme).collect();
            themes.extend(c.themes);
            themes.sort_unstable();
            themes.dedup();
            for (language, terms) in &c.terms {
                for term in terms {
                    let mut words = term_stems(term, language);
                    if words.is_empty() {
                        continue;
                    }
                    let first = words.remove(0);
                    let filed = by_first.entry(first).or_default();
                    if !filed
                        .iter()
                        .any(|(rest, at)| *at == index && *rest == words)
                    {
                        filed.push((words, index));
                    }
                }
            }
            concepts.push(Concept {
                id: c.id,
                label: c.label,
                topics: c.topics,
                themes,
            });
        }
        Ok(Thesaurus { concepts, by_first })
    }

    pub fn concepts(&self) -> &[Concept] {
        &self.concepts
    }

    pub fn concept(&self, index: usize) -> Option<&Concept> {
        self.concepts.get(index)
    }

    /// The concepts `text` speaks of.
    pub(crate) fn read(&self, text: &str) -> ConceptBits {
        let mut found = ConceptBits::default();
        self.each_mention(text, |concept| found.insert(concept));
        found
    }

    /// What an entity is about: every concept its title and description speak of, and its
    /// core ones, those its title names or its description names more than once (a single
    /// passing mention, such as a list of the stakeholders to consult, is not what it is about).
    pub(crate) fn read_entity(&self, title: &str, description: &str) -> (ConceptBits, ConceptBits) {
        let mut all = self.read(title);
        let mut core = all;
        let mut mentions = vec![0u8; ConceptBits::CAPACITY];
        self.each_mention(description, |concept| {
            all.insert(concept);
            if let Some(count) = mentions.get_mut(concept) {
                *count = count.saturating_add(1);
                if *count > 1 {
                    core.insert(concept);
                }
            }
        });
        (all, core)
    }

    /// Calls `found` with the concept of every mention in `text`: terms of one concept that
    /// overlap ("national cyber security strategy" holds several) are one mention.
    fn each_mention(&self, text: &str, mut found: impl FnMut(usize)) {
        let words = text_stems(text);
        // Per concept, where its last mention ended.
        let mut ends = vec![0usize; self.concepts.len()];
        for (i, stems) in words.iter().enumerate() {
            for stem in stems {
                let Some(terms) = self.by_first.get(stem) else {
                    continue;
                };
                for (rest, concept) in terms {
                    let Some(end) = follows(&words, i + 1, rest) else {
                        continue;
                    };
                    let Some(last) = ends.get_mut(usize::from(*concept)) else {
                        continue;
                    };
                    if i >= *last {
                        found(usize::from(*concept));
                    }
                    *last = (*last).max(end);
                }
            }
        }
    }

    /// The concepts `text` speaks of, in thesaurus order.
    pub fn about(&self, text: &str) -> Vec<&Concept> {
        self.read(text)
            .iter()
            .filter_map(|i| self.concepts.get(i))
            .collect()
    }

    /// The topics of `concepts`.
    pub(crate) fn topics_of(&self, concepts: &ConceptBits) -> impl Iterator<Item = &TopicCode> {
        concepts
            .iter()
            .filter_map(|i| self.concepts.get(i))
            .flat_map(|c| c.topics.iter())
    }

    /// The labels of `concepts`, in thesaurus order.
    pub fn labels(&self, concepts: impl Iterator<Item = usize>) -> Vec<&str> {
        concepts
            .filter_map(|i| self.concepts.get(i))
            .map(|c| c.label.as_str())
            .collect()
    }
}

/// Where the term whose stems after its first are `rest` ends (one past its last word), when
/// it follows from word `at` of `words`: each stem in the next word or, past one other word,
/// in the one after it.
fn follows(words: &[Vec<String>], mut at: usize, rest: &[String]) -> Option<usize> {
    for stem in rest {
        let here = |i: usize| words.get(i).is_some_and(|w| w.contains(stem));
        if here(at) {
            at += 1;
        } else if here(at + 1) {
            at += 2;
        } else {
            return None;
        }
    }
    Some(at)
}

/// Words too small to say what a text is about, in the thesaurus's languages.
const STOPWORDS: &[&str] = &[
    // en
    "a", "an", "and", "as", "at", "by", "for", "from", "in", "into", "its", "of", "on", "or", "our",
    "the", "their", "to", "with", "we", "is", "are", "be", // fr
    "au", "aux", "d", "de", "des", "du", "en", "et", "l", "la", "le", "les", "par", "pour", "sur",
    "un", "une", "dans", // es, pt
    "al", "con", "del", "el", "las", "lo", "los", "para", "por", "y", "da", "das", "do", "dos",
    "e", "em", "na", "nas", "no", "nos", "o", "os", "um", "uma", // ru
    "и", "в", "во", "на", "по", "для", "с", "со", "к", "о", "об", "от", "из", "при", "а",
    // ar
    "في", "من", "على", "إلى", "الى", "عن", "مع", "و", "او", "أو",
];

/// A word lower-cased with its accents dropped.
fn fold(word: &str) -> String {
    word.nfd()
        .filter(|c| !is_combining_mark(*c))
        .flat_map(char::to_lowercase)
        .collect()
}

/// The words of `text` that carry meaning, folded.
fn meaningful(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(fold)
        .filter(|w| !STOPWORDS.contains(&w.as_str()))
}

/// The stemmers of a thesaurus language.
fn stemmer(language: &str) -> Option<&'static Stemmer> {
    static STEMMERS: LazyLock<[(&str, Stemmer); 6]> = LazyLock::new(|| {
        [
            ("en", Stemmer::create(Algorithm::English)),
            ("fr", Stemmer::create(Algorithm::French)),
            ("es", Stemmer::create(Algorithm::Spanish)),
            ("pt", Stemmer::create(Algorithm::Portuguese)),
            ("ru", Stemmer::create(Algorithm::Russian)),
            ("ar", Stemmer::create(Algorithm::Arabic)),
        ]
    });
    STEMMERS
        .iter()
        .find(|(l, _)| *l == language)
        .map(|(_, s)| s)
}

/// A term's words as stems of its own language.
fn term_stems(term: &str, language: &str) -> Vec<String> {
    meaningful(term)
        .map(|w| match stemmer(language) {
            Some(s) => s.stem(&w).into_owned(),
            None => w,
        })
        .collect()
}

/// A text's words, each as the stems it has in every language its script may be written in:
/// Latin script in English, French, Spanish and Portuguese, Cyrillic in Russian, Arabic in
/// Arabic; any other word as it is.
fn text_stems(text: &str) -> Vec<Vec<String>> {
    meaningful(text)
        .map(|w| {
            let languages: &[&str] = match w.chars().find(|c| c.is_alphabetic()) {
                Some(c) if c.is_ascii() || ('\u{00c0}'..='\u{024f}').contains(&c) => {
                    &["en", "fr", "es", "pt"]
                }
                Some(c) if ('\u{0400}'..='\u{04ff}').contains(&c) => &["ru"],
                Some(c) if ('\u{0600}'..='\u{06ff}').contains(&c) => &["ar"],
                _ => &[],
            };
            let mut stems: Vec<String> = languages
                .iter()
                .filter_map(|l| stemmer(l))
                .map(|s| s.stem(&w).into_owned())
                .collect();
            if stems.is_empty() {
                stems.push(w);
            }
            stems.sort_unstable();
            stems.dedup();
            stems
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn concepts_of(t: &Thesaurus, text: &str) -> Vec<String> {
        t.read(text)
            .iter()
            .filter_map(|i| t.concept(i))
            .map(|c| c.id.clone())
            .collect()
    }

    #[test]
    fn the_bundled_thesaurus_loads_and_every_concept_has_terms_in_six_languages() {
        let t = Thesaurus::check_bundled().expect("the bundled thesaurus");
        assert!(t.concepts().len() >= 80, "{} concepts", t.concepts().len());
        let stored: Stored = serde_json::from_str(BUNDLED).expect("json");
        for c in &stored.concepts {
            for lang in ["en", "fr", "es", "pt", "ru", "ar"] {
                assert!(
                    c.terms.get(lang).is_some_and(|t| !t.is_empty()),
                    "{} has no {lang} term",
                    c.id
                );
            }
            assert!(!c.topics.is_empty(), "{} names no topic", c.id);
        }
    }

    #[test]
    fn words_are_compared_by_stem_without_case_accents_or_little_words() {
        let stems = |text: &str, language: &str| term_stems(text, language).join(" ");
        assert_eq!(
            stems("Équipes d'INTERVENTION", "fr"),
            stems("équipe intervention", "fr")
        );
        assert_eq!(
            stems("establishing the teams", "en"),
            stems("establish team", "en")
        );
        let text = text_stems("Délits informáticos");
        assert!(text[0].contains(&term_stems("delito", "es")[0]), "{text:?}");
    }

    #[test]
    fn a_concept_is_found_in_any_of_its_languages_as_a_whole_phrase() {
        let t = Thesaurus::from_json(
            r#"{"concepts": [{"id": "csirt", "label": "Setting up a CSIRT",
                "topics": ["incident_management_cip.csirt_establishment"],
                "terms": {"en": ["national CERT", "incident response team",
                                 "national incident response team"],
                          "fr": ["équipe de réponse aux incidents"],
                          "ru": ["группа реагирования"]}}]}"#,
        )
        .expect("a thesaurus");
        assert_eq!(concepts_of(&t, "We want a National CERT."), ["csirt"]);
        assert_eq!(
            concepts_of(&t, "national computer incident response teams"),
            ["csirt"]
        );
        assert_eq!(
            concepts_of(&t, "une équipe de réponse aux incidents nationale"),
            ["csirt"]
        );
        assert_eq!(concepts_of(&t, "Создать группа реагирования"), ["csirt"]);
        assert!(concepts_of(&t, "incident response").is_empty());
        assert!(concepts_of(&t, "a national certificate").is_empty());
        assert!(concepts_of(&t, "incident reports sent to a response team").is_empty());
        // Overlapping terms of one concept are one mention, two apart are two.
        let mentions = |text: &str| {
            let mut n = 0;
            t.each_mention(text, |_| n += 1);
            n
        };
        assert_eq!(mentions("a national incident response team"), 1);
        assert_eq!(
            mentions("a national CERT, and later a second national CERT"),
            2
        );
    }
}

//! Text relevance: a tokeniser with a small stopword list and an S-stemmer, document
//! frequencies over the current corpus, and BM25-weighted term signatures compared by cosine.
//!
//! Every need and offer is one document (its title, counted `title_weight` times, and its
//! description). A term's weight in a document is its BM25 weight,
//! `idf · tf·(k1+1) / (tf + k1·(1 − b + b·len/avglen))` with
//! `idf = ln(1 + (N − df + 0.5)/(df + 0.5))`. A document is summarised by its
//! [`SIG_TERMS`] heaviest terms (its most characteristic ones: a long description does not
//! drown a short one, and the summary fits beside the other features in the index); that
//! signature is normalised to unit length and quantised to 16 bits, so the text component of a
//! pair is the cosine of the two signatures: symmetric, in [0, 1], and computed in integers,
//! hence independent of summation order.
//!
//! Document frequencies are counted live, but scores use a **snapshot** of them, refreshed when
//! the corpus has drifted (see [`crate::config::TextConfig::refresh_ratio`]): with live
//! frequencies every new document would move every score in the index a little, and no
//! incremental update could stay exact.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::config::TextConfig;

/// Words too common to say anything about a match: English function words and a few French,
/// Spanish and Portuguese ones, since needs are written in those too.
const STOPWORDS: &[&str] = &[
    "a", "about", "above", "after", "again", "all", "also", "am", "an", "and", "any", "are", "as",
    "at", "be", "been", "before", "being", "between", "both", "but", "by", "can", "could", "did",
    "do", "does", "doing", "during", "each", "few", "for", "from", "further", "had", "has", "have",
    "having", "he", "her", "here", "him", "his", "how", "i", "if", "in", "into", "is", "it", "its",
    "just", "may", "me", "more", "most", "must", "my", "no", "nor", "not", "now", "of", "off",
    "on", "once", "only", "or", "other", "our", "ours", "out", "over", "own", "per", "same", "she",
    "should", "so", "some", "such", "than", "that", "the", "their", "them", "then", "there",
    "these", "they", "this", "those", "through", "to", "too", "under", "until", "up", "us", "very",
    "via", "was", "we", "were", "what", "when", "where", "which", "while", "who", "whom", "why",
    "will", "with", "within", "would", "you", "your", "yours", "le", "la", "les", "des", "du",
    "de", "et", "en", "un", "une", "pour", "dans", "sur", "par", "au", "aux", "est", "sont",
    "nous", "notre", "nos", "ce", "ces", "qui", "que", "el", "los", "las", "y", "para", "con",
    "del", "por", "una", "uno", "su", "sus", "al", "es", "se", "lo", "como", "nuestro", "nuestra",
    "da", "do", "das", "dos", "em", "um", "uma", "os", "na", "no",
];

fn is_stopword(word: &str) -> bool {
    STOPWORDS.contains(&word)
}

/// Harman's S-stemmer: folds English plurals ("policies" → "policy", "teams" → "team") and
/// nothing else, so stems stay readable in reasons.
pub fn stem(word: &str) -> String {
    let n = word.chars().count();
    if n > 4 && word.ends_with("ies") && !word.ends_with("eies") && !word.ends_with("aies") {
        return format!("{}y", &word[..word.len() - 3]);
    }
    if n > 3 && word.ends_with("es") && !["aes", "ees", "oes"].iter().any(|s| word.ends_with(s)) {
        return word[..word.len() - 1].to_owned();
    }
    if n > 3 && word.ends_with('s') && !word.ends_with("us") && !word.ends_with("ss") {
        return word[..word.len() - 1].to_owned();
    }
    word.to_owned()
}

/// The terms of a text: lower-cased alphanumeric runs of two or more characters, not all
/// digits, not stopwords, stemmed.
pub fn tokens(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.chars().nth(1).is_some())
        .map(str::to_lowercase)
        .filter(|w| !w.chars().all(|c| c.is_ascii_digit()) && !is_stopword(w))
        .map(|w| stem(&w))
}

/// A document's term counts, in order of first appearance (which makes its normalisation
/// independent of term ids, hence of the order the corpus was built in).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Doc {
    pub terms: Box<[(u32, u16)]>,
    pub len: u32,
}

/// Terms kept per document.
pub const SIG_TERMS: usize = 24;

/// A document's heaviest terms with unit-length BM25 weights quantised to `u16` (`65535` is
/// 1.0), sorted by term id; unused places are zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Sig {
    pub terms: [u32; SIG_TERMS],
    pub weights: [u16; SIG_TERMS],
    pub len: u8,
}

impl Sig {
    pub const EMPTY: Sig = Sig {
        terms: [0; SIG_TERMS],
        weights: [0; SIG_TERMS],
        len: 0,
    };

    pub fn iter(&self) -> impl Iterator<Item = (u32, u16)> + '_ {
        self.terms
            .iter()
            .zip(self.weights.iter())
            .take(usize::from(self.len))
            .map(|(&t, &w)| (t, w))
    }
}

impl Default for Sig {
    fn default() -> Self {
        Self::EMPTY
    }
}

pub(crate) const UNIT: f64 = 65535.0;

/// Document frequencies of a corpus, keyed by stemmed term: what text scores are computed
/// from. Exported so a rebuilt engine can score with exactly the statistics of another.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TextStats {
    /// Documents counted (open needs and open offers).
    pub docs: u32,
    /// Their total length in terms, for the average length BM25 normalises by.
    pub total_len: u64,
    /// Documents containing each term.
    pub df: BTreeMap<String, u32>,
}

#[derive(Debug)]
pub(crate) struct TextModel {
    cfg: TextConfig,
    ids: HashMap<Box<str>, u32>,
    terms: Vec<Box<str>>,
    live_df: Vec<u32>,
    live_docs: u32,
    live_len: u64,
    snap_df: Vec<u32>,
    snap_docs: u32,
    snap_len: u64,
    idf: Vec<f32>,
    avg_len: f64,
    pub refreshes: u64,
}

impl TextModel {
    pub fn new(cfg: TextConfig) -> Self {
        let mut model = Self {
            cfg,
            ids: HashMap::new(),
            terms: Vec::new(),
            live_df: Vec::new(),
            live_docs: 0,
            live_len: 0,
            snap_df: Vec::new(),
            snap_docs: 0,
            snap_len: 0,
            idf: Vec::new(),
            avg_len: 1.0,
            refreshes: 0,
        };
        model.recompute_idf();
        model
    }

    fn idf_of(&self, df: u32) -> f32 {
        let n = f64::from(self.snap_docs);
        let df = f64::from(df);
        (1.0 + ((n - df).max(0.0) + 0.5) / (df + 0.5)).ln() as f32
    }

    fn intern(&mut self, term: &str) -> u32 {
        if let Some(&id) = self.ids.get(term) {
            return id;
        }
        let id = self.terms.len() as u32;
        self.terms.push(term.into());
        self.ids.insert(term.into(), id);
        self.live_df.push(0);
        self.snap_df.push(0);
        let idf = self.idf_of(0);
        self.idf.push(idf);
        id
    }

    /// Tokenises and counts a title and description, interning new terms.
    pub fn doc(&mut self, title: &str, description: &str) -> Doc {
        let mut order: Vec<(u32, u16)> = Vec::new();
        let mut at: HashMap<u32, usize> = HashMap::new();
        let mut len = 0u32;
        let title_weight = self.cfg.title_weight.max(1);
        let title_tokens = tokens(title).map(|t| (t, title_weight));
        let body_tokens = tokens(description).map(|t| (t, 1));
        for (token, weight) in title_tokens.chain(body_tokens) {
            let id = self.intern(&token);
            len += u32::from(weight);
            match at.get(&id) {
                Some(&i) => order[i].1 = order[i].1.saturating_add(weight),
                None => {
                    at.insert(id, order.len());
                    order.push((id, weight));
                }
            }
        }
        Doc {
            terms: order.into(),
            len,
        }
    }

    /// Counts a document into the live corpus.
    pub fn add(&mut self, doc: &Doc) {
        for &(t, _) in doc.terms.iter() {
            if let Some(df) = self.live_df.get_mut(t as usize) {
                *df += 1;
            }
        }
        self.live_docs += 1;
        self.live_len += u64::from(doc.len);
    }

    /// Takes a document out of the live corpus.
    pub fn remove(&mut self, doc: &Doc) {
        for &(t, _) in doc.terms.iter() {
            if let Some(df) = self.live_df.get_mut(t as usize) {
                *df = df.saturating_sub(1);
            }
        }
        self.live_docs = self.live_docs.saturating_sub(1);
        self.live_len = self.live_len.saturating_sub(u64::from(doc.len));
    }

    /// The document's signature under the current snapshot: its [`SIG_TERMS`] heaviest BM25
    /// terms (ties broken by the term itself, so the choice never depends on term ids),
    /// normalised to unit length.
    pub fn signature(&self, doc: &Doc) -> Sig {
        let (k1, b) = (f64::from(self.cfg.k1), f64::from(self.cfg.b));
        let norm_len = 1.0 - b + b * f64::from(doc.len) / self.avg_len;
        let mut weighted: Vec<(u32, f64)> = doc
            .terms
            .iter()
            .map(|&(t, tf)| {
                let tf = f64::from(tf);
                let idf = f64::from(self.idf.get(t as usize).copied().unwrap_or(0.0));
                (t, idf * tf * (k1 + 1.0) / (tf + k1 * norm_len))
            })
            .collect();
        weighted.sort_by(|a, b| {
            b.1.total_cmp(&a.1)
                .then_with(|| self.term(a.0).cmp(self.term(b.0)))
        });
        weighted.truncate(SIG_TERMS);
        let norm = weighted.iter().map(|(_, w)| w * w).sum::<f64>().sqrt();
        let mut kept: Vec<(u32, u16)> = weighted
            .iter()
            .map(|&(t, w)| {
                let q = if norm > 0.0 {
                    (w / norm * UNIT).round()
                } else {
                    0.0
                };
                (t, q.clamp(0.0, UNIT) as u16)
            })
            .filter(|&(_, q)| q > 0)
            .collect();
        kept.sort_unstable_by_key(|&(t, _)| t);
        let mut sig = Sig::EMPTY;
        for (i, (t, w)) in kept.into_iter().enumerate() {
            sig.terms[i] = t;
            sig.weights[i] = w;
            sig.len = i as u8 + 1;
        }
        sig
    }

    /// Whether the live corpus has drifted from the snapshot by more than the configured ratio.
    pub fn needs_refresh(&self) -> bool {
        let Some(ratio) = self.cfg.refresh_ratio else {
            return false;
        };
        let drift = f64::from(self.live_docs.abs_diff(self.snap_docs));
        drift > f64::from(ratio) * f64::from(self.snap_docs)
    }

    /// Makes the live counts the snapshot. Callers must recompute every signature.
    pub fn take_snapshot(&mut self) {
        self.snap_df.clone_from(&self.live_df);
        self.snap_docs = self.live_docs;
        self.snap_len = self.live_len;
        self.refreshes += 1;
        self.recompute_idf();
    }

    /// Makes the given statistics the snapshot. Callers must recompute every signature.
    pub fn import(&mut self, stats: &TextStats) {
        for term in stats.df.keys() {
            self.intern(term);
        }
        self.snap_df.iter_mut().for_each(|df| *df = 0);
        for (term, &df) in &stats.df {
            if let Some(&id) = self.ids.get(term.as_str()) {
                self.snap_df[id as usize] = df;
            }
        }
        self.snap_docs = stats.docs;
        self.snap_len = stats.total_len;
        self.recompute_idf();
    }

    /// The snapshot the scores are computed with.
    pub fn export(&self) -> TextStats {
        TextStats {
            docs: self.snap_docs,
            total_len: self.snap_len,
            df: self
                .terms
                .iter()
                .zip(&self.snap_df)
                .filter(|(_, df)| **df > 0)
                .map(|(t, &df)| (t.to_string(), df))
                .collect(),
        }
    }

    /// The live counts, as a snapshot would take them.
    pub fn live(&self) -> (u32, u64) {
        (self.live_docs, self.live_len)
    }

    pub fn snapshot_docs(&self) -> u32 {
        self.snap_docs
    }

    fn recompute_idf(&mut self) {
        self.avg_len = if self.snap_docs > 0 {
            (self.snap_len as f64 / f64::from(self.snap_docs)).max(1.0)
        } else {
            1.0
        };
        let idf: Vec<f32> = self.snap_df.iter().map(|&df| self.idf_of(df)).collect();
        self.idf = idf;
    }

    pub fn term(&self, id: u32) -> &str {
        self.terms
            .get(id as usize)
            .map(|t| &**t)
            .unwrap_or_default()
    }

    pub fn vocabulary(&self) -> usize {
        self.terms.len()
    }
}

/// The cosine of two signatures, by merging their sorted terms.
pub(crate) fn cosine(a: &Sig, b: &Sig) -> f32 {
    let (la, lb) = (usize::from(a.len), usize::from(b.len));
    let (mut i, mut j, mut sum) = (0, 0, 0u64);
    while i < la && j < lb {
        match a.terms[i].cmp(&b.terms[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                sum += u64::from(a.weights[i]) * u64::from(b.weights[j]);
                i += 1;
                j += 1;
            }
        }
    }
    finish_dot(sum)
}

/// `1 / UNIT²`: turns an integer dot product of quantised unit vectors into a cosine.
const DOT_SCALE: f64 = 1.0 / (UNIT * UNIT);

#[inline]
pub(crate) fn finish_dot(sum: u64) -> f32 {
    ((sum as f64) * DOT_SCALE).min(1.0) as f32
}

/// One vector spread over a dense array, so many others can be dotted with it in one pass
/// each: the scorer's hot path when one need meets thousands of offers.
#[derive(Debug, Default)]
pub(crate) struct Dense {
    weights: Vec<u16>,
    set: Vec<u32>,
}

impl Dense {
    pub fn load(&mut self, v: &Sig, vocabulary: usize) {
        self.clear();
        if self.weights.len() < vocabulary {
            self.weights.resize(vocabulary, 0);
        }
        for (t, w) in v.iter() {
            if let Some(slot) = self.weights.get_mut(t as usize) {
                *slot = w;
                self.set.push(t);
            }
        }
    }

    pub fn clear(&mut self) {
        for &t in &self.set {
            if let Some(slot) = self.weights.get_mut(t as usize) {
                *slot = 0;
            }
        }
        self.set.clear();
    }

    #[inline]
    pub fn dot(&self, v: &Sig) -> f32 {
        let mut sum = 0u64;
        for (&t, &w) in v.terms.iter().zip(v.weights.iter()) {
            // Unused places have weight 0, so the whole fixed-size array can be read.
            sum += u64::from(w) * u64::from(self.weights.get(t as usize).copied().unwrap_or(0));
        }
        finish_dot(sum)
    }
}

/// The terms two vectors share, with their contribution to the cosine, largest first.
pub(crate) fn shared_terms(a: &Sig, b: &Sig) -> Vec<(u32, f32)> {
    let weight: HashMap<u32, u16> = b.iter().collect();
    let mut out: Vec<(u32, f32)> = a
        .iter()
        .filter_map(|(t, wa)| {
            weight
                .get(&t)
                .map(|&wb| (t, finish_dot(u64::from(wa) * u64::from(wb))))
        })
        .collect();
    out.sort_by(|x, y| y.1.total_cmp(&x.1).then(x.0.cmp(&y.0)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plurals_fold_to_their_singular() {
        assert_eq!(stem("policies"), "policy");
        assert_eq!(stem("teams"), "team");
        assert_eq!(stem("responses"), "response");
        assert_eq!(stem("access"), "access");
        assert_eq!(stem("status"), "status");
    }

    #[test]
    fn tokens_drop_stopwords_short_words_and_numbers() {
        let got: Vec<String> =
            tokens("The CSIRTs of 2026: a plan for incident-response teams").collect();
        assert_eq!(got, ["csirt", "plan", "incident", "response", "team"]);
    }

    #[test]
    fn identical_texts_have_cosine_one_and_disjoint_texts_zero() {
        let mut m = TextModel::new(TextConfig::default());
        let a = m.doc(
            "Digital forensics",
            "Training for forensic laboratory staff",
        );
        let b = m.doc(
            "Digital forensics",
            "Training for forensic laboratory staff",
        );
        let c = m.doc("Awareness campaign", "Schools and parents online safety");
        for d in [&a, &b, &c] {
            m.add(d);
        }
        m.take_snapshot();
        let (va, vb, vc) = (m.signature(&a), m.signature(&b), m.signature(&c));
        assert!((cosine(&va, &vb) - 1.0).abs() < 1e-3);
        assert_eq!(cosine(&va, &vc), 0.0);
        let mut dense = Dense::default();
        dense.load(&va, m.vocabulary());
        assert_eq!(dense.dot(&vb), cosine(&va, &vb));
        assert_eq!(dense.dot(&vc), 0.0);
    }

    #[test]
    fn a_rare_shared_term_counts_more_than_a_common_one() {
        let mut m = TextModel::new(TextConfig::default());
        let q = m.doc("Cyber strategy", "cyber strategy drafting");
        let common = m.doc("Cyber training", "cyber training course");
        let rare = m.doc("Strategy review", "strategy review mission");
        let filler: Vec<Doc> = (0..8)
            .map(|i| m.doc("Cyber programme", &format!("cyber programme number{i}")))
            .collect();
        for d in [&q, &common, &rare].into_iter().chain(&filler) {
            m.add(d);
        }
        m.take_snapshot();
        let vq = m.signature(&q);
        assert!(cosine(&vq, &m.signature(&rare)) > cosine(&vq, &m.signature(&common)));
    }
}

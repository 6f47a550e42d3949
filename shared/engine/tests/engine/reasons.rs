//! Reasons match components: a reason appears exactly when its component is non-zero.

use capmatch_engine::{Component, Engine, MatcherConfig};
use capmatch_eval::synth::{Generator, Profile};
use proptest::prelude::*;

use crate::helpers::{drafting_offer, pair, senegal_need};

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn a_reason_appears_iff_its_component_is_non_zero(seed in any::<u64>()) {
        let mut g = Generator::new(seed, Profile::Dense);
        let mut e = Engine::new(MatcherConfig::default()).unwrap();
        let needs: Vec<_> = (0..6).map(|_| g.need()).collect();
        let offers: Vec<_> = (0..6).map(|_| g.offer()).collect();
        for n in &needs {
            e.upsert_need(n.clone());
        }
        for o in &offers {
            e.upsert_offer(o.clone());
        }
        for n in &needs {
            for o in &offers {
                let why = e.explain(n.id, o.id).unwrap();
                for c in Component::ALL {
                    let has = why.reasons.iter().any(|r| r.component == c);
                    prop_assert_eq!(has, why.components.value(c) > 0.0, "{:?} in {:#?}", c, why);
                }
            }
            for s in e.suggestions_for_need(n.id, 20).unwrap() {
                for c in Component::ALL {
                    let has = s.reasons.iter().any(|r| r.component == c);
                    prop_assert_eq!(has, s.components.value(c) > 0.0);
                }
            }
        }
    }
}

#[test]
fn reasons_speak_in_labels_and_names() {
    let (need, offer) = (senegal_need(), drafting_offer());
    let e = pair(&need, &offer);
    let s = &e.suggestions_for_need(need.id, 1).unwrap()[0];
    let texts: Vec<&str> = s.reasons.iter().map(|r| r.text.as_str()).collect();
    assert!(
        texts.contains(&"both work on cybercrime legislation"),
        "{texts:?}"
    );
    assert!(texts.contains(&"shared language: French"), "{texts:?}");
    assert!(
        texts.contains(&"the offer covers Western Africa"),
        "{texts:?}"
    );
    assert!(texts.contains(&"the offer provides the policy advice the need asks for"));
    assert!(texts.contains(&"both focus on women"), "{texts:?}");
    assert!(
        texts.contains(&"the offer has room for 2 more partnerships"),
        "{texts:?}"
    );
    assert!(
        texts.iter().any(|t| t.starts_with("the descriptions share key terms:")
            && t.contains("cybercrime")),
        "{texts:?}"
    );
}

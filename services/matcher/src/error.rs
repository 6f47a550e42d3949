//! The matcher's own errors as problems, each in one exhaustive match. Domain and store errors
//! go through the kit's `domain_error` and `store_error`.
//!
//! | error | status | code |
//! |---|---|---|
//! | `EngineError::UnknownNeed`, `UnknownOffer` | 404 | `not_found` |
//! | `EngineError::Config` | 500 | `internal` (opaque) |
//! | a pair that breaks a hard rule, on shortlist or introduce | 409 | `invalid_transition`, naming the rules |
//! | the index still loading | 503 | `unavailable` |

use capmatch_http::ApiError;

use capmatch_engine::EngineError;
use capmatch_engine::explain::RuleFailure;

/// The problem for an engine error.
pub fn engine_error(err: EngineError) -> ApiError {
    match err {
        EngineError::UnknownNeed(_) | EngineError::UnknownOffer(_) => ApiError::not_found(),
        err @ EngineError::Config(_) => ApiError::internal(err),
    }
}

/// 409 `invalid_transition`: the pair breaks hard rules, each named with its code and reason.
pub fn breaks_hard_rules(action: &str, failures: &[RuleFailure]) -> ApiError {
    let rules: Vec<String> = failures
        .iter()
        .map(|f| format!("{} ({})", f.rule.as_str(), f.message))
        .collect();
    ApiError::invalid_transition(format!(
        "Cannot {action}: the pair breaks the hard rule{} {}.",
        if rules.len() == 1 { "" } else { "s" },
        rules.join("; ")
    ))
}

#[cfg(test)]
mod tests {
    use capmatch_http::ProblemCode;

    use super::*;
    use capmatch_engine::score::HardRule;

    #[test]
    fn a_refusal_names_every_broken_rule() {
        let err = breaks_hard_rules(
            "shortlist",
            &[RuleFailure {
                rule: HardRule::CountryNotCovered,
                message: "the offer does not cover Gambia".into(),
            }],
        );
        assert_eq!(err.code(), ProblemCode::InvalidTransition);
        let detail = err.to_problem().detail.unwrap_or_default();
        assert!(detail.contains("country_not_covered"), "{detail}");
        assert!(detail.contains("Gambia"), "{detail}");
    }

    #[test]
    fn unknown_entities_are_not_found() {
        let err = engine_error(EngineError::UnknownNeed(Default::default()));
        assert_eq!(err.code(), ProblemCode::NotFound);
    }
}

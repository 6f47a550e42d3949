//! The public API document: every service's document merged by the gateway.

/// What `/openapi.json` serves and `capmatch openapi` prints.
pub fn document() -> utoipa::openapi::OpenApi {
    capmatch_gateway::openapi::merged([
        capmatch_needs::openapi(),
        capmatch_offers::openapi(),
        capmatch_matcher::openapi(),
    ])
}

/// The document as committed in `openapi/openapi.json`: pretty JSON with a final newline.
pub fn document_json() -> Result<String, serde_json::Error> {
    serde_json::to_string_pretty(&document()).map(|mut s| {
        s.push('\n');
        s
    })
}

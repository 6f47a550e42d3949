//! `capmatch demo`: posts the demonstration data set through the API, as the states and
//! providers it names, so suggestions appear at once.
//!
//! The data set is the matcher's labelled evaluation set (`services/matcher/data/eval.json`):
//! realistic needs and offers written for this project, across every theme, region and several
//! languages. Each entry's key is its `Idempotency-Key`, so running the demo twice posts nothing
//! new.

use std::time::Duration;

use capmatch_auth::{DevSecret, TokenSigner};
use capmatch_domain::actor::{Actor, Role};
use capmatch_matcher::eval::{EvalNeed, EvalOffer, EvalSet};
use chrono::NaiveDate;
use serde_json::{Value, json};

use crate::config::Config;

/// Every fifth need is restricted (only its state and coordinators see it), every other one
/// public, the rest registered: the demo shows the visibility rules too.
fn visibility(i: usize) -> &'static str {
    match i % 5 {
        4 => "restricted",
        i if i % 2 == 0 => "public",
        _ => "registered",
    }
}

/// A window that has already ended cannot be posted; the demo drops it.
fn window(start: Option<NaiveDate>, end: Option<NaiveDate>, today: NaiveDate) -> Value {
    match end {
        Some(end) if end < today => json!({}),
        _ => json!({ "start": start, "end": end }),
    }
}

fn need_draft(i: usize, n: &EvalNeed, today: NaiveDate) -> Value {
    let mut draft = json!({
        "title": n.title,
        "description": n.description,
        "themes": n.themes,
        "topics": n.topics,
        "support_types": n.support_types,
        "languages": n.languages,
        "languages_required": n.languages_required,
        "beneficiary_type": n.beneficiary_type,
        "delivery_modes": n.delivery_modes,
        "target_groups": n.target_groups,
        "partners_wanted": n.partners_wanted,
        "visibility": visibility(i),
    });
    merge(&mut draft, window(n.start, n.end, today));
    draft
}

fn offer_draft(o: &EvalOffer, today: NaiveDate) -> Value {
    let mut draft = json!({
        "title": o.title,
        "description": o.description,
        "themes": o.themes,
        "topics": o.topics,
        "support_types": o.support_types,
        "languages": o.languages,
        "coverage": o.coverage,
        "beneficiary_types": o.beneficiary_types,
        "capacity": o.capacity,
        "delivery_modes": o.delivery_modes,
        "target_groups": o.target_groups,
        "funding": o.funding,
        "conditions_attached": false,
    });
    merge(&mut draft, window(o.start, o.end, today));
    draft
}

fn merge(into: &mut Value, from: Value) {
    if let (Some(a), Value::Object(b)) = (into.as_object_mut(), from) {
        a.extend(b.into_iter().filter(|(_, v)| !v.is_null()));
    }
}

/// Posts the data set through the gateway at `url`; prints what it did.
pub async fn run(config: &Config, url: &str) -> Result<(), String> {
    if config.auth.is_some() {
        return Err(
            "the demo signs development tokens; it runs against a capmatch in \
                    development mode (no [auth] configured)"
                .into(),
        );
    }
    let secret = DevSecret::load(&config.dev_secret_path()).map_err(|e| {
        format!(
            "development secret in {}: {e} (start `capmatch serve` with the same --data-dir first)",
            config.data_dir.display()
        )
    })?;
    let signer = TokenSigner::from_dev_secret(
        &secret,
        &config.development.issuer,
        &config.development.audience,
    );
    let set = EvalSet::bundled().map_err(|e| format!("demo data: {e}"))?;
    let client = awc::Client::builder()
        .timeout(Duration::from_secs(30))
        .finish();
    let base = url.trim_end_matches('/');
    let today = chrono::Utc::now().date_naive();
    let mint = |role: Role, subject: String| {
        signer
            .mint(&Actor::new(subject, role), Duration::from_secs(600))
            .map_err(|e| format!("cannot sign a demo token: {e}"))
    };

    let mut posted = [0usize; 2];
    for o in &set.offers {
        let org = format!("demo-{}", o.key)
            .parse()
            .map_err(|e| format!("{}: {e}", o.key))?;
        let token = mint(
            Role::Provider {
                org,
                org_type: o.provider_type,
            },
            format!("staff@demo-{}", o.key),
        )?;
        post(
            &client,
            base,
            "/v1/offers",
            &token,
            &o.key,
            &offer_draft(o, today),
        )
        .await?;
        posted[1] += 1;
    }
    for (i, n) in set.needs.iter().enumerate() {
        let token = mint(
            Role::State { country: n.country },
            format!("focal-point-{}", n.country.as_str().to_lowercase()),
        )?;
        post(
            &client,
            base,
            "/v1/needs",
            &token,
            &n.key,
            &need_draft(i, n, today),
        )
        .await?;
        posted[0] += 1;
    }
    println!(
        "posted {} needs and {} offers through {base}; suggestions follow within moments.",
        posted[0], posted[1]
    );
    println!(
        "try:  curl -s {base}/v1/needs?limit=5   |   capmatch token --role coordinator --data-dir {}",
        config.data_dir.display()
    );
    Ok(())
}

async fn post(
    client: &awc::Client,
    base: &str,
    path: &str,
    token: &str,
    key: &str,
    body: &Value,
) -> Result<(), String> {
    let mut res = client
        .post(format!("{base}{path}"))
        .insert_header(("authorization", format!("Bearer {token}")))
        .insert_header(("idempotency-key", format!("demo-{key}")))
        .send_json(body)
        .await
        .map_err(|e| format!("{path} ({key}): {e}"))?;
    if res.status().is_success() {
        return Ok(());
    }
    let text = res
        .body()
        .await
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default();
    Err(format!("{path} ({key}): {} {text}", res.status()))
}

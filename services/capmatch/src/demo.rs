//! `capmatch demo`: posts the demonstration data set through the API, as the states and
//! providers it names, so suggestions appear at once.
//!
//! The data set is the matcher's labelled evaluation set (`shared/eval/data/eval.json`):
//! realistic needs and offers written for this project, across every theme, region and several
//! languages. Each entry's key is its `Idempotency-Key`, so running the demo twice posts nothing
//! new.

use std::time::Duration;

use capmatch_auth::{DevSecret, TokenSigner};
use capmatch_domain::actor::{Actor, Role};
use capmatch_eval::{EvalNeed, EvalOffer, EvalSet};
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

fn need_draft(n: &EvalNeed, visibility: &str, today: NaiveDate) -> Value {
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
        "visibility": visibility,
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
    let poster = Poster::new(config, url, "demo")?;
    let set = EvalSet::bundled().map_err(|e| format!("demo data: {e}"))?;
    for o in &set.offers {
        poster.offer(o).await?;
    }
    for (i, n) in set.needs.iter().enumerate() {
        poster.need(n, visibility(i)).await?;
    }
    let base = &poster.base;
    println!(
        "posted {} needs and {} offers through {base}; suggestions follow within moments.",
        set.needs.len(),
        set.offers.len()
    );
    println!(
        "try:  curl -s {base}/v1/needs?limit=5   |   capmatch token --role coordinator --data-dir {}",
        config.data_dir.display()
    );
    Ok(())
}

/// Posts needs and offers of an evaluation set through a gateway, each as its own state or
/// provider, with development tokens of the data directory's secret. Each entry's key makes its
/// `Idempotency-Key` (and the provider's organisation id), so posting twice posts nothing new.
pub struct Poster {
    signer: TokenSigner,
    client: awc::Client,
    pub base: String,
    /// Tells this poster's keys and organisations apart from another's.
    prefix: &'static str,
    today: NaiveDate,
}

impl std::fmt::Debug for Poster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Poster")
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

impl Poster {
    pub fn new(config: &Config, url: &str, prefix: &'static str) -> Result<Self, String> {
        if config.auth.is_some() {
            return Err(
                "this command signs development tokens; it runs against a capmatch in \
                        development mode (no [auth] configured)"
                    .into(),
            );
        }
        let secret = DevSecret::load(&config.dev_secret_path()).map_err(|e| {
            format!(
                "development secret in {}: {e} (start `capmatch serve` with the same \
                 --data-dir first)",
                config.data_dir.display()
            )
        })?;
        Ok(Poster {
            signer: TokenSigner::from_dev_secret(
                &secret,
                &config.development.issuer,
                &config.development.audience,
            ),
            client: awc::Client::builder()
                .timeout(Duration::from_secs(30))
                .finish(),
            base: url.trim_end_matches('/').to_owned(),
            prefix,
            today: chrono::Utc::now().date_naive(),
        })
    }

    /// A token for `subject` in `role`, valid for an hour.
    pub fn token(&self, role: Role, subject: String) -> Result<String, String> {
        self.signer
            .mint(&Actor::new(subject, role), Duration::from_secs(3600))
            .map_err(|e| format!("cannot sign a token: {e}"))
    }

    pub fn client(&self) -> &awc::Client {
        &self.client
    }

    /// Posts the offer as its own provider; returns its id.
    pub async fn offer(&self, o: &EvalOffer) -> Result<String, String> {
        let org = format!("{}-{}", self.prefix, o.key)
            .parse()
            .map_err(|e| format!("{}: {e}", o.key))?;
        let token = self.token(
            Role::Provider {
                org,
                org_type: o.provider_type,
            },
            format!("staff@{}-{}", self.prefix, o.key),
        )?;
        self.post("/v1/offers", &token, &o.key, &offer_draft(o, self.today))
            .await
    }

    /// Posts the need as its own state, with `visibility`; returns its id.
    pub async fn need(&self, n: &EvalNeed, visibility: &str) -> Result<String, String> {
        let token = self.token(
            Role::State { country: n.country },
            format!("focal-point-{}", n.country.as_str().to_lowercase()),
        )?;
        self.post(
            "/v1/needs",
            &token,
            &n.key,
            &need_draft(n, visibility, self.today),
        )
        .await
    }

    async fn post(
        &self,
        path: &str,
        token: &str,
        key: &str,
        body: &Value,
    ) -> Result<String, String> {
        let mut res = self
            .client
            .post(format!("{}{path}", self.base))
            .insert_header(("authorization", format!("Bearer {token}")))
            .insert_header(("idempotency-key", format!("{}-{key}", self.prefix)))
            .send_json(body)
            .await
            .map_err(|e| format!("{path} ({key}): {e}"))?;
        let status = res.status();
        let body = res.body().limit(1 << 20).await.unwrap_or_default();
        let text = String::from_utf8_lossy(&body);
        if !status.is_success() {
            return Err(format!("{path} ({key}): {status} {text}"));
        }
        serde_json::from_slice::<Value>(&body)
            .ok()
            .and_then(|v| v["id"].as_str().map(str::to_owned))
            .ok_or_else(|| format!("{path} ({key}): no id in {text}"))
    }
}

//! Helpers of the load benchmark (`bench/load.sh`), talking to a running gateway.
//!
//! - `latency-probe free-port`: prints a loopback port that was free a moment ago.
//! - `latency-probe seed N BODY_OUT`: posts N offers (as `PROVIDER_TOKEN`) and N needs (as
//!   `STATE_TOKEN`, country SN) that fit them, waits until the first need has suggestions, writes
//!   that need as the gateway serves it to `BODY_OUT` and prints `need_id=...`.
//! - `latency-probe latency N`: N times, posts a need and polls `GET /v1/needs/{id}/matches`
//!   (every millisecond) until it lists at least one suggestion; prints the time from the 201 to
//!   that answer as `p50_ms=`, `p90_ms=`, `p99_ms=`, `max_ms=`, `mean_ms=` and `polls=`.
//!
//! `GATEWAY` is the gateway's base URL (`http://127.0.0.1:PORT`). Output is `key=value` lines.

use std::net::TcpListener;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// The longest the probe waits for one need's suggestions before it gives up.
const PATIENCE: Duration = Duration::from_secs(30);

fn need_body(i: usize) -> Value {
    json!({
        "title": format!("Establishing a national CSIRT ({i})"),
        "description": "Senegal asks for help to establish its national computer security incident \
                        response team: governance, staffing plan, playbooks and first exercises.",
        "themes": ["incident_management_cip"],
        "topics": ["incident_management_cip.csirt_establishment"],
        "support_types": ["technical_assistance", "training"],
        "languages": ["fr"],
        "visibility": "public"
    })
}

fn offer_body(i: usize) -> Value {
    json!({
        "title": format!("CSIRT set-up and mentoring for West Africa ({i})"),
        "description": "A francophone team of incident responders helps new national CSIRTs in \
                        West Africa: governance, staffing, playbooks, exercises and mentoring.",
        "themes": ["incident_management_cip"],
        "topics": ["incident_management_cip.csirt_establishment"],
        "support_types": ["technical_assistance", "training", "mentoring_exchange"],
        "languages": ["fr", "en"],
        "coverage": ["011"],
        "capacity": 3,
        "funding": "self_funded",
        "conditions_attached": false
    })
}

struct Gateway {
    base: String,
    client: awc::Client,
}

impl Gateway {
    fn from_env() -> Result<Gateway, String> {
        let base = std::env::var("GATEWAY").map_err(|_| "GATEWAY is not set".to_owned())?;
        Ok(Gateway {
            base,
            client: awc::Client::builder()
                .timeout(Duration::from_secs(10))
                .finish(),
        })
    }

    async fn send(
        &self,
        path: &str,
        token: &str,
        body: Option<&Value>,
    ) -> Result<(u16, Vec<u8>), String> {
        let url = format!("{}{path}", self.base);
        let req = match body {
            Some(_) => self.client.post(&url),
            None => self.client.get(&url),
        }
        .insert_header(("authorization", format!("Bearer {token}")));
        let mut res = match body {
            Some(b) => req.send_json(b).await,
            None => req.send().await,
        }
        .map_err(|e| format!("{path}: {e}"))?;
        let bytes = res
            .body()
            .limit(16 * 1024 * 1024)
            .await
            .map_err(|e| format!("{path}: {e}"))?;
        Ok((res.status().as_u16(), bytes.to_vec()))
    }

    /// Posts and returns the new resource's id.
    async fn create(&self, path: &str, token: &str, body: &Value) -> Result<String, String> {
        let (status, bytes) = self.send(path, token, Some(body)).await?;
        let text = String::from_utf8_lossy(&bytes);
        if status != 201 {
            return Err(format!("POST {path}: {status} {text}"));
        }
        let value: Value = serde_json::from_slice(&bytes).map_err(|e| format!("{e}: {text}"))?;
        value["id"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| format!("POST {path}: no id in {text}"))
    }

    /// Whether the need's suggestions list at least one item.
    async fn has_suggestions(&self, need: &str, token: &str) -> Result<bool, String> {
        let (status, bytes) = self
            .send(&format!("/v1/needs/{need}/matches"), token, None)
            .await?;
        if status != 200 {
            // 404 (not yet known to the matcher) and 503 (index not built) mean "not yet".
            return Ok(false);
        }
        let value: Value = serde_json::from_slice(&bytes).map_err(|e| e.to_string())?;
        Ok(value["items"].as_array().is_some_and(|i| !i.is_empty()))
    }

    /// Polls until the need has suggestions; returns the number of polls.
    async fn await_suggestions(&self, need: &str, token: &str) -> Result<u32, String> {
        let deadline = Instant::now() + PATIENCE;
        let mut polls = 0;
        loop {
            polls += 1;
            if self.has_suggestions(need, token).await? {
                return Ok(polls);
            }
            if Instant::now() > deadline {
                return Err(format!("need {need}: no suggestions within {PATIENCE:?}"));
            }
            actix_web::rt::time::sleep(Duration::from_millis(1)).await;
        }
    }
}

fn env(name: &str) -> Result<String, String> {
    std::env::var(name).map_err(|_| format!("{name} is not set"))
}

fn count(arg: Option<&String>) -> Result<usize, String> {
    arg.ok_or("a count is required")?
        .parse()
        .map_err(|e| format!("count: {e}"))
}

async fn seed(n: usize, body_out: &str) -> Result<(), String> {
    let gateway = Gateway::from_env()?;
    let state = env("STATE_TOKEN")?;
    let provider = env("PROVIDER_TOKEN")?;
    for i in 0..n {
        gateway
            .create("/v1/offers", &provider, &offer_body(i))
            .await?;
    }
    let mut needs = Vec::with_capacity(n);
    for i in 0..n {
        needs.push(gateway.create("/v1/needs", &state, &need_body(i)).await?);
    }
    let first = needs.first().ok_or("seed at least one need")?;
    gateway.await_suggestions(first, &state).await?;
    let (status, bytes) = gateway
        .send(&format!("/v1/needs/{first}"), &state, None)
        .await?;
    if status != 200 {
        return Err(format!("GET need: {status}"));
    }
    std::fs::write(body_out, &bytes).map_err(|e| format!("{body_out}: {e}"))?;
    println!("need_id={first}");
    println!("need_bytes={}", bytes.len());
    Ok(())
}

/// The nearest-rank percentile of sorted samples.
fn percentile(sorted: &[f64], p: f64) -> f64 {
    let rank = (p * sorted.len() as f64).ceil().max(1.0) as usize;
    sorted[rank.min(sorted.len()) - 1]
}

async fn latency(n: usize) -> Result<(), String> {
    let gateway = Gateway::from_env()?;
    let state = env("STATE_TOKEN")?;
    let mut samples = Vec::with_capacity(n);
    let mut polls = 0u32;
    for i in 0..n {
        let need = gateway
            .create("/v1/needs", &state, &need_body(10_000 + i))
            .await?;
        let created = Instant::now();
        polls += gateway.await_suggestions(&need, &state).await?;
        samples.push(created.elapsed().as_secs_f64() * 1000.0);
    }
    if samples.is_empty() {
        return Err("probe at least one need".to_owned());
    }
    let mean = samples.iter().sum::<f64>() / samples.len() as f64;
    samples.sort_by(f64::total_cmp);
    println!("samples={}", samples.len());
    println!("p50_ms={:.2}", percentile(&samples, 0.50));
    println!("p90_ms={:.2}", percentile(&samples, 0.90));
    println!("p99_ms={:.2}", percentile(&samples, 0.99));
    println!("max_ms={:.2}", percentile(&samples, 1.0));
    println!("mean_ms={mean:.2}");
    println!("polls={:.1}", f64::from(polls) / samples.len() as f64);
    Ok(())
}

fn free_port() -> Result<(), String> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    let port = listener.local_addr().map_err(|e| e.to_string())?.port();
    println!("{port}");
    Ok(())
}

#[actix_web::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let outcome = match args.first().map(String::as_str) {
        Some("free-port") => free_port(),
        Some("seed") => match (count(args.get(1)), args.get(2)) {
            (Ok(n), Some(out)) => seed(n, out).await,
            (Err(e), _) => Err(e),
            (_, None) => Err("seed N BODY_OUT".to_owned()),
        },
        Some("latency") => match count(args.get(1)) {
            Ok(n) => latency(n).await,
            Err(e) => Err(e),
        },
        _ => Err("usage: latency-probe free-port | seed N BODY_OUT | latency N".to_owned()),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("latency-probe: {e}");
            ExitCode::FAILURE
        }
    }
}

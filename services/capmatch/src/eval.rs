//! `capmatch eval`: scores the matcher on a file of real cases through the API, exactly as a
//! coordinator reads the suggestions.
//!
//! Every offer and need of the file is posted through the gateway (offers by their own
//! providers, needs by their states, public), and once the matcher knows them all, each need's
//! suggestions are read as a coordinator (`GET /v1/needs/{id}/matches?limit=20`). hit@k is
//! whether one of the need's true offers is among the first k, MRR the mean of 1/rank of the
//! first one (0 when none is listed). Related offers count as misses, as they would to the
//! coordinator (the lenient figure, with them left out of the list, is printed too).
//!
//! Without `--url` it starts its own `capmatch serve` on a fresh data directory and a free
//! port, and stops it afterwards; with `--url` it posts into that deployment (in development
//! mode, with tokens from `--data-dir`), once: entries are keyed, so a second run posts nothing
//! new and reads the same lists.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use capmatch_domain::actor::Role;
use capmatch_eval::{CaseFile, EvalSet};
use serde::Serialize;
use serde_json::Value;

use crate::config::Config;
use crate::demo::Poster;

/// Suggestions read per need, as a coordinator's list shows them.
pub const LIST: usize = 20;
/// How long the matcher may take to know every posted entry.
const CATCH_UP: Duration = Duration::from_secs(120);

/// Where one need's true offers landed.
#[derive(Debug, Serialize)]
pub struct Scored {
    pub need: String,
    /// Rank of the first true offer in the list (1-based), related offers counted as misses.
    pub rank: Option<usize>,
    /// The same with related offers left out of the list.
    pub rank_without_related: Option<usize>,
    /// The first suggestion's case id.
    pub first: Option<String>,
}

/// The figures over every need.
#[derive(Debug, Serialize)]
pub struct Report {
    pub needs: usize,
    pub offers: usize,
    pub hit_at_1: f64,
    pub hit_at_3: f64,
    pub mrr: f64,
    pub without_related: (f64, f64, f64),
    pub per_need: Vec<Scored>,
}

fn figures(ranks: impl Iterator<Item = Option<usize>> + Clone) -> (f64, f64, f64) {
    let n = ranks.clone().count().max(1) as f64;
    let hit = |k: usize| ranks.clone().filter(|r| r.is_some_and(|r| r <= k)).count() as f64 / n;
    let mrr = ranks
        .clone()
        .map(|r| r.map_or(0.0, |r| 1.0 / r as f64))
        .sum::<f64>()
        / n;
    (hit(1), hit(3), mrr)
}

/// `capmatch eval`.
pub async fn run(
    config: &Config,
    cases: &Path,
    url: Option<&str>,
    json: bool,
) -> Result<(), String> {
    let text = std::fs::read_to_string(cases)
        .map_err(|e| format!("cannot read {}: {e}", cases.display()))?;
    let set = CaseFile::from_json(&text)
        .map_err(|e| format!("{}: {e}", cases.display()))?
        .to_eval_set()?;
    let report = match url {
        Some(url) => score(config, url, &set).await?,
        None => {
            let own = OwnServer::start(config)?;
            let outcome = async {
                own.wait_ready().await?;
                score(&own.config, &own.url, &set).await
            }
            .await;
            own.stop();
            outcome?
        }
    };
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?
        );
    } else {
        print_report(&report);
    }
    Ok(())
}

fn print_report(r: &Report) {
    println!(
        "{} needs, {} offers, the first {LIST} suggestions of each need as a coordinator reads them",
        r.needs, r.offers
    );
    println!(
        "hit@1 {:.3}  hit@3 {:.3}  MRR {:.3}   (related offers left out: hit@1 {:.3}  hit@3 {:.3}  MRR {:.3})",
        r.hit_at_1,
        r.hit_at_3,
        r.mrr,
        r.without_related.0,
        r.without_related.1,
        r.without_related.2
    );
    for s in &r.per_need {
        println!(
            "  {:<36} true offer at {:<4} first: {}",
            s.need,
            s.rank.map_or("-".to_owned(), |r| r.to_string()),
            s.first.as_deref().unwrap_or("-")
        );
    }
}

/// Posts the set through `url` and reads every need's suggestions.
async fn score(config: &Config, url: &str, set: &EvalSet) -> Result<Report, String> {
    let poster = Poster::new(config, url, "case")?;
    let mut offers = Vec::with_capacity(set.offers.len());
    for o in &set.offers {
        offers.push((o.key.clone(), poster.offer(o).await?));
    }
    let mut needs = Vec::with_capacity(set.needs.len());
    for n in &set.needs {
        needs.push((n, poster.need(n, "public").await?));
    }
    let coordinator = poster.token(Role::Coordinator, "eval-coordinator".into())?;
    let get = |path: String| {
        let request = poster
            .client()
            .get(format!("{}{path}", poster.base))
            .insert_header(("authorization", format!("Bearer {coordinator}")));
        async move {
            let mut res = request.send().await.map_err(|e| format!("{path}: {e}"))?;
            let body = res
                .body()
                .limit(8 << 20)
                .await
                .map_err(|e| format!("{path}: {e}"))?;
            Ok::<_, String>((res.status().as_u16(), body))
        }
    };
    // The matcher knows an entry once it answers for its suggestions.
    let deadline = Instant::now() + CATCH_UP;
    let paths = offers
        .iter()
        .map(|(_, id)| format!("/v1/offers/{id}/matches?limit=1"))
        .chain(
            needs
                .iter()
                .map(|(_, id)| format!("/v1/needs/{id}/matches?limit=1")),
        );
    for path in paths {
        loop {
            match get(path.clone()).await? {
                (200, _) => break,
                (404 | 429 | 503, _) if Instant::now() < deadline => {
                    actix_web::rt::time::sleep(Duration::from_millis(100)).await;
                }
                (status, body) => {
                    return Err(format!(
                        "{path}: {status} {}",
                        String::from_utf8_lossy(&body)
                    ));
                }
            }
        }
    }
    let case_of = |id: &str| offers.iter().find(|(_, o)| o == id).map(|(k, _)| k.clone());
    let mut per_need = Vec::with_capacity(needs.len());
    for (need, id) in &needs {
        let (status, body) = get(format!("/v1/needs/{id}/matches?limit={LIST}")).await?;
        if status != 200 {
            return Err(format!("suggestions of {}: {status}", need.key));
        }
        let list: Value = serde_json::from_slice(&body).map_err(|e| e.to_string())?;
        let listed: Vec<String> = list["items"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|i| i["offer_id"].as_str().and_then(case_of))
            .collect();
        let rank_in = |list: &[&String]| {
            list.iter()
                .position(|k| need.relevant.contains(k))
                .map(|i| i + 1)
        };
        let all: Vec<&String> = listed.iter().collect();
        let without: Vec<&String> = listed
            .iter()
            .filter(|k| !need.related.contains(k))
            .collect();
        per_need.push(Scored {
            need: need.key.clone(),
            rank: rank_in(&all),
            rank_without_related: rank_in(&without),
            first: listed.first().cloned(),
        });
    }
    let (hit_at_1, hit_at_3, mrr) = figures(per_need.iter().map(|s| s.rank));
    let without_related = figures(per_need.iter().map(|s| s.rank_without_related));
    Ok(Report {
        needs: set.needs.len(),
        offers: set.offers.len(),
        hit_at_1,
        hit_at_3,
        mrr,
        without_related,
        per_need,
    })
}

/// A `capmatch serve` of this binary on a fresh data directory and a free loopback port.
struct OwnServer {
    child: Child,
    url: String,
    config: Config,
    dir: std::path::PathBuf,
}

impl OwnServer {
    fn start(config: &Config) -> Result<Self, String> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| format!("no free port: {e}"))?
            .port();
        let dir = std::env::temp_dir().join(format!("capmatch-eval-{}-{port}", std::process::id()));
        let exe = std::env::current_exe().map_err(|e| e.to_string())?;
        let child = Command::new(exe)
            .args(["serve", "--data-dir"])
            .arg(&dir)
            .env_remove("CAPMATCH_CONFIG")
            .env("CAPMATCH_GATEWAY__BIND", format!("127.0.0.1:{port}"))
            .env("CAPMATCH_GATEWAY__RATE_LIMIT__ENABLED", "false")
            .env("CAPMATCH_LOG__FILTER", "error")
            .stdout(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start capmatch serve: {e}"))?;
        let mut own = config.clone();
        own.data_dir = dir.clone();
        own.development.secret_file = None;
        Ok(OwnServer {
            child,
            url: format!("http://127.0.0.1:{port}"),
            config: own,
            dir,
        })
    }

    async fn wait_ready(&self) -> Result<(), String> {
        let client = awc::Client::default();
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            let ready = client.get(format!("{}/readyz", self.url)).send().await;
            if ready.is_ok_and(|r| r.status() == 200) {
                return Ok(());
            }
            actix_web::rt::time::sleep(Duration::from_millis(100)).await;
        }
        Err("capmatch serve did not become ready within 60 s".into())
    }

    /// SIGTERM (it drains and flushes), then waits for it to exit.
    fn stop(mut self) {
        let pid = rustix::process::Pid::from_child(&self.child);
        let _ = rustix::process::kill_process(pid, rustix::process::Signal::TERM);
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

//! Starting, stopping and killing real `capmatch` processes, and talking to them.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use capmatch_auth::{DevSecret, TokenSigner};
use capmatch_domain::actor::{Actor, Role};
use serde_json::Value;

/// The binary under test: `CAPMATCH_BIN`, else the one cargo built beside this test.
pub fn capmatch_bin() -> PathBuf {
    if let Some(path) = std::env::var_os("CAPMATCH_BIN") {
        return path.into();
    }
    let exe = std::env::current_exe().unwrap();
    let target = exe.parent().and_then(Path::parent).unwrap();
    let bin = target.join("capmatch");
    assert!(
        bin.exists(),
        "{} is missing: run `cargo test --workspace` (or `cargo build -p capmatch` first)",
        bin.display()
    );
    bin
}

/// A temporary data directory only its owner may enter: capmatch refuses one that others can
/// read (it holds the stores and the development secret).
pub fn private_tempdir() -> tempfile::TempDir {
    use std::os::unix::fs::PermissionsExt;
    tempfile::Builder::new()
        .permissions(std::fs::Permissions::from_mode(0o700))
        .tempdir()
        .unwrap()
}

/// A port that was free a moment ago.
pub fn free_port() -> u16 {
    free_ports::<1>()[0]
}

/// Distinct ports that were free a moment ago (all held until all are chosen, so none repeats).
pub fn free_ports<const N: usize>() -> [u16; N] {
    let listeners: Vec<TcpListener> = (0..N)
        .map(|_| TcpListener::bind("127.0.0.1:0").unwrap())
        .collect();
    let mut ports = [0u16; N];
    for (p, l) in ports.iter_mut().zip(&listeners) {
        *p = l.local_addr().unwrap().port();
    }
    ports
}

/// The resident memory of a process, in KiB (`VmRSS`).
pub fn resident_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

/// Runs `capmatch` with `args` and `envs`, expecting it to exit by itself within `limit` (a
/// command that should refuse to start); returns its status and output, or fails the test if
/// it is still running then.
pub fn run_expecting_exit(
    args: &[&str],
    envs: &[(&str, &str)],
    limit: Duration,
) -> (ExitStatus, String) {
    let out = tempfile::NamedTempFile::new().unwrap();
    let mut child = Command::new(capmatch_bin())
        .args(args)
        .env_remove("CAPMATCH_CONFIG")
        .env_remove("CAPMATCH_BIN")
        .envs(envs.iter().copied())
        .stdout(Stdio::from(out.reopen().unwrap()))
        .stderr(Stdio::from(out.reopen().unwrap()))
        .spawn()
        .unwrap();
    let deadline = Instant::now() + limit;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "capmatch {args:?} was still running after {limit:?}: {}",
                std::fs::read_to_string(out.path()).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    (status, std::fs::read_to_string(out.path()).unwrap())
}

/// Runs a `capmatch` subcommand to completion; returns its status and output.
pub fn run(args: &[&str], data_dir: &Path) -> (ExitStatus, String) {
    let out = Command::new(capmatch_bin())
        .args(args)
        .env("CAPMATCH_DATA_DIR", data_dir)
        .env_remove("CAPMATCH_CONFIG")
        .env_remove("CAPMATCH_BIN")
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status, text)
}

/// One or more running `capmatch` processes and the gateway in front of them.
pub struct Deployment {
    pub data_dir: PathBuf,
    pub gateway: String,
    processes: Vec<Process>,
    envs: Vec<(String, String)>,
}

struct Process {
    name: &'static str,
    args: Vec<&'static str>,
    child: Option<Child>,
}

impl Deployment {
    /// `capmatch serve`: all four services in one process.
    pub fn all_in_one(data_dir: &Path) -> Deployment {
        let port = free_port();
        let envs = vec![(
            "CAPMATCH_GATEWAY__BIND".to_owned(),
            format!("127.0.0.1:{port}"),
        )];
        let mut d = Deployment {
            data_dir: data_dir.to_owned(),
            gateway: format!("http://127.0.0.1:{port}"),
            processes: vec![Process {
                name: "serve",
                args: vec!["serve"],
                child: None,
            }],
            envs,
        };
        d.start("serve");
        d
    }

    /// `capmatch needs|offers|matcher|gateway`: four processes sharing one data directory (each
    /// service keeps its own store in it) and one development secret.
    pub fn four_processes(data_dir: &Path) -> Deployment {
        // The secret exists before any process starts, so they all read the same one.
        let (status, out) = run(&["token", "--role", "admin"], data_dir);
        assert!(status.success(), "{out}");
        let mut envs = Vec::new();
        let mut gateway = String::new();
        let ports = free_ports::<4>();
        for (name, port) in ["needs", "offers", "matcher", "gateway"]
            .into_iter()
            .zip(ports)
        {
            let upper = name.to_uppercase();
            envs.push((
                format!("CAPMATCH_{upper}__BIND"),
                format!("127.0.0.1:{port}"),
            ));
            if name == "gateway" {
                gateway = format!("http://127.0.0.1:{port}");
            } else {
                // Where the peers (and the gateway) reach this service.
                envs.push((
                    format!("CAPMATCH_{upper}__URL"),
                    format!("http://127.0.0.1:{port}"),
                ));
            }
        }
        let mut d = Deployment {
            data_dir: data_dir.to_owned(),
            gateway,
            processes: ["needs", "offers", "matcher", "gateway"]
                .into_iter()
                .map(|name| Process {
                    name,
                    args: vec![name],
                    child: None,
                })
                .collect(),
            envs,
        };
        for name in ["needs", "offers", "matcher", "gateway"] {
            d.start(name);
        }
        d
    }

    /// Starts (or restarts) the named process.
    pub fn start(&mut self, name: &str) {
        let data_dir = self.data_dir.clone();
        let envs = self.envs.clone();
        let log = data_dir.join(format!("{name}.log"));
        let p = self.process(name);
        let log_file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .unwrap();
        let child = Command::new(capmatch_bin())
            .args(&p.args)
            .arg("--data-dir")
            .arg(&data_dir)
            .env_remove("CAPMATCH_CONFIG")
            .env_remove("CAPMATCH_BIN")
            .envs(envs)
            .stdout(Stdio::from(log_file.try_clone().unwrap()))
            .stderr(Stdio::from(log_file))
            .spawn()
            .unwrap();
        p.child = Some(child);
    }

    /// SIGKILL: the process gets no chance to clean up.
    pub fn kill(&mut self, name: &str) {
        if let Some(mut child) = self.process(name).child.take() {
            child.kill().unwrap();
            child.wait().unwrap();
        }
    }

    /// SIGTERM, then waits for the exit (graceful: drains requests, flushes stores).
    pub fn terminate(&mut self, name: &str) -> ExitStatus {
        let mut child = self.process(name).child.take().unwrap();
        let status = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "{name} did not exit after SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn terminate_all(&mut self) {
        let names: Vec<&'static str> = self.processes.iter().rev().map(|p| p.name).collect();
        for name in names {
            if self.process(name).child.is_some() {
                let status = self.terminate(name);
                assert!(status.success(), "{name} exited with {status}");
            }
        }
    }

    fn process(&mut self, name: &str) -> &mut Process {
        self.processes.iter_mut().find(|p| p.name == name).unwrap()
    }

    /// The processes' logs, for failure messages.
    pub fn logs(&self) -> String {
        self.processes
            .iter()
            .map(|p| {
                let text = std::fs::read_to_string(self.data_dir.join(format!("{}.log", p.name)))
                    .unwrap_or_default();
                format!("--- {} ---\n{}", p.name, tail(&text, 4000))
            })
            .collect()
    }

    /// Waits until the gateway and every service behind it are ready; on failure, shows the
    /// processes' logs.
    pub async fn wait_ready(&self, api: &Api) {
        if !api.ready_within(Duration::from_secs(60)).await {
            panic!("not ready within 60 s\n{}", self.logs());
        }
    }

    /// A token signed with the deployment's development secret.
    pub fn token(&self, role: Role) -> String {
        let subject = match &role {
            Role::State { country } => format!("focal-point-{}", country.as_str()),
            Role::Provider { org, .. } => format!("staff@{}", org.as_str()),
            other => format!("e2e-{}", other.name()),
        };
        self.token_as(&subject, role)
    }

    /// A token for `subject` in `role`, signed with the deployment's development secret.
    pub fn token_as(&self, subject: &str, role: Role) -> String {
        let secret = DevSecret::load(&self.data_dir.join("dev-secret")).unwrap();
        let signer = TokenSigner::from_dev_secret(&secret, "capmatch-dev", "capmatch");
        signer
            .mint(&Actor::new(subject, role), Duration::from_secs(3600))
            .unwrap()
    }

    /// The process id of the named process.
    pub fn pid(&self, name: &str) -> u32 {
        self.processes
            .iter()
            .find(|p| p.name == name)
            .and_then(|p| p.child.as_ref())
            .map(Child::id)
            .unwrap()
    }
}

impl Drop for Deployment {
    fn drop(&mut self) {
        for p in &mut self.processes {
            if let Some(mut child) = p.child.take() {
                let _ = child.kill();
                let _ = child.wait();
            }
        }
    }
}

fn tail(text: &str, max: usize) -> &str {
    let start = text.len().saturating_sub(max);
    let start = (start..text.len())
        .find(|i| text.is_char_boundary(*i))
        .unwrap_or(text.len());
    &text[start..]
}

/// A thin HTTP client for the gateway.
pub struct Api {
    pub base: String,
    client: awc::Client,
}

/// A response, read whole.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Value,
    pub raw: String,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

impl Api {
    pub fn new(base: &str) -> Api {
        Api {
            base: base.to_owned(),
            client: awc::Client::builder()
                .timeout(Duration::from_secs(30))
                .finish(),
        }
    }

    pub async fn send(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
        headers: &[(&str, &str)],
    ) -> Reply {
        let method = actix_web::http::Method::from_bytes(method.as_bytes()).unwrap();
        let mut req = self.client.request(method, format!("{}{path}", self.base));
        if let Some(token) = token {
            req = req.insert_header(("authorization", format!("Bearer {token}")));
        }
        for (k, v) in headers {
            req = req.insert_header((*k, *v));
        }
        let mut res = match body {
            Some(b) => req.send_json(b).await,
            None => req.send().await,
        }
        .unwrap_or_else(|e| panic!("{path}: {e}"));
        let bytes = res.body().limit(16 * 1024 * 1024).await.unwrap();
        let raw = String::from_utf8_lossy(&bytes).into_owned();
        Reply {
            status: res.status().as_u16(),
            headers: res
                .headers()
                .iter()
                .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or("").to_owned()))
                .collect(),
            body: serde_json::from_str(&raw).unwrap_or(Value::Null),
            raw,
        }
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Reply {
        self.send("GET", path, token, None, &[]).await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: &Value) -> Reply {
        self.send("POST", path, token, Some(body), &[]).await
    }

    /// Polls `GET path` until `done` holds, for at most 60 seconds.
    pub async fn eventually(
        &self,
        path: &str,
        token: Option<&str>,
        what: &str,
        done: impl Fn(&Reply) -> bool,
    ) -> Reply {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let ok = self
                .client
                .get(format!("{}{path}", self.base))
                .send()
                .await
                .is_ok();
            if ok {
                let reply = self.get(path, token).await;
                if done(&reply) {
                    return reply;
                }
                if Instant::now() > deadline {
                    panic!("{what}: last answer {} {}", reply.status, reply.raw);
                }
            } else if Instant::now() > deadline {
                panic!("{what}: {path} never answered");
            }
            actix_web::rt::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Whether `/readyz` answers 200 within `limit`.
    pub async fn ready_within(&self, limit: Duration) -> bool {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            let answer = self
                .client
                .get(format!("{}/readyz", self.base))
                .send()
                .await;
            if answer.is_ok_and(|r| r.status() == 200) {
                return true;
            }
            actix_web::rt::time::sleep(Duration::from_millis(50)).await;
        }
        false
    }
}

/// An answer that may not have come: the connection failed or the process died.
pub type Attempt = Result<Reply, String>;

impl Api {
    /// Like [`send`](Self::send), but a body of raw bytes with a chosen content type, and a
    /// connection failure is returned rather than a panic.
    pub async fn send_bytes(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<(&str, Vec<u8>)>,
        headers: &[(&str, &str)],
    ) -> Attempt {
        let method = actix_web::http::Method::from_bytes(method.as_bytes()).unwrap();
        let mut req = self.client.request(method, format!("{}{path}", self.base));
        if let Some(token) = token {
            req = req.insert_header(("authorization", format!("Bearer {token}")));
        }
        for (k, v) in headers {
            req = req.insert_header((*k, *v));
        }
        let sent = match body {
            Some((content_type, bytes)) => {
                req.insert_header(("content-type", content_type))
                    .send_body(bytes)
                    .await
            }
            None => req.send().await,
        };
        let mut res = sent.map_err(|e| format!("{path}: {e}"))?;
        let bytes = res
            .body()
            .limit(16 * 1024 * 1024)
            .await
            .map_err(|e| format!("{path}: {e}"))?;
        let raw = String::from_utf8_lossy(&bytes).into_owned();
        Ok(Reply {
            status: res.status().as_u16(),
            headers: res
                .headers()
                .iter()
                .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or("").to_owned()))
                .collect(),
            body: serde_json::from_str(&raw).unwrap_or(Value::Null),
            raw,
        })
    }

    /// A JSON request whose connection failure is returned rather than a panic.
    pub async fn try_send(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: &Value,
        headers: &[(&str, &str)],
    ) -> Attempt {
        let bytes = serde_json::to_vec(body).unwrap();
        self.send_bytes(
            method,
            path,
            token,
            Some(("application/json", bytes)),
            headers,
        )
        .await
    }

    /// Writes `request` as is to the gateway's socket and returns everything it answers
    /// (for requests no well-behaved client would build, such as control characters in headers).
    pub fn raw_exchange(&self, request: &[u8]) -> String {
        use std::io::{Read, Write};
        let addr = self.base.trim_start_matches("http://");
        let mut stream = std::net::TcpStream::connect(addr).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        stream.write_all(request).unwrap();
        let mut out = Vec::new();
        let _ = stream.read_to_end(&mut out);
        String::from_utf8_lossy(&out).into_owned()
    }
}

/// Base64url without padding, for hand-made tokens.
pub fn base64url(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

impl Deployment {
    /// Tokens the deployment must refuse with 401, by name: expired, signed with another secret,
    /// for another audience, and `alg: none`. Each would otherwise bind a coordinator.
    pub fn bad_tokens(&self) -> Vec<(&'static str, String)> {
        let secret = DevSecret::load(&self.data_dir.join("dev-secret")).unwrap();
        let actor = Actor::new("e2e-intruder", Role::Coordinator);
        let good = TokenSigner::from_dev_secret(&secret, "capmatch-dev", "capmatch");
        let mut expired =
            serde_json::to_value(good.claims(&actor, Duration::from_secs(3600))).unwrap();
        let now = capmatch_auth::signer::now();
        expired["exp"] = Value::from(now - 3600);
        expired["iat"] = Value::from(now - 7200);
        let expired = good.sign(&expired).unwrap();
        let other = DevSecret::generate().unwrap();
        let wrong_secret = TokenSigner::from_dev_secret(&other, "capmatch-dev", "capmatch")
            .mint(&actor, Duration::from_secs(3600))
            .unwrap();
        let wrong_audience = TokenSigner::from_dev_secret(&secret, "capmatch-dev", "elsewhere")
            .mint(&actor, Duration::from_secs(3600))
            .unwrap();
        let claims = serde_json::to_vec(&good.claims(&actor, Duration::from_secs(3600))).unwrap();
        let none = format!(
            "{}.{}.",
            base64url(br#"{"alg":"none","typ":"JWT"}"#),
            base64url(&claims)
        );
        vec![
            ("expired", expired),
            ("wrong-secret", wrong_secret),
            ("wrong-audience", wrong_audience),
            ("alg-none", none),
        ]
    }
}

impl Deployment {
    /// `capmatch serve` with extra `CAPMATCH_*` settings.
    pub fn all_in_one_with(data_dir: &Path, settings: &[(&str, &str)]) -> Deployment {
        let port = free_port();
        let mut envs = vec![(
            "CAPMATCH_GATEWAY__BIND".to_owned(),
            format!("127.0.0.1:{port}"),
        )];
        envs.extend(
            settings
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
        );
        let mut d = Deployment {
            data_dir: data_dir.to_owned(),
            gateway: format!("http://127.0.0.1:{port}"),
            processes: vec![Process {
                name: "serve",
                args: vec!["serve"],
                child: None,
            }],
            envs,
        };
        d.start("serve");
        d
    }
}

/// `capmatch serve` on a fresh private data directory with `settings`, ready, and a client for
/// its gateway. The directory lives as long as the returned handle.
pub async fn serving(settings: &[(&str, &str)]) -> (tempfile::TempDir, Deployment, Api) {
    let dir = private_tempdir();
    let d = Deployment::all_in_one_with(dir.path(), settings);
    let api = Api::new(&d.gateway);
    d.wait_ready(&api).await;
    (dir, d, api)
}

/// Settings that lift the gateway's per-caller rate limit far above what a test sends.
pub const GENEROUS_RATE_LIMIT: &[(&str, &str)] = &[
    ("CAPMATCH_GATEWAY__RATE_LIMIT__PER_SECOND", "100000"),
    ("CAPMATCH_GATEWAY__RATE_LIMIT__BURST", "100000"),
];

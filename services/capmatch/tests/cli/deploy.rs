//! The deployment material agrees with the code: every YAML file parses; ports, commands, data
//! paths and health checks match the defaults; every example configuration loads as the binary
//! loads it.

use std::path::{Path, PathBuf};

use capmatch::config::{Config, GATEWAY_BIND, MATCHER_BIND, NEEDS_BIND, OFFERS_BIND};
use yaml_rust2::{Yaml, YamlLoader};

const SERVICES: [&str; 4] = ["needs", "offers", "matcher", "gateway"];

fn deploy() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy")
}

fn port_of(bind: &str) -> i64 {
    bind.rsplit(':').next().unwrap().parse().unwrap()
}

fn default_port(service: &str) -> i64 {
    port_of(match service {
        "needs" => NEEDS_BIND,
        "offers" => OFFERS_BIND,
        "matcher" => MATCHER_BIND,
        _ => GATEWAY_BIND,
    })
}

fn yaml(path: &Path) -> Vec<Yaml> {
    let text = std::fs::read_to_string(path).unwrap();
    YamlLoader::load_from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn yaml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            yaml_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "yml" || e == "yaml") {
            out.push(path);
        }
    }
}

fn strings(y: &Yaml) -> Vec<String> {
    y.as_vec()
        .map(|v| {
            v.iter()
                .filter_map(|s| s.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn every_yaml_file_in_deploy_parses() {
    let mut files = Vec::new();
    yaml_files(&deploy(), &mut files);
    assert!(files.len() >= 6, "{files:?}");
    for f in files {
        assert!(!yaml(&f).is_empty(), "{} is empty", f.display());
    }
}

#[test]
fn every_example_configuration_loads_as_the_binary_loads_it() {
    for name in ["capmatch.toml", "capmatch.production.toml"] {
        let text = std::fs::read_to_string(deploy().join("config").join(name)).unwrap();
        let config = Config::from_toml(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
        for (service, bind) in [
            ("needs", &config.needs.bind),
            ("offers", &config.offers.bind),
            ("matcher", &config.matcher.bind),
            ("gateway", &config.gateway.bind),
        ] {
            assert_eq!(port_of(bind), default_port(service), "{name}: {service}");
        }
    }
    let k8s = yaml(&deploy().join("kubernetes/config.yaml"));
    let embedded = k8s[0]["data"]["capmatch.toml"].as_str().unwrap();
    let config = Config::from_toml(embedded).unwrap();
    // Below the volume's root, which fsGroup opens to the group: capmatch makes it 0700.
    assert_eq!(config.data_dir, Path::new("/var/lib/capmatch/data"));
}

#[test]
fn compose_runs_each_service_on_its_default_port_with_its_own_volume() {
    let doc = &yaml(&deploy().join("docker-compose.yml"))[0];
    let text = std::fs::read_to_string(deploy().join("config/capmatch.toml")).unwrap();
    let config = Config::from_toml(&text).unwrap();
    for service in SERVICES {
        let s = &doc["services"][service];
        assert_eq!(strings(&s["command"]), [service], "{service}");
        let check = strings(&s["healthcheck"]["test"]).join(" ");
        assert!(
            check.contains(&format!("127.0.0.1:{}/readyz", default_port(service))),
            "{service}: {check}"
        );
        let volumes = strings(&s["volumes"]);
        if service != "gateway" {
            let data = format!("{service}-data:{}", config.data_dir.display());
            assert!(volumes.contains(&data), "{service}: {volumes:?}");
        }
        let secret_dir = config
            .dev_secret_path()
            .parent()
            .unwrap()
            .display()
            .to_string();
        assert!(
            volumes.iter().any(|v| v.ends_with(&secret_dir)),
            "{service} shares the secret: {volumes:?}"
        );
    }
    assert_eq!(strings(&doc["services"]["gateway"]["ports"]), ["8080:8080"]);
}

#[test]
fn kubernetes_gives_each_stateful_service_a_volume_and_probes_on_its_port() {
    for service in SERVICES {
        let docs = yaml(&deploy().join(format!("kubernetes/{service}.yaml")));
        let workload = docs
            .iter()
            .find(|d| matches!(d["kind"].as_str(), Some("StatefulSet" | "Deployment")))
            .unwrap();
        let kind = workload["kind"].as_str().unwrap();
        assert_eq!(
            kind,
            if service == "gateway" {
                "Deployment"
            } else {
                "StatefulSet"
            },
            "{service}"
        );
        let container = &workload["spec"]["template"]["spec"]["containers"][0];
        assert_eq!(strings(&container["args"]), [service]);
        assert_eq!(
            container["ports"][0]["containerPort"].as_i64(),
            Some(default_port(service)),
            "{service}"
        );
        assert_eq!(
            container["livenessProbe"]["httpGet"]["path"].as_str(),
            Some("/livez")
        );
        assert_eq!(
            container["readinessProbe"]["httpGet"]["path"].as_str(),
            Some("/readyz")
        );
        assert_eq!(
            container["securityContext"]["allowPrivilegeEscalation"].as_bool(),
            Some(false)
        );
        let service_doc = docs
            .iter()
            .find(|d| d["kind"].as_str() == Some("Service"))
            .unwrap();
        assert_eq!(
            service_doc["spec"]["ports"][0]["port"].as_i64(),
            Some(default_port(service))
        );
        if service != "gateway" {
            assert_eq!(
                workload["spec"]["replicas"].as_i64(),
                Some(1),
                "one process per store"
            );
            let mounts = container["volumeMounts"].as_vec().unwrap();
            let data = mounts
                .iter()
                .find(|m| m["name"].as_str() == Some("data"))
                .unwrap();
            assert_eq!(data["mountPath"].as_str(), Some("/var/lib/capmatch"));
            // The service token comes from its secret as a variable: a secret mounted as a
            // file is group-readable, and a token file others may read is refused.
            let env = container["env"].as_vec().unwrap();
            let token = env
                .iter()
                .find(|e| e["name"].as_str() == Some("CAPMATCH_PEERS__SERVICE_TOKEN"))
                .unwrap_or_else(|| panic!("{service}: no service token variable"));
            assert_eq!(
                token["valueFrom"]["secretKeyRef"]["name"].as_str(),
                Some("capmatch-service-token")
            );
            assert!(
                workload["spec"]["volumeClaimTemplates"]
                    .as_vec()
                    .is_some_and(|v| !v.is_empty())
            );
        }
    }
}

#[test]
fn systemd_units_run_known_commands_on_the_state_directory() {
    for (unit, command) in [
        ("capmatch.service", "serve"),
        ("capmatch-needs.service", "needs"),
        ("capmatch-offers.service", "offers"),
        ("capmatch-matcher.service", "matcher"),
        ("capmatch-gateway.service", "gateway"),
    ] {
        let text = std::fs::read_to_string(deploy().join("systemd").join(unit)).unwrap();
        let exec = text
            .lines()
            .find_map(|l| l.strip_prefix("ExecStart="))
            .unwrap();
        let words: Vec<&str> = exec.split_whitespace().collect();
        assert_eq!(words[0], "/usr/local/bin/capmatch", "{unit}");
        assert_eq!(words[1], command, "{unit}");
        if command != "gateway" {
            assert_eq!(words[2..], ["--data-dir", "/var/lib/capmatch"], "{unit}");
        }
        assert!(text.contains("StateDirectory=capmatch\n"), "{unit}");
        assert!(text.contains("StateDirectoryMode=0700\n"), "{unit}");
        assert!(text.contains("UMask=0077\n"), "{unit}");
        assert!(text.contains("User=capmatch"), "{unit}");
    }
}

#[test]
fn the_image_runs_as_a_non_root_user_and_exposes_the_default_ports() {
    let text = std::fs::read_to_string(deploy().join("Dockerfile")).unwrap();
    assert!(text.contains("USER 10001"), "non-root");
    let exposed = text
        .lines()
        .find_map(|l| l.strip_prefix("EXPOSE "))
        .unwrap();
    for service in SERVICES {
        assert!(
            exposed
                .split_whitespace()
                .any(|p| p.parse::<i64>().ok() == Some(default_port(service))),
            "{service}"
        );
    }
    assert!(
        text.lines().filter(|l| l.starts_with("FROM ")).count() >= 2,
        "multi-stage"
    );
}

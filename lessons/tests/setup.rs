//! The set-up a reader relies on: docker-compose.yml is the 3-broker cluster
//! the README and the justfile describe, and every documented command exists.
//! (No Docker engine runs in CI: this checks the files, not a live cluster.)

use std::fs;
use std::path::Path;

use kafka_course::LESSONS;
use serde_norway::Value;

fn read(file: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(file);
    fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Compose's variable interpolation, as far as the course's file uses it:
/// `${VAR:-default}` (the default when VAR is unset or empty),
/// `${VAR-default}` (when unset), `${VAR}`, and `$$` for a literal `$`.
/// Anything else panics, so the test never reads a value compose would not.
fn interpolate(text: &str, env: &[(&str, &str)]) -> String {
    let lookup = |name: &str| env.iter().find(|(k, _)| *k == name).map(|(_, v)| *v);
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        rest = &rest[at + 1..];
        if let Some(r) = rest.strip_prefix('$') {
            out.push('$');
            rest = r;
            continue;
        }
        let inner = rest
            .strip_prefix('{')
            .and_then(|r| r.find('}').map(|end| &r[..end]))
            .unwrap_or_else(|| {
                panic!(
                    "unsupported interpolation at ${}",
                    &rest[..rest.len().min(20)]
                )
            });
        rest = &rest[inner.len() + 2..];
        let value = if let Some((name, default)) = inner.split_once(":-") {
            lookup(name).filter(|v| !v.is_empty()).unwrap_or(default)
        } else if let Some((name, default)) = inner.split_once('-') {
            lookup(name).unwrap_or(default)
        } else {
            assert!(
                inner.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
                "unsupported interpolation ${{{inner}}}"
            );
            lookup(inner).unwrap_or("")
        };
        out.push_str(value);
    }
    out.push_str(rest);
    out
}

#[test]
fn interpolation_helper_follows_compose() {
    let env = [("A", "x"), ("E", "")];
    assert_eq!(interpolate("${A:-d} ${B:-d} ${E:-d}", &env), "x d d");
    assert_eq!(interpolate("${A-d} ${B-d} ${E-d}", &env), "x d ");
    assert_eq!(
        interpolate("$${HOSTNAME}:1 ${A}${B}", &env),
        "${HOSTNAME}:1 x"
    );
}

/// docker-compose.yml as compose reads it with these environment variables.
fn compose_with(env: &[(&str, &str)]) -> Value {
    let mut doc: Value = serde_norway::from_str(&interpolate(&read("docker-compose.yml"), env))
        .expect("docker-compose.yml is valid YAML");
    doc.apply_merge().expect("YAML merge keys resolve");
    doc
}

/// The variables docker-compose.yml reads: `${NAME...}`, not `$${...}`.
fn compose_variables() -> Vec<String> {
    let text = read("docker-compose.yml").replace("$$", "");
    let mut names: Vec<String> = text
        .split("${")
        .skip(1)
        .map(|s| {
            s.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .next()
                .unwrap()
                .to_string()
        })
        .collect();
    names.sort();
    names.dedup();
    names
}

/// `NAME://host:port` entries of a listeners setting: name -> (host, port).
fn listeners(value: &str) -> Vec<(String, String, u16)> {
    value
        .split(',')
        .map(|l| {
            let (name, addr) = l
                .split_once("://")
                .unwrap_or_else(|| panic!("listener {l}"));
            let (host, port) = addr
                .rsplit_once(':')
                .unwrap_or_else(|| panic!("listener {l}"));
            (
                name.to_string(),
                host.to_string(),
                port.parse().unwrap_or_else(|_| panic!("port of {l}")),
            )
        })
        .collect()
}

/// Where the brokers are reached from outside the compose network:
/// the address compose publishes on and the ones the brokers advertise.
const SERVICES: [&str; 3] = ["kafka-1", "kafka-2", "kafka-3"];
const HOST_PORTS: [u16; 3] = [9092, 9093, 9094];
const CLASS_HOST: &str = "192.168.1.10";

#[test]
fn compose_runs_three_kraft_brokers_on_the_documented_ports() {
    // Unset, the cluster is this machine's only; KAFKA_HOST opens it to a
    // network, on that address only, advertised as such.
    for (env, host) in [
        (vec![], "127.0.0.1"),
        (vec![("KAFKA_HOST", "")], "127.0.0.1"),
        (vec![("KAFKA_HOST", CLASS_HOST)], CLASS_HOST),
    ] {
        check_compose(&compose_with(&env), host);
    }
    assert_eq!(
        compose_variables(),
        ["KAFKA_HOST"],
        "one variable opens the cluster to a network"
    );
}

fn check_compose(doc: &Value, host: &str) {
    let services = doc["services"].as_mapping().expect("services");
    let names: Vec<&str> = services.keys().map(|k| k.as_str().unwrap()).collect();
    assert_eq!(names, SERVICES);
    let mut voters = Vec::new();
    for (i, name) in names.iter().enumerate() {
        let s = &doc["services"][*name];
        let env = |k: &str| {
            s["environment"][k]
                .as_str()
                .unwrap_or_else(|| panic!("{name}: no {k}"))
                .to_string()
        };
        let image = s["image"].as_str().unwrap();
        assert!(
            image.starts_with("apache/kafka:4."),
            "{name}: official Apache Kafka 4.x image, got {image}"
        );
        assert_eq!(s["hostname"].as_str(), Some(*name), "{name}: hostname");
        let node_id = env("KAFKA_NODE_ID");
        assert_eq!(node_id, (i + 1).to_string());
        assert!(
            env("KAFKA_PROCESS_ROLES").contains("controller")
                && env("KAFKA_PROCESS_ROLES").contains("broker"),
            "{name}: KRaft, no ZooKeeper"
        );

        // The listeners the broker binds inside its container, and their roles.
        let bound = listeners(&env("KAFKA_LISTENERS"));
        let port_of = |listener: &str| {
            bound
                .iter()
                .find(|(n, _, _)| n == listener)
                .unwrap_or_else(|| panic!("{name}: no {listener} listener"))
                .2
        };
        let protocols = env("KAFKA_LISTENER_SECURITY_PROTOCOL_MAP");
        for (n, h, _) in &bound {
            assert_eq!(h, "", "{name}: {n} binds every interface of its container");
            assert!(
                protocols.contains(&format!("{n}:PLAINTEXT")),
                "{name}: protocol of {n}"
            );
        }
        let controller = env("KAFKA_CONTROLLER_LISTENER_NAMES");
        let internal = env("KAFKA_INTER_BROKER_LISTENER_NAME");
        voters.push(format!("{node_id}@{name}:{}", port_of(&controller)));

        // Published: this host's port on `host` only, to the EXTERNAL listener.
        let host_port = HOST_PORTS[i];
        let ports = s["ports"].as_sequence().expect("ports");
        assert_eq!(ports.len(), 1, "{name}: one published port");
        assert_eq!(
            ports[0].as_str().unwrap(),
            format!("{host}:{host_port}:{}", port_of("EXTERNAL")),
            "{name}: published on {host} only"
        );

        // Advertised: what clients are told, the same address and port, and
        // the compose network's name for the brokers among themselves.
        let advertised = listeners(&env("KAFKA_ADVERTISED_LISTENERS"));
        assert_eq!(
            advertised,
            [
                (internal.clone(), name.to_string(), port_of(&internal)),
                ("EXTERNAL".to_string(), host.to_string(), host_port),
            ],
            "{name}: advertised listeners"
        );
        let health = s["healthcheck"]["test"]
            .as_sequence()
            .unwrap_or_else(|| panic!("{name}: has a healthcheck"));
        assert!(
            health
                .last()
                .unwrap()
                .as_str()
                .unwrap()
                .contains(&format!(":{}", port_of(&internal))),
            "{name}: the healthcheck asks the internal listener"
        );

        assert_eq!(env("KAFKA_DEFAULT_REPLICATION_FACTOR"), "3");
        assert_eq!(env("KAFKA_MIN_INSYNC_REPLICAS"), "2");
        assert_eq!(env("KAFKA_UNCLEAN_LEADER_ELECTION_ENABLE"), "false");
        assert_eq!(env("KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR"), "3");
        assert_eq!(
            env("CLUSTER_ID").len(),
            22,
            "a KRaft cluster id is 16 bytes in base64url"
        );
    }
    for name in names {
        assert_eq!(
            doc["services"][name]["environment"]["KAFKA_CONTROLLER_QUORUM_VOTERS"].as_str(),
            Some(voters.join(",").as_str()),
            "{name}: the quorum is the three nodes, by node id, host and controller port"
        );
    }
}

#[test]
fn readme_and_justfile_name_the_cluster_s_addresses() {
    let readme = read("README.md");
    let justfile = read("justfile");
    for port in HOST_PORTS {
        for (file, text) in [("README.md", &readme), ("justfile", &justfile)] {
            assert!(
                text.contains(&format!("localhost:{port}")),
                "{file} names localhost:{port}"
            );
        }
        assert!(
            justfile.contains(&format!("$KAFKA_HOST:{port}")),
            "cluster-up names $KAFKA_HOST:{port} when KAFKA_HOST is set"
        );
    }
    for text in [&readme, &justfile] {
        assert!(text.contains("KAFKA_BOOTSTRAP_SERVERS=localhost:9092"));
    }
    assert!(
        readme.contains(&format!("KAFKA_HOST={CLASS_HOST} just cluster-up"))
            && readme.contains(&format!("KAFKA_BOOTSTRAP_SERVERS={CLASS_HOST}:9092")),
        "README.md shows how KAFKA_HOST opens the cluster to a class"
    );
    // Every address:port the README and the justfile give for the cluster is
    // one compose publishes.
    let doc = compose_with(&[]);
    let published: Vec<String> = SERVICES
        .iter()
        .map(|s| {
            doc["services"][*s]["ports"][0]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    for (file, text) in [("README.md", &readme), ("justfile", &justfile)] {
        for word in text.split(|c: char| c.is_whitespace() || "`,()|".contains(c)) {
            let word = word.trim_end_matches('.');
            let Some((host, port)) = word.rsplit_once(':') else {
                continue;
            };
            let host = host.rsplit('=').next().unwrap();
            if !port.starts_with("90") || !port.chars().all(|c| c.is_ascii_digit()) {
                continue;
            }
            assert!(
                ["localhost", "127.0.0.1", "$KAFKA_HOST", CLASS_HOST].contains(&host)
                    && published.iter().any(|p| p.ends_with(&format!(":{port}:9092"))),
                "{file} gives the cluster's address {word}, which docker-compose.yml does not publish"
            );
        }
    }
}

/// The recipes of the justfile: (name, has a `#` description above it).
fn recipes() -> Vec<(String, bool)> {
    let text = read("justfile");
    let lines: Vec<&str> = text.lines().collect();
    let mut found = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        if line.starts_with(|c: char| c.is_ascii_lowercase())
            && line.contains(':')
            && !line.contains(":=")
        {
            let name = line.split([' ', ':']).next().unwrap().to_string();
            let described = i > 0 && lines[i - 1].starts_with('#');
            found.push((name, described));
        }
    }
    found
}

#[test]
fn justfile_has_every_documented_recipe_each_described() {
    let recipes = recipes();
    let mut wanted: Vec<String> = LESSONS
        .iter()
        .map(|l| format!("lesson-{}", l.number))
        .collect();
    wanted.extend(
        [
            "lesson",
            "lessons",
            "test",
            "book",
            "serve",
            "cluster-up",
            "cluster-down",
            "bench",
            "exercise",
            "hint",
            "exercises",
            "teacher-export",
            "teacher-check",
            "clean-cluster",
        ]
        .map(String::from),
    );
    for name in &wanted {
        let recipe = recipes
            .iter()
            .find(|(n, _)| n == name)
            .unwrap_or_else(|| panic!("justfile has no recipe {name}"));
        assert!(
            recipe.1,
            "recipe {name} has no description for `just --list`"
        );
    }
    let text = read("justfile");
    assert!(
        text.contains("docker compose up -d --wait"),
        "cluster-up waits until the brokers are healthy"
    );
}

#[test]
fn readme_gives_the_two_commands_and_the_real_cluster() {
    let readme = read("README.md");
    for needle in [
        "cargo run --release -- lesson 1",
        "cargo test",
        "just cluster-up",
        "KAFKA_BOOTSTRAP_SERVERS=localhost:9092",
        "localhost:9093",
        "localhost:9094",
        "cargo run --release -p kafka-course-book",
    ] {
        assert!(readme.contains(needle), "README.md should mention {needle}");
    }
    for (name, _) in recipes() {
        if name != "default" {
            let shown = readme.contains(&format!("`just {name}"))
                || (name.starts_with("lesson-") && readme.contains("just lesson-1"));
            assert!(shown, "README.md does not describe `just {name}`");
        }
    }
}

#[test]
fn ci_runs_the_readme_test_command() {
    let ci = read(".ci/run");
    assert!(
        ci.lines().any(|l| l.trim() == "cargo test"),
        ".ci/run calls `cargo test`"
    );
}

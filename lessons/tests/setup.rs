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

fn compose() -> Value {
    let mut doc: Value = serde_norway::from_str(&read("docker-compose.yml"))
        .expect("docker-compose.yml is valid YAML");
    doc.apply_merge().expect("YAML merge keys resolve");
    doc
}

#[test]
fn compose_runs_three_kraft_brokers_on_the_documented_ports() {
    let doc = compose();
    let services = doc["services"].as_mapping().expect("services");
    let names: Vec<&str> = services.keys().map(|k| k.as_str().unwrap()).collect();
    assert_eq!(names, ["kafka-1", "kafka-2", "kafka-3"]);
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
        assert!(
            s["healthcheck"]["test"].is_sequence(),
            "{name}: has a healthcheck"
        );
        let host_port = 9092 + i;
        assert_eq!(
            s["ports"][0].as_str().unwrap(),
            format!("{host_port}:9092"),
            "{name}: host port"
        );
        assert!(env("KAFKA_ADVERTISED_LISTENERS")
            .contains(&format!("EXTERNAL://localhost:{host_port}")));
        assert_eq!(env("KAFKA_NODE_ID"), (i + 1).to_string());
        assert!(
            env("KAFKA_PROCESS_ROLES").contains("controller"),
            "{name}: KRaft, no ZooKeeper"
        );
        assert_eq!(
            env("KAFKA_CONTROLLER_QUORUM_VOTERS"),
            "1@kafka-1:29093,2@kafka-2:29093,3@kafka-3:29093"
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
        "cargo run --example build_book",
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

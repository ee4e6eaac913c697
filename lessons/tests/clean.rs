//! `course clean` against a real Kafka-protocol broker: Tansu, started here
//! on a loopback port with in-memory storage. The embedded mock cluster has
//! no DeleteTopics, DeleteGroups or ListGroups, so it cannot show this.
//!
//! Without the Tansu binary (/opt/tansu-0.6.0/bin/tansu, or `TANSU_BIN`;
//! see lessons/build.rs) the test is reported as ignored, saying why.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use kafka_course::clean::{self, Cleaned};
use kafka_course::kit::Narrator;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::{Offset, TopicPartitionList};

/// The binary lessons/build.rs found (`cfg(has_tansu)` only).
fn tansu_binary() -> PathBuf {
    PathBuf::from(option_env!("COURSE_TANSU_BIN").unwrap_or("tansu"))
}

/// A Tansu broker on 127.0.0.1, killed when dropped.
struct Tansu {
    child: Child,
    bootstrap: String,
}

impl Drop for Tansu {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_tansu(binary: &PathBuf) -> Tansu {
    // A free loopback port: bind, read it, release it for Tansu.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("tcp://127.0.0.1:{port}");
    let child = Command::new(binary)
        .args([
            "broker",
            "--listener-url",
            &url,
            "--advertised-listener-url",
            &url,
        ])
        .args(["--storage-engine", "memory://tansu/"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("starting {}: {e}", binary.display()));
    let tansu = Tansu {
        child,
        bootstrap: format!("127.0.0.1:{port}"),
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(&tansu.bootstrap).is_err() {
        assert!(
            Instant::now() < deadline,
            "Tansu did not listen on {port} within 10 s"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    tansu
}

fn config(bootstrap: &str) -> ClientConfig {
    let mut c = ClientConfig::new();
    c.set("bootstrap.servers", bootstrap)
        .set("socket.connection.setup.timeout.ms", "3000");
    c
}

fn topics(bootstrap: &str) -> Vec<String> {
    let client: BaseConsumer = config(bootstrap).create().unwrap();
    let md = client.fetch_metadata(None, Duration::from_secs(5)).unwrap();
    let mut names: Vec<String> = md.topics().iter().map(|t| t.name().to_string()).collect();
    names.sort();
    names
}

fn groups(bootstrap: &str) -> Vec<String> {
    let client: BaseConsumer = config(bootstrap).create().unwrap();
    let list = client
        .fetch_group_list(None, Duration::from_secs(5))
        .unwrap();
    let mut names: Vec<String> = list.groups().iter().map(|g| g.name().to_string()).collect();
    names.sort();
    names.dedup();
    names
}

/// Commit an offset of `topic` for `group` outside any membership (a
/// "simple" group): how a group comes to exist without a rebalance.
fn commit_offset(bootstrap: &str, group: &str, topic: &str) {
    let consumer: BaseConsumer = config(bootstrap)
        .set("group.id", group)
        .set("enable.auto.commit", "false")
        .create()
        .unwrap();
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition_offset(topic, 0, Offset::Offset(0))
        .unwrap();
    consumer
        .commit(&tpl, rdkafka::consumer::CommitMode::Sync)
        .unwrap_or_else(|e| panic!("committing for group {group}: {e}"));
}

const COURSE_TOPICS: [&str; 3] = [
    "machine-commands-1767225600-4242",
    "machine-commands.dlt-1767225600-4242",
    "routing-4-1767225601-77",
];
const OTHER_TOPICS: [&str; 4] = [
    "machine-commands",        // no run suffix
    "orders-v2",               // not a course name
    "routing-4-1767225601",    // half a suffix
    "billing-1767225600-4242", // a suffix, but not the course's name
];
const COURSE_GROUPS: [&str; 2] = ["machines-1767225600-4242", "kit-reader-1767225600-4242"];
const OTHER_GROUPS: [&str; 2] = ["machines", "billing-1767225600-4242"];

#[tokio::test]
#[cfg_attr(
    not(has_tansu),
    ignore = "did not run: Tansu 0.6.0 is not installed (see README, Tests against an independent broker)"
)]
async fn clean_deletes_exactly_the_course_s_topics_and_groups() {
    let binary = tansu_binary();
    let tansu = start_tansu(&binary);
    let bootstrap = tansu.bootstrap.clone();

    let admin: AdminClient<DefaultClientContext> = config(&bootstrap).create().unwrap();
    let new: Vec<NewTopic> = COURSE_TOPICS
        .iter()
        .chain(&OTHER_TOPICS)
        .map(|t| NewTopic::new(t, 1, TopicReplication::Fixed(1)))
        .collect();
    let opts = AdminOptions::new().operation_timeout(Some(Duration::from_secs(5)));
    for r in admin.create_topics(&new, &opts).await.unwrap() {
        r.unwrap_or_else(|(t, e)| panic!("creating {t}: {e}"));
    }
    for g in COURSE_GROUPS.iter().chain(&OTHER_GROUPS) {
        commit_offset(&bootstrap, g, OTHER_TOPICS[1]);
    }
    let mut all_topics: Vec<String> = COURSE_TOPICS
        .iter()
        .chain(&OTHER_TOPICS)
        .map(|s| s.to_string())
        .collect();
    all_topics.sort();
    assert_eq!(topics(&bootstrap), all_topics, "the broker has the topics");
    let mut all_groups: Vec<String> = COURSE_GROUPS
        .iter()
        .chain(&OTHER_GROUPS)
        .map(|s| s.to_string())
        .collect();
    all_groups.sort();
    assert_eq!(
        groups(&bootstrap),
        all_groups,
        "the broker lists the groups"
    );

    let sorted = |v: &[&str]| {
        let mut v: Vec<String> = v.iter().map(|s| s.to_string()).collect();
        v.sort();
        v
    };
    let expected = Cleaned {
        topics: sorted(&COURSE_TOPICS),
        groups: sorted(&COURSE_GROUPS),
        other_topics: OTHER_TOPICS.len(),
        other_groups: OTHER_GROUPS.len(),
        failed: vec![],
    };

    // A dry run lists, and deletes nothing.
    let out = Narrator::quiet();
    let dry = clean::clean(&bootstrap, true, &out).await.unwrap();
    assert_eq!(dry, expected);
    assert!(
        out.text()
            .contains("would delete topic routing-4-1767225601-77"),
        "{}",
        out.text()
    );
    assert_eq!(topics(&bootstrap), all_topics, "a dry run deletes nothing");
    assert_eq!(groups(&bootstrap), all_groups, "a dry run deletes nothing");

    // The real run deletes the course's names, lists them, and nothing else.
    let out = Narrator::quiet();
    let done = clean::clean(&bootstrap, false, &out).await.unwrap();
    assert_eq!(done, expected, "{}", out.text());
    for t in COURSE_TOPICS {
        assert!(
            out.text().contains(&format!("deleted topic {t}")),
            "{}",
            out.text()
        );
    }
    for g in COURSE_GROUPS {
        assert!(
            out.text().contains(&format!("deleted group {g}")),
            "{}",
            out.text()
        );
    }
    assert_eq!(
        topics(&bootstrap),
        sorted(&OTHER_TOPICS),
        "only the course's topics are gone"
    );
    assert_eq!(
        groups(&bootstrap),
        sorted(&OTHER_GROUPS),
        "only the course's groups are gone"
    );

    // Run again: nothing of the course's is left.
    let again = clean::clean(&bootstrap, false, &Narrator::quiet())
        .await
        .unwrap();
    assert!(
        again.topics.is_empty() && again.groups.is_empty(),
        "{again:?}"
    );
    drop(tansu);
}

#[test]
fn clean_fails_fast_when_no_broker_answers() {
    // A port nothing listens on: bound, then released.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let started = Instant::now();
    let err = runtime
        .block_on(clean::clean(
            &format!("127.0.0.1:{port}"),
            true,
            &Narrator::quiet(),
        ))
        .unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "took {:?}",
        started.elapsed()
    );
    assert!(
        format!("{err:#}").contains("cannot reach a Kafka broker"),
        "{err:#}"
    );
}

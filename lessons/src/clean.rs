//! `course clean`: delete the topics and consumer groups the lessons left on
//! a real cluster.
//!
//! On a real cluster every run of a lesson uses fresh names (the kit appends
//! `-{unix_millis}-{pid}` to each logical name, see `Stage::name`), so the names
//! pile up: one pass of the lessons leaves 18 topics. `course clean` deletes
//! exactly those: a topic or group is the course's when its name is one of
//! [`COURSE_NAMES`] followed by `-<unix milliseconds>-<pid>`, both all digits. Anything else on the
//! cluster (other applications' topics, Kafka's internal topics) is never
//! touched. `--dry-run` lists what would go without deleting it.
//!
//! The embedded cluster needs no cleaning: it vanishes with its process.

use std::future::Future;
use std::time::Duration;

use anyhow::{bail, Context as _, Result};
use rdkafka::admin::{AdminClient, AdminOptions};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer};

use crate::kit::{Narrator, Stage, CONNECT_TIMEOUT};
use crate::{tr, tr_static};

/// Every logical topic and group name the course uses, lessons, exercise
/// checks and the kit alike: the one list `course clean` goes by. A test
/// scans the sources for the names passed to `create_topic`,
/// `consumer_config` and `ctx.name`, so a new name cannot be forgotten here.
pub const COURSE_NAMES: &[&str] = &[
    // Topics of the lessons.
    "machine-commands",        // chapters 1, 2, 4, 5
    "keyless-commands",        // chapter 2
    "routing",                 // chapter 2
    "routing-4",               // chapter 2
    "acks-latency",            // chapter 3
    "acks-0",                  // chapter 3, `Acks::topic`
    "acks-1",                  // chapter 3
    "acks-all",                // chapter 3
    "machine-commands.dlt",    // chapter 4
    "inspection-photos",       // chapter 5
    "lot-commands-plain",      // chapter 6
    "lot-commands-idempotent", // chapter 6
    "m1-commands",             // chapter 7
    "m2-commands",             // chapter 7
    "m3-commands",             // chapter 7
    "machine-status",          // chapter 7
    // Groups of the lessons.
    "lesson-2-reader",    // chapter 2
    "ch3-reader",         // chapter 3
    "machines",           // chapter 4
    "audit",              // chapter 4
    "dashboard",          // chapter 4
    "dlt-reader",         // chapter 4
    "machine-controller", // chapters 5, 6
    "quality-audit",      // chapter 5
    "photo-archive",      // chapter 5
    "workflow",           // chapter 7
    "machine-M1",         // chapter 7, `machine-{step}`
    "machine-M2",         // chapter 7
    "machine-M3",         // chapter 7
    "kit-reader",         // the kit's `Stage::read_topic`
    // Exercise checks and the benchmark (they run on the embedded cluster,
    // but use the kit's names all the same).
    "orders",
    "controllers",
    "ex3-reader",
    "drill-commands",
    "drill",
    "late-readers",
    "lot-commands",
    "controller-crash-before-work",
    "controller-crash-after-work",
    "floor",
    "exercise-probe",
    "order-check",
    "lot-commands-a",
    "lot-commands-b",
    "controller",
    "shift-commands",
    "checks-reader",
    "parts",
    "invoices",
    "morning-report",
    "night-report",
    "drill-controller",
    "drill-shift",
    "workflow-m3",
];

/// Is `name` one the course created: a [`COURSE_NAMES`] entry followed by
/// the kit's per-run suffix `-<digits>-<digits>`?
pub fn is_course_name(name: &str) -> bool {
    COURSE_NAMES
        .iter()
        .any(|logical| name.strip_prefix(logical).is_some_and(is_run_suffix))
}

/// `-<digits>-<digits>`, the suffix the kit appends on a real cluster (`-{unix_millis}-{pid}`),
/// where the time is a Unix time of at least 10 digits (seconds since 2001, or milliseconds).
/// Without that floor, `routing-4-1767225601` (no pid: not the course's)
/// would read as `routing` with the suffix `-4-1767225601`.
fn is_run_suffix(s: &str) -> bool {
    let digits = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
    let Some(rest) = s.strip_prefix('-') else {
        return false;
    };
    match rest.split_once('-') {
        Some((secs, pid)) => digits(secs) && secs.len() >= 10 && digits(pid),
        None => false,
    }
}

/// What `clean` found, and deleted unless it was a dry run.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Cleaned {
    /// The course's topics (deleted, or to delete on a dry run), sorted.
    pub topics: Vec<String>,
    /// The course's groups (deleted, or to delete on a dry run), sorted.
    pub groups: Vec<String>,
    /// How many topics and groups on the cluster are not the course's.
    pub other_topics: usize,
    pub other_groups: usize,
    /// Names whose deletion failed, with the broker's reason.
    pub failed: Vec<(String, String)>,
}

/// Bound for each step against the cluster: listing, deleting topics,
/// deleting groups. An unreachable broker is caught earlier, by `Stage::connect`.
const STEP_TIMEOUT: Duration = Duration::from_secs(10);

/// `course clean [--dry-run]`: on the embedded cluster (`brokers` unset)
/// there is nothing to clean; on a real one, delete the course's topics and
/// groups and list them.
pub async fn run(brokers: Option<&str>, dry_run: bool) -> Result<()> {
    let out = Narrator::echoing();
    let Some(bootstrap) = brokers.map(str::trim).filter(|b| !b.is_empty()) else {
        out.line(tr_static!(
            "Nothing to clean: without KAFKA_BOOTSTRAP_SERVERS (or --brokers) the lessons run \
             on an embedded cluster, which vanishes when the lesson ends."
        ));
        return Ok(());
    };
    let cleaned = clean(bootstrap, dry_run, &out).await?;
    if !cleaned.failed.is_empty() {
        bail!(
            "{}",
            tr!(
                "{} of the course's topics and groups could not be deleted (see above)",
                cleaned.failed.len()
            )
        );
    }
    Ok(())
}

/// Delete (or with `dry_run`, only list) the course's topics and groups on
/// the cluster at `bootstrap`, narrating to `out`. Fails within seconds if
/// no broker answers there.
pub async fn clean(bootstrap: &str, dry_run: bool, out: &Narrator) -> Result<Cleaned> {
    let ctx = Stage::connect(Some(bootstrap), Narrator::quiet())?;
    let client: BaseConsumer = ctx.client_config().create()?;
    let metadata = client
        .fetch_metadata(None, CONNECT_TIMEOUT)
        .with_context(|| tr!("listing the topics at {bootstrap}"))?;
    let topics: Vec<String> = metadata
        .topics()
        .iter()
        .map(|t| t.name().to_string())
        .collect();
    let groups: Vec<String> = client
        .fetch_group_list(None, CONNECT_TIMEOUT)
        .with_context(|| tr!("listing the consumer groups at {bootstrap}"))?
        .groups()
        .iter()
        .map(|g| g.name().to_string())
        .collect();

    let mut cleaned = plan(&topics, &groups);
    out.line(&tr!(
        "Cluster {bootstrap}: {} course topic(s), {} course group(s).",
        cleaned.topics.len(),
        cleaned.groups.len()
    ));

    if dry_run {
        for t in &cleaned.topics {
            out.line(&tr!("  would delete topic {t}"));
        }
        for g in &cleaned.groups {
            out.line(&tr!("  would delete group {g}"));
        }
    } else {
        let admin: AdminClient<DefaultClientContext> = ctx.client_config().create()?;
        let opts = AdminOptions::new()
            .request_timeout(Some(CONNECT_TIMEOUT))
            .operation_timeout(Some(CONNECT_TIMEOUT));
        let mut deleted_topics = Vec::new();
        if !cleaned.topics.is_empty() {
            let names: Vec<&str> = cleaned.topics.iter().map(String::as_str).collect();
            let deleting = tr!("deleting topics");
            for result in bounded(&deleting, admin.delete_topics(&names, &opts)).await? {
                match result {
                    Ok(t) => {
                        out.line(&tr!("  deleted topic {t}"));
                        deleted_topics.push(t);
                    }
                    Err((t, e)) => {
                        out.line(&tr!("  could not delete topic {t}: {e}"));
                        cleaned.failed.push((t, e.to_string()));
                    }
                }
            }
        }
        let mut deleted_groups = Vec::new();
        if !cleaned.groups.is_empty() {
            let names: Vec<&str> = cleaned.groups.iter().map(String::as_str).collect();
            let deleting = tr!("deleting groups");
            for result in bounded(&deleting, admin.delete_groups(&names, &opts)).await? {
                match result {
                    Ok(g) => {
                        out.line(&tr!("  deleted group {g}"));
                        deleted_groups.push(g);
                    }
                    Err((g, e)) => {
                        // NON_EMPTY_GROUP: a consumer of it is running.
                        out.line(&tr!("  could not delete group {g}: {e}"));
                        cleaned.failed.push((g, e.to_string()));
                    }
                }
            }
        }
        deleted_topics.sort();
        deleted_groups.sort();
        cleaned.topics = deleted_topics;
        cleaned.groups = deleted_groups;
    }

    out.line(&tr!(
        "Left alone: {} topic(s) and {} group(s) that are not the course's.",
        cleaned.other_topics,
        cleaned.other_groups
    ));
    if dry_run {
        out.line(tr_static!(
            "Dry run: nothing was deleted. Run `course clean` without --dry-run to delete them."
        ));
    }
    Ok(cleaned)
}

/// Split a cluster's topic and group names into the course's (sorted) and
/// a count of the others.
pub fn plan(topics: &[String], groups: &[String]) -> Cleaned {
    let mut course_topics: Vec<String> = topics
        .iter()
        .filter(|t| is_course_name(t))
        .cloned()
        .collect();
    let mut course_groups: Vec<String> = groups
        .iter()
        .filter(|g| is_course_name(g))
        .cloned()
        .collect();
    course_topics.sort();
    course_topics.dedup();
    course_groups.sort();
    // A group coordinated by several brokers is listed once by each.
    course_groups.dedup();
    let mut distinct_groups: Vec<&String> = groups.iter().collect();
    distinct_groups.sort();
    distinct_groups.dedup();
    Cleaned {
        other_topics: topics.len() - course_topics.len(),
        other_groups: distinct_groups.len() - course_groups.len(),
        topics: course_topics,
        groups: course_groups,
        failed: Vec::new(),
    }
}

/// An admin request, with an error instead of a hang if the cluster stops
/// answering (the admin options' timeouts bound it too; this is the floor).
async fn bounded<T>(
    what: &str,
    f: impl Future<Output = rdkafka::error::KafkaResult<T>>,
) -> Result<T> {
    match tokio::time::timeout(STEP_TIMEOUT, f).await {
        Ok(r) => r.with_context(|| what.to_string()),
        Err(_) => bail!(
            "{}",
            tr!("{what}: no answer from the cluster after {STEP_TIMEOUT:?}")
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;
    use std::path::{Path, PathBuf};

    #[test]
    fn a_course_name_is_a_logical_name_and_a_run_suffix() {
        for name in [
            "machine-commands-1767225600-4242",
            "machine-commands.dlt-1767225600-2",
            "routing-4-1767225600-7",
            "routing-1767225600-7",
            "kit-reader-1767225600-99",
            "machine-M1-1767225600-99",
        ] {
            assert!(is_course_name(name), "{name} is the course's");
        }
        for name in [
            "machine-commands", // no suffix: the embedded cluster's name, or someone else's
            "machine-commands-1767225600", // half a suffix
            "machine-commands-1767225600-", // empty pid
            "machine-commands--4242", // empty secs
            "machine-commands-17672x5600-42",
            "machine-commands-1-2-3",
            "machine-commands-1-2", // seconds too few for a Unix time
            "routing-4-1767225601", // routing-4 with half a suffix, not routing + -4-...
            "machine-commands-prod-1767225600-42",
            "my-machine-commands-1767225600-42",
            "orders-v2",
            "lot-commands-plain",
            "lot-commands-plain-x-1",
            "__consumer_offsets",
            "machine-commands-1767225600-42 ",
        ] {
            assert!(!is_course_name(name), "{name:?} is not the course's");
        }
    }

    #[test]
    fn plan_keeps_the_course_names_and_counts_the_others() {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        let cleaned = plan(
            &s(&[
                "orders",
                "routing-4-1767225600-20",
                "__consumer_offsets",
                "machine-status-1767225600-20",
            ]),
            &s(&[
                "machines-1767225600-20",
                "billing",
                "machines-1767225600-20",
            ]),
        );
        assert_eq!(
            cleaned.topics,
            ["machine-status-1767225600-20", "routing-4-1767225600-20"]
        );
        assert_eq!(cleaned.groups, ["machines-1767225600-20"]);
        assert_eq!((cleaned.other_topics, cleaned.other_groups), (2, 1));
    }

    /// The lessons' sources, the exercise checks', the students' exercise
    /// files and the solutions (where this copy has them): (path, text).
    fn sources() -> Vec<(String, String)> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut files = Vec::new();
        let mut dirs: Vec<PathBuf> = vec![root.join("src"), root.join("../exercises")];
        while let Some(dir) = dirs.pop() {
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for entry in entries.flatten() {
                let path = entry.path();
                if path.is_dir() {
                    dirs.push(path);
                } else if path.extension().is_some_and(|e| e == "rs")
                    && !path.ends_with("src/clean.rs")
                    // `course cluster` creates its topic on the embedded
                    // cluster only, which has nothing to clean.
                    && !path.ends_with("src/playground.rs")
                {
                    let text = std::fs::read_to_string(&path).unwrap();
                    let rel = path
                        .strip_prefix(root)
                        .unwrap()
                        .to_string_lossy()
                        .replace('\\', "/");
                    files.push((rel, text));
                }
            }
        }
        files.sort();
        files
    }

    /// `const NAME: ... = ...;` definitions on one line: NAME -> the string
    /// literals after the `=`.
    fn consts(files: &[(String, String)]) -> BTreeMap<String, Vec<Vec<String>>> {
        let mut found: BTreeMap<String, Vec<Vec<String>>> = BTreeMap::new();
        for (_, text) in files {
            for line in text.lines() {
                let Some((_, rest)) = line.split_once("const ") else {
                    continue;
                };
                let Some((name, value)) = rest.split_once(':') else {
                    continue;
                };
                let Some((_, value)) = value.split_once('=') else {
                    continue;
                };
                let literals: Vec<String> = value
                    .split('"')
                    .skip(1)
                    .step_by(2)
                    .map(String::from)
                    .collect();
                found
                    .entry(name.trim().to_string())
                    .or_default()
                    .push(literals);
            }
        }
        found
    }

    /// The first argument, as written, of every call `pattern(...)`.
    fn first_args<'a>(text: &'a str, pattern: &str) -> Vec<&'a str> {
        let mut args = Vec::new();
        for (at, _) in text.match_indices(pattern) {
            if text[..at].trim_end().ends_with("fn") {
                continue; // the definition
            }
            let rest = text[at + pattern.len()..].trim_start();
            let end = if let Some(quoted) = rest.strip_prefix('"') {
                1 + quoted.find('"').unwrap() + 1
            } else {
                let mut depth = 0;
                rest.char_indices()
                    .find(|&(_, c)| {
                        match c {
                            '(' => depth += 1,
                            ')' if depth > 0 => depth -= 1,
                            ',' | ')' if depth == 0 => return true,
                            _ => {}
                        }
                        false
                    })
                    .map(|(i, _)| i)
                    .unwrap_or(rest.len())
            };
            args.push(rest[..end].trim());
        }
        args
    }

    /// Call sites whose name is computed or passed in, each with where its
    /// values come from (checked by the tests below).
    const DYNAMIC: &[(&str, &str)] = &[
        ("src/kit/cluster.rs", "&name"), // the kit's own `self.name(logical)`
        ("src/kit/cluster.rs", "logical"), // `Cluster::name`'s and `create_topic`'s callers
        ("src/kit/cluster.rs", "logical_group"), // `consumer_config`'s callers
        ("src/kit/cluster.rs", "&admin"), // chapter 1's `create_topic(&admin, &name, ..)`
        ("src/kit/cluster.rs", "&self.bootstrap"), // chapter 4's `consumer_config(.., &group, ..)`
        ("src/ch3_acks/mod.rs", "&acks.topic()"), // `Acks::topic`
        ("src/ch4_consumer/mod.rs", "group"), // GROUP, AUDIT_GROUP
        ("src/ch5_buffer/mod.rs", "logical_group"), // CONTROLLER_GROUP, AUDIT_GROUP, ARCHIVE_GROUP
        ("src/ch7_workflow/mod.rs", "logical"), // COMMAND_TOPICS
        ("src/ch7_workflow/mod.rs", "group"), // WORKFLOW_GROUP, machine-{STEPS}
        ("src/exercises/ex7_status.rs", "logical"), // COMMAND_TOPICS
        ("src/exercises/ex6_commit.rs", "group"), // the literals passed to `scenario`
        ("src/exercises/ex6_3_producer.rs", "logical"), // the literals passed to `scenario`
        ("src/exercises/ex7_3_workflow.rs", "logical"), // COMMAND_TOPICS
        ("src/exercises/capstone.rs", "logical"), // COMMAND_TOPICS
        ("../exercises/capstone.rs", "group"), // machine-{M1,M2,M3}, workflow
        ("../exercises/capstone.rs", "topic"), // the command and status topics
        ("src/exercises/capstone.rs", "group"), // the capstone's topics and groups
        (
            "../exercises/solutions/capstone.rs",
            "COMMAND_TOPICS[next.step as usize - 1]",
        ), // the capstone's topics and groups
        ("../exercises/solutions/capstone.rs", "topic"), // the capstone's topics and groups
        ("../exercises/solutions/capstone.rs", "group"), // the capstone's topics and groups
    ];

    #[test]
    fn every_name_the_course_creates_is_in_course_names() {
        let files = sources();
        assert!(
            files.iter().any(|(p, _)| p == "src/ch1_cluster/mod.rs"),
            "found the sources"
        );
        let consts = consts(&files);
        let known = |name: &str, why: &str| {
            assert!(
                COURSE_NAMES.contains(&name),
                "{why} uses the name {name:?}: add it to clean::COURSE_NAMES, or `course clean` leaves it behind"
            );
        };
        let mut dynamic_seen = Vec::new();
        for (path, text) in &files {
            for pattern in [
                "create_topic(",
                "consumer_config(",
                "ctx.name(",
                "self.name(",
            ] {
                for arg in first_args(text, pattern) {
                    // `self.name()` without an argument is some other name.
                    if arg.is_empty() {
                        continue;
                    }
                    let site = format!("{path}: {pattern}{arg})");
                    if let Some(literal) = arg.strip_prefix('"') {
                        known(literal.trim_end_matches('"'), &site);
                    } else if arg
                        .chars()
                        .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
                    {
                        let values = consts
                            .get(arg)
                            .unwrap_or_else(|| panic!("{site}: no const {arg} found"));
                        for literals in values {
                            assert!(
                                !literals.is_empty(),
                                "{site}: const {arg} is not a string on one line"
                            );
                            for l in literals {
                                known(l, &site);
                            }
                        }
                    } else {
                        assert!(
                            DYNAMIC.contains(&(path.as_str(), arg)),
                            "{site}: a computed name; check its values are in COURSE_NAMES, then list it in DYNAMIC"
                        );
                        dynamic_seen.push((path.clone(), arg.to_string()));
                    }
                }
            }
        }
        for (path, arg) in DYNAMIC {
            if files.iter().any(|(p, _)| p == path) {
                assert!(
                    dynamic_seen.iter().any(|(p, a)| p == path && a == arg),
                    "DYNAMIC lists {path}: {arg}, which no longer exists: remove it"
                );
            }
        }
        // Where the computed names come from: every topic and group constant...
        for (name, values) in &consts {
            if name.contains("TOPIC") || name.contains("GROUP") || name == "DLT" {
                for l in values.iter().flatten() {
                    known(l, &format!("const {name}"));
                }
            }
        }
        // ...chapter 3's topic per acks setting, chapter 7's group per machine,
        // and exercise 6's scenarios.
        for acks in crate::ch3_acks::Acks::SETTINGS {
            known(&acks.topic(), "Acks::topic");
        }
        for (machine, _) in crate::workshop::STEPS {
            known(
                &format!("machine-{machine}"),
                "chapter 7's machine consumers",
            );
        }
        let ex6 = &files
            .iter()
            .find(|(p, _)| p == "src/exercises/ex6_commit.rs")
            .unwrap()
            .1;
        for (at, _) in ex6.match_indices("scenario(") {
            let call = &ex6[at..];
            if let Some(literal) = call
                .split('"')
                .nth(1)
                .filter(|_| !ex6[..at].trim_end().ends_with("fn"))
            {
                known(literal, "exercise 6's scenario");
            }
        }
    }
}

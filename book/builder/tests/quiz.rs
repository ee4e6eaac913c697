//! The chapters' quizzes (book/quizzes/, book/builder/src/quiz.rs,
//! book/theme/quiz.js): the files parse, every computed answer is the
//! recorded run's, every link is an anchor of the page; and in headless
//! Chromium, the quiz of a page opened from files answers and scores, in
//! English and in French (the WebDriver client of tests/picture.rs).
//!
//! Alone: `cargo test -p kafka-course-book --test quiz`.

mod common;

use std::time::Duration;

use common::webdriver::*;
use common::*;
use kafka_course_book::quiz;
use kafka_course_book::{book_root, course_root};
use serde_json::{json, Value};

/// Every chapter page ends with a quiz.
const CHAPTERS: [&str; 7] = [
    "ch1_cluster",
    "ch2_producer",
    "ch3_acks",
    "ch4_consumer",
    "ch5_buffer",
    "ch6_order",
    "ch7_workflow",
];

/// The text of question `id`'s right option in chapter `slug`'s quiz (English).
fn right_option(slug: &str, id: &str) -> String {
    let questions = quiz::quiz(slug, &|_| None).unwrap();
    let q = questions
        .iter()
        .find(|q| q.id == id)
        .unwrap_or_else(|| panic!("{slug}: no question {id}"));
    q.options.iter().find(|o| o.right).unwrap().text.clone()
}

/// The index in `events` of the first event after `from` that `pred` accepts.
fn position_after(events: &[Value], from: usize, pred: impl Fn(&Value) -> bool) -> usize {
    from + 1
        + events[from + 1..]
            .iter()
            .position(pred)
            .expect("such an event in the run")
}

/// The chapter's recorded run, as JSON values (after insta's header).
fn timeline(slug: &str) -> Vec<Value> {
    let path = course_root().join(format!("lessons/tests/snapshots/{slug}.events.snap"));
    let text = std::fs::read_to_string(&path).unwrap();
    let body = text.splitn(3, "---\n").nth(2).expect("an insta header");
    body.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn every_quiz_parses_with_5_to_8_questions_and_links_that_exist() {
    let slugs = quiz::quiz_slugs().unwrap();
    for slug in CHAPTERS {
        assert!(
            slugs.contains(&slug.to_string()),
            "{slug}: no quiz: {slugs:?}"
        );
    }
    for slug in slugs {
        let page = std::fs::read_to_string(book_root().join(format!("src/{slug}.md")))
            .unwrap_or_else(|e| panic!("{slug}: a quiz for a page that does not exist: {e}"));
        let questions = quiz::quiz(&slug, &|_| None).unwrap();
        assert!(
            (5..=8).contains(&questions.len()),
            "{slug}: {} questions",
            questions.len()
        );
        let spec = quiz::quiz_spec(&slug).unwrap();
        assert!(
            spec.question.iter().any(|q| q.answer.is_some()),
            "{slug}: no question predicts the run"
        );
        let mut ids = std::collections::HashSet::new();
        for q in &questions {
            assert!(
                ids.insert(q.id.clone()),
                "{slug}: question id {} twice",
                q.id
            );
            // An explicit anchor: the same in both editions.
            assert!(
                page.contains(&format!("{{#{}}}", q.link)),
                "{slug}: question {} links to #{}, not an explicit anchor of the page",
                q.id,
                q.link
            );
            for o in &q.options {
                assert!(
                    !o.explain.trim().is_empty(),
                    "{slug}: {}: an option without explanation",
                    q.id
                );
            }
        }
    }
}

/// The answers computed from the run, read here from the run independently.
#[test]
fn computed_answers_are_the_recorded_runs() {
    let events = timeline("ch1_cluster");
    let questions = quiz::quiz("ch1_cluster", &|_| None).unwrap();
    let right = |id: &str| {
        let q = questions.iter().find(|q| q.id == id).unwrap();
        q.options.iter().find(|o| o.right).unwrap().text.clone()
    };
    let high = events
        .iter()
        .find(|e| e["kind"] == "watermarks" && e["partition"] == 1)
        .unwrap()["high"]
        .to_string();
    assert_eq!(right("partition-1-high-watermark"), high);
    // The number of records the run delivered to partition 1.
    let delivered = events
        .iter()
        .filter(|e| e["kind"] == "delivered" && e["partition"] == 1)
        .count();
    assert_eq!(high, delivered.to_string());
    let lot_a = events
        .iter()
        .find(|e| e["kind"] == "delivered" && e["key"] == "lot-A")
        .unwrap()["partition"]
        .to_string();
    assert_eq!(right("lot-a-partition"), lot_a);

    let events = timeline("ch2_producer");
    let questions = quiz::quiz("ch2_producer", &|_| None).unwrap();
    let right = |id: &str| {
        let q = questions.iter().find(|q| q.id == id).unwrap();
        q.options.iter().find(|o| o.right).unwrap().text.clone()
    };
    let delivered = |topic: &str, producer: Option<&str>| {
        events
            .iter()
            .find(|e| {
                e["kind"] == "delivered"
                    && e["topic"] == topic
                    && e["key"] == "lot-A"
                    && producer.is_none_or(|p| e["producer"] == p)
            })
            .unwrap()["partition"]
            .to_string()
    };
    assert_eq!(
        right("lot-a-partition"),
        delivered("machine-commands", None)
    );
    let murmur2 = delivered("routing", Some("murmur2_random"));
    assert_eq!(right("murmur2-partition"), murmur2);
    // The question's wrong option "the same one as librdkafka's default
    // partitioner" is wrong only while the run shows them disagree.
    assert_ne!(murmur2, delivered("routing", Some("consistent_random")));

    chapter_3_computed_answers();
    chapter_4_computed_answers();
    chapter_5_computed_answers();
    chapter_6_computed_answers();
    chapter_7_computed_answers();
}

fn chapter_3_computed_answers() {
    let events = timeline("ch3_acks");
    let right = |id: &str| right_option("ch3_acks", id);
    // What the lesson read back from acks-0, in offset order.
    let mut log: Vec<&Value> = events
        .iter()
        .filter(|e| e["kind"] == "read" && e["topic"] == "acks-0")
        .collect();
    log.sort_by_key(|e| e["offset"].as_i64());
    let sent = events
        .iter()
        .filter(|e| e["kind"] == "delivered" && e["topic"] == "acks-0")
        .count();
    assert_eq!(right("acks0-kept"), log.len().to_string());
    // A record was lost: the wrong options' explanations say so.
    assert!(log.len() < sent, "{} of {sent}", log.len());
    assert_eq!(
        right("acks0-first-record"),
        log[0]["value"].as_str().unwrap()
    );
    assert!(log.iter().all(|e| e["value"] != "m0"));
    // Every acks=0 report gives the same offset, the one the question asks.
    let offsets: std::collections::BTreeSet<String> = events
        .iter()
        .filter(|e| e["kind"] == "delivered" && e["producer"] == "acks=0")
        .map(|e| e["offset"].to_string())
        .collect();
    assert_eq!(offsets.len(), 1, "{offsets:?}");
    assert_eq!(right("acks0-offset"), *offsets.first().unwrap());
}

fn chapter_4_computed_answers() {
    let events = timeline("ch4_consumer");
    let right = |id: &str| right_option("ch4_consumer", id);
    let is = |e: &Value, kind: &str, group: &str| e["kind"] == kind && e["group"] == group;
    // member-b's partition is the one its assignment gives, taken from member-a.
    let given = events
        .iter()
        .find(|e| is(e, "assigned", "machines") && e["member"] == "member-b")
        .unwrap()["partitions"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(given.len(), 1, "{given:?}");
    assert_eq!(
        right("member-b-partition"),
        given[0]["partition"].to_string()
    );
    let revoked = events
        .iter()
        .find(|e| is(e, "revoked", "machines") && e["member"] == "member-a")
        .unwrap();
    assert!(revoked["partitions"]
        .as_array()
        .unwrap()
        .contains(&given[0]));
    // The commit that follows member-a's first record of partition 0.
    let first = events
        .iter()
        .position(|e| is(e, "read", "machines") && e["member"] == "member-a" && e["partition"] == 0)
        .unwrap();
    let commit = position_after(&events, first, |e| {
        is(e, "committed", "machines") && e["partition"] == 0
    });
    assert_eq!(
        right("first-commit"),
        (events[first]["offset"].as_i64().unwrap() + 1).to_string()
    );
    assert_eq!(right("first-commit"), events[commit]["offset"].to_string());
    // audit starts at partition 0's low watermark.
    let low = events
        .iter()
        .find(|e| {
            e["kind"] == "watermarks" && e["topic"] == "machine-commands" && e["partition"] == 0
        })
        .unwrap()["low"]
        .to_string();
    let audit = events
        .iter()
        .filter(|e| is(e, "read", "audit") && e["partition"] == 0)
        .map(|e| e["offset"].as_i64().unwrap())
        .min()
        .unwrap();
    assert_eq!(right("audit-start"), audit.to_string());
    assert_eq!(right("audit-start"), low);
    // dashboard's first record was written after it had its partitions.
    let joined = events
        .iter()
        .position(|e| is(e, "assigned", "dashboard"))
        .unwrap();
    let read = position_after(&events, joined, |e| is(e, "read", "dashboard"));
    let written = events
        .iter()
        .position(|e| {
            e["kind"] == "delivered"
                && e["partition"] == events[read]["partition"]
                && e["offset"] == events[read]["offset"]
                && e["topic"] == "machine-commands"
        })
        .unwrap();
    assert!(written > joined);
    assert_eq!(
        right("dashboard-first"),
        events[written]["key"].as_str().unwrap()
    );
    // As many dead letters as records set aside.
    let dead = events
        .iter()
        .filter(|e| e["kind"] == "dead_lettered")
        .count();
    assert!(dead > 0);
    assert_eq!(right("dead-letters"), dead.to_string());
}

fn chapter_5_computed_answers() {
    let events = timeline("ch5_buffer");
    let right = |id: &str| right_option("ch5_buffer", id);
    let group = "machine-controller";
    let is = |e: &Value, kind: &str, g: &str| e["kind"] == kind && e["group"] == g;
    // The records written to partition 0 while the group was away.
    let left = events
        .iter()
        .position(|e| is(e, "member_left", group))
        .unwrap();
    let back = position_after(&events, left, |e| is(e, "member_joined", group));
    let written = events[left..back]
        .iter()
        .filter(|e| e["kind"] == "delivered" && e["partition"] == 0)
        .count();
    assert!(written > 0);
    assert_eq!(right("lag-while-away"), written.to_string());
    // Back, it reads partition 0 from where it had committed.
    let resumed = position_after(&events, back, |e| {
        is(e, "read", group) && e["partition"] == 0
    });
    assert_eq!(right("resume"), events[resumed]["offset"].to_string());
    assert_ne!(right("resume"), "0");
    // quality-audit starts at partition 0's low watermark.
    let low = |topic: &str| {
        events
            .iter()
            .find(|e| e["kind"] == "watermarks" && e["topic"] == topic && e["partition"] == 0)
            .unwrap()["low"]
            .to_string()
    };
    let audit = events
        .iter()
        .filter(|e| is(e, "read", "quality-audit") && e["partition"] == 0)
        .map(|e| e["offset"].as_i64().unwrap())
        .min()
        .unwrap();
    assert_eq!(right("quality-audit-start"), audit.to_string());
    assert_eq!(right("quality-audit-start"), low("machine-commands"));
    // photo-archive starts at the low watermark retention left, past 0.
    let archive = events
        .iter()
        .filter(|e| is(e, "read", "photo-archive"))
        .map(|e| e["offset"].as_i64().unwrap())
        .min()
        .unwrap();
    assert_eq!(right("photo-archive-start"), archive.to_string());
    assert_eq!(right("photo-archive-start"), low("inspection-photos"));
    assert!(archive > 0);
}

fn chapter_6_computed_answers() {
    let events = timeline("ch6_order");
    let right = |id: &str| right_option("ch6_order", id);
    // In send order (the order of the delivery reports' commands), the offsets.
    let offsets = |topic: &str| -> Vec<i64> {
        ["lot-A M1 mill", "lot-A M2 drill", "lot-A M3 polish"]
            .iter()
            .map(|v| {
                events
                    .iter()
                    .find(|e| e["kind"] == "delivered" && e["topic"] == topic && e["value"] == *v)
                    .unwrap()["offset"]
                    .as_i64()
                    .unwrap()
            })
            .collect()
    };
    // Without idempotence M1 comes after the two others.
    let plain = offsets("lot-commands-plain");
    assert_eq!(plain[0], *plain.iter().max().unwrap(), "{plain:?}");
    assert_ne!(plain[0], 0);
    assert_eq!(right("plain-m1-offset"), plain[0].to_string());
    // With idempotence, in order from the first offset.
    let idempotent = offsets("lot-commands-idempotent");
    assert!(idempotent.windows(2).all(|w| w[0] < w[1]), "{idempotent:?}");
    assert_eq!(right("idempotent-m1-offset"), idempotent[0].to_string());
    // The restarted controller reads first the offset it had committed last
    // before the crash.
    let is = |e: &Value, kind: &str| e["kind"] == kind && e["group"] == "machine-controller";
    let crash = events.iter().position(|e| is(e, "member_crashed")).unwrap();
    let committed = events[..crash]
        .iter()
        .rev()
        .find(|e| is(e, "committed"))
        .unwrap()["offset"]
        .to_string();
    let joined = position_after(&events, crash, |e| is(e, "member_joined"));
    let read = position_after(&events, joined, |e| is(e, "read"));
    assert_eq!(right("resume-after-crash"), committed);
    assert_eq!(
        right("resume-after-crash"),
        events[read]["offset"].to_string()
    );
}

fn chapter_7_computed_answers() {
    let events = timeline("ch7_workflow");
    let right = |id: &str| right_option("ch7_workflow", id);
    // The naive plant's first step done is not M1's.
    let first = events.iter().find(|e| e["kind"] == "processed").unwrap();
    assert_eq!(first["key"], "lot-A");
    assert_ne!(first["member"], "machine-M1");
    assert_eq!(right("naive-first"), first["member"].as_str().unwrap());
    // The command the workflow sends right after reading lot-C's M1 status.
    let status = events
        .iter()
        .find(|e| {
            e["kind"] == "delivered"
                && e["topic"] == "machine-status"
                && e["value"] == "lot-C M1 done"
        })
        .unwrap();
    let read = events
        .iter()
        .position(|e| {
            e["kind"] == "read"
                && e["group"] == "workflow"
                && e["topic"] == "machine-status"
                && e["offset"] == status["offset"]
        })
        .unwrap();
    let sent = position_after(&events, read, |e| {
        e["kind"] == "delivered" && e["producer"] == "workflow"
    });
    assert_eq!(
        right("next-after-m1"),
        events[sent]["value"].as_str().unwrap()
    );
    // The status comes from the machine that processed lot-C's M1 command.
    let m1 = events
        .iter()
        .find(|e| e["kind"] == "processed" && e["topic"] == "m1-commands" && e["key"] == "lot-C")
        .unwrap();
    assert_eq!(right("status-writer"), m1["member"].as_str().unwrap());
}

#[test]
fn both_editions_have_the_quiz_data_and_the_french_is_french() {
    let out = book();
    let en = std::fs::read_to_string(out.join("quizzes/ch1_cluster.js")).unwrap();
    let fr = std::fs::read_to_string(out.join("fr/quizzes/ch1_cluster.js")).unwrap();
    assert!(en.contains("What is an in-sync replica?"), "{en}");
    assert!(
        fr.contains("Qu'est-ce qu'une réplique synchronisée\u{a0}?"),
        "{fr}"
    );
    // Every chapter page, in both editions, ends with its quiz: at least 5
    // questions, the French ones in French.
    for slug in CHAPTERS {
        let data = |edition: &str| -> Vec<Value> {
            let js = std::fs::read_to_string(out.join(format!("{edition}quizzes/{slug}.js")))
                .unwrap_or_else(|e| panic!("{edition}{slug}: no quiz data: {e}"));
            let json = js.split_once("] = ").unwrap().1.trim_end();
            serde_json::from_str::<Vec<Value>>(json.trim_end_matches(';')).unwrap()
        };
        let (en, fr) = (data(""), data("fr/"));
        assert!(en.len() >= 5, "{slug}: {} questions", en.len());
        assert_eq!(en.len(), fr.len(), "{slug}");
        for (e, f) in en.iter().zip(&fr) {
            assert_ne!(
                e["text"], f["text"],
                "{slug}: question {} is not translated",
                e["id"]
            );
            for (eo, fo) in e["options"]
                .as_array()
                .unwrap()
                .iter()
                .zip(f["options"].as_array().unwrap())
            {
                assert_ne!(
                    eo["explain"], fo["explain"],
                    "{slug}: {}: an explanation is not translated",
                    e["id"]
                );
                assert_eq!(eo["right"], fo["right"], "{slug}: {}", e["id"]);
            }
        }
        for edition in ["", "fr/"] {
            let page = format!("{edition}{slug}.html");
            let html = std::fs::read_to_string(out.join(&page)).unwrap();
            assert!(
                html.contains(&format!("data-chapter=\"{slug}\"")),
                "{page}: no quiz element"
            );
            assert!(html.contains("id=\"quiz\""), "{page}: no Quiz heading");
        }
    }
}

fn page_url(page: &str) -> String {
    format!("file://{}", book().join(page).display())
}

const MOUNTED: &str = "return document.querySelectorAll('[data-quiz-question]').length";

/// Answer every question with its right option (from the quiz's data), and read the score.
fn answer_all(b: &Browser) -> (i64, String, String) {
    b.until(MOUNTED, Duration::from_secs(10), |v| {
        v.as_i64().unwrap_or(0) >= 5
    });
    let n = b.js(MOUNTED).as_i64().unwrap();
    b.js("const data = window.courseQuizzes['ch1_cluster']; document.querySelectorAll('[data-quiz-question]').forEach((q, i) => q.querySelectorAll('[data-quiz-option]')[data[i].options.findIndex(o => o.right)].click())");
    let score = b.js("return document.querySelector('[data-quiz-score]').dataset.quizScore");
    let explain = b.js("return document.querySelector('.quiz-explain').textContent");
    (
        n,
        score.as_str().unwrap().to_string(),
        explain.as_str().unwrap().to_string(),
    )
}

#[test]
#[cfg_attr(
    not(any(has_chromium, require_chromium)),
    ignore = "needs headless Chromium: apt-get install chromium chromium-driver"
)]
fn chapter_1_quiz_answers_and_scores_from_files_and_keeps_the_answers() {
    let b = Browser::start("quiz-en", &[]);
    b.goto(&page_url("ch1_cluster.html"));
    let (n, score, explain) = answer_all(&b);
    assert!(n >= 5, "{n} questions");
    // Question 1's first option is the computed right answer.
    assert_eq!(score, format!("{n}/{n}"));
    // A wrong answer: explained, the score goes down.
    b.js("document.querySelector('[data-quiz-question]').querySelectorAll('[data-quiz-option]:not([data-right])')[0].click()");
    assert_eq!(
        b.js("return document.querySelector('[data-quiz-question]').dataset.answered"),
        json!("wrong")
    );
    assert!(b
        .js("return document.querySelector('.quiz-explain').textContent")
        .as_str()
        .unwrap()
        .starts_with("Wrong: "));
    let score = b
        .js("return document.querySelector('[data-quiz-score]').dataset.quizScore")
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(score, format!("{}/{n}", n - 1));
    assert!(explain.starts_with("Right: "), "{explain}");
    // Kept in the browser: the page again shows the answers.
    b.goto(&page_url("ch1_cluster.html"));
    b.until(
        "let s = document.querySelector('[data-quiz-score]'); return s ? s.dataset.quizScore : null",
        Duration::from_secs(10),
        |v| v.as_str() == Some(score.as_str()),
    );
    assert_eq!(
        b.js("return document.querySelectorAll('[data-quiz-question][data-answered]').length"),
        json!(n)
    );
}

#[test]
#[cfg_attr(
    not(any(has_chromium, require_chromium)),
    ignore = "needs headless Chromium: apt-get install chromium chromium-driver"
)]
fn the_french_page_asks_its_quiz_in_french() {
    let b = Browser::start("quiz-fr", &[]);
    b.goto(&page_url("fr/ch1_cluster.html"));
    let (n, score, explain) = answer_all(&b);
    assert!(n >= 5);
    assert!(score.ends_with(&format!("/{n}")), "{score}");
    assert!(explain.starts_with("Juste\u{a0}: "), "{explain}");
    let text = b.js("return document.querySelector('.course-quiz').textContent");
    assert!(
        text.as_str().unwrap().contains("réplique synchronisée"),
        "{text}"
    );
    assert!(text.as_str().unwrap().contains("bonne"), "{text}");
}

#[test]
#[cfg_attr(
    not(any(has_chromium, require_chromium)),
    ignore = "needs headless Chromium: apt-get install chromium chromium-driver"
)]
fn every_chapter_page_shows_its_quiz_from_files_in_both_editions() {
    let b = Browser::start("quiz-all", &[]);
    for slug in CHAPTERS {
        for edition in ["", "fr/"] {
            b.goto(&page_url(&format!("{edition}{slug}.html")));
            b.until(MOUNTED, Duration::from_secs(10), |v| {
                v.as_i64().unwrap_or(0) >= 5
            });
            // As many questions drawn as the quiz's data holds, each with its options.
            let data = b.js(&format!("return window.courseQuizzes['{slug}'].length"));
            assert_eq!(b.js(MOUNTED), data, "{edition}{slug}");
            assert_eq!(
                b.js("return [...document.querySelectorAll('[data-quiz-question]')].every(q => q.querySelectorAll('[data-quiz-option]').length >= 2)"),
                json!(true),
                "{edition}{slug}"
            );
        }
    }
}

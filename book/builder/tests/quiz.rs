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
    for slug in ["ch1_cluster", "ch2_producer"] {
        assert!(slugs.contains(&slug.to_string()), "{slugs:?}");
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
    for page in ["ch1_cluster.html", "fr/ch1_cluster.html"] {
        let html = std::fs::read_to_string(out.join(page)).unwrap();
        assert!(
            html.contains("data-chapter=\"ch1_cluster\""),
            "{page}: no quiz element"
        );
        assert!(html.contains("id=\"quiz\""), "{page}: no Quiz heading");
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

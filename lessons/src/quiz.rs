//! `course quiz N`: chapter N's quiz in the terminal, the same questions as
//! the book's page (book/quizzes/<slug>.toml, MAINTAINING.md "Quizzes"), in
//! the course's language: the French from the book's catalogue
//! (book/po/fr.po, msgctxt "quiz"), the computed answers from the lesson's
//! recorded run (lessons/tests/snapshots/<slug>.events.snap), as the book's
//! builder computes them. Everything is embedded when the course compiles:
//! a copy of the course asks its quizzes without reading any file.

use std::collections::HashMap;
use std::io::{BufRead, Write};
use std::sync::OnceLock;

use anyhow::{bail, Context, Result};
use serde::Deserialize;

use crate::tr;

/// (chapter, page, quiz file, recorded run).
pub const QUIZZES: &[(u32, &str, &str, &str)] = &[
    (
        1,
        "ch1_cluster",
        include_str!("../../book/quizzes/ch1_cluster.toml"),
        include_str!("../tests/snapshots/ch1_cluster.events.snap"),
    ),
    (
        2,
        "ch2_producer",
        include_str!("../../book/quizzes/ch2_producer.toml"),
        include_str!("../tests/snapshots/ch2_producer.events.snap"),
    ),
    (
        3,
        "ch3_acks",
        include_str!("../../book/quizzes/ch3_acks.toml"),
        include_str!("../tests/snapshots/ch3_acks.events.snap"),
    ),
    (
        4,
        "ch4_consumer",
        include_str!("../../book/quizzes/ch4_consumer.toml"),
        include_str!("../tests/snapshots/ch4_consumer.events.snap"),
    ),
    (
        5,
        "ch5_buffer",
        include_str!("../../book/quizzes/ch5_buffer.toml"),
        include_str!("../tests/snapshots/ch5_buffer.events.snap"),
    ),
    (
        6,
        "ch6_order",
        include_str!("../../book/quizzes/ch6_order.toml"),
        include_str!("../tests/snapshots/ch6_order.events.snap"),
    ),
    (
        7,
        "ch7_workflow",
        include_str!("../../book/quizzes/ch7_workflow.toml"),
        include_str!("../tests/snapshots/ch7_workflow.events.snap"),
    ),
];

static BOOK_PO: &str = include_str!("../../book/po/fr.po");

#[derive(Deserialize)]
struct QuizFile {
    question: Vec<QuestionSpec>,
}

#[derive(Deserialize)]
struct QuestionSpec {
    id: String,
    text: String,
    link: String,
    answer: Option<AnswerSpec>,
    option: Vec<OptionSpec>,
}

#[derive(Deserialize)]
struct AnswerSpec {
    kind: String,
    #[serde(rename = "where", default)]
    filter: toml::Table,
    field: String,
}

#[derive(Deserialize)]
struct OptionSpec {
    text: String,
    #[serde(default)]
    right: bool,
    explain: String,
}

/// A question as asked: texts in the course's language, the right option marked.
pub struct Question {
    pub id: String,
    pub text: String,
    pub link: String,
    /// (text, right, explanation)
    pub options: Vec<(String, bool, String)>,
}

/// The quiz texts' French, from the book's catalogue (msgctxt "quiz").
fn french() -> &'static HashMap<String, String> {
    static MAP: OnceLock<HashMap<String, String>> = OnceLock::new();
    MAP.get_or_init(|| {
        let catalog = polib::po_file::parse_from_reader(BOOK_PO.as_bytes())
            .expect("book/po/fr.po is a valid PO file");
        catalog
            .messages()
            .filter(|m| !m.flags().is_fuzzy() && m.msgctxt() == Some("quiz"))
            .filter_map(|m| {
                let text = m.msgstr().ok().filter(|t| !t.is_empty())?;
                Some((m.msgid().to_string(), text.to_string()))
            })
            .collect()
    })
}

fn computed(run: &str, a: &AnswerSpec) -> Option<String> {
    let body = run.splitn(3, "---\n").nth(2)?;
    for line in body.lines().filter(|l| !l.trim().is_empty()) {
        let event: serde_json::Value = serde_json::from_str(line).ok()?;
        if event["kind"] != a.kind.as_str() {
            continue;
        }
        if a.filter
            .iter()
            .all(|(k, v)| event.get(k) == serde_json::to_value(v).ok().as_ref())
        {
            return match &event[&a.field] {
                serde_json::Value::String(s) => Some(s.clone()),
                serde_json::Value::Null => None,
                v => Some(v.to_string()),
            };
        }
    }
    None
}

/// Chapter `number`'s quiz in the course's language: (page, questions).
pub fn quiz(number: u32) -> Result<(&'static str, Vec<Question>)> {
    let Some((_, slug, file, run)) = QUIZZES.iter().find(|q| q.0 == number) else {
        let list: Vec<String> = QUIZZES.iter().map(|q| q.0.to_string()).collect();
        bail!(
            "{}",
            tr!(
                "there is no quiz for chapter {}; quizzes: {}",
                number,
                list.join(", ")
            )
        );
    };
    let spec: QuizFile =
        toml::from_str(file).with_context(|| format!("book/quizzes/{slug}.toml"))?;
    let fr = crate::i18n::french();
    let t = |s: &str| {
        if fr {
            french().get(s).cloned().unwrap_or_else(|| s.to_string())
        } else {
            s.to_string()
        }
    };
    let mut questions = Vec::new();
    for q in spec.question {
        let answer = match &q.answer {
            Some(a) => Some(computed(run, a).with_context(|| {
                tr!(
                    "{}: question {}: the lesson's run has no answer",
                    slug,
                    q.id
                )
            })?),
            None => None,
        };
        let options = q
            .option
            .iter()
            .map(|o| match (&answer, o.text.contains("{answer}")) {
                (Some(v), true) => (o.text.replace("{answer}", v), true, t(&o.explain)),
                (Some(_), false) => (t(&o.text), false, t(&o.explain)),
                (None, _) => (t(&o.text), o.right, t(&o.explain)),
            })
            .collect();
        questions.push(Question {
            id: q.id,
            text: t(&q.text),
            link: q.link,
            options,
        });
    }
    Ok((slug, questions))
}

/// Ask chapter `number`'s quiz on `input`, write to `out`. Stops cleanly at
/// the end of the input (nothing more to read: the score so far).
pub fn run(number: u32, input: &mut dyn BufRead, out: &mut dyn Write) -> Result<()> {
    let (slug, questions) = quiz(number)?;
    let total = questions.len();
    writeln!(
        out,
        "{}",
        tr!(
            "Chapter {}'s quiz: {} questions. Answer each with its letter, then Enter.",
            number,
            total
        )
    )?;
    let mut right = 0;
    let mut asked = 0;
    'questions: for (n, q) in questions.iter().enumerate() {
        writeln!(out)?;
        writeln!(out, "{}. {}", n + 1, q.text)?;
        for (i, (text, _, _)) in q.options.iter().enumerate() {
            writeln!(out, "   {}) {text}", letter(i))?;
        }
        let letters: Vec<String> = (0..q.options.len())
            .map(|i| letter(i).to_string())
            .collect();
        let chosen = loop {
            write!(out, "{}", tr!("Your answer ({}): ", letters.join(", ")))?;
            out.flush()?;
            let mut line = String::new();
            if input.read_line(&mut line)? == 0 {
                writeln!(out)?;
                writeln!(out, "{}", tr!("No more answers: the quiz stops here."))?;
                break 'questions;
            }
            let answer = line.trim().to_lowercase();
            if let Some(i) = letters.iter().position(|l| *l == answer) {
                break i;
            }
        };
        asked += 1;
        let (_, is_right, explain) = &q.options[chosen];
        if *is_right {
            right += 1;
            writeln!(out, "{} {explain}", tr!("Right."))?;
        } else {
            writeln!(out, "{} {explain}", tr!("Wrong."))?;
            if let Some(i) = q.options.iter().position(|o| o.1) {
                writeln!(
                    out,
                    "{}",
                    tr!(
                        "The right answer: {}) {}. {}",
                        letter(i),
                        q.options[i].0,
                        q.options[i].2
                    )
                )?;
            }
        }
        let page = if crate::i18n::french() {
            format!("book/build/fr/{slug}.html")
        } else {
            format!("book/build/{slug}.html")
        };
        writeln!(out, "{}", tr!("Read again: {}#{}", page, q.link))?;
    }
    writeln!(out)?;
    writeln!(
        out,
        "{}",
        tr!("Score: {} of {} right ({} answered).", right, total, asked)
    )?;
    // Kept in the student's copy, for them and for the teacher's table.
    if asked > 0 {
        crate::record::update(|r| r.quiz(number, right, total, asked));
    }
    Ok(())
}

fn letter(i: usize) -> char {
    (b'a' + i as u8) as char
}

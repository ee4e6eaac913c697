//! The chapters' quizzes (MAINTAINING.md, "Quizzes"): `book/quizzes/<slug>.toml`,
//! English texts that are the catalogue's msgids (msgctxt "quiz"), and for
//! "predict the output" questions a right answer computed from the lesson's
//! recorded run (its `.events.snap` timeline) when the book is built.

use std::fs;
use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};

use crate::{book_root, timeline_events, timeline_snapshot};

/// The folder of the quizzes, in `book/`.
pub const QUIZZES: &str = "quizzes";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuizFile {
    pub question: Vec<QuestionSpec>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuestionSpec {
    pub id: String,
    pub text: String,
    /// An explicit `{#anchor}` of the chapter's page.
    pub link: String,
    /// For "predict the output": where the right answer is in the run.
    pub answer: Option<AnswerSpec>,
    pub option: Vec<OptionSpec>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnswerSpec {
    pub kind: String,
    #[serde(rename = "where", default)]
    pub filter: toml::Table,
    pub field: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OptionSpec {
    pub text: String,
    #[serde(default)]
    pub right: bool,
    pub explain: String,
}

/// A question as the page and the terminal ask it.
#[derive(Debug, Clone, Serialize)]
pub struct Question {
    pub id: String,
    pub text: String,
    /// The anchor in the chapter's page that teaches it.
    pub link: String,
    pub options: Vec<QuizOption>,
}

#[derive(Debug, Clone, Serialize)]
pub struct QuizOption {
    pub text: String,
    pub right: bool,
    pub explain: String,
}

/// The quiz file of chapter `slug`.
pub fn quiz_path(slug: &str) -> PathBuf {
    book_root().join(QUIZZES).join(format!("{slug}.toml"))
}

/// The chapters that have a quiz, by name.
pub fn quiz_slugs() -> Result<Vec<String>> {
    let dir = book_root().join(QUIZZES);
    let mut slugs = Vec::new();
    for entry in fs::read_dir(&dir).with_context(|| format!("reading {}", dir.display()))? {
        let name = entry?.file_name().to_string_lossy().to_string();
        if let Some(slug) = name.strip_suffix(".toml") {
            slugs.push(slug.to_string());
        }
    }
    slugs.sort();
    Ok(slugs)
}

/// The quiz file of `slug` as written.
pub fn quiz_spec(slug: &str) -> Result<QuizFile> {
    let path = quiz_path(slug);
    let text = fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    toml::from_str(&text).with_context(|| format!("parsing {}", path.display()))
}

/// The value of the run's first event of `answer.kind` whose fields equal
/// `answer.where`: its field `answer.field`, as text.
pub fn computed_answer(slug: &str, answer: &AnswerSpec) -> Result<String> {
    let snapshot = timeline_snapshot(slug, "en");
    for line in timeline_events(&snapshot)? {
        let event: serde_json::Value = serde_json::from_str(&line)?;
        if event["kind"] != answer.kind.as_str() {
            continue;
        }
        let matches = answer.filter.iter().all(|(k, v)| {
            let want = serde_json::to_value(v).unwrap_or_default();
            event.get(k) == Some(&want)
        });
        if matches {
            return match &event[&answer.field] {
                serde_json::Value::String(s) => Ok(s.clone()),
                serde_json::Value::Null => bail!(
                    "{}: the {} event has no field {}",
                    snapshot.display(),
                    answer.kind,
                    answer.field
                ),
                v => Ok(v.to_string()),
            };
        }
    }
    bail!(
        "{}: no {} event with {:?}: the quiz {} asks about a run that no longer happens",
        snapshot.display(),
        answer.kind,
        answer.filter,
        quiz_path(slug).display()
    )
}

/// Chapter `slug`'s quiz, its computed answers filled in, each text through
/// `translate` (None: the English). Checked: one right option per question,
/// a computed answer equal to no other option.
pub fn quiz(slug: &str, translate: &dyn Fn(&str) -> Option<String>) -> Result<Vec<Question>> {
    let spec = quiz_spec(slug)?;
    let tr = |s: &str| translate(s).unwrap_or_else(|| s.to_string());
    let mut questions = Vec::new();
    for q in spec.question {
        let computed = match &q.answer {
            Some(a) => Some(computed_answer(slug, a)?),
            None => None,
        };
        let mut options = Vec::new();
        for o in &q.option {
            let (text, right) = match (&computed, o.text.contains("{answer}")) {
                (Some(value), true) => (o.text.replace("{answer}", value), true),
                (Some(value), false) => {
                    if o.text == *value {
                        bail!(
                            "{}: question {}: the option {:?} is the answer the run computed",
                            quiz_path(slug).display(),
                            q.id,
                            o.text
                        );
                    }
                    (tr(&o.text), false)
                }
                (None, _) => (tr(&o.text), o.right),
            };
            options.push(QuizOption {
                text,
                right,
                explain: tr(&o.explain),
            });
        }
        let rights = options.iter().filter(|o| o.right).count();
        if rights != 1 || options.len() < 2 {
            bail!("{}: question {} has {rights} right options of {}: it needs exactly one, and another", quiz_path(slug).display(), q.id, options.len());
        }
        questions.push(Question {
            id: q.id,
            text: tr(&q.text),
            link: q.link,
            options,
        });
    }
    Ok(questions)
}

/// The texts to translate of chapter `slug`'s quiz (those with a letter).
pub fn quiz_texts(slug: &str) -> Result<Vec<String>> {
    let mut texts = Vec::new();
    for q in quiz_spec(slug)?.question {
        texts.push(q.text);
        for o in q.option {
            if !o.text.contains("{answer}") {
                texts.push(o.text);
            }
            texts.push(o.explain);
        }
    }
    texts.retain(|t| t.chars().any(char::is_alphabetic));
    let mut seen = std::collections::HashSet::new();
    texts.retain(|t| seen.insert(t.clone()));
    Ok(texts)
}

/// The page's part: a heading and the element quiz.js fills.
pub fn quiz_markdown(slug: &str) -> String {
    format!("\n\n## Quiz {{#quiz}}\n\n<div class=\"course-quiz\" data-chapter=\"{slug}\"></div>\n")
}

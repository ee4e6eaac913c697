//! The reader's language, English or French: the course's small runtime
//! for it, shared by the lessons (`course`) and the book's server
//! (`serve-book`).
//!
//! Every message the course prints is written in English where it is
//! printed, inside `tr!` (a `format!` that translates, from the
//! `kafka-course-macros` crate) or `say!` (which narrates with it). The
//! French texts are in one gettext catalogue, `lessons/po/fr.po` (its
//! references name files, not lines, so edits do not churn it), with the
//! English as the `msgid`: the same format, and the same tools, as the
//! book's translation (`book/po/fr.po`). `tr!` reads the catalogue at
//! compile time and expands to `if course_i18n::french() { .. } else { .. }`.
//! `cargo run --example i18n -- update` adds new English messages to it;
//! the tests fail while one has no French (tests/i18n.rs).
//!
//! The language is chosen once, at start-up: `--lang`, else `COURSE_LANG`,
//! else the locale (`LC_ALL`, `LC_MESSAGES`, `LANG`, as gettext programs
//! read them: `fr_FR.UTF-8` gives French), else English. A program that
//! never chooses, such as the tests, speaks English.

use std::sync::atomic::{AtomicBool, Ordering};

/// A language the course speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Lang {
    /// English
    En,
    /// Français
    Fr,
}

static FRENCH: AtomicBool = AtomicBool::new(false);

/// Speak `lang` from now on, in this process. Child processes the course
/// starts (exercise runners) get it through `COURSE_LANG`.
pub fn set(lang: Lang) {
    FRENCH.store(lang == Lang::Fr, Ordering::Relaxed);
}

/// The language chosen.
pub fn current() -> Lang {
    if french() {
        Lang::Fr
    } else {
        Lang::En
    }
}

/// Whether the course speaks French (what `tr!` asks before each message).
pub fn french() -> bool {
    FRENCH.load(Ordering::Relaxed)
}

impl Lang {
    /// The code `COURSE_LANG` and `--lang` take: `en`, `fr`.
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Fr => "fr",
        }
    }

    /// `en`, `fr`, or a locale name such as `fr_FR.UTF-8` or `fr-CA`.
    pub fn parse(name: &str) -> Option<Lang> {
        let lower = name.trim().to_ascii_lowercase();
        let base = lower.split(['_', '-', '.', '@']).next().unwrap_or("");
        match base {
            "fr" => Some(Lang::Fr),
            "en" | "c" | "posix" => Some(Lang::En),
            _ => None,
        }
    }
}

/// The language the locale asks for, as a gettext program reads it: the
/// first of `LC_ALL`, `LC_MESSAGES`, `LANG` that is set and not empty
/// decides; French if it names French, English otherwise.
pub fn from_locale(var: impl Fn(&str) -> Option<String>) -> Lang {
    ["LC_ALL", "LC_MESSAGES", "LANG"]
        .iter()
        .filter_map(|name| var(name).filter(|v| !v.is_empty()))
        .next()
        .and_then(|v| Lang::parse(&v))
        .unwrap_or(Lang::En)
}

/// The language for this process: `choice` (from `--lang` or
/// `COURSE_LANG`), else the locale's.
pub fn choose(choice: Option<Lang>) -> Lang {
    choice.unwrap_or_else(|| from_locale(|name| std::env::var(name).ok()))
}

/// `one` or `many`, as `n` asks in the reader's language: English says
/// "1 broker, 0 brokers", French « 1 broker, 0 broker ».
pub fn plural<'a>(n: usize, one: &'a str, many: &'a str) -> &'a str {
    let singular = if french() { n <= 1 } else { n == 1 };
    if singular {
        one
    } else {
        many
    }
}

/// A number as the reader writes it: `0.5` in English, `0,5` in French.
pub fn decimal(x: impl ToString) -> String {
    let text = x.to_string();
    if french() {
        text.replace('.', ",")
    } else {
        text
    }
}

/// A number to `places` decimals as the reader writes it: `4.5` in
/// English, `4,5` in French (what `{:.1}` prints, with the reader's
/// decimal separator).
pub fn fixed(x: f64, places: usize) -> String {
    decimal(format!("{x:.places$}"))
}

/// A number and its unit as the reader writes them: `30 ms` in English,
/// `30 ms` with the no-break space French puts between a number and its
/// unit (U+00A0), so that a line break never parts them.
pub fn with_unit(number: impl std::fmt::Display, unit: &str) -> String {
    let space = if french() { "\u{a0}" } else { " " };
    format!("{number}{space}{unit}")
}

/// A time in seconds, to `places` decimals, with its unit: `4.5 s` in
/// English, `4,5 s` in French (decimal comma, no-break space).
pub fn seconds(secs: f64, places: usize) -> String {
    with_unit(fixed(secs, places), "s")
}

/// What goes before a colon or a semicolon that no message carries (a list
/// of names has no words to translate): nothing in English, the no-break
/// space of French typography in French.
pub fn before_punctuation() -> &'static str {
    if french() {
        "\u{a0}"
    } else {
        ""
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_units_as_each_language_writes_them() {
        set(Lang::En);
        assert_eq!(fixed(35.24, 1), "35.2");
        assert_eq!(seconds(4.5, 1), "4.5 s");
        assert_eq!(with_unit(30, "ms"), "30 ms");
        set(Lang::Fr);
        let french = (fixed(35.24, 1), seconds(4.5, 3), with_unit(30, "ms"));
        set(Lang::En);
        assert_eq!(
            french,
            ("35,2".into(), "4,500\u{a0}s".into(), "30\u{a0}ms".into())
        );
    }

    #[test]
    fn the_locale_decides_as_gettext_reads_it() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| v.to_string())
            }
        };
        assert_eq!(from_locale(env(&[])), Lang::En);
        assert_eq!(from_locale(env(&[("LANG", "fr_FR.UTF-8")])), Lang::Fr);
        assert_eq!(from_locale(env(&[("LANG", "fr_CA")])), Lang::Fr);
        assert_eq!(from_locale(env(&[("LANG", "de_DE.UTF-8")])), Lang::En);
        // LC_ALL wins over LC_MESSAGES, which wins over LANG; empty is unset.
        let all = env(&[("LC_ALL", "C"), ("LC_MESSAGES", "fr_FR"), ("LANG", "fr_FR")]);
        assert_eq!(from_locale(all), Lang::En);
        let messages = env(&[("LC_ALL", ""), ("LC_MESSAGES", "fr_FR"), ("LANG", "en_US")]);
        assert_eq!(from_locale(messages), Lang::Fr);
        assert_eq!(Lang::parse("fr"), Some(Lang::Fr));
        assert_eq!(Lang::parse("EN"), Some(Lang::En));
        assert_eq!(Lang::parse("klingon"), None);
    }
}

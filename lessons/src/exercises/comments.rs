//! The explanations in the students' files, paragraph by paragraph: what
//! `cargo run --example i18n` extracts from the starters into
//! `exercises/po/fr.po`, and what [`translate`] puts back in French.
//!
//! A paragraph is a run of whole-line comments with the same indentation
//! and the same marker (`//!`, `///` or `//`), up to a blank comment line
//! or a line that is not a comment. Its text is its lines without the
//! indentation, the marker and the one space after it, joined by line
//! breaks; a translation gets the paragraph's indentation and marker back
//! on each of its own lines, so the translator chooses where French lines
//! break. Code is never touched (nor a comment that ends a line of code:
//! the starters have none), so a translated file compiles exactly as the
//! English one does.
//!
//! Plain `std`, no crate paths: examples/i18n.rs includes this file too.

/// One paragraph of comments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paragraph {
    /// Its first line, counted from 1.
    pub line: usize,
    /// Its text, one line per comment line.
    pub text: String,
}

/// A whole-line comment: (its indentation and marker, its text). A blank
/// comment line has an empty text.
fn comment(line: &str) -> Option<(&str, &str)> {
    let indent = line.len() - line.trim_start().len();
    let rest = &line[indent..];
    let marker = ["//!", "///", "//"]
        .into_iter()
        .find(|m| rest.starts_with(m))?;
    // `////...` is a ruler, `//@` a starter marker: not prose.
    if rest[marker.len()..].starts_with(['/', '@']) {
        return None;
    }
    let text = &rest[marker.len()..];
    let text = text.strip_prefix(' ').unwrap_or(text);
    Some((&line[..indent + marker.len()], text.trim_end()))
}

/// A source split into its lines and its paragraphs.
struct Split<'s> {
    lines: Vec<&'s str>,
    /// For each line, the paragraph it belongs to (an index into `found`).
    owner: Vec<Option<usize>>,
    /// The paragraphs, in order, each with its indentation and marker.
    found: Vec<(String, Paragraph)>,
}

fn split(source: &str) -> Split<'_> {
    let lines: Vec<&str> = source.lines().collect();
    let mut owner = vec![None; lines.len()];
    let mut found: Vec<(String, Paragraph)> = Vec::new();
    let mut open: Option<String> = None;
    for (i, line) in lines.iter().enumerate() {
        match comment(line) {
            Some((prefix, text)) if !text.is_empty() => {
                if open.as_deref() == Some(prefix) {
                    let (_, p) = found.last_mut().expect("an open paragraph");
                    p.text.push('\n');
                    p.text.push_str(text);
                } else {
                    found.push((
                        prefix.to_string(),
                        Paragraph {
                            line: i + 1,
                            text: text.to_string(),
                        },
                    ));
                    open = Some(prefix.to_string());
                }
                owner[i] = Some(found.len() - 1);
            }
            _ => open = None,
        }
    }
    Split {
        lines,
        owner,
        found,
    }
}

/// The paragraphs of comments of `source`, in order.
pub fn paragraphs(source: &str) -> Vec<Paragraph> {
    split(source).found.into_iter().map(|(_, p)| p).collect()
}

/// `source` with every paragraph that `translation` gives a text for
/// replaced by that text, as comment lines with the paragraph's indentation
/// and marker. Everything else is kept byte for byte.
pub fn translate(source: &str, translation: impl Fn(&str) -> Option<String>) -> String {
    let Split {
        lines,
        owner,
        found,
    } = split(source);
    let mut out = String::with_capacity(source.len() + source.len() / 4);
    for (i, line) in lines.iter().enumerate() {
        let Some(k) = owner[i] else {
            out.push_str(line);
            out.push('\n');
            continue;
        };
        let (prefix, p) = &found[k];
        let Some(text) = translation(&p.text) else {
            out.push_str(line);
            out.push('\n');
            continue;
        };
        // The whole paragraph at its first line, nothing at the others.
        if i + 1 != p.line {
            continue;
        }
        for l in text.lines() {
            out.push_str(prefix);
            if !l.is_empty() {
                out.push(' ');
                out.push_str(l);
            }
            out.push('\n');
        }
    }
    if !source.ends_with('\n') {
        out.pop();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const SOURCE: &str = "//! Exercise 9: a title.\n\
                          //!\n\
                          //! First line\n\
                          //!    indented line.\n\
                          \n\
                          /// The function.\n\
                          pub fn f() {\n    \
                              // TODO: one\n    \
                              // two\n    \
                              let x = 1; // not this\n    \
                              //@ starter: no\n\
                          }\n";

    #[test]
    fn paragraphs_are_runs_of_one_kind_of_comment() {
        let found: Vec<(usize, String)> = paragraphs(SOURCE)
            .into_iter()
            .map(|p| (p.line, p.text))
            .collect();
        assert_eq!(
            found,
            [
                (1, "Exercise 9: a title.".to_string()),
                (3, "First line\n   indented line.".to_string()),
                (6, "The function.".to_string()),
                (8, "TODO: one\ntwo".to_string()),
            ]
        );
    }

    #[test]
    fn a_translation_replaces_only_the_comments() {
        let french = translate(SOURCE, |text| match text {
            "First line\n   indented line." => {
                Some("Première ligne,\nune autre,\n\nune troisième.".into())
            }
            "TODO: one\ntwo" => Some("TODO: un, deux".into()),
            _ => None,
        });
        assert_eq!(
            french,
            "//! Exercise 9: a title.\n\
             //!\n\
             //! Première ligne,\n\
             //! une autre,\n\
             //!\n\
             //! une troisième.\n\
             \n\
             /// The function.\n\
             pub fn f() {\n    \
                 // TODO: un, deux\n    \
                 let x = 1; // not this\n    \
                 //@ starter: no\n\
             }\n"
        );
        // No translation: the same bytes.
        assert_eq!(translate(SOURCE, |_| None), SOURCE);
    }
}

//! `tr!` and `tr_static!`: the course's messages in the reader's language.
//!
//! The English text stays where it is printed, as the format string it
//! always was: `tr!("Created topic {name}.")` reads like `format!`. The
//! translations are in the course's gettext catalogue, `lessons/po/fr.po`
//! (found from the calling crate's folder up), with the English text as
//! the `msgid`. The calling crate depends on `course-i18n`, which says
//! which language the reader chose. At
//! compile time this macro looks the English text up and expands to
//!
//! ```text
//! if ::course_i18n::french() { format!("Sujet {name} créé.") } else { format!("Created topic {name}.") }
//! ```
//!
//! so a translation is checked by the compiler like the English: a
//! placeholder that names no argument, or an argument the translation
//! forgets, does not compile. A message with no translation (or a fuzzy
//! one) expands to the English alone; the test `tests/i18n.rs` fails on it.
//!
//! The calling crate's build script watches the catalogue, so editing it
//! recompiles the messages.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::OnceLock;

mod literal;
use literal::string_value;

use proc_macro::{Delimiter, Group, Literal, TokenStream, TokenTree};

/// `tr!("text {x}", args...)`: a `String`, like `format!`, in the reader's language.
#[proc_macro]
pub fn tr(input: TokenStream) -> TokenStream {
    expand(input, true)
}

/// `tr_static!("text")`: a `&'static str` in the reader's language (no arguments).
#[proc_macro]
pub fn tr_static(input: TokenStream) -> TokenStream {
    expand(input, false)
}

fn expand(input: TokenStream, format: bool) -> TokenStream {
    let mut tokens = input.into_iter();
    let Some(first) = tokens.next() else {
        return error("tr! needs a string literal");
    };
    let english = match literal(first) {
        Some(lit) => lit,
        None => return error("tr!'s first argument must be a string literal"),
    };
    let rest: TokenStream = tokens.collect();
    if !format && !rest.is_empty() {
        return error("tr_static! takes only a string literal: use tr! for arguments");
    }
    let Some(text) = string_value(&english.to_string()) else {
        return error("tr!'s first argument must be a string literal");
    };
    let french = match catalogue() {
        Ok(map) => map.get(&text).cloned(),
        Err(e) => return error(e),
    };
    let branch = |lit: Literal| -> TokenStream {
        if format {
            let mut args = TokenStream::from(TokenTree::Literal(lit));
            args.extend(rest.clone());
            let mut ts: TokenStream = "::std::format!".parse().unwrap();
            ts.extend([TokenTree::Group(Group::new(Delimiter::Parenthesis, args))]);
            ts
        } else {
            TokenTree::Literal(lit).into()
        }
    };
    let body = match french {
        None => branch(english),
        Some(fr) => {
            // The translation gets the English literal's place in the
            // source, so that `format!` may capture variables from it
            // (`{name}`) exactly as it does from the English.
            let mut fr = Literal::string(&fr);
            fr.set_span(english.span());
            let mut ts: TokenStream = "if ::course_i18n::french()".parse().unwrap();
            ts.extend([
                TokenTree::Group(Group::new(Delimiter::Brace, branch(fr))),
                TokenTree::Ident(proc_macro::Ident::new(
                    "else",
                    proc_macro::Span::call_site(),
                )),
                TokenTree::Group(Group::new(Delimiter::Brace, branch(english))),
            ]);
            ts
        }
    };
    TokenTree::Group(Group::new(Delimiter::Parenthesis, body)).into()
}

/// The string literal a token is, looking through the invisible groups a
/// `macro_rules!` macro may wrap its arguments in.
fn literal(token: TokenTree) -> Option<Literal> {
    match token {
        TokenTree::Literal(lit) => Some(lit),
        TokenTree::Group(g) if g.delimiter() == Delimiter::None => {
            let mut inner = g.stream().into_iter();
            let lit = literal(inner.next()?)?;
            inner.next().is_none().then_some(lit)
        }
        _ => None,
    }
}

/// English text to French, from the course's `lessons/po/fr.po`, read once
/// per compilation. Fuzzy and empty translations are left out.
fn catalogue() -> Result<&'static HashMap<String, String>, String> {
    static CATALOGUE: OnceLock<Result<HashMap<String, String>, String>> = OnceLock::new();
    CATALOGUE
        .get_or_init(|| {
            // The course's program catalogue, `lessons/po/fr.po`, found from
            // the calling crate's folder up: the lessons, the exercise
            // runners and the book's server share it.
            let manifest =
                PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").map_err(|e| e.to_string())?);
            let file = manifest
                .ancestors()
                .map(|dir| dir.join("lessons/po/fr.po"))
                .find(|file| file.exists())
                .unwrap_or_else(|| manifest.join("po/fr.po"));
            let mut map = HashMap::new();
            if !file.exists() {
                return Ok(map);
            }
            let catalog =
                polib::po_file::parse(&file).map_err(|e| format!("{}: {e}", file.display()))?;
            for m in catalog.messages() {
                let (id, Ok(text)) = (m.msgid(), m.msgstr()) else {
                    continue;
                };
                if !text.is_empty() && !m.flags().is_fuzzy() {
                    map.insert(id.to_string(), text.to_string());
                }
            }
            Ok(map)
        })
        .as_ref()
        .map_err(Clone::clone)
}

fn error(message: impl AsRef<str>) -> TokenStream {
    let mut ts: TokenStream = "::std::compile_error!".parse().unwrap();
    ts.extend([TokenTree::Group(Group::new(
        Delimiter::Parenthesis,
        TokenTree::Literal(Literal::string(message.as_ref())).into(),
    ))]);
    ts
}

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

/// `trn!(count; "{n} broker", "{n} brokers", args...)`: a `String`, like
/// `format!`, in the reader's language and in the form `count` asks for
/// (gettext's `ngettext`). English takes the first form for 1 and the
/// second otherwise; French (`plural=(n > 1)`) the first for 0 and 1. In
/// the catalogue it is one entry with `msgid_plural` and `msgstr[0]`,
/// `msgstr[1]`.
#[proc_macro]
pub fn trn(input: TokenStream) -> TokenStream {
    let tokens: Vec<TokenTree> = input.into_iter().collect();
    let Some(semi) = tokens
        .iter()
        .position(|t| matches!(t, TokenTree::Punct(p) if p.as_char() == ';'))
    else {
        return error("trn! needs `count; \"one\", \"many\"`");
    };
    let count: TokenStream = tokens[..semi].iter().cloned().collect();
    let mut rest = tokens[semi + 1..].iter().cloned();
    let one = rest.next().and_then(literal);
    let comma = rest.next();
    let many = rest.next().and_then(literal);
    let (Some(one), Some(TokenTree::Punct(_)), Some(many)) = (one, comma, many) else {
        return error("trn! needs `count; \"one\", \"many\"` (two string literals)");
    };
    let args: TokenStream = rest.collect();
    let Some(text) = string_value(&one.to_string()) else {
        return error("trn!'s forms must be string literals");
    };
    let french = match catalogue() {
        Ok(map) => match map.get(&text) {
            Some(Translation::Plural(forms)) if forms.len() == 2 => Some(forms.clone()),
            _ => None,
        },
        Err(e) => return error(e),
    };
    let format = |lit: Literal| -> TokenStream {
        let mut inner = TokenStream::from(TokenTree::Literal(lit));
        inner.extend(args.clone());
        let mut ts: TokenStream = "::std::format!".parse().unwrap();
        ts.extend([TokenTree::Group(Group::new(Delimiter::Parenthesis, inner))]);
        ts
    };
    let choose = |test: &str, first: TokenStream, second: TokenStream| -> TokenStream {
        let mut ts: TokenStream = test.parse().unwrap();
        ts.extend([
            TokenTree::Group(Group::new(Delimiter::Brace, first)),
            TokenTree::Ident(proc_macro::Ident::new(
                "else",
                proc_macro::Span::call_site(),
            )),
            TokenTree::Group(Group::new(Delimiter::Brace, second)),
        ]);
        ts
    };
    let english = choose("if __trn_count == 1", format(one.clone()), format(many));
    let body = match french {
        None => english,
        Some(forms) => {
            let lit = |text: &str| {
                let mut l = Literal::string(text);
                l.set_span(one.span());
                l
            };
            let fr = choose(
                "if __trn_count > 1",
                format(lit(&forms[1])),
                format(lit(&forms[0])),
            );
            choose("if ::course_i18n::french()", fr, english)
        }
    };
    // `let __trn_count: u64 = (count) as u64; body`, in a block.
    let mut block: TokenStream = "let __trn_count: u64 = ".parse().unwrap();
    block.extend([TokenTree::Group(Group::new(Delimiter::Parenthesis, count))]);
    block.extend("as u64;".parse::<TokenStream>().unwrap());
    block.extend(body);
    TokenTree::Group(Group::new(Delimiter::Brace, block)).into()
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
        Ok(map) => match map.get(&text) {
            Some(Translation::One(fr)) => Some(fr.clone()),
            _ => None,
        },
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
/// `tr_lookup!("lessons/src/cli.rs#help")`: a closure `|english: &str| ->
/// Option<&'static str>` that gives the French of the catalogue's texts
/// whose references name that place. For texts that exist only when the
/// program runs, such as the help clap makes from doc comments
/// (lessons/src/cli.rs): `tr!` needs its text in the source.
#[proc_macro]
pub fn tr_lookup(input: TokenStream) -> TokenStream {
    let Some(place) = input
        .into_iter()
        .next()
        .and_then(literal)
        .and_then(|l| string_value(&l.to_string()))
    else {
        return error("tr_lookup! needs a string literal: the place its texts' references name");
    };
    let file = match catalogue_file() {
        Ok(file) => file,
        Err(e) => return error(e),
    };
    let mut arms = String::new();
    if file.exists() {
        let catalog = match polib::po_file::parse(&file) {
            Ok(catalog) => catalog,
            Err(e) => return error(format!("{}: {e}", file.display())),
        };
        for m in catalog.messages() {
            let named = m.source().split_whitespace().any(|r| r == place);
            if !named || m.flags().is_fuzzy() || m.is_plural() {
                continue;
            }
            if let Ok(french) = m.msgstr() {
                if !french.is_empty() {
                    arms += &format!(
                        "{} => ::std::option::Option::Some({}),\n",
                        Literal::string(m.msgid()),
                        Literal::string(french)
                    );
                }
            }
        }
    }
    format!(
        "|english: &str| -> ::std::option::Option<&'static str> {{ match english {{ {arms} _ => ::std::option::Option::None }} }}"
    )
    .parse()
    .unwrap_or_else(|e| error(format!("tr_lookup!: {e:?}")))
}

/// The course's program catalogue, `lessons/po/fr.po`, found from the
/// calling crate's folder up: the lessons, the exercise runners and the
/// book's server share it.
fn catalogue_file() -> Result<PathBuf, String> {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").map_err(|e| e.to_string())?);
    Ok(manifest
        .ancestors()
        .map(|dir| dir.join("lessons/po/fr.po"))
        .find(|file| file.exists())
        .unwrap_or_else(|| manifest.join("po/fr.po")))
}

fn catalogue() -> Result<&'static HashMap<String, Translation>, String> {
    static CATALOGUE: OnceLock<Result<HashMap<String, Translation>, String>> = OnceLock::new();
    CATALOGUE
        .get_or_init(|| {
            let file = catalogue_file()?;
            let mut map = HashMap::new();
            if !file.exists() {
                return Ok(map);
            }
            let catalog =
                polib::po_file::parse(&file).map_err(|e| format!("{}: {e}", file.display()))?;
            for m in catalog.messages() {
                if m.flags().is_fuzzy() {
                    continue;
                }
                if let Ok(forms) = m.msgstr_plural() {
                    if forms.iter().all(|f| !f.is_empty()) {
                        map.insert(m.msgid().to_string(), Translation::Plural(forms.clone()));
                    }
                } else if let Ok(text) = m.msgstr() {
                    if !text.is_empty() {
                        map.insert(m.msgid().to_string(), Translation::One(text.to_string()));
                    }
                }
            }
            Ok(map)
        })
        .as_ref()
        .map_err(Clone::clone)
}

/// A catalogue's French for one English text.
enum Translation {
    One(String),
    /// `msgstr[0]`, `msgstr[1]`: French's singular (0 and 1) and plural.
    Plural(Vec<String>),
}

fn error(message: impl AsRef<str>) -> TokenStream {
    let mut ts: TokenStream = "::std::compile_error!".parse().unwrap();
    ts.extend([TokenTree::Group(Group::new(
        Delimiter::Parenthesis,
        TokenTree::Literal(Literal::string(message.as_ref())).into(),
    ))]);
    ts
}

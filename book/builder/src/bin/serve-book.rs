//! The book's server, started by `course serve` (`just serve`), which
//! builds this program with cargo and hands over to it, saying where the
//! course's program is and what its lessons and exercises are. It builds
//! the book if it is missing or older than its sources, then serves it at
//! http://127.0.0.1:3000 until Ctrl-C (see the library's `serve` module).

use std::path::PathBuf;

use anyhow::{Context as _, Result};
use clap::Parser;
use kafka_course_book::serve::{self, Config, Exercise};
use kafka_course_book::{build, default_build_dir, is_stale};
use kafka_course_macros::tr;

#[derive(Parser)]
#[command(
    name = "serve-book",
    about = "The book's server: run it with `course serve`"
)]
struct Args {
    /// The course's program, which runs the lessons and checks the exercises.
    #[arg(long)]
    course: PathBuf,
    /// The port on 127.0.0.1 (0: any free one).
    #[arg(long, default_value_t = 3000)]
    port: u16,
    /// The language of this program's messages (`en` or `fr`).
    #[arg(long, value_enum, default_value = "en")]
    lang: course_i18n::Lang,
    /// The built book to serve (default: book/build, built if stale).
    /// The lessons' tests set COURSE_BOOK_DIR to build and serve it in
    /// their own folder when they run `course serve`.
    #[arg(long, env = "COURSE_BOOK_DIR")]
    book_dir: Option<PathBuf>,
    /// Serve the book folder as it is, without building it.
    #[arg(long)]
    no_build: bool,
    /// A lesson the pages may run (its number).
    #[arg(long = "lesson", value_name = "N")]
    lessons: Vec<u32>,
    /// An exercise the pages may check: ID:CHAPTER:FILE (ID "4.2", "capstone").
    #[arg(long = "exercise", value_name = "ID:CHAPTER:FILE", value_parser = exercise)]
    exercises: Vec<Exercise>,
}

fn exercise(text: &str) -> Result<Exercise, String> {
    let mut parts = text.splitn(3, ':');
    let (Some(n), Some(chapter), Some(file)) = (parts.next(), parts.next(), parts.next()) else {
        return Err("ID:CHAPTER:FILE".into());
    };
    let id_char = |c: char| c.is_ascii_alphanumeric() || c == '.';
    if n.is_empty() || !n.chars().all(id_char) {
        return Err(tr!("{n}: an exercise id is letters, digits and dots"));
    }
    Ok(Exercise {
        id: n.to_string(),
        chapter: chapter.parse().map_err(|e| format!("{chapter}: {e}"))?,
        file: file.to_string(),
    })
}

fn main() -> std::process::ExitCode {
    let args = Args::parse();
    // Its messages in the course's language, from the course's catalogue
    // (lessons/po/fr.po), as every message of `course`.
    course_i18n::set(args.lang);
    // One thread: a few runs at once are all this serves, and on Linux a
    // run's child dies with the thread that started it (PR_SET_PDEATHSIG).
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("starting the tokio runtime");
    match runtime.block_on(run(args)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{} {e:#}", tr!("error:"));
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> Result<()> {
    let built_here = args.book_dir.is_none();
    let book_dir = args.book_dir.unwrap_or_else(default_build_dir);
    if !args.no_build && (is_stale(&book_dir) || !book_dir.join("index.html").is_file()) {
        let shown = book_dir.display();
        println!(
            "{}",
            if built_here {
                tr!("Building the book into {shown} (its sources changed, or it was never built)...")
            } else {
                tr!("Building the book into {shown}...")
            }
        );
        build(&book_dir)?;
    }
    let mut config = Config::new(book_dir, args.course);
    config.lessons = args.lessons;
    config.exercises = args.exercises;
    // Loopback only: the server runs programs on this machine, for this
    // machine's browser.
    let port = args.port;
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .with_context(|| {
            tr!("listening on 127.0.0.1:{port} (another program uses it? `course serve --port 3001`)")
        })?;
    let addr = listener.local_addr()?;
    println!(
        "{}",
        tr!("Serving the book at http://{addr}/ (in French: http://{addr}/fr/). Ctrl-C stops the server.")
    );
    serve::serve(listener, config, stopped()).await?;
    println!("{}", tr!("Stopped."));
    Ok(())
}

/// Ctrl-C, or the terminal closing, or a polite kill.
async fn stopped() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut term = signal(SignalKind::terminate()).expect("listening for SIGTERM");
        let mut hangup = signal(SignalKind::hangup()).expect("listening for SIGHUP");
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
            _ = hangup.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = tokio::signal::ctrl_c().await;
}

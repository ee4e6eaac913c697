//! `course-class`: the server behind `course teacher live` (see lib.rs).
//! `course teacher live` builds it and hands over to it, telling it the
//! course's exercises and quizzes; it can run alone as well.

use std::io::IsTerminal;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, Context as _, Result};
use clap::Parser;
use course_class::listen::Limits;
use course_class::{now, table_text, Catalogue, ClassData, Live};
use kafka_course_macros::tr;

/// The port when `--listen` gives an address alone.
const PORT: u16 = 7979;

#[derive(Parser)]
#[command(about = "The class's table, live: students' verdicts as they come")]
struct Args {
    /// Where to listen: an address of this machine, with a port or not
    /// (7979). Loopback, this machine only, unless told otherwise.
    #[arg(long, default_value = "127.0.0.1")]
    listen: String,
    /// Allow an address that listens on every network this machine is on
    /// (0.0.0.0 or ::).
    #[arg(long)]
    all_interfaces: bool,
    /// The class's one file: its code, and each student's verdicts.
    #[arg(long)]
    data: PathBuf,
    /// An exercise of the course ("4.2", "capstone"), in order.
    #[arg(long = "exercise", value_name = "ID")]
    exercises: Vec<String>,
    /// A chapter that has a quiz.
    #[arg(long = "quiz", value_name = "CHAPTER")]
    quizzes: Vec<String>,
    /// The language of this program's messages (`en` or `fr`).
    #[arg(long, default_value = "en")]
    lang: course_i18n::Lang,
}

fn main() -> std::process::ExitCode {
    let args = Args::parse();
    course_i18n::set(args.lang);
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

/// `--listen`'s address: "192.168.1.10", "192.168.1.10:8000", "[::1]:8000",
/// "localhost".
fn listen_address(given: &str) -> Result<SocketAddr> {
    if let Ok(addr) = given.parse::<SocketAddr>() {
        return Ok(addr);
    }
    if let Ok(ip) = given.trim_matches(['[', ']']).parse::<IpAddr>() {
        return Ok(SocketAddr::new(ip, PORT));
    }
    let (host, port) = match given.rsplit_once(':') {
        Some((host, port)) => (host, port.parse().ok()),
        None => (given, Some(PORT)),
    };
    if host == "localhost" {
        if let Some(port) = port {
            return Ok(SocketAddr::new(Ipv4Addr::LOCALHOST.into(), port));
        }
    }
    bail!(tr!(
        "--listen {given}: give an address of this machine, such as 127.0.0.1 or 192.168.1.10:7979"
    ))
}

/// This machine's address on its network, as other machines would reach
/// it: the one the system would send from (a UDP "connection" sends nothing).
fn network_address() -> Option<IpAddr> {
    let socket = std::net::UdpSocket::bind(("0.0.0.0", 0)).ok()?;
    socket.connect(("192.0.2.1", 9)).ok()?;
    let ip = socket.local_addr().ok()?.ip();
    (!ip.is_loopback() && !ip.is_unspecified()).then_some(ip)
}

async fn run(args: Args) -> Result<()> {
    let wanted = listen_address(&args.listen)?;
    let guess = network_address();
    if wanted.ip().is_unspecified() && !args.all_interfaces {
        let hint = match guess {
            Some(ip) => tr!(" (this machine's seems to be {ip})"),
            None => String::new(),
        };
        bail!(tr!(
            "--listen {} opens the class table on every network this machine is on. Give this machine's address on the classroom's network instead{hint}, or add --all-interfaces if that is what you want.",
            args.listen
        ));
    }
    let (data, kept) = ClassData::load_or_new(&args.data)?;
    let listener = tokio::net::TcpListener::bind(wanted)
        .await
        .with_context(|| tr!("listening on {wanted} (another program uses it? try another port: --listen {}:7980)", wanted.ip()))?;
    let addr = listener.local_addr()?;
    // The address students type: the one listened on, or this machine's
    // network address when it listens on all of them.
    let host = if addr.ip().is_unspecified() {
        guess.unwrap_or(Ipv4Addr::LOCALHOST.into())
    } else {
        addr.ip()
    };
    let base = format!("http://{}", SocketAddr::new(host, addr.port()));
    let join_url = format!("{base}/class/{}", data.code);
    let page_url = format!("{base}/teacher/{}", data.key);
    data.save(&args.data)?;
    let count = data.students.len();
    let catalogue = Catalogue {
        exercises: args.exercises,
        quizzes: args.quizzes,
    };
    let terminal = std::io::stdout().is_terminal();
    let live = Live::new(catalogue, data, args.data.clone(), !terminal);

    let mut banner = String::new();
    if kept {
        banner += &tr!(
            "The class kept in {} goes on ({count} joined already; delete that file to start a new class).\n",
            args.data.display()
        );
    }
    banner += &tr!("Students join with (the class code is in the address):\n");
    banner += &format!("  course join {join_url} --name \"…\"\n");
    banner +=
        &tr!("  (or COURSE_TEACHER={join_url} and COURSE_STUDENT=\"…\" in their environment)\n");
    banner += &tr!("The table in your browser, for you only: {page_url}\n");
    if addr.ip().is_loopback() {
        let yours = match guess {
            Some(ip) => tr!(" (this machine's seems to be {ip})"),
            None => String::new(),
        };
        banner += &tr!(
            "Listening on {addr}: only this machine can join. For a class, listen on this machine's address on the classroom's network{yours}: course teacher live --listen ADDRESS\n"
        );
    }
    banner += &tr!(
        "Students send verdicts only (never code); nothing they send is run. The class is kept in {}. Ctrl-C stops.\n",
        args.data.display()
    );
    print!("{banner}");

    let drawing = draw(live.clone(), banner, terminal);
    let app = course_class::router(live.clone(), join_url);
    let server = course_class::listen::serve(listener, app, Limits::CLASSROOM, stopped());
    tokio::select! {
        () = server => {}
        () = drawing => {}
    }
    println!(
        "{}",
        tr!("Stopped. The class is kept in {}.", args.data.display())
    );
    Ok(())
}

/// The table in the terminal: drawn again at each change, and every few
/// seconds for "last seen". Not a terminal (a log, a test): each change is
/// a line instead (see `Live::log`).
async fn draw(live: std::sync::Arc<Live>, banner: String, terminal: bool) {
    if !terminal {
        return std::future::pending().await;
    }
    let mut changes = live.changed.subscribe();
    loop {
        let table = {
            let data = live.data.lock().unwrap();
            table_text(&data, &live.catalogue, now())
        };
        // Clear the screen, then the banner and the table.
        print!("\x1b[H\x1b[2J{banner}\n{table}");
        let _ = tokio::time::timeout(Duration::from_secs(5), changes.changed()).await;
    }
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

//! Every lesson against Tansu, an independent Kafka-protocol broker (one
//! broker, node id 111, no KIP-848). Each lesson either completes, and its
//! chapter's claims are checked on what the broker holds, or stops within
//! seconds saying what the broker lacks. Never a hang, never a bare
//! time-out. (With the classic protocol, which the kit chooses there, every
//! lesson completes on Tansu 0.6.0; forcing KIP-848 shows the explanation.)
//!
//! These tests need the Tansu binary (`/opt/tansu-0.6.0/bin/tansu`, or
//! `TANSU_BIN`); without it they are reported as ignored. Install it with
//! `cargo install tansu --version 0.6.0 --locked --features dynostore --root /opt/tansu-0.6.0`
//! (about 15 minutes), as `.ci/run` does.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use kafka_course::kit::{GroupProtocol, Narrator, Options, ProtocolChoice, Stage};
use kafka_course::{intro, lesson};

use crate::common::block_on;

/// A Tansu broker on a free loopback port, stopped when dropped.
pub(crate) struct Tansu {
    child: Child,
    pub(crate) address: String,
}

impl Tansu {
    pub(crate) fn start() -> Tansu {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let url = format!("tcp://127.0.0.1:{port}");
        let bin = option_env!("COURSE_TANSU_BIN").unwrap_or("tansu"); // set with cfg(has_tansu)
        let child = Command::new(bin)
            .args([
                "broker",
                "--listener-url",
                &url,
                "--advertised-listener-url",
                &url,
            ])
            .args(["--storage-engine", "memory://tansu/"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting tansu");
        let address = format!("127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(&address).is_err() {
            assert!(
                Instant::now() < deadline,
                "tansu did not listen on {address}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Tansu { child, address }
    }

    /// A lesson context on this broker, with lesson `number`'s intro.
    fn ctx(&self, number: u32) -> Stage {
        self.ctx_with(number, ProtocolChoice::Auto)
    }

    fn ctx_with(&self, number: u32, group_protocol: ProtocolChoice) -> Stage {
        let options = Options {
            brokers: Some(self.address.clone()),
            group_protocol,
            ..Options::default()
        };
        let ctx = Stage::connect_with(&options, Narrator::quiet()).expect("connecting to tansu");
        intro(&ctx, lesson(number).unwrap());
        ctx
    }
}

impl Drop for Tansu {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// How long a lesson may take to say that this broker cannot run it.
const GIVE_UP_WITHIN: Duration = Duration::from_secs(10);

/// Run lesson `number` on a fresh Tansu: if it completes, `claims` checks
/// what the chapter says; if it stops, it must do so within seconds and say
/// which group got nothing, what the broker offers, and what to try.
macro_rules! on_tansu {
    ($name:ident, $n:expr, $module:ident) => {
        #[test]
        #[cfg_attr(
            not(has_tansu),
            ignore = "did not run: Tansu 0.6.0 is not installed (see README, Tests against an independent broker)"
        )]
        fn $name() {
            let tansu = Tansu::start();
            block_on(async {
                let ctx = tansu.ctx($n);
                // Tansu lacks KIP-848: the kit must have seen that.
                assert_eq!(ctx.groups().protocol, GroupProtocol::Classic);
                let started = Instant::now();
                match kafka_course::$module::run(&ctx).await {
                    Ok(report) => crate::$module::claims(&ctx, &report),
                    Err(e) => {
                        let took = started.elapsed();
                        let text = format!("{e:#}");
                        assert!(
                            took < GIVE_UP_WITHIN,
                            "lesson {} stopped after {took:?}: {text}",
                            $n
                        );
                        for needle in [
                            "got no partitions",
                            "classic group protocol",
                            "broker 111 at 127.0.0.1:",
                            "ConsumerGroupHeartbeat: none",
                            "just cluster-up",
                        ] {
                            assert!(text.contains(needle), "{needle:?} missing from:\n{text}");
                        }
                    }
                }
            });
        }
    };
}

on_tansu!(lesson_1_on_tansu, 1, ch1_cluster);
on_tansu!(lesson_2_on_tansu, 2, ch2_producer);
on_tansu!(lesson_3_on_tansu, 3, ch3_acks);
on_tansu!(lesson_4_on_tansu, 4, ch4_consumer);
on_tansu!(lesson_5_on_tansu, 5, ch5_buffer);
on_tansu!(lesson_6_on_tansu, 6, ch6_order);
on_tansu!(lesson_7_on_tansu, 7, ch7_workflow);

/// KIP-848 forced on a broker without it: librdkafka gives no error, the
/// group never forms, and the lesson must say why within seconds.
#[test]
#[cfg_attr(
    not(has_tansu),
    ignore = "did not run: Tansu 0.6.0 is not installed (see README, Tests against an independent broker)"
)]
fn forcing_kip848_on_tansu_is_explained() {
    let tansu = Tansu::start();
    block_on(async {
        let ctx = tansu.ctx_with(4, ProtocolChoice::Consumer);
        let started = Instant::now();
        let err = kafka_course::ch4_consumer::run(&ctx)
            .await
            .expect_err("no KIP-848 group can form on Tansu");
        let took = started.elapsed();
        let text = format!("{err:#}");
        assert!(took < GIVE_UP_WITHIN, "took {took:?}: {text}");
        for needle in [
            "group \"machines\" got no partitions",
            "consumer group protocol",
            "broker 111 at 127.0.0.1:",
            "ConsumerGroupHeartbeat: none",
            "KAFKA_GROUP_PROTOCOL=classic",
        ] {
            assert!(text.contains(needle), "{needle:?} missing from:\n{text}");
        }
    });
}

/// `course lesson 1 --keep` on a real cluster: at Ctrl-C the course stops,
/// and the lesson's topics stay on the cluster; it says so, and how to
/// list and delete them (`course clean`).
#[test]
#[cfg_attr(
    not(has_tansu),
    ignore = "did not run: Tansu 0.6.0 is not installed (see README, Tests against an independent broker)"
)]
fn keep_on_a_real_cluster_says_the_topics_stay() {
    use std::io::{BufRead, BufReader};
    let tansu = Tansu::start();
    let mut child = Command::new(env!("CARGO_BIN_EXE_course"))
        .env_remove("KAFKA_BOOTSTRAP_SERVERS")
        .env("COURSE_LANG", "en")
        .args(["--brokers", &tansu.address, "lesson", "1", "--keep"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    loop {
        let line = lines
            .next()
            .expect("the lesson printed the kcat commands")
            .unwrap();
        if line.trim().starts_with(&format!(
            "kcat -b {} -C -t machine-commands-",
            tansu.address
        )) {
            break;
        }
    }
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let rest: Vec<String> = lines.map(|l| l.unwrap()).collect();
    assert!(child.wait().unwrap().success());
    let address = &tansu.address;
    let end = rest.join("\n");
    assert!(
        end.ends_with(&format!(
            "Stopped. The lesson's topics stay on the cluster at {address}:\n\
             `course --brokers {address} clean --dry-run` lists what the lessons left there,\n\
             `course --brokers {address} clean` deletes it."
        )),
        "{end}"
    );
    assert!(!end.contains("the cluster is gone"), "{end}");
}

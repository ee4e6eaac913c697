//! The group protocol fits the cluster: KIP-848 where every broker offers
//! it, the classic protocol elsewhere, and a group that gets no partitions
//! is explained, never a bare time-out.

use std::time::{Duration, Instant};

use kafka_course::apis;
use kafka_course::ch4_consumer;
use kafka_course::kit::{GroupProtocol, Narrator, Options, ProtocolChoice, Stage};

use crate::common::{block_on, start_with};

fn without_kip848(choice: ProtocolChoice) -> Options {
    Options {
        group_protocol: choice,
        embedded_without_kip848: true,
        ..Options::default()
    }
}

#[test]
fn auto_chooses_kip848_where_every_broker_offers_it() {
    let ctx = Stage::embedded(Narrator::quiet()).unwrap();
    assert_eq!(ctx.brokers().len(), 3);
    for b in ctx.brokers() {
        let offered = b
            .offered
            .as_ref()
            .expect("every broker answers ApiVersions");
        assert!(apis::has_kip848(offered), "broker {}: {offered:?}", b.id);
    }
    assert_eq!(ctx.groups().protocol, GroupProtocol::Consumer);
    assert_eq!(ctx.groups().why, "every broker offers it");
}

#[test]
fn auto_chooses_classic_on_a_cluster_without_kip848() {
    let ctx =
        Stage::connect_with(&without_kip848(ProtocolChoice::Auto), Narrator::quiet()).unwrap();
    for b in ctx.brokers() {
        let offered = b.offered.as_ref().unwrap();
        assert!(
            !apis::has_kip848(offered),
            "broker {} still offers it",
            b.id
        );
        assert!(
            offered.contains_key(&(apis::GROUP_APIS[1] as i16)),
            "JoinGroup is still there"
        );
    }
    assert_eq!(ctx.groups().protocol, GroupProtocol::Classic);
    assert_eq!(
        ctx.groups().why,
        "broker 1, broker 2, broker 3 lacking KIP-848's ConsumerGroupHeartbeat v1"
    );
}

#[test]
fn lesson_4_runs_on_a_cluster_without_kip848() {
    block_on(async {
        let ctx = start_with(4, without_kip848(ProtocolChoice::Auto));
        let report = ch4_consumer::run(&ctx).await.expect("lesson 4 runs");
        let text = ctx.out().text();
        assert!(
            text.contains(
                "(its groups use the classic protocol: broker 1, broker 2, broker 3 lacking"
            ),
            "{text}"
        );
        crate::ch4_consumer::claims(&ctx, &report);
    });
}

#[test]
fn a_group_without_partitions_is_explained_within_seconds() {
    // KIP-848 forced on a cluster without it: librdkafka gives no error, the
    // group just never gets partitions. The lesson must say why, quickly.
    block_on(async {
        let ctx = start_with(4, without_kip848(ProtocolChoice::Consumer));
        let started = Instant::now();
        let err = ch4_consumer::run(&ctx)
            .await
            .expect_err("no group can form");
        let took = started.elapsed();
        assert!(took < Duration::from_secs(10), "took {took:?}");
        let text = format!("{err:#}");
        for needle in [
            "group \"machines\"",
            "consumer group protocol",
            "broker 1 at 127.0.0.1:",
            "ConsumerGroupHeartbeat: none",
            "JoinGroup v",
            "KAFKA_GROUP_PROTOCOL=classic",
        ] {
            assert!(text.contains(needle), "{needle:?} missing from:\n{text}");
        }
    });
}

#[test]
fn a_lesson_that_gives_up_closes_its_members_apart_and_they_end() {
    // On a cluster whose groups never complete, a member's LeaveGroup gets
    // no answer and its close takes librdkafka's 5 s: the lesson does not
    // wait for it, but the threads that close its members end.
    block_on(async {
        let options = Options {
            embedded_stuck_groups: true,
            ..Options::default()
        };
        let ctx = start_with(4, options);
        assert_eq!(ctx.groups().protocol, GroupProtocol::Classic);
        let started = Instant::now();
        let err = ch4_consumer::run(&ctx)
            .await
            .expect_err("no group can complete");
        let took = started.elapsed();
        let text = format!("{err:#}");
        assert!(
            text.contains("group \"machines\" got no partitions within 8s"),
            "{text}"
        );
        assert!(ctx.has_given_up());
        // 8 s of waiting; the member's close (5 s here) is not in it.
        assert!(took < Duration::from_secs(10), "took {took:?}: {text}");
        assert!(
            kafka_course::kit::still_closing() > 0,
            "member-a's close should still be waiting for its LeaveGroup"
        );
        // The embedded cluster goes: the connections close, and so do the
        // members (the other tests' ones too, within librdkafka's 5 s).
        drop(ctx);
        let left = kafka_course::kit::wait_closed(Duration::from_secs(10));
        assert_eq!(left, 0, "{left} client(s) still closing");
    });
}

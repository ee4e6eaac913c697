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
        assert!(took < Duration::from_secs(12), "took {took:?}");
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

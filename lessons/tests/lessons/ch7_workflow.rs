//! Lesson 7: nothing orders commands across topics; status events let the
//! workflow enforce the order, and a crash mid-workflow neither skips a step
//! nor repeats one in effect.

use std::time::Duration;

use kafka_course::ch6_order::Outcome;
use kafka_course::ch7_workflow::{
    self, Action, MachineStatus, NAIVE_LOTS, WORKFLOW_GROUP, WORKFLOW_LOTS,
};
use kafka_course::kit::{GroupProtocol, Stage};
use kafka_course::workshop::MachineCommand;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::{Message, Offset, TopicPartitionList};

use crate::common::{
    assert_explains_group_without_partitions, assert_output, block_on, classic, snapshot_body,
    start, start_with, story,
};

/// Every record of partition 0 of `topic`, decoded, read with the kit's reader.
fn stored<T: serde::de::DeserializeOwned>(ctx: &Stage, topic: &str) -> Vec<T> {
    let records = ctx.read_topic(topic).unwrap();
    records
        .iter()
        .filter(|m| m.partition() == 0)
        .map(|m| serde_json::from_slice(m.payload().unwrap()).unwrap())
        .collect()
}

#[test]
fn lesson_7() {
    block_on(async {
        let ctx = start(7);
        let report = ch7_workflow::run(&ctx).await.expect("lesson 7 runs");
        assert_output("ch7_workflow", &ctx);
        claims(&ctx, &report);
    });
}

/// The timeline records what the lesson observed, the same facts its
/// report holds: the naive plant's commands, delivered in order and read by
/// each machine in the order the machines ran; the workflow's crash on an
/// event, that same event read again after the restart, and everything
/// published committed at the end.
#[test]
fn lesson_7_timeline() {
    use kafka_course::kit::Event;
    block_on(async {
        let ctx = start(7);
        let report = ch7_workflow::run(&ctx).await.expect("lesson 7 runs");
        let events = crate::common::events(&ctx);
        let created = crate::common::created_topics(&events);
        let mut topics = ch7_workflow::COMMAND_TOPICS.to_vec();
        topics.push(ch7_workflow::STATUS_TOPIC);
        assert_eq!(created, topics);
        // The naive plant's commands, in the order the machines ran them.
        let naive_read: Vec<(String, u32)> = events
            .iter()
            .filter_map(|e| match e {
                Event::Read {
                    group: Some(g),
                    key: Some(lot),
                    ..
                } if g.starts_with("machine-") && NAIVE_LOTS.contains(&lot.as_str()) => {
                    let step = ch7_workflow::COMMAND_TOPICS
                        .iter()
                        .position(|t| g.ends_with(&t[..2].to_uppercase()))
                        .expect("a machine's group") as u32
                        + 1;
                    Some((lot.clone(), step))
                }
                _ => None,
            })
            .collect();
        assert_eq!(naive_read, report.naive_executed);
        let naive_delivered = events
            .iter()
            .filter(|e| {
                matches!(e, Event::Delivered { key: Some(lot), .. } if NAIVE_LOTS.contains(&lot.as_str()))
            })
            .count();
        assert_eq!(naive_delivered, NAIVE_LOTS.len() * 3);
        // The workflow's first event, read in both sessions, is the one the
        // report says it crashed on.
        let crashed = report
            .handled
            .iter()
            .find(|h| h.session == 1)
            .expect("session 1 handled an event");
        let workflow_reads: Vec<i64> = events
            .iter()
            .filter_map(|e| match e {
                Event::Read {
                    group: Some(g),
                    offset,
                    ..
                } if g == WORKFLOW_GROUP => Some(*offset),
                _ => None,
            })
            .collect();
        // Every status event the workflow read, in both sessions, is one it
        // handled, in the order it handled them; the first of each session
        // is the one it crashed on.
        let handled: Vec<i64> = report.handled.iter().map(|h| h.offset).collect();
        assert_eq!(workflow_reads, handled);
        assert_eq!(workflow_reads[0], crashed.offset);
        assert_eq!(workflow_reads[1], crashed.offset);
        let outcomes: Vec<&str> = events
            .iter()
            .filter_map(|e| match e {
                Event::Processed { group, outcome, .. } if group == WORKFLOW_GROUP => {
                    Some(outcome.as_str())
                }
                _ => None,
            })
            .collect();
        let actions: Vec<&str> = report
            .handled
            .iter()
            .map(|h| match h.action {
                ch7_workflow::Action::Sent(_) => "sent_next",
                ch7_workflow::Action::IgnoredDuplicate => "ignored_repeat",
                ch7_workflow::Action::Finished => "finished",
            })
            .collect();
        assert_eq!(outcomes, actions);
        // The workflow's commands: the two M1s, then one per "sent_next".
        let sent = events
            .iter()
            .filter(
                |e| matches!(e, Event::Delivered { producer: Some(p), .. } if p == WORKFLOW_GROUP),
            )
            .count();
        assert_eq!(
            sent,
            2 + actions.iter().filter(|a| **a == "sent_next").count()
        );
        // What the machines received in the run with status events, and
        // what they did with it, in the order they did it.
        let received: Vec<(String, u32, &str)> = events
            .iter()
            .filter_map(|e| match e {
                Event::Processed {
                    group,
                    key: Some(lot),
                    outcome,
                    ..
                } if group.starts_with("machine-") && !NAIVE_LOTS.contains(&lot.as_str()) => {
                    let machine = group.trim_start_matches("machine-");
                    let step = 1 + ["M1", "M2", "M3"].iter().position(|m| *m == machine)? as u32;
                    Some((lot.clone(), step, outcome.as_str()))
                }
                _ => None,
            })
            .collect();
        let expected: Vec<(String, u32, &str)> = report
            .received
            .iter()
            .map(|(cmd, outcome)| {
                let outcome = match outcome {
                    kafka_course::ch6_order::Outcome::Done => "done",
                    kafka_course::ch6_order::Outcome::AlreadyDone => "already_done",
                };
                (cmd.lot.clone(), cmd.step, outcome)
            })
            .collect();
        // Each machine in its own order (the report adds a command once its
        // status event is out, the timeline when the work is done: between
        // the two, another machine may go).
        for step in 1..=3 {
            let of = |list: &[(String, u32, &str)]| -> Vec<(String, String)> {
                list.iter()
                    .filter(|r| r.1 == step)
                    .map(|r| (r.0.clone(), r.2.to_string()))
                    .collect()
            };
            assert_eq!(of(&received), of(&expected), "M{step}");
        }
        assert_eq!(received.len(), expected.len());
        // Every status event stored was delivered to a machine's report.
        let published = events
            .iter()
            .filter(|e| matches!(e, Event::Delivered { topic, .. } if topic == ch7_workflow::STATUS_TOPIC))
            .count();
        assert_eq!(
            published,
            ctx.read_topic(&report.status_topic).unwrap().len()
        );
        let lifecycle: Vec<&str> = events
            .iter()
            .filter_map(|e| match e {
                Event::MemberJoined { group, .. } if group == WORKFLOW_GROUP => Some("joined"),
                Event::MemberCrashed { .. } => Some("crashed"),
                Event::MemberLeft { group, .. } if group == WORKFLOW_GROUP => Some("left"),
                _ => None,
            })
            .collect();
        assert_eq!(lifecycle, ["joined", "crashed", "joined", "left"]);
        // Its last commit covers every status event stored.
        let last_commit = events.iter().rev().find_map(|e| match e {
            Event::Committed { group, offset, .. } if group == WORKFLOW_GROUP => Some(*offset),
            _ => None,
        });
        let statuses = ctx.read_topic(&report.status_topic).unwrap().len() as i64;
        assert_eq!(last_commit, Some(statuses));
    });
}

/// The same lesson with the classic group protocol: it tells the same story
/// as the book's snapshot (only the line naming the protocol differs), and
/// the chapter's claims hold.
#[test]
fn lesson_7_classic() {
    block_on(async {
        let ctx = start_with(7, classic());
        assert_eq!(ctx.groups().protocol, GroupProtocol::Classic);
        let report = ch7_workflow::run(&ctx).await.expect("lesson 7 runs");
        assert_eq!(
            story(&ctx.out().text()),
            story(&snapshot_body("ch7_workflow"))
        );
        claims(&ctx, &report);
    });
}

/// On a cluster whose groups never get partitions (here: KIP-848 forced on
/// an embedded cluster that does not offer it), the lesson stops within
/// seconds and says why, instead of timing out.
#[test]
fn lesson_7_explains_a_group_without_partitions() {
    assert_explains_group_without_partitions(7, "machine-M1");
}

/// What chapter 7 claims, checked on what happened on the cluster the
/// lesson ran on (any cluster: nothing here assumes the embedded one).
pub fn claims(ctx: &Stage, report: &ch7_workflow::Report) {
    // What the lesson printed agreed with what it observed.
    let text = ctx.out().text();
    assert!(!text.contains("unexpected"), "{text}");

    // The naive run: every command was executed, but not in order.
    assert_eq!(report.naive_executed.len(), NAIVE_LOTS.len() * 3);
    for lot in NAIVE_LOTS {
        let steps: Vec<u32> = report
            .naive_executed
            .iter()
            .filter(|(l, _)| l == lot)
            .map(|(_, s)| *s)
            .collect();
        let mut sorted = steps.clone();
        sorted.sort();
        assert_eq!(sorted, vec![1, 2, 3], "{lot}: each step once");
        assert_ne!(
            steps,
            vec![1, 2, 3],
            "{lot}: the naive run executed steps out of order"
        );
        assert_ne!(steps[0], 1, "{lot}: something ran before M1");
    }
    // ... although each command topic holds them in the order written.
    for (k, topic) in report.command_topics.iter().enumerate() {
        let log: Vec<MachineCommand> = stored(ctx, topic);
        let naive: Vec<&str> = log
            .iter()
            .take(NAIVE_LOTS.len())
            .map(|c| c.lot.as_str())
            .collect();
        assert_eq!(
            naive, NAIVE_LOTS,
            "topic {topic}: lots in the order written"
        );
        assert!(
            log.iter().all(|c| c.step as usize == k + 1),
            "topic {topic} holds only its machine's step"
        );
    }

    // The status-event run: every lot went M1, M2, M3, each exactly once in effect.
    for lot in WORKFLOW_LOTS {
        let did: Vec<u32> = report
            .effects
            .iter()
            .filter(|c| c.lot == lot)
            .map(|c| c.step)
            .collect();
        assert_eq!(did, vec![1, 2, 3], "{lot}: every step, once, in order");
    }
    assert_eq!(
        report.effects.len(),
        WORKFLOW_LOTS.len() * 3,
        "no other effect"
    );

    // The crash: session 1 acted on one event (sent the next command)
    // and died before committing it; session 2 started from that event.
    let session1: Vec<_> = report.handled.iter().filter(|h| h.session == 1).collect();
    assert_eq!(session1.len(), 1);
    let crashed = session1[0];
    let resent = match &crashed.action {
        Action::Sent(cmd) => cmd.clone(),
        other => panic!("session 1 should have sent a command, not {other:?}"),
    };
    let first2 = report
        .handled
        .iter()
        .find(|h| h.session == 2)
        .expect("session 2 ran");
    assert_eq!(
        first2.offset, crashed.offset,
        "session 2 re-read the uncommitted event"
    );
    assert_eq!(
        first2.action,
        Action::Sent(resent.clone()),
        "and sent the command again"
    );
    // The repeat had no effect: the machine skipped it, exactly once.
    let skipped: Vec<&MachineCommand> = report
        .received
        .iter()
        .filter(|(_, o)| *o == Outcome::AlreadyDone)
        .map(|(c, _)| c)
        .collect();
    assert_eq!(skipped, vec![&resent]);
    assert!(
        report
            .handled
            .iter()
            .any(|h| h.action == Action::IgnoredDuplicate),
        "a repeated status was ignored"
    );
    for lot in WORKFLOW_LOTS {
        assert!(
            report
                .handled
                .iter()
                .any(|h| h.status.lot == lot && h.action == Action::Finished),
            "{lot} finished"
        );
    }

    // Independently of the lesson: the resent command is twice in its
    // topic, every other workflow command once; the status topic has
    // every step of every lot; and the workflow group committed it all.
    let topic = &report.command_topics[resent.step as usize - 1];
    let log: Vec<MachineCommand> = stored(ctx, topic);
    assert_eq!(
        log.iter().filter(|c| **c == resent).count(),
        2,
        "the resent command is stored twice"
    );
    let statuses: Vec<MachineStatus> = stored(ctx, &report.status_topic);
    for lot in WORKFLOW_LOTS {
        for step in 1..=3 {
            assert!(
                statuses
                    .iter()
                    .any(|s| s.lot == lot && s.step == step && s.done),
                "{lot} step {step} reported"
            );
        }
    }
    let probe: BaseConsumer = ctx.consumer_config(WORKFLOW_GROUP).create().unwrap();
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition(&report.status_topic, 0);
    let committed = probe
        .committed_offsets(tpl, Duration::from_secs(5))
        .unwrap();
    let offset = committed
        .find_partition(&report.status_topic, 0)
        .unwrap()
        .offset();
    assert_eq!(
        offset,
        Offset::Offset(statuses.len() as i64),
        "every status event committed"
    );
}

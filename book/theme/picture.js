// The picture of a run: on each chapter page, what the lesson's program saw
// happen on the cluster, drawn from its timeline and replayed event by event.
//
// Why a timeline and not a simulation: every mark below comes from one event
// the lesson recorded (lessons/src/kit/timeline.rs; the schema is in
// MAINTAINING.md, "The timeline"). The picture folds the events, in order,
// into a state, and draws that state; it never guesses what happened between
// two events, and draws nothing the lesson did not observe.
//
// Where the events come from:
// - replay: `timelines/<slug>.js`, written by the book's builder into each
//   edition's folder from the reviewed snapshot
//   (lessons/tests/snapshots/<slug>.events.snap), loaded with a script tag
//   so that a page opened from files replays too. It sets
//   window.courseTimelines[slug] = [event, ...].
// - live: with `course serve`, course.js dispatches on `document`
//   "course:run-start" ({chapter}), "course:event" (the event itself) and
//   "course:run-end" ({chapter, ok}) as the Run button's run goes. The
//   picture then clears, draws each event as it comes, keeps the last frame,
//   and the Replay button brings back the run recorded with the book.
//
// What the page gets (the contract the tests and assistive tools rely on):
// - <figure class="course-picture" data-chapter="chN_x" data-state data-seq>
//   just before the lesson's output (the <pre> starting "Lesson N:"),
//   data-state = "replay" (the built run), "live" (a run in progress) or
//   "done" (a live run ended); data-seq = the seq of the last event drawn
//   (-1: none yet).
// - every record drawn: data-topic, data-partition, data-offset, data-key
//   (data-key="" for a record without a key); data-deleted="true" once a
//   low watermark has passed it. Records are the only elements with
//   data-offset. A dead letter's copy is a record of the dead-letter topic.
// - every member of a group: data-group, data-member, and data-partitions =
//   what it owns at that moment, "topic:partition" joined by commas, sorted
//   ("machine-commands:0,machine-commands:1"; "" when it owns nothing):
//   with the topic, the list stays unambiguous when a group reads several.
// - every committed-offset marker: data-group, data-topic, data-partition,
//   data-committed (the next offset the group will read).
// - controls: <button data-replay> (replay the built run from the start),
//   data-step="-1"/"1", data-play, data-speed; arrows step when the figure
//   has focus, Home/End jump to the start/end.
// - the URL hash #picture-seq=N opens the picture at event N (the state
//   after it), for links, tests and screenshots.
//
// Words: every visible word goes through L("English label"), looked up in
// window.coursePictureLabels (timelines/labels.js, from book/po/fr.po with
// msgctxt "picture"; {} in English). Every label is listed in
// book/theme/picture-labels.txt. {name} placeholders are filled here.
// Counts use Ln(n, "one form", "other form"): both forms are labels; the
// "one" form is used for n = 1 in English, for n = 0 or 1 in French.
//
// Motion: the page opens on the END of the run (the full picture); Play
// replays it. With prefers-reduced-motion, nothing is animated: each step
// simply redraws. The lesson's text output stays the reference: the line
// about the current event is highlighted in it, and the figcaption says in
// words what the picture shows.
(function () {
  "use strict";

  const french = document.documentElement.lang === "fr";
  const labels = () => window.coursePictureLabels || {};

  function fill(text, vals) {
    return vals ? text.replace(/\{(\w+)\}/g, (m, k) => (k in vals ? String(vals[k]) : m)) : text;
  }
  function L(english, vals) {
    return fill(labels()[english] || english, vals);
  }
  function Ln(n, one, other, vals) {
    const single = french ? Math.abs(n) < 2 : n === 1;
    return L(single ? one : other, Object.assign({ n }, vals));
  }
  function esc(s) {
    return String(s).replace(/[&<>"']/g, (c) => "&#" + c.charCodeAt(0) + ";");
  }
  const list = (xs) => xs.join(", ");

  // ---- The state: the events folded in order --------------------------

  function emptyState() {
    return {
      brokers: new Map(), // id -> {id, down}
      topics: new Map(), // name -> {name, parts: Map p -> partition}
      producers: new Map(), // name ("" unnamed) -> counts
      groups: new Map(), // name ("" = a reader outside any group) -> group
      revokedFrom: new Map(), // group/topic:partition -> member it was taken from
      section: null,
      cur: null,
    };
  }
  function getBroker(s, id) {
    if (!s.brokers.has(id)) s.brokers.set(id, { id, down: false });
    return s.brokers.get(id);
  }
  function getTopic(s, name) {
    if (!s.topics.has(name)) s.topics.set(name, { name, parts: new Map(), dlt: false });
    return s.topics.get(name);
  }
  function getPart(s, topic, p) {
    const t = getTopic(s, topic);
    if (!t.parts.has(p)) {
      t.parts.set(p, { p, leader: null, replicas: [], isr: [], recs: new Map(), low: null, high: null });
    }
    return t.parts.get(p);
  }
  function getRec(s, topic, p, offset, key) {
    const part = getPart(s, topic, p);
    if (!part.recs.has(offset)) {
      part.recs.set(offset, { topic, p, offset, key: key === undefined ? null : key, value: undefined });
    }
    return part.recs.get(offset);
  }
  function getGroup(s, name) {
    name = name || "";
    if (!s.groups.has(name)) s.groups.set(name, { name, members: new Map(), pos: new Map(), move: null, reads: 0 });
    return s.groups.get(name);
  }
  function getMember(g, name) {
    if (!g.members.has(name)) {
      g.members.set(name, { name, owns: new Set(), status: "joined", restarted: false, reads: 0 });
    }
    return g.members.get(name);
  }
  function getPos(g, topic, p) {
    const k = topic + ":" + p;
    if (!g.pos.has(k)) g.pos.set(k, { first: null, read: null, committed: null, lag: null, times: new Map() });
    return g.pos.get(k);
  }
  const tpKey = (tp) => tp.topic + ":" + tp.partition;

  // One event changes the state: this is the only place where the picture
  // learns anything.
  function apply(s, e) {
    s.cur = e;
    switch (e.kind) {
      case "section":
        s.section = e.title;
        break;
      case "cluster":
        e.brokers.forEach((b) => getBroker(s, b));
        break;
      case "topic_created":
      case "partitions":
        getTopic(s, e.topic);
        for (const ps of e.partitions) {
          const part = getPart(s, e.topic, ps.partition);
          part.leader = ps.leader;
          part.replicas = ps.replicas;
          part.isr = ps.isr;
          ps.replicas.forEach((b) => getBroker(s, b));
        }
        break;
      case "delivered": {
        const pr = getProducer(s, e.producer);
        pr.delivered++;
        if (e.offset < 0) {
          // acks=0: the report has no offset; the producer never learns where.
          pr.unknown++;
        } else {
          const r = getRec(s, e.topic, e.partition, e.offset, e.key);
          r.key = e.key;
          r.value = e.value;
          r.producer = e.producer || "";
        }
        break;
      }
      case "write_refused": {
        const pr = getProducer(s, e.producer);
        pr.refused++;
        pr.reason = e.reason;
        getTopic(s, e.topic);
        break;
      }
      case "watermarks": {
        const part = getPart(s, e.topic, e.partition);
        part.low = e.low;
        part.high = e.high;
        break;
      }
      case "member_joined": {
        const m = getMember(getGroup(s, e.group), e.member);
        if (m.status !== "joined") m.restarted = true;
        m.status = "joined";
        break;
      }
      case "assigned": {
        const g = getGroup(s, e.group);
        const m = getMember(g, e.member);
        const moves = [];
        for (const tp of e.partitions) {
          m.owns.add(tpKey(tp));
          const from = s.revokedFrom.get(g.name + "/" + tpKey(tp));
          if (from && from !== e.member) moves.push({ tp, from, to: e.member });
          s.revokedFrom.delete(g.name + "/" + tpKey(tp));
        }
        if (moves.length) g.move = { seq: e.seq, moves };
        break;
      }
      case "revoked": {
        const g = getGroup(s, e.group);
        const m = getMember(g, e.member);
        for (const tp of e.partitions) {
          m.owns.delete(tpKey(tp));
          s.revokedFrom.set(g.name + "/" + tpKey(tp), e.member);
        }
        break;
      }
      case "read": {
        const g = getGroup(s, e.group);
        if (e.member) getMember(g, e.member).reads++;
        g.reads++;
        const pos = getPos(g, e.topic, e.partition);
        pos.read = e.offset + 1;
        // Where its reading began: a group that starts at the end (latest)
        // or past deleted records did not read what lies before.
        if (pos.first === null || e.offset < pos.first) pos.first = e.offset;
        pos.times.set(e.offset, (pos.times.get(e.offset) || 0) + 1);
        getRec(s, e.topic, e.partition, e.offset, e.key);
        break;
      }
      case "committed": {
        const pos = getPos(getGroup(s, e.group), e.topic, e.partition);
        // A lag measured against an older commit no longer holds: drop it
        // rather than show a number the cluster did not give for now.
        if (pos.committed !== e.offset) pos.lag = null;
        pos.committed = e.offset;
        break;
      }
      case "dead_lettered": {
        const src = getRec(s, e.topic, e.partition, e.offset);
        src.dlt = { topic: e.dead_letter_topic, p: e.dead_letter_partition, offset: e.dead_letter_offset, reason: e.reason };
        getTopic(s, e.dead_letter_topic).dlt = true;
        const copy = getRec(s, e.dead_letter_topic, e.dead_letter_partition, e.dead_letter_offset, src.key);
        copy.value = src.value;
        copy.from = { topic: e.topic, p: e.partition, offset: e.offset, reason: e.reason };
        break;
      }
      case "member_crashed":
        getMember(getGroup(s, e.group), e.member).status = "crashed";
        break;
      case "member_left": {
        // Leaving is giving every partition back (its revocation callback
        // may run later, as the consumer closes: it then changes nothing).
        const m = getMember(getGroup(s, e.group), e.member);
        m.status = "left";
        m.owns.clear();
        break;
      }
      case "lag": {
        const pos = getPos(getGroup(s, e.group), e.topic, e.partition);
        pos.lag = e.lag;
        if (e.committed !== null && e.committed !== undefined) pos.committed = e.committed;
        getPart(s, e.topic, e.partition).high = e.high;
        break;
      }
      case "broker_down":
      case "broker_up":
        getBroker(s, e.broker).down = e.kind === "broker_down";
        break;
    }
  }
  function getProducer(s, name) {
    name = name || "";
    if (!s.producers.has(name)) s.producers.set(name, { name, delivered: 0, unknown: 0, refused: 0, reason: null });
    return s.producers.get(name);
  }

  // The state after the events up to index `upto` (-1: before the first).
  function fold(events, upto) {
    const s = emptyState();
    for (let i = 0; i <= upto && i < events.length; i++) apply(s, events[i]);
    return s;
  }

  // ---- Words ------------------------------------------------------------

  const groupName = (g) => (g ? g : L("reader outside any group"));
  const producerName = (p) => (p ? p : L("producer"));
  const keyName = (k) => (k === null || k === undefined ? L("no key") : k);
  // "machine-commands partitions 0, 1": a list of partitions, by topic.
  function tpList(tps) {
    const by = new Map();
    tps.forEach((tp) => by.set(tp.topic, (by.get(tp.topic) || []).concat([tp.partition])));
    return list(Array.from(by, ([topic, ps]) => Ln(ps.length, "{topic} partition {list}", "{topic} partitions {list}", { topic, list: list(ps) })));
  }

  // The current event in one sentence.
  function describe(e) {
    if (!e) return L("Before the first event.");
    switch (e.kind) {
      case "section":
        return L("The lesson begins: {title}", { title: e.title });
      case "cluster":
        return Ln(e.brokers.length, "The cluster has {n} broker: {list}.", "The cluster has {n} brokers: {list}.", { list: list(e.brokers) });
      case "topic_created":
        return Ln(e.partitions.length, "Topic {topic} created, {n} partition.", "Topic {topic} created, {n} partitions.", { topic: e.topic });
      case "partitions":
        return L("The metadata of {topic} read again: its leaders and in-sync replicas.", { topic: e.topic });
      case "delivered":
        if (e.offset < 0) {
          return L("{producer} was told {key} was delivered to {topic}, at no known offset.", { producer: producerName(e.producer), key: keyName(e.key), topic: e.topic });
        }
        return L("{producer} wrote {key} to {topic} partition {partition}, offset {offset}.", { producer: producerName(e.producer), key: keyName(e.key), topic: e.topic, partition: e.partition, offset: e.offset });
      case "write_refused":
        return L("A write of {key} to {topic} was refused: {reason}", { key: keyName(e.key), topic: e.topic, reason: e.reason });
      case "watermarks":
        return L("{topic} partition {partition}: low watermark {low}, high watermark {high}.", e);
      case "member_joined":
        return L("{member} joined group {group}.", e);
      case "assigned":
        if (!e.partitions.length) return L("Group {group} gave {member} no new partition.", e);
        return L("Group {group} gave {member} {partitions}.", { group: e.group, member: e.member, partitions: tpList(e.partitions) });
      case "revoked":
        return L("Group {group} took {partitions} back from {member}.", { group: e.group, member: e.member, partitions: tpList(e.partitions) });
      case "read":
        return L("{reader} read {topic} partition {partition}, offset {offset} ({key}).", { reader: e.member || groupName(e.group), topic: e.topic, partition: e.partition, offset: e.offset, key: keyName(e.key) });
      case "committed":
        return L("Group {group} committed offset {offset} on {topic} partition {partition}: the next record it will read there.", e);
      case "dead_lettered":
        return L("{topic} partition {partition} offset {offset} could not be processed: copied to {dlt}, offset {dlt_offset} ({reason}).", { topic: e.topic, partition: e.partition, offset: e.offset, dlt: e.dead_letter_topic, dlt_offset: e.dead_letter_offset, reason: e.reason });
      case "member_crashed":
        return L("{member} of group {group} crashed: what it read and did not commit will be read again.", e);
      case "member_left":
        return L("{member} left group {group}.", e);
      case "lag":
        return L("Lag of group {group} on {topic} partition {partition}: {lag} (high watermark {high}).", e);
      case "broker_down":
        return L("Broker {broker} stopped.", e);
      case "broker_up":
        return L("Broker {broker} started again.", e);
    }
    return e.kind;
  }

  const owned = (m) => Array.from(m.owns).sort(byTp);
  function byTp(a, b) {
    const [ta, pa] = splitTp(a);
    const [tb, pb] = splitTp(b);
    return ta < tb ? -1 : ta > tb ? 1 : pa - pb;
  }
  function splitTp(k) {
    const i = k.lastIndexOf(":");
    return [k.slice(0, i), Number(k.slice(i + 1))];
  }
  const partsText = (keys) => list(keys.map((k) => splitTp(k)[1]));
  function recCount(t) {
    let n = 0;
    t.parts.forEach((part) => (n += part.recs.size));
    return n;
  }

  // The text alternative: the state in words.
  function summarize(s) {
    const out = [];
    if (s.brokers.size) out.push(Ln(s.brokers.size, "{n} broker.", "{n} brokers.") + (downList(s).length ? " " + L("Down: {list}.", { list: list(downList(s)) }) : ""));
    s.topics.forEach((t) => {
      const parts = Array.from(t.parts.values()).sort((a, b) => a.p - b.p);
      const detail = parts.filter((part) => part.recs.size).map((part) => L("partition {p}: {records}", { p: part.p, records: Ln(part.recs.size, "{n} record", "{n} records") }));
      out.push(
        L("Topic {topic}: {partitions}, {records}", {
          topic: t.name,
          partitions: Ln(parts.length, "{n} partition", "{n} partitions"),
          records: Ln(recCount(t), "{n} record", "{n} records"),
        }) + (parts.length > 1 && detail.length ? " (" + list(detail) + ")." : "."),
      );
    });
    s.groups.forEach((g) => {
      const members = Array.from(g.members.values()).map((m) => {
        const st = m.status === "joined" ? "" : " (" + L(m.status) + ")";
        return m.owns.size ? L("{member} owns partitions {list}", { member: m.name, list: partsText(owned(m)) }) + st : m.name + st;
      });
      const commits = [];
      g.pos.forEach((pos, k) => {
        if (pos.committed !== null) commits.push(L("partition {p} at {offset}", { p: splitTp(k)[1], offset: pos.committed }));
      });
      let text = L("Group {group}", { group: groupName(g.name) });
      if (members.length) text += ": " + list(members);
      if (commits.length) text += "; " + L("committed: {list}", { list: list(commits) });
      out.push(text + ".");
    });
    return out.join(" ");
  }
  function downList(s) {
    return Array.from(s.brokers.values()).filter((b) => b.down).map((b) => b.id);
  }

  // ---- Drawing: the panels (cluster, producers, groups) in HTML ---------

  function chip(cls, attrs, inner, title) {
    let a = "";
    for (const k in attrs) a += " " + k + '="' + esc(attrs[k]) + '"';
    return '<div class="cp-chip ' + cls + '"' + a + (title ? ' title="' + esc(title) + '"' : "") + ">" + inner + "</div>";
  }
  function box(cls, title, inner, attrs) {
    let a = "";
    for (const k in attrs || {}) a += " " + k + '="' + esc(attrs[k]) + '"';
    return '<div class="cp-box ' + cls + '"' + a + '><div class="cp-box-title">' + title + "</div>" + inner + "</div>";
  }

  function panels(s) {
    const e = s.cur || {};
    const out = [];
    if (s.brokers.size) {
      const leads = new Map();
      s.topics.forEach((t) => t.parts.forEach((part) => leads.set(part.leader, (leads.get(part.leader) || 0) + 1)));
      const chips = Array.from(s.brokers.values())
        .sort((a, b) => a.id - b.id)
        .map((b) => {
          const cur = e.kind === "cluster" || e.broker === b.id;
          return chip(
            "cp-broker" + (b.down ? " cp-down" : "") + (cur ? " cp-cur" : ""),
            { "data-broker": b.id },
            "<b>" + esc(L("broker {id}", { id: b.id })) + "</b><span>" +
              esc(b.down ? L("down") : Ln(leads.get(b.id) || 0, "leads {n} partition", "leads {n} partitions")) + "</span>",
          );
        });
      out.push(box("cp-cluster", esc(L("Cluster")), chips.join("")));
    }
    if (s.producers.size) {
      const chips = Array.from(s.producers.values()).map((p, i) => {
        const cur = (e.kind === "delivered" || e.kind === "write_refused") && (e.producer || "") === p.name;
        let text = Ln(p.delivered, "{n} delivery report", "{n} delivery reports");
        if (p.unknown) text += " · " + Ln(p.unknown, "{n} with no offset", "{n} with no offset");
        if (p.refused) text += " · " + Ln(p.refused, "{n} refused", "{n} refused");
        return chip(
          "cp-producer" + (cur ? " cp-cur" : "") + (p.refused ? " cp-bad" : ""),
          { "data-producer": p.name },
          // Several producers write to one topic: the border of their
          // records tells them apart (the swatch shows which is whose).
          (s.producers.size > 1 ? '<svg class="cp-swatch" width="22" height="14" aria-hidden="true"><rect x="1" y="1" width="20" height="12" rx="2" stroke-dasharray="' + dash(i) + '"/></svg>' : "") + "<b>" +
            esc(producerName(p.name)) + "</b><span>" + esc(text) + "</span>",
          p.reason ? L("last refusal: {reason}", { reason: p.reason }) : null,
        );
      });
      out.push(box("cp-producers", esc(Ln(s.producers.size, "Producer", "Producers")), chips.join("")));
    }
    s.groups.forEach((g) => {
      if (!g.name && !g.members.size) return; // a plain reader: its lanes say it all
      const members = Array.from(g.members.values()).map((m) => {
        const cur = e.group === g.name && e.member === m.name && e.kind !== "committed" && e.kind !== "read";
        const keys = owned(m);
        let status = "";
        if (m.status === "crashed") status = '<span class="cp-badge cp-badge-crash">' + esc(L("crashed")) + "</span>";
        else if (m.status === "left") status = '<span class="cp-badge">' + esc(L("left")) + "</span>";
        else if (m.restarted) status = '<span class="cp-badge cp-badge-ok">' + esc(L("restarted")) + "</span>";
        const owns = keys.length ? L("partitions {list}", { list: partsText(keys) }) : L("no partition");
        return chip(
          "cp-member cp-" + m.status + (cur ? " cp-cur" : ""),
          { "data-group": g.name, "data-member": m.name, "data-partitions": keys.join(",") },
          "<b>" + esc(m.name) + "</b>" + status + "<span>" + esc(owns) + "</span>" +
            (m.reads ? "<span>" + esc(Ln(m.reads, "{n} read", "{n} reads")) + "</span>" : ""),
        );
      });
      // A group whose members the lesson does not name: what it read.
      let inner = members.length ? members.join("") : '<div class="cp-muted">' + esc(Ln(g.reads, "{n} record read", "{n} records read")) + "</div>";
      if (g.move) {
        const fresh = s.cur && g.move.seq === s.cur.seq;
        inner += '<div class="cp-move' + (fresh ? " cp-cur" : "") + '">' + esc(L("rebalance:")) + " " +
          g.move.moves.map((mv) => esc(L("partition {partition} {from} → {to}", { partition: mv.tp.partition, from: mv.from, to: mv.to }))).join(", ") + "</div>";
      }
      out.push(box("cp-group", esc(L("group {group}", { group: groupName(g.name) })), inner, { "data-group": g.name }));
    });
    return out.join("");
  }

  // ---- Drawing: the logs in SVG -----------------------------------------

  // Geometry, in SVG pixels. The SVG scales down to the page's width (and
  // scrolls sideways below 80 %), so a 12-record log stays readable.
  const LEFT = 150; // partition and lane labels
  const PITCH = 50; // one offset
  const CW = 46; // a cell's width
  const CH = 40; // a cell's height
  const LANE = 20; // one group's line under a partition
  const RIGHT = 112; // watermarks, committed offsets, lag
  const PALETTE = ["#9ecae1", "#fdae6b", "#a1d99b", "#f4a6c6", "#c6b3e6", "#fde68a", "#99e2d9", "#e0c097", "#f7b2a5", "#b8c4d6"];
  const DASHES = ["", "5 3", "2 2", "8 3 2 3"];
  const dash = (i) => DASHES[i % DASHES.length];

  // The offsets a partition shows: every record seen, and up to its high
  // watermark and the groups' positions (slots the timeline has no record
  // for are drawn empty: the log has them, the lesson did not show them).
  function slots(s, t, part) {
    let n = part.high || 0;
    part.recs.forEach((r) => (n = Math.max(n, r.offset + 1)));
    s.groups.forEach((g) => {
      const pos = g.pos.get(t.name + ":" + part.p);
      if (pos) n = Math.max(n, pos.read || 0, pos.committed || 0);
    });
    return n;
  }
  function maxSlots(s) {
    let n = 1;
    s.topics.forEach((t) => t.parts.forEach((part) => (n = Math.max(n, slots(s, t, part)))));
    return n;
  }
  // The groups with a line under a partition: those that read it,
  // committed on it or own it now, in order of appearance.
  function lanes(s, k) {
    return Array.from(s.groups.values()).filter((g) => {
      if (g.pos.has(k)) return true;
      for (const m of g.members.values()) if (m.owns.has(k)) return true;
      return false;
    });
  }

  function svgText(x, y, cls, text, anchor) {
    return '<text x="' + x + '" y="' + y + '" class="' + cls + '"' + (anchor ? ' text-anchor="' + anchor + '"' : "") + ">" + esc(text) + "</text>";
  }
  // A value short enough to read in a cell ("M1 mill"); JSON stays in the
  // tooltip: the key and offset are what the picture is about.
  function shortValue(r) {
    let v = r.value;
    if (typeof v !== "string" || /^[{[]/.test(v)) return "";
    if (r.key && v.startsWith(r.key + " ")) v = v.slice(r.key.length + 1);
    return v.length > 9 ? v.slice(0, 8) + "…" : v;
  }

  function drawLogs(s, opts) {
    const e = s.cur || {};
    const colors = opts.colors;
    const producers = Array.from(s.producers.keys());
    const n = Math.max(opts.slots || 1, maxSlots(s));
    const width = LEFT + n * PITCH + 10 + RIGHT;
    const where = new Map(); // "topic:p:offset" -> [x, y] of a drawn record
    const out = [];
    let y = 4;
    s.topics.forEach((t) => {
      const curTopic = (e.kind === "topic_created" || e.kind === "partitions") && e.topic === t.name;
      const parts = Array.from(t.parts.values()).sort((a, b) => a.p - b.p);
      out.push('<g class="cp-topic' + (curTopic ? " cp-cur" : "") + '" data-topic-name="' + esc(t.name) + '">');
      out.push('<rect class="cp-topic-bg" x="0" y="' + y + '" width="' + width + '" height="24" rx="4"/>');
      out.push(svgText(8, y + 17, "cp-topic-name", L("topic {topic}", { topic: t.name })));
      let note = Ln(parts.length, "{n} partition", "{n} partitions");
      if (t.dlt) note += " · " + L("dead-letter topic");
      out.push(svgText(width - 8, y + 17, "cp-topic-note", note, "end") + "</g>");
      y += 32;
      // Several producers wrote to this topic: their records' borders differ.
      const writers = new Set();
      parts.forEach((part) => part.recs.forEach((r) => r.producer !== undefined && writers.add(r.producer)));
      for (const part of parts) {
        const groups = lanes(s, t.name + ":" + part.p);
        const curPart = e.topic === t.name && e.partition === part.p;
        // The partition: its number, its leader, its followers.
        out.push(svgText(8, y + 14, "cp-part-name", L("partition {p}", { p: part.p })));
        if (part.leader !== null) {
          const down = part.leader >= 0 && s.brokers.has(part.leader) && s.brokers.get(part.leader).down;
          out.push(svgText(8, y + 27, "cp-leader" + (part.leader < 0 || down ? " cp-warn" : ""), part.leader < 0 ? L("no leader") : L("leader: broker {id}", { id: part.leader })));
          const followers = part.replicas.filter((b) => b !== part.leader);
          const outOfSync = part.replicas.filter((b) => !part.isr.includes(b));
          if (outOfSync.length) out.push(svgText(8, y + 38, "cp-follow cp-warn", L("out of sync: {list}", { list: list(outOfSync) })));
          else if (followers.length) out.push(svgText(8, y + 38, "cp-follow", L("followers: {list}", { list: list(followers) })));
        }
        // The log: one cell per offset.
        const count = slots(s, t, part);
        for (let o = 0; o < count; o++) {
          const x = LEFT + o * PITCH;
          const r = part.recs.get(o);
          const gone = part.low !== null && o < part.low;
          if (!r) {
            out.push('<rect class="cp-slot' + (gone ? " cp-gone" : "") + '" x="' + x + '" y="' + y + '" width="' + CW + '" height="' + CH + '" rx="4"><title>' +
              esc(gone ? L("offset {offset}: deleted", { offset: o }) : L("offset {offset}: not shown by the lesson", { offset: o })) + "</title></rect>");
            continue;
          }
          where.set(t.name + ":" + part.p + ":" + o, [x, y]);
          const cur = (e.kind === "delivered" || e.kind === "read") && curPart && e.offset === o ||
            e.kind === "dead_lettered" && (curPart && e.offset === o || e.dead_letter_topic === t.name && e.dead_letter_partition === part.p && e.dead_letter_offset === o);
          const fresh = cur && opts.fresh && (e.kind === "delivered" || e.kind === "dead_lettered" && !curPart);
          const cls = "cp-rec" + (cur ? " cp-cur" : "") + (fresh ? " cp-new" : "") + (gone ? " cp-deleted" : "") + (r.dlt ? " cp-dead" : "") + (r.from ? " cp-copy" : "");
          let tip = L("offset {offset}, key {key}", { offset: o, key: keyName(r.key) });
          if (typeof r.value === "string") tip += "\n" + L("value: {value}", { value: r.value });
          if (r.dlt) tip += "\n" + L("dead-lettered: {reason}", { reason: r.dlt.reason });
          if (r.from) tip += "\n" + L("copy of {topic} partition {partition}, offset {offset}", { topic: r.from.topic, partition: r.from.p, offset: r.from.offset });
          if (gone) tip += "\n" + L("deleted: below the low watermark");
          const pi = producers.indexOf(r.producer);
          out.push(
            '<g class="' + cls + '" data-topic="' + esc(t.name) + '" data-partition="' + part.p + '" data-offset="' + o + '" data-key="' + esc(r.key === null ? "" : r.key) + '"' +
              (gone ? ' data-deleted="true"' : "") + ' transform="translate(' + x + "," + y + ')"><g class="cp-anim"><title>' + esc(tip) + "</title>" +
              '<rect width="' + CW + '" height="' + CH + '" rx="4" fill="' + (gone ? "#ddd" : r.key === null ? "#e8e8e8" : colors(r.key)) + '"' +
              (pi > 0 && writers.size > 1 ? ' stroke-dasharray="' + dash(pi) + '"' : "") + "/>" +
              svgText(4, 10, "cp-off", o) +
              svgText(CW / 2, 25, "cp-key", r.key === null ? "–" : r.key, "middle") +
              (r.from ? svgText(CW / 2, 36, "cp-val", L("from p{partition}·{offset}", { partition: r.from.p, offset: r.from.offset }), "middle") : svgText(CW / 2, 36, "cp-val", shortValue(r), "middle")) +
              (r.dlt ? '<path class="cp-dead-mark" d="M' + (CW - 12) + ",0 h8 a4 4 0 0 1 4 4 v8 z\"/>" : "") +
              "</g></g>",
          );
        }
        if (!count) out.push(svgText(LEFT, y + 25, "cp-muted", L("no record seen by the lesson")));
        // The watermarks: where the log ends (high) and begins (low).
        const curMarks = e.kind === "watermarks" && curPart;
        if (part.high !== null) {
          const hx = LEFT + part.high * PITCH - 2;
          out.push('<g class="cp-hw' + (curMarks ? " cp-cur" : "") + '" data-topic="' + esc(t.name) + '" data-partition="' + part.p + '" data-high="' + part.high + '">' +
            '<line x1="' + hx + '" y1="' + (y - 5) + '" x2="' + hx + '" y2="' + (y + CH + 5) + '"/><path d="M' + (hx - 4) + "," + (y - 7) + " h8 l-4,5 z\"/></g>");
          out.push(svgText(LEFT + n * PITCH + 10, y + 16, "cp-side" + (curMarks ? " cp-cur-text" : ""), L("high watermark {n}", { n: part.high })));
        }
        if (part.low) {
          const lx = LEFT + part.low * PITCH - 2;
          out.push('<line class="cp-lw" x1="' + lx + '" y1="' + (y - 5) + '" x2="' + lx + '" y2="' + (y + CH + 5) + '"/>');
          out.push(svgText(LEFT + n * PITCH + 10, y + 31, "cp-side" + (curMarks ? " cp-cur-text" : ""), L("low watermark {n}", { n: part.low })));
        }
        y += CH + 6;
        // One line per group: what it read, what it committed, its lag.
        for (const g of groups) {
          const k = t.name + ":" + part.p;
          const pos = g.pos.get(k);
          const owners = Array.from(g.members.values()).filter((m) => m.owns.has(k)).map((m) => m.name);
          const cur = e.topic === t.name && e.partition === part.p && (e.group || "") === g.name && (e.kind === "read" || e.kind === "committed" || e.kind === "lag") ||
            (e.kind === "assigned" || e.kind === "revoked") && e.group === g.name && e.partitions.some((tp) => tpKey(tp) === k);
          out.push('<g class="cp-lane' + (cur ? " cp-cur" : "") + '">');
          if (cur) out.push('<rect class="cp-lane-bg" x="2" y="' + y + '" width="' + (width - 4) + '" height="' + LANE + '" rx="3"/>');
          const who = owners.filter((o) => o !== g.name);
          out.push('<text x="14" y="' + (y + 14) + '" class="cp-lane-name">' + esc(groupName(g.name)) +
            (who.length ? '<tspan class="cp-lane-owner"> · ' + esc(list(who)) + "</tspan>" : "") + "</text>");
          if (pos) {
            // The bars start where the group's reading began (offset 0 when
            // the lesson shows none: a commit then covers what came before).
            const from = pos.first === null ? 0 : Math.min(pos.first, pos.committed === null ? pos.first : pos.committed);
            const bar = (cls, to, tip) => to > from && out.push('<rect class="' + cls + '" x="' + (LEFT + from * PITCH) + '" y="' + (y + 5) + '" width="' + ((to - from) * PITCH - 4) + '" height="6" rx="3">' + tip + "</rect>");
            if (pos.read) bar("cp-readbar", pos.read, "<title>" + esc(L("read up to offset {offset}", { offset: pos.read - 1 })) + "</title>");
            if (pos.committed !== null) {
              const cx = LEFT + pos.committed * PITCH - 2;
              bar("cp-commitbar", pos.committed, "");
              out.push('<g class="cp-committed" data-group="' + esc(g.name) + '" data-topic="' + esc(t.name) + '" data-partition="' + part.p + '" data-committed="' + pos.committed + '">' +
                "<title>" + esc(L("committed offset {offset}: the next record the group reads after a restart", { offset: pos.committed })) + "</title>" +
                '<path d="M' + (cx - 6) + "," + (y + 18) + " L" + cx + "," + (y + 9) + " L" + (cx + 6) + "," + (y + 18) + ' z"/></g>');
            }
            pos.times.forEach((times, off) => {
              if (times > 1) out.push(svgText(LEFT + off * PITCH + CW - 2, y + 17, "cp-again", L("read {n}×", { n: times }), "end"));
            });
            const notes = [];
            if (pos.committed !== null) notes.push(L("committed {n}", { n: pos.committed }));
            if (pos.lag !== null) notes.push(L("lag {n}", { n: pos.lag }));
            out.push(svgText(LEFT + n * PITCH + 10, y + 14, "cp-side" + (pos.lag ? " cp-lagging" : ""), notes.join(" · ")));
          }
          out.push("</g>");
          y += LANE;
        }
        y += 10;
      }
      y += 6;
    });
    // A dead letter being written: an arrow from the record to its copy.
    if (e.kind === "dead_lettered") {
      const a = where.get(e.topic + ":" + e.partition + ":" + e.offset);
      const b = where.get(e.dead_letter_topic + ":" + e.dead_letter_partition + ":" + e.dead_letter_offset);
      if (a && b) {
        const [x1, y1, x2, y2] = [a[0] + CW / 2, a[1] + (b[1] > a[1] ? CH : 0), b[0] + CW / 2, b[1] + (b[1] > a[1] ? 0 : CH)];
        const bend = Math.max(40, Math.abs(y2 - y1) / 3) * (y2 > y1 ? 1 : -1);
        out.push('<path class="cp-arrow" marker-end="url(#cp-head)" d="M' + x1 + "," + y1 + " C" + (x1 + 60) + "," + (y1 + bend) + " " + (x2 + 60) + "," + (y2 - bend) + " " + x2 + "," + y2 + '"/>');
      }
    }
    const defs = '<defs><marker id="cp-head" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" class="cp-arrow-head"/></marker>' +
      '<pattern id="cp-hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><line x1="0" y1="0" x2="0" y2="6" class="cp-hatch-line"/></pattern></defs>';
    return { svg: defs + out.join(""), width, height: Math.max(y, 30) };
  }

  // What the legend explains: only the marks this run draws at some point.
  function legend(s) {
    const items = [];
    let dead = false, gone = false, copies = false;
    s.topics.forEach((t) => t.parts.forEach((part) => part.recs.forEach((r) => {
      dead = dead || !!r.dlt;
      copies = copies || !!r.from;
      gone = gone || (part.low !== null && r.offset < part.low);
    })));
    let high = false, reads = false, commits = false;
    s.topics.forEach((t) => t.parts.forEach((part) => (high = high || part.high !== null)));
    s.groups.forEach((g) => g.pos.forEach((pos) => {
      reads = reads || pos.read !== null;
      commits = commits || pos.committed !== null;
    }));
    items.push(["cp-lg-rec", L("a record: its offset, its key (one colour per key)")]);
    if (high) items.push(["cp-lg-hw", L("high watermark: where the next record will go")]);
    if (gone) items.push(["cp-lg-gone", L("deleted: below the low watermark")]);
    if (reads) items.push(["cp-lg-read", L("read by the group (or reader)")]);
    if (commits) items.push(["cp-lg-commit", L("committed: the group restarts at the ▲")]);
    if (dead) items.push(["cp-lg-dead", L("dead-lettered: copied to the dead-letter topic")]);
    if (copies) items.push(["cp-lg-copy", L("a dead letter's copy: “from p1·3” = from partition 1, offset 3")]);
    return items.map(([cls, text]) => '<li><span class="cp-lg ' + cls + '" aria-hidden="true"></span>' + esc(text) + "</li>").join("");
  }

  // ---- The replay -------------------------------------------------------

  const reduced = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)");
  const SPEEDS = [1, 2, 4];
  const STEP_MS = 700; // one event at 1×; a section's title stays twice as long

  function mount(figure, events, opts) {
    opts = opts || {};
    const built = events || [];
    let shown = opts.live ? [] : built;
    let at = shown.length - 1; // index of the last event drawn
    let timer = null;
    let speed = 0;
    let lines = opts.lines || null; // the output's lines, for the highlight
    let liveOutput = null;

    // One colour per key, in the order the built run meets them, so that a
    // key keeps its colour between the replay and a live run.
    const keyColors = new Map();
    const colors = (k) => {
      if (!keyColors.has(k)) keyColors.set(k, PALETTE[keyColors.size % PALETTE.length]);
      return keyColors.get(k);
    };
    built.forEach((e) => e.key !== undefined && e.key !== null && colors(e.key));
    // Cells keep one size through a replay: the full run decides it.
    const full = fold(built, built.length - 1);
    const fullSlots = maxSlots(full);

    figure.classList.add("course-picture");
    figure.tabIndex = 0;
    figure.setAttribute("aria-label", L("Picture of the run"));
    figure.innerHTML =
      '<div class="cp-head"><div class="cp-section"></div><div class="cp-event" aria-live="polite"></div></div>' +
      '<div class="cp-controls">' +
      '<button type="button" data-replay>' + esc(L("⟲ Replay")) + "</button>" +
      '<button type="button" data-step="-1">' + esc(L("◀ Back")) + "</button>" +
      '<button type="button" data-play>' + esc(L("▶ Play")) + "</button>" +
      '<button type="button" data-step="1">' + esc(L("Forward ▶")) + "</button>" +
      '<button type="button" data-speed>' + esc(L("speed {n}×", { n: 1 })) + "</button>" +
      '<input type="range" min="-1" step="1" aria-label="' + esc(L("Event")) + '">' +
      '<span class="cp-pos"></span></div>' +
      '<div class="cp-panels"></div><div class="cp-stage"><svg xmlns="http://www.w3.org/2000/svg" role="img"></svg></div>' +
      '<ul class="cp-legend"></ul><figcaption><p class="cp-note"></p><p class="cp-summary"></p></figcaption>';
    const $ = (sel) => figure.querySelector(sel);
    const svg = $("svg");
    const play = $("[data-play]");
    const range = $("input[type=range]");
    $("[data-replay]").title = L("Replay the run recorded when the book was built, from its first event");
    if (opts.note) $(".cp-note").textContent = opts.note;
    $(".cp-legend").innerHTML = legend(full);

    function draw(fresh) {
      const s = fold(shown, at);
      const e = s.cur;
      figure.dataset.seq = e ? String(e.seq) : "-1";
      $(".cp-section").textContent = s.section ? s.section : "";
      $(".cp-event").textContent = describe(e);
      $(".cp-panels").innerHTML = panels(s);
      const logs = drawLogs(s, { colors, slots: shown === built ? fullSlots : 1, fresh: fresh && !reducedNow() });
      svg.setAttribute("viewBox", "0 0 " + logs.width + " " + logs.height);
      svg.setAttribute("width", logs.width);
      svg.setAttribute("height", logs.height);
      svg.style.minWidth = Math.round(logs.width * 0.8) + "px";
      svg.setAttribute("aria-label", L("The topics' logs"));
      svg.innerHTML = logs.svg;
      $(".cp-summary").textContent = summarize(s);
      range.max = String(shown.length - 1);
      range.value = String(at);
      $(".cp-pos").textContent = L("event {n} of {total}", { n: at + 1, total: shown.length });
      figure.querySelector("[data-step='-1']").disabled = at < 0;
      figure.querySelector("[data-step='1']").disabled = at >= shown.length - 1;
      highlight(e);
    }
    const reducedNow = () => reduced && reduced.matches;

    // The output's line about the current event.
    function highlight(e) {
      figure.ownerDocument.querySelectorAll(".cp-line-current").forEach((n) => n.classList.remove("cp-line-current"));
      if (!e) return;
      let line = null;
      if (liveOutput && shown !== built) {
        const node = liveOutput.childNodes[e.line];
        if (node && node.nodeType === 3) {
          line = document.createElement("span");
          node.replaceWith(line);
          line.append(node);
        } else line = node;
      } else if (lines) line = lines[e.line];
      if (line && line.classList) line.classList.add("cp-line-current");
    }

    function goto(i, fresh) {
      at = Math.max(-1, Math.min(shown.length - 1, i));
      draw(!!fresh);
    }
    function stop() {
      clearTimeout(timer);
      timer = null;
      play.textContent = L("▶ Play");
      figure.classList.remove("cp-playing");
    }
    function tick() {
      if (at >= shown.length - 1) return stop();
      goto(at + 1, true);
      const e = shown[at];
      timer = setTimeout(tick, (e && e.kind === "section" ? 2 : 1) * STEP_MS / SPEEDS[speed]);
    }
    function start() {
      if (at >= shown.length - 1) goto(-1);
      play.textContent = L("❚❚ Pause");
      figure.classList.add("cp-playing");
      timer = setTimeout(tick, 250);
    }

    play.addEventListener("click", () => (timer ? stop() : start()));
    $("[data-replay]").addEventListener("click", () => {
      stop();
      shown = built;
      figure.dataset.state = "replay";
      goto(-1);
      start();
    });
    figure.querySelectorAll("[data-step]").forEach((b) =>
      b.addEventListener("click", () => {
        stop();
        const d = Number(b.dataset.step);
        goto(at + d, d > 0);
      }),
    );
    $("[data-speed]").addEventListener("click", (ev) => {
      speed = (speed + 1) % SPEEDS.length;
      ev.currentTarget.textContent = L("speed {n}×", { n: SPEEDS[speed] });
    });
    range.addEventListener("input", () => {
      stop();
      goto(Number(range.value));
    });
    figure.addEventListener("keydown", (ev) => {
      if (ev.target !== figure && ev.target.tagName !== "BUTTON") return;
      const moves = { ArrowLeft: at - 1, ArrowRight: at + 1, Home: -1, End: shown.length - 1 };
      if (!(ev.key in moves)) return;
      ev.preventDefault();
      stop();
      goto(moves[ev.key], ev.key === "ArrowRight");
    });

    figure.dataset.state = opts.live ? "live" : "replay";
    draw(false);

    const picture = {
      figure,
      // A live run begins: an empty picture, filled as its events come.
      reset() {
        stop();
        shown = [];
        at = -1;
        figure.dataset.state = "live";
        draw(false);
      },
      // One more event of the live run, drawn at once (an event arriving
      // while the reader looks back through the run is kept for later).
      push(e) {
        if (shown === built) picture.reset();
        const follow = at === shown.length - 1;
        shown = shown.concat([e]);
        if (e.key !== undefined && e.key !== null) colors(e.key);
        if (follow) goto(shown.length - 1, true);
        else draw(false);
      },
      end() {
        stop();
        figure.dataset.state = "done";
        draw(false);
      },
      goto(seq) {
        stop();
        const i = shown.findIndex((e) => e.seq === seq);
        goto(i >= 0 ? i : seq);
      },
      setLines(l) {
        lines = l;
      },
      setLiveOutput(o) {
        liveOutput = o;
      },
      get state() {
        return fold(shown, at);
      },
    };
    return picture;
  }

  window.CoursePicture = { mount, fold, describe, summarize };

  // ---- On a chapter page ------------------------------------------------

  const page = /(?:^|\/)(ch(\d+)_[^/]*)\.html$/.exec(location.pathname);
  if (!page) return;
  const slug = page[1];
  const chapter = Number(page[2]);
  const main = document.querySelector("main");
  if (!main) return;
  // The lesson's output: the block that starts "Lesson N:" ("Leçon N —"
  // in French), as course.js finds it.
  const start = new RegExp("^\\s*(?:Lesson|Leçon)\\s+" + chapter + "\\s*[:—-]");
  const snapshot = Array.from(main.querySelectorAll("pre")).find((pre) => start.test(pre.textContent));
  if (!snapshot) return;

  const figure = document.createElement("figure");
  figure.className = "course-picture cp-loading";
  figure.dataset.chapter = slug;
  figure.dataset.state = "replay";
  figure.dataset.seq = "-1";
  // Before the Run button's box if course.js placed one before the output
  // (it may do so later, once the server answered): the picture, then the
  // controls to run it again, then the text.
  const runBox = () => (snapshot.previousElementSibling && snapshot.previousElementSibling.classList.contains("course-run") ? snapshot.previousElementSibling : null);
  (runBox() || snapshot).before(figure);
  if (window.MutationObserver) {
    const watch = new MutationObserver(() => {
      const box = runBox();
      if (box) {
        box.before(figure);
        watch.disconnect();
      }
    });
    watch.observe(snapshot.parentNode, { childList: true });
  }

  // The output's lines, each wrapped in a span once (the text unchanged),
  // so that the line of the current event can be highlighted.
  function wrapLines(pre) {
    const code = pre.querySelector("code") || pre;
    const text = code.textContent;
    const parts = text.split("\n");
    code.textContent = "";
    return parts.map((line, i) => {
      const span = document.createElement("span");
      span.className = "cp-line";
      span.textContent = line + (i < parts.length - 1 ? "\n" : "");
      code.append(span);
      return span;
    });
  }

  const root = typeof path_to_root === "string" ? path_to_root : ""; // mdBook's
  function load(src, done) {
    const script = document.createElement("script");
    script.src = root + src;
    script.onload = script.onerror = done;
    document.head.append(script);
  }
  const embedded = (text) => /embedded cluster|cluster embarqué/.test(text);
  let picture = null;
  let pending = [];
  // Labels first: the picture's first frame is drawn in the page's language.
  load("timelines/labels.js", () =>
    load("timelines/" + slug + ".js", () => {
      const events = (window.courseTimelines || {})[slug];
      figure.classList.remove("cp-loading");
      if (!events) {
        figure.remove();
        return;
      }
      picture = mount(figure, events, {
        lines: wrapLines(snapshot),
        note: embedded(snapshot.textContent)
          ? L("Recorded on the embedded cluster, as the output below: its followers are names in the metadata, without logs, so each partition's log is drawn once, at its leader.")
          : "",
      });
      const hash = /picture-seq=(-?\d+)/.exec(location.hash);
      if (hash) {
        picture.goto(Number(hash[1]));
        figure.scrollIntoView(); // a link to a moment of the run shows it
      }
      pending.forEach((f) => f());
      pending = [];
    }),
  );
  const whenMounted = (f) => (picture ? f() : pending.push(f));
  window.addEventListener("hashchange", () => {
    const hash = /picture-seq=(-?\d+)/.exec(location.hash);
    if (hash && picture) picture.goto(Number(hash[1]));
  });

  // Live: the Run button's run, event by event (course.js).
  document.addEventListener("course:run-start", (ev) => {
    if (ev.detail && ev.detail.chapter !== chapter) return;
    whenMounted(() => {
      const output = figure.parentNode && figure.parentNode.querySelector(".course-run .course-output");
      picture.setLiveOutput(output || null);
      picture.reset();
    });
  });
  document.addEventListener("course:event", (ev) => whenMounted(() => figure.dataset.state === "live" && picture.push(ev.detail)));
  document.addEventListener("course:run-end", (ev) => {
    if (ev.detail && ev.detail.chapter !== chapter) return;
    whenMounted(() => figure.dataset.state === "live" && picture.end());
  });
})();

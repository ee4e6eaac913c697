// The picture of a run: what the lesson's program saw happen on the
// cluster, on its chapter page, replayed event by event.
//
// Not a simulation: every mark comes from an event the lesson recorded
// (lessons/src/kit/timeline.rs; schema in MAINTAINING.md, "The timeline"),
// folded in order into a state (apply) that is drawn. Nothing is guessed.
//
// The events: replayed from timelines/<slug>.js (the builder writes it in
// each edition's folder from the reviewed .events.snap; a script tag loads
// it, from files too: window.courseTimelines[slug] = [event, ...]); or live:
// course.js dispatches "course:run-start" ({chapter}), "course:event" (the
// event), "course:run-end" on `document`; the picture clears, draws each
// event as it comes, keeps the last frame; Replay brings the built run back.
//
// The contract (tests, assistive tools):
// - <figure class="course-picture" data-chapter="chN_x" data-state data-seq>
//   before the lesson's output (<pre> "Lesson N:") and course.js's Run box;
//   data-state: "replay" (the built run), "live" (a run going on), "done"
//   (a live run ended); data-seq: the last event drawn (-1: none);
//   data-load-ms: from this script's start to the first frame.
// - a record: data-topic, data-partition, data-offset, data-key ("": no
//   key), data-deleted="true" below the low watermark. Only records have
//   data-offset; a dead letter's copy is a record of the dead-letter topic.
// - a member: data-group, data-member, data-partitions = what it owns now,
//   "topic:partition" sorted, comma-joined ("" for none): unambiguous when
//   a group reads two topics.
// - a committed-offset marker: data-group, data-topic, data-partition,
//   data-committed (the next offset the group reads there).
// - <button data-replay> replays the built run from its start; data-step
//   "-1"/"1", data-play, data-speed; on the focused figure, the arrow keys
//   step, Home and End jump.
// - the URL hash #picture-seq=N shows the state after event N, scrolled to.
//
// Words: each is L("English label"), looked up in window.coursePictureLabels
// (timelines/labels.js: book/po/fr.po, msgctxt "picture"; {} in English),
// listed in picture-labels.txt; {name} placeholders are filled here. Counts:
// Ln(n, "one", "other"), "one" for n = 1 in English, 0 or 1 in French.
//
// A page opens on the END of the run; Play replays it. With
// prefers-reduced-motion nothing moves. The text output stays the
// reference: the event's line is highlighted in it; the figcaption says
// the state in words.
(function () {
"use strict";

const french = document.documentElement.lang === "fr";
function L(english, vals) {
  const text = (window.coursePictureLabels || {})[english] || english;
  return vals ? text.replace(/\{(\w+)\}/g, (m, k) => (k in vals ? String(vals[k]) : m)) : text;
}
function Ln(n, one, other, vals) {
  return L((french ? Math.abs(n) < 2 : n === 1) ? one : other, Object.assign({ n }, vals));
}
const esc = (s) => String(s).replace(/[&<>"']/g, (c) => "&#" + c.charCodeAt(0) + ";");
const list = (xs) => xs.join(", ");
const values = (m) => Array.from(m.values());
// An element as markup: attributes escaped, null ones left out.
function tag(name, attrs, inner) {
  let a = "";
  for (const k in attrs) if (attrs[k] !== null && attrs[k] !== undefined && attrs[k] !== false) a += " " + k + '="' + esc(attrs[k]) + '"';
  return "<" + name + a + (inner === undefined ? "/>" : ">" + inner + "</" + name + ">");
}
const txt = (x, y, cls, s, anchor) => tag("text", { x, y, class: cls, "text-anchor": anchor }, esc(s));
const title = (s) => tag("title", {}, esc(s));

// ---- The state: the events folded in order

const emptyState = () => ({ brokers: new Map(), topics: new Map(), producers: new Map(), groups: new Map(), revokedFrom: new Map(), section: null, cur: null });
function get(map, key, make) {
  if (!map.has(key)) map.set(key, make());
  return map.get(key);
}
const broker = (s, id) => get(s.brokers, id, () => ({ id, down: false }));
const topic = (s, name) => get(s.topics, name, () => ({ name, parts: new Map(), dlt: false, writers: [] }));
const part = (s, t, p) => get(topic(s, t).parts, p, () => ({ p, leader: null, replicas: [], isr: [], recs: new Map(), low: null, high: null }));
const rec = (s, t, p, offset, key) => get(part(s, t, p).recs, offset, () => ({ topic: t, p, offset, key: key === undefined ? null : key }));
const group = (s, name) => get(s.groups, name || "", () => ({ name: name || "", members: new Map(), pos: new Map(), move: null, reads: 0 }));
const member = (g, name) => get(g.members, name, () => ({ name, owns: new Set(), status: "joined", restarted: false, reads: 0 }));
const pos = (g, t, p) => get(g.pos, t + ":" + p, () => ({ first: null, read: null, committed: null, lag: null, times: new Map() }));
const producer = (s, name) => get(s.producers, name || "", () => ({ name: name || "", delivered: 0, unknown: 0, refused: 0, reason: null }));
const tpKey = (tp) => tp.topic + ":" + tp.partition;

// One event changes the state: the one place the picture learns.
function apply(s, e) {
  s.cur = e;
  const g = e.group !== undefined || e.kind === "read" ? group(s, e.group) : null;
  switch (e.kind) {
    case "section":
      s.section = e.title;
      break;
    case "cluster":
      e.brokers.forEach((b) => broker(s, b));
      break;
    case "topic_created":
    case "partitions":
      topic(s, e.topic);
      for (const ps of e.partitions) {
        Object.assign(part(s, e.topic, ps.partition), { leader: ps.leader, replicas: ps.replicas, isr: ps.isr });
        ps.replicas.forEach((b) => broker(s, b));
      }
      break;
    case "delivered": {
      const pr = producer(s, e.producer);
      pr.delivered++;
      // acks=0: the report has no offset; the producer never learns where.
      if (e.offset < 0) pr.unknown++;
      else {
        Object.assign(rec(s, e.topic, e.partition, e.offset), { key: e.key, value: e.value, producer: e.producer || "" });
        // Several producers writing to one topic: their records' borders differ.
        const w = topic(s, e.topic).writers;
        if (!w.includes(pr.name)) s.several = w.push(pr.name) > 1 || s.several;
        // A high watermark or lag read before this record no longer holds.
        const p = part(s, e.topic, e.partition);
        if (p.high !== null && p.high <= e.offset) p.high = null;
        s.groups.forEach((g) => g.pos.forEach((ps, k) => k === e.topic + ":" + e.partition && ps.lagHigh <= e.offset && (ps.lag = null)));
      }
      break;
    }
    case "write_refused": {
      const pr = producer(s, e.producer);
      pr.refused++;
      pr.reason = e.reason;
      topic(s, e.topic);
      break;
    }
    case "watermarks":
      Object.assign(part(s, e.topic, e.partition), { low: e.low, high: e.high });
      break;
    case "member_joined": {
      const m = member(g, e.member);
      if (m.status !== "joined") m.restarted = true;
      m.status = "joined";
      break;
    }
    case "assigned": {
      // A partition taken from one member and given to another: a move.
      const m = member(g, e.member);
      const moves = [];
      for (const tp of e.partitions) {
        const k = g.name + "/" + tpKey(tp);
        const from = s.revokedFrom.get(k);
        if (from && from !== e.member) moves.push({ tp, from, to: e.member });
        s.revokedFrom.delete(k);
        m.owns.add(tpKey(tp));
      }
      if (moves.length) g.move = { seq: e.seq, moves };
      break;
    }
    case "revoked": {
      const m = member(g, e.member);
      for (const tp of e.partitions) {
        m.owns.delete(tpKey(tp));
        s.revokedFrom.set(g.name + "/" + tpKey(tp), e.member);
      }
      break;
    }
    case "read": {
      if (e.member) member(g, e.member).reads++;
      g.reads++;
      const ps = pos(g, e.topic, e.partition);
      ps.read = e.offset + 1;
      // Where its reading began (latest, or past deleted records).
      if (ps.first === null || e.offset < ps.first) ps.first = e.offset;
      ps.times.set(e.offset, (ps.times.get(e.offset) || 0) + 1);
      rec(s, e.topic, e.partition, e.offset, e.key);
      break;
    }
    case "committed": {
      const ps = pos(g, e.topic, e.partition);
      // Nor does a lag measured against an older commit.
      if (ps.committed !== e.offset) ps.lag = null;
      ps.committed = e.offset;
      break;
    }
    case "dead_lettered": {
      const src = rec(s, e.topic, e.partition, e.offset);
      src.dlt = e.reason;
      topic(s, e.dead_letter_topic).dlt = true;
      const copy = rec(s, e.dead_letter_topic, e.dead_letter_partition, e.dead_letter_offset, src.key);
      copy.value = src.value;
      copy.from = e;
      break;
    }
    case "member_crashed":
      member(g, e.member).status = "crashed";
      break;
    case "member_left": {
      // Leaving gives every partition back (a revocation may follow).
      const m = member(g, e.member);
      m.status = "left";
      m.owns.clear();
      break;
    }
    case "lag": {
      const ps = pos(g, e.topic, e.partition);
      ps.lag = e.lag;
      ps.lagHigh = e.high;
      if (e.committed !== null && e.committed !== undefined) ps.committed = e.committed;
      part(s, e.topic, e.partition).high = e.high;
      break;
    }
    case "broker_down":
    case "broker_up":
      broker(s, e.broker).down = e.kind === "broker_down";
      break;
  }
}

// The state after the events up to index `upto` (-1: none).
function fold(events, upto) {
  const s = emptyState();
  for (let i = 0; i <= upto && i < events.length; i++) apply(s, events[i]);
  return s;
}

// ---- Words

const groupName = (g) => g || L("reader outside any group");
const producerName = (p) => p || L("producer");
const statusName = (st) => (st === "crashed" ? L("crashed") : L("left"));
const keyName = (k) => (k === null || k === undefined ? L("no key") : k);
// "machine-commands partitions 0, 1": partitions, by topic.
function tpList(tps) {
  const by = new Map();
  tps.forEach((tp) => by.set(tp.topic, (by.get(tp.topic) || []).concat([tp.partition])));
  return list(Array.from(by, ([topic, ps]) => Ln(ps.length, "{topic} partition {list}", "{topic} partitions {list}", { topic, list: list(ps) })));
}

// The current event in a sentence (placeholders named as its fields).
function describe(e) {
  if (!e) return L("Before the first event.");
  const v = Object.assign({}, e, { key: keyName(e.key), producer: producerName(e.producer), reader: e.member || groupName(e.group), list: list(e.brokers || []) });
  const n = e.partitions && e.partitions.length;
  if (n) v.partitions = tpList(e.partitions);
  const say = {
    section: L("The lesson begins: {title}", v),
    cluster: e.brokers && Ln(e.brokers.length, "The cluster has {n} broker: {list}.", "The cluster has {n} brokers: {list}.", v),
    topic_created: Ln(n, "Topic {topic} created, {n} partition.", "Topic {topic} created, {n} partitions.", v),
    partitions: L("The metadata of {topic} read again: its leaders and in-sync replicas.", v),
    delivered:
      e.offset < 0 ? L("{producer} was told {key} was delivered to {topic}, at no known offset.", v) : L("{producer} wrote {key} to {topic} partition {partition}, offset {offset}.", v),
    write_refused: L("A write of {key} to {topic} was refused: {reason}", v),
    watermarks: L("{topic} partition {partition}: low watermark {low}, high watermark {high}.", v),
    member_joined: L("{member} joined group {group}.", v),
    assigned: n ? L("Group {group} gave {member} {partitions}.", v) : L("Group {group} gave {member} no new partition.", v),
    revoked: L("Group {group} took {partitions} back from {member}.", v),
    read: L("{reader} read {topic} partition {partition}, offset {offset} ({key}).", v),
    committed: L("Group {group} committed offset {offset} on {topic} partition {partition}: the next record it will read there.", v),
    dead_lettered: L("{topic} partition {partition} offset {offset} could not be processed: copied to {dead_letter_topic}, offset {dead_letter_offset} ({reason}).", v),
    member_crashed: L("{member} of group {group} crashed: what it read and did not commit will be read again.", v),
    member_left: L("{member} left group {group}.", v),
    lag: L("Lag of group {group} on {topic} partition {partition}: {lag} (high watermark {high}).", v),
    broker_down: L("Broker {broker} stopped.", v),
    broker_up: L("Broker {broker} started again.", v),
  };
  return say[e.kind] || e.kind;
}

const splitTp = (k) => [k.slice(0, k.lastIndexOf(":")), Number(k.slice(k.lastIndexOf(":") + 1))];
const owned = (m) => Array.from(m.owns).sort((a, b) => (splitTp(a)[0] < splitTp(b)[0] ? -1 : splitTp(a)[0] > splitTp(b)[0] ? 1 : splitTp(a)[1] - splitTp(b)[1]));
const partsText = (keys) => list(keys.map((k) => splitTp(k)[1]));
const sorted = (t) => values(t.parts).sort((a, b) => a.p - b.p);

// The text alternative: the state in words.
function summarize(s) {
  const out = [];
  const down = values(s.brokers).filter((b) => b.down).map((b) => b.id);
  if (s.brokers.size) out.push(Ln(s.brokers.size, "{n} broker.", "{n} brokers.") + (down.length ? " " + L("Down: {list}.", { list: list(down) }) : ""));
  s.topics.forEach((t) => {
    const rs = sorted(t).map((p) => p.recs.size);
    const n = rs.reduce((a, b) => a + b, 0);
    out.push(L("Topic {topic}: {partitions}, {records}", { topic: t.name, partitions: Ln(rs.length, "{n} partition", "{n} partitions"), records: Ln(n, "{n} record", "{n} records") }) +
      (rs.length > 1 && n ? " (" + rs.join(" + ") + ")." : "."));
  });
  s.groups.forEach((g) => {
    const members = values(g.members).map((m) => {
      const st = m.status === "joined" ? "" : " (" + statusName(m.status) + ")";
      return (m.owns.size ? L("{member} owns partitions {list}", { member: m.name, list: partsText(owned(m)) }) : m.name) + st;
    });
    const commits = [];
    g.pos.forEach((ps, k) => ps.committed !== null && commits.push(L("partition {p} at {offset}", { p: splitTp(k)[1], offset: ps.committed })));
    let text = g.name ? L("Group {group}", { group: g.name }) : L("A reader outside any group");
    // French puts a no-break space before a colon or a semicolon.
    const nb = document.documentElement.lang === "fr" ? "\u00a0" : "";
    if (members.length) text += nb + ": " + list(members);
    if (commits.length) text += nb + "; " + L("committed: {list}", { list: list(commits) });
    out.push(text + ".");
  });
  return out.join(" ");
}

// ---- Drawing: the panels (cluster, producers, groups) in HTML

const cls = (...names) => names.filter(Boolean).join(" ");
const box = (c, head, inner, attrs) => tag("div", Object.assign({ class: "cp-box " + c }, attrs), tag("div", { class: "cp-box-title" }, esc(head)) + inner);
const span = (c, s) => tag("span", { class: c }, esc(s));
const chip = (classes, attrs, name, inner, before) => tag("div", Object.assign({ class: cls("cp-chip", ...classes) }, attrs), (before || "") + tag("b", {}, esc(name)) + inner);

function panels(s) {
  const e = s.cur || {};
  const out = [];
  if (s.brokers.size) {
    const leads = new Map();
    s.topics.forEach((t) => t.parts.forEach((p) => leads.set(p.leader, (leads.get(p.leader) || 0) + 1)));
    const chips = values(s.brokers).sort((a, b) => a.id - b.id).map((b) =>
      chip(["cp-broker", b.down && "cp-down", (e.kind === "cluster" || e.broker === b.id) && "cp-cur"], { "data-broker": b.id }, L("broker {id}", { id: b.id }),
        span(null, b.down ? L("down") : Ln(leads.get(b.id) || 0, "leads {n} partition", "leads {n} partitions"))));
    out.push(box("cp-cluster", L("Cluster"), chips.join("")));
  }
  if (s.producers.size) {
    const chips = values(s.producers).map((p, i) => {
      let text = Ln(p.delivered, "{n} delivery report", "{n} delivery reports");
      if (p.unknown) text += " · " + L("{n} with no offset", { n: p.unknown });
      if (p.refused) text += " · " + L("{n} refused", { n: p.refused });
      // Producers sharing a topic: a record's border says whose it is.
      const swatch = s.several ? '<svg class="cp-swatch" width="22" height="14" aria-hidden="true">' + tag("rect", { x: 1, y: 1, width: 20, height: 12, rx: 2, "stroke-dasharray": dash(i) }) + "</svg>" : "";
      const cur = (e.kind === "delivered" || e.kind === "write_refused") && (e.producer || "") === p.name;
      return chip(["cp-producer", cur && "cp-cur", p.refused && "cp-bad"], { "data-producer": p.name, title: p.reason && L("last refusal: {reason}", { reason: p.reason }) }, producerName(p.name), span(null, text), swatch);
    });
    out.push(box("cp-producers", Ln(s.producers.size, "Producer", "Producers"), chips.join("")));
  }
  s.groups.forEach((g) => {
    if (!g.name && !g.members.size) return; // a plain reader: its lanes say it all
    const members = values(g.members).map((m) => {
      const keys = owned(m);
      const cur = e.group === g.name && e.member === m.name && e.kind !== "committed" && e.kind !== "read";
      const badge = m.status !== "joined" ? span("cp-badge cp-badge-" + m.status, statusName(m.status)) : m.restarted ? span("cp-badge cp-badge-ok", L("restarted")) : "";
      return chip(["cp-member", "cp-" + m.status, cur && "cp-cur"], { "data-group": g.name, "data-member": m.name, "data-partitions": keys.join(",") }, m.name,
        badge + span(null, keys.length ? L("partitions {list}", { list: partsText(keys) }) : L("no partition")) + (m.reads ? span(null, Ln(m.reads, "{n} read", "{n} reads")) : ""));
    });
    // Members the lesson does not name: the group's reads.
    let inner = members.length ? members.join("") : tag("div", { class: "cp-muted" }, esc(Ln(g.reads, "{n} record read", "{n} records read")));
    if (g.move) {
      const moves = g.move.moves.map((mv) => L("partition {partition} {from} → {to}", { partition: mv.tp.partition, from: mv.from, to: mv.to }));
      inner += tag("div", { class: cls("cp-move", s.cur && g.move.seq === s.cur.seq && "cp-cur") }, esc(L("rebalance:") + " " + list(moves)));
    }
    out.push(box("cp-group", L("group {group}", { group: groupName(g.name) }), inner, { "data-group": g.name }));
  });
  return out.join("");
}

// ---- Drawing: the logs in SVG

// Geometry, in SVG pixels. The SVG scales down to the page's width (and
// scrolls below 80 %): a 12-record log stays readable.
const LEFT = 150; // partition and lane labels
const PITCH = 50; // one offset
const CW = 46; // a cell's width
const CH = 40; // a cell's height
const LANE = 20; // one group's line under a partition
const RIGHT = 112; // watermarks, committed offsets, lag
const PALETTE = ["#9ecae1", "#fdae6b", "#a1d99b", "#f4a6c6", "#c6b3e6", "#fde68a", "#99e2d9", "#e0c097", "#f7b2a5", "#b8c4d6"];
const DASHES = ["", "5 3", "2 2", "8 3 2 3"];
const dash = (i) => DASHES[i % DASHES.length];
const X = (offset) => LEFT + offset * PITCH;

// The offsets a partition shows: up to its last record, high watermark
// and groups' positions (an offset without a record is an empty slot).
function slots(s, t, p) {
  let n = p.high || 0;
  p.recs.forEach((r) => (n = Math.max(n, r.offset + 1)));
  s.groups.forEach((g) => {
    const ps = g.pos.get(t.name + ":" + p.p);
    if (ps) n = Math.max(n, ps.read || 0, ps.committed || 0);
  });
  return n;
}
function maxSlots(s) {
  let n = 1;
  s.topics.forEach((t) => t.parts.forEach((p) => (n = Math.max(n, slots(s, t, p)))));
  return n;
}
// The groups with a line under a partition: reading, committing, owning.
const lanes = (s, k) => values(s.groups).filter((g) => g.pos.has(k) || values(g.members).some((m) => m.owns.has(k)));
// A value short enough for a cell ("M1 mill"); JSON stays in the tooltip.
function shortValue(r) {
  let v = r.value;
  if (typeof v !== "string" || /^[{[]/.test(v)) return "";
  if (r.key && v.startsWith(r.key + " ")) v = v.slice(r.key.length + 1);
  return v.length > 9 ? v.slice(0, 8) + "…" : v;
}

function drawRecord(r, p, o, y, e, opts, writers) {
  const gone = p.low !== null && o < p.low;
  const here = e.topic === r.topic && e.partition === p.p && e.offset === o;
  const cur = ((e.kind === "delivered" || e.kind === "read") && here) || (e.kind === "dead_lettered" && (here || r.from === e));
  let tip = L("offset {offset}, key {key}", { offset: o, key: keyName(r.key) });
  if (typeof r.value === "string") tip += "\n" + L("value: {value}", { value: r.value });
  if (r.dlt) tip += "\n" + L("dead-lettered: {reason}", { reason: r.dlt });
  if (r.from) tip += "\n" + L("copy of {topic} partition {partition}, offset {offset}", r.from);
  if (gone) tip += "\n" + L("deleted: below the low watermark");
  const pi = writers.indexOf(r.producer);
  const inner =
    title(tip) +
    tag("rect", { width: CW, height: CH, rx: 4, fill: gone ? "#ddd" : r.key === null ? "#e8e8e8" : opts.colors(r.key), "stroke-dasharray": pi > 0 && dash(pi) }) +
    txt(4, 10, "cp-off", o) +
    txt(CW / 2, 25, "cp-key", r.key === null ? "–" : r.key, "middle") +
    txt(CW / 2, 36, "cp-val", r.from ? L("from p{partition}·{offset}", r.from) : shortValue(r), "middle") +
    (r.dlt ? tag("path", { class: "cp-dead-mark", d: "M" + (CW - 12) + ",0 h8 a4 4 0 0 1 4 4 v8 z" }) : "");
  const c = cls("cp-rec", cur && "cp-cur", cur && opts.fresh && (e.kind === "delivered" || r.from === e) && "cp-new", gone && "cp-deleted", r.dlt && "cp-dead", r.from && "cp-copy");
  // Animated inside: a CSS transform on the outer group would replace its position.
  return tag("g", { class: c, "data-topic": r.topic, "data-partition": p.p, "data-offset": o, "data-key": r.key === null ? "" : r.key, "data-deleted": gone && "true", transform: "translate(" + X(o) + "," + y + ")" },
    tag("g", { class: "cp-anim" }, inner));
}

// One group's line under a partition: what it read (light bar), what it
// committed (dark bar and ▲), records it read more than once, its lag.
function drawLane(out, s, g, t, p, y, width, side) {
  const e = s.cur || {};
  const k = t.name + ":" + p.p;
  const ps = g.pos.get(k);
  const owners = values(g.members).filter((m) => m.owns.has(k) && m.name !== g.name).map((m) => m.name);
  const cur =
    (e.topic === t.name && e.partition === p.p && (e.group || "") === g.name && /^(read|committed|lag)$/.test(e.kind)) ||
    ((e.kind === "assigned" || e.kind === "revoked") && e.group === g.name && e.partitions.some((tp) => tpKey(tp) === k));
  out.push('<g class="' + cls("cp-lane", cur && "cp-cur") + '">');
  if (cur) out.push(tag("rect", { class: "cp-lane-bg", x: 2, y, width: width - 4, height: LANE, rx: 3 }));
  out.push(tag("text", { x: 14, y: y + 14, class: "cp-lane-name" }, esc(groupName(g.name)) + (owners.length ? tag("tspan", { class: "cp-lane-owner" }, " · " + esc(list(owners))) : "")));
  if (ps) {
    // The bars begin where the group's reading began (else at 0).
    const from = ps.first === null ? 0 : Math.min(ps.first, ps.committed === null ? ps.first : ps.committed);
    const bar = (c, to, tip) => to > from && out.push(tag("rect", { class: c, x: X(from), y: y + 5, width: (to - from) * PITCH - 4, height: 6, rx: 3 }, tip));
    if (ps.read) bar("cp-readbar", ps.read, title(L("read up to offset {offset}", { offset: ps.read - 1 })));
    const notes = [];
    if (ps.committed !== null) {
      const cx = X(ps.committed) - 2;
      bar("cp-commitbar", ps.committed, "");
      out.push(tag("g", { class: "cp-committed", "data-group": g.name, "data-topic": t.name, "data-partition": p.p, "data-committed": ps.committed },
        title(L("committed offset {offset}: the next record the group reads after a restart", { offset: ps.committed })) + tag("path", { d: "M" + (cx - 6) + "," + (y + 18) + " l6,-9 l6,9 z" })));
      notes.push(L("committed {n}", { n: ps.committed }));
    }
    ps.times.forEach((n, off) => n > 1 && out.push(txt(X(off) + CW - 2, y + 17, "cp-again", L("read {n}×", { n }), "end")));
    if (ps.lag !== null) notes.push(L("lag {n}", { n: ps.lag }));
    out.push(txt(side, y + 14, cls("cp-side", ps.lag && "cp-lagging"), notes.join(" · ")));
  }
  out.push("</g>");
}

function drawLogs(s, opts) {
  const e = s.cur || {};
  const n = Math.max(opts.slots || 1, maxSlots(s));
  const side = X(n) + 10;
  const width = side + RIGHT;
  const where = new Map(); // the record's "topic:p:offset" -> its [x, y]
  const out = [];
  let y = 4;
  s.topics.forEach((t) => {
    const parts = sorted(t);
    let note = Ln(parts.length, "{n} partition", "{n} partitions");
    if (t.dlt) note += " · " + L("dead-letter topic");
    out.push(tag("g", { class: cls("cp-topic", (e.kind === "topic_created" || e.kind === "partitions") && e.topic === t.name && "cp-cur") },
      tag("rect", { class: "cp-topic-bg", x: 0, y, width, height: 24, rx: 4 }) + txt(8, y + 17, "cp-topic-name", L("topic {topic}", { topic: t.name })) + txt(width - 8, y + 17, "cp-topic-note", note, "end")));
    y += 32;

    for (const p of parts) {
      const curPart = e.topic === t.name && e.partition === p.p;
      // The partition: its number, its leader, its followers.
      out.push(txt(8, y + 14, "cp-part-name", L("partition {p}", { p: p.p })));
      if (p.leader !== null) {
        const down = s.brokers.has(p.leader) && s.brokers.get(p.leader).down;
        out.push(txt(8, y + 27, cls("cp-leader", (p.leader < 0 || down) && "cp-warn"), p.leader < 0 ? L("no leader") : L("leader: broker {id}", { id: p.leader })));
        const followers = p.replicas.filter((b) => b !== p.leader);
        const behind = p.replicas.filter((b) => !p.isr.includes(b));
        if (behind.length) out.push(txt(8, y + 38, "cp-follow cp-warn", L("out of sync: {list}", { list: list(behind) })));
        else if (followers.length) out.push(txt(8, y + 38, "cp-follow", L("followers: {list}", { list: list(followers) })));
      }
      // The log: one cell per offset.
      const count = slots(s, t, p);
      for (let o = 0; o < count; o++) {
        const r = p.recs.get(o);
        const gone = p.low !== null && o < p.low;
        if (r) {
          where.set(t.name + ":" + p.p + ":" + o, [X(o), y]);
          out.push(drawRecord(r, p, o, y, e, opts, t.writers.length > 1 ? Array.from(s.producers.keys()) : []));
        } else {
          const tip = gone ? L("offset {offset}: deleted", { offset: o }) : L("offset {offset}: not shown by the lesson", { offset: o });
          out.push(tag("rect", { class: cls("cp-slot", gone && "cp-gone"), x: X(o), y, width: CW, height: CH, rx: 4 }, title(tip)));
        }
      }
      if (!count) out.push(txt(LEFT, y + 25, "cp-muted", L("no record seen by the lesson")));
      // The watermarks: where the log ends (high) and begins (low).
      const marks = cls("cp-side", e.kind === "watermarks" && curPart && "cp-cur-text");
      if (p.high !== null) {
        const hx = X(p.high) - 2;
        out.push(
          tag(
            "g",
            { class: cls("cp-hw", e.kind === "watermarks" && curPart && "cp-cur"), "data-topic": t.name, "data-partition": p.p, "data-high": p.high },
            tag("line", { x1: hx, y1: y - 5, x2: hx, y2: y + CH + 5 }) + tag("path", { d: "M" + (hx - 4) + "," + (y - 7) + " h8 l-4,5 z" }),
          ),
        );
        out.push(txt(side, y + 16, marks, L("high watermark {n}", { n: p.high })));
      }
      if (p.low) {
        out.push(tag("line", { class: "cp-lw", x1: X(p.low) - 2, y1: y - 5, x2: X(p.low) - 2, y2: y + CH + 5 }));
        out.push(txt(side, y + 31, marks, L("low watermark {n}", { n: p.low })));
      }
      y += CH + 6;
      for (const g of lanes(s, t.name + ":" + p.p)) {
        drawLane(out, s, g, t, p, y, width, side);
        y += LANE;
      }
      y += 10;
    }
    y += 6;
  });
  // A dead letter being written: an arrow from the record to its copy.
  const a = e.kind === "dead_lettered" && where.get(e.topic + ":" + e.partition + ":" + e.offset);
  const b = a && where.get(e.dead_letter_topic + ":" + e.dead_letter_partition + ":" + e.dead_letter_offset);
  if (b) {
    const down = b[1] > a[1];
    const [x1, y1, x2, y2] = [a[0] + CW / 2, a[1] + (down ? CH : 0), b[0] + CW / 2, b[1] + (down ? 0 : CH)];
    const bend = Math.max(40, Math.abs(y2 - y1) / 3) * (down ? 1 : -1);
    out.push(tag("path", { class: "cp-arrow", "marker-end": "url(#cp-head)", d: "M" + x1 + "," + y1 + " C" + (x1 + 60) + "," + (y1 + bend) + " " + (x2 + 60) + "," + (y2 - bend) + " " + x2 + "," + y2 }));
  }
  const defs =
    '<defs><marker id="cp-head" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto"><path d="M0,0 L10,5 L0,10 z" class="cp-arrow-head"/></marker>' +
    '<pattern id="cp-hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><line x1="0" y1="0" x2="0" y2="6" class="cp-hatch-line"/></pattern></defs>';
  return { svg: defs + out.join(""), width, height: Math.max(y, 30) };
}

// What the legend explains: the marks this run draws at some point.
function legend(s) {
  const has = { rec: true };
  s.topics.forEach((t) =>
    t.parts.forEach((p) => {
      has.hw = has.hw || p.high !== null;
      p.recs.forEach((r) => Object.assign(has, { dead: has.dead || r.dlt, copy: has.copy || r.from, gone: has.gone || r.offset < p.low }));
    }),
  );
  s.groups.forEach((g) => g.pos.forEach((ps) => Object.assign(has, { read: has.read || ps.read, commit: has.commit || ps.committed !== null })));
  const items = {
    rec: L("a record: its offset, its key (one colour per key)"),
    hw: L("high watermark: where the next record will go"),
    gone: L("deleted: below the low watermark"),
    read: L("read by the group (or reader)"),
    commit: L("committed: the group restarts at the ▲"),
    dead: L("dead-lettered: copied to the dead-letter topic"),
    copy: L("a dead letter's copy: “from p1·3” = from partition 1, offset 3"),
  };
  return Object.keys(items)
    .filter((k) => has[k])
    .map((k) => tag("li", {}, tag("span", { class: "cp-lg cp-lg-" + k, "aria-hidden": "true" }, "") + esc(items[k])))
    .join("");
}

// ---- The replay

const reduced = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)");
const SPEEDS = [1, 2, 4];
const STEP_MS = 700; // one event at 1×; a section's title stays twice as long

function mount(figure, events, opts) {
  opts = opts || {};
  const built = events || [];
  let shown = opts.live ? [] : built;
  let at = shown.length - 1; // the index of the last event drawn
  let timer = null;
  let speed = 0;
  let liveOutput = null;
  // A colour per key, as the built run meets them: the same in a live run.
  const keyColors = new Map();
  const colors = (k) => get(keyColors, k, () => PALETTE[keyColors.size % PALETTE.length]);
  const meet = (e) => e.key !== undefined && e.key !== null && colors(e.key);
  built.forEach(meet);
  // The cells keep one size through a replay: the full run decides it.
  const full = fold(built, built.length - 1);
  const fullSlots = maxSlots(full);

  const button = (attrs, text) => tag("button", Object.assign({ type: "button" }, attrs), esc(text));
  figure.classList.add("course-picture");
  figure.tabIndex = 0;
  figure.setAttribute("aria-label", L("Picture of the run"));
  figure.innerHTML =
    '<div class="cp-head"><div class="cp-section"></div><div class="cp-event" aria-live="polite"></div></div><div class="cp-controls">' +
    button({ "data-replay": "", title: L("The run recorded with the book, from its start") }, L("⟲ Replay")) +
    button({ "data-step": "-1" }, L("◀ Back")) +
    button({ "data-play": "" }, L("▶ Play")) +
    button({ "data-step": "1" }, L("Forward ▶")) +
    button({ "data-speed": "" }, L("speed {n}×", { n: 1 })) +
    tag("input", { type: "range", min: -1, step: 1, "aria-label": L("Event") }) +
    '<span class="cp-pos"></span></div><div class="cp-panels"></div><div class="cp-stage">' +
    tag("svg", { xmlns: "http://www.w3.org/2000/svg", role: "img", "aria-label": L("The topics' logs") }, "") +
    '</div><ul class="cp-legend"></ul><figcaption><p class="cp-note"></p><p class="cp-summary"></p></figcaption>';
  const $ = (sel) => figure.querySelector(sel);
  const svg = $("svg");
  const play = $("[data-play]");
  const range = $("input");
  $(".cp-note").textContent = opts.note || "";
  $(".cp-legend").innerHTML = legend(full);

  function draw(fresh) {
    const s = fold(shown, at);
    const last = shown.length - 1;
    figure.dataset.seq = s.cur ? s.cur.seq : -1;
    $(".cp-section").textContent = s.section || "";
    $(".cp-event").textContent = describe(s.cur);
    $(".cp-panels").innerHTML = panels(s);
    const logs = drawLogs(s, { colors, slots: shown === built ? fullSlots : 1, fresh: fresh && !(reduced && reduced.matches) });
    svg.setAttribute("viewBox", "0 0 " + logs.width + " " + logs.height);
    svg.setAttribute("width", logs.width);
    svg.setAttribute("height", logs.height);
    svg.style.minWidth = Math.round(logs.width * 0.8) + "px";
    svg.innerHTML = logs.svg;
    $(".cp-summary").textContent = summarize(s);
    Object.assign(range, { max: last, value: at });
    $(".cp-pos").textContent = L("event {n} of {total}", { n: at + 1, total: shown.length });
    $("[data-step='-1']").disabled = at < 0;
    $("[data-step='1']").disabled = at >= last;
    // The output's line about the event; in a live run the live output's,
    // whose text nodes (one a line, course.js) are wrapped when needed.
    document.querySelectorAll(".cp-line-current").forEach((n) => n.classList.remove("cp-line-current"));
    let line = s.cur && (liveOutput && shown !== built ? liveOutput.childNodes[s.cur.line] : opts.lines && opts.lines[s.cur.line]);
    if (line && line.nodeType === 3) {
      const wrap = document.createElement("span");
      line.replaceWith(wrap);
      wrap.append(line);
      line = wrap;
    }
    if (line && line.classList) line.classList.add("cp-line-current");
  }

  function goto(i, fresh) {
    at = Math.max(-1, Math.min(shown.length - 1, i));
    draw(fresh);
  }
  function stop() {
    clearTimeout(timer);
    timer = null;
    play.textContent = L("▶ Play");
    $(".cp-event").setAttribute("aria-live", "polite"); // steps, not a replay playing
  }
  function tick() {
    if (at >= shown.length - 1) return stop();
    goto(at + 1, true);
    timer = setTimeout(tick, ((shown[at].kind === "section" ? 2 : 1) * STEP_MS) / SPEEDS[speed]);
  }
  // Every control stops a replay that plays, then does its own thing.
  const on = (el, type, f) => el.addEventListener(type, (ev) => (stop(), f(ev)));
  play.addEventListener("click", () => {
    if (timer) return stop();
    if (at >= shown.length - 1) goto(-1);
    play.textContent = L("❚❚ Pause");
    $(".cp-event").setAttribute("aria-live", "off");
    timer = setTimeout(tick, 250);
  });
  on($("[data-replay]"), "click", () => {
    shown = built;
    figure.dataset.state = "replay";
    goto(-1);
    play.click();
  });
  figure.querySelectorAll("[data-step]").forEach((b) => on(b, "click", () => goto(at + Number(b.dataset.step), b.dataset.step === "1")));
  $("[data-speed]").addEventListener("click", (ev) => {
    speed = (speed + 1) % SPEEDS.length;
    ev.currentTarget.textContent = L("speed {n}×", { n: SPEEDS[speed] });
  });
  on(range, "input", () => goto(Number(range.value)));
  figure.addEventListener("keydown", (ev) => {
    const to = { ArrowLeft: at - 1, ArrowRight: at + 1, Home: -1, End: shown.length - 1 }[ev.key];
    if (to === undefined || (ev.target !== figure && ev.target.tagName !== "BUTTON")) return;
    ev.preventDefault();
    stop();
    goto(to, ev.key === "ArrowRight");
  });
  const state = (st) => {
    stop();
    figure.dataset.state = st;
  };
  state(opts.live ? "live" : "replay");
  draw();

  const picture = {
    figure,
    // A live run begins (output: its text, course.js's): an empty picture.
    reset(output) {
      liveOutput = output || null;
      state("live");
      shown = [];
      goto(-1);
    },
    // One more event of the live run, drawn at once (unless the reader is
    // looking back: it waits).
    push(e) {
      if (shown === built) picture.reset();
      const follow = at === shown.length - 1;
      shown = shown.concat([e]);
      meet(e);
      goto(follow ? shown.length - 1 : at, follow);
    },
    // The live run ended: its last frame stays; Replay brings the built run.
    end() {
      state("done");
      draw();
    },
    // The state after the event with this seq (-1: before the first).
    goto(seq) {
      stop();
      const i = shown.findIndex((e) => e.seq === seq);
      goto(i >= 0 ? i : seq);
    },

  };
  return picture;
}

window.CoursePicture = { mount, fold };

// ---- On a chapter page

const t0 = performance.now();
const page = /(?:^|\/)(ch(\d+)_[^/]*)\.html$/.exec(location.pathname);
const main = document.querySelector("main");
if (!page || !main) return;
const slug = page[1];
const chapter = Number(page[2]);
// The lesson's output: the block starting "Lesson N:" ("Leçon N —").
const start = new RegExp("^\\s*(?:Lesson|Leçon)\\s+" + chapter + "\\s*[:—-]");
const snapshot = Array.from(main.querySelectorAll("pre")).find((pre) => start.test(pre.textContent));
if (!snapshot) return;

const figure = document.createElement("figure");
figure.className = "course-picture cp-loading";
Object.assign(figure.dataset, { chapter: slug, state: "replay", seq: -1 });
// Before the Run box course.js puts before the output (maybe later, once
// the server answered): the picture, the Run button, then the text.
const runBox = (b = snapshot.previousElementSibling) => (b && b !== figure && b.classList.contains("course-run") ? b : null);
(runBox() || snapshot).before(figure);
const watch = new MutationObserver(() => runBox() && (runBox().before(figure), watch.disconnect()));
watch.observe(snapshot.parentNode, { childList: true });

// The output's lines, each wrapped in a span once (the text unchanged).
function wrapLines(pre) {
  const code = pre.querySelector("code") || pre;
  const parts = code.textContent.split("\n");
  code.textContent = "";
  return parts.map((line, i) => code.appendChild(Object.assign(document.createElement("span"), { className: "cp-line", textContent: line + (i < parts.length - 1 ? "\n" : "") })));
}

const root = typeof path_to_root === "string" ? path_to_root : ""; // mdBook's global
function load(src, done) {
  const script = document.createElement("script");
  script.src = root + src;
  script.onload = script.onerror = done;
  document.head.append(script);
}
let picture = null;
let pending = [];
const whenMounted = (f) => (picture ? f() : pending.push(f));
function fromHash() {
  const hash = /picture-seq=(-?\d+)/.exec(location.hash);
  if (!hash || !picture) return;
  picture.goto(Number(hash[1]));
  figure.scrollIntoView(); // a link to a moment of the run shows it
}
// Labels first: the first frame is drawn in the page's language.
load("timelines/labels.js", () =>
  load("timelines/" + slug + ".js", () => {
    const events = (window.courseTimelines || {})[slug];
    figure.classList.remove("cp-loading");
    if (!events) return figure.remove();
    const embedded = /embedded cluster|cluster embarqué/.test(snapshot.textContent);
    const note = L("Recorded on the embedded cluster, as the output below: its followers are names in the metadata, without logs, so each partition's log is drawn once, at its leader.");
    // Lines only if this output is the timeline's: each section's title
    // follows its line (a French page may replay the English run).
    let lines = wrapLines(snapshot);
    if (events.some((e) => e.kind === "section" && !String((lines[e.line + 1] || {}).textContent).includes(e.title))) lines = null;
    picture = mount(figure, events, { lines, note: embedded ? note : "" });
    figure.dataset.loadMs = Math.round(performance.now() - t0); // course bench
    fromHash();
    pending.forEach((f) => f());
    pending = [];
  }),
);
window.addEventListener("hashchange", fromHash);

// Live: the Run button's run, event by event (course.js).
const mine = (ev) => !ev.detail || ev.detail.chapter === undefined || ev.detail.chapter === chapter;
document.addEventListener("course:run-start", (ev) => mine(ev) && whenMounted(() => picture.reset(main.querySelector(".course-run .course-output"))));
document.addEventListener("course:event", (ev) => whenMounted(() => figure.dataset.state === "live" && picture.push(ev.detail)));
document.addEventListener("course:run-end", (ev) => mine(ev) && whenMounted(() => figure.dataset.state === "live" && picture.end()));
})();

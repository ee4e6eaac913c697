// Chapter 2's key widget: type a key, see the partition each producer's
// default partitioner sends it to, for 3 and 4 partitions.
//
// It fills the `<div class="course-keys"></div>` that book/src/ch2_producer.md
// places after the paragraph on hash(key) % partitions. The two hashes are
// the clients' own, on the key's UTF-8 bytes:
// - librdkafka's default partitioner, consistent_random
//   (rd_kafka_msg_partitioner_consistent_random in rdkafka_msg.c): a key of
//   length 0 gets a random partition; any other key rd_crc32(key) % count,
//   where rd_crc32 is the standard CRC-32 (IEEE, reflected, 0xedb88320,
//   init and final xor 0xffffffff, as zlib's);
// - the Java client's default (BuiltInPartitioner.partitionForKey):
//   Utils.toPositive(Utils.murmur2(keyBytes)) % count, toPositive being
//   `& 0x7fffffff` and murmur2 seeded 0x9747b28c (librdkafka's murmur2_random
//   computes the same).
// Lesson 2 sends lot-A…lot-H through real producers and prints where they
// landed; book/builder/tests/keys.rs checks this widget against that table.
//
// The DOM contract (issue #16): an `<input data-key-input>` and one
// `<output data-key-partition data-partitioner="crc32|murmur2"
// data-partitions="3|4">` per partitioner and count, whose text is the
// partition number (empty for a record without a key), labelled by its row
// and column headers, inside an aria-live region. `#key=lot-A` in the page's
// address fills the input (and typing keeps it there, to share).
//
// Labels: L("English") from window.coursePictureLabels (timelines/labels.js,
// written by the book's builder from book/theme/picture-labels.txt and
// book/po/fr.po), the English as fallback.
(function () {
  "use strict";

  const COUNTS = [3, 4];
  const PARTITIONERS = [
    { id: "crc32", label: "librdkafka's default (CRC32)", hash: crc32, positive: (h) => h >>> 0 },
    { id: "murmur2", label: "Java client's default (murmur2)", hash: murmur2, positive: (h) => h & 0x7fffffff },
  ];

  // CRC-32 (IEEE), as librdkafka's rd_crc32 and zlib's crc32.
  let table = null;
  function crc32(bytes) {
    if (!table) {
      table = new Uint32Array(256);
      for (let n = 0; n < 256; n++) {
        let c = n;
        for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
        table[n] = c >>> 0;
      }
    }
    let crc = 0xffffffff;
    for (const b of bytes) crc = table[(crc ^ b) & 0xff] ^ (crc >>> 8);
    return (crc ^ 0xffffffff) >>> 0;
  }

  // Kafka's Utils.murmur2 (Java ints: Math.imul wraps, >>> is Java's >>>).
  function murmur2(bytes) {
    const m = 0x5bd1e995;
    const length = bytes.length;
    let h = 0x9747b28c ^ length;
    const length4 = length >> 2;
    for (let i = 0; i < length4; i++) {
      const i4 = i * 4;
      let k = bytes[i4] | (bytes[i4 + 1] << 8) | (bytes[i4 + 2] << 16) | (bytes[i4 + 3] << 24);
      k = Math.imul(k, m);
      k ^= k >>> 24;
      k = Math.imul(k, m);
      h = Math.imul(h, m);
      h ^= k;
    }
    const tail = length & ~3;
    switch (length % 4) {
      case 3:
        h ^= bytes[tail + 2] << 16;
      // falls through
      case 2:
        h ^= bytes[tail + 1] << 8;
      // falls through
      case 1:
        h ^= bytes[tail];
        h = Math.imul(h, m);
    }
    h ^= h >>> 13;
    h = Math.imul(h, m);
    h ^= h >>> 15;
    return h | 0;
  }

  // For the page's tests and the curious: CourseKeys.partition("crc32", "lot-A", 3).
  function partition(id, key, count) {
    const p = PARTITIONERS.find((q) => q.id === id);
    const bytes = new TextEncoder().encode(key);
    if (!p || bytes.length === 0) return null;
    return p.positive(p.hash(bytes)) % count;
  }
  window.CourseKeys = { crc32, murmur2, partition };

  const boxes = document.querySelectorAll("main .course-keys");
  if (!boxes.length) return;

  function L(label, values) {
    const labels = window.coursePictureLabels || {};
    let text = Object.prototype.hasOwnProperty.call(labels, label) && labels[label] ? labels[label] : label;
    for (const [name, value] of Object.entries(values || {})) {
      text = text.split("{" + name + "}").join(String(value));
    }
    return text;
  }

  function el(tag, attrs, children) {
    const e = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (name === "class") e.className = value;
      else e.setAttribute(name, value);
    }
    for (const child of children || []) e.append(child);
    return e;
  }

  // The key in the address: #key=lot-A (percent-encoded for other characters).
  function keyFromHash() {
    const m = /^#key=(.*)$/.exec(location.hash);
    if (!m) return null;
    try {
      return decodeURIComponent(m[1].replace(/\+/g, " "));
    } catch (e) {
      return m[1];
    }
  }

  let seq = 0;
  const widgets = [];

  function build(box) {
    const id = "course-keys-" + ++seq;
    box.textContent = "";
    const input = el("input", {
      id: id + "-input",
      type: "text",
      "data-key-input": "",
      autocomplete: "off",
      spellcheck: "false",
      placeholder: "lot-A",
    });
    const inputLabel = el("label", { for: id + "-input" });
    const bytes = el("span", { class: "course-keys-bytes" });
    const head = el("tr", {}, [el("td")]);
    const colIds = {};
    for (const n of COUNTS) {
      colIds[n] = id + "-n" + n;
      head.append(el("th", { id: colIds[n], scope: "col" }));
    }
    const body = el("tbody");
    const outputs = [];
    const rowHeads = [];
    for (const p of PARTITIONERS) {
      const rowId = id + "-" + p.id;
      const th = el("th", { id: rowId, scope: "row" });
      rowHeads.push([th, p]);
      const row = el("tr", {}, [th]);
      for (const n of COUNTS) {
        const out = el("output", {
          "data-key-partition": "",
          "data-partitioner": p.id,
          "data-partitions": String(n),
          "aria-labelledby": rowId + " " + colIds[n],
        });
        const cells = el("span", { class: "course-keys-cells", "aria-hidden": "true" });
        for (let i = 0; i < n; i++) cells.append(el("span", { "data-cell": String(i) }, [String(i)]));
        outputs.push({ out, cells, p, n });
        row.append(el("td", {}, [out, cells]));
      }
      body.append(row);
    }
    const note = el("p", { class: "course-keys-note" });
    const live = el("div", { class: "course-keys-live", "aria-live": "polite" }, [
      el("table", {}, [el("thead", {}, [head]), body]),
      note,
    ]);
    box.append(el("p", { class: "course-keys-ask" }, [inputLabel, " ", input, " ", bytes]), live);
    const w = { box, input, inputLabel, bytes, head, colIds, rowHeads, outputs, note };
    input.addEventListener("input", () => {
      update(w);
      // Keep the key in the address, to share it, unless the address
      // points at a heading.
      if (!location.hash || location.hash.startsWith("#key=")) {
        const hash = input.value ? "#key=" + encodeURIComponent(input.value) : location.pathname + location.search;
        try {
          history.replaceState(history.state, "", hash);
        } catch (e) {
          // file:// pages may refuse: the widget works without it.
        }
      }
    });
    return w;
  }

  // Labels and values: called again when the labels arrive.
  function update(w) {
    w.inputLabel.textContent = L("Key");
    for (const n of COUNTS) w.head.querySelector("#" + w.colIds[n]).textContent = L("{n} partitions", { n });
    for (const [th, p] of w.rowHeads) th.textContent = L(p.label);
    const key = w.input.value;
    const encoded = new TextEncoder().encode(key);
    w.box.dataset.state = encoded.length ? "keyed" : "keyless";
    w.bytes.textContent = encoded.length
      ? L("its bytes (UTF-8): {bytes}", {
          bytes: Array.from(encoded, (b) => b.toString(16).padStart(2, "0")).join(" "),
        })
      : "";
    const got = {};
    for (const { out, cells, p, n } of w.outputs) {
      const value = partition(p.id, key, n);
      got[p.id + "/" + n] = value;
      out.textContent = value === null ? "" : String(value);
      for (const cell of cells.children) cell.classList.toggle("on", Number(cell.dataset.cell) === value);
    }
    if (!encoded.length) {
      w.note.textContent = L(
        "A record without a key is not hashed: the producer draws a partition at random and keeps it for a while (sticky partitioning, below)."
      );
    } else {
      const [crc3, crc4] = [got["crc32/3"], got["crc32/4"]];
      w.note.textContent =
        (crc3 === got["murmur2/3"]
          ? L("On 3 partitions, CRC32 and murmur2 agree.")
          : L(
              "On 3 partitions, CRC32 and murmur2 disagree: a Rust and a Java producer, each with its default, would split this key over two partitions."
            )) +
        " " +
        (crc3 !== crc4
          ? L("A 4th partition moves this key (CRC32: partition {from}, then {to}).", { from: crc3, to: crc4 })
          : L("A 4th partition leaves this key in partition {p} (CRC32).", { p: crc3 }));
    }
  }

  function updateAll() {
    for (const w of widgets) update(w);
  }

  for (const box of boxes) widgets.push(build(box));
  const fromHash = keyFromHash();
  for (const w of widgets) w.input.value = fromHash === null ? "lot-A" : fromHash;
  updateAll();
  if (fromHash !== null) widgets[0].box.scrollIntoView({ block: "center" });
  window.addEventListener("hashchange", () => {
    const key = keyFromHash();
    if (key === null) return;
    for (const w of widgets) w.input.value = key;
    updateAll();
  });

  // The labels of the page's language: timelines/labels.js, loaded once
  // whoever asks first (picture.js loads it too).
  if (!window.coursePictureLabels) {
    const root = typeof path_to_root === "string" ? path_to_root : "";
    let script = Array.from(document.scripts).find((s) =>
      /(?:^|\/)timelines\/labels\.js$/.test(s.getAttribute("src") || "")
    );
    if (!script) {
      script = document.createElement("script");
      script.src = root + "timelines/labels.js";
      document.head.append(script);
    }
    script.addEventListener("load", updateAll);
  }
})();

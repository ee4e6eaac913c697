// "Run lesson N" and "Check exercise N.K" on the chapter pages.
//
// The buttons talk to `course serve` (book/builder/src/serve.rs), which
// runs the course's own program on this machine and streams its output
// back, one JSON object a line. Without that server (the page opened from
// files, or from a static host) the page says how to start it instead of
// showing a button that would fail. The lesson's snapshot, the output of a
// run made when the book was built, stays on the page either way.
//
// Both editions load this script: its texts are in English and in French,
// chosen by the page's language (<html lang>).
//
// A lesson's run also streams its timeline (what the lesson observed on the
// cluster, MAINTAINING.md "The timeline"), each event once the text has
// reached it. This script passes it on as DOM events on `document`, for the
// picture of the run (picture.js) or anything else listening:
//   "course:run-start" {detail: {chapter: N}}  the run started (the server ran it);
//   "course:event"     {detail: event}         one event of its timeline, as it happens;
//   "course:run-end"   {detail: {chapter: N, ok: bool}}  it ended, was stopped or failed.
(function () {
  "use strict";

  // Chapter pages are named chN_*.html: N is the lesson's and exercise's number.
  const match = /(?:^|\/)ch(\d+)_[^/]*\.html$/.exec(location.pathname);
  if (!match) return;
  const chapter = Number(match[1]);
  const french = document.documentElement.lang === "fr";
  const main = document.querySelector("main");
  if (!main) return;

  // French typography: a no-break space before : ; ? !
  const nb = "\u00a0";
  const TEXTS = {
    en: {
      run: (n) => "Run lesson " + n,
      check: (n) => "Check exercise " + n,
      stop: "Stop",
      running: "running…",
      checking: "checking… (the first check after an edit compiles your file: a few seconds)",
      done: "done",
      lessonFailed: (code) => "the lesson failed (exit code " + code + ")",
      solved: "solved",
      notYet: "not solved yet: the report below says why",
      timeout: "stopped: it ran too long",
      stopped: "stopped",
      busy: "two runs are going already: stop one, or wait for it to end",
      cannot: (why) => "could not run: " + why + " (is course serve still running?)",
      edit: ["Edit ", ", save it, then check it here:"],
      live: "This run, live (the output below it is a run made when the book was built):",
      offline: (what) => "To " + what + " from this page, start the course's server in the course's folder:",
      runWhat: (n) => "run lesson " + n,
      checkWhat: (n) => "check exercise " + n,
      then: (url) => ["then open ", url, ". Or, in a terminal: "],
      serve: "just serve        # or: cargo run --release -- serve",
    },
    fr: {
      run: (n) => "Lancer la leçon " + n,
      check: (n) => "Vérifier l'exercice " + n,
      stop: "Arrêter",
      running: "en cours…",
      checking: "vérification… (la première après une modification compile votre fichier" + nb + ": quelques secondes)",
      done: "terminé",
      lessonFailed: (code) => "la leçon a échoué (code de sortie " + code + ")",
      solved: "résolu",
      notYet: "pas encore résolu" + nb + ": le rapport ci-dessous dit pourquoi",
      timeout: "arrêté" + nb + ": trop long",
      stopped: "arrêté",
      busy: "deux exécutions sont déjà en cours" + nb + ": arrêtez-en une, ou attendez qu'elle finisse",
      cannot: (why) => "impossible de lancer" + nb + ": " + why + " (course serve tourne-t-il toujours" + nb + "?)",
      edit: ["Modifiez ", ", enregistrez-le, puis vérifiez-le ici" + nb + ":"],
      live: "Cette exécution, en direct (la sortie en dessous est celle d'une exécution faite à la construction du livre)" + nb + ":",
      offline: (what) => "Pour " + what + " depuis cette page, démarrez le serveur du cours dans le dossier du cours" + nb + ":",
      runWhat: (n) => "lancer la leçon " + n,
      checkWhat: (n) => "vérifier l'exercice " + n,
      then: (url) => ["puis ouvrez ", url, ". Ou, dans un terminal" + nb + ": "],
      serve: "just serve        # ou" + nb + ": cargo run --release -- serve",
    },
  };
  const T = french ? TEXTS.fr : TEXTS.en;

  // The lesson's snapshot: the code block that starts "Lesson N:" (in
  // French "Leçon N —").
  const start = new RegExp("^\\s*(?:Lesson|Leçon)\\s+" + chapter + "\\s*[:—]");
  const snapshot = Array.from(main.querySelectorAll("pre")).find((pre) =>
    start.test(pre.textContent),
  );
  // Each exercise's heading: "### Exercise 4.2: … {#exercise-4-2}" (an
  // explicit id, the same in both editions), the capstone's "{#capstone}".
  // An older page names exercise C.1 in an h2 whose id mdBook made from its
  // text: "exercise-C-…" in English, "exercice-C-…" in French.
  function headingOf(id) {
    const explicit = document.getElementById(id === "capstone" ? "capstone" : "exercise-" + id.replace(".", "-"));
    if (explicit && main.contains(explicit)) return explicit;
    if (id !== chapter + ".1") return null;
    const old = new RegExp("^exerci[cs]e-" + chapter + "(?![0-9])");
    return Array.from(main.querySelectorAll("h2[id]")).find((h) => old.test(h.id)) || null;
  }
  // The exercises this page has, when no server says which: every heading
  // of the form above.
  function exercisesOnPage() {
    const ids = [];
    for (const h of main.querySelectorAll("h2[id], h3[id]")) {
      const m = /^exercise-(\d+)-(\d+)$/.exec(h.id);
      if (m && Number(m[1]) === chapter) ids.push(m[1] + "." + m[2]);
      if (h.id === "capstone") ids.push("capstone");
    }
    if (!ids.length && headingOf(chapter + ".1")) ids.push(chapter + ".1");
    return ids;
  }
  // Where the lesson's control goes when the page has no snapshot.
  const exercisesSection = document.getElementById("exercises") || headingOf(chapter + ".1");

  function el(tag, className, text) {
    const e = document.createElement(tag);
    if (className) e.className = className;
    // textContent, never innerHTML: output is shown as text, whatever it holds.
    if (text !== undefined) e.textContent = text;
    return e;
  }

  // This page, served by `course serve` with its default port.
  function serverUrl() {
    const page = location.pathname.split("/").pop() || "index.html";
    return "http://127.0.0.1:3000/" + (french ? "fr/" : "") + page;
  }

  // Shown instead of a button when no server answers.
  function instructions(what, terminal) {
    const box = el("div", "course-run course-offline");
    const [open, url, orTerminal] = T.then(serverUrl());
    const then = el("p");
    then.append(open, el("code", null, url), orTerminal, el("code", null, terminal));
    box.append(
      el("p", null, T.offline(what)),
      el("pre", null, T.serve),
      then,
    );
    return box;
  }

  function announce(name, detail) {
    document.dispatchEvent(new CustomEvent(name, { detail: detail }));
  }

  // A control: a button, a Stop button, a status, and the streamed output.
  // `live`: the text above the output (the lesson's says that the snapshot
  // below is not this run). `lesson`: the lesson's number, for a lesson's
  // control: its run's timeline goes to the page as DOM events.
  function control(label, url, busyText, verdict, liveText, lesson) {
    const box = el("div", "course-run");
    const bar = el("div", "course-bar");
    const run = el("button", "course-run-button", label);
    const stop = el("button", "course-stop-button", T.stop);
    const status = el("span", "course-status");
    const live = el("p", "course-live", liveText || "");
    const output = el("pre", "course-output");
    stop.hidden = true;
    live.hidden = true;
    output.hidden = true;
    bar.append(run, stop, status);
    box.append(bar, live, output);

    run.addEventListener("click", async () => {
      const abort = new AbortController();
      stop.onclick = () => abort.abort();
      run.disabled = true;
      stop.hidden = false;
      live.hidden = !liveText;
      output.hidden = false;
      output.textContent = "";
      status.textContent = busyText;
      box.dataset.state = "running";
      delete box.dataset.firstLineMs;
      delete box.dataset.firstEventMs;
      delete box.dataset.firstFrameMs;
      delete box.dataset.events;
      delete box.dataset.pid;
      const clicked = performance.now();
      let end = null;
      let started = false;
      let events = 0;
      try {
        const lang = french ? "fr" : "en";
        const res = await fetch(url + "?lang=" + lang, { method: "POST", signal: abort.signal });
        if (res.status === 429) throw new Error(T.busy);
        if (!res.ok) throw new Error((await res.text()).trim() || res.statusText);
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        let pending = "";
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          pending += value;
          let nl;
          while ((nl = pending.indexOf("\n")) >= 0) {
            const line = pending.slice(0, nl);
            pending = pending.slice(nl + 1);
            if (!line) continue; // the server's heartbeat
            const event = JSON.parse(line);
            if (event.event === "start") {
              box.dataset.pid = String(event.pid);
              if (lesson) {
                started = true;
                announce("course:run-start", { chapter: lesson });
              }
            } else if (event.event === "timeline") {
              if (!started) continue;
              events += 1;
              box.dataset.events = String(events);
              if (box.dataset.firstEventMs === undefined) {
                // Read by the browser tests and the bench: from the click to
                // the first event, and to the first frame drawn after it.
                box.dataset.firstEventMs = String(Math.round(performance.now() - clicked));
                requestAnimationFrame(() => {
                  box.dataset.firstFrameMs = String(Math.round(performance.now() - clicked));
                });
              }
              announce("course:event", event.entry);
            } else if (event.event === "line") {
              if (box.dataset.firstLineMs === undefined) {
                // Read by the browser tests: from the click to the first line.
                box.dataset.firstLineMs = String(Math.round(performance.now() - clicked));
              }
              const follow = output.scrollTop + output.clientHeight >= output.scrollHeight - 4;
              output.append(event.text + "\n");
              if (follow) output.scrollTop = output.scrollHeight;
            } else if (event.event === "end") {
              end = event;
            }
          }
        }
        status.textContent = end ? verdict(end) : T.stopped;
        box.dataset.state = end ? end.status : "stopped";
      } catch (e) {
        if (abort.signal.aborted) {
          status.textContent = T.stopped;
          box.dataset.state = "stopped";
        } else {
          status.textContent = T.cannot(e.message);
          box.dataset.state = "error";
        }
      } finally {
        run.disabled = false;
        stop.hidden = true;
        if (started) {
          announce("course:run-end", { chapter: lesson, ok: !!end && end.status === "ok" });
        }
      }
    });
    return box;
  }

  function lessonVerdict(end) {
    if (end.status === "ok") return T.done;
    if (end.status === "timeout") return T.timeout;
    return T.lessonFailed(end.code);
  }

  function exerciseVerdict(end) {
    if (end.status === "ok") return T.solved;
    if (end.status === "timeout") return T.timeout;
    return T.notYet;
  }

  function placeLesson(lessonBox) {
    if (!lessonBox) return;
    if (snapshot) snapshot.before(lessonBox);
    else if (exercisesSection) exercisesSection.before(lessonBox);
  }

  // After the first code block of the exercise's section (the terminal
  // command that checks it): the button beside the command it runs.
  function placeExercise(heading, exerciseBox) {
    let anchor = heading.nextElementSibling;
    while (anchor && anchor.tagName !== "PRE" && !/^H[1-6]$/.test(anchor.tagName)) {
      anchor = anchor.nextElementSibling;
    }
    if (anchor && anchor.tagName === "PRE") anchor.after(exerciseBox);
    else heading.after(exerciseBox);
  }

  function offline() {
    placeLesson(instructions(T.runWhat(chapter), "just lesson " + chapter));
    for (const id of exercisesOnPage()) {
      placeExercise(headingOf(id), instructions(T.checkWhat(id), "just exercise " + id));
    }
  }

  if (location.protocol !== "http:") {
    offline();
    return;
  }
  // Ask the server what it offers: a static host has no /api/course.
  fetch("/api/course", { cache: "no-store" })
    .then((res) => (res.ok ? res.json() : Promise.reject(new Error(res.statusText))))
    .then((course) => {
      if (course.server !== "course serve") throw new Error("not course serve");
      const lesson = course.lessons.includes(chapter) ? chapter : null;
      placeLesson(
        lesson
          ? control(T.run(lesson), "/api/lesson/" + lesson, T.running, lessonVerdict, T.live, lesson)
          : null,
      );
      for (const exercise of course.exercises.filter((e) => e.chapter === chapter)) {
        const heading = headingOf(exercise.id);
        if (!heading) continue;
        const exerciseBox = control(
          T.check(exercise.id),
          "/api/exercise/" + exercise.id,
          T.checking,
          exerciseVerdict,
          null,
          null,
        );
        exerciseBox.dataset.exercise = exercise.id;
        const where = el("p", "course-file");
        where.append(T.edit[0], el("code", null, exercise.file), T.edit[1]);
        exerciseBox.prepend(where);
        placeExercise(heading, exerciseBox);
      }
    })
    .catch(offline);
})();

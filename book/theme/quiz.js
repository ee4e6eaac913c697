// The quiz at the end of a chapter page (book/quizzes/<slug>.toml; the
// builder writes quizzes/<slug>.js in each edition's folder, in its
// language, computed answers filled in: window.courseQuizzes[slug]).
// Works from files and on a static host: a script tag loads the data;
// the answers are kept in the browser (localStorage, key
// "course-quiz:<slug>:<question id>": the chosen option's index).
//
// The contract (tests, assistive tools):
// - <div class="course-quiz" data-chapter="chN_x"> (the builder adds it
//   under a "## Quiz" heading) holds the questions;
// - each question: an element with data-quiz-question="<id>", and
//   data-answered="right"|"wrong" once answered;
// - each option: a <button data-quiz-option="<index>">, data-right="true"
//   on the right one once the question is answered; the explanation of
//   the chosen option follows (.quiz-explain);
// - the result: data-quiz-score="<right>/<questions>" on the score line.
(function () {
"use strict";

const french = document.documentElement.lang === "fr";
const T = french
  ? { score: (r, n, a) => `${r} bonne${r > 1 ? "s" : ""} réponse${r > 1 ? "s" : ""} sur ${n} (${a} question${a > 1 ? "s" : ""} traitée${a > 1 ? "s" : ""})`, right: "Juste\u00a0: ", wrong: "Faux\u00a0: ", see: "Voir la section", reset: "Recommencer" }
  : { score: (r, n, a) => `${r} right of ${n} (${a} answered)`, right: "Right: ", wrong: "Wrong: ", see: "See the section", reset: "Start again" };

const root = typeof path_to_root === "string" ? path_to_root : ""; // mdBook's global
function store(key, value) {
  try {
    if (value === undefined) return localStorage.getItem(key);
    if (value === null) localStorage.removeItem(key);
    else localStorage.setItem(key, value);
  } catch (e) { /* no storage (a private window): answers last as long as the page */ }
  return null;
}

function mount(box) {
  const slug = box.dataset.chapter;
  const questions = (window.courseQuizzes || {})[slug];
  if (!questions) return;
  box.textContent = "";
  const score = document.createElement("p");
  score.className = "quiz-score";
  const memory = {};
  const key = (q) => "course-quiz:" + slug + ":" + q.id;
  function update() {
    let right = 0, answered = 0;
    questions.forEach((q) => {
      const chosen = memory[q.id];
      if (chosen === undefined) return;
      answered++;
      if (q.options[chosen] && q.options[chosen].right) right++;
    });
    score.dataset.quizScore = right + "/" + questions.length;
    score.textContent = T.score(right, questions.length, answered);
  }
  questions.forEach((q, n) => {
    const el = document.createElement("fieldset");
    el.className = "quiz-question";
    el.dataset.quizQuestion = q.id;
    const legend = document.createElement("legend");
    legend.textContent = (n + 1) + ". " + q.text;
    el.append(legend);
    const explain = document.createElement("p");
    explain.className = "quiz-explain";
    explain.setAttribute("aria-live", "polite");
    const buttons = q.options.map((o, i) => {
      const b = document.createElement("button");
      b.type = "button";
      b.className = "quiz-option";
      b.dataset.quizOption = String(i);
      b.textContent = String.fromCharCode(97 + i) + ") " + o.text;
      b.addEventListener("click", () => choose(i, true));
      el.append(b);
      return b;
    });
    el.append(explain);
    function choose(i, save) {
      const o = q.options[i];
      if (!o) return;
      memory[q.id] = i;
      if (save) store(key(q), String(i));
      el.dataset.answered = o.right ? "right" : "wrong";
      buttons.forEach((b, j) => {
        b.classList.toggle("quiz-chosen", j === i);
        b.setAttribute("aria-pressed", String(j === i));
        if (q.options[j].right) b.dataset.right = "true";
      });
      explain.textContent = (o.right ? T.right : T.wrong) + o.explain + " ";
      const link = document.createElement("a");
      link.href = "#" + q.link;
      link.textContent = T.see;
      explain.append(link);
      update();
    }
    box.append(el);
    const saved = store(key(q));
    if (saved !== null && saved !== undefined && saved !== "") choose(Number(saved), false);
  });
  const reset = document.createElement("button");
  reset.type = "button";
  reset.className = "quiz-reset";
  reset.textContent = T.reset;
  reset.addEventListener("click", () => {
    questions.forEach((q) => store(key(q), null));
    mount(box);
  });
  box.append(score, reset);
  update();
}

document.querySelectorAll(".course-quiz[data-chapter]").forEach((box) => {
  const slug = box.dataset.chapter;
  const script = document.createElement("script");
  script.src = root + "quizzes/" + slug + ".js";
  script.onload = () => mount(box);
  document.head.append(script);
});
})();

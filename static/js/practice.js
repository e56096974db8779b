/* Curiosity Coach — practice mode: check each answer at once (with its rationale), then
 * finish for a score; the server grades and stores the attempt and, for a saved lesson,
 * schedules its next review. */
(function () {
  "use strict";
  const root = document.getElementById("practice");
  if (!root) return;
  const problems = Array.from(root.querySelectorAll(".problem"));
  const score = document.getElementById("score");
  const finish = document.getElementById("finish");
  const inReview = root.dataset.inReview === "1";

  function normalise(text) {
    return text.normalize("NFKC").toLowerCase().replace(/\s+/g, " ").trim()
      .replace(/^[\s.,!?;:'"“”‘’()-]+|[\s.,!?;:'"“”‘’()-]+$/g, "");
  }

  function answerOf(problem) {
    const chosen = problem.querySelector("input[type=radio]:checked");
    if (chosen) return chosen.value;
    const typed = problem.querySelector("input[type=text]");
    return typed ? typed.value : "";
  }

  function show(problem, right, extra) {
    const feedback = problem.querySelector(".feedback");
    feedback.hidden = false;
    feedback.className = "feedback " + (right ? "is-right" : "is-wrong");
    feedback.textContent = (right ? "Right! " : "Not quite — " + (extra || "the answer is “" + problem.dataset.answer + "”.") + " ")
      + problem.dataset.rationale;
  }

  // A rewritten sentence is graded on the server (ERRANT), so another right way of
  // writing it counts, and the feedback says what is still wrong.
  async function checkRewrite(problem) {
    try {
      const result = await window.Coach.api("POST", root.dataset.checkUrl,
        { index: Number(problem.dataset.index), answer: answerOf(problem), review: inReview });
      const still = result.feedback.length ? result.feedback.join(" ") + " A correct version: “" + result.expected + "”." : "";
      show(problem, result.correct, still);
    } catch (err) {
      show(problem, false, err.message);
    }
  }

  function check(problem) {
    if (problem.dataset.kind === "rewrite") {
      checkRewrite(problem);
      return;
    }
    show(problem, normalise(answerOf(problem)) === normalise(problem.dataset.answer));
  }

  /* "now" rather than "in 0 minutes": a lesson due again at once is due now. */
  function whenDue(due) {
    return due.getTime() - Date.now() <= 60 * 1000 ? "now" : due.toLocaleString();
  }

  /* A review holds the explanation back until the learner has answered; then it opens
   * after the score, in reading order, where Tab and a screen reader reach it next. */
  function revealExplanation() {
    const explanation = document.getElementById("explanation");
    const later = document.getElementById("explanation-later");
    if (!explanation) return;
    explanation.hidden = false;
    if (later) later.hidden = true;
  }

  problems.forEach((problem) => {
    problem.querySelector(".check").addEventListener("click", () => check(problem));
  });

  finish.addEventListener("click", async () => {
    problems.forEach(check);
    finish.disabled = true;
    try {
      const result = await window.Coach.api("POST", root.dataset.practiceUrl,
        { answers: problems.map(answerOf), review: inReview });
      score.hidden = false;
      let text = "Your score: " + result.correct + " of " + result.total + ".";
      if (result.due_at) text += " Next review: " + whenDue(new Date(result.due_at)) + ".";
      if (inReview) text += " The explanation is below.";
      score.textContent = text;
      if (inReview) {
        revealExplanation();
        const next = document.createElement("a");
        next.className = "button small";
        next.href = root.dataset.nextReviewUrl;
        next.textContent = "Next review →";
        score.append(" ", next);
      }
    } catch (err) {
      score.hidden = false;
      score.textContent = err.message;
      finish.disabled = false;
    }
  });
})();

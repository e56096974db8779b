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

  function check(problem) {
    const feedback = problem.querySelector(".feedback");
    const right = normalise(answerOf(problem)) === normalise(problem.dataset.answer);
    feedback.hidden = false;
    feedback.className = "feedback " + (right ? "is-right" : "is-wrong");
    feedback.textContent = (right ? "Right! " : "Not quite — the answer is “" + problem.dataset.answer + "”. ")
      + problem.dataset.rationale;
    return right;
  }

  problems.forEach((problem) => {
    problem.querySelector(".check").addEventListener("click", () => check(problem));
  });

  finish.addEventListener("click", async () => {
    problems.forEach(check);
    finish.disabled = true;
    try {
      const result = await window.Coach.api("POST", root.dataset.practiceUrl,
        { answers: problems.map(answerOf) });
      score.hidden = false;
      let text = "Your score: " + result.correct + " of " + result.total + ".";
      if (result.due_at) text += " Next review: " + new Date(result.due_at).toLocaleString() + ".";
      score.textContent = text;
      if (root.dataset.inReview === "1") {
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

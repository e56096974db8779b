/* Analysis in the page: mistakes marked inline in the chat, live updates of "My mistakes".
 *
 * The chat page loads the conversation's analysis from the API, then listens on the
 * learner's own event socket (/ws/events/) for `analysis.message_checked` (the model-free
 * pass, within a second of sending) and `analysis.batch_completed` (the model's pass,
 * which replaces it) and marks the mistakes of each learner message: the span in a <mark>
 * the keyboard can reach, with the correction, the grammar note and the model's own
 * explanation ("More"), where one passed its checks, in a tooltip shown on hover and on
 * focus. A message with nothing marked says "No clear mistakes found": the checks are
 * built to be sure of what they mark, not to vouch for what they leave alone. The
 * "My mistakes" pages refresh their content when a clustering run completes.
 * No inline script: everything is read from data attributes.
 */
(function () {
  "use strict";

  const chat = document.getElementById("chat");
  const mistakes = document.getElementById("mistakes");
  if (!chat && !mistakes) return;

  // --- Inline marks in the chat -------------------------------------------------------

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function markedText(utterance) {
    const text = utterance.text;
    const out = el("p", "analysis-text");
    let at = 0;
    const errors = utterance.errors.slice().sort((a, b) => a.start - b.start);
    errors.forEach((error, index) => {
      if (error.start < at || error.end > text.length) return; // overlapping or stale
      out.append(document.createTextNode(text.slice(at, error.start)));
      out.append(errorNode(utterance, error, index));
      at = error.end;
    });
    out.append(document.createTextNode(text.slice(at)));
    return out;
  }

  function errorNode(utterance, error, index) {
    const wrap = el("span", "analysis-error");
    const tipId = "analysis-tip-" + utterance.message_seq + "-" + index;
    const original = error.original || "";
    const mark = el("mark", "analysis-mark", original || "‸");
    mark.tabIndex = 0;
    mark.setAttribute("aria-describedby", tipId);
    mark.dataset.correction = error.correction;
    const hint = error.correction
      ? (original ? "“" + original + "” should be “" + error.correction + "”" : "Missing: “" + error.correction + "”")
      : "Remove “" + original + "”";
    // Not colour only: the words "Mistake:" are read, and the tooltip is the description.
    mark.setAttribute("aria-label", "Mistake: " + hint);
    const tip = el("span", "analysis-tip");
    tip.id = tipId;
    tip.setAttribute("role", "tooltip");
    tip.append(el("strong", "", hint));
    const note = error.note;
    if (note) {
      tip.append(el("span", "analysis-note-title", plain(note.title)));
      tip.append(el("span", "analysis-note-pattern", plain(note.pattern)));
      tip.append(el("span", "analysis-note-rule", plain(note.rule)));
    } else if (error.explanation) {
      tip.append(el("span", "analysis-note-rule", error.explanation));
    }
    if (error.more) tip.append(el("span", "analysis-more", "More: " + error.more));
    if (error.confidence === "low") tip.append(el("em", "", " (less certain)"));
    wrap.append(mark, tip);
    return wrap;
  }

  /* Notes mark the English words they quote with *asterisks*; the tooltip shows text. */
  function plain(text) {
    return (text || "").replace(/\*/g, "");
  }

  function summary(utterance) {
    const count = utterance.errors.length;
    const node = el("p", "analysis-summary" + (count ? "" : " is-clean"));
    node.textContent = count
      ? count + (count === 1 ? " mistake" : " mistakes") + " marked: hover or focus the marked words"
      : "No clear mistakes found";
    return node;
  }

  function applyTo(li, utterance) {
    const body = li.querySelector(".message-body");
    if (!body) return;
    // Each analysis once; a newer one (the model's pass) replaces the quick one.
    if (li.dataset.analysisId === String(utterance.id) && body.querySelector(".analysis-text")) return;
    li.dataset.analysisId = String(utterance.id);
    // The message as written, with its marks, instead of the Markdown rendering.
    body.replaceChildren(markedText(utterance));
    const footer = li.querySelector(".message-footer");
    const old = li.querySelector(".analysis-summary");
    if (old) old.remove();
    (footer || body).before(summary(utterance));
    li.classList.add("is-analysed");
  }

  if (chat) {
    const conversationId = Number(chat.dataset.conversationId);
    const list = document.getElementById("messages");
    const known = new Map(); // message seq -> utterance
    let applying = false;

    function applyAll() {
      if (applying || !list) return;
      applying = true;
      try {
        for (const [seq, utterance] of known) {
          const li = list.querySelector('li.is-user[data-seq="' + seq + '"]');
          if (li) applyTo(li, utterance);
        }
      } finally {
        applying = false;
      }
    }

    function learn(utterances) {
      for (const utterance of utterances) {
        // An answer to an earlier request can land after a newer event: ids only grow.
        const had = known.get(utterance.message_seq);
        if (!had || had.id <= utterance.id) known.set(utterance.message_seq, utterance);
      }
      applyAll();
    }

    function noteClusters() {
      const link = document.getElementById("mistakes-link");
      if (link) link.classList.add("has-news");
      const announcer = document.getElementById("announcer");
      if (announcer) announcer.textContent = "Your mistakes from this conversation are grouped: open My mistakes.";
    }

    // A tip shown on hover or focus goes away with Escape, without moving the pointer or
    // the focus (WCAG 1.4.13), and comes back when the mark is left and reached again.
    // Captured first: the same key cancels a streaming reply, which the learner did not ask.
    document.addEventListener("keydown", (event) => {
      if (event.key !== "Escape" || !list) return;
      const shown = Array.from(list.querySelectorAll(".analysis-error:hover, .analysis-error:focus-within"))
        .filter((wrap) => !wrap.classList.contains("is-dismissed"));
      if (!shown.length) return;
      shown.forEach((wrap) => wrap.classList.add("is-dismissed"));
      event.preventDefault();
      event.stopPropagation();
    }, true);
    function undismiss(event) {
      const wrap = event.target.closest && event.target.closest(".analysis-error");
      if (wrap && !wrap.contains(event.relatedTarget)) wrap.classList.remove("is-dismissed");
    }
    if (list) {
      list.addEventListener("mouseout", undismiss);
      list.addEventListener("focusout", undismiss);
    }

    // chat.js re-renders messages (resume, paging): put the marks back when it does.
    if (list) new MutationObserver(applyAll).observe(list, { childList: true, subtree: true });

    // On every (re)connection of the event socket: a check that finished while the page
    // loaded, or while the socket was down, sent its event to no one.
    function refresh() {
      if (!chat.dataset.analysisUrl) return;
      fetch(chat.dataset.analysisUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then((response) => (response.ok ? response.json() : null))
        .then((data) => { if (data) learn(data.utterances); })
        .catch(() => {});
    }
    refresh();
    window.CoachEvents.listen("analysis.", (event) => {
      if (event.conversation_id !== conversationId) return;
      if (event.type === "analysis.batch_completed") learn(event.utterances);
      else if (event.type === "analysis.message_checked") learn([event.utterance]);
      else if (event.type === "analysis.clustering_completed") noteClusters();
    }, { onOpen: refresh });
  }

  // --- "My mistakes": refresh in place when a clustering run completes -----------------

  if (mistakes) {
    const conversationId = Number(mistakes.dataset.conversationId || 0);
    window.CoachEvents.listen("analysis.", (event) => {
      if (event.type !== "analysis.clustering_completed") return;
      if (conversationId && event.conversation_id !== conversationId) return;
      fetch(window.location.href, { credentials: "same-origin" })
        .then((response) => (response.ok ? response.text() : null))
        .then((html) => {
          if (!html) return;
          const fresh = new DOMParser().parseFromString(html, "text/html").getElementById("mistakes");
          if (fresh) mistakes.replaceChildren(...fresh.childNodes);
        })
        .catch(() => {});
    });
  }
})();

/* Analysis in the page: mistakes marked inline in the chat, live updates of "My mistakes".
 *
 * The chat page loads the conversation's analysis from the API, then listens on the
 * learner's own event socket (/ws/events/) for `analysis.batch_completed` and marks the
 * errors of each analysed learner message: the span in a <mark> the keyboard can reach,
 * with the correction and explanation in a tooltip shown on hover and on focus. The
 * "My mistakes" pages refresh their content when a clustering run completes.
 * No inline script: everything is read from data attributes.
 */
(function () {
  "use strict";

  const chat = document.getElementById("chat");
  const mistakes = document.getElementById("mistakes");
  if (!chat && !mistakes) return;

  // --- The event socket, reconnected with backoff -------------------------------------

  function listen(onEvent) {
    let attempt = 0;
    let stopped = false;
    function open() {
      if (stopped) return;
      const scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
      let socket;
      try {
        socket = new WebSocket(scheme + window.location.host + "/ws/events/");
      } catch (err) {
        return retry();
      }
      socket.onopen = () => { attempt = 0; };
      socket.onmessage = (event) => {
        let data;
        try { data = JSON.parse(event.data); } catch (err) { return; }
        if (data && typeof data.type === "string" && data.type.startsWith("analysis.")) onEvent(data);
      };
      socket.onclose = (event) => {
        if (event.code === 4401) return; // signed out: nothing to listen to
        retry();
      };
    }
    function retry() {
      attempt += 1;
      window.setTimeout(open, Math.min(30000, 500 * 2 ** Math.min(attempt, 6)));
    }
    window.addEventListener("pagehide", () => { stopped = true; });
    open();
  }

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
    tip.append(el("strong", "", hint), document.createTextNode(error.explanation || ""));
    if (error.confidence === "low") tip.append(el("em", "", " (less certain)"));
    wrap.append(mark, tip);
    return wrap;
  }

  function summary(utterance) {
    const count = utterance.errors.length;
    const node = el("p", "analysis-summary" + (count ? "" : " is-clean"));
    node.textContent = count
      ? count + (count === 1 ? " mistake" : " mistakes") + " marked: hover or focus the marked words"
      : "No mistakes found";
    return node;
  }

  function applyTo(li, utterance) {
    const body = li.querySelector(".message-body");
    if (!body || body.querySelector(".analysis-text")) return;
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
      for (const utterance of utterances) known.set(utterance.message_seq, utterance);
      applyAll();
    }

    function noteClusters() {
      const link = document.getElementById("mistakes-link");
      if (link) link.classList.add("has-news");
      const announcer = document.getElementById("announcer");
      if (announcer) announcer.textContent = "Your mistakes from this conversation are grouped: open My mistakes.";
    }

    // chat.js re-renders messages (resume, paging): put the marks back when it does.
    if (list) new MutationObserver(applyAll).observe(list, { childList: true, subtree: true });

    if (chat.dataset.analysisUrl) {
      fetch(chat.dataset.analysisUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then((response) => (response.ok ? response.json() : null))
        .then((data) => { if (data) learn(data.utterances); })
        .catch(() => {});
    }
    listen((event) => {
      if (event.conversation_id !== conversationId) return;
      if (event.type === "analysis.batch_completed") learn(event.utterances);
      else if (event.type === "analysis.clustering_completed") noteClusters();
    });
  }

  // --- "My mistakes": refresh in place when a clustering run completes -----------------

  if (mistakes) {
    const conversationId = Number(mistakes.dataset.conversationId || 0);
    listen((event) => {
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

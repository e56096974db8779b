/* Curiosity Coach — the chat page: messages kept by `seq`, the reply streamed over the
 * conversation websocket (docs/websocket-protocol.md), actions through the REST API.
 *
 * Model and learner text is never parsed as HTML here: a reply still being written is shown
 * with textContent, and only the server's sanitised `html` is inserted once it is final. */
(function () {
  "use strict";

  const root = document.getElementById("chat");
  if (!root) return;
  const Coach = window.Coach;
  const initial = JSON.parse(document.getElementById("chat-data").textContent);

  const API = root.dataset.apiUrl;
  const WS_PATH = root.dataset.wsUrl;
  const HOME = root.dataset.homeUrl;
  const LOGIN = root.dataset.loginUrl;
  const TASK_LABELS = initial.task_labels || {};
  const FINAL = new Set(["complete", "failed", "cancelled"]);
  const ACTIVE = new Set(["pending", "streaming"]);
  const SEND_RETRIES = 2;
  const PING_EVERY_MS = 20000;
  const SILENCE_LIMIT_MS = 45000;
  const RESUME_TIMEOUT_MS = 10000;
  const REPLY_SILENCE_MS = 8000;
  const REPLY_EVENTS = new Set(["message.created", "reply.delta", "reply.completed", "reply.failed"]);

  const ui = {
    list: document.getElementById("messages"),
    empty: document.getElementById("messages-empty"),
    announcer: document.getElementById("announcer"),
    status: document.getElementById("connection-status"),
    statusText: document.getElementById("connection-text"),
    statusLink: document.getElementById("connection-link"),
    reconnectNow: document.getElementById("reconnect-now"),
    title: document.getElementById("chat-title"),
    renameButton: document.getElementById("rename-button"),
    renameForm: document.getElementById("rename-form"),
    renameInput: document.getElementById("rename-input"),
    renameCancel: document.getElementById("rename-cancel"),
    renameError: document.getElementById("rename-error"),
    endButton: document.getElementById("end-button"),
    deleteButton: document.getElementById("delete-button"),
    deleteForm: document.getElementById("delete-form"),
    endedNote: document.getElementById("ended-note"),
    form: document.getElementById("composer"),
    stopButton: document.getElementById("stop-button"),
    hint: document.getElementById("composer-hint"),
    dialog: document.getElementById("confirm-dialog"),
    toast: document.getElementById("chat-toast"),
    earlier: document.getElementById("load-earlier"),
  };

  /* ---- State: messages by seq ------------------------------------------------------ */

  const held = new Map(); // seq -> message object (plus client-side bookkeeping)
  // seq of a shown reply -> {list: its versions oldest first, index: the one shown}, once
  // the learner browses its earlier versions (a regenerate keeps them).
  const browsing = new Map();
  const conversation = Object.assign({}, initial.conversation);

  function isFinal(m) { return FINAL.has(m.status); }
  function isActive(m) { return m.role === "assistant" && ACTIVE.has(m.status); }
  function ended() { return Boolean(conversation.ended_at); }

  function sortedSeqs() { return Array.from(held.keys()).sort((a, b) => a - b); }

  function activeReply() {
    let found = null;
    for (const m of held.values()) if (isActive(m) && (!found || m.seq > found.seq)) found = m;
    return found;
  }

  /* The newest message shown, if it is a reply: the one that may be retried or regenerated. */
  function lastAssistant() {
    const seqs = sortedSeqs().filter((seq) => !held.get(seq).superseded);
    const last = seqs.length ? held.get(seqs[seqs.length - 1]) : null;
    return last && last.role === "assistant" ? last : null;
  }

  /* The highest seq below which everything held is final: resume replays the rest. */
  function resumePoint() {
    let point = 0;
    for (const seq of sortedSeqs()) {
      if (!isFinal(held.get(seq))) break;
      point = seq;
    }
    return point;
  }

  /* Stores a message snapshot. `sentAt` marks a snapshot from a REST response: it never
   * overrides a final state that reached us after the request left. A snapshot of the same
   * attempt that we are already ahead of (deltas arrived first) changes nothing. */
  function upsert(message, sentAt) {
    if (!message || typeof message.seq !== "number") return;
    const old = held.get(message.seq);
    const next = Object.assign({}, message, { content: message.content || "", attempts: message.attempts || 0 });
    if (old && old.id === next.id) {
      if (sentAt && isFinal(old) && !isFinal(next) && old.finalAt > sentAt) return;
      const behind = !isFinal(old) && !isFinal(next) && next.attempts <= old.attempts &&
        old.content.length >= next.content.length && old.content.startsWith(next.content);
      if (behind) return;
    }
    next.finalAt = isFinal(next) ? Date.now() : 0;
    held.set(next.seq, next);
    scheduleRender(next.seq, true);
    // A regenerated reply replaces an older one, which leaves the view.
    const replaced = next.replaces_seq && held.get(next.replaces_seq);
    if (replaced && !replaced.superseded) {
      replaced.superseded = true;
      scheduleRender(replaced.seq, true);
    }
  }

  /* Offsets count UTF-16 code units, as JavaScript strings do (see the protocol). */
  function applyDelta(event) {
    const m = held.get(event.seq);
    if (!m) return requestResume(); // its message.created was lost
    if (isFinal(m)) return; // a late frame of a finished reply
    const attempt = event.attempt || m.attempts;
    if (attempt < m.attempts) return; // a frame of an attempt given up
    if (attempt > m.attempts) {
      // The reply restarted (its worker was lost) and we missed the notice.
      if (event.offset !== 0) return requestResume();
      m.content = "";
      m.attempts = attempt;
    }
    if (event.offset > m.content.length) return requestResume(); // a frame went missing
    const text = event.text || "";
    const overlap = m.content.length - event.offset;
    if (overlap >= text.length) return;
    m.content += text.slice(overlap);
    const wasPending = m.status === "pending";
    m.status = "streaming";
    scheduleRender(m.seq, wasPending);
  }

  /* ---- Rendering ------------------------------------------------------------------- */

  const dirty = new Map(); // seq -> whether the whole element must be rebuilt
  let frame = 0;

  function scheduleRender(seq, full) {
    dirty.set(seq, Boolean(full) || Boolean(dirty.get(seq)));
    if (!frame) frame = window.requestAnimationFrame(flush);
  }

  function flush() {
    frame = 0;
    const stick = nearBottom();
    for (const [seq, full] of dirty) {
      const m = held.get(seq);
      if (m) full ? renderMessage(m) : renderBody(m, elementFor(seq));
    }
    dirty.clear();
    updateControls();
    if (stick) scrollToBottom();
  }

  function nearBottom() {
    const doc = document.documentElement;
    return window.innerHeight + window.scrollY >= doc.scrollHeight - 160;
  }

  function scrollToBottom() {
    window.scrollTo({ top: document.documentElement.scrollHeight, behavior: "auto" });
  }

  const el = Coach.el;

  function elementFor(seq) { return ui.list.querySelector('li[data-seq="' + seq + '"]'); }

  function renderBody(m, li) {
    if (!li) return;
    const body = li.querySelector(".message-body");
    if (!isFinal(m) || typeof m.html !== "string") {
      body.classList.add("is-plain");
      body.textContent = m.content; // text only: nothing in a streaming reply is markup
    } else {
      body.classList.remove("is-plain");
      body.innerHTML = m.html; // sanitised by the server (conversations.rendering)
    }
    li.classList.toggle("has-text", m.content.length > 0);
  }

  function buildMessage(m) {
    const li = el("li", "message");
    li.dataset.seq = String(m.seq);
    li.id = "message-" + m.seq;
    const bubble = el("article", "bubble");
    const author = el("p", "author", m.role === "user" ? "You" : "Tutor");
    if (m.role === "user") author.classList.add("visually-hidden");
    bubble.append(author, el("div", "message-body prose"));

    const typing = el("div", "typing");
    typing.append(el("span", "dot"), el("span", "dot"), el("span", "dot"),
      el("span", "visually-hidden", "Your tutor is writing…"));
    bubble.append(typing);

    const sources = el("aside", "message-sources");
    sources.setAttribute("aria-label", "Sources");
    sources.append(el("strong", "", "Sources"), el("ol"));
    bubble.append(sources);
    bubble.append(el("p", "message-error"));
    const footer = el("footer", "message-footer");
    footer.append(el("span", "badge"), el("span", "message-note"), el("span", "message-meta"));
    footer.append(
      versionControls(),
      Coach.actionButton("Try again", "retry"),
      Coach.actionButton("Regenerate", "regenerate"),
    );
    bubble.append(footer);
    li.append(bubble);
    return li;
  }

  /* "‹ 2/3 ›" on a reply that was regenerated: browse its earlier versions. */
  function versionControls() {
    const box = el("span", "message-versions");
    box.setAttribute("role", "group");
    box.setAttribute("aria-label", "Versions of this reply");
    const prev = el("button", "link-button", "‹");
    prev.type = "button";
    prev.dataset.action = "version-prev";
    prev.setAttribute("aria-label", "Earlier version");
    const next = el("button", "link-button", "›");
    next.type = "button";
    next.dataset.action = "version-next";
    next.setAttribute("aria-label", "Later version");
    box.append(prev, el("span", "version-count"), next);
    box.hidden = true;
    return box;
  }

  /* The version of `m` the learner is looking at: `m` itself unless browsing back. */
  function shownVersion(m) {
    const state = browsing.get(m.seq);
    if (!state || state.index >= state.list.length - 1) return m;
    return state.list[state.index];
  }

  function renderVersions(m, li) {
    const box = li.querySelector(".message-versions");
    if (!box) return;
    const count = m.role === "assistant" && isFinal(m) ? m.version || 1 : 1;
    box.hidden = count < 2;
    if (box.hidden) return;
    const state = browsing.get(m.seq);
    const number = state && state.index < state.list.length - 1 ? state.list[state.index].version : count;
    box.querySelector(".version-count").textContent = number + "/" + count;
    box.querySelector('[data-action="version-prev"]').disabled = number <= 1;
    box.querySelector('[data-action="version-next"]').disabled = number >= count;
  }

  function renderMessage(current) {
    let li = elementFor(current.seq);
    if (current.superseded) {
      if (li) li.remove();
      return;
    }
    if (!li) {
      li = buildMessage(current);
      insertInOrder(li, current.seq);
    }
    const m = shownVersion(current);
    li.className = "message is-" + current.role + " is-" + m.status;
    li.classList.toggle("is-earlier-version", m !== current);
    renderVersions(current, li);
    renderBody(m, li);

    const label = TASK_LABELS[m.task_type];
    const badge = li.querySelector(".badge");
    badge.textContent = label && m.role === "user" && m.task_type !== "chat" ? label : "";
    badge.hidden = !badge.textContent;

    renderSources(m, li);

    const error = li.querySelector(".message-error");
    error.textContent = m.status === "failed" ? (m.error || "Your tutor could not answer this time.") : "";
    error.hidden = !error.textContent;

    const note = li.querySelector(".message-note");
    note.textContent = m !== current ? "Earlier version" : m.status === "cancelled" ? "Stopped" : "";
    note.hidden = !note.textContent;

    const meta = li.querySelector(".message-meta");
    const parts = [];
    if (m.role === "assistant" && isFinal(m) && m.model) parts.push(m.model);
    if (m.role === "assistant" && m.completion_tokens) parts.push(m.completion_tokens + " tokens");
    meta.textContent = parts.join(" · ");
    meta.hidden = !meta.textContent;
  }

  /* A grounded reply's sources: each links to the passage in its document (plain text
   * only), or says the document was deleted. */
  function renderSources(m, li) {
    const box = li.querySelector(".message-sources");
    if (!box) return;
    const citations = Array.isArray(m.citations) ? m.citations : [];
    box.hidden = citations.length === 0 || !isFinal(m);
    const items = box.querySelector("ol");
    items.replaceChildren();
    for (const c of citations) {
      const item = el("li", c.deleted ? "is-deleted" : "");
      const where = "[" + c.n + "] " + c.title + (c.page ? ", page " + c.page : "") + (c.section ? ", " + c.section : "");
      if (c.kind === "note") {
        // A grammar note of the built-in library: no document to link to.
        item.append(el("span", "", "[" + c.n + "] " + c.title), document.createTextNode(" "),
          el("em", "", "(" + (c.section || "grammar notes") + ")"));
      } else if (c.deleted || typeof c.url !== "string" || !c.url.startsWith("/documents/")) {
        item.append(el("span", "", "[" + c.n + "] " + c.title), document.createTextNode(" "),
          el("em", "", "(document deleted)"));
      } else {
        const link = el("a", "", where);
        link.href = c.url;
        item.append(link);
      }
      item.append(el("span", "source-snippet", c.snippet || ""));
      items.append(item);
    }
  }

  function insertInOrder(li, seq) {
    for (const other of ui.list.children) {
      if (Number(other.dataset.seq) > seq) return ui.list.insertBefore(li, other);
    }
    ui.list.append(li);
  }

  /* Buttons and the composer follow the state: one place decides what is possible. */
  function updateControls() {
    const active = activeReply();
    const last = lastAssistant();
    for (const li of ui.list.children) {
      const isLast = last && Number(li.dataset.seq) === last.seq;
      const m = held.get(Number(li.dataset.seq));
      const retry = li.querySelector('[data-action="retry"]');
      const regenerate = li.querySelector('[data-action="regenerate"]');
      if (retry) retry.hidden = !(isLast && m.status === "failed" && !ended() && !active);
      if (regenerate) {
        regenerate.hidden = !(isLast && (m.status === "complete" || m.status === "cancelled") &&
          !ended() && !active);
      }
    }
    ui.empty.hidden = ui.list.children.length > 0;
    ui.stopButton.hidden = !active || ended();
    composer.block(Boolean(active) || ended() || link.gone);
    ui.form.classList.toggle("is-replying", Boolean(active));
    ui.hint.textContent = ended()
      ? ""
      : active
        ? "Your tutor is replying… press Esc to stop."
        : "Enter sends · Shift+Enter for a new line";
    setEnded(ended());
  }

  function setEnded(isEnded) {
    ui.endedNote.hidden = !isEnded;
    ui.endButton.hidden = isEnded;
    composer.textarea.disabled = isEnded;
    if (composer.select) composer.select.disabled = isEnded;
    root.classList.toggle("is-ended", isEnded);
  }

  function setTitle(title) {
    conversation.title = title;
    ui.title.textContent = title || "Untitled conversation";
    document.title = (title || "Conversation") + " · Curiosity Coach";
  }

  function announce(text) {
    ui.announcer.textContent = "";
    // A fresh node after a tick makes screen readers speak repeated text too.
    window.setTimeout(() => { ui.announcer.textContent = text; }, 50);
  }

  let toastTimer = 0;
  function toast(text) {
    ui.toast.textContent = text;
    ui.toast.hidden = !text;
    window.clearTimeout(toastTimer);
    if (text) toastTimer = window.setTimeout(() => { ui.toast.hidden = true; }, 8000);
  }

  /* ---- The websocket --------------------------------------------------------------- */

  const link = {
    socket: null,
    attempt: 0,
    retryTimer: 0,
    pingTimer: 0,
    lastHeard: 0,
    stopped: false,
    gone: false, // closed by the server for good (signed out, conversation deleted)
    resumeSentAt: 0,
    resumeAgain: false,
    watchTimer: 0,
    replySeq: 0, // the running reply being watched, and when we last heard of it
    replyHeardAt: 0,
  };

  function socketUrl() {
    const scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    return scheme + window.location.host + WS_PATH;
  }

  function setStatus(state, text) {
    ui.status.dataset.state = state;
    ui.statusText.textContent = text;
    ui.reconnectNow.hidden = state !== "reconnecting";
  }

  function connect() {
    window.clearTimeout(link.retryTimer);
    if (link.stopped) return;
    setStatus(link.attempt ? "reconnecting" : "connecting", link.attempt ? "Reconnecting…" : "Connecting…");
    let socket;
    try {
      socket = new WebSocket(socketUrl());
    } catch (err) {
      return scheduleReconnect();
    }
    link.socket = socket;
    socket.onopen = () => {
      if (link.socket !== socket) return;
      link.attempt = 0;
      link.lastHeard = Date.now();
      link.resumeSentAt = 0;
      link.replyHeardAt = Date.now();
      setStatus("connected", "Connected");
      requestResume();
      startHeartbeat();
    };
    socket.onmessage = (event) => {
      if (link.socket !== socket) return;
      link.lastHeard = Date.now();
      let frame;
      try { frame = JSON.parse(event.data); } catch (err) { return; }
      if (REPLY_EVENTS.has(frame.type) && frame.seq === link.replySeq) link.replyHeardAt = Date.now();
      handleFrame(frame);
    };
    socket.onclose = (event) => {
      if (link.socket !== socket) return;
      link.socket = null;
      stopHeartbeat();
      // The server's own close codes (docs/websocket-protocol.md): retrying cannot help.
      if (event.code === 4401) {
        stopFor("You are signed out —", "sign in again",
          LOGIN + "?next=" + encodeURIComponent(window.location.pathname));
      } else if (event.code === 4404) {
        stopFor("This conversation no longer exists.", "Back to your conversations", HOME);
      } else {
        scheduleReconnect();
      }
    };
  }

  /* The socket was closed for good: say why, offer the way on, never reconnect. */
  function stopFor(text, linkText, href) {
    link.stopped = true;
    link.gone = true;
    window.clearTimeout(link.retryTimer);
    setStatus("closed", text);
    ui.statusLink.textContent = linkText;
    ui.statusLink.href = href;
    ui.statusLink.hidden = false;
    composer.block(true);
    announce(text + " " + linkText);
  }

  /* Exponential backoff with jitter, capped, so a restarting server is not stampeded. */
  function scheduleReconnect() {
    if (link.stopped) return;
    const base = Math.min(15000, 500 * Math.pow(2, link.attempt));
    const delay = Math.round(base / 2 + Math.random() * (base / 2));
    link.attempt += 1;
    setStatus("reconnecting", "Reconnecting in " + Math.max(1, Math.round(delay / 1000)) + " s…");
    window.clearTimeout(link.retryTimer);
    link.retryTimer = window.setTimeout(connect, delay);
  }

  function reconnectNow() {
    dropSocket();
    link.attempt = Math.max(1, link.attempt);
    connect();
  }

  /* Forgets a socket that went quiet without waiting for a close handshake that may never come. */
  function dropSocket() {
    const socket = link.socket;
    link.socket = null;
    stopHeartbeat();
    if (socket) {
      try { socket.close(); } catch (err) { /* already closed */ }
    }
  }

  function send(frame) {
    if (!link.socket || link.socket.readyState !== WebSocket.OPEN) return false;
    link.socket.send(JSON.stringify(frame));
    return true;
  }

  /* One resume at a time; a gap noticed meanwhile asks for another once it is done. */
  function requestResume() {
    if (link.resumeSentAt && Date.now() - link.resumeSentAt < RESUME_TIMEOUT_MS) {
      link.resumeAgain = true;
      return;
    }
    if (send({ type: "resume", after_seq: resumePoint() })) {
      link.resumeSentAt = Date.now();
      link.resumeAgain = false;
    }
  }

  function startHeartbeat() {
    stopHeartbeat();
    link.pingTimer = window.setInterval(() => {
      if (Date.now() - link.lastHeard > SILENCE_LIMIT_MS) {
        dropSocket();
        scheduleReconnect();
        return;
      }
      send({ type: "ping" });
    }, PING_EVERY_MS);
    link.watchTimer = window.setInterval(watchReply, 1000);
  }

  function stopHeartbeat() {
    window.clearInterval(link.pingTimer);
    window.clearInterval(link.watchTimer);
    link.pingTimer = 0;
    link.watchTimer = 0;
  }

  /* Events are at most once, and pings keep a socket open that lost some: a lost
   * `reply.completed` would leave the reply "typing" for good. A running reply we have
   * heard nothing of for a while is read again from the server (resume is idempotent). */
  function watchReply() {
    const active = activeReply();
    if (!active) return;
    const now = Date.now();
    if (active.seq !== link.replySeq) {
      link.replySeq = active.seq;
      link.replyHeardAt = now;
    } else if (now - link.replyHeardAt >= REPLY_SILENCE_MS) {
      link.replyHeardAt = now;
      requestResume();
    }
  }

  function handleFrame(frame) {
    switch (frame.type) {
      case "message.created":
        upsert(frame.message);
        break;
      case "reply.delta":
        applyDelta(frame);
        break;
      case "reply.completed":
        upsert(frame.message);
        if (frame.message && frame.message.status === "cancelled") {
          announce("The reply was stopped.");
        } else if (frame.message) {
          announce("Your tutor replied: " + (frame.message.content || "").slice(0, 500));
        }
        break;
      case "reply.failed":
        upsert(Object.assign({}, frame.message, { error: frame.error || (frame.message || {}).error }));
        announce("The reply failed. " + (frame.error || ""));
        break;
      case "conversation.updated":
        if (frame.conversation) {
          if ("title" in frame.conversation) setTitle(frame.conversation.title);
          if ("ended_at" in frame.conversation) conversation.ended_at = frame.conversation.ended_at;
          updateControls();
        }
        break;
      case "resume.done":
        link.resumeSentAt = 0;
        if (frame.more) {
          // One page of the replay: ask for the next, from where this one stopped.
          if (send({ type: "resume", after_seq: frame.seq })) link.resumeSentAt = Date.now();
        } else if (link.resumeAgain) {
          requestResume();
        }
        break;
      case "error":
        toast(frame.error || "The server refused that request.");
        break;
      default:
        break; // pong, and events this page does not use
    }
  }

  /* ---- Actions through the REST API ------------------------------------------------ */

  const composer = Coach.composer(ui.form, { onSubmit: sendMessage });
  let lastSend = null; // {text, taskType, key}: a retried send reuses its Idempotency-Key

  async function sendMessage(text, taskType) {
    if (!lastSend || lastSend.text !== text || lastSend.taskType !== taskType) {
      lastSend = { text: text, taskType: taskType, key: Coach.uuid() };
    }
    const attempt = lastSend;
    const sentAt = Date.now();
    for (let tries = 0; ; tries += 1) {
      try {
        const data = await Coach.api("POST", API + "messages/", { text: text, task_type: taskType },
          { "Idempotency-Key": attempt.key });
        lastSend = null;
        upsert(data.message, sentAt);
        upsert(data.reply, sentAt);
        window.requestAnimationFrame(scrollToBottom);
        return;
      } catch (err) {
        // Only a lost connection or a gateway hiccup is worth repeating by itself.
        const transient = err.status === 0 || err.status === 502 || err.status === 503 || err.status === 504;
        if (!transient || tries >= SEND_RETRIES) throw err;
        await new Promise((resolve) => window.setTimeout(resolve, 600 * Math.pow(2, tries)));
      }
    }
  }

  async function cancelReply() {
    const active = activeReply();
    if (!active) return;
    ui.stopButton.disabled = true;
    const sentAt = Date.now();
    try {
      const data = await Coach.api("POST", API + "cancel/");
      if (data && data.message) upsert(data.message, sentAt);
    } catch (err) {
      toast(err.message);
    } finally {
      ui.stopButton.disabled = false;
      composer.textarea.focus();
    }
  }

  /* Steps through the versions of a reply, fetching them on the first step. */
  async function browseVersion(button, step) {
    const li = button.closest("li[data-seq]");
    const m = li && held.get(Number(li.dataset.seq));
    if (!m) return;
    let state = browsing.get(m.seq);
    if (!state || state.list.length < (m.version || 1)) {
      button.disabled = true;
      try {
        const data = await Coach.api("GET", API + "messages/" + m.seq + "/versions/");
        state = { list: data.versions, index: data.versions.length - 1 };
        browsing.set(m.seq, state);
      } catch (err) {
        toast(err.message);
        return;
      } finally {
        button.disabled = false;
      }
    }
    state.index = Math.min(Math.max(state.index + step, 0), state.list.length - 1);
    renderMessage(m);
    updateControls();
    const shown = shownVersion(m);
    announce("Version " + (shown.version || state.index + 1) + " of " + (m.version || state.list.length));
  }

  async function regenerate(button) {
    button.disabled = true;
    const sentAt = Date.now();
    try {
      const data = await Coach.api("POST", API + "regenerate/");
      if (data && data.reply) upsert(data.reply, sentAt);
      composer.textarea.focus();
    } catch (err) {
      toast(err.message);
    } finally {
      button.disabled = false;
    }
  }

  /* A long conversation opens on its newest messages; earlier ones come a page at a time,
   * and the view stays on what the learner was reading. */
  async function loadEarlier(button) {
    button.disabled = true;
    try {
      const data = await Coach.api("GET", API + "messages/?before_seq=" + button.dataset.beforeSeq);
      const fromBottom = document.documentElement.scrollHeight - window.scrollY;
      for (const message of data.messages) upsert(message);
      flush();
      window.scrollTo({ top: document.documentElement.scrollHeight - fromBottom, behavior: "auto" });
      if (data.has_earlier && data.messages.length) {
        button.dataset.beforeSeq = String(data.messages[0].seq);
      } else {
        ui.earlier.remove();
        ui.title.focus({ preventScroll: true }); // the button it had is gone
      }
    } catch (err) {
      toast(err.message);
    } finally {
      button.disabled = false;
    }
  }

  function startRename() {
    ui.renameInput.value = conversation.title || "";
    ui.renameError.hidden = true;
    ui.renameForm.hidden = false;
    ui.title.hidden = true;
    ui.renameButton.hidden = true;
    ui.renameInput.focus();
    ui.renameInput.select();
  }

  function stopRename() {
    ui.renameForm.hidden = true;
    ui.title.hidden = false;
    ui.renameButton.hidden = false;
    ui.renameButton.focus();
  }

  async function saveRename() {
    const title = ui.renameInput.value.trim();
    if (!title) {
      ui.renameError.textContent = "Give the conversation a title.";
      ui.renameError.hidden = false;
      return ui.renameInput.focus();
    }
    try {
      const data = await Coach.api("PATCH", API, { title: title });
      setTitle(data && data.title ? data.title : title);
      stopRename();
    } catch (err) {
      ui.renameError.textContent = err.message;
      ui.renameError.hidden = false;
      ui.renameInput.focus();
    }
  }

  /* A confirmation in a real <dialog>: focus is trapped, Escape says no, focus returns. */
  function confirmAction(options) {
    return new Promise((resolve) => {
      const dialog = ui.dialog;
      dialog.querySelector("[data-dialog-title]").textContent = options.title;
      dialog.querySelector("[data-dialog-text]").textContent = options.text;
      const ok = dialog.querySelector("[data-dialog-confirm]");
      ok.textContent = options.confirm;
      ok.classList.toggle("danger", Boolean(options.danger));
      dialog.returnValue = "";
      dialog.addEventListener("close", () => resolve(dialog.returnValue === "confirm"), { once: true });
      dialog.showModal();
      dialog.querySelector("[data-dialog-cancel]").focus();
    });
  }

  async function endConversation() {
    const yes = await confirmAction({
      title: "End this conversation?",
      text: "Your tutor will look over it for recurring mistakes. You will not be able to add messages afterwards.",
      confirm: "End conversation",
    });
    if (!yes) return;
    try {
      const data = await Coach.api("POST", API + "end/");
      conversation.ended_at = (data && data.ended_at) || new Date().toISOString();
      updateControls();
      ui.endedNote.focus();
    } catch (err) {
      toast(err.message);
    }
  }

  async function deleteConversation() {
    const yes = await confirmAction({
      title: "Delete this conversation?",
      text: "All of its messages are removed for good. This cannot be undone.",
      confirm: "Delete",
      danger: true,
    });
    if (!yes) return;
    // A page POST, so the list it lands on confirms the deletion (Django messages).
    link.stopped = true;
    dropSocket();
    ui.deleteForm.submit();
  }

  /* ---- Wiring ---------------------------------------------------------------------- */

  ui.stopButton.addEventListener("click", cancelReply);
  if (ui.earlier) {
    const button = ui.earlier.querySelector("button");
    button.addEventListener("click", () => loadEarlier(button));
    ui.earlier.hidden = false;
  }
  ui.reconnectNow.addEventListener("click", reconnectNow);
  ui.renameButton.addEventListener("click", startRename);
  ui.renameCancel.addEventListener("click", stopRename);
  ui.renameForm.addEventListener("submit", (event) => { event.preventDefault(); saveRename(); });
  ui.renameInput.addEventListener("keydown", (event) => {
    if (event.key === "Escape") { event.preventDefault(); event.stopPropagation(); stopRename(); }
  });
  ui.endButton.addEventListener("click", endConversation);
  ui.deleteButton.addEventListener("click", deleteConversation);
  ui.list.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-action]");
    if (!button) return;
    if (button.dataset.action === "version-prev") browseVersion(button, -1);
    else if (button.dataset.action === "version-next") browseVersion(button, 1);
    else regenerate(button);
  });
  document.addEventListener("keydown", (event) => {
    if (event.key !== "Escape" || event.defaultPrevented || ui.dialog.open) return;
    if (activeReply()) { event.preventDefault(); cancelReply(); }
  });
  window.addEventListener("online", () => { if (!link.socket && !link.stopped) reconnectNow(); });
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible" && !link.socket && !link.stopped) reconnectNow();
  });
  window.addEventListener("pagehide", () => { link.stopped = true; dropSocket(); });
  window.addEventListener("pageshow", (event) => {
    // Back/forward cache: the page comes back frozen, its socket gone.
    if (event.persisted && !link.gone) { link.stopped = false; reconnectNow(); }
  });

  // Take over the server-rendered messages: same markup, now driven by the state. Their
  // sanitised HTML is only in the page (not repeated in chat-data): read it from there.
  for (const message of initial.messages) {
    const body = ui.list.querySelector('li[data-seq="' + message.seq + '"] .message-body');
    if (body && isFinal(message)) message.html = body.innerHTML;
  }
  ui.list.replaceChildren();
  for (const message of initial.messages) upsert(message);
  if (composer.select && initial.conversation.task_type) composer.select.value = initial.conversation.task_type;
  flush();
  window.requestAnimationFrame(scrollToBottom);
  // Straight to typing with a keyboard and mouse; on touch screens that would pop the keyboard up.
  if (!ended() && window.matchMedia("(pointer: fine)").matches) composer.textarea.focus({ preventScroll: true });
  root.classList.add("is-live");
  connect();
})();

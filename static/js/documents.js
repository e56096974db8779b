/* Curiosity Coach — documents: upload through the REST API, and keep every document's
 * progress bar live from the learner's event socket (/ws/events/). Text is set with
 * textContent only; nothing from a document is ever inserted as markup. */
(function () {
  "use strict";
  const Coach = window.Coach;
  const form = document.getElementById("upload-form");
  const list = document.getElementById("document-list");
  const empty = document.getElementById("documents-empty");
  const apiRoot = "/api/v1/documents/";
  const RUNNING = new Set(["queued", "running"]);
  const RETRYABLE = new Set(["failed", "cancelled"]);

  const el = Coach.el;

  function itemFor(id) { return document.querySelector('.document-item[data-document-id="' + id + '"]'); }

  function detailUrl(id) {
    return form ? form.dataset.detailUrl.replace("__id__", encodeURIComponent(id)) : "/documents/" + id + "/";
  }

  function sizeText(bytes) {
    if (bytes < 1024) return bytes + " bytes";
    if (bytes < 1024 * 1024) return (bytes / 1024).toFixed(1) + " KB";
    return (bytes / (1024 * 1024)).toFixed(1) + " MB";
  }

  function buildItem(doc) {
    const li = el("li", "document-item");
    li.dataset.documentId = String(doc.id);
    const link = el("a", "document-link", doc.title);
    link.href = detailUrl(doc.id);
    const meta = el("span", "muted document-meta",
      doc.filename + " · " + sizeText(doc.size) + (doc.pages ? " · " + doc.pages + " pages" : ""));
    const ingestion = el("div", "ingestion");
    ingestion.dataset.role = "ingestion";
    const bar = el("progress");
    bar.dataset.role = "bar";
    bar.setAttribute("aria-label", "Indexing progress of " + doc.title);
    const label = el("span", "ingestion-label");
    label.dataset.role = "label";
    label.setAttribute("role", "status");
    ingestion.append(
      bar,
      label,
      Coach.actionButton("Cancel", "cancel"),
      Coach.actionButton("Try again", "retry"),
    );
    li.append(link, Coach.actionButton("Delete", "delete", "link-button danger"), meta, ingestion);
    return li;
  }

  /* Show `state` (an ingestion object of the API or of an event) on the document's item. */
  function showIngestion(id, state) {
    const li = itemFor(id);
    if (!li || !state) return;
    li.dataset.status = state.status;
    const box = li.querySelector('[data-role="ingestion"]');
    box.className = "ingestion is-" + state.status;
    const bar = box.querySelector('[data-role="bar"]');
    const total = Math.max(1, state.total || 0);
    bar.max = total;
    bar.value = state.status === "done" ? total : progressValue(state, total);
    box.querySelector('[data-role="label"]').textContent = state.label || state.status;
    box.querySelector('[data-action="cancel"]').hidden = !RUNNING.has(state.status);
    box.querySelector('[data-action="retry"]').hidden = !RETRYABLE.has(state.status);
  }

  function progressValue(state, total) {
    if (state.stage === "embedded" || state.stage === "indexed") return Math.min(state.done, total);
    return 0;
  }

  function addOrUpdate(doc) {
    let li = itemFor(doc.id);
    if (!li && list) {
      li = buildItem(doc);
      list.prepend(li);
    }
    if (empty) empty.hidden = true;
    const link = li && li.querySelector(".document-link");
    if (link && doc.title) link.textContent = doc.title; // a PDF's own title, once read
    showIngestion(doc.id, doc.ingestion);
  }

  /* ---- Upload ------------------------------------------------------------------------ */

  function showError(text) {
    const box = document.getElementById("upload-error");
    box.textContent = text || "";
    box.hidden = !text;
  }

  async function upload(file) {
    const max = Number(form.dataset.maxBytes);
    if (file.size > max) {
      showError("This file is larger than the limit of " + form.dataset.maxMegabytes + " MB.");
      return;
    }
    const body = new FormData();
    body.append("file", file);
    let response;
    try {
      response = await fetch(form.dataset.apiUrl, {
        method: "POST",
        body: body,
        credentials: "same-origin",
        headers: { Accept: "application/json", "X-CSRFToken": csrfToken() },
      });
    } catch (err) {
      showError("Could not reach the server. Check your connection and try again.");
      return;
    }
    let data = null;
    try { data = await response.json(); } catch (err) { data = null; }
    if (!response.ok) {
      showError((data && data.error) || "The upload was not accepted.");
      return;
    }
    showError("");
    addOrUpdate(data);
    form.reset();
  }

  function csrfToken() {
    const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  if (form) {
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const input = form.querySelector('input[type="file"]');
      if (!input.files || !input.files.length) {
        showError("Choose a file to upload.");
        return;
      }
      const button = form.querySelector('button[type="submit"]');
      button.disabled = true;
      upload(input.files[0]).finally(() => { button.disabled = false; });
    });
  }

  /* ---- Actions ----------------------------------------------------------------------- */

  document.addEventListener("click", async (event) => {
    const button = event.target.closest("button[data-action]");
    const li = button && button.closest(".document-item");
    if (!li) return;
    const id = li.dataset.documentId;
    const action = button.dataset.action;
    button.disabled = true;
    try {
      if (action === "delete") {
        if (!window.confirm("Delete this document? Conversations that cited it keep their text.")) return;
        await Coach.api("DELETE", apiRoot + id + "/");
        if (document.getElementById("document")) { window.location.assign("/documents/"); return; }
        li.remove();
        if (empty && list && !list.children.length) empty.hidden = false;
      } else if (action === "cancel" || action === "retry") {
        addOrUpdate(await Coach.api("POST", apiRoot + id + "/" + action + "/"));
      }
    } catch (err) {
      window.alert(err.message);
    } finally {
      button.disabled = false;
    }
  });

  /* ---- Live progress ----------------------------------------------------------------- */

  async function refreshAll() {
    // Events are at most once: after (re)connecting, the API tells the truth.
    const running = Array.from(document.querySelectorAll(".document-item"))
      .filter((li) => RUNNING.has(li.dataset.status));
    for (const li of running) {
      try { addOrUpdate(await Coach.api("GET", apiRoot + li.dataset.documentId + "/")); } catch (err) { /* gone */ }
    }
  }

  function onEvent(frame) {
    showIngestion(frame.document_id, frame.ingestion);
    if (frame.type !== "document.ready") return;
    if (document.getElementById("document")) {
      window.location.reload(); // the passages are ready to show
    } else {
      Coach.api("GET", apiRoot + frame.document_id + "/").then(addOrUpdate, () => {});
    }
  }

  const initial = document.getElementById("documents-data");
  if (initial) {
    const data = JSON.parse(initial.textContent);
    for (const doc of Array.isArray(data) ? data : [data]) showIngestion(doc.id, doc.ingestion);
  }
  window.CoachEvents.listen("document.", onEvent, { onOpen: refreshAll });
})();

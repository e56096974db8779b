/* Curiosity Coach — lessons, live. On a conversation's lessons page (#lessons) and on
 * /lessons/ (#all-lessons) each lesson appears as it passes its checks ("3 of 7 ready,
 * more coming"), from the learner's own event socket. When a run ends, what went to a
 * teacher and what to practise now are read again, so a run that ends with nothing
 * ready still leaves the learner something to do. */
(function () {
  "use strict";
  const root = document.getElementById("lessons") || document.getElementById("all-lessons");
  if (!root) return;
  const wide = root.id === "all-lessons";
  const conversationId = wide ? null : Number(root.dataset.conversationId);
  const list = document.getElementById("lesson-list");

  function ours(event) {
    if (wide) return true;
    const id = event.conversation_id !== undefined ? event.conversation_id
      : event.run && (event.run.conversation_id !== undefined ? event.run.conversation_id : event.run.conversation);
    return id === undefined || id === conversationId;
  }

  function text(tag, value, className) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    node.textContent = value;
    return node;
  }

  function addModule(module) {
    if (document.getElementById("module-" + module.id)) return;
    const item = document.createElement("li");
    item.className = "lesson-card is-new";
    item.id = "module-" + module.id;
    const link = document.createElement("a");
    link.className = "lesson-link";
    link.href = module.url || module.practice_url;
    const meta = module.language + " · " + (module.cluster_name || module.error_type).replace(/\*/g, "");
    link.append(text("span", module.title, "lesson-title"), text("span", meta, "lesson-meta"));
    item.append(link);
    list.append(item);
    const empty = document.getElementById("no-lessons");
    if (empty) empty.hidden = true;
  }

  function showProgress(run) {
    if (wide) return showRunLine(run);
    const progressText = document.getElementById("run-progress");
    const bar = document.getElementById("run-bar");
    const stage = document.getElementById("run-stage");
    const note = document.getElementById("run-note");
    progressText.textContent = run.progress.text;
    bar.hidden = false;
    bar.max = Math.max(1, run.progress.total);
    bar.value = run.progress.ready;
    if (stage && run.stage_label) stage.textContent = run.stage_label;
    if (note) {
      note.textContent = run.progress.note || "";
      note.hidden = !run.progress.note;
    }
  }

  function showRunLine(run) {
    const runs = document.getElementById("runs");
    let line = runs.querySelector('[data-run-id="' + run.id + '"]');
    if (!line) {
      line = document.createElement("p");
      line.className = "run-progress";
      line.dataset.runId = run.id;
      line.append(text("span", "", "badge"), " ", text("span", "", "run-text"));
      runs.append(line);
    }
    line.querySelector(".badge").textContent = run.stage_label || "";
    line.querySelector(".run-text").textContent =
      run.progress.text + (run.progress.note ? " — " + run.progress.note : "");
  }

  function renderList(id, items, render) {
    const target = document.getElementById(id);
    target.replaceChildren(...items.map(render));
    target.closest("section").hidden = items.length === 0;
  }

  function showOverview(data) {
    renderList("practise-list", data.practise, (item) => {
      const li = document.createElement("li");
      li.className = "lesson-card";
      const link = document.createElement("a");
      link.className = "lesson-link";
      link.href = item.url;
      link.append(text("span", item.title, "lesson-title"), text("span", item.why, "lesson-meta"));
      li.append(link);
      return li;
    });
    renderList("held-list", data.held_back, (item) => text("li", item.name));
    renderList("corrections-list", data.corrections, (pair) => {
      const li = document.createElement("li");
      li.append(text("del", pair.sentence), document.createElement("br"), text("ins", pair.corrected));
      return li;
    });
  }

  async function refresh() {
    try {
      if (wide) {
        // The page itself is the overview's one source: read it again and take its parts.
        const response = await fetch(window.location.href, { credentials: "same-origin" });
        const page = new DOMParser().parseFromString(await response.text(), "text/html");
        const fresh = page.getElementById("overview");
        if (fresh) document.getElementById("overview").replaceWith(fresh);
        return;
      }
      const data = await window.Coach.api("GET", root.dataset.apiUrl);
      if (data.run) showProgress(Object.assign({ conversation_id: conversationId }, data.run));
      data.modules.forEach(addModule);
      showOverview(data);
    } catch (err) { /* the socket brings the next change */ }
  }

  function onEvent(event) {
    if (!ours(event)) return;
    if (event.type === "teaching.module_ready") {
      addModule(event.module);
      showProgress({ id: event.run_id, conversation_id: event.conversation_id, progress: event.progress });
    } else if (event.type === "teaching.run_updated") {
      showProgress(event.run);
      if (event.run.status !== "queued" && event.run.status !== "running") refresh();
    }
  }

  // After every (re)connection the page catches up on what was missed.
  window.CoachEvents.listen("teaching.", onEvent, { onOpen: refresh });
})();

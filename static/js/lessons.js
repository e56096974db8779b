/* Curiosity Coach — a conversation's lessons: they appear live as each one passes its
 * checks ("3 of 7 ready, more coming"), from the learner's own event socket. */
(function () {
  "use strict";
  const root = document.getElementById("lessons");
  if (!root) return;
  const conversationId = Number(root.dataset.conversationId);
  const list = document.getElementById("lesson-list");
  const progressText = document.getElementById("run-progress");
  const bar = document.getElementById("run-bar");
  const stage = document.getElementById("run-stage");
  let retry = 0;

  function showProgress(run) {
    if (!run || run.conversation !== conversationId && run.conversation_id !== conversationId) return;
    progressText.textContent = run.progress.text;
    bar.hidden = false;
    bar.max = Math.max(1, run.progress.total);
    bar.value = run.progress.ready;
    if (stage) stage.textContent = run.stage_label;
  }

  function addModule(module) {
    if (document.getElementById("module-" + module.id)) return;
    const item = document.createElement("li");
    item.className = "lesson-card is-new";
    item.id = "module-" + module.id;
    const link = document.createElement("a");
    link.className = "lesson-link";
    link.href = module.url || module.practice_url;
    const title = document.createElement("span");
    title.className = "lesson-title";
    title.textContent = module.title;
    const meta = document.createElement("span");
    meta.className = "lesson-meta";
    meta.textContent = module.language + " · " + (module.cluster_name || module.error_type);
    link.append(title, meta);
    item.append(link);
    list.append(item);
  }

  async function refresh() {
    try {
      const data = await window.Coach.api("GET", root.dataset.apiUrl);
      if (data.run) showProgress(Object.assign({ conversation_id: conversationId }, data.run));
      data.modules.forEach(addModule);
    } catch (err) { /* the socket brings the next change */ }
  }

  function connect() {
    const scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    const socket = new WebSocket(scheme + window.location.host + root.dataset.wsUrl);
    socket.onopen = () => { retry = 0; refresh(); }; // catch up on what was missed
    socket.onmessage = (message) => {
      const event = JSON.parse(message.data);
      if (event.conversation_id !== undefined && event.conversation_id !== conversationId) return;
      if (event.type === "teaching.module_ready") {
        addModule(event.module);
        showProgress({ conversation_id: conversationId, progress: event.progress,
          stage_label: stage ? stage.textContent : "" });
      } else if (event.type === "teaching.run_updated") {
        showProgress(event.run);
      }
    };
    socket.onclose = () => {
      retry = Math.min(retry + 1, 6);
      window.setTimeout(connect, 500 * 2 ** retry);
    };
  }
  connect();
})();

/* Curiosity Coach — the conversation list: start a conversation with its first message,
 * keep the "5 minutes ago" labels current. */
(function () {
  "use strict";
  const Coach = window.Coach;
  const form = document.getElementById("new-conversation");

  if (form) {
    let lastTry = null; // a repeated attempt with the same text reuses its Idempotency-Key
    const composer = Coach.composer(form, {
      onSubmit: async (text, taskType) => {
        if (!lastTry || lastTry.text !== text || lastTry.taskType !== taskType) {
          lastTry = { text: text, taskType: taskType, key: Coach.uuid() };
        }
        const body = { text: text, task_type: taskType };
        const picked = Array.from(form.querySelectorAll('input[name="document_ids"]:checked'), (box) => Number(box.value));
        if (picked.length) Object.assign(body, { mode: "rag", document_ids: picked });
        const conversation = await Coach.api("POST", form.dataset.apiUrl, body,
          { "Idempotency-Key": lastTry.key });
        composer.block(true); // no second conversation while the chat page loads
        window.location.assign(form.dataset.chatUrl.replace("__id__", encodeURIComponent(conversation.id)));
      },
    });
    // Coming back through the back/forward cache: the composer is usable again.
    window.addEventListener("pageshow", (event) => { if (event.persisted) composer.block(false); });
  }

  Coach.refreshTimes();
  window.setInterval(() => Coach.refreshTimes(), 60000);
})();

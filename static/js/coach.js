/* Curiosity Coach — helpers shared by the pages: the REST API, times, the composer.
 * Plain browser JavaScript: no build step, no framework, nothing fetched from a CDN. */
(function () {
  "use strict";

  function cookie(name) {
    const prefix = name + "=";
    for (const part of document.cookie.split(";")) {
      const item = part.trim();
      if (item.startsWith(prefix)) return decodeURIComponent(item.slice(prefix.length));
    }
    return "";
  }

  /* crypto.randomUUID only exists in secure contexts; a LAN address over plain http is not one. */
  function uuid() {
    if (window.crypto && typeof window.crypto.randomUUID === "function") {
      return window.crypto.randomUUID();
    }
    const bytes = window.crypto.getRandomValues(new Uint8Array(16));
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
    return [hex.slice(0, 8), hex.slice(8, 12), hex.slice(12, 16), hex.slice(16, 20), hex.slice(20)].join("-");
  }

  class ApiError extends Error {
    constructor(message, status, data) {
      super(message);
      this.status = status;
      this.data = data;
    }
  }

  /* The first readable sentence inside a DRF-style `detail`: a string, a list, or fields. */
  function firstDetail(detail) {
    if (detail == null) return "";
    if (typeof detail === "string") return detail;
    if (Array.isArray(detail)) return detail.length ? firstDetail(detail[0]) : "";
    if (typeof detail === "object") {
      for (const value of Object.values(detail)) {
        const text = firstDetail(value);
        if (text) return text;
      }
    }
    return "";
  }

  function errorMessage(status, data) {
    const fallback = {
      400: "That request was not accepted.",
      403: "You are not allowed to do that. Try reloading the page.",
      404: "This conversation no longer exists.",
      409: "That clashes with something already happening.",
      413: "That message is too long.",
      429: "Too many requests. Wait a moment and try again.",
    }[status] || "Something went wrong on our side. Try again in a moment.";
    if (!data || typeof data !== "object") return fallback;
    const error = typeof data.error === "string" && data.error ? data.error : "";
    const detail = firstDetail(data.detail);
    if (error && detail && detail !== error && !error.includes(detail)) return error + ": " + detail;
    return error || detail || fallback;
  }

  /* Calls the REST API with the session cookie and CSRF header; throws ApiError with a
   * sentence a learner can read. A lost connection becomes status 0. */
  async function api(method, url, body, headers) {
    const init = {
      method: method,
      credentials: "same-origin",
      headers: Object.assign({ Accept: "application/json", "X-CSRFToken": cookie("csrftoken") }, headers || {}),
    };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    let response;
    try {
      response = await fetch(url, init);
    } catch (err) {
      throw new ApiError("Could not reach the server. Check your connection and try again.", 0, null);
    }
    if (response.status === 204) return null;
    let data = null;
    const type = response.headers.get("Content-Type") || "";
    if (type.includes("json")) {
      try { data = await response.json(); } catch (err) { data = null; }
    }
    if (!response.ok) throw new ApiError(errorMessage(response.status, data), response.status, data);
    return data;
  }

  const relative = typeof Intl !== "undefined" && Intl.RelativeTimeFormat
    ? new Intl.RelativeTimeFormat(undefined, { numeric: "auto" })
    : null;
  const STEPS = [
    ["year", 365 * 86400], ["month", 30 * 86400], ["week", 7 * 86400],
    ["day", 86400], ["hour", 3600], ["minute", 60],
  ];

  function relativeTime(date, now) {
    const seconds = Math.round((date.getTime() - (now || Date.now())) / 1000);
    if (Math.abs(seconds) < 45 || !relative) return Math.abs(seconds) < 45 ? "just now" : date.toLocaleString();
    for (const [unit, size] of STEPS) {
      if (Math.abs(seconds) >= size) return relative.format(Math.round(seconds / size), unit);
    }
    return relative.format(Math.round(seconds / 60), "minute");
  }

  /* An element with its class and text (set as text, never parsed as markup). */
  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  /* A link-styled button whose click the page handles by its data-action. */
  function actionButton(text, action, className) {
    const button = el("button", className || "link-button", text);
    button.type = "button";
    button.dataset.action = action;
    return button;
  }

  /* Keeps every <time data-relative> current; the server already wrote a readable value. */
  function refreshTimes(scope) {
    for (const el of (scope || document).querySelectorAll("time[data-relative]")) {
      const date = new Date(el.getAttribute("datetime"));
      if (isNaN(date)) continue;
      el.textContent = relativeTime(date);
      el.title = date.toLocaleString();
    }
  }

  /* A message composer: character counter against the limit, Enter to send, Shift+Enter
   * for a new line. `onSubmit(text, taskType)` returns a promise; the text stays in the box
   * until it resolves, so a failed send loses nothing. */
  function composer(form, options) {
    const textarea = form.querySelector("textarea");
    const select = form.querySelector("select[name=task_type]");
    const counter = form.querySelector("[data-counter]");
    const errorBox = form.querySelector("[data-error]");
    const submit = form.querySelector("[type=submit]");
    const max = parseInt(form.dataset.maxChars, 10) || 4000;
    let busy = false;
    let blocked = false;

    function length() { return Array.from(textarea.value.trim()).length; } // as the server counts

    function showError(text) {
      errorBox.textContent = text || "";
      errorBox.hidden = !text;
      textarea.setAttribute("aria-invalid", text ? "true" : "false");
    }

    function refresh() {
      const n = length();
      const over = n > max;
      counter.textContent = n.toLocaleString() + " / " + max.toLocaleString();
      counter.classList.toggle("over", over);
      form.classList.toggle("is-over", over);
      if (over) {
        showError("Your message is " + (n - max).toLocaleString() + " characters over the " +
          max.toLocaleString() + "-character limit. Shorten it to send.");
      } else if (errorBox.dataset.kind === "length") {
        showError("");
      }
      errorBox.dataset.kind = over ? "length" : "";
      submit.disabled = busy || blocked || over || !textarea.value.trim() || textarea.disabled;
    }

    async function send() {
      refresh();
      if (submit.disabled) return;
      busy = true;
      form.setAttribute("aria-busy", "true");
      refresh();
      try {
        await options.onSubmit(textarea.value, select ? select.value : "chat");
        textarea.value = "";
        showError("");
      } catch (err) {
        errorBox.dataset.kind = "send";
        showError(err && err.message ? err.message : String(err));
      } finally {
        busy = false;
        form.removeAttribute("aria-busy");
        refresh();
      }
    }

    form.addEventListener("submit", (event) => { event.preventDefault(); send(); });
    textarea.addEventListener("input", refresh);
    textarea.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing && !event.altKey) {
        event.preventDefault();
        send();
      }
    });
    refresh();

    return {
      textarea: textarea,
      select: select,
      refresh: refresh,
      showError: (text) => { errorBox.dataset.kind = "other"; showError(text); },
      /* Sending is held back (a reply is still being written, the conversation ended). */
      block: (value) => { blocked = Boolean(value); refresh(); },
    };
  }

  window.Coach = {
    api: api,
    ApiError: ApiError,
    uuid: uuid,
    composer: composer,
    relativeTime: relativeTime,
    refreshTimes: refreshTimes,
    el: el,
    actionButton: actionButton,
  };
})();

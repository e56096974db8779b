/* Curiosity Coach — the learner's own event socket (/ws/events/), once per page.
 *
 *   CoachEvents.listen("analysis.", onEvent, { onOpen: refresh });
 *
 * Every page that shows background work (marks in the chat, document progress, lessons)
 * listens here: one socket, reconnected with backoff and jitter, given up when the
 * server says the learner is signed out (4401). Events are at most once, so `onOpen`
 * runs after every (re)connection: the page asks the API for what it may have missed.
 */
(function () {
  "use strict";

  const SIGNED_OUT = 4401;
  const listeners = [];
  let socket = null;
  let attempt = 0;
  let stopped = false;

  function url() {
    const scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    return scheme + window.location.host + "/ws/events/";
  }

  function deliver(frame) {
    for (const listener of listeners) {
      if (frame.type.startsWith(listener.prefix)) listener.onEvent(frame);
    }
  }

  function open() {
    if (stopped) return;
    try {
      socket = new WebSocket(url());
    } catch (err) {
      return retry();
    }
    socket.onopen = () => {
      attempt = 0;
      for (const listener of listeners) if (listener.onOpen) listener.onOpen();
    };
    socket.onmessage = (message) => {
      let frame;
      try { frame = JSON.parse(message.data); } catch (err) { return; }
      if (frame && typeof frame.type === "string") deliver(frame);
    };
    socket.onclose = (event) => {
      socket = null;
      if (event.code === SIGNED_OUT) return; // nothing to listen to any more
      retry();
    };
  }

  function retry() {
    attempt += 1;
    const delay = Math.min(30000, 500 * 2 ** Math.min(attempt, 6)) * (0.5 + Math.random() / 2);
    window.setTimeout(open, delay);
  }

  /* Call onEvent(frame) for every event whose type starts with `prefix`. */
  function listen(prefix, onEvent, options) {
    listeners.push({ prefix: prefix, onEvent: onEvent, onOpen: options && options.onOpen });
    if (!socket && !stopped && attempt === 0) open();
  }

  window.addEventListener("pagehide", () => { stopped = true; });
  window.CoachEvents = { listen: listen };
})();

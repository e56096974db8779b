// Narrow screens: the main navigation folds behind a Menu button. Without JavaScript
// the links stay visible (and wrap), so nothing is out of reach.
(function () {
  "use strict";
  const bar = document.querySelector(".topbar");
  const button = document.getElementById("menu-button");
  const nav = document.getElementById("main-nav");
  if (!bar || !button || !nav) return;

  bar.classList.add("collapsible");
  button.hidden = false;

  function setOpen(open) {
    bar.classList.toggle("menu-open", open);
    button.setAttribute("aria-expanded", String(open));
  }

  button.addEventListener("click", () => setOpen(!bar.classList.contains("menu-open")));
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && bar.classList.contains("menu-open")) {
      setOpen(false);
      button.focus();
    }
  });
})();

// The shift's pages: their own live stream (/live/shift, the protocol of
// /live: "fragment" replaces the element with the same id), countdowns to
// a check's due time (data-until), the count pad, print buttons, and one
// submit per tap.
"use strict";

(() => {
  // formatAge follows formatAge in ui/view.go.
  const formatAge = (ms) => {
    const s = Math.max(0, Math.floor(ms / 1000));
    if (s < 60) return s + " s";
    const m = Math.floor(s / 60);
    if (m < 60) return m + " min";
    const h = Math.floor(m / 60);
    if (h < 24) return h + " h " + String(m % 60).padStart(2, "0");
    return Math.floor(h / 24) + " d " + String(h % 24).padStart(2, "0") + " h";
  };

  const tickUntil = () => {
    const now = Date.now();
    for (const el of document.querySelectorAll("[data-until]")) {
      el.textContent = formatAge(Date.parse(el.dataset.until) - now);
    }
  };

  // keep remembers what the officer typed or ticked in a fragment, so
  // that a live update never wipes a half-written note.
  const keep = (old) => {
    const key = (el) => (el.form ? el.form.getAttribute("action") : "") + "|" + el.name + "|" + (el.type === "checkbox" ? el.value : "");
    const typed = new Map();
    let focus = null;
    for (const el of old.querySelectorAll("input, textarea")) {
      if (el.type === "checkbox") typed.set(key(el), el.checked);
      else if ((el.type === "text" || el.tagName === "TEXTAREA") && el.value) typed.set(key(el), el.value);
      if (el === document.activeElement) focus = key(el);
    }
    return (fresh) => {
      for (const el of fresh.querySelectorAll("input, textarea")) {
        const k = key(el);
        if (typed.has(k)) {
          if (el.type === "checkbox") el.checked = typed.get(k);
          else el.value = typed.get(k);
        }
        if (focus === k) el.focus();
      }
    };
  };

  let stream = null; // the shift's live stream of the page shown

  const follow = (page, cell) => {
    let url = "/live/shift?page=" + encodeURIComponent(page);
    if (cell) url += "&cell=" + encodeURIComponent(cell);
    const source = new EventSource(url);
    stream = source;
    source.addEventListener("fragment", (msg) => {
      const t = document.createElement("template");
      t.innerHTML = msg.data;
      const fresh = t.content.firstElementChild;
      const old = fresh && document.getElementById(fresh.id);
      if (!old) return;
      const restore = keep(old);
      old.replaceWith(fresh);
      restore(fresh);
      oneSubmit(fresh);
      tickUntil();
    });
    // The page's own stream (/live) reloads the page when the wing is back.
    source.addEventListener("reload", () => source.close());
  };

  // oneSubmit keeps a double tap from recording twice: once a form is
  // sent its buttons wait (for 5 s, should the page stay).
  const oneSubmit = (root) => {
    for (const form of root.querySelectorAll("form[method=post]")) {
      if (form.dataset.oneSubmit) continue;
      form.dataset.oneSubmit = "yes";
      form.addEventListener("submit", () => {
        const buttons = Array.from(form.querySelectorAll("button[type=submit]:not([disabled])"));
        setTimeout(() => buttons.forEach((b) => (b.disabled = true)), 0);
        setTimeout(() => buttons.forEach((b) => (b.disabled = false)), 5000);
      });
    }
  };

  // countPad types a landing's count on the page's own keys.
  const countPad = (form) => {
    const field = form.querySelector("[data-count-pad]");
    const keys = form.querySelector(".countpad");
    if (!field || !keys) return;
    field.inputMode = "none"; // the pad types: no on-screen keyboard over it
    keys.hidden = false;
    keys.addEventListener("click", (e) => {
      const key = e.target.closest("[data-count-key]");
      if (!key) return;
      const k = key.dataset.countKey;
      if (k === "back") field.value = field.value.slice(0, -1);
      else if (field.value.length < field.maxLength) field.value = (field.value === "0" ? "" : field.value) + k;
    });
  };

  // start sets up the page shown: the screens' script (app.js) shows the
  // wing's pages without loading them ("wingpage" when one is shown,
  // "wingpageend" before it goes), and this script is loaded once.
  const start = () => {
    for (const b of document.querySelectorAll("[data-print]")) {
      b.hidden = false;
      b.addEventListener("click", () => window.print());
    }
    for (const form of document.querySelectorAll(".count-form")) countPad(form);
    oneSubmit(document);
    const live = Array.from(document.querySelectorAll("[data-shift-live]")).find((el) => el.dataset.shiftLive);
    if (live) {
      const page = document.querySelector("[data-cell]");
      follow(live.dataset.shiftLive, page ? page.dataset.cell : "");
    }
    tickUntil();
  };
  const end = () => {
    if (stream) stream.close();
    stream = null;
  };
  document.addEventListener("wingpage", start);
  document.addEventListener("wingpageend", end);
  start();
  setInterval(tickUntil, 1000);
})();

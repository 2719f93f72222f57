// Live updates for the wing screen. Server-sent "fragment" messages carry
// an element that replaces the element with the same id; "reload" means the
// stream ended for good and the page must be loaded again. Durations count
// up from their data-since attribute.
"use strict";

// formatAge follows formatAge in overview.go.
function formatAge(ms) {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return s + " s";
  const m = Math.floor(s / 60);
  if (m < 60) return m + " min";
  const h = Math.floor(m / 60);
  if (h < 24) return h + " h " + String(m % 60).padStart(2, "0");
  return Math.floor(h / 24) + " d " + String(h % 24).padStart(2, "0") + " h";
}

function tick() {
  const now = Date.now();
  for (const el of document.querySelectorAll("[data-since]")) {
    el.textContent = formatAge(now - Date.parse(el.dataset.since));
  }
}

// reloadWhenBack reloads the page once the appliance answers, so that a
// stopping appliance never leaves the screen on a browser error page.
function reloadWhenBack() {
  fetch("/healthz", { cache: "no-store" })
    .then((r) => {
      if (!r.ok && r.status !== 503) throw new Error(r.statusText);
      location.reload();
    })
    .catch(() => setTimeout(reloadWhenBack, 2000));
}

// watchRecording shows the recording banner while /healthz says events
// cannot be stored (503), and hides it once they can again.
function watchRecording() {
  const banner = document.getElementById("recording-banner");
  if (!banner) return;
  fetch("/healthz", { cache: "no-store" })
    .then((r) => r.json())
    .then((h) => {
      const failing = h.status === "failing";
      banner.hidden = !failing;
      banner.dataset.failing = String(failing);
      if (failing) banner.querySelector(".recording-problem").textContent = h.problem;
    })
    .catch(() => {});
}

// typed remembers what an officer has typed in a fragment's text fields,
// and which one has the focus, so that a live update of the fragment never
// wipes a half-written note. Fields are matched by their form's action and
// their name.
function typed(old) {
  const fields = (root) => root.querySelectorAll("input[type=text], textarea");
  const key = (el) => (el.form ? el.form.getAttribute("action") : "") + "|" + el.name;
  const values = new Map();
  let focus = null;
  for (const el of fields(old)) {
    if (el.value) values.set(key(el), el.value);
    if (el === document.activeElement) focus = { key: key(el), start: el.selectionStart, end: el.selectionEnd };
  }
  return {
    restore(fresh) {
      for (const el of fields(fresh)) {
        const k = key(el);
        if (values.has(k)) el.value = values.get(k);
        if (focus && focus.key === k) {
          el.focus();
          el.setSelectionRange(focus.start, focus.end);
        }
      }
    },
  };
}

function follow(status) {
  const show = (state, text) => {
    status.dataset.state = state;
    status.textContent = text;
  };
  // The stream sends the parts of this page only.
  const source = new EventSource("/live?page=" + encodeURIComponent(status.dataset.page || "overview"));
  source.onopen = () => show("live", "live");
  source.onerror = () => {
    show("reconnecting", "reconnecting…");
    if (source.readyState === EventSource.CLOSED) reloadWhenBack();
  };
  source.addEventListener("fragment", (msg) => {
    const t = document.createElement("template");
    t.innerHTML = msg.data;
    const fresh = t.content.firstElementChild;
    const old = fresh && document.getElementById(fresh.id);
    if (old) {
      const typing = typed(old);
      old.replaceWith(fresh);
      typing.restore(fresh);
    }
    tick();
  });
  source.addEventListener("reload", () => {
    source.close();
    show("reconnecting", "reconnecting…");
    reloadWhenBack();
  });
}

tick();
setInterval(tick, 1000);
setInterval(watchRecording, 5000);
const liveStatus = document.getElementById("live-status");
if (liveStatus) follow(liveStatus);

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

// pad drives a sign-in pad: its keys type into the form's pad field that
// has the focus (the first empty one to begin with); Next moves on, and
// from the last field submits the form.
function pad(form) {
  const keys = form.querySelector(".keypad");
  const fields = Array.from(form.querySelectorAll("[data-pad]"));
  if (!keys || fields.length === 0) return;
  let active = null;
  const focus = (f) => {
    active = f;
    for (const x of fields) x.classList.toggle("active", x === f);
  };
  for (const f of fields) {
    f.inputMode = "none"; // the pad types: no on-screen keyboard over it
    f.addEventListener("focus", () => focus(f));
    f.addEventListener("pointerdown", () => focus(f));
  }
  focus(fields.find((f) => f.value === "") || fields[0]);
  keys.hidden = false;
  keys.addEventListener("click", (e) => {
    const key = e.target.closest("[data-key]");
    if (!key) return;
    const k = key.dataset.key;
    if (k === "back") {
      active.value = active.value.slice(0, -1);
    } else if (k === "next") {
      const i = fields.indexOf(active);
      if (i < fields.length - 1) focus(fields[i + 1]);
      else form.requestSubmit();
    } else if (active.maxLength < 0 || active.value.length < active.maxLength) {
      active.value += k;
    }
  });
}

// keepSession keeps a signed-in officer's session alive while the screen
// is touched: the server hears of touches at most every 30 s, with how
// long ago the latest was. Once the wing's idle time has passed without a
// touch the server has signed the officer out, and the screen goes back
// to the overview, signed out.
function keepSession() {
  const body = document.body;
  if (body.dataset.signedIn !== "true") return;
  const idle = Number(body.dataset.idleMs);
  const token = document.querySelector('meta[name="csrf-token"]').content;
  let lastTouch = Date.now() - (idle - Number(body.dataset.idleLeftMs)); // as the server last heard
  let lastSent = 0;
  let pending = null;
  let deadline = null;
  const signedOut = () => location.assign("/");
  const arm = () => {
    clearTimeout(deadline);
    deadline = setTimeout(signedOut, lastTouch + idle + 1000 - Date.now());
  };
  const send = () => {
    pending = null;
    lastSent = Date.now();
    fetch("/session/touch?ago=" + Math.max(0, Date.now() - lastTouch), {
      method: "POST",
      headers: { "X-CSRF-Token": token },
      cache: "no-store",
      keepalive: true,
    })
      .then((r) => {
        if (r.status === 401) signedOut();
      })
      .catch(() => {});
  };
  const touched = () => {
    lastTouch = Date.now();
    arm();
    const wait = lastSent + 30000 - lastTouch;
    if (wait <= 0) send();
    else if (!pending) pending = setTimeout(send, wait);
  };
  document.addEventListener("pointerdown", touched, { capture: true, passive: true });
  document.addEventListener("keydown", touched, { capture: true, passive: true });
  arm();
}

for (const form of document.querySelectorAll("form")) pad(form);
keepSession();
tick();
setInterval(tick, 1000);
setInterval(watchRecording, 5000);
const liveStatus = document.getElementById("live-status");
if (liveStatus) follow(liveStatus);

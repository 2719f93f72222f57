// The wing screen's script. Everything the screen does goes through it:
//
// - Live updates: server-sent "fragment" messages carry an element that
//   replaces the element with the same id; "prepend" messages carry an
//   element whose children go first in the element with its id; "reload"
//   means the stream ended for good and the page must be loaded again.
//   Durations count up from their data-since attribute.
// - Taps never leave the screen on a browser error page: links and forms
//   are fetched by this script, the answer is put in place of the page,
//   and when the wing does not answer the screen says "not sent, the wing
//   is not answering" and recovers by itself once it answers again.
// - Nothing moves under a finger: while a finger is on the screen, and for
//   a moment after it lifts or an action is sent, live updates wait, so
//   acting on one alarm never moves another alarm's buttons under a tap.
"use strict";

// holdFor is how long live updates wait after a finger lifts or an
// action is sent; a finger resting longer than holdAtMost no longer holds
// them.
const holdFor = 1200;
const holdAtMost = 10000;

// formatAge follows formatAge in view.go.
function formatAge(ms) {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return s + " s";
  const m = Math.floor(s / 60);
  if (m < 60) return m + " min";
  const h = Math.floor(m / 60);
  if (h < 24) return h + " h " + String(m % 60).padStart(2, "0");
  return Math.floor(h / 24) + " d " + String(h % 24).padStart(2, "0") + " h";
}

// tick counts up the ages in root (the page, or a fragment just put in).
function tick(root = document) {
  const now = Date.now();
  for (const el of root.querySelectorAll("[data-since]")) {
    const text = formatAge(now - Date.parse(el.dataset.since));
    if (el.textContent !== text) el.textContent = text;
  }
}

function csrfToken() {
  const meta = document.querySelector('meta[name="csrf-token"]');
  return meta ? meta.content : "";
}

// page is what belongs to the page now shown: its live stream and its
// timers, ended when another page takes its place.
const page = { source: null, timers: [] };

// ---- Holding live updates while a finger is on the screen ----

const fingers = new Map(); // pointer id -> when it went down
let holdUntil = 0;
const queued = new Map(); // element id -> the element to put in its place, in the order each last came
let flushTimer = null;

function held() {
  const now = Date.now();
  for (const since of fingers.values()) {
    if (now - since < holdAtMost) return true;
  }
  return now < holdUntil;
}

function hold() {
  holdUntil = Math.max(holdUntil, Date.now() + holdFor);
}

document.addEventListener("pointerdown", (e) => fingers.set(e.pointerId, Date.now()), { capture: true, passive: true });
for (const type of ["pointerup", "pointercancel"]) {
  document.addEventListener(
    type,
    (e) => {
      fingers.delete(e.pointerId);
      hold();
      scheduleFlush();
    },
    { capture: true, passive: true },
  );
}

function scheduleFlush() {
  if (flushTimer || queued.size === 0) return;
  const wait = Math.max(50, holdUntil - Date.now());
  flushTimer = setTimeout(() => {
    flushTimer = null;
    flush();
  }, wait);
}

function flush() {
  if (held()) {
    scheduleFlush();
    return;
  }
  const all = Array.from(queued.values());
  queued.clear();
  for (const el of all) replace(el);
  tick();
}

// typed remembers what an officer has typed or ticked in part of the
// page, which text field has the focus, and which folded sections are
// open, so that a live update or a reload never wipes a half-written
// note. Fields are matched by their form's action, their name and (for
// boxes) their value.
function typed(old) {
  const key = (el) => (el.form ? el.form.getAttribute("action") : "") + "|" + el.name + "|" + (el.type === "checkbox" || el.type === "radio" ? el.value : "");
  const values = new Map();
  const checked = new Map();
  const open = new Set();
  let focus = null;
  for (const el of old.querySelectorAll("input[type=text], textarea")) {
    if (el.value) values.set(key(el), el.value);
    if (el === document.activeElement) focus = { key: key(el), start: el.selectionStart, end: el.selectionEnd };
  }
  for (const el of old.querySelectorAll("input[type=checkbox], input[type=radio]")) checked.set(key(el), el.checked);
  for (const el of old.querySelectorAll("details[data-testid]")) if (el.open) open.add(el.dataset.testid);
  return {
    restore(fresh) {
      for (const el of fresh.querySelectorAll("input[type=text], textarea")) {
        const k = key(el);
        if (values.has(k)) el.value = values.get(k);
        if (focus && focus.key === k) {
          el.focus();
          el.setSelectionRange(focus.start, focus.end);
        }
      }
      for (const el of fresh.querySelectorAll("input[type=checkbox], input[type=radio]")) {
        if (checked.has(key(el))) el.checked = checked.get(key(el));
      }
      for (const el of fresh.querySelectorAll("details[data-testid]")) if (open.has(el.dataset.testid)) el.open = true;
    },
  };
}

// parseElements returns the elements html holds; parseElement the first.
function parseElements(html) {
  const t = document.createElement("template");
  t.innerHTML = html;
  return Array.from(t.content.children);
}

function parseElement(html) {
  return parseElements(html)[0] || null;
}

// replace puts a fragment (an element, or its html) in place of the
// element with its id, and returns the element now shown (or null).
function replace(fragment) {
  const fresh = typeof fragment === "string" ? parseElement(fragment) : fragment;
  const old = fresh && document.getElementById(fresh.id);
  if (!old) return null;
  const typing = typed(old);
  const shown = fresh.id === "alarms" ? replacePanel(old, fresh) : (old.replaceWith(fresh), fresh);
  typing.restore(shown);
  // Tiles and rows lie below the alarm list: they cannot change its room.
  if (!/^(door|sensor|plan|proof)-/.test(fresh.id)) fitAlarmListSoon();
  return shown;
}

// replacePanel brings the alarm panel old up to fresh card by card, and
// returns old: a card whose version (data-v) has not changed stays as it
// is, so that an alarm raised or resolved among many others lays out
// only what changed, and the tiles behind it are not held up.
function replacePanel(old, fresh) {
  const list = old.querySelector(":scope > .alarm-list");
  const freshList = fresh.querySelector(":scope > .alarm-list");
  if (!list || !freshList) {
    old.replaceWith(fresh);
    return fresh;
  }
  for (const a of Array.from(old.attributes)) if (!fresh.hasAttribute(a.name)) old.removeAttribute(a.name);
  for (const a of Array.from(fresh.attributes)) if (old.getAttribute(a.name) !== a.value) old.setAttribute(a.name, a.value);
  // What lies around the list (its hint, the faulted inputs) is small:
  // it is put in anew.
  for (const el of Array.from(old.children)) if (el !== list) el.remove();
  let before = true;
  for (const el of Array.from(fresh.children)) {
    if (el === freshList) before = false;
    else if (before) old.insertBefore(el, list);
    else old.append(el);
  }
  const kept = new Map(Array.from(list.children, (el) => [el.id, el]));
  const cards = Array.from(freshList.children, (card) => {
    const was = kept.get(card.id);
    if (!was || !card.dataset.v || was.dataset.v !== card.dataset.v) return card;
    kept.delete(card.id);
    return was;
  });
  for (const gone of kept.values()) gone.remove();
  cards.forEach((card, i) => {
    if (list.children[i] !== card) list.insertBefore(card, list.children[i] || null);
  });
  return old;
}

// fitAlarmListSoon fits the alarm list once before the next frame, however
// many parts a storm's batch replaced: measuring it lays the page out, and
// doing so for each part held up the tiles behind them.
let fitting = 0;
function fitAlarmListSoon() {
  if (fitting) return;
  fitting = requestAnimationFrame(() => {
    fitting = 0;
    fitAlarmList();
  });
}

// fitAlarmList makes a long alarm list scroll within the first screen, so
// that every alarm is reachable there and none is cut off below it.
function fitAlarmList() {
  const list = document.querySelector("#alarms .alarm-list");
  if (!list) return;
  const top = list.getBoundingClientRect().top + window.scrollY;
  list.style.maxHeight = Math.max(window.innerHeight - top - 8, 180) + "px";
}
window.addEventListener("resize", fitAlarmList);

// ---- The live stream ----

function follow(status) {
  const show = (state, text) => {
    status.dataset.state = state;
    status.textContent = text;
  };
  let url = "/live?page=" + encodeURIComponent(status.dataset.page || "overview");
  if (status.dataset.query) url += "&" + status.dataset.query;
  const source = new EventSource(url);
  page.source = source;
  let lost = false;
  let opened = false;
  source.onopen = () => {
    opened = true;
    show("live", "live");
    answering();
    // Back after losing the stream: the wing may have restarted, with new
    // sessions and tokens. Load the page again, keeping what was typed.
    if (lost) reloadPage();
  };
  source.onerror = () => {
    lost = true;
    show("reconnecting", "reconnecting…");
    if (source.readyState !== EventSource.CLOSED) return;
    if (opened) {
      reloadWhenBack();
      return;
    }
    // Refused before it opened: the screens may hold as many live streams
    // as the wing allows (503 with Retry-After and a sentence). Then say
    // so and try again when it says, rather than at once.
    const asked = new AbortController();
    fetch(url, { cache: "no-store", signal: asked.signal })
      .then((r) => {
        const wait = Number(r.headers.get("Retry-After"));
        if (r.status !== 503 || !(wait > 0)) {
          asked.abort();
          reloadWhenBack();
          return;
        }
        return r.text().then((text) => {
          show("refused", "not live");
          const note = message("not-live", "not-live", text.trim() + " This screen tries again in " + wait + " s.");
          setTimeout(() => {
            note.remove();
            reloadPage();
          }, wait * 1000);
        });
      })
      .catch(() => reloadWhenBack());
  };
  const put = (el) => {
    if (held()) {
      // Put in the order they last came: a card sent alone after a whole
      // panel is newer than the panel's copy of it, and the other way round.
      queued.delete(el.id);
      queued.set(el.id, el);
      scheduleFlush();
      return;
    }
    const shown = replace(el);
    if (shown) tick(shown);
  };
  source.addEventListener("fragment", (msg) => {
    const el = parseElement(msg.data);
    if (el) put(el);
  });
  // Several elements at once (the door tiles a storm changed).
  source.addEventListener("fragments", (msg) => {
    for (const el of parseElements(msg.data)) put(el);
  });
  source.addEventListener("prepend", (msg) => {
    const fresh = parseElement(msg.data);
    const list = fresh && document.getElementById(fresh.id);
    if (!list) return;
    for (const empty of document.querySelectorAll('[data-testid="no-events"]')) empty.remove();
    list.prepend(...fresh.children);
    while (list.children.length > 500) list.lastElementChild.remove();
  });
  source.addEventListener("reload", () => {
    source.close();
    show("reconnecting", "reconnecting…");
    reloadWhenBack();
  });
}

// ---- When the wing does not answer ----

let down = false;

// message shows a line over the top of the screen. It sits outside the
// page's body, so that it stays while a page takes the place of another.
function message(id, cls, text) {
  let el = document.getElementById(id);
  if (!el) {
    el = document.createElement("div");
    el.id = id;
    el.dataset.testid = id;
    el.setAttribute("role", "alert");
    document.documentElement.append(el);
  }
  el.className = cls;
  el.textContent = text;
  return el;
}

// notAnswering says that what was tapped was not sent, and waits for the
// wing to answer again.
function notAnswering() {
  message("not-answering", "not-answering", "Not sent, the wing is not answering. This screen tries again by itself and comes back when the wing answers.");
  if (down) return;
  down = true;
  const poll = () =>
    fetch("/healthz", { cache: "no-store" })
      .then(() => {
        answering();
        return reloadPage();
      })
      .catch(() => setTimeout(poll, 2000));
  setTimeout(poll, 1000);
}

// answering notes that the wing answers: after it did not, the screen
// says so and that what was tapped meanwhile was not sent.
function answering() {
  if (!down) return;
  down = false;
  const el = document.getElementById("not-answering");
  if (el) el.remove();
  notify("The wing is answering again. What was tapped while it was not was not sent: tap again if it is still needed.");
}

// notify shows a short message over the top of the screen for a while;
// a tap on it puts it away.
function notify(text, kind) {
  const el = message("notice", "notice" + (kind ? " " + kind : ""), text);
  el.onclick = () => el.remove();
  clearTimeout(el.timer);
  el.timer = setTimeout(() => el.remove(), 8000);
}

// reloadWhenBack loads the page again once the appliance answers.
function reloadWhenBack() {
  fetch("/healthz", { cache: "no-store" })
    .then(() => reloadPage())
    .catch(() => setTimeout(reloadWhenBack, 2000));
}

// ---- Pages, links and forms through the script ----

function samePage(url) {
  const u = new URL(url, location.href);
  return u.pathname === location.pathname && u.search === location.search;
}

// go loads the page at url in place of this one.
function go(url, opts = {}) {
  return fetch(url, { cache: "no-store" })
    .then((r) => r.text().then((html) => {
      answering();
      showPage(html, r.url || url, opts);
    }))
    .catch((err) => {
      if (err instanceof TypeError) notAnswering();
      else throw err;
    });
}

// reloadPage loads this page again once no finger holds it, keeping what
// was typed and where it was scrolled to.
function reloadPage() {
  if (held()) return new Promise((resolve) => setTimeout(() => resolve(reloadPage()), holdFor));
  return go(location.pathname + location.search, { replace: true });
}

// showPage puts the page html (at url) in place of this one.
function showPage(html, url, opts) {
  const doc = new DOMParser().parseFromString(html, "text/html");
  if (!doc.body || !doc.querySelector("main")) {
    location.assign(url); // not one of the wing's pages
    return;
  }
  const same = samePage(url);
  const keep = same ? typed(document.body) : null;
  const scroll = window.scrollY;
  end();
  document.title = doc.title;
  const meta = doc.querySelector('meta[name="csrf-token"]');
  const mine = document.querySelector('meta[name="csrf-token"]');
  if (meta && mine) mine.content = meta.content;
  const body = document.adoptNode(doc.body);
  document.body.replaceWith(body);
  if (opts.push && !same) history.pushState(null, "", url);
  else history.replaceState(null, "", url);
  if (keep) keep.restore(body);
  window.scrollTo(0, same ? scroll : 0);
  start();
}

// send posts a form with the screen's token, and shows what the wing
// answers: back on the same page, the page stays (the live stream shows
// the change); a refusal is said over the page; another page is shown.
function send(form, submitter) {
  if (down) {
    notAnswering();
    return;
  }
  const body = new URLSearchParams(new FormData(form, submitter));
  if (submitter) {
    submitter.disabled = true;
    submitter.classList.add("sending");
  }
  const done = (cls) => {
    if (!submitter) return;
    submitter.disabled = false;
    submitter.classList.remove("sending");
    if (cls) submitter.classList.add(cls);
  };
  hold();
  fetch(form.getAttribute("action"), { method: "POST", body, headers: { "X-CSRF-Token": csrfToken() }, cache: "no-store" })
    .then((r) => r.text().then((html) => ({ r, html })))
    .then(({ r, html }) => {
      hold();
      answering();
      const doc = new DOMParser().parseFromString(html, "text/html");
      const meta = doc.querySelector('meta[name="csrf-token"]');
      const sameSession = meta && meta.content === csrfToken();
      if (r.redirected && samePage(r.url) && sameSession) {
        done("sent");
        return;
      }
      const msg = doc.querySelector('[data-testid="message"]');
      if (!r.ok && msg && sameSession) {
        done("");
        const title = msg.querySelector("h1");
        const text = msg.querySelector("p");
        notify((title ? title.textContent + ": " : "") + (text ? text.textContent : ""), "problem");
        return;
      }
      done("");
      showPage(html, r.redirected ? r.url : location.href, { push: r.redirected });
    })
    .catch(() => {
      done("");
      notAnswering();
    });
}

// The wing's own pages, as opposed to its files and API.
function pageLink(a) {
  if (!a.href || a.target || a.hasAttribute("download")) return false;
  const u = new URL(a.href, location.href);
  return u.origin === location.origin && !/^\/(static|api|live|healthz)(\/|$)/.test(u.pathname);
}

document.addEventListener("click", (e) => {
  if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  const a = e.target.closest("a[href]");
  if (!a || !pageLink(a)) return;
  e.preventDefault();
  if (down) {
    notAnswering();
    return;
  }
  go(a.href, { push: true });
});

document.addEventListener("submit", (e) => {
  const form = e.target;
  e.preventDefault();
  if ((form.getAttribute("method") || "get").toLowerCase() === "post") {
    send(form, e.submitter);
    return;
  }
  const url = new URL(form.getAttribute("action") || location.pathname, location.href);
  url.search = new URLSearchParams(new FormData(form, e.submitter)).toString();
  if (down) {
    notAnswering();
    return;
  }
  go(url.pathname + url.search, { push: true });
});

window.addEventListener("popstate", () => go(location.pathname + location.search, { replace: true }));

// ---- The sign-in pad and the session ----

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
const session = { lastTouch: 0, lastSent: 0, pending: null, deadline: null, on: false, idle: 0 };

function keepSession() {
  const body = document.body;
  session.on = body.dataset.signedIn === "true";
  clearTimeout(session.deadline);
  clearTimeout(session.pending);
  session.pending = null;
  if (!session.on) return;
  session.idle = Number(body.dataset.idleMs);
  session.lastTouch = Date.now() - (session.idle - Number(body.dataset.idleLeftMs)); // as the server last heard
  armSession();
}

function armSession() {
  clearTimeout(session.deadline);
  session.deadline = setTimeout(() => go("/", { replace: true }), session.lastTouch + session.idle + 1000 - Date.now());
}

function sendTouch() {
  session.pending = null;
  session.lastSent = Date.now();
  fetch("/session/touch?ago=" + Math.max(0, Date.now() - session.lastTouch), {
    method: "POST",
    headers: { "X-CSRF-Token": csrfToken() },
    cache: "no-store",
    keepalive: true,
  })
    .then((r) => {
      if (r.status === 401) go("/", { replace: true });
    })
    .catch(() => {});
}

function touched() {
  if (!session.on) return;
  session.lastTouch = Date.now();
  armSession();
  const wait = session.lastSent + 30000 - session.lastTouch;
  if (wait <= 0) sendTouch();
  else if (!session.pending) session.pending = setTimeout(sendTouch, wait);
}
document.addEventListener("pointerdown", touched, { capture: true, passive: true });
document.addEventListener("keydown", touched, { capture: true, passive: true });

// ---- Recording ----

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

// ---- A page's start and end ----

function start() {
  for (const form of document.querySelectorAll("form")) pad(form);
  keepSession();
  tick();
  fitAlarmList();
  const liveStatus = document.getElementById("live-status");
  if (liveStatus) follow(liveStatus);
  document.dispatchEvent(new CustomEvent("wingpage")); // the shift's script (shift.js) sets up its parts
}

function end() {
  document.dispatchEvent(new CustomEvent("wingpageend"));
  if (page.source) page.source.close();
  page.source = null;
  queued.clear();
  clearTimeout(flushTimer);
  flushTimer = null;
}

start();
setInterval(tick, 1000);
setInterval(watchRecording, 5000);

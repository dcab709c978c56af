// The agenda's enhancements. Without this file every action is still a form (the event's
// "Move" page); with it, the day and week views let a person drag an event to another
// slot, drag its lower edge to change its end, or focus it and use Alt+arrows
// (Alt+Shift+Up/Down for its end). Each move posts the same form as the "Move" page, in
// the viewer's wall-clock time, with the ETag the page was drawn with: a change made
// meanwhile elsewhere comes back as that page with its message, never overwritten.

const STEP = 30; // minutes of a slot
const FOCUS_KEY = "hexagone.agenda.focus";

// Wall-clock times are handled as UTC dates, so the browser's own zone never shifts them.
function wall(text) {
  const [d, t = "00:00"] = text.slice(0, 16).split("T");
  const [y, m, day] = d.split("-").map(Number);
  const [h, min] = t.split(":").map(Number);
  return new Date(Date.UTC(y, m - 1, day, h, min));
}
const pad = (n) => String(n).padStart(2, "0");
const dayOf = (w) => `${w.getUTCFullYear()}-${pad(w.getUTCMonth() + 1)}-${pad(w.getUTCDate())}`;
const timeOf = (w) => `${pad(w.getUTCHours())}:${pad(w.getUTCMinutes())}`;
const plus = (w, minutes) => new Date(w.getTime() + minutes * 60000);

function submitMove(event, start, end) {
  const grid = event.closest("[data-agenda-grid]");
  const form = document.createElement("form");
  form.method = "post";
  form.action = event.dataset.move;
  form.hidden = true;
  const fields = {
    csrf_token: grid.dataset.csrf,
    etag: event.dataset.etag,
    occurrence: event.dataset.occurrence,
    scope: event.dataset.scope,
    start_date: dayOf(start),
    start_time: timeOf(start),
    end_date: dayOf(end),
    end_time: timeOf(end),
    next: location.pathname + location.search.replace(/([?&])done=[^&]*&?/, "$1"),
  };
  for (const [name, value] of Object.entries(fields)) {
    const input = document.createElement("input");
    input.type = "hidden";
    input.name = name;
    input.value = value || "";
    form.append(input);
  }
  sessionStorage.setItem(FOCUS_KEY, event.getAttribute("href"));
  document.body.append(form);
  form.submit();
}

function span(event) {
  const start = wall(event.dataset.start);
  const minutes = Math.round((Date.parse(event.dataset.end) - Date.parse(event.dataset.start)) / 60000);
  return { start, minutes: Math.max(minutes, STEP) };
}

// --- keyboard ---------------------------------------------------------------------------------
document.addEventListener("keydown", (key) => {
  const event = key.target instanceof Element ? key.target.closest("[data-move]") : null;
  if (!event || !key.altKey) return;
  const { start, minutes } = span(event);
  const moves = {
    ArrowUp: [-STEP, 0],
    ArrowDown: [STEP, 0],
    ArrowLeft: [-24 * 60, 0],
    ArrowRight: [24 * 60, 0],
  };
  if (!(key.key in moves)) return;
  key.preventDefault();
  if (key.shiftKey) {
    if (key.key !== "ArrowUp" && key.key !== "ArrowDown") return;
    const length = minutes + (key.key === "ArrowUp" ? -STEP : STEP);
    if (length < STEP) return;
    submitMove(event, start, plus(start, length));
    return;
  }
  const shifted = plus(start, moves[key.key][0]);
  submitMove(event, shifted, plus(shifted, minutes));
});

// --- drag and drop ------------------------------------------------------------------------------
let drag = null;

function slotAt(x, y) {
  const found = document.elementsFromPoint(x, y).find((el) => el.classList?.contains("agenda-slot"));
  return found || null;
}

document.addEventListener("pointerdown", (down) => {
  const event = down.target instanceof Element ? down.target.closest("[data-move]") : null;
  if (!event || down.button !== 0) return;
  const box = event.getBoundingClientRect();
  drag = { event, resize: down.clientY > box.bottom - 8, x: down.clientX, y: down.clientY, moved: false, slot: null };
});

document.addEventListener("pointermove", (move) => {
  if (!drag) return;
  if (!drag.moved && Math.hypot(move.clientX - drag.x, move.clientY - drag.y) < 6) return;
  drag.moved = true;
  drag.event.classList.add("is-dragging");
  const slot = slotAt(move.clientX, move.clientY);
  if (slot !== drag.slot) {
    drag.slot?.classList.remove("is-target");
    slot?.classList.add("is-target");
    drag.slot = slot;
  }
});

document.addEventListener("pointerup", () => {
  if (!drag) return;
  const { event, slot, moved, resize } = drag;
  drag.slot?.classList.remove("is-target");
  event.classList.remove("is-dragging");
  drag = null;
  if (!moved || !slot) return;
  event.addEventListener("click", (click) => click.preventDefault(), { once: true, capture: true });
  const { start, minutes } = span(event);
  const target = wall(slot.dataset.start);
  if (resize) {
    const end = plus(target, STEP);
    if (end > start) submitMove(event, start, end);
    return;
  }
  submitMove(event, target, plus(target, minutes));
});

// A link is natively draggable (to another window): that drag would cancel this one.
document.addEventListener("dragstart", (start) => {
  if (start.target instanceof Element && start.target.closest("[data-move]")) start.preventDefault();
});

document.addEventListener("pointercancel", () => {
  drag?.slot?.classList.remove("is-target");
  drag?.event.classList.remove("is-dragging");
  drag = null;
});

// --- the calendars shown, the help, focus after a move --------------------------------------------
document.addEventListener("change", (change) => {
  const form = change.target instanceof Element ? change.target.closest("[data-agenda-shown]") : null;
  if (form) form.requestSubmit();
});

document.addEventListener("DOMContentLoaded", () => {
  if (!document.querySelector("[data-agenda-grid]")) return;
  for (const help of document.querySelectorAll("[data-agenda-help]")) help.hidden = false;
  const wanted = sessionStorage.getItem(FOCUS_KEY);
  if (!wanted) return;
  sessionStorage.removeItem(FOCUS_KEY);
  const base = wanted.split("?")[0];
  const again = [...document.querySelectorAll("[data-move]")].find((el) => el.getAttribute("href").split("?")[0] === base);
  again?.focus();
});

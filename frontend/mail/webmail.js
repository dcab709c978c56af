// The webmail's enhancements: keyboard shortcuts, address completion, the message frame
// fitted to its content, dates in the reader's time zone, and no autosave racing a send.
// Every page works without this file.
import htmx from "htmx.org";

const NOT_TYPED = new Set(["checkbox", "radio", "button", "submit", "reset", "file", "range", "color", "image"]);

// Keys typed into a field are text, never shortcuts; a checkbox or a button types nothing.
function isTyping(target) {
  if (!(target instanceof HTMLElement)) return false;
  if (target instanceof HTMLInputElement) return !NOT_TYPED.has(target.type);
  return target.isContentEditable || target instanceof HTMLTextAreaElement || target instanceof HTMLSelectElement;
}

// --- keyboard shortcuts --------------------------------------------------------------

function rowLinks() {
  return [...document.querySelectorAll(".mail-row-link")];
}

function currentRow() {
  const active = document.activeElement;
  return active instanceof Element ? active.closest(".mail-row") : null;
}

function moveInList(step) {
  const links = rowLinks();
  const row = currentRow();
  const index = row ? links.indexOf(row.querySelector(".mail-row-link")) : -1;
  const next = index < 0 ? (step > 0 ? 0 : links.length - 1) : Math.min(links.length - 1, Math.max(0, index + step));
  links[next].focus();
  links[next].scrollIntoView({ block: "nearest" });
  return true;
}

function actOnRow(suffix) {
  const row = currentRow();
  if (!row) return false;
  window.location.assign(`/mail/messages/${row.dataset.id}${suffix}`);
  return true;
}

function deleteRow() {
  const row = currentRow();
  const form = document.getElementById("mail-list-form");
  const button = form?.querySelector('button[name="action"][value="delete"]');
  if (!row || !form || !button) return false;
  for (const box of form.querySelectorAll(".mail-select")) box.checked = box.closest(".mail-row") === row;
  form.requestSubmit(button);
  return true;
}

function clickKey(key) {
  const target = document.querySelector(`[data-key="${CSS.escape(key)}"]`);
  if (!target) return false;
  target.click();
  return true;
}

function openHelp() {
  const dialog = document.getElementById("mail-help");
  if (!dialog || dialog.open) return false;
  dialog.showModal();
  return true;
}

const SHORTCUTS = {
  j: () => (rowLinks().length ? moveInList(1) : clickKey("j")),
  k: () => (rowLinks().length ? moveInList(-1) : clickKey("k")),
  o: () => { const row = currentRow(); row?.querySelector(".mail-row-link")?.click(); return Boolean(row); },
  r: () => clickKey("r") || actOnRow("/reply"),
  a: () => clickKey("a") || actOnRow("/reply-all"),
  f: () => clickKey("f") || actOnRow("/forward"),
  c: () => { window.location.assign("/mail/compose"); return true; },
  "#": () => clickKey("#") || deleteRow(),
  "/": () => { const box = document.getElementById("mail-search"); box?.focus(); return Boolean(box); },
  "?": openHelp,
};

// Capture on window: runs before the shell's own "/" (search everything) on document.
window.addEventListener("keydown", (event) => {
  if (!document.querySelector(".webmail") || event.ctrlKey || event.metaKey || event.altKey) return;
  if (isTyping(event.target) || document.querySelector("dialog[open]")) return;
  const run = SHORTCUTS[event.key];
  if (run && run()) {
    event.preventDefault();
    event.stopPropagation();
  }
}, true);

for (const button of document.querySelectorAll("[data-mail-help]")) {
  button.hidden = false;
  button.addEventListener("click", openHelp);
}

// --- the message frame ---------------------------------------------------------------

function fitFrame(frame) {
  const body = frame.contentDocument?.documentElement;
  if (body) frame.style.height = `${body.scrollHeight + 2}px`;
}

for (const frame of document.querySelectorAll(".mail-frame")) {
  frame.addEventListener("load", () => fitFrame(frame));
  if (frame.contentDocument?.readyState === "complete") fitFrame(frame);
}

// --- dates in the reader's time zone -------------------------------------------------

function localDates(root) {
  const lang = document.documentElement.lang || undefined;
  const today = new Date().toDateString();
  for (const time of root.querySelectorAll(".webmail time[datetime]")) {
    const moment = new Date(time.getAttribute("datetime"));
    if (Number.isNaN(moment.getTime())) continue;
    const options = "full" in time.dataset ? { dateStyle: "full", timeStyle: "short" }
      : moment.toDateString() === today ? { timeStyle: "short" } : { dateStyle: "medium" };
    time.textContent = new Intl.DateTimeFormat(lang, options).format(moment);
  }
}
localDates(document);

// --- compose -------------------------------------------------------------------------

const compose = document.getElementById("compose");
if (compose) {
  // Enter in a one-line field completes an address or does nothing: sending is a button.
  compose.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && event.target instanceof HTMLInputElement && event.target.type !== "file"
        && event.target.type !== "checkbox") event.preventDefault();
  });
  // Once the form is being sent, an autosave must not bring the draft back.
  compose.addEventListener("submit", () => {
    compose.dataset.submitting = "1";
    htmx.trigger(compose, "htmx:abort");
  });
  compose.addEventListener("htmx:confirm", (event) => {
    if (compose.dataset.submitting) event.preventDefault();
  });
  for (const input of compose.querySelectorAll("input[data-people]")) completeAddresses(input);
}

// Address completion: the ARIA 1.2 combobox pattern over a listbox of people.
function completeAddresses(input) {
  const list = document.createElement("ul");
  list.id = `${input.id}-suggestions`;
  list.className = "mail-suggestions";
  list.setAttribute("role", "listbox");
  list.setAttribute("aria-label", input.labels?.[0]?.textContent || input.name);
  list.hidden = true;
  input.after(list);
  input.setAttribute("role", "combobox");
  input.setAttribute("aria-autocomplete", "list");
  input.setAttribute("aria-expanded", "false");
  input.setAttribute("aria-controls", list.id);
  let active = -1;
  let timer = 0;
  let asked = "";

  const options = () => [...list.querySelectorAll('[role="option"]')];
  const close = () => {
    list.hidden = true;
    list.replaceChildren();
    active = -1;
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
  };
  const highlight = (index) => {
    const all = options();
    active = (index + all.length) % all.length;
    all.forEach((option, i) => option.setAttribute("aria-selected", String(i === active)));
    input.setAttribute("aria-activedescendant", all[active].id);
  };
  const token = () => input.value.split(/[,;]/).pop().trim();
  const pick = (option) => {
    const parts = input.value.split(/[,;]/);
    parts.pop();
    const kept = parts.map((p) => p.trim()).filter(Boolean);
    input.value = [...kept, option.dataset.value].join(", ") + ", ";
    close();
    input.dispatchEvent(new Event("input", { bubbles: true }));
  };
  const show = (people) => {
    close();
    if (!people.length) return;
    people.forEach((person, i) => {
      const option = document.createElement("li");
      option.id = `${list.id}-${i}`;
      option.setAttribute("role", "option");
      option.setAttribute("aria-selected", "false");
      option.dataset.value = person.name ? `${person.name} <${person.address}>` : person.address;
      option.textContent = option.dataset.value;
      option.addEventListener("mousedown", (event) => { event.preventDefault(); pick(option); });
      list.append(option);
    });
    list.hidden = false;
    input.setAttribute("aria-expanded", "true");
  };

  input.addEventListener("input", () => {
    window.clearTimeout(timer);
    const query = token();
    if (query.length < 2 || query.includes("@") && query.includes(">")) { close(); return; }
    timer = window.setTimeout(async () => {
      asked = query;
      const response = await fetch(`${input.dataset.people}?q=${encodeURIComponent(query)}`,
        { headers: { Accept: "application/json" }, credentials: "same-origin" });
      if (response.ok && asked === token()) show(await response.json());
    }, 150);
  });
  input.addEventListener("keydown", (event) => {
    if (list.hidden) return;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      highlight(active + (event.key === "ArrowDown" ? 1 : -1));
    } else if (event.key === "Enter" && active >= 0) {
      event.preventDefault();
      pick(options()[active]);
    } else if (event.key === "Escape") {
      event.preventDefault();
      event.stopPropagation();
      close();
    }
  });
  input.addEventListener("blur", close);
}

// Hexagone's shell behaviour: htmx for partial updates, the CSRF header on every htmx
// request, and keyboard niceties. Pages work without this file; it only enhances them.
import htmx from "htmx.org";
import "./mail/webmail.js";
import "./calendar/agenda.js";
import "./drive/drive.js";
import "./chat/chat.js";

window.htmx = htmx;

document.addEventListener("htmx:configRequest", (event) => {
  const token = document.body.dataset.csrf;
  if (token) event.detail.headers["X-CSRF-Token"] = token;
});

// Escape closes an open menu and gives focus back to its button.
document.addEventListener("keydown", (event) => {
  if (event.key !== "Escape") return;
  for (const menu of document.querySelectorAll("details.menu[open]")) {
    menu.open = false;
    menu.querySelector("summary")?.focus();
  }
});

// In the user menu, the arrow keys move between the items (and open the menu from its
// button), Home and End go to the first and last item.
const MENU_KEYS = new Set(["ArrowDown", "ArrowUp", "Home", "End"]);
document.addEventListener("keydown", (event) => {
  if (!MENU_KEYS.has(event.key) || !(event.target instanceof Element)) return;
  const menu = event.target.closest("details.menu");
  if (!menu) return;
  const items = [...menu.querySelectorAll(".menu-list a, .menu-list button")];
  if (!items.length) return;
  event.preventDefault();
  menu.open = true;
  const current = items.indexOf(event.target);
  const last = items.length - 1;
  const next = {
    ArrowDown: current < 0 || current === last ? 0 : current + 1,
    ArrowUp: current <= 0 ? last : current - 1,
    Home: 0,
    End: last,
  }[event.key];
  items[next].focus();
});

// An open menu closes when focus or a click goes elsewhere, as people expect of menus.
document.addEventListener("focusin", (event) => closeMenusOutside(event.target));
document.addEventListener("click", (event) => closeMenusOutside(event.target));

function closeMenusOutside(target) {
  for (const menu of document.querySelectorAll("details.menu[open]")) {
    if (!(target instanceof Node) || !menu.contains(target)) menu.open = false;
  }
}

// A table wider than the screen scrolls inside its .table-wrap. Keyboard users must be
// able to scroll it too, so an overflowing wrapper becomes a focusable region named
// after the table's caption; a wrapper that fits stays out of the tab order.
let captionCount = 0;
function focusableScrollRegions(root) {
  for (const wrap of root.querySelectorAll(".table-wrap")) {
    if (wrap.scrollWidth <= wrap.clientWidth) {
      if (wrap.dataset.scrollRegion) {
        wrap.removeAttribute("tabindex");
        delete wrap.dataset.scrollRegion;
      }
      continue;
    }
    if (wrap.hasAttribute("tabindex")) continue;
    wrap.tabIndex = 0;
    wrap.dataset.scrollRegion = "1";
    const caption = wrap.querySelector("caption");
    if (caption) {
      caption.id ||= `table-caption-${++captionCount}`;
      wrap.setAttribute("role", "region");
      wrap.setAttribute("aria-labelledby", caption.id);
    }
  }
}
focusableScrollRegions(document);
document.addEventListener("htmx:afterSettle", (event) => focusableScrollRegions(event.target));
window.addEventListener("resize", () => focusableScrollRegions(document));

// "/" jumps to the search box, as in most suites, unless the user is typing.
document.addEventListener("keydown", (event) => {
  if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey) return;
  const target = event.target;
  if (target instanceof HTMLElement && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName))) return;
  const search = document.getElementById("global-search");
  if (search) {
    event.preventDefault();
    search.focus();
  }
});

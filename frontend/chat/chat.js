// The chat made live. The pages work without this file (forms that post); with it, one
// WebSocket to /chat/live (the live server's port, the session cookie) brings messages, edits,
// reactions, pins, typing and presence as they happen, and the composer sends over it.
//
// Safety: a message's HTML is the server's sanitised `html` field, the only value ever
// put into the page as HTML; every other value (names, topics, emoji, counts) is text.
// Words come translated from the page (data-l-* attributes of #chat).

const BLANK = "00000000-0000-0000-0000-000000000000";
const TYPING_EVERY = 2000;
const TYPING_SHOWN = 5000;
const ANNOUNCE_AFTER = 1500;

const root = document.getElementById("chat");
if (root) start(root);

function start(root) {
  const me = root.dataset.chatMe;
  const pane = document.getElementById("chat-channel");
  const current = pane ? pane.dataset.chatChannel : null;
  const list = document.getElementById("chat-messages");
  const announcer = document.getElementById("chat-announce");
  const banner = document.getElementById("chat-connection");
  const lang = document.documentElement.lang || undefined;
  const csrf = () => document.body.dataset.csrf || "";
  const can = (what) => Boolean(pane && pane.dataset[what]);

  // A translated word, its {placeholders} filled with text.
  const word = (key, values = {}) =>
    (root.dataset[key] || "").replace(/\{(\w+)\}/g, (whole, name) => (name in values ? String(values[name]) : whole));

  let socket = null;
  let lastSeq = 0;
  let retries = 0;
  let lastRead = 0;
  let lastTyping = 0;
  let state = localStorage.getItem("chat-state") || "online";
  const pending = new Map(); // client_id -> {box, text}
  const typers = new Map(); // user id -> until (ms)
  const names = new Map(); // user id -> name, from what the page shows
  const counted = new Set(); // replies already counted beside their thread's first message

  for (const element of root.querySelectorAll("[data-chat-js]")) element.hidden = false;

  // --- names, dates, presence --------------------------------------------------------

  function learnNames(scope) {
    for (const item of scope.querySelectorAll(".chat-people li")) {
      const dot = item.querySelector("[data-user]");
      if (dot) names.set(dot.dataset.user, item.textContent.trim());
    }
    for (const message of scope.querySelectorAll(".chat-message[data-author]")) {
      const author = message.querySelector(".chat-author");
      if (message.dataset.author && author) names.set(message.dataset.author, author.textContent.trim());
    }
  }

  function localDates(scope) {
    const today = new Date().toDateString();
    for (const time of scope.querySelectorAll("time[datetime]")) {
      const moment = new Date(time.getAttribute("datetime"));
      if (Number.isNaN(moment.getTime())) continue;
      const options = moment.toDateString() === today ? { timeStyle: "short" } : { dateStyle: "medium", timeStyle: "short" };
      time.textContent = new Intl.DateTimeFormat(lang, options).format(moment);
      time.title = new Intl.DateTimeFormat(lang, { dateStyle: "full", timeStyle: "short" }).format(moment);
    }
  }

  const STATE_WORDS = { online: "lOnline", away: "lAway", dnd: "lDnd", offline: "lOffline" };

  function showPresence(states) {
    for (const [user, value] of Object.entries(states)) {
      for (const dot of root.querySelectorAll(`.chat-presence[data-user="${CSS.escape(user)}"]`)) {
        dot.dataset.state = value;
        const label = dot.querySelector(".visually-hidden");
        if (label) label.textContent = `(${word(STATE_WORDS[value] || "lOffline")})`;
      }
    }
  }

  function watchPeople() {
    const users = new Set();
    for (const dot of root.querySelectorAll(".chat-presence[data-user]")) {
      if (dot.dataset.user && dot.dataset.user !== BLANK && !dot.closest("template")) users.add(dot.dataset.user);
    }
    if (users.size) send({ type: "watch", users: [...users].slice(0, 500) });
  }

  // --- the socket ----------------------------------------------------------------------

  function send(frame) {
    if (!socket || socket.readyState !== WebSocket.OPEN) return false;
    socket.send(JSON.stringify(frame));
    return true;
  }

  function connect() {
    // The live server's own port, or behind a proxy this host (data-chat-live: the full URL).
    const after = lastSeq ? `?after=${lastSeq}` : "";
    socket = new WebSocket(`${root.dataset.chatLive}${after}`);
    socket.addEventListener("open", () => {
      retries = 0;
      banner.hidden = true;
      banner.textContent = "";
      if (state !== "online") send({ type: "state", state });
      watchPeople();
      markRead();
    });
    socket.addEventListener("message", (event) => {
      let frame;
      try {
        frame = JSON.parse(event.data);
      } catch {
        return;
      }
      if (frame && typeof frame.type === "string") handle(frame);
    });
    socket.addEventListener("close", (event) => {
      socket = null;
      if (event.code === 4401) {
        window.location.reload(); // signed out: the page says so
        return;
      }
      banner.textContent = word("lReconnecting");
      banner.hidden = false;
      const delay = Math.min(30000, 500 * 2 ** retries++) + Math.random() * 500;
      window.setTimeout(connect, delay);
    });
  }

  function handle(frame) {
    if (typeof frame.seq === "number") lastSeq = Math.max(lastSeq, frame.seq);
    switch (frame.type) {
      case "hello":
        if (!lastSeq) lastSeq = frame.head || 0;
        break;
      case "reset":
        window.location.reload();
        break;
      case "message":
        arrived(frame.message);
        break;
      case "posted":
        pending.delete(frame.ref);
        arrived(frame.message);
        break;
      case "edited":
      case "deleted":
      case "reactions":
      case "pinned":
        changed(frame.message);
        break;
      case "read":
        if (frame.channel) setUnread(frame.channel, 0);
        break;
      case "joined":
      case "left":
        if (!frame.users) refreshSidebar(); // the person's own list changed
        break;
      case "channel":
        if (frame.channel === current && typeof frame.topic === "string") {
          const topic = document.getElementById("chat-topic");
          if (topic) {
            topic.textContent = frame.topic;
            topic.hidden = !frame.topic;
          }
        }
        if (typeof frame.name === "string" || "archived" in frame) refreshSidebar();
        break;
      case "typing":
        if (frame.channel === current && frame.user !== me) {
          typers.set(frame.user, Date.now() + TYPING_SHOWN);
          showTyping();
        }
        break;
      case "presence":
        showPresence(frame.states || {});
        break;
      case "error":
        failed(frame);
        break;
      default:
        break;
    }
  }

  // --- messages --------------------------------------------------------------------------

  function threadList() {
    const aside = document.getElementById("chat-thread");
    return aside && !aside.hidden ? aside : null;
  }

  function findAll(id) {
    return root.querySelectorAll(`.chat-message[data-id="${CSS.escape(id)}"]`);
  }

  function atBottom(scroller) {
    return scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 48;
  }

  function insert(container, message, inThread) {
    if (container.querySelector(`.chat-message[data-id="${CSS.escape(message.id)}"]`)) return false;
    const item = build(message, inThread);
    const later = [...container.querySelectorAll(":scope > .chat-message")].find(
      (other) => Number(other.dataset.seq) > message.seq,
    );
    const follow = atBottom(container) || message.author === me;
    container.insertBefore(item, later || null);
    if (follow) container.scrollTop = container.scrollHeight;
    return true;
  }

  function arrived(message) {
    if (!message) return;
    if (message.author && message.author_name) names.set(message.author, message.author_name);
    typers.delete(message.author);
    showTyping();
    if (message.channel === current && list) {
      let added = false;
      if (message.thread) {
        const aside = threadList();
        if (aside && aside.dataset.chatThread === message.thread) {
          added = insert(document.getElementById("chat-thread-messages"), message, true);
        }
        if (!counted.has(message.id)) bumpReplies(message.thread);
        counted.add(message.id);
      } else {
        added = insert(list, message, false);
        document.getElementById("chat-empty")?.remove();
      }
      if (added && message.author && !names.has(`watched:${message.author}`)) {
        names.set(`watched:${message.author}`, "1");
        send({ type: "watch", users: [message.author] });
      }
      if (added && message.author !== me && !message.thread) {
        if (document.visibilityState === "visible") markRead();
        else setUnread(current, 1, true);
      }
      if (added && message.author !== me) announce(current, pane.dataset.chatTitle, message.author_name);
      return;
    }
    if (message.thread || message.author === me) return;
    const link = root.querySelector(`[data-chat-link="${CSS.escape(message.channel)}"]`);
    if (!link) {
      refreshSidebar(); // a conversation this page does not list yet
      return;
    }
    setUnread(message.channel, 1, true);
    if (!link.classList.contains("chat-link-muted")) {
      announce(message.channel, link.dataset.chatTitle, message.author_name);
    }
  }

  function changed(message) {
    if (!message) return;
    for (const item of findAll(message.id)) fill(item, message);
  }

  function build(message, inThread) {
    const template = document.getElementById(inThread ? "chat-reply-template" : "chat-message-template");
    const item = template.content.firstElementChild.cloneNode(true);
    for (const element of [item, ...item.querySelectorAll("*")]) {
      for (const attribute of [...element.attributes]) {
        if (attribute.value.includes(BLANK)) attribute.value = attribute.value.replaceAll(BLANK, message.id);
      }
    }
    item.dataset.seq = String(message.seq);
    item.dataset.author = message.author || "";
    if (message.thread) item.dataset.thread = message.thread;
    const dot = item.querySelector(".chat-presence");
    if (dot && message.author) dot.dataset.user = message.author;
    else dot?.remove();
    const name = message.author_name || word("lFormerMember");
    for (const holder of item.querySelectorAll(".chat-author, .chat-actions summary .visually-hidden")) {
      holder.textContent = holder.textContent.replace("{name}", name);
    }
    const time = item.querySelector(".chat-time");
    time.href = `/chat/${message.channel}${message.thread ? `?thread=${message.thread}` : ""}#m-${message.id}`;
    time.querySelector("time").setAttribute("datetime", message.created_at);
    localDates(item);
    const mine = message.author === me;
    const allowed = {
      reply: can("canPost") && !message.thread,
      react: can("canReact"),
      pin: can("canPost"),
      edit: mine && can("canPost"),
      delete: (mine && can("canPost")) || can("canManage"),
    };
    for (const control of item.querySelectorAll("[data-control]")) {
      if (!allowed[control.dataset.control]) control.remove();
    }
    const menu = item.querySelector(".chat-actions");
    if (menu && !menu.querySelector("[data-control]")) menu.remove();
    fill(item, message);
    return item;
  }

  function fill(item, message) {
    const body = item.querySelector(".chat-body");
    if (message.deleted) {
      item.classList.add("chat-message-deleted");
      const gone = document.createElement("p");
      gone.className = "chat-deleted";
      gone.textContent = word("lDeleted");
      body.replaceChildren(gone);
      item.querySelector(".chat-actions")?.remove();
    } else {
      body.innerHTML = message.html; // the server's sanitised HTML (nh3), and nothing else
    }
    item.querySelector(".chat-edited").hidden = !message.edited_at;
    item.querySelector(".chat-pinned-mark").hidden = !message.pinned;
    const pin = item.querySelector('form[data-chat-call="pin"]');
    if (pin) {
      pin.elements.pinned.value = message.pinned ? "0" : "1";
      pin.querySelector("button").textContent = word(message.pinned ? "lUnpin" : "lPin");
    }
    fillFiles(item, message);
    fillReactions(item, message);
    const replies = item.querySelector(".chat-replies");
    if (replies && typeof message.reply_count === "number") showReplies(replies, message.reply_count);
  }

  // A message's files, built as text and attributes (a name is never HTML).
  function fillFiles(item, message) {
    const holder = item.querySelector(".chat-files");
    if (!holder) return;
    const files = message.deleted ? [] : message.attachments || [];
    holder.replaceChildren(
      ...files.map((file) => {
        const entry = document.createElement("li");
        entry.className = "chat-file";
        const link = document.createElement("a");
        link.href = `/chat/files/${file.id}`;
        link.download = "";
        if (file.preview) {
          const picture = document.createElement("img");
          picture.src = `/chat/files/${file.id}/preview`;
          picture.alt = "";
          picture.loading = "lazy";
          link.append(picture);
        }
        const name = document.createElement("span");
        name.className = "chat-file-name";
        name.textContent = file.name;
        const size = document.createElement("span");
        size.className = "chat-file-size";
        size.textContent = humanSize(file.size);
        link.append(name, " ", size);
        entry.append(link);
        if (root.dataset.chatDrive) entry.append(saveForm(file, item));
        return entry;
      }),
    );
    holder.hidden = files.length === 0;
  }

  // A form that posts to `action` with the CSRF token and these hidden fields.
  function postForm(action, fields) {
    const form = document.createElement("form");
    form.method = "post";
    form.action = action;
    for (const [name, value] of [["csrf_token", csrf()], ...fields]) {
      const input = document.createElement("input");
      input.type = "hidden";
      input.name = name;
      input.value = value;
      form.append(input);
    }
    return form;
  }

  // The "save to my drive" form the page draws beside a file, for a file that came live.
  function saveForm(file, item) {
    const form = postForm(`/chat/files/${file.id}/drive`, [
      ["next", item.querySelector(".chat-time")?.getAttribute("href") || location.pathname],
    ]);
    form.className = "chat-file-save";
    const button = document.createElement("button");
    button.type = "submit";
    button.className = "link-button";
    const hidden = document.createElement("span");
    hidden.className = "visually-hidden";
    hidden.textContent = ` : ${file.name}`;
    button.append(word("lSaveToDrive"), hidden);
    form.append(button);
    return form;
  }

  function humanSize(bytes) {
    const units = ["byte", "kilobyte", "megabyte", "gigabyte"];
    let value = bytes;
    let unit = 0;
    while (value >= 1024 && unit < units.length - 1) {
      value /= 1024;
      unit += 1;
    }
    const style = unit === 0 ? { style: "unit", unit: "byte", unitDisplay: "long" } : { style: "unit", unit: units[unit] };
    return new Intl.NumberFormat(lang, { ...style, maximumFractionDigits: 1 }).format(value);
  }

  function fillReactions(item, message) {
    const holder = item.querySelector(".chat-reactions");
    const focused = holder.contains(document.activeElement) ? document.activeElement.closest("form") : null;
    const focusedEmoji = focused ? focused.elements.emoji.value : null;
    const entries = message.deleted ? [] : Object.entries(message.reactions || {});
    const fresh = entries.map(([emoji, users]) => {
      const mine = users.includes(me);
      const entry = document.createElement("li");
      const form = postForm(`/chat/messages/${message.id}/react`, [
        ["emoji", emoji],
        ["on", mine ? "0" : "1"],
      ]);
      form.dataset.chatCall = "react";
      const button = document.createElement("button");
      button.type = "submit";
      button.className = "chat-reaction";
      button.setAttribute("aria-pressed", String(mine));
      button.disabled = !can("canReact");
      const count = document.createElement("span");
      count.className = "chat-reaction-count";
      count.textContent = String(users.length);
      button.append(`${emoji} `, count);
      form.append(button);
      entry.append(form);
      return entry;
    });
    holder.replaceChildren(...fresh);
    holder.hidden = fresh.length === 0;
    if (focusedEmoji !== null) {
      const again = [...holder.querySelectorAll("form")].find((form) => form.elements.emoji.value === focusedEmoji);
      (again ? again.querySelector("button") : holder.closest(".chat-message").querySelector(".chat-time")).focus();
    }
  }

  function showReplies(replies, count) {
    replies.dataset.count = String(count);
    replies.hidden = count === 0;
    replies.querySelector("a").textContent = count === 1 ? word("lReplyOne") : word("lReplyMany", { n: count });
  }

  function bumpReplies(rootId) {
    const item = list.querySelector(`.chat-message[data-id="${CSS.escape(rootId)}"]`);
    const replies = item?.querySelector(".chat-replies");
    if (!replies) return;
    const known = replies.dataset.count ? Number(replies.dataset.count) : Number(/\d+/.exec(replies.textContent)?.[0] || 0);
    showReplies(replies, replies.hidden ? 1 : known + 1);
  }

  // --- unread counts, read markers, announcements ---------------------------------------

  function setUnread(channel, count, add = false) {
    const link = root.querySelector(`[data-chat-link="${CSS.escape(channel)}"]`);
    if (!link) return;
    const badge = link.querySelector("[data-chat-unread]");
    const number = badge.querySelector("[data-count]");
    const total = add ? Number(number.textContent || 0) + count : count;
    number.textContent = String(total);
    badge.hidden = total === 0;
    link.classList.toggle("chat-link-unread", total > 0 && !link.classList.contains("chat-link-muted"));
  }

  function markRead() {
    if (!current || !list || document.visibilityState !== "visible") return;
    const seqs = [...list.querySelectorAll(":scope > .chat-message")].map((item) => Number(item.dataset.seq));
    const newest = Math.max(0, ...seqs);
    if (newest > lastRead && send({ type: "read", channel: current, seq: newest })) {
      lastRead = newest;
      setUnread(current, 0);
    }
  }

  document.addEventListener("visibilitychange", markRead);

  const waiting = new Map(); // channel -> {count, name, title}
  let announceTimer = 0;

  function announce(channel, title, name) {
    const entry = waiting.get(channel) || { count: 0 };
    entry.count += 1;
    entry.name = name || word("lSomeone");
    entry.title = title;
    waiting.set(channel, entry);
    if (!announceTimer) announceTimer = window.setTimeout(flushAnnouncements, ANNOUNCE_AFTER);
  }

  function flushAnnouncements() {
    announceTimer = 0;
    const lines = [...waiting.values()].map((entry) =>
      entry.count === 1
        ? word("lNewOne", { name: entry.name, channel: entry.title })
        : word("lNewMany", { n: entry.count, channel: entry.title }),
    );
    waiting.clear();
    announcer.textContent = lines.join(" ");
  }

  // --- typing ------------------------------------------------------------------------------

  function showTyping() {
    const line = document.getElementById("chat-typing");
    if (!line) return;
    const now = Date.now();
    for (const [user, until] of typers) if (until < now) typers.delete(user);
    const who = [...typers.keys()];
    line.textContent =
      who.length === 0
        ? ""
        : who.length === 1
          ? word("lTypingOne", { name: names.get(who[0]) || word("lSomeone") })
          : word("lTypingMany");
  }
  window.setInterval(() => typers.size && showTyping(), 1000);

  function typing(channel) {
    const now = Date.now();
    if (now - lastTyping < TYPING_EVERY) return;
    lastTyping = now;
    send({ type: "typing", channel });
  }

  // --- the composer --------------------------------------------------------------------------

  function clientId() {
    return window.crypto?.randomUUID ? window.crypto.randomUUID() : `${Date.now()}-${Math.random().toString(16).slice(2)}`;
  }

  // The chosen files, uploaded one by one through the API; their ids, or null when one
  // was refused (the reason is said, the files stay chosen).
  async function uploadFiles(form, channel) {
    const picker = form.querySelector('input[type="file"]');
    const chosen = picker ? [...picker.files] : [];
    const ids = [];
    for (const file of chosen) {
      const answer = await fetch(`/api/v1/chat/channels/${channel}/files?name=${encodeURIComponent(file.name)}`, {
        method: "POST",
        credentials: "same-origin",
        headers: {
          Accept: "application/json",
          "Content-Type": file.type || "application/octet-stream",
          "X-CSRF-Token": csrf(),
        },
        body: file,
      });
      if (!answer.ok) {
        failed({ error: `${file.name}: ${await reason(answer)}` });
        return null;
      }
      ids.push((await answer.json()).id);
    }
    if (picker) picker.value = "";
    return ids;
  }

  async function compose(form) {
    const box = form.querySelector("textarea");
    const text = box.value.trim();
    const picker = form.querySelector('input[type="file"]');
    const withFiles = Boolean(picker && picker.files.length);
    if (!text && !withFiles) return;
    const channel = form.dataset.channel;
    const thread = form.dataset.thread || null;
    const attachments = withFiles ? await uploadFiles(form, channel) : [];
    if (attachments === null) return;
    const id = clientId();
    box.value = "";
    lastTyping = 0;
    const frame = { type: "post", channel, text, client_id: id, ref: id, attachments };
    if (thread) frame.thread = thread;
    if (send(frame)) {
      pending.set(id, { box, text });
      return;
    }
    const answer = await fetch(`/api/v1/chat/channels/${channel}/messages`, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRF-Token": csrf() },
      body: JSON.stringify({ text, thread, client_id: id, attachments }),
    });
    if (answer.ok) {
      arrived(await answer.json());
    } else {
      box.value = text;
      failed({ error: await reason(answer) });
    }
  }

  async function reason(answer) {
    try {
      return (await answer.json()).error || answer.statusText;
    } catch {
      return answer.statusText;
    }
  }

  function failed(frame) {
    const waitingPost = frame.ref ? pending.get(frame.ref) : null;
    if (frame.ref && !waitingPost) return;
    if (waitingPost) {
      pending.delete(frame.ref);
      if (!waitingPost.box.value) waitingPost.box.value = waitingPost.text;
    }
    banner.textContent = word("lFailed", { error: frame.error || "" });
    banner.hidden = false;
  }

  root.addEventListener("submit", (event) => {
    const form = event.target;
    if (form.matches("[data-chat-composer]")) {
      event.preventDefault();
      compose(form);
    } else if (form.matches("[data-chat-call]")) {
      event.preventDefault();
      call(form);
    }
  });

  root.addEventListener("keydown", (event) => {
    const box = event.target;
    if (!(box instanceof HTMLTextAreaElement) || !box.closest("[data-chat-composer]")) return;
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing && !event.defaultPrevented) {
      event.preventDefault();
      compose(box.closest("form"));
    }
  });

  root.addEventListener("input", (event) => {
    const box = event.target;
    if (box instanceof HTMLTextAreaElement && box.closest("[data-chat-composer]") && box.value.trim()) {
      typing(box.closest("form").dataset.channel);
    }
  });

  // --- reactions, pins, deletions through the API ------------------------------------------

  async function call(form) {
    const id = /\/messages\/([0-9a-f-]{36})\//.exec(form.getAttribute("action"))?.[1];
    if (!id) return;
    let method;
    let url = `/api/v1/chat/messages/${id}`;
    const kind = form.dataset.chatCall;
    if (kind === "react") {
      method = form.elements.on.value === "0" ? "DELETE" : "PUT";
      url += `/reactions/${encodeURIComponent(form.elements.emoji.value)}`;
    } else if (kind === "pin") {
      method = form.elements.pinned.value === "0" ? "DELETE" : "PUT";
      url += "/pin";
    } else if (kind === "delete") {
      if (!window.confirm(word("lConfirmDelete"))) return;
      method = "DELETE";
    } else {
      return;
    }
    const menu = form.closest("details.chat-actions");
    const answer = await fetch(url, {
      method,
      credentials: "same-origin",
      headers: { Accept: "application/json", "X-CSRF-Token": csrf() },
    });
    if (menu?.open) {
      menu.open = false;
      menu.querySelector("summary").focus();
    }
    if (!answer.ok) {
      failed({ error: await reason(answer) });
    } else if (answer.status !== 204) {
      changed(await answer.json());
    } else if (kind === "delete") {
      for (const item of findAll(id)) fill(item, { id, deleted: true, reactions: {} });
    }
  }

  // --- editing in place: the message's Edit, or Up in an empty composer for one's last ----

  root.addEventListener("click", (event) => {
    const link = event.target.closest('a[data-control="edit"]');
    if (!link || event.ctrlKey || event.metaKey || event.shiftKey) return;
    event.preventDefault();
    link.closest("details")?.removeAttribute("open");
    startEdit(link.closest(".chat-message"));
  });

  root.addEventListener("keydown", (event) => {
    const box = event.target;
    if (event.key !== "ArrowUp" || !(box instanceof HTMLTextAreaElement) || box.value) return;
    const form = box.closest("[data-chat-composer]");
    if (!form) return;
    const scope = form.dataset.thread ? document.getElementById("chat-thread-messages") : list;
    const mine = [...scope.querySelectorAll(":scope > .chat-message")].filter(
      (item) => item.dataset.author === me && item.querySelector('[data-control="edit"]'),
    );
    if (!mine.length) return;
    event.preventDefault();
    startEdit(mine[mine.length - 1]);
  });

  async function startEdit(item) {
    if (!item || item.querySelector(".chat-edit")) return;
    const id = item.dataset.id;
    const answer = await fetch(`/api/v1/chat/messages/${id}`, {
      headers: { Accept: "application/json" },
      credentials: "same-origin",
    });
    if (!answer.ok) {
      failed({ error: await reason(answer) });
      return;
    }
    const body = item.querySelector(".chat-body");
    const form = document.createElement("form");
    form.className = "chat-edit";
    const label = document.createElement("label");
    label.className = "visually-hidden";
    label.htmlFor = `chat-edit-${id}`;
    label.textContent = word("lEditLabel");
    const box = document.createElement("textarea");
    box.id = label.htmlFor;
    box.rows = 3;
    box.maxLength = 10000;
    box.required = true;
    box.value = (await answer.json()).text;
    const save = document.createElement("button");
    save.type = "submit";
    save.className = "button button-primary";
    save.textContent = word("lSave");
    const cancel = document.createElement("button");
    cancel.type = "button";
    cancel.className = "button";
    cancel.textContent = word("lCancel");
    const buttons = document.createElement("div");
    buttons.className = "page-actions";
    buttons.append(save, cancel);
    form.append(label, box, buttons);
    body.hidden = true;
    body.after(form);
    box.focus();
    box.selectionStart = box.selectionEnd = box.value.length;
    const stop = () => {
      form.remove();
      body.hidden = false;
      item.querySelector(".chat-time").focus();
    };
    cancel.addEventListener("click", stop);
    box.addEventListener("keydown", (event) => {
      if (event.key === "Escape") {
        event.preventDefault();
        event.stopPropagation();
        stop();
      } else if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        form.requestSubmit();
      }
    });
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      event.stopPropagation();
      const sent = await fetch(`/api/v1/chat/messages/${id}`, {
        method: "PATCH",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRF-Token": csrf() },
        body: JSON.stringify({ text: box.value }),
      });
      if (!sent.ok) {
        failed({ error: await reason(sent) });
        return;
      }
      stop();
      changed(await sent.json());
    });
  }

  // --- the thread beside the conversation, older messages -----------------------------------

  root.addEventListener("click", (event) => {
    const link = event.target.closest("a[data-chat-thread-link], a[data-chat-thread-close]");
    if (!link || event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) return;
    event.preventDefault();
    link.closest("details")?.removeAttribute("open");
    openThread(link.getAttribute("href"), "chatThreadClose" in link.dataset);
  });

  async function openThread(href, closing) {
    await window.htmx.ajax("GET", href, { target: "#chat-thread", select: "#chat-thread", swap: "outerHTML" });
    window.history.pushState(null, "", href);
    const aside = document.getElementById("chat-thread");
    localDates(aside);
    learnNames(aside);
    watchPeople();
    if (closing) document.getElementById("chat-text")?.focus();
    else document.getElementById("chat-thread-title")?.focus();
  }

  window.addEventListener("popstate", () => window.location.reload());

  // An opened message menu is brought into view inside the scrolling list.
  root.addEventListener(
    "toggle",
    (event) => {
      const menu = event.target;
      if (menu instanceof HTMLDetailsElement && menu.open && menu.matches(".chat-actions")) {
        menu.querySelector(".menu-list")?.scrollIntoView({ block: "nearest" });
      }
    },
    true,
  );

  function watchOlder() {
    const loader = document.getElementById("chat-older");
    if (!loader || !list) return;
    const link = loader.querySelector("a");
    let observer = null;
    const load = async (event) => {
      event?.preventDefault();
      if (loader.dataset.loading) return;
      loader.dataset.loading = "1";
      observer?.disconnect();
      const byKeyboard = document.activeElement === link;
      const height = list.scrollHeight;
      const top = list.scrollTop;
      await window.htmx.ajax("GET", link.dataset.chatOlder, { target: loader, swap: "outerHTML" });
      list.scrollTop = top + (list.scrollHeight - height);
      localDates(list);
      learnNames(list);
      watchPeople();
      watchOlder();
      if (byKeyboard) (document.querySelector("#chat-older a") || list.querySelector(".chat-time"))?.focus();
    };
    link.addEventListener("click", load);
    observer = new IntersectionObserver((entries) => entries.some((e) => e.isIntersecting) && load(), { root: list });
    observer.observe(loader);
  }

  // --- the sidebar, the status ------------------------------------------------------------------

  let refreshing = null;
  function refreshSidebar() {
    if (refreshing) return;
    refreshing = window.htmx
      .ajax("GET", window.location.pathname, { target: "#chat-lists", select: "#chat-lists", swap: "outerHTML" })
      .then(() => watchPeople())
      .finally(() => {
        refreshing = null;
      });
  }

  const chooser = document.getElementById("chat-state");
  if (chooser) {
    chooser.value = state;
    chooser.addEventListener("change", () => {
      state = chooser.value;
      localStorage.setItem("chat-state", state);
      send({ type: "state", state });
    });
  }

  // --- completion of people: @mentions in the composer, addresses in the forms ---------
  // The ARIA listbox pattern under the field; the field keeps the focus and points at the
  // highlighted option (aria-activedescendant).

  const mention = {
    label: "lMentions",
    find: (box) => /(^|[\s(])@([\w.+-]{1,60})$/.exec(box.value.slice(0, box.selectionStart))?.[2] || "",
    write(box, query, handle) {
      const end = box.selectionStart;
      const start = end - query.length - 1;
      const written = `@${handle} `;
      box.value = box.value.slice(0, start) + written + box.value.slice(end);
      box.selectionStart = box.selectionEnd = start + written.length;
    },
  };
  const address = {
    label: "lPeopleFound",
    find: (input) => {
      const last = input.value.split(",").pop().trim();
      return last.length >= 2 ? last : "";
    },
    write(input, _query, handle) {
      const kept = input.value.split(",").slice(0, -1).map((part) => part.trim()).filter(Boolean);
      input.value = `${[...kept, handle].join(", ")}, `;
    },
  };

  root.addEventListener("focusin", (event) => {
    const field = event.target;
    if (field instanceof HTMLTextAreaElement && field.dataset.chatPeople) complete(field, field.dataset.chatPeople, mention);
    if (field instanceof HTMLInputElement && field.dataset.chatAddresses) complete(field, field.dataset.chatAddresses, address);
  });

  function complete(field, source, how) {
    if (field.dataset.chatCompletes) return;
    field.dataset.chatCompletes = "1";
    const options = document.createElement("ul");
    options.id = `${field.id}-people`;
    options.className = "chat-suggestions";
    options.setAttribute("role", "listbox");
    options.setAttribute("aria-label", word(how.label));
    options.hidden = true;
    field.after(options);
    field.setAttribute("aria-controls", options.id);
    let active = -1;
    let timer = 0;
    let asked = "";

    const found = () => [...options.querySelectorAll('[role="option"]')];
    const close = () => {
      options.hidden = true;
      options.replaceChildren();
      active = -1;
      field.removeAttribute("aria-activedescendant");
    };
    const highlight = (index) => {
      const all = found();
      active = (index + all.length) % all.length;
      all.forEach((option, i) => option.setAttribute("aria-selected", String(i === active)));
      field.setAttribute("aria-activedescendant", all[active].id);
    };
    const pick = (option) => {
      how.write(field, how.find(field), option.dataset.handle);
      close();
      field.focus();
    };
    const show = (people) => {
      close();
      people.forEach((person, i) => {
        const option = document.createElement("li");
        option.id = `${options.id}-${i}`;
        option.setAttribute("role", "option");
        option.setAttribute("aria-selected", "false");
        option.dataset.handle = person.handle;
        option.textContent = `${person.name} (${person.handle})`;
        option.addEventListener("mousedown", (event) => {
          event.preventDefault();
          pick(option);
        });
        options.append(option);
      });
      if (people.length) {
        options.hidden = false;
        highlight(0);
      }
    };

    field.addEventListener("input", () => {
      window.clearTimeout(timer);
      const query = how.find(field);
      if (!query) {
        close();
        return;
      }
      timer = window.setTimeout(async () => {
        asked = query;
        const answer = await fetch(`${source}?q=${encodeURIComponent(query)}`, {
          headers: { Accept: "application/json" },
          credentials: "same-origin",
        });
        if (answer.ok && asked === how.find(field)) show(await answer.json());
      }, 150);
    });
    field.addEventListener("keydown", (event) => {
      if (options.hidden) return;
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        highlight(active + (event.key === "ArrowDown" ? 1 : -1));
      } else if ((event.key === "Enter" || event.key === "Tab") && active >= 0) {
        event.preventDefault();
        pick(found()[active]);
      } else if (event.key === "Escape") {
        event.preventDefault();
        event.stopPropagation();
        close();
      }
    });
    field.addEventListener("blur", close);
  }

  // --- on load ------------------------------------------------------------------------------------

  learnNames(root);
  localDates(root);
  if (list) {
    const target = window.location.hash && document.getElementById(window.location.hash.slice(1));
    if (target && list.contains(target)) target.scrollIntoView({ block: "center" });
    else list.scrollTop = list.scrollHeight;
    watchOlder();
  }
  connect();
}

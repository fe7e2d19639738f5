// Warden frontend: plain JavaScript, no build step. It talks to the Go facade only through
// window.go.app.API.<Method>(...), which Wails injects in the desktop window and /bridge.js
// defines in browser mode. Every call returns a Promise; a rejection carries a plain string.
// All data is inserted with textContent, never as HTML, because audit events are
// attacker-influenced text (names, messages, targets).
(function () {
  "use strict";

  var PAGE_SIZE = 50;
  var FAST_POLL_MS = 1000;
  var SLOW_POLL_MS = 5000;

  var state = {
    status: null,
    orgId: "",
    page: "",
    options: null,
    query: null,
    rows: [],
    next: "",
    selectedId: "",
    fastPollUntil: 0,
    wasRunning: {},
    lastSync: {}, // connector id -> last_sync seen, to notice syncs that ran between polls
    bannerKey: "",
    pollTimer: 0,
    doneHideTimer: 0
  };

  // ---- helpers ---------------------------------------------------------------------------

  function $(sel) { return document.querySelector(sel); }

  // el builds an element; attrs keys starting with "data-" or known attributes are set as
  // attributes, "text" sets textContent, "class" sets className, "on<event>" adds listeners.
  function el(tag, attrs) {
    var node = document.createElement(tag);
    var a = attrs || {};
    Object.keys(a).forEach(function (k) {
      var v = a[k];
      if (v === undefined || v === null || v === false) { return; }
      if (k === "text") { node.textContent = String(v); }
      else if (k === "class") { node.className = v; }
      else if (k.slice(0, 2) === "on") { node.addEventListener(k.slice(2), v); }
      else { node.setAttribute(k, v === true ? "" : String(v)); }
    });
    for (var i = 2; i < arguments.length; i++) { append(node, arguments[i]); }
    return node;
  }

  function append(node, child) {
    if (child === undefined || child === null || child === false) { return; }
    if (Array.isArray(child)) { child.forEach(function (c) { append(node, c); }); return; }
    node.appendChild(typeof child === "object" ? child : document.createTextNode(String(child)));
  }

  function clear(node) { while (node.firstChild) { node.removeChild(node.firstChild); } }

  function errText(e) {
    if (typeof e === "string") { return e; }
    if (e && e.message) { return e.message; }
    return String(e);
  }

  function api() { return window.go && window.go.app && window.go.app.API; }

  // call invokes a facade method and always returns a Promise.
  function call(method) {
    var args = Array.prototype.slice.call(arguments, 1);
    var a = api();
    if (!a || typeof a[method] !== "function") {
      return Promise.reject("The Warden backend is not available (" + method + " is missing).");
    }
    try {
      return Promise.resolve(a[method].apply(a, args));
    } catch (e) {
      return Promise.reject(e);
    }
  }

  function showBanner(key, context, e) {
    state.bannerKey = key;
    $("#banner-text").textContent = context + ": " + errText(e);
    $("#banner").hidden = false;
  }

  function clearBanner(key) {
    if (!key || state.bannerKey === key) {
      $("#banner").hidden = true;
      state.bannerKey = "";
    }
  }

  function pad(n) { return (n < 10 ? "0" : "") + n; }

  function parseTime(s) {
    if (!s) { return null; }
    var d = new Date(s);
    return isNaN(d.getTime()) || d.getUTCFullYear() < 1970 ? null : d;
  }

  function fmtLocal(d) {
    return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) + " " +
      pad(d.getHours()) + ":" + pad(d.getMinutes()) + ":" + pad(d.getSeconds());
  }

  function fmtUTC(d) {
    return d.getUTCFullYear() + "-" + pad(d.getUTCMonth() + 1) + "-" + pad(d.getUTCDate()) +
      " " + pad(d.getUTCHours()) + ":" + pad(d.getUTCMinutes()) + ":" +
      pad(d.getUTCSeconds()) + " UTC";
  }

  function fmtAgo(d) {
    var s = Math.round((Date.now() - d.getTime()) / 1000);
    if (s < 0) { return "in the future"; }
    if (s < 45) { return "just now"; }
    if (s < 90) { return "a minute ago"; }
    var m = Math.round(s / 60);
    if (m < 60) { return m + " min ago"; }
    var h = Math.round(m / 60);
    if (h < 36) { return h + " h ago"; }
    return Math.round(h / 24) + " days ago";
  }

  function fmtNum(n) { return (Number(n) || 0).toLocaleString("en-US"); }

  function fmtDuration(sec) {
    sec = Math.max(0, Math.round(sec));
    if (sec < 60) { return sec + " s"; }
    var m = Math.floor(sec / 60);
    if (m < 60) { return m + " min " + pad(sec % 60) + " s"; }
    return Math.floor(m / 60) + " h " + pad(m % 60) + " min";
  }

  function isoDate(d) {
    return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate());
  }

  function badge(kind, text, title) {
    return el("span", {class: "badge badge-" + kind, text: text, title: title});
  }

  function capitalize(s) { return s ? s.charAt(0).toUpperCase() + s.slice(1) : s; }

  function dash(v) { return v === undefined || v === null || v === "" ? "\u2014" : v; }

  // ---- status, header and sync progress --------------------------------------------------

  function connectors() { return (state.status && state.status.connectors) || []; }

  function currentConnector() {
    var list = connectors();
    for (var i = 0; i < list.length; i++) {
      if (list[i].org_id === state.orgId) { return list[i]; }
    }
    return null;
  }

  function refreshStatus() {
    return call("Status").then(function (st) {
      clearBanner("status");
      state.status = st || {connectors: []};
      var list = connectors();
      var orgChanged = false;
      if (!currentConnector() && list.length) {
        state.orgId = list[0].org_id;
        orgChanged = true;
      }
      if (!list.length) { state.orgId = ""; }
      renderHeader();
      renderProgress();
      if (state.page === "connectors") { renderConnectors(); }
      noticeFinishedSyncs(orgChanged);
      return st;
    }, function (e) {
      showBanner("status", "Cannot read Warden's status", e);
    });
  }

  // noticeFinishedSyncs reloads the visible data once a sync of the shown org ends, so new
  // events appear without a manual refresh. A sync can start and end between two polls, so
  // a changed last_sync counts as much as a running flag seen going off.
  function noticeFinishedSyncs(orgChanged) {
    var reload = orgChanged;
    connectors().forEach(function (c) {
      var running = !!(c.progress && c.progress.running);
      var shown = c.org_id === state.orgId;
      if (state.wasRunning[c.id] && !running && shown) { reload = true; }
      if (c.id in state.lastSync && state.lastSync[c.id] !== c.last_sync && shown) {
        reload = true;
      }
      state.wasRunning[c.id] = running;
      state.lastSync[c.id] = c.last_sync;
    });
    if (reload) { loadOrgData(); }
  }

  function schedulePoll() {
    clearTimeout(state.pollTimer);
    var running = connectors().some(function (c) { return c.progress && c.progress.running; });
    var fast = running || Date.now() < state.fastPollUntil;
    state.pollTimer = setTimeout(function () {
      refreshStatus().then(schedulePoll, schedulePoll);
    }, fast ? FAST_POLL_MS : SLOW_POLL_MS);
  }

  function watchSync() {
    state.fastPollUntil = Date.now() + 15000;
    refreshStatus().then(schedulePoll);
  }

  function renderHeader() {
    var sel = $("#org-select");
    var list = connectors();
    clear(sel);
    if (!list.length) {
      sel.appendChild(el("option", {value: "", text: "No organization connected"}));
    }
    list.forEach(function (c) {
      var label = c.org_name || connectorName(c);
      if (c.demo && !/demo/i.test(label)) { label += " (demo)"; }
      sel.appendChild(el("option", {value: c.org_id, text: label}));
    });
    sel.value = state.orgId;
    sel.disabled = list.length < 2;

    var cur = currentConnector();
    var demo = cur ? !!cur.demo : !!(state.status && state.status.demo);
    $("#demo-badge").hidden = !demo;

    var last = $("#last-sync");
    var d = cur && parseTime(cur.last_sync);
    last.textContent = d ? fmtAgo(d) : "never";
    last.title = d ? fmtLocal(d) + " local \u00b7 " + fmtUTC(d) : "";
    $("#sync-now").disabled = !cur || !!(cur.progress && cur.progress.running);

    var st = state.status || {};
    var foot = $("#nav-foot");
    clear(foot);
    if (st.version) { append(foot, el("div", {text: "Warden " + st.version})); }
    if (window.wardenBrowserMode) { append(foot, el("div", {text: "Browser mode"})); }
    if (st.data_dir) { append(foot, el("div", {text: st.data_dir, title: "Data directory"})); }

    var title = "Warden" + (cur ? " \u2014 " + (cur.org_name || connectorName(cur)) : "");
    if (window.runtime && window.runtime.WindowSetTitle) { window.runtime.WindowSetTitle(title); }
    else { document.title = title; }
  }

  var PHASES = {
    idle: "Waiting to sync",
    backfill: "Downloading audit log history",
    incremental: "Fetching new events",
    users: "Syncing users and domains",
    done: "Sync complete",
    error: "Sync failed"
  };

  function renderProgress() {
    var list = connectors();
    var running = list.filter(function (c) { return c.progress && c.progress.running; });
    var box = $("#sync-progress");
    var c = running[0];
    if (!c) {
      // Show how the last watched sync ended, for a while, instead of just vanishing.
      var cur = currentConnector();
      if (!cur || Date.now() >= state.fastPollUntil || !cur.progress ||
          (cur.progress.phase !== "done" && cur.progress.phase !== "error")) {
        if (box.getAttribute("data-running") === "true") {
          box.setAttribute("data-running", "false");
        }
        if (Date.now() >= state.fastPollUntil) { box.hidden = true; }
        return;
      }
      c = cur;
    }

    var p = c.progress || {};
    var phase = p.running ? (p.phase || "backfill") : (p.phase === "error" ? "error" : "done");
    box.hidden = false;
    box.setAttribute("data-running", p.running ? "true" : "false");
    box.setAttribute("data-phase", phase);
    box.className = "sync-progress" + (phase === "done" ? " done" : "") +
      (phase === "error" ? " failed" : "");
    $("#sync-phase").textContent = (PHASES[phase] || phase) + " \u2014 " +
      (c.org_name || c.name);

    var parts = [fmtNum(p.events) + " events"];
    if (p.added) { parts.push(fmtNum(p.added) + " new"); }
    parts.push(fmtNum(p.pages) + (p.pages === 1 ? " page" : " pages"));
    if (p.running && p.per_second > 0) { parts.push(p.per_second.toFixed(1) + " events/s"); }
    if (p.running && p.eta_seconds > 0) { parts.push("about " + fmtDuration(p.eta_seconds) +
      " left"); }
    $("#sync-stats").textContent = parts.join(" \u00b7 ");

    var bar = $("#sync-bar");
    if (!p.running) { bar.value = 1; }
    else if (p.fraction > 0) { bar.value = Math.min(1, p.fraction); }
    else { bar.removeAttribute("value"); }
    $("#sync-message").textContent = p.message || c.last_error || "";
  }

  function syncNow(id) {
    return call("SyncNow", id).then(watchSync, function (e) {
      showBanner("sync", "Cannot start the sync", e);
    });
  }

  // ---- navigation ------------------------------------------------------------------------

  function showPage(name) {
    if (["activity", "users", "connectors"].indexOf(name) < 0 && !ext.pages[name]) {
      name = "activity";
    }
    state.page = name;
    document.querySelectorAll(".page").forEach(function (p) {
      p.hidden = p.id !== "page-" + name;
    });
    document.querySelectorAll(".nav-item").forEach(function (a) {
      a.classList.toggle("active", a.getAttribute("data-page") === name);
    });
    if (name !== "activity") { closeDetail(); }
    if (name === "connectors") { renderConnectors(); }
    if (name === "users") { renderUsers(); }
    if (ext.pages[name]) { ext.pages[name](); }
  }

  function routeFromHash() { showPage((location.hash || "").replace(/^#/, "")); }

  // ---- filter options, activity log ------------------------------------------------------

  function loadOrgData() {
    state.options = null;
    fillFilterOptions();
    renderUsers();
    if (!state.orgId) {
      state.rows = [];
      state.next = "";
      renderEvents();
      return;
    }
    var org = state.orgId;
    call("FilterOptions", org).then(function (opts) {
      if (org !== state.orgId) { return; }
      state.options = opts || {};
      fillFilterOptions();
      renderUsers();
    }, function (e) {
      showBanner("options", "Cannot load the filter values", e);
    });
    runQuery(false);
  }

  function setOptions(sel, first, items) {
    var keep = sel.value;
    clear(sel);
    sel.appendChild(el("option", {value: "", text: first}));
    items.forEach(function (it) {
      sel.appendChild(el("option", {value: it.value, text: it.label, title: it.title}));
    });
    sel.value = keep;
    if (sel.value !== keep) { sel.value = ""; }
  }

  function fillFilterOptions() {
    var o = state.options || {};
    var actions = (o.actions || []).slice().sort(function (a, b) {
      return (a.display_name || a.key).localeCompare(b.display_name || b.key);
    });
    setOptions($("#filter-action"), "Any action", actions.map(function (a) {
      return {value: a.key, label: a.display_name || a.key, title: a.key};
    }));
    setOptions($("#filter-country"), "Any", (o.countries || []).map(function (c) {
      return {value: c, label: c};
    }));
    setOptions($("#filter-product"), "Any", (o.products || []).map(function (p) {
      return {value: p, label: p};
    }));
    var dl = $("#user-list");
    clear(dl);
    (o.users || []).forEach(function (u) {
      if (u.email) { dl.appendChild(el("option", {value: u.email, label: u.name})); }
    });
  }

  function readFilters() {
    return {
      org: state.orgId,
      range: $("#filter-range").value,
      user: $("#filter-user").value.trim(),
      action: $("#filter-action").value,
      ip: $("#filter-ip").value.trim(),
      country: $("#filter-country").value,
      product: $("#filter-product").value,
      limit: PAGE_SIZE
    };
  }

  // runQuery loads the first page for the filter bar, or the next page when more is true.
  function runQuery(more) {
    if (!state.orgId) { return Promise.resolve(); }
    var q = more && state.query ? Object.assign({}, state.query, {before: state.next})
      : readFilters();
    if (!more) { state.query = q; }
    var table = $("#events");
    table.setAttribute("data-loading", "true");
    $("#events-more").disabled = true;
    return call("QueryEvents", q).then(function (page) {
      if (q.org !== state.orgId) { return; }
      clearBanner("events");
      page = page || {};
      state.rows = more ? state.rows.concat(page.rows || []) : (page.rows || []);
      state.next = page.next || "";
      $("#events-took").textContent = page.took ? "Query took " + page.took : "";
      renderEvents();
    }, function (e) {
      showBanner("events", "Cannot load the activity log", e);
    }).then(function () {
      table.removeAttribute("data-loading");
      $("#events-more").disabled = false;
    });
  }

  var SEVERITY = {
    login_failed: "sev-warn",
    impersonation: "sev-bad",
    admin_action: "",
    data_export: "sev-warn",
    api_token_use: ""
  };

  function eventRow(r) {
    var d = parseTime(r.time);
    var user = r.actor_name || r.actor_email || r.actor_id || "Unknown actor";
    var sub = r.actor_name && r.actor_email ? r.actor_email : (r.actor_email ? "" : r.actor_id);
    var ipCell = r.ip_invalid
      ? el("span", {class: "ip-invalid", text: "invalid IP",
        title: "The audit log sent an IP address that does not parse"})
      : el("span", {class: "mono", text: dash(r.ip)});
    var loc = [r.city, r.country].filter(Boolean).join(", ");

    return el("tr", {"data-id": r.id, "data-action": r.action, "data-category": r.category,
      class: (SEVERITY[r.category] || "") + (r.id === state.selectedId ? " selected" : ""),
      tabindex: "0", onclick: function () { openDetail(r.id); },
      onkeydown: function (ev) { if (ev.key === "Enter") { openDetail(r.id); } }},
      el("td", {title: d ? fmtUTC(d) : r.time},
        el("span", {class: "cell-main", text: d ? fmtLocal(d) : dash(r.time)}),
        el("span", {class: "cell-sub", text: d ? fmtAgo(d) : ""})),
      el("td", {title: [user, r.actor_email, r.actor_id].filter(Boolean).join("\n")},
        el("span", {class: "cell-main", text: user}),
        el("span", {class: "cell-sub", text: sub})),
      el("td", {title: r.summary || r.action},
        el("span", {class: "cell-main"}, r.action_name || r.action,
          r.token ? [" ", badge("token", "API token", "The actor used an API token")] : null),
        el("span", {class: "cell-sub mono", text: r.action})),
      el("td", null, ipCell),
      el("td", {title: loc}, el("span", {class: "cell-main", text: dash(loc)})),
      el("td", null, el("span", {class: "cell-main", text: dash(r.product)})));
  }

  function renderEvents() {
    var tbody = $("#events tbody");
    clear(tbody);
    state.rows.forEach(function (r) { tbody.appendChild(eventRow(r)); });

    var empty = $("#events-empty");
    empty.hidden = state.rows.length > 0;
    clear(empty);
    if (!state.orgId) {
      append(empty, "No organization is connected yet. ",
        el("a", {href: "#connectors", text: "Add a connector"}),
        " to start syncing its audit log.");
    } else {
      empty.textContent = "No events match these filters. Try a longer time range or Reset.";
    }

    $("#events-more").hidden = !state.next;
    $("#events-count").textContent = state.rows.length
      ? "Showing " + fmtNum(state.rows.length) + (state.rows.length === 1 ? " event" :
        " events") + (state.next ? " (more available)" : "") + ", newest first" : "";
  }

  // ---- event detail ----------------------------------------------------------------------

  function openDetail(id) {
    state.selectedId = id;
    document.querySelectorAll("#events tbody tr").forEach(function (tr) {
      tr.classList.toggle("selected", tr.getAttribute("data-id") === id);
    });
    var drawer = $("#event-detail");
    drawer.hidden = false;
    drawer.setAttribute("data-id", id);
    drawer.setAttribute("data-loading", "true");
    $("#detail-title").textContent = "Loading event\u2026";
    $("#detail-sub").textContent = id;
    clear($("#detail-fields"));
    clear($("#detail-actions"));
    $("#detail-actions").hidden = true;
    $("#detail-raw").textContent = "";
    call("GetEvent", state.orgId, id).then(function (d) {
      if (state.selectedId !== id) { return; }
      renderDetail(d || {});
    }, function (e) {
      $("#detail-title").textContent = "Cannot load this event";
      showBanner("detail", "Cannot load the event", e);
    }).then(function () { drawer.removeAttribute("data-loading"); });
  }

  function closeDetail() {
    state.selectedId = "";
    $("#event-detail").hidden = true;
    document.querySelectorAll("#events tbody tr.selected").forEach(function (tr) {
      tr.classList.remove("selected");
    });
  }

  function objectList(list) {
    if (!list || !list.length) { return "None"; }
    return list.map(function (o) {
      var head = [o.name, o.email && o.email !== o.name ? o.email : ""].filter(Boolean)
        .join(" \u00b7 ");
      return el("div", {class: "obj"},
        el("div", null, o.type ? badge("neutral", o.type) : null, " ", head || o.host || o.id ||
          "(unnamed)"),
        o.host && head ? el("div", {class: "small", text: o.host}) : null,
        o.id ? el("div", {class: "mono muted", text: o.id}) : null);
    });
  }

  function tzLabel(d) {
    var off = -d.getTimezoneOffset();
    var sign = off < 0 ? "-" : "+";
    off = Math.abs(off);
    return "UTC" + sign + pad(Math.floor(off / 60)) + ":" + pad(off % 60);
  }

  // timeValue shows local time first and UTC under it; when they are the same, only UTC.
  function timeValue(s) {
    var d = parseTime(s);
    if (!d) { return s ? s : null; }
    if (d.getTimezoneOffset() === 0) { return fmtUTC(d); }
    return [fmtLocal(d) + " (" + tzLabel(d) + ")",
      el("div", {class: "muted small", text: fmtUTC(d)})];
  }

  function renderDetail(d) {
    var e = d.event || {};
    var seen = {};
    var dl = $("#detail-fields");
    clear(dl);

    function section(title) { dl.appendChild(el("div", {class: "section", text: title})); }
    function field(label, key, value) {
      if (key) { seen[key] = true; }
      var v = value === undefined ? e[key] : value;
      if (v === undefined || v === null || v === "") { v = "\u2014"; }
      dl.appendChild(el("dt", {text: label}));
      dl.appendChild(el("dd", {"data-field": key || label}, v));
    }

    $("#detail-title").textContent = d.action_name || e.action || "Event";
    $("#detail-sub").textContent = (e.actor_name || e.actor_email || e.actor_id || "") +
      (parseTime(e.time) ? " \u00b7 " + fmtLocal(parseTime(e.time)) : "");

    section("What happened");
    field("Action", "action", [d.action_name || e.action, " ",
      el("span", {class: "mono muted", text: "(" + e.action + ")"})]);
    field("Category", "category");
    field("Message", "message");
    field("Time", "time", timeValue(e.time));
    field("Processed at", "processed_at", timeValue(e.processed_at));
    field("Product", "product");
    field("Event ID", "id", el("span", {class: "mono", text: e.id}));
    field("Organization", "org", el("span", {class: "mono", text: e.org}));

    section("Who");
    field("Actor", "actor_name", [e.actor_name || "\u2014", d.actor_admin ? " " : null,
      d.actor_admin ? badge("admin", "Org admin") : null]);
    field("Email", "actor_email");
    field("Account ID", "actor_id", el("span", {class: "mono", text: dash(e.actor_id)}));
    var token = e.auth_type || e.token_id || e.token_label;
    field("Token use", "auth_type", token
      ? [badge("token", e.auth_type || "token"), " ", e.token_label ? "\u201c" +
        e.token_label + "\u201d" : ""]
      : "No token (interactive session)");
    field("Token ID", "token_id", e.token_id ? el("span", {class: "mono", text: e.token_id})
      : null);
    seen.token_label = true;
    field("On behalf of", "on_behalf_of_id");

    section("Where");
    field("IP address", "ip", e.ip_invalid
      ? [el("span", {class: "ip-invalid", text: "invalid"}), " raw value ",
        el("span", {class: "mono", text: "\u201c" + (e.raw_ip || "") + "\u201d"})]
      : el("span", {class: "mono", text: dash(e.ip)}));
    field("Raw IP", "raw_ip", e.raw_ip ? el("span", {class: "mono", text: e.raw_ip}) : null);
    seen.ip_invalid = true;
    field("City", "city");
    field("Region", "region");
    field("Country", "country");
    field("Coordinates", "geo");

    section("Targets");
    field("Targets", "targets", objectList(e.targets));
    section("Containers");
    field("Containers", "containers", objectList(e.containers));

    var extra = Object.keys(e).filter(function (k) { return !seen[k]; });
    if (extra.length) {
      section("Other fields");
      extra.forEach(function (k) {
        var v = e[k];
        field(k, k, typeof v === "object" ? JSON.stringify(v) : String(v));
      });
    }

    $("#detail-raw").textContent = d.raw || "(the raw event was not stored)";

    var acts = $("#detail-actions");
    clear(acts);
    ext.eventDetail.forEach(function (fn) { fn(d, acts); });
    acts.hidden = !acts.firstChild;
  }

  // ---- users -----------------------------------------------------------------------------

  function renderUsers() {
    if (state.page !== "users") { return; }
    var users = ((state.options && state.options.users) || []).slice().sort(function (a, b) {
      return (a.name || a.email || "").localeCompare(b.name || b.email || "");
    });
    var tbody = $("#users tbody");
    clear(tbody);
    users.forEach(function (u) {
      var mfa = u.mfa === true ? badge("ok", "On")
        : u.mfa === false ? badge("bad", "Off") : badge("neutral", "Unknown");
      var acct = [u.managed ? badge("neutral", "Managed") :
        badge("warn", "Unmanaged", "Not claimed by a verified domain of this organization")];
      if (u.source === "synced") { acct.push(badge("neutral", "SCIM synced")); }
      else if (u.source) { acct.push(badge("neutral", capitalize(u.source))); }
      var status = u.status || "unknown";
      var statusKind = status === "active" ? "ok" : status === "suspended" ? "warn" : "neutral";
      var last = parseTime(u.last_active);
      var roles = u.admin ? badge("admin", "Org admin") :
        (u.roles && u.roles.length ? u.roles.join(", ") : "Member");

      tbody.appendChild(el("tr", {"data-account": u.account_id},
        el("td", null, el("a", {href: "#activity", text: u.name || "(no name)",
          title: "Show this user's activity", onclick: function () {
            $("#filter-user").value = u.email || u.account_id;
            setTimeout(function () { runQuery(false); }, 0);
          }})),
        el("td", {text: dash(u.email), title: u.account_id}),
        el("td", null, roles),
        el("td", null, mfa),
        el("td", null, acct),
        el("td", null, badge(statusKind, capitalize(status))),
        el("td", {text: last ? fmtLocal(last).slice(0, 10) : "\u2014",
          title: last ? fmtUTC(last) : ""}),
        el("td", {class: "col-act"}, ext.userCell.map(function (fn) { return fn(u); }))));
    });
    $("#users-count").textContent = users.length ? fmtNum(users.length) + " users" : "";
    var empty = $("#users-empty");
    empty.hidden = users.length > 0;
    empty.textContent = state.orgId ? "No users synced yet." :
      "No organization is connected yet.";
  }

  // ---- connectors ------------------------------------------------------------------------

  function expiryLine(c) {
    if (!c.expires) { return el("span", {class: "muted", text: "Key expiry unknown"}); }
    var n = c.days_left;
    var kind = n < 0 ? "bad" : n < 30 ? "warn" : "ok";
    var text = n < 0 ? "expired " + (-n) + (n === -1 ? " day ago" : " days ago")
      : n === 0 ? "expires today" : n + (n === 1 ? " day left" : " days left");
    return [el("span", {class: "muted", text: "API key expires"}),
      el("strong", {text: c.expires}), badge(kind, text,
        n < 30 ? "Create a new key in admin.atlassian.com before this date" : "")];
  }

  // connectorName is the connector's own name, or its organization's when it has none (the
  // backend falls back to the org id, which is unreadable as a title).
  function connectorName(c) {
    return c.name && c.name !== c.org_id ? c.name : (c.org_name || c.org_id);
  }

  function connectorCard(c) {
    var p = c.progress || {};
    var last = parseTime(c.last_sync);
    function stat(label, key, value) {
      return el("div", {class: "stat"}, el("b", {"data-stat": key, text: fmtNum(value)}),
        el("span", {class: "muted small", text: label}));
    }
    return el("div", {class: "card" + (c.demo ? " demo" : ""), "data-connector": c.id,
      "data-org": c.org_id},
      el("div", {class: "card-head"},
        el("div", null,
          el("div", {class: "card-title"}, connectorName(c), c.demo ? " " : null,
            c.demo ? badge("warn", "DEMO") : null),
          c.org_name && c.org_name !== connectorName(c)
            ? el("div", {class: "muted", text: c.org_name}) : null,
          el("div", {class: "mono muted small", text: c.org_id, title: "Organization ID"})),
        el("div", {class: "btns"},
          el("button", {type: "button", class: "btn", text: "Sync now",
            disabled: !!p.running, onclick: function () { syncNow(c.id); }}),
          el("button", {type: "button", class: "btn btn-danger", text: "Remove",
            onclick: function () { removeConnector(c); }}))),
      el("div", {class: "card-line"}, expiryLine(c)),
      el("div", {class: "stats"}, stat("events", "events", c.events),
        stat("users", "users", c.users), stat("verified domains", "domains", c.domains)),
      el("div", {class: "card-line small"},
        el("span", {class: "muted", text: "Last sync"}),
        el("span", {text: last ? fmtLocal(last) + " (" + fmtAgo(last) + ")" : "never",
          title: last ? fmtUTC(last) : ""}),
        el("span", {class: "muted", text: "\u00b7"}),
        p.running ? badge("neutral", PHASES[p.phase] || "Syncing")
          : c.backfilled ? badge("ok", "History complete")
            : badge("warn", "History not fully downloaded")),
      c.last_error ? el("div", {class: "card-error", text: "Last error: " + c.last_error})
        : null);
  }

  function renderConnectors() {
    var box = $("#connectors");
    clear(box);
    var list = connectors();
    list.forEach(function (c) { box.appendChild(connectorCard(c)); });
    if (!list.length) {
      box.appendChild(el("div", {class: "panel muted",
        text: "No connector yet. Add your Atlassian organization below."}));
    }
  }

  function removeConnector(c) {
    var ok = window.confirm("Remove the connector \u201c" + connectorName(c) +
      "\u201d? Its API key is deleted from the keychain and its synced audit log is " +
      "deleted from this computer.");
    if (!ok) { return; }
    call("DeleteConnector", c.id).then(function () {
      if (state.orgId === c.org_id) { state.orgId = ""; }
      return refreshStatus().then(loadOrgData);
    }, function (e) { showBanner("connectors", "Cannot remove the connector", e); });
  }

  function connResult(kind, text, problem) {
    var box = $("#conn-result");
    box.hidden = false;
    box.className = "conn-result " + kind;
    box.setAttribute("data-state", kind);
    if (problem) { box.setAttribute("data-problem", problem); }
    else { box.removeAttribute("data-problem"); }
    box.textContent = text;
  }

  function readConnForm() {
    return {
      name: $("#conn-name").value.trim(),
      org_id: $("#conn-org").value.trim(),
      api_key: $("#conn-key").value.trim(),
      expires: $("#conn-expires").value,
      api_base: $("#conn-apibase").value.trim()
    };
  }

  // checkConnForm catches the mistakes that need no network, with a message per field.
  function checkConnForm(req) {
    if (!req.org_id) { return "Enter the organization ID."; }
    if (!req.api_key) { return "Paste the organization API key."; }
    if (!req.expires) { return "Enter the date the API key expires (shown when you created it)."; }
    var max = new Date();
    max.setFullYear(max.getFullYear() + 1);
    if (req.expires > isoDate(max)) {
      return "Atlassian API keys last at most one year: check the expiry date.";
    }
    if (req.expires < isoDate(new Date())) {
      return "This expiry date is in the past: the key has already expired.";
    }
    return "";
  }

  function setConnBusy(busy) {
    $("#conn-test").disabled = busy;
    $("#conn-save").disabled = busy;
  }

  function testConnection() {
    var req = readConnForm();
    var problem = checkConnForm(req);
    if (problem) { connResult("bad", problem, "invalid_input"); return; }
    setConnBusy(true);
    connResult("busy", "Testing the connection\u2026");
    call("TestConnection", req).then(function (r) {
      r = r || {};
      var msg = r.message || (r.ok ? "Connection works." : "The connection test failed.");
      if (r.ok && r.org_name && msg.indexOf(r.org_name) < 0) {
        msg += " Organization: " + r.org_name + ".";
      }
      connResult(r.ok ? "ok" : "bad", (r.ok ? "\u2713 " : "\u2717 ") + msg, r.problem);
    }, function (e) {
      connResult("bad", "\u2717 " + errText(e));
    }).then(function () { setConnBusy(false); });
  }

  function saveConnector(ev) {
    ev.preventDefault();
    var req = readConnForm();
    var problem = checkConnForm(req);
    if (problem) { connResult("bad", problem, "invalid_input"); return; }
    setConnBusy(true);
    connResult("busy", "Checking the key and saving\u2026");
    call("SaveConnector", req).then(function (c) {
      c = c || {};
      $("#conn-form").reset();
      connResult("ok", "\u2713 Saved \u201c" + connectorName(c) + "\u201d (" +
        (c.org_name || c.org_id) + "). The API key is in the system keychain. " +
        "The first sync has started.");
      if (c.org_id) { state.orgId = c.org_id; }
      $(".content").scrollTop = 0;
      watchSync();
      loadOrgData();
    }, function (e) {
      connResult("bad", "\u2717 " + errText(e));
    }).then(function () { setConnBusy(false); });
  }

  // ---- extension points ------------------------------------------------------------------

  // Feature files loaded after this one (governance.js, ...) plug in here instead of app.js
  // knowing about them: a page of their own, a cell on each Users row, a block in the event
  // detail panel. They reuse the helpers below so every page looks and escapes the same way.
  var ext = {pages: {}, userCell: [], eventDetail: []};

  window.Warden = {
    $: $, el: el, append: append, clear: clear, call: call, badge: badge, errText: errText,
    dash: dash, capitalize: capitalize, parseTime: parseTime, fmtLocal: fmtLocal,
    fmtUTC: fmtUTC, fmtAgo: fmtAgo, fmtNum: fmtNum, timeValue: timeValue,
    showBanner: showBanner, clearBanner: clearBanner,
    orgId: function () { return state.orgId; },
    // statusKnown is false until Warden's first status answer, when orgId may still change.
    statusKnown: function () { return !!state.status; },
    page: function () { return state.page; },
    users: function () { return (state.options && state.options.users) || []; },
    currentConnector: currentConnector,
    // syncNow starts a sync of the shown organization and follows its progress.
    syncNow: function () {
      var c = currentConnector();
      return c ? call("SyncNow", c.id).then(watchSync, function () {}) : Promise.resolve();
    },
    // registerPage adds a left-nav page: #nav-<name> and #page-<name> in index.html, onShow
    // called each time it is shown.
    registerPage: function (name, onShow) {
      ext.pages[name] = onShow;
      if ((location.hash || "").replace(/^#/, "") === name) { showPage(name); }
    },
    // onUserRow adds content to the last cell of every Users row; fn(user) returns nodes.
    onUserRow: function (fn) { ext.userCell.push(fn); renderUsers(); },
    // onEventDetail fills the actions block of the event detail panel; fn(detail, container).
    onEventDetail: function (fn) { ext.eventDetail.push(fn); }
  };

  // ---- wiring ----------------------------------------------------------------------------

  function init() {
    $("#banner-close").addEventListener("click", function () { clearBanner(); });
    $("#sync-now").addEventListener("click", function () {
      var c = currentConnector();
      if (c) { syncNow(c.id); }
    });
    $("#org-select").addEventListener("change", function (ev) {
      state.orgId = ev.target.value;
      closeDetail();
      renderHeader();
      loadOrgData();
    });
    window.addEventListener("hashchange", routeFromHash);

    $("#filters").addEventListener("submit", function (ev) {
      ev.preventDefault();
      closeDetail();
      runQuery(false);
    });
    $("#filter-reset").addEventListener("click", function () {
      $("#filters").reset();
      closeDetail();
      runQuery(false);
    });
    $("#events-more").addEventListener("click", function () { runQuery(true); });
    $("#detail-close").addEventListener("click", closeDetail);
    document.addEventListener("keydown", function (ev) {
      if (ev.key === "Escape") { closeDetail(); }
    });

    var today = new Date();
    var max = new Date();
    max.setFullYear(max.getFullYear() + 1);
    $("#conn-expires").min = isoDate(today);
    $("#conn-expires").max = isoDate(max);
    $("#conn-test").addEventListener("click", testConnection);
    $("#conn-form").addEventListener("submit", saveConnector);

    routeFromHash();
    refreshStatus().then(function () {
      if (!connectors().length && !location.hash) { location.hash = "#connectors"; }
      if (!state.orgId) { loadOrgData(); }
      schedulePoll();
    }, schedulePoll);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();

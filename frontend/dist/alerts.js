// Warden alerts UI: the alerts list (first page when something is open), one alert's page with
// its evidence, a timeline of its events and an offline world map of its locations, and the
// admin's answers to it: resolve with feedback, reopen, respond through governance. It plugs
// into app.js through window.Warden and inserts data as text only: titles, evidence, names and
// places all come from the audit log, which outsiders can influence.
(function () {
  "use strict";

  var W = window.Warden;
  if (!W) { return; }
  var $ = W.$, el = W.el, clear = W.clear, call = W.call, badge = W.badge;

  function append(node) {
    for (var i = 1; i < arguments.length; i++) { W.append(node, arguments[i]); }
  }

  var POLL_MS = 5000;
  var LIST_LIMIT = 500;
  var KM_PER_DEGREE = 111.32;
  // The map's drawing is about this many pixels wide; point and text sizes follow it.
  var MAP_PX = 720;

  var SEVERITY = {
    high: {kind: "bad", text: "High"},
    medium: {kind: "warn", text: "Medium"},
    low: {kind: "neutral", text: "Low"}
  };

  var RESOLUTIONS = {
    true_positive: "True positive",
    benign: "Benign",
    false_positive: "False positive"
  };

  // The reasons of detect.FalsePositiveReasons and detect.BenignReasons, in words.
  var REASONS = {
    false_positive: [["not_of_interest", "Not of interest"],
      ["too_many_similar", "Too many similar alerts"],
      ["inaccurate", "The alert is not accurate"], ["other", "Other"]],
    benign: [["lower_severity", "Real, but the severity is lower"],
      ["confirmed_with_user", "Confirmed with the user"],
      ["test", "Triggered by a test"], ["other", "Other"]]
  };

  // The Respond buttons, strongest last; the undo actions sit apart.
  var RESPOND = [["notify", "Notify user"], ["reauth", "Require sign-in again"],
    ["revoke-tokens", "Revoke API tokens"], ["suspend", "Suspend user"],
    ["deactivate", "Deactivate account"]];
  var UNDO = [["restore", "Restore access"], ["reactivate", "Reactivate"]];
  var HARSH = {"reauth": true, "revoke-tokens": true, "suspend": true, "deactivate": true};

  var GOV_STATUS = {
    done: ["ok", "Done"], would_do: ["neutral", "Dry run"], already_done: ["neutral",
      "Already done"], refused: ["warn", "Refused"], failed: ["bad", "Failed"],
    pending: ["neutral", "Pending"], interrupted: ["warn", "Interrupted"]
  };

  var st = {
    org: "",
    alerts: [],
    listSeq: 0,
    openCount: -1,
    detail: null, // GetAlert's answer for the alert on screen
    alertId: "",
    eventOpen: "",
    landed: false // the default-page decision was made
  };

  // ---- helpers ---------------------------------------------------------------------------

  function sevBadge(s) {
    var v = SEVERITY[s] || {kind: "neutral", text: s || "Unknown"};
    return el("span", {class: "badge sev-badge sev-" + (s || "none"), "data-severity": s,
      text: v.text});
  }

  function statusBadge(al) {
    if (al.status === "open") { return badge("bad-outline", "Open"); }
    var r = al.resolution || {};
    return el("span", {class: "badge badge-neutral", text: "Resolved" +
      (RESOLUTIONS[r.as] ? ": " + RESOLUTIONS[r.as].toLowerCase() : "")});
  }

  function userOf(al) {
    var users = W.users();
    for (var i = 0; i < users.length; i++) {
      var u = users[i];
      if ((al.user && u.account_id === al.user) || (!al.user && al.user_email &&
          u.email === al.user_email)) { return u; }
    }
    return null;
  }

  function ref(al) {
    var u = userOf(al);
    return {id: al.user || (u && u.account_id) || "", email: al.user_email || (u && u.email),
      name: al.user_name || (u && u.name) || ""};
  }

  function whoText(al) { return al.user_name || al.user_email || al.user || "No single user"; }

  function clock(d) {
    return W.fmtLocal(d).slice(11, 16);
  }

  // utcClock matches the evidence sentences, which the backend writes in UTC.
  function utcClock(d) {
    return W.fmtUTC(d).slice(11, 16) + " UTC";
  }

  function gap(ms) {
    var s = Math.round(Math.abs(ms) / 1000);
    if (s < 60) { return s + " s"; }
    var m = Math.round(s / 60);
    if (m < 120) { return m + " min"; }
    var h = Math.round(m / 60);
    if (h < 48) { return h + " h"; }
    return Math.round(h / 24) + " days";
  }

  function reasonText(as, key) {
    var list = REASONS[as] || [];
    for (var i = 0; i < list.length; i++) { if (list[i][0] === key) { return list[i][1]; } }
    return key;
  }

  // ---- nav count and the default page ----------------------------------------------------

  function refreshCount() {
    var org = W.orgId();
    if (!org) { setCount(0); return Promise.resolve(); }
    return call("ListAlerts", {org: org, status: "open", limit: LIST_LIMIT}).then(function (l) {
      if (org !== W.orgId()) { return; }
      var n = (l || []).length;
      var changed = n !== st.openCount;
      setCount(n);
      land(n);
      if (changed && W.page() === "alerts" && !st.alertId) { loadList(); }
    }, function () { /* the list shows the error when it is opened */ });
  }

  function setCount(n) {
    st.openCount = n;
    var c = $("#nav-alerts-count");
    c.hidden = !n;
    c.textContent = n >= LIST_LIMIT ? LIST_LIMIT + "+" : String(n);
    c.title = n + (n === 1 ? " open alert" : " open alerts");
  }

  // land opens the Alerts page when Warden starts with something open, unless the admin has
  // already gone somewhere (any hash means they have). It decides once, on the first count:
  // alerts that appear later (a first sync finishing) must not pull the admin off the page
  // they are working on.
  function land(n) {
    if (st.landed) { return; }
    st.landed = true;
    if (!location.hash && n > 0) { location.hash = "#alerts"; }
  }

  function poll() {
    var org = W.orgId();
    if (org !== st.org) {
      // Only a change of organization closes the alert on screen: the first poll merely learns
      // the org, and an alert opened before it must stay open.
      var switched = st.org !== "";
      st.org = org;
      if (switched) { closeAlert(); }
      if (W.page() === "alerts") { loadPolicyOptions(); }
    }
    refreshCount().then(function () { setTimeout(poll, POLL_MS); });
  }

  // ---- the list --------------------------------------------------------------------------

  function onShow() {
    if (st.alertId) { loadAlert(st.alertId); return; }
    loadPolicyOptions();
    loadList();
  }

  function loadPolicyOptions() {
    // Fetched on every visit: custom policies come and go on the Policies page.
    var org = W.orgId();
    if (!org) { return; }
    Promise.all([call("Policies", org), call("CustomPolicies", org).then(null,
      function () { return []; })]).then(function (r) {
      if (org !== W.orgId()) { return; }
      var sel = $("#alert-filter-policy");
      var keep = sel.value;
      clear(sel);
      append(sel, el("option", {value: "", text: "Any policy"}));
      var g1 = el("optgroup", {label: "Built-in"});
      (r[0] || []).forEach(function (p) {
        append(g1, el("option", {value: p.id, text: p.name}));
      });
      append(sel, g1);
      if ((r[1] || []).length) {
        var g2 = el("optgroup", {label: "Custom"});
        r[1].forEach(function (p) { append(g2, el("option", {value: p.id, text: p.name})); });
        append(sel, g2);
      }
      sel.value = keep;
      if (sel.value !== keep) { sel.value = ""; }
    }, function () { /* the filter keeps "Any policy" */ });
  }

  function readFilters() {
    return {org: W.orgId(), status: $("#alert-filter-status").value,
      severity: $("#alert-filter-severity").value, policy: $("#alert-filter-policy").value,
      user: $("#alert-filter-user").value.trim(), range: $("#alert-filter-range").value,
      limit: LIST_LIMIT};
  }

  function loadList() {
    var q = readFilters();
    var table = $("#alerts");
    if (!q.org) { st.alerts = []; renderList(q); return Promise.resolve(); }
    table.setAttribute("data-loading", "true");
    // Only the newest query may draw: a slow answer to an older filter must not win.
    var seq = ++st.listSeq;
    return call("ListAlerts", q).then(function (list) {
      if (seq !== st.listSeq || q.org !== W.orgId()) { return; }
      W.clearBanner("alerts");
      st.alerts = list || [];
      renderList(q);
    }, function (e) {
      W.showBanner("alerts", "Cannot load the alerts", e);
    }).then(function () {
      if (seq === st.listSeq) { table.removeAttribute("data-loading"); }
    });
  }

  function alertRow(al) {
    var t = W.parseTime(al.time), last = W.parseTime(al.last_time);
    var u = userOf(al);
    function open() { openAlert(al.id); }
    var span = t && last && last - t >= 60000 ? "over " + gap(last - t) : "";
    return el("tr", {"data-alert-id": al.id, "data-severity": al.severity,
      "data-status": al.status, "data-policy": al.policy, tabindex: "0",
      class: "alert-row sev-row-" + al.severity, onclick: open,
      onkeydown: function (ev) { if (ev.key === "Enter") { open(); } }},
    el("td", null, sevBadge(al.severity)),
    el("td", {title: al.title},
      el("span", {class: "cell-main alert-title", text: al.title}),
      el("span", {class: "cell-sub", text: (al.evidence || [])[0] || ""})),
    el("td", {title: [al.user_name, al.user_email, al.user].filter(Boolean).join("\n")},
      el("span", {class: "cell-main"}, whoText(al),
        u && u.admin ? [" ", badge("admin", "Admin")] : null),
      el("span", {class: "cell-sub", text: al.user_name ? al.user_email || "" : ""})),
    el("td", {title: al.policy_name || al.policy},
      el("span", {class: "cell-main", text: al.policy_name || al.policy})),
    el("td", {title: t ? W.fmtUTC(t) : ""},
      el("span", {class: "cell-main", text: t ? W.fmtLocal(t).slice(0, 16) : "\u2014"}),
      el("span", {class: "cell-sub", text: [t ? W.fmtAgo(t) : "", span].filter(Boolean)
        .join(", ")})),
    el("td", {class: "acol-count", "data-field": "count",
      title: (al.count || 1) + (al.count === 1 ? " detection" : " detections") + ", " +
        (al.event_ids || []).length + " events"},
    el("span", {class: "cell-main", text: W.fmtNum(al.count || 1)}),
    el("span", {class: "cell-sub", text: W.fmtNum((al.event_ids || []).length) +
      ((al.event_ids || []).length === 1 ? " event" : " events")})),
    el("td", null, al.status === "open" ? statusBadge(al) : [
      el("span", {class: "cell-main"}, badge("neutral", "Resolved")),
      el("span", {class: "cell-sub", text: RESOLUTIONS[(al.resolution || {}).as] || ""})]));
  }

  function renderList(q) {
    var tbody = $("#alerts tbody");
    clear(tbody);
    st.alerts.forEach(function (al) { tbody.appendChild(alertRow(al)); });
    var empty = $("#alerts-empty");
    empty.hidden = st.alerts.length > 0;
    clear(empty);
    var filtered = q && (q.severity || q.policy || q.user || (q.range && q.range !== "all"));
    if (!q || !q.org) {
      append(empty, "No organization is connected yet. ",
        el("a", {href: "#connectors", text: "Add a connector"}), ".");
    } else if (filtered) {
      empty.textContent = "No alerts match these filters.";
    } else if (q.status === "open") {
      append(empty, el("strong", {text: "No open alerts. "}),
        "Warden checks every new audit-log event against the ",
        el("a", {href: "#policies", text: "policies"}), ".");
    } else {
      empty.textContent = "No alerts yet.";
    }
    var n = st.alerts.length;
    var high = st.alerts.filter(function (a) { return a.severity === "high"; }).length;
    $("#alerts-count").textContent = n ? W.fmtNum(n) + (n === 1 ? " alert" : " alerts") +
      (high ? ", " + high + " high" : "") + ", newest first" : "";
  }

  // ---- one alert -------------------------------------------------------------------------

  // TODO(#3): an alert has no URL of its own (app.js routes on the whole hash), so the browser's
  // Back button leaves the Alerts page instead of returning to the list.
  function openAlert(id) {
    st.alertId = id;
    st.eventOpen = "";
    $("#alerts-list-view").hidden = true;
    var box = $("#alert-detail");
    box.hidden = false;
    box.setAttribute("data-alert-id", id);
    box.setAttribute("data-loading", "true");
    clear(box);
    append(box, backLink(), el("div", {class: "muted", text: "Loading the alert\u2026"}));
    $(".content").scrollTop = 0;
    return loadAlert(id);
  }

  function loadAlert(id) {
    var box = $("#alert-detail");
    return call("GetAlert", W.orgId(), id).then(function (d) {
      if (st.alertId !== id) { return; }
      W.clearBanner("alert");
      st.detail = d || {};
      renderAlert();
      loadHistory();
    }, function (e) {
      if (st.alertId !== id) { return; }
      clear(box);
      append(box, backLink(), el("div", {class: "panel card-error",
        text: "Cannot load this alert: " + W.errText(e)}));
    }).then(function () { box.removeAttribute("data-loading"); });
  }

  function closeAlert() {
    st.alertId = "";
    st.detail = null;
    $("#alert-detail").hidden = true;
    $("#alerts-list-view").hidden = false;
  }

  function backLink() {
    return el("a", {href: "#alerts", class: "back-link", id: "alert-back",
      text: "\u2190 All alerts", onclick: function (ev) {
        ev.preventDefault();
        closeAlert();
        loadList();
      }});
  }

  function renderAlert() {
    var d = st.detail, al = d.alert || {};
    var box = $("#alert-detail");
    box.setAttribute("data-status", al.status);
    box.setAttribute("data-severity", al.severity);
    clear(box);
    var u = userOf(al);
    var t = W.parseTime(al.time), last = W.parseTime(al.last_time);

    var when = t ? W.fmtLocal(t).slice(0, 16) : "";
    if (t && last && last - t >= 60000) {
      when += " \u2013 " + (W.fmtLocal(last).slice(0, 10) === W.fmtLocal(t).slice(0, 10)
        ? clock(last) : W.fmtLocal(last).slice(0, 16));
    }

    append(box, backLink(),
      el("div", {class: "alert-head sev-edge-" + al.severity},
        el("div", {class: "alert-head-badges"}, sevBadge(al.severity),
          el("span", {id: "alert-status"}, statusBadge(al)),
          el("span", {class: "muted small mono", text: al.id, title: "Alert ID"})),
        el("h1", {id: "alert-title", text: al.title}),
        el("div", {class: "alert-meta"},
          meta("Policy", el("a", {href: "#policies", text: al.policy_name || al.policy,
            title: "Open the policy settings"})),
          meta("User", al.user || al.user_email ? [el("strong", {id: "alert-user",
            text: whoText(al)}), u && u.admin ? [" ", badge("admin", "Org admin")] : null,
          u && u.status === "suspended" ? [" ", badge("warn", "Access suspended")] : null,
          al.user_name && al.user_email ? el("span", {class: "muted", text: " " +
            al.user_email}) : null] : "No single user (the alert is about an IP address)"),
          meta("When", el("span", {title: t ? W.fmtUTC(t) : "", text: when || "\u2014"})),
          (al.ips || []).length ? meta("IP addresses", el("span", {class: "mono",
            text: al.ips.join(", ")})) : null,
          al.count > 1 ? meta("Grouped", al.count + " detections") : null)),
      el("div", {class: "alert-grid"},
        el("div", {class: "alert-main"},
          evidence(al),
          (al.locations || []).length ? mapPanel(al) : null,
          timeline(d.events || [], al)),
        el("div", {class: "alert-side"},
          resolvePanel(al),
          respondPanel(al),
          el("div", {class: "panel side-panel", id: "alert-history"},
            el("h2", {text: "Actions taken"}),
            el("div", {class: "muted small", text: "Loading\u2026"})))));
  }

  function meta(label, value) {
    return el("div", {class: "meta"}, el("span", {class: "meta-label", text: label}),
      el("span", {class: "meta-value"}, value));
  }

  function evidence(al) {
    var list = al.evidence || [];
    return el("div", {class: "panel evidence sev-edge-" + al.severity, id: "alert-evidence"},
      el("h2", {text: "What Warden saw"}),
      list.length ? el("ul", {class: "evidence-list"}, list.map(function (s) {
        return el("li", {text: s});
      })) : el("p", {class: "muted", text: "The policy recorded no explanation."}));
  }

  // ---- the timeline ----------------------------------------------------------------------

  function timeline(events, al) {
    var locByEvent = {};
    (al.locations || []).forEach(function (l, i) {
      if (!locByEvent[l.event_id]) { locByEvent[l.event_id] = i + 1; }
    });
    var marks = mapMarks(al.locations || []);
    var markOf = {};
    marks.forEach(function (m) { m.events.forEach(function (id) { markOf[id] = m.n; }); });

    var ol = el("ol", {class: "timeline", id: "alert-timeline"});
    var prev = null;
    events.forEach(function (r) {
      var d = W.parseTime(r.time);
      var loc = [r.city, r.country].filter(Boolean).join(", ");
      var delta = prev && d ? el("div", {class: "tl-gap", text: "+" + gap(d - prev)}) : null;
      if (delta) { append(ol, el("li", {class: "tl-gap-row", "aria-hidden": "true"}, delta)); }
      prev = d || prev;
      var li = el("li", {class: "tl-event tl-" + (r.category || "other"), "data-event-id": r.id,
        tabindex: "0", role: "button", "aria-expanded": "false",
        title: "Show the event's details",
        onclick: function (ev) {
          if (ev.target.closest(".tl-detail")) { return; }
          toggleEvent(li, r);
        },
        onkeydown: function (ev) {
          if (ev.key === "Enter" && ev.target === li) { toggleEvent(li, r); }
        }},
      el("span", {class: "tl-dot", "aria-hidden": "true"},
        markOf[r.id] ? el("span", {class: "tl-mark", text: String(markOf[r.id])}) : null),
      el("div", {class: "tl-body"},
        el("div", {class: "tl-line"},
          el("span", {class: "tl-time", title: d ? W.fmtUTC(d) : r.time,
            text: d ? W.fmtLocal(d) : W.dash(r.time)}),
          el("strong", {class: "tl-action", text: r.action_name || r.action}),
          r.token ? badge("token", "API token") : null,
          r.category === "login_failed" ? badge("bad", "Failed") : null),
        el("div", {class: "tl-sub muted small"},
          [r.actor_name || r.actor_email || r.actor_id, r.ip ? "from " + r.ip : "",
            loc ? "\u00b7 " + loc : "", r.product ? "\u00b7 " + r.product : ""]
            .filter(Boolean).join(" "))));
      append(ol, li);
    });
    var n = (al.event_ids || []).length;
    return el("div", {class: "panel timeline-panel"},
      el("div", {class: "panel-head"}, el("h2", {text: "Timeline"}),
        el("span", {class: "muted small", text: events.length + (events.length === 1
          ? " event" : " events") + ", oldest first" + (n > events.length ? " (" +
          (n - events.length) + " no longer stored)" : "") + ". Click one for its details."})),
      events.length ? ol : el("p", {class: "muted", text: "The events behind this alert " +
        "are no longer in the local store."}));
  }

  // TODO(#3): the activity log's event drawer cannot be opened from here (app.js does not
  // export openDetail and closes the drawer off its page), so the timeline shows the event in
  // place; exporting it from window.Warden would let both share one panel.
  function toggleEvent(li, r) {
    var open = li.querySelector(".tl-detail");
    if (open) {
      open.remove();
      li.setAttribute("aria-expanded", "false");
      li.classList.remove("open");
      return;
    }
    li.classList.add("open");
    li.setAttribute("aria-expanded", "true");
    var box = el("div", {class: "tl-detail", "data-loading": "true"},
      el("div", {class: "muted small", text: "Loading the event\u2026"}));
    append(li.querySelector(".tl-body"), box);
    call("GetEvent", W.orgId(), r.id).then(function (d) {
      renderEvent(box, d || {});
    }, function (e) {
      clear(box);
      append(box, el("div", {class: "card-error", text: "Cannot load the event: " +
        W.errText(e)}));
    }).then(function () { box.removeAttribute("data-loading"); });
  }

  // renderEvent shows the parts of an event that explain an alert; the raw event is one
  // click further, as in the activity log's panel.
  function renderEvent(box, d) {
    clear(box);
    var e = d.event || {};
    var dl = el("dl", {class: "fields tl-fields"});
    function field(label, key, v) {
      if (v === undefined || v === null || v === "") { return; }
      append(dl, el("dt", {text: label}), el("dd", {"data-field": key}, v));
    }
    field("Action", "action", [d.action_name || e.action, " ", el("span",
      {class: "mono muted", text: "(" + e.action + ")"})]);
    field("Category", "category", e.category);
    field("Message", "message", e.message);
    field("Time", "time", W.timeValue(e.time));
    field("Actor", "actor", [e.actor_name || e.actor_email || e.actor_id,
      d.actor_admin ? [" ", badge("admin", "Org admin")] : null,
      e.actor_email && e.actor_name ? el("span", {class: "muted", text: " " + e.actor_email})
        : null]);
    field("IP address", "ip", e.ip ? el("span", {class: "mono", text: e.ip}) : e.raw_ip);
    field("Location", "location", [e.city, e.region, e.country].filter(Boolean).join(", "));
    field("Token", "token", e.token_id || e.auth_type ? [badge("token", e.auth_type ||
      "token"), e.token_label ? " \u201c" + e.token_label + "\u201d" : ""] : null);
    field("Product", "product", e.product);
    field("Targets", "targets", (e.targets || []).length ? (e.targets || []).map(function (o) {
      return el("div", null, o.type ? badge("neutral", o.type) : null, " ",
        [o.name, o.email && o.email !== o.name ? o.email : "", !o.name && !o.email ? o.id : ""]
          .filter(Boolean).join(" \u00b7 "));
    }) : null);
    field("Event ID", "id", el("span", {class: "mono", text: e.id}));
    var raw = el("details", {class: "tl-raw"}, el("summary", {text: "Raw event"}),
      el("pre", {class: "raw raw-small", text: d.raw || "(the raw event was not stored)"}));
    append(box, dl, raw);
  }

  // ---- the map ---------------------------------------------------------------------------

  var SVGNS = "http://www.w3.org/2000/svg";

  function svg(tag, attrs, text) {
    var n = document.createElementNS(SVGNS, tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (attrs[k] !== undefined && attrs[k] !== null) { n.setAttribute(k, String(attrs[k])); }
    });
    if (text !== undefined) { n.textContent = text; }
    return n;
  }

  function px(lon) { return lon + 180; }
  function py(lat) { return 90 - lat; }

  // mapMarks folds successive locations at the same place into one numbered mark, so a burst
  // from one city is one point and a journey is a line between points.
  function mapMarks(locs) {
    var marks = [];
    locs.forEach(function (l) {
      var lastMark = marks[marks.length - 1];
      if (lastMark && lastMark.lat === l.lat && lastMark.lon === l.lon) {
        lastMark.events.push(l.event_id);
        lastMark.times.push(l.time);
        if (l.ip && lastMark.ips.indexOf(l.ip) < 0) { lastMark.ips.push(l.ip); }
        return;
      }
      marks.push({n: marks.length + 1, lat: l.lat, lon: l.lon, label: l.label || l.country ||
        "Unknown place", radius: l.radius_km || 0, country: l.country, events: [l.event_id],
      times: [l.time], ips: l.ip ? [l.ip] : []});
    });
    return marks;
  }

  // greatCircle returns points along the shortest path between two places, with longitudes
  // kept continuous (they may pass +-180) so the line does not jump across the map.
  function greatCircle(a, b, steps) {
    var rad = Math.PI / 180;
    var la1 = a.lat * rad, lo1 = a.lon * rad, la2 = b.lat * rad, lo2 = b.lon * rad;
    var dist = 2 * Math.asin(Math.sqrt(Math.pow(Math.sin((la2 - la1) / 2), 2) +
      Math.cos(la1) * Math.cos(la2) * Math.pow(Math.sin((lo2 - lo1) / 2), 2)));
    if (dist < 1e-6) { return [[a.lon, a.lat], [b.lon, b.lat]]; }
    var out = [];
    for (var i = 0; i <= steps; i++) {
      var f = i / steps;
      var A = Math.sin((1 - f) * dist) / Math.sin(dist), B = Math.sin(f * dist) / Math.sin(dist);
      var x = A * Math.cos(la1) * Math.cos(lo1) + B * Math.cos(la2) * Math.cos(lo2);
      var y = A * Math.cos(la1) * Math.sin(lo1) + B * Math.cos(la2) * Math.sin(lo2);
      var z = A * Math.sin(la1) + B * Math.sin(la2);
      var lat = Math.atan2(z, Math.sqrt(x * x + y * y)) / rad;
      var lon = Math.atan2(y, x) / rad;
      if (out.length) {
        var p = out[out.length - 1][0];
        while (lon - p > 180) { lon -= 360; }
        while (p - lon > 180) { lon += 360; }
      }
      out.push([lon, lat]);
    }
    return out;
  }

  function distanceKM(a, b) {
    var rad = Math.PI / 180;
    var h = Math.pow(Math.sin((b.lat - a.lat) * rad / 2), 2) + Math.cos(a.lat * rad) *
      Math.cos(b.lat * rad) * Math.pow(Math.sin((b.lon - a.lon) * rad / 2), 2);
    return 2 * 6371 * Math.asin(Math.sqrt(h));
  }

  // viewFor frames the marks and the lines between them: at least 60 by 30 degrees, 2:1,
  // inside the world where possible.
  function viewFor(marks, tracks) {
    var xs = [], ys = [];
    marks.forEach(function (m) {
      var ry = m.radius / KM_PER_DEGREE;
      var rx = ry / Math.max(0.2, Math.cos(m.lat * Math.PI / 180));
      xs.push(px(m.lon) - rx, px(m.lon) + rx);
      ys.push(py(m.lat) - ry, py(m.lat) + ry);
    });
    tracks.forEach(function (t) {
      t.forEach(function (p) { xs.push(px(p[0])); ys.push(py(p[1])); });
    });
    var x0 = Math.min.apply(null, xs), x1 = Math.max.apply(null, xs);
    var y0 = Math.min.apply(null, ys), y1 = Math.max.apply(null, ys);
    var w = Math.max(60, (x1 - x0) * 1.3), h = Math.max(30, (y1 - y0) * 1.3 + 8);
    if (w / h > 2) { h = w / 2; } else { w = h * 2; }
    if (w > 360) { w = 360; h = 180; }
    var cx = (x0 + x1) / 2, cy = (y0 + y1) / 2;
    var vx = cx - w / 2, vy = cy - h / 2;
    if (w < 360) { vx = Math.max(-40, Math.min(400 - w, vx)); } else { vx = 0; }
    vy = Math.max(0, Math.min(180 - h, vy));
    return {x: vx, y: vy, w: w, h: h};
  }

  // The land outline is Warden's own world.svg (Natural Earth 1:110m, public domain), read
  // once. Its two paths are copied into the alert's map as attributes only, so that lines
  // keep their width at any zoom (an <image> would scale them with the map).
  var world = null;

  function loadWorld() {
    if (!world) {
      world = fetch("/world.svg").then(function (r) {
        if (!r.ok) { throw new Error("world.svg: HTTP " + r.status); }
        return r.text();
      }).then(function (text) {
        var doc = new DOMParser().parseFromString(text, "image/svg+xml");
        var land = doc.getElementById("land"), borders = doc.getElementById("borders");
        if (!land) { throw new Error("world.svg has no land path"); }
        return {land: land.getAttribute("d"), borders: borders ? borders.getAttribute("d")
          : ""};
      });
      world.catch(function () { world = null; }); // try again with the next alert
    }
    return world;
  }

  // drawLand fills the layer with the land, with copies east and west so that a view past the
  // antimeridian still has land; without the file the graticule alone remains.
  function drawLand(layer) {
    loadWorld().then(function (w) {
      [-360, 0, 360].forEach(function (dx) {
        var g = svg("g", {transform: dx ? "translate(" + dx + " 0)" : null});
        append(g, svg("path", {d: w.land, class: "map-land"}));
        if (w.borders) { append(g, svg("path", {d: w.borders, class: "map-borders"})); }
        append(layer, g);
      });
      layer.setAttribute("data-ready", "true");
    }, function () {
      layer.setAttribute("data-ready", "false");
    });
  }

  function mapPanel(al) {
    var marks = mapMarks(al.locations || []);
    var tracks = [];
    for (var i = 1; i < marks.length; i++) {
      tracks.push(greatCircle(marks[i - 1], marks[i], 48));
    }
    var v = viewFor(marks, tracks);
    var k = v.w / MAP_PX; // map units per pixel at the nominal width

    var root = svg("svg", {id: "alert-map", class: "world-map", role: "img",
      viewBox: [v.x, v.y, v.w, v.h].map(function (n) { return n.toFixed(2); }).join(" "),
      preserveAspectRatio: "xMidYMid meet", "data-points": marks.length,
      "aria-label": "Map of the alert's locations: " + marks.map(function (m) {
        return m.n + " " + m.label;
      }).join(", ")});
    append(root, svg("rect", {x: -360, y: -10, width: 1080, height: 200, class: "map-sea"}));
    var landLayer = svg("g", {class: "map-land-layer"});
    append(root, landLayer);
    drawLand(landLayer);
    var grid = svg("g", {class: "map-grid"});
    for (var lon = -360; lon <= 540; lon += 30) {
      append(grid, svg("line", {x1: lon, y1: 0, x2: lon, y2: 180}));
    }
    for (var lat = 0; lat <= 180; lat += 30) {
      append(grid, svg("line", {x1: -360, y1: lat, x2: 720, y2: lat}));
    }
    append(root, grid);

    marks.forEach(function (m) {
      if (!m.radius) { return; }
      var ry = m.radius / KM_PER_DEGREE;
      var rx = ry / Math.max(0.05, Math.cos(m.lat * Math.PI / 180));
      append(root, svg("ellipse", {cx: px(m.lon), cy: py(m.lat), rx: rx.toFixed(3),
        ry: ry.toFixed(3), class: "map-radius"},
      undefined));
    });
    tracks.forEach(function (t, i) {
      var d = t.map(function (p, j) {
        return (j ? "L" : "M") + px(p[0]).toFixed(2) + " " + py(p[1]).toFixed(2);
      }).join("");
      [-360, 0, 360].forEach(function (dx) {
        append(root, svg("path", {d: d, class: "map-track", transform: dx ? "translate(" + dx +
          " 0)" : null, "data-leg": i + 1, "vector-effect": "non-scaling-stroke"}));
      });
    });

    marks.forEach(function (m) {
      var g = svg("g", {class: "map-point", "data-n": m.n, "data-label": m.label,
        transform: "translate(" + px(m.lon).toFixed(3) + " " + py(m.lat).toFixed(3) + ")"});
      append(g, svg("title", {}, m.n + ". " + m.label + (m.radius ? " (\u00b1" +
        Math.round(m.radius) + " km)" : "")));
      append(g, svg("circle", {r: (8 * k).toFixed(3), class: "map-dot"}));
      append(g, svg("text", {class: "map-num", y: (3.6 * k).toFixed(3),
        "font-size": (10 * k).toFixed(3)}, String(m.n)));
      var first = W.parseTime(m.times[0]);
      // Labels go east of the point, or west of it in the view's right half so they stay in.
      var west = px(m.lon) > v.x + v.w * 0.6;
      append(g, svg("text", {class: "map-label", x: ((west ? -12 : 12) * k).toFixed(3),
        y: (4 * k).toFixed(3), "font-size": (12 * k).toFixed(3), "stroke-width": (3 * k)
          .toFixed(3), "text-anchor": west ? "end" : "start"},
      m.label + (first ? " " + utcClock(first) : "")));
      append(root, g);
    });

    var legend = el("ol", {class: "map-legend", id: "alert-map-legend"});
    marks.forEach(function (m, i) {
      var first = W.parseTime(m.times[0]);
      var leg = null;
      if (i > 0) {
        var a = marks[i - 1], ta = W.parseTime(a.times[a.times.length - 1]);
        var km = distanceKM(a, m);
        leg = el("div", {class: "legend-leg muted small", text: "\u2191 " +
          W.fmtNum(Math.round(km)) + " km from " + a.n + (ta && first ? " in " +
          gap(first - ta) : "")});
      }
      append(legend, el("li", {"data-n": m.n},
        el("span", {class: "legend-num", text: String(m.n)}),
        el("div", null,
          el("strong", {text: m.label}),
          el("span", {class: "muted small", text: " " + [first ? W.fmtLocal(first) : "",
            m.ips.join(", "), m.radius ? "\u00b1" + W.fmtNum(Math.round(m.radius)) +
            " km" : "", m.events.length > 1 ? m.events.length + " events" : ""]
            .filter(Boolean).join(" \u00b7 ")}),
          leg)));
    });

    return el("div", {class: "panel map-panel"},
      el("div", {class: "panel-head"}, el("h2", {text: "Where"}),
        el("span", {class: "muted small", text: "Shaded circles show each location\u2019s " +
          "uncertainty. Offline map, no tiles downloaded."})),
      el("div", {class: "map-frame"}, root), legend);
  }

  // ---- resolving -------------------------------------------------------------------------

  function resolvePanel(al) {
    var box = el("div", {class: "panel side-panel", id: "alert-resolve"});
    if (al.status !== "open") {
      var r = al.resolution || {};
      var at = W.parseTime(r.at);
      append(box, el("h2", {text: "Resolved"}),
        el("div", {class: "resolved-as", id: "alert-resolution", "data-as": r.as},
          el("strong", {text: RESOLUTIONS[r.as] || r.as || "Resolved"}),
          r.reason ? el("div", {text: "Reason: " + reasonText(r.as, r.reason)}) : null,
          r.comment ? el("div", {class: "resolved-comment", text: "\u201c" + r.comment +
            "\u201d"}) : null,
          el("div", {class: "muted small", text: [r.by === "window" ? "in Warden"
            : r.by ? "by " + r.by : "", at ? W.fmtLocal(at) : ""].filter(Boolean)
            .join(", ")})),
        el("div", {class: "form-actions"},
          el("button", {type: "button", class: "btn", id: "alert-reopen", text: "Reopen",
            onclick: reopen}),
          el("span", {id: "alert-resolve-msg", class: "small", role: "status"})));
      return box;
    }

    var ip = (al.ips || [])[0] || "";
    var places = uniqList((al.locations || []).map(function (l) { return l.label; })
      .concat(al.countries || []));
    var form = el("form", {id: "resolve-form", autocomplete: "off",
      onsubmit: function (ev) { ev.preventDefault(); resolve(al); }});
    append(form, el("h2", {text: "Resolve"}),
      el("div", {class: "seg", role: "radiogroup", "aria-label": "Resolve as"},
        ["true_positive", "benign", "false_positive"].map(function (as) {
          return el("label", {class: "seg-item"}, el("input", {type: "radio", name: "as",
            value: as, id: "resolve-as-" + as, checked: as === "true_positive",
            onchange: function () { syncResolveForm(); }}),
          el("span", {text: RESOLUTIONS[as]}));
        })),
      el("div", {class: "field", id: "resolve-reason-field"},
        el("label", {for: "resolve-reason", text: "Reason"}),
        el("select", {id: "resolve-reason"})),
      el("div", {class: "field"},
        el("label", {for: "resolve-comment", text: "Comment"}),
        el("textarea", {id: "resolve-comment", rows: "2", maxlength: "2000",
          placeholder: "What you found, for the next admin"})),
      el("fieldset", {class: "feedback", id: "resolve-feedback"},
        el("legend", {text: "Teach Warden (optional)"}),
        fbOption("", "No change to detection", null),
        ip ? fbOption("safe_range", "Mark this IP range as Corporate/VPN",
          el("div", {class: "fb-extra"},
            el("input", {id: "fb-cidr", type: "text", value: ip, spellcheck: "false",
              "aria-label": "IP address or CIDR range", title: "An IP address or a CIDR " +
              "range such as 192.0.2.0/24"}),
            el("select", {id: "fb-category", "aria-label": "Range category"},
              el("option", {value: "vpn", text: "VPN"}),
              el("option", {value: "corporate", text: "Corporate"})))) : null,
        al.user ? fbOption("exclude_user", "Exclude " + whoText(al) + " from this policy",
          null) : null,
        al.user && places.length ? fbOption("normal_location", "This location is normal " +
          "for this user", el("div", {class: "fb-extra muted small", text: places.join(", ")}))
          : null),
      el("div", {class: "form-actions"},
        el("button", {type: "submit", class: "btn btn-primary", id: "resolve-submit",
          text: "Resolve alert"}),
        el("div", {id: "alert-resolve-msg", class: "conn-result", role: "status",
          hidden: true})));
    append(box, form);
    setTimeout(syncResolveForm, 0);
    return box;
  }

  function fbOption(kind, label, extra) {
    return el("div", {class: "fb-option"},
      el("label", {class: "check"}, el("input", {type: "radio", name: "feedback", value: kind,
        id: "fb-" + (kind || "none"), checked: !kind, onchange: syncResolveForm}),
      el("span", {text: label})), extra);
  }

  function uniqList(a) {
    var out = [];
    a.forEach(function (v) { if (v && out.indexOf(v) < 0) { out.push(v); } });
    return out;
  }

  function checked(name) {
    var n = document.querySelector("#resolve-form input[name=" + name + "]:checked");
    return n ? n.value : "";
  }

  function syncResolveForm() {
    var form = $("#resolve-form");
    if (!form) { return; }
    var as = checked("as");
    var sel = $("#resolve-reason");
    var keep = sel.value;
    clear(sel);
    (REASONS[as] || []).forEach(function (r) {
      append(sel, el("option", {value: r[0], text: r[1]}));
    });
    sel.value = keep;
    if (!sel.value && sel.options.length) { sel.selectedIndex = 0; }
    $("#resolve-reason-field").hidden = !(REASONS[as] || []).length;
    var fb = checked("feedback");
    form.querySelectorAll(".fb-option").forEach(function (o) {
      var input = o.querySelector("input[name=feedback]");
      o.classList.toggle("on", input.checked);
      var extra = o.querySelector(".fb-extra");
      if (extra) { extra.hidden = !input.checked; }
    });
    var labels = {true_positive: "Resolve as true positive", benign: "Resolve as benign",
      false_positive: "Resolve as false positive"};
    $("#resolve-submit").textContent = (labels[as] || "Resolve") + (fb ? " and teach Warden"
      : "");
  }

  function resolveMsg(kind, text) {
    var m = $("#alert-resolve-msg");
    if (!m) { return; }
    m.hidden = false;
    m.className = "conn-result " + kind;
    m.setAttribute("data-state", kind);
    m.textContent = text;
  }

  function resolve(al) {
    var as = checked("as");
    var req = {as: as, reason: (REASONS[as] || []).length ? $("#resolve-reason").value : "",
      comment: $("#resolve-comment").value.trim()};
    var kind = checked("feedback");
    if (kind === "safe_range") {
      var cidr = $("#fb-cidr").value.trim();
      if (!cidr) { resolveMsg("bad", "Enter the IP address or CIDR range to trust."); return; }
      req.feedback = {kind: kind, cidr: cidr, category: $("#fb-category").value};
    } else if (kind) {
      req.feedback = {kind: kind};
    }
    var btn = $("#resolve-submit");
    btn.disabled = true;
    resolveMsg("busy", "Resolving\u2026");
    call("ResolveAlert", W.orgId(), al.id, req).then(function (updated) {
      st.detail.alert = updated || al;
      renderAlert();
      loadHistory();
      var note = req.feedback ? feedbackNote(req.feedback) : "";
      resolveMsg("ok", "\u2713 Resolved." + (note ? " " + note : ""));
      refreshCount();
    }, function (e) {
      btn.disabled = false;
      resolveMsg("bad", "\u2717 " + W.errText(e));
    });
  }

  function feedbackNote(f) {
    if (f.kind === "safe_range") {
      return f.cidr + " is now trusted as " + (f.category === "vpn" ? "VPN" : "Corporate") +
        " for later detection.";
    }
    if (f.kind === "exclude_user") { return "The user is excluded from this policy."; }
    if (f.kind === "normal_location") { return "These places are now normal for the user."; }
    return "";
  }

  function reopen() {
    var al = st.detail.alert;
    $("#alert-reopen").disabled = true;
    call("ReopenAlert", W.orgId(), al.id).then(function (updated) {
      st.detail.alert = updated || al;
      renderAlert();
      loadHistory();
      refreshCount();
    }, function (e) {
      $("#alert-reopen").disabled = false;
      var m = $("#alert-resolve-msg");
      if (m) { m.textContent = "\u2717 " + W.errText(e); m.className = "small card-error"; }
    });
  }

  // ---- responding ------------------------------------------------------------------------

  function respondPanel(al) {
    var box = el("div", {class: "panel side-panel", id: "alert-respond"});
    append(box, el("h2", {text: "Respond"}));
    if (!al.user) {
      append(box, el("p", {class: "muted small", text: "This alert is about an IP address, " +
        "not one user: act on the people in its timeline from the activity log."}));
      return box;
    }
    var r = ref(al);
    var u = userOf(al);
    append(box, el("p", {class: "muted small"}, "Act on ", el("strong", {text: whoText(al)}),
      u && u.admin ? [" ", badge("admin", "Org admin")] : null,
      ". Each action shows its reach and its undo, and checks Atlassian, before anything " +
      "is sent."));
    function btn(a, harsh) {
      return el("button", {type: "button", class: "btn btn-small respond-btn" +
        (harsh ? " btn-danger" : ""), "data-action": a[0], text: a[1],
      onclick: function () { W.governance.open(a[0], r, {alertId: al.id}); }});
    }
    append(box, el("div", {class: "respond-btns"}, RESPOND.map(function (a) {
      return btn(a, HARSH[a[0]]);
    })), el("div", {class: "respond-undo"}, el("span", {class: "muted small", text: "Undo:"}),
      UNDO.map(function (a) { return btn(a, false); })));
    return box;
  }

  // loadHistory lists the governance actions recorded for this alert.
  function loadHistory() {
    var al = st.detail && st.detail.alert;
    if (!al) { return; }
    var id = al.id;
    call("GovernanceLog", {user: al.user || "", limit: 500}).then(function (list) {
      if (st.alertId !== id) { return; }
      renderHistory((list || []).filter(function (e) { return e.alertId === id; }));
    }, function (e) {
      renderHistory(null, e);
    });
  }

  function renderHistory(list, err) {
    var box = $("#alert-history");
    if (!box) { return; }
    clear(box);
    append(box, el("h2", {text: "Actions taken"}));
    if (err) {
      append(box, el("div", {class: "small card-error", text: "Cannot read the governance " +
        "log: " + W.errText(err)}));
      return;
    }
    if (!list.length) {
      append(box, el("p", {class: "muted small", text: "None yet. Actions started here are " +
        "linked to this alert in the governance log."}));
      return;
    }
    append(box, el("ul", {class: "history"}, list.map(function (e) {
      var d = W.parseTime(e.time);
      var s = GOV_STATUS[e.status] || ["neutral", e.status];
      var name = e.action;
      RESPOND.concat(UNDO).forEach(function (a) { if (a[0] === e.action) { name = a[1]; } });
      return el("li", {"data-gov-id": e.id, "data-status": e.status, "data-action": e.action},
        el("a", {href: "#governance", text: name, title: "Open the governance log"}),
        " ", el("span", {class: "badge badge-" + s[0], text: s[1]}),
        el("div", {class: "muted small", text: (d ? W.fmtLocal(d) : "") +
          (e.reason ? " \u00b7 " + e.reason : "")}));
    })));
  }

  // ---- wiring ----------------------------------------------------------------------------

  function init() {
    $("#alert-filters").addEventListener("submit", function (ev) {
      ev.preventDefault();
      loadList();
    });
    ["#alert-filter-status", "#alert-filter-severity", "#alert-filter-policy",
      "#alert-filter-range"].forEach(function (sel) {
      $(sel).addEventListener("change", loadList);
    });
    $("#alert-filter-reset").addEventListener("click", function () {
      $("#alert-filters").reset();
      loadList();
    });
    // A governance action may have just been recorded for this alert.
    new MutationObserver(function () {
      if ($("#gov-modal").hidden && st.alertId) { loadHistory(); }
    }).observe($("#gov-modal"), {attributes: true, attributeFilter: ["hidden"]});
    document.addEventListener("keydown", function (ev) {
      if (ev.key === "Escape" && st.alertId && W.page() === "alerts" && $("#gov-modal").hidden
        && !ev.target.closest("input, textarea, select")) {
        closeAlert();
        loadList();
      }
    });

    // The nav item always leads to the list, also from an alert's page.
    $("#nav-alerts").addEventListener("click", function () {
      if (!st.alertId) { return; }
      closeAlert();
      if (W.page() === "alerts") { loadList(); }
    });

    W.registerPage("alerts", onShow);
    poll();
  }

  W.alerts = {open: function (id) { location.hash = "#alerts"; return openAlert(id); }};

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();

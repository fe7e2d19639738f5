// Warden governance UI: act on a user (with a confirmation that shows the live pre-check),
// the governance log page, and the email settings page. It plugs into app.js through
// window.Warden and keeps its own state; like app.js, it inserts data as text only, because
// names, reasons and Atlassian error bodies come from outside.
(function () {
  "use strict";

  var W = window.Warden;
  if (!W) { return; }
  var $ = W.$, el = W.el, clear = W.clear, call = W.call, badge = W.badge;

  // append adds any number of children (nodes, text, arrays, or nothing) to node.
  function append(node) {
    for (var i = 1; i < arguments.length; i++) { W.append(node, arguments[i]); }
  }

  var LOG_LIMIT = 1000;

  // The order the menu offers actions in, grouped by how far they reach.
  var GROUPS = [["notify"], ["reauth", "revoke-tokens"], ["suspend", "restore"],
    ["deactivate", "reactivate"]];

  // Fallback titles until GovernanceActions answers; the backend's are used after that.
  var TITLES = {
    "notify": "Notify user",
    "reauth": "Require the user to sign in again",
    "revoke-tokens": "Revoke API tokens",
    "suspend": "Suspend user",
    "restore": "Restore access",
    "deactivate": "Deactivate account",
    "reactivate": "Reactivate account"
  };

  // Actions that take something away get the red confirm button.
  var HARSH = {"reauth": true, "revoke-tokens": true, "suspend": true, "deactivate": true};

  var STATUS = {
    done: {kind: "ok", text: "Done"},
    would_do: {kind: "neutral", text: "Would do"},
    already_done: {kind: "neutral", text: "Already done"},
    refused: {kind: "warn", text: "Refused"},
    failed: {kind: "bad", text: "Failed"},
    pending: {kind: "neutral", text: "Pending"},
    interrupted: {kind: "warn", text: "Interrupted"}
  };

  // The fields of mail.Fields, for the template editor.
  var TEMPLATE_FIELDS = [
    ["{{.UserName}}", "the affected user's display name"],
    ["{{.UserEmail}}", "the affected user's address"],
    ["{{.AlertTitle}}", "the alert, e.g. \u201cImpossible travel\u201d"],
    ["{{.AlertID}}", "the alert's id, when the notification comes from one"],
    ["{{.Evidence}}", "a short description of what was seen"],
    ["{{.OrgName}}", "the Atlassian organization"],
    ["{{.Contact}}", "who the user should answer, may be empty"],
    ["{{.Time}}", "when the alert fired or the action ran, e.g. " +
      "{{.Time.UTC.Format \"2006-01-02 15:04 MST\"}}"]
  ];

  var gov = {
    descriptions: {},
    modal: null, // {action, ref, plan, alertId, busy}
    menuFor: null,
    entries: [],
    selectedId: "",
    smtpDirty: false
  };

  // ---- small helpers ---------------------------------------------------------------------

  function title(action) {
    var d = gov.descriptions[action];
    return (d && d.title) || TITLES[action] || action;
  }

  function statusBadge(e) {
    var s = STATUS[e.status] || {kind: "neutral", text: e.status || "unknown"};
    var text = s.text;
    if (e.status === "would_do") { text += e.simulate ? " (simulation)" : " (dry run)"; }
    return el("span", {class: "badge badge-" + s.kind, "data-status": e.status, text: text});
  }

  // triggerParts splits "manual:window" or "policy:<id>" into a word and its detail.
  function triggerParts(t) {
    if (!t) { return ["\u2014", ""]; }
    var i = t.indexOf(":");
    var kind = i < 0 ? t : t.slice(0, i), rest = i < 0 ? "" : t.slice(i + 1);
    if (kind === "manual") {
      return ["Manual", rest === "window" ? "in the window" : rest === "cli" ? "CLI" : rest];
    }
    if (kind === "policy") { return ["Policy", rest]; }
    return [t, ""];
  }

  function triggerText(t) {
    var p = triggerParts(t);
    return p[1] ? p[0] + " (" + p[1] + ")" : p[0];
  }

  function userName(ref) { return ref.name || ref.email || ref.id || "this user"; }

  function confirmLabel(action, name) {
    switch (action) {
    case "notify": return "Notify " + name;
    case "reauth": return "Require " + name + " to sign in again";
    case "revoke-tokens": return "Revoke " + name + "\u2019s API tokens";
    case "suspend": return "Suspend " + name;
    case "restore": return "Restore access for " + name;
    case "deactivate": return "Deactivate " + name;
    case "reactivate": return "Reactivate " + name;
    }
    return title(action) + ": " + name;
  }

  function httpBadge(status) {
    if (!status) { return badge("bad", "no answer"); }
    return badge(status >= 200 && status < 300 ? "ok" : "bad", String(status));
  }

  // userRef finds what the synced directory knows about a user, to badge them before the
  // live check answers.
  function userRef(id, email, name) {
    var users = W.users();
    for (var i = 0; i < users.length; i++) {
      var u = users[i];
      if ((id && u.account_id === id) || (!id && email && u.email === email)) {
        return {id: u.account_id, email: u.email, name: u.name, admin: u.admin,
          source: u.source, status: u.status};
      }
    }
    return {id: id || "", email: email || "", name: name || ""};
  }

  function loadDescriptions() {
    return call("GovernanceActions").then(function (list) {
      (list || []).forEach(function (a) { gov.descriptions[a.action] = a.description || {}; });
      fillActionFilter();
    }, function () { /* titles fall back to TITLES; PlanAction carries the description */ });
  }

  // ---- the action menu -------------------------------------------------------------------

  function actionsButton(ref, label) {
    return el("button", {type: "button", class: "btn btn-small act-btn", "data-user": ref.id,
      "aria-haspopup": "menu", title: "Act on " + userName(ref),
      onclick: function (ev) {
        ev.stopPropagation();
        if (gov.menuFor === ev.currentTarget) { closeMenu(); return; }
        openMenu(ev.currentTarget, ref);
      }}, label || "Actions", el("span", {class: "caret", "aria-hidden": "true",
      text: " \u25be"}));
  }

  function openMenu(btn, ref) {
    closeMenu();
    var menu = $("#act-menu");
    clear(menu);
    menu.setAttribute("data-user", ref.id || ref.email || "");
    append(menu, el("div", {class: "act-menu-head"},
      el("strong", {text: userName(ref)}),
      ref.email && ref.email !== ref.name ? el("div", {class: "muted small", text: ref.email})
        : null));
    GROUPS.forEach(function (group, gi) {
      if (gi) { append(menu, el("div", {class: "act-menu-sep", role: "separator"})); }
      group.forEach(function (a) {
        var d = gov.descriptions[a] || {};
        append(menu, el("button", {type: "button", class: "act-item", role: "menuitem",
          "data-action": a, title: d.reach || "",
          onclick: function () { closeMenu(); openAction(a, ref); }},
        el("span", {class: "act-item-title", text: title(a)}),
        d.reach ? el("span", {class: "act-item-sub", text: d.reach}) : null));
      });
    });

    menu.hidden = false;
    gov.menuFor = btn;
    btn.setAttribute("aria-expanded", "true");
    placeMenu();
    var first = menu.querySelector(".act-item");
    if (first) { first.focus({preventScroll: true}); }
  }

  // placeMenu keeps the menu under (or above) its button, also while the page scrolls.
  function placeMenu() {
    var btn = gov.menuFor, menu = $("#act-menu");
    // A finished sync re-renders the Users table under an open menu: the menu keeps its place
    // and its user, so the click the admin is about to make still means what it shows.
    if (!btn || !btn.isConnected) { return; }
    var r = btn.getBoundingClientRect();
    if (r.bottom < 0 || r.top > window.innerHeight) { closeMenu(); return; }
    var w = menu.offsetWidth, h = menu.offsetHeight;
    var top = r.bottom + 4;
    if (top + h > window.innerHeight - 8 && r.top - h - 4 > 8) { top = r.top - h - 4; }
    menu.style.top = Math.max(8, top) + "px";
    menu.style.left = Math.max(8, Math.min(r.right - w, window.innerWidth - w - 8)) + "px";
  }

  function closeMenu() {
    if (gov.menuFor) { gov.menuFor.removeAttribute("aria-expanded"); }
    gov.menuFor = null;
    $("#act-menu").hidden = true;
  }

  // ---- the confirmation ------------------------------------------------------------------

  // openAction checks the action against Atlassian (PlanAction changes nothing) and shows the
  // verdict before anything can be sent. opts.alertId links the action to an alert.
  function openAction(action, ref, opts) {
    opts = opts || {};
    var m = {action: action, ref: ref, plan: null, alertId: opts.alertId || "", busy: false};
    gov.modal = m;

    var box = $("#gov-modal");
    box.hidden = false;
    box.setAttribute("data-action", action);
    box.setAttribute("data-verdict", "loading");
    box.removeAttribute("data-status");
    $("#gov-title").textContent = title(action);
    renderWho(ref, null);
    $("#gov-dry").checked = false;
    $("#gov-dry-label").hidden = true;
    $("#gov-confirm").hidden = true;
    $("#gov-cancel").textContent = "Cancel";
    var body = $("#gov-body");
    clear(body);
    append(body, el("div", {class: "verdict verdict-busy",
      text: "Checking " + userName(ref) + "\u2019s current state in Atlassian\u2026"}));
    $("#gov-cancel").focus();

    call("PlanAction", {org: W.orgId(), action: action, user: ref.id || ref.email,
      alert_id: m.alertId}).then(function (plan) {
      if (gov.modal !== m) { return; }
      m.plan = plan || {};
      renderPlan(m);
    }, function (e) {
      if (gov.modal !== m) { return; }
      box.setAttribute("data-verdict", "error");
      clear(body);
      append(body, el("div", {class: "verdict verdict-refused", id: "gov-verdict"},
        el("strong", {text: "Cannot check this action. "}), W.errText(e),
        el("div", {class: "small", text: "Nothing was sent to Atlassian."})));
      $("#gov-cancel").textContent = "Close";
    });
  }

  function renderWho(ref, t) {
    var who = $("#gov-who");
    clear(who);
    var name = (t && t.name) || ref.name || "(no name)";
    var email = (t && t.email) || ref.email;
    var admin = t ? t.orgAdmin : ref.admin;
    var source = t ? t.managementSource : ref.source;
    append(who, el("strong", {class: "gov-who-name", text: name}),
      email ? el("span", {class: "gov-who-email", text: email}) : null,
      admin ? badge("admin", "Org admin") : null,
      source === "synced" ? badge("neutral", "SCIM synced",
        "Managed by the organization's identity provider") : null,
      source === "google" ? badge("neutral", "Google synced") : null,
      t ? statusBadges(t) : null);
    var id = (t && t.accountId) || ref.id;
    if (id) { append(who, el("div", {class: "mono muted small", text: id})); }
  }

  function statusBadges(t) {
    var out = [];
    var s = (t.membershipStatus || t.status || "").toLowerCase();
    if (s === "suspended") { out.push(badge("warn", "Access suspended")); }
    else if (s === "active") { out.push(badge("ok", "Access active")); }
    var a = (t.accountStatus || "").toLowerCase();
    if (a && a !== "active") { out.push(badge("bad", "Account " + a)); }
    out.forEach(function (b) { b.classList.add("gov-state"); });
    return out;
  }

  function renderPlan(m) {
    var p = m.plan, d = p.description || {}, t = p.target || {};
    var box = $("#gov-modal");
    box.setAttribute("data-verdict", p.verdict || "");
    if (d.title) { $("#gov-title").textContent = d.title; }
    renderWho(m.ref, t);
    var name = t.name || userName(m.ref);

    var body = $("#gov-body");
    clear(body);
    if (p.verdict === "ready") {
      append(body, el("div", {class: "verdict verdict-ready", id: "gov-verdict"},
        el("strong", {text: "\u2713 Ready. "}),
        "Warden checked " + name + "\u2019s current state in Atlassian just now.",
        p.reason ? el("div", {text: p.reason}) : null));
    } else if (p.verdict === "already_done") {
      append(body, el("div", {class: "verdict verdict-done", id: "gov-verdict"},
        el("strong", {text: "Nothing to do. "}), p.reason || "This is already done.",
        el("div", {class: "small", text: "Warden does not send an action that is already " +
          "in effect."})));
    } else {
      append(body, el("div", {class: "verdict verdict-refused", id: "gov-verdict"},
        el("strong", {text: "\u2717 This action cannot be sent. "}),
        p.reason || "Atlassian's permission check refused it.",
        p.reasonKey ? el("div", {class: "small"}, "Atlassian reason: ",
          el("span", {class: "mono", text: p.reasonKey})) : null));
    }

    if (t.protected || t.orgAdmin) {
      append(body, el("div", {class: "gov-note"}, el("strong", {text: "Org admin. "}),
        "Policies never act on this account automatically; a manual action like this one " +
        "is allowed. Make sure another admin keeps access."));
    }

    // "Require sign-in again" cannot promise what its name suggests; say so first.
    if (m.action === "reauth" && d.doesNot) {
      append(body, el("div", {class: "gov-honest", id: "gov-honest"},
        el("strong", {text: "Open browser sessions may survive."}),
        el("p", {text: d.doesNot})));
    }

    var dl = el("dl", {class: "fields gov-fields"});
    function field(label, key, value) {
      if (!value) { return; }
      append(dl, el("dt", {text: label}), el("dd", {"data-field": key}, value));
    }
    field("What it does", "does", d.does);
    if (m.action !== "reauth") { field("What it does not do", "doesNot", d.doesNot); }
    field("Reach", "reach", d.reach);
    field("Undo", "undo", d.undo);
    append(body, dl);

    // A copy of the notification can go to other admins, so they know the user was told.
    if (p.verdict === "ready" && m.action === "notify") {
      append(body, el("div", {class: "field gov-cc"},
        el("label", {for: "gov-cc", text: "Also send a copy to (optional)"}),
        el("input", {id: "gov-cc", type: "text", spellcheck: "false", autocomplete: "off",
          placeholder: "admin emails, comma-separated", oninput: function (ev) {
            ev.target.classList.remove("invalid");
            var hint = $("#gov-cc-hint");
            hint.className = "hint";
            hint.textContent = "They get the same email as " + name + ".";
          }}),
        el("span", {class: "hint", id: "gov-cc-hint", text: "They get the same email as " +
          name + "."})));
    }

    var steps = p.steps || [];
    append(body, el("h3", {id: "gov-steps-title", text: p.verdict === "ready"
      ? "Calls Warden will make" : "Calls Warden would have made"}));
    if (steps.length) {
      append(body, el("ol", {class: "steps", id: "gov-steps"}, steps.map(stepItem)));
    } else {
      append(body, el("p", {class: "muted small", text: p.verdict === "ready"
        ? "No call is needed." : "None: nothing will be sent."}));
    }

    var ready = p.verdict === "ready";
    $("#gov-dry-label").hidden = !ready;
    var btn = $("#gov-confirm");
    btn.hidden = !ready;
    btn.disabled = false;
    btn.className = "btn " + (HARSH[m.action] ? "btn-danger-solid" : "btn-primary");
    m.label = confirmLabel(m.action, name);
    updateConfirm();
    $("#gov-cancel").textContent = ready ? "Cancel" : "Close";
    (ready ? btn : $("#gov-cancel")).focus();
    if (ready && m.action === "notify") { checkMailReady(m); }
  }

  // checkMailReady says before the click that a notification cannot go out without an SMTP
  // server, instead of letting it fail.
  function checkMailReady(m) {
    call("EmailSettings").then(function (v) {
      if (gov.modal !== m || m.busy || (v && v.configured)) { return; }
      m.mailMissing = true;
      updateConfirm();
      var verdict = $("#gov-verdict");
      var note = el("div", {class: "verdict verdict-refused", id: "gov-mail-missing"},
        el("strong", {text: "No SMTP server configured. "}),
        "Warden cannot send the email until one is set up in ",
        el("a", {href: "#settings", text: "Settings", onclick: closeModal}),
        ". A dry run still works.");
      verdict.parentNode.replaceChild(note, verdict);
    }, function () { /* the run reports the problem */ });
  }

  function stepItem(s) {
    return el("li", {class: "step"},
      el("span", {class: "step-method mono", text: s.method}),
      el("span", {class: "step-path mono", text: s.path}),
      s.what ? el("span", {class: "step-what muted small", text: s.what}) : null);
  }

  function updateConfirm() {
    var m = gov.modal;
    if (!m || !m.label) { return; }
    var dry = $("#gov-dry").checked;
    $("#gov-confirm").disabled = !!m.mailMissing && !dry;
    $("#gov-confirm").textContent = dry
      ? "Dry run: " + m.label.charAt(0).toLowerCase() + m.label.slice(1) : m.label;
  }

  function confirmAction() {
    var m = gov.modal;
    if (!m || !m.plan || m.busy) { return; }
    m.busy = true;
    var dry = $("#gov-dry").checked;
    var btn = $("#gov-confirm");
    btn.disabled = true;
    btn.textContent = dry ? "Recording the dry run\u2026" : "Sending\u2026";
    $("#gov-dry").disabled = true;
    var t = m.plan.target || {};
    var ccBox = $("#gov-cc");
    var cc = ccBox ? ccBox.value.split(/[,;\s]+/).filter(Boolean) : [];
    var bad = cc.filter(function (a) { return !/^[^@\s]+@[^@\s]+$/.test(a); });
    if (bad.length) {
      m.busy = false;
      $("#gov-dry").disabled = false;
      updateConfirm();
      ccBox.classList.add("invalid");
      var hint = $("#gov-cc-hint");
      hint.className = "hint hint-bad";
      hint.textContent = "\u201c" + bad[0] + "\u201d is not an email address.";
      ccBox.focus();
      return;
    }
    if (ccBox) { ccBox.disabled = true; }
    call("RunAction", {org: W.orgId(), action: m.action,
      user: t.accountId || m.ref.id || m.ref.email, alert_id: m.alertId, dry_run: dry,
      cc: cc.length ? cc : undefined})
      .then(function (entry) {
        if (gov.modal !== m) { return; }
        renderOutcome(m, entry || {});
        if (entry && entry.status === "done" && m.action !== "notify") {
          W.syncNow(); // the Users page shows the new status once the directory is re-read
        }
      }, function (e) {
        if (gov.modal !== m) { return; }
        renderOutcome(m, {status: "failed", reason: W.errText(e)});
      }).then(function () {
        m.busy = false;
        $("#gov-dry").disabled = false;
        if (W.page() === "governance") { loadLog(); }
      });
  }

  var HEADLINES = {
    done: "\u2713 Done.",
    would_do: "Dry run recorded in the governance log.",
    already_done: "Already done: nothing was sent.",
    refused: "\u2717 Refused: nothing was sent.",
    failed: "\u2717 The action failed.",
    pending: "The outcome is not recorded yet.",
    interrupted: "Interrupted."
  };

  function renderOutcome(m, e) {
    var box = $("#gov-modal");
    box.setAttribute("data-status", e.status || "");
    $("#gov-confirm").hidden = true;
    $("#gov-dry-label").hidden = true;
    $("#gov-cancel").textContent = "Close";

    var kind = e.status === "done" ? "ok" : e.status === "failed" || e.status === "refused"
      ? "bad" : "neutral";
    var out = el("div", {class: "outcome outcome-" + kind, id: "gov-outcome",
      "data-status": e.status},
    el("div", {class: "outcome-head"}, statusBadge(e),
      el("strong", {text: HEADLINES[e.status] || e.status})),
    e.reason ? el("div", {class: "outcome-reason", text: e.reason}) : null,
    m.action === "notify" && e.recipients && e.recipients.length
      ? el("div", {class: "small", id: "gov-recipients", text: (e.status === "done"
        ? "Sent to " : "Recipients: ") + e.recipients.join(", ")}) : null);

    if (e.httpStatus || e.errorBody || (e.error && e.status === "failed")) {
      var dl = el("dl", {class: "fields"});
      if (e.httpStatus) {
        append(dl, el("dt", {text: "Atlassian status"}), el("dd", null, httpBadge(e.httpStatus)));
      }
      if (e.error) {
        append(dl, el("dt", {text: "Error"}), el("dd", {class: "mono", text: e.error}));
      }
      append(out, dl);
      if (e.errorBody) {
        append(out, el("div", {class: "small muted", text: "Atlassian's answer:"}),
          el("pre", {class: "raw raw-small", text: e.errorBody}));
      }
    }
    if (e.requests && e.requests.length) {
      append(out, el("div", {class: "small muted", text: "Requests as sent:"}),
        el("ol", {class: "steps"}, e.requests.map(requestItem)));
    }

    var links = el("div", {class: "outcome-links"});
    if (e.id) {
      append(links, el("a", {href: "#governance", text: "Open in the governance log",
        onclick: function () { gov.selectedId = e.id; closeModal(); }}));
    }
    var undo = m.plan && m.plan.description && m.plan.description.undoAction;
    if (e.status === "done" && undo) {
      append(links, el("button", {type: "button", class: "btn btn-small", id: "gov-undo",
        text: "Undo: " + title(undo), onclick: function () { openAction(undo, m.ref); }}));
    }
    if (links.firstChild) { append(out, links); }

    // What was checked before is history now: the live state badges and "will make" are stale.
    var body = $("#gov-body");
    var verdict = $("#gov-verdict");
    if (verdict && verdict.classList.contains("verdict-ready")) { verdict.remove(); }
    var st = $("#gov-steps-title");
    if (st) { st.textContent = "Planned calls"; }
    if (e.status === "done") {
      document.querySelectorAll("#gov-who .gov-state").forEach(function (b) { b.remove(); });
    }
    body.insertBefore(out, body.firstChild);
    body.scrollTop = 0;
    $("#gov-cancel").focus();
  }

  function requestItem(x) {
    return el("li", {class: "step"},
      el("span", {class: "step-method mono", text: x.method}),
      el("span", {class: "step-path mono", text: x.path}),
      el("span", {class: "step-what"}, httpBadge(x.status),
        x.error ? el("span", {class: "small", text: " " + x.error}) : null));
  }

  function closeModal() {
    gov.modal = null;
    $("#gov-modal").hidden = true;
  }

  // ---- Users rows and the event detail panel ---------------------------------------------

  function userCell(u) {
    return actionsButton({id: u.account_id, email: u.email, name: u.name, admin: u.admin,
      source: u.source, status: u.status});
  }

  // eventActions offers to act on the event's actor and on each target that is a user.
  function eventActions(d, box) {
    var e = d.event || {};
    var people = [];
    var seen = {};
    function add(role, ref) {
      var key = ref.id || ref.email;
      if (!key || seen[key] || /^atlassian-internal/.test(key)) { return; }
      seen[key] = true;
      people.push({role: role, ref: ref});
    }
    if (e.actor_id || e.actor_email) {
      var actor = userRef(e.actor_id, e.actor_email, e.actor_name);
      if (d.actor_admin) { actor.admin = true; }
      add("Actor", actor);
    }
    (e.targets || []).forEach(function (o) {
      if (/^user/i.test(o.type || "") && (o.id || o.email)) {
        add("Target user", userRef(o.id, o.email, o.name));
      }
    });
    if (!people.length) { return; }

    append(box, el("div", {class: "detail-actions-title", text: "Respond"}));
    people.forEach(function (p) {
      var r = p.ref;
      append(box, el("div", {class: "act-row", "data-role": p.role === "Actor" ? "actor"
        : "target"},
      el("span", {class: "act-role muted small", text: p.role}),
      el("span", {class: "act-who", title: [r.name, r.email, r.id].filter(Boolean).join("\n")},
        el("strong", {text: userName(r)}),
        r.admin ? [" ", badge("admin", "Org admin")] : null,
        r.source === "synced" ? [" ", badge("neutral", "SCIM synced")] : null,
        r.email && r.email !== r.name ? el("span", {class: "muted small", text: " " + r.email})
          : null),
      actionsButton(r)));
    });
  }

  // ---- governance log page ---------------------------------------------------------------

  function fillActionFilter() {
    var sel = $("#gov-filter-action");
    var keep = sel.value;
    clear(sel);
    append(sel, el("option", {value: "", text: "Any action"}));
    GROUPS.forEach(function (g) {
      g.forEach(function (a) { append(sel, el("option", {value: a, text: title(a)})); });
    });
    sel.value = keep;
  }

  function fillStatusFilter() {
    var sel = $("#gov-filter-status");
    Object.keys(STATUS).forEach(function (s) {
      append(sel, el("option", {value: s, text: STATUS[s].text}));
    });
  }

  function loadLog() {
    var q = {user: $("#gov-filter-user").value.trim(), action: $("#gov-filter-action").value,
      status: $("#gov-filter-status").value, limit: LOG_LIMIT};
    var table = $("#gov-log");
    table.setAttribute("data-loading", "true");
    return call("GovernanceLog", q).then(function (list) {
      W.clearBanner("governance");
      gov.entries = list || [];
      renderLog(q);
      if (gov.selectedId) {
        var e = findEntry(gov.selectedId);
        if (e) { openEntry(e); } else { closeEntry(); }
      }
    }, function (e) {
      W.showBanner("governance", "Cannot load the governance log", e);
    }).then(function () { table.removeAttribute("data-loading"); });
  }

  function findEntry(id) {
    for (var i = 0; i < gov.entries.length; i++) {
      if (gov.entries[i].id === id) { return gov.entries[i]; }
    }
    return null;
  }

  function logRow(e) {
    var d = W.parseTime(e.time);
    var who = e.userName || e.userEmail || e.userInput || e.user;
    var sub = e.userName && e.userEmail ? e.userEmail : (e.userName ? e.user : "");
    function open() { openEntry(e); }
    return el("tr", {"data-id": e.id, "data-status": e.status, "data-action": e.action,
      "data-user": e.user, tabindex: "0", class: e.id === gov.selectedId ? "selected" : "",
      onclick: open, onkeydown: function (ev) { if (ev.key === "Enter") { open(); } }},
    el("td", {title: d ? W.fmtUTC(d) : e.time},
      el("span", {class: "cell-main", text: d ? W.fmtLocal(d) : W.dash(e.time)}),
      el("span", {class: "cell-sub", text: d ? W.fmtAgo(d) : ""})),
    el("td", null, el("span", {class: "cell-main"}, title(e.action)),
      el("span", {class: "cell-sub mono", text: e.action})),
    el("td", {title: [who, e.userEmail, e.user].filter(Boolean).join("\n")},
      el("span", {class: "cell-main", text: W.dash(who)}),
      el("span", {class: "cell-sub", text: sub})),
    el("td", {title: e.trigger + (e.alertId ? "\nalert " + e.alertId : "")},
      el("span", {class: "cell-main", text: triggerParts(e.trigger)[0]}),
      el("span", {class: "cell-sub", text: e.alertId ? "alert " + e.alertId
        : triggerParts(e.trigger)[1]})),
    el("td", null, statusBadge(e)),
    el("td", {class: "gcol-reason", title: e.reason || ""},
      el("span", {class: "cell-wrap", text: W.dash(e.reason)})));
  }

  function renderLog(q) {
    var tbody = $("#gov-log tbody");
    clear(tbody);
    gov.entries.forEach(function (e) { tbody.appendChild(logRow(e)); });
    var filtered = q && (q.user || q.action || q.status);
    var empty = $("#gov-empty");
    empty.hidden = gov.entries.length > 0;
    empty.textContent = filtered ? "No actions match these filters."
      : "No governance action yet. Act on a user from the Users page or an event's detail " +
        "panel; every action is recorded here before it is sent.";
    var n = gov.entries.length;
    $("#gov-count").textContent = n ? W.fmtNum(n) + (n === 1 ? " entry" : " entries") +
      (n >= LOG_LIMIT ? " (the newest " + LOG_LIMIT + ")" : "") + ", newest first" : "";
    $("#gov-export-json").disabled = !n;
    $("#gov-export-csv").disabled = !n;
  }

  function openEntry(e) {
    gov.selectedId = e.id;
    document.querySelectorAll("#gov-log tbody tr").forEach(function (tr) {
      tr.classList.toggle("selected", tr.getAttribute("data-id") === e.id);
    });
    var drawer = $("#gov-detail");
    drawer.hidden = false;
    drawer.setAttribute("data-id", e.id);
    drawer.setAttribute("data-status", e.status);
    $("#gov-detail-title").textContent = title(e.action);
    var d = W.parseTime(e.time);
    $("#gov-detail-sub").textContent = (e.userName || e.userEmail || e.user || "") +
      (d ? " \u00b7 " + W.fmtLocal(d) : "");

    var dl = $("#gov-detail-fields");
    clear(dl);
    function section(t) { dl.appendChild(el("div", {class: "section", text: t})); }
    function field(label, key, value) {
      if (value === undefined || value === null || value === "") { value = "\u2014"; }
      dl.appendChild(el("dt", {text: label}));
      dl.appendChild(el("dd", {"data-field": key}, value));
    }
    function mono(v) { return v ? el("span", {class: "mono", text: v}) : null; }

    section("Outcome");
    field("Status", "status", [statusBadge(e), e.dryRun ? [" ", badge("neutral", "Dry run")]
      : null, e.simulate ? [" ", badge("neutral", "Simulation")] : null]);
    field("Reason", "reason", e.reason);
    if (e.reasonKey) { field("Reason key", "reasonKey", mono(e.reasonKey)); }
    if (e.httpStatus) { field("Atlassian status", "httpStatus", httpBadge(e.httpStatus)); }
    if (e.error) { field("Error", "error", mono(e.error)); }
    if (e.errorBody) {
      field("Error body", "errorBody", el("pre", {class: "raw raw-small", text: e.errorBody}));
    }

    section("What and who");
    field("Action", "action", [title(e.action), " ", el("span", {class: "mono muted",
      text: "(" + e.action + ")"})]);
    field("User", "userName", e.userName);
    field("Email", "userEmail", e.userEmail);
    field("Account ID", "user", mono(e.user));
    if (e.userInput) { field("Requested as", "userInput", mono(e.userInput)); }
    field("Trigger", "trigger", [triggerText(e.trigger), " ", el("span",
      {class: "mono muted", text: "(" + (e.trigger || "") + ")"})]);
    if (e.alertId) { field("Alert", "alertId", mono(e.alertId)); }
    if (e.recipients && e.recipients.length) {
      field("Recipients", "recipients", e.recipients.join(", "));
    }
    field("Recorded", "time", W.timeValue(e.time));
    field("Updated", "updated", W.timeValue(e.updated));

    section("Planned calls");
    field("Steps", "steps", e.steps && e.steps.length
      ? el("ol", {class: "steps"}, e.steps.map(stepItem)) : "None");
    section("Requests as sent");
    field("Requests", "requests", e.requests && e.requests.length
      ? el("ol", {class: "steps"}, e.requests.map(requestItem))
      : (e.status === "would_do" ? "None (dry run)" : "None"));

    $("#gov-detail-raw").textContent = JSON.stringify(e, null, 2);
  }

  function closeEntry() {
    gov.selectedId = "";
    $("#gov-detail").hidden = true;
    document.querySelectorAll("#gov-log tbody tr.selected").forEach(function (tr) {
      tr.classList.remove("selected");
    });
  }

  // ---- export ----------------------------------------------------------------------------

  var CSV_HEADER = ["id", "time", "action", "user", "user_email", "trigger", "alert_id",
    "status", "reason", "reason_key", "http_status", "error", "requests"];

  // csvCell quotes a cell and defuses spreadsheet formulas, as the CLI's CSV does: names and
  // error bodies come from outside.
  function csvCell(v) {
    var s = v === undefined || v === null ? "" : String(v);
    if (s && "=+-@\t\r".indexOf(s.charAt(0)) >= 0) { s = "'" + s; }
    return /[",\r\n]/.test(s) ? "\"" + s.replace(/"/g, "\"\"") + "\"" : s;
  }

  function toCSV(entries) {
    var lines = [CSV_HEADER.join(",")];
    entries.forEach(function (e) {
      var reqs = (e.requests || []).map(function (x) {
        return [x.method, x.path, x.status ? String(x.status) : "no answer"].join(" ").trim();
      }).join("; ");
      var d = W.parseTime(e.time);
      lines.push([e.id, d ? d.toISOString().replace(/\.\d+Z$/, "Z") : e.time, e.action,
        e.user, e.userEmail, e.trigger, e.alertId, e.status, e.reason, e.reasonKey,
        e.httpStatus || "", e.error, reqs].map(csvCell).join(","));
    });
    return lines.join("\r\n") + "\r\n";
  }

  function toJSONLines(entries) {
    return entries.map(function (e) { return JSON.stringify(e); }).join("\n") + "\n";
  }

  function download(name, type, text) {
    var url = URL.createObjectURL(new Blob([text], {type: type}));
    var a = el("a", {href: url, download: name, hidden: true});
    document.body.appendChild(a);
    a.click();
    setTimeout(function () { URL.revokeObjectURL(url); a.remove(); }, 1000);
  }

  function exportName(ext) {
    var d = new Date();
    function p(n) { return (n < 10 ? "0" : "") + n; }
    return "warden-governance-" + d.getFullYear() + p(d.getMonth() + 1) + p(d.getDate()) +
      "-" + p(d.getHours()) + p(d.getMinutes()) + p(d.getSeconds()) + "." + ext;
  }

  // ---- settings page ---------------------------------------------------------------------

  function smtpResult(kind, text) {
    var box = $("#smtp-result");
    box.hidden = false;
    box.className = "conn-result " + kind;
    box.setAttribute("data-state", kind);
    box.textContent = text;
  }

  function loadSettings() {
    return call("EmailSettings").then(function (v) {
      v = v || {};
      var c = v.config || {};
      $("#smtp-host").value = c.host || "";
      $("#smtp-port").value = c.port ? String(c.port) : "";
      $("#smtp-security").value = c.security || "starttls";
      $("#smtp-user").value = c.username || "";
      $("#smtp-from").value = c.from || "";
      $("#smtp-pass").value = "";
      var has = !!v.has_password;
      var pass = $("#smtp-pass");
      pass.placeholder = has ? "unchanged (in the keychain)" : "not set";
      var st = $("#smtp-pass-state");
      st.setAttribute("data-has-password", has ? "true" : "false");
      st.textContent = has ? "\u2713 A password is stored in the system keychain."
        : "No password stored. Needed only when a username is set.";
      st.className = "hint" + (has ? " hint-ok" : "");
      var t = v.template || {};
      $("#smtp-subject").value = t.subject || "";
      $("#smtp-body").value = t.body || "";
      $("#smtp-form").setAttribute("data-configured", v.configured ? "true" : "false");
      gov.smtpDirty = false;
    }, function (e) {
      W.showBanner("settings", "Cannot read the email settings", e);
    });
  }

  function readSMTP() {
    var port = $("#smtp-port").value.trim();
    return {
      config: {host: $("#smtp-host").value.trim(), port: port ? Number(port) : 0,
        security: $("#smtp-security").value, username: $("#smtp-user").value.trim(),
        from: $("#smtp-from").value.trim()},
      password: $("#smtp-pass").value,
      template: {subject: $("#smtp-subject").value, body: $("#smtp-body").value}
    };
  }

  function checkSMTP(req) {
    var c = req.config;
    if (!c.host) { return "Enter the SMTP server's host name."; }
    if (c.port && (!(c.port >= 1 && c.port <= 65535) || c.port % 1)) {
      return "The port must be a number from 1 to 65535.";
    }
    if (!c.from) { return "Enter the From address, e.g. Warden <warden@example.com>."; }
    if (!req.template.subject.trim() || !req.template.body.trim()) {
      return "The notification template needs a subject and a body.";
    }
    return "";
  }

  function setSMTPBusy(busy) {
    $("#smtp-save").disabled = busy;
    $("#smtp-test").disabled = busy;
  }

  function saveSettings(ev) {
    ev.preventDefault();
    var req = readSMTP();
    var problem = checkSMTP(req);
    if (problem) { smtpResult("bad", problem); return; }
    setSMTPBusy(true);
    smtpResult("busy", "Saving\u2026");
    var withPassword = !!req.password;
    call("SaveEmailSettings", req).then(function () {
      smtpResult("ok", "\u2713 Saved." + (withPassword
        ? " The password is in the system keychain." : ""));
      return loadSettings();
    }, function (e) {
      smtpResult("bad", "\u2717 " + W.errText(e));
    }).then(function () { setSMTPBusy(false); });
  }

  function sendTest() {
    var to = $("#smtp-test-to").value.trim();
    if (!to || to.indexOf("@") < 1) {
      smtpResult("bad", "Enter the address to send the test email to.");
      return;
    }
    if (gov.smtpDirty) {
      smtpResult("bad", "Save the settings first: the test email uses the saved settings.");
      return;
    }
    setSMTPBusy(true);
    smtpResult("busy", "Sending a test email to " + to + "\u2026");
    call("SendTestEmail", to).then(function (msg) {
      smtpResult("ok", "\u2713 " + (msg || "Test email sent to " + to + "."));
    }, function (e) {
      smtpResult("bad", "\u2717 " + W.errText(e));
    }).then(function () { setSMTPBusy(false); });
  }

  function renderTemplateFields() {
    var dl = $("#tmpl-fields");
    clear(dl);
    TEMPLATE_FIELDS.forEach(function (f) {
      append(dl, el("dt", {class: "mono", text: f[0]}), el("dd", {text: f[1]}));
    });
  }

  // ---- wiring ----------------------------------------------------------------------------

  function init() {
    fillActionFilter();
    fillStatusFilter();
    renderTemplateFields();

    $("#gov-close").addEventListener("click", closeModal);
    $("#gov-cancel").addEventListener("click", closeModal);
    $("#gov-confirm").addEventListener("click", confirmAction);
    $("#gov-dry").addEventListener("change", updateConfirm);
    $("#gov-modal").addEventListener("click", function (ev) {
      if (ev.target === ev.currentTarget && !(gov.modal && gov.modal.busy)) { closeModal(); }
    });

    document.addEventListener("click", function (ev) {
      if (gov.menuFor && !$("#act-menu").contains(ev.target)) { closeMenu(); }
    });
    window.addEventListener("resize", placeMenu);
    document.addEventListener("scroll", placeMenu, true);
    // Escape closes the innermost layer only: the menu, then the dialog, then the drawer.
    window.addEventListener("keydown", function (ev) {
      if (ev.key !== "Escape") { return; }
      if (gov.menuFor) {
        var btn = gov.menuFor;
        closeMenu();
        btn.focus();
        ev.stopPropagation();
      } else if (gov.modal) {
        if (!gov.modal.busy) { closeModal(); }
        ev.stopPropagation();
      } else if (!$("#gov-detail").hidden) {
        closeEntry();
      }
    }, true);

    $("#gov-filters").addEventListener("submit", function (ev) {
      ev.preventDefault();
      closeEntry();
      loadLog();
    });
    $("#gov-filter-reset").addEventListener("click", function () {
      $("#gov-filters").reset();
      closeEntry();
      loadLog();
    });
    $("#gov-detail-close").addEventListener("click", closeEntry);
    $("#gov-export-json").addEventListener("click", function () {
      download(exportName("jsonl"), "application/x-ndjson", toJSONLines(gov.entries));
    });
    $("#gov-export-csv").addEventListener("click", function () {
      download(exportName("csv"), "text/csv", toCSV(gov.entries));
    });

    $("#smtp-form").addEventListener("submit", saveSettings);
    $("#smtp-test").addEventListener("click", sendTest);
    $("#smtp-form").addEventListener("input", function (ev) {
      if (ev.target.id !== "smtp-test-to") { gov.smtpDirty = true; }
    });

    window.addEventListener("hashchange", function () {
      if (location.hash !== "#governance") { closeEntry(); }
    });

    loadDescriptions();
    W.onUserRow(userCell);
    W.onEventDetail(eventActions);
    W.registerPage("governance", loadLog);
    W.registerPage("settings", loadSettings);
  }

  // The Alerts page (and anything else) opens the same confirmation with this.
  W.governance = {
    open: function (action, user, opts) {
      openAction(action, userRef(user && user.id, user && user.email, user && user.name),
        opts);
    },
    actionsButton: actionsButton
  };

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();

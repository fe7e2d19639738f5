// Warden policies UI: the seven built-in policies (enable, sensitivity, learning, scope, and
// the automatic response), the custom activity policies with a form builder, a simulation over
// stored history and their own automatic response, the activity mapping table, and the About
// page with the offline data sources and their licences. Like app.js it inserts data as text
// only.
(function () {
  "use strict";

  var W = window.Warden;
  if (!W) { return; }
  var $ = W.$, el = W.el, clear = W.clear, call = W.call, badge = W.badge;

  function append(node) {
    for (var i = 1; i < arguments.length; i++) { W.append(node, arguments[i]); }
  }

  var SIM_SHOWN = 25;
  var MAP_SHOWN = 400;

  // What each built-in policy looks for, and what the sensitivity levels change
  // (backend/detect/policies.md says the same at length).
  var ABOUT = {
    anonymous_ip: ["Activity from Tor exits, anonymous proxies and ranges tagged Risky.",
      "Low: only logins, admin actions and impersonation. Medium and high: any activity " +
      "but a failed login."],
    infrequent_country: ["A country the user was not active from in the last 30 days, that " +
      "is not common in the organization. Three or more users new in one country at once is " +
      "an organization change, not an alert.",
    "Low and medium skip countries bordering one the user was recently in; high does not."],
    suspicious_ip: ["Threat-listed IPs, a success from an IP that had only failed before, and " +
      "password spray (one IP failing against many users).",
    "Thresholds: 10 / 5 / 3 failures before a success, 25 / 15 / 10 users for a spray."],
    impossible_travel: ["Two activities of one user farther apart, less both locations\u2019 " +
      "uncertainty, than a flight allows. Never for the same IP or network owner, Corporate " +
      "or VPN ranges, or neighbouring countries at country precision.",
    "Speed limit: 1,000 / 900 / 800 km/h, and more than 500 km."],
    multiple_failed_logins: ["Failed logins in 5 minutes far above the user\u2019s own worst " +
      "5 minutes of each recent day; a success after the failures raises the severity.",
    "Floor: 20 / 10 / 6 failures in 5 minutes."],
    unusual_admin_activity: ["A burst of administrative actions far above the actor\u2019s " +
      "busiest hour, or an admin action type the actor has never done.",
    "Burst floor 40 / 20 / 10 an hour. New types: never / privileged ones / any."],
    unusual_impersonation: ["\u201cLogged in as user\u201d against an org admin, by a " +
      "non-admin, or by an actor who does not usually impersonate.",
    "Low: only admin targets and non-admin actors. High: also each new target."]
  };

  var CATEGORIES = [["login_succeeded", "Login succeeded"], ["login_failed", "Login failed"],
    ["logout", "Logout"], ["impersonation", "Impersonation"],
    ["admin_action", "Admin action"], ["api_token_use", "API token use"],
    ["data_export", "Data export"], ["other", "Other"]];

  // The fields of detect.filterFields, in words; bool fields take true or false.
  var FIELDS = [
    ["action", "Action key", "text"], ["category", "Category", "category"],
    ["actor", "Actor (account ID or email)", "user"], ["target_user", "Target user", "user"],
    ["admin", "Is an admin action", "bool"], ["actor_admin", "Actor is an org admin", "bool"],
    ["impersonation", "Impersonation", "bool"], ["token", "Done with an API token", "bool"],
    ["token_label", "API token label", "text"], ["product", "Product", "text"],
    ["site", "Site", "text"], ["ip", "IP address", "text"],
    ["ip_category", "IP category", "ipcat"], ["ip_tag", "IP tag", "text"],
    ["country", "Country (ISO code or name)", "text"], ["city", "City", "text"]];

  var OPS = [["equals", "equals"], ["one_of", "is one of"], ["not", "is not"],
    ["not_one_of", "is none of"], ["is_set", "is set"], ["not_set", "is not set"]];

  var IP_CATEGORIES = ["corporate", "vpn", "cloud", "administrative", "risky"];

  // The actions a policy may take by itself, weakest first. Restore and reactivate undo an
  // action, so the backend refuses them as automatic responses and they are not offered.
  var AUTO_ACTIONS = [
    ["notify", "Notify the user", "an email telling them what was seen"],
    // Atlassian has no sign-out endpoint: say what the action does, not what its name hopes.
    ["reauth", "Require sign-in again", "revokes API tokens, suspends then restores access; " +
      "open browser sessions may survive"],
    ["revoke-tokens", "Revoke API tokens", "their personal API tokens stop working"],
    ["suspend", "Suspend access", "no product access until restored; includes notify"],
    ["deactivate", "Deactivate the account", "the whole Atlassian account, managed users only"]];

  var pol = {
    org: "",
    builtin: [],
    custom: [],
    mappings: [],
    auto: {}, // policy key (built-in id or custom policy id) -> {actions, simulate, ...}
    editing: null // the custom policy being edited (id, or "" for a new one)
  };

  // ---- built-in policies -----------------------------------------------------------------

  function loadPolicies() {
    var org = W.orgId();
    pol.org = org;
    var box = $("#builtin-policies");
    box.setAttribute("data-loading", "true");
    if (!W.statusKnown()) {
      // Drawing now would show every policy for no organization (all "Off"); the interval
      // in init draws them once the organization is known.
      pol.org = null;
      clear(box);
      append(box, el("div", {class: "panel muted", text: "Loading the policies\u2026"}));
      return Promise.resolve();
    }
    var autos = loadAutomations();
    var a = autos.then(function () { return call("Policies", org); }).then(function (list) {
      if (org !== W.orgId()) { return; }
      pol.builtin = list || [];
      renderBuiltin();
    }, function (e) { W.showBanner("policies", "Cannot load the policies", e); });
    var b = autos.then(loadCustom);
    var c = loadMappings();
    return Promise.all([a, b, c]).then(function () { box.removeAttribute("data-loading"); });
  }

  // loadAutomations reads the automatic responses before the policies are drawn, so no card
  // shows "Off" for a policy that acts.
  function loadAutomations() {
    var org = W.orgId();
    if (!org) { pol.auto = {}; return Promise.resolve(); }
    return call("Automations", org).then(function (m) {
      if (org === W.orgId()) { pol.auto = m || {}; }
    }, function (e) {
      pol.auto = {};
      W.showBanner("policies", "Cannot load the automatic responses", e);
    });
  }

  function renderBuiltin() {
    var box = $("#builtin-policies");
    clear(box);
    if (!pol.builtin.length) {
      append(box, el("div", {class: "panel muted", text: W.orgId()
        ? "No policies." : "Connect an organization to set its policies."}));
    }
    pol.builtin.forEach(function (p) { append(box, policyCard(p)); });
  }

  function listText(a) { return (a || []).join(", "); }

  function splitList(s) {
    return s.split(/[,\n]/).map(function (x) { return x.trim(); }).filter(Boolean);
  }

  function policyCard(p) {
    var c = p.config || {};
    var sc = c.scope || {};
    var about = ABOUT[p.id] || ["", ""];
    var id = "pol-" + p.id;
    function scopeField(key, label, value, hint) {
      return el("div", {class: "field"},
        el("label", {for: id + "-" + key, text: label}),
        el("input", {id: id + "-" + key, type: "text", "data-key": key, spellcheck: "false",
          value: listText(value), placeholder: hint, list: key.indexOf("users") > 0
            ? "user-list" : null}));
    }
    var card = el("form", {class: "pol-card" + (c.enabled ? "" : " off"),
      "data-policy": p.id, autocomplete: "off", onsubmit: function (ev) {
        ev.preventDefault();
        savePolicy(p, card);
      }},
    el("div", {class: "pol-card-head"},
      el("label", {class: "switch", title: c.enabled ? "Enabled" : "Disabled"},
        el("input", {type: "checkbox", class: "pol-enabled", id: id + "-enabled",
          checked: !!c.enabled, onchange: function (ev) {
            card.classList.toggle("off", !ev.target.checked);
            savePolicy(p, card);
          }}),
        el("span", {class: "switch-ui", "aria-hidden": "true"}),
        el("span", {class: "sr-only", text: "Enabled"})),
      el("div", {class: "pol-card-title"},
        el("strong", {text: p.name}),
        el("div", {class: "muted small", text: about[0]})),
      el("span", {class: "pol-state small", role: "status"})),
    el("details", {class: "pol-settings"},
      el("summary", {text: "Sensitivity, learning and scope"}),
      el("div", {class: "pol-grid"},
        el("div", {class: "field"},
          el("label", {for: id + "-sens", text: "Sensitivity"}),
          el("select", {id: id + "-sens", class: "pol-sens"},
            ["low", "medium", "high"].map(function (s) {
              return el("option", {value: s, text: W.capitalize(s) + (s === "medium"
                ? " (default)" : ""), selected: (c.sensitivity || "medium") === s});
            })),
          el("span", {class: "hint", text: about[1] ? "Low / medium / high. " + about[1]
            : ""})),
        el("div", {class: "field"},
          el("label", {for: id + "-learn", text: "Learning days"}),
          el("input", {id: id + "-learn", class: "pol-learn", type: "number", min: "0",
            max: "90", value: String(c.learning_days === undefined ? 7 : c.learning_days)}),
          el("span", {class: "hint", text: "No alert for a behaviour until it has been " +
            "watched this long. 0: no learning period."})),
        scopeField("include_users", "Only these users", sc.include_users,
          "everyone (emails or account IDs, comma-separated)"),
        scopeField("include_groups", "Only these groups", sc.include_groups,
          "e.g. org-admins, managed, department:Sales"),
        scopeField("exclude_users", "Never these users", sc.exclude_users, "nobody"),
        scopeField("exclude_groups", "Never these groups", sc.exclude_groups, "none")),
      el("div", {class: "form-actions"},
        el("button", {type: "submit", class: "btn btn-primary btn-small", text: "Save"}),
        el("span", {class: "hint", text: "Exclusion wins over inclusion. Built-in groups: " +
          "org-admins, managed, unmanaged, synced, department:<name>."}))),
    autoDetails(p.id));
    return card;
  }

  // ---- automatic responses ---------------------------------------------------------------

  function autoOf(key) {
    var a = pol.auto[key] || {};
    return {actions: a.actions || [], simulate: !!a.simulate,
      allow_protected: !!a.allow_protected};
  }

  function actionLabel(name) {
    for (var i = 0; i < AUTO_ACTIONS.length; i++) {
      if (AUTO_ACTIONS[i][0] === name) { return AUTO_ACTIONS[i][1]; }
    }
    return name;
  }

  // autoSummary says in a few words what a policy does by itself.
  function autoSummary(a) {
    if (!a.actions.length) { return "Off"; }
    return a.actions.map(actionLabel).join(", ") + (a.simulate ? " (simulation)" : "");
  }

  function autoBadge(a) {
    if (!a.actions.length) { return badge("neutral", "Off"); }
    return a.simulate ? badge("neutral", "Simulation", autoSummary(a))
      : badge("warn", "Acts", autoSummary(a));
  }

  // autoDetails is the collapsed "Automatic response" part of a policy card. It is a button,
  // not a second <details>, so the card keeps one summary (its settings).
  function autoDetails(key) {
    var a = autoOf(key);
    var sum = el("span", {class: "auto-sum"});
    function show(x) {
      clear(sum);
      append(sum, autoBadge(x), x.actions.length ? " " + x.actions.map(actionLabel)
        .join(", ") : null);
    }
    show(a);
    var body = autoBlock(key, show);
    body.hidden = true;
    var toggle = el("button", {type: "button", class: "auto-toggle", "aria-expanded": "false",
      onclick: function () {
        body.hidden = !body.hidden;
        toggle.setAttribute("aria-expanded", body.hidden ? "false" : "true");
      }}, el("span", {class: "auto-caret", "aria-hidden": "true"}), "Automatic response: ",
    sum);
    return el("div", {class: "pol-auto", "data-auto-policy": key}, toggle, body);
  }

  // autoBlock edits one policy's automatic response; key is a built-in policy id or a custom
  // policy's id. onSaved(auto) lets the caller redraw its summary.
  function autoBlock(key, onSaved) {
    var a = autoOf(key);
    // A policy that never acted starts in simulation: the first week shows what it would do.
    var simulate = a.actions.length ? a.simulate : true;
    var id = "auto-" + key.replace(/[^A-Za-z0-9_-]/g, "_");
    var state = el("span", {class: "auto-state small", role: "status"});
    var warn = el("div", {class: "auto-warn small", hidden: !a.allow_protected},
      el("strong", {text: "Careful: "}), "a policy could then suspend the admins who would " +
      "restore access, or the account Warden connects with. Keep another admin outside " +
      "this policy's scope.");
    var protectedBox = el("input", {type: "checkbox", class: "auto-protected",
      id: id + "-protected", checked: a.allow_protected, onchange: function (ev) {
        warn.hidden = !ev.target.checked;
      }});
    var simBox = el("input", {type: "checkbox", class: "auto-simulate", id: id + "-simulate",
      checked: simulate});
    var block = el("div", {class: "auto-block", "data-auto-policy": key},
      el("div", {class: "auto-title", text: "When this policy raises an alert"}),
      el("div", {class: "auto-actions"}, AUTO_ACTIONS.map(function (x) {
        return el("label", {class: "check auto-action", title: x[2]},
          el("input", {type: "checkbox", class: "auto-act", value: x[0],
            id: id + "-" + x[0], checked: a.actions.indexOf(x[0]) >= 0}),
          el("span", null, el("span", {class: "auto-action-name", text: x[1]}),
            el("span", {class: "auto-action-sub", text: x[2]})));
      })),
      el("label", {class: "check auto-sim"},
        el("span", {class: "switch"}, simBox,
          el("span", {class: "switch-ui", "aria-hidden": "true"})),
        el("span", {text: "Simulation: record what would have been done, don\u2019t act"})),
      el("label", {class: "check auto-prot"}, protectedBox,
        el("span", {text: "Also act on org admins and the connector\u2019s own account"})),
      warn,
      el("p", {class: "hint auto-note", text: "Automation acts only on alerts found after " +
        "the first history download, at most a day old; when several actions apply the " +
        "strongest wins (suspend contains notify)."}),
      el("div", {class: "form-actions"},
        el("button", {type: "button", class: "btn btn-primary btn-small auto-save",
          text: "Save automatic response", onclick: function () {
            saveAuto(key, block).catch(function () { /* shown beside the button */ });
          }}),
        state));
    block.onSaved = onSaved;
    block.addEventListener("change", function () {
      block.setAttribute("data-dirty", "true");
      state.className = "auto-state small";
      state.textContent = "Not saved yet";
    });
    return block;
  }

  function saveAuto(key, block) {
    var auto = {actions: [],
      simulate: block.querySelector(".auto-simulate").checked,
      allow_protected: block.querySelector(".auto-protected").checked};
    block.querySelectorAll(".auto-act").forEach(function (c) {
      if (c.checked) { auto.actions.push(c.value); }
    });
    var state = block.querySelector(".auto-state");
    state.className = "auto-state small";
    state.textContent = "Saving\u2026";
    block.removeAttribute("data-saved");
    return call("SetAutomation", W.orgId(), key, auto).then(function () {
      block.removeAttribute("data-dirty");
      pol.auto[key] = auto;
      state.className = "auto-state small ok";
      state.textContent = "\u2713 Saved: " + (auto.actions.length ? autoSummary(auto)
        : "no automatic response");
      block.setAttribute("data-saved", "true");
      if (block.onSaved) { block.onSaved(autoOf(key)); }
    }, function (e) {
      state.className = "auto-state small bad";
      state.textContent = "\u2717 " + W.errText(e);
      throw e;
    });
  }

  function savePolicy(p, card) {
    var cfg = Object.assign({}, p.config || {});
    cfg.enabled = card.querySelector(".pol-enabled").checked;
    cfg.sensitivity = card.querySelector(".pol-sens").value;
    var days = Number(card.querySelector(".pol-learn").value);
    var state = card.querySelector(".pol-state");
    if (!(days >= 0 && days <= 90) || days % 1) {
      state.className = "pol-state small bad";
      state.textContent = "\u2717 Learning days must be a whole number from 0 to 90.";
      return;
    }
    cfg.learning_days = days;
    cfg.scope = {};
    card.querySelectorAll("input[data-key]").forEach(function (inp) {
      var v = splitList(inp.value);
      if (v.length) { cfg.scope[inp.getAttribute("data-key")] = v; }
    });
    state.className = "pol-state small";
    state.textContent = "Saving\u2026";
    call("SetPolicy", W.orgId(), p.id, cfg).then(function () {
      p.config = cfg;
      state.className = "pol-state small ok";
      state.textContent = "\u2713 Saved" + (cfg.enabled ? "" : " (disabled)");
      card.setAttribute("data-saved", "true");
    }, function (e) {
      state.className = "pol-state small bad";
      state.textContent = "\u2717 " + W.errText(e);
    });
  }

  // ---- custom policies: list -------------------------------------------------------------

  function loadCustom() {
    var org = W.orgId();
    return call("CustomPolicies", org).then(function (list) {
      if (org !== W.orgId()) { return; }
      pol.custom = list || [];
      renderCustom();
    }, function (e) { W.showBanner("policies", "Cannot load the custom policies", e); });
  }

  function fieldLabel(f) {
    for (var i = 0; i < FIELDS.length; i++) { if (FIELDS[i][0] === f) { return FIELDS[i][1]; } }
    return f;
  }

  // summary says in words what a custom policy matches.
  function summary(p) {
    var parts = (p.filters || []).map(function (c) {
      var name = fieldLabel(c.field).replace(/ \(.*\)$/, "").toLowerCase();
      if (c.op === "is_set") { return name + (c.not ? " is not set" : " is set"); }
      var vals = (c.values || []).join(", ");
      if (c.op === "one_of") { return name + (c.not ? " is none of " : " is one of ") + vals; }
      return name + (c.not ? " is not " : " = ") + vals;
    });
    if (p.expression) { parts.push("expression " + p.expression); }
    var s = parts.join(" and ") || "\u2014";
    if (p.repeated) {
      s += "; " + p.repeated.count + "\u00d7 within " + p.repeated.within_minutes + " min per " +
        (p.repeated.per || "user");
    }
    return s;
  }

  function renderCustom() {
    var tbody = $("#custom-policies tbody");
    clear(tbody);
    pol.custom.forEach(function (p) {
      tbody.appendChild(el("tr", {"data-custom-id": p.id, "data-enabled": String(!!p.enabled)},
        el("td", null, el("span", {class: "cell-main", text: p.name}),
          el("span", {class: "cell-sub mono", text: p.id})),
        el("td", {title: summary(p)}, el("span", {class: "cell-wrap", text: summary(p)})),
        el("td", null, sevBadge(p.severity)),
        el("td", null, p.enabled ? badge("ok", "Enabled") : badge("neutral", "Disabled"),
          autoOf(p.id).actions.length ? el("span", {class: "cell-sub auto-cell",
            title: "Automatic response: " + autoSummary(autoOf(p.id)),
            text: autoOf(p.id).simulate ? "Auto: simulation" : "Auto: acts"}) : null),
        el("td", {class: "pcol-act"},
          el("button", {type: "button", class: "btn btn-small", text: "Edit",
            onclick: function () { openForm(p); }}),
          " ",
          el("button", {type: "button", class: "btn btn-small btn-danger", text: "Delete",
            onclick: function () { deleteCustom(p); }}))));
    });
    var empty = $("#custom-empty");
    empty.hidden = pol.custom.length > 0;
    empty.textContent = "No custom policy yet. Build one from activity filters, simulate it " +
      "on the stored history, then enable it.";
  }

  function sevBadge(s) {
    var kind = s === "high" ? "bad" : s === "medium" ? "warn" : "neutral";
    return el("span", {class: "badge badge-" + kind + " sev-badge sev-" + s,
      text: W.capitalize(s || "?")});
  }

  function deleteCustom(p) {
    if (!window.confirm("Delete the custom policy \u201c" + p.name + "\u201d? The alerts it " +
      "raised stay.")) { return; }
    call("DeleteCustomPolicy", W.orgId(), p.id).then(function () {
      if (pol.editing && pol.editing.id === p.id) { closeForm(); }
      return loadCustom();
    }, function (e) { W.showBanner("policies", "Cannot delete the policy", e); });
  }

  // ---- custom policies: the form builder -------------------------------------------------

  function condRow(c) {
    c = c || {field: "action", op: "equals", values: []};
    var op = c.op === "is_set" ? (c.not ? "not_set" : "is_set")
      : c.op === "one_of" ? (c.not ? "not_one_of" : "one_of") : (c.not ? "not" : "equals");
    var fieldSel = el("select", {class: "cond-field", "aria-label": "Field"},
      FIELDS.map(function (f) {
        return el("option", {value: f[0], text: f[1], selected: f[0] === c.field});
      }));
    var opSel = el("select", {class: "cond-op", "aria-label": "Operator"},
      OPS.map(function (o) {
        return el("option", {value: o[0], text: o[1], selected: o[0] === op});
      }));
    var valBox = el("span", {class: "cond-value-box"});
    var row = el("div", {class: "cond-row"}, fieldSel, opSel, valBox,
      el("button", {type: "button", class: "btn btn-icon btn-small cond-remove",
        "aria-label": "Remove this condition", title: "Remove this condition", text: "\u00d7",
        onclick: function () { row.remove(); }}));

    function kind() {
      for (var i = 0; i < FIELDS.length; i++) {
        if (FIELDS[i][0] === fieldSel.value) { return FIELDS[i][2]; }
      }
      return "text";
    }
    function renderValue(values) {
      clear(valBox);
      var o = opSel.value;
      if (o === "is_set" || o === "not_set") { return; }
      var k = kind();
      var v = (values || []).join(", ");
      var input;
      if (k === "bool") {
        input = el("select", {class: "cond-value", "aria-label": "Value"},
          el("option", {value: "true", text: "true", selected: v !== "false"}),
          el("option", {value: "false", text: "false", selected: v === "false"}));
      } else {
        var list = {category: "cp-categories", ipcat: "cp-ipcats", user: "user-list"}[k] ||
          (fieldSel.value === "action" ? "cp-actions" : null);
        input = el("input", {class: "cond-value", type: "text", value: v, spellcheck: "false",
          "aria-label": "Value", list: list, placeholder: o === "one_of" ||
            o === "not_one_of" ? "values, comma-separated" : "value"});
      }
      append(valBox, input);
    }
    function current() {
      var x = valBox.querySelector(".cond-value");
      return x ? splitList(x.value) : [];
    }
    fieldSel.addEventListener("change", function () {
      renderValue(kind() === "bool" ? [] : current());
    });
    opSel.addEventListener("change", function () { renderValue(current()); });
    renderValue(c.values);
    return row;
  }

  function readCond(row) {
    var field = row.querySelector(".cond-field").value;
    var o = row.querySelector(".cond-op").value;
    var vi = row.querySelector(".cond-value");
    var values = vi ? splitList(vi.value) : [];
    var c = {field: field, op: "equals", values: values};
    if (o === "is_set" || o === "not_set") { c.op = "is_set"; c.values = []; }
    else if (o === "one_of" || o === "not_one_of") { c.op = "one_of"; }
    if (o === "not" || o === "not_one_of" || o === "not_set") { c.not = true; }
    // "is not" with several values means none of them.
    if (c.op === "equals" && values.length > 1) { c.op = "one_of"; }
    return c;
  }

  function openForm(p) {
    p = p || {name: "", severity: "medium", enabled: false, filters: [{field: "action",
      op: "equals", values: []}], daily_cap: 100, scope: {}};
    pol.editing = p;
    var form = $("#cp-form");
    form.hidden = false;
    form.setAttribute("data-id", p.id || "");
    clear(form);
    var rep = p.repeated || null;

    var conds = el("div", {class: "cond-list", id: "cp-conds"},
      (p.filters || []).map(condRow));
    append(form,
      el("div", {class: "cp-head"},
        el("h2", {text: p.id ? "Edit \u201c" + p.name + "\u201d" : "New custom policy"}),
        el("button", {type: "button", class: "btn btn-icon", "aria-label": "Close",
          text: "\u00d7", onclick: closeForm})),
      el("div", {class: "cp-grid"},
        el("div", {class: "field cp-name"},
          el("label", {for: "cp-name", text: "Name"}),
          el("input", {id: "cp-name", type: "text", maxlength: "120", value: p.name,
            placeholder: "e.g. API token created"})),
        el("div", {class: "field"},
          el("label", {for: "cp-severity", text: "Severity"}),
          el("select", {id: "cp-severity"}, ["low", "medium", "high"].map(function (s) {
            return el("option", {value: s, text: W.capitalize(s), selected: p.severity === s});
          }))),
        el("div", {class: "field"},
          el("label", {for: "cp-cap", text: "Daily alert cap"}),
          el("input", {id: "cp-cap", type: "number", min: "1", max: "10000",
            value: String(p.daily_cap || 100)}))),
      el("div", {class: "field"},
        el("label", {for: "cp-desc", text: "Description"}),
        el("input", {id: "cp-desc", type: "text", maxlength: "300", value: p.description || "",
          placeholder: "why this matters (optional)"})),

      el("h3", {text: "Activities that match (all conditions)"}),
      conds,
      el("button", {type: "button", class: "btn btn-small", id: "cp-add-cond",
        text: "+ Add condition", onclick: function () { append(conds, condRow()); }}),
      el("details", {class: "cp-advanced", open: !!p.expression},
        el("summary", {text: "Advanced: expression"}),
        el("div", {class: "field"},
          el("label", {for: "cp-expression", text: "Expression (expr language), combined " +
            "with the conditions above"}),
          el("textarea", {id: "cp-expression", rows: "3", spellcheck: "false",
            placeholder: "category == \"admin_action\" && hour < 6"}),
          el("span", {class: "hint", text: "Fields: id, action, category, actor, " +
            "actor_email, actor_name, actor_admin, target_user (list), admin, impersonation, " +
            "token, token_label, product, site, ip, ip_category, ip_tag, country, " +
            "country_name, city, message, hour (UTC), weekday (0 = Sunday). It must give " +
            "true or false."}))),

      el("h3", {text: "Raise an alert"}),
      el("div", {class: "cp-trigger"},
        el("label", {class: "check"}, el("input", {type: "radio", name: "cp-trigger",
          id: "cp-trigger-single", value: "single", checked: !rep}),
        " for every matching activity"),
        el("label", {class: "check"}, el("input", {type: "radio", name: "cp-trigger",
          id: "cp-trigger-repeated", value: "repeated", checked: !!rep}),
        " when ",
        el("input", {id: "cp-rep-count", type: "number", min: "2", max: "100000",
          class: "num-small", value: String(rep ? rep.count : 5), "aria-label": "Count"}),
        " match within ",
        el("input", {id: "cp-rep-minutes", type: "number", min: "1", max: "1440",
          class: "num-small", value: String(rep ? rep.within_minutes : 10),
          "aria-label": "Minutes"}),
        " minutes, per ",
        el("select", {id: "cp-rep-per", "aria-label": "Counted per"},
          [["user", "user"], ["ip", "IP address"], ["org", "organization"]].map(function (o) {
            return el("option", {value: o[0], text: o[1], selected: rep && (rep.per ||
              "user") === o[0]});
          })))),
      el("div", {class: "field cp-exclude"},
        el("label", {for: "cp-exclude", text: "Never for these users"}),
        el("input", {id: "cp-exclude", type: "text", list: "user-list", spellcheck: "false",
          value: listText((p.scope || {}).exclude_users), placeholder: "nobody"})),
      el("label", {class: "check cp-enabled"}, el("input", {type: "checkbox",
        id: "cp-enabled", checked: !!p.enabled}),
      " Enabled: raise real alerts for new events"),
      el("h3", {text: "Automatic response"}),
      p.id ? autoBlock(p.id, function () { renderCustom(); })
        : el("p", {class: "hint", id: "cp-auto-later", text: "Save the policy first; its " +
          "automatic response is set here once it has an id."}),
      el("div", {id: "cp-error", class: "cp-error", role: "alert", hidden: true}),
      el("div", {class: "form-actions"},
        el("button", {type: "button", class: "btn", id: "cp-simulate",
          text: "Simulate on last 30 days", onclick: simulate}),
        el("button", {type: "submit", class: "btn btn-primary", id: "cp-save",
          text: "Save policy"}),
        el("button", {type: "button", class: "btn", text: "Cancel", onclick: closeForm})),
      el("div", {id: "cp-sim", class: "cp-sim", hidden: true}));
    $("#cp-expression").value = p.expression || "";
    fillDatalists(form);
    // Scroll the content pane only: scrollIntoView would also move the fixed page layout.
    var content = $(".content");
    content.scrollTop += form.getBoundingClientRect().top -
      content.getBoundingClientRect().top - 12;
    $("#cp-name").focus({preventScroll: true});
  }

  function fillDatalists(form) {
    append(form,
      el("datalist", {id: "cp-categories"}, CATEGORIES.map(function (c) {
        return el("option", {value: c[0], label: c[1]});
      })),
      el("datalist", {id: "cp-ipcats"}, IP_CATEGORIES.map(function (c) {
        return el("option", {value: c});
      })),
      el("datalist", {id: "cp-actions"}, pol.mappings.map(function (m) {
        return el("option", {value: m.key, label: m.display_name || m.key});
      })));
  }

  function closeForm() {
    pol.editing = null;
    var form = $("#cp-form");
    form.hidden = true;
    clear(form);
  }

  function readForm() {
    var p = {id: (pol.editing && pol.editing.id) || "", name: $("#cp-name").value.trim(),
      description: $("#cp-desc").value.trim(), severity: $("#cp-severity").value,
      enabled: $("#cp-enabled").checked, daily_cap: Number($("#cp-cap").value) || 0,
      expression: $("#cp-expression").value.trim(), filters: [],
      scope: Object.assign({}, (pol.editing && pol.editing.scope) || {})};
    document.querySelectorAll("#cp-conds .cond-row").forEach(function (row) {
      p.filters.push(readCond(row));
    });
    if (document.querySelector("#cp-trigger-repeated").checked) {
      p.repeated = {count: Number($("#cp-rep-count").value) || 0,
        within_minutes: Number($("#cp-rep-minutes").value) || 0, per: $("#cp-rep-per").value};
    }
    var ex = splitList($("#cp-exclude").value);
    if (ex.length) { p.scope.exclude_users = ex; } else { delete p.scope.exclude_users; }
    return p;
  }

  // checkForm catches what needs no backend, in the same words the backend would use.
  function checkForm(p) {
    if (!p.name) { return {msg: "Give the policy a name."}; }
    for (var i = 0; i < p.filters.length; i++) {
      var c = p.filters[i];
      if (c.op !== "is_set" && !c.values.length) {
        return {msg: "Condition " + (i + 1) + " (" + fieldLabel(c.field) + ") needs a value."};
      }
    }
    if (!p.filters.length && !p.expression) {
      return {msg: "Add at least one condition or an expression."};
    }
    return null;
  }

  function showError(e) {
    var box = $("#cp-error");
    clear(box);
    if (!e) { box.hidden = true; return; }
    box.hidden = false;
    var text = typeof e === "string" ? e : e.msg;
    // The backend says "custom policy: expression: <expr's message with a caret line>".
    text = text.replace(/^custom policy: /, "");
    var m = /^expression: ([\s\S]*)$/.exec(text);
    if (m) {
      append(box, el("strong", {text: "The expression does not compile."}),
        el("pre", {class: "cp-error-detail", id: "cp-error-detail", text: m[1]}));
      $("#cp-expression").classList.add("invalid");
      var adv = document.querySelector("#cp-form .cp-advanced");
      if (adv) { adv.open = true; }
    } else {
      append(box, el("strong", {text: "Cannot use this policy: "}),
        el("span", {id: "cp-error-detail", text: W.capitalize(text)}));
    }
  }

  function setBusy(busy) {
    $("#cp-simulate").disabled = busy;
    $("#cp-save").disabled = busy;
  }

  function simulate() {
    var p = readForm();
    var problem = checkForm(p);
    $("#cp-expression").classList.remove("invalid");
    showError(problem);
    if (problem) { return; }
    var box = $("#cp-sim");
    box.hidden = false;
    box.removeAttribute("data-count");
    clear(box);
    append(box, el("div", {class: "muted", text: "Running the policy over the last 30 days " +
      "of stored events\u2026"}));
    setBusy(true);
    call("SimulateCustomPolicy", W.orgId(), p, "30d").then(function (res) {
      renderSim(res || {}, p);
    }, function (e) {
      box.hidden = true;
      showError(W.errText(e));
    }).then(function () { setBusy(false); });
  }

  function renderSim(res, p) {
    var box = $("#cp-sim");
    clear(box);
    var alerts = res.alerts || [];
    var n = alerts.length;
    box.setAttribute("data-count", String(n));
    append(box, el("div", {class: "cp-sim-head " + (n ? "has" : "none"), id: "cp-sim-count"},
      el("strong", {text: n ? "Would have raised " + W.fmtNum(n) + (n === 1 ? " alert"
        : " alerts") : "Would have raised no alert"}),
      " from " + W.fmtNum(res.events || 0) + " events of the last 30 days" +
      (res.capped ? "; " + W.fmtNum(res.capped) + " more matches were over the daily cap" : "")
      + ". Nothing was stored or sent." + (p.enabled ? "" : " The policy is not enabled yet.")));
    if (!n) { return; }
    append(box, el("table", {class: "grid cp-sim-table"},
      el("thead", null, el("tr", null, el("th", {class: "col-time", text: "Time"}),
        el("th", {text: "Alert"}), el("th", {class: "acol-user", text: "User"}))),
      el("tbody", null, alerts.slice(0, SIM_SHOWN).map(function (a) {
        var t = W.parseTime(a.time);
        return el("tr", {"data-sim-alert": a.id},
          el("td", {title: t ? W.fmtUTC(t) : "", text: t ? W.fmtLocal(t).slice(0, 16) : ""}),
          el("td", null, el("span", {class: "cell-main", text: a.title}),
            el("span", {class: "cell-sub", text: (a.evidence || [])[0] || ""})),
          el("td", {text: a.user_name || a.user_email || a.user || "\u2014"}));
      }))));
    if (n > SIM_SHOWN) {
      append(box, el("div", {class: "muted small", text: "The first " + SIM_SHOWN + " of " +
        W.fmtNum(n) + " are shown."}));
    }
  }

  function save(ev) {
    ev.preventDefault();
    var p = readForm();
    var problem = checkForm(p);
    $("#cp-expression").classList.remove("invalid");
    showError(problem);
    if (problem) { return; }
    setBusy(true);
    // An edited but unsaved automatic response is saved with the policy, not silently lost.
    var auto = document.querySelector("#cp-form .auto-block[data-dirty]");
    var first = auto ? saveAuto(auto.getAttribute("data-auto-policy"), auto)
      : Promise.resolve();
    first.then(function () {
      return call("SaveCustomPolicy", W.orgId(), p);
    }).then(function (saved) {
      closeForm();
      return loadCustom().then(function () {
        var row = document.querySelector("#custom-policies tr[data-custom-id=\"" +
          ((saved && saved.id) || "") + "\"]");
        if (row) { row.classList.add("just-saved"); }
      });
    }, function (e) {
      setBusy(false);
      // A simulation of the policy as it was is no answer for the policy as it is now.
      var sim = $("#cp-sim");
      sim.hidden = true;
      clear(sim);
      showError(W.errText(e));
    });
  }

  // ---- activity mapping ------------------------------------------------------------------

  function loadMappings() {
    var org = W.orgId();
    return call("Mappings", org).then(function (list) {
      if (org !== W.orgId()) { return; }
      pol.mappings = (list || []).slice().sort(function (a, b) {
        return a.key.localeCompare(b.key);
      });
      renderMappings();
    }, function (e) { W.showBanner("policies", "Cannot load the activity mapping", e); });
  }

  function catLabel(c) {
    for (var i = 0; i < CATEGORIES.length; i++) {
      if (CATEGORIES[i][0] === c) { return CATEGORIES[i][1]; }
    }
    return c;
  }

  var SOURCES = {admin: ["admin", "You"], default: ["neutral", "Warden"],
    catalogue: ["neutral", "Org catalogue"], keyword: ["warn", "Guessed from the name"]};

  function renderMappings() {
    var q = $("#map-search").value.trim().toLowerCase();
    var cat = $("#map-filter-cat").value;
    var list = pol.mappings.filter(function (m) {
      if (cat && m.category !== cat) { return false; }
      if (!q) { return true; }
      return (m.key + " " + (m.display_name || "") + " " + (m.groups || []).join(" "))
        .toLowerCase().indexOf(q) >= 0;
    });
    var tbody = $("#mappings tbody");
    clear(tbody);
    list.slice(0, MAP_SHOWN).forEach(function (m) {
      var src = SOURCES[m.source] || ["neutral", m.source || "\u2014"];
      var sel = el("select", {class: "map-cat", "aria-label": "Category of " + m.key,
        onchange: function (ev) { setMapping(m, ev.target.value, tr); }},
      CATEGORIES.map(function (c) {
        return el("option", {value: c[0], text: c[1], selected: c[0] === m.category});
      }));
      var tr = el("tr", {"data-key": m.key, "data-category": m.category},
        el("td", null, el("span", {class: "cell-main"}, m.display_name || m.key,
          m.privileged ? [" ", badge("warn", "Privileged", "Changes who can get in or what " +
            "protects the organization")] : null),
        el("span", {class: "cell-sub mono", text: m.key})),
        el("td", {class: "mcol-groups", title: (m.groups || []).join(", ")},
          el("span", {class: "cell-wrap small", text: (m.groups || []).join(", ") ||
            "\u2014"})),
        el("td", null, sel),
        el("td", null, badge(src[0], src[1]), m.source === "admin" ? [" ",
          el("button", {type: "button", class: "btn btn-small map-reset", text: "Reset",
            title: "Go back to Warden's category", onclick: function () {
              setMapping(m, "", tr);
            }})] : null));
      tbody.appendChild(tr);
    });
    var empty = $("#mappings-empty");
    empty.hidden = list.length > 0;
    empty.textContent = pol.mappings.length ? "No action matches." : "No actions known yet: " +
      "they come from the organization's audit log and its action catalogue.";
    $("#map-status").textContent = list.length > MAP_SHOWN ? "Showing " + MAP_SHOWN + " of " +
      W.fmtNum(list.length) + "; search to narrow." : W.fmtNum(list.length) + " actions";
  }

  function setMapping(m, category, tr) {
    var status = $("#map-status");
    status.textContent = "Saving " + m.key + "\u2026";
    call("SetMapping", W.orgId(), m.key, category).then(function () {
      status.textContent = "\u2713 " + (m.display_name || m.key) + (category ? " is now " +
        catLabel(category) : " is back to Warden's category") + ". Detection is re-running " +
        "over the stored history.";
      tr.setAttribute("data-category", category);
      return loadMappings().then(function () {
        $("#map-status").textContent = status.textContent;
      });
    }, function (e) {
      status.textContent = "\u2717 " + W.errText(e);
    });
  }

  // ---- about -----------------------------------------------------------------------------

  // The world map is part of the frontend, not of the geo package, so it is described here.
  var MAP_SOURCE = {Name: "Natural Earth land and country borders (1:110m)", Kind: "world map",
    Licence: "Public domain", URL: "https://www.naturalearthdata.com",
    Package: "world-atlas", Version: "2.0.2",
    Attribution: "Made with Natural Earth: free vector and raster map data, in the public " +
      "domain. TopoJSON packaging by the world-atlas package (ISC licence); converted once " +
      "into Warden's world.svg."};

  var KINDS = {country: "IP to country", asn: "IP to network owner (ASN)",
    city: "IP to city", gazetteer: "Place names and coordinates",
    countries: "Countries and borders", "world map": "Alert map"};

  function loadAbout() {
    return call("DataSources").then(function (list) {
      renderAbout((list || []).concat([MAP_SOURCE]));
    }, function (e) {
      renderAbout([MAP_SOURCE]);
      W.showBanner("about", "Cannot list the data sources", e);
    });
  }

  function renderAbout(list) {
    var box = $("#data-sources");
    clear(box);
    list.forEach(function (s) {
      function line(label, value) {
        return value ? [el("dt", {text: label}), el("dd", null, value)] : null;
      }
      append(box, el("div", {class: "card source-card", "data-kind": s.Kind},
        el("div", {class: "card-head"},
          el("div", null, el("div", {class: "card-title", text: s.Name}),
            el("div", {class: "muted small", text: KINDS[s.Kind] || s.Kind})),
          el("span", {class: "licence", "data-licence": s.Licence, text: s.Licence})),
        el("p", {class: "attribution", text: s.Attribution}),
        el("dl", {class: "source-facts"},
          line("Package", s.Package ? el("span", {class: "mono", text: s.Package +
            (s.Version ? "@" + s.Version : "")}) : null),
          line("Built", s.BuildDate),
          line("Source", s.URL ? el("span", {class: "mono", text: s.URL}) : null))));
    });
  }

  // ---- wiring ----------------------------------------------------------------------------

  function onShow() {
    if (pol.org !== W.orgId()) { closeForm(); }
    loadPolicies();
  }

  function init() {
    $("#cp-new").addEventListener("click", function () { openForm(null); });
    $("#cp-form").addEventListener("submit", save);
    $("#map-search").addEventListener("input", renderMappings);
    $("#map-filter-cat").addEventListener("change", renderMappings);
    CATEGORIES.forEach(function (c) {
      append($("#map-filter-cat"), el("option", {value: c[0], text: c[1]}));
    });
    W.registerPage("policies", onShow);
    // The organization is known only once Status answers (a reload on #policies shows the
    // page before that), and the picker can change it: the page follows.
    setInterval(function () {
      if (W.page() === "policies" && pol.org !== W.orgId()) { onShow(); }
    }, 1000);
    W.registerPage("about", loadAbout);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();

// Warden IP data UI: the admin's named IP ranges (category and tags, no overlaps), the
// imported address lists, and the optional city database. The ranges and lists belong to
// this Warden, not to one organization, so nothing here depends on the org picker. Like
// app.js it inserts data as text only: list names, sources and errors come from outside.
(function () {
  "use strict";

  var W = window.Warden;
  if (!W) { return; }
  var $ = W.$, el = W.el, clear = W.clear, call = W.call, badge = W.badge;

  function append(node) {
    for (var i = 1; i < arguments.length; i++) { W.append(node, arguments[i]); }
  }

  var CATEGORIES = [["corporate", "Corporate"], ["vpn", "VPN"], ["cloud", "Cloud"],
    ["administrative", "Administrative"], ["risky", "Risky"]];

  var CAT_KIND = {corporate: "ok", vpn: "ok", cloud: "neutral", administrative: "admin",
    risky: "bad"};

  function catLabel(c) {
    for (var i = 0; i < CATEGORIES.length; i++) {
      if (CATEGORIES[i][0] === c) { return CATEGORIES[i][1]; }
    }
    return c || "\u2014";
  }

  function splitList(s) {
    return s.split(/[,\s]+/).map(function (x) { return x.trim(); }).filter(Boolean);
  }

  function result(id, kind, text) {
    var box = $(id);
    box.hidden = false;
    box.className = "conn-result " + kind;
    box.setAttribute("data-state", kind);
    box.textContent = text;
  }

  // ---- admin ranges ----------------------------------------------------------------------

  function rangeRow(r) {
    r = r || {name: "", cidrs: [], category: "corporate", tags: []};
    var tr = el("tr", {class: "ipr-row"},
      el("td", null, el("input", {type: "text", class: "ipr-name", value: r.name,
        maxlength: "80", spellcheck: "false", "aria-label": "Range name",
        placeholder: "e.g. Head office"})),
      el("td", null, el("input", {type: "text", class: "ipr-cidrs mono", spellcheck: "false",
        value: (r.cidrs || []).join(", "), "aria-label": "Networks",
        placeholder: "203.0.113.0/24, 2001:db8::/48"})),
      el("td", null, el("select", {class: "ipr-cat", "aria-label": "Category"},
        CATEGORIES.map(function (c) {
          return el("option", {value: c[0], text: c[1], selected: c[0] === r.category});
        }))),
      el("td", null, el("input", {type: "text", class: "ipr-tags", spellcheck: "false",
        value: (r.tags || []).join(", "), "aria-label": "Tags", placeholder: "optional"})),
      el("td", {class: "icol-act"}, el("button", {type: "button",
        class: "btn btn-icon btn-small ipr-remove", text: "\u00d7",
        "aria-label": "Remove this range", title: "Remove this range (then save)",
        onclick: function () {
          tr.remove();
          changed();
        }})));
    return tr;
  }

  function changed() {
    var n = document.querySelectorAll("#ip-ranges tbody tr").length;
    $("#ip-ranges-empty").hidden = n > 0;
    var st = $("#ipr-state");
    st.className = "pol-state small";
    st.textContent = "Not saved yet";
    $("#ipr-form").setAttribute("data-dirty", "true");
  }

  function renderRanges(list) {
    var tbody = $("#ip-ranges tbody");
    clear(tbody);
    list.forEach(function (r) { tbody.appendChild(rangeRow(r)); });
    $("#ip-ranges-empty").hidden = list.length > 0;
  }

  function loadRanges() {
    return call("IPRanges").then(function (list) {
      W.clearBanner("ipdata");
      $("#ipr-form").removeAttribute("data-dirty");
      showRangeError("");
      renderRanges(list || []);
    }, function (e) { W.showBanner("ipdata", "Cannot load the IP ranges", e); });
  }

  function readRanges() {
    var out = [];
    document.querySelectorAll("#ip-ranges tbody tr").forEach(function (tr) {
      out.push({name: tr.querySelector(".ipr-name").value.trim(),
        cidrs: splitList(tr.querySelector(".ipr-cidrs").value),
        category: tr.querySelector(".ipr-cat").value,
        tags: splitList(tr.querySelector(".ipr-tags").value)});
    });
    return out;
  }

  // checkRanges catches what needs no backend; overlaps are the backend's to find and name.
  function checkRanges(list) {
    for (var i = 0; i < list.length; i++) {
      var r = list[i];
      if (!r.name) { return "Range " + (i + 1) + " needs a name."; }
      if (!r.cidrs.length) {
        return "Range \u201c" + r.name + "\u201d needs at least one IP address or network.";
      }
    }
    return "";
  }

  function showRangeError(text) {
    var box = $("#ipr-error");
    clear(box);
    box.hidden = !text;
    if (!text) { return; }
    append(box, el("strong", {text: "Cannot save the ranges: "}),
      el("span", {id: "ipr-error-detail", text: text}));
  }

  function saveRanges(ev) {
    ev.preventDefault();
    var list = readRanges();
    var problem = checkRanges(list);
    showRangeError(problem);
    if (problem) { return; }
    var st = $("#ipr-state");
    st.className = "pol-state small";
    st.textContent = "Saving\u2026";
    $("#ipr-save").disabled = true;
    call("SaveIPRanges", list).then(function () {
      st.className = "pol-state small ok";
      st.textContent = "\u2713 Saved " + list.length + (list.length === 1 ? " range"
        : " ranges") + ". New activity is classified with them.";
      $("#ipr-form").removeAttribute("data-dirty");
      $("#ipr-form").setAttribute("data-saved", "true");
    }, function (e) {
      st.className = "pol-state small bad";
      st.textContent = "\u2717 Not saved";
      showRangeError(W.errText(e));
    }).then(function () { $("#ipr-save").disabled = false; });
  }

  // ---- imported lists --------------------------------------------------------------------

  function listSize(l) { return l.entries || 0; }

  function renderLists(list) {
    var tbody = $("#ip-lists tbody");
    clear(tbody);
    list.slice().sort(function (a, b) { return a.name.localeCompare(b.name); })
      .forEach(function (l) {
        var t = W.parseTime(l.updated_at);
        var n = listSize(l);
        var src = l.url || l.file || "";
        tbody.appendChild(el("tr", {"data-list": l.name, "data-size": String(n)},
          el("td", null, el("span", {class: "cell-main", text: l.name})),
          el("td", null, badge(CAT_KIND[l.category] || "neutral", catLabel(l.category))),
          el("td", {text: W.dash(l.tag)}),
          el("td", {title: src}, el("span", {class: "mono ip-src", text: W.dash(src)}),
            el("span", {class: "cell-sub", text: l.url ? "URL, refreshed on a schedule"
              : "file, read once"})),
          el("td", {text: W.fmtNum(n) + (n === 1 ? " entry"
            : " entries")}),
          el("td", {title: t ? W.fmtUTC(t) : ""},
            el("span", {class: "cell-main", text: t ? W.fmtLocal(t).slice(0, 16) : "\u2014"}),
            el("span", {class: "cell-sub", text: t ? W.fmtAgo(t) : ""})),
          el("td", {title: l.last_error || ""}, l.last_error
            ? el("span", {class: "cell-wrap ip-err", text: l.last_error})
            : el("span", {class: "muted", text: "\u2014"}))));
      });
    $("#ip-lists-empty").hidden = list.length > 0;
  }

  function loadLists() {
    return call("IPLists").then(function (list) {
      renderLists(list || []);
    }, function (e) { W.showBanner("ipdata", "Cannot load the imported IP lists", e); });
  }

  function importList(ev) {
    ev.preventDefault();
    var src = $("#ipl-source").value.trim();
    var req = {name: $("#ipl-name").value.trim(), category: $("#ipl-category").value,
      tag: $("#ipl-tag").value.trim()};
    if (!req.name) { result("#ipl-result", "bad", "Give the list a name."); return; }
    if (!src) {
      result("#ipl-result", "bad", "Enter the list's URL or the path of a file on this " +
        "computer.");
      return;
    }
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(src)) { req.url = src; } else { req.file = src; }
    $("#ipl-import").disabled = true;
    result("#ipl-result", "busy", (req.url ? "Fetching " : "Reading ") + src + "\u2026");
    call("ImportIPList", req).then(function (l) {
      var n = l ? listSize(l) : 0;
      result("#ipl-result", "ok", "\u2713 Imported \u201c" + req.name + "\u201d: " +
        W.fmtNum(n) + (n === 1 ? " entry." : " entries."));
      $("#ipl-form").reset();
      $("#ipl-category").value = "risky";
      return loadLists();
    }, function (e) {
      result("#ipl-result", "bad", "\u2717 " + W.errText(e));
    }).then(function () { $("#ipl-import").disabled = false; });
  }

  // ---- city database ---------------------------------------------------------------------

  function loadGeo() {
    return call("GeoFiles").then(function (f) {
      f = f || {};
      $("#geo-city").value = f.city_mmdb || "";
      $("#geo-city6").value = f.city_mmdb_v6 || "";
    }, function (e) { W.showBanner("ipdata", "Cannot read the city database settings", e); });
  }

  function saveGeo(ev) {
    ev.preventDefault();
    var f = {city_mmdb: $("#geo-city").value.trim(), city_mmdb_v6: $("#geo-city6").value.trim()};
    if (!f.city_mmdb && f.city_mmdb_v6) {
      result("#geo-result", "bad", "Enter the main city database first; the IPv6 file is " +
        "only for databases split by IP version.");
      return;
    }
    $("#geo-save").disabled = true;
    result("#geo-result", "busy", f.city_mmdb ? "Opening the database\u2026" : "Saving\u2026");
    call("SetGeoFiles", f).then(function () {
      result("#geo-result", "ok", "\u2713 Saved. " + (f.city_mmdb ? "The database opens; " +
        "Warden uses it after a restart." : "Warden stops using a city database after a " +
        "restart."));
    }, function (e) {
      result("#geo-result", "bad", "\u2717 " + W.errText(e));
    }).then(function () { $("#geo-save").disabled = false; });
  }

  // ---- wiring ----------------------------------------------------------------------------

  function onShow() {
    // Unsaved range edits survive a trip to another page.
    if (!$("#ipr-form").hasAttribute("data-dirty")) { loadRanges(); }
    loadLists();
    loadGeo();
  }

  function init() {
    CATEGORIES.forEach(function (c) {
      append($("#ipl-category"), el("option", {value: c[0], text: c[1],
        selected: c[0] === "risky"}));
    });
    $("#ipr-add").addEventListener("click", function () {
      var tr = rangeRow();
      $("#ip-ranges tbody").appendChild(tr);
      changed();
      tr.querySelector(".ipr-name").focus();
    });
    $("#ip-ranges").addEventListener("input", changed);
    $("#ip-ranges").addEventListener("change", changed);
    $("#ipr-form").addEventListener("submit", saveRanges);
    $("#ipl-form").addEventListener("submit", importList);
    $("#geo-form").addEventListener("submit", saveGeo);
    W.registerPage("ipdata", onShow);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();

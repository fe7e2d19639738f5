// Alerts from end to end on the demo organization: the alerts list opens first, the impossible
// travel alert explains itself (evidence, a timeline of its two events, two points on the
// offline world map), the admin suspends the user from the alert and restores access, resolves
// the alert as a false positive with "mark this IP range as VPN", and builds a custom policy
// that a simulation shows would have fired; a bad expression gets a clear error. The Policies
// page and the About page's licences are checked on the way.
//
// Run through scripts/test-e2e.sh (a D-Bus session with an unlocked keyring).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { launchBrowser, shot, startDemo, stop } from "./lib.mjs";

const TRAVELLER = "Lukas Schneider";

describe("alerts through warden serve", () => {
  let serve, browser, page, serveURL, travelID;
  const pageErrors = [];
  const requests = [];

  before(async () => {
    ({ child: serve, url: serveURL } = await startDemo("warden-e2e-alerts-"));
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1360, height: 900 } });
    page.on("pageerror", (err) => pageErrors.push(err.message));
    page.on("console", (msg) => {
      if (msg.type() === "error") { pageErrors.push("console: " + msg.text()); }
    });
    // The map must be drawn from files Warden serves itself, never from tiles on the net.
    page.on("request", (req) => requests.push(req.url()));
  });

  after(async () => {
    await browser?.close();
    await stop(serve);
  });

  function travelRow() {
    return page.locator("#alerts tbody tr[data-alert-id]", { hasText: "Impossible travel" });
  }

  async function openList() {
    await page.click("#nav-alerts");
    await page.waitForSelector("#alerts-list-view:not([hidden])");
    await page.waitForSelector("#alerts:not([data-loading])");
  }

  async function openTravel() {
    await openList();
    await travelRow().click();
    await page.waitForSelector("#alert-detail:not([hidden]):not([data-loading]) #alert-title");
  }

  test("the alerts list is the first page and shows the impossible travel alert", async () => {
    await page.goto(serveURL);
    await page.waitForSelector("#demo-badge:not([hidden])");
    await page.waitForFunction(() => {
      const box = document.querySelector("#sync-progress");
      return box.getAttribute("data-running") !== "true";
    }, null, { timeout: 60000 });
    await page.waitForSelector("#page-alerts:not([hidden])", { timeout: 30000 });
    assert.equal(await page.evaluate(() => location.hash), "#alerts");
    assert.equal((await page.textContent(".sidenav .nav-item")).trim().split(/\s/)[0], "Alerts");
    await page.waitForSelector("#alerts tbody tr[data-alert-id]");
    await page.waitForSelector("#nav-alerts-count:not([hidden])");
    const open = Number(await page.textContent("#nav-alerts-count"));
    const rows = await page.locator("#alerts tbody tr[data-alert-id]").count();
    assert.ok(open >= 8, `open count ${open}`);
    assert.equal(rows, open, "the list shows every open alert");
    await shot(page, "alerts-01-list");

    const row = travelRow();
    assert.equal(await row.count(), 1);
    travelID = await row.getAttribute("data-alert-id");
    const text = await row.innerText();
    assert.match(text, /Berlin/);
    assert.match(text, /Sydney/);
    assert.match(text, /km/);
    assert.match(text, new RegExp(TRAVELLER));

    // Severity badges: high red, medium amber, low grey.
    const sev = await page.$$eval("#alerts tbody tr[data-alert-id] .sev-badge",
      (bs) => bs.map((b) => [b.dataset.severity, getComputedStyle(b).backgroundColor]));
    const high = sev.find(([s]) => s === "high");
    assert.ok(high, "the demo has high alerts");
    assert.equal(high[1], "rgb(180, 35, 24)");
  });

  test("the filters narrow the list", async () => {
    await page.selectOption("#alert-filter-severity", "high");
    await page.waitForSelector("#alerts:not([data-loading])");
    await page.waitForFunction(() => [...document.querySelectorAll("#alerts tbody tr")]
      .every((tr) => tr.dataset.severity === "high"));
    assert.ok(await page.locator("#alerts tbody tr[data-alert-id]").count() >= 1);
    await page.selectOption("#alert-filter-severity", "");
    await page.selectOption("#alert-filter-policy", "impossible_travel");
    await page.waitForFunction(() => {
      const trs = [...document.querySelectorAll("#alerts tbody tr[data-alert-id]")];
      return trs.length === 1 && trs[0].dataset.policy === "impossible_travel";
    });
    await shot(page, "alerts-02-filtered");
    await page.click("#alert-filter-reset");
    await page.waitForFunction(() =>
      document.querySelectorAll("#alerts tbody tr[data-alert-id]").length > 1);
  });

  test("the alert page shows the evidence, a two-event timeline and two points on the map",
    async () => {
      await openTravel();
      assert.equal(await page.getAttribute("#alert-detail", "data-alert-id"), travelID);
      const evidence = await page.textContent("#alert-evidence");
      assert.match(evidence, /Berlin/);
      assert.match(evidence, /Sydney/);
      assert.match(evidence, /km/);
      assert.match(await page.textContent("#alert-title"), /Impossible travel/);
      assert.match(await page.textContent("#alert-user"), new RegExp(TRAVELLER));

      assert.equal(await page.locator("#alert-map .map-point").count(), 2);
      assert.equal(await page.getAttribute("#alert-map", "data-points"), "2");
      assert.equal(await page.locator("#alert-map .map-track").count() >= 1, true);
      assert.equal(await page.locator("#alert-map .map-radius").count(), 2);
      const labels = await page.$$eval("#alert-map .map-point",
        (gs) => gs.map((g) => g.dataset.label));
      assert.match(labels[0], /Berlin/);
      assert.match(labels[1], /Sydney/);
      // The land drawing comes from Warden's own world.svg and is on the map.
      await page.waitForSelector('#alert-map .map-land-layer[data-ready="true"] .map-land');
      assert.match(await page.textContent("#alert-map-legend"), /km from 1/);

      const events = page.locator("#alert-timeline li.tl-event[data-event-id]");
      assert.equal(await events.count(), 2);
      const times = await page.$$eval("#alert-timeline .tl-time", (ts) => ts.map((t) => t.title));
      assert.ok(times[0] < times[1], "oldest first");
      await shot(page, "alerts-03-travel");

      // An event opens in place with its details and raw record.
      await events.first().click();
      await page.waitForSelector("#alert-timeline .tl-detail:not([data-loading]) dl");
      assert.match(await page.textContent("#alert-timeline .tl-detail"), /192\.0\.2\.20/);
      await shot(page, "alerts-04-event");
      await events.first().locator(".tl-line").click();
      await page.waitForSelector("#alert-timeline .tl-detail", { state: "detached" });

      const outside = requests.filter((u) => !u.startsWith(new URL(serveURL).origin) &&
        !u.startsWith("data:"));
      assert.deepEqual(outside, [], "no request left Warden");
    });

  test("Suspend from the alert is confirmed, done, linked in the log, and restored", async () => {
    await page.click('#alert-respond .respond-btn[data-action="suspend"]');
    await page.waitForSelector("#gov-modal:not([hidden]):not([data-verdict=loading])");
    assert.equal(await page.getAttribute("#gov-modal", "data-verdict"), "ready");
    assert.match(await page.textContent("#gov-who"), new RegExp(TRAVELLER));
    assert.equal((await page.textContent("#gov-confirm")).trim(), "Suspend " + TRAVELLER);
    await shot(page, "alerts-05-suspend-confirm");
    await page.click("#gov-confirm");
    await page.waitForSelector("#gov-outcome");
    assert.equal(await page.getAttribute("#gov-outcome", "data-status"), "done");
    await shot(page, "alerts-06-suspended");
    await page.click("#gov-cancel");
    await page.waitForSelector("#gov-modal", { state: "hidden" });

    // The alert page lists what was done about it.
    await page.waitForSelector('#alert-history li[data-action="suspend"][data-status="done"]');

    await page.click("#nav-governance");
    await page.waitForSelector("#gov-log:not([data-loading]) tbody tr[data-id]");
    const row = page.locator('#gov-log tbody tr[data-action="suspend"]').first();
    assert.equal(await row.getAttribute("data-status"), "done");
    const text = await row.innerText();
    assert.match(text, new RegExp(TRAVELLER));
    assert.match(text, new RegExp("alert " + travelID));
    await row.click();
    await page.waitForSelector("#gov-detail:not([hidden])");
    assert.match(await page.textContent('#gov-detail dd[data-field="alertId"]'),
      new RegExp(travelID));
    await shot(page, "alerts-07-gov-log");
    await page.click("#gov-detail-close");

    // Restore access from the alert's Undo buttons.
    await openTravel();
    await page.click('#alert-respond .respond-btn[data-action="restore"]');
    await page.waitForSelector("#gov-modal:not([hidden]):not([data-verdict=loading])");
    assert.equal(await page.getAttribute("#gov-modal", "data-verdict"), "ready");
    await page.click("#gov-confirm");
    await page.waitForSelector("#gov-outcome");
    assert.equal(await page.getAttribute("#gov-outcome", "data-status"), "done");
    await page.click("#gov-cancel");
    await page.waitForSelector('#alert-history li[data-action="restore"][data-status="done"]');
    await shot(page, "alerts-08-restored");
  });

  test("resolving as false positive with a VPN range takes the alert off the open list",
    async () => {
      const before = Number(await page.textContent("#nav-alerts-count"));
      await page.click('label:has(#resolve-as-false_positive)');
      assert.ok(await page.isChecked("#resolve-as-false_positive"));
      await page.selectOption("#resolve-reason", "inaccurate");
      await page.fill("#resolve-comment", "Lukas uses the company VPN exit in Sydney.");
      await page.check("#fb-safe_range");
      assert.ok(await page.isVisible("#fb-cidr"));
      assert.equal(await page.inputValue("#fb-cidr"), "192.0.2.20", "defaults to the alert IP");
      await page.fill("#fb-cidr", "203.0.113.201/32");
      await page.selectOption("#fb-category", "vpn");
      assert.match(await page.textContent("#resolve-submit"), /false positive and teach/);
      await shot(page, "alerts-09-resolve-form");
      await page.click("#resolve-submit");
      await page.waitForSelector('#alert-detail[data-status="resolved"]');
      await page.waitForSelector("#alert-resolution[data-as=false_positive]");
      assert.match(await page.textContent("#alert-resolution"), /not accurate/);
      assert.match(await page.textContent("#alert-resolve-msg"), /203\.0\.113\.201\/32.*VPN/);
      await shot(page, "alerts-10-resolved");

      await page.click("#alert-back");
      await page.waitForSelector("#alerts-list-view:not([hidden])");
      await page.waitForSelector("#alerts:not([data-loading])");
      assert.equal(await travelRow().count(), 0, "the resolved alert left the open list");
      await page.waitForFunction((n) =>
        Number(document.querySelector("#nav-alerts-count").textContent) === n - 1, before);

      await page.selectOption("#alert-filter-status", "resolved");
      await page.waitForFunction(() => [...document.querySelectorAll("#alerts tbody tr")]
        .some((tr) => /Impossible travel/.test(tr.textContent)));
      await shot(page, "alerts-11-resolved-list");
      await page.selectOption("#alert-filter-status", "open");
    });

  test("the Policies page lists the seven built-in policies and saves one", async () => {
    await page.click("#nav-policies");
    await page.waitForSelector("#builtin-policies:not([data-loading]) .pol-card");
    assert.equal(await page.locator("#builtin-policies .pol-card").count(), 7);
    const card = page.locator('.pol-card[data-policy="impossible_travel"]');
    await card.locator("summary").click();
    await card.locator(".pol-sens").selectOption("high");
    await card.locator('button[type="submit"]').click();
    await page.waitForSelector('.pol-card[data-policy="impossible_travel"][data-saved]');
    assert.match(await card.locator(".pol-state").innerText(), /Saved/);
    await shot(page, "alerts-12-policies");
    await page.waitForSelector("#mappings tbody tr[data-key]");
    assert.ok(await page.locator('#mappings tr[data-key="api_token_created"]').count() === 1);
    await page.fill("#map-search", "token");
    await page.$eval("#mappings", (t) => {
      const c = document.querySelector(".content");
      c.scrollTop += t.getBoundingClientRect().top - c.getBoundingClientRect().top - 160;
    });
    await shot(page, "alerts-12b-mapping");
    await page.fill("#map-search", "");
    await page.$eval(".content", (c) => { c.scrollTop = 0; });
  });

  test("a custom policy simulates before it is enabled, and a bad expression is explained",
    async () => {
      await page.click("#cp-new");
      await page.waitForSelector("#cp-form:not([hidden])");
      await page.fill("#cp-name", "API token created");
      const row = page.locator("#cp-conds .cond-row").first();
      await row.locator(".cond-field").selectOption("action");
      await row.locator(".cond-op").selectOption("equals");
      await row.locator(".cond-value").fill("api_token_created");
      await page.selectOption("#cp-severity", "high");
      assert.equal(await page.isChecked("#cp-enabled"), false, "new policies start disabled");
      await page.click("#cp-simulate");
      await page.waitForSelector("#cp-sim[data-count]");
      const n = Number(await page.getAttribute("#cp-sim", "data-count"));
      assert.ok(n >= 1, `simulation raised ${n}`);
      assert.match(await page.textContent("#cp-sim-count"), /Would have raised \d+ alert/);
      assert.ok(await page.locator("#cp-sim tr[data-sim-alert]").count() >= 1);
      await shot(page, "alerts-13-simulated");

      await page.click("#cp-form .cp-advanced summary");
      await page.fill("#cp-expression", "hour <");
      await page.click("#cp-simulate");
      await page.waitForSelector("#cp-error:not([hidden])");
      assert.match(await page.textContent("#cp-error"), /expression does not compile/);
      assert.ok((await page.textContent("#cp-error-detail")).trim().length > 5);
      await page.click("#cp-save");
      await page.waitForSelector("#cp-error:not([hidden])");
      assert.equal(await page.locator("#custom-policies tr[data-custom-id]").count(), 0,
        "an invalid policy is not saved");
      await shot(page, "alerts-14-bad-expression");

      await page.fill("#cp-expression", "");
      await page.check("#cp-enabled");
      await page.click("#cp-save");
      await page.waitForSelector("#custom-policies tr[data-custom-id]");
      assert.match(await page.textContent("#custom-policies"), /API token created/);
      assert.match(await page.textContent("#custom-policies"), /Enabled/);
      await shot(page, "alerts-15-custom-saved");

      // The new policy is a choice in the alerts list's policy filter.
      await openList();
      await page.waitForFunction(() => [...document.querySelectorAll(
        "#alert-filter-policy option")].some((o) => o.textContent === "API token created"));
    });

  test("the About page names the data sources and their licences", async () => {
    await page.click("#nav-about");
    await page.waitForSelector("#data-sources .source-card");
    const text = await page.textContent("#data-sources");
    assert.match(text, /GeoNames/);
    assert.match(text, /CC-BY-4\.0/);
    assert.match(text, /CC0-1\.0/);
    assert.match(text, /ip-location-db/);
    assert.match(text, /Natural Earth/);
    await shot(page, "alerts-16-about");
  });

  test("an alert from one place shows one point, framed close up", async () => {
    await openList();
    await page.locator("#alerts tbody tr[data-alert-id]", { hasText: "Iceland" }).click();
    await page.waitForSelector("#alert-detail:not([hidden]):not([data-loading]) #alert-map");
    assert.equal(await page.locator("#alert-map .map-point").count(), 1);
    assert.equal(await page.locator("#alert-map .map-track").count(), 0);
    const width = Number((await page.getAttribute("#alert-map", "viewBox")).split(" ")[2]);
    assert.ok(width < 120, `a single place is framed close up, not the world (${width})`);
    await page.waitForSelector('#alert-map .map-land-layer[data-ready="true"]');
    assert.match(await page.textContent("#alert-evidence"), /Reykjav/);
    await shot(page, "alerts-17-one-place");
  });

  test("the page raised no script errors", () => {
    assert.deepEqual(pageErrors, []);
  });
});

// Automatic responses and IP data on the demo organization: a policy's automatic response is
// saved in simulation and survives a reload; admin IP ranges save, and an overlapping range is
// refused with both ranges named; an IP list imports from a local file and is listed with its
// size; the city database setting explains a file that does not open; a notification can copy
// other admins. That automation acts (or records "would do") on a live alert is covered by the
// app package's Go tests, which own the clock.
//
// Run through scripts/test-e2e.sh.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { launchBrowser, repoRoot, shot, startDemo, stop } from "./lib.mjs";

const listFile = path.join(repoRoot, "backend", "geo", "testdata", "plain-list.txt");
const LIST_SIZE = 7; // the valid entries of plain-list.txt (see backend/geo/lists_test.go)
const NORMAL = "Maja Nilsson"; // invited, active, not an admin

describe("automatic responses and IP data through warden serve", () => {
  let serve, browser, page, serveURL;
  const pageErrors = [];

  before(async () => {
    assert.ok(fs.existsSync(listFile), `test list not found at ${listFile}`);
    ({ child: serve, url: serveURL } = await startDemo("warden-e2e-auto-"));
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.on("pageerror", (err) => pageErrors.push(err.message));
    page.on("console", (msg) => {
      if (msg.type() === "error") { pageErrors.push("console: " + msg.text()); }
    });
  });

  after(async () => {
    await browser?.close();
    await stop(serve);
  });

  async function synced() {
    await page.waitForSelector("#demo-badge:not([hidden])");
    await page.waitForFunction(() => {
      const box = document.querySelector("#sync-progress");
      return box.getAttribute("data-running") !== "true";
    }, null, { timeout: 60000 });
  }

  const card = () => page.locator('.pol-card[data-policy="impossible_travel"]');
  const auto = () => card().locator(".auto-block");

  async function openAutomation() {
    await page.click("#nav-policies");
    await page.waitForSelector("#builtin-policies:not([data-loading]) .pol-card");
    await card().locator(".auto-toggle").click();
    await auto().waitFor();
  }

  // scrollTo brings an element to the top of the content pane for a screenshot.
  async function scrollTo(sel, margin = 12) {
    await page.$eval(sel, (t, m) => {
      const c = document.querySelector(".content");
      c.scrollTop += t.getBoundingClientRect().top - c.getBoundingClientRect().top - m;
    }, margin);
  }

  test("a policy's automatic response is saved in simulation and kept after a reload",
    async () => {
      await page.goto(serveURL);
      await synced();
      await openAutomation();
      assert.match(await card().locator(".auto-toggle").textContent(), /Automatic response: Off/);
      assert.equal(await auto().locator(".auto-simulate").isChecked(), true,
        "a newly configured policy starts in simulation");
      assert.equal(await auto().locator(".auto-protected").isChecked(), false);
      assert.equal(await auto().locator('.auto-act[value="restore"]').count(), 0);
      assert.equal(await auto().locator('.auto-act[value="reactivate"]').count(), 0);
      assert.match(await auto().innerText(), /at most a day old/);
      assert.match(await auto().innerText(), /strongest wins/);

      await auto().locator('.auto-act[value="notify"]').check();
      await auto().locator('.auto-act[value="suspend"]').check();
      await auto().locator(".auto-protected").check();
      assert.ok(await auto().locator(".auto-warn").isVisible(), "protected accounts warn");
      await auto().locator(".auto-protected").uncheck();
      assert.equal(await auto().locator(".auto-warn").isVisible(), false);
      await auto().locator(".auto-save").click();
      await page.waitForSelector('.pol-card[data-policy="impossible_travel"] ' +
        ".auto-block[data-saved]");
      assert.match(await auto().locator(".auto-state").innerText(),
        /Saved: Notify the user, Suspend access \(simulation\)/);
      assert.match(await card().locator(".auto-toggle").textContent(), /Simulation/);
      await scrollTo('.pol-card[data-policy="impossible_travel"]');
      await shot(page, "auto-01-policy-saved");

      await page.reload();
      await synced();
      await openAutomation();
      assert.match(await card().locator(".auto-toggle").textContent(),
        /Simulation.*Notify the user, Suspend access/);
      assert.equal(await auto().locator('.auto-act[value="notify"]').isChecked(), true);
      assert.equal(await auto().locator('.auto-act[value="suspend"]').isChecked(), true);
      assert.equal(await auto().locator('.auto-act[value="deactivate"]').isChecked(), false);
      assert.equal(await auto().locator(".auto-simulate").isChecked(), true);
      assert.equal(await auto().locator(".auto-protected").isChecked(), false);
      await scrollTo('.pol-card[data-policy="impossible_travel"]');
      await shot(page, "auto-02-policy-reloaded");
    });

  test("a custom policy gets its automatic response once it is saved", async () => {
    await page.$eval(".content", (c) => { c.scrollTop = 0; });
    await page.click("#cp-new");
    await page.waitForSelector("#cp-form:not([hidden])");
    assert.match(await page.textContent("#cp-auto-later"), /Save the policy first/);
    await page.fill("#cp-name", "New API token");
    const row = page.locator("#cp-conds .cond-row").first();
    await row.locator(".cond-value").fill("api_token_created");
    await page.click("#cp-save");
    const tr = page.locator("#custom-policies tr[data-custom-id]", {
      hasText: "New API token" });
    await tr.waitFor();
    await tr.locator("button", { hasText: "Edit" }).click();
    const block = page.locator("#cp-form .auto-block");
    await block.waitFor();
    assert.equal(await block.locator(".auto-simulate").isChecked(), true);
    await block.locator('.auto-act[value="revoke-tokens"]').check();
    await block.locator(".auto-save").click();
    await page.waitForSelector("#cp-form .auto-block[data-saved]");
    assert.match(await block.locator(".auto-state").innerText(),
      /Saved: Revoke API tokens \(simulation\)/);
    await scrollTo("#cp-form .auto-block", 120);
    await shot(page, "auto-03-custom-policy");
    await page.click("#cp-form .cp-head .btn-icon");
  });

  async function addRange(name, cidrs, category, tags) {
    await page.click("#ipr-add");
    const r = page.locator("#ip-ranges tbody tr").last();
    await r.locator(".ipr-name").fill(name);
    await r.locator(".ipr-cidrs").fill(cidrs);
    await r.locator(".ipr-cat").selectOption(category);
    if (tags) { await r.locator(".ipr-tags").fill(tags); }
  }

  test("IP ranges save, and an overlapping range is refused with both named", async () => {
    await page.click("#nav-ipdata");
    await page.waitForSelector("#page-ipdata:not([hidden])");
    await page.waitForSelector("#ip-ranges-empty:not([hidden])");
    await addRange("Head office", "203.0.113.0/24", "corporate", "hq, emea");
    await page.click("#ipr-save");
    await page.waitForSelector("#ipr-form[data-saved]:not([data-dirty])");
    assert.match(await page.textContent("#ipr-state"), /Saved 1 range/);

    await addRange("Travel VPN", "198.51.100.0/24, 203.0.113.128/25", "vpn");
    await page.click("#ipr-save");
    await page.waitForSelector("#ipr-error:not([hidden])");
    const msg = await page.textContent("#ipr-error");
    assert.match(msg, /Head office/);
    assert.match(msg, /Travel VPN/);
    assert.match(msg, /overlaps/);
    await shot(page, "auto-04-range-overlap");

    // The refused save changed nothing: a reload shows the one saved range.
    await page.reload();
    await page.waitForSelector("#ip-ranges tbody tr");
    assert.equal(await page.locator("#ip-ranges tbody tr").count(), 1);
    assert.equal(await page.inputValue("#ip-ranges .ipr-name"), "Head office");
    assert.equal(await page.inputValue("#ip-ranges .ipr-tags"), "hq, emea");
  });

  test("an IP list imports from a local file and is listed with its size", async () => {
    await page.fill("#ipl-name", "blocklist");
    await page.selectOption("#ipl-category", "risky");
    await page.fill("#ipl-tag", "threat-intel");
    await page.fill("#ipl-source", listFile);
    await page.click("#ipl-import");
    await page.waitForSelector("#ipl-result[data-state=ok]");
    assert.match(await page.textContent("#ipl-result"), new RegExp(`${LIST_SIZE} entries`));
    const row = page.locator('#ip-lists tr[data-list="blocklist"]');
    await row.waitFor();
    assert.equal(await row.getAttribute("data-size"), String(LIST_SIZE));
    const text = await row.innerText();
    assert.match(text, new RegExp(`${LIST_SIZE} entries`));
    assert.match(text, /Risky/);
    assert.match(text, /threat-intel/);
    assert.match(text, /plain-list\.txt/);

    await page.fill("#ipl-name", "missing");
    await page.fill("#ipl-source", "/nonexistent/warden-list.txt");
    await page.click("#ipl-import");
    await page.waitForSelector("#ipl-result[data-state=bad]");
    assert.match(await page.textContent("#ipl-result"), /missing/);
    assert.equal(await page.locator('#ip-lists tr[data-list="missing"]').count(), 0);
    await scrollTo("#ip-lists");
    await shot(page, "auto-05-lists");
  });

  test("a city database that does not open is explained", async () => {
    await page.fill("#geo-city", "/nonexistent/GeoLite2-City.mmdb");
    await page.click("#geo-save");
    await page.waitForSelector("#geo-result[data-state=bad]");
    assert.match(await page.textContent("#geo-result"), /cannot use that database/i);
    assert.match(await page.textContent("#geo-form"), /after Warden restarts/);
    await scrollTo("#geo-form");
    await shot(page, "auto-06-geo");
  });

  test("a notification can send copies to other admins", async () => {
    await page.click("#nav-users");
    const user = page.locator("table#users tbody tr", { hasText: NORMAL });
    await user.waitFor();
    await user.locator(".act-btn").click();
    await page.click('#act-menu [data-action="notify"]');
    await page.waitForSelector("#gov-modal[data-verdict=ready]");
    await page.waitForSelector("#gov-cc");
    await page.check("#gov-dry");
    await page.fill("#gov-cc", "security@example.com, not-an-address");
    await page.click("#gov-confirm");
    await page.waitForSelector("#gov-cc.invalid");
    assert.match(await page.textContent("#gov-cc-hint"), /not-an-address/);
    assert.equal(await page.locator("#gov-outcome").count(), 0, "nothing was run");

    await page.fill("#gov-cc", "security@example.com, it-lead@example.com");
    await page.click("#gov-confirm");
    await page.waitForSelector("#gov-outcome");
    assert.equal(await page.getAttribute("#gov-outcome", "data-status"), "would_do");
    const to = await page.textContent("#gov-recipients");
    assert.match(to, /security@example\.com/);
    assert.match(to, /it-lead@example\.com/);
    await shot(page, "auto-07-notify-cc");
    await page.click("#gov-cancel");
    assert.deepEqual(pageErrors, []);
  });
});

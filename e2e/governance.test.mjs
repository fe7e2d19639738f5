// Governance from end to end on the demo organization: act on a user from the Users page
// (confirmation with reach and undo, dry run, suspend, restore access), see every action in the
// governance log with the requests as sent, see a SCIM-synced account's refusal before any
// click, act from an event's detail panel, export the log, and get clear SMTP errors from the
// email settings. The real SMTP exchange is covered by the backend/mail and backend/govern
// Go tests.
//
// Run through scripts/test-e2e.sh (a D-Bus session with an unlocked keyring: the SMTP password
// goes to the real Secret Service).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import { closedPort, launchBrowser, shot, startDemo, stop } from "./lib.mjs";

const NORMAL = "Maja Nilsson"; // invited, active, not an admin
const SCIM = "Priya Raman"; // managementSource "synced" in the demo directory

describe("governance actions through warden serve", () => {
  let serve, browser, page, serveURL;
  const pageErrors = [];

  before(async () => {
    ({ child: serve, url: serveURL } = await startDemo("warden-e2e-gov-"));
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
    page.on("pageerror", (err) => pageErrors.push(err.message));
    page.on("console", (msg) => {
      if (msg.type() === "error") { pageErrors.push("console: " + msg.text()); }
    });
  });

  after(async () => {
    await browser?.close();
    await stop(serve);
  });

  function userRow(name) {
    return page.locator("table#users tbody tr", { hasText: name });
  }

  // act opens the Users page, the user's Actions menu, and one action's confirmation.
  async function act(name, action) {
    await page.click("#nav-users");
    await userRow(name).waitFor();
    await userRow(name).locator(".act-btn").click();
    await page.waitForSelector("#act-menu:not([hidden])");
    await page.click(`#act-menu [data-action="${action}"]`);
    await page.waitForSelector("#gov-modal:not([hidden]):not([data-verdict=loading])");
    return page.getAttribute("#gov-modal", "data-verdict");
  }

  async function outcome() {
    await page.waitForSelector("#gov-outcome");
    return page.getAttribute("#gov-outcome", "data-status");
  }

  async function closeModal() {
    await page.click("#gov-cancel");
    await page.waitForSelector("#gov-modal", { state: "hidden" });
  }

  async function logRows() {
    await page.click("#nav-governance");
    await page.waitForSelector("#gov-log:not([data-loading])");
    return page.$$eval("#gov-log tbody tr[data-id]", (trs) => trs.map((tr) => ({
      id: tr.dataset.id, status: tr.dataset.status, action: tr.dataset.action,
      text: tr.innerText,
    })));
  }

  test("the demo loads and the governance log starts empty", async () => {
    await page.goto(serveURL);
    await page.waitForSelector("#demo-badge:not([hidden])");
    await page.waitForFunction(() => {
      const box = document.querySelector("#sync-progress");
      return box.getAttribute("data-running") !== "true";
    }, null, { timeout: 60000 });
    assert.deepEqual(await logRows(), []);
    assert.match(await page.textContent("#gov-empty"), /No governance action yet/);
  });

  test("Suspend names the user, its reach and undo, and a dry run records would_do",
    async () => {
      await page.click("#nav-users");
      await userRow(NORMAL).waitFor();
      await shot(page, "gov-00-users");
      await userRow(NORMAL).locator(".act-btn").click();
      await page.waitForSelector("#act-menu:not([hidden])");
      await shot(page, "gov-00-menu");
      await page.keyboard.press("Escape");
      await page.waitForSelector("#act-menu", { state: "hidden" });

      assert.equal(await act(NORMAL, "suspend"), "ready");
      await shot(page, "gov-01-suspend-confirm");
      const text = await page.textContent("#gov-modal");
      assert.match(await page.textContent("#gov-who"), new RegExp(NORMAL));
      assert.match(await page.textContent("#gov-who"), /maja\.nilsson@example\.com/);
      assert.match(text, /Reach/);
      assert.match(text, /Every app of this organization/);
      assert.match(text, /Undo/);
      assert.match(text, /Restore access/);
      assert.match(text, /does not do/i);
      assert.match(await page.textContent("#gov-steps"), /POST.*\/users\/.*\/suspend/s);
      assert.equal((await page.textContent("#gov-confirm")).trim(), "Suspend " + NORMAL);

      await page.check("#gov-dry");
      assert.match(await page.textContent("#gov-confirm"), /^Dry run: suspend Maja Nilsson/);
      await page.click("#gov-confirm");
      assert.equal(await outcome(), "would_do");
      await shot(page, "gov-02-dry-run");
      assert.match(await page.textContent("#gov-outcome"), /nothing was sent/i);
      await closeModal();

      const rows = await logRows();
      assert.equal(rows.length, 1);
      assert.equal(rows[0].status, "would_do");
    });

  test("Suspend for real is done and shows in the governance log with its request",
    async () => {
      assert.equal(await act(NORMAL, "suspend"), "ready");
      assert.equal(await page.isChecked("#gov-dry"), false, "dry run must not stick");
      await page.click("#gov-confirm");
      assert.equal(await outcome(), "done");
      await shot(page, "gov-03-suspended");
      const out = await page.textContent("#gov-outcome");
      assert.match(out, /POST.*\/suspend/s);
      assert.match(out, /204/);
      assert.ok(await page.isVisible("#gov-undo"), "no undo offered");
      await closeModal();

      const rows = await logRows();
      assert.equal(rows.length, 2);
      assert.equal(rows[0].status, "done");
      assert.equal(rows[0].action, "suspend");
      assert.match(rows[0].text, new RegExp(NORMAL));
      assert.match(rows[0].text, /Manual/);
      assert.equal(rows[1].status, "would_do", "newest first");
      await shot(page, "gov-04-log");

      await page.click(`#gov-log tbody tr[data-id="${rows[0].id}"]`);
      await page.waitForSelector("#gov-detail:not([hidden])");
      await shot(page, "gov-05-log-entry");
      const req = await page.textContent('#gov-detail dd[data-field="requests"]');
      assert.match(req, /POST/);
      assert.match(req, /\/suspend/);
      assert.match(req, /204/);
      const raw = JSON.parse(await page.textContent("#gov-detail-raw"));
      assert.equal(raw.id, rows[0].id);
      await page.click("#gov-detail-close");
    });

  test("Restore access from the Users page is done and logged second", async () => {
    assert.equal(await act(NORMAL, "restore"), "ready");
    assert.equal((await page.textContent("#gov-confirm")).trim(), "Restore access for " + NORMAL);
    await page.click("#gov-confirm");
    assert.equal(await outcome(), "done");
    await closeModal();

    const rows = await logRows();
    assert.equal(rows.length, 3);
    assert.deepEqual(rows.map((r) => [r.action, r.status]),
      [["restore", "done"], ["suspend", "done"], ["suspend", "would_do"]]);
    await shot(page, "gov-06-log-restored");

    // Restoring again is recognized as already done, not sent twice.
    assert.equal(await act(NORMAL, "restore"), "already_done");
    assert.equal(await page.isVisible("#gov-confirm"), false);
    assert.match(await page.textContent("#gov-verdict"), /not suspended/);
    await closeModal();
  });

  test("a SCIM-synced user's Deactivate is refused with the reason before any click",
    async () => {
      assert.equal(await act(SCIM, "deactivate"), "refused");
      await shot(page, "gov-07-scim-refused");
      const verdict = await page.textContent("#gov-verdict");
      assert.match(verdict, /SCIM/);
      assert.match(verdict, /identity provider/);
      assert.match(await page.textContent("#gov-who"), /SCIM synced/);
      assert.equal(await page.isVisible("#gov-confirm"), false, "a refused action has no confirm");
      assert.equal(await page.isVisible("#gov-dry"), false);
      await closeModal();
      assert.equal((await logRows()).length, 3, "the check must not act or log");
    });

  test("Require sign-in again says plainly that browser sessions may survive", async () => {
    assert.equal(await act(NORMAL, "reauth"), "ready");
    await shot(page, "gov-08-reauth");
    assert.ok(await page.isVisible("#gov-honest"));
    assert.match(await page.textContent("#gov-honest"), /sessions may survive/i);
    assert.match(await page.textContent("#gov-steps"), /DELETE.*api-tokens/s);
    await closeModal();
  });

  test("the event detail panel offers actions on the event's actor", async () => {
    await page.click("#nav-activity");
    await page.click("#filter-reset");
    await page.selectOption("#filter-range", "all");
    await page.fill("#filter-user", "maja.nilsson@example.com");
    await page.click("#filter-apply");
    await page.waitForSelector("#events:not([data-loading])");
    await page.click("table#events tbody tr[data-id]");
    await page.waitForSelector("#event-detail:not([hidden]):not([data-loading])");
    await page.waitForSelector("#detail-actions:not([hidden])");
    const actor = page.locator('#detail-actions .act-row[data-role="actor"]');
    assert.match(await actor.innerText(), new RegExp(NORMAL));
    await actor.locator(".act-btn").click();
    await page.waitForSelector("#act-menu:not([hidden])");
    await shot(page, "gov-09-event-actions");
    await page.click('#act-menu [data-action="notify"]');
    await page.waitForSelector("#gov-modal:not([hidden]):not([data-verdict=loading])");
    assert.match(await page.textContent("#gov-who"), new RegExp(NORMAL));
    assert.match(await page.textContent("#gov-modal"), /Nothing in Atlassian/);
    await page.waitForSelector("#gov-mail-missing");
    assert.match(await page.textContent("#gov-mail-missing"), /No SMTP server configured/);
    assert.equal(await page.isDisabled("#gov-confirm"), true, "notify without SMTP");
    await shot(page, "gov-10-notify-confirm");
    await page.check("#gov-dry");
    assert.equal(await page.isDisabled("#gov-confirm"), false, "a dry run needs no SMTP");
    await closeModal();
    assert.ok(await page.isVisible("#event-detail"), "closing the dialog keeps the panel");
    await page.click("#detail-close");
  });

  test("the log filters by status and action and exports JSON lines and CSV", async () => {
    await logRows();
    await page.selectOption("#gov-filter-status", "done");
    await page.click("#gov-filter-apply");
    await page.waitForSelector("#gov-log:not([data-loading])");
    assert.equal(await page.locator("#gov-log tbody tr[data-id]").count(), 2);
    await page.selectOption("#gov-filter-action", "restore");
    await page.click("#gov-filter-apply");
    await page.waitForSelector("#gov-log:not([data-loading])");
    assert.equal(await page.locator("#gov-log tbody tr[data-id]").count(), 1);
    await page.fill("#gov-filter-user", "nobody@example.com");
    await page.click("#gov-filter-apply");
    await page.waitForSelector("#gov-empty:not([hidden])");
    assert.match(await page.textContent("#gov-empty"), /No actions match/);
    await page.click("#gov-filter-reset");
    await page.waitForFunction(() =>
      document.querySelectorAll("#gov-log tbody tr[data-id]").length === 3);

    const [jsonl] = await Promise.all([page.waitForEvent("download"),
      page.click("#gov-export-json")]);
    assert.match(jsonl.suggestedFilename(), /^warden-governance-.*\.jsonl$/);
    const lines = fs.readFileSync(await jsonl.path(), "utf8").trim().split("\n")
      .map((l) => JSON.parse(l));
    assert.deepEqual(lines.map((e) => e.action), ["restore", "suspend", "suspend"]);
    for (const e of lines) {
      for (const k of ["id", "action", "user", "trigger", "status", "time"]) {
        assert.ok(e[k], `exported entry lacks ${k}`);
      }
    }

    const [csv] = await Promise.all([page.waitForEvent("download"),
      page.click("#gov-export-csv")]);
    const rows = fs.readFileSync(await csv.path(), "utf8").trim().split(/\r?\n/);
    assert.equal(rows[0], "id,time,action,user,user_email,trigger,alert_id,status,reason," +
      "reason_key,http_status,error,requests");
    assert.equal(rows.length, 4);
    assert.match(rows[1], /restore/);
    assert.match(rows[1], /maja\.nilsson@example\.com/);
    assert.match(rows[1], /POST \/admin\/v2\/.*\/restore 204/);
  });

  test("email settings: no server gives a clear message, a closed port cannot be reached",
    async () => {
      await page.click("#nav-settings");
      await page.waitForSelector("#page-settings:not([hidden])");
      await page.waitForFunction(() => document.querySelector("#smtp-body").value !== "");
      assert.match(await page.textContent("#tmpl-fields"), /\{\{\.UserName\}\}/);

      await page.fill("#smtp-test-to", "admin@example.com");
      await page.click("#smtp-test");
      await page.waitForSelector("#smtp-result:not([hidden]):not([data-state=busy])");
      assert.equal(await page.getAttribute("#smtp-result", "data-state"), "bad");
      assert.match(await page.textContent("#smtp-result"), /no SMTP server configured/i);
      await page.locator("#smtp-result").scrollIntoViewIfNeeded();
      await shot(page, "gov-11-smtp-none");

      const port = await closedPort();
      await page.fill("#smtp-host", "127.0.0.1");
      await page.fill("#smtp-port", String(port));
      await page.selectOption("#smtp-security", "none");
      await page.fill("#smtp-user", "warden");
      await page.fill("#smtp-pass", "e2e-smtp-secret");
      await page.fill("#smtp-from", "Warden <warden@example.com>");
      await page.click("#smtp-test");
      assert.match(await page.textContent("#smtp-result"), /Save the settings first/);

      await page.click("#smtp-save");
      await page.waitForSelector("#smtp-result[data-state=ok]");
      assert.match(await page.textContent("#smtp-result"), /keychain/);
      await page.waitForSelector('#smtp-pass-state[data-has-password="true"]');
      assert.equal(await page.inputValue("#smtp-pass"), "", "the password must not stay");
      assert.equal(await page.inputValue("#smtp-port"), String(port));

      await page.click("#smtp-test");
      await page.waitForSelector("#smtp-result:not([hidden]):not([data-state=busy])");
      assert.equal(await page.getAttribute("#smtp-result", "data-state"), "bad");
      assert.match(await page.textContent("#smtp-result"), /cannot be reached/);
      await page.locator("#smtp-result").scrollIntoViewIfNeeded();
      await shot(page, "gov-12-smtp-unreachable");
      assert.ok(!(await page.content()).includes("e2e-smtp-secret"), "the password is shown");
    });

  test("the page raised no script errors", () => {
    assert.deepEqual(pageErrors, []);
  });
});

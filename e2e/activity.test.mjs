// The activity log from end to end, as an admin sees it: connect the fixture organization
// (served by `warden fakeapi`) through the Connectors form of `warden serve`, wait for the first
// sync, then find the failed-login burst and the impersonation in the activity log.
//
// Run through scripts/test-e2e.sh, which builds warden and provides a D-Bus session with an
// unlocked keyring (the connector's API key goes to the real Secret Service).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import {
  fixturesDir, isoDateIn, launchBrowser, shot, start, stop, tempDir,
} from "./lib.mjs";

const FAILED_LOGIN = "user_login_failed";
const IMPERSONATION = "user_logged_in_as_user";

describe("activity log through warden serve", () => {
  let fake, serve, browser, page;
  let fakeURL, orgID, apiKey, serveURL;
  const pageErrors = [];

  before(async () => {
    assert.ok(fs.existsSync(fixturesDir), `fixtures not found at ${fixturesDir}`);

    fake = start(["fakeapi", "--addr", "127.0.0.1:0", "--fixtures", fixturesDir, "--redate"],
      /fakeapi listening on (http:\/\/127\.0\.0\.1:\d+) org=(\S+) key=(\S+)/);
    [, fakeURL, orgID, apiKey] = await fake.ready;

    serve = start(["--data-dir", tempDir("warden-e2e-data-"), "serve", "--addr", "127.0.0.1:0"],
      /(http:\/\/127\.0\.0\.1:\d+\/\S*)/);
    [, serveURL] = await serve.ready;

    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    page.on("pageerror", (err) => pageErrors.push(err.message));
  });

  after(async () => {
    await browser?.close();
    await stop(serve);
    await stop(fake);
  });

  test("the server refuses a browser without the token", async () => {
    const origin = new URL(serveURL).origin;
    const ctx = await browser.newContext();
    const p = await ctx.newPage();
    const resp = await p.goto(origin + "/");
    assert.equal(resp.status(), 401);
    assert.match(await p.textContent("body"), /warden serve/);
    await ctx.close();
  });

  test("the token link opens the app and an empty install asks for a connector", async () => {
    await page.goto(serveURL);
    assert.equal(new URL(page.url()).search, "", "the token must leave the address bar");
    await page.waitForSelector("#page-connectors:not([hidden])");
    await shot(page, "01-first-start");
  });

  async function fillForm(key) {
    await page.click("#nav-connectors");
    await page.fill("#conn-name", "Example Robotics (fixtures)");
    await page.fill("#conn-org", orgID);
    await page.fill("#conn-key", key);
    await page.fill("#conn-expires", isoDateIn(6));
    if (!(await page.isVisible("#conn-apibase"))) { await page.click(".advanced summary"); }
    await page.fill("#conn-apibase", fakeURL);
  }

  async function result() {
    await page.waitForSelector("#conn-result:not([hidden]):not([data-state=busy])");
    return {
      state: await page.getAttribute("#conn-result", "data-state"),
      text: await page.textContent("#conn-result"),
    };
  }

  test("a wrong API key gets a clear bad-key message and saves nothing", async () => {
    await fillForm("not-the-right-key");
    await page.click("#conn-test");
    let r = await result();
    await shot(page, "02-bad-key");
    assert.equal(r.state, "bad", r.text);
    assert.match(r.text, /key/i);
    assert.match(r.text, /(reject|invalid|wrong|expired|revoked|bad)/i, r.text);
    assert.equal(await page.getAttribute("#conn-result", "data-problem"), "bad_key");

    await page.click("#conn-save");
    r = await result();
    assert.equal(r.state, "bad", "saving with a wrong key must fail: " + r.text);
    assert.match(r.text, /key/i);
    assert.equal(await page.locator("#connectors [data-connector]").count(), 0);
  });

  test("Test connection with the right key names the organization", async () => {
    await fillForm(apiKey);
    await page.click("#conn-test");
    const r = await result();
    await shot(page, "03-test-ok");
    assert.equal(r.state, "ok", r.text);
    assert.match(r.text, /Example Robotics/);
  });

  test("Save & sync stores the connector and the first sync finishes", async () => {
    await page.click("#conn-save");
    const r = await result();
    assert.equal(r.state, "ok", r.text);
    assert.equal(await page.inputValue("#conn-key"), "", "the key must not stay in the form");

    const card = `#connectors [data-org="${orgID}"]`;
    await page.waitForSelector(card);
    await shot(page, "04-syncing");
    await page.waitForFunction((sel) => {
      const n = document.querySelector(sel + " [data-stat=events]");
      const box = document.querySelector("#sync-progress");
      return n && Number(n.textContent.replace(/\D/g, "")) > 0 &&
        box.getAttribute("data-running") !== "true";
    }, card, { timeout: 60000 });
    await shot(page, "05-synced");

    const count = await page.textContent(card + " [data-stat=events]");
    const events = Number(count.replace(/\D/g, ""));
    assert.equal(events, 40, "the fixtures hold 40 distinct events");
    assert.ok(!(await page.textContent("body")).includes(apiKey), "the key is echoed somewhere");
    assert.equal(await page.isVisible("#demo-badge"), false, "fixture org is not the demo");
  });

  async function applyFilters(fill) {
    await page.click("#nav-activity");
    await page.click("#filter-reset");
    await page.selectOption("#filter-range", "all");
    await fill();
    await page.click("#filter-apply");
    await page.waitForSelector("#events:not([data-loading])");
    await page.waitForSelector("table#events tbody tr[data-id], #events-empty:not([hidden])");
  }

  async function rows() {
    return page.$$eval("table#events tbody tr[data-id]", (trs) => trs.map((tr) => ({
      id: tr.dataset.id, action: tr.dataset.action, text: tr.innerText,
    })));
  }

  test("filtering by user shows Hana's failed-login burst", async () => {
    await applyFilters(() => page.fill("#filter-user", "hana.sato@example.com"));
    await shot(page, "06-filter-user");
    const got = await rows();
    assert.ok(got.length >= 5, `only ${got.length} rows`);
    for (const r of got) { assert.match(r.text, /Hana Sato/); }
    assert.equal(got.filter((r) => r.action === FAILED_LOGIN).length, 5);
  });

  test("the detail panel shows every field of a failed login", async () => {
    await page.click(`table#events tbody tr[data-action=${FAILED_LOGIN}]`);
    await page.waitForSelector("#event-detail:not([hidden]):not([data-loading])");
    await shot(page, "07-event-detail");
    const text = await page.textContent("#event-detail");
    assert.match(text, /192\.0\.2\.199/);
    assert.match(text, /Bucharest/);
    assert.match(text, /Romania/);
    assert.match(text, /hana\.sato@example\.com/);
    assert.match(text, /Processed at/);
    const raw = JSON.parse(await page.textContent("#detail-raw"));
    assert.equal(raw.attributes?.action ?? raw.action, FAILED_LOGIN);

    await page.locator("#event-detail .drawer-body").evaluate((el) => { el.scrollTop = 1e6; });
    await shot(page, "08-event-detail-raw");
    await page.click("#detail-close");
    assert.equal(await page.isVisible("#event-detail"), false);
  });

  test("filtering by action finds the impersonation and its target", async () => {
    await applyFilters(() => page.selectOption("#filter-action", IMPERSONATION));
    const got = await rows();
    assert.equal(got.length, 1);
    assert.match(got[0].text, /Rafael Quintero/);

    await page.click("table#events tbody tr[data-id]");
    await page.waitForSelector("#event-detail:not([hidden]):not([data-loading])");
    await shot(page, "09-impersonation");
    assert.match(await page.textContent("#event-detail"), /noah\.fitzgerald@example\.com/);
    await page.click("#detail-close");
  });

  test("an invalid IP is flagged and a token use is badged", async () => {
    await applyFilters(async () => {});
    await shot(page, "10-all-events");
    assert.ok(await page.locator("table#events tbody tr .ip-invalid").count() >= 1,
      "no row flags the invalid IP 00.00.00.00");
    assert.ok(await page.locator("table#events tbody tr .badge-token").count() >= 1,
      "no row shows the API-token badge");
  });

  test("the users page lists the directory", async () => {
    await page.click("#nav-users");
    await page.waitForSelector("table#users tbody tr");
    await shot(page, "11-users");
    assert.equal(await page.locator("table#users tbody tr").count(), 9);
    assert.match(await page.textContent("table#users"), /Org admin/);
  });

  test("the page raised no script errors", () => {
    assert.deepEqual(pageErrors, []);
  });
});

// The demo organization and a second connector: `warden --demo serve` must say loudly that
// what it shows is not a real organization, page through a longer log with "Load more", and
// switch between organizations with the header's selector.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  fixturesDir, isoDateIn, launchBrowser, shot, start, stop, tempDir,
} from "./lib.mjs";

describe("demo organization through warden serve", () => {
  let fake, serve, browser, page;
  let fakeURL, orgID, apiKey, serveURL;
  const pageErrors = [];

  before(async () => {
    fake = start(["fakeapi", "--addr", "127.0.0.1:0", "--fixtures", fixturesDir, "--redate"],
      /fakeapi listening on (http:\/\/127\.0\.0\.1:\d+) org=(\S+) key=(\S+)/);
    [, fakeURL, orgID, apiKey] = await fake.ready;

    serve = start(["--data-dir", tempDir("warden-e2e-demo-"), "--demo", "serve", "--addr",
      "127.0.0.1:0"], /(http:\/\/127\.0\.0\.1:\d+\/\S*)/);
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

  async function allTime() {
    await page.click("#nav-activity");
    await page.selectOption("#filter-range", "all");
    await page.click("#filter-apply");
    await page.waitForSelector("#events:not([data-loading])");
  }

  test("the demo organization is badged and its log pages with Load more", async () => {
    await page.goto(serveURL);
    await page.waitForSelector("#demo-badge:not([hidden])");
    await page.waitForFunction(() => {
      const box = document.querySelector("#sync-progress");
      return box.getAttribute("data-running") !== "true";
    }, null, { timeout: 60000 });
    await allTime();
    await page.waitForSelector("table#events tbody tr[data-id]");
    await shot(page, "20-demo-activity");
    assert.match(await page.textContent("#demo-badge"), /DEMO ORGANIZATION/);

    const first = await page.locator("table#events tbody tr[data-id]").count();
    assert.ok(first > 0);
    if (await page.isVisible("#events-more")) {
      await page.click("#events-more");
      await page.waitForFunction((n) =>
        document.querySelectorAll("table#events tbody tr[data-id]").length > n, first);
      const ids = await page.$$eval("table#events tbody tr[data-id]",
        (trs) => trs.map((tr) => tr.dataset.id));
      assert.equal(new Set(ids).size, ids.length, "Load more repeated rows");
      await shot(page, "21-demo-load-more");
    }
  });

  test("a second organization shows in the selector and switches the view", async () => {
    await page.click("#nav-connectors");
    await page.fill("#conn-org", orgID);
    await page.fill("#conn-key", apiKey);
    await page.fill("#conn-expires", isoDateIn(2));
    if (!(await page.isVisible("#conn-apibase"))) { await page.click(".advanced summary"); }
    await page.fill("#conn-apibase", fakeURL);
    await page.click("#conn-save");
    await page.waitForSelector("#conn-result[data-state=ok]");
    await page.waitForFunction((org) => {
      const n = document.querySelector(`#connectors [data-org="${org}"] [data-stat=events]`);
      return n && n.textContent !== "0";
    }, orgID, { timeout: 60000 });
    await shot(page, "22-two-connectors");

    assert.equal(await page.locator("#org-select option").count(), 2);
    assert.equal(await page.inputValue("#org-select"), orgID, "the new org is selected");
    assert.equal(await page.isVisible("#demo-badge"), false, "the fixture org is not a demo");

    await allTime();
    assert.match(await page.textContent("table#events"), /Hana Sato/);
    const fixtureIDs = await page.$$eval("table#events tbody tr[data-id]",
      (trs) => trs.map((tr) => tr.dataset.id));

    const demoOrg = await page.$eval("#org-select", (sel, org) =>
      [...sel.options].map((o) => o.value).find((v) => v !== org), orgID);
    await page.selectOption("#org-select", demoOrg);
    await page.waitForSelector("#demo-badge:not([hidden])");
    await page.waitForSelector("#events:not([data-loading])");
    await page.waitForSelector("table#events tbody tr[data-id]");
    await shot(page, "23-back-to-demo");
    const demoIDs = await page.$$eval("table#events tbody tr[data-id]",
      (trs) => trs.map((tr) => tr.dataset.id));
    assert.ok(!demoIDs.some((id) => fixtureIDs.includes(id)), "rows of the other org shown");
  });

  test("the page raised no script errors", () => {
    assert.deepEqual(pageErrors, []);
  });
});

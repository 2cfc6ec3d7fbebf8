// The page when things go wrong: a wrong or missing token, the server killed and restarted.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { framesPresented, launchBrowser, missing, openPage, Server, until } from "./harness.mjs";

const why = missing();
if (why) console.log(`voxcast-e2e: skipped: ${why}`);
let server, browser;

before(async () => {
  if (why) return;
  server = await new Server().start();
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await server?.stop();
});
const t = (name, fn) => test(name, { skip: why || false }, fn);

t("a wrong token: a clear message, not a blank page", async () => {
  const { page } = await openPage(browser.context, `${server.origin}/?token=wrong-${server.token}`);
  await until("the message", () => page.locator("#message").isVisible());
  assert.match(await page.textContent("#message"), /did not accept this token/);
  assert.equal(await page.evaluate(() => window.__voxcast.loop.loop.phase), "rejected");
  assert.equal(await page.evaluate(() => sessionStorage.getItem("voxcast.token")), null, "a refused token is forgotten");
  await page.close();
});

t("no token: the message says where to find one", async () => {
  const { page } = await openPage(browser.context, `${server.origin}/`);
  await until("the message", () => page.locator("#message").isVisible());
  assert.match(await page.textContent("#message"), /needs a token/);
  await page.close();
});

t("the server killed and restarted: the banner, then the picture back within 2 s", async () => {
  const { page } = await openPage(browser.context, server.url);
  await until("the first picture", async () => (await framesPresented(page)) > 0, 20000);
  await page.evaluate(() => window.__voxcast.loop.setDimsIndex("z", 9));
  await until("z = 9 confirmed", () => page.evaluate(() => (() => { const m = window.__voxcast.loop.mirror; return m.currentStep[m.axisLabels.indexOf("z")] === 9; })()));
  await server.kill();
  await until("the reconnecting banner", () => page.locator("#banner").isVisible());
  assert.match(await page.textContent("#banner"), /reconnecting/);
  const before = await framesPresented(page);
  await server.start();
  const t0 = server.readyAt;
  await until("a picture from the new server", async () => (await framesPresented(page)) > before, 5000, 10);
  const ms = Date.now() - t0;
  console.log(`picture back ${ms} ms after the server was ready`);
  assert.ok(ms <= 2000, `${ms} ms`);
  assert.equal(await page.locator("#banner").isVisible(), false);
  // The view came back: the new server starts at its default z, the page restores 9.
  await until("the view restored", () => page.evaluate(() => (() => { const m = window.__voxcast.loop.mirror; return m.currentStep[m.axisLabels.indexOf("z")] === 9; })()), 5000);
  assert.equal(await page.evaluate(() => window.__voxcast.loop.loop.sessions), 2);
  await page.close();
});

// Writes docs/web-2d.png and docs/web-3d.png: the page on the built-in sample (or
// VOXCAST_DATASET), 2D after a z step, then 3D (attenuated MIP) after an orbit.
// Usage: VOXCAST_SERVER=build/bin/voxcast-server node web/e2e/screenshots.mjs [OUT_DIR]
import path from "node:path";
import { framesPresented, launchBrowser, openPage, Server, sleep, until } from "./harness.mjs";

const out = path.resolve(process.argv[2] || path.join(new URL(".", import.meta.url).pathname, "../../docs"));
const server = await new Server({ dataset: process.env.VOXCAST_DATASET || "brain", size: "1280x720" }).start();
const browser = await launchBrowser({ width: 1400, height: 860 });
try {
  const { page } = await openPage(browser.context, server.url);
  await until("the first picture", async () => (await framesPresented(page)) > 0, 30000);
  await page.locator("#canvas").focus();
  for (let i = 0; i < 6; i++) await page.keyboard.press("ArrowRight");
  await sleep(1500);
  await page.screenshot({ path: path.join(out, "web-2d.png") });
  await page.keyboard.press("Control+y");
  await until("3D", () => page.evaluate(() => window.__voxcast.loop.mirror.ndisplay === 3));
  await sleep(3000);
  await page.selectOption("#rendering", "attenuated_mip");
  const box = await page.locator("#canvas").boundingBox();
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  await page.mouse.down();
  for (let i = 1; i <= 12; i++) await page.mouse.move(box.x + box.width / 2 + i * 8, box.y + box.height / 2 - i * 3);
  await page.mouse.up();
  // The orbited 3D frame, then its refinement.
  const n = await framesPresented(page);
  await until("the orbited 3D frame", async () => (await framesPresented(page)) > n, 60000);
  await sleep(4000);
  await page.screenshot({ path: path.join(out, "web-3d.png") });
  console.log(`wrote ${out}/web-2d.png and web-3d.png`);
} finally {
  await browser.close();
  await server.stop();
}

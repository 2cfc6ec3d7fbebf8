// Builds the browser client: src/main.ts → OUT/app.js (one minified bundle), with
// index.html and style.css beside it; --tests DIR compiles the unit tests for `node --test`.
// Usage: node build.mjs [--out DIR] [--tests DIR]
import { build } from "esbuild";
import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";

const here = path.dirname(new URL(import.meta.url).pathname);
const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] ? path.resolve(args[i + 1]) : fallback;
};
const out = opt("--out", path.join(here, "..", "build", "web"));
const tests = opt("--tests", null);
const LIMIT_GZIP = 200 * 1024;

fs.mkdirSync(out, { recursive: true });
await build({
  entryPoints: [path.join(here, "src", "main.ts")],
  bundle: true,
  minify: true,
  format: "esm",
  target: ["chrome100", "firefox115", "safari16.4"],
  outfile: path.join(out, "app.js"),
  legalComments: "none",
  logLevel: "warning",
});
for (const f of ["index.html", "style.css"]) fs.copyFileSync(path.join(here, "src", f), path.join(out, f));
let gz = 0;
for (const f of ["index.html", "style.css", "app.js"]) gz += zlib.gzipSync(fs.readFileSync(path.join(out, f))).length;
if (gz > LIMIT_GZIP) {
  console.error(`voxcast web: the bundle is ${gz} bytes gzipped, over the ${LIMIT_GZIP} limit`);
  process.exit(1);
}
console.log(`voxcast web: ${out} (${(gz / 1024).toFixed(1)} KB gzipped)`);

if (tests) {
  fs.mkdirSync(tests, { recursive: true });
  const files = fs.readdirSync(path.join(here, "test")).filter((f) => f.endsWith(".test.ts"));
  await build({
    entryPoints: files.map((f) => path.join(here, "test", f)),
    bundle: true,
    format: "esm",
    platform: "node",
    target: "node20",
    outdir: tests,
    outExtension: { ".js": ".mjs" },
    external: ["node:*"],
    logLevel: "warning",
  });
  console.log(`voxcast web: ${files.length} unit test files in ${tests}`);
}

// Render a card template from cards/ to a PNG, as the Adaptive Cards JavaScript renderer draws
// it, in headless Chromium: the picture in the README. Not part of the app or the tests.
//
//   npm install --no-save adaptivecards@3.0.6 playwright-core@1.65.1   (Debian's chromium too)
//   node tools/render_card.mjs incident docs/incident-card.json docs/incident-card.png
//
// The data file holds {"data": {...}, "recipient": {...}}: the webhook's data and one recipient.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { chromium } from "playwright-core";

const require = createRequire(import.meta.url);
const [name, dataFile, out] = process.argv.slice(2);
const template = JSON.parse(readFileSync(`cards/${name}.json`, "utf8"));
const { data, recipient } = JSON.parse(readFileSync(dataFile, "utf8"));
const ACData = require("adaptivecards-templating");
const card = new ACData.Template(template).expand({ $root: { ...data, recipient } });

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"],
});
const page = await browser.newPage({ viewport: { width: 520, height: 400 }, deviceScaleFactor: 2 });
await page.setContent(`<html><head><style>
  body { margin: 0; padding: 16px; background: #f5f5f5; font-family: "Segoe UI", sans-serif; }
  #card { width: 456px; background: white; border-radius: 6px; box-shadow: 0 1px 3px #0003; }
</style><style>${readFileSync(require.resolve("adaptivecards/dist/adaptivecards.css"), "utf8")}</style>
</head><body><div id="card"></div></body></html>`);
await page.addScriptTag({ path: require.resolve("adaptivecards/dist/adaptivecards.min.js") });
await page.evaluate((payload) => {
  const adaptive = new AdaptiveCards.AdaptiveCard();
  adaptive.hostConfig = new AdaptiveCards.HostConfig({
    fontFamily: "Segoe UI, sans-serif",
    spacing: { small: 4, default: 8, medium: 16, large: 20, extraLarge: 24, padding: 16 },
  });
  adaptive.parse(payload);
  document.getElementById("card").appendChild(adaptive.render());
}, card);
await page.locator("#card").screenshot({ path: out });
await browser.close();

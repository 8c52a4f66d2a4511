// The playground in a headless Chromium (JGPT_CHROMIUM) against a running jgpt server (JGPT_BASE_URL, JGPT_API_KEY):
// the page loads with nothing from the internet, shows how the prompt tokenizes, streams a completion in, and
// colours each token by its probability with its alternatives on hover.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";

const root = process.env.JGPT_BASE_URL.replace(/\/v1$/, "");
const apiKey = process.env.JGPT_API_KEY;
const profile = mkdtempSync(join(tmpdir(), "jgpt-chromium-"));
// A fresh profile (--user-data-dir) each run; playwright adds --headless.
const browser = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.JGPT_CHROMIUM,
  headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync"],
});
after(async () => {
  await browser.close();
  rmSync(profile, { recursive: true, force: true });
});

async function api(path, body) {
  const response = await fetch(root + path, { method: "POST", headers: { Authorization: "Bearer " + apiKey },
    body: JSON.stringify(body) });
  return response.json();
}

test("the playground tokenizes the prompt, streams the text in and colours each token", async () => {
  const page = await browser.newPage();
  const requested = [];
  page.on("request", (request) => requested.push(request.url()));
  const problems = [];
  page.on("pageerror", (error) => problems.push(String(error)));
  await page.goto(root + "/");
  await page.fill("#api_key", apiKey);
  await page.dispatchEvent("#api_key", "change");
  const prompt = "Fellow citizens of the Senate and the House";
  await page.fill("#prompt", prompt);

  const expectedTokens = (await api("/tokenize", { content: prompt })).tokens;
  await page.waitForFunction((n) => document.querySelectorAll("#prompt-tokens .token").length === n, expectedTokens.length);
  const shownIds = await page.$$eval("#prompt-tokens .token", (spans) => spans.map((s) => Number(s.dataset.id)));
  assert.deepEqual(shownIds, expectedTokens);
  assert.equal(await page.textContent("#model"), "tiny");

  await page.fill("#max_tokens", "12");
  await page.fill("#temperature", "0");
  await page.fill("#logprobs", "3");
  await page.click("#generate");
  await page.waitForSelector("#output[data-state=done]");
  assert.match(await page.textContent("#status"), /^done: (length|stop), \d+ tokens/);

  const expected = await api("/v1/completions", { prompt, max_tokens: 12, temperature: 0, logprobs: 3 });
  const choice = expected.choices[0];
  assert.equal(await page.textContent("#output-text"), choice.text, "the streamed text is the completion's");
  const tokens = await page.$$eval("#output .token", (spans) => spans.map((s) => {
    const probe = document.createElement("span");
    probe.style.background = `hsl(${Math.round(120 * Number(s.dataset.prob))}, 75%, 82%)`;
    return { token: s.dataset.token, prob: Number(s.dataset.prob), top: JSON.parse(s.dataset.top),
      background: s.style.backgroundColor, expected: probe.style.backgroundColor };
  }));
  assert.equal(tokens.length, choice.logprobs.tokens.length);
  for (let i = 0; i < tokens.length; i++) {
    assert.equal(tokens[i].token, choice.logprobs.tokens[i]);
    assert.ok(Math.abs(tokens[i].prob - Math.exp(choice.logprobs.token_logprobs[i])) < 1e-4);
    assert.equal(tokens[i].background, tokens[i].expected, "coloured by its probability");
    assert.deepEqual(tokens[i].top, choice.logprobs.top_logprobs[i]);
  }

  await page.hover("#output .token >> nth=0");
  await page.waitForSelector("#tooltip:not([hidden])");
  const rows = await page.$$eval("#tooltip tr", (trs) => trs.length);
  assert.equal(rows, 1 + Object.keys(tokens[0].top).length, "the token, then its alternatives");

  assert.deepEqual(problems, []);
  assert.ok(requested.every((url) => url.startsWith(root)), "nothing but the server: " + requested.join(", "));
  await page.close();
});

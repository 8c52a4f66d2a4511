// The official openai SDK against a running jgpt server (JGPT_BASE_URL, JGPT_API_KEY; started by NodeClientsTest):
// completions plain and streamed, chat plain and streamed, logprobs, echo, a list of prompts, token-id prompts,
// models.list(), the error shapes, the API key, CORS and the metrics.
import { test } from "node:test";
import assert from "node:assert/strict";
import OpenAI from "openai";

const baseURL = process.env.JGPT_BASE_URL;
const apiKey = process.env.JGPT_API_KEY;
const origin = process.env.JGPT_CORS_ORIGIN;
const root = baseURL.replace(/\/v1$/, "");
const client = new OpenAI({ baseURL, apiKey, maxRetries: 0, timeout: 60_000 });
const model = "tiny";

async function tokenize(content) {
  const response = await fetch(root + "/tokenize", { method: "POST", headers: { Authorization: "Bearer " + apiKey },
    body: JSON.stringify({ content }) });
  return (await response.json()).tokens;
}

test("a completion, then the same streamed piece by piece", async () => {
  const ask = { model, prompt: "Fellow citizens", max_tokens: 10, temperature: 0.9, seed: 7 };
  const whole = await client.completions.create(ask);
  assert.equal(whole.object, "text_completion");
  assert.equal(whole.choices.length, 1);
  assert.equal(typeof whole.choices[0].text, "string");
  assert.ok(["length", "stop"].includes(whole.choices[0].finish_reason));
  assert.equal(whole.usage.prompt_tokens, (await tokenize("Fellow citizens")).length);
  assert.equal(whole.usage.total_tokens, whole.usage.prompt_tokens + whole.usage.completion_tokens);

  const stream = await client.completions.create({ ...ask, stream: true });
  let text = "";
  let finish = null;
  let chunks = 0;
  for await (const chunk of stream) {
    chunks++;
    text += chunk.choices[0].text;
    if (chunk.choices[0].finish_reason) finish = chunk.choices[0].finish_reason;
  }
  assert.ok(chunks >= 2, `${chunks} chunks`);
  assert.equal(text, whole.choices[0].text, "the same seed gives the same text, streamed or not");
  assert.equal(finish, whole.choices[0].finish_reason);
});

test("logprobs: each generated token with its log-probability and its most likely alternatives", async () => {
  const response = await client.completions.create({ model, prompt: "The year", max_tokens: 6, temperature: 0, logprobs: 3 });
  const logprobs = response.choices[0].logprobs;
  assert.equal(logprobs.tokens.length, response.usage.completion_tokens);
  for (let i = 0; i < logprobs.tokens.length; i++) {
    assert.ok(logprobs.token_logprobs[i] <= 0);
    const alternatives = Object.entries(logprobs.top_logprobs[i]);
    assert.ok(alternatives.length >= 1 && alternatives.length <= 3);
    const best = Math.max(...alternatives.map(([, lp]) => lp));
    assert.ok(Math.abs(best - logprobs.token_logprobs[i]) < 1e-9, "greedy takes the most likely token");
  }
  assert.deepEqual(logprobs.text_offset[0], 0);
});

test("echo with no new tokens scores the prompt, as lm-evaluation-harness asks", async () => {
  const prompt = "The quick brown fox";
  const response = await client.completions.create({ model, prompt, echo: true, max_tokens: 0, logprobs: 0 });
  const choice = response.choices[0];
  assert.equal(choice.text, prompt);
  assert.equal(choice.logprobs.token_logprobs[0], null);
  assert.equal(choice.logprobs.tokens.length, (await tokenize(prompt)).length);
  assert.ok(choice.logprobs.token_logprobs.slice(1).every((lp) => lp < 0));
  assert.equal(response.usage.completion_tokens, 0);
});

test("a list of prompts, n samples each, and token-id prompts that complete as their texts do", async () => {
  const listed = await client.completions.create({ model, prompt: ["Once upon", "In the"], n: 2, max_tokens: 5, seed: 3 });
  assert.deepEqual(listed.choices.map((c) => c.index), [0, 1, 2, 3]);
  const texts = ["Hello there", "The year"];
  const fromText = await client.completions.create({ model, prompt: texts, max_tokens: 6, temperature: 0 });
  const ids = await Promise.all(texts.map(tokenize));
  const fromIds = await client.completions.create({ model, prompt: ids, max_tokens: 6, temperature: 0 });
  assert.deepEqual(fromIds.choices.map((c) => c.text), fromText.choices.map((c) => c.text));
  const single = await client.completions.create({ model, prompt: ids[0], max_tokens: 6, temperature: 0 });
  assert.equal(single.choices[0].text, fromText.choices[0].text);
});

test("chat: a reply, then the same streamed, with usage and logprobs", async () => {
  const ask = { model, messages: [{ role: "system", content: "Be brief." }, { role: "user", content: "Hello!" }],
    max_tokens: 8, temperature: 0 };
  const whole = await client.chat.completions.create({ ...ask, logprobs: true, top_logprobs: 2 });
  assert.equal(whole.object, "chat.completion");
  const choice = whole.choices[0];
  assert.equal(choice.message.role, "assistant");
  assert.equal(typeof choice.message.content, "string");
  assert.ok(["length", "stop"].includes(choice.finish_reason));
  const prompt = "Be brief.\n\nUser: Hello!\nAssistant:";
  assert.equal(whole.usage.prompt_tokens, (await tokenize(prompt)).length, "the documented default template");
  for (const entry of choice.logprobs.content) {
    assert.equal(entry.top_logprobs.length, 2);
    assert.ok(Array.isArray(entry.bytes));
  }

  const stream = await client.chat.completions.create({ ...ask, stream: true, stream_options: { include_usage: true } });
  let content = "";
  let role = null;
  let usage = null;
  for await (const chunk of stream) {
    assert.equal(chunk.object, "chat.completion.chunk");
    if (chunk.usage) usage = chunk.usage;
    for (const c of chunk.choices) {
      if (c.delta.role) role = c.delta.role;
      if (c.delta.content) content += c.delta.content;
    }
  }
  assert.equal(role, "assistant");
  assert.equal(content, choice.message.content);
  assert.deepEqual(usage, whole.usage);
});

test("models.list() names the served model", async () => {
  const ids = [];
  for await (const m of client.models.list()) ids.push(m.id);
  assert.deepEqual(ids, [model]);
});

test("errors come back in OpenAI's shape, as the SDK's error classes", async () => {
  await assert.rejects(client.completions.create({ model, prompt: "a", max_tokens: -1 }), (e) => {
    assert.ok(e instanceof OpenAI.BadRequestError);
    assert.equal(e.status, 400);
    assert.match(e.error.message, /max_tokens/);
    assert.equal(e.error.type, "invalid_request_error");
    return true;
  });
  await assert.rejects(client.completions.create({ model, prompt: "a", temperature: -1 }), OpenAI.BadRequestError);
  await assert.rejects(client.chat.completions.create({ model, messages: [] }), /messages/);
  await assert.rejects(client.chat.completions.create({ model, messages: [{ role: "robot", content: "x" }] }), /role/);
  const wrongKey = new OpenAI({ baseURL, apiKey: "not-the-key", maxRetries: 0 });
  await assert.rejects(wrongKey.completions.create({ model, prompt: "a" }), (e) => {
    assert.ok(e instanceof OpenAI.AuthenticationError);
    assert.equal(e.status, 401);
    return true;
  });
});

test("CORS preflight for the allowed origin, and metrics in Prometheus' format", async () => {
  const preflight = await fetch(baseURL + "/completions", { method: "OPTIONS",
    headers: { Origin: origin, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization,content-type" } });
  assert.equal(preflight.status, 204);
  assert.equal(preflight.headers.get("access-control-allow-origin"), origin);
  assert.match(preflight.headers.get("access-control-allow-headers"), /authorization/);
  const other = await fetch(root + "/health", { headers: { Origin: "http://elsewhere.test" } });
  assert.equal(other.headers.get("access-control-allow-origin"), null);

  const metrics = await (await fetch(root + "/metrics")).text();
  assert.match(metrics, /^# TYPE jgpt_requests_total counter$/m);
  assert.match(metrics, /^jgpt_requests_total\{endpoint="\/v1\/completions",status="200"\} [1-9]/m);
  assert.match(metrics, /^jgpt_generated_tokens_total [1-9]/m);
  assert.match(metrics, /^jgpt_batch_size_bucket\{le="\+Inf"\} [1-9]/m);
  assert.match(metrics, /^jgpt_time_to_first_token_seconds_count [1-9]/m);
});

// The official openai SDK's embeddings.create against a jgpt server that embeds (JGPT_EMBEDDINGS_URL; started by
// NodeClientsTest with a fixed function of the text: [length + 1, count of "a", -3], normalised by the server).
// The SDK asks for base64 unless told otherwise and decodes it itself, so both encodings are checked.
import { test } from "node:test";
import assert from "node:assert/strict";
import OpenAI from "openai";

const client = new OpenAI({ baseURL: process.env.JGPT_EMBEDDINGS_URL, apiKey: "none", maxRetries: 0 });

function expected(text) {
  const v = [text.length + 1, [...text].filter((c) => c === "a").length, -3];
  const norm = Math.hypot(...v);
  return v.map((x) => x / norm);
}

function assertClose(actual, wanted) {
  assert.equal(actual.length, wanted.length);
  actual.forEach((x, i) => assert.ok(Math.abs(x - wanted[i]) < 1e-6, `component ${i}: ${x} vs ${wanted[i]}`));
}

test("embeddings.create: unit vectors in input order, base64 (the SDK's default) and as floats", async () => {
  const input = ["a banana", "Moby-Dick"];
  for (const encoding_format of [undefined, "float"]) {
    const response = await client.embeddings.create({ model: "sentences", input, encoding_format });
    assert.equal(response.object, "list");
    assert.equal(response.model, "sentences");
    assert.deepEqual(response.data.map((d) => d.index), [0, 1]);
    response.data.forEach((d, i) => assertClose(d.embedding, expected(input[i])));
    assert.equal(response.usage.prompt_tokens, input[0].length + 2 + input[1].length + 2);
  }
});

test("a bad request is the SDK's BadRequestError", async () => {
  await assert.rejects(client.embeddings.create({ model: "sentences", input: [] }),
    (e) => e instanceof OpenAI.BadRequestError && e.status === 400);
});

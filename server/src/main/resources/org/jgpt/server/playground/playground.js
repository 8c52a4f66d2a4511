// The jgpt playground: a prompt, the sampling settings, the completion streamed in with each token coloured by its
// probability (its alternatives on hover), and the prompt's tokens. Plain JavaScript against the server's own API.
"use strict";

const $ = (id) => document.getElementById(id);
let controller = null;

function headers() {
  const h = { "Content-Type": "application/json" };
  const key = $("api_key").value.trim();
  if (key) h["Authorization"] = "Bearer " + key;
  return h;
}

/** A token's text as it should show: spaces and line breaks visible enough, never empty. */
function shown(text) {
  return text === "" ? "\u2205" : text;
}

/** Green for likely, red for unlikely: the hue follows the probability. */
function colour(probability) {
  return `hsl(${Math.round(120 * probability)}, 75%, 82%)`;
}

async function showModel() {
  try {
    const response = await fetch("/v1/models", { headers: headers() });
    const body = await response.json();
    $("model").textContent = response.ok ? body.data[0].id : body.error.message;
  } catch (e) {
    $("model").textContent = String(e);
  }
}

let tokenizeTimer = null;
function tokenizeSoon() {
  clearTimeout(tokenizeTimer);
  tokenizeTimer = setTimeout(tokenizePrompt, 250);
}

async function tokenizePrompt() {
  const box = $("prompt-tokens");
  try {
    const response = await fetch("/tokenize", { method: "POST", headers: headers(),
      body: JSON.stringify({ content: $("prompt").value, with_pieces: true }) });
    const body = await response.json();
    if (!response.ok) throw new Error(body.error.message);
    box.replaceChildren(...body.tokens.map((t) => {
      const span = document.createElement("span");
      span.className = "token prompt-token";
      span.textContent = shown(t.piece);
      span.title = "token " + t.id;
      span.dataset.id = t.id;
      return span;
    }));
    $("prompt-count").textContent = body.tokens.length + " tokens";
  } catch (e) {
    box.textContent = String(e.message || e);
  }
}

function number(id) {
  const value = $(id).value.trim();
  return value === "" ? null : Number(value);
}

function request() {
  const body = {
    prompt: $("prompt").value,
    max_tokens: number("max_tokens"),
    temperature: number("temperature"),
    top_p: number("top_p"),
    top_k: number("top_k"),
    repetition_penalty: number("repetition_penalty"),
    logprobs: number("logprobs"),
    stream: true,
  };
  const seed = number("seed");
  if (seed !== null) body.seed = seed;
  const stop = $("stop_strings").value.split("\n").filter((s) => s !== "");
  if (stop.length > 0) body.stop = stop;
  return body;
}

function addToken(output, token, logprob, top) {
  const span = document.createElement("span");
  const probability = Math.exp(logprob);
  span.className = "token";
  span.textContent = shown(token);
  span.dataset.prob = probability.toFixed(4);
  span.dataset.token = token;
  span.dataset.top = JSON.stringify(top || {});
  span.style.background = colour(probability);
  output.append(span);
}

function setStatus(text, error) {
  $("status").textContent = text;
  $("status").classList.toggle("error", Boolean(error));
}

async function generate() {
  const output = $("output");
  const text = $("output-text");
  output.replaceChildren();
  text.textContent = "";
  output.dataset.state = "running";
  controller = new AbortController();
  $("generate").disabled = true;
  $("stop").disabled = false;
  setStatus("generating…");
  const started = performance.now();
  let tokens = 0;
  let finish = null;
  try {
    const response = await fetch("/v1/completions", { method: "POST", headers: headers(),
      body: JSON.stringify(request()), signal: controller.signal });
    if (!response.ok) {
      const body = await response.json();
      throw new Error(body.error.message);
    }
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffered = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffered += value;
      let end;
      while ((end = buffered.indexOf("\n\n")) >= 0) {
        const event = buffered.slice(0, end);
        buffered = buffered.slice(end + 2);
        if (!event.startsWith("data: ")) continue;
        const data = event.slice("data: ".length);
        if (data === "[DONE]") continue;
        const chunk = JSON.parse(data);
        if (chunk.error) throw new Error(chunk.error.message);
        const choice = chunk.choices[0];
        text.textContent += choice.text;
        const lp = choice.logprobs;
        if (lp) {
          for (let i = 0; i < lp.tokens.length; i++) {
            addToken(output, lp.tokens[i], lp.token_logprobs[i], lp.top_logprobs[i]);
            tokens++;
          }
        } else if (choice.text) {
          output.append(document.createTextNode(choice.text));
        }
        if (choice.finish_reason) finish = choice.finish_reason;
      }
    }
    const seconds = (performance.now() - started) / 1000;
    setStatus(`done: ${finish}, ${tokens} tokens in ${seconds.toFixed(2)} s`);
  } catch (e) {
    setStatus(e.name === "AbortError" ? "stopped" : String(e.message || e), e.name !== "AbortError");
  } finally {
    output.dataset.state = "done";
    controller = null;
    $("generate").disabled = false;
    $("stop").disabled = true;
  }
}

function showAlternatives(event) {
  const span = event.target.closest(".output .token");
  const tip = $("tooltip");
  if (!span) {
    tip.hidden = true;
    return;
  }
  const table = document.createElement("table");
  const head = table.insertRow();
  head.insertCell().textContent = JSON.stringify(span.dataset.token);
  head.insertCell().textContent = (100 * Number(span.dataset.prob)).toFixed(1) + "%";
  head.cells[1].className = "p";
  for (const [token, logprob] of Object.entries(JSON.parse(span.dataset.top))) {
    const row = table.insertRow();
    if (token === span.dataset.token) row.className = "chosen";
    row.insertCell().textContent = JSON.stringify(token);
    const p = row.insertCell();
    p.className = "p";
    p.textContent = (100 * Math.exp(logprob)).toFixed(1) + "%";
  }
  tip.replaceChildren(table);
  tip.hidden = false;
  const box = span.getBoundingClientRect();
  tip.style.left = Math.min(box.left, window.innerWidth - 260) + "px";
  tip.style.top = box.bottom + 6 + "px";
}

document.addEventListener("DOMContentLoaded", () => {
  $("generate").addEventListener("click", generate);
  $("stop").addEventListener("click", () => controller && controller.abort());
  $("prompt").addEventListener("input", tokenizeSoon);
  $("prompt").addEventListener("keydown", (e) => {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) generate();
  });
  $("api_key").addEventListener("change", () => { showModel(); tokenizePrompt(); });
  $("output").addEventListener("mouseover", showAlternatives);
  $("output").addEventListener("mouseleave", () => { $("tooltip").hidden = true; });
  showModel();
  tokenizePrompt();
});

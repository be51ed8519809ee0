// The official openai client against llmboxd. Usage: node openai_check.mjs BASE_URL KEY
// Prints one line per check: PASS name / FAIL name: why.
import OpenAI from "openai";

const [baseURL, apiKey] = process.argv.slice(2);
const client = new OpenAI({ baseURL, apiKey, maxRetries: 0, timeout: 60000 });
let failed = 0;

async function check(name, fn) {
  try {
    const why = await fn();
    if (why) throw new Error(why);
    console.log(`PASS api/openai_${name}`);
  } catch (e) {
    failed++;
    console.log(`FAIL api/openai_${name}: ${String(e.message || e).split("\n")[0]}`);
  }
}

let modelId = null;
await check("models_list", async () => {
  const list = await client.models.list();
  const ids = list.data.map((m) => m.id);
  if (ids.length !== 1) return `expected one model, got ${JSON.stringify(ids)}`;
  modelId = ids[0];
});

const messages = [
  { role: "system", content: "You tell short stories." },
  { role: "user", content: "Tell me about a cat." },
];
let full = null;
await check("chat_non_stream", async () => {
  const r = await client.chat.completions.create({ model: modelId, messages, temperature: 0, max_tokens: 40 });
  const c = r.choices[0];
  if (r.object !== "chat.completion") return `object ${r.object}`;
  if (c.message.role !== "assistant") return `role ${c.message.role}`;
  if (!c.message.content) return "empty content";
  if (!["stop", "length"].includes(c.finish_reason)) return `finish_reason ${c.finish_reason}`;
  const u = r.usage;
  if (!(u.prompt_tokens > 0 && u.completion_tokens > 0 && u.completion_tokens <= 40)) return `usage ${JSON.stringify(u)}`;
  if (u.total_tokens !== u.prompt_tokens + u.completion_tokens) return `total ${JSON.stringify(u)}`;
  if (c.finish_reason === "length" && u.completion_tokens !== 40) return `length with ${u.completion_tokens} tokens`;
  full = r;
});

await check("chat_stream_equals_non_stream", async () => {
  const stream = await client.chat.completions.create({
    model: modelId, messages, temperature: 0, max_tokens: 40, stream: true, stream_options: { include_usage: true },
  });
  let text = "", chunks = 0, first = null, finish = null, usage = null, roleFirst = false;
  for await (const ch of stream) {
    if (ch.object !== "chat.completion.chunk") return `chunk object ${ch.object}`;
    if (ch.usage) usage = ch.usage;
    if (!ch.choices.length) continue;
    const d = ch.choices[0].delta;
    if (first === null) { first = ch; roleFirst = d.role === "assistant"; }
    if (d.content) { text += d.content; chunks++; }
    if (ch.choices[0].finish_reason) finish = ch.choices[0].finish_reason;
  }
  if (!roleFirst) return "first chunk has no role delta";
  if (!full) return "no non-stream result to compare";
  if (text !== full.choices[0].message.content) return `streamed ${JSON.stringify(text)} != ${JSON.stringify(full.choices[0].message.content)}`;
  if (finish !== full.choices[0].finish_reason) return `finish ${finish}`;
  if (!usage || usage.completion_tokens !== full.usage.completion_tokens || usage.prompt_tokens !== full.usage.prompt_tokens)
    return `usage ${JSON.stringify(usage)} vs ${JSON.stringify(full.usage)}`;
  // incremental: one chunk per token or so, not one block at the end
  if (chunks < 2 || chunks < usage.completion_tokens / 2) return `only ${chunks} content chunks for ${usage.completion_tokens} tokens`;
});

await check("completions", async () => {
  const r = await client.completions.create({ model: modelId, prompt: "Once upon a time", max_tokens: 12, temperature: 0 });
  if (r.object !== "text_completion") return `object ${r.object}`;
  if (typeof r.choices[0].text !== "string" || !r.choices[0].text.length) return "empty text";
  if (r.usage.completion_tokens > 12) return `usage ${JSON.stringify(r.usage)}`;
});

await check("completions_stream", async () => {
  const s = await client.completions.create({ model: modelId, prompt: "Once upon a time", max_tokens: 12, temperature: 0, stream: true });
  let text = "";
  for await (const ch of s) text += ch.choices[0]?.text ?? "";
  const r = await client.completions.create({ model: modelId, prompt: "Once upon a time", max_tokens: 12, temperature: 0 });
  if (text !== r.choices[0].text) return `${JSON.stringify(text)} != ${JSON.stringify(r.choices[0].text)}`;
});

await check("wrong_key_is_401", async () => {
  const bad = new OpenAI({ baseURL, apiKey: apiKey + "x", maxRetries: 0 });
  try {
    await bad.models.list();
    return "accepted";
  } catch (e) {
    if (e.status !== 401) return `status ${e.status}`;
  }
});

await check("n_2_is_400", async () => {
  try {
    await client.chat.completions.create({ model: modelId, messages, n: 2, max_tokens: 2 });
    return "accepted";
  } catch (e) {
    if (e.status !== 400 || e.param !== "n") return `status ${e.status} param ${e.param}`;
  }
});

await check("unknown_model_is_404", async () => {
  try {
    await client.chat.completions.create({ model: "gpt-17", messages, max_tokens: 2 });
    return "accepted";
  } catch (e) {
    if (e.status !== 404 || e.code !== "model_not_found") return `status ${e.status} code ${e.code}`;
  }
});

process.exit(failed ? 1 : 0);

// One chat completion through the official openai client. Usage: node openai_chat.mjs BASE_URL KEY
import OpenAI from "openai";
const [baseURL, apiKey] = process.argv.slice(2);
const client = new OpenAI({ baseURL, apiKey, maxRetries: 0, timeout: 120000 });
const models = await client.models.list();
const r = await client.chat.completions.create({
  model: models.data[0].id, messages: [{ role: "user", content: "Tell me a story." }], max_tokens: 12, temperature: 0,
});
const text = r.choices[0].message.content;
if (!text) { console.error("empty content"); process.exit(1); }
console.log(`${r.usage.completion_tokens} tokens: "${text.slice(0, 40).replace(/\n/g, " ")}"`);

// llama.cpp reference for llmbox (through node-llama-cpp's CPU prebuilt): parity and benchmarks.
//
//   node oracle.mjs -m MODEL --tokens "1 2 3" [--logits] [--greedy N] [-t THREADS] [-c CTX]
//       -> {"n_vocab":..,"tokens":[prompt],"logits":[last position, full vocab],"greedy":[N ids]}
//   node oracle.mjs -m MODEL --bench [--pp 128] [--tg 64] [-t THREADS] [-c CTX]
//       -> {"pp":128,"tg":64,"pp_tps":..,"tg_tps":..,"pp_ms":..,"tg_ms":..,"load_ms":..}
//   node oracle.mjs -m MODEL --tokenize "text"   -> {"tokens":[ids with BOS as llama.cpp adds it]}
//
// Logits are llama.cpp's raw last-position logits (greedy sampler only: nothing reorders or
// truncates them). Greedy decoding feeds one token at a time with temperature 0 (llama.cpp's
// greedy sampler, no penalties) and does not stop at end-of-generation tokens, so the
// sequence length is exactly N. The bench mode times llama.cpp's own decode calls after a
// warm-up context (JavaScript overhead per call is small next to a whole pp batch, and tg is
// timed on the sequence generator that runs decode+sample per token, greedy).
import { getLlama, LlamaLogLevel } from "node-llama-cpp";

function parseArgs(argv) {
    const a = { threads: 1, ctx: 512, greedy: 0, logits: false, bench: false, pp: 128, tg: 64 };
    for (let i = 0; i < argv.length; i++) {
        const k = argv[i], v = () => {
            if (i + 1 >= argv.length) throw new Error(`${k} needs a value`);
            return argv[++i];
        };
        switch (k) {
            case "-m": case "--model": a.model = v(); break;
            case "--tokens": a.tokens = v().trim().split(/[\s,]+/).filter(Boolean).map(Number); break;
            case "--tokenize": a.tokenize = v(); break;
            case "--logits": a.logits = true; break;
            case "--greedy": a.greedy = parseInt(v(), 10); break;
            case "-t": case "--threads": a.threads = parseInt(v(), 10); break;
            case "-c": case "--ctx": a.ctx = parseInt(v(), 10); break;
            case "--bench": a.bench = true; break;
            case "--pp": a.pp = parseInt(v(), 10); break;
            case "--tg": a.tg = parseInt(v(), 10); break;
            default: throw new Error(`unknown argument ${k}`);
        }
    }
    if (!a.model) throw new Error("-m MODEL is required");
    if (a.tokens && a.tokens.some((t) => !Number.isInteger(t) || t < 0))
        throw new Error("--tokens takes non-negative integer ids");
    return a;
}

async function withContext(model, a, fn) {
    const context = await model.createContext({ contextSize: a.ctx, batchSize: a.ctx, threads: a.threads, sequences: 1 });
    try {
        return await fn(context, context.getSequence());
    } finally {
        await context.dispose();
    }
}

// Evaluates `tokens` (appending to the sequence) and returns llama.cpp's view of the next token.
async function step(seq, tokens, wantLogits) {
    const input = tokens.slice(0, -1);
    input.push([tokens[tokens.length - 1], { generateNext: { token: true, logits: wantLogits, options: { temperature: 0 } } }]);
    const res = await seq.controlledEvaluate(input);
    return res[res.length - 1].next;
}

async function evalMode(model, a) {
    const out = { tokens: a.tokens };
    await withContext(model, a, async (context, seq) => {
        if (a.tokens.length + a.greedy > a.ctx) throw new Error("prompt + greedy tokens exceed the context size");
        let next = await step(seq, a.tokens, a.logits);
        if (a.logits) {
            const size = next.logits.size;
            const arr = new Array(size).fill(null);
            for (const [tok, val] of next.logits) arr[tok] = val;
            if (arr.some((v) => v === null)) throw new Error("llama.cpp returned a partial logits vector");
            out.n_vocab = size;
            out.logits = arr;
        }
        if (a.greedy > 0) {
            const gen = [];
            while (gen.length < a.greedy) {
                if (next.token == null) throw new Error("llama.cpp sampled no token");
                gen.push(next.token);
                if (gen.length === a.greedy) break;
                next = await step(seq, [next.token], false);
            }
            out.greedy = gen;
        }
    });
    return out;
}

async function benchMode(model, a) {
    const prompt = [];
    const bos = model.tokens.bos ?? 1;
    prompt.push(bos);
    for (let i = 1; i < a.pp; i++) prompt.push(3 + (i * 7919) % Math.max(1, model.fileInsights?.vocabSize ?? 256 - 3));
    // Warm-up: first decode pays page faults and repacking of weights.
    await withContext(model, a, async (context, seq) => { await seq.controlledEvaluate(prompt.slice(0, 8)); });
    return await withContext(model, a, async (context, seq) => {
        const t0 = performance.now();
        await seq.controlledEvaluate(prompt);   // one batch, logits of the last token only
        const t1 = performance.now();
        let n = 0;
        const t2 = performance.now();
        for await (const tok of seq.evaluate([bos], { temperature: 0 })) {
            void tok;
            if (++n >= a.tg) break;
        }
        const t3 = performance.now();
        return { pp: a.pp, tg: a.tg, pp_ms: t1 - t0, tg_ms: t3 - t2,
                 pp_tps: a.pp / ((t1 - t0) / 1000), tg_tps: a.tg / ((t3 - t2) / 1000), threads: a.threads };
    });
}

async function main() {
    const a = parseArgs(process.argv.slice(2));
    const llama = await getLlama({ gpu: false, build: "never", logLevel: LlamaLogLevel.error, progressLogs: false });
    const t0 = performance.now();
    const model = await llama.loadModel({ modelPath: a.model, gpuLayers: 0 });
    const loadMs = performance.now() - t0;
    let out;
    try {
        if (a.tokenize !== undefined) {
            out = { tokens: Array.from(model.tokenize(a.tokenize, false)) };
            if (model.tokens.shouldPrependBosToken && model.tokens.bos != null) out.tokens.unshift(model.tokens.bos);
        } else if (a.bench) {
            out = await benchMode(model, a);
            out.load_ms = loadMs;
        } else {
            if (!a.tokens || a.tokens.length === 0) throw new Error("--tokens is required");
            out = await evalMode(model, a);
        }
    } finally {
        await model.dispose();
        await llama.dispose();
    }
    process.stdout.write(JSON.stringify(out) + "\n");
}

main().catch((e) => {
    process.stderr.write(`oracle: ${e.message}\n`);
    process.exit(2);
});

// llama.cpp reference for llmbox (through node-llama-cpp's CPU prebuilt): parity and benchmarks.
//
//   node oracle.mjs -m MODEL --tokens "1 2 3" [--logits] [--greedy N [--step-logits]] [-t THREADS] [-c CTX]
//       -> {"n_vocab":..,"tokens":[prompt],"logits":[last position, full vocab],"greedy":[N ids],
//           "step_logits":[N full-vocab vectors: the logits each greedy token was chosen from]}
//   node oracle.mjs -m MODEL --bench [--pp 128] [--tg 64] [-t THREADS] [-c CTX]
//       -> {"pp":128,"tg":64,"pp_tps":..,"tg_tps":..,"wall_pp_ms":..,"wall_tg_ms":..,"load_ms":..}
//   --batch N: llama.cpp's batch size (default: the context size, one batch per call)
//   node oracle.mjs -m MODEL --tokenize "text"   -> {"tokens":[ids with BOS as llama.cpp adds it]}
//
// --flash-attn on|off|auto (default: off for logits/greedy, auto = llama.cpp's default for
// --bench). Parity uses off: ggml's plain attention path (f16 K/V, Q and softmax weights
// rounded to f16, f32 accumulation) is the arithmetic llmbox reproduces; the CPU flash-attention
// kernel accumulates V in f16, which moves logits by ~2e-4 of their spread and, through the
// 8-bit activation rounding of quantized matmuls, by up to ~1% (measured).
// Logits are llama.cpp's raw last-position logits (greedy sampler only: nothing reorders or
// truncates them). Greedy decoding feeds one token at a time with temperature 0 (llama.cpp's
// greedy sampler, no penalties) and does not stop at end-of-generation tokens, so the
// sequence length is exactly N. The bench mode runs a warm-up context, then one pp-token
// batch and tg greedy single-token decodes, and reports tokens/s from llama.cpp's own perf
// counters (llama_perf_context: excludes the ~1.4 ms of JavaScript per token), with the wall
// times next to them.
import { getLlama, LlamaLogLevel } from "node-llama-cpp";

function parseArgs(argv) {
    const a = { threads: 1, ctx: 512, greedy: 0, logits: false, bench: false, pp: 128, tg: 64, flashAttn: undefined };
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
            case "--step-logits": a.stepLogits = true; break;
            case "--greedy": a.greedy = parseInt(v(), 10); break;
            case "-t": case "--threads": a.threads = parseInt(v(), 10); break;
            case "-c": case "--ctx": a.ctx = parseInt(v(), 10); break;
            case "--bench": a.bench = true; break;
            case "--batch": a.batch = parseInt(v(), 10); break;
            case "--pp": a.pp = parseInt(v(), 10); break;
            case "--tg": a.tg = parseInt(v(), 10); break;
            case "--flash-attn": {
                const f = v();
                if (!["on", "off", "auto"].includes(f)) throw new Error("--flash-attn takes on, off or auto");
                a.flashAttn = f === "auto" ? "auto" : f === "on";
                break;
            }
            default: throw new Error(`unknown argument ${k}`);
        }
    }
    if (!a.model) throw new Error("-m MODEL is required");
    if (a.flashAttn === undefined) a.flashAttn = a.bench ? "auto" : false;
    if (a.tokens && a.tokens.some((t) => !Number.isInteger(t) || t < 0))
        throw new Error("--tokens takes non-negative integer ids");
    return a;
}

async function withContext(model, a, fn, extra = {}) {
    const context = await model.createContext({ contextSize: a.ctx, batchSize: a.batch || a.ctx, threads: a.threads, sequences: 1,
                                                flashAttention: a.flashAttn, ...extra });
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

function logitsArray(next) {
    const arr = new Array(next.logits.size).fill(null);
    for (const [tok, val] of next.logits) arr[tok] = val;
    if (arr.some((v) => v === null)) throw new Error("llama.cpp returned a partial logits vector");
    return arr;
}

async function evalMode(model, a) {
    const out = { tokens: a.tokens };
    await withContext(model, a, async (context, seq) => {
        if (a.tokens.length + a.greedy > a.ctx) throw new Error("prompt + greedy tokens exceed the context size");
        let next = await step(seq, a.tokens, a.logits || a.stepLogits);
        if (a.logits) {
            out.logits = logitsArray(next);
            out.n_vocab = out.logits.length;
        }
        if (a.greedy > 0) {
            const gen = [], steps = [];
            while (gen.length < a.greedy) {
                if (next.token == null) throw new Error("llama.cpp sampled no token");
                if (a.stepLogits) steps.push(logitsArray(next));
                gen.push(next.token);
                if (gen.length === a.greedy) break;
                next = await step(seq, [next.token], a.stepLogits);
            }
            out.greedy = gen;
            if (a.stepLogits) out.step_logits = steps;   // step_logits[i]: logits that chose greedy[i]
        }
    });
    return out;
}

// llama.cpp's perf counters, as printed by llama_perf_context_print through the logger.
const logLines = [];
function perfCounter(label) {
    const re = new RegExp(`${label} time =\\s*([0-9.]+) ms /\\s*([0-9]+) (tokens|runs)`);
    for (let i = logLines.length - 1; i >= 0; i--) {
        const m = re.exec(logLines[i]);
        if (m) return { ms: parseFloat(m[1]), n: parseInt(m[2], 10) };
    }
    return null;
}

async function benchMode(model, a) {
    const bos = model.tokens.bos ?? 1;
    const prompt = [bos];
    // Ids 3..252 exist in every vocabulary mkgguf and llama2.c files have (bytes or pieces).
    for (let i = 1; i < a.pp; i++) prompt.push(3 + (i * 37) % 250);
    // Warm-up: the first decodes pay page faults and the repacking of weights.
    await withContext(model, a, async (context, seq) => {
        await seq.controlledEvaluate(prompt.slice(0, 16));
        let n = 0;
        for await (const tok of seq.evaluate([bos], { temperature: 0 })) { void tok; if (++n >= 4) break; }
    });
    return await withContext(model, a, async (context, seq) => {
        const t0 = performance.now();
        await seq.controlledEvaluate(prompt);   // one batch, logits of the last token only
        const t1 = performance.now();
        let n = 0;
        for await (const tok of seq.evaluate([bos], { temperature: 0 })) {
            void tok;
            if (++n >= a.tg) break;
        }
        const t2 = performance.now();
        logLines.length = 0;
        await context.printTimings();
        const pp = perfCounter("prompt eval"), tg = perfCounter("(?<!prompt )eval");
        const out = { pp: a.pp, tg: a.tg, threads: a.threads, flash_attn: a.flashAttn,
                      wall_pp_ms: t1 - t0, wall_tg_ms: t2 - t1 };
        // Tokens per second from llama.cpp's own counters (no JavaScript overhead), else wall.
        out.pp_tps = pp ? pp.n / (pp.ms / 1000) : a.pp / ((t1 - t0) / 1000);
        out.tg_tps = tg ? tg.n / (tg.ms / 1000) : a.tg / ((t2 - t1) / 1000);
        out.timing_source = pp && tg ? "llama_perf" : "wall";
        return out;
    }, { performanceTracking: true });
}

async function main() {
    const a = parseArgs(process.argv.slice(2));
    const llama = await getLlama({
        gpu: false, build: "never", progressLogs: false,
        logLevel: a.bench ? LlamaLogLevel.info : LlamaLogLevel.error,
        logger: (level, message) => {
            if (a.bench) logLines.push(message);
            else if (level === "error" || level === "fatal") process.stderr.write(message + "\n");
        },
    });
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

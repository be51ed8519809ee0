// Cross-checks our pre-tokenizer regex engine against V8's ECMAScript regexes (the 'u' flag
// gives \p{L}, \p{N}, ... from V8's own Unicode tables): random texts over an alphabet of
// tricky characters must split into the same words for every pre-tokenizer.
// U+0085 is left out on purpose: llama.cpp (and we) count it as whitespace, ECMAScript's \s
// does not. Usage: node pretok_diff.js PRETOK_SPLIT_BINARY. Prints PASS/FAIL lines.
'use strict';
const { execFileSync } = require('child_process');
const bin = process.argv[2];
const names = ['default', 'gpt-2', 'llama3', 'qwen2', 'starcoder', 'falcon', 'deepseek-coder',
  'deepseek-llm', 'deepseek-v3', 'tekken', 'bloom', 'viking', 'chatglm-bpe'];
const alpha = ['a', 'b', 'Z', 'x', "'", 's', 't', 're', 've', 'm', 'll', 'd', 'S', 'T', "'LL", ' ', ' ', ' ', '  ',
  '\n', '\r', '\t', '\n\n', '0', '1', '23', '4567', '!', '?', '.', ',', '$', '+', '<', '=', '^', '`', '|',
  '~', '(', ')', '[', ']', '-', '_', '"', '\\', '\u00a0', '\u2003', '\u3000', '\u00e9', '\u00dc', '\u00df',
  '\u65e5', '\u672c', '\u4e2d', '\ud55c', '\u30a2', '\u3042', '\u0663', '\u00bd', '\u00b2', '\u216b',
  '\u0301', '\u200b', '\u2014', '\u00ab', '\u2026', '\u3002', '\uff0c', '\uff01', '\u{1f680}', '\u{1f600}',
  '\u2115', '\u2126', '\ufb00', '\uff21', '\uff5a', '\uff11', '\u2028', '\u0194', '\u0500', '\u1c90',
  '\u{10400}', '\u{1e900}', '\u{1d400}'];
let seed = 12345;
const rnd = n => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed % n; };
const cases = [];
for (let i = 0; i < 5000; i++) {
  let s = '';
  for (let k = 1 + rnd(30); k > 0; k--) s += alpha[rnd(alpha.length)];
  cases.push(s);
}
const input = Buffer.from(cases.join('\0'), 'utf8');
let failed = 0;
for (const name of names) {
  let pats, ours;
  try {
    pats = JSON.parse(execFileSync(bin, [name, '--patterns']).toString());
    ours = execFileSync(bin, [name], { input }).toString().split('\n');
  } catch (e) {
    console.log(`FAIL pretok_diff/${name}: ${e.message.split('\n')[0]}`);
    failed++;
    continue;
  }
  const res = pats.map(p => new RegExp(p, 'gu'));
  let bad = 0, example = '';
  cases.forEach((text, ci) => {
    let frags = [text];
    for (const re of res) {
      const next = [];
      for (const s of frags) {
        re.lastIndex = 0;
        let last = 0, m;
        while ((m = re.exec(s)) !== null) {
          if (m[0].length === 0) { re.lastIndex++; continue; }
          if (m.index > last) next.push(s.slice(last, m.index));
          next.push(m[0]);
          last = m.index + m[0].length;
        }
        if (last < s.length) next.push(s.slice(last));
      }
      frags = next;
    }
    const want = frags.map(f => Array.from(f).length).join(',');
    if (want !== ours[ci]) {
      if (!bad) example = `${JSON.stringify(text)} want ${want} got ${ours[ci]}`;
      bad++;
    }
  });
  if (bad) { failed++; console.log(`FAIL pretok_diff/${name}: ${bad}/${cases.length} differ, e.g. ${example}`); }
  else console.log(`PASS pretok_diff/${name} (${cases.length} texts)`);
}
process.exit(failed ? 1 : 0);

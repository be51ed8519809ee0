/* Backtracking regex engine for pre-tokenizer patterns: pattern → AST → instructions,
 * matched with an explicit stack (no recursion except for lookaheads). */
#include "pretokenize_regex.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "unicode.h"

#define MAX_NODES 4096
#define MAX_CODE 16384
#define MAX_CLASSES 512

/* ---- character classes ---- */

enum { IT_RANGE, IT_CAT, IT_NCAT, IT_SPACE, IT_NSPACE };

typedef struct cls_item {
    uint8_t kind;
    uint32_t lo, hi;  /* IT_RANGE: inclusive; IT_CAT/IT_NCAT: lo = category mask */
} cls_item;

typedef struct re_class {
    bool neg;
    int n, cap;
    cls_item *items;
    uint8_t ascii[16];  /* precomputed result for codepoints < 128 (bit set = matches) */
} re_class;

static bool item_match(const cls_item *it, uint32_t c)
{
    switch (it->kind) {
    case IT_RANGE:
        return c >= it->lo && c <= it->hi;
    case IT_CAT:
        return !lb_unicode_is_space(c) && ((it->lo >> lb_unicode_cat(c)) & 1);
    case IT_NCAT:
        return lb_unicode_is_space(c) || !((it->lo >> lb_unicode_cat(c)) & 1);
    case IT_SPACE:
        return lb_unicode_is_space(c);
    default:
        return !lb_unicode_is_space(c);
    }
}

static bool class_match_slow(const re_class *k, uint32_t c)
{
    bool m = false;
    for (int i = 0; i < k->n && !m; i++)
        m = item_match(&k->items[i], c);
    return m != k->neg;
}

static inline bool class_match(const re_class *k, uint32_t c)
{
    if (c < 128)
        return (k->ascii[c >> 3] >> (c & 7)) & 1;
    return class_match_slow(k, c);
}

/* ---- AST ---- */

enum { N_EMPTY, N_CHAR, N_CLASS, N_ANY, N_BOL, N_EOL, N_CAT, N_ALT, N_REP, N_NLOOK, N_PLOOK };

typedef struct node {
    uint8_t kind;
    bool greedy;
    int child, next;  /* first child / next sibling, -1 none */
    int min, max;     /* N_REP; max -1 = unbounded */
    uint32_t val;     /* N_CHAR codepoint, N_CLASS index */
} node;

enum { OP_CHAR, OP_CLASS, OP_ANY, OP_BOL, OP_EOL, OP_SPLIT, OP_JMP, OP_MATCH, OP_NLOOK, OP_PLOOK };

typedef struct inst {
    uint8_t op;
    uint32_t a, b;
} inst;

struct lb_re {
    inst *code;
    int n_code;
    re_class *classes;
    int n_classes;
};

typedef struct parser {
    const char *p, *end, *start;
    node *nodes;
    int n_nodes;
    re_class *classes;
    int n_classes;
    bool icase;
    lb_err *err;
    int rc;
} parser;

static int perr(parser *ps, const char *what)
{
    if (ps->rc == 0)
        ps->rc = lb_err_set(ps->err, LB_EINVAL, "regex: %s at offset %d", what, (int)(ps->p - ps->start));
    return -1;
}

static int new_node(parser *ps, int kind)
{
    if (ps->n_nodes >= MAX_NODES)
        return perr(ps, "pattern too large");
    node *n = &ps->nodes[ps->n_nodes];
    memset(n, 0, sizeof *n);
    n->kind = (uint8_t)kind;
    n->child = n->next = -1;
    n->greedy = true;
    return ps->n_nodes++;
}

static int new_class(parser *ps)
{
    if (ps->n_classes >= MAX_CLASSES)
        return perr(ps, "too many classes");
    re_class *k = &ps->classes[ps->n_classes];
    memset(k, 0, sizeof *k);
    return ps->n_classes++;
}

static int class_add(parser *ps, re_class *k, int kind, uint32_t lo, uint32_t hi)
{
    if (k->n == k->cap) {
        int cap = k->cap ? k->cap * 2 : 8;
        cls_item *it = realloc(k->items, (size_t)cap * sizeof *it);
        if (!it) {
            if (ps->rc == 0)
                ps->rc = lb_err_set(ps->err, LB_ENOMEM, "regex: out of memory");
            return -1;
        }
        k->items = it, k->cap = cap;
    }
    k->items[k->n++] = (cls_item){ (uint8_t)kind, lo, hi };
    return 0;
}

/* Adds a range, plus its other ASCII case under (?i). */
static int class_add_range(parser *ps, re_class *k, uint32_t lo, uint32_t hi)
{
    if (class_add(ps, k, IT_RANGE, lo, hi) < 0)
        return -1;
    if (!ps->icase)
        return 0;
    uint32_t a = lo < 'a' ? 'a' : lo, b = hi > 'z' ? 'z' : hi;
    if (a <= b && class_add(ps, k, IT_RANGE, a - 32, b - 32) < 0)
        return -1;
    a = lo < 'A' ? 'A' : lo, b = hi > 'Z' ? 'Z' : hi;
    if (a <= b && class_add(ps, k, IT_RANGE, a + 32, b + 32) < 0)
        return -1;
    return 0;
}

static uint32_t next_cp(parser *ps)
{
    size_t i = 0;
    uint32_t c = lb_utf8_decode(ps->p, (size_t)(ps->end - ps->p), &i);
    ps->p += i;
    return c;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static int cat_mask(parser *ps)
{
    /* after \p or \P: {X} or a single letter */
    char name;
    if (ps->p < ps->end && *ps->p == '{') {
        if (ps->end - ps->p < 3 || ps->p[2] != '}')
            return perr(ps, "unsupported \\p{...}");
        name = ps->p[1];
        ps->p += 3;
    } else if (ps->p < ps->end) {
        name = *ps->p++;
    } else {
        return perr(ps, "truncated \\p");
    }
    switch (name) {
    case 'L': return 1 << LB_UCAT_L;
    case 'N': return 1 << LB_UCAT_N;
    case 'P': return 1 << LB_UCAT_P;
    case 'M': return 1 << LB_UCAT_M;
    case 'S': return 1 << LB_UCAT_S;
    case 'Z': return 1 << LB_UCAT_Z;
    case 'C': return 1 << LB_UCAT_C;
    default: return perr(ps, "unknown category");
    }
}

/* Parses an escape after '\'. Either returns a literal codepoint (*lit set) or adds class
 * items to k (when k is NULL a fresh class is created and its index is returned in *cls). */
static int parse_escape(parser *ps, re_class *k, uint32_t *lit, bool *is_lit)
{
    if (ps->p >= ps->end)
        return perr(ps, "trailing backslash");
    char c = *ps->p++;
    *is_lit = true;
    switch (c) {
    case 'n': *lit = '\n'; return 0;
    case 'r': *lit = '\r'; return 0;
    case 't': *lit = '\t'; return 0;
    case 'f': *lit = '\f'; return 0;
    case 'v': *lit = '\v'; return 0;
    case '0': *lit = 0; return 0;
    case 'x': case 'u': {
        int digits = c == 'x' ? 2 : 4;
        uint32_t v = 0;
        for (int i = 0; i < digits; i++) {
            int h = ps->p < ps->end ? hexval(*ps->p) : -1;
            if (h < 0)
                return perr(ps, "bad hex escape");
            v = v * 16 + (uint32_t)h, ps->p++;
        }
        *lit = v;
        return 0;
    }
    default:
        break;
    }
    *is_lit = false;
    int rc = 0;
    switch (c) {
    case 's': rc = class_add(ps, k, IT_SPACE, 0, 0); break;
    case 'S': rc = class_add(ps, k, IT_NSPACE, 0, 0); break;
    case 'd': rc = class_add(ps, k, IT_RANGE, '0', '9'); break;
    case 'w':
        rc = class_add(ps, k, IT_RANGE, '0', '9') | class_add(ps, k, IT_RANGE, 'A', 'Z') |
             class_add(ps, k, IT_RANGE, 'a', 'z') | class_add(ps, k, IT_RANGE, '_', '_');
        break;
    case 'p': case 'P': {
        int m = cat_mask(ps);
        if (m < 0)
            return -1;
        rc = class_add(ps, k, c == 'p' ? IT_CAT : IT_NCAT, (uint32_t)m, 0);
        break;
    }
    case 'D': case 'W':
        return perr(ps, "\\D and \\W are not supported");
    default:
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
            return perr(ps, "unknown escape");
        *is_lit = true;
        ps->p--;
        *lit = next_cp(ps);
        return 0;
    }
    return rc < 0 ? -1 : 0;
}

static void class_finish(re_class *k)
{
    memset(k->ascii, 0, sizeof k->ascii);
    for (uint32_t c = 0; c < 128; c++)
        if (class_match_slow(k, c))
            k->ascii[c >> 3] |= (uint8_t)(1u << (c & 7));
}

static int parse_bracket(parser *ps)
{
    int ci = new_class(ps);
    if (ci < 0)
        return -1;
    re_class *k = &ps->classes[ci];
    if (ps->p < ps->end && *ps->p == '^')
        k->neg = true, ps->p++;
    bool first = true;
    for (;;) {
        if (ps->p >= ps->end)
            return perr(ps, "unterminated class");
        if (*ps->p == ']' && !first) {
            ps->p++;
            break;
        }
        first = false;
        uint32_t lo;
        bool is_lit = true;
        if (*ps->p == '\\') {
            ps->p++;
            if (parse_escape(ps, k, &lo, &is_lit) < 0)
                return -1;
            if (!is_lit)
                continue;
        } else {
            lo = next_cp(ps);
        }
        uint32_t hi = lo;
        if (ps->end - ps->p >= 2 && ps->p[0] == '-' && ps->p[1] != ']') {
            ps->p++;
            if (*ps->p == '\\') {
                ps->p++;
                if (parse_escape(ps, k, &hi, &is_lit) < 0)
                    return -1;
                if (!is_lit)
                    return perr(ps, "class escape as range end");
            } else {
                hi = next_cp(ps);
            }
            if (hi < lo)
                return perr(ps, "reversed range");
        }
        if (class_add_range(ps, k, lo, hi) < 0)
            return -1;
    }
    class_finish(k);
    int n = new_node(ps, N_CLASS);
    if (n >= 0)
        ps->nodes[n].val = (uint32_t)ci;
    return n;
}

static int parse_alt(parser *ps);

static int literal_node(parser *ps, uint32_t c)
{
    bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    if (ps->icase && letter) {
        int ci = new_class(ps);
        if (ci < 0 || class_add_range(ps, &ps->classes[ci], c, c) < 0)
            return -1;
        class_finish(&ps->classes[ci]);
        int n = new_node(ps, N_CLASS);
        if (n >= 0)
            ps->nodes[n].val = (uint32_t)ci;
        return n;
    }
    int n = new_node(ps, N_CHAR);
    if (n >= 0)
        ps->nodes[n].val = c;
    return n;
}

static int parse_atom(parser *ps)
{
    char c = *ps->p;
    if (c == '(') {
        ps->p++;
        int kind = -1;
        bool saved = ps->icase;
        if (ps->p < ps->end && *ps->p == '?') {
            ps->p++;
            if (ps->p < ps->end && *ps->p == ':') {
                ps->p++;
            } else if (ps->p < ps->end && *ps->p == '!') {
                ps->p++, kind = N_NLOOK;
            } else if (ps->p < ps->end && *ps->p == '=') {
                ps->p++, kind = N_PLOOK;
            } else if (ps->end - ps->p >= 2 && ps->p[0] == 'i' && ps->p[1] == ':') {
                ps->p += 2, ps->icase = true;
            } else {
                return perr(ps, "unsupported group");
            }
        }
        int inner = parse_alt(ps);
        ps->icase = saved;
        if (inner < 0)
            return -1;
        if (ps->p >= ps->end || *ps->p != ')')
            return perr(ps, "missing )");
        ps->p++;
        if (kind < 0)
            return inner;
        int n = new_node(ps, kind);
        if (n >= 0)
            ps->nodes[n].child = inner;
        return n;
    }
    if (c == '[') {
        ps->p++;
        return parse_bracket(ps);
    }
    if (c == '.') {
        ps->p++;
        return new_node(ps, N_ANY);
    }
    if (c == '^') {
        ps->p++;
        return new_node(ps, N_BOL);
    }
    if (c == '$') {
        ps->p++;
        return new_node(ps, N_EOL);
    }
    if (c == '\\') {
        ps->p++;
        int ci = new_class(ps);
        if (ci < 0)
            return -1;
        uint32_t lit;
        bool is_lit;
        if (parse_escape(ps, &ps->classes[ci], &lit, &is_lit) < 0)
            return -1;
        if (is_lit) {
            ps->n_classes--;  /* unused */
            free(ps->classes[ci].items);
            return literal_node(ps, lit);
        }
        class_finish(&ps->classes[ci]);
        int n = new_node(ps, N_CLASS);
        if (n >= 0)
            ps->nodes[n].val = (uint32_t)ci;
        return n;
    }
    if (c == '*' || c == '+' || c == '?' || c == '{')
        return perr(ps, "quantifier without operand");
    return literal_node(ps, next_cp(ps));
}

static int parse_int(parser *ps, int *out)
{
    int v = 0, digits = 0;
    while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9' && digits < 4)
        v = v * 10 + (*ps->p++ - '0'), digits++;
    *out = v;
    return digits ? 0 : -1;
}

static int parse_repeat(parser *ps)
{
    int atom = parse_atom(ps);
    if (atom < 0)
        return -1;
    while (ps->p < ps->end) {
        int min, max;
        char c = *ps->p;
        if (c == '*') {
            min = 0, max = -1, ps->p++;
        } else if (c == '+') {
            min = 1, max = -1, ps->p++;
        } else if (c == '?') {
            min = 0, max = 1, ps->p++;
        } else if (c == '{') {
            ps->p++;
            if (parse_int(ps, &min) < 0)
                return perr(ps, "bad {n,m}");
            max = min;
            if (ps->p < ps->end && *ps->p == ',') {
                ps->p++;
                max = -1;
                if (ps->p < ps->end && *ps->p != '}' && parse_int(ps, &max) < 0)
                    return perr(ps, "bad {n,m}");
            }
            if (ps->p >= ps->end || *ps->p != '}' || (max >= 0 && max < min) || min > 64 || max > 64)
                return perr(ps, "bad {n,m}");
            ps->p++;
        } else {
            break;
        }
        int n = new_node(ps, N_REP);
        if (n < 0)
            return -1;
        ps->nodes[n].child = atom;
        ps->nodes[n].min = min;
        ps->nodes[n].max = max;
        if (ps->p < ps->end && *ps->p == '?')
            ps->nodes[n].greedy = false, ps->p++;
        atom = n;
    }
    return atom;
}

static int parse_cat(parser *ps)
{
    int cat = new_node(ps, N_CAT);
    if (cat < 0)
        return -1;
    int last = -1;
    while (ps->p < ps->end && *ps->p != '|' && *ps->p != ')') {
        int r = parse_repeat(ps);
        if (r < 0)
            return -1;
        if (last < 0)
            ps->nodes[cat].child = r;
        else
            ps->nodes[last].next = r;
        last = r;
    }
    return cat;
}

static int parse_alt(parser *ps)
{
    int first = parse_cat(ps);
    if (first < 0 || ps->p >= ps->end || *ps->p != '|')
        return first;
    int alt = new_node(ps, N_ALT);
    if (alt < 0)
        return -1;
    ps->nodes[alt].child = first;
    int last = first;
    while (ps->p < ps->end && *ps->p == '|') {
        ps->p++;
        int c = parse_cat(ps);
        if (c < 0)
            return -1;
        ps->nodes[last].next = c;
        last = c;
    }
    return alt;
}

/* ---- code generation ---- */

typedef struct gen {
    parser *ps;
    inst *code;
    int n;
} gen;

static int emit(gen *g, int op, uint32_t a, uint32_t b)
{
    if (g->n >= MAX_CODE)
        return perr(g->ps, "pattern too large");
    g->code[g->n] = (inst){ (uint8_t)op, a, b };
    return g->n++;
}

static bool nullable(const parser *ps, int ni)
{
    const node *n = &ps->nodes[ni];
    switch (n->kind) {
    case N_CHAR: case N_CLASS: case N_ANY:
        return false;
    case N_CAT:
        for (int c = n->child; c >= 0; c = ps->nodes[c].next)
            if (!nullable(ps, c))
                return false;
        return true;
    case N_ALT:
        for (int c = n->child; c >= 0; c = ps->nodes[c].next)
            if (nullable(ps, c))
                return true;
        return false;
    case N_REP:
        return n->min == 0 || nullable(ps, n->child);
    default:
        return true;
    }
}

static int gen_node(gen *g, int ni)
{
    const node *n = &g->ps->nodes[ni];
    switch (n->kind) {
    case N_EMPTY:
        return 0;
    case N_CHAR:
        return emit(g, OP_CHAR, n->val, 0) < 0 ? -1 : 0;
    case N_CLASS:
        return emit(g, OP_CLASS, n->val, 0) < 0 ? -1 : 0;
    case N_ANY:
        return emit(g, OP_ANY, 0, 0) < 0 ? -1 : 0;
    case N_BOL:
        return emit(g, OP_BOL, 0, 0) < 0 ? -1 : 0;
    case N_EOL:
        return emit(g, OP_EOL, 0, 0) < 0 ? -1 : 0;
    case N_CAT:
        for (int c = n->child; c >= 0; c = g->ps->nodes[c].next)
            if (gen_node(g, c) < 0)
                return -1;
        return 0;
    case N_ALT: {
        int jumps[256], nj = 0;
        for (int c = n->child; c >= 0; c = g->ps->nodes[c].next) {
            if (g->ps->nodes[c].next < 0) {
                if (gen_node(g, c) < 0)
                    return -1;
                break;
            }
            int split = emit(g, OP_SPLIT, 0, 0);
            if (split < 0)
                return -1;
            g->code[split].a = (uint32_t)g->n;
            if (gen_node(g, c) < 0)
                return -1;
            if (nj >= 256)
                return perr(g->ps, "too many alternatives");
            if ((jumps[nj++] = emit(g, OP_JMP, 0, 0)) < 0)
                return -1;
            g->code[split].b = (uint32_t)g->n;
        }
        for (int i = 0; i < nj; i++)
            g->code[jumps[i]].a = (uint32_t)g->n;
        return 0;
    }
    case N_REP: {
        if (n->max < 0 && nullable(g->ps, n->child))
            return perr(g->ps, "unbounded repeat of an empty-matching expression");
        for (int i = 0; i < n->min; i++)
            if (gen_node(g, n->child) < 0)
                return -1;
        if (n->max < 0) {
            int split = emit(g, OP_SPLIT, 0, 0);
            if (split < 0 || gen_node(g, n->child) < 0 || emit(g, OP_JMP, (uint32_t)split, 0) < 0)
                return -1;
            uint32_t body = (uint32_t)split + 1, out = (uint32_t)g->n;
            g->code[split].a = n->greedy ? body : out;
            g->code[split].b = n->greedy ? out : body;
            return 0;
        }
        int splits[64], ns = 0;
        for (int i = n->min; i < n->max; i++) {
            int split = emit(g, OP_SPLIT, 0, 0);
            if (split < 0 || gen_node(g, n->child) < 0)
                return -1;
            splits[ns++] = split;
        }
        for (int i = 0; i < ns; i++) {
            uint32_t body = (uint32_t)splits[i] + 1, out = (uint32_t)g->n;
            g->code[splits[i]].a = n->greedy ? body : out;
            g->code[splits[i]].b = n->greedy ? out : body;
        }
        return 0;
    }
    case N_NLOOK: case N_PLOOK: {
        int look = emit(g, n->kind == N_NLOOK ? OP_NLOOK : OP_PLOOK, 0, 0);
        if (look < 0 || gen_node(g, n->child) < 0 || emit(g, OP_MATCH, 0, 0) < 0)
            return -1;
        g->code[look].a = (uint32_t)g->n;
        return 0;
    }
    default:
        return perr(g->ps, "internal: bad node");
    }
}

void lb_re_free(lb_re *re)
{
    if (!re)
        return;
    for (int i = 0; i < re->n_classes; i++)
        free(re->classes[i].items);
    free(re->classes);
    free(re->code);
    free(re);
}

int lb_re_compile(const char *pattern, lb_re **out, lb_err *err)
{
    *out = NULL;
    parser ps = { .p = pattern, .start = pattern, .end = pattern + strlen(pattern), .err = err };
    lb_re *re = calloc(1, sizeof *re);
    ps.nodes = calloc(MAX_NODES, sizeof *ps.nodes);
    ps.classes = calloc(MAX_CLASSES, sizeof *ps.classes);
    gen g = { .ps = &ps, .code = calloc(MAX_CODE, sizeof(inst)) };
    int rc = LB_OK;
    if (!re || !ps.nodes || !ps.classes || !g.code) {
        rc = lb_err_set(err, LB_ENOMEM, "regex: out of memory");
        goto out;
    }
    int root = parse_alt(&ps);
    if (root >= 0 && ps.p != ps.end)
        root = perr(&ps, "unbalanced )");
    if (root < 0 || gen_node(&g, root) < 0 || emit(&g, OP_MATCH, 0, 0) < 0) {
        rc = ps.rc ? ps.rc : lb_err_set(err, LB_EINVAL, "regex: invalid pattern");
        lb_err_wrap(err, rc, "pattern \"%.60s\"", pattern);
        goto out;
    }
    re->code = realloc(g.code, (size_t)g.n * sizeof(inst));
    if (!re->code) {
        re->code = g.code;  /* shrink failed: keep the big one */
    }
    g.code = NULL;
    re->n_code = g.n;
    re->classes = ps.classes;
    re->n_classes = ps.n_classes;
    ps.classes = NULL;
    *out = re;
    re = NULL;
out:
    if (ps.classes) {
        for (int i = 0; i < ps.n_classes; i++)
            free(ps.classes[i].items);
        free(ps.classes);
    }
    free(ps.nodes);
    free(g.code);
    lb_re_free(re);
    return rc;
}

/* ---- matching ---- */

static int push(lb_re_stack *st, uint32_t pc, uint32_t pos)
{
    if (st->n + 2 > st->cap) {
        size_t cap = st->cap ? st->cap * 2 : 256;
        uint32_t *it = realloc(st->items, cap * sizeof *it);
        if (!it)
            return -1;
        st->items = it, st->cap = cap;
    }
    st->items[st->n++] = pc;
    st->items[st->n++] = pos;
    return 0;
}

static long run(const lb_re *re, uint32_t pc0, const uint32_t *s, size_t begin, size_t end,
                size_t pos0, lb_re_stack *st)
{
    size_t base = st->n;
    if (push(st, pc0, (uint32_t)pos0) < 0)
        return -2;
    while (st->n > base) {
        size_t pos = st->items[--st->n];
        uint32_t pc = st->items[--st->n];
        for (;;) {
            const inst *in = &re->code[pc];
            switch (in->op) {
            case OP_CHAR:
                if (pos < end && s[pos] == in->a) {
                    pc++, pos++;
                    continue;
                }
                goto fail;
            case OP_CLASS:
                if (pos < end && class_match(&re->classes[in->a], s[pos])) {
                    pc++, pos++;
                    continue;
                }
                goto fail;
            case OP_ANY:
                if (pos < end && s[pos] != '\n') {
                    pc++, pos++;
                    continue;
                }
                goto fail;
            case OP_BOL:
                if (pos == begin) {
                    pc++;
                    continue;
                }
                goto fail;
            case OP_EOL:
                if (pos == end) {
                    pc++;
                    continue;
                }
                goto fail;
            case OP_JMP:
                pc = in->a;
                continue;
            case OP_SPLIT:
                if (push(st, in->b, (uint32_t)pos) < 0)
                    return -2;
                pc = in->a;
                continue;
            case OP_MATCH:
                st->n = base;
                return (long)pos;
            case OP_NLOOK:
            case OP_PLOOK: {
                long r = run(re, pc + 1, s, begin, end, pos, st);
                if (r == -2)
                    return -2;
                if ((r >= 0) == (in->op == OP_PLOOK)) {
                    pc = in->a;
                    continue;
                }
                goto fail;
            }
            default:
                goto fail;
            }
        }
    fail:;
    }
    return -1;
}

long lb_re_match_at(const lb_re *re, const uint32_t *s, size_t begin, size_t end, size_t pos,
                    lb_re_stack *st)
{
    if (end > UINT32_MAX)
        return -2;
    st->n = 0;
    return run(re, 0, s, begin, end, pos, st);
}

void lb_re_stack_free(lb_re_stack *st)
{
    free(st->items);
    st->items = NULL;
    st->n = st->cap = 0;
}

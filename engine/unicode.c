/* UTF-8 coding and category lookups over the generated run table (unicode_tables.c). */
#include "unicode.h"

enum lb_ucat lb_unicode_cat(uint32_t cp)
{
    if (cp > 0x10FFFF)
        return LB_UCAT_C;
    /* Last run whose start is <= cp. */
    unsigned lo = 0, hi = lb_ucat_n_runs;
    while (hi - lo > 1) {
        unsigned mid = (lo + hi) / 2;
        if ((lb_ucat_runs[mid] >> 3) <= cp)
            lo = mid;
        else
            hi = mid;
    }
    return (enum lb_ucat)(lb_ucat_runs[lo] & 7);
}

bool lb_unicode_is_space(uint32_t cp)
{
    /* Unicode White_Space (PropList.txt); unchanged since Unicode 6. */
    if (cp <= 0x20)
        return cp == 0x20 || (cp >= 0x09 && cp <= 0x0D);
    switch (cp) {
    case 0x85: case 0xA0: case 0x1680: case 0x2028: case 0x2029: case 0x202F: case 0x205F:
    case 0x3000:
        return true;
    default:
        return cp >= 0x2000 && cp <= 0x200A;
    }
}

int lb_utf8_len(unsigned char lead)
{
    if (lead < 0x80)
        return 1;
    if ((lead & 0xE0) == 0xC0)
        return 2;
    if ((lead & 0xF0) == 0xE0)
        return 3;
    if ((lead & 0xF8) == 0xF0)
        return 4;
    return 1;
}

/* Decodes a sequence at s (avail bytes); returns its length or 0 if malformed. */
static int decode_seq(const unsigned char *s, size_t avail, uint32_t *cp)
{
    unsigned char c = s[0];
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    int len;
    uint32_t v, min;
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2, v = c & 0x1F, min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
        len = 3, v = c & 0x0F, min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4, v = c & 0x07, min = 0x10000;
    } else {
        return 0;
    }
    if ((size_t)len > avail)
        return 0;
    for (int k = 1; k < len; k++) {
        if ((s[k] & 0xC0) != 0x80)
            return 0;
        v = (v << 6) | (s[k] & 0x3F);
    }
    if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
        return 0;
    *cp = v;
    return len;
}

uint32_t lb_utf8_decode(const char *s, size_t n, size_t *i)
{
    uint32_t cp;
    int len = decode_seq((const unsigned char *)s + *i, n - *i, &cp);
    if (len == 0) {
        *i += 1;
        return LB_UNICODE_REPLACEMENT;
    }
    *i += (size_t)len;
    return cp;
}

int lb_utf8_encode(uint32_t cp, char *out)
{
    unsigned char *o = (unsigned char *)out;
    if (cp < 0x80) {
        o[0] = (unsigned char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (unsigned char)(0xC0 | (cp >> 6));
        o[1] = (unsigned char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (unsigned char)(0xE0 | (cp >> 12));
        o[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (unsigned char)(0x80 | (cp & 0x3F));
        return 3;
    }
    if (cp > 0x10FFFF)
        return lb_utf8_encode(LB_UNICODE_REPLACEMENT, out);
    o[0] = (unsigned char)(0xF0 | (cp >> 18));
    o[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
    o[3] = (unsigned char)(0x80 | (cp & 0x3F));
    return 4;
}

bool lb_utf8_valid(const char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint32_t cp;
        int len = decode_seq((const unsigned char *)s + i, n - i, &cp);
        if (len == 0)
            return false;
        i += (size_t)len;
    }
    return true;
}

size_t lb_utf8_complete_prefix(const char *s, size_t n)
{
    /* Look back at most 3 bytes for a lead byte whose sequence runs past the end. */
    const unsigned char *u = (const unsigned char *)s;
    for (size_t back = 1; back <= 3 && back <= n; back++) {
        unsigned char c = u[n - back];
        if ((c & 0xC0) == 0x80)
            continue;  /* continuation byte: keep looking for the lead */
        int len = lb_utf8_len(c);
        if (c >= 0x80 && (size_t)len > back) {
            /* Incomplete so far; hold it only if what we have is a valid start. */
            for (size_t k = 1; k < back; k++)
                if ((u[n - back + k] & 0xC0) != 0x80)
                    return n;
            return n - back;
        }
        return n;
    }
    return n;
}

// unicode_pretok.c: codepoint flags, llama.cpp-compatible UTF-8 handling, GPT-2 byte mapping
// and the BPE pre-tokenizers. Everything here reproduces llama.cpp v0.5.0 src/unicode.cpp
// behaviour (including its quirks), re-implemented from its documented semantics.
#include "unicode_pretok.h"
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <utf8proc.h>

// --- codepoint flags ----------------------------------------------------------------------
// llama.cpp's tables were generated from Unicode 15.1 UnicodeData.txt; Debian's utf8proc 2.8
// implements Unicode 15.0. A full scan of all 0x110000 codepoints against llama.cpp's
// unicode-data.cpp finds exactly these 15.1 additions missing from utf8proc (they read as Cn
// there), so they are patched here. Everything else comes from utf8proc.
static uint16_t unicode_15_1_delta(uint32_t cpt) {
    if (cpt >= 0x2FFC && cpt <= 0x2FFF) return LB_CPT_SYMBOL;    // ideographic description chars (So)
    if (cpt == 0x31EF) return LB_CPT_SYMBOL;                    // CJK stroke HXG (So)
    if (cpt >= 0x2EBF0 && cpt <= 0x2EE5D) return LB_CPT_LETTER; // CJK Unified Ideographs Ext. I (Lo)
    return 0;
}

static uint16_t category_flag(uint32_t cpt) {
    if (cpt >= 0x110000) return LB_CPT_UNDEFINED;
    switch (utf8proc_category((utf8proc_int32_t)cpt)) {
    case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LL: case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM: case UTF8PROC_CATEGORY_LO:
        return LB_CPT_LETTER;
    case UTF8PROC_CATEGORY_MN: case UTF8PROC_CATEGORY_MC: case UTF8PROC_CATEGORY_ME:
        return LB_CPT_MARK;
    case UTF8PROC_CATEGORY_ND: case UTF8PROC_CATEGORY_NL: case UTF8PROC_CATEGORY_NO:
        return LB_CPT_NUMBER;
    case UTF8PROC_CATEGORY_PC: case UTF8PROC_CATEGORY_PD: case UTF8PROC_CATEGORY_PS:
    case UTF8PROC_CATEGORY_PE: case UTF8PROC_CATEGORY_PI: case UTF8PROC_CATEGORY_PF:
    case UTF8PROC_CATEGORY_PO:
        return LB_CPT_PUNCT;
    case UTF8PROC_CATEGORY_SM: case UTF8PROC_CATEGORY_SC: case UTF8PROC_CATEGORY_SK:
    case UTF8PROC_CATEGORY_SO:
        return LB_CPT_SYMBOL;
    case UTF8PROC_CATEGORY_ZS: case UTF8PROC_CATEGORY_ZL: case UTF8PROC_CATEGORY_ZP:
        return LB_CPT_SEPARATOR;
    case UTF8PROC_CATEGORY_CC: case UTF8PROC_CATEGORY_CF: case UTF8PROC_CATEGORY_CS:
    case UTF8PROC_CATEGORY_CO:
        return LB_CPT_CONTROL;
    default: {
        uint16_t d = unicode_15_1_delta(cpt);
        return d ? d : LB_CPT_UNDEFINED;
    }
    }
}

uint16_t lb_cpt_flags(uint32_t cpt) {
    uint16_t f = category_flag(cpt);
    // White_Space (PropList.txt) = the Z categories plus TAB..CR and NEL.
    if ((cpt >= 0x09 && cpt <= 0x0D) || cpt == 0x85 || f == LB_CPT_SEPARATOR) f |= LB_CPT_WHITESPACE;
    return f;
}

uint32_t lb_cpt_tolower(uint32_t cpt) {
    if (cpt >= 0x110000) return cpt;
    return (uint32_t)utf8proc_tolower((utf8proc_int32_t)cpt);
}

// --- UTF-8 -------------------------------------------------------------------------------
size_t lb_utf8_len(uint8_t lead) {
    static const uint8_t lookup[16] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4};
    return lookup[lead >> 4];
}

static int is_cont(uint8_t b) { return (b & 0xC0) == 0x80; }

size_t lb_utf8_decode(uint32_t *out, const char *s, size_t len) {
    const uint8_t *u = (const uint8_t *)s;
    size_t n = 0, i = 0;
    while (i < len) {
        uint8_t c = u[i];
        if (!(c & 0x80)) {
            out[n++] = c;
            i += 1;
        } else if (!(c & 0x40)) {
            out[n++] = 0xFFFD; i += 1;                    // stray continuation byte
        } else if (!(c & 0x20)) {
            if (i + 1 < len && is_cont(u[i + 1])) {
                out[n++] = ((uint32_t)(c & 0x1F) << 6) | (u[i + 1] & 0x3F);
                i += 2;
            } else { out[n++] = 0xFFFD; i += 1; }
        } else if (!(c & 0x10)) {
            if (i + 2 < len && is_cont(u[i + 1]) && is_cont(u[i + 2])) {
                out[n++] = ((uint32_t)(c & 0x0F) << 12) | ((uint32_t)(u[i + 1] & 0x3F) << 6) | (u[i + 2] & 0x3F);
                i += 3;
            } else { out[n++] = 0xFFFD; i += 1; }
        } else if (!(c & 0x08)) {
            if (i + 3 < len && is_cont(u[i + 1]) && is_cont(u[i + 2]) && is_cont(u[i + 3])) {
                out[n++] = ((uint32_t)(c & 0x07) << 18) | ((uint32_t)(u[i + 1] & 0x3F) << 12) |
                           ((uint32_t)(u[i + 2] & 0x3F) << 6) | (u[i + 3] & 0x3F);
                i += 4;
            } else { out[n++] = 0xFFFD; i += 1; }
        } else {
            out[n++] = 0xFFFD; i += 1;                    // 0xF8..0xFF never start a sequence
        }
    }
    return n;
}

size_t lb_utf8_encode(char out[4], uint32_t cpt) {
    if (cpt > 0x10FFFF) cpt = 0xFFFD;
    if (cpt <= 0x7F) { out[0] = (char)cpt; return 1; }
    if (cpt <= 0x7FF) {
        out[0] = (char)(0xC0 | (cpt >> 6));
        out[1] = (char)(0x80 | (cpt & 0x3F));
        return 2;
    }
    if (cpt <= 0xFFFF) {
        out[0] = (char)(0xE0 | (cpt >> 12));
        out[1] = (char)(0x80 | ((cpt >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cpt & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cpt >> 18));
    out[1] = (char)(0x80 | ((cpt >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cpt >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cpt & 0x3F));
    return 4;
}

// --- GPT-2 bytes_to_unicode ----------------------------------------------------------------
// Printable Latin-1 bytes map to themselves; the other 68 bytes, in order, to U+0100..U+0143.
static int printable_byte(unsigned b) {
    return (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
}

// The 68 others are 0x00..0x20 (33 bytes), 0x7F..0xA0 (34) and 0xAD, numbered in that order.
uint32_t lb_byte_to_cpt(uint8_t b) {
    if (printable_byte(b)) return b;
    if (b <= 0x20) return 256 + b;
    if (b <= 0xA0) return 256 + 33 + (b - 0x7F);
    return 256 + 67;   // 0xAD
}

int lb_cpt_to_byte(uint32_t cpt) {
    if (cpt < 256) return printable_byte(cpt) ? (int)cpt : -1;
    if (cpt < 256 + 33) return (int)(cpt - 256);
    if (cpt < 256 + 67) return (int)(cpt - 256 - 33 + 0x7F);
    if (cpt == 256 + 67) return 0xAD;
    return -1;
}

// --- word-length vector --------------------------------------------------------------------
typedef struct lens_vec {
    size_t *v;
    size_t n, cap;
    int oom;
} lens_vec;

static void push_len(lens_vec *o, size_t len) {
    if (len == 0 || o->oom) return;
    if (o->n == o->cap) {
        size_t cap = o->cap ? o->cap * 2 : 64;
        size_t *v = realloc(o->v, cap * sizeof *v);
        if (!v) { o->oom = 1; return; }
        o->v = v;
        o->cap = cap;
    }
    o->v[o->n++] = len;
}

// One segment [ini, end) of the text: flags outside it read as 0, codepoints as OUT_OF_RANGE,
// exactly like the lambdas in llama.cpp's custom splitters.
#define OUT_OF_RANGE 0xFFFFFFFFu
typedef struct seg {
    const uint32_t *c;
    const uint16_t *f;
    size_t ini, end;
    size_t prev_end;    // end of the last emitted word
    lens_vec *out;
} seg;

static uint32_t seg_cpt(const seg *s, size_t p) { return p >= s->ini && p < s->end ? s->c[p] : OUT_OF_RANGE; }
static uint16_t seg_flags(const seg *s, size_t p) { return p >= s->ini && p < s->end ? s->f[p] : 0; }
static size_t emit(seg *s, size_t end) {
    size_t len = end - s->prev_end;
    push_len(s->out, len);
    s->prev_end = end;
    return len;
}

// --- custom splitters (llama.cpp's hand-written fast paths) --------------------------------
// GPT-2: 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
static void split_gpt2(seg *s) {
    for (size_t pos = s->ini; pos < s->end;) {
        uint32_t cpt = seg_cpt(s, pos);
        uint16_t flags = seg_flags(s, pos);
        if (cpt == '\'' && pos + 1 < s->end) {
            uint32_t nx = seg_cpt(s, pos + 1);
            if (nx == 's' || nx == 't' || nx == 'm' || nx == 'd') { pos += emit(s, pos + 2); continue; }
            if (pos + 2 < s->end) {
                uint32_t nn = seg_cpt(s, pos + 2);
                if ((nx == 'r' && nn == 'e') || (nx == 'v' && nn == 'e') || (nx == 'l' && nn == 'l')) {
                    pos += emit(s, pos + 3);
                    continue;
                }
            }
        }
        uint16_t f2 = cpt == ' ' ? seg_flags(s, pos + 1) : flags;
        if (f2 & LB_CPT_LETTER) {
            pos += (cpt == ' ');
            while (f2 & LB_CPT_LETTER) f2 = seg_flags(s, ++pos);
            emit(s, pos);
            continue;
        }
        if (f2 & LB_CPT_NUMBER) {
            pos += (cpt == ' ');
            while (f2 & LB_CPT_NUMBER) f2 = seg_flags(s, ++pos);
            emit(s, pos);
            continue;
        }
        if (!(f2 & (LB_CPT_WHITESPACE | LB_CPT_LETTER | LB_CPT_NUMBER)) && f2) {
            pos += (cpt == ' ');
            while (!(f2 & (LB_CPT_WHITESPACE | LB_CPT_LETTER | LB_CPT_NUMBER)) && f2) f2 = seg_flags(s, ++pos);
            emit(s, pos);
            continue;
        }
        size_t nws = 0;
        while (seg_flags(s, pos + nws) & LB_CPT_WHITESPACE) nws++;
        if (nws > 1 && seg_cpt(s, pos + nws) != OUT_OF_RANGE) { pos += nws - 1; emit(s, pos); continue; }
        if (nws > 0) { pos += nws; emit(s, pos); continue; }
        emit(s, ++pos);
    }
}

// Llama 3 (max_digits 3) and Qwen2 (max_digits 1):
// (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
static void split_llama3_like(seg *s, size_t max_digits) {
    for (size_t pos = s->ini; pos < s->end;) {
        uint32_t cpt = seg_cpt(s, pos);
        uint16_t flags = seg_flags(s, pos);
        if (cpt == '\'' && pos + 1 < s->end) {
            uint32_t nx = lb_cpt_tolower(seg_cpt(s, pos + 1));
            if (nx == 's' || nx == 't' || nx == 'm' || nx == 'd') { pos += emit(s, pos + 2); continue; }
            if (pos + 2 < s->end) {
                uint32_t nn = lb_cpt_tolower(seg_cpt(s, pos + 2));
                if ((nx == 'r' && nn == 'e') || (nx == 'v' && nn == 'e') || (nx == 'l' && nn == 'l')) {
                    pos += emit(s, pos + 3);
                    continue;
                }
            }
        }
        if (!(cpt == '\r' || cpt == '\n' || (flags & LB_CPT_NUMBER))) {
            if ((flags & LB_CPT_LETTER) || (seg_flags(s, pos + 1) & LB_CPT_LETTER)) {
                pos++;
                while (seg_flags(s, pos) & LB_CPT_LETTER) pos++;
                emit(s, pos);
                continue;
            }
        }
        if (flags & LB_CPT_NUMBER) {
            size_t ini = pos;
            while (seg_flags(s, pos) & LB_CPT_NUMBER) {
                if (++pos - ini >= max_digits) { emit(s, pos); ini = pos; }
            }
            emit(s, pos);
            continue;
        }
        uint16_t f2 = cpt == ' ' ? seg_flags(s, pos + 1) : flags;
        if (!(f2 & (LB_CPT_WHITESPACE | LB_CPT_LETTER | LB_CPT_NUMBER)) && flags) {
            pos += (cpt == ' ');
            while (!(f2 & (LB_CPT_WHITESPACE | LB_CPT_LETTER | LB_CPT_NUMBER)) && f2) f2 = seg_flags(s, ++pos);
            uint32_t c2 = seg_cpt(s, pos);
            while (c2 == '\r' || c2 == '\n') c2 = seg_cpt(s, ++pos);
            emit(s, pos);
            continue;
        }
        size_t nws = 0, last_rn = 0;
        while (seg_flags(s, pos + nws) & LB_CPT_WHITESPACE) {
            uint32_t c2 = seg_cpt(s, pos + nws);
            if (c2 == '\r' || c2 == '\n') last_rn = pos + nws + 1;
            nws++;
        }
        if (last_rn > 0) { pos = last_rn; emit(s, pos); continue; }
        if (nws > 1 && seg_cpt(s, pos + nws) != OUT_OF_RANGE) { pos += nws - 1; emit(s, pos); continue; }
        if (nws > 0) { pos += nws; emit(s, pos); continue; }
        emit(s, ++pos);
    }
}

// --- std::regex-style splitters -------------------------------------------------------------
// Regexes without a fast path run in llama.cpp through std::regex on a "collapsed" text where
// each non-ASCII codepoint becomes one byte for its category (whitespace first). So \s is
// exactly the WHITESPACE flag and \p{X} is "category X and not whitespace". A matcher returns
// the length of the ECMAScript (first alternative wins) match at pos, 0 for none; the driver
// reproduces std::regex_iterator: unmatched stretches between matches become one word.
typedef size_t (*matcher_fn)(const seg *s, size_t pos);

static int in_cat(const seg *s, size_t p, uint16_t cats) {
    uint16_t f = seg_flags(s, p);
    return f && !(f & LB_CPT_WHITESPACE) && (f & cats);
}
static int is_ws(const seg *s, size_t p) { return (seg_flags(s, p) & LB_CPT_WHITESPACE) != 0; }

static void split_regex(seg *s, matcher_fn match) {
    size_t gap = s->ini;
    for (size_t pos = s->ini; pos < s->end;) {
        size_t m = match(s, pos);
        if (m == 0) { pos++; continue; }
        push_len(s->out, pos - gap);
        push_len(s->out, m);
        pos += m;
        gap = pos;
    }
    push_len(s->out, s->end - gap);
}

// [\p{P}\$\+<=>\^~\|]+
static size_t match_default_punct(const seg *s, size_t pos) {
    size_t p = pos;
    for (;; p++) {
        uint32_t c = seg_cpt(s, p);
        if (c == OUT_OF_RANGE) break;
        if (!(in_cat(s, p, LB_CPT_PUNCT) || (c < 128 && c && strchr("$+<=>^~|", (int)c)))) break;
    }
    return p - pos;
}

static size_t number_run(const seg *s, size_t pos, size_t max) {
    size_t p = pos;
    while (p - pos < max && in_cat(s, p, LB_CPT_NUMBER)) p++;
    return p - pos;
}
static size_t match_number_run(const seg *s, size_t pos) { return number_run(s, pos, SIZE_MAX); } // \p{N}+
static size_t match_number_1(const seg *s, size_t pos) { return number_run(s, pos, 1); }          // \p{N}
static size_t match_number_3(const seg *s, size_t pos) { return number_run(s, pos, 3); }          // \p{N}{1,3}

// [0-9][0-9][0-9]
static size_t match_digits_3(const seg *s, size_t pos) {
    for (size_t i = 0; i < 3; i++) {
        uint32_t c = seg_cpt(s, pos + i);
        if (c < '0' || c > '9') return 0;
    }
    return 3;
}

// [一-龥぀-ゟ゠-ヿ]+  (CJK U+4E00..U+9FA5, hiragana U+3040..U+309F, katakana U+30A0..U+30FF)
static size_t match_cjk_kana(const seg *s, size_t pos) {
    size_t p = pos;
    for (;; p++) {
        uint32_t c = seg_cpt(s, p);
        if (!((c >= 0x4E00 && c <= 0x9FA5) || (c >= 0x3040 && c <= 0x30FF))) break;
    }
    return p - pos;
}

static int ascii_punct(uint32_t c) {
    return (c >= 0x21 && c <= 0x2F) || (c >= 0x3A && c <= 0x40) || (c >= 0x5B && c <= 0x60) || (c >= 0x7B && c <= 0x7E);
}
static int ascii_letter(uint32_t c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }

// DeepSeek-V3 / Hunyuan-dense main regex:
// [!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~][A-Za-z]+|[^\r\n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+|
//  ?[\p{P}\p{S}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
static size_t match_deepseek3(const seg *s, size_t pos) {
    uint32_t c0 = seg_cpt(s, pos);
    // alt 1: one ASCII punctuation char then ASCII letters
    if (ascii_punct(c0) && ascii_letter(seg_cpt(s, pos + 1))) {
        size_t p = pos + 1;
        while (ascii_letter(seg_cpt(s, p))) p++;
        return p - pos;
    }
    // alt 2: optional "other" char then letters/marks
    const uint16_t LM = LB_CPT_LETTER | LB_CPT_MARK, PS = LB_CPT_PUNCT | LB_CPT_SYMBOL;
    int other0 = c0 != '\r' && c0 != '\n' && !in_cat(s, pos, LB_CPT_LETTER | PS);
    size_t start = SIZE_MAX;
    if (other0 && in_cat(s, pos + 1, LM)) start = pos + 1;
    else if (in_cat(s, pos, LM)) start = pos;
    if (start != SIZE_MAX) {
        size_t p = start;
        while (in_cat(s, p, LM)) p++;
        return p - pos;
    }
    // alt 3: optional space, punctuation/symbols, then CR/LF
    size_t p = SIZE_MAX;
    if (c0 == ' ' && in_cat(s, pos + 1, PS)) p = pos + 1;
    else if (in_cat(s, pos, PS)) p = pos;
    if (p != SIZE_MAX) {
        while (in_cat(s, p, PS)) p++;
        while (seg_cpt(s, p) == '\r' || seg_cpt(s, p) == '\n') p++;
        return p - pos;
    }
    // alts 4-6: whitespace
    size_t nws = 0, last_rn = 0;
    while (is_ws(s, pos + nws)) {
        uint32_t c = seg_cpt(s, pos + nws);
        if (c == '\r' || c == '\n') last_rn = nws + 1;
        nws++;
    }
    if (last_rn) return last_rn;                          // \s*[\r\n]+
    if (nws > 0 && pos + nws == s->end) return nws;       // \s+(?!\S) at the end
    if (nws > 1) return nws - 1;                          // \s+(?!\S) before non-space
    return nws;                                           // \s+ (or no match)
}

// --- driver ----------------------------------------------------------------------------------
enum split_kind { SPLIT_GPT2, SPLIT_LLAMA3, SPLIT_QWEN2, SPLIT_REGEX };
typedef struct split_step {
    enum split_kind kind;
    matcher_fn match;
} split_step;

static int steps_for(enum lb_pretok kind, split_step *steps) {
    switch (kind) {
    case LB_PRETOK_DEFAULT:
        steps[0] = (split_step){SPLIT_REGEX, match_default_punct};
        steps[1] = (split_step){SPLIT_GPT2, NULL};
        steps[2] = (split_step){SPLIT_REGEX, match_number_run};
        steps[3] = (split_step){SPLIT_REGEX, match_digits_3};
        return 4;
    case LB_PRETOK_GPT2:
        steps[0] = (split_step){SPLIT_GPT2, NULL};
        return 1;
    case LB_PRETOK_STARCODER:
        steps[0] = (split_step){SPLIT_REGEX, match_number_1};
        steps[1] = (split_step){SPLIT_GPT2, NULL};
        return 2;
    case LB_PRETOK_LLAMA3:
        steps[0] = (split_step){SPLIT_LLAMA3, NULL};
        return 1;
    case LB_PRETOK_QWEN2:
        steps[0] = (split_step){SPLIT_QWEN2, NULL};
        return 1;
    case LB_PRETOK_DEEPSEEK3:
        steps[0] = (split_step){SPLIT_REGEX, match_number_3};
        steps[1] = (split_step){SPLIT_REGEX, match_cjk_kana};
        steps[2] = (split_step){SPLIT_REGEX, match_deepseek3};
        return 3;
    }
    return 0;
}

int lb_pretok_split(size_t **lens, size_t *n_lens, enum lb_pretok kind, const uint32_t *cpts, size_t n) {
    *lens = NULL;
    *n_lens = 0;
    uint16_t *flags = malloc((n ? n : 1) * sizeof *flags);
    lens_vec cur = {0}, next = {0};
    if (!flags) return -1;
    for (size_t i = 0; i < n; i++) flags[i] = lb_cpt_flags(cpts[i]);
    push_len(&cur, n);

    split_step steps[4];
    int n_steps = steps_for(kind, steps);
    for (int k = 0; k < n_steps && !cur.oom; k++) {
        next.n = 0;
        size_t start = 0;
        for (size_t w = 0; w < cur.n; w++) {
            seg s = {cpts, flags, start, start + cur.v[w], start, &next};
            switch (steps[k].kind) {
            case SPLIT_GPT2: split_gpt2(&s); break;
            case SPLIT_LLAMA3: split_llama3_like(&s, 3); break;
            case SPLIT_QWEN2: split_llama3_like(&s, 1); break;
            case SPLIT_REGEX: split_regex(&s, steps[k].match); break;
            }
            start += cur.v[w];
        }
        lens_vec t = cur;
        cur = next;
        next = t;
        cur.oom |= next.oom;
    }
    free(flags);
    free(next.v);
    if (cur.oom) { free(cur.v); return -1; }
    *lens = cur.v;
    *n_lens = cur.n;
    return 0;
}

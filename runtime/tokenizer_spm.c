// tokenizer_spm.c: SentencePiece-style ("llama") tokenization as llama.cpp's
// llm_tokenizer_spm does it: start from UTF-8 characters, repeatedly merge the adjacent pair
// whose concatenation is the highest-scoring vocab entry (ties: leftmost), and spell any
// leftover character that is not a token as <0xXX> byte tokens.
#include <stdlib.h>
#include <string.h>
#include "tokenizer_internal.h"

typedef struct spm_symbol {
    int prev, next;      // linked list over the surviving symbols; -1 = none
    size_t off, n;       // bytes [off, off+n) of the text; n == 0 once merged away
} spm_symbol;

typedef struct spm_bigram {
    int left, right;
    float score;
    size_t size;         // byte length when queued: a stale entry no longer matches
} spm_bigram;

// --- max-heap of bigrams: higher score first, then the leftmost ------------------------------
typedef struct spm_heap {
    spm_bigram *v;
    size_t n, cap;
    int oom;
} spm_heap;

static int spm_before(const spm_bigram *a, const spm_bigram *b) {
    return a->score > b->score || (a->score == b->score && a->left < b->left);
}

static void heap_push(spm_heap *h, spm_bigram x) {
    if (h->oom) return;
    if (h->n == h->cap) {
        size_t cap = h->cap ? h->cap * 2 : 64;
        spm_bigram *v = realloc(h->v, cap * sizeof *v);
        if (!v) { h->oom = 1; return; }
        h->v = v;
        h->cap = cap;
    }
    size_t i = h->n++;
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!spm_before(&x, &h->v[parent])) break;
        h->v[i] = h->v[parent];
        i = parent;
    }
    h->v[i] = x;
}

static spm_bigram heap_pop(spm_heap *h) {
    spm_bigram top = h->v[0], last = h->v[--h->n];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= h->n) break;
        if (c + 1 < h->n && spm_before(&h->v[c + 1], &h->v[c])) c++;
        if (!spm_before(&h->v[c], &last)) break;
        h->v[i] = h->v[c];
        i = c;
    }
    if (h->n) h->v[i] = last;
    return top;
}

// --- tokenization -------------------------------------------------------------------------
static void try_add_bigram(const lb_tokenizer *t, const char *text, const spm_symbol *sym, spm_heap *h,
                           int left, int right) {
    if (left < 0 || right < 0) return;
    size_t size = sym[left].n + sym[right].n;
    if (size > t->max_token_len) return;   // cannot be a token: skip the lookup
    int32_t id = tok_map_get(&t->vocab, text + sym[left].off, size);
    if (id < 0) return;
    heap_push(h, (spm_bigram){left, right, t->score[id], size});
}

// A byte as a token: "<0xXX>", else the one-byte text itself. llama.cpp throws when neither
// exists; we fall back to the unknown token (or drop the byte when there is none).
static int32_t spm_byte_token(const lb_tokenizer *t, uint8_t b) {
    static const char hex[] = "0123456789ABCDEF";
    char buf[6] = {'<', '0', 'x', hex[b >> 4], hex[b & 15], '>'};
    int32_t id = tok_map_get(&t->vocab, buf, 6);
    if (id < 0) id = tok_map_get(&t->vocab, (const char *)&b, 1);
    if (id < 0) id = t->unk;
    return id;
}

static int spm_chunk(const lb_tokenizer *t, const char *text, size_t len, tok_ids *out) {
    if (len == 0) return 0;
    if (len > (size_t)INT32_MAX) return -1;
    spm_symbol *sym = malloc(len * sizeof *sym);
    spm_heap h = {0};
    if (!sym) return -1;

    // one symbol per UTF-8 character (by lead byte, unvalidated, as llama.cpp does)
    int n_sym = 0;
    for (size_t off = 0; off < len;) {
        size_t n = lb_utf8_len((uint8_t)text[off]);
        if (n > len - off) n = len - off;
        sym[n_sym] = (spm_symbol){n_sym - 1, off + n == len ? -1 : n_sym + 1, off, n};
        off += n;
        n_sym++;
    }
    for (int i = 1; i < n_sym; i++) try_add_bigram(t, text, sym, &h, i - 1, i);

    while (h.n > 0 && !h.oom) {
        spm_bigram b = heap_pop(&h);
        spm_symbol *l = &sym[b.left], *r = &sym[b.right];
        if (l->n == 0 || r->n == 0 || l->n + r->n != b.size) continue;   // stale
        l->n += r->n;
        r->n = 0;
        l->next = r->next;
        if (r->next >= 0) sym[r->next].prev = b.left;
        try_add_bigram(t, text, sym, &h, l->prev, b.left);
        try_add_bigram(t, text, sym, &h, b.left, l->next);
    }
    int oom = h.oom;
    free(h.v);

    for (int i = 0; i != -1 && !oom; i = sym[i].next) {
        int32_t id = tok_map_get(&t->vocab, text + sym[i].off, sym[i].n);
        if (id >= 0) {
            tok_ids_push(out, id);
            continue;
        }
        for (size_t j = 0; j < sym[i].n; j++) {
            int32_t bid = spm_byte_token(t, (uint8_t)text[sym[i].off + j]);
            if (bid >= 0) tok_ids_push(out, bid);
        }
    }
    free(sym);
    return oom || out->oom ? -1 : 0;
}

// One priority queue over a whole 1 MB fragment is slow (cache misses) though correct. A
// character that occurs in no multi-byte token can never be merged, so it splits the symbol
// chain into independent parts: merging each part alone pops the same bigrams in the same
// relative order, hence gives exactly the same tokens. Cuts happen only at symbol starts.
int tok_spm_encode(const lb_tokenizer *t, const char *text, size_t len, tok_ids *out) {
    size_t start = 0;
    for (size_t off = 0; off < len;) {
        size_t n = lb_utf8_len((uint8_t)text[off]);
        if (n > len - off) n = len - off;
        if (n == 1 && t->lonely[(uint8_t)text[off]]) {
            if (spm_chunk(t, text + start, off - start, out) || spm_chunk(t, text + off, 1, out)) return -1;
            start = off + 1;
        }
        off += n;
    }
    return spm_chunk(t, text + start, len - start, out);
}

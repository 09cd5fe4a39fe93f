// tokenizer_bpe.c: byte-level BPE ("gpt2") as llama.cpp's llm_tokenizer_bpe does it: split the
// text into words with the pre-tokenizer, map each word's bytes through GPT-2's
// bytes_to_unicode, then repeatedly merge the adjacent pair with the lowest merge rank
// (ties: leftmost) until no listed merge applies.
#include <stdlib.h>
#include <string.h>
#include "tokenizer_internal.h"

typedef struct bpe_symbol {
    int prev, next;
    size_t off, n;       // bytes of the encoded word; n == 0 once merged away
} bpe_symbol;

typedef struct bpe_bigram {
    int left, right;
    int32_t rank;
    size_t size;
} bpe_bigram;

// --- min-heap of bigrams: lower rank first, then the leftmost --------------------------------
typedef struct bpe_heap {
    bpe_bigram *v;
    size_t n, cap;
    int oom;
} bpe_heap;

static int bpe_before(const bpe_bigram *a, const bpe_bigram *b) {
    return a->rank < b->rank || (a->rank == b->rank && a->left < b->left);
}

static void heap_push(bpe_heap *h, bpe_bigram x) {
    if (h->oom) return;
    if (h->n == h->cap) {
        size_t cap = h->cap ? h->cap * 2 : 64;
        bpe_bigram *v = realloc(h->v, cap * sizeof *v);
        if (!v) { h->oom = 1; return; }
        h->v = v;
        h->cap = cap;
    }
    size_t i = h->n++;
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!bpe_before(&x, &h->v[parent])) break;
        h->v[i] = h->v[parent];
        i = parent;
    }
    h->v[i] = x;
}

static bpe_bigram heap_pop(bpe_heap *h) {
    bpe_bigram top = h->v[0], last = h->v[--h->n];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= h->n) break;
        if (c + 1 < h->n && bpe_before(&h->v[c + 1], &h->v[c])) c++;
        if (!bpe_before(&h->v[c], &last)) break;
        h->v[i] = h->v[c];
        i = c;
    }
    if (h->n) h->v[i] = last;
    return top;
}

// --- per-word scratch, reused across the words of one call --------------------------------
typedef struct bpe_work {
    char *word;          // byte-level encoded word
    size_t word_cap;
    bpe_symbol *sym;
    size_t sym_cap;
    bpe_heap heap;
} bpe_work;

static int grow(void **p, size_t *cap, size_t need, size_t elem) {
    if (need <= *cap) return 0;
    size_t cap2 = *cap ? *cap : 64;
    while (cap2 < need) cap2 *= 2;
    void *q = realloc(*p, cap2 * elem);
    if (!q) return -1;
    *p = q;
    *cap = cap2;
    return 0;
}

static void add_bigram(const lb_tokenizer *t, bpe_work *w, int left, int right) {
    if (left < 0 || right < 0) return;
    const bpe_symbol *l = &w->sym[left], *r = &w->sym[right];
    int32_t rank = tok_map_get_pair(&t->merges, w->word + l->off, l->n, w->word + r->off, r->n);
    if (rank < 0) return;
    heap_push(&w->heap, (bpe_bigram){left, right, rank, l->n + r->n});
}

// Merge one encoded word and append its tokens.
static int bpe_word(const lb_tokenizer *t, bpe_work *w, size_t len, tok_ids *out) {
    if (grow((void **)&w->sym, &w->sym_cap, len, sizeof *w->sym)) return -1;
    if (len > (size_t)INT32_MAX) return -1;
    int n_sym = 0;
    if (t->ignore_merges && tok_map_get(&t->vocab, w->word, len) >= 0) {
        w->sym[n_sym++] = (bpe_symbol){-1, -1, 0, len};
    } else {
        for (size_t off = 0; off < len;) {
            size_t n = lb_utf8_len((uint8_t)w->word[off]);
            if (n > len - off) n = len - off;
            w->sym[n_sym] = (bpe_symbol){n_sym - 1, off + n == len ? -1 : n_sym + 1, off, n};
            off += n;
            n_sym++;
        }
    }
    w->heap.n = 0;
    for (int i = 1; i < n_sym; i++) add_bigram(t, w, i - 1, i);
    while (w->heap.n > 0 && !w->heap.oom) {
        bpe_bigram b = heap_pop(&w->heap);
        bpe_symbol *l = &w->sym[b.left], *r = &w->sym[b.right];
        // l and r stay adjacent while both live, so equal length means equal text
        if (l->n == 0 || r->n == 0 || l->n + r->n != b.size) continue;
        l->n += r->n;
        r->n = 0;
        l->next = r->next;
        if (r->next >= 0) w->sym[r->next].prev = b.left;
        add_bigram(t, w, l->prev, b.left);
        add_bigram(t, w, b.left, l->next);
    }
    if (w->heap.oom) return -1;

    for (int i = 0; i < n_sym; i++) {
        const bpe_symbol *s = &w->sym[i];
        if (s->n == 0) continue;
        int32_t id = tok_map_get(&t->vocab, w->word + s->off, s->n);
        if (id >= 0) {
            tok_ids_push(out, id);
            continue;
        }
        // llama.cpp's fallback: each byte of the *encoded* text as a one-byte token, if any
        for (size_t j = 0; j < s->n; j++) {
            int32_t bid = tok_map_get(&t->vocab, w->word + s->off + j, 1);
            if (bid >= 0) tok_ids_push(out, bid);
        }
    }
    return 0;
}

int tok_bpe_encode(const lb_tokenizer *t, const char *text, size_t len, tok_ids *out) {
    if (len == 0) return 0;
    uint32_t *cpts = malloc(len * sizeof *cpts);
    size_t *lens = NULL, n_lens = 0;
    bpe_work w = {0};
    int rc = -1;
    if (!cpts) return -1;
    size_t n_cpts = lb_utf8_decode(cpts, text, len);
    if (lb_pretok_split(&lens, &n_lens, t->pre, cpts, n_cpts)) goto done;

    // byte image of every byte value, as UTF-8
    char img[256][2];
    uint8_t img_len[256];
    for (int b = 0; b < 256; b++) {
        char u[4];
        img_len[b] = (uint8_t)lb_utf8_encode(u, lb_byte_to_cpt((uint8_t)b));
        memcpy(img[b], u, 2);
    }

    size_t start = 0;
    for (size_t k = 0; k < n_lens; k++) {
        // re-encode the word's codepoints (invalid input became U+FFFD), then map each byte
        if (grow((void **)&w.word, &w.word_cap, lens[k] * 8, 1)) goto done;
        size_t wl = 0;
        for (size_t i = start; i < start + lens[k]; i++) {
            char u[4];
            size_t n = lb_utf8_encode(u, cpts[i]);
            for (size_t j = 0; j < n; j++) {
                uint8_t b = (uint8_t)u[j];
                memcpy(w.word + wl, img[b], img_len[b]);
                wl += img_len[b];
            }
        }
        start += lens[k];
        if (bpe_word(t, &w, wl, out)) goto done;
    }
    rc = out->oom ? -1 : 0;
done:
    free(cpts);
    free(lens);
    free(w.word);
    free(w.sym);
    free(w.heap.v);
    return rc;
}

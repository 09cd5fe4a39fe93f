// test_sampler.c: greedy picks the argmax (lowest id on ties); a seed fixes the draws;
// temperature sampling follows softmax(logits / T) and top-p keeps only the nucleus.
#include <math.h>
#include "test_util.h"
#include "sampler.h"

int main(void) {
    lb_sampler s;
    float l[5] = {0.1f, 2.0f, -1.0f, 2.0f, 1.9f};
    CHECK(lb_sampler_build(&s, 5, 0.0f, 0.9f, 1) == 0, "build");
    CHECK(lb_sampler_sample(&s, l) == 1, "greedy: first of the tied maxima");
    lb_sampler_free(&s);

    // frequencies at T = 1 without top-p: probabilities 1/2, 1/4, 1/4 (logits log-probs)
    const int N = 40000;
    int count[3] = {0};
    CHECK(lb_sampler_build(&s, 3, 1.0f, 1.0f, 12345) == 0, "build");
    for (int i = 0; i < N; i++) {
        float lg[3] = {logf(0.5f), logf(0.25f), logf(0.25f)};
        count[lb_sampler_sample(&s, lg)]++;
    }
    lb_sampler_free(&s);
    printf("T=1 frequencies: %.3f %.3f %.3f (want 0.5 0.25 0.25)\n", (double)count[0] / N, (double)count[1] / N, (double)count[2] / N);
    CHECK(fabs(count[0] / (double)N - 0.5) < 0.015 && fabs(count[1] / (double)N - 0.25) < 0.015, "T=1 frequencies");

    // T = 0.5 squares the odds: 0.5^2 : 0.25^2 : 0.25^2 -> 2/3, 1/6, 1/6
    count[0] = count[1] = count[2] = 0;
    CHECK(lb_sampler_build(&s, 3, 0.5f, 1.0f, 99) == 0, "build");
    for (int i = 0; i < N; i++) {
        float lg[3] = {logf(0.5f), logf(0.25f), logf(0.25f)};
        count[lb_sampler_sample(&s, lg)]++;
    }
    lb_sampler_free(&s);
    CHECK(fabs(count[0] / (double)N - 2.0 / 3.0) < 0.015, "T=0.5 frequency of the top token: %.3f", count[0] / (double)N);

    // top-p 0.6 on {0.5, 0.3, 0.2}: nucleus = first two tokens (0.5 + 0.3 > 0.6), never the third
    count[0] = count[1] = count[2] = 0;
    CHECK(lb_sampler_build(&s, 3, 1.0f, 0.6f, 7) == 0, "build");
    for (int i = 0; i < N; i++) {
        float lg[3] = {logf(0.5f), logf(0.3f), logf(0.2f)};
        count[lb_sampler_sample(&s, lg)]++;
    }
    lb_sampler_free(&s);
    CHECK(count[2] == 0, "top-p sampled outside the nucleus %d times", count[2]);
    CHECK(fabs(count[0] / (double)N - 0.625) < 0.015, "top-p renormalised frequency %.3f (want 0.625)", count[0] / (double)N);

    // same seed -> same sequence; different seed -> different sequence
    int a[64], b[64], c[64];
    for (int run = 0; run < 3; run++) {
        CHECK(lb_sampler_build(&s, 5, 1.0f, 0.95f, run == 2 ? 43 : 42) == 0, "build");
        for (int i = 0; i < 64; i++) {
            float lg[5] = {0.1f, 0.2f, 0.3f, 0.4f, 0.5f};
            (run == 0 ? a : run == 1 ? b : c)[i] = lb_sampler_sample(&s, lg);
        }
        lb_sampler_free(&s);
    }
    CHECK(memcmp(a, b, sizeof a) == 0, "same seed gave different draws");
    CHECK(memcmp(a, c, sizeof a) != 0, "different seeds gave identical draws");
    printf("ok\n");
    return 0;
}

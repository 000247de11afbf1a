/*
 * nussinov: Nussinov's dynamic program for RNA secondary structure, the
 * maximum number of complementary base pairs of every subsequence
 * seq[i..j] (bases 0..3; b1 + b2 == 3 is a pair). Live-out: table.
 */
#include <stdlib.h>

#include "edgebench.h"

#ifndef EB_N
#error "EB_N is not defined: compile with -DEB_N=<sequence length> (sizes: kernels/suite.yaml)"
#endif

enum { N = EB_N };

static int match(int b1, int b2)
{
    return b1 + b2 == 3 ? 1 : 0;
}

static int max_score(int s1, int s2)
{
    return s1 >= s2 ? s1 : s2;
}

static void init(unsigned char seq[N], int table[N][N])
{
    /* A small multiplicative hash gives an irregular but fixed sequence. */
    for (int i = 0; i < N; i++) {
        seq[i] = (unsigned char)(((unsigned)i * 2654435761u) >> 30);
        for (int j = 0; j < N; j++) {
            table[i][j] = 0;
        }
    }
}

static void kernel_nussinov(unsigned char seq[N], int table[N][N])
{
    for (int i = N - 1; i >= 0; i--) {
        for (int j = i + 1; j < N; j++) {
            if (j - 1 >= 0) {
                table[i][j] = max_score(table[i][j], table[i][j - 1]);
            }
            if (i + 1 < N) {
                table[i][j] = max_score(table[i][j], table[i + 1][j]);
            }
            if (j - 1 >= 0 && i + 1 < N) {
                /* Adjacent bases (i == j-1) cannot pair with each other. */
                if (i < j - 1) {
                    table[i][j] = max_score(table[i][j], table[i + 1][j - 1] + match(seq[i], seq[j]));
                } else {
                    table[i][j] = max_score(table[i][j], table[i + 1][j - 1]);
                }
            }
            for (int k = i + 1; k < j; k++) {
                table[i][j] = max_score(table[i][j], table[i][k] + table[k + 1][j]);
            }
        }
    }
}

int main(void)
{
    unsigned char *seq = eb_alloc(N, sizeof *seq);
    int (*table)[N] = eb_alloc(N, sizeof *table);

    init(seq, table);

    eb_timer_start();
    kernel_nussinov(seq, table);
    eb_timer_stop();

    eb_checksum(table, N * sizeof *table);
    eb_report();

    free(seq);
    free(table);
    return 0;
}

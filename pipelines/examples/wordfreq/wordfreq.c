/* wordfreq: an example workload of your own, built from its sources by
 * edgebench's pinned zig. It makes a deterministic text of N words from a
 * small generator, counts every distinct word in a hash table, and prints
 * the most frequent ones: the same lines on every runtime, so edgebench
 * checks each run by a hash of its stdout.
 *
 *   wordfreq <words>
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TABLE_BITS 16
#define TABLE_SIZE (1u << TABLE_BITS)
#define MAX_WORD 24

struct entry {
    char word[MAX_WORD];
    uint32_t count;
};

static uint64_t state = 0x9e3779b97f4a7c15u;

static uint32_t next_random(void) {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return (uint32_t)(state >> 32);
}

/* A word of 1 to 4 syllables; a skewed draw makes some words common. */
static void next_word(char *out) {
    static const char *syllables[] = {"ka", "lo", "mi", "ne", "ru", "sa", "to", "vi", "ze", "po", "da", "fu"};
    int n = 1 + (int)(next_random() % 4);
    out[0] = '\0';
    for (int i = 0; i < n; i++) {
        uint32_t r = next_random() % 144;
        strcat(out, syllables[(r * r) / (144 * 12)]);
    }
}

static uint32_t hash(const char *s) {
    uint32_t h = 2166136261u;
    for (; *s; s++) h = (h ^ (uint8_t)*s) * 16777619u;
    return h;
}

static int by_count(const void *a, const void *b) {
    const struct entry *x = a, *y = b;
    if (x->count != y->count) return x->count < y->count ? 1 : -1;
    return strcmp(x->word, y->word);
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: wordfreq <words>\n");
        return 2;
    }
    long words = strtol(argv[1], NULL, 10);
    if (words <= 0) {
        fprintf(stderr, "wordfreq: <words> must be a positive number, not `%s`\n", argv[1]);
        return 2;
    }
    struct entry *table = calloc(TABLE_SIZE, sizeof *table);
    if (!table) return 1;
    uint32_t distinct = 0;
    char word[MAX_WORD];
    for (long i = 0; i < words; i++) {
        next_word(word);
        uint32_t slot = hash(word) & (TABLE_SIZE - 1);
        while (table[slot].count && strcmp(table[slot].word, word) != 0) slot = (slot + 1) & (TABLE_SIZE - 1);
        if (!table[slot].count) {
            strcpy(table[slot].word, word);
            distinct++;
        }
        table[slot].count++;
    }
    qsort(table, TABLE_SIZE, sizeof *table, by_count);
    printf("words: %ld\ndistinct: %u\n", words, distinct);
    for (int i = 0; i < 5 && table[i].count; i++) printf("%s %u\n", table[i].word, table[i].count);
    free(table);
    return 0;
}

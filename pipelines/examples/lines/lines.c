/* lines: an example workload that reads input files. It counts the lines,
 * words and bytes of every file named on its command line, and prints them
 * under the label its environment gives (LINES_LABEL): the same lines on
 * every runtime, so edgebench checks each run by a hash of its stdout.
 *
 *   LINES_LABEL=… lines <file>...
 *
 * Its pipeline ships the files with it (`inputs:`) and names them through
 * `{inputs}`, which each runtime fills with where it put them.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
    const char *label = getenv("LINES_LABEL");
    printf("%s\n", label ? label : "(no LINES_LABEL)");
    unsigned long total = 0;
    for (int i = 1; i < argc; i++) {
        FILE *f = fopen(argv[i], "rb");
        if (!f) {
            perror(argv[i]);
            return 1;
        }
        unsigned long lines = 0, words = 0, bytes = 0;
        int c, in_word = 0;
        while ((c = fgetc(f)) != EOF) {
            bytes++;
            if (c == '\n') lines++;
            if (isspace(c)) {
                in_word = 0;
            } else if (!in_word) {
                in_word = 1;
                words++;
            }
        }
        fclose(f);
        /* The file's name only: where the runtime put it differs. */
        const char *name = strrchr(argv[i], '/');
        printf("%s: %lu lines, %lu words, %lu bytes\n", name ? name + 1 : argv[i], lines, words, bytes);
        total += bytes;
    }
    printf("total: %lu bytes\n", total);
    return 0;
}

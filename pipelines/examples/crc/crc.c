/* crc: an example workload built by a command of your own (here `make`,
 * see the Makefile). It fills a buffer of N KiB from a generator and
 * prints its CRC-32, computed bytewise from a table.
 *
 *   crc <kib>
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
    if (argc != 2 || atol(argv[1]) <= 0) {
        fprintf(stderr, "usage: crc <kib>\n");
        return 2;
    }
    size_t size = (size_t)atol(argv[1]) * 1024;
    uint8_t *data = malloc(size);
    if (!data) return 1;
    uint32_t x = 2463534242u;
    for (size_t i = 0; i < size; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        data[i] = (uint8_t)x;
    }
    uint32_t table[256];
    for (uint32_t n = 0; n < 256; n++) {
        uint32_t c = n;
        for (int k = 0; k < 8; k++) c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
        table[n] = c;
    }
    uint32_t crc = 0xffffffffu;
    for (size_t i = 0; i < size; i++) crc = table[(crc ^ data[i]) & 0xff] ^ (crc >> 8);
    printf("bytes: %zu\ncrc32: %08x\n", size, crc ^ 0xffffffffu);
    free(data);
    return 0;
}

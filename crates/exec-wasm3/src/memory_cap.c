// wasm3 has no public call to cap a memory's growth (its `memoryLimit`
// truncates the allocation instead, leaving a memory larger than what backs
// it). Lowering the runtime's page maximum makes `memory.grow` past the cap
// return -1, as the other engines' limiters do.
#include "m3_env.h"

void edgebench_wasm3_cap_memory(IM3Runtime runtime, uint32_t max_pages)
{
    if (runtime->memory.maxPages > max_pages)
        runtime->memory.maxPages = max_pages;
}

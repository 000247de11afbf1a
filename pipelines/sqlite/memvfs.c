/*
** The operating-system layer of edgebench's SQLite build (SQLITE_OS_OTHER).
**
** SQLite's own layers for Unix and Windows need file locks, mmap and
** dlopen, which WASI does not offer; this one offers what an in-memory
** database needs and nothing else, and every flavour (native and Wasm)
** is built with it, so that all runtimes run the same SQLite:
**   - no files: opening one fails, so only `:memory:` databases and
**     in-memory temporary storage (SQLITE_TEMP_STORE=3) work;
**   - randomness is a fixed stream, so a run's results (and speedtest1's
**     verification hash) are the same on every runtime and every run;
**   - the clock is the C library's (speedtest1 times its steps with it).
*/
#include <string.h>
#include <time.h>

#include "sqlite3.h"

/* Julian day number of the Unix epoch, in milliseconds. */
#define UNIX_EPOCH_JD_MS ((sqlite3_int64)210866760000000)

static int memvfsOpen(sqlite3_vfs *vfs, const char *name, sqlite3_file *file, int flags, int *out_flags) {
    (void)vfs;
    (void)name;
    (void)flags;
    (void)out_flags;
    file->pMethods = 0;
    return SQLITE_CANTOPEN;
}

static int memvfsDelete(sqlite3_vfs *vfs, const char *name, int sync_dir) {
    (void)vfs;
    (void)name;
    (void)sync_dir;
    return SQLITE_IOERR_DELETE_NOENT;
}

static int memvfsAccess(sqlite3_vfs *vfs, const char *name, int flags, int *result) {
    (void)vfs;
    (void)name;
    (void)flags;
    *result = 0;
    return SQLITE_OK;
}

static int memvfsFullPathname(sqlite3_vfs *vfs, const char *name, int n, char *out) {
    (void)vfs;
    sqlite3_snprintf(n, out, "%s", name);
    return SQLITE_OK;
}

/* A fixed stream (xorshift32 from a constant seed): SQLite seeds its PRNG
** from it, so random() and randomblob() repeat from run to run. */
static int memvfsRandomness(sqlite3_vfs *vfs, int n, char *out) {
    unsigned int x = 0x2545f491u;
    (void)vfs;
    for (int i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        out[i] = (char)(x & 0xff);
    }
    return n;
}

/* Nothing waits on a lock here: no file is ever shared. */
static int memvfsSleep(sqlite3_vfs *vfs, int microseconds) {
    (void)vfs;
    return microseconds;
}

static int memvfsCurrentTimeInt64(sqlite3_vfs *vfs, sqlite3_int64 *now) {
    struct timespec ts;
    (void)vfs;
    if (clock_gettime(CLOCK_REALTIME, &ts) != 0) {
        return SQLITE_ERROR;
    }
    *now = UNIX_EPOCH_JD_MS + (sqlite3_int64)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    return SQLITE_OK;
}

static int memvfsCurrentTime(sqlite3_vfs *vfs, double *now) {
    sqlite3_int64 ms = 0;
    int rc = memvfsCurrentTimeInt64(vfs, &ms);
    *now = (double)ms / 86400000.0;
    return rc;
}

static int memvfsGetLastError(sqlite3_vfs *vfs, int n, char *out) {
    (void)vfs;
    if (n > 0) {
        out[0] = 0;
    }
    return 0;
}

static sqlite3_vfs memvfs = {
    2,                      /* iVersion */
    sizeof(sqlite3_file),   /* szOsFile: opening fails, so no more is kept */
    512,                    /* mxPathname */
    0,                      /* pNext */
    "edgebench-memory",     /* zName */
    0,                      /* pAppData */
    memvfsOpen,
    memvfsDelete,
    memvfsAccess,
    memvfsFullPathname,
    0, 0, 0, 0,             /* no loadable extensions */
    memvfsRandomness,
    memvfsSleep,
    memvfsCurrentTime,
    memvfsGetLastError,
    memvfsCurrentTimeInt64,
    0, 0, 0,                /* no system calls to override */
};

int sqlite3_os_init(void) {
    return sqlite3_vfs_register(&memvfs, 1);
}

int sqlite3_os_end(void) {
    return SQLITE_OK;
}

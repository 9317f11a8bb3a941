/*
 * fileio.c - whole-file reads and durable whole-file writes (see fileio.h).
 *
 * Kept apart from the ledger store because keys, requests and checkpoints are
 * plain files: their durability comes from fsync + rename, not from LMDB.
 */
#include "fileio.h"
#include "err.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Maps a write-side errno to the error class of SPEC §5. `fmt` is a whole
 * translated sentence with two %s: the path and the system's reason. */
static int write_error(const char *fmt, const char *path, int e)
{
    int code = (e == ENOSPC || e == EDQUOT) ? IVL_E_NOSPACE : IVL_E_IO;
    return ivl_fail(code, fmt, path, strerror(e));
}

static int write_all(int fd, const char *path, const void *data, size_t len)
{
    const unsigned char *p = data;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return write_error(_("cannot write %s: %s"), path, errno);
        if (n == 0) return ivl_fail(IVL_E_IO, _("cannot write %s: write returned 0"), path);
        p += n;
        len -= (size_t)n;
    }
    return IVL_OK;
}

/* Writes, fsyncs and closes an fd we just created; unlinks the file on any
 * failure so that no partial file is left behind. */
static int fill_and_close(int fd, const char *path, const void *data, size_t len)
{
    int rc = write_all(fd, path, data, len);
    if (rc == IVL_OK && fsync(fd) != 0) rc = write_error(_("cannot fsync %s: %s"), path, errno);
    if (close(fd) != 0 && rc == IVL_OK) rc = write_error(_("cannot close %s: %s"), path, errno);
    if (rc != IVL_OK) unlink(path);
    return rc;
}

static int create_excl(const char *path, unsigned mode, int *fd)
{
    *fd = open(path, O_CREAT | O_EXCL | O_NOFOLLOW | O_WRONLY | O_CLOEXEC, (mode_t)mode);
    if (*fd >= 0) return IVL_OK;
    if (errno == EEXIST) return ivl_fail(IVL_E_EXISTS, _("%s already exists"), path);
    return write_error(_("cannot create %s: %s"), path, errno);
}

/* Creates PATH.tmp-PID-N with O_EXCL; a stale name left by a crash is simply
 * skipped, so no randomness is needed for uniqueness. */
static int create_temp(const char *path, unsigned mode, char **tmp, int *fd)
{
    static atomic_uint counter;
    size_t cap = strlen(path) + 48;
    *tmp = malloc(cap);
    if (!*tmp) return ivl_fail(IVL_E_NOMEM, _("out of memory writing %s"), path);
    for (int tries = 0; tries < 1000; tries++) {
        unsigned n = atomic_fetch_add(&counter, 1);
        snprintf(*tmp, cap, "%s.tmp-%ld-%u", path, (long)getpid(), n);
        *fd = open(*tmp, O_CREAT | O_EXCL | O_NOFOLLOW | O_WRONLY | O_CLOEXEC, (mode_t)mode);
        if (*fd >= 0) return IVL_OK;
        if (errno != EEXIST) break;
    }
    int rc = write_error(_("cannot create a temporary file for %s: %s"), path, errno);
    free(*tmp);
    *tmp = NULL;
    return rc;
}

static int write_replace(const char *path, const void *data, size_t len, unsigned mode)
{
    char *tmp;
    int fd = -1;
    int rc = create_temp(path, mode, &tmp, &fd);
    if (rc != IVL_OK) return rc;
    rc = fill_and_close(fd, tmp, data, len);
    if (rc == IVL_OK && rename(tmp, path) != 0) {
        rc = write_error(_("cannot replace %s: %s"), path, errno);
        unlink(tmp);
    }
    free(tmp);
    return rc;
}

int ivl_file_write(const char *path, const void *data, size_t len, unsigned mode, int force)
{
    int rc;
    if (force) {
        rc = write_replace(path, data, len, mode);
    } else {
        int fd;
        rc = create_excl(path, mode, &fd);
        if (rc == IVL_OK) rc = fill_and_close(fd, path, data, len);
    }
    if (rc != IVL_OK) return rc;
    return ivl_dir_sync_parent(path);
}

int ivl_dir_sync(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return ivl_fail(IVL_E_IO, _("cannot open directory %s: %s"), dir, strerror(errno));
    int rc = IVL_OK;
    if (fsync(fd) != 0 && errno != EINVAL)
        rc = ivl_fail(IVL_E_IO, _("cannot fsync directory %s: %s"), dir, strerror(errno));
    close(fd);
    return rc;
}

int ivl_dir_sync_parent(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash) return ivl_dir_sync(".");
    if (slash == path) return ivl_dir_sync("/");
    size_t n = (size_t)(slash - path);
    char *dir = malloc(n + 1);
    if (!dir) return ivl_fail(IVL_E_NOMEM, _("out of memory syncing %s"), path);
    memcpy(dir, path, n);
    dir[n] = 0;
    int rc = ivl_dir_sync(dir);
    free(dir);
    return rc;
}

/* O_NONBLOCK so that opening a FIFO does not hang before fstat refuses it. */
static int open_regular(const char *path, size_t max, int *fd, size_t *size)
{
    struct stat st;
    *fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (*fd < 0) return ivl_fail(IVL_E_IO, _("cannot open %s: %s"), path, strerror(errno));
    int rc = IVL_OK;
    if (fstat(*fd, &st) != 0)
        rc = ivl_fail(IVL_E_IO, _("cannot stat %s: %s"), path, strerror(errno));
    else if (!S_ISREG(st.st_mode))
        rc = ivl_fail(IVL_E_INPUT, _("%s is not a regular file"), path);
    else if ((unsigned long long)st.st_size > max)
        rc = ivl_fail(IVL_E_TOO_LARGE, _("%s is %lld bytes; the limit is %zu"), path,
                      (long long)st.st_size, max);
    if (rc != IVL_OK) close(*fd);
    *size = rc == IVL_OK ? (size_t)st.st_size : 0;
    return rc;
}

/* Reads to EOF, growing the buffer: the file may change size after fstat,
 * and the limit must hold for what is actually read. */
static int read_all(int fd, const char *path, size_t max, char **buf, size_t cap, size_t *len)
{
    size_t n = 0;
    for (;;) {
        if (n == cap) {
            if (cap > max) return ivl_fail(IVL_E_TOO_LARGE, _("%s exceeds %zu bytes"), path, max);
            size_t ncap = cap * 2 > max + 1 ? max + 1 : cap * 2;
            char *nb = realloc(*buf, ncap + 1);
            if (!nb) return ivl_fail(IVL_E_NOMEM, _("out of memory reading %s"), path);
            *buf = nb;
            cap = ncap;
        }
        ssize_t r = read(fd, *buf + n, cap - n);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) return ivl_fail(IVL_E_IO, _("cannot read %s: %s"), path, strerror(errno));
        if (r == 0) break;
        n += (size_t)r;
    }
    if (n > max) return ivl_fail(IVL_E_TOO_LARGE, _("%s exceeds %zu bytes"), path, max);
    (*buf)[n] = 0;
    *len = n;
    return IVL_OK;
}

int ivl_file_read(const char *path, size_t max, char **out, size_t *len)
{
    int fd = -1;
    size_t size = 0;
    *out = NULL;
    *len = 0;
    if (max > SIZE_MAX / 4) max = SIZE_MAX / 4; /* keeps cap * 2 and max + 1 from wrapping */
    int rc = open_regular(path, max, &fd, &size);
    if (rc != IVL_OK) return rc;
    size_t cap = size < 64 ? 64 : size + 1; /* +1 sees growth without a realloc */
    char *buf = malloc(cap + 1);
    if (!buf) {
        close(fd);
        return ivl_fail(IVL_E_NOMEM, _("out of memory reading %s"), path);
    }
    rc = read_all(fd, path, max, &buf, cap, len);
    close(fd);
    if (rc != IVL_OK) {
        free(buf);
        *len = 0;
        return rc;
    }
    *out = buf;
    return IVL_OK;
}

/*
 * failio.c - an LD_PRELOAD shim that makes the Nth write or sync call of a
 * process fail (or kill/stop the process right there), to provoke storage
 * faults in a real `ivl` run: a failed fsync, a disk error on the meta page
 * write, a power cut between the data pages and the meta page.
 *
 * Build: cc -shared -fPIC -O2 -o failio.so failio.c -ldl   (see faults.mk)
 * Use:   LD_PRELOAD=/path/failio.so IVL_FAULT_N=3 ivl issue ...
 *
 * Environment:
 *   IVL_FAULT_CALLS   comma list of the calls that count (default
 *                     "write,pwrite,writev,pwritev,fsync,fdatasync,msync,sync_file_range")
 *   IVL_FAULT_FDMIN   write-class calls count only on fds >= this (default 3,
 *                     so messages on stdout/stderr neither count nor fail)
 *   IVL_FAULT_N       the 1-based number of the counted call to act on;
 *                     unset or 0: never act, only count and log
 *   IVL_FAULT_ERRNO   EIO (default), ENOSPC, EDQUOT, EROFS or a number
 *   IVL_FAULT_STICKY  1: every counted call after the Nth fails too (a disk
 *                     that died stays dead)
 *   IVL_FAULT_ACTION  fail (default): return -1 with the errno, doing nothing;
 *                     short: (writes only) write half the bytes, then fail
 *                     the rest of the calls as with STICKY (a torn write);
 *                     kill: raise SIGKILL before doing the call (a crash at
 *                     exactly that point); stop: raise SIGSTOP before doing
 *                     the call, then go on when continued
 *   (the pseudo-call "stdio" counts printf, vprintf, puts, and fprintf,
 *   vfprintf, fputs, fwrite on any stream but stderr: glibc's own stdio
 *   writes bypass the write() symbol, so this is how a crash between a
 *   commit and the printed acknowledgement, or in the middle of `ivl log`
 *   or `ivl export`, is made)
 *   IVL_FAULT_LOG     append one line per counted call ("N name fd") and one
 *                     line "acted N name" when acting, to this file
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

enum action { ACT_FAIL, ACT_SHORT, ACT_KILL, ACT_STOP };

static int inited;
static char calls[256] = "write,pwrite,writev,pwritev,fsync,fdatasync,msync,sync_file_range";
static int fdmin = 3;
static long target;
static int fail_errno = EIO;
static int sticky;
static enum action action = ACT_FAIL;
static const char *logpath;
static long counter;
static int dead; /* after a sticky failure or a torn write */

static ssize_t (*real_write)(int, const void *, size_t);
static ssize_t (*real_pwrite)(int, const void *, size_t, off_t);
static ssize_t (*real_pwrite64)(int, const void *, size_t, off_t);
static ssize_t (*real_writev)(int, const struct iovec *, int);
static ssize_t (*real_pwritev)(int, const struct iovec *, int, off_t);
static int (*real_fsync)(int);
static int (*real_fdatasync)(int);
static int (*real_msync)(void *, size_t, int);
static int (*real_sync_file_range)(int, off_t, off_t, unsigned int);

static void init(void)
{
    if (inited) return;
    inited = 1;
    real_write = dlsym(RTLD_NEXT, "write");
    real_pwrite = dlsym(RTLD_NEXT, "pwrite");
    real_pwrite64 = dlsym(RTLD_NEXT, "pwrite64");
    real_writev = dlsym(RTLD_NEXT, "writev");
    real_pwritev = dlsym(RTLD_NEXT, "pwritev");
    real_fsync = dlsym(RTLD_NEXT, "fsync");
    real_fdatasync = dlsym(RTLD_NEXT, "fdatasync");
    real_msync = dlsym(RTLD_NEXT, "msync");
    real_sync_file_range = dlsym(RTLD_NEXT, "sync_file_range");
    const char *v;
    if ((v = getenv("IVL_FAULT_CALLS")) && *v) snprintf(calls, sizeof calls, "%s", v);
    if ((v = getenv("IVL_FAULT_FDMIN")) && *v) fdmin = atoi(v);
    if ((v = getenv("IVL_FAULT_N")) && *v) target = atol(v);
    if ((v = getenv("IVL_FAULT_STICKY")) && *v) sticky = atoi(v);
    if ((v = getenv("IVL_FAULT_ERRNO")) && *v) {
        if (!strcmp(v, "EIO")) fail_errno = EIO;
        else if (!strcmp(v, "ENOSPC")) fail_errno = ENOSPC;
        else if (!strcmp(v, "EDQUOT")) fail_errno = EDQUOT;
        else if (!strcmp(v, "EROFS")) fail_errno = EROFS;
        else fail_errno = atoi(v);
    }
    if ((v = getenv("IVL_FAULT_ACTION")) && *v) {
        if (!strcmp(v, "short")) action = ACT_SHORT;
        else if (!strcmp(v, "kill")) action = ACT_KILL;
        else if (!strcmp(v, "stop")) action = ACT_STOP;
        else action = ACT_FAIL;
    }
    logpath = getenv("IVL_FAULT_LOG");
    if (logpath && !*logpath) logpath = NULL;
}

/* Whether NAME is in the comma list `calls`. */
static int counted(const char *name)
{
    size_t n = strlen(name);
    for (const char *p = calls; *p;) {
        size_t len = strcspn(p, ",");
        if (len == n && !strncmp(p, name, n)) return 1;
        p += len;
        if (*p == ',') p++;
    }
    return 0;
}

static void logline(const char *fmt, long a, const char *name, int fd)
{
    if (!logpath) return;
    char buf[160];
    int n = snprintf(buf, sizeof buf, fmt, a, name, fd);
    int lfd = open(logpath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (lfd < 0) return;
    if (real_write(lfd, buf, (size_t)n) < 0) {
    }
    close(lfd);
}

/* What to do with this call: 0 go on, 1 fail it, 2 tear it (write half). */
static int decide(const char *name, int fd, int is_write)
{
    init();
    if (is_write && fd < fdmin) return 0;
    if (!counted(name)) return 0;
    long n = ++counter;
    logline("%ld %s %d\n", n, name, fd);
    if (dead) return 1;
    if (target <= 0 || n < target) return 0;
    if (n > target) return sticky ? 1 : 0;
    logline("acted %ld %s %d\n", n, name, fd);
    switch (action) {
    case ACT_KILL:
        raise(SIGKILL);
        return 0;
    case ACT_STOP:
        raise(SIGSTOP);
        return 0;
    case ACT_SHORT:
        dead = 1;
        return is_write ? 2 : 1;
    default:
        if (sticky) dead = 1;
        return 1;
    }
}

#define FAIL()                                                                                     \
    do {                                                                                           \
        errno = fail_errno;                                                                        \
        return -1;                                                                                 \
    } while (0)

ssize_t write(int fd, const void *b, size_t n)
{
    int d = decide("write", fd, 1);
    if (d == 1) FAIL();
    if (d == 2 && n > 1) return real_write(fd, b, n / 2);
    return real_write(fd, b, n);
}

ssize_t pwrite(int fd, const void *b, size_t n, off_t off)
{
    int d = decide("pwrite", fd, 1);
    if (d == 1) FAIL();
    if (d == 2 && n > 1) return real_pwrite(fd, b, n / 2, off);
    return real_pwrite(fd, b, n, off);
}

ssize_t pwrite64(int fd, const void *b, size_t n, off_t off)
{
    int d = decide("pwrite", fd, 1);
    if (d == 1) FAIL();
    if (d == 2 && n > 1) return real_pwrite64(fd, b, n / 2, off);
    return real_pwrite64(fd, b, n, off);
}

/* A torn writev writes the first half of the first buffer only. */
ssize_t writev(int fd, const struct iovec *iov, int cnt)
{
    int d = decide("writev", fd, 1);
    if (d == 1) FAIL();
    if (d == 2 && cnt > 0) return real_write(fd, iov[0].iov_base, iov[0].iov_len / 2);
    return real_writev(fd, iov, cnt);
}

ssize_t pwritev(int fd, const struct iovec *iov, int cnt, off_t off)
{
    int d = decide("pwritev", fd, 1);
    if (d == 1) FAIL();
    if (d == 2 && cnt > 0) return real_pwrite(fd, iov[0].iov_base, iov[0].iov_len / 2, off);
    return real_pwritev(fd, iov, cnt, off);
}

int fsync(int fd)
{
    if (decide("fsync", fd, 0)) FAIL();
    return real_fsync(fd);
}

int fdatasync(int fd)
{
    if (decide("fdatasync", fd, 0)) FAIL();
    return real_fdatasync(fd);
}

int msync(void *addr, size_t len, int flags)
{
    if (decide("msync", -1, 0)) FAIL();
    return real_msync(addr, len, flags);
}

int sync_file_range(int fd, off_t off, off_t n, unsigned int flags)
{
    if (decide("sync_file_range", fd, 0)) FAIL();
    return real_sync_file_range(fd, off, n, flags);
}

/* ---- stdout through stdio (the printed acknowledgement) ---- */

#include <stdarg.h>

int vprintf(const char *fmt, va_list ap)
{
    static int (*real)(FILE *, const char *, va_list);
    if (!real) real = dlsym(RTLD_NEXT, "vfprintf");
    if (decide("stdio", 1, 0)) FAIL();
    return real(stdout, fmt, ap);
}

int printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vprintf(fmt, ap);
    va_end(ap);
    return n;
}

int puts(const char *str)
{
    static int (*real)(const char *);
    if (!real) real = dlsym(RTLD_NEXT, "puts");
    if (decide("stdio", 1, 0)) return EOF;
    return real(str);
}

int vfprintf(FILE *f, const char *fmt, va_list ap)
{
    static int (*real)(FILE *, const char *, va_list);
    if (!real) real = dlsym(RTLD_NEXT, "vfprintf");
    if (f != stderr && decide("stdio", 1, 0)) FAIL();
    return real(f, fmt, ap);
}

int fprintf(FILE *f, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vfprintf(f, fmt, ap);
    va_end(ap);
    return n;
}

int fputs(const char *str, FILE *f)
{
    static int (*real)(const char *, FILE *);
    if (!real) real = dlsym(RTLD_NEXT, "fputs");
    if (f != stderr && decide("stdio", 1, 0)) return EOF;
    return real(str, f);
}

size_t fwrite(const void *p, size_t size, size_t n, FILE *f)
{
    static size_t (*real)(const void *, size_t, size_t, FILE *);
    if (!real) real = dlsym(RTLD_NEXT, "fwrite");
    if (f != stderr && decide("stdio", 1, 0)) return 0;
    return real(p, size, n, f);
}

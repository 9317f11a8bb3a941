/*
 * fileio.h - whole-file reads and durable whole-file writes.
 *
 * Every file ivl writes outside LMDB (secret and public keys, request files,
 * checkpoints, proofs) goes through ivl_file_write so that it is never
 * overwritten by accident and is on disk when the call returns: O_EXCL
 * creation, or with `force` write-temp -> fsync -> rename -> fsync the
 * directory (the redis/minisign recipe). Reads are bounded so that a hostile
 * or mistaken path (a huge file, a directory, a FIFO) cannot exhaust memory
 * or block.
 *
 * Caveats: the temporary file used by a forced write is PATH.tmp-PID-N in the
 * same directory (rename is only atomic within one file system); a crash
 * between its creation and the rename can leave it behind.
 */
#ifndef IVL_FILEIO_H
#define IVL_FILEIO_H

#include <stddef.h>

/* Durably writes a whole file of `len` bytes with permission `mode` (masked by
 * the umask). Without force the file is created with O_CREAT|O_EXCL|O_NOFOLLOW
 * and an existing file or symlink at `path` gives IVL_E_EXISTS; with force a
 * temporary file in the same directory is written, fsynced and renamed over
 * `path` (replacing a symlink, never following it). The file and its
 * directory are fsynced. Errors: IVL_E_EXISTS, IVL_E_NOSPACE (ENOSPC,
 * EDQUOT), IVL_E_IO; the detail names the path and strerror. On error no
 * partial file is left at `path`. */
int ivl_file_write(const char *path, const void *data, size_t len, unsigned mode, int force);

/* Reads a whole regular file of at most `max` bytes into *out (malloc'd, with
 * a NUL after the data; free() it) and sets *len. Errors: IVL_E_IO (missing or
 * unreadable, with the path), IVL_E_INPUT (not a regular file: directory,
 * FIFO, device), IVL_E_TOO_LARGE (more than `max` bytes), IVL_E_NOMEM. On
 * error *out is NULL. */
int ivl_file_read(const char *path, size_t max, char **out, size_t *len);

/* fsyncs a directory so that a create or rename in it is durable. Errors:
 * IVL_E_IO. File systems that cannot fsync a directory (EINVAL) are accepted. */
int ivl_dir_sync(const char *dir);

/* fsyncs the directory that contains `path` ("." for a bare file name).
 * Errors: IVL_E_IO, IVL_E_NOMEM. */
int ivl_dir_sync_parent(const char *path);

#endif

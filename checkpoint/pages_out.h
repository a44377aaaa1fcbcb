/* Writing pages-<pid>.img with its sum computed on the way (checkpoint/pages_out.c). */
#ifndef WARD_CHECKPOINT_PAGES_OUT_H
#define WARD_CHECKPOINT_PAGES_OUT_H

#include <stddef.h>

#include "checkpoint/sum.h"
#include "lib/err.h"

struct ck_pages_out;

/* Create dirfd/name for ck_pages_out_new (opened buffered; the writer may turn to O_DIRECT). -1
 * and errno on failure. */
int ck_pages_open(int dirfd, const char *name);
/* Start writing to fd (a writer thread); buffers are 4096-aligned and written in multiples of
 * 4096 bytes but for the last, as O_DIRECT needs: through the page cache until that is found
 * slow, then O_DIRECT. */
struct ck_pages_out *ck_pages_out_new(int fd, struct werr **err);
/* The next buffer to fill (waits until it is written out), *size bytes long. */
char *ck_pages_out_buf(struct ck_pages_out *o, size_t *size);
/* Hash the first n bytes of that buffer and queue them; < 0 (-errno) once a write failed. */
int ck_pages_out_commit(struct ck_pages_out *o, size_t n);
/* Wait for every write, free o; sum (if not NULL) gets the file's sum in hex. -errno of a
 * failed write, else 0. */
int ck_pages_out_finish(struct ck_pages_out *o, char sum[CK_SUM_HEX + 1]);

#endif

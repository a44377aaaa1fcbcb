/* Reading a pages file in order, a reader thread one chunk ahead (checkpoint/pages_in.c). */
#ifndef WARD_CHECKPOINT_PAGES_IN_H
#define WARD_CHECKPOINT_PAGES_IN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ck_pages_in;

/* Start reading total bytes of fd from offset 0: chunks in the page cache from a mapping (no
 * copy), the others by read (O_DIRECT or not, as fd was opened). */
struct ck_pages_in *ck_pages_in_new(int fd, uint64_t total);
/* The next chunk (waits for it): *n bytes at the returned buffer, valid until the next call.
 * NULL at the end (*n = 0) or on a failed read (errno set, *n = 1). */
const char *ck_pages_in_next(struct ck_pages_in *in, size_t *n);
/* The chunk last handed out is in a buffer the next call reuses (else it stays valid, in a
 * mapping, until ck_pages_in_free). */
bool ck_pages_in_held(const struct ck_pages_in *in);
/* Stop the reader (at any point) and free in. */
void ck_pages_in_free(struct ck_pages_in *in);

#endif

/* The checksum of an image's files (format 2): XXH3's 128-bit hash (libxxhash), as 32 lowercase
 * hex digits of its canonical (big-endian) form, what `xxhsum -H2` prints. It detects
 * corruption, not tampering (the sums sit unsigned beside the files), at several GB/s: sha256,
 * used by format 1, cost more than the copy of the pages it covered. */
#ifndef WARD_CHECKPOINT_SUM_H
#define WARD_CHECKPOINT_SUM_H

#include <stddef.h>

#include "lib/err.h"

#define CK_SUM_NAME "xxh128"
#define CK_SUM_HEX 32 /* hex digits; buffers are CK_SUM_HEX + 1 */

struct ck_sum;

/* A fresh running sum (aborts on out of memory, like xmalloc). */
struct ck_sum *ck_sum_new(void);
void ck_sum_update(struct ck_sum *s, const void *buf, size_t n);
/* The sum in hex into out; s is freed. */
void ck_sum_final(struct ck_sum *s, char out[CK_SUM_HEX + 1]);
void ck_sum_free(struct ck_sum *s);
/* The sum of n bytes at buf. */
void ck_sum_buf(const void *buf, size_t n, char out[CK_SUM_HEX + 1]);
/* The sum of dirfd/name, read through a mapping. */
int ck_sum_file(int dirfd, const char *name, char out[CK_SUM_HEX + 1], struct werr **err);

#endif

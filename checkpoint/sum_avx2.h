/* XXH3-128 built for AVX2 (checkpoint/sum_avx2.c), for sum.c. */
#ifndef WARD_CHECKPOINT_SUM_AVX2_H
#define WARD_CHECKPOINT_SUM_AVX2_H

#include <stdbool.h>
#include <stddef.h>

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define CK_SUM_AVX2 1
/* The CPU (and kernel) run AVX2: the functions below may be called. */
bool ck_sum_avx2(void);
/* A running XXH3-128 (aborts on out of memory), fed, then its canonical 16 bytes (freed). */
void *ck_sum_avx2_new(void);
void ck_sum_avx2_update(void *st, const void *buf, size_t n);
void ck_sum_avx2_final(void *st, unsigned char out[16]);
#else
#define CK_SUM_AVX2 0
#endif

#endif

/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The sub-ID arithmetic of the November 2023 rmap_id design ("mm: precise
 * 'mapped shared' vs. 'mapped exclusively' detection for PTE-mapped THP /
 * partially-mappable folios", D. Hildenbrand, WIP v1, patches 07 and 11).
 *
 * Every MM has an rmap id below 2^24.  A large folio of P pages keeps
 * nr_values 64-bit "rmap values"; value X of an MM is the sub-ID of the
 * id's X-th chunk of @bits bits, where the sub-ID of a chunk i is the sum
 * of (P+1)^b over the bits b set in i: the chunk's bits as digits 0/1 in
 * base P+1.  Mapping a page adds the MM's sub-IDs, unmapping subtracts
 * them.  With at most P mappings no base-(P+1) digit carries, so a value
 * equals k times an MM's sub-ID, k the mapcount, only if every one of the
 * k mappings is that MM's in that chunk; all chunks agreeing means the MM
 * maps the folio alone.  The largest value is P times the largest sub-ID,
 * (P+1)^bits - 1, which must fit in a (signed) long.
 */
#ifndef FT_RMAP_ID_SUBID_H
#define FT_RMAP_ID_SUBID_H

#include "ft/kernel.h"

#define RMAP_ID_DUMMY		0
#define RMAP_ID_MIN		1
#define RMAP_ID_MAX		(16 * 1024 * 1024 - 1)
#define RMAP_ID_BITS		24
#define RMAP_MAX_VALUES		6

/*
 * An MM's rmap id, from its mm id.  The posting's IDA hands out small ids,
 * whose chunks above the lowest are all zero; an odd multiplier (a
 * bijection modulo 2^24 that maps no id to 0) spreads them over the 24
 * bits, so every value and every digit is exercised.  Any distinct ids
 * would do.
 */
#define RMAP_ID_SPREAD		0x9e3779U

static inline u32 rmap_id_of(u32 mm_id)
{
	return (mm_id * RMAP_ID_SPREAD) & RMAP_ID_MAX;
}

/* How a folio order keeps its values (patch 11's groups). */
struct rmap_id_layout {
	int nr_values;
	unsigned int bits;		/* of the id per value */
	unsigned long p;		/* the pages of the group's largest order */
};

/* 0, or -EINVAL for an order the model does not implement (the reason
 * in @why). */
int rmap_id_layout(unsigned int order, struct rmap_id_layout *l, const char **why);
/* The sub-ID of chunk @i: the bits of @i as digits in base @p + 1. */
u64 rmap_subid(unsigned long p, unsigned int i);
/* Value @x's sub-ID of rmap id @id. */
u64 rmap_id_subid(const struct rmap_id_layout *l, u32 id, int x);

#endif /* FT_RMAP_ID_SUBID_H */

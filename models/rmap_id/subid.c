// SPDX-License-Identifier: GPL-2.0-only
/*
 * The sub-ID arithmetic of the rmap_id design (subid.h).  The posting's
 * groups: order 2 one value (24 bits, P 4), orders 3-5 two (12 bits, P
 * 32), 6-9 three (8 bits, P 512), 10 four, 11-12 five, 13-15 six.  The
 * model implements the first two groups: the third's largest value,
 * 513^8 - 1, needs 73 bits (the posting's comment counts 128 sub-IDs, 7
 * bits, where its code takes 8), and orders 0 and 1 have no values.
 */
#include <errno.h>

#include "subid.h"

static const struct {
	unsigned int min_order, max_order;
	struct rmap_id_layout l;
} groups[] = {
	{ 2, 2, { 1, 24, 4 } },
	{ 3, 5, { 2, 12, 32 } },
};

int rmap_id_layout(unsigned int order, struct rmap_id_layout *l, const char **why)
{
	for (size_t i = 0; i < ARRAY_SIZE(groups); i++) {
		if (order >= groups[i].min_order && order <= groups[i].max_order) {
			*l = groups[i].l;
			return 0;
		}
	}
	*why = order < 2 ? "orders 0 and 1 are not large-rmappable in the design" :
	       order <= 9 ? "the posted three-value layout (8-bit chunks in base 513) "
			    "overflows 64 bits" :
			    "beyond the model's largest order";
	return -EINVAL;
}

u64 rmap_subid(unsigned long p, unsigned int i)
{
	u64 subid = 0, digit = 1;

	for (; i; i >>= 1, digit *= p + 1)
		if (i & 1)
			subid += digit;
	return subid;
}

u64 rmap_id_subid(const struct rmap_id_layout *l, u32 id, int x)
{
	return rmap_subid(l->p, (id >> (x * l->bits)) & ((1U << l->bits) - 1));
}

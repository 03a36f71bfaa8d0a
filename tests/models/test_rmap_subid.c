// SPDX-License-Identifier: GPL-2.0-only
/*
 * test_rmap_subid: the rmap_id design's sub-ID arithmetic (models/rmap_id/
 * subid.h), checked rather than trusted, for every order the model
 * implements (2 to 5: P = 4 with 24-bit chunks, P = 32 with 12-bit ones).
 *
 *   overflow     the largest value, P times the largest sub-ID, fits in a
 *                signed long; the posted three-value layout (orders 6-9)
 *                would not, and the model refuses those orders
 *   exhaustive   up to a stated bound: for chunks below 2^6 (64 sub-IDs)
 *                and k = 1..min(P, 4) mappings, no multiset of k sub-IDs
 *                other than k copies of one sums to k times a sub-ID
 *   no carry     beyond it, sampled: for k up to P chunks from the whole
 *                range, half of them one chunk so that some bit's count
 *                nears P, the sum's base-(P+1) digits are the counts of
 *                each bit: the lemma that gives the claim for every k <= P
 *   exclusive    sampled: mappings by one to three MMs with random 24-bit
 *                ids; "every value equals k times m's sub-ID" holds
 *                exactly when m made all k mappings
 *
 * --narrow-base, the negative control: the digits in base P instead of
 * P + 1, where P mappings can carry; the exhaustive check (order 2, where
 * the bound reaches k = P) and the no-carry samples must then find a
 * counterexample.
 */
#include <errno.h>
#include <limits.h>

#include "ft_test.h"
#include "rmap_id/subid.h"

#define EXH_BITS	6
#define EXH_MAX_K	4
#define SAMPLES		200000

static const unsigned int orders[] = { 2, 5 };	/* one of each group */

static bool fits_long(unsigned long p, unsigned int bits)
{
	unsigned __int128 max = (unsigned __int128)p * rmap_subid(p, (1U << bits) - 1);

	return max <= LONG_MAX;
}

/* (P+1)^bits - 1 exactly, as the largest value of a layout would be. */
static bool layout_fits(unsigned long p, unsigned int bits)
{
	unsigned __int128 v = 1;

	for (unsigned int b = 0; b < bits; b++) {
		v *= p + 1;
		if (v > (unsigned __int128)LONG_MAX + 1)
			return false;
	}
	return v - 1 <= LONG_MAX;
}

/* ---- Exhaustive, within the bound --------------------------------------------- */

static u64 subids[1 << EXH_BITS];

static bool is_subid(u64 v)
{
	int lo = 0, hi = (1 << EXH_BITS) - 1;

	while (lo <= hi) {
		int mid = (lo + hi) / 2;

		if (subids[mid] == v)
			return true;
		if (subids[mid] < v)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return false;
}

/* Multisets of @k more indices from @from on; false on a counterexample. */
static bool multisets(int k, int from, int total_k, u64 sum, bool uniform, int first,
		      u64 *n)
{
	if (!k) {
		(*n)++;
		return uniform || sum % (u64)total_k || !is_subid(sum / (u64)total_k);
	}
	for (int i = from; i < (1 << EXH_BITS); i++)
		if (!multisets(k - 1, i, total_k, sum + subids[i],
			       uniform && (first < 0 || i == first), first < 0 ? i : first, n))
			return false;
	return true;
}

/* Sub-IDs with digits in base @base_p + 1, up to @p mappings. */
static bool exhaustive(unsigned long base_p, unsigned long p, u64 *n)
{
	int max_k = (int)(p < EXH_MAX_K ? p : EXH_MAX_K);

	for (int i = 0; i < (1 << EXH_BITS); i++)
		subids[i] = rmap_subid(base_p, (unsigned int)i);
	for (int i = 1; i < (1 << EXH_BITS); i++)
		if (subids[i] <= subids[i - 1])
			return false;		/* is_subid() needs them sorted */
	for (int k = 1; k <= max_k; k++)
		if (!multisets(k, 0, k, 0, true, -1, n))
			return false;
	return true;
}

/* ---- Sampled, beyond it --------------------------------------------------------- */

static bool no_carry(const struct rmap_id_layout *l, unsigned long p,
		     struct ft_random_state *rs)
{
	for (int s = 0; s < SAMPLES; s++) {
		int k = 1 + (int)ft_random_below(rs, p);
		unsigned int count[32] = { 0 };
		u64 sum = 0;

		unsigned int c0 = (unsigned int)ft_random_below(rs, 1ULL << l->bits);

		/* Half of them one chunk: its bits' counts reach k, up to P. */
		for (int j = 0; j < k; j++) {
			unsigned int c = ft_random_below(rs, 2) ? c0 :
					 (unsigned int)ft_random_below(rs, 1ULL << l->bits);

			sum += rmap_subid(l->p, c);
			for (unsigned int b = 0; b < l->bits; b++)
				count[b] += c >> b & 1;
		}
		for (unsigned int b = 0; b < l->bits; b++, sum /= l->p + 1)
			if (sum % (l->p + 1) != count[b])
				return false;
	}
	return true;
}

static u32 random_id(struct ft_random_state *rs)
{
	return RMAP_ID_MIN + (u32)ft_random_below(rs, RMAP_ID_MAX);
}

static bool exclusive(const struct rmap_id_layout *l, unsigned long p,
		      struct ft_random_state *rs)
{
	for (int s = 0; s < SAMPLES; s++) {
		u32 ids[3] = { random_id(rs), random_id(rs), random_id(rs) };
		int nr_mms = 1 + (int)ft_random_below(rs, 3);
		int k = 1 + (int)ft_random_below(rs, p), mine = 0;
		u64 val[RMAP_MAX_VALUES] = { 0 };
		bool equal = true;

		for (int j = 0; j < k; j++) {
			int m = (int)ft_random_below(rs, (u64)nr_mms);

			mine += ids[m] == ids[0];
			for (int x = 0; x < l->nr_values; x++)
				val[x] += rmap_id_subid(l, ids[m], x);
		}
		for (int x = 0; x < l->nr_values; x++)
			equal &= val[x] == (u64)k * rmap_id_subid(l, ids[0], x);
		if (equal != (mine == k))
			return false;
	}
	return true;
}

int main(int argc, char **argv)
{
	bool narrow = ft_test_flag(argc, argv, "--narrow-base");
	struct ft_random_state rs;
	struct ft_ktap k = { 0 };
	struct rmap_id_layout l;
	const char *why = NULL;
	bool refused = true;

	ft_random_init(&rs, 1, 0, 0, 0);
	ft_ktap_start(1 + 4 * (int)ARRAY_SIZE(orders));
	for (unsigned int o = 6; o <= 9; o++)
		refused &= rmap_id_layout(o, &l, &why) == -EINVAL;
	ft_ktap_result(&k, refused && !layout_fits(512, 8) && rmap_id_layout(1, &l, &why),
		       "orders 1 and 6-9 refused; 513^8 - 1 does not fit a long");
	for (size_t i = 0; i < ARRAY_SIZE(orders); i++) {
		unsigned long p;
		bool ok;
		u64 n = 0;

		if (rmap_id_layout(orders[i], &l, &why))
			return FT_EXIT_INVARIANT;
		p = l.p;
		l.p -= narrow;		/* the arithmetic's base, less one */
		ft_ktap_result(&k, fits_long(l.p, l.bits) && layout_fits(l.p, l.bits),
			       "order %u (P %lu, %u-bit chunks): the largest value fits a long",
			       orders[i], p, l.bits);
		ok = exhaustive(l.p, p, &n);
		ft_ktap_result(&k, ok, "order %u: chunks < 2^%d, k <= %lu: %llu multisets, none "
			       "but k copies of one sums to k times a sub-ID", orders[i],
			       EXH_BITS, p < EXH_MAX_K ? p : EXH_MAX_K, (unsigned long long)n);
		ft_ktap_result(&k, no_carry(&l, p, &rs),
			       "order %u: %d sums of up to %lu whole-range sub-IDs carry no digit",
			       orders[i], SAMPLES, p);
		ft_ktap_result(&k, exclusive(&l, p, &rs),
			       "order %u: %d samples: the values say exclusive iff one MM mapped",
			       orders[i], SAMPLES);
	}
	return ft_ktap_finish(&k);
}

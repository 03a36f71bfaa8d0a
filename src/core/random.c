// SPDX-License-Identifier: GPL-2.0-only
/*
 * Seeded random streams: splitmix64 to derive a stream's state from the
 * seed and the stream's coordinates, xoshiro256** (Blackman and Vigna) to
 * draw from it.  Both are public-domain algorithms, written out here.
 */
#include "ft/core.h"

u64 ft_mix64(u64 x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

void ft_random_init(struct ft_random_state *rs, u64 seed, u64 a, u64 b, u64 c)
{
	u64 x = ft_mix64(ft_mix64(ft_mix64(ft_mix64(seed) ^ a) ^ b) ^ c);

	for (int i = 0; i < 4; i++) {
		x = ft_mix64(x);
		rs->s[i] = x;
	}
	/* xoshiro must not start from all zeroes; splitmix cannot give that
	 * four times in a row, but say so rather than rely on it. */
	if (!(rs->s[0] | rs->s[1] | rs->s[2] | rs->s[3]))
		rs->s[0] = 1;
}

static inline u64 rotl(u64 x, int k)
{
	return (x << k) | (x >> (64 - k));
}

u64 ft_random_u64(struct ft_random_state *rs)
{
	u64 *s = rs->s;
	u64 result = rotl(s[1] * 5, 7) * 9;
	u64 t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

u64 ft_random_below(struct ft_random_state *rs, u64 n)
{
	/* Lemire's multiply-shift with rejection: unbiased. */
	unsigned __int128 m;
	u64 low;

	if (n == 0)
		return 0;
	m = (unsigned __int128)ft_random_u64(rs) * n;
	low = (u64)m;
	if (low < n) {
		u64 thresh = -n % n;

		while (low < thresh) {
			m = (unsigned __int128)ft_random_u64(rs) * n;
			low = (u64)m;
		}
	}
	return (u64)(m >> 64);
}

bool ft_random_chance(struct ft_random_state *rs, u64 num, u64 den)
{
	return ft_random_below(rs, den) < num;
}

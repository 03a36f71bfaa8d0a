// SPDX-License-Identifier: GPL-2.0-only
/* src/core: option parsers, the seeded streams, the first failure's headline. */
#include <errno.h>

#include "ft/report.h"
#include "ft_test.h"

static void test_parse_u64(struct ft_ktap *k)
{
	static const struct {
		const char *s;
		u64 lo, hi;
		int ret;
		u64 v;
	} cases[] = {
		{ "0", 0, 10, 0, 0 }, { "10", 0, 10, 0, 10 },
		{ "11", 0, 10, -ERANGE, 0 }, { "0x10", 0, 100, 0, 16 },
		{ "-1", 0, 10, -EINVAL, 0 }, { "", 0, 10, -EINVAL, 0 },
		{ "4x", 0, 10, -EINVAL, 0 }, { " 4", 0, 10, -EINVAL, 0 },
		{ "18446744073709551616", 0, UINT64_MAX, -ERANGE, 0 },
		{ "0", 1, 10, -ERANGE, 0 },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		u64 v = 0;
		int ret = ft_parse_u64(cases[i].s, cases[i].lo, cases[i].hi, &v);

		ft_ktap_result(k, ret == cases[i].ret && (ret || v == cases[i].v),
			       "parse_u64 '%s' -> %d %llu", cases[i].s, ret,
			       (unsigned long long)v);
	}
}

static void test_parse_duration(struct ft_ktap *k)
{
	static const struct {
		const char *s;
		int ret;
		u64 ns;
		const char *fmt;
	} cases[] = {
		{ "10", 0, 10 * NSEC_PER_SEC, "10s" },
		{ "10s", 0, 10 * NSEC_PER_SEC, "10s" },
		{ "1500ms", 0, 1500 * NSEC_PER_MSEC, "1500ms" },
		{ "30m", 0, 1800 * NSEC_PER_SEC, "30m" },
		{ "8h", 0, 8 * 3600 * NSEC_PER_SEC, "8h" },
		{ "90s", 0, 90 * NSEC_PER_SEC, "90s" },
		{ "0s", 0, 0, "0s" },
		{ "10x", -EINVAL, 0, NULL }, { "s", -EINVAL, 0, NULL },
		{ "-5s", -EINVAL, 0, NULL }, { "99999999999d", -ERANGE, 0, NULL },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char buf[32] = "";
		u64 ns = 0;
		int ret = ft_parse_duration(cases[i].s, &ns);
		bool ok = ret == cases[i].ret;

		if (!ret) {
			ft_format_duration(ns, buf, sizeof(buf));
			ok = ok && ns == cases[i].ns && !strcmp(buf, cases[i].fmt);
		}
		ft_ktap_result(k, ok, "parse_duration '%s' -> %d '%s'",
			       cases[i].s, ret, buf);
	}
}

static void test_random(struct ft_ktap *k)
{
	struct ft_random_state a, b, c;
	bool same = true, differ = false, bounded = true;
	u64 hist[7] = { 0 };

	ft_random_init(&a, 42, 1, 2, 3);
	ft_random_init(&b, 42, 1, 2, 3);
	ft_random_init(&c, 42, 1, 2, 4);
	for (int i = 0; i < 1000; i++) {
		u64 x = ft_random_u64(&a);

		same = same && x == ft_random_u64(&b);
		differ = differ || x != ft_random_u64(&c);
	}
	ft_ktap_result(k, same, "random: same seed and stream, same values");
	ft_ktap_result(k, differ, "random: another stream, other values");
	for (int i = 0; i < 70000; i++) {
		u64 x = ft_random_below(&a, 7);

		bounded = bounded && x < 7;
		if (x < 7)
			hist[x]++;
	}
	for (int i = 0; i < 7; i++)	/* 10000 expected: a loose bound */
		bounded = bounded && hist[i] > 9000 && hist[i] < 11000;
	ft_ktap_result(k, bounded, "random_below(7): in range and even");
	ft_ktap_result(k, ft_random_below(&a, 0) == 0, "random_below(0) == 0");
}

/* The first failure's headline is kept whole, later ones are not. */
static void test_report_msg(struct ft_ktap *k)
{
	const char *msg;

	ft_report_reset();
	ft_report_set_fatal(false);
	ft_ktap_result(k, !ft_report_first_msg(), "report: no failure, no headline");
	if (ft_report_begin("test oracle")) {
		ft_report_msg("BUG: first %d, ", 1);
		ft_report_msg("in two parts\nnot the headline\n");
		ft_report_msg("nor this\n");
		ft_report_end();
	}
	if (ft_report_begin("other oracle")) {
		ft_report_msg("BUG: second\n");
		ft_report_end();
	}
	msg = ft_report_first_msg();
	ft_ktap_result(k, msg && !strcmp(msg, "BUG: first 1, in two parts"),
		       "report: headline '%s'", msg ? msg : "(null)");
	ft_ktap_result(k, !strcmp(ft_report_first(), "test oracle"),
		       "report: the first oracle is named");
	ft_report_reset();
}

int main(void)
{
	struct ft_ktap k = { 0 };

	ft_ktap_start(10 + 11 + 4 + 3);
	test_parse_u64(&k);
	test_parse_duration(&k);
	test_random(&k);
	test_report_msg(&k);
	return ft_ktap_finish(&k);
}

/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Oracle failures.  Every layer reports a broken invariant the same way:
 *
 *	if (ft_report_begin("bad page state")) {
 *		ft_report_msg("BUG: Bad page state ... pfn:%05lx\n", pfn);
 *		fprintf(stderr, ...dump...);
 *		ft_report_end();
 *	}
 *
 * ft_report_msg() prints the failure's one-line headline (it may take
 * several calls); the first failure's is kept for the run's results.
 * Every failure is counted; the first FT_REPORT_MAX_PRINTED are printed in
 * full (ft_report_begin() returns true and holds the report lock until
 * ft_report_end()), later ones only counted, as the kernel rate-limits its
 * bad-page reports.  In fatal mode (the torture driver) the first failure
 * ends the run with FT_EXIT_INVARIANT once it is printed; otherwise the
 * caller carries on, as the kernel does after a WARN, and the count decides
 * the verdict (tests assert it).
 */
#ifndef FT_REPORT_H
#define FT_REPORT_H

#include "ft/core.h"

#define FT_REPORT_MAX_PRINTED	10
#define FT_REPORT_MSG_LEN	256

bool ft_report_begin(const char *oracle);
void __printf(1, 2) ft_report_msg(const char *fmt, ...);
void ft_report_end(void);

u64 ft_report_failures(void);
/* The oracle named by the first failure, or NULL. */
const char *ft_report_first(void);
/* Its headline (truncated to FT_REPORT_MSG_LEN), or NULL. */
const char *ft_report_first_msg(void);
void ft_report_set_fatal(bool fatal);
/* Tests: forget earlier failures (not while other threads report). */
void ft_report_reset(void);

#endif /* FT_REPORT_H */

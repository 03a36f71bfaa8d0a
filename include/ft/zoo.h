/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The bug zoo: historical and design bugs compiled into the model, off by
 * default, switched on by name at run time.  The injected code is the buggy
 * code as it was (or the hazard as doc/invariants.md states it), written
 * where the correct code is, and guarded by ft_injected(): with the
 * injection off the cost is one predictable branch on a word that never
 * changes after start-up.  Every injection must be caught by one of the project's
 * oracles, never by a check written for it alone.
 */
#ifndef FT_ZOO_H
#define FT_ZOO_H

#include "ft/kernel.h"

enum ft_inject {
	/* Bug ids: doc/invariants.md. */
	FT_INJ_MAPCOUNT_UNLOCKED,	/* H1 */
	FT_INJ_SHARED_CLEARED_EARLY,	/* H2 */
	FT_INJ_CONT_COPIED_TO_CHILD,	/* Z15 */
	FT_INJ_WRPROTECT_PARTIAL_NO_UNFOLD, /* Z16 */
	FT_INJ_PTE_RMW_NOT_ATOMIC,	/* Z10 */
	FT_INJ_CONVERT_DROPS_AD,	/* Z18 */
	FT_INJ_LOCKLESS_NO_RETRY,	/* Z19 */
	FT_INJ_BATCHZAP_S390,		/* Z1 */
	FT_INJ_FORK_MAP_BEFORE_REF,	/* Z2 */
	FT_INJ_BATCH_PAST_FOLIO,	/* Z3, B3 */
	FT_INJ_BATCH_OVER_HOLE,		/* the batch-copy review's DONTNEED hole */
	FT_INJ_EBUSY_NO_REF_ROLLBACK,	/* Z24, H3 */
	FT_INJ_DUP_WITH_PARENT_MM_ID,	/* B11 */
	FT_INJ_MPROTECT_WRITE_MERGE,	/* B12, Z7 */
	FT_INJ_FORK_NO_VMA_LOCK,	/* Z14 */
	FT_INJ_BREAK_INSIDE_BATCH,	/* Z22 */
	FT_INJ_REUSE_CHECKS_BEFORE_LOCK, /* B2 */
	FT_INJ_MADV_FLUSH_MISS,		/* Z25 */
	FT_INJ_GUP_FAST_FORK_RACE,	/* G2 */
	FT_INJ_REUSE_WARN_REVERSED,	/* B1 */
	FT_INJ_LAZYFREE_BATCH_CROSSES_TABLE, /* B4 */
	FT_INJ_LAZYFREE_NO_REF_CHECK,	/* B13 */
	FT_INJ_GUP_FAST_PIN_NO_BARRIER,	/* G3 */
	FT_INJ_MREMAP_BATCH_IGNORES_WRITE, /* Z8 */
	FT_INJ_FORK_DIRTY_BEFORE_WRPROTECT, /* Z26 */
	FT_INJ_LAZYFREE_RESTORE_IGNORES_WRITE, /* B14 */
	FT_INJ_SEQCOUNT_EXCLUSIVE_IGNORES_SHARED, /* H4 */
	FT_INJ_RMAP_VAL_EXCLUSIVE_NO_COUNT, /* B15 */
	FT_NR_INJECTIONS
};

#define FT_INJ_MAX_ORACLES	5

/* The name a TSan report gives a run's failure (its repro file's invariant). */
#define FT_ORACLE_TSAN		"data race (ThreadSanitizer)"

struct ft_injection {
	const char *name;	/* --inject NAME */
	const char *spec;	/* its bug id */
	const char *desc;
	/*
	 * The oracles expected to catch it, NULL-terminated: the names their
	 * reports give (ft_report_begin(), FT_ORACLE_TSAN), which a run's
	 * repro file records as its invariant.  Caught by another, the zoo
	 * says so instead of "ok".
	 */
	const char *caught_by[FT_INJ_MAX_ORACLES + 1];
};

extern const struct ft_injection ft_injections[FT_NR_INJECTIONS];
/* Set once at start-up, before threads; read on the hot paths. */
extern unsigned long ft_injected_mask;

static inline bool ft_injected(enum ft_inject inj)
{
	return unlikely(READ_ONCE(ft_injected_mask) & BIT(inj));
}

/* Is @oracle one that @inj expects to catch it? */
bool ft_injection_caught_by(const struct ft_injection *inj, const char *oracle);

/* The injection of that name, or NULL. */
const struct ft_injection *ft_injection_find(const char *name);
/*
 * The mapcount models whose code @inj changes, comma-separated (the first
 * is where it runs by default); NULL: it is in no model's code.
 */
const char *ft_injection_models(const struct ft_injection *inj);
/* Does @inj act under the model named by @model's first @len bytes? */
bool ft_injection_in_model(const struct ft_injection *inj, const char *model, size_t len);

/* Enable one injection by name: 0, or -EINVAL if there is none. */
int ft_inject_enable(const char *name);
void ft_inject_clear(void);

#endif /* FT_ZOO_H */

/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Private to models/owner_slots/: what the merged rules (owner_slots.c,
 * v6.15) and the August 2024 v1 rules (owner_slots_v1.c) share.  Both keep
 * a large mapcount and two (mm id, count) slots in the same folio fields,
 * behind a bit spinlock in _mm_ids, and decide COW reuse the same way; they
 * differ in where the bits sit, what the flag means, and when a slot is
 * taken and freed.
 */
#ifndef FT_OWNER_SLOTS_H
#define FT_OWNER_SLOTS_H

#include "ft/report.h"
#include "models.h"

#define MC_CHECK(folio, cond, what)					\
	do {								\
		if (unlikely(!(cond)))					\
			ft_folio_bug((folio), "owner slots", (what),	\
				     __FILE__, __LINE__);		\
	} while (0)

/* How a variant keeps what the shared code reads. */
struct owner_slots_variant {
	void (*lock)(struct folio *folio);
	void (*unlock)(struct folio *folio);
	/* The flag read as "maybe mapped shared", whatever its polarity. */
	bool (*test_shared)(const struct folio *folio);
	/* The id of slot @idx, MM_ID_DUMMY while the slot is free. */
	mm_id_t (*slot_id)(const struct folio *folio, int idx);
	/* The mappings slot @idx counts (logical, not -1 based). */
	int (*slot_mapcount)(const struct folio *folio, int idx);
	mm_id_t max_id;			/* the largest id the layout holds */
};

static inline int slot_count(const struct folio *folio, int idx)
{
	return READ_ONCE(folio->_mm_id_mapcount[idx]);
}

void owner_slots_sanity_checks(const struct owner_slots_variant *v,
			       struct folio *folio, int diff, mm_id_t mm_id);
/* The interrupt window inside an update, under the bit lock. */
void owner_slots_mapcount_window(const struct owner_slots_variant *v,
				 struct folio *folio, struct vm_area_struct *vma);
bool owner_slots_reuse(const struct owner_slots_variant *v, struct folio *folio,
		       struct vm_area_struct *vma);
void owner_slots_snap(const struct owner_slots_variant *v, struct folio *folio,
		      struct ft_mapcount_snapshot *snap,
		      void (*locked)(const struct ft_mapcount_snapshot *snap, void *arg),
		      void *arg);
const char *owner_slots_free_check_counts(const struct folio *folio);

#endif /* FT_OWNER_SLOTS_H */

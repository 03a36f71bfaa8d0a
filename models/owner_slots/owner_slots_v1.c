// SPDX-License-Identifier: GPL-2.0-only
/*
 * owner_slots_v1: the rules of the first posting of MM owner tracking
 * ("[PATCH v1 08/17] mm/rmap: initial MM owner tracking for large folios
 * (!hugetlb)", D. Hildenbrand, 29 Aug 2024), where they differ from the
 * merged ones (owner_slots.c, v6.15):
 *
 *  - The flag says "mapped exclusively" (set) instead of "maybe mapped
 *    shared", so a new folio starts with it set; the layout of _mm_ids
 *    differs too: id 0 in bits 0-31, id 1 in bits 32-55, the flag in 62,
 *    the lock in 63, with ids of at most 20 bits.
 *  - A slot is free when its count is below zero; its id is never reset,
 *    so an MM whose id is still there counts in that slot again.
 *  - A free slot is taken only while the folio is mapped exclusively, and
 *    taking it clears the flag; an MM that finds no slot while the folio
 *    is shared stays untracked.
 *  - Unmapping re-evaluates every time: the flag is set when either slot's
 *    count equals the total.
 *
 * COW reuse, the checks of the arguments and the snapshot are the merged
 * model's (owner_slots.h), over this layout.
 */
#include "ft/sched.h"
#include "owner_slots.h"

#define V1_MM_ID_NR_BITS		20
#define V1_MM_ID_MAX			((1U << V1_MM_ID_NR_BITS) - 1)
#define V1_MM0_ID_MASK			0x00000000ffffffffUL
#define V1_MM1_ID_SHIFT			32
#define V1_MM1_ID_MASK			0x00ffffff00000000UL
#define FOLIO_MM_IDS_EXCLUSIVE_BITNUM	62
#define FOLIO_MM_IDS_V1_LOCK_BITNUM	63

#define MAPCOUNT_LOCK_NAME "&folio->_mm_ids (v1)"
DEFINE_BIT_SPIN_CLASS(folio_mapcount_data_lock_class, MAPCOUNT_LOCK_NAME);

static void folio_lock_large_mapcount_data(struct folio *folio)
{
	bit_spin_lock_class(FOLIO_MM_IDS_V1_LOCK_BITNUM, &folio->_mm_ids,
			    &folio_mapcount_data_lock_class);
}

static void folio_unlock_large_mapcount_data(struct folio *folio)
{
	__bit_spin_unlock_class(FOLIO_MM_IDS_V1_LOCK_BITNUM, &folio->_mm_ids,
				&folio_mapcount_data_lock_class);
}

/* ---- The fields ---------------------------------------------------------------- */

static mm_id_t folio_mm0_id(const struct folio *folio)
{
	return (mm_id_t)(READ_ONCE(folio->_mm_ids) & V1_MM0_ID_MASK);
}

static mm_id_t folio_mm1_id(const struct folio *folio)
{
	return (mm_id_t)((READ_ONCE(folio->_mm_ids) & V1_MM1_ID_MASK) >> V1_MM1_ID_SHIFT);
}

/* With the lock: every writer of the word holds it. */
static void folio_set_mm_id_v1(struct folio *folio, int idx, mm_id_t id)
{
	unsigned long word = READ_ONCE(folio->_mm_ids);

	if (idx == 0)
		word = (word & ~V1_MM0_ID_MASK) | id;
	else
		word = (word & ~V1_MM1_ID_MASK) | ((unsigned long)id << V1_MM1_ID_SHIFT);
	WRITE_ONCE(folio->_mm_ids, word);
}

static bool folio_test_large_mapped_exclusively(const struct folio *folio)
{
	return test_bit(FOLIO_MM_IDS_EXCLUSIVE_BITNUM, &folio->_mm_ids);
}

static void set_count(struct folio *folio, int idx, int v)
{
	WRITE_ONCE(folio->_mm_id_mapcount[idx], v);
}

static int total_add(struct folio *folio, int diff)
{
	int v = atomic_read(&folio->_large_mapcount) + diff;

	atomic_set(&folio->_large_mapcount, v);
	return v;
}

/* ---- The shared code's view ------------------------------------------------------ */

static bool test_shared(const struct folio *folio)
{
	return !folio_test_large_mapped_exclusively(folio);
}

static mm_id_t slot_id(const struct folio *folio, int idx)
{
	if (slot_count(folio, idx) < 0)
		return MM_ID_DUMMY;
	return idx ? folio_mm1_id(folio) : folio_mm0_id(folio);
}

static int slot_mapcount(const struct folio *folio, int idx)
{
	return slot_id(folio, idx) ? slot_count(folio, idx) + 1 : 0;
}

static const struct owner_slots_variant v1 = {
	.lock = folio_lock_large_mapcount_data,
	.unlock = folio_unlock_large_mapcount_data,
	.test_shared = test_shared,
	.slot_id = slot_id,
	.slot_mapcount = slot_mapcount,
	.max_id = V1_MM_ID_MAX,
};

/*
 * What holds whenever the lock is free, in v1's terms (the merged model's
 * I1, I3, I5, I6, I8 and I10, doc/invariants.md), with the lock held.
 */
static void check_locked(struct folio *folio)
{
	int total = folio_large_mapcount(folio);
	int c0 = slot_mapcount(folio, 0), c1 = slot_mapcount(folio, 1);
	mm_id_t id0 = slot_id(folio, 0), id1 = slot_id(folio, 1);

	if (!ft_debug_vm(folio->pmem))
		return;
	MC_CHECK(folio, folio_ref_count(folio) >= total, "I1: refcount < mapcount");
	MC_CHECK(folio, slot_count(folio, 0) >= -1 && slot_count(folio, 1) >= -1,
		 "I3: a slot count below -1");
	MC_CHECK(folio, c0 + c1 <= total, "I5: slots exceed mapcount");
	MC_CHECK(folio, !id0 || !id1 || !folio_test_large_mapped_exclusively(folio),
		 "I6: both slots taken, mapped exclusively");
	MC_CHECK(folio, total || (folio_test_large_mapped_exclusively(folio) && !id0 && !id1),
		 "I8: unmapped folio not exclusive, or with a slot");
	MC_CHECK(folio, !id0 || id0 != id1, "I10: an mm id in both slots");
	MC_CHECK(folio, total >= 0, "large mapcount underflow");
}

/* ---- The model ------------------------------------------------------------------- */

/* folio_set_large_mapcount(): a new anon folio, not yet visible, no lock. */
static void owner_slots_v1_set(struct folio *folio, int diff, struct vm_area_struct *vma)
{
	mm_id_t mm_id = vma->vm_mm->mm_id;

	owner_slots_sanity_checks(&v1, folio, diff, mm_id);
	MC_CHECK(folio, folio_test_large_mapped_exclusively(folio) &&
		 slot_count(folio, 1) < 0, "set on a folio not exclusive or with slot 1");
	atomic_set(&folio->_large_mapcount, diff - 1);
	set_count(folio, 0, diff - 1);
	folio_set_mm_id_v1(folio, 0, mm_id);
}

/* folio_add_large_mapcount() of v1: the new logical mapcount. */
static int owner_slots_v1_add(struct folio *folio, int diff, struct vm_area_struct *vma)
{
	mm_id_t mm_id = vma->vm_mm->mm_id;
	int total;

	folio_lock_large_mapcount_data(folio);
	owner_slots_sanity_checks(&v1, folio, diff, mm_id);
	total = total_add(folio, diff);
	owner_slots_mapcount_window(&v1, folio, vma);
	if (folio_mm0_id(folio) == mm_id) {
		set_count(folio, 0, slot_count(folio, 0) + diff);
		if (slot_count(folio, 0) != total)
			__clear_bit(FOLIO_MM_IDS_EXCLUSIVE_BITNUM, &folio->_mm_ids);
	} else if (folio_mm1_id(folio) == mm_id) {
		set_count(folio, 1, slot_count(folio, 1) + diff);
		if (slot_count(folio, 1) != total)
			__clear_bit(FOLIO_MM_IDS_EXCLUSIVE_BITNUM, &folio->_mm_ids);
	} else if (folio_test_large_mapped_exclusively(folio)) {
		/* A free slot only while one MM maps: one of them is free. */
		int idx = slot_count(folio, 0) < 0 ? 0 : 1;

		MC_CHECK(folio, slot_count(folio, idx) < 0,
			 "both slots taken while mapped exclusively");
		folio_set_mm_id_v1(folio, idx, mm_id);
		set_count(folio, idx, diff - 1);
		/* Unconditionally, even on a folio no one mapped before. */
		__clear_bit(FOLIO_MM_IDS_EXCLUSIVE_BITNUM, &folio->_mm_ids);
	}
	/* Else shared and this MM in no slot: it stays untracked. */
	check_locked(folio);
	folio_unlock_large_mapcount_data(folio);
	return total + 1;
}

/* folio_sub_large_mapcount() of v1. */
static int owner_slots_v1_sub(struct folio *folio, int diff, struct vm_area_struct *vma)
{
	mm_id_t mm_id = vma->vm_mm->mm_id;
	int total;

	folio_lock_large_mapcount_data(folio);
	owner_slots_sanity_checks(&v1, folio, diff, mm_id);
	total = total_add(folio, -diff);
	owner_slots_mapcount_window(&v1, folio, vma);
	if (folio_mm0_id(folio) == mm_id)
		set_count(folio, 0, slot_count(folio, 0) - diff);
	else if (folio_mm1_id(folio) == mm_id)
		set_count(folio, 1, slot_count(folio, 1) - diff);
	/* The id stays; a count at -1 frees the slot.  At full unmap the
	 * free slots' -1 equals the total's. */
	if (slot_count(folio, 0) == total || slot_count(folio, 1) == total)
		__set_bit(FOLIO_MM_IDS_EXCLUSIVE_BITNUM, &folio->_mm_ids);
	check_locked(folio);
	folio_unlock_large_mapcount_data(folio);
	return total + 1;
}

static bool owner_slots_v1_maybe_mapped_shared(const struct folio *folio)
{
	return !folio_test_large_mapped_exclusively(folio);
}

static bool owner_slots_v1_can_reuse_anon(struct folio *folio, struct vm_area_struct *vma)
{
	return owner_slots_reuse(&v1, folio, vma);
}

static void owner_slots_v1_snapshot(struct folio *folio, struct ft_mapcount_snapshot *snap,
				    void (*locked)(const struct ft_mapcount_snapshot *snap,
						   void *arg), void *arg)
{
	owner_slots_snap(&v1, folio, snap, locked, arg);
}

/* prep_compound_head() of v1: both counts free, the ids cleared, and the
 * folio mapped exclusively (by no one). */
static void owner_slots_v1_prep(struct folio *folio)
{
	set_count(folio, 0, -1);
	set_count(folio, 1, -1);
	WRITE_ONCE(folio->_mm_ids, BIT(FOLIO_MM_IDS_EXCLUSIVE_BITNUM));
}

/* free_tail_page_prepare() of v1 checks the counts only: ids stay. */
static const char *owner_slots_v1_free_check(const struct folio *folio)
{
	return owner_slots_free_check_counts(folio);
}

static void owner_slots_v1_print(FILE *out, const struct folio *folio)
{
	unsigned long ids = READ_ONCE(folio->_mm_ids);

	fprintf(out, "mm ids (v1): [%u]:%d [%u]:%d exclusive:%d locked:%d\n",
		folio_mm0_id(folio), slot_count(folio, 0) + 1, folio_mm1_id(folio),
		slot_count(folio, 1) + 1, !!(ids & BIT(FOLIO_MM_IDS_EXCLUSIVE_BITNUM)),
		!!(ids & BIT(FOLIO_MM_IDS_V1_LOCK_BITNUM)));
}

const struct ft_mapcount_ops owner_slots_v1_ops = {
	.name = "owner_slots_v1",
	.desc = "owner slots with the Aug 2024 v1 rules: a \"mapped exclusively\" flag, "
		"slots taken only while exclusive, ids never reset",
	.lock_class = MAPCOUNT_LOCK_NAME,
	.caps = FT_MC_TRACKS_OWNER | FT_MC_NO_FALSE_NEGATIVE,
	.set = owner_slots_v1_set,
	.add = owner_slots_v1_add,
	.sub = owner_slots_v1_sub,
	.maybe_mapped_shared = owner_slots_v1_maybe_mapped_shared,
	.can_reuse_anon = owner_slots_v1_can_reuse_anon,
	.snapshot = owner_slots_v1_snapshot,
	.prep = owner_slots_v1_prep,
	.free_check = owner_slots_v1_free_check,
	.print = owner_slots_v1_print,
};

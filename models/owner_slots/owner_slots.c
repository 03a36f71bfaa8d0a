// SPDX-License-Identifier: GPL-2.0-only
/*
 * owner_slots: the large mapcount with two MM owner slots behind a bit
 * spinlock, as upstream has it since v6.15 ("mm: MM owner tracking for
 * large folios (!hugetlb)", D. Hildenbrand; include/linux/rmap.h).
 * Upstream: the _mm_ids word of include/linux/mm_types.h, the
 * large-mapcount helpers of include/linux/rmap.h
 * (folio_lock_large_mapcount(), folio_add_return_large_mapcount(),
 * folio_sub_return_large_mapcount()) and __wp_can_reuse_large_anon_folio()
 * in mm/memory.c.
 *
 * Why "maybe mapped shared" has no false negatives (P-a to P-c in
 * doc/invariants.md): only the owning MM raises a slot, untracked additions
 * are never counted and clamping only lowers a slot, so a slot never
 * overstates its MM's mappings (P-a); SHARED is cleared only when one slot's count equals
 * the total, and then that slot's MM owns every mapping; a later mapping by
 * another MM either takes the free slot (setting SHARED) or finds both
 * slots taken, which already implies SHARED (P-b).  Everything rests on the
 * updates of the total, the slots and the bit being one atomic unit: the
 * bit lock.
 *
 * Lock nesting: the large-mapcount lock is innermost, taken under the PTL,
 * never held across anything that sleeps (as in include/linux/rmap.h).
 */
#include "ft/sched.h"
#include "ft/swap.h"
#include "ft/zoo.h"
#include "owner_slots.h"

#define MAPCOUNT_LOCK_NAME "&folio->_mm_ids"
DEFINE_BIT_SPIN_CLASS(folio_mapcount_lock_class, MAPCOUNT_LOCK_NAME);

static void folio_lock_large_mapcount(struct folio *folio)
{
	if (!ft_injected(FT_INJ_MAPCOUNT_UNLOCKED))
		bit_spin_lock_class(FOLIO_MM_IDS_LOCK_BITNUM, &folio->_mm_ids,
				    &folio_mapcount_lock_class);
}

/* The kernel's __bit_spin_unlock(): every writer of _mm_ids holds the lock. */
static void folio_unlock_large_mapcount(struct folio *folio)
{
	if (!ft_injected(FT_INJ_MAPCOUNT_UNLOCKED))
		__bit_spin_unlock_class(FOLIO_MM_IDS_LOCK_BITNUM, &folio->_mm_ids,
					&folio_mapcount_lock_class);
}

static bool test_shared(const struct folio *folio)
{
	return folio_test_large_maybe_mapped_shared(folio);
}

/* Stored as is: a free slot should read DUMMY and 0 (I3), not be made to. */
static int slot_mapcount(const struct folio *folio, int idx)
{
	return slot_count(folio, idx) + 1;
}

/* A free slot's id is MM_ID_DUMMY: the merged rules reset it. */
static const struct owner_slots_variant merged = {
	.lock = folio_lock_large_mapcount,
	.unlock = folio_unlock_large_mapcount,
	.test_shared = test_shared,
	.slot_id = folio_mm_id,
	.slot_mapcount = slot_mapcount,
	.max_id = MM_ID_MAX,
};

/* ---- Slot accessors (folio_mm_id() and friends); callers hold the lock ---- */

static void folio_set_mm_id(struct folio *folio, int idx, mm_id_t id)
{
	unsigned long word = READ_ONCE(folio->_mm_ids);

	word &= ~((unsigned long)MM_ID_MASK << (32 * idx));
	word |= (unsigned long)id << (32 * idx);
	WRITE_ONCE(folio->_mm_ids, word);
}

/*
 * FT-DEVIATION (H1 only): with the lock gone the injected bug updates the
 * total and the slot as two separate atomics, as H1 in doc/invariants.md
 * describes it.
 */
static void slot_add(struct folio *folio, int idx, int diff)
{
	if (ft_injected(FT_INJ_MAPCOUNT_UNLOCKED))
		__atomic_fetch_add(&folio->_mm_id_mapcount[idx], diff, __ATOMIC_RELAXED);
	else
		WRITE_ONCE(folio->_mm_id_mapcount[idx], slot_count(folio, idx) + diff);
}

static int total_add(struct folio *folio, int diff)
{
	int v;

	if (ft_injected(FT_INJ_MAPCOUNT_UNLOCKED))
		return atomic_add_return(diff, &folio->_large_mapcount);
	v = atomic_read(&folio->_large_mapcount) + diff;
	atomic_set(&folio->_large_mapcount, v);
	return v;
}

/*
 * bit_spin_lock() disables preemption, not interrupts: an interrupt inside
 * the update.  Another MM's update can meet this one only while the folio
 * maybe mapped shared, and after a fork most are: one such update in
 * MAPCOUNT_EXPOSE_ONE_IN lingers for an aimer.  With the default aim,
 * lingering at every one cost a third of the default run's operations, one
 * in 8 a tenth (H1's median time to detect went from 0.09 s to 0.006), one
 * in 32 4% (0.012 to 0.035 s).
 */
#define MAPCOUNT_EXPOSE_ONE_IN	8

void owner_slots_mapcount_window(const struct owner_slots_variant *v,
				 struct folio *folio, struct vm_area_struct *vma)
{
	ft_irq_window_exposed(FT_WIN_MAPCOUNT, vma->vm_mm, 0, 0, folio,
			      v->test_shared(folio) &&
			      ft_window_sample(MAPCOUNT_EXPOSE_ONE_IN));
}

/* ---- Checks --------------------------------------------------------------------- */

/* __folio_large_mapcount_sanity_checks() (include/linux/rmap.h): the
 * arguments. */
void owner_slots_sanity_checks(const struct owner_slots_variant *v,
			       struct folio *folio, int diff, mm_id_t mm_id)
{
	MC_CHECK(folio, folio_test_large(folio), "large mapcount of a small folio");
	MC_CHECK(folio, diff > 0, "diff <= 0");
	MC_CHECK(folio, mm_id >= MM_ID_MIN && mm_id <= v->max_id, "mm id out of range");
	MC_CHECK(folio, diff <= (int)folio_nr_pages(folio), "diff > nr_pages");
}

/*
 * The invariants that hold whenever the lock is free (I1, I3, I5, I6, I8,
 * I10 in doc/invariants.md), checked just before releasing it: cheap, so
 * always on in debug builds.
 */
static void check_locked(struct folio *folio)
{
	int total, c0, c1;
	mm_id_t id0, id1;
	bool shared;

	if (!ft_debug_vm(folio->pmem))
		return;
	total = folio_large_mapcount(folio);
	id0 = folio_mm_id(folio, 0);
	id1 = folio_mm_id(folio, 1);
	c0 = slot_count(folio, 0);
	c1 = slot_count(folio, 1);
	shared = folio_test_large_maybe_mapped_shared(folio);
	/* No PMD mappings in the model, so no B8 split window to exclude. */
	MC_CHECK(folio, folio_ref_count(folio) >= total, "I1: refcount < mapcount");
	MC_CHECK(folio, (id0 == MM_ID_DUMMY) == (c0 == -1) && c0 >= -1,
		 "I3: slot 0 id/count mismatch");
	MC_CHECK(folio, (id1 == MM_ID_DUMMY) == (c1 == -1) && c1 >= -1,
		 "I3: slot 1 id/count mismatch");
	MC_CHECK(folio, (c0 + 1) + (c1 + 1) <= total, "I5: slots exceed mapcount");
	MC_CHECK(folio, id0 == MM_ID_DUMMY || id1 == MM_ID_DUMMY || shared,
		 "I6: both slots taken, SHARED clear");
	MC_CHECK(folio, total || (!shared && id0 == MM_ID_DUMMY && id1 == MM_ID_DUMMY),
		 "I8: unmapped folio with SHARED or a slot");
	MC_CHECK(folio, id0 == MM_ID_DUMMY || id0 != id1, "I10: an mm id in both slots");
	MC_CHECK(folio, total >= 0, "large mapcount underflow");
}

/* ---- The model ------------------------------------------------------------------- */

/* folio_set_large_mapcount(): a new folio mapped by @diff PTEs of @vma. */
static void owner_slots_set(struct folio *folio, int diff,
			    struct vm_area_struct *vma)
{
	mm_id_t mm_id = vma->vm_mm->mm_id;

	owner_slots_sanity_checks(&merged, folio, diff, mm_id);
	MC_CHECK(folio, folio_mm_id(folio, 0) == MM_ID_DUMMY &&
		 folio_mm_id(folio, 1) == MM_ID_DUMMY, "set on a folio with owners");
	/* Not visible to anybody yet: no lock (folio_set_large_mapcount()). */
	atomic_set(&folio->_large_mapcount, diff - 1);
	WRITE_ONCE(folio->_mm_id_mapcount[0], diff - 1);
	folio_set_mm_id(folio, 0, mm_id);
}

/* folio_add_return_large_mapcount() (include/linux/rmap.h). */
static int owner_slots_add(struct folio *folio, int diff,
			   struct vm_area_struct *vma)
{
	mm_id_t mm_id = vma->vm_mm->mm_id;
	int new_mapcount_val;

	folio_lock_large_mapcount(folio);
	owner_slots_sanity_checks(&merged, folio, diff, mm_id);
	new_mapcount_val = total_add(folio, diff);
	owner_slots_mapcount_window(&merged, folio, vma);
	if (folio_mm_id(folio, 0) == mm_id) {
		slot_add(folio, 0, diff);
	} else if (folio_mm_id(folio, 1) == mm_id) {
		slot_add(folio, 1, diff);
	} else if (folio_mm_id(folio, 0) == MM_ID_DUMMY) {
		folio_set_mm_id(folio, 0, mm_id);
		WRITE_ONCE(folio->_mm_id_mapcount[0], diff - 1);
		/* Other (untracked or slot-1) mappings exist. */
		if (new_mapcount_val != diff - 1)
			__set_bit(FOLIO_MM_IDS_SHARED_BITNUM, &folio->_mm_ids);
	} else if (folio_mm_id(folio, 1) == MM_ID_DUMMY) {
		folio_set_mm_id(folio, 1, mm_id);
		WRITE_ONCE(folio->_mm_id_mapcount[1], diff - 1);
		/* Slot 0 is taken, so it holds at least one mapping. */
		__set_bit(FOLIO_MM_IDS_SHARED_BITNUM, &folio->_mm_ids);
	}
	/* Else both slots belong to other MMs: this one stays untracked,
	 * and SHARED is already set (P-b). */
	check_locked(folio);
	folio_unlock_large_mapcount(folio);
	return new_mapcount_val + 1;
}

/* folio_sub_return_large_mapcount() (include/linux/rmap.h). */
static int owner_slots_sub(struct folio *folio, int diff,
			   struct vm_area_struct *vma)
{
	mm_id_t mm_id = vma->vm_mm->mm_id;
	int new_mapcount_val, idx;

	folio_lock_large_mapcount(folio);
	owner_slots_sanity_checks(&merged, folio, diff, mm_id);
	new_mapcount_val = total_add(folio, -diff);
	owner_slots_mapcount_window(&merged, folio, vma);
	idx = folio_mm_id(folio, 0) == mm_id ? 0 :
	      folio_mm_id(folio, 1) == mm_id ? 1 : -1;
	if (idx >= 0) {
		slot_add(folio, idx, -diff);
		if (slot_count(folio, idx) >= 0) {
			/* Still mapped through this slot: nothing to re-evaluate. */
			if (ft_injected(FT_INJ_SHARED_CLEARED_EARLY))
				__clear_bit(FOLIO_MM_IDS_SHARED_BITNUM, &folio->_mm_ids);
			goto out;
		}
		/*
		 * Free the slot, also on underflow: an MM may have mapped some
		 * pages while untracked and others after taking a slot.
		 */
		WRITE_ONCE(folio->_mm_id_mapcount[idx], -1);
		folio_set_mm_id(folio, idx, MM_ID_DUMMY);
	}
	/* The slot was just freed, or this MM was untracked. */
	if (slot_count(folio, 0) == new_mapcount_val ||
	    slot_count(folio, 1) == new_mapcount_val)
		__clear_bit(FOLIO_MM_IDS_SHARED_BITNUM, &folio->_mm_ids);
out:
	check_locked(folio);
	folio_unlock_large_mapcount(folio);
	return new_mapcount_val + 1;
}

static bool owner_slots_maybe_mapped_shared(const struct folio *folio)
{
	return folio_test_large_maybe_mapped_shared(folio);
}

/* The kernel's sanity warnings on a folio it is about to reuse. */
static void reuse_sanity_checks(const struct owner_slots_variant *v, struct folio *folio,
				struct vm_area_struct *vma)
{
	MC_CHECK(folio, folio_large_mapcount(folio) <= (int)folio_nr_pages(folio),
		 "I12: reuse with mapcount > nr_pages");
	MC_CHECK(folio, !folio_entire_mapcount(folio), "I12: reuse of a PMD-mapped folio");
	MC_CHECK(folio, v->slot_id(folio, 0) == vma->vm_mm->mm_id ||
		 v->slot_id(folio, 1) == vma->vm_mm->mm_id,
		 "I12: reuse by an MM that owns no slot");
}

/*
 * __wp_can_reuse_large_anon_folio() (mm/memory.c, with the B1 and B2
 * fixes; v1 had the same steps): anon pages are mapped at most once per MM
 * and every mapping holds one reference taken before the mapcount rises
 * and dropped after it falls, so mapcount == refcount under the lock, with
 * the folio not maybe-shared, means every reference comes from this MM's
 * page tables.
 */
bool owner_slots_reuse(const struct owner_slots_variant *v, struct folio *folio,
		       struct vm_area_struct *vma)
{
	bool exclusive = false;

	/* Prefer copying a folio mapped once so the large one can go. */
	if (folio_large_mapcount(folio) <= 1)
		return false;
	if (v->test_shared(folio))
		return false;
	/* Another MM may map the folio from here on (migration restoring
	 * its entries, say): an interrupt now is what B2 needed. */
	ft_irq_window(FT_WIN_REUSE, vma->vm_mm, 0, 0, folio);
	/* B2 (fixed 2025-04-15): the checks ran here, on an unstable folio. */
	if (ft_injected(FT_INJ_REUSE_CHECKS_BEFORE_LOCK))
		reuse_sanity_checks(v, folio, vma);
	/* The swap cache's references: gone once no swap entry needs them
	 * (while some of the folio's entries are still swap entries, the
	 * free fails and the refcount check below says no). */
	if (folio_test_swapcache(folio)) {
		if (!folio_trylock(folio))
			return false;
		folio_free_swap(folio);
		folio_unlock(folio);
	}
	if (folio_large_mapcount(folio) != folio_ref_count(folio))
		return false;
	/* A reference may come in from here on (reclaim isolating the
	 * folio, a swap cache lookup, a pin): an interrupt now is B1's.
	 * Rare (most COW faults copy), so it lingers for an aimer. */
	ft_irq_window_exposed(FT_WIN_REUSE, vma->vm_mm, 0, 0, folio, true);

	v->lock(folio);
	/*
	 * B1's fix: mapcount above refcount is the alarm, not below.  B1
	 * (1da190f4d0a6 to 6.15-rc4) warned on "mapcount < refcount", which
	 * any reference taken since the check above makes true: reclaim's
	 * isolation, a swap cache lookup, a pin.
	 */
	if (ft_injected(FT_INJ_REUSE_WARN_REVERSED))
		MC_CHECK(folio, folio_large_mapcount(folio) >= folio_ref_count(folio),
			 "VM_WARN_ON_ONCE(folio_large_mapcount(folio) < folio_ref_count(folio))");
	else
		MC_CHECK(folio, folio_large_mapcount(folio) <= folio_ref_count(folio),
			 "I1: mapcount > refcount at COW reuse");
	if (v->test_shared(folio))
		goto unlock;
	if (folio_large_mapcount(folio) != folio_ref_count(folio))
		goto unlock;
	/* B2's fix: these only after mapcount and refcount are stable. */
	if (!ft_injected(FT_INJ_REUSE_CHECKS_BEFORE_LOCK))
		reuse_sanity_checks(v, folio, vma);
	exclusive = true;
unlock:
	v->unlock(folio);
	return exclusive;
}

static bool owner_slots_can_reuse_anon(struct folio *folio, struct vm_area_struct *vma)
{
	return owner_slots_reuse(&merged, folio, vma);
}

/* The slots as the variant defines them, with the view held stable. */
void owner_slots_snap(const struct owner_slots_variant *v, struct folio *folio,
		      struct ft_mapcount_snapshot *snap,
		      void (*locked)(const struct ft_mapcount_snapshot *snap, void *arg),
		      void *arg)
{
	v->lock(folio);
	snap->mapcount = folio_large_mapcount(folio);
	snap->shared = v->test_shared(folio);
	snap->nr_slots = 2;
	for (int i = 0; i < 2; i++) {
		snap->slot[i].id = v->slot_id(folio, i);
		snap->slot[i].mapcount = v->slot_mapcount(folio, i);
	}
	if (locked)
		locked(snap, arg);
	v->unlock(folio);
}

static void owner_slots_snapshot(struct folio *folio, struct ft_mapcount_snapshot *snap,
				 void (*locked)(const struct ft_mapcount_snapshot *snap,
						void *arg), void *arg)
{
	owner_slots_snap(&merged, folio, snap, locked, arg);
}

/* prep_compound_head(): both slots free, SHARED clear. */
static void owner_slots_prep(struct folio *folio)
{
	WRITE_ONCE(folio->_mm_id_mapcount[0], -1);
	WRITE_ONCE(folio->_mm_id_mapcount[1], -1);
	WRITE_ONCE(folio->_mm_ids, 0UL);
}

/* free_tail_page_prepare()'s checks of the slot counts, both variants. */
const char *owner_slots_free_check_counts(const struct folio *folio)
{
	if (slot_count(folio, 0) != -1)
		return "nonzero mm mapcount 0";
	if (slot_count(folio, 1) != -1)
		return "nonzero mm mapcount 1";
	return NULL;
}

static const char *owner_slots_free_check(const struct folio *folio)
{
	const char *reason = owner_slots_free_check_counts(folio);

	if (!reason && READ_ONCE(folio->_mm_ids))
		reason = "nonzero mm ids";
	return reason;
}

static void owner_slots_print(FILE *out, const struct folio *folio)
{
	unsigned long ids = READ_ONCE(folio->_mm_ids);

	fprintf(out, "mm ids: [%u]:%d [%u]:%d shared:%d locked:%d\n",
		(unsigned int)(ids & MM_ID_MASK), slot_count(folio, 0) + 1,
		(unsigned int)((ids >> 32) & MM_ID_MASK), slot_count(folio, 1) + 1,
		!!(ids & BIT(FOLIO_MM_IDS_SHARED_BITNUM)),
		!!(ids & BIT(FOLIO_MM_IDS_LOCK_BITNUM)));
}

const struct ft_mapcount_ops owner_slots_ops = {
	.name = "owner_slots",
	.desc = "two MM owner slots and a SHARED bit behind a bit spinlock (v6.15+)",
	.lock_class = MAPCOUNT_LOCK_NAME,
	.caps = FT_MC_TRACKS_OWNER | FT_MC_NO_FALSE_NEGATIVE | FT_MC_EXACT_TWO_MMS,
	.set = owner_slots_set,
	.add = owner_slots_add,
	.sub = owner_slots_sub,
	.maybe_mapped_shared = owner_slots_maybe_mapped_shared,
	.can_reuse_anon = owner_slots_can_reuse_anon,
	.snapshot = owner_slots_snapshot,
	.prep = owner_slots_prep,
	.free_check = owner_slots_free_check,
	.print = owner_slots_print,
};

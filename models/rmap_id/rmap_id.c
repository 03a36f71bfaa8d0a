// SPDX-License-Identifier: GPL-2.0-only
/*
 * rmap_id: the November 2023 design for telling "mapped shared" from
 * "mapped exclusively" exactly ("[PATCH WIP v1 00/20] mm: precise 'mapped
 * shared' vs. 'mapped exclusively' detection for PTE-mapped THP /
 * partially-mappable folios", D. Hildenbrand; never merged).  The note
 * doc/rmap-id.md describes it; in short:
 *
 *  - a large folio keeps its total mapcount (_large_mapcount here, the
 *    posting's _total_mapcount) and one or two 64-bit rmap values;
 *  - each MM has an rmap id, and per value a sub-ID (subid.h); mapping n
 *    pages adds n times the MM's sub-IDs to the values, unmapping
 *    subtracts them;
 *  - while the total is at most the folio's pages, the folio is exclusive
 *    to an MM exactly when every value is the total times that MM's sub-ID
 *    (R1 in doc/invariants.md);
 *  - updates run inside write sections of a per-folio atomic seqcount
 *    (lock.h), shared or exclusive, and readers retry or give up when a
 *    writer was active: nothing is locked.
 *
 * Folio orders 2 to 5 only (subid.c says why); the torture refuses others
 * at start-up through check_order().
 */
#include "ft/report.h"
#include "ft/sched.h"
#include "ft/swap.h"
#include "ft/zoo.h"
#include "models.h"
#include "subid.h"

#define RMAP_SEQ_NAME "&folio->_rmap_atomic_seqcount"
DEFINE_ATOMIC_SEQCOUNT_CLASS(rmap_seqcount_class, RMAP_SEQ_NAME);

/* The model's own checks: an update's arguments and result, I1. */
#define RMAP_CHECK(folio, cond, what)					\
	do {								\
		if (unlikely(!(cond)))					\
			ft_folio_bug((folio), "rmap_id", (what),	\
				     __FILE__, __LINE__);		\
	} while (0)

static u32 mm_rmap_id(const struct mm_struct *mm)
{
	return rmap_id_of(mm->mm_id);
}

/* An order the model cannot track is reported, and has no values. */
static void folio_layout(struct folio *folio, struct rmap_id_layout *l)
{
	const char *why;

	if (!rmap_id_layout(folio_order(folio), l, &why))
		return;
	*l = (struct rmap_id_layout){ 0 };
	RMAP_CHECK(folio, false, why);
}

static u64 rmap_val(const struct folio *folio, int x)
{
	return __atomic_load_n(&folio->_rmap_val[x], __ATOMIC_RELAXED);
}

/* __folio_write_large_rmap_begin(): exclusive if no other writer was active. */
static bool folio_write_large_rmap_begin(struct folio *folio)
{
	return raw_write_atomic_seqcount_begin(&folio->_rmap_atomic_seqcount, true,
					       &rmap_seqcount_class);
}

static void folio_write_large_rmap_end(struct folio *folio, bool exclusive)
{
	raw_write_atomic_seqcount_end(&folio->_rmap_atomic_seqcount, exclusive,
				      &rmap_seqcount_class);
}

/*
 * The total, by @diff.  The exclusive writer loads and stores (the
 * posting's atomic_set(atomic_read() + diff)); an interrupt between the
 * two is harmless only while it really is the only writer (H4).
 */
static int total_add(struct folio *folio, int diff, bool exclusive, struct mm_struct *mm)
{
	int v;

	if (!exclusive)
		return atomic_add_return(diff, &folio->_large_mapcount);
	v = atomic_read(&folio->_large_mapcount);
	ft_irq_window(FT_WIN_MAPCOUNT, mm, 0, 0, folio);
	atomic_set(&folio->_large_mapcount, v + diff);
	return v + diff;
}

/*
 * __folio_add_large_rmap_val() and its _exclusive() twin: each value by
 * @diff times the MM's sub-ID, modulo 2^64 (a value is exact again once
 * the total is back within the folio's pages).  B15: the posting's
 * exclusive path added an order-2 folio's sub-ID once, whatever @diff.
 */
static void vals_add(struct folio *folio, const struct rmap_id_layout *l, int diff,
		     u32 id, bool exclusive)
{
	for (int x = 0; x < l->nr_values; x++) {
		u64 d = rmap_id_subid(l, id, x) * (u64)(long)diff;

		if (!exclusive) {
			__atomic_fetch_add(&folio->_rmap_val[x], d, __ATOMIC_RELAXED);
			continue;
		}
		if (l->nr_values == 1 && ft_injected(FT_INJ_RMAP_VAL_EXCLUSIVE_NO_COUNT))
			d = rmap_id_subid(l, id, x);
		WRITE_ONCE(folio->_rmap_val[x], rmap_val(folio, x) + d);
	}
}

/* __folio_has_large_matching_rmap_val(): every value @count times @id's. */
static bool vals_match(const struct folio *folio, const struct rmap_id_layout *l,
		       int count, u32 id)
{
	for (int x = 0; x < l->nr_values; x++)
		if (rmap_val(folio, x) != rmap_id_subid(l, id, x) * (u64)count)
			return false;
	return true;
}

/* The arguments, as __folio_large_mapcount_sanity_checks() has them. */
static void sanity_checks(struct folio *folio, int n, struct mm_struct *mm)
{
	RMAP_CHECK(folio, folio_test_large(folio), "large mapcount of a small folio");
	RMAP_CHECK(folio, n > 0, "nr <= 0");
	RMAP_CHECK(folio, n <= (int)folio_nr_pages(folio), "nr > nr_pages");
	RMAP_CHECK(folio, mm->mm_id >= MM_ID_MIN && mm->mm_id <= RMAP_ID_MAX,
		   "mm id beyond the 24-bit rmap ids");
}

/* ---- The model ------------------------------------------------------------------- */

/* folio_set_large_mapcount(): a new folio, not yet visible, no section. */
static void rmap_id_set(struct folio *folio, int n, struct vm_area_struct *vma)
{
	struct rmap_id_layout l;

	sanity_checks(folio, n, vma->vm_mm);
	folio_layout(folio, &l);
	atomic_set(&folio->_large_mapcount, n - 1);
	for (int x = 0; x < l.nr_values; x++)
		WRITE_ONCE(folio->_rmap_val[x],
			   rmap_id_subid(&l, mm_rmap_id(vma->vm_mm), x) * (u64)n);
}

/*
 * folio_add_large_mapcount() / folio_sub_large_mapcount(): the total and
 * the values inside one write section.  A shared writer may meet an
 * interrupt before it updates anything, the exclusive one inside its
 * load and store of the total.
 */
static int rmap_id_update(struct folio *folio, int diff, struct vm_area_struct *vma)
{
	struct mm_struct *mm = vma->vm_mm;
	struct rmap_id_layout l;
	bool exclusive;
	int total;

	folio_layout(folio, &l);
	exclusive = folio_write_large_rmap_begin(folio);
	/* A shared writer has company, the rare state H4 needs: its window
	 * lingers for an aimer in another MM that maps the folio. */
	if (!exclusive)
		ft_irq_window_exposed(FT_WIN_MAPCOUNT, mm, 0, 0, folio, true);
	total = total_add(folio, diff, exclusive, mm);
	vals_add(folio, &l, diff, mm_rmap_id(mm), exclusive);
	/*
	 * I1 holds while the section is exclusive: every completed add took
	 * its reference first, every completed sub drops its own after, and
	 * writers waiting for us already hold theirs.
	 */
	if (exclusive && ft_debug_vm(folio->pmem))
		RMAP_CHECK(folio, folio_ref_count(folio) >= total + 1,
			   "I1: refcount < mapcount");
	folio_write_large_rmap_end(folio, exclusive);
	RMAP_CHECK(folio, total >= -1, "large mapcount underflow");
	return total + 1;
}

static int rmap_id_add(struct folio *folio, int n, struct vm_area_struct *vma)
{
	sanity_checks(folio, n, vma->vm_mm);
	return rmap_id_update(folio, n, vma);
}

static int rmap_id_sub(struct folio *folio, int n, struct vm_area_struct *vma)
{
	sanity_checks(folio, n, vma->vm_mm);
	return rmap_id_update(folio, -n, vma);
}

/*
 * __folio_large_mapped_shared() (patch 09): with the total within the
 * folio's pages, shared unless every value is the total times @mm's
 * sub-ID; read in one reader section.
 */
static bool rmap_id_mapped_shared(struct folio *folio, struct mm_struct *mm)
{
	raw_atomic_seqcount_t *s = &folio->_rmap_atomic_seqcount;
	struct rmap_id_layout l;
	unsigned long seq;
	bool shared;

	folio_layout(folio, &l);
	for (;;) {
		int mapcount;

		seq = raw_read_atomic_seqcount_begin(s, &rmap_seqcount_class);
		mapcount = folio_large_mapcount(folio);
		shared = mapcount > 1 && (mapcount > (int)folio_nr_pages(folio) ||
					  !vals_match(folio, &l, mapcount, mm_rmap_id(mm)));
		if (!raw_read_atomic_seqcount_retry(s, seq))
			return shared;
		count_vm_event(folio->pmem, MAPCOUNT_READ_RETRY);
	}
}

/*
 * The chunk a value holds if it is @k times one sub-ID: its base-(P+1)
 * digits, each 0 or 1; -1 if it is not.
 */
static long value_chunk(const struct rmap_id_layout *l, u64 v, int k)
{
	long chunk = 0;

	if (v % (u64)k)
		return -1;
	v /= (u64)k;
	for (unsigned int b = 0; v; b++, v /= l->p + 1) {
		if (v % (l->p + 1) > 1 || b >= l->bits)
			return -1;
		chunk |= (long)(v % (l->p + 1)) << b;
	}
	return chunk;
}

/*
 * "Mapped shared" without an asker: exclusive to some MM iff every value
 * is the total times one sub-ID, and together they spell an id (R1 read
 * backwards).  The posting always asked for an MM; the snapshot and
 * folio_maybe_mapped_shared() have none.  @folio is read stable, and
 * @mapcount >= 1.
 */
static bool decodes_to_one_mm(struct folio *folio, int mapcount)
{
	struct rmap_id_layout l;
	u32 id = 0;

	folio_layout(folio, &l);
	if (mapcount > (int)folio_nr_pages(folio))
		return false;
	for (int x = 0; x < l.nr_values; x++) {
		long chunk = value_chunk(&l, rmap_val(folio, x), mapcount);

		if (chunk < 0)
			return false;
		id |= (u32)chunk << (x * l.bits);
	}
	return id != RMAP_ID_DUMMY;
}

static bool rmap_id_maybe_mapped_shared(const struct folio *folio)
{
	struct folio *f = (struct folio *)folio;	/* the reader only loads */
	raw_atomic_seqcount_t *s = &f->_rmap_atomic_seqcount;
	unsigned long seq;
	bool shared;

	for (;;) {
		int mapcount;

		seq = raw_read_atomic_seqcount_begin(s, &rmap_seqcount_class);
		mapcount = folio_large_mapcount(f);
		shared = mapcount > 1 && !decodes_to_one_mm(f, mapcount);
		if (!raw_read_atomic_seqcount_retry(s, seq))
			return shared;
		count_vm_event(f->pmem, MAPCOUNT_READ_RETRY);
	}
}

/*
 * wp_can_reuse_anon_folio() for a large folio (patch 10): no lock; give up
 * if a writer is active or the count moved.  Every mapping holds a
 * reference taken before its mapcount rises and dropped after it falls,
 * so refcount == total with the values all this MM's means every
 * reference is this MM's page tables'.
 */
static bool rmap_id_can_reuse_anon(struct folio *folio, struct vm_area_struct *vma)
{
	raw_atomic_seqcount_t *s = &folio->_rmap_atomic_seqcount;
	struct rmap_id_layout l;
	unsigned long start;
	int mapcount;
	bool match;

	/* As upstream: prefer copying a folio mapped once, so it can go. */
	if (folio_large_mapcount(folio) <= 1)
		return false;
	/* The swap cache's references: upstream frees them first too. */
	if (folio_test_swapcache(folio)) {
		if (!folio_trylock(folio))
			return false;
		folio_free_swap(folio);
		folio_unlock(folio);
	}
	folio_layout(folio, &l);
	start = raw_read_atomic_seqcount(s);
	if (start & ATOMIC_SEQCOUNT_WRITERS_MASK) {
		count_vm_event(folio->pmem, MAPCOUNT_READ_RETRY);
		return false;
	}
	mapcount = folio_large_mapcount(folio);
	if (mapcount > (int)folio_nr_pages(folio) || folio_entire_mapcount(folio))
		return false;
	if (folio_ref_count(folio) != mapcount)
		return false;
	/* Another MM may map the folio from here on: the section must see it. */
	ft_irq_window(FT_WIN_REUSE, vma->vm_mm, 0, 0, folio);
	match = vals_match(folio, &l, mapcount, mm_rmap_id(vma->vm_mm));
	if (raw_read_atomic_seqcount_retry(s, start)) {
		count_vm_event(folio->pmem, MAPCOUNT_READ_RETRY);
		return false;
	}
	return match;
}

/*
 * The snapshot holds the section exclusively, so the view stays still
 * while @locked runs: a writer that comes meanwhile waits.
 */
static void rmap_id_snapshot(struct folio *folio, struct ft_mapcount_snapshot *snap,
			     void (*locked)(const struct ft_mapcount_snapshot *snap, void *arg),
			     void *arg)
{
	raw_write_atomic_seqcount_begin_exclusive(&folio->_rmap_atomic_seqcount,
						  &rmap_seqcount_class);
	*snap = (struct ft_mapcount_snapshot){ .mapcount = folio_large_mapcount(folio) };
	snap->shared = snap->mapcount > 1 && !decodes_to_one_mm(folio, snap->mapcount);
	if (locked)
		locked(snap, arg);
	folio_write_large_rmap_end(folio, true);
}

/* __folio_prep_large_rmap(): for every folio; small ones never use it. */
static void rmap_id_prep(struct folio *folio)
{
	raw_seqcount_init(&folio->_rmap_atomic_seqcount);
	for (size_t x = 0; x < ARRAY_SIZE(folio->_rmap_val); x++)
		WRITE_ONCE(folio->_rmap_val[x], 0UL);
}

/* Unmapped means every value back at zero, and no writer left inside. */
static const char *rmap_id_free_check(const struct folio *folio)
{
	for (size_t x = 0; x < ARRAY_SIZE(folio->_rmap_val); x++)
		if (rmap_val(folio, (int)x))
			return "nonzero rmap value";
	if (READ_ONCE(folio->_rmap_atomic_seqcount.sequence) & ATOMIC_SEQCOUNT_WRITERS_MASK)
		return "atomic seqcount writer still active";
	return NULL;
}

static void rmap_id_print(FILE *out, const struct folio *folio)
{
	unsigned long seq = READ_ONCE(folio->_rmap_atomic_seqcount.sequence);

	fprintf(out, "rmap_id: seq %#lx (shared writers %lu%s) vals %#llx %#llx\n",
		seq / ATOMIC_SEQCOUNT_SEQUENCE_STEP, seq & ATOMIC_SEQCOUNT_SHARED_WRITERS_MASK,
		seq & ATOMIC_SEQCOUNT_EXCLUSIVE_WRITER ? ", exclusive" : "",
		(unsigned long long)rmap_val(folio, 0), (unsigned long long)rmap_val(folio, 1));
}

static const char *rmap_id_check_order(unsigned int order)
{
	struct rmap_id_layout l;
	const char *why;

	return rmap_id_layout(order, &l, &why) ? why : NULL;
}

const struct ft_mapcount_ops rmap_id_ops = {
	.name = "rmap_id",
	.desc = "the Nov 2023 design: per-MM rmap ids and sub-IDs summed per folio, "
		"exact while mapped at most nr_pages times, under an atomic seqcount",
	.lock_class = RMAP_SEQ_NAME,
	.caps = FT_MC_NO_FALSE_NEGATIVE | FT_MC_EXACT_NR_PAGES,
	.check_order = rmap_id_check_order,
	.set = rmap_id_set,
	.add = rmap_id_add,
	.sub = rmap_id_sub,
	.maybe_mapped_shared = rmap_id_maybe_mapped_shared,
	.mapped_shared = rmap_id_mapped_shared,
	.can_reuse_anon = rmap_id_can_reuse_anon,
	.snapshot = rmap_id_snapshot,
	.prep = rmap_id_prep,
	.free_check = rmap_id_free_check,
	.print = rmap_id_print,
};

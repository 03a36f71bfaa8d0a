// SPDX-License-Identifier: GPL-2.0-only
/*
 * test_shadow [--case=NAME]: the shadow-memory oracle (include/ft/check.h)
 * on the real model, as the torture driver uses it.  A parent writes the
 * first word of four pages, forks, and both read every word back.
 *
 *   clean          plus a MADV_DONTNEED, writes on both sides, a fork
 *                  during which the parent writes a new value (the child
 *                  may see it or not), a MADV_FREE: no report
 *   cow-broken     the parent's PTE of a shared page made writable behind
 *                  the model's back: the parent's next write lands in the
 *                  child's page, and the child's read must be reported
 *   lost-write     a page's content set back to an older value
 *   zero-no-zap    a page's content cleared without any zap
 *   zap-missed     a "zap" that leaves the page mapped (no MADV_DONTNEED
 *                  behind the shadow's zap): the old value must be reported
 *   dirty-lost     the dirty bit of a PTE just written through cleared
 *   fork-write-lost  the parent's write made during the fork undone (what a
 *                  COW fault during fork does with a stale TLB entry, Z14):
 *                  the parent's read is reported, the child's is not
 *   fork-late-write  the child's page shows a write the parent made after
 *                  the fork ended (the slot had a write during the fork)
 *   fork-foreign   ... a value another mm wrote
 *   fork-zero      ... zero
 *   lazyfree-zero  a page's content cleared after a MADV_FREE of it
 *   lazyfree-lost  a write made during a MADV_FREE undone
 *   zap-race-lost  writes during a MADV_DONTNEED, the last one undone
 *                  (no --tlb: no stale translation could have lost it)
 *   tlb-fresh-lost the same with --tlb, the writes through live translations
 *   pool-reuse     a freed shadow reused for the next of its size, as new
 *   tlb-stale-write  with --tlb, during a MADV_DONTNEED a write faults in a
 *                  new page and the next goes through a stale translation
 *                  into the old one: the earlier write is what is left, no
 *                  report
 *   tlb-stale-read with --tlb, a read through a stale translation shows the
 *                  old page: no report
 *   dirty-inherited  the child's copy of a dirty PTE made clean behind the
 *                  model's back: the child's check reports it
 *   begin-waits    ft_shadow_fork_begin() waits for a slot's claim holder
 *   reclaim-discard  the child's page made lazyfree and discarded by
 *                  reclaim (the discard hook tells the shadow): it reads
 *                  zero, no report
 *   reclaim-redirtied  the same page written again after MADV_FREE:
 *                  reclaim keeps it and makes it swap-backed, no report
 *   reclaim-swapin the child's written page swapped out and left in the
 *                  swap cache: the read maps the same page, clean (the
 *                  dirty rule ended at the swap-out), no report
 *   discard-written  a discard the shadow is told of, of a page written
 *                  after its MADV_FREE, and the page cleared: reported
 *   move           the parent's page 0 (its own copy) moved to page 8 by mremap and the
 *                  hole mapped again: page 8 reads page 0's values, page 0
 *                  zero, no report
 *   move-lost      the same, then the moved word cleared behind the
 *                  model's back, as a move that left the content behind:
 *                  reported at page 8, with page 0's value expected
 *   move-zap-before  the move, with a MADV_DONTNEED of page 8 that the
 *                  shadow hears of after the move began but that zaps
 *                  before the mremap (it does not take proc->move_lock),
 *                  and ends after it: page 8 keeps page 0's value, no
 *                  report (the shadow used to settle it to zero)
 *
 * The broken cases expect exactly one report and its text (ctest checks).
 */
#include <pthread.h>
#include <time.h>

#include "ft/check.h"
#include "ft/contpte.h"
#include "ft/report.h"
#include "ft/swap.h"
#include "mm_test.h"

#define NR_PFNS		(4UL << MAX_PAGE_ORDER)
#define TASK_SIZE	(8 * PMD_SIZE)
#define VA		(2 * PMD_SIZE)
#define NR_PAGES	16UL
#define NR_SLOTS	(NR_PAGES * FT_PAGE_WORDS)

static struct ft_pmem pmem;
static struct ft_world w;
static struct ft_random_state rs;
static bool tlb;		/* the shadows' --tlb (the world has no TLB) */

struct proc {
	struct mm_struct *mm;
	struct ft_shadow *sh;
};

/* The value write #@count of slot @idx by mm tag @tag stores. */
static unsigned long value_of(u32 tag, unsigned long idx, unsigned long count)
{
	return (unsigned long)tag << 32 | idx << 19 | count;
}

/* As the torture's workers do it (stress/torture_ops.c): word 0. */
static void write_page(struct proc *p, unsigned long page)
{
	unsigned long idx = page * FT_PAGE_WORDS;
	struct ft_shadow_write wr;
	unsigned long v;
	enum ft_fault_result r;

	ft_shadow_claim(p->sh, idx);
	ft_shadow_check_dirty(p->sh, idx, p->mm);
	ft_shadow_write_begin(p->sh, idx, &wr);
	v = wr.value;
	r = ft_user_access(p->mm, ft_shadow_addr(p->sh, idx), true, &v, &rs);
	ft_shadow_write_end(p->sh, idx, &wr, r == FT_FAULT_OK, false);
	if (r == FT_FAULT_OK)
		ft_shadow_note_write(p->sh, idx, &wr, p->mm);
	ft_shadow_release(p->sh, idx);
}

/* Reads every word; how many passed both checks. */
static unsigned long read_all(struct proc *p)
{
	unsigned long ok = 0;

	for (unsigned long i = 0; i < NR_SLOTS; i++) {
		u64 before = ft_report_failures();
		unsigned long v = ~0UL;

		ft_shadow_claim(p->sh, i);
		ft_shadow_check_dirty(p->sh, i, p->mm);
		ft_user_access(p->mm, ft_shadow_addr(p->sh, i), false, &v, &rs);
		ok += ft_shadow_check_read(p->sh, i, v, false, p->mm) &&
		      ft_report_failures() == before;
		ft_shadow_release(p->sh, i);
	}
	return ok;
}

static void fork_proc(struct proc *parent, struct proc *child, u32 tag)
{
	child->sh = ft_shadow_alloc(tag, VA, NR_PAGES, tlb);
	ft_shadow_fork_begin(parent->sh, child->sh, parent->mm);
	write_page(parent, 3);		/* during the fork: the child may see it */
	child->mm = ft_fork_hooked(parent->mm, child->sh);
	ft_shadow_fork_copy(child->sh, parent->sh);
}

static struct page *page_of(struct proc *p, unsigned long idx)
{
	struct ptdesc *pt = pmdp_get_lockless(pmd_off(p->mm, VA + idx * PAGE_SIZE));

	return pfn_to_page(&pmem, pte_pfn(__ptep_get(&pt->ptes[pte_index(VA + idx * PAGE_SIZE)])));
}

static pte_t *ptep_of(struct proc *p, unsigned long idx)
{
	struct ptdesc *pt = pmdp_get_lockless(pmd_off(p->mm, VA + idx * PAGE_SIZE));

	return &pt->ptes[pte_index(VA + idx * PAGE_SIZE)];
}

static void dontneed(struct proc *p, unsigned long page, unsigned long nr)
{
	ft_shadow_zap_begin(p->sh, page, nr);
	ft_madvise_dontneed(p->mm, VA + page * PAGE_SIZE, nr * PAGE_SIZE);
	ft_shadow_zap_end(p->sh, page, nr, true);
}

static void lazyfree(struct proc *p, unsigned long page, unsigned long nr)
{
	ft_shadow_clean_begin(p->sh, page, nr);
	ft_madvise_free(p->mm, VA + page * PAGE_SIZE, nr * PAGE_SIZE);
	ft_shadow_clean_end(p->sh, page, nr);
}

static struct page *old_page;	/* tlb-stale-*: the page the zap takes away */

/* A write of word 0 of @page through a stale translation, into old_page. */
static void stale_write(struct proc *p, unsigned long page)
{
	unsigned long idx = page * FT_PAGE_WORDS;
	struct ft_shadow_write wr;

	ft_shadow_claim(p->sh, idx);
	ft_shadow_write_begin(p->sh, idx, &wr);
	WRITE_ONCE(old_page->data[0], wr.value);
	ft_shadow_write_end(p->sh, idx, &wr, true, true);
	ft_shadow_release(p->sh, idx);
}

/* The child's page 3 shows what no fork of the parent could have left. */
static void plant_in_child(struct proc *parent, struct proc *child, const char *name)
{
	unsigned long v = 0;

	write_page(parent, 3);		/* #3, after the fork: a COW copy */
	if (!strcmp(name, "fork-late-write"))
		v = value_of(1, 3 * FT_PAGE_WORDS, 3);
	else if (!strcmp(name, "fork-foreign"))
		v = value_of(7, 3 * FT_PAGE_WORDS, 1);
	WRITE_ONCE(page_of(child, 3)->data[0], v);
}

/*
 * move, move-lost: @p's page 0, a COW copy of its own, moved to page 8
 * (MREMAP_FIXED), the hole mapped again as the torture's mmap would; @lose
 * clears the moved word.
 */
static void move_page0(struct proc *p, bool lose, bool zap_before)
{
	bool gap = false;
	struct ft_shadow_move *m;
	int ret;

	write_page(p, 0);
	m = ft_shadow_move_begin(p->sh, 0, 8, 1, &gap);
	if (zap_before) {
		ft_shadow_zap_begin(p->sh, 8, 1);
		ft_madvise_dontneed(p->mm, VA + 8 * PAGE_SIZE, PAGE_SIZE);
	}
	ret = ft_mremap(p->mm, VA, PAGE_SIZE, PAGE_SIZE, MREMAP_MAYMOVE | MREMAP_FIXED,
			VA + 8 * PAGE_SIZE);
	ft_shadow_move_end(p->sh, m, ret);
	if (zap_before)
		ft_shadow_zap_end(p->sh, 8, 1, true);
	ft_mmap(p->mm, VA, PAGE_SIZE, VM_READ | VM_WRITE);
	if (lose)
		WRITE_ONCE(page_of(p, 8)->data[0], 0);
}

static void break_model(const char *name, struct proc *parent, struct proc *child)
{
	if (!strcmp(name, "cow-broken")) {
		pte_t *ptep = ptep_of(parent, 2);

		__set_pte(ptep, pte_mkwrite_novma(pte_mkdirty(__ptep_get(ptep))));
		write_page(parent, 2);
	} else if (!strcmp(name, "lost-write")) {
		unsigned long old;

		write_page(child, 1);		/* the COW copy */
		old = READ_ONCE(page_of(child, 1)->data[0]);
		write_page(child, 1);
		WRITE_ONCE(page_of(child, 1)->data[0], old);
	} else if (!strcmp(name, "zero-no-zap")) {
		write_page(child, 0);		/* the child's own copy */
		WRITE_ONCE(page_of(child, 0)->data[0], 0);
	} else if (!strcmp(name, "zap-missed")) {
		ft_shadow_zap_begin(child->sh, 1, 1);
		ft_shadow_zap_end(child->sh, 1, 1, true);
	} else if (!strcmp(name, "fork-write-lost")) {
		/* Page 3 as the parent's first write left it (fork_proc). */
		WRITE_ONCE(page_of(parent, 3)->data[0], value_of(1, 3 * FT_PAGE_WORDS, 1));
	} else if (!strcmp(name, "dirty-lost")) {
		pte_t *ptep;

		write_page(child, 2);		/* the child's own, dirty copy */
		ptep = ptep_of(child, 2);
		__set_pte(ptep, pte_mkclean(__ptep_get(ptep)));
	} else if (!strcmp(name, "dirty-inherited")) {
		pte_t *ptep = ptep_of(child, 0);	/* dirty in the parent */

		__set_pte(ptep, pte_mkclean(__ptep_get(ptep)));
	} else if (!strncmp(name, "fork-", 5)) {
		plant_in_child(parent, child, name);
	} else if (!strcmp(name, "lazyfree-zero")) {
		write_page(child, 0);
		lazyfree(child, 0, 1);
		WRITE_ONCE(page_of(child, 0)->data[0], 0);
	} else if (!strcmp(name, "discard-written")) {
		write_page(child, 0);
		lazyfree(child, 0, 1);
		write_page(child, 0);		/* after the MADV_FREE: not droppable */
		ft_shadow_discard(child->sh, 0, 1);
		WRITE_ONCE(page_of(child, 0)->data[0], 0);
	} else if (!strncmp(name, "move", 4)) {
		move_page0(parent, !strcmp(name, "move-lost"), !strcmp(name, "move-zap-before"));
	} else if (!strcmp(name, "lazyfree-lost")) {
		write_page(child, 0);		/* #1, a page of the child's own */
		ft_shadow_clean_begin(child->sh, 0, 1);
		ft_madvise_free(child->mm, VA, PAGE_SIZE);
		write_page(child, 0);		/* #2 */
		write_page(child, 0);		/* #3 */
		ft_shadow_clean_end(child->sh, 0, 1);
		WRITE_ONCE(page_of(child, 0)->data[0], value_of(2, 0, 2));
	}
}

/*
 * zap-race-lost, tlb-fresh-lost: writes #2 and #3 during a MADV_DONTNEED
 * through live translations (the first faults in a new page); #3 undone.
 */
static void zap_race_lost(struct proc *p)
{
	write_page(p, 0);			/* #1: @p's own page */
	ft_shadow_zap_begin(p->sh, 0, 1);
	ft_madvise_dontneed(p->mm, VA, PAGE_SIZE);
	write_page(p, 0);			/* #2: faults in a new page */
	write_page(p, 0);			/* #3 */
	ft_shadow_zap_end(p->sh, 0, 1, true);
	WRITE_ONCE(page_of(p, 0)->data[0], value_of(2, 0, 2));
}

/*
 * tlb-stale-write: during a MADV_DONTNEED, #2 faults in a new page and #3
 * goes through a translation the zap has not flushed yet, into the old
 * page (kept by an extra reference, as until the flush): #2 is left.
 */
static void tlb_stale_write(struct proc *p)
{
	write_page(p, 0);			/* #1: @p's own page */
	old_page = page_of(p, 0);
	folio_get(page_folio(old_page));
	ft_shadow_zap_begin(p->sh, 0, 1);
	ft_madvise_dontneed(p->mm, VA, PAGE_SIZE);
	write_page(p, 0);			/* #2: faults in a new page */
	stale_write(p, 0);			/* #3: the stale store */
	ft_shadow_zap_end(p->sh, 0, 1, true);
	folio_put(page_folio(old_page));
}

/*
 * tlb-stale-read: during a MADV_DONTNEED, #2 goes into a new page; a read
 * through the stale translation shows #1 in the old page: no report.
 */
static void tlb_stale_read(struct proc *p, struct ft_ktap *k)
{
	unsigned long v;
	bool ok;

	write_page(p, 0);			/* #1: @p's own page */
	old_page = page_of(p, 0);
	ft_shadow_zap_begin(p->sh, 0, 1);
	ft_madvise_dontneed(p->mm, VA, PAGE_SIZE);
	write_page(p, 0);			/* #2: a new page */
	ft_shadow_claim(p->sh, 0);
	v = value_of(2, 0, 1);			/* what the old page held */
	ok = ft_shadow_check_read(p->sh, 0, v, true, p->mm);
	ft_shadow_release(p->sh, 0);
	ft_shadow_zap_end(p->sh, 0, 1, true);
	ft_ktap_result(k, ok, "tlb-stale-read: a stale read of the old page's #1 passes");
}

/* The cases of writes and reads that race a MADV_DONTNEED, in the child. */
static void race_case(const char *name, struct proc *child, struct ft_ktap *k)
{
	if (!strcmp(name, "tlb-stale-write")) {
		tlb_stale_write(child);
	} else if (!strcmp(name, "tlb-stale-read")) {
		tlb_stale_read(child, k);
	} else {
		zap_race_lost(child);
	}
}

/* The world's unmap hook, as the torture's (stress/torture_ops.c). */
static void unmap_hook(struct mm_struct *mm, unsigned long addr, unsigned long nr,
		       enum ft_unmap_kind kind)
{
	if (kind == FT_UNMAP_DISCARD)
		ft_shadow_discard(mm->hook_data, (addr - VA) >> PAGE_SHIFT, nr);
	else
		ft_shadow_swapout(mm->hook_data, (addr - VA) >> PAGE_SHIFT, nr);
}

/* reclaim-swapin: two passes (the young bits, then the swap cache and
 * the write-out) leave the page in the cache behind a swap entry. */
static void reclaim_swapin(struct proc *child, struct ft_ktap *k)
{
	struct folio *folio = NULL;
	pte_t pte;

	write_page(child, 0);			/* a COW copy of the child's own */
	ft_shrink_lru(&w, 64);
	ft_shrink_lru(&w, 64);
	pte = __ptep_get(ptep_of(child, 0));
	if (is_swapfile_entry(pte))
		folio = swap_cache_get_folio(&pmem, pte_swp_offset(pte));
	ft_ktap_result(k, folio, "reclaim-swapin: a swap entry, its page in the swap cache");
	if (folio)
		folio_put(folio);
	read_all(child);	/* swap-in: the same page, clean; checked next read */
}

/* reclaim-*: the child's own page 0 lazyfree, maybe written again, then reclaim. */
static void reclaim_case(const char *name, struct proc *child, struct ft_ktap *k)
{
	if (!strcmp(name, "reclaim-swapin")) {
		reclaim_swapin(child, k);
		return;
	}
	bool redirty = !strcmp(name, "reclaim-redirtied");
	u64 freed = ft_vm_event(&pmem, PGLAZYFREED);
	u64 redirtied = ft_vm_event(&pmem, PGLAZYFREE_REDIRTIED);

	write_page(child, 0);			/* a COW copy of the child's own */
	lazyfree(child, 0, 1);
	if (redirty)
		write_page(child, 0);
	/* Twice: a page used since the last scan is kept once (its young
	 * bits cleared), as folio_check_references() keeps it. */
	ft_shrink_lru(&w, 64);
	ft_shrink_lru(&w, 64);
	freed = ft_vm_event(&pmem, PGLAZYFREED) - freed;
	redirtied = ft_vm_event(&pmem, PGLAZYFREE_REDIRTIED) - redirtied;
	ft_ktap_result(k, redirty ? !freed && redirtied == 1 : freed == 1,
		       "%s: reclaim discarded %llu, found %llu redirtied", name,
		       (unsigned long long)freed, (unsigned long long)redirtied);
}

struct begin_arg {
	struct ft_shadow *child, *parent;
	int done;
};

static void *begin_thread(void *arg)
{
	struct begin_arg *a = arg;

	ft_shadow_fork_begin(a->parent, a->child, NULL);
	__atomic_store_n(&a->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

/* fork_begin() while another worker holds a slot of the parent. */
static int begin_waits(void)
{
	struct ft_shadow *parent = ft_shadow_alloc(1, VA, NR_PAGES, false);
	struct ft_shadow *child = ft_shadow_alloc(2, VA, NR_PAGES, false);
	struct begin_arg a = { child, parent, 0 };
	struct timespec tick = { 0, 100 * 1000 * 1000 };
	struct ft_ktap k = { 0 };
	pthread_t t;
	int early;

	ft_shadow_claim(parent, 5);
	pthread_create(&t, NULL, begin_thread, &a);
	nanosleep(&tick, NULL);
	early = __atomic_load_n(&a.done, __ATOMIC_ACQUIRE);
	ft_shadow_release(parent, 5);
	pthread_join(t, NULL);
	ft_ktap_start(1);
	ft_ktap_result(&k, !early, "begin-waits: the fork %s for the slot's claim",
		       early ? "did not wait" : "waited");
	ft_shadow_free(child);
	ft_shadow_free(parent);
	return ft_ktap_finish(&k);
}

/*
 * A freed shadow is kept for the next process of its size, and comes
 * back as new: a claim left held in it is gone, and so is a zap.
 */
static int pool_reuse(void)
{
	struct ft_shadow *a = ft_shadow_alloc(1, VA, NR_PAGES, true), *b;
	struct ft_ktap k = { 0 };
	bool claimed, inflight;
	u64 zaps;

	ft_shadow_claim(a, 3);
	ft_shadow_zap_begin(a, 1, 1);
	ft_shadow_zap_end(a, 1, 1, true);
	ft_shadow_free(a);
	b = ft_shadow_alloc(2, VA, NR_PAGES, true);
	claimed = ft_shadow_claim(b, 3);
	zaps = ft_shadow_zaps(b, 1, &inflight);
	ft_ktap_start(1);
	ft_ktap_result(&k, b == a && ft_shadow_tag(b) == 2 && claimed && !zaps,
		       "pool-reuse: the freed shadow came back (%s), claim %s, %llu zaps",
		       b == a ? "the same" : "another", claimed ? "free" : "still held",
		       (unsigned long long)zaps);
	ft_shadow_release(b, 3);
	ft_shadow_free(b);
	return ft_ktap_finish(&k);
}

static bool known_case(const char *name)
{
	static const char *const cases[] = {
		"clean", "cow-broken", "lost-write", "zero-no-zap", "zap-missed",
		"dirty-lost", "fork-write-lost", "fork-late-write", "fork-foreign",
		"fork-zero", "lazyfree-zero", "lazyfree-lost", "zap-race-lost",
		"tlb-fresh-lost", "tlb-stale-write", "tlb-stale-read", "dirty-inherited",
		"begin-waits", "reclaim-discard", "reclaim-redirtied", "reclaim-swapin",
		"discard-written", "move", "move-lost", "move-zap-before", "pool-reuse",
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
		if (!strcmp(name, cases[i]))
			return true;
	return false;
}

static void clean_run(struct proc *parent, struct proc *child)
{
	dontneed(child, 0, 2);
	write_page(parent, 0);
	write_page(child, 3);
	lazyfree(parent, 0, 4);
}

int main(int argc, char **argv)
{
	const char *name = ft_test_arg(argc, argv, "--case", "clean");
	struct proc parent = { 0 }, child = { 0 };
	struct ft_ktap k = { 0 };
	bool race = !strncmp(name, "zap-race", 8) || !strncmp(name, "tlb-", 4);
	bool reclaim = !strncmp(name, "reclaim-", 8);
	unsigned long ok;

	if (!known_case(name)) {
		fprintf(stderr, "--case: unknown case '%s'\n", name);
		return FT_EXIT_USAGE;
	}
	if (!strcmp(name, "begin-waits"))
		return begin_waits();
	if (!strcmp(name, "pool-reuse"))
		return pool_reuse();
	tlb = !strncmp(name, "tlb-", 4);
	if (ft_pmem_init(&pmem, NR_PFNS, ft_mapcount_model_find("owner_slots"), false) ||
	    ft_world_init(&w, &pmem, ft_locking_mode_find("upstream")))
		return FT_EXIT_INVARIANT;
	ft_random_init(&rs, 1, 0, 0, 0);
	w.unmap_hook = unmap_hook;
	parent.mm = mm_alloc(&w, TASK_SIZE);
	ft_mmap(parent.mm, VA, NR_PAGES * PAGE_SIZE, VM_READ | VM_WRITE);
	parent.sh = ft_shadow_alloc(1, VA, NR_PAGES, tlb);
	parent.mm->hook_data = parent.sh;
	for (unsigned long i = 0; i < 4; i++)
		write_page(&parent, i);
	fork_proc(&parent, &child, 2);
	ft_ktap_start((race && !strcmp(name, "tlb-stale-read")) || reclaim ? 3 : 2);
	if (!strcmp(name, "clean"))
		clean_run(&parent, &child);
	else if (reclaim)
		reclaim_case(name, &child, &k);
	else if (race)
		race_case(name, &child, &k);
	else
		break_model(name, &parent, &child);
	ok = read_all(&parent);
	ft_ktap_result(&k, ok == NR_SLOTS, "%s: the parent reads back %lu of %lu words",
		       name, ok, NR_SLOTS);
	ok = read_all(&child);
	ft_ktap_result(&k, ok == NR_SLOTS, "%s: the child reads back %lu of %lu words",
		       name, ok, NR_SLOTS);
	mmput(child.mm);
	mmput(parent.mm);
	ft_shadow_free(child.sh);
	ft_shadow_free(parent.sh);
	ft_world_destroy(&w);
	ft_pmem_destroy(&pmem);
	return ft_ktap_finish(&k);
}

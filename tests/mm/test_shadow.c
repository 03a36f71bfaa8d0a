// SPDX-License-Identifier: GPL-2.0-only
/*
 * test_shadow [--case=NAME]: the shadow-memory oracle (include/ft/check.h)
 * on the real model, as the torture driver uses it.  A parent writes the
 * first word of four pages, forks, and both read every word back.
 *
 *   clean         plus a MADV_DONTNEED, writes on both sides, a fork during
 *                 which the parent writes a new value (the child may see
 *                 it or not): no report
 *   cow-broken    the parent's PTE of a shared page made writable behind
 *                 the model's back: the parent's next write lands in the
 *                 child's page, and the child's read must be reported
 *   lost-write    a page's content set back to an older value
 *   zero-no-zap   a page's content cleared without any zap
 *   zap-missed    a "zap" that leaves the page mapped (no MADV_DONTNEED
 *                 behind the shadow's zap): the old value must be reported
 *   dirty-lost    the dirty bit of a PTE just written through cleared
 *   fork-write-lost  the parent's write made during the fork undone (what a
 *                 COW fault during fork does with a stale TLB entry, Z14):
 *                 the parent's read is reported, the child's is not
 *   forks-overlap two forks of the parent, the second begun while a write
 *                 counted by the first is in flight; the write lands after
 *                 the second's copy of the page tables: no report (the
 *                 second child may or may not see it)
 *   read-during-fork  a child whose slot is unknown forks; between the
 *                 page-table copy and the shadow's, it zaps the page and
 *                 reads zero: no report (its child keeps the old page)
 *   zap-race      during a MADV_DONTNEED of a page, a write faults in a
 *                 new page, and the next one goes through a translation
 *                 the zap has not flushed yet, into the old page: the
 *                 earlier write is what is left, no report
 *   copy-waits    the child's copy of a slot waits for the parent's claim
 *                 holder (a zap settling the slot, a first read of an
 *                 unknown one changes several fields at once)
 *
 * The broken cases expect exactly one report and its text (ctest checks).
 */
#include <pthread.h>
#include <time.h>

#include "ft/check.h"
#include "ft/contpte.h"
#include "ft/report.h"
#include "mm_test.h"

#define NR_PFNS		(4UL << MAX_PAGE_ORDER)
#define TASK_SIZE	(8 * PMD_SIZE)
#define VA		(2 * PMD_SIZE)
#define NR_PAGES	16UL

static struct ft_pmem pmem;
static struct ft_world w;
static struct ft_random_state rs;

struct proc {
	struct mm_struct *mm;
	struct ft_shadow *sh;
};

#define NR_SLOTS	(NR_PAGES * FT_PAGE_WORDS)

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
	ft_shadow_write_end(p->sh, idx, &wr, r == FT_FAULT_OK);
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
		ok += ft_shadow_check_read(p->sh, i, v, p->mm) &&
		      ft_report_failures() == before;
		ft_shadow_release(p->sh, i);
	}
	return ok;
}

static void fork_proc(struct proc *parent, struct proc *child, u32 tag)
{
	child->sh = ft_shadow_alloc(tag, VA, NR_PAGES);
	ft_shadow_fork_begin(parent->sh, child->sh);
	write_page(parent, 3);		/* during the fork: the child may see it */
	child->mm = ft_fork(parent->mm);
	ft_shadow_fork_copy(child->sh, parent->sh);
	ft_shadow_fork_end(parent->sh);
}

static struct page *page_of(struct proc *p, unsigned long idx)
{
	struct ptdesc *pt = pmdp_get_lockless(pmd_off(p->mm, VA + idx * PAGE_SIZE));

	return pfn_to_page(&pmem, pte_pfn(__ptep_get(&pt->ptes[pte_index(VA + idx * PAGE_SIZE)])));
}

static void break_model(const char *name, struct proc *parent, struct proc *child)
{
	if (!strcmp(name, "cow-broken")) {
		struct ptdesc *pt = pmdp_get_lockless(pmd_off(parent->mm, VA));
		pte_t *ptep = &pt->ptes[pte_index(VA + 2 * PAGE_SIZE)];

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
		ft_shadow_zap_end(child->sh, 1, 1, ft_shadow_zap_begin(child->sh, 1, 1), true);
	} else if (!strcmp(name, "fork-write-lost")) {
		/* Page 3 as the parent's first write left it (fork_proc). */
		WRITE_ONCE(page_of(parent, 3)->data[0],
			   1UL << 32 | 3UL * FT_PAGE_WORDS << 19 | 1);
	} else if (!strcmp(name, "dirty-lost")) {
		struct ptdesc *pt;
		pte_t *ptep;

		write_page(child, 2);		/* the child's own, dirty copy */
		pt = pmdp_get_lockless(pmd_off(child->mm, VA));
		ptep = &pt->ptes[pte_index(VA + 2 * PAGE_SIZE)];
		__set_pte(ptep, pte_mkclean(__ptep_get(ptep)));
	}
}

/* A second fork of @parent while a write counted by the first runs. */
static void forks_overlap(struct proc *parent, struct proc *a, struct proc *b)
{
	unsigned long idx = 3 * FT_PAGE_WORDS, v;
	struct ft_shadow_write wr;

	a->sh = ft_shadow_alloc(2, VA, NR_PAGES);
	b->sh = ft_shadow_alloc(3, VA, NR_PAGES);
	ft_shadow_fork_begin(parent->sh, a->sh);
	a->mm = ft_fork(parent->mm);
	ft_shadow_claim(parent->sh, idx);
	ft_shadow_write_begin(parent->sh, idx, &wr);	/* during A's fork */
	ft_shadow_fork_begin(parent->sh, b->sh);	/* waits for no such write */
	b->mm = ft_fork(parent->mm);
	v = wr.value;
	ft_shadow_write_end(parent->sh, idx, &wr,	/* a COW fault: after B */
			    ft_user_access(parent->mm, VA + 3 * PAGE_SIZE, true, &v,
					   &rs) == FT_FAULT_OK);
	ft_shadow_release(parent->sh, idx);
	ft_shadow_fork_copy(a->sh, parent->sh);
	ft_shadow_fork_end(parent->sh);
	ft_shadow_fork_copy(b->sh, parent->sh);
	ft_shadow_fork_end(parent->sh);
}

/*
 * The child @a, one of whose slots is unknown (the parent wrote it during
 * the fork), forks @b; between @b's page-table copy and its shadow copy
 * @a zaps that page and reads it for the first time (zero).
 */
static void read_during_fork(struct proc *parent, struct proc *a, struct proc *b)
{
	unsigned long idx = 3 * FT_PAGE_WORDS, v = ~0UL;
	u64 token;

	fork_proc(parent, a, 2);
	b->sh = ft_shadow_alloc(3, VA, NR_PAGES);
	ft_shadow_fork_begin(a->sh, b->sh);
	b->mm = ft_fork(a->mm);
	token = ft_shadow_zap_begin(a->sh, 3, 1);
	ft_madvise_dontneed(a->mm, VA + 3 * PAGE_SIZE, PAGE_SIZE);
	ft_shadow_zap_end(a->sh, 3, 1, token, true);
	ft_shadow_claim(a->sh, idx);
	ft_user_access(a->mm, ft_shadow_addr(a->sh, idx), false, &v, &rs);
	ft_shadow_check_read(a->sh, idx, v, a->mm);
	ft_shadow_release(a->sh, idx);
	ft_shadow_fork_copy(b->sh, a->sh);
	ft_shadow_fork_end(a->sh);
}

/* Case @name: @make builds three MMs, each must read back everything. */
static int three_mms(const char *name, struct proc *parent,
		     void (*make)(struct proc *, struct proc *, struct proc *))
{
	struct proc a = { 0 }, b = { 0 };
	struct proc *procs[] = { parent, &a, &b };
	struct ft_ktap k = { 0 };

	make(parent, &a, &b);
	ft_ktap_start(3);
	for (int i = 0; i < 3; i++) {
		unsigned long ok = read_all(procs[i]);

		ft_ktap_result(&k, ok == NR_SLOTS, "%s: mm tag %u reads back %lu of %lu "
			       "words", name, ft_shadow_tag(procs[i]->sh), ok, NR_SLOTS);
	}
	for (int i = 2; i >= 0; i--) {
		mmput(procs[i]->mm);
		ft_shadow_free(procs[i]->sh);
	}
	ft_world_destroy(&w);
	ft_pmem_destroy(&pmem);
	return ft_ktap_finish(&k);
}

/* Case zap-race: the old page kept by an extra reference, as until the flush. */
static void zap_race(struct proc *p)
{
	unsigned long idx = 0, v;
	struct ft_shadow_write wr;
	struct page *old;
	u64 token;

	write_page(p, 0);			/* @p's own page, not shared */
	old = page_of(p, 0);
	folio_get(page_folio(old));
	token = ft_shadow_zap_begin(p->sh, 0, 1);
	ft_madvise_dontneed(p->mm, VA, PAGE_SIZE);
	write_page(p, 0);			/* faults in a new page */
	ft_shadow_claim(p->sh, idx);
	ft_shadow_write_begin(p->sh, idx, &wr);
	v = wr.value;
	WRITE_ONCE(old->data[0], v);		/* the stale translation's store */
	ft_shadow_write_end(p->sh, idx, &wr, true);
	ft_shadow_release(p->sh, idx);
	ft_shadow_zap_end(p->sh, 0, 1, token, true);
	folio_put(page_folio(old));
}

struct copy_arg {
	struct ft_shadow *child, *parent;
	int done;
};

static void *copy_thread(void *arg)
{
	struct copy_arg *a = arg;

	ft_shadow_fork_copy(a->child, a->parent);
	__atomic_store_n(&a->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

/* fork_copy() while another worker holds a slot of the parent. */
static int copy_waits(void)
{
	struct ft_shadow *parent = ft_shadow_alloc(1, VA, NR_PAGES);
	struct ft_shadow *child = ft_shadow_alloc(2, VA, NR_PAGES);
	struct copy_arg a = { child, parent, 0 };
	struct timespec tick = { 0, 100 * 1000 * 1000 };
	struct ft_ktap k = { 0 };
	pthread_t t;
	int early;

	ft_shadow_claim(parent, 5);
	ft_shadow_fork_begin(parent, child);
	pthread_create(&t, NULL, copy_thread, &a);
	nanosleep(&tick, NULL);
	early = __atomic_load_n(&a.done, __ATOMIC_ACQUIRE);
	ft_shadow_release(parent, 5);
	pthread_join(t, NULL);
	ft_shadow_fork_end(parent);
	ft_ktap_start(1);
	ft_ktap_result(&k, !early, "copy-waits: the copy %s for the slot's claim",
		       early ? "did not wait" : "waited");
	ft_shadow_free(child);
	ft_shadow_free(parent);
	return ft_ktap_finish(&k);
}

static bool known_case(const char *name)
{
	static const char *const cases[] = {
		"clean", "cow-broken", "lost-write", "zero-no-zap", "zap-missed",
		"dirty-lost", "fork-write-lost", "forks-overlap", "read-during-fork",
		"zap-race", "copy-waits",
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
		if (!strcmp(name, cases[i]))
			return true;
	return false;
}

int main(int argc, char **argv)
{
	const char *name = ft_test_arg(argc, argv, "--case", "clean");
	bool clean = !strcmp(name, "clean");
	struct proc parent = { 0 }, child = { 0 };
	struct ft_ktap k = { 0 };
	unsigned long ok;

	bool overlap = !strcmp(name, "forks-overlap");
	bool read_fork = !strcmp(name, "read-during-fork");
	bool zap_raced = !strcmp(name, "zap-race");

	if (!known_case(name)) {
		fprintf(stderr, "--case: unknown case '%s'\n", name);
		return FT_EXIT_USAGE;
	}
	if (!strcmp(name, "copy-waits"))
		return copy_waits();
	if (ft_pmem_init(&pmem, NR_PFNS, ft_mapcount_model_find("owner_slots"), false) ||
	    ft_world_init(&w, &pmem, ft_locking_mode_find("upstream")))
		return FT_EXIT_INVARIANT;
	ft_random_init(&rs, 1, 0, 0, 0);
	parent.mm = mm_alloc(&w, TASK_SIZE);
	ft_mmap(parent.mm, VA, NR_PAGES * PAGE_SIZE, VM_READ | VM_WRITE);
	parent.sh = ft_shadow_alloc(1, VA, NR_PAGES);
	for (unsigned long i = 0; i < 4; i++)
		write_page(&parent, i);
	if (overlap || read_fork)
		return three_mms(name, &parent, overlap ? forks_overlap : read_during_fork);
	fork_proc(&parent, &child, 2);
	if (zap_raced) {
		zap_race(&child);
	} else if (clean) {
		u64 token = ft_shadow_zap_begin(child.sh, 0, 2);

		ft_madvise_dontneed(child.mm, VA, 2 * PAGE_SIZE);
		ft_shadow_zap_end(child.sh, 0, 2, token, true);
		write_page(&parent, 0);
		write_page(&child, 3);
	} else {
		break_model(name, &parent, &child);
	}
	ft_ktap_start(2);
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

// SPDX-License-Identifier: GPL-2.0-only
/*
 * test_fork_resume: the mid-block fork break experiment's counters
 * (struct ft_sched; README, "How to read a run": folded meanwhile, resume
 * unfolds).
 *
 * The parent maps one order-4 folio, folded and writable, over the whole
 * of a 16-page VMA, and page 2 of it is pinned.  Fork copies a maybe-pinned
 * exclusive page for the child, so it copies the folio page by page and
 * leaves the parent's block alone; under the kernel break policy at
 * threshold 8 it breaks before every page after the first, and each of
 * its 15 resumes finds the block CONT and writable.
 *
 *   pinned   fork alone: 15 breaks inside the block, no unfold, and no
 *            resume unfold (the counter counted 15 when it counted CONT
 *            and writable entries at the resume)
 *   unpin    thread 0 forks while thread 1 unpins, under the serial
 *            scheduler (PCT, depth 2), one schedule per scheduler seed.
 *            From the unpin on fork shares the pages and write-protects
 *            the parent's; the first page the child shares says where:
 *            at page j of 1..15, a resume inside the block, whose
 *            write-protect unfolded it (one resume unfold, and one unfold
 *            by write-protect); at page 0 (fork's first copy; an unfold
 *            there, if any, is no resume's) or at none (the unpin came
 *            after the last), no resume unfold
 *
 * Neither case folds a block during a break: folded meanwhile stays 0.
 */
#include <pthread.h>

#include "ft/contpte.h"
#include "ft/sched.h"
#include "mm_test.h"

#define NR_PFNS		(4UL << MAX_PAGE_ORDER)
#define NR_SEEDS	64
/* PCT's change point is drawn from fork's first PCT_STEPS scheduling
 * points; its copy of the folio takes about 700 in the default build. */
#define PCT_STEPS	800

static struct ft_pmem pmem;
static struct ft_world w;
static struct ft_random_state rs;
static struct ft_ktap k;

/* The kernel policy, breaking whenever the threshold is reached. */
static void sched_init(struct ft_sched *s, u64 seed)
{
	*s = (struct ft_sched){
		.policy = FT_BREAK_POLICY_KERNEL, .threshold = 8,
		.resched_ppm = 1000000, .no_yield = true,
	};
	ft_random_init(&s->rs, seed, 2, 0, 0);
}

static u64 wrprotect_unfolds(void)
{
	return ft_vm_event(&pmem, CONTPTE_UNFOLD_WRPROTECT) +
	       ft_vm_event(&pmem, CONTPTE_UNFOLD_WRPROTECT_PARTIAL);
}

static unsigned int nr_cont(struct mm_struct *mm)
{
	unsigned int n = 0;

	for (unsigned long i = 0; i < CONT_PTES; i++)
		n += pte_valid_cont(test_pte(mm, i));
	return n;
}

/* The parent: the folded, writable block, page 2 pinned. */
static struct mm_struct *new_parent(struct folio **pinned)
{
	struct mm_struct *mm = mm_alloc(&w, TEST_TASK_SIZE);

	if (!mm || ft_mmap(mm, TEST_VA, CONT_PTES * PAGE_SIZE, VM_READ | VM_WRITE) ||
	    !test_put(mm, 0, 1, &rs))
		abort();
	*pinned = ft_pin_user_page(mm, test_va(2));
	if (!*pinned || nr_cont(mm) != CONT_PTES || !pte_write(test_pte(mm, 0)))
		abort();
	return mm;
}

/* The first page @c shares with @p (CONT_PTES: none). */
static unsigned int first_shared(struct mm_struct *p, struct mm_struct *c)
{
	unsigned int j = 0;

	while (j < CONT_PTES && pte_pfn(test_pte(p, j)) != pte_pfn(test_pte(c, j)))
		j++;
	return j;
}

static void case_pinned(void)
{
	struct ft_sched sched;
	struct mm_struct *p, *c;
	struct folio *pinned;
	u64 unfolds;

	p = new_parent(&pinned);
	sched_init(&sched, 1);
	unfolds = wrprotect_unfolds();
	ft_sched_set_current(&sched);
	c = ft_fork(p);
	ft_sched_set_current(NULL);
	ft_ktap_result(&k, c && first_shared(p, c) == CONT_PTES &&
		       sched.n_fork_breaks_mid_block == CONT_PTES - 1 &&
		       nr_cont(p) == CONT_PTES && wrprotect_unfolds() == unfolds &&
		       sched.n_fork_resume_unfolds == 0 && sched.n_fork_break_folds == 0,
		       "pinned: %llu breaks inside the block, each resume finds it CONT "
		       "and writable (%u CONT entries after the fork), %llu unfolds by "
		       "write-protect, %llu resume unfolds",
		       (unsigned long long)sched.n_fork_breaks_mid_block, nr_cont(p),
		       (unsigned long long)(wrprotect_unfolds() - unfolds),
		       (unsigned long long)sched.n_fork_resume_unfolds);
	ft_unpin_user_page(pinned);
	mmput(c);
	mmput(p);
}

struct racer {
	struct mm_struct *parent, *child;
	struct folio *pinned;
	struct ft_sched sched;
	int id;
	pthread_t pthread;
};

static void *racer_fn(void *arg)
{
	struct racer *r = arg;

	ft_serial_enter(r->id);
	if (r->id == 0) {
		ft_sched_set_current(&r->sched);
		r->child = ft_fork(r->parent);
		ft_sched_set_current(NULL);
	} else {
		ft_unpin_user_page(r->pinned);
	}
	ft_serial_exit();
	return NULL;
}

/*
 * One schedule: true if the counters say what the child's pages do.
 * @seen[j] counts the schedules whose child shares from page j on.
 */
static bool one_seed(u64 seed, unsigned int seen[CONT_PTES + 1])
{
	struct ft_serial_params sp = {
		.nr_threads = 2, .strategy = FT_SCHED_PCT, .seed = seed,
		.pct_depth = 2, .pct_steps = PCT_STEPS,
	};
	struct racer r[2];
	struct folio *pinned;
	struct mm_struct *p = new_parent(&pinned);
	u64 unfolds = wrprotect_unfolds(), expect;
	unsigned int j;
	bool ok;

	if (ft_serial_init(&sp))
		abort();
	for (int i = 0; i < 2; i++)
		r[i] = (struct racer){ .parent = p, .pinned = pinned, .id = i };
	sched_init(&r[0].sched, seed);
	for (int i = 0; i < 2; i++)
		pthread_create(&r[i].pthread, NULL, racer_fn, &r[i]);
	for (int i = 0; i < 2; i++)
		pthread_join(r[i].pthread, NULL);
	ft_serial_destroy();
	if (!r[0].child)
		abort();
	j = first_shared(p, r[0].child);
	seen[j]++;
	expect = j >= 1 && j < CONT_PTES;
	ok = r[0].sched.n_fork_resume_unfolds == expect && r[0].sched.n_fork_break_folds == 0 &&
	     (!expect || (wrprotect_unfolds() - unfolds == 1 && nr_cont(p) == 0));
	if (!ok)
		fprintf(stderr, "# seed %llu: the child shares from page %u; %llu breaks "
			"inside the block, %llu unfolds by write-protect, %llu resume "
			"unfolds, %llu folded meanwhile\n", (unsigned long long)seed, j,
			(unsigned long long)r[0].sched.n_fork_breaks_mid_block,
			(unsigned long long)(wrprotect_unfolds() - unfolds),
			(unsigned long long)r[0].sched.n_fork_resume_unfolds,
			(unsigned long long)r[0].sched.n_fork_break_folds);
	mmput(r[0].child);
	mmput(p);
	return ok;
}

static void case_unpin(void)
{
	unsigned int seen[CONT_PTES + 1] = { 0 }, bad = 0, inside = 0;

	for (u64 seed = 1; seed <= NR_SEEDS; seed++)
		bad += !one_seed(seed, seen);
	for (unsigned int j = 2; j < CONT_PTES; j++)
		inside += seen[j];
	ft_ktap_result(&k, bad == 0, "unpin: one resume unfold exactly when the resumed "
		       "copy write-protected the block (%u of %u schedules not)", bad,
		       NR_SEEDS);
	/* Those that tell the counters apart: a resume after the first
	 * found the block CONT and writable too, and did not unfold it. */
	ft_ktap_result(&k, inside > 0 && seen[CONT_PTES] > 0,
		       "unpin: %u schedules shared from page 2..15 on (unfolded on a "
		       "later resume), %u from page 1, %u from page 0, %u shared none",
		       inside, seen[1], seen[0], seen[CONT_PTES]);
}

int main(void)
{
	test_world_init(&pmem, &w, NR_PFNS, "test_fork_resume");
	w.anon_orders = BIT(4);
	ft_random_init(&rs, 1, 0, 0, 0);
	ft_ktap_start(4);
	case_pinned();
	case_unpin();
	test_world_done(&k, &pmem, &w);
	return ft_ktap_finish(&k);
}

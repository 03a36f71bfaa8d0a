// SPDX-License-Identifier: GPL-2.0-only
/*
 * test_owner_slots_conc [--model=NAME] [--threads=N] [--iters=N] [--seed=S]
 *                       [--resched-ppm=N] [--no-page-mapcount] [--inject=NAME]
 *
 * Threads acting for different MMs map and unmap random batches of pages of
 * a few shared anon folios through the model, while a checker thread
 * compares the model with what the threads did.  Each thread publishes,
 * per folio, a lower bound of its mappings (raised after an add returns,
 * lowered before a remove starts) and an upper bound (raised before an add,
 * lowered after a remove).  The model's lock (rmap_id: its write section,
 * which the snapshot holds exclusively) orders every add and remove with
 * the checker's snapshot, so under that lock:
 *   sum(lower) <= mapcount <= sum(upper),
 *   a slot never says more than its MM's upper bound (I4),
 *   SHARED clear with mapcount >= 2 => at most one MM with lower > 0 (P-c),
 * and the model's own checks (I1, I3, I5, I6, I8, I10) run inside every
 * update.  The interrupt windows inside the updates yield with
 * probability --resched-ppm per million (100000), as the torture's do.
 * At the end every folio must be unmapped with free slots and a clear
 * SHARED bit, and free without a bad page report.  With
 * --inject=mapcount-unlocked (H1, doc/invariants.md), or under rmap_id
 * --inject=seqcount-exclusive-ignores-shared (H4), it must fail.
 */
#include <pthread.h>

#include "ft/zoo.h"
#include "mm_test.h"

#define NR_FOLIOS	6
#define MAX_THREADS	16
#define MAX_PAGES	16
#define NR_PFNS		(4UL << MAX_PAGE_ORDER)

struct shared {
	struct ft_pmem pmem;
	struct mm_id_space ids;
	struct test_mm mm[MAX_THREADS + 1];	/* the last one sets up */
	struct folio *folio[NR_FOLIOS];
	int lower[NR_FOLIOS][MAX_THREADS];	/* atomics (seq_cst) */
	int upper[NR_FOLIOS][MAX_THREADS];
	int nr_threads;
	u64 iters, seed;
	u32 resched_ppm;			/* the workers' interrupt windows */
	int stop;				/* the checker stops */
	u64 n_checks, n_shared_seen, failures;	/* checker only */
};

struct worker {
	struct shared *sh;
	int id;
	pthread_t pthread;
	struct ft_random_state rs;
	struct ft_sched sched;
	bool mapped[NR_FOLIOS][MAX_PAGES];
};

static void bound_add(int *b, int n)
{
	__atomic_add_fetch(b, n, __ATOMIC_SEQ_CST);
}

static bool all_pages(const struct worker *w, int f, int i, int n, bool mapped)
{
	for (int j = i; j < i + n; j++)
		if (w->mapped[f][j] != mapped)
			return false;
	return true;
}

static void map_range(struct worker *w, int f, int i, int n)
{
	struct shared *sh = w->sh;
	struct folio *folio = sh->folio[f];

	bound_add(&sh->upper[f][w->id], n);
	folio_ref_add(folio, n);		/* reference before mapcount */
	folio_add_anon_rmap_ptes(folio, folio_page(folio, i), n,
				 &sh->mm[w->id].vma, test_addr(folio, i), RMAP_NONE);
	bound_add(&sh->lower[f][w->id], n);
	for (int j = i; j < i + n; j++)
		w->mapped[f][j] = true;
}

static void unmap_range(struct worker *w, int f, int i, int n)
{
	struct shared *sh = w->sh;
	struct folio *folio = sh->folio[f];

	bound_add(&sh->lower[f][w->id], -n);
	folio_remove_rmap_ptes(folio, folio_page(folio, i), n, &sh->mm[w->id].vma);
	folio_put_refs(folio, n);		/* never the last: the test's ref */
	bound_add(&sh->upper[f][w->id], -n);
	for (int j = i; j < i + n; j++)
		w->mapped[f][j] = false;
}

static void *worker_fn(void *arg)
{
	struct worker *w = arg;
	struct shared *sh = w->sh;

	/* Interrupt windows inside the updates yield, as in the torture. */
	w->sched = (struct ft_sched){ .policy = FT_BREAK_POLICY_RANDOM,
				      .resched_ppm = sh->resched_ppm };
	ft_random_init(&w->sched.rs, sh->seed, 0x6972, (u64)w->id, 0);
	ft_sched_set_current(&w->sched);
	for (u64 it = 0; it < sh->iters; it++) {
		int f = (int)ft_random_below(&w->rs, NR_FOLIOS);
		struct folio *folio = sh->folio[f];
		int nr = (int)folio_nr_pages(folio);
		int i = (int)ft_random_below(&w->rs, nr);
		int n = 1 + (int)ft_random_below(&w->rs, nr - i);

		if (all_pages(w, f, i, n, false))
			map_range(w, f, i, n);
		else if (all_pages(w, f, i, n, true))
			unmap_range(w, f, i, n);
		/* The lockless readers run against all of it. */
		folio_maybe_mapped_shared(folio);
		wp_can_reuse_large_anon_folio(folio, &sh->mm[w->id].vma);
	}
	for (int f = 0; f < NR_FOLIOS; f++)
		for (int i = 0; i < MAX_PAGES; i++)
			if (w->mapped[f][i])
				unmap_range(w, f, i, 1);
	ft_sched_set_current(NULL);
	return NULL;
}

struct check_ctx {
	struct shared *sh;
	int f;
};

static void __printf(2, 3) check_fail(struct shared *sh, const char *fmt, ...)
{
	va_list ap;

	if (++sh->failures > 5)
		return;
	printf("# FAIL: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

static int mm_index(const struct shared *sh, mm_id_t id)
{
	for (int t = 0; t < sh->nr_threads; t++)
		if (sh->mm[t].mm.mm_id == id)
			return t;
	return -1;
}

/* Runs under the model's lock: compare with the published bounds. */
static void check_locked(const struct ft_mapcount_snapshot *s, void *arg)
{
	struct check_ctx *c = arg;
	struct shared *sh = c->sh;
	int lo = 0, hi = 0, mappers = 0;

	for (int t = 0; t < sh->nr_threads; t++) {
		int l = __atomic_load_n(&sh->lower[c->f][t], __ATOMIC_SEQ_CST);

		lo += l;
		hi += __atomic_load_n(&sh->upper[c->f][t], __ATOMIC_SEQ_CST);
		mappers += l > 0;
	}
	if (s->mapcount < lo || s->mapcount > hi)
		check_fail(sh, "folio %d: mapcount %d outside [%d, %d]", c->f,
			   s->mapcount, lo, hi);
	for (int i = 0; i < s->nr_slots; i++) {
		int t = mm_index(sh, s->slot[i].id);

		if (s->slot[i].id && (t < 0 || s->slot[i].mapcount >
				      __atomic_load_n(&sh->upper[c->f][t], __ATOMIC_SEQ_CST)))
			check_fail(sh, "folio %d: I4: slot %d claims %d mappings for mm "
				   "id %u", c->f, i, s->slot[i].mapcount, s->slot[i].id);
	}
	if (!s->shared && s->mapcount >= 2 && mappers > 1)
		check_fail(sh, "folio %d: P-c: SHARED clear, mapcount %d, %d MMs map",
			   c->f, s->mapcount, mappers);
	sh->n_shared_seen += s->shared;
	sh->n_checks++;
}

static void *checker_fn(void *arg)
{
	struct shared *sh = arg;
	struct ft_random_state rs;

	ft_random_init(&rs, sh->seed, 0x636b, 0, 0);
	while (!__atomic_load_n(&sh->stop, __ATOMIC_ACQUIRE)) {
		struct check_ctx c = { sh, (int)ft_random_below(&rs, NR_FOLIOS) };
		struct ft_mapcount_snapshot s;

		folio_mc(sh->folio[c.f])->snapshot(sh->folio[c.f], &s, check_locked, &c);
	}
	return NULL;
}

/* An anon folio that nobody maps, held by one test reference. */
static struct folio *make_anon_folio(struct shared *sh, unsigned int order)
{
	struct test_mm *setup = &sh->mm[sh->nr_threads];
	struct folio *folio = folio_alloc(&sh->pmem, order, NULL);
	int nr = (int)folio_nr_pages(folio);

	folio_ref_add(folio, nr);
	folio_add_new_anon_rmap(folio, &setup->vma, test_addr(folio, 0), RMAP_NONE);
	folio_remove_rmap_ptes(folio, folio->page, nr, &setup->vma);
	folio_put_refs(folio, nr);
	return folio;
}

int main(int argc, char **argv)
{
	static struct shared sh;
	const char *inject = ft_test_arg(argc, argv, "--inject", NULL);
	const struct ft_mapcount_ops *model =
		ft_mapcount_model_find(ft_test_arg(argc, argv, "--model", "owner_slots"));
	struct worker w[MAX_THREADS];
	struct ft_ktap k = { 0 };
	pthread_t checker;
	bool clean = true;

	sh.nr_threads = (int)ft_test_arg_u64(argc, argv, "--threads", 4);
	sh.iters = ft_test_arg_u64(argc, argv, "--iters", 100000);
	sh.seed = ft_test_arg_u64(argc, argv, "--seed", 1);
	sh.resched_ppm = (u32)ft_test_arg_u64(argc, argv, "--resched-ppm", 100000);
	if (!model || sh.nr_threads < 2 || sh.nr_threads > MAX_THREADS ||
	    (inject && ft_inject_enable(inject)) ||
	    ft_pmem_init(&sh.pmem, NR_PFNS, model,
			 ft_test_flag(argc, argv, "--no-page-mapcount")) ||
	    mm_id_space_init(&sh.ids, MM_ID_MAX))
		return FT_EXIT_USAGE;
	for (int t = 0; t <= sh.nr_threads; t++)
		test_mm_init(&sh.mm[t], &sh.ids);
	for (int f = 0; f < NR_FOLIOS; f++)
		sh.folio[f] = make_anon_folio(&sh, 2 + f % 3);

	pthread_create(&checker, NULL, checker_fn, &sh);
	for (int t = 0; t < sh.nr_threads; t++) {
		w[t] = (struct worker){ .sh = &sh, .id = t };
		ft_random_init(&w[t].rs, sh.seed, 0x776b, (u64)t, 0);
		pthread_create(&w[t].pthread, NULL, worker_fn, &w[t]);
	}
	for (int t = 0; t < sh.nr_threads; t++)
		pthread_join(w[t].pthread, NULL);
	__atomic_store_n(&sh.stop, 1, __ATOMIC_RELEASE);
	pthread_join(checker, NULL);

	ft_ktap_start(4);
	ft_ktap_result(&k, !sh.failures && sh.n_checks > 0,
		       "%d threads x %llu ops: %llu checks under the lock (%llu saw "
		       "SHARED), %llu failures", sh.nr_threads,
		       (unsigned long long)sh.iters, (unsigned long long)sh.n_checks,
		       (unsigned long long)sh.n_shared_seen,
		       (unsigned long long)sh.failures);
	for (int f = 0; f < NR_FOLIOS; f++) {
		struct ft_mapcount_snapshot s;

		folio_mapcount_snapshot(sh.folio[f], &s);
		clean = clean && !s.mapcount && !s.shared && !s.slot[0].id &&
			!s.slot[1].id && folio_ref_count(sh.folio[f]) == 1;
		folio_put(sh.folio[f]);
	}
	ft_ktap_result(&k, clean, "all unmapped: mapcount 0, slots free, SHARED "
		       "clear, one reference left");
	ft_ktap_result(&k, ft_pmem_nr_used_pages(&sh.pmem) == 0 && !sh.pmem.stats.n_bad,
		       "every folio freed, none bad");
	ft_ktap_result(&k, ft_report_failures() == 0, "no inline check fired (%llu)",
		       (unsigned long long)ft_report_failures());
	mm_id_space_destroy(&sh.ids);
	ft_pmem_destroy(&sh.pmem);
	return ft_ktap_finish(&k);
}

// SPDX-License-Identifier: GPL-2.0-only
/*
 * --bench: what a PTE costs in the model and in the kernel of this machine,
 * measured in the same run, single-threaded.  Three operations on N pages:
 *
 *   fault      first write to each page of a fresh private anonymous mapping
 *   fork-copy  fork of the process (the mm) that maps the N written pages
 *   zap        munmap of the N pages, after the fork's child is gone
 *
 * Each figure is the median of --repeat runs, divided by N.  The kernel's
 * fork also pays for the whole process (mm, VMAs, files, the task), so
 * fork-copy is (fork with the pages - fork without them) / N.  The model's
 * fork has fixed costs too (mm_alloc, the VMA and anon_vma copy): a few us,
 * lost in N = 65536 but most of the figure at N = 16, so it gets the same
 * subtraction and both columns mean the same thing.  The lock validator is
 * off: the kernel figures have no lockdep either.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ft/lock.h"
#include "ft/mapcount.h"
#include "ft/mm.h"
#include "ft/pgtable.h"
#include "ft/report.h"
#include "stress.h"

#define BN_MAX_REPEAT	99
#define BN_VA		PMD_SIZE	/* PMD- and contpte-aligned */

#ifdef __OPTIMIZE__
#define BN_OPTIMIZED	1
#else
#define BN_OPTIMIZED	0	/* the model's figures say little: even -q says so */
#endif

/* What is timed; BN_FORK_BASE is fork without the pages. */
enum { BN_FAULT, BN_FORK, BN_ZAP, BN_FORK_BASE, NR_BN_TIMES };

static const char *const bn_op_names[] = { "fault", "fork-copy", "zap" };

struct bn_params {
	u64 pages;
	u64 repeat;
	unsigned long orders;		/* one model table per bit: order n */
	bool quiet;
};

/* The model's machine, shared by every order and repetition. */
struct bn_model {
	struct ft_pmem pmem;
	struct ft_world w;
	struct ft_random_state rs;
	unsigned long len, task_size;
};

static struct bn_model bn_model;
static u64 bn_ns[NR_BN_TIMES][BN_MAX_REPEAT];	/* one run's ns per repetition */

static int __printf(1, 2) bn_fail(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, FT_PROG " --bench: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	return FT_EXIT_INVARIANT;
}

static double median(const u64 *t, unsigned int n)
{
	u64 s[BN_MAX_REPEAT];

	/* Insertion sort: n is at most BN_MAX_REPEAT. */
	for (unsigned int i = 0, j; i < n; i++) {
		for (j = i; j > 0 && s[j - 1] > t[i]; j--)
			s[j] = s[j - 1];
		s[j] = t[i];
	}
	return n % 2 ? (double)s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2.0;
}

/* ns per PTE of each operation, from the medians of bn_ns. */
static void per_pte(const struct bn_params *p, double out[BN_FORK_BASE])
{
	unsigned int r = (unsigned int)p->repeat;
	double fork = median(bn_ns[BN_FORK], r) - median(bn_ns[BN_FORK_BASE], r);

	out[BN_FAULT] = median(bn_ns[BN_FAULT], r) / p->pages;
	/* Noise can make a tiny N's difference negative: no PTE is free. */
	out[BN_FORK] = (fork > 0 ? fork : 0) / p->pages;
	out[BN_ZAP] = median(bn_ns[BN_ZAP], r) / p->pages;
}

/* ---- The kernel ---------------------------------------------------------------- */

/* fork() to its return in the parent; the child leaves at once. */
static int kernel_fork(u64 *ns)
{
	u64 t0 = ft_now_ns();
	pid_t pid = fork();
	int status;

	if (pid == 0)
		_exit(0);
	*ns = ft_now_ns() - t0;
	if (pid < 0)
		return bn_fail("kernel: fork: %s", strerror(errno));
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return bn_fail("kernel: the fork child did not exit cleanly");
	return 0;
}

static int kernel_run(const struct bn_params *p, unsigned int r, size_t kpage)
{
	size_t len = p->pages * kpage, step = kpage / sizeof(unsigned long);
	volatile unsigned long *mem;
	u64 t0;

	mem = mmap(NULL, len, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		return bn_fail("kernel: mmap of %zu bytes: %s", len, strerror(errno));
	/* Base pages whatever the THP setting, as the order-0 model; an
	 * error only means a kernel without THP. */
	madvise((void *)mem, len, MADV_NOHUGEPAGE);
	t0 = ft_now_ns();
	for (u64 i = 0; i < p->pages; i++)
		mem[i * step] = i;
	bn_ns[BN_FAULT][r] = ft_now_ns() - t0;
	if (kernel_fork(&bn_ns[BN_FORK][r])) {
		munmap((void *)mem, len);
		return FT_EXIT_INVARIANT;
	}
	t0 = ft_now_ns();
	if (munmap((void *)mem, len))
		return bn_fail("kernel: munmap: %s", strerror(errno));
	bn_ns[BN_ZAP][r] = ft_now_ns() - t0;
	return kernel_fork(&bn_ns[BN_FORK_BASE][r]);
}

/* ---- The model ------------------------------------------------------------------ */

static int model_init(struct bn_model *m, const struct bn_params *p)
{
	const unsigned long block = 1UL << MAX_PAGE_ORDER;
	/* Fork shares the pages, but room for two copies costs little. */
	unsigned long nr_pfns = DIV_ROUND_UP(2 * p->pages + block, block) * block;

	m->len = p->pages * PAGE_SIZE;
	m->task_size = DIV_ROUND_UP(BN_VA + m->len, PMD_SIZE) * PMD_SIZE;
	ft_random_init(&m->rs, 1, 0, 0, 0);
	if (ft_pmem_init(&m->pmem, nr_pfns, ft_mapcount_model_find("owner_slots"),
			 false))
		return bn_fail("model: no memory for %lu pages", nr_pfns);
	if (ft_world_init(&m->w, &m->pmem, ft_locking_mode_find("upstream"))) {
		ft_pmem_destroy(&m->pmem);
		return bn_fail("model: no memory for the world");
	}
	return 0;
}

/* The first write to each page: a fault per page, or per large folio. */
static int model_touch(struct bn_model *m, struct mm_struct *mm, u64 pages)
{
	for (u64 i = 0; i < pages; i++) {
		unsigned long addr = BN_VA + i * PAGE_SIZE, v = i;

		if (ft_user_access(mm, addr, true, &v, &m->rs) != FT_FAULT_OK)
			return bn_fail("model: write fault at %#lx failed", addr);
	}
	return 0;
}

/* ft_fork of @mm, timed; the child's exit is not. */
static int model_fork(struct mm_struct *mm, u64 *ns)
{
	u64 t0 = ft_now_ns();
	struct mm_struct *child = ft_fork(mm);

	*ns = ft_now_ns() - t0;
	if (!child)
		return bn_fail("model: ft_fork failed");
	mmput(child);
	return 0;
}

/* The kernel's sequence: fault, fork, the child exits, zap, fork again. */
static int model_run(struct bn_model *m, const struct bn_params *p, unsigned int r)
{
	struct mm_struct *mm = mm_alloc(&m->w, m->task_size);
	int ret;
	u64 t0;

	if (!mm)
		return bn_fail("model: mm_alloc failed");
	ret = ft_mmap(mm, BN_VA, m->len, VM_READ | VM_WRITE);
	if (ret) {
		mmput(mm);
		return bn_fail("model: ft_mmap: %s", strerror(-ret));
	}
	t0 = ft_now_ns();
	ret = model_touch(m, mm, p->pages);
	bn_ns[BN_FAULT][r] = ft_now_ns() - t0;
	if (!ret)
		ret = model_fork(mm, &bn_ns[BN_FORK][r]);
	if (!ret) {
		t0 = ft_now_ns();
		ret = ft_munmap(mm, BN_VA, m->len);
		bn_ns[BN_ZAP][r] = ft_now_ns() - t0;
		if (ret)
			ret = bn_fail("model: ft_munmap: %s", strerror(-ret));
	}
	if (!ret)
		ret = model_fork(mm, &bn_ns[BN_FORK_BASE][r]);
	mmput(mm);
	return ret;
}

/* Nothing may be left but the zero page, and no oracle may have fired. */
static int model_destroy(struct bn_model *m)
{
	unsigned long used = ft_pmem_nr_used_pages(&m->pmem);
	int ret = 0;

	if (used != 1)
		ret = bn_fail("model: %lu pages in use at the end, not 1 (the "
			      "zero page): a leak", used);
	else if (ft_report_failures() || m->pmem.stats.n_bad)
		ret = bn_fail("model: %llu oracle failures, %llu bad pages",
			      (unsigned long long)ft_report_failures(),
			      (unsigned long long)m->pmem.stats.n_bad);
	ft_world_destroy(&m->w);
	ft_pmem_destroy(&m->pmem);
	return ret;
}

/* ---- The mode --------------------------------------------------------------------- */

static void print_table(const struct bn_params *p, unsigned int order,
			const double *model, const double *kernel)
{
	printf(FT_PROG " --bench: %llu pages, median of %llu, lockdep off, "
	       "order-%u folios%s\n", (unsigned long long)p->pages,
	       (unsigned long long)p->repeat, order,
	       order ? " in the model, base pages in the kernel" : "");
	printf("op            model ns/PTE   kernel ns/PTE   model/kernel\n");
	for (int i = BN_FAULT; i < BN_FORK_BASE; i++) {
		printf("%-13s %12.1f %15.1f", bn_op_names[i], model[i], kernel[i]);
		if (kernel[i] > 0)
			printf(" %14.2f\n", model[i] / kernel[i]);
		else
			printf(" %14s\n", "-");
	}
}

static void print_notes(struct bn_model *m, size_t kpage)
{
	printf("kernel: %zu-byte pages (MADV_NOHUGEPAGE); model: one thread, no "
	       "breaks, inline checks %s%s\n", kpage,
	       ft_debug_vm(&m->pmem) ? "on" : "off",
	       BN_OPTIMIZED ? "" : ", UNOPTIMIZED BUILD: not representative");
	printf("fork-copy: (fork with the pages - fork without) / pages on both "
	       "sides; zap: munmap\nafter the child exited (the model's munmap "
	       "keeps its page tables, the kernel's frees them)\n");
}

static int bench(const struct bn_params *p)
{
	size_t kpage = (size_t)sysconf(_SC_PAGESIZE);
	double kernel[BN_FORK_BASE], model[BN_FORK_BASE];
	struct bn_model *m = &bn_model;
	int ret = 0;

	/* The kernel first: its fork then copies none of the model's memory. */
	for (unsigned int r = 0; r < p->repeat && !ret; r++)
		ret = kernel_run(p, r, kpage);
	if (!ret)
		ret = model_init(m, p);
	if (ret)
		return ret;
	per_pte(p, kernel);
	for (unsigned int order = 0; order <= MAX_PAGE_ORDER; order++) {
		if (!(p->orders & BIT(order)))
			continue;
		/* Order 0 always: the fallback where a large folio won't fit. */
		m->w.anon_orders = BIT(0) | BIT(order);
		for (unsigned int r = 0; r < p->repeat && !ret; r++)
			ret = model_run(m, p, r);
		if (ret)
			break;
		per_pte(p, model);
		print_table(p, order, model, kernel);
	}
	if (!ret && (!p->quiet || !BN_OPTIMIZED))
		print_notes(m, kpage);
	return model_destroy(m) ?: ret;
}

static int parse_orders(const char *list, unsigned long *orders)
{
	char buf[64], *cur = buf, *s;
	u64 order;
	int ret;

	if (strlen(list) >= sizeof(buf))
		return ft_usage_error("--orders: list too long");
	strcpy(buf, list);
	*orders = 0;
	while ((s = ft_list_next(&cur))) {
		if (!*s)
			return ft_opt_list_empty("orders", list);
		ret = ft_opt_u64("orders", s, 0, MAX_PAGE_ORDER, &order);
		if (ret)
			return ret;
		if (*orders & BIT(order))
			return ft_usage_error("--orders: %llu given twice",
					      (unsigned long long)order);
		*orders |= BIT(order);
	}
	return 0;
}

static void usage(void)
{
	printf("usage: " FT_PROG " --bench [options]\n"
	       "  --pages=N            pages per run, 16..1048576 (default 65536)\n"
	       "  --repeat=R           runs per figure, the median is shown, "
	       "1..%d (default 5)\n"
	       "  --orders=LIST        model folio orders, comma-separated, 0..%d, "
	       "one table each\n"
	       "                       (default 0; 4 is arm64's 64K contpte block)\n"
	       "  -q, --quiet          only the tables\n"
	       "ns per PTE of first-touch write fault, fork and munmap, model and "
	       "kernel,\nsingle-threaded, the lock validator off.\n",
	       BN_MAX_REPEAT, MAX_PAGE_ORDER);
}

enum { OPT_PAGES = 256, OPT_REPEAT, OPT_ORDERS, OPT_HELP };

static const struct option bn_options[] = {
	{ "pages", required_argument, NULL, OPT_PAGES },
	{ "repeat", required_argument, NULL, OPT_REPEAT },
	{ "orders", required_argument, NULL, OPT_ORDERS },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, OPT_HELP },
	{ NULL, 0, NULL, 0 },
};

static int parse_option(struct bn_params *p, int opt, char **argv)
{
	switch (opt) {
	case OPT_PAGES:
		return ft_opt_u64("pages", optarg, 16, 1UL << 20, &p->pages);
	case OPT_REPEAT:
		return ft_opt_u64("repeat", optarg, 1, BN_MAX_REPEAT, &p->repeat);
	case OPT_ORDERS:
		return parse_orders(optarg, &p->orders);
	case 'q':
		p->quiet = true;
		return 0;
	default:
		return ft_bad_option(opt, argv);
	}
}

int cmd_bench(int argc, char **argv)
{
	struct bn_params p = { .pages = 65536, .repeat = 5, .orders = BIT(0) };
	bool lockdep_was = lockdep_enabled();
	int opt, ret;

	opterr = 0;
	optind = 1;
	while ((opt = getopt_long(argc, argv, ":qh", bn_options, NULL)) != -1) {
		if (opt == OPT_HELP || opt == 'h') {
			usage();
			return FT_EXIT_SUCCESS;
		}
		ret = parse_option(&p, opt, argv);
		if (ret)
			return ret;
	}
	if (optind < argc)
		return ft_usage_error("unexpected argument '%s'", argv[optind]);
	if (lockdep_set_enabled(false))
		return bn_fail("cannot turn the lock validator off");
	ret = bench(&p);
	lockdep_set_enabled(lockdep_was);
	return ret;
}

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
 *
 * Each table is one folio order of the model.  The kernel's runs for it use
 * folios of the same order where the kernel can be asked for them (below),
 * base pages where not, and the table says which work its kernel column is.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
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

/* ---- The kernel's large folios ------------------------------------------------- */

/*
 * The model's order-n tables are compared with the kernel's order-n folios
 * where this kernel has the hugepages-<size>kB knob and we may set it.  For
 * that order's runs the knob is set to madvise and the region gets
 * MADV_HUGEPAGE, so no other process's memory changes size.  A larger size
 * that would apply to the region as well is set to never meanwhile: the
 * kernel tries the largest enabled size first, and many distributions let
 * the PMD size inherit "madvise".  Each knob gets its word back when the
 * order's runs end, or from the signal handler when they do not; the model
 * never runs while a knob is changed, so ft_die() has nothing to restore.
 */
#define BN_THP		"/sys/kernel/mm/transparent_hugepage"
#define BN_NR_KNOBS	16	/* 64K base pages: 128K up to a 512M PMD */
#define BN_WORD		16

/* A knob this run changed and the word it had. */
struct bn_knob {
	char path[96];
	char name[32];			/* "hugepages-64kB" */
	char was[BN_WORD];
	volatile sig_atomic_t armed;	/* to be restored; the handler reads it */
};

/* What one order's kernel runs mapped. */
struct bn_kernel {
	unsigned int order;		/* of the kernel's folios: the model's, or 0 */
	char why[128];			/* why 0 where the model's order is not */
	bool model_too;			/* the model's runs get base pages too */
	char knobs[160];		/* what was set for the runs */
	bool counted;			/* the size's stats/anon_fault_* exist */
	u64 alloc, fallback;		/* their increase over the fault phases */
	u64 expect;			/* large folios the fault phases should get */
};

static struct bn_knob bn_knobs[BN_NR_KNOBS];
static struct bn_kernel bn_kern[MAX_PAGE_ORDER + 1];
static pid_t bn_pid;			/* fork children restore nothing */
static int bn_lock_fd = -1;

static void thp_path(char *path, size_t size, size_t bytes, const char *file)
{
	snprintf(path, size, BN_THP "/hugepages-%zukB/%s", bytes >> 10, file);
}

/* The bracketed word of a THP knob: "always inherit madvise [never]". */
static int knob_read(const char *path, char *word)
{
	char buf[128], *l, *r;
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	if (n < 0)
		n = -errno;
	close(fd);
	if (n < 0)
		return (int)n;
	buf[n] = '\0';
	l = strchr(buf, '[');
	r = l ? strchr(l, ']') : NULL;
	if (!r || r == l + 1 || r - l - 1 >= BN_WORD)
		return -EINVAL;
	memcpy(word, l + 1, (size_t)(r - l - 1));
	word[r - l - 1] = '\0';
	return 0;
}

/* open, write, close and strlen only: the signal handler restores with it. */
static int knob_write(const char *path, const char *word)
{
	size_t len = strlen(word);
	int fd = open(path, O_WRONLY), ret = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, word, len) != (ssize_t)len)
		ret = -errno ?: -EIO;
	close(fd);
	return ret;
}

/* A number in a sysfs file; false if there is none. */
static bool read_u64(const char *path, u64 *val)
{
	char buf[32];
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	*val = strtoull(buf, NULL, 10);
	return true;
}

/* A stats counter of the kernel's mTHP of @bytes. */
static bool stat_read(size_t bytes, const char *name, u64 *val)
{
	char path[128];

	thp_path(path, sizeof(path), bytes, name);
	return read_u64(path, val);
}

/* Set the knob of @bytes to @word, its word remembered first. */
static int knob_set(size_t bytes, const char *word)
{
	struct bn_knob *k = NULL;
	int ret;

	for (int i = 0; i < BN_NR_KNOBS && !k; i++)
		if (!bn_knobs[i].armed)
			k = &bn_knobs[i];
	if (!k)
		return -ENOSPC;
	thp_path(k->path, sizeof(k->path), bytes, "enabled");
	snprintf(k->name, sizeof(k->name), "hugepages-%zukB", bytes >> 10);
	ret = knob_read(k->path, k->was);
	if (ret || !strcmp(k->was, word))
		return ret;
	/* Armed before the write: a signal between the two restores the
	 * word the knob still has, which does no harm. */
	barrier();
	k->armed = 1;
	return knob_write(k->path, word);
}

/* Every armed knob back to its word, the last set first; signal-safe. */
static void knobs_restore_quietly(void)
{
	for (int i = BN_NR_KNOBS - 1; i >= 0; i--) {
		if (bn_knobs[i].armed) {
			knob_write(bn_knobs[i].path, bn_knobs[i].was);
			bn_knobs[i].armed = 0;
		}
	}
}

/* The same, read back: a knob left changed is an error, said loudly. */
static int knobs_restore(void)
{
	char now[BN_WORD];
	int ret = 0;

	for (int i = BN_NR_KNOBS - 1; i >= 0; i--) {
		struct bn_knob *k = &bn_knobs[i];
		int err;

		if (!k->armed)
			continue;
		err = knob_write(k->path, k->was) ?: knob_read(k->path, now);
		if (!err && strcmp(now, k->was))
			err = -EIO;
		k->armed = 0;
		if (err && !ret)
			ret = bn_fail("kernel: %s not restored to '%s' (%s): set it "
				      "by hand", k->path, k->was, strerror(-err));
	}
	if (bn_lock_fd >= 0)
		close(bn_lock_fd);	/* and with it the lock */
	bn_lock_fd = -1;
	return ret;
}

static void put_str(const char *s)
{
	ssize_t n = write(STDERR_FILENO, s, strlen(s));

	(void)n;
}

/* SIGINT, SIGTERM, SIGHUP: the knobs first, then exit as the torture does. */
static void on_signal(int sig)
{
	char num[4] = { (char)('0' + sig / 10 % 10), (char)('0' + sig % 10) };
	bool knobs = false;

	if (getpid() != bn_pid)
		_exit(FT_EXIT_INTERRUPTED);
	for (int i = 0; i < BN_NR_KNOBS; i++)
		knobs |= bn_knobs[i].armed;
	knobs_restore_quietly();
	put_str(FT_PROG " --bench: stopped by signal ");
	put_str(sig < 10 ? num + 1 : num);
	put_str(knobs ? ", the THP knobs restored\n" : "\n");
	_exit(FT_EXIT_INTERRUPTED);
}

static void signals_catch(void)
{
	struct sigaction sa = { .sa_handler = on_signal };

	bn_pid = getpid();
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

/*
 * Would a larger size's knob @word give a MADV_HUGEPAGE region its folios?
 * "inherit" takes the top-level word @top, where only never says no.
 */
static bool knob_applies(const char *word, const char *top)
{
	if (!strcmp(word, "inherit"))
		word = strcmp(top, "never") ? "madvise" : "never";
	return !strcmp(word, "always") || !strcmp(word, "madvise");
}

/* Larger sizes than @bytes up to @pmd that would apply: to never. */
static int knobs_quiet_larger(size_t bytes, size_t pmd)
{
	char top[BN_WORD], word[BN_WORD], path[96];
	int ret = 0;

	if (knob_read(BN_THP "/enabled", top))
		strcpy(top, "never");
	for (bytes <<= 1; bytes <= pmd && !ret; bytes <<= 1) {
		thp_path(path, sizeof(path), bytes, "enabled");
		if (!knob_read(path, word) && knob_applies(word, top))
			ret = knob_set(bytes, "never");
	}
	return ret;
}

/* "hugepages-64kB never -> madvise, ...": said under the table. */
static void knobs_describe(struct bn_kernel *k)
{
	size_t len = 0;
	char now[BN_WORD];

	k->knobs[0] = '\0';
	for (int i = 0; i < BN_NR_KNOBS && len < sizeof(k->knobs); i++) {
		const struct bn_knob *kn = &bn_knobs[i];

		if (!kn->armed || knob_read(kn->path, now))
			continue;
		len += (size_t)snprintf(k->knobs + len, sizeof(k->knobs) - len,
					"%s%s %s -> %s", len ? ", " : "", kn->name,
					kn->was, now);
	}
}

/*
 * Set the knobs for the runs of folios of @bytes, one bench at a time: two
 * at once (ctest -j2) would each remember the other's word, and the last
 * restore would leave "madvise".  Returns 0 or -errno.
 */
static int knobs_set_for(size_t bytes, size_t pmd, struct bn_kernel *k)
{
	int ret;

	bn_lock_fd = open(BN_THP, O_RDONLY | O_DIRECTORY);
	if (bn_lock_fd < 0 || flock(bn_lock_fd, LOCK_EX))
		return -errno;
	ret = knob_set(bytes, "madvise") ?: knobs_quiet_larger(bytes, pmd);
	if (!ret)
		knobs_describe(k);
	return ret;
}

/* The PMD size, or 0: a kernel without THP has no knobs either. */
static size_t pmd_size(void)
{
	u64 size;

	return read_u64(BN_THP "/hpage_pmd_size", &size) ? (size_t)size : 0;
}

/* Why the kernel cannot map order @order as the model does; NULL if it can. */
static const char *kernel_cannot(const struct bn_params *p, unsigned int order,
				 size_t kpage, size_t pmd, char *buf, size_t size)
{
	size_t bytes = kpage << order;
	char path[96];

	thp_path(path, sizeof(path), bytes, "enabled");
	if (p->pages >> order == 0)
		snprintf(buf, size, "%llu pages hold no %zuK folio",
			 (unsigned long long)p->pages, bytes >> 10);
	else if (pmd && bytes >= pmd)
		snprintf(buf, size, "the kernel maps a %zuK folio with a PMD, "
			 "the model with PTEs", bytes >> 10);
	else if (access(path, F_OK))
		snprintf(buf, size, "no hugepages-%zukB knob", bytes >> 10);
	else if (geteuid())
		snprintf(buf, size, "not root");
	else if (access(path, W_OK))
		snprintf(buf, size, "hugepages-%zukB/enabled: %s", bytes >> 10,
			 strerror(errno));
	else
		return NULL;
	return buf;
}

/*
 * Which folios the kernel's runs of @order get, and the knobs set for them.
 * Base pages where the knobs cannot be set; an error only if one that was
 * set cannot be restored.
 */
static int kernel_choose(const struct bn_params *p, unsigned int order,
			 size_t kpage, struct bn_kernel *k)
{
	size_t pmd = pmd_size();
	int err;

	*k = (struct bn_kernel){ .model_too = !(p->pages >> order) };
	if (!order || kernel_cannot(p, order, kpage, pmd, k->why, sizeof(k->why)))
		return 0;
	err = knobs_set_for(kpage << order, pmd, k);
	if (err) {
		snprintf(k->why, sizeof(k->why), "cannot set the THP knobs: %s",
			 strerror(-err));
		return knobs_restore();
	}
	k->order = order;
	k->counted = true;
	k->expect = p->repeat * (p->pages >> order);
	return 0;
}

/* ---- The kernel's runs --------------------------------------------------------- */

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

/*
 * @len bytes at a multiple of @align, and nothing beside them in the VMA:
 * the kernel's large folios are naturally aligned, as the model's are.
 */
static void *kernel_map(size_t len, size_t align)
{
	char *p = mmap(NULL, len + align, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *start;

	if (p == MAP_FAILED)
		return p;
	start = (char *)ALIGN((uintptr_t)p, align);
	if (start > p)
		munmap(p, (size_t)(start - p));
	munmap(start + len, (size_t)(p + align - start));
	return start;
}

/* Base pages whatever the knobs say, or the order they were set for. */
static int kernel_advise(volatile unsigned long *mem, size_t len,
			 const struct bn_kernel *k)
{
	/* Without THP in the kernel, NOHUGEPAGE fails and base pages it is. */
	if (!k->order) {
		madvise((void *)mem, len, MADV_NOHUGEPAGE);
		return 0;
	}
	if (madvise((void *)mem, len, MADV_HUGEPAGE))
		return bn_fail("kernel: madvise(MADV_HUGEPAGE): %s", strerror(errno));
	return 0;
}

/* What the order's size counted over a fault phase: before, or after. */
static void kernel_count(struct bn_kernel *k, size_t bytes, bool after)
{
	u64 alloc, fallback;

	if (!k->order)
		return;
	if (!stat_read(bytes, "stats/anon_fault_alloc", &alloc) ||
	    !stat_read(bytes, "stats/anon_fault_fallback", &fallback)) {
		k->counted = false;
		return;
	}
	k->alloc += after ? alloc : -alloc;
	k->fallback += after ? fallback : -fallback;
}

static int kernel_run(const struct bn_params *p, unsigned int r, size_t kpage,
		      struct bn_kernel *k)
{
	size_t len = p->pages * kpage, step = kpage / sizeof(unsigned long);
	size_t bytes = kpage << k->order;
	volatile unsigned long *mem;
	u64 t0;

	mem = kernel_map(len, bytes);
	if (mem == MAP_FAILED)
		return bn_fail("kernel: mmap of %zu bytes: %s", len, strerror(errno));
	if (kernel_advise(mem, len, k)) {
		munmap((void *)mem, len);
		return FT_EXIT_INVARIANT;
	}
	kernel_count(k, bytes, false);
	t0 = ft_now_ns();
	for (u64 i = 0; i < p->pages; i++)
		mem[i * step] = i;
	bn_ns[BN_FAULT][r] = ft_now_ns() - t0;
	kernel_count(k, bytes, true);
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

/* The kernel's runs of @order into @out, its knobs restored whatever happens. */
static int kernel_order(const struct bn_params *p, unsigned int order, size_t kpage,
			double out[BN_FORK_BASE])
{
	struct bn_kernel *k = &bn_kern[order];
	int ret = kernel_choose(p, order, kpage, k);

	for (unsigned int r = 0; r < p->repeat && !ret; r++)
		ret = kernel_run(p, r, kpage, k);
	ret = knobs_restore() ?: ret;
	if (!ret)
		per_pte(p, out);
	return ret;
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

/*
 * Which work the kernel's column is: the model's order, or base pages and
 * why.  The tables are only compared as the same work where this says so.
 */
static void print_kernel(const struct bn_kernel *k, unsigned int order,
			 size_t kpage)
{
	size_t kb = (kpage << order) >> 10;

	if (!order)
		printf("kernel: base pages (order 0, MADV_NOHUGEPAGE)\n");
	else if (!k->order && k->model_too)
		printf("kernel: base pages, as the model's (reason: %s)\n", k->why);
	else if (!k->order)
		printf("kernel: base pages (reason: %s), not the model's order-%u "
		       "folios\n", k->why, order);
	else if (!k->counted)
		printf("kernel: %zuK mTHP asked for, not verified (no hugepages-"
		       "%zukB/stats/anon_fault_alloc)\n", kb, kb);
	else if (k->alloc == k->expect)
		printf("kernel: %zuK mTHP (anon_fault_alloc +%llu)\n", kb,
		       (unsigned long long)k->alloc);
	else if (k->alloc > k->expect)
		printf("kernel: %zuK mTHP (anon_fault_alloc +%llu, %llu ours: other "
		       "processes fault them too)\n", kb,
		       (unsigned long long)k->alloc, (unsigned long long)k->expect);
	else
		printf("kernel: %s (reason: fell back, anon_fault_alloc +%llu of "
		       "%llu, anon_fault_fallback +%llu), not the model's order-%u "
		       "folios\n", k->alloc ? "partly mTHP, partly base pages" :
		       "base pages", (unsigned long long)k->alloc,
		       (unsigned long long)k->expect,
		       (unsigned long long)k->fallback, order);
}

static void print_table(const struct bn_params *p, unsigned int order,
			const double *model, const double *kernel, size_t kpage)
{
	const struct bn_kernel *k = &bn_kern[order];

	printf(FT_PROG " --bench: %llu pages, median of %llu, lockdep off, "
	       "model order %u\n", (unsigned long long)p->pages,
	       (unsigned long long)p->repeat, order);
	print_kernel(k, order, kpage);
	if (!p->quiet && k->knobs[0])
		printf("kernel knobs for these runs: %s; restored after them\n",
		       k->knobs);
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
	printf("model: one thread, no breaks, inline checks %s%s\n",
	       ft_debug_vm(&m->pmem) ? "on" : "off",
	       BN_OPTIMIZED ? "" : ", UNOPTIMIZED BUILD: not representative");
	printf("kernel runs: %zu-byte base pages under MADV_NOHUGEPAGE; order n "
	       "under MADV_HUGEPAGE,\nits hugepages-<size>kB knob on madvise and "
	       "larger sizes on never (root only),\nchecked by its "
	       "stats/anon_fault_alloc\n", kpage);
	printf("fork-copy: (fork with the pages - fork without) / pages on both "
	       "sides; zap: munmap\nafter the child exited (the model's munmap "
	       "keeps its page tables, the kernel's frees them)\n");
}

static int bench(const struct bn_params *p)
{
	static double kernel[MAX_PAGE_ORDER + 1][BN_FORK_BASE];
	size_t kpage = (size_t)sysconf(_SC_PAGESIZE);
	struct bn_model *m = &bn_model;
	double model[BN_FORK_BASE];
	int ret = 0;

	/* The kernel first: its fork then copies none of the model's memory,
	 * and no knob is changed while the model runs. */
	for (unsigned int order = 0; order <= MAX_PAGE_ORDER && !ret; order++)
		if (p->orders & BIT(order))
			ret = kernel_order(p, order, kpage, kernel[order]);
	if (!ret)
		ret = model_init(m, p);
	if (ret)
		return ret;
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
		print_table(p, order, model, kernel[order], kpage);
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
	       "kernel,\nsingle-threaded, the lock validator off.  The kernel's "
	       "runs of order n > 0 use\nits mTHP of that size where it has the "
	       "hugepages-<size>kB knob and we are root:\nthe knob is set to "
	       "madvise for them (larger sizes to never) and restored after\n"
	       "them, on an error and on SIGINT or SIGTERM; elsewhere base pages.  "
	       "Each table\nsays which: \"kernel: 64K mTHP (anon_fault_alloc "
	       "+N)\" or\n\"kernel: base pages (reason: ...)\".\n",
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
	signals_catch();
	ret = bench(&p);
	lockdep_set_enabled(lockdep_was);
	return ret;
}

// SPDX-License-Identifier: GPL-2.0-only
/*
 * A lockdep-style validator for the lock model.
 *
 * Why it is sound (after kernel/locking/lockdep.c and Documentation/locking/
 * lockdep-design.rst): a deadlock between blocking acquisitions needs a
 * cycle in the "held A while acquiring B" relation between lock classes.
 * Every blocking acquisition records the edge (held class -> new class)
 * from the most recent non-trylock held lock and every trylock above it;
 * older held locks are already connected through that one, so reachability
 * in this graph equals reachability in the full relation.  Before an edge
 * P -> N is added we search N ->* P; finding a path means that some thread
 * once took the locks in the opposite order, and the new edge would close a
 * cycle: reported now, the first time the reverse order is taken, whether
 * or not the threads ever met.  Trylocks add no edge into themselves (they
 * cannot wait), as in the kernel.  A class taken while the same class is
 * held is a cycle of length one ("recursive locking") unless the second
 * acquisition carries a different subclass, the kernel's nesting notation.
 *
 * What it checks beyond the kernel: bit spinlocks are classes too, and
 * every report ends the run (panic_on_warn) with FT_EXIT_SPLAT.
 *
 * Concurrency: the class table and the graph change under graph_lock (a
 * pthread mutex, outside the model); lookups on the hot path read published
 * entries with acquire loads.  Held-lock stacks belong to their thread and
 * are read by the watchdog through relaxed atomics.
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "internal.h"

#define MAX_LOCKDEP_CLASSES	256
#define MAX_LOCKDEP_ENTRIES	8192
#define MAX_LOCKDEP_TASKS	1024

int debug_locks = 1;
static u64 stall_timeout_ns = 60 * NSEC_PER_SEC;

/* ---- Classes ------------------------------------------------------------- */

struct lock_class {
	const char *name;
	unsigned int subclass;
	enum lock_kind kind;
};

/* A dependency "prev held while next was taken", first seen where. */
struct lock_edge {
	int prev, next;
	const struct lock_site *prev_site, *next_site;
	int tid;
	char comm[LOCKDEP_COMM_LEN];
};

static pthread_mutex_t graph_lock = PTHREAD_MUTEX_INITIALIZER;
/* Written once under graph_lock; read by any thread, the watchdog too,
 * which reaches an entry through a relaxed class_idx: atomic accesses
 * (class_get), as for held-lock records. */
static struct lock_class classes[MAX_LOCKDEP_CLASSES];
static int nr_classes;
static struct lock_edge edges[MAX_LOCKDEP_ENTRIES];
static int nr_edges;
/* edge_of[p][n]: index + 1 into edges[], 0 if no edge.  Published with
 * release stores under graph_lock, read locklessly with acquire loads. */
static u16 edge_of[MAX_LOCKDEP_CLASSES][MAX_LOCKDEP_CLASSES];

/* ---- Tasks ----------------------------------------------------------------- */

static struct lockdep_task tasks[MAX_LOCKDEP_TASKS];
static _Thread_local struct lockdep_task *current_task;
static pthread_key_t task_key;
static pthread_once_t task_key_once = PTHREAD_ONCE_INIT;

static pthread_mutex_t report_lock = PTHREAD_MUTEX_INITIALIZER;

static __noreturn void splat_die(void);

void lockdep_report_begin(void)
{
	pthread_mutex_lock(&report_lock);
}

void lockdep_report_end(void)
{
	fflush(stderr);
	pthread_mutex_unlock(&report_lock);
}

int lockdep_set_enabled(bool on)
{
	for (int i = 0; i < MAX_LOCKDEP_TASKS; i++) {
		if (__atomic_load_n(&tasks[i].in_use, __ATOMIC_ACQUIRE) == 1 &&
		    READ_ONCE(tasks[i].depth))
			return -EBUSY;
	}
	WRITE_ONCE(debug_locks, on);
	return 0;
}

void lockdep_set_stall_timeout(u64 ns)
{
	WRITE_ONCE(stall_timeout_ns, ns);
}

u64 lockdep_stall_timeout(void)
{
	return READ_ONCE(stall_timeout_ns);
}

/* ---- Held-lock records: relaxed atomics, the watchdog reads them ---------- */

static struct lock_class class_get(int idx)
{
	const struct lock_class *c = &classes[idx];

	return (struct lock_class){
		.name = __atomic_load_n(&c->name, __ATOMIC_RELAXED),
		.subclass = __atomic_load_n(&c->subclass, __ATOMIC_RELAXED),
		.kind = __atomic_load_n(&c->kind, __ATOMIC_RELAXED),
	};
}

static void class_set(int idx, const struct lock_class *v)
{
	struct lock_class *c = &classes[idx];

	__atomic_store_n(&c->name, v->name, __ATOMIC_RELAXED);
	__atomic_store_n(&c->subclass, v->subclass, __ATOMIC_RELAXED);
	__atomic_store_n(&c->kind, v->kind, __ATOMIC_RELAXED);
}

static void held_store(struct held_lock *dst, const struct held_lock *src)
{
	__atomic_store_n(&dst->instance, src->instance, __ATOMIC_RELAXED);
	__atomic_store_n(&dst->map, src->map, __ATOMIC_RELAXED);
	__atomic_store_n(&dst->site, src->site, __ATOMIC_RELAXED);
	__atomic_store_n(&dst->acquire_ns, src->acquire_ns, __ATOMIC_RELAXED);
	__atomic_store_n(&dst->class_idx, src->class_idx, __ATOMIC_RELAXED);
	__atomic_store_n(&dst->bit, src->bit, __ATOMIC_RELAXED);
	__atomic_store_n(&dst->flags, src->flags, __ATOMIC_RELAXED);
	__atomic_store_n(&dst->state, src->state, __ATOMIC_RELAXED);
}

static void held_load(struct held_lock *dst, const struct held_lock *src)
{
	dst->instance = __atomic_load_n(&src->instance, __ATOMIC_RELAXED);
	dst->map = __atomic_load_n(&src->map, __ATOMIC_RELAXED);
	dst->site = __atomic_load_n(&src->site, __ATOMIC_RELAXED);
	dst->acquire_ns = __atomic_load_n(&src->acquire_ns, __ATOMIC_RELAXED);
	dst->class_idx = __atomic_load_n(&src->class_idx, __ATOMIC_RELAXED);
	dst->bit = __atomic_load_n(&src->bit, __ATOMIC_RELAXED);
	dst->flags = __atomic_load_n(&src->flags, __ATOMIC_RELAXED);
	dst->state = __atomic_load_n(&src->state, __ATOMIC_RELAXED);
}

static void comm_store(char *dst, const char *src)
{
	for (int i = 0; i < LOCKDEP_COMM_LEN; i++)
		__atomic_store_n(&dst[i], src[i], __ATOMIC_RELAXED);
}

static void comm_load(char *dst, const char *src)
{
	for (int i = 0; i < LOCKDEP_COMM_LEN; i++)
		dst[i] = __atomic_load_n(&src[i], __ATOMIC_RELAXED);
	dst[LOCKDEP_COMM_LEN - 1] = '\0';
}

/* ---- Printing ------------------------------------------------------------- */

static const char *const kind_names[] = {
	[LOCK_KIND_SPIN] = "spin",
	[LOCK_KIND_BIT_SPIN] = "bit_spin",
	[LOCK_KIND_RWSEM] = "rwsem",
	[LOCK_KIND_SEQCOUNT] = "seqcount",
	[LOCK_KIND_ATOMIC_SEQCOUNT] = "atomic_seqcount",
};

static void print_site(FILE *out, const struct lock_site *s)
{
	if (s)
		fprintf(out, "%s:%d %s()", s->file, s->line, s->func);
	else
		fprintf(out, "(unknown site)");
}

void lockdep_print_lock_name(FILE *out, const struct lockdep_map *map,
			     unsigned int subclass)
{
	fprintf(out, "(%s", map->name);
	if (subclass)
		fprintf(out, "/%u", subclass);
	fprintf(out, "){%s}", kind_names[map->kind]);
}

static void print_instance(FILE *out, const void *inst, int bit)
{
	if (bit >= 0)
		fprintf(out, "%p bit %d ", inst, bit);
	else
		fprintf(out, "%p ", inst);
}

/*
 * Another thread's record names its lock from the class, never through
 * the instance: the lock may be released and its memory freed (an exiting
 * mm) while we print, as debug_show_all_locks() runs without stopping
 * anyone, like the kernel's.
 */
static void print_held_lock(FILE *out, const struct held_lock *h)
{
	struct lock_class c = class_get(h->class_idx);

	print_instance(out, h->instance, h->bit);
	fprintf(out, "(%s", c.name);
	if (c.subclass)
		fprintf(out, "/%u", c.subclass);
	fprintf(out, "){%s}", kind_names[c.kind]);
	if (h->flags & LOCK_F_READ)
		fprintf(out, "{read}");
	if (h->flags & LOCK_F_TRYLOCK)
		fprintf(out, "{trylock}");
	fprintf(out, ", at: ");
	print_site(out, h->site);
	if (h->state == HELD_WAITING)
		fprintf(out, " [waiting]");
	fprintf(out, "\n");
}

void lockdep_print_task_locks(FILE *out, const struct lockdep_task *t)
{
	char comm[LOCKDEP_COMM_LEN];
	int depth = __atomic_load_n(&t->depth, __ATOMIC_RELAXED);
	int tid = __atomic_load_n(&t->tid, __ATOMIC_RELAXED);

	comm_load(comm, t->comm);
	if (!depth) {
		fprintf(out, "no locks held by %s/%d.\n", comm, tid);
		return;
	}
	fprintf(out, "%d lock%s held by %s/%d:\n", depth, depth > 1 ? "s" : "",
		comm, tid);
	for (int i = 0; i < depth && i < MAX_LOCK_DEPTH; i++) {
		struct held_lock h;

		held_load(&h, &t->held[i]);
		fprintf(out, " #%d: ", i);
		print_held_lock(out, &h);
	}
}

static void print_banner(FILE *out, char ch, size_t len)
{
	for (size_t i = 0; i < len; i++)
		fputc(ch, out);
	fputc('\n', out);
}

/* The kernel's "=====\nWARNING: title\n-----" splat header. */
static void splat_header(FILE *out, const char *title)
{
	size_t len = strlen(title) + strlen("WARNING: ");

	ft_die_set_reason(title);
	fprintf(out, "\n");
	print_banner(out, '=', len);
	fprintf(out, "WARNING: %s\n", title);
	print_banner(out, '-', len);
}

static void print_task_name(FILE *out, const struct lockdep_task *t)
{
	fprintf(out, "%s/%d", t->comm, t->tid);
}

/* ---- Tasks -------------------------------------------------------------- */

/* Thread exit with locks held: debug_check_no_locks_held(). */
static void task_exit(void *arg)
{
	struct lockdep_task *t = arg;

	if (t->depth) {
		lockdep_report_begin();
		fprintf(stderr, "\n=====================================\n");
		ft_die_set_reason("thread exiting with locks held");
		fprintf(stderr, "WARNING: ");
		print_task_name(stderr, t);
		fprintf(stderr, " still has locks held!\n");
		fprintf(stderr, "-------------------------------------\n");
		lockdep_print_task_locks(stderr, t);
		lockdep_report_end();
		splat_die();
	}
	__atomic_store_n(&t->in_use, 0, __ATOMIC_RELEASE);
}

static void make_task_key(void)
{
	pthread_key_create(&task_key, task_exit);
}

static struct lockdep_task *register_current(void)
{
	char comm[LOCKDEP_COMM_LEN] = "";

	pthread_once(&task_key_once, make_task_key);
	prctl(PR_GET_NAME, comm);
	for (int i = 0; i < MAX_LOCKDEP_TASKS; i++) {
		struct lockdep_task *t = &tasks[i];
		int free_slot = 0;

		/* 2 = being set up; readers only look at slots in state 1. */
		if (!__atomic_compare_exchange_n(&t->in_use, &free_slot, 2, false,
						 __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
			continue;
		__atomic_store_n(&t->tid, (int)gettid(), __ATOMIC_RELAXED);
		comm_store(t->comm, comm);
		__atomic_store_n(&t->depth, 0, __ATOMIC_RELAXED);
		__atomic_store_n(&t->in_use, 1, __ATOMIC_RELEASE);
		pthread_setspecific(task_key, t);
		current_task = t;
		return t;
	}
	fprintf(stderr, "BUG: MAX_LOCKDEP_TASKS too low! (%d threads)\n",
		MAX_LOCKDEP_TASKS);
	splat_die();
}

struct lockdep_task *lockdep_current(void)
{
	struct lockdep_task *t = current_task;

	return likely(t) ? t : register_current();
}

void lockdep_sys_exit(void)
{
	struct lockdep_task *t;

	if (!lockdep_enabled())
		return;
	t = lockdep_current();
	if (likely(!t->depth))
		return;
	lockdep_report_begin();
	splat_header(stderr, "lock held when returning to user space!");
	print_task_name(stderr, t);
	fprintf(stderr, " is leaving the kernel with locks still held!\n");
	lockdep_print_task_locks(stderr, t);
	lockdep_report_end();
	splat_die();
}

/* ---- Class registry --------------------------------------------------------- */

static int class_of(const struct lockdep_map *map, unsigned int subclass)
{
	struct lock_class_key *key = map->key;
	int idx;

	if (unlikely(subclass >= MAX_LOCKDEP_SUBCLASSES)) {
		fprintf(stderr, "BUG: looking up invalid subclass: %u\n", subclass);
		splat_die();
	}
	idx = __atomic_load_n(&key->idx[subclass], __ATOMIC_ACQUIRE);
	if (likely(idx))
		return idx - 1;

	pthread_mutex_lock(&graph_lock);
	idx = key->idx[subclass];
	if (!idx) {
		if (nr_classes == MAX_LOCKDEP_CLASSES) {
			pthread_mutex_unlock(&graph_lock);
			fprintf(stderr, "BUG: MAX_LOCKDEP_CLASSES too low!\n");
			splat_die();
		}
		class_set(nr_classes, &(struct lock_class){
			.name = map->name, .subclass = subclass, .kind = map->kind,
		});
		idx = ++nr_classes;
		__atomic_store_n(&key->idx[subclass], idx, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&graph_lock);
	return idx - 1;
}

/* ---- Reports --------------------------------------------------------------- */

static __noreturn void splat_die(void)
{
	fflush(stderr);
	ft_die(FT_EXIT_SPLAT);
}

/* The attempted acquisition, as the reports describe it. */
struct acquire_ctx {
	const struct lockdep_map *map;
	const void *inst;
	int bit;
	unsigned int subclass;
	int class_idx;
	const struct lock_site *site;
};

static void print_attempt(FILE *out, const struct acquire_ctx *a)
{
	fprintf(out, " ");
	print_instance(out, a->inst, a->bit);
	lockdep_print_lock_name(out, a->map, a->subclass);
	fprintf(out, ", at: ");
	print_site(out, a->site);
	fprintf(out, "\n");
}

static const char *class_name(int idx, char *buf, size_t len)
{
	struct lock_class c = class_get(idx);

	if (c.subclass)
		snprintf(buf, len, "%s/%u", c.name, c.subclass);
	else
		snprintf(buf, len, "%s", c.name);
	return buf;
}

static void print_recursive_scenario(FILE *out, const char *name)
{
	fprintf(out, "\nother info that might help us debug this:\n");
	fprintf(out, " Possible unsafe locking scenario:\n\n");
	fprintf(out, "       CPU0\n       ----\n");
	fprintf(out, "  lock(%s);\n  lock(%s);\n\n", name, name);
	fprintf(out, " *** DEADLOCK ***\n\n");
	fprintf(out, " May be due to missing lock nesting notation\n\n");
}

static __noreturn void report_recursive(const struct lockdep_task *t,
					const struct held_lock *prev,
					const struct acquire_ctx *a)
{
	char name[96];

	lockdep_report_begin();
	splat_header(stderr, "possible recursive locking detected");
	print_task_name(stderr, t);
	fprintf(stderr, " is trying to acquire lock:\n");
	print_attempt(stderr, a);
	fprintf(stderr, "\nbut task is already holding lock:\n ");
	print_held_lock(stderr, prev);
	print_recursive_scenario(stderr, class_name(a->class_idx, name, sizeof(name)));
	lockdep_print_task_locks(stderr, t);
	lockdep_report_end();
	splat_die();
}

static void print_edge(FILE *out, int nr, const struct lock_edge *e)
{
	char prev[96];

	fprintf(out, "\n-> #%d ", nr);
	fprintf(out, "(%s){%s}:\n", class_name(e->next, prev, sizeof(prev)),
		kind_names[class_get(e->next).kind]);
	fprintf(out, "       taken at ");
	print_site(out, e->next_site);
	fprintf(out, "\n       while holding (%s), taken at ",
		class_name(e->prev, prev, sizeof(prev)));
	print_site(out, e->prev_site);
	fprintf(out, "\n       first seen in %s/%d\n", e->comm, e->tid);
}

static void print_circular_scenario(FILE *out, const int *path, int n,
				    int prev_idx, int next_idx)
{
	char a[96], b[96], c[96];

	fprintf(out, "\nother info that might help us debug this:\n\n");
	if (n > 2) {
		fprintf(out, "Chain exists of:\n  ");
		for (int i = 0; i < n; i++)
			fprintf(out, "%s%s", class_name(path[i], a, sizeof(a)),
				i + 1 < n ? " --> " : "\n\n");
	}
	class_name(prev_idx, a, sizeof(a));
	class_name(next_idx, b, sizeof(b));
	class_name(path[1], c, sizeof(c));
	fprintf(out, " Possible unsafe locking scenario:\n\n");
	fprintf(out, "       CPU0                    CPU1\n");
	fprintf(out, "       ----                    ----\n");
	fprintf(out, "  lock(%s);\n", a);
	fprintf(out, "                               lock(%s);\n", b);
	fprintf(out, "                               lock(%s);\n", c);
	fprintf(out, "  lock(%s);\n\n", b);
	fprintf(out, " *** DEADLOCK ***\n\n");
}

/*
 * @path[0..n-1] is the existing chain next ->* prev, @chain[i] the edge
 * path[i] -> path[i+1].  Printed in reverse, the new edge as #0.
 */
static __noreturn void report_circular(const struct lockdep_task *t,
				       const struct held_lock *prev,
				       const struct acquire_ctx *a,
				       const int *path, int n,
				       const struct lock_edge *chain)
{
	struct lock_edge now = {
		.prev = prev->class_idx, .next = a->class_idx,
		.prev_site = prev->site, .next_site = a->site, .tid = t->tid,
	};

	memcpy(now.comm, t->comm, sizeof(now.comm));
	lockdep_report_begin();
	splat_header(stderr, "possible circular locking dependency detected");
	print_task_name(stderr, t);
	fprintf(stderr, " is trying to acquire lock:\n");
	print_attempt(stderr, a);
	fprintf(stderr, "\nbut task is already holding lock:\n ");
	print_held_lock(stderr, prev);
	fprintf(stderr, "\nwhich lock already depends on the new lock.\n\n");
	fprintf(stderr, "\nthe existing dependency chain (in reverse order) is:\n");
	for (int i = n - 2; i >= 0; i--)
		print_edge(stderr, i + 1, &chain[i]);
	print_edge(stderr, 0, &now);
	print_circular_scenario(stderr, path, n, prev->class_idx, a->class_idx);
	lockdep_print_task_locks(stderr, t);
	lockdep_report_end();
	splat_die();
}

static __noreturn void report_sleep_in_atomic(const struct lockdep_task *t,
					      const struct held_lock *spinning,
					      const struct acquire_ctx *a)
{
	lockdep_report_begin();
	fprintf(stderr, "\nBUG: sleeping function called from invalid context at ");
	print_site(stderr, a->site);
	fprintf(stderr, "\nin_atomic(): 1, pid: %d, name: %s\n", t->tid, t->comm);
	fprintf(stderr, "sleeping lock ");
	lockdep_print_lock_name(stderr, a->map, a->subclass);
	fprintf(stderr, " taken while holding spinning lock ");
	lockdep_print_lock_name(stderr, spinning->map,
				class_get(spinning->class_idx).subclass);
	fprintf(stderr, "\n");
	lockdep_print_task_locks(stderr, t);
	lockdep_report_end();
	splat_die();
}

static __noreturn void report_bad_unlock(const struct lockdep_task *t,
					 const struct lockdep_map *map,
					 const void *inst, int bit,
					 const struct lock_site *site,
					 const char *verb)
{
	lockdep_report_begin();
	splat_header(stderr, "bad unlock balance detected!");
	print_task_name(stderr, t);
	fprintf(stderr, " is trying to %s lock ", verb);
	print_instance(stderr, inst, bit);
	lockdep_print_lock_name(stderr, map, 0);
	fprintf(stderr, " at:\n");
	print_site(stderr, site);
	fprintf(stderr, "\nbut there are no more locks to release!\n");
	fprintf(stderr, "\nother info that might help us debug this:\n");
	lockdep_print_task_locks(stderr, t);
	lockdep_report_end();
	splat_die();
}

__noreturn void lock_bug(const struct lockdep_map *map, const void *inst,
			 int bit, const char *what, const struct lock_site *site)
{
	ft_die_set_reason(what);
	lockdep_report_begin();
	fprintf(stderr, "\nBUG: %s: ", what);
	print_instance(stderr, inst, bit);
	lockdep_print_lock_name(stderr, map, 0);
	fprintf(stderr, ", at: ");
	print_site(stderr, site);
	fprintf(stderr, "\n");
	if (lockdep_enabled())
		lockdep_print_task_locks(stderr, lockdep_current());
	lockdep_report_end();
	splat_die();
}

__noreturn void lockdep_assert_failed(const struct lockdep_map *map,
				      const void *inst, int bit,
				      const struct lock_site *site)
{
	struct lockdep_task *t = lockdep_current();

	lockdep_report_begin();
	fprintf(stderr, "\n------------[ cut here ]------------\n");
	ft_die_set_reason("lockdep_assert_held() failed");
	fprintf(stderr, "WARNING: lockdep_assert_held(");
	print_instance(stderr, inst, bit);
	lockdep_print_lock_name(stderr, map, 0);
	fprintf(stderr, ") failed at ");
	print_site(stderr, site);
	fprintf(stderr, "\n");
	lockdep_print_task_locks(stderr, t);
	fprintf(stderr, "---[ end trace ]---\n");
	lockdep_report_end();
	splat_die();
}

/* ---- The dependency graph ----------------------------------------------------- */

static int edge_lookup(int prev, int next)
{
	return __atomic_load_n(&edge_of[prev][next], __ATOMIC_ACQUIRE);
}

/*
 * Breadth-first search from @from to @to over the class graph.  On success
 * fills @path (from ... to) and returns its length; 0 if unreachable.
 * Caller holds graph_lock.
 */
static int find_path(int from, int to, int *path)
{
	static int parent[MAX_LOCKDEP_CLASSES];
	static int queue[MAX_LOCKDEP_CLASSES];
	int head = 0, tail = 0, n = 0;

	for (int i = 0; i < nr_classes; i++)
		parent[i] = -1;
	parent[from] = from;
	queue[tail++] = from;
	while (head < tail) {
		int u = queue[head++];

		if (u == to)
			break;
		for (int v = 0; v < nr_classes; v++) {
			if (edge_of[u][v] && parent[v] < 0) {
				parent[v] = u;
				queue[tail++] = v;
			}
		}
	}
	if (parent[to] < 0)
		return 0;
	for (int v = to; ; v = parent[v]) {
		path[n++] = v;
		if (v == from)
			break;
	}
	for (int i = 0; i < n / 2; i++) {
		int tmp = path[i];

		path[i] = path[n - 1 - i];
		path[n - 1 - i] = tmp;
	}
	return n;
}

/* Record prev -> next, or report the cycle it would close. */
static void check_prev_add(const struct lockdep_task *t,
			   const struct held_lock *prev,
			   const struct acquire_ctx *a)
{
	static int path[MAX_LOCKDEP_CLASSES];
	static struct lock_edge chain[MAX_LOCKDEP_CLASSES];
	struct lock_edge *e;
	int n;

	if (likely(edge_lookup(prev->class_idx, a->class_idx)))
		return;

	pthread_mutex_lock(&graph_lock);
	if (edge_of[prev->class_idx][a->class_idx]) {
		pthread_mutex_unlock(&graph_lock);
		return;
	}
	n = find_path(a->class_idx, prev->class_idx, path);
	if (n) {
		for (int i = 0; i + 1 < n; i++)
			chain[i] = edges[edge_of[path[i]][path[i + 1]] - 1];
		/* Keep graph_lock: the report never returns, and no other
		 * thread may grow the graph (or reuse path[]) meanwhile. */
		report_circular(t, prev, a, path, n, chain);
	}
	if (nr_edges == MAX_LOCKDEP_ENTRIES) {
		pthread_mutex_unlock(&graph_lock);
		fprintf(stderr, "BUG: MAX_LOCKDEP_ENTRIES too low!\n");
		splat_die();
	}
	e = &edges[nr_edges];
	*e = (struct lock_edge){
		.prev = prev->class_idx, .next = a->class_idx,
		.prev_site = prev->site, .next_site = a->site, .tid = t->tid,
	};
	memcpy(e->comm, t->comm, sizeof(e->comm));
	nr_edges++;
	__atomic_store_n(&edge_of[prev->class_idx][a->class_idx], nr_edges,
			 __ATOMIC_RELEASE);
	pthread_mutex_unlock(&graph_lock);
}

/*
 * The kernel's check_prevs_add(): an edge from the newest held lock, and
 * from each trylock above the newest non-trylock (trylocks added no edge of
 * their own).
 */
static void check_prevs_add(const struct lockdep_task *t,
			    const struct acquire_ctx *a)
{
	for (int i = t->depth - 1; i >= 0; i--) {
		const struct held_lock *h = &t->held[i];

		check_prev_add(t, h, a);
		if (!(h->flags & LOCK_F_TRYLOCK))
			break;
	}
}

static void check_deadlock(const struct lockdep_task *t,
			   const struct acquire_ctx *a, unsigned int flags)
{
	for (int i = 0; i < t->depth; i++) {
		const struct held_lock *h = &t->held[i];

		if (h->class_idx == a->class_idx ||
		    (h->instance == a->inst && h->bit == a->bit))
			report_recursive(t, h, a);
		/* might_sleep(): an rwsem may block, spinning holders can't. */
		if (a->map->kind == LOCK_KIND_RWSEM && !(flags & LOCK_F_TRYLOCK) &&
		    (h->map->kind == LOCK_KIND_SPIN ||
		     h->map->kind == LOCK_KIND_BIT_SPIN ||
		     h->map->kind == LOCK_KIND_ATOMIC_SEQCOUNT))
			report_sleep_in_atomic(t, h, a);
	}
}

/* ---- The hooks ------------------------------------------------------------------- */

void lock_acquire(const struct lockdep_map *map, const void *inst, int bit,
		  unsigned int subclass, unsigned int flags,
		  const struct lock_site *site)
{
	struct lockdep_task *t = lockdep_current();
	struct acquire_ctx a = {
		.map = map, .inst = inst, .bit = bit, .subclass = subclass,
		.class_idx = class_of(map, subclass), .site = site,
	};
	struct held_lock h = {
		.instance = inst, .map = map, .site = site,
		.class_idx = a.class_idx, .bit = bit, .flags = flags,
		.state = (flags & LOCK_F_TRYLOCK) ? HELD_HELD : HELD_WAITING,
		.acquire_ns = ft_now_coarse_ns(),
	};

	if (unlikely(t->depth == MAX_LOCK_DEPTH)) {
		lockdep_report_begin();
		fprintf(stderr, "BUG: MAX_LOCK_DEPTH too low!\n");
		lockdep_print_task_locks(stderr, t);
		lockdep_report_end();
		splat_die();
	}
	if (!(flags & LOCK_F_TRYLOCK)) {
		check_deadlock(t, &a, flags);
		check_prevs_add(t, &a);
	}
	held_store(&t->held[t->depth], &h);
	__atomic_store_n(&t->depth, t->depth + 1, __ATOMIC_RELEASE);
}

static int find_held(const struct lockdep_task *t, const void *inst, int bit)
{
	for (int i = t->depth - 1; i >= 0; i--) {
		if (t->held[i].instance == inst && t->held[i].bit == bit)
			return i;
	}
	return -1;
}

void lock_acquired(const void *inst, int bit)
{
	struct lockdep_task *t = lockdep_current();
	int i = find_held(t, inst, bit);

	if (i < 0)	/* validator switched on mid-wait: nothing to mark */
		return;
	__atomic_store_n(&t->held[i].acquire_ns, ft_now_coarse_ns(), __ATOMIC_RELAXED);
	__atomic_store_n(&t->held[i].state, HELD_HELD, __ATOMIC_RELAXED);
}

void lock_release(const struct lockdep_map *map, const void *inst, int bit,
		  const struct lock_site *site)
{
	struct lockdep_task *t = lockdep_current();
	int i = find_held(t, inst, bit);

	if (i < 0)
		report_bad_unlock(t, map, inst, bit, site, "release");
	/* Locks need not be released in LIFO order: close the gap. */
	for (; i + 1 < t->depth; i++)
		held_store(&t->held[i], &t->held[i + 1]);
	__atomic_store_n(&t->depth, t->depth - 1, __ATOMIC_RELEASE);
}

void lock_downgrade(const struct lockdep_map *map, const void *inst,
		    const struct lock_site *site)
{
	struct lockdep_task *t = lockdep_current();
	int i = find_held(t, inst, -1);

	if (i < 0)
		report_bad_unlock(t, map, inst, -1, site, "downgrade");
	__atomic_store_n(&t->held[i].flags, t->held[i].flags | LOCK_F_READ,
			 __ATOMIC_RELAXED);
}

bool lock_is_held_write(const void *inst)
{
	struct lockdep_task *t = lockdep_current();
	int i = find_held(t, inst, -1);

	return i >= 0 && t->held[i].state == HELD_HELD &&
	       !(t->held[i].flags & LOCK_F_READ);
}

const struct lock_site *lock_held_site(const void *inst)
{
	struct lockdep_task *t;
	int i;

	if (!lockdep_enabled())
		return NULL;
	t = lockdep_current();
	i = find_held(t, inst, -1);
	return i >= 0 ? t->held[i].site : NULL;
}

bool lock_is_held(const void *inst, int bit)
{
	struct lockdep_task *t = lockdep_current();
	int i = find_held(t, inst, bit);

	return i >= 0 && t->held[i].state == HELD_HELD;
}

/* ---- Watchdog hooks ------------------------------------------------------------- */

static bool task_snapshot(int i, struct lockdep_task **out)
{
	if (__atomic_load_n(&tasks[i].in_use, __ATOMIC_ACQUIRE) != 1)
		return false;
	*out = &tasks[i];
	return true;
}

void debug_show_all_locks(FILE *out)
{
	fprintf(out, "\nShowing all locks held in the system:\n");
	for (int i = 0; i < MAX_LOCKDEP_TASKS; i++) {
		struct lockdep_task *t;

		if (task_snapshot(i, &t) &&
		    __atomic_load_n(&t->depth, __ATOMIC_RELAXED))
			lockdep_print_task_locks(out, t);
	}
	fprintf(out, "\n=============================================\n\n");
}

/*
 * Call @fn on a snapshot of every lock some thread holds, with the
 * holder's "comm/tid"; returns how many calls returned true.
 */
static int for_each_held_lock(bool (*fn)(const struct held_lock *h,
					 const char *comm, int tid, void *arg),
			      void *arg)
{
	int found = 0;

	for (int i = 0; i < MAX_LOCKDEP_TASKS; i++) {
		struct lockdep_task *t;
		char comm[LOCKDEP_COMM_LEN];
		int depth, tid;

		if (!task_snapshot(i, &t))
			continue;
		depth = __atomic_load_n(&t->depth, __ATOMIC_RELAXED);
		tid = __atomic_load_n(&t->tid, __ATOMIC_RELAXED);
		comm_load(comm, t->comm);
		for (int j = 0; j < depth && j < MAX_LOCK_DEPTH; j++) {
			struct held_lock h;

			held_load(&h, &t->held[j]);
			if (h.state == HELD_HELD && fn(&h, comm, tid, arg))
				found++;
		}
	}
	return found;
}

struct hold_scan {
	FILE *out;
	u64 now, limit_ns;
};

static bool report_long_hold(const struct held_lock *h, const char *comm,
			     int tid, void *arg)
{
	struct hold_scan *scan = arg;

	if (scan->now < h->acquire_ns || scan->now - h->acquire_ns <= scan->limit_ns)
		return false;
	fprintf(scan->out, "INFO: %s/%d has held lock ", comm, tid);
	print_held_lock(scan->out, h);
	fprintf(scan->out, "      for %llu ms (limit %llu ms)\n",
		(unsigned long long)((scan->now - h->acquire_ns) / NSEC_PER_MSEC),
		(unsigned long long)(scan->limit_ns / NSEC_PER_MSEC));
	return true;
}

int lockdep_scan_hold_times(u64 limit_ns, FILE *out)
{
	struct hold_scan scan = {
		.out = out, .now = ft_now_coarse_ns(), .limit_ns = limit_ns,
	};

	return for_each_held_lock(report_long_hold, &scan);
}

struct holder_query {
	FILE *out;
	const void *inst;
	int bit;
};

static bool report_holder(const struct held_lock *h, const char *comm,
			  int tid, void *arg)
{
	struct holder_query *q = arg;

	if (h->instance != q->inst || h->bit != q->bit)
		return false;
	fprintf(q->out, "lock held by %s/%d, taken at ", comm, tid);
	print_site(q->out, h->site);
	fprintf(q->out, "\n");
	return true;
}

/* Who holds @inst?  Printed in a lockup report. */
static void print_holders(FILE *out, const void *inst, int bit)
{
	struct holder_query q = { .out = out, .inst = inst, .bit = bit };
	int found = for_each_held_lock(report_holder, &q);

	if (!found)
		fprintf(out, "no holder known%s\n",
			lockdep_enabled() ? "" : " (validator off)");
}

__noreturn void lockdep_report_stall(const struct lockdep_map *map,
				     const void *inst, int bit, u64 waited_ns)
{
	struct lockdep_task *t = lockdep_current();

	ft_die_set_reason("lockup");
	lockdep_report_begin();
	if (map->kind == LOCK_KIND_RWSEM || map->kind == LOCK_KIND_SEQCOUNT)
		fprintf(stderr, "\nINFO: task %s/%d blocked for more than %llu ms on:\n",
			t->comm, t->tid,
			(unsigned long long)(waited_ns / NSEC_PER_MSEC));
	else
		fprintf(stderr, "\nBUG: spinlock lockup suspected, %s/%d waited %llu ms for:\n",
			t->comm, t->tid,
			(unsigned long long)(waited_ns / NSEC_PER_MSEC));
	fprintf(stderr, " ");
	print_instance(stderr, inst, bit);
	lockdep_print_lock_name(stderr, map, 0);
	fprintf(stderr, "\n");
	print_holders(stderr, inst, bit);
	debug_show_all_locks(stderr);
	lockdep_report_end();
	ft_die(FT_EXIT_STALL);
}

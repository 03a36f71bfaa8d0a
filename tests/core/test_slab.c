// SPDX-License-Identifier: GPL-2.0-only
/*
 * test_slab: kmem_cache's per-thread magazines (include/ft/core.h).
 *
 *   reuse       a freed object is the next one allocated in that thread;
 *               alignment holds for every object
 *   depot       a thread frees more than a magazine holds, then exits:
 *               another thread gets every one of those objects back
 *               before malloc gives it a new one
 *   handover    two threads pass objects through the depot, each writing
 *               the whole object and reading it back before freeing it:
 *               no object is ever held by both (a word of the other's);
 *               under TSan the depot's mutex orders the two threads'
 *               accesses (a report fails the test with TSan's exit code)
 */
#include <stdlib.h>

#include "ft_test.h"

#define NR_OBJS		(4 * KMEM_MAGAZINE)
#define HANDOVERS	2000

struct obj {
	unsigned long words[16];
};

static struct kmem_cache aligned_cache = KMEM_CACHE_INIT("test_aligned", struct obj, 256);
static struct kmem_cache depot_cache = KMEM_CACHE_INIT("test_depot", struct obj, 0);
static struct kmem_cache pass_cache = KMEM_CACHE_INIT("test_pass", struct obj, 0);

static void *objs[NR_OBJS];

static void test_reuse(struct ft_ktap *k)
{
	void *a = kmem_cache_alloc(&aligned_cache), *b;
	bool aligned = true;

	kmem_cache_free(&aligned_cache, a);
	b = kmem_cache_alloc(&aligned_cache);
	for (int i = 0; i < NR_OBJS; i++) {
		objs[i] = kmem_cache_alloc(&aligned_cache);
		aligned &= !((unsigned long)objs[i] % 256);
	}
	for (int i = 0; i < NR_OBJS; i++)
		kmem_cache_free(&aligned_cache, objs[i]);
	kmem_cache_free(&aligned_cache, b);
	ft_ktap_result(k, a == b && aligned, "reuse: the freed object came back (%d), "
		       "%d objects 256-byte aligned (%d)", a == b, NR_OBJS, aligned);
}

static void *free_all_and_exit(void *arg)
{
	(void)arg;
	for (int i = 0; i < NR_OBJS; i++)
		objs[i] = kmem_cache_alloc(&depot_cache);
	for (int i = 0; i < NR_OBJS; i++)
		kmem_cache_free(&depot_cache, objs[i]);
	return NULL;
}

static void test_depot(struct ft_ktap *k)
{
	pthread_t t;
	int found = 0;

	pthread_create(&t, NULL, free_all_and_exit, NULL);
	pthread_join(t, NULL);
	for (int i = 0; i < NR_OBJS; i++) {
		void *o = kmem_cache_alloc(&depot_cache);

		for (int j = 0; j < NR_OBJS; j++)
			found += o == objs[j];
	}
	ft_ktap_result(k, found == NR_OBJS, "depot: %d of %d objects an exited thread "
		       "freed came back", found, NR_OBJS);
}

static void scribble(struct obj *o, unsigned long v)
{
	for (int i = 0; i < 16; i++)
		o->words[i] = v;
}

static int shared_seen;	/* atomic: objects held by both threads at once */

static void *pass(void *arg)
{
	unsigned long v = (unsigned long)arg;

	for (int i = 0; i < HANDOVERS; i++) {
		struct obj *got[KMEM_MAGAZINE * 2];

		for (int j = 0; j < KMEM_MAGAZINE * 2; j++) {
			got[j] = kmem_cache_alloc(&pass_cache);
			scribble(got[j], v);
		}
		for (int j = 0; j < KMEM_MAGAZINE * 2; j++) {
			for (int w = 0; w < 16; w++)
				if (got[j]->words[w] != v)
					__atomic_add_fetch(&shared_seen, 1, __ATOMIC_RELAXED);
			kmem_cache_free(&pass_cache, got[j]);
		}
	}
	return NULL;
}

static void test_handover(struct ft_ktap *k)
{
	pthread_t t[2];

	for (unsigned long i = 0; i < 2; i++)
		pthread_create(&t[i], NULL, pass, (void *)(i + 1));
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	ft_ktap_result(k, !shared_seen, "handover: %d rounds of %d objects each in two "
		       "threads, %d words written by the other", HANDOVERS, KMEM_MAGAZINE * 2,
		       shared_seen);
}

int main(void)
{
	struct ft_ktap k = { 0 };

	ft_ktap_start(3);
	test_reuse(&k);
	test_depot(&k);
	test_handover(&k);
	return ft_ktap_finish(&k);
}

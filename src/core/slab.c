// SPDX-License-Identifier: GPL-2.0-only
/*
 * kmem_cache (include/ft/core.h): per-thread magazines over a depot.  The
 * depot's mutex orders every object's last use by one thread before its
 * reuse by another, which is what ThreadSanitizer needs to see.
 */
#include <stdlib.h>

#include "ft/core.h"

/* Caches a process may use: the slots of the per-thread magazines. */
#define KMEM_MAX_CACHES	8

struct kmem_magazine {
	struct kmem_cache *cache;
	unsigned int nr;
	void *obj[KMEM_MAGAZINE];
};

static _Thread_local struct kmem_magazine magazines[KMEM_MAX_CACHES];
static pthread_mutex_t caches_lock = PTHREAD_MUTEX_INITIALIZER;
static int nr_caches;
static pthread_key_t exit_key;
static pthread_once_t exit_once = PTHREAD_ONCE_INIT;

/* Move up to @n objects from the depot to @m, or from @m to the depot. */
static void depot_get(struct kmem_cache *c, struct kmem_magazine *m, unsigned int n)
{
	pthread_mutex_lock(&c->lock);
	while (n-- && c->depot) {
		void *obj = c->depot;

		c->depot = *(void **)obj;
		m->obj[m->nr++] = obj;
	}
	pthread_mutex_unlock(&c->lock);
}

static void depot_put(struct kmem_cache *c, struct kmem_magazine *m, unsigned int n)
{
	pthread_mutex_lock(&c->lock);
	while (n-- && m->nr) {
		void *obj = m->obj[--m->nr];

		*(void **)obj = c->depot;
		c->depot = obj;
	}
	pthread_mutex_unlock(&c->lock);
}

/* A thread's exit: its objects go back where other threads find them. */
static void magazines_exit(void *unused)
{
	(void)unused;
	for (int i = 0; i < KMEM_MAX_CACHES; i++)
		if (magazines[i].cache)
			depot_put(magazines[i].cache, &magazines[i], KMEM_MAGAZINE);
}

static void make_exit_key(void)
{
	/* Only when the process is out of keys: a bug of this program. */
	if (pthread_key_create(&exit_key, magazines_exit))
		abort();
}

/* The cache's slot, given out at first use. */
static int cache_id(struct kmem_cache *c)
{
	int id = __atomic_load_n(&c->id, __ATOMIC_ACQUIRE);

	if (id)
		return id;
	pthread_mutex_lock(&caches_lock);
	id = c->id;
	if (!id) {
		if (nr_caches == KMEM_MAX_CACHES) {	/* BUG(): raise the limit */
			fprintf(stderr, "kmem_cache: %s is cache %d of at most %d\n",
				c->name, nr_caches + 1, KMEM_MAX_CACHES);
			abort();
		}
		id = ++nr_caches;
		__atomic_store_n(&c->id, id, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&caches_lock);
	return id;
}

static struct kmem_magazine *magazine(struct kmem_cache *c)
{
	struct kmem_magazine *m = &magazines[cache_id(c) - 1];

	if (!m->cache) {
		pthread_once(&exit_once, make_exit_key);
		pthread_setspecific(exit_key, m);	/* non-NULL: run at exit */
		m->cache = c;
	}
	return m;
}

void *kmem_cache_alloc(struct kmem_cache *c)
{
	struct kmem_magazine *m = magazine(c);

	if (!m->nr)
		depot_get(c, m, KMEM_MAGAZINE / 2);
	if (m->nr)
		return m->obj[--m->nr];
	return c->align ? aligned_alloc(c->align, ALIGN(c->size, c->align)) : malloc(c->size);
}

void kmem_cache_free(struct kmem_cache *c, void *obj)
{
	struct kmem_magazine *m = magazine(c);

	if (!obj)
		return;
	if (m->nr == KMEM_MAGAZINE)
		depot_put(c, m, KMEM_MAGAZINE / 2);
	m->obj[m->nr++] = obj;
}

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vimage lifecycle: creation, naming, destruction.
 *
 * A vimage is one allocation: this header followed by the state of every
 * protocol module at offsets the world computed from the module table
 * (module.c). Creation runs the modules' inits in table order; destruction
 * runs their destroys in reverse, after destroying the children, deepest
 * first. This file never names a protocol: adding one edits module.c only.
 *
 * Names are hierarchical, "a", "a.b", "a.b.c", and live in one hash table
 * per world; the root (FreeBSD's vnet0) is ".".
 */
#include <stdlib.h>
#include <string.h>

#include "kern.h"

static uint64_t name_hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a */

	while (*s) {
		h ^= (unsigned char)*s++;
		h *= 0x100000001b3ull;
	}
	return h;
}

static int names_grow(struct world *w)
{
	size_t cap = w->names_cap * 2;
	struct vimage **t = calloc(cap, sizeof(*t));

	if (!t)
		return -ENOMEM;
	for (size_t i = 0; i < w->names_cap; i++) {
		struct vimage *vi = w->names[i];

		while (vi) {
			struct vimage *next = vi->hnext;
			size_t b = name_hash(vi->name) & (cap - 1);

			vi->hnext = t[b];
			t[b] = vi;
			vi = next;
		}
	}
	free(w->names);
	w->names = t;
	w->names_cap = cap;
	return 0;
}

static void names_insert(struct world *w, struct vimage *vi)
{
	size_t b = name_hash(vi->name) & (w->names_cap - 1);

	vi->hnext = w->names[b];
	w->names[b] = vi;
	w->names_count++;
}

static void names_remove(struct world *w, struct vimage *vi)
{
	struct vimage **pp = &w->names[name_hash(vi->name) & (w->names_cap - 1)];

	while (*pp && *pp != vi)
		pp = &(*pp)->hnext;
	if (*pp) {
		*pp = vi->hnext;
		w->names_count--;
	}
}

struct vimage *vimage_lookup(struct world *w, const char *name)
{
	struct vimage *vi;

	if (!name)
		return NULL;
	vi = w->names[name_hash(name) & (w->names_cap - 1)];
	while (vi && strcmp(vi->name, name) != 0)
		vi = vi->hnext;
	return vi;
}

static bool name_char_ok(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_' || c == '-';
}

int vimage_name_check(const char *name, const char **why)
{
	const char *reason = NULL;
	size_t comp = 0, total = 0;

	if (!name || !*name) {
		reason = "name is empty";
		goto bad;
	}
	for (const char *p = name; *p; p++) {
		if (++total > VIMAGE_NAME_MAX) {
			reason = "name longer than 127 characters";
			goto bad;
		}
		if (*p == '.') {
			if (comp == 0) {
				reason = "empty component (leading, trailing or double dot)";
				goto bad;
			}
			comp = 0;
			continue;
		}
		if (!name_char_ok(*p)) {
			reason = "invalid character (use letters, digits, '_' and '-', and '.' between levels)";
			goto bad;
		}
		if (++comp > VIMAGE_COMPONENT_MAX) {
			reason = "component longer than 31 characters";
			goto bad;
		}
	}
	if (comp == 0) {
		reason = "empty component (leading, trailing or double dot)";
		goto bad;
	}
	return 0;
bad:
	if (why)
		*why = reason;
	return -EINVAL;
}

static void vimage_modules_destroy(struct vimage *vi, size_t upto)
{
	/* Reverse order of init. */
	while (upto-- > 0) {
		const struct vmodule *m = vmodule_table[upto];

		if (m->destroy)
			m->destroy(vi, vimage_state(vi, m->id));
	}
}

static int vimage_alloc(struct world *w, struct vimage *parent,
			const char *name, struct vimage **out)
{
	struct vimage *vi;
	size_t i;
	int err;

	if (w->names_count + 1 > w->names_cap && (err = names_grow(w)))
		return err;
	vi = calloc(1, w->vimage_size);
	if (!vi)
		return -ENOMEM;
	vi->world = w;
	vi->parent = parent;
	vi->id = w->next_vid++;
	vi->log_level = VLOG_WARN;
	list_init(&vi->children);
	list_init(&vi->sibling);
	strcpy(vi->name, name);
	for (i = 0; i < VMOD_COUNT; i++) {
		const struct vmodule *m = vmodule_table[i];

		err = m->init ? m->init(vi, vimage_state(vi, m->id)) : 0;
		if (err)
			goto fail;
	}
	names_insert(w, vi);
	if (parent)
		list_insert_tail(&parent->children, &vi->sibling);
	*out = vi;
	return 0;
fail:
	vimage_modules_destroy(vi, i);
	free(vi);
	return err;
}

int vimage_create(struct world *w, const char *name, struct vimage **out)
{
	char parent_name[VIMAGE_NAME_MAX + 1];
	struct vimage *parent, *vi;
	const char *dot;
	int err;

	err = vimage_name_check(name, NULL);
	if (err)
		return err;
	if (vimage_lookup(w, name))
		return -EEXIST;
	dot = strrchr(name, '.');
	if (dot) {
		memcpy(parent_name, name, (size_t)(dot - name));
		parent_name[dot - name] = '\0';
		parent = vimage_lookup(w, parent_name);
		if (!parent || parent->dying)
			return -ENOENT;
	} else {
		parent = w->root;
	}
	err = vimage_alloc(w, parent, name, &vi);
	if (err)
		return err;
	vlog(vi, VLOG_INFO, "created");
	if (out)
		*out = vi;
	return 0;
}

static void vimage_unlink(struct vimage *vi)
{
	list_remove(&vi->sibling);
}

static void vimage_free(struct vimage *vi)
{
	struct world *w = vi->world;

	vi->dying = true;
	/* Depth is bounded by the name length (at most 64 levels). */
	while (!list_empty(&vi->children))
		vimage_free(container_of(vi->children.next, struct vimage, sibling));
	vlog(vi, VLOG_INFO, "destroying");
	vimage_modules_destroy(vi, VMOD_COUNT);
	vimage_unlink(vi);
	names_remove(w, vi);
	free(vi);
}

int vimage_destroy(struct vimage *vi)
{
	if (!vi || !vi->parent)
		return -EPERM;
	vimage_free(vi);
	return 0;
}

int vimage_create_root(struct world *w)
{
	return vimage_alloc(w, NULL, ".", &w->root);
}

void vimage_destroy_root(struct world *w)
{
	vimage_free(w->root);
	w->root = NULL;
}

struct vimage *world_root(struct world *w)
{
	return w->root;
}

const char *vimage_name(const struct vimage *vi)
{
	return vi->name;
}

struct vimage *vimage_parent(const struct vimage *vi)
{
	return vi->parent;
}

struct world *vimage_world(const struct vimage *vi)
{
	return vi->world;
}

struct vimage *vimage_first_child(const struct vimage *vi)
{
	return list_empty(&vi->children)
		       ? NULL
		       : container_of(vi->children.next, struct vimage, sibling);
}

struct vimage *vimage_next_sibling(const struct vimage *vi)
{
	if (!vi->parent || vi->sibling.next == &vi->parent->children)
		return NULL;
	return container_of(vi->sibling.next, struct vimage, sibling);
}

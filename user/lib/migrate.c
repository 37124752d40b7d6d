// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Carry pinned maps of an older layout over a program upgrade (migrate.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "sluice/abi.h"
#include "migrate.h"
#include "pindir.h"

/* Read every entry of an older, shorter sl_backends into today's layout. */
static int save_backends(int fd, const struct bpf_map_info *info,
			 struct sl_migration *m)
{
	__u8 *old = malloc(info->value_size);
	__u32 id;

	m->backends = calloc(info->max_entries, sizeof(*m->backends));
	if (!old || !m->backends) {
		free(old);
		free(m->backends);
		m->backends = NULL;
		return -ENOMEM;
	}
	m->n_backends = info->max_entries;
	for (id = 0; id < info->max_entries; id++) {
		if (bpf_map_lookup_elem(fd, &id, old)) {
			int rc = -errno;

			free(old);
			free(m->backends);
			m->backends = NULL;
			return rc;
		}
		memcpy(&m->backends[id], old, info->value_size);
	}
	free(old);
	return 0;
}

/* Append to the caller's note. */
static void note_add(char *note, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void note_add(char *note, size_t len, const char *fmt, ...)
{
	size_t used = strnlen(note, len);
	va_list ap;

	if (used + 1 >= len)
		return;
	va_start(ap, fmt);
	vsnprintf(note + used, len - used, fmt, ap);
	va_end(ap);
}

static int prepare_backends(const char *path, struct sl_migration *m,
			    char *note, size_t notelen)
{
	struct bpf_map_info info;
	int fd, rc;

	rc = sl_pinned_map_info(path, &info, &fd);
	if (rc)
		return rc == -ENOENT ? 0 : rc;
	if (info.value_size == sizeof(struct sluice_backend) ||
	    info.value_size > sizeof(struct sluice_backend) ||
	    info.type != BPF_MAP_TYPE_ARRAY) {
		close(fd);	/* today's layout, or not ours to convert */
		return 0;
	}
	rc = save_backends(fd, &info, m);
	close(fd);
	if (rc)
		return rc;
	if (unlink(path)) {
		rc = -errno;
		free(m->backends);
		m->backends = NULL;
		return rc;
	}
	note_add(note, notelen, "%s held %u-byte backend entries from an older "
		 "sluiced: carried over to the %zu-byte layout. ", path,
		 info.value_size, sizeof(struct sluice_backend));
	return 0;
}

static int prepare_reasons(const char *path, char *note, size_t notelen)
{
	struct bpf_map_info info;
	int rc;

	rc = sl_pinned_map_info(path, &info, NULL);
	if (rc)
		return rc == -ENOENT ? 0 : rc;
	if (info.max_entries == SLUICE_R_MAX)
		return 0;
	if (unlink(path))
		return -errno;
	note_add(note, notelen, "%s counted %u reasons, this sluiced %u: "
		 "re-created (reason counters restart from zero). ", path,
		 info.max_entries, SLUICE_R_MAX);
	return 0;
}

int sl_migrate_prepare(const char *backends_path, const char *reasons_path,
		       struct sl_migration *m, char *note, size_t notelen)
{
	int rc;

	memset(m, 0, sizeof(*m));
	if (notelen)
		note[0] = '\0';
	rc = prepare_backends(backends_path, m, note, notelen);
	if (!rc)
		rc = prepare_reasons(reasons_path, note, notelen);
	/* Each sentence ends with a space for the next: not the last. */
	if (notelen && note[0] && note[strlen(note) - 1] == ' ')
		note[strlen(note) - 1] = '\0';
	return rc;
}

int sl_migrate_finish(struct sl_migration *m, int fd)
{
	__u32 id;
	int rc = 0;

	for (id = 0; fd >= 0 && m->backends && id < m->n_backends; id++) {
		if (!m->backends[id].flags)
			continue;	/* never used: the new map is zeroed */
		/* The MTU stays 0 (unknown: unchecked) until the sync. */
		if (bpf_map_update_elem(fd, &id, &m->backends[id], BPF_ANY)) {
			rc = -errno;
			break;
		}
	}
	free(m->backends);
	m->backends = NULL;
	return rc;
}

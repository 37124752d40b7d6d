/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The pin directory: sluiced pins its maps and links there, so it must be
 * on bpffs (pins elsewhere would not survive a restart). This prepares it,
 * or says why it cannot and what to do: bpffs not mounted, bpffs hidden by
 * another mount namespace (`ip netns exec` remounts /sys), a directory that
 * cannot be created.
 */
#ifndef SLUICE_PINDIR_H
#define SLUICE_PINDIR_H

#include <sys/types.h>

#include <stdbool.h>
#include <stddef.h>

#define SL_BPFFS_DEFAULT	"/sys/fs/bpf"

/*
 * Check that @dir is (or, created, would be) on bpffs and, if @create,
 * create it with its parents. 0, or -errno with @err holding the problem
 * on its first line and "hint: ..." on the next.
 */
int sl_pindir_prepare(const char *dir, bool create, char *err, size_t errlen);

/* Does a mountinfo file (proc(5)) list a bpffs mount? */
bool sl_mountinfo_has_bpffs(const char *mountinfo_path);

/* mkdir -p: create @path and its missing parents with @mode. 0 or -errno. */
int sl_mkdir_p(const char *path, mode_t mode);

struct bpf_map_info;

/*
 * The map pinned at @path: its info into @info and, unless @fd is NULL,
 * its fd into *@fd, which the caller closes. 0, or -errno (-ENOENT:
 * nothing pinned there), with nothing left open.
 */
int sl_pinned_map_info(const char *path, struct bpf_map_info *info, int *fd);

#endif /* SLUICE_PINDIR_H */

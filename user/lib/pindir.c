// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Prepares sluiced's pin directory on bpffs, or names why it cannot. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>
#include <linux/magic.h>
#include <bpf/bpf.h>

#include "pindir.h"

/* The deepest existing directory on the way to @dir (@dir itself if it exists). */
static void existing_ancestor(const char *dir, char *out, size_t len)
{
	struct stat st;
	char *slash;

	snprintf(out, len, "%s", dir);
	while (stat(out, &st)) {
		slash = strrchr(out, '/');
		if (!slash || slash == out) {
			snprintf(out, len, "/");
			return;
		}
		*slash = '\0';
	}
}

int sl_mkdir_p(const char *path, mode_t mode)
{
	char buf[PATH_MAX];
	char *p;

	snprintf(buf, sizeof(buf), "%s", path);
	for (p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, mode) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, mode) && errno != EEXIST)
		return -errno;
	return 0;
}

/*
 * Field 5 of a mountinfo line is the mount point; after the " - "
 * separator come the filesystem type and source.
 */
bool sl_mountinfo_has_bpffs(const char *mountinfo_path)
{
	char line[4096];
	bool found = false;
	FILE *fp;

	fp = fopen(mountinfo_path, "r");
	if (!fp)
		return false;
	while (!found && fgets(line, sizeof(line), fp)) {
		const char *sep = strstr(line, " - ");

		found = sep && !strncmp(sep + 3, "bpf ", 4);
	}
	fclose(fp);
	return found;
}

/*
 * Another mount namespace than PID 1's (`ip netns exec`, unshare -m)?
 * /proc/1/ns/mnt cannot always be read here, but mount IDs are unique
 * system-wide and a new namespace's copies get new ones: our root mount
 * (the first line of our mountinfo) is listed by PID 1 only if we share
 * its namespace. A chroot shares it, and is not mistaken for one.
 */
static bool own_mount_ns(void)
{
	char line[4096];
	bool found = false;
	long id, other;
	FILE *fp;

	fp = fopen("/proc/self/mountinfo", "r");
	if (!fp)
		return false;
	id = fgets(line, sizeof(line), fp) ? strtol(line, NULL, 10) : -1;
	fclose(fp);
	fp = fopen("/proc/1/mountinfo", "r");
	if (!fp || id < 0) {
		if (fp)
			fclose(fp);
		return false;	/* cannot tell: assume not */
	}
	while (!found && fgets(line, sizeof(line), fp)) {
		other = strtol(line, NULL, 10);
		found = other == id;
	}
	fclose(fp);
	return !found;
}

static int not_bpffs(const char *dir, const char *anc, char *err, size_t errlen)
{
	bool under_default = !strncmp(dir, SL_BPFFS_DEFAULT "/", strlen(SL_BPFFS_DEFAULT) + 1);

	/* statfs said no bpffs here; PID 1's mount namespace has one. */
	if (own_mount_ns() && sl_mountinfo_has_bpffs("/proc/1/mountinfo")) {
		snprintf(err, errlen,
			 "pin directory %s is not on bpffs: this process runs in its own mount "
			 "namespace without the bpffs that PID 1 has mounted (`ip netns exec` "
			 "remounts /sys and hides it)\n"
			 "hint: start sluiced with `nsenter --net=/run/netns/NAME sluiced ...`, which "
			 "keeps the mount namespace, instead of `ip netns exec NAME sluiced ...`",
			 dir);
	} else if (under_default) {
		snprintf(err, errlen,
			 "pin directory %s is not on bpffs: bpffs is not mounted at %s\n"
			 "hint: mount it: mount -t bpf bpf %s (and add `bpf %s bpf defaults 0 0` "
			 "to /etc/fstab so it is mounted at boot)",
			 dir, SL_BPFFS_DEFAULT, SL_BPFFS_DEFAULT, SL_BPFFS_DEFAULT);
	} else {
		snprintf(err, errlen,
			 "pin directory %s is not on bpffs (%s is on another filesystem), so its "
			 "pins would not survive a restart\n"
			 "hint: set paths.pin_dir to a directory under %s, or mount bpffs over "
			 "%s: mount -t bpf bpf %s",
			 dir, anc, SL_BPFFS_DEFAULT, anc, anc);
	}
	return -ENOTSUP;
}

int sl_pindir_prepare(const char *dir, bool create, char *err, size_t errlen)
{
	char anc[PATH_MAX];
	struct statfs sfs;
	struct stat st;
	int rc;

	if (dir[0] != '/') {
		snprintf(err, errlen, "pin directory %s is not an absolute path\n"
			 "hint: set paths.pin_dir to a directory under %s", dir, SL_BPFFS_DEFAULT);
		return -EINVAL;
	}
	existing_ancestor(dir, anc, sizeof(anc));
	if (statfs(anc, &sfs) || sfs.f_type != BPF_FS_MAGIC)
		return not_bpffs(dir, anc, err, errlen);
	if (!stat(anc, &st) && !S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "cannot create pin directory %s: %s is a pinned object, "
			 "not a directory\nhint: choose another paths.pin_dir, or remove %s if "
			 "nothing uses it", dir, anc, anc);
		return -ENOTDIR;
	}
	if (!create)
		return 0;
	rc = sl_mkdir_p(dir, 0700);
	if (rc)
		snprintf(err, errlen, "cannot create pin directory %s: %s\n"
			 "hint: check that %s is writable by this user (sluiced runs as root), "
			 "or choose another paths.pin_dir", dir, strerror(-rc), anc);
	return rc;
}

int sl_pinned_map_info(const char *path, struct bpf_map_info *info, int *fd)
{
	__u32 len = sizeof(*info);
	int map = bpf_obj_get(path), rc = 0;

	if (map < 0)
		return -errno;
	memset(info, 0, sizeof(*info));
	if (bpf_obj_get_info_by_fd(map, info, &len))
		rc = -errno;
	if (rc || !fd)
		close(map);
	else
		*fd = map;
	return rc;
}

// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Pinned XDP bpf_links: attach, atomic replace, detach (see link.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>

#include "link.h"

/* The ifindex a pinned link is attached to (0: its device went away). */
static int link_ifindex(int fd)
{
	struct bpf_link_info info;
	__u32 len = sizeof(info);

	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	if (info.type != BPF_LINK_TYPE_XDP)
		return -EINVAL;
	return info.xdp.ifindex;
}

/* On success the link's fd is left in *@fd_out for the caller to keep. */
static int replace_pinned(int prog_fd, int ifindex, const char *pin_path,
			  int *fd_out, char *err, size_t errlen)
{
	int fd = bpf_obj_get(pin_path);
	int cur;

	if (fd < 0)
		return -ENOENT;
	cur = link_ifindex(fd);
	if (cur != ifindex) {
		/* Stale pin (device re-created or another one): drop it. */
		close(fd);
		unlink(pin_path);
		return -ENOENT;
	}
	if (bpf_link_update(fd, prog_fd, NULL)) {
		snprintf(err, errlen, "cannot replace XDP program on link %s: %s",
			 pin_path, strerror(errno));
		close(fd);
		return -errno;
	}
	*fd_out = fd;
	return 0;
}

int sl_link_attach(int prog_fd, const char *ifname, bool skb_mode,
		   const char *pin_path, int *fd_out, bool *created,
		   char *err, size_t errlen)
{
	DECLARE_LIBBPF_OPTS(bpf_link_create_opts, opts);
	int ifindex = if_nametoindex(ifname);
	int fd, rc;

	if (!ifindex) {
		snprintf(err, errlen, "no interface %s", ifname);
		return -ENODEV;
	}
	*fd_out = -1;
	*created = false;
	rc = replace_pinned(prog_fd, ifindex, pin_path, fd_out, err, errlen);
	if (rc != -ENOENT)
		return rc;
	opts.flags = skb_mode ? XDP_FLAGS_SKB_MODE : XDP_FLAGS_DRV_MODE;
	fd = bpf_link_create(prog_fd, ifindex, BPF_XDP, &opts);
	if (fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "cannot attach XDP program to %s in %s mode: %s%s",
			 ifname, skb_mode ? "skb" : "native", strerror(-rc),
			 rc == -EBUSY ? " (another XDP program is attached: "
					"remove it, e.g. xdp-loader unload)" : "");
		return rc;
	}
	if (bpf_obj_pin(fd, pin_path)) {
		rc = -errno;
		snprintf(err, errlen, "cannot pin XDP link at %s: %s", pin_path,
			 strerror(-rc));
		close(fd);
		return rc;
	}
	*fd_out = fd;
	*created = true;
	return 0;
}

int sl_link_detach(const char *pin_path, char *err, size_t errlen)
{
	int fd = bpf_obj_get(pin_path);
	int rc = 0;

	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	if (bpf_link_detach(fd) && errno != EINVAL) {
		rc = -errno;
		snprintf(err, errlen, "cannot detach link %s: %s", pin_path,
			 strerror(-rc));
	}
	close(fd);
	unlink(pin_path);
	return rc;
}

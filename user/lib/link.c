// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Pinned XDP bpf_links: attach, atomic replace, detach (see link.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

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

/* The id of the XDP link attached to @ifindex, 0 if none (a netlink attach). */
static __u32 xdp_link_id(int ifindex)
{
	struct bpf_link_info info;
	__u32 id = 0, len;
	int fd;

	while (!bpf_link_get_next_id(id, &id)) {
		fd = bpf_link_get_fd_by_id(id);
		if (fd < 0)
			continue;
		memset(&info, 0, sizeof(info));
		len = sizeof(info);
		if (!bpf_obj_get_info_by_fd(fd, &info, &len) &&
		    info.type == BPF_LINK_TYPE_XDP &&
		    info.xdp.ifindex == (__u32)ifindex) {
			close(fd);
			return id;
		}
		close(fd);
	}
	return 0;
}

/* The name of program @id, "" if it cannot be read. */
static void prog_name(__u32 id, char *name, size_t len)
{
	struct bpf_prog_info info;
	__u32 ilen = sizeof(info);
	int fd = bpf_prog_get_fd_by_id(id);

	name[0] = '\0';
	if (fd < 0)
		return;
	memset(&info, 0, sizeof(info));
	if (!bpf_obj_get_info_by_fd(fd, &info, &ilen))
		snprintf(name, len, "%s", info.name);
	close(fd);
}

/* The program on @ifindex's XDP hook, in whichever mode; 0 if none. */
static __u32 attached_prog_id(int ifindex)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);

	if (bpf_xdp_query(ifindex, 0, &q))
		return 0;
	if (q.drv_prog_id)
		return q.drv_prog_id;
	return q.skb_prog_id ? q.skb_prog_id : q.hw_prog_id;
}

/*
 * What holds @ifname's XDP hook, and how to free it: the EBUSY message.
 * sluice's own program there means another instance, or a hand attach.
 */
static void describe_holder(int ifindex, const char *ifname, char *buf,
			    size_t len)
{
	__u32 id = attached_prog_id(ifindex), link;
	char name[BPF_OBJ_NAME_LEN];
	bool ours;

	if (!id) {
		snprintf(buf, len,
			 " (another XDP program is attached: remove "
			 "it, e.g. xdp-loader unload)");
		return;
	}
	prog_name(id, name, sizeof(name));
	ours = !strcmp(name, "sluice_xdp");
	link = xdp_link_id(ifindex);
	if (ours && link)
		snprintf(buf, len,
			 " (sluice's program, id %u, is attached "
			 "through bpf_link %u, not this instance's: another "
			 "sluiced instance runs on %s; stop it, or detach it "
			 "with its own `sluiced -c FILE --detach`)",
			 id, link, ifname);
	else if (ours)
		snprintf(buf, len,
			 " (sluice's program, id %u, is attached "
			 "without a link, by hand or by another tool, so no "
			 "sluiced can replace it: detach it with `ip link set "
			 "dev %s xdp off`, then start again)",
			 id, ifname);
	else
		snprintf(buf, len,
			 " (XDP program %u '%s' is attached%s: "
			 "remove it with `xdp-loader unload %s --all` or `ip "
			 "link set dev %s xdp off`)",
			 id, name, link ? " through a bpf_link" : "", ifname,
			 ifname);
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
		char why[384] = "";

		rc = -errno;
		if (rc == -EBUSY)
			describe_holder(ifindex, ifname, why, sizeof(why));
		snprintf(err, errlen,
			 "cannot attach XDP program to %s in %s mode: %s%s",
			 ifname, skb_mode ? "skb" : "native", strerror(-rc),
			 why);
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

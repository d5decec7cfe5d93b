// SPDX-License-Identifier: MIT OR Apache-2.0
/*
 * pktspec attach / detach / status.
 *
 * An attachment is an XDP bpf_link pinned at
 *   /sys/fs/bpf/pktspec/links/xdp_<ifindex>_<netns inode>_<mode>
 * (bpffs refuses dots in names) so the classifier outlives the command, one interface cannot be attached
 * twice, and interfaces of the same name in different network namespaces do
 * not collide. Maps are pinned beside it by name and shared by all
 * attachments; they go with the last one unless --keep-maps.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "pktspec.h"
#include "lifecycle.h"
#include "pktspec.skel.h"

struct link_pin {
	char path[PATH_MAX];
	char name[NAME_MAX + 1];
	unsigned int ifindex;
	unsigned long netns;
	char mode[16];
};

static unsigned long netns_inode(void)
{
	struct stat st;

	if (stat("/proc/self/ns/net", &st) < 0)
		return 0;
	return (unsigned long)st.st_ino;
}

/*
 * What attach and detach do first: the interface's index, a BPF filesystem
 * on /sys/fs/bpf, and its lock. The lock's descriptor, or -1 once said why.
 */
static int iface_locked(const char *ifname, unsigned int *ifindex)
{
	*ifindex = if_nametoindex(ifname);
	if (!*ifindex) {
		pks_fail("no such interface: %s", ifname);
		return -1;
	}
	if (pks_need_bpffs())
		return -1;
	return pks_lock();
}

/* Lists the link pins; returns the count or -errno. */
static int link_pins(struct link_pin **out)
{
	struct link_pin *pins = NULL;
	struct dirent *de;
	size_t cap = 0;
	int n = 0;
	DIR *d;

	*out = NULL;
	d = opendir(PKS_LINK_DIR);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d))) {
		struct link_pin p = {};

		if (sscanf(de->d_name, "xdp_%u_%lu_%15s", &p.ifindex, &p.netns, p.mode) != 3)
			continue;
		snprintf(p.name, sizeof(p.name), "%s", de->d_name);
		snprintf(p.path, sizeof(p.path), "%s/%s", PKS_LINK_DIR, de->d_name);
		if (pks_grow(&pins, &cap, (size_t)n + 1, sizeof(*pins), 8)) {
			free(pins);
			closedir(d);
			return -ENOMEM;
		}
		pins[n++] = p;
	}
	closedir(d);
	*out = pins;
	return n;
}

/* The XDP ifindex a pinned link is attached to: 0 when its interface is gone. */
static int link_ifindex(const char *path, unsigned int *ifindex, __u32 *prog_id, __u32 *link_id)
{
	struct bpf_link_info info = {};
	__u32 len = sizeof(info);
	int fd, err;

	fd = bpf_obj_get(path);
	if (fd < 0)
		return -errno;
	err = bpf_obj_get_info_by_fd(fd, &info, &len);
	close(fd);
	if (err)
		return -errno;
	*ifindex = info.xdp.ifindex;
	if (prog_id)
		*prog_id = info.prog_id;
	if (link_id)
		*link_id = info.id;
	return 0;
}

/* Removes the maps and the pin directory when no attachment is left. */
static void remove_maps_if_unused(void)
{
	struct link_pin *pins;
	struct dirent *de;
	int n;
	DIR *d;

	n = link_pins(&pins);
	free(pins);
	if (n != 0)
		return;
	rmdir(PKS_LINK_DIR);
	d = opendir(PKS_PIN_DIR);
	if (!d)
		return;
	while ((de = readdir(d))) {
		char path[PATH_MAX];

		if (de->d_name[0] == '.')
			continue;
		/* Policies are configuration, not state: they stay until 'pktspec policy clear'. */
		if (!strcmp(de->d_name, PKS_MAP_POLICY) || !strcmp(de->d_name, PKS_MAP_POL_STATE))
			continue;
		/* links/ may keep clsact markers (user/tc.c) of interfaces in other netns. */
		if (de->d_type == DT_DIR)
			continue;
		snprintf(path, sizeof(path), "%s/%s", PKS_PIN_DIR, de->d_name);
		if (unlink(path) < 0 && errno != ENOENT)
			pks_fail("cannot remove %s: %s", path, strerror(errno));
	}
	closedir(d);
	rmdir(PKS_PIN_DIR);
}

/* Drops pins of links whose interface has disappeared. */
static void prune_dead_links(void)
{
	struct link_pin *pins;
	int n = link_pins(&pins);

	for (int i = 0; i < n; i++) {
		unsigned int ifindex = 1;

		if (link_ifindex(pins[i].path, &ifindex, NULL, NULL) == 0 && ifindex == 0)
			unlink(pins[i].path);
	}
	free(pins);
}

/* A program's name, tag and map IDs (up to max); 0 or -errno. */
static int prog_info(__u32 id, struct bpf_prog_info *info, __u32 *map_ids, __u32 max)
{
	__u32 len = sizeof(*info);
	int fd = bpf_prog_get_fd_by_id(id), err = 0;

	if (fd < 0)
		return -errno;
	memset(info, 0, sizeof(*info));
	info->nr_map_ids = max;
	info->map_ids = (__u64)(unsigned long)map_ids;
	if (bpf_obj_get_info_by_fd(fd, info, &len))
		err = -errno;
	close(fd);
	return err;
}

/* The tag of this build's XDP entry program: pks_xdp loaded alone, nothing pinned, nothing shared. */
static int our_xdp_tag(__u8 *tag)
{
	struct pks_load_opts lo = { .max_flows = 1024, .max_flows6 = 1024 };
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);
	struct pktspec_bpf *skel = pktspec_bpf__open();
	struct bpf_program *prog;
	struct bpf_map *map;
	int err;

	if (!skel)
		return -errno;
	bpf_object__for_each_program(prog, skel->obj)
		bpf_program__set_autoload(prog, prog == skel->progs.pks_xdp);
	bpf_object__for_each_map(map, skel->obj)
		bpf_map__set_pin_path(map, NULL);
	pks_flows_set_size(&PKS_FLOW_MAPS(skel), &lo);
	skel->rodata->pks_cfg.coarse_clock = pks_have_coarse_clock(BPF_PROG_TYPE_XDP);
	err = bpf_object__load(skel->obj);
	if (!err && bpf_obj_get_info_by_fd(bpf_program__fd(skel->progs.pks_xdp), &info, &len))
		err = -errno;
	if (!err)
		memcpy(tag, info.tag, BPF_TAG_SIZE);
	pktspec_bpf__destroy(skel);
	return err;
}

/*
 * The configuration (struct pks_config, .rodata) the classifier behind a
 * pinned link was loaded with: where it lies in .rodata is where this
 * build's skeleton puts it. 0 or -errno.
 */
static int link_config(const char *path, struct pks_config *cfg)
{
	struct pktspec_bpf *skel = pktspec_bpf__open();
	__u32 map_ids[64], prog_id = 0, zero = 0;
	struct bpf_prog_info info;
	unsigned int ifindex;
	size_t off;
	int err;

	if (!skel)
		return -errno;
	off = (size_t)((const char *)&skel->rodata->pks_cfg - (const char *)skel->rodata);
	pktspec_bpf__destroy(skel);
	err = link_ifindex(path, &ifindex, &prog_id, NULL);
	if (!err)
		err = prog_info(prog_id, &info, map_ids, 64);
	if (err)
		return err;
	for (__u32 i = 0; i < info.nr_map_ids && i < 64; i++) {
		struct bpf_map_info mi = {};
		__u32 len = sizeof(mi);
		int fd = bpf_map_get_fd_by_id(map_ids[i]);
		char *val;

		if (fd < 0)
			continue;
		if (bpf_obj_get_info_by_fd(fd, &mi, &len) || strlen(mi.name) < 7 ||
		    strcmp(mi.name + strlen(mi.name) - 7, ".rodata") ||
		    mi.value_size < off + sizeof(*cfg) || !(val = malloc(mi.value_size))) {
			close(fd);
			continue;
		}
		err = bpf_map_lookup_elem(fd, &zero, val) ? -errno : 0;
		if (!err)
			memcpy(cfg, val + off, sizeof(*cfg));
		free(val);
		close(fd);
		return err;
	}
	return -ENOENT;
}

/*
 * The egress classifier and the policy program added beside an attached
 * classifier open the tunnels it opens and inspect as far as it does:
 * its configuration, not this command's defaults. An option given here that
 * differs from it is refused (detach and attach again to change it).
 */
static int adopt_config(const char *path, const char *ifname, struct pks_load_opts *lo)
{
	static const char *const kinds[3] = { "vxlan", "geneve", "gtp-u" };
	struct pks_config cfg = {};
	unsigned int ports[3];
	int err = link_config(path, &cfg);

	if (err)
		return pks_fail("cannot read the configuration of %s's classifier: %s", ifname, strerror(-err)), err;
	ports[0] = cfg.vxlan_port;
	ports[1] = cfg.geneve_port;
	ports[2] = cfg.gtpu_port;
	for (int i = 0; i < 3; i++) {
		if (lo->tunnel_ports[i] && lo->tunnel_ports[i] - 1 != ports[i])
			return pks_fail("%s's classifier opens %s on port %u, not %u: detach it and attach again to "
					"change it",
					ifname, kinds[i], ports[i], lo->tunnel_ports[i] - 1),
			       -EINVAL;
		lo->tunnel_ports[i] = ports[i] + 1;
	}
	if (lo->inspect_max && lo->inspect_max != cfg.inspect_max)
		return pks_fail("%s's classifier inspects %u payload packets per direction, not %u: detach it and "
				"attach again to change it",
				ifname, cfg.inspect_max, lo->inspect_max),
		       -EINVAL;
	lo->inspect_max = cfg.inspect_max;
	return 0;
}

static void tag_hex(const __u8 *tag, char *out)
{
	for (int i = 0; i < BPF_TAG_SIZE; i++)
		sprintf(out + 2 * i, "%02x", tag[i]);
}

/*
 * Whether the program attached through a pinned link is this build's
 * classifier working on the maps pinned now: its name and tag are ours, and
 * every map it uses that has a pin of its name is that pinned map.
 */
static int link_is_ours(const char *ifname, __u32 prog_id)
{
	__u32 map_ids[64], same = 0;
	struct bpf_prog_info info;
	__u8 tag[BPF_TAG_SIZE];
	char theirs[2 * BPF_TAG_SIZE + 1], ours[2 * BPF_TAG_SIZE + 1];
	int err;

	err = prog_info(prog_id, &info, map_ids, 64);
	if (err)
		return pks_fail("cannot read %s's XDP program %u: %s", ifname, prog_id, strerror(-err)), err;
	err = our_xdp_tag(tag);
	if (err)
		return pks_fail("cannot load the classifier to compare it with %s's: %s", ifname, strerror(-err)),
		       err;
	tag_hex(info.tag, theirs);
	tag_hex(tag, ours);
	if (strcmp(info.name, "pks_xdp") || memcmp(info.tag, tag, BPF_TAG_SIZE)) {
		pks_fail("%s has another XDP program on pktspec's link (program %u '%s', tag %s; this pktspec's "
			 "is tag %s): detach it first (pktspec detach %s)",
			 ifname, prog_id, info.name, theirs, ours, ifname);
		return -EEXIST;
	}
	for (__u32 i = 0; i < info.nr_map_ids && i < 64; i++) {
		struct bpf_map_info mi = {}, pi = {};
		__u32 len = sizeof(mi);
		char path[PATH_MAX];
		int fd = bpf_map_get_fd_by_id(map_ids[i]), pfd;

		if (fd < 0)
			continue;
		err = bpf_obj_get_info_by_fd(fd, &mi, &len);
		close(fd);
		if (err || !mi.name[0])
			continue;
		snprintf(path, sizeof(path), "%s/%s", PKS_PIN_DIR, mi.name);
		pfd = bpf_obj_get(path);
		if (pfd < 0)
			continue; /* not a pinned map (.rodata, ...) */
		len = sizeof(pi);
		err = bpf_obj_get_info_by_fd(pfd, &pi, &len);
		close(pfd);
		if (err || pi.id != mi.id) {
			pks_fail("%s's classifier (program %u) uses another %s than the one pinned at %s: "
				 "detach it first (pktspec detach %s)",
				 ifname, prog_id, mi.name, path, ifname);
			return -EEXIST;
		}
		same++;
	}
	if (!same) {
		pks_fail("%s's classifier (program %u) uses none of the maps pinned in %s: detach it first "
			 "(pktspec detach %s)",
			 ifname, prog_id, PKS_PIN_DIR, ifname);
		return -EEXIST;
	}
	return 0;
}

int pks_attach_adopt(const char *ifname, const char *mode)
{
	struct link_pin *pins, pin = {};
	unsigned int ifindex = if_nametoindex(ifname), live = 0;
	__u32 prog_id = 0;
	int n, err;

	if (!ifindex)
		return 0; /* attach says so */
	if (mode && !strcmp(mode, "drv"))
		mode = "native";
	else if (mode && !strcmp(mode, "skb"))
		mode = "generic";
	prune_dead_links();
	n = link_pins(&pins);
	for (int i = 0; i < n; i++)
		if (pins[i].ifindex == ifindex && pins[i].netns == netns_inode())
			pin = pins[i];
	free(pins);
	if (!pin.ifindex) {
		struct bpf_prog_info info;

		/* Not ours: name what is there rather than load the classifier only to be refused. */
		if (bpf_xdp_query_id(ifindex, 0, &prog_id) || !prog_id)
			return 0;
		if (prog_info(prog_id, &info, NULL, 0))
			info.name[0] = 0;
		pks_fail("%s already has an XDP program attached by another tool (program %u '%s'); remove it "
			 "first (ip link set dev %s xdp off)",
			 ifname, prog_id, info.name, ifname);
		return -EEXIST;
	}
	if (mode && strcmp(mode, pin.mode)) {
		pks_fail("%s is attached in %s mode, not %s: run with --mode %s, or detach it first", ifname, pin.mode,
			 mode, pin.mode);
		return -EEXIST;
	}
	err = link_ifindex(pin.path, &live, &prog_id, NULL);
	if (err)
		return pks_fail("cannot read the link pinned at %s: %s", pin.path, strerror(-err)), err;
	err = link_is_ours(ifname, prog_id);
	return err ? err : 1;
}

static const char attach_help[] =
	"Usage: pktspec attach IFACE [options]\n"
	"Load the classifier and attach it to IFACE's XDP hook. Maps and the link are\n"
	"pinned under " PKS_PIN_DIR "; the classifier keeps running after the command.\n"
	"\n"
	"  -m, --mode MODE      native (driver XDP, also 'drv') or generic (skb XDP, also\n"
	"                       'skb'); default: native\n"
	"      --max-flows N    IPv4 flow table size, 1024-16777216 (default 262144); must\n"
	"                       match the pinned table; both tables together may take at\n"
	"                       most half of MemAvailable (128 and 160 bytes an entry)\n"
	"      --max-flows6 N   IPv6 flow table size, 1024-16777216 (default: a quarter of\n"
	"                       --max-flows, 65536)\n"
	"      --flow-table KIND  the IPv4 flow table: lru (an LRU hash, the default) or\n"
	"                       array (4-way buckets, two ways a flow: cheaper per packet,\n"
	"                       a flow may leave early when its bucket is full); must match\n"
	"                       the pinned table\n"
	"      --inspect N      payload packets inspected per direction, 1-4 (default 4)\n"
	"      --tunnel-port KIND=PORT  UDP port a tunnel is opened on (vxlan 4789,\n"
	"                       geneve 6081, gtp-u 2152; 0 turns it off); repeatable\n"
	"      --tc[=DIR]       also attach the tc policy program (pktspec policy) on the\n"
	"                       clsact hook: ingress, egress or both (default both); on an\n"
	"                       interface already attached, adds only the tc part\n"
	"      --egress         also classify outgoing packets at tc egress (end hosts:\n"
	"                       a server's replies); on an interface already attached,\n"
	"                       adds only that\n"
	"                       (both: with the attached classifier's --tunnel-port and\n"
	"                       --inspect)\n"
	"  -v, --verbose        libbpf and verifier messages\n"
	"  -h, --help           this help\n";

int cmd_attach(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "mode", required_argument, NULL, 'm' },  { "max-flows", required_argument, NULL, 'F' },
		{ "max-flows6", required_argument, NULL, '6' },
		{ "flow-table", required_argument, NULL, 'K' },
		{ "inspect", required_argument, NULL, 'I' }, { "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },         { "tc", optional_argument, NULL, 'T' },
		{ "egress", no_argument, NULL, 'E' },       { "tunnel-port", required_argument, NULL, 'U' },
		{}
	};
	struct pks_load_opts lo = { .pinned = true };
	const char *mode = "native";
	char pin[PATH_MAX];
	struct link_pin *pins;
	struct pktspec_bpf *skel = NULL;
	unsigned int ifindex;
	unsigned long v;
	int c, n, lock_fd, link_fd, err, ret = PKS_EXIT_FAIL, tc_dirs = 0;
	bool maps_existed, egress = false;
	__u32 flags;

	while ((c = getopt_long(argc, argv, "m:vh", opts, NULL)) != -1) {
		switch (c) {
		case 'm':
			mode = optarg;
			break;
		case 'F':
			if (pks_max_flows_opt("attach", "--max-flows", optarg, &lo.max_flows))
				return PKS_EXIT_USAGE;
			break;
		case '6':
			if (pks_max_flows_opt("attach", "--max-flows6", optarg, &lo.max_flows6))
				return PKS_EXIT_USAGE;
			break;
		case 'K':
			if (pks_flow_table_opt("attach", optarg, &lo.table))
				return PKS_EXIT_USAGE;
			break;
		case 'I':
			if (pks_parse_uint(optarg, PKS_INSPECT_MAX, &v) || v < 1)
				return pks_usage_error("attach", "--inspect takes a number from 1 to %d",
						       PKS_INSPECT_MAX);
			lo.inspect_max = v;
			break;
		case 'U':
			if (pks_tunnel_port_opt(&lo, optarg))
				return pks_usage_error("attach", "--tunnel-port takes vxlan=PORT, geneve=PORT or gtp-u=PORT (0-65535)");
			break;
		case 'T':
			/* "--tc egress" as well as "--tc=egress": take a following direction word. */
			if (!optarg && optind < argc && pks_tc_parse_dirs(argv[optind]) > 0)
				optarg = argv[optind++];
			tc_dirs = pks_tc_parse_dirs(optarg);
			if (tc_dirs < 0)
				return pks_usage_error("attach", "--tc takes ingress, egress or both");
			break;
		case 'E':
			egress = true;
			break;
		case 'v':
			pks_verbose++;
			break;
		case 'h':
			fputs(attach_help, stdout);
			return PKS_EXIT_OK;
		default:
			return pks_usage_error("attach", "bad option");
		}
	}
	if (optind + 1 != argc)
		return pks_usage_error("attach", "attach takes exactly one interface name");
	/* skb and drv are xdp-loader's names for the same modes. */
	if (!strcmp(mode, "drv"))
		mode = "native";
	else if (!strcmp(mode, "skb"))
		mode = "generic";
	if (!strcmp(mode, "native"))
		flags = XDP_FLAGS_DRV_MODE;
	else if (!strcmp(mode, "generic"))
		flags = XDP_FLAGS_SKB_MODE;
	else
		return pks_usage_error("attach", "unknown mode '%s': use native or generic", mode);

	if (pks_flows_memory_check(&lo))
		return PKS_EXIT_FAIL;
	if (pks_need_caps("attach", PKS_NEED_LOAD | PKS_NEED_NET_ADMIN))
		return PKS_EXIT_FAIL;
	lock_fd = iface_locked(argv[optind], &ifindex);
	if (lock_fd < 0)
		return PKS_EXIT_FAIL;

	prune_dead_links();
	n = link_pins(&pins);
	for (int i = 0; i < n; i++) {
		if (pins[i].ifindex == ifindex && pins[i].netns == netns_inode()) {
			if (tc_dirs || egress) {
				/* The classifier is there: add the egress classifier or policy program beside it. */
				err = adopt_config(pins[i].path, argv[optind], &lo);
				free(pins);
				if (err)
					goto out;
				if (egress && pks_egress_attach(ifindex, argv[optind], &lo))
					goto out;
				if (egress)
					printf("attached the egress classifier to %s\n", argv[optind]);
				if (tc_dirs && pks_tc_attach(ifindex, argv[optind], tc_dirs, &lo))
					goto out;
				if (tc_dirs)
					printf("attached the tc policy program to %s\n", argv[optind]);
				ret = PKS_EXIT_OK;
				goto out;
			}
			pks_fail("%s is already attached (%s mode); detach it first", argv[optind],
				 pins[i].mode);
			free(pins);
			goto out;
		}
	}
	free(pins);

	/* Maps kept from before (--keep-maps) must survive a failed attach. */
	maps_existed = access(PKS_PIN_DIR "/" PKS_MAP_FLOWS4, F_OK) == 0;
	if (pks_load(&lo, &skel))
		goto out_cleanup_maps;

	LIBBPF_OPTS(bpf_link_create_opts, link_opts, .flags = flags);
	link_fd = bpf_link_create(bpf_program__fd(skel->progs.pks_xdp), ifindex, BPF_XDP, &link_opts);
	if (link_fd < 0) {
		err = errno;
		if (err == EBUSY || err == EEXIST)
			pks_fail("%s already has an XDP program attached by another tool; remove it first "
				 "(ip link set dev %s xdp off)",
				 argv[optind], argv[optind]);
		else if (err == EOPNOTSUPP || err == EINVAL)
			pks_fail("cannot attach to %s in %s mode: %s%s", argv[optind], mode, strerror(err),
				 flags == XDP_FLAGS_DRV_MODE ? " (try --mode generic)" : "");
		else
			pks_fail("cannot attach to %s: %s", argv[optind], strerror(err));
		goto out_cleanup_maps;
	}
	if (mkdir(PKS_LINK_DIR, 0700) < 0 && errno != EEXIST) {
		pks_fail("cannot create %s: %s", PKS_LINK_DIR, strerror(errno));
		close(link_fd);
		goto out_cleanup_maps;
	}
	snprintf(pin, sizeof(pin), "%s/xdp_%u_%lu_%s", PKS_LINK_DIR, ifindex, netns_inode(), mode);
	if (bpf_obj_pin(link_fd, pin)) {
		pks_fail("cannot pin the link at %s: %s", pin, strerror(errno));
		close(link_fd); /* the last reference: this detaches */
		goto out_cleanup_maps;
	}
	if ((egress && pks_egress_attach(ifindex, argv[optind], &lo)) ||
	    (tc_dirs && pks_tc_attach(ifindex, argv[optind], tc_dirs, &lo))) {
		bool found;

		pks_egress_detach(ifindex, argv[optind], &found);
		pks_tc_detach(ifindex, argv[optind], &found);
		bpf_link_detach(link_fd);
		close(link_fd);
		unlink(pin);
		goto out_cleanup_maps;
	}
	close(link_fd);
	printf("attached to %s (%s mode%s%s); flows: pktspec flows\n", argv[optind], mode,
	       egress ? ", egress classifier" : "", tc_dirs ? ", tc policy program" : "");
	ret = PKS_EXIT_OK;
	goto out;

out_cleanup_maps:
	/* Nothing half-attached: maps pinned by this attempt go if nothing uses them. */
	pktspec_bpf__destroy(skel);
	skel = NULL;
	if (!maps_existed)
		remove_maps_if_unused();
out:
	pktspec_bpf__destroy(skel);
	close(lock_fd);
	return ret;
}

static const char detach_help[] =
	"Usage: pktspec detach IFACE [--keep-maps]\n"
	"Detach the classifier from IFACE and remove its pinned link. The pinned maps\n"
	"are removed with the last attachment unless --keep-maps.\n"
	"\n"
	"      --keep-maps      keep the flow table and counters pinned\n"
	"  -v, --verbose        libbpf messages\n"
	"  -h, --help           this help\n";

int cmd_detach(int argc, char **argv)
{
	static const struct option opts[] = { { "keep-maps", no_argument, NULL, 'k' },
					      { "verbose", no_argument, NULL, 'v' },
					      { "help", no_argument, NULL, 'h' },
					      {} };
	bool keep_maps = false, found = false;
	struct link_pin *pins;
	unsigned int ifindex;
	int c, n, lock_fd, ret = PKS_EXIT_FAIL;

	while ((c = getopt_long(argc, argv, "vh", opts, NULL)) != -1) {
		switch (c) {
		case 'k':
			keep_maps = true;
			break;
		case 'v':
			pks_verbose++;
			break;
		case 'h':
			fputs(detach_help, stdout);
			return PKS_EXIT_OK;
		default:
			return pks_usage_error("detach", "bad option");
		}
	}
	if (optind + 1 != argc)
		return pks_usage_error("detach", "detach takes exactly one interface name");
	if (pks_need_caps("detach", PKS_NEED_BPF | PKS_NEED_NET_ADMIN))
		return PKS_EXIT_FAIL;
	lock_fd = iface_locked(argv[optind], &ifindex);
	if (lock_fd < 0)
		return PKS_EXIT_FAIL;

	n = link_pins(&pins);
	for (int i = 0; i < n; i++) {
		int fd;

		if (pins[i].ifindex != ifindex || pins[i].netns != netns_inode())
			continue;
		found = true;
		fd = bpf_obj_get(pins[i].path);
		if (fd >= 0) {
			/* Detach now, even if another process still holds the link. */
			if (bpf_link_detach(fd) && errno != ENOLINK)
				pks_fail("detaching %s: %s", argv[optind], strerror(errno));
			close(fd);
		}
		if (unlink(pins[i].path) < 0) {
			pks_fail("cannot remove %s: %s", pins[i].path, strerror(errno));
			goto out;
		}
	}
	{
		bool tc_found, eg_found;

		/* The egress filter first: the tc part then removes a clsact left empty. */
		if (pks_egress_detach(ifindex, argv[optind], &eg_found))
			goto out;
		if (pks_tc_detach(ifindex, argv[optind], &tc_found))
			goto out;
		found = found || tc_found || eg_found;
	}
	if (!found) {
		pks_fail("pktspec is not attached to %s", argv[optind]);
		goto out;
	}
	prune_dead_links();
	if (!keep_maps)
		remove_maps_if_unused();
	printf("detached from %s\n", argv[optind]);
	ret = PKS_EXIT_OK;
out:
	free(pins);
	close(lock_fd);
	return ret;
}

int pks_attachments(struct pks_attachment **out)
{
	struct link_pin *pins;
	struct pks_attachment *atts;
	int n = link_pins(&pins);

	*out = NULL;
	if (n <= 0)
		return n;
	atts = calloc(n, sizeof(*atts));
	if (!atts) {
		free(pins);
		return -ENOMEM;
	}
	for (int i = 0; i < n; i++) {
		struct pks_attachment *a = &atts[i];
		unsigned int live_ifindex = 0;

		a->ifindex = pins[i].ifindex;
		a->netns = pins[i].netns;
		a->here = pins[i].netns == netns_inode();
		snprintf(a->mode, sizeof(a->mode), "%s", pins[i].mode);
		link_ifindex(pins[i].path, &live_ifindex, &a->prog_id, &a->link_id);
		a->live = live_ifindex != 0;
		if (!a->live)
			snprintf(a->ifname, sizeof(a->ifname), "(gone)");
		else if (!a->here || !if_indextoname(pins[i].ifindex, a->ifname))
			snprintf(a->ifname, sizeof(a->ifname), "?");
	}
	free(pins);
	*out = atts;
	return n;
}

/* Sums the per-CPU reason counters of a pinned or private stats map. */
int pks_stats_read(int fd, __u64 *sum)
{
	int ncpu = libbpf_num_possible_cpus();
	struct pks_stats *per_cpu;
	__u32 zero = 0;

	if (ncpu <= 0)
		return -EINVAL;
	per_cpu = calloc(ncpu, sizeof(*per_cpu));
	if (!per_cpu)
		return -ENOMEM;
	if (bpf_map_lookup_elem(fd, &zero, per_cpu)) {
		int err = -errno;

		free(per_cpu);
		return err;
	}
	memset(sum, 0, sizeof(__u64) * PKS_REASON__COUNT);
	for (int c = 0; c < ncpu; c++)
		for (int r = 0; r < PKS_REASON__COUNT; r++)
			sum[r] += ((__u64 *)&per_cpu[c])[r];
	free(per_cpu);
	return 0;
}

static const char status_help[] =
	"Usage: pktspec status [--json]\n"
	"Show where the classifier is attached and in which mode, which pktspec run\n"
	"serves it (PID and command line), how full the flow table is, and why\n"
	"packets finished (one named reason per packet).\n"
	"\n"
	"  -j, --json           one JSON object\n"
	"  -h, --help           this help\n";

int cmd_status(int argc, char **argv)
{
	static const struct option opts[] = { { "json", no_argument, NULL, 'j' },
					      { "verbose", no_argument, NULL, 'v' },
					      { "help", no_argument, NULL, 'h' },
					      {} };
	__u64 reasons[PKS_REASON__COUNT] = {};
	bool json = false, have_stats = false;
	struct pks_attachment *atts = NULL;
	struct pks_flowtab tab;
	struct pks_evictions ev = {};
	bool have_ev = false;
	long entries = -1;
	__u64 max = 0;
	char daemon_cmd[256];
	pid_t daemon_pid;
	int c, n, fd;

	while ((c = getopt_long(argc, argv, "jvh", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 'v':
			pks_verbose++;
			break;
		case 'h':
			fputs(status_help, stdout);
			return PKS_EXIT_OK;
		default:
			return pks_usage_error("status", "bad option");
		}
	}
	if (optind != argc)
		return pks_usage_error("status", "status takes no arguments");
	if (pks_need_caps("status", PKS_NEED_BPF))
		return PKS_EXIT_FAIL;
	if (pks_need_bpffs())
		return PKS_EXIT_FAIL;

	n = pks_attachments(&atts);
	if (n < 0)
		return pks_fail("cannot read %s: %s", PKS_LINK_DIR, strerror(-n));
	fd = bpf_obj_get(PKS_PIN_DIR "/" PKS_MAP_STATS);
	if (pks_flowtab_pinned(&tab) == 0) {
		__u64 e = 0, cap = 0;

		if (fd >= 0) {
			int lfd = bpf_obj_get(PKS_PIN_DIR "/" PKS_MAP_LEDGER);

			have_ev = pks_evictions_read(fd, lfd, &tab, &ev) == 0;
			if (lfd >= 0)
				close(lfd);
		}
		if (have_ev) {
			entries = (long)ev.entries;
			max = ev.capacity;
		} else if (pks_flowtab_fill(&tab, &e, &cap) == 0) {
			entries = e;
			max = cap;
		}
		pks_flowtab_close(&tab);
	}
	if (fd >= 0) {
		have_stats = pks_stats_read(fd, reasons) == 0;
		close(fd);
	}

	if (json)
		printf("{\"attached\":[");
	else if (n == 0)
		printf("not attached to any interface\n");
	else
		printf("%-16s %-8s %-8s %-12s %s\n", "INTERFACE", "IFINDEX", "MODE", "NETNS", "PROG");
	for (int i = 0; i < n; i++) {
		const struct pks_attachment *a = &atts[i];

		if (json)
			printf("%s{\"ifname\":\"%s\",\"ifindex\":%u,\"netns\":%lu,\"mode\":\"%s\","
			       "\"prog_id\":%u,\"link_id\":%u,\"this_netns\":%s}",
			       i ? "," : "", a->ifname, a->ifindex, a->netns, a->mode, a->prog_id, a->link_id,
			       a->here ? "true" : "false");
		else
			printf("%-16s %-8u %-8s %-12lu %u\n", a->ifname, a->ifindex, a->mode, a->netns, a->prog_id);
	}
	free(atts);
	daemon_pid = pks_daemon_holder(daemon_cmd, sizeof(daemon_cmd));
	if (json) {
		printf("],\"daemon\":");
		if (daemon_pid) {
			printf("{\"pid\":%d", (int)daemon_pid);
			pks_json_str(stdout, "cmdline", daemon_cmd);
			printf("}");
		} else {
			printf("null");
		}
		printf(",\"tc\":[");
	}
	pks_tc_status(json, stdout);

	if (json) {
		printf("],\"flows\":{\"entries\":%ld,\"max\":%llu", entries < 0 ? 0 : entries,
		       (unsigned long long)max);
		if (have_ev)
			printf(",\"created\":%llu,\"deleted\":%llu,\"evicted\":%llu,\"restored\":%llu,"
			       "\"restore_written\":%llu",
			       (unsigned long long)ev.created, (unsigned long long)ev.deleted,
			       (unsigned long long)ev.evicted, (unsigned long long)ev.restored,
			       (unsigned long long)ev.restore_written);
		printf("},\"reasons\":{");
		for (int r = 0; r < PKS_REASON__COUNT; r++)
			printf("%s\"%s\":%llu", r ? "," : "", pks_reason_name(r),
			       (unsigned long long)reasons[r]);
		printf("}}\n");
		return PKS_EXIT_OK;
	}
	if (daemon_pid)
		printf("\ndaemon: pktspec run, PID %d%s%s%s\n", (int)daemon_pid, *daemon_cmd ? " (" : "", daemon_cmd,
		       *daemon_cmd ? ")" : "");
	else
		printf("\ndaemon: none (no pktspec run serves %s)\n", PKS_PIN_DIR);
	if (entries >= 0)
		printf("flow table: %ld of %llu entries (%.1f%%)\n", entries, (unsigned long long)max,
		       max ? 100.0 * entries / max : 0.0);
	else
		printf("flow table: not pinned\n");
	if (have_ev)
		printf("flow entries: %llu created, %llu deleted by the daemon, %llu evicted by the LRU; "
		       "%llu evicted flows restored\n",
		       (unsigned long long)ev.created, (unsigned long long)ev.deleted, (unsigned long long)ev.evicted,
		       (unsigned long long)ev.restored);
	if (have_stats) {
		printf("\n%-16s %14s  %s\n", "REASON", "PACKETS", "MEANING");
		for (int r = 0; r < PKS_REASON__COUNT; r++)
			printf("%-16s %14llu  %s\n", pks_reason_name(r), (unsigned long long)reasons[r],
			       pks_reason_desc(r));
	}
	return PKS_EXIT_OK;
}

// SPDX-License-Identifier: MIT OR Apache-2.0
/*
 * rewrite: the IP frames of captures, made fit to send on a test network.
 *
 * `make bench` replays the shared corpus (public captures, public addresses)
 * live into a veth pair with tcpreplay(1), as the live-speed figures were
 * first taken. The test networks may only carry 198.18.0.0/15 and
 * 2001:db8::/32, so every address is moved there before a frame is sent:
 *
 *   - each distinct IPv4 address gets the next address of 198.18.0.0/15 and
 *     each distinct IPv6 address the next of 2001:db8::/96, in the order they
 *     are first seen, over all the captures: no two addresses merge, so the
 *     flows stay the flows of the captures (up to 131,070 IPv4 addresses);
 *   - the IPv4 header checksum is set again (L4 checksums are left: neither
 *     pktspec nor the receiving stack, which drops the frames, reads them);
 *   - the Ethernet addresses become --src-mac and --dst-mac; frames from
 *     other link types arrive as Ethernet from the capture reader (pktspec
 *     replay's), VLAN tags are kept.
 *
 * Frames that would carry other addresses further are left out and counted
 * by reason: non-IP frames (ARP, MPLS, PPPoE, ...), IP headers of the
 * wrong version for their EtherType, tunnels pktspec opens or
 * that carry IP (IP in IP, IPv6 in IPv4, GRE, VXLAN, Geneve, GTP-U, Teredo,
 * L2TP) and ICMP errors, which quote a packet with its addresses.
 *
 * Usage: pktspec-bench rewrite [--src-mac MAC] [--dst-mac MAC] [--json FILE] OUT CAPTURE...
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pktspec.h"
#include "capture.h"
#include "bench.h"

/* Addresses seen so far and the test address each was given (open addressing). */
#define AMAP_SLOTS (1u << 18)
struct amap {
	uint8_t (*key)[16];
	uint32_t *val; /* 0: empty slot, else the address's number */
	uint32_t n4, n6;
};

static uint32_t amap_hash(const uint8_t *a, int v6)
{
	uint32_t h = 2166136261u ^ (uint32_t)v6;

	for (int i = 0; i < 16; i++)
		h = (h ^ a[i]) * 16777619u;
	return h;
}

/* The number of address a (IPv4 in its first 4 bytes, the rest zero), from 1; 0 when full. */
static uint32_t amap_get(struct amap *m, const uint8_t *a, int v6)
{
	uint32_t i = amap_hash(a, v6) & (AMAP_SLOTS - 1);
	uint32_t *next = v6 ? &m->n6 : &m->n4;

	for (uint32_t probe = 0; probe < AMAP_SLOTS; probe++, i = (i + 1) & (AMAP_SLOTS - 1)) {
		if (!m->val[i]) {
			/* 198.18.0.0/15 less its network and broadcast addresses. */
			if (!v6 && *next >= (1u << 17) - 2)
				return 0;
			memcpy(m->key[i], a, 16);
			m->val[i] = ++*next | (v6 ? 0x80000000u : 0);
			return m->val[i] & 0x7fffffffu;
		}
		if (!!(m->val[i] & 0x80000000u) == !!v6 && !memcmp(m->key[i], a, 16))
			return m->val[i] & 0x7fffffffu;
	}
	return 0;
}

/* Rewrites the address at a (4 or 16 bytes) in place; -1 when no test address is left. */
static int amap_rewrite(struct amap *m, uint8_t *a, int v6)
{
	uint8_t k[16] = {};
	uint32_t n;

	memcpy(k, a, v6 ? 16 : 4);
	n = amap_get(m, k, v6);
	if (!n)
		return -1;
	if (v6) {
		static const uint8_t net[12] = { 0x20, 0x01, 0x0d, 0xb8 };

		memcpy(a, net, 12);
		a[12] = n >> 24;
		a[13] = n >> 16;
		a[14] = n >> 8;
		a[15] = n;
	} else {
		uint32_t v = (198u << 24 | 18u << 16) + n;

		a[0] = v >> 24;
		a[1] = v >> 16;
		a[2] = v >> 8;
		a[3] = v;
	}
	return 0;
}

enum skip { SKIP_NON_IP, SKIP_SHORT, SKIP_VERSION, SKIP_TUNNEL, SKIP_ICMP_ERROR, SKIP_FULL, SKIP__COUNT };
static const char *const skip_names[SKIP__COUNT] = { "non_ip", "short", "ip_version", "tunnel", "icmp_error",
						     "addresses_exhausted" };

/* UDP ports of tunnels that carry IP or Ethernet (and so more addresses). */
static int tunnel_port(uint16_t p)
{
	return p == 4789 || p == 6081 || p == 2152 || p == 3544 || p == 1701 || p == 4790 || p == 8472;
}

/* The L4 protocol of an IPv6 packet past its extension headers; *l4 its offset. */
static int ip6_l4(const uint8_t *f, uint32_t len, uint32_t off, uint32_t *l4)
{
	uint8_t nh = f[off + 6];

	off += 40;
	for (int i = 0; i < 8; i++) {
		if (nh != 0 && nh != 43 && nh != 60 && nh != 44 && nh != 51)
			break;
		if (off + 8 > len)
			return -1;
		if (nh == 44) {
			/* A fragment other than the first carries no L4 header. */
			if ((f[off + 2] << 8 | f[off + 3]) & 0xfff8)
				return 256;
			nh = f[off];
			off += 8;
		} else {
			uint32_t hl = nh == 51 ? (f[off + 1] + 2u) * 4 : (f[off + 1] + 1u) * 8;

			nh = f[off];
			off += hl;
		}
	}
	*l4 = off;
	return nh;
}

/* One frame rewritten in place, or the reason it is left out. */
static int rewrite_frame(struct amap *m, uint8_t *f, uint32_t len, const uint8_t *smac, const uint8_t *dmac)
{
	uint16_t type;
	uint32_t off = frame_l3(f, len, &type), l4 = 0, ihl = 0;
	int v6 = type == 0x86dd, proto;

	if (type != 0x0800 && type != 0x86dd)
		return SKIP_NON_IP;
	if (off + (v6 ? 40 : 20) > len)
		return SKIP_SHORT;
	/* A header whose version is not its EtherType's: what follows is no address. */
	if (f[off] >> 4 != (v6 ? 6 : 4))
		return SKIP_VERSION;
	if (v6) {
		proto = ip6_l4(f, len, off, &l4);
		if (proto < 0)
			return SKIP_SHORT;
	} else {
		ihl = (f[off] & 0xf) * 4u;
		if (ihl < 20 || off + ihl > len)
			return SKIP_SHORT;
		proto = ((f[off + 6] << 8 | f[off + 7]) & 0x1fff) ? 256 : f[off + 9];
		l4 = off + ihl;
	}
	if (proto == 4 || proto == 41 || proto == 47)
		return SKIP_TUNNEL;
	if (proto == 17 && l4 + 4 <= len &&
	    (tunnel_port(f[l4] << 8 | f[l4 + 1]) || tunnel_port(f[l4 + 2] << 8 | f[l4 + 3])))
		return SKIP_TUNNEL;
	/* ICMP destination unreachable, source quench, redirect, time exceeded, parameter problem; ICMPv6 1-4. */
	if (l4 < len && ((proto == 1 && (f[l4] == 3 || f[l4] == 4 || f[l4] == 5 || f[l4] == 11 || f[l4] == 12)) ||
			 (proto == 58 && f[l4] >= 1 && f[l4] <= 4)))
		return SKIP_ICMP_ERROR;
	if (amap_rewrite(m, f + off + (v6 ? 8 : 12), v6) || amap_rewrite(m, f + off + (v6 ? 24 : 16), v6))
		return SKIP_FULL;
	if (!v6)
		ip4_csum_set(f + off, ihl);
	memcpy(f, dmac, 6);
	memcpy(f + 6, smac, 6);
	return -1;
}

int bench_rewrite(int argc, char **argv)
{
	static const struct option opts[] = { { "dst-mac", required_argument, NULL, 'd' },
					      { "src-mac", required_argument, NULL, 's' },
					      { "json", required_argument, NULL, 'j' },
					      {} };
	uint8_t dmac[6] = { 2, 0, 0, 0, 0, 0x99 }, smac[6] = { 2, 0, 0, 0, 0, 1 };
	uint8_t frame[PKS_CAPTURE_FRAME_MAX];
	unsigned long long skipped[SKIP__COUNT] = {}, records = 0, written = 0;
	uint64_t ts = 1600000000ull * 1000000;
	struct amap m = {};
	const char *json = NULL;
	FILE *out, *jf = stdout;
	struct jw w;
	int c, rc = PKS_EXIT_OK;

	while ((c = getopt_long(argc, argv, "d:s:j:", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
		case 's':
			if (parse_mac(optarg, c == 'd' ? dmac : smac)) {
				fprintf(stderr, "pktspec-bench rewrite: '%s' is not a MAC address\n", optarg);
				return PKS_EXIT_USAGE;
			}
			break;
		case 'j':
			json = optarg;
			break;
		default:
			goto usage;
		}
	}
	if (argc - optind < 2)
		goto usage;
	m.key = calloc(AMAP_SLOTS, sizeof(*m.key));
	m.val = calloc(AMAP_SLOTS, sizeof(*m.val));
	if (!m.key || !m.val)
		return pks_fail("out of memory");
	out = fopen(argv[optind], "w");
	if (!out || pcap_header(out)) {
		rc = pks_fail("cannot write %s: %s", argv[optind], strerror(errno));
		if (out) {
			fclose(out);
			unlink(argv[optind]);
		}
		goto done;
	}
	for (int i = optind + 1; i < argc; i++) {
		struct pks_capture *cap;
		struct pks_frame f;
		char err[512];
		int r;

		if (pks_capture_open(argv[i], &cap, err, sizeof(err))) {
			rc = pks_fail("%s", err);
			break;
		}
		while ((r = pks_capture_next(cap, &f, err, sizeof(err))) == 1) {
			int why;

			records++;
			if (f.len < 14) {
				skipped[SKIP_SHORT]++;
				continue;
			}
			memcpy(frame, f.data, f.len);
			why = rewrite_frame(&m, frame, (uint32_t)f.len, smac, dmac);
			if (why >= 0) {
				skipped[why]++;
				continue;
			}
			/* Captured length only: what is sent is what was captured. */
			if (pcap_record(out, ts, frame, (uint32_t)f.len, (uint32_t)f.len)) {
				rc = pks_fail("cannot write %s", argv[optind]);
				break;
			}
			ts += 10;
			written++;
		}
		pks_capture_close(cap);
		if (r < 0 && r != -EBADMSG) {
			rc = pks_fail("%s", err);
			break;
		}
		if (rc)
			break;
	}
	if (fclose(out) && !rc)
		rc = pks_fail("cannot write %s", argv[optind]);
	if (rc) {
		/* No half-written capture is left to be replayed by mistake. */
		unlink(argv[optind]);
		goto done;
	}
	if (json && !(jf = fopen(json, "w"))) {
		rc = pks_fail("cannot write %s", json);
		goto done;
	}
	jw_init(&w, jf);
	jw_obj(&w, NULL);
	jw_int(&w, "captures", argc - optind - 1);
	jw_int(&w, "records", (long long)records);
	jw_int(&w, "frames", (long long)written);
	jw_int(&w, "ipv4_addresses", m.n4);
	jw_int(&w, "ipv6_addresses", m.n6);
	jw_obj(&w, "left_out");
	for (int i = 0; i < SKIP__COUNT; i++)
		jw_int(&w, skip_names[i], (long long)skipped[i]);
	jw_obj_end(&w);
	jw_obj_end(&w);
	fputc('\n', jf);
	if (jf != stdout && fclose(jf))
		rc = pks_fail("cannot write %s", json);
done:
	free(m.key);
	free(m.val);
	return rc;
usage:
	fputs("Usage: pktspec-bench rewrite [--src-mac MAC] [--dst-mac MAC] [--json FILE] OUT CAPTURE...\n", stderr);
	return PKS_EXIT_USAGE;
}

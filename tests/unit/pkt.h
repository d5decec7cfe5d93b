/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/*
 * Crafting packets and running them through the real XDP object.
 *
 *   struct pks_env env;                      // a private object, as freshly loaded
 *   CHECK(pks_env_open(&env) == 0);
 *   struct pkt_spec s = PKT_TCP4("198.18.0.1", 40000, "198.18.0.2", 80, TCP_PSH_ACK);
 *   s.payload = "GET / HTTP/1.1\r\n"; s.payload_len = 16;
 *   CHECK(pks_env_run(&env, &s) == 0);       // one BPF_PROG_TEST_RUN
 *   struct pks_flow_view f; CHECK(pks_env_flow(&env, &s, &f) == 0);
 *   CHECK_EQ(f.proto, PKS_P_HTTP);
 *   CHECK_EQ(pks_env_reason(&env, PKS_REASON_NEW_FLOW), 1);
 *   pks_env_close(&env);
 */
#ifndef PKTSPEC_TEST_PKT_H
#define PKTSPEC_TEST_PKT_H

#include <stddef.h>
#include <stdint.h>

#include "pktspec.h"

#define TCPF_FIN 0x01
#define TCPF_SYN 0x02
#define TCPF_RST 0x04
#define TCPF_PSH 0x08
#define TCPF_ACK 0x10

struct pkt_spec {
	int ipv6;
	const char *src, *dst; /* textual addresses of the family */
	uint16_t sport, dport;
	uint8_t l4;            /* 6 TCP, 17 UDP, or another IP protocol */
	uint8_t tcp_flags;
	const void *payload;
	size_t payload_len;
	int vlans;             /* 0..3 tags: outer 802.1ad, then 802.1Q */
	int ip_options;        /* IPv4 option bytes (multiple of 4) */
	const uint8_t *ext;    /* IPv6 extension chain bytes after the fixed header ... */
	size_t ext_len;
	uint8_t ext_first;     /* ... and the Next Header value that starts it */
};

#define PKT_TCP4(s, sp, d, dp, flags) \
	((struct pkt_spec){ .src = (s), .dst = (d), .sport = (sp), .dport = (dp), .l4 = 6, .tcp_flags = (flags) })
#define PKT_UDP4(s, sp, d, dp) ((struct pkt_spec){ .src = (s), .dst = (d), .sport = (sp), .dport = (dp), .l4 = 17 })
#define PKT_TCP6(s, sp, d, dp, flags)                                                                  \
	((struct pkt_spec){ .ipv6 = 1, .src = (s), .dst = (d), .sport = (sp), .dport = (dp), .l4 = 6, \
			    .tcp_flags = (flags) })
#define PKT_UDP6(s, sp, d, dp) \
	((struct pkt_spec){ .ipv6 = 1, .src = (s), .dst = (d), .sport = (sp), .dport = (dp), .l4 = 17 })

/* Builds the frame into buf; returns its length. Offsets of headers are returned through the opt pointers. */
size_t pkt_build(const struct pkt_spec *s, uint8_t *buf, size_t max);
/* Offset of the IP header and of the L4 header in a frame built from s. */
size_t pkt_l3_off(const struct pkt_spec *s);
size_t pkt_l4_off(const struct pkt_spec *s);
/* Ethernet + IPv4 (protocol l4, addresses 198.18.9.1 -> .2) of total length ip_len at buf: 34 bytes. */
size_t pkt_outer_ip4(uint8_t *buf, uint8_t l4, size_t ip_len);
/* A VXLAN frame (UDP 50000 -> 4789) with VNI vni around the inner frame (Ethernet first) of n bytes. */
size_t pkt_vxlan_wrap(uint8_t *buf, uint32_t vni, const uint8_t *inner, size_t n);
/* `levels` plain GRE headers (IPv4 payload type) nested around the IP packet ip of n bytes. */
size_t pkt_gre_nested(uint8_t *buf, int levels, uint16_t flags, const uint8_t *ip, size_t n);

struct pktspec_bpf;
struct pks_env {
	struct pktspec_bpf *skel;
	uint64_t clock_ns;
};

/*
 * The object is loaded once per process and reset between uses: every map
 * that is not the stage chain emptied (hashes, LPM tries) or zeroed (arrays,
 * per-CPU counters), the event ring drained, .data and .bss restored to their
 * image at load; .rodata (the configuration) is the same for every use. A
 * second environment opened while the first is still open gets an object of
 * its own. PKS_TEST_RELOAD=1 in the environment loads afresh every time.
 */
int pks_env_open(struct pks_env *env);
void pks_env_close(struct pks_env *env);
/* The reset above, on any loaded classifier object: 0, or -errno (then load afresh). */
int pks_env_reset(struct pktspec_bpf *skel);
/*
 * A companion object: another BPF object a test file loads beside the shared
 * classifier, sharing its maps (the tc policy and tc egress objects). Kept
 * across cases like the classifier: loaded by the first pks_companion_open(),
 * then handed to later cases reset (pks_env_reset's work: its own maps emptied
 * or zeroed, its .data/.bss restored) while it is bound to the shared
 * classifier the case's environment holds. Bound to another object (a second
 * environment, a classifier loaded afresh) it is loaded for that case alone and
 * destroyed by pks_companion_close(). A test file defines one, statically:
 *     static struct pks_companion tc_obj = { .load = tc_load, .destroy = tc_destroy };
 */
#define PKS_SECTIONS_MAX 8
struct bpf_object;
struct pks_companion {
	/* Loads the object bound to env's classifier: *skel and its bpf_object. */
	int (*load)(struct pks_env *env, void **skel, struct bpf_object **obj);
	void (*destroy)(void *skel);
	/* Private to pkt.c. */
	void *skel;
	struct bpf_object *obj;
	unsigned gen;
	int held, registered;
	struct pks_companion *next;
	struct pks_section {
		const struct bpf_map *map;
		void *image;
		size_t size;
	} sections[PKS_SECTIONS_MAX];
	int n_sections;
};
int pks_companion_open(struct pks_companion *c, struct pks_env *env, void **skel);
void pks_companion_close(struct pks_companion *c, void *skel);
/* For the runner: a case ended (whatever it left open is free again); the process ends. */
void pks_env_case_end(void);
void pks_env_release(void);
/* Entries of a hash map (walked with get_next_key), or -1 for a key over 256 bytes. */
long pks_map_count(int fd, size_t key_size);
/*
 * For a case that writes pks_servers or pks_hosts itself, as the engine does
 * (user/engine.c): pks_ctl's servers_until and hosts_until raised to the end
 * of time, and the lookup filter's bits set for the entries the tables hold
 * (user/filter.c), else a new flow never looks them up. Other fields kept.
 */
int pks_env_tables_alive(struct pks_env *env);
/* The same for pks_restore: the filter's bits of the entries it holds (pks_ctl's restore field is the case's). */
int pks_env_restore_bits(struct pks_env *env);
/* The lookup filter's bit of slot in table (enum pks_filter_table) as the kernel reads it, through the map; -1 on error. */
int pks_env_filter_bit(struct pks_env *env, int table, uint32_t slot);
/*
 * A reader of the event rings as the engine is (pks_ctlevents first): pks_ctl's engine entry says a
 * consumer is there (so the kernel sends events and copies), and a libbpf
 * ring_buffer calls fn for each record. NULL on failure.
 */
struct ring_buffer;
struct ring_buffer *pks_env_reader(struct pks_env *env, int (*fn)(void *ctx, void *data, size_t size), void *ctx);
/* Runs one frame built from s; returns 0 when the program ran and passed it. */
int pks_env_run(struct pks_env *env, const struct pkt_spec *s);
/* Runs raw frame bytes. */
int pks_env_run_raw(struct pks_env *env, const uint8_t *frame, size_t len);
/* The flow entry of the connection s belongs to (either direction). */
int pks_env_flow(struct pks_env *env, const struct pkt_spec *s, struct pks_flow_view *out);
uint64_t pks_env_reason(struct pks_env *env, int reason);
long pks_env_flow_count(struct pks_env *env);

#endif

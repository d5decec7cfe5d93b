/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/*
 * Operator rules (`pktspec rules`, user/oprules.c; doc/context.md): what the
 * operator knows about their own network, which overrides what pktspec would
 * guess: "198.18.5.0/24 TCP port 8443 is TLS, application corp", "names
 * ending in .corp.example are application corp".
 *
 * Address rules live in the kernel and apply when XDP creates a flow
 * (bpf/oprules.h), from the server's address, port and L4: the flow gets the
 * rule's protocol with confidence "user", rule "user", decided at once (no
 * signature overrules the operator), and/or the rule's application. Host-name
 * rules apply when `pktspec run` names a flow (user/engine.c): the same, written
 * into the flow's entry.
 *
 * Like the policy (policy.h), the rules live in two tables of each map, and
 * pks_opstate names the live one: `rules load` fills the other table and flips
 * the index with one write, so XDP sees the whole old set or the whole new one.
 */
#ifndef PKTSPEC_OPRULES_H
#define PKTSPEC_OPRULES_H

#include "pktspec.h"
#include "events.h"

#define PKS_MAP_OPRULES "pks_oprules" /* LPM trie: (table, L4, server prefix) -> port ranges */
#define PKS_MAP_OPSTATE "pks_opstate" /* array of one struct pks_op_state */
#define PKS_MAP_OPHOSTS "pks_ophosts" /* hash: (table, name suffix) -> action */

#define PKS_OPRULES_MAX 4096 /* prefix entries over both tables */
#define PKS_OPHOSTS_MAX 1024 /* host-name suffixes over both tables */
#define PKS_OP_RANGES 8      /* rules that may apply to one prefix (its own and wider ones) */

/*
 * The trie's key: the prefix length counts the table and L4 bytes too
 * (16 + 96 + n for an IPv4 /n, 16 + n for IPv6). Addresses IPv4-mapped.
 */
struct pks_op_key {
	__u32 prefixlen;
	__u8 table;
	__u8 l4;
	__u8 addr[16];
	__u8 pad[2];
};

#define PKS_OP_KEY_BITS (16 + 128)

/* pks_op_range.flags */
#define PKS_OPR_USED 0x01  /* this slot holds a rule */
#define PKS_OPR_PROTO 0x02 /* the rule sets the protocol */
#define PKS_OPR_APP 0x04   /* the rule sets the application */
#define PKS_OPR_OWN 0x08   /* the rule's own prefix is this entry's (for `rules list`) */

struct pks_op_range {
	__u16 lo, hi;         /* server port range, host order, inclusive */
	__u16 app;            /* application ID (as the app list numbers them) */
	enum pks_proto proto;
	__u8 flags;           /* PKS_OPR_* */
};

/*
 * One prefix's rules, most specific prefix first, then in file order: the
 * trie finds the longest prefix, and its entry carries the wider prefixes'
 * rules after its own, so no second lookup is needed. The first range that
 * holds the server port applies.
 */
struct pks_op_entry {
	struct pks_op_range r[PKS_OP_RANGES];
	__u16 line[PKS_OP_RANGES]; /* line of the rule in the loaded file */
};

struct pks_op_state {
	__u32 live;      /* the table XDP and the engine read: 0 or 1 */
	__u32 count[2];  /* prefix entries per table: 0 skips the lookup */
	__u32 hosts[2];  /* host-name rules per table */
	__u32 gen;       /* bumped by every load: the engine rereads the host rules */
};

struct pks_op_host_key {
	__u8 table;
	__u8 pad[3];
	char suffix[PKS_NAME_LEN]; /* lower case, with its leading dot, NUL-padded */
};

struct pks_op_host {
	__u16 app;
	enum pks_proto proto;
	__u8 flags;      /* PKS_OPR_PROTO, PKS_OPR_APP */
	__u16 line;
	__u16 pad;
};

PKS_ASSERT_SIZE(struct pks_op_key, 24);
PKS_ASSERT_SIZE(struct pks_op_range, 8);
PKS_ASSERT_SIZE(struct pks_op_entry, 8 * PKS_OP_RANGES + 2 * PKS_OP_RANGES);
PKS_ASSERT_SIZE(struct pks_op_state, 24);
PKS_ASSERT_SIZE(struct pks_op_host_key, 4 + PKS_NAME_LEN);
PKS_ASSERT_SIZE(struct pks_op_host, 8);

#endif /* PKTSPEC_OPRULES_H */

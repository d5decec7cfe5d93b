/* SPDX-License-Identifier: (MIT OR Apache-2.0 OR GPL-2.0) */
/*
 * What a payload signature sees and what it answers.
 *
 * The classifier copies a bounded window of the first payload bytes of a
 * packet onto the stack (zero-filled past `len`), so signatures read constant
 * or masked offsets of a small buffer and never touch packet pointers. Each
 * protocol's signature lives in its own file in this directory and cites the
 * specification it follows.
 */
#ifndef PKTSPEC_BPF_SIG_H
#define PKTSPEC_BPF_SIG_H

#include "pktspec/pktspec.h"

/* Payload bytes read per packet: peers decide on 4 to 64 bytes. Power of 2. */
#define PKS_WIN 64
#define PKS_WIN_MASK (PKS_WIN - 1)

struct pks_payload {
	__u8 b[PKS_WIN];  /* first payload bytes; zero past len */
	__u32 len;        /* valid bytes in b */
	__u32 total;      /* whole L4 payload length of this packet */
	__u16 sport;      /* this packet's ports, host byte order */
	__u16 dport;
	__u32 cookie;     /* the flow's signature state */
	__u8 l4;          /* IPPROTO_TCP / IPPROTO_UDP */
	__u8 from_client; /* 1 when sent by the flow's client */
	__u8 nth;         /* 0 for the first payload packet of this direction */
	__u8 flow_proto;  /* the flow's verdict so far (enum pks_proto) */
	__u8 flow_upgrade; /* the flow is marked PKS_F_UPGRADE: its protocol announced a successor */
	__u8 flow_mid;    /* TCP flow whose handshake was not seen (no SYN): picked up mid-session */
	__u16 flow_rule;  /* the rule of the flow's verdict so far (enum pks_rule) */
};

/* Which side sends the message a signature recognised. */
enum pks_role {
	PKS_ROLE_ANY = 0,    /* both sides send it (SSH banner) */
	PKS_ROLE_CLIENT = 1, /* a request */
	PKS_ROLE_SERVER = 2, /* a response or a server greeting */
};

struct pks_match {
	__u16 rule;       /* enum pks_rule */
	__u8 proto;       /* enum pks_proto */
	__u8 role;        /* enum pks_role */
	__u32 cookie;     /* state to keep when set_cookie */
	__u8 set_cookie;
	__u8 no_confirm;  /* matches the protocol but must not confirm (e.g. DNS ID differs) */
	__u8 upgrade;     /* an explicit upgrade rule: replaces the verdict of a flow marked PKS_F_UPGRADE */
	__u8 await_upgrade; /* announces an upgrade (HTTP 101): keep inspecting after the verdict */
	__u8 mid;         /* a mid-session rule: settles its direction but never confirms (doc/design.md) */
	__u8 pad[2];
	__u32 forget;     /* pks_forget()'s slot */
};

/*
 * A flow picked up mid-session (no SYN seen) on proto's own port: its
 * opening messages are long past, so a line that looks like one (a text
 * protocol's greeting, a status that doubles as a later reply) is left to
 * the mid-session rules (midtext.h), which need two fitting packets.
 */
static __always_inline int pks_mid_on_port(const struct pks_payload *p, __u8 proto)
{
	return p->flow_mid && p->flow_proto == proto;
}

static __always_inline int pks_match_set(struct pks_match *m, __u8 proto, __u16 rule, __u8 role)
{
	m->proto = proto;
	m->rule = rule;
	m->role = role;
	return 1;
}

/*
 * A match that names nothing: the signature keeps state (m->cookie with
 * set_cookie, or the flow's as it is) and waits for a later packet to name
 * the flow; the port's guess, if any, stands.
 */
static __always_inline int pks_match_state_only(struct pks_match *m)
{
	return pks_match_set(m, PKS_P_UNKNOWN, PKS_R_NONE, PKS_ROLE_ANY);
}

/*
 * Returns v, but as a value the verifier knows nothing about: it goes through
 * the match, which the classifier keeps in a map value (bpf/stages.h), and
 * the verifier does not track what is stored in map memory. A helper that
 * returns one of many exact values (a scan's summary) would otherwise make
 * the verifier follow the code after it once per value; after this, once.
 * Natively (tests, fuzzing) it is a plain store and load.
 */
static __always_inline __u32 pks_forget(struct pks_match *m, __u32 v)
{
	*(volatile __u32 *)&m->forget = v;
	return *(volatile __u32 *)&m->forget;
}

/* Big-endian loads from the window; off must be a constant or masked. */
static __always_inline __u16 pks_be16(const struct pks_payload *p, __u32 off)
{
	return ((__u16)p->b[off & PKS_WIN_MASK] << 8) | p->b[(off + 1) & PKS_WIN_MASK];
}

static __always_inline __u32 pks_be24(const struct pks_payload *p, __u32 off)
{
	return ((__u32)p->b[off & PKS_WIN_MASK] << 16) | ((__u32)p->b[(off + 1) & PKS_WIN_MASK] << 8) |
	       p->b[(off + 2) & PKS_WIN_MASK];
}

static __always_inline __u32 pks_be32(const struct pks_payload *p, __u32 off)
{
	return ((__u32)pks_be16(p, off) << 16) | pks_be16(p, off + 2);
}

/* Four characters as the big-endian word pks_be32 returns for them. */
#define PKS_C4(a, b, c, d) (((__u32)(a) << 24) | ((__u32)(b) << 16) | ((__u32)(c) << 8) | (__u32)(d))

static __always_inline int pks_is_digit(__u8 c)
{
	return c >= '0' && c <= '9';
}

static __always_inline int pks_is_upper(__u8 c)
{
	return c >= 'A' && c <= 'Z';
}

#endif /* PKTSPEC_BPF_SIG_H */

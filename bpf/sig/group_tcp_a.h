/* SPDX-License-Identifier: (MIT OR Apache-2.0 OR GPL-2.0) */
/*
 * Signature group: web, remote access, files, mail and chat over TCP.
 * pks_classify() calls pks_classify_tcp_a() after the core signatures; the
 * group's signatures live in their own files beside this one.
 *
 * Order matters only where two signatures could both claim a message:
 * POP3 runs before FTP and SMTP so that USER/AUTH/QUIT after a "+OK"
 * greeting stay POP3 (pop3.h); IRC runs before FTP so that IRC's
 * four-parameter "USER user mode unused :realname" is not FTP's USER; and
 * SMTP runs before IMAP so that "AUTH LOGIN" on an SMTP flow is not read as
 * an IMAP tag and command. Binary
 * signatures check exact magic numbers and lengths and cannot overlap.
 */
#ifndef PKTSPEC_BPF_SIG_GROUP_TCP_A_H
#define PKTSPEC_BPF_SIG_GROUP_TCP_A_H

#include "sig.h"
#include "http2.h"
#include "websocket.h"
#include "socks.h"
#include "telnet.h"
#include "rdp.h"
#include "vnc.h"
#include "smb.h"
#include "rpc.h"
#include "rsync.h"
#include "git.h"
#include "bittorrent.h"
#include "openvpn.h"
#include "pop3.h"
#include "smtp.h"
#include "ftp.h"
#include "imap.h"
#include "irc.h"
#include "rtsp.h"
#include "xmpp.h"

/*
 * Each signature is its own global function: the verifier checks a global
 * function once, on its own, and sees its call as returning any scalar. Inlined
 * into one function, the text signatures' bounded scans (an IMAP tag, an IRC
 * prefix, an RTSP method) multiplied each other's paths past the verifier's
 * 1M-instruction budget; as globals the cost is their sum.
 */
#define PKS_TCP_A_GLOBAL(name)                                                            \
	__noinline int pks_tcp_a_##name(const struct pks_payload *p, struct pks_match *m) \
	{                                                                                 \
		if (!p || !m)                                                             \
			return 0;                                                         \
		return pks_sig_##name(p, m);                                              \
	}

PKS_TCP_A_GLOBAL(http2)
PKS_TCP_A_GLOBAL(websocket)
PKS_TCP_A_GLOBAL(socks)
PKS_TCP_A_GLOBAL(rdp)
PKS_TCP_A_GLOBAL(vnc)
PKS_TCP_A_GLOBAL(smb)
PKS_TCP_A_GLOBAL(rpc)
PKS_TCP_A_GLOBAL(rsync)
PKS_TCP_A_GLOBAL(git)
PKS_TCP_A_GLOBAL(bittorrent)
PKS_TCP_A_GLOBAL(openvpn)
PKS_TCP_A_GLOBAL(telnet)
PKS_TCP_A_GLOBAL(pop3)
PKS_TCP_A_GLOBAL(smtp)
PKS_TCP_A_GLOBAL(ftp)
PKS_TCP_A_GLOBAL(imap)
PKS_TCP_A_GLOBAL(irc_client)
PKS_TCP_A_GLOBAL(irc_server)
PKS_TCP_A_GLOBAL(rtsp)
PKS_TCP_A_GLOBAL(xmpp)

/*
 * Inlined into pks_classify(): one more global frame here would put the call
 * chain xdp -> pks_inspect -> pks_classify -> group -> signature over the
 * verifier's 512-byte combined stack limit.
 */
static __always_inline int pks_classify_tcp_a(const struct pks_payload *p, struct pks_match *m)
{
	if (p->l4 != IPPROTO_TCP)
		return 0;
	return pks_tcp_a_http2(p, m) || pks_tcp_a_websocket(p, m) || pks_tcp_a_socks(p, m) || pks_tcp_a_rdp(p, m) || pks_tcp_a_vnc(p, m) ||
	       pks_tcp_a_smb(p, m) || pks_tcp_a_rpc(p, m) || pks_tcp_a_rsync(p, m) || pks_tcp_a_git(p, m) ||
	       pks_tcp_a_bittorrent(p, m) || pks_tcp_a_openvpn(p, m) || pks_tcp_a_telnet(p, m) ||
	       pks_tcp_a_pop3(p, m) || pks_tcp_a_smtp(p, m) || pks_tcp_a_irc_client(p, m) || pks_tcp_a_irc_server(p, m) || pks_tcp_a_ftp(p, m) ||
	       pks_tcp_a_imap(p, m) || pks_tcp_a_rtsp(p, m) || pks_tcp_a_xmpp(p, m);
}

/*
 * Whether the first payload of a direction of proto is always recognised (see
 * pks_sig_covers): then a payload that is not recognised contradicts a port
 * guess. Only protocols whose port is TCP-only in ports.def are listed (the
 * question carries no L4), and only directions whose first message has one
 * fixed form: RDP's Connection Request, both RFB versions, SOCKS and
 * HTTP proxy requests, the SMB session message on 445, both rsync greetings,
 * the IMAP greeting and the RTSP request. FTP and SMTP servers greet with a
 * 220 line that names neither, telnetd may greet with text, and git's client
 * sends its request's length digits in a segment of their own, so those are
 * not covered.
 */
static __always_inline int pks_sig_covers_tcp_a(__u8 proto, int from_client)
{
	switch (proto) {
	case PKS_P_VNC:
	case PKS_P_RSYNC:
		return 1;
	case PKS_P_RDP:
	case PKS_P_SOCKS:
	case PKS_P_HTTP_PROXY:
	case PKS_P_SMB2:
	case PKS_P_RTSP:
		return from_client;
	case PKS_P_IMAP:
		return !from_client;
	}
	return 0;
}

#endif

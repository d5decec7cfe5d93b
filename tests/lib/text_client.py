#!/usr/bin/python3
# SPDX-License-Identifier: MIT OR Apache-2.0
"""An interactive client of a line-oriented protocol, built on Python's
standard library, for long-lived test sessions (tests/lib/servers.sh,
pks_session): it connects and opens the session, prints "ready", then runs
one command per line of its standard input, so the session can be picked up
mid-way by a classifier attached later.

    text_client.py smtp HOST PORT            smtplib.SMTP, EHLO sent
    text_client.py pop3 HOST PORT USER PASS  poplib.POP3, logged in (USER/PASS)
    text_client.py imap HOST PORT USER PASS  imaplib.IMAP4, logged in (LOGIN)
    text_client.py irc HOST PORT NICK        a socket speaking IRC (RFC 2812),
                                             registered (NICK, USER)
    text_client.py words HOST PORT           no protocol: seeded random words
    text_client.py words-server HOST PORT    and its server (one connection)

smtp, pop3, imap: each input line is "ID METHOD [ARG...]": the client object's
METHOD is called with the ARGs (strings; "\\n" in one stands for a line break)
and "ID " and its answer are printed on one line (bytes decoded, tuples and
lists joined with spaces), or "ID error: ..." when it raised.
imap also takes "ID idle": IDLE (RFC 2177) sent, its continuation printed,
then every line the server pushes printed as it comes, until "ID done" sends
DONE and the tagged answer ends it.
irc: each input line is sent as it is (CRLF added); every line the server
sends is printed as it is, and a server PING is answered with a PONG.
words: each input line ID sends one to three lines of seeded random words
(letters, CRLF after each), waits for as many lines back and prints "ok ID";
the server answers every line it gets with a line of its own random words.
Printable text lines that are no protocol's: a port nothing is guessed for
must leave them unnamed.
"""
import imaplib
import poplib
import random
import smtplib
import socket
import sys
import threading


def fmt(x):
    if isinstance(x, bytes):
        return x.decode("utf-8", "replace")
    if isinstance(x, (tuple, list)):
        return " ".join(fmt(y) for y in x)
    return str(x)


def say(line):
    print(line.rstrip("\r\n").replace("\r", "").replace("\n", " "), flush=True)


def imap_idle(c, tag):
    """IDLE on imaplib's connection; the thread printing the pushed lines."""
    t = tag.encode()
    c.send(t + b" IDLE\r\n")
    say(f"{tag} {fmt(c.readline())}")

    def pushed():
        while True:
            line = c.readline()
            say(fmt(line) if line else "closed")
            if not line or line.startswith(t + b" "):
                return

    th = threading.Thread(target=pushed, daemon=True)
    th.start()
    return th


def commands(client):
    idling = None
    for line in sys.stdin:
        words = line.split()
        if len(words) < 2:
            continue
        tag, method, args = words[0], words[1], [a.replace("\\n", "\r\n") for a in words[2:]]
        if method == "idle":
            idling = imap_idle(client, tag)
            continue
        if method == "done" and idling:
            client.send(b"DONE\r\n")
            idling.join()
            idling = None
            continue
        try:
            say(f"{tag} {fmt(getattr(client, method)(*args))}")
        except Exception as e:  # the answer is printed, whatever it is
            say(f"{tag} error: {e!r}")


def irc(host, port, nick):
    s = socket.create_connection((host, port))
    lock = threading.Lock()

    def send(line):
        with lock:
            s.sendall(line.encode() + b"\r\n")

    def reader():
        buf = b""
        while True:
            d = s.recv(4096)
            if not d:
                say("closed")
                return
            buf += d
            while b"\r\n" in buf:
                raw, buf = buf.split(b"\r\n", 1)
                line = raw.decode("utf-8", "replace")
                say(line)
                if line.startswith("PING "):
                    send("PONG " + line[5:])

    threading.Thread(target=reader, daemon=True).start()
    send(f"NICK {nick}")
    send(f"USER {nick} 0 * :pktspec {nick}")
    for line in sys.stdin:
        line = line.rstrip("\r\n")
        if line:
            send(line)


def words_line(r):
    letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
    return " ".join("".join(r.choice(letters) for _ in range(r.randint(1, 10)))
                    for _ in range(r.randint(1, 8))).encode() + b"\r\n"


def read_lines(f, n):
    for _ in range(n):
        if not f.readline():
            return False
    return True


def words(host, port):
    s = socket.create_connection((host, port))
    f = s.makefile("rb")
    r = random.Random(1)
    for line in sys.stdin:
        n = r.randint(1, 3)
        s.sendall(b"".join(words_line(r) for _ in range(n)))
        if not read_lines(f, n):
            say("closed")
            return
        say(f"ok {line.strip()}")


def words_server(host, port):
    c, _ = socket.create_server((host, port)).accept()
    r = random.Random(2)
    for _ in c.makefile("rb"):
        c.sendall(words_line(r))


def main():
    proto, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    if proto == "irc":
        irc(host, port, sys.argv[4])
        return
    if proto in ("words", "words-server"):
        (words if proto == "words" else words_server)(host, port)
        return
    if proto == "smtp":
        c = smtplib.SMTP(host, port, timeout=60)
        c.ehlo("client.example.org")
    elif proto == "pop3":
        c = poplib.POP3(host, port, timeout=60)
        c.user(sys.argv[4])
        c.pass_(sys.argv[5])
    elif proto == "imap":
        c = imaplib.IMAP4(host, port, timeout=60)
        c.login(sys.argv[4], sys.argv[5])
    else:
        sys.exit(f"text_client.py: unknown protocol {proto}")
    say("ready")
    commands(c)


if __name__ == "__main__":
    main()

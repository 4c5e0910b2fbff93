#!/usr/bin/python3
"""fakeplatform - the provincial supervision platform, for tests.

    fakeplatform.py --dir DIR --pki PKI [--host 127.0.0.1] [--port 0]
                    [--control-port 0] --device ID=PUBKEY.pem [...]
                    [--verify python|openssl] [--redeliver-s S] [-v]

Implements docs/platform-api.md (the contract) over HTTPS with mutual
TLS: PKI is what tests/platform/mkpki.sh made (ca.pem, server.pem,
server.key, wrong-server.pem, wrong-server.key).  Records, settled seqs,
conflicts, commands and results are kept in DIR/platform.sqlite (a
restart with the same DIR goes on where it stopped).  Export bundles
(docs/bundle.md) posted to /v1/devices/{id}/bundles are verified with
bundlecheck.py and stored like uploads (docs §6).  Faults are set
through a JSON control API on 127.0.0.1 (plain HTTP, --control-port).

When both listeners are up, ONE line of JSON goes to stdout:

    {"https_port": P, "control_port": Q, "pid": N, ...}

Logs go to stderr.  SIGTERM or SIGINT: clean exit, status 0.
Full description: tests/platform/README.md.  Standard library only; run
with /usr/bin/python3.
"""

import argparse
import base64
import bisect
import datetime as dt
import email.utils
import hashlib
import http
import json
import os
import random
import re
import select
import signal
import socket
import sqlite3
import ssl
import struct
import sys
import threading
import time
import traceback
import urllib.parse
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bundlecheck  # noqa: E402
import edverify  # noqa: E402

STREAMS = ("events", "positions")
KINDS_BY_STREAM = {
	"events": ("event", "trip", "command_result"),
	"positions": ("position",),
}
RECORD_KINDS = ("position", "event", "trip", "command_result")
RFC3339_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?"
    r"(Z|[+-]\d\d:\d\d)$")
RESULT_STATUSES = ("ok", "error", "unsupported")

# Fault kinds (README "Faults").  PROCESSING: the request is processed
# (stored) before the fault acts on the reply, unless "process" says
# otherwise; the others act before anything is processed.
FAULT_KINDS = ("500", "503", "429", "413", "401", "403", "hang", "reset",
    "ack_lost", "trickle", "partial_ack", "over_ack", "malformed", "down",
    "reject", "holds")
PROCESSING = ("ack_lost", "trickle", "partial_ack", "over_ack", "malformed",
    "reject", "holds")
STATUS_FAULTS = ("500", "503", "429", "413", "401", "403")
PATH_KINDS = ("records", "commands", "result", "bundles")
BUNDLE_TYPES = ("application/x-ndjson",)
BUNDLE_PROBLEMS_MAX = 50	# problems listed in a 422 reply
MALFORMED_VARIANTS = ("not_json", "truncated", "wrong_shape",
    "wrong_stream", "ack_string", "html")

DEFAULTS = {
	"redeliver_s": 10.0,	# an unanswered command is delivered again after
	"max_wait_s": 60.0,	# cap of wait_s
	"max_body_bytes": 16 << 20,	# larger bodies: 413
	"max_inflated_bytes": 128 << 20,
	"max_records": 0,	# > 0: batches with more records get 413
	"idle_timeout_s": 60.0,	# an idle keep-alive connection is closed
	"handshake_timeout_s": 10.0,
}

HOLD_DEFAULT_S = 30.0
TRICKLE_DEFAULT_BPS = 10.0

log_verbose = False


def now_iso(t=None):
	return dt.datetime.fromtimestamp(time.time() if t is None else t).\
	    astimezone().isoformat(timespec="milliseconds")


def log(fmt, *args):
	msg = fmt % args if args else fmt
	sys.stderr.write("%s fakeplatform: %s\n" % (now_iso(), msg))
	sys.stderr.flush()


_JDUMP = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
_CANON = json.JSONEncoder(sort_keys=True, separators=(",", ":")).encode


def jdump(obj):
	return _JDUMP(obj)


def canonical(obj):
	"""json.dumps(obj, sort_keys=True, separators=(",", ":"))"""
	return _CANON(obj)


def is_int(v):
	return isinstance(v, int) and not isinstance(v, bool)


class BadRequest(Exception):
	"""A device request refused with an HTTP status and {"error": text}."""

	def __init__(self, status, text, extra=None):
		super().__init__(text)
		self.status = status
		self.text = text
		self.extra = extra or {}


def merge_ranges(ranges):
	out = []
	for a, b in sorted(ranges):
		if out and a <= out[-1][1] + 1:
			if b > out[-1][1]:
				out[-1][1] = b
		else:
			out.append([a, b])
	return out


# ---------------------------------------------------------------------------
# storage


SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
	device TEXT NOT NULL, stream TEXT NOT NULL, seq INTEGER NOT NULL,
	record TEXT NOT NULL, received REAL NOT NULL,
	PRIMARY KEY (device, stream, seq)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS settled (
	device TEXT NOT NULL, stream TEXT NOT NULL, from_seq INTEGER NOT NULL,
	to_seq INTEGER NOT NULL, how TEXT NOT NULL, reason TEXT,
	received REAL NOT NULL);
CREATE TABLE IF NOT EXISTS conflicts (
	device TEXT NOT NULL, stream TEXT NOT NULL, seq INTEGER NOT NULL,
	record TEXT NOT NULL, received REAL NOT NULL);
CREATE TABLE IF NOT EXISTS stream_stats (
	device TEXT NOT NULL, stream TEXT NOT NULL, duplicates INTEGER NOT NULL,
	PRIMARY KEY (device, stream));
CREATE TABLE IF NOT EXISTS commands (
	device TEXT NOT NULL, id TEXT NOT NULL, type TEXT NOT NULL,
	args TEXT NOT NULL, queued REAL NOT NULL, deliveries INTEGER NOT NULL
	DEFAULT 0, first_delivered REAL, last_delivered REAL, result TEXT,
	result_received REAL, result_duplicates INTEGER NOT NULL DEFAULT 0,
	result_conflicts INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (device, id));
CREATE TABLE IF NOT EXISTS links (
	device TEXT NOT NULL, stream TEXT NOT NULL, seq INTEGER NOT NULL,
	h TEXT NOT NULL, PRIMARY KEY (device, stream, seq)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS bundles (
	n INTEGER PRIMARY KEY, device TEXT, received REAL NOT NULL,
	status INTEGER NOT NULL, result TEXT NOT NULL);
"""


class Store:
	"""The platform's SQLite file and, in memory, each stream's cursor
	(acked_through), unique-record count and settled ranges.  Every method
	is called with the platform's lock held."""

	def __init__(self, path):
		self.db = sqlite3.connect(path, check_same_thread=False)
		self.db.execute("PRAGMA journal_mode=WAL")
		self.db.execute("PRAGMA synchronous=NORMAL")
		self.db.executescript(SCHEMA)
		self.db.commit()
		self.load()

	def load(self):
		self.acked = {}
		self.count = {}
		self.settled = {}	# (dev, stream) -> merged [[a, b], ...]
		self.dups = {}
		for dev, st, n in self.db.execute("SELECT device, stream, COUNT(*) "
		    "FROM records GROUP BY device, stream"):
			self.count[(dev, st)] = n
		rs = {}
		for dev, st, a, b in self.db.execute("SELECT device, stream, "
		    "from_seq, to_seq FROM settled"):
			rs.setdefault((dev, st), []).append((a, b))
		for k, v in rs.items():
			self.settled[k] = merge_ranges(v)
		for dev, st, n in self.db.execute("SELECT device, stream, "
		    "duplicates FROM stream_stats"):
			self.dups[(dev, st)] = n
		for k in set(self.count) | set(self.settled):
			self.acked[k] = 0
			self.advance(*k)

	def clear(self):
		for t in ("records", "settled", "conflicts", "stream_stats",
		    "commands", "links", "bundles"):
			self.db.execute("DELETE FROM " + t)
		self.db.commit()
		self.load()

	def close(self):
		self.db.close()

	# -- records

	def _settled_end(self, key, seq):
		"""The end of the settled range holding seq, or None."""
		r = self.settled.get(key)
		if not r:
			return None
		i = bisect.bisect_right(r, [seq, float("inf")]) - 1
		if i >= 0 and r[i][0] <= seq <= r[i][1]:
			return r[i][1]
		return None

	def advance(self, dev, stream):
		key = (dev, stream)
		a = self.acked.get(key, 0)
		while True:
			end = self._settled_end(key, a + 1)
			if end is not None:
				a = end
				continue
			moved = False
			for (s,) in self.db.execute("SELECT seq FROM records WHERE "
			    "device=? AND stream=? AND seq>? ORDER BY seq LIMIT 5000",
			    (dev, stream, a)):
				if s != a + 1:
					break
				a = s
				moved = True
			if not moved:
				break
		self.acked[key] = a
		return a

	def settle(self, dev, stream, a, b, how, reason, commit=True):
		self.db.execute("INSERT INTO settled VALUES (?,?,?,?,?,?,?)", (dev,
		    stream, a, b, how, reason, time.time()))
		key = (dev, stream)
		self.settled[key] = merge_ranges(self.settled.get(key, []) +
		    [[a, b]])
		if commit:
			self.db.commit()
			self.advance(dev, stream)

	def store(self, dev, stream, prepared, missing):
		"""prepared: [(seq, text, record object)] ascending.  Returns
		(new, duplicates, [conflicting seqs]).  A seq already held is a
		duplicate when both records have the same canonical JSON (sorted
		keys, no spaces), else a conflict (the first is kept)."""
		key = (dev, stream)
		now = time.time()
		existing = {}
		if prepared:
			existing = dict(self.db.execute("SELECT seq, record FROM records "
			    "WHERE device=? AND stream=? AND seq BETWEEN ? AND ?",
			    (dev, stream, prepared[0][0], prepared[-1][0])))
		rows = []
		dups = 0
		conflicts = []
		for seq, text, obj in prepared:
			old = existing.get(seq)
			if old is None:
				rows.append((dev, stream, seq, text, now))
			elif old == text or canonical(json.loads(old)) == canonical(obj):
				dups += 1
			else:
				conflicts.append(seq)
				self.db.execute("INSERT INTO conflicts VALUES (?,?,?,?,?)",
				    (dev, stream, seq, text, now))
		self.db.executemany("INSERT INTO records VALUES (?,?,?,?,?)", rows)
		for a, b in missing:
			self.settle(dev, stream, a, b, "missing", "missing range from the "
			    "gateway", commit=False)
		if dups or conflicts:
			self.dups[key] = self.dups.get(key, 0) + dups + len(conflicts)
			self.db.execute("INSERT OR REPLACE INTO stream_stats VALUES "
			    "(?,?,?)", (dev, stream, self.dups[key]))
		self.db.commit()
		self.count[key] = self.count.get(key, 0) + len(rows)
		self.advance(dev, stream)
		return len(rows), dups, conflicts

	def stream_state(self, dev, stream):
		key = (dev, stream)
		db = self.db
		max_seq = db.execute("SELECT MAX(seq) FROM records WHERE device=? "
		    "AND stream=?", key).fetchone()[0] or 0
		settled_rows = [{"from": a, "to": b, "how": h, "reason": r} for
		    a, b, h, r in db.execute("SELECT from_seq, to_seq, how, reason "
		    "FROM settled WHERE device=? AND stream=? ORDER BY from_seq", key)]
		conflicts = [s for (s,) in db.execute("SELECT seq FROM conflicts "
		    "WHERE device=? AND stream=? ORDER BY seq", key)]
		return {
			"records": self.count.get(key, 0),
			"max_seq": max_seq,
			"acked_through": self.acked.get(key, 0),
			"duplicates": self.dups.get(key, 0),
			"conflicts": len(conflicts),
			"conflict_seqs": conflicts[:100],
			"settled": settled_rows[:200],
			"missing": [[r["from"], r["to"]] for r in settled_rows if
			    r["how"] == "missing"][:200],
			"rejected": [{"seq": r["from"], "how": r["how"],
			    "reason": r["reason"]} for r in settled_rows if
			    r["how"] != "missing"][:200],
			"gaps": self.gaps(dev, stream, max_seq),
		}

	def gaps(self, dev, stream, max_seq, limit=100):
		"""Seq ranges in 1..max(stored, settled) neither stored nor
		settled."""
		key = (dev, stream)
		st = self.settled.get(key, [])
		top = max([max_seq] + [b for _, b in st])
		holes = []
		first = self.db.execute("SELECT MIN(seq) FROM records WHERE device=? "
		    "AND stream=?", key).fetchone()[0]
		if first is None:
			if top:
				holes.append([1, top])
		else:
			if first > 1:
				holes.append([1, first - 1])
			for s, n in self.db.execute("SELECT seq, nxt FROM (SELECT seq, "
			    "LEAD(seq) OVER (ORDER BY seq) AS nxt FROM records WHERE "
			    "device=? AND stream=?) WHERE nxt > seq + 1", key):
				holes.append([s + 1, n - 1])
				if len(holes) > 10 * limit:
					break
			if top > max_seq:
				holes.append([max_seq + 1, top])
		out = []
		for a, b in holes:	# minus the settled ranges
			for sa, sb in st:
				if sb < a or sa > b:
					continue
				if sa > a:
					out.append([a, sa - 1])
				a = sb + 1
				if a > b:
					break
			if a <= b:
				out.append([a, b])
			if len(out) >= limit:
				break
		return out[:limit]

	def records_text(self, dev, stream, lo, hi, limit):
		return [t for (t,) in self.db.execute("SELECT record FROM records "
		    "WHERE device=? AND stream=? AND seq BETWEEN ? AND ? ORDER BY seq "
		    "LIMIT ?", (dev, stream, lo, hi, limit))]

	# -- bundles

	def put_links(self, dev, stream, links):
		"""links: [(seq, 32-byte link)] read from a bundle for records
		the platform holds with that content."""
		self.db.executemany("INSERT OR REPLACE INTO links VALUES (?,?,?,?)",
		    [(dev, stream, seq, h.hex()) for seq, h in links])
		self.db.commit()

	def holds(self, dev, stream, above, through):
		"""(seq, hex link) of the highest seq in above+1..through whose
		link the platform read in a bundle, or None."""
		return self.db.execute("SELECT seq, h FROM links WHERE device=? AND "
		    "stream=? AND seq>? AND seq<=? ORDER BY seq DESC LIMIT 1", (dev,
		    stream, above, through)).fetchone()

	def add_bundle(self, dev, status, result):
		cur = self.db.execute("INSERT INTO bundles (device, received, status,"
		    " result) VALUES (?,?,?,?)", (dev, time.time(), status,
		    jdump(result)))
		self.db.commit()
		return cur.lastrowid

	def bundles(self, dev=None, since=0):
		q = "SELECT n, device, received, status, result FROM bundles WHERE " \
		    "n>?"
		args = [since]
		if dev is not None:
			q += " AND device=?"
			args.append(dev)
		return [dict(json.loads(res), n=n, device=d, received_at=now_iso(t),
		    status=st) for n, d, t, st, res in self.db.execute(q +
		    " ORDER BY n", args)]

	def bundle_count(self):
		return self.db.execute("SELECT COUNT(*) FROM bundles").fetchone()[0]

	# -- commands

	def add_command(self, dev, cid, ctype, args):
		self.db.execute("INSERT INTO commands (device, id, type, args, "
		    "queued) VALUES (?,?,?,?,?)", (dev, cid, ctype, jdump(args),
		    time.time()))
		self.db.commit()

	def deliverable(self, dev, redeliver_s):
		limit = time.time() - redeliver_s
		return self.db.execute("SELECT id, type, args FROM commands WHERE "
		    "device=? AND result IS NULL AND (last_delivered IS NULL OR "
		    "last_delivered <= ?) ORDER BY rowid", (dev, limit)).fetchall()

	def mark_delivered(self, dev, ids):
		now = time.time()
		self.db.executemany("UPDATE commands SET deliveries=deliveries+1, "
		    "first_delivered=COALESCE(first_delivered, ?), last_delivered=? "
		    "WHERE device=? AND id=?", [(now, now, dev, i) for i in ids])
		self.db.commit()

	def command(self, dev, cid):
		return self.db.execute("SELECT result FROM commands WHERE device=? "
		    "AND id=?", (dev, cid)).fetchone()

	def post_result(self, dev, cid, text):
		"""True when this is the first result of the command."""
		row = self.command(dev, cid)
		if row[0] is None:
			self.db.execute("UPDATE commands SET result=?, result_received=? "
			    "WHERE device=? AND id=?", (text, time.time(), dev, cid))
			first = True
		else:
			same = canonical(json.loads(row[0])) == canonical(
			    json.loads(text))
			self.db.execute("UPDATE commands SET result_duplicates="
			    "result_duplicates+1, result_conflicts=result_conflicts+? "
			    "WHERE device=? AND id=?", (0 if same else 1, dev, cid))
			first = False
		self.db.commit()
		return first

	def commands(self, dev=None, with_result=False):
		out = []
		q = "SELECT device, id, type, args, queued, deliveries, " \
		    "first_delivered, last_delivered, result, result_received, " \
		    "result_duplicates, result_conflicts FROM commands"
		args = ()
		if dev is not None:
			q += " WHERE device=?"
			args = (dev,)
		for (d, cid, ctype, a, queued, n, fd, ld, res, rr, rd,
		    rc) in self.db.execute(q + " ORDER BY rowid", args):
			if with_result and res is None:
				continue
			c = {"device": d, "id": cid, "type": ctype, "args": json.loads(a),
			    "queued_at": now_iso(queued), "deliveries": n,
			    "first_delivered_at": now_iso(fd) if fd else None,
			    "last_delivered_at": now_iso(ld) if ld else None,
			    "result": json.loads(res) if res is not None else None,
			    "received_at": now_iso(rr) if rr else None,
			    "received_ts": rr,
			    "latency_s": round(rr - fd, 3) if rr and fd else None,
			    "duplicates": rd, "conflicts": rc}
			out.append(c)
		return out


# ---------------------------------------------------------------------------
# faults


def check_fault_entry(e, where):
	"""A normalised copy of a fault entry; ValueError when it is wrong."""
	if isinstance(e, str):
		e = {"kind": e}
	if not isinstance(e, dict):
		raise ValueError("%s: a fault is a kind or an object" % where)
	e = dict(e)
	k = e.get("kind")
	if k is not None and not isinstance(k, str):
		k = str(k)
	if k not in FAULT_KINDS:
		raise ValueError("%s: kind %r is not one of %s" % (where, k,
		    ", ".join(FAULT_KINDS)))
	e["kind"] = k
	if e.get("path") is not None and e["path"] not in PATH_KINDS:
		raise ValueError("%s: path must be one of %s" % (where,
		    ", ".join(PATH_KINDS)))
	if e.get("stream") is not None and e["stream"] not in STREAMS:
		raise ValueError("%s: stream must be events or positions" % where)
	for f in ("count", "seq", "min_records"):
		if e.get(f) is not None and (not is_int(e[f]) or e[f] < 0):
			raise ValueError("%s: %s must be a non-negative integer" %
			    (where, f))
	for f in ("hold_s", "bytes_per_s"):
		if e.get(f) is not None and (not isinstance(e[f], (int, float)) or
		    isinstance(e[f], bool) or e[f] <= 0):
			raise ValueError("%s: %s must be a positive number" % (where, f))
	if k == "reject":
		if not is_int(e.get("seq")):
			raise ValueError("%s: reject needs seq" % where)
		if e.get("status", 422) not in (200, 400, 422):
			raise ValueError("%s: reject status is 200, 400 or 422" % where)
	if k == "holds" and "holds" not in e:
		raise ValueError("%s: holds needs holds (the member to answer)" %
		    where)
	if k == "malformed" and e.get("variant", "not_json") not in \
	    MALFORMED_VARIANTS:
		raise ValueError("%s: variant must be one of %s" % (where,
		    ", ".join(MALFORMED_VARIANTS)))
	ra = e.get("retry_after")
	if ra is not None and not isinstance(ra, (int, float, str)):
		raise ValueError("%s: retry_after is seconds or a text" % where)
	if "process" in e and not isinstance(e["process"], bool):
		raise ValueError("%s: process is true or false" % where)
	e.setdefault("count", 1)
	return e


def fault_matches(e, info):
	"""True, False, or None when info does not tell yet (stream unknown,
	records not read)."""
	if e.get("path") is not None and e["path"] != info["path"]:
		return False
	if info["path"] == "bundles" and e.get("path") != "bundles":
		return False	# an office tool's request: only when named
	if e.get("device") is not None and e["device"] != info["device"]:
		return False
	undecided = False
	if e.get("stream") is not None:
		if info.get("stream") is None:
			if info.get("full"):
				return False
			undecided = True
		elif e["stream"] != info["stream"]:
			return False
	if e.get("seq") is not None or e.get("min_records") is not None:
		seqs = info.get("seqs")
		if seqs is None:
			if info.get("full"):
				return False
			undecided = True
		else:
			if e.get("seq") is not None and e["seq"] not in seqs:
				return False
			if e.get("min_records") is not None and \
			    len(seqs) < e["min_records"]:
				return False
	return None if undecided else True


# ---------------------------------------------------------------------------
# the platform


class Conn:
	def __init__(self, cid, sock, gen, peer):
		self.id = cid
		self.sock = sock
		self.gen = gen
		self.peer = peer
		self.idle = False
		self.nreq = 0


class Platform:
	def __init__(self, args):
		self.args = args
		self.dir = os.path.abspath(args.dir)
		self.pki = os.path.abspath(args.pki)
		self.cond = threading.Condition(threading.RLock())
		self.stopping = threading.Event()
		self.store = Store(os.path.join(self.dir, "platform.sqlite"))
		self.config = dict(DEFAULTS)
		self.config["redeliver_s"] = args.redeliver_s
		self.devices = {}	# id -> {"key": 32 bytes, "pem": path}
		for spec in args.device:
			dev, _, path = spec.partition("=")
			if not dev or not path:
				raise SystemExit("fakeplatform: --device ID=PUBKEY.pem, not "
				    "%r" % spec)
			self.add_device(dev, path=path)
		self.verify_method = args.verify
		self.ossl = edverify.OpensslVerifier(self.dir)
		self.ctx = {"right": self.make_ctx("server"),
		    "wrong": self.make_ctx("wrong-server")}
		self.tls = "right"
		self.gen = 0
		self.conns = {}
		self.next_conn = 0
		self.reset_runtime()

	def reset_runtime(self):
		self.faults_queue = []
		self.random = None
		self.rng = None
		self.down = None	# None, "close" or "rst"
		self.requests = []
		self.counters = {"requests": 0, "by_path": {}, "by_status": {},
		    "faults": {}, "faults_total": 0, "connections": 0,
		    "reused_connection_requests": 0, "tls_failures": 0,
		    "down_refused": 0, "signature_failures": 0}
		self.tls_failures = []
		self.polls_waiting = 0
		self.sig_time = [0, 0.0]	# verifications, seconds

	def make_ctx(self, name):
		ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
		ctx.minimum_version = ssl.TLSVersion.TLSv1_2
		ctx.load_cert_chain(os.path.join(self.pki, name + ".pem"),
		    os.path.join(self.pki, name + ".key"))
		ctx.verify_mode = ssl.CERT_REQUIRED
		ctx.load_verify_locations(os.path.join(self.pki, "ca.pem"))
		return ctx

	def add_device(self, dev, path=None, pem=None):
		if pem is None:
			with open(path, encoding="ascii", errors="replace") as f:
				pem = f.read()
		key = edverify.load_public_key_pem(pem)
		if path is None:
			path = os.path.join(self.dir, "device-%s.pub.pem" %
			    hashlib.sha256(dev.encode()).hexdigest()[:16])
			with open(path, "w") as f:
				f.write(pem)
		with self.cond:
			self.devices[dev] = {"key": key, "pem": os.path.abspath(path)}
		edverify._neg_key_table(key)	# build the key's table now

	def default_device(self):
		return next(iter(self.devices), None)

	def notify(self):
		with self.cond:
			self.cond.notify_all()

	# -- connections

	def conn_open(self, sock, peer):
		with self.cond:
			self.next_conn += 1
			c = Conn(self.next_conn, sock, self.gen, peer)
			self.conns[c.id] = c
			self.counters["connections"] += 1
			return c

	def conn_close(self, c):
		with self.cond:
			self.conns.pop(c.id, None)

	def bump_generation(self):
		"""Connections opened before now are closed: idle ones at once,
		busy ones after their reply (a certificate switch or "down" must
		not be hidden by a reused connection)."""
		with self.cond:
			self.gen += 1
			for c in list(self.conns.values()):
				if c.idle:
					try:
						socket.socket.shutdown(c.sock, socket.SHUT_RDWR)
					except OSError:
						pass
			self.cond.notify_all()

	def tls_failure(self, peer, err):
		with self.cond:
			self.counters["tls_failures"] += 1
			self.tls_failures.append({"time": now_iso(), "peer": "%s:%d" %
			    peer[:2], "error": err})
			del self.tls_failures[:-50]
			self.cond.notify_all()
		log("TLS handshake with %s:%d failed: %s", peer[0], peer[1], err)

	# -- faults

	def set_faults(self, spec):
		if not isinstance(spec, dict):
			raise ValueError("faults: a JSON object")
		unknown = set(spec) - {"clear", "queue", "append", "random", "down"}
		if unknown:
			raise ValueError("faults: unknown members %s" % sorted(unknown))
		queue = None
		if "queue" in spec:
			if not isinstance(spec["queue"], list):
				raise ValueError("faults: queue is a list")
			queue = [check_fault_entry(e, "queue[%d]" % i) for i, e in
			    enumerate(spec["queue"])]
		rnd = None
		if spec.get("random") is not None:
			r = spec["random"]
			if not isinstance(r, dict):
				raise ValueError("faults: random is an object")
			p = r.get("p")
			if not isinstance(p, (int, float)) or isinstance(p, bool) or \
			    not 0 <= p <= 1:
				raise ValueError("faults: random.p is a number in [0, 1]")
			kinds = r.get("kinds")
			if not isinstance(kinds, list) or not kinds:
				raise ValueError("faults: random.kinds is a non-empty list")
			kinds = [check_fault_entry(k, "random.kinds[%d]" % i) for i, k in
			    enumerate(kinds)]
			filt = {k: r.get(k) for k in ("path", "stream", "device")}
			check_fault_entry(dict(filt, kind="500"), "random")
			rnd = {"p": float(p), "seed": r.get("seed"), "kinds": kinds,
			    "filter": filt, "drawn": 0, "hits": 0}
		down = spec.get("down", False)
		if down not in (True, False, None, "close", "rst"):
			raise ValueError("faults: down is true, false, \"close\" or "
			    "\"rst\"")
		with self.cond:
			if spec.get("clear"):
				self.faults_queue = []
				self.random = None
				self.rng = None
				if self.down:
					self.down = None
			if queue is not None:
				if spec.get("append"):
					self.faults_queue.extend(queue)
				else:
					self.faults_queue = queue
			if "random" in spec:
				self.random = rnd
				self.rng = random.Random(rnd["seed"]) if rnd else None
			if "down" in spec:
				new = None if down in (False, None) else \
				    ("close" if down is True else down)
				changed = new != self.down
				self.down = new
				if new and changed:
					self.bump_generation()
			return self.fault_state()

	def fault_state(self):
		with self.cond:
			r = None
			if self.random:
				r = {k: self.random[k] for k in ("p", "seed", "kinds",
				    "filter", "drawn", "hits")}
			return {"queue": [dict(e) for e in self.faults_queue],
			    "random": r, "down": self.down, "tls": self.tls}

	def pick_fault(self, info, state):
		"""The fault for this request, or None.  state: per-request dict
		remembering whether the random draw was made."""
		with self.cond:
			for i, e in enumerate(self.faults_queue):
				if fault_matches(e, info) is True:
					e["count"] -= 1
					if e["count"] <= 0:
						del self.faults_queue[i]
					f = dict(e)
					f["source"] = "queue"
					return f
			r = self.random
			if r and not state.get("drawn"):
				m = fault_matches(r["filter"], info)
				if m is None:
					return None
				state["drawn"] = True
				if m is False:
					return None
				r["drawn"] += 1
				if self.rng.random() < r["p"]:
					r["hits"] += 1
					f = dict(self.rng.choice(r["kinds"]))
					f["source"] = "random"
					return f
			return None

	def count_fault(self, f):
		with self.cond:
			c = self.counters
			c["faults_total"] += 1
			c["faults"][f["kind"]] = c["faults"].get(f["kind"], 0) + 1

	# -- request log

	def log_request(self, entry):
		with self.cond:
			c = self.counters
			c["requests"] += 1
			p = entry.get("path_kind") or "other"
			c["by_path"][p] = c["by_path"].get(p, 0) + 1
			s = str(entry.get("status"))
			c["by_status"][s] = c["by_status"].get(s, 0) + 1
			if entry.get("conn_request", 1) > 1:
				c["reused_connection_requests"] += 1
			entry["n"] = len(self.requests) + 1
			self.requests.append(entry)
			self.cond.notify_all()
		f = entry.get("fault")
		what = ""
		if entry.get("first_seq") is not None:
			what = " [%s %s..%s n=%s%s]" % (entry.get("stream"),
			    entry["first_seq"], entry.get("last_seq"),
			    entry.get("n_records"), "" if entry.get("acked_through") is
			    None else " acked=%d" % entry["acked_through"])
		elif entry.get("stream"):
			what = " [%s]" % entry["stream"]
		log("%s %s -> %s%s%s%s", entry.get("method"), entry.get("path"),
		    entry.get("status") if entry.get("status") is not None else "-",
		    what,
		    " fault=%s" % f if f else "",
		    " (%s)" % entry["outcome"] if entry.get("outcome") not in
		    (None, "replied") else "")

	# -- signature

	def check_signature(self, dev, header, body):
		if not header:
			raise BadRequest(401, "X-Fleetgw-Signature missing")
		if not header.startswith("ed25519="):
			raise BadRequest(401, "X-Fleetgw-Signature is not ed25519=BASE64")
		try:
			sig = base64.b64decode(header[8:].strip(), validate=True)
		except ValueError:
			sig = b""
		if len(sig) != 64:
			raise BadRequest(401, "X-Fleetgw-Signature: not the base64 of 64 "
			    "bytes")
		d = self.devices[dev]
		t = time.perf_counter()
		if self.verify_method == "openssl":
			ok = self.ossl.verify(d["pem"], body, sig)
		else:
			ok = edverify.verify(d["key"], body, sig)
		dt_ = time.perf_counter() - t
		with self.cond:
			self.sig_time[0] += 1
			self.sig_time[1] += dt_
			if not ok:
				self.counters["signature_failures"] += 1
		if not ok:
			raise BadRequest(401, "signature does not verify with the "
			    "device's registered key")

	# -- records

	def parse_json_body(self, headers, body, what):
		enc = (headers.get("Content-Encoding") or "").strip().lower()
		if enc != "gzip":
			raise BadRequest(400, "%s body must be sent with Content-Encoding:"
			    " gzip (got %r)" % (what, enc or "none"))
		raw = gunzip(body, self.config["max_inflated_bytes"])
		try:
			return json.loads(raw)
		except (ValueError, UnicodeDecodeError) as e:
			raise BadRequest(400, "body is not JSON: %s" % e) from None

	def validate_batch(self, dev, obj):
		"""(stream, records, missing, rejected) for a parsed upload body;
		BadRequest (400) for a body of the wrong shape.  rejected lists
		the records that are invalid one by one (422)."""
		if not isinstance(obj, dict):
			raise BadRequest(400, "body is not a JSON object")
		stream = obj.get("stream")
		if stream not in STREAMS:
			raise BadRequest(400, "stream must be \"events\" or \"positions\"")
		if obj.get("device_id") != dev:
			raise BadRequest(400, "device_id %r is not the device of the URL "
			    "(%s)" % (obj.get("device_id"), dev), {"stream": stream})
		recs = obj.get("records")
		if not isinstance(recs, list):
			raise BadRequest(400, "records must be a list", {"stream": stream})
		missing = obj.get("missing", [])
		if missing is None:
			missing = []
		if not isinstance(missing, list) or not all(isinstance(r, list) and
		    len(r) == 2 and is_int(r[0]) and is_int(r[1]) and
		    1 <= r[0] <= r[1] for r in missing):
			raise BadRequest(400, "missing must be a list of [from, to] with "
			    "1 <= from <= to", {"stream": stream})
		rejected = []
		for i, r in enumerate(recs):
			reason = self.record_problem(r, stream)
			if reason:
				seq = r.get("seq") if isinstance(r, dict) else None
				rejected.append({"seq": seq if is_int(seq) else None,
				    "index": i, "reason": reason})
		return stream, recs, missing, rejected

	@staticmethod
	def record_problem(r, stream):
		if not isinstance(r, dict):
			return "record is not an object"
		seq = r.get("seq")
		if not is_int(seq) or seq < 1:
			return "seq: not an integer >= 1"
		kind = r.get("kind")
		if kind not in RECORD_KINDS:
			return "kind: not one of %s" % ", ".join(RECORD_KINDS)
		if kind not in KINDS_BY_STREAM[stream]:
			return "kind: %s records do not belong in the %s stream" % (kind,
			    stream)
		t = r.get("time")
		if not isinstance(t, str):
			return "time: not a string"
		if not RFC3339_RE.match(t):
			return "time: not RFC 3339 with an offset"
		return None

	def check_order(self, stream, recs, missing):
		seqs = [r["seq"] for r in recs]
		for a, b in zip(seqs, seqs[1:]):
			if b <= a:
				raise BadRequest(400, "records are not in ascending seq order "
				    "(%d after %d)" % (b, a), {"stream": stream})
		cover = [[s, s] for s in seqs] + [list(r) for r in missing]
		cover.sort()
		for (a1, b1), (a2, b2) in zip(cover, cover[1:]):
			if a2 <= b1:
				raise BadRequest(400, "missing range [%d, %d] overlaps seq %d" %
				    (a2, b2, a2) if [a2, b2] in missing else "missing range "
				    "overlaps seq %d" % a2, {"stream": stream})
			if a2 != b1 + 1:
				raise BadRequest(400, "records and missing leave a hole: seq "
				    "%d..%d" % (b1 + 1, a2 - 1), {"stream": stream})

	def settle_refused(self, dev, stream, recs, status, reason):
		"""A single-record batch refused with 400/422: that seq is settled
		(docs §2.2)."""
		if stream not in STREAMS or not isinstance(recs, list) or \
		    len(recs) != 1 or not isinstance(recs[0], dict):
			return None
		seq = recs[0].get("seq")
		if not is_int(seq) or seq < 1:
			return None
		with self.cond:
			self.store.settle(dev, stream, seq, seq, "refused_%d" % status,
			    reason)
			self.cond.notify_all()
		return seq

	def handle_records(self, dev, headers, body, entry, fault, pick):
		"""Returns (status, reply object).  pick(info) chooses a fault
		once the records are known (when none was chosen before)."""
		stream = recs = None
		try:
			obj = self.parse_json_body(headers, body, "records")
			if isinstance(obj, dict) and obj.get("stream") in STREAMS:
				stream = obj["stream"]
				entry["stream"] = stream
				if isinstance(obj.get("records"), list):
					recs = obj["records"]
					rs = [r.get("seq") for r in recs if isinstance(r, dict)]
					entry["n_records"] = len(recs)
					if rs:
						entry["first_seq"], entry["last_seq"] = rs[0], rs[-1]
			if fault is None:
				seqs = set(r.get("seq") for r in recs if isinstance(r,
				    dict)) if recs is not None else set()
				fault = pick({"stream": stream, "seqs": seqs, "full": True})
				if fault is not None:
					return ("FAULT", fault)
			stream, recs, missing, rejected = self.validate_batch(dev, obj)
			if missing:
				entry["missing"] = missing
			if rejected:
				raise BadRequest(422, "%d invalid record%s (first: seq %s: %s)"
				    % (len(rejected), "" if len(rejected) == 1 else "s",
				    rejected[0]["seq"], rejected[0]["reason"]),
				    {"stream": stream, "rejected": [{"seq": r["seq"],
				    "reason": r["reason"]} for r in rejected]})
			if self.config["max_records"] and \
			    len(recs) > self.config["max_records"]:
				raise BadRequest(413, "batch of %d records: at most %d" %
				    (len(recs), self.config["max_records"]))
			self.check_order(stream, recs, missing)
		except BadRequest as e:
			if e.status in (400, 422):
				s = self.settle_refused(dev, stream, recs, e.status, e.text)
				if s is not None:
					entry["settled"] = s
			raise
		reject = None
		if fault is not None and fault["kind"] == "reject" and \
		    any(r["seq"] == fault["seq"] for r in recs):
			reject = fault
			reason = fault.get("reason", "rejected by the platform (test)")
			st = fault.get("status", 422)
			if st != 200:
				e = BadRequest(st, "seq %d: %s" % (fault["seq"], reason),
				    {"stream": stream, "rejected": [{"seq": fault["seq"],
				    "reason": reason}]})
				s = self.settle_refused(dev, stream, recs, st, e.text)
				if s is not None:
					entry["settled"] = s
				raise e
		prepared = []
		out_rejected = []
		for r in recs:
			if reject and r["seq"] == reject["seq"]:
				out_rejected.append({"seq": r["seq"], "reason": reason})
				continue
			prepared.append((r["seq"], _JDUMP(r), r))
		with self.cond:
			new, dups, conflicts = self.store.store(dev, stream, prepared,
			    missing)
			for rj in out_rejected:
				self.store.settle(dev, stream, rj["seq"], rj["seq"],
				    "rejected", rj["reason"])
			held = self.store.acked.get((dev, stream), 0)
			# acked_through never goes past what this request sent (docs
			# §2.1); what the platform holds beyond it, from a bundle,
			# goes in "holds" with the link it read there.
			ends = [r["seq"] for r in recs] + [b for _, b in missing]
			acked = min(held, max(ends)) if ends else held
			holds = None
			if held > acked:
				row = self.store.holds(dev, stream, acked, held)
				if row is not None:
					holds = {"seq": row[0], "h": row[1]}
			self.cond.notify_all()
		if conflicts:
			log("ALARM: %s %s: seq %s delivered again with different content "
			    "(first kept)", dev, stream, conflicts[:10])
		entry.update(new=new, duplicates=dups, conflicts=len(conflicts))
		reply = {"stream": stream, "acked_through": acked,
		    "rejected": out_rejected}
		if holds is not None:
			reply["holds"] = holds
			entry["holds"] = holds["seq"]
		return 200, reply

	# -- bundles

	def handle_bundle(self, dev, headers, body, entry):
		"""POST /v1/devices/{id}/bundles (docs/platform-api.md §6): a
		bundle verified against the device's registered key, refused whole
		(422) at the first problem, else every proven record stored as an
		upload would be."""
		ctype = (headers.get("Content-Type") or "").split(";")[0].strip(). \
		    lower()
		if ctype not in BUNDLE_TYPES:
			raise BadRequest(415, "Content-Type must be application/x-ndjson "
			    "(got %r)" % (ctype or "none"))
		enc = (headers.get("Content-Encoding") or "identity").strip().lower()
		if enc == "gzip":
			raw = gunzip(body, self.config["max_inflated_bytes"])
		elif enc == "identity":
			raw = body
		else:
			raise BadRequest(415, "Content-Encoding must be gzip or none "
			    "(got %r)" % enc)
		if not raw:
			raise BadRequest(400, "empty body")
		entry["bundle_bytes"] = len(raw)
		key = self.devices[dev]["key"]
		t0 = time.perf_counter()
		r = bundlecheck.check(raw, key, device=dev)
		entry["verify_s"] = round(time.perf_counter() - t0, 3)
		fatal = r.fatal
		proven = {s: r.proven(s) for s in STREAMS}
		if not fatal and r.records and not any(rec.seq <= proven[rec.stream]
		    for rec in r.records):
			fatal = [p for p in r.problems if p.kind ==
			    bundlecheck.UNCOVERED]
		if fatal:
			problems = [p.text for p in fatal[:BUNDLE_PROBLEMS_MAX]]
			with self.cond:
				n = self.store.add_bundle(dev, 422, {"error": problems[0],
				    "problems": problems})
				self.cond.notify_all()
			entry["bundle"] = n
			log("bundle %d for %s refused: %s", n, dev, "; ".join(problems[:5]))
			raise BadRequest(422, problems[0], {"problems": problems})
		streams = {}
		with self.cond:
			for s in STREAMS:
				recs = [rec for rec in r.records if rec.stream == s]
				ok = [rec for rec in recs if rec.seq <= proven[s]]
				new, dups, conflicts = self.store.store(dev, s, [(rec.seq,
				    rec.text, rec.obj) for rec in ok], [])
				bad = set(conflicts)
				self.store.put_links(dev, s, [(rec.seq, rec.h) for rec in ok
				    if rec.seq not in bad and rec.h is not None])
				streams[s] = {"received": len(recs), "new": new,
				    "duplicates": dups, "conflicts": len(conflicts),
				    "held_through": self.store.acked.get((dev, s), 0),
				    "unproven": len(recs) - len(ok)}
				if conflicts:
					streams[s]["conflict_seqs"] = conflicts[:100]
					log("ALARM: %s %s: seq %s in a bundle with content "
					    "different from what the platform holds (first kept)",
					    dev, s, conflicts[:10])
			reply = {"device": dev, "streams": streams}
			n = self.store.add_bundle(dev, 200, dict(reply, problems=[
			    p.text for p in r.problems][:BUNDLE_PROBLEMS_MAX]))
			self.cond.notify_all()
		entry["bundle"] = n
		entry.update(new=sum(v["new"] for v in streams.values()),
		    duplicates=sum(v["duplicates"] for v in streams.values()),
		    conflicts=sum(v["conflicts"] for v in streams.values()))
		return 200, reply

	# -- commands

	def handle_poll(self, dev, query, entry):
		try:
			w = float(query.get("wait_s", ["0"])[0])
			if w != w or w < 0:
				raise ValueError
		except ValueError:
			raise BadRequest(400, "wait_s must be a number >= 0") from None
		w = min(w, self.config["max_wait_s"])
		entry["wait_s"] = w
		deadline = time.monotonic() + w
		with self.cond:
			self.polls_waiting += 1
			self.cond.notify_all()
			try:
				while True:
					rows = self.store.deliverable(dev,
					    self.config["redeliver_s"])
					if rows:
						self.store.mark_delivered(dev, [r[0] for r in rows])
						cmds = [{"id": i, "type": t, "args": json.loads(a)} for
						    i, t, a in rows]
						entry["commands"] = [c["id"] for c in cmds]
						self.cond.notify_all()
						return 200, {"commands": cmds}
					left = deadline - time.monotonic()
					if left <= 0 or self.stopping.is_set():
						return 204, None
					self.cond.wait(min(left, 1.0))
			finally:
				self.polls_waiting -= 1
				self.cond.notify_all()

	def handle_result(self, dev, cid, headers, body, entry):
		entry["command"] = cid
		obj = self.parse_json_body(headers, body, "result")
		with self.cond:
			known = self.store.command(dev, cid) is not None
		if not known:
			raise BadRequest(404, "unknown command %r" % cid)
		if not isinstance(obj, dict):
			raise BadRequest(400, "result body is not a JSON object")
		if obj.get("id", cid) != cid:
			raise BadRequest(400, "id %r in the body is not the command of the "
			    "URL (%s)" % (obj.get("id"), cid))
		if obj.get("status") not in RESULT_STATUSES:
			raise BadRequest(400, "status must be one of %s" %
			    ", ".join(RESULT_STATUSES))
		with self.cond:
			first = self.store.post_result(dev, cid, jdump(obj))
			self.cond.notify_all()
		entry["duplicates"] = 0 if first else 1
		return 200, {"id": cid, "accepted": True}

	# -- control API

	def queue_command(self, spec):
		if not isinstance(spec, dict):
			raise ValueError("command: a JSON object")
		dev = spec.get("device") or self.default_device()
		if dev not in self.devices:
			raise ValueError("command: unknown device %r" % dev)
		ctype = spec.get("type")
		if not isinstance(ctype, str) or not ctype:
			raise ValueError("command: type is a non-empty string")
		args = spec.get("args", {})
		if args is None:
			args = {}
		with self.cond:
			cid = spec.get("id")
			if cid is None:
				n = len(self.store.commands(dev)) + 1
				while self.store.command(dev, "c-%d" % n) is not None:
					n += 1
				cid = "c-%d" % n
			if not isinstance(cid, str) or not 1 <= len(cid.encode()) <= 64:
				raise ValueError("command: id is 1 to 64 bytes")
			if self.store.command(dev, cid) is not None:
				raise ValueError("command: id %r already queued" % cid)
			self.store.add_command(dev, cid, ctype, args)
			self.cond.notify_all()
		return {"device": dev, "id": cid}

	def state(self):
		with self.cond:
			devs = {}
			for dev in sorted(set(self.devices) | {k[0] for k in
			    self.store.count} | {k[0] for k in self.store.settled}):
				cmds = self.store.commands(dev)
				bundles = self.store.bundles(dev)
				devs[dev] = {
					"registered": dev in self.devices,
					"streams": {s: self.store.stream_state(dev, s) for s in
					    STREAMS},
					"commands": {"queued": len(cmds),
					    "delivered": sum(1 for c in cmds if c["deliveries"]),
					    "results": sum(1 for c in cmds if c["result"] is not
					    None),
					    "pending": [c["id"] for c in cmds if c["result"] is
					    None]},
					"bundles": {"accepted": sum(1 for b in bundles if
					    b["status"] == 200), "refused": sum(1 for b in
					    bundles if b["status"] != 200)},
				}
			n, secs = self.sig_time
			return {
				"https_port": self.https_port, "control_port":
				self.control_port, "pid": os.getpid(), "dir": self.dir,
				"tls": self.tls, "down": self.down,
				"counters": json.loads(json.dumps(self.counters)),
				"faults": self.fault_state(),
				"config": dict(self.config),
				"polls_waiting": self.polls_waiting,
				"open_connections": len(self.conns),
				"tls_failures": list(self.tls_failures),
				"signature": {"method": self.verify_method,
				    "verifications": n, "mean_ms": round(secs / n * 1e3, 3)
				    if n else None},
				"devices": devs,
			}

	def wait(self, q):
		"""GET /wait: block until every condition given holds or timeout_s
		passes."""
		def num(name, conv=int):
			v = q.get(name, [None])[0]
			return None if v is None else conv(v)
		timeout = num("timeout_s", float)
		timeout = 10.0 if timeout is None else min(max(timeout, 0.0), 600.0)
		dev = q.get("device", [self.default_device()])[0]
		stream = q.get("stream", [None])[0]
		acked = num("acked_through")
		nrec = num("records")
		result = q.get("result", [None])[0]
		nreq = num("requests")
		polls = num("polls_waiting")
		tlsf = num("tls_failures")
		nbundles = num("bundles")
		if (acked is not None or nrec is not None) and stream not in STREAMS:
			raise ValueError("wait: stream=events|positions needed")

		def status():
			st = {}
			ok = True
			if acked is not None:
				st["acked_through"] = self.store.acked.get((dev, stream), 0)
				ok &= st["acked_through"] >= acked
			if nrec is not None:
				st["records"] = self.store.count.get((dev, stream), 0)
				ok &= st["records"] >= nrec
			if result is not None:
				row = self.store.command(dev, result)
				st["result"] = row is not None and row[0] is not None
				ok &= st["result"]
			if nreq is not None:
				st["requests"] = len(self.requests)
				ok &= st["requests"] >= nreq
			if polls is not None:
				st["polls_waiting"] = self.polls_waiting
				ok &= st["polls_waiting"] >= polls
			if tlsf is not None:
				st["tls_failures"] = self.counters["tls_failures"]
				ok &= st["tls_failures"] >= tlsf
			if nbundles is not None:
				st["bundles"] = self.store.bundle_count()
				ok &= st["bundles"] >= nbundles
			return ok, st

		t0 = time.monotonic()
		with self.cond:
			while True:
				ok, st = status()
				left = t0 + timeout - time.monotonic()
				if ok or left <= 0 or self.stopping.is_set():
					st["reached"] = ok
					st["waited_s"] = round(time.monotonic() - t0, 3)
					return st
				self.cond.wait(min(left, 0.5))

	def set_tls(self, which):
		if which not in ("right", "wrong"):
			raise ValueError("tls: cert is \"right\" or \"wrong\"")
		with self.cond:
			changed = which != self.tls
			self.tls = which
			if changed:
				self.bump_generation()
		log("server certificate: %s", "wrong-server.pem (other CA)" if
		    which == "wrong" else "server.pem")
		return {"tls": which}

	def reset(self):
		with self.cond:
			self.store.clear()
			self.reset_runtime()
			self.config = dict(DEFAULTS, redeliver_s=self.args.redeliver_s)
			self.tls = "right"
			self.bump_generation()
		log("reset")
		return {"reset": True}

	def set_config(self, spec):
		if not isinstance(spec, dict):
			raise ValueError("config: a JSON object")
		for k, v in spec.items():
			if k not in DEFAULTS:
				raise ValueError("config: unknown %r (known: %s)" % (k,
				    ", ".join(DEFAULTS)))
			if not isinstance(v, (int, float)) or isinstance(v, bool) or \
			    v < 0:
				raise ValueError("config: %s is a number >= 0" % k)
		with self.cond:
			self.config.update(spec)
			self.cond.notify_all()
			return dict(self.config)


def gunzip(body, limit):
	out = []
	n = 0
	data = body
	if not data:
		raise BadRequest(400, "empty body")
	while data:
		d = zlib.decompressobj(16 + zlib.MAX_WBITS)
		try:
			chunk = d.decompress(data, limit + 1 - n)
		except zlib.error as e:
			raise BadRequest(400, "body is not gzip: %s" % e) from None
		n += len(chunk)
		out.append(chunk)
		if n > limit or d.unconsumed_tail:
			raise BadRequest(413, "body inflates to more than %d bytes" %
			    limit)
		if not d.eof:
			raise BadRequest(400, "body is not gzip: truncated")
		data = d.unused_data
	return b"".join(out)


def sniff_stream(prefix):
	"""The stream named in the first bytes of a gzip JSON body, if the
	prefix shows it."""
	try:
		text = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(prefix,
		    1 << 16)
	except zlib.error:
		return None
	m = re.search(rb'"stream"\s*:\s*"([a-z]+)"', text)
	if m and m.group(1).decode() in STREAMS:
		return m.group(1).decode()
	return None


# ---------------------------------------------------------------------------
# HTTPS: the device-facing API


PATH_RE = re.compile(r"^/v1/devices/([^/]+)/(records|commands|bundles)"
    r"(?:/([^/]+)/(result))?$")


class Close(Exception):
	"""End the connection without (further) reply; rst: with an RST."""

	def __init__(self, outcome, rst=False):
		super().__init__(outcome)
		self.outcome = outcome
		self.rst = rst


class DeviceHandler(BaseHTTPRequestHandler):
	protocol_version = "HTTP/1.1"
	server_version = "fakeplatform/1"
	sys_version = ""

	def setup(self):
		self.platform = self.server.platform
		self.timeout = self.platform.config["idle_timeout_s"]
		super().setup()

	def handle(self):
		self.conn = self.platform.conn_open(self.connection,
		    self.client_address)
		self.conn.cn = self.server.peer_cn(self.connection)
		try:
			self.close_connection = False
			while not self.close_connection:
				self.handle_one_request()
		finally:
			self.platform.conn_close(self.conn)

	def handle_one_request(self):
		p = self.platform
		with p.cond:
			if self.conn.gen != p.gen or p.down:
				self.close_connection = True
				return
			self.conn.idle = True
		try:
			self.raw_requestline = self.rfile.readline(65537)
		except (OSError, ssl.SSLError):
			self.raw_requestline = b""
		finally:
			with p.cond:
				self.conn.idle = False
		if not self.raw_requestline:
			self.close_connection = True
			return
		if len(self.raw_requestline) > 65536:
			self.send_error(414)
			self.close_connection = True
			return
		self._continue = False
		if not self.parse_request():
			self.close_connection = True
			return
		self.conn.nreq += 1
		try:
			self.device_request()
		except Close as c:
			self.close_connection = True
			if c.rst:
				self.set_rst()
		except (OSError, ssl.SSLError):
			self.close_connection = True

	def handle_expect_100(self):
		# "100 Continue" is sent when the body is about to be read.
		self._continue = True
		return True

	def log_message(self, fmt, *args):
		if log_verbose:
			log("%s %s", self.address_string(), fmt % args)

	def set_rst(self):
		try:
			self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
			    struct.pack("ii", 1, 0))
		except OSError:
			pass

	# -- body

	def send_continue(self):
		if self._continue:
			self._continue = False
			self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")

	def read_exact(self, n):
		data = self.rfile.read(n)
		if len(data) != n:
			raise Close("client closed mid-body")
		return data

	def read_chunked(self, limit):
		out = []
		n = 0
		while True:
			line = self.rfile.readline(1024)
			if not line.endswith(b"\n"):
				raise Close("bad chunked body")
			try:
				size = int(line.split(b";")[0].strip(), 16)
			except ValueError:
				raise Close("bad chunk size") from None
			if size == 0:
				while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
					pass
				return b"".join(out)
			n += size
			if n > limit:
				raise Close("chunked body too large")
			out.append(self.read_exact(size))
			self.read_exact(2)

	# -- replies

	def build(self, status, obj=None, body=None, headers=()):
		if body is None:
			body = b"" if obj is None else jdump(obj).encode()
		try:
			phrase = http.HTTPStatus(status).phrase
		except ValueError:
			phrase = "Status"
		h = ["HTTP/1.1 %d %s" % (status, phrase),
		    "Date: " + email.utils.formatdate(usegmt=True),
		    "Server: " + self.server_version]
		if status != 204:
			h.append("Content-Type: application/json")
			h.append("Content-Length: %d" % len(body))
		h.extend("%s: %s" % kv for kv in headers)
		if self.close_connection:
			h.append("Connection: close")
		return ("\r\n".join(h) + "\r\n\r\n").encode("latin-1") + body

	def hang(self, hold_s, entry):
		"""Send nothing until the client gives up or hold_s passes."""
		sock = self.connection
		t0 = time.monotonic()
		end = t0 + hold_s
		outcome = "hang: held %.1f s" % hold_s
		sock.settimeout(0.5)
		while not self.platform.stopping.is_set():
			left = end - time.monotonic()
			if left <= 0:
				break
			r, _, _ = select.select([sock], [], [], min(left, 0.5))
			if not r:
				continue
			try:
				data = sock.recv(4096)
			except (ssl.SSLWantReadError, socket.timeout):
				continue
			except (OSError, ssl.SSLError):
				data = b""
			if not data:
				outcome = "hang: client gave up after %.1f s" % (
				    time.monotonic() - t0)
				break
		entry["outcome"] = outcome
		raise Close(outcome)

	def trickle(self, data, bps, hold_s, entry):
		if bps <= 10:
			chunk, interval = 1, 1.0 / bps
		else:
			chunk, interval = int(bps / 10), 0.1
		t0 = time.monotonic()
		sent = 0
		self.connection.settimeout(5)
		try:
			while sent < len(data):
				if time.monotonic() - t0 > hold_s:
					entry["outcome"] = "trickle: gave up after %d of %d " \
					    "bytes" % (sent, len(data))
					raise Close(entry["outcome"])
				self.connection.sendall(data[sent:sent + chunk])
				sent += chunk
				if sent < len(data) and self.platform.stopping.wait(interval):
					raise Close("stopping")
		except (OSError, ssl.SSLError):
			entry["outcome"] = "trickle: client gave up after %d of %d " \
			    "bytes, %.1f s" % (sent, len(data), time.monotonic() - t0)
			raise Close(entry["outcome"]) from None
		entry["outcome"] = "trickled %d bytes in %.1f s" % (len(data),
		    time.monotonic() - t0)
		self.connection.settimeout(self.timeout)

	# -- the request

	def device_request(self):
		p = self.platform
		t0 = time.monotonic()
		url = urllib.parse.urlsplit(self.path)
		entry = {"time": now_iso(), "method": self.command,
		    "path": url.path, "conn": self.conn.id,
		    "conn_request": self.conn.nreq, "peer_cn": self.conn.cn,
		    "status": None, "fault": None}
		outcome = "replied"
		try:
			status, reply, headers = self.device_request2(url, entry)
		except Close as c:
			entry["status"] = None
			entry.setdefault("outcome", c.outcome)
			entry["duration_s"] = round(time.monotonic() - t0, 3)
			p.log_request(entry)
			raise
		data = reply if isinstance(reply, bytes) else \
		    self.build(status, reply, headers=headers)
		f = entry.get("fault_spec")
		try:
			if f and f["kind"] == "trickle":
				self.trickle(data, f.get("bytes_per_s", TRICKLE_DEFAULT_BPS),
				    f.get("hold_s", 120.0), entry)
			else:
				self.wfile.write(data)
		except Close:
			entry["duration_s"] = round(time.monotonic() - t0, 3)
			entry.pop("fault_spec", None)
			p.log_request(entry)
			raise
		except (OSError, ssl.SSLError) as e:
			outcome = "reply not sent: %s" % e
			self.close_connection = True
		entry.setdefault("outcome", outcome)
		entry["duration_s"] = round(time.monotonic() - t0, 3)
		entry.pop("fault_spec", None)
		p.log_request(entry)

	def device_request2(self, url, entry):
		"""(status, reply object or raw bytes, headers), or Close."""
		p = self.platform
		m = PATH_RE.match(url.path)
		kind = dev = cid = None
		if m:
			dev = urllib.parse.unquote(m.group(1))
			cid = urllib.parse.unquote(m.group(3)) if m.group(3) else None
			kind = "result" if m.group(4) else m.group(2)
			want = "GET" if kind == "commands" else "POST"
		entry["path_kind"] = kind
		entry["device"] = dev
		if p.down:
			with p.cond:
				p.counters["down_refused"] += 1
			raise Close("down", rst=p.down == "rst")

		# the body (a GET has none unless it says so)
		te = (self.headers.get("Transfer-Encoding") or "").lower()
		cl = self.headers.get("Content-Length")
		limit = p.config["max_body_bytes"]
		try:
			length = int(cl) if cl is not None else None
			if length is not None and length < 0:
				raise ValueError
		except ValueError:
			self.close_connection = True
			return 400, {"error": "bad Content-Length"}, ()
		if length is not None and length > limit:
			self.close_connection = True	# the body is not read
			return 413, {"error": "body of %d bytes: at most %d" % (length,
			    limit)}, ()
		info = {"path": kind, "device": dev, "stream": None, "seqs": None}
		pick_state = {}
		fault = None
		body = b""
		if length or "chunked" in te:
			self.send_continue()
		if kind == "records" and length and length > 1 and \
		    "chunked" not in te:
			head = self.read_exact(length // 2)
			info["stream"] = sniff_stream(head)
			fault = p.pick_fault(info, pick_state)
			if fault and fault["kind"] == "reset" and \
			    not fault.get("process"):
				entry["fault"] = "reset"
				entry["stream"] = info["stream"]
				p.count_fault(fault)
				entry["outcome"] = "reset after %d of %d body bytes" % (
				    len(head), length)
				raise Close(entry["outcome"], rst=True)
			body = head + self.read_exact(length - len(head))
		elif "chunked" in te:
			body = self.read_chunked(limit)
		elif length:
			body = self.read_exact(length)
		entry["bytes"] = len(body)
		if kind != "records":
			info["full"] = True
		if fault is None:
			fault = p.pick_fault(info, pick_state)

		def late_pick(more):
			info.update(more)
			return p.pick_fault(info, pick_state)

		if fault is not None:
			r = self.pre_fault(fault, entry)
			if r is not None:
				return r

		if not m:
			return 404, {"error": "no such path: %s" % url.path}, ()
		if self.command != want:
			return 405, {"error": "%s %s: use %s" % (self.command, kind,
			    want)}, (("Allow", want),)
		query = urllib.parse.parse_qs(url.query)
		try:
			if dev not in p.devices:
				raise BadRequest(403, "unknown device %r" % dev)
			if kind != "bundles":
				self.check_device(dev, body)
			if kind == "bundles":
				# posted by an inspector's tool, not the gateway: the
				# client certificate let it in; the bundle's own
				# signatures say whose records they are
				status, reply = p.handle_bundle(dev, self.headers, body,
				    entry)
			elif kind == "records":
				r = p.handle_records(dev, self.headers, body, entry, fault,
				    late_pick)
				if r[0] == "FAULT":
					fault = r[1]
					rr = self.pre_fault(fault, entry)
					if rr is not None:
						return rr
					r = p.handle_records(dev, self.headers, body, entry, fault,
					    lambda more: None)
				status, reply = r
			elif kind == "commands":
				status, reply = p.handle_poll(dev, query, entry)
			else:
				status, reply = p.handle_result(dev, cid, self.headers, body,
				    entry)
		except BadRequest as e:
			status = e.status
			reply = {"error": e.text}
			for k in ("rejected", "problems"):
				if k in e.extra:
					reply[k] = e.extra[k]
			entry["error"] = e.text
			if e.extra.get("stream") and not entry.get("stream"):
				entry["stream"] = e.extra["stream"]
		entry["status"] = status
		if kind == "records" and status == 200:
			entry["acked_through"] = reply["acked_through"]
		if fault is not None and fault.get("_pre_done") is None:
			return self.post_fault(fault, status, reply, entry)
		return status, reply, ()

	def check_device(self, dev, body):
		"""The gateway's own requests: X-Fleetgw-Device and the
		signature over the body (BadRequest 401/403)."""
		hdev = self.headers.get("X-Fleetgw-Device")
		if hdev is None:
			raise BadRequest(401, "X-Fleetgw-Device missing")
		if hdev != dev:
			raise BadRequest(403, "X-Fleetgw-Device %r is not the device "
			    "of the URL (%s)" % (hdev, dev))
		self.platform.check_signature(dev, self.headers.get(
		    "X-Fleetgw-Signature"), body)

	def pre_fault(self, f, entry):
		"""A fault that acts before processing: its reply, or Close; None
		when the request is processed first."""
		k = f["kind"]
		process = f.get("process", k in PROCESSING)
		entry["fault"] = k
		entry["fault_source"] = f.get("source")
		entry["fault_spec"] = f
		self.platform.count_fault(f)
		if process:
			return None
		f["_pre_done"] = True
		if k == "reset":
			entry["outcome"] = "reset after the body"
			raise Close(entry["outcome"], rst=True)
		if k == "down":
			raise Close("closed (down)", rst=False)
		if k == "hang":
			self.hang(f.get("hold_s", HOLD_DEFAULT_S), entry)
		status, reply, headers = self.fault_reply(f)
		entry["status"] = status
		return status, reply, headers

	def fault_reply(self, f):
		k = f["kind"]
		if k in STATUS_FAULTS:
			status = int(k)
			headers = []
			if k in ("503", "429"):
				ra = f.get("retry_after", 2)
				if isinstance(ra, str):
					v = ra
				elif f.get("date"):
					v = email.utils.formatdate(time.time() + ra, usegmt=True)
				else:
					v = "%d" % ra
				headers.append(("Retry-After", v))
			return status, {"error": f.get("error", "injected fault: %s" %
			    http.HTTPStatus(status).phrase)}, headers
		# a processing kind with process=false: reply without storing
		return 500, {"error": "injected fault: %s (not processed)" % k}, ()

	def post_fault(self, f, status, reply, entry):
		k = f["kind"]
		if k == "ack_lost":
			entry["outcome"] = "ack lost: processed (%s), reset instead of "\
			    "the reply" % status
			raise Close(entry["outcome"], rst=True)
		if k == "reset":
			entry["outcome"] = "processed (%s), then reset" % status
			raise Close(entry["outcome"], rst=True)
		if k == "down":
			raise Close("processed (%s), then closed" % status)
		if k == "hang":
			self.hang(f.get("hold_s", HOLD_DEFAULT_S), entry)
		if k in STATUS_FAULTS:
			st, rep, headers = self.fault_reply(f)
			entry["status"] = st
			entry["outcome"] = "processed (%s), replied %s" % (status, st)
			return st, rep, headers
		if status != 200:
			return status, reply, ()
		if k == "malformed" and entry.get("path_kind") != "records":
			v = f.get("variant", "not_json")
			entry["outcome"] = "malformed reply (%s)" % v
			body = jdump(reply).encode()
			body = {"not_json": b"commands: none (this is not JSON)",
			    "truncated": body[:-3], "html": b"<html>502</html>"}.get(v,
			    b'{"ok": true}')
			return 200, self.build(200, body=body), ()
		if entry.get("path_kind") != "records":
			return status, reply, ()
		if k == "partial_ack":
			n = entry.get("n_records") or 0
			low = f.get("acked_through")
			if low is None:
				first = entry.get("first_seq") or 1
				low = max(0, first - 1 + n // 2)
			truth = reply["acked_through"]
			reply = dict(reply, acked_through=min(low, truth))
			entry["acked_through"] = reply["acked_through"]
			entry["outcome"] = "partial ack %d (true %d)" % (
			    reply["acked_through"], truth)
		elif k == "holds":
			reply = dict(reply, holds=f["holds"])
			entry["holds"] = f["holds"]
			entry["outcome"] = "holds forced: %s" % jdump(f["holds"])
		elif k == "over_ack":
			last = entry.get("last_seq") or 0
			reply = dict(reply, acked_through=last + f.get("by", 10))
			entry["acked_through"] = reply["acked_through"]
		elif k == "malformed":
			v = f.get("variant", "not_json")
			entry["outcome"] = "malformed reply (%s)" % v
			if v == "not_json":
				body = b"acked_through=%d (this is not JSON)" % \
				    reply["acked_through"]
			elif v == "truncated":
				body = jdump(reply).encode()[:-7]
			elif v == "html":
				body = b"<html><body><h1>502 Bad Gateway</h1></body></html>"
			elif v == "wrong_shape":
				body = b'{"ok": true}'
			elif v == "wrong_stream":
				other = "positions" if reply["stream"] == "events" else \
				    "events"
				body = jdump(dict(reply, stream=other)).encode()
			else:	# ack_string
				body = jdump(dict(reply, acked_through=str(
				    reply["acked_through"]))).encode()
			return 200, self.build(200, body=body), ()
		return status, reply, ()


class DeviceServer(ThreadingHTTPServer):
	"""Accepts in the serving thread, does the TLS handshake in the
	request's own thread (a slow or failing handshake blocks nobody)."""
	daemon_threads = True
	block_on_close = False
	allow_reuse_address = True
	request_queue_size = 128

	def finish_request(self, sock, addr):
		p = self.platform
		if p.down:
			with p.cond:
				p.counters["down_refused"] += 1
			if p.down == "rst":
				try:
					sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
					    struct.pack("ii", 1, 0))
				except OSError:
					pass
			sock.close()
			return
		with p.cond:
			ctx = p.ctx[p.tls]
		try:
			sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
		except OSError:
			pass
		sock.settimeout(p.config["handshake_timeout_s"])
		try:
			tls = ctx.wrap_socket(sock, server_side=True)
		except (ssl.SSLError, OSError) as e:
			p.tls_failure(addr, str(e))
			sock.close()
			return
		try:
			self.RequestHandlerClass(tls, addr, self)
		finally:
			try:
				tls.close()
			except OSError:
				pass

	def shutdown_request(self, request):
		try:
			request.close()
		except OSError:
			pass

	def handle_error(self, request, client_address):
		log("error serving %s:\n%s", client_address, traceback.format_exc())

	@staticmethod
	def peer_cn(tls):
		try:
			for rdn in tls.getpeercert().get("subject", ()):
				for k, v in rdn:
					if k == "commonName":
						return v
		except (ValueError, AttributeError):
			pass
		return None


# ---------------------------------------------------------------------------
# the control API (plain HTTP on 127.0.0.1)


class ControlHandler(BaseHTTPRequestHandler):
	protocol_version = "HTTP/1.1"
	server_version = "fakeplatform-control/1"
	sys_version = ""

	def log_message(self, fmt, *args):
		if log_verbose:
			log("control %s", fmt % args)

	def reply(self, status, obj=None, raw=None):
		body = raw if raw is not None else jdump(obj).encode()
		self.send_response(status)
		self.send_header("Content-Type", "application/json")
		self.send_header("Content-Length", str(len(body)))
		self.end_headers()
		self.wfile.write(body)

	def body(self):
		n = int(self.headers.get("Content-Length") or 0)
		if not n:
			return {}
		return json.loads(self.rfile.read(n))

	def do_GET(self):
		self.route("GET")

	def do_POST(self):
		self.route("POST")

	def route(self, method):
		p = self.server.platform
		url = urllib.parse.urlsplit(self.path)
		q = urllib.parse.parse_qs(url.query)
		path = url.path.rstrip("/") or "/"
		try:
			if method == "POST":
				spec = self.body()
			if (method, path) == ("GET", "/state"):
				return self.reply(200, p.state())
			if (method, path) == ("GET", "/records"):
				return self.records(p, q)
			if (method, path) == ("GET", "/requests"):
				since = int(q.get("since", ["0"])[0])
				limit = int(q.get("limit", ["100000"])[0])
				with p.cond:
					reqs = p.requests[since:since + limit]
					return self.reply(200, {"requests": reqs,
					    "next": since + len(reqs), "total": len(p.requests)})
			if (method, path) == ("GET", "/bundles"):
				with p.cond:
					return self.reply(200, {"bundles": p.store.bundles(
					    q.get("device", [None])[0],
					    int(q.get("since", ["0"])[0]))})
			if (method, path) == ("POST", "/faults"):
				return self.reply(200, p.set_faults(spec))
			if (method, path) == ("GET", "/faults"):
				return self.reply(200, p.fault_state())
			if (method, path) == ("POST", "/commands"):
				return self.reply(200, p.queue_command(spec))
			if (method, path) == ("GET", "/commands"):
				with p.cond:
					return self.reply(200, {"commands": p.store.commands(
					    q.get("device", [None])[0])})
			if (method, path) == ("GET", "/results"):
				with p.cond:
					return self.reply(200, {"results": p.store.commands(
					    q.get("device", [None])[0], with_result=True)})
			if (method, path) == ("POST", "/tls"):
				return self.reply(200, p.set_tls(spec.get("cert")))
			if (method, path) == ("POST", "/reset"):
				return self.reply(200, p.reset())
			if (method, path) == ("GET", "/wait"):
				return self.reply(200, p.wait(q))
			if (method, path) == ("POST", "/config"):
				return self.reply(200, p.set_config(spec))
			if (method, path) == ("GET", "/config"):
				return self.reply(200, dict(p.config))
			if (method, path) == ("POST", "/devices"):
				dev = spec.get("id")
				if not isinstance(dev, str) or not dev:
					raise ValueError("devices: id needed")
				if spec.get("pubkey"):
					p.add_device(dev, pem=spec["pubkey"])
				elif spec.get("path"):
					p.add_device(dev, path=spec["path"])
				else:
					raise ValueError("devices: pubkey (PEM text) or path")
				return self.reply(200, {"id": dev})
			if (method, path) == ("GET", "/devices"):
				return self.reply(200, {"devices": {d: v["pem"] for d, v in
				    p.devices.items()}})
			return self.reply(404, {"error": "no such control endpoint: %s %s"
			    % (method, path)})
		except (ValueError, KeyError, TypeError) as e:
			return self.reply(400, {"error": str(e)})

	def records(self, p, q):
		dev = q.get("device", [p.default_device()])[0]
		stream = q.get("stream", [None])[0]
		if stream not in STREAMS:
			raise ValueError("records: stream=events|positions")
		lo = int(q.get("from_seq", ["1"])[0])
		hi = int(q.get("to_seq", [str(2 ** 62)])[0])
		limit = int(q.get("limit", [str(2 ** 62)])[0])
		with p.cond:
			texts = p.store.records_text(dev, stream, lo, hi, limit)
			st = p.store.stream_state(dev, stream)
			conflicts = [{"seq": s, "record": json.loads(r)} for s, r in
			    p.store.db.execute("SELECT seq, record FROM conflicts WHERE "
			    "device=? AND stream=? AND seq BETWEEN ? AND ? ORDER BY seq",
			    (dev, stream, lo, hi))]
		head = {"device": dev, "stream": stream,
		    "acked_through": st["acked_through"], "settled": st["settled"],
		    "conflicts": conflicts}
		raw = ('{"records":[' + ",".join(texts) + "]," +
		    jdump(head)[1:]).encode()
		self.reply(200, raw=raw)


class ControlServer(ThreadingHTTPServer):
	daemon_threads = True
	block_on_close = False
	allow_reuse_address = True


# ---------------------------------------------------------------------------


def main(argv=None):
	global log_verbose
	ap = argparse.ArgumentParser(prog="fakeplatform.py",
	    description="The supervision platform of docs/platform-api.md, for "
	    "tests (tests/platform/README.md).")
	ap.add_argument("--dir", required=True, help="state directory (SQLite)")
	ap.add_argument("--pki", required=True, help="what mkpki.sh made")
	ap.add_argument("--host", default="127.0.0.1", help="HTTPS address")
	ap.add_argument("--port", type=int, default=0, help="HTTPS port (0: any)")
	ap.add_argument("--control-port", type=int, default=0,
	    help="control API port on 127.0.0.1 (0: any)")
	ap.add_argument("--device", action="append", default=[],
	    metavar="ID=PUBKEY.pem", help="a device and its Ed25519 public key")
	ap.add_argument("--verify", choices=("python", "openssl"),
	    default="python", help="signature check: pure Python (default) or "
	    "one openssl process per request")
	ap.add_argument("--redeliver-s", type=float,
	    default=DEFAULTS["redeliver_s"], help="deliver an unanswered "
	    "command again after this long (default %(default)s)")
	ap.add_argument("--exit-on-stdin-eof", action="store_true",
	    help="stop when stdin reaches end of file (platformctl passes a "
	    "pipe: the platform ends with the test process that started it, "
	    "even after a kill -9)")
	ap.add_argument("-v", "--verbose", action="store_true")
	a = ap.parse_args(argv)
	log_verbose = a.verbose
	os.makedirs(a.dir, exist_ok=True)

	stop = threading.Event()

	def on_signal(signum, frame):
		stop.set()
	signal.signal(signal.SIGTERM, on_signal)
	signal.signal(signal.SIGINT, on_signal)

	p = Platform(a)
	dev_srv = DeviceServer((a.host, a.port), DeviceHandler)
	dev_srv.platform = p
	ctl_srv = ControlServer(("127.0.0.1", a.control_port), ControlHandler)
	ctl_srv.platform = p
	p.https_port = dev_srv.server_address[1]
	p.control_port = ctl_srv.server_address[1]
	threads = [threading.Thread(target=s.serve_forever, kwargs={
	    "poll_interval": 0.2}, daemon=True) for s in (dev_srv, ctl_srv)]
	for t in threads:
		t.start()
	if a.exit_on_stdin_eof:
		def watch_stdin():
			try:
				while os.read(0, 4096):
					pass
			except OSError:
				pass
			log("stdin closed: the process that started me is gone")
			stop.set()
		threading.Thread(target=watch_stdin, daemon=True).start()
	log("https://%s:%d (devices: %s), control http://127.0.0.1:%d, state %s, "
	    "signatures checked by %s", a.host, p.https_port,
	    ", ".join(p.devices) or "none", p.control_port, p.dir, a.verify)
	sys.stdout.write(jdump({"https_port": p.https_port,
	    "control_port": p.control_port, "pid": os.getpid(),
	    "dir": p.dir, "pki": p.pki}) + "\n")
	sys.stdout.flush()
	while not stop.wait(1.0):
		pass
	log("stopping")
	p.stopping.set()
	p.notify()
	for s in (dev_srv, ctl_srv):
		s.shutdown()
		s.server_close()
	with p.cond:
		for c in list(p.conns.values()):
			try:
				socket.socket.shutdown(c.sock, socket.SHUT_RDWR)
			except OSError:
				pass
		p.store.close()
	return 0


if __name__ == "__main__":
	sys.exit(main())

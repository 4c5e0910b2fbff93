#!/usr/bin/python3
"""bundlecheck - verify a fleetgw export bundle (docs/bundle.md), apart
from the C code that writes and verifies it.

    bundlecheck.py FILE --pubkey PEM [--device ID] [--json]

prints OK with the device, each stream's seq range, record count and time
span and the checkpoints checked, exit 0; or every problem found, one a
line, exit 1 (2: usage, or FILE or PEM cannot be read).  A gzip file is
read as its content.

As a module (the fake platform's bundles endpoint, tests):

    r = bundlecheck.check(data, pubkey, device=None)
    r.ok, r.problems ([Problem(kind, text)]), r.fatal (the problems other
    than records not covered by a checkpoint), r.device, r.streams,
    r.records ([Record(stream, seq, text, obj, h)]), r.proven(stream)

pubkey: the 32 raw bytes of the Ed25519 key (edverify.load_public_key_pem)
or None (then nothing is proven and "no trusted key" is a problem).
device: the id the bundle must be of (the platform's URL), or None.

Written from docs/bundle.md alone: links h_i = SHA-256(h_{i-1} || seq as
8 bytes big-endian || the record's bytes) from the header's anchor; each
record checked against its own stored link (so an edit is named at its
seq), the stored links against the heads of the checkpoints signed with
the trusted key (so links rewritten to fit an edit are caught), seqs
dense from first to last, the end line's count, checksum and signature.
Standard library only (plus edverify.py beside it).
"""

import argparse
import base64
import gzip
import hashlib
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import edverify  # noqa: E402

FORMAT = "fleetgw-bundle"
VERSION = 1
STREAMS = ("events", "positions")
ZERO = bytes(32)
HEX64 = re.compile(r"^[0-9a-fA-F]{64}$")

# Problem kinds (docs/bundle.md §3).  UNCOVERED is the only one that does
# not mean damage: records newer than the newest signed head (a --db
# export after a power cut); the platform takes the rest of such a bundle.
MALFORMED = "malformed"
EDITED = "edited"
REORDERED = "reordered"
DUPLICATED = "duplicated"
MISSING = "missing"
UNLINKED = "unlinked"
REWRITTEN = "rewritten"
BAD_SIGNATURE = "bad_signature"
DIFFERENT_DEVICE = "different_device"
UNCOVERED = "uncovered"
CUT_SHORT = "cut_short"
ALTERED = "altered"
NO_KEY = "no_trusted_key"


class Problem:
	def __init__(self, kind, text):
		self.kind = kind
		self.text = text

	def __repr__(self):
		return "Problem(%r, %r)" % (self.kind, self.text)

	def json(self):
		return {"kind": self.kind, "text": self.text}


class Record:
	"""One record line: text is the canonical bytes as a str, obj the
	parsed record (None when it does not parse), h the stored link (32
	bytes or None)."""
	__slots__ = ("stream", "seq", "text", "obj", "h", "line")

	def __init__(self, stream, seq, text, obj, h, line):
		self.stream = stream
		self.seq = seq
		self.text = text
		self.obj = obj
		self.h = h
		self.line = line


def link(prev, seq, data):
	"""h_i = SHA-256(h_{i-1} || seq as 8 bytes big-endian || bytes)."""
	return hashlib.sha256(prev + seq.to_bytes(8, "big") + data).digest()


def is_int(v):
	return isinstance(v, int) and not isinstance(v, bool)


def unhex(v):
	if isinstance(v, str) and HEX64.match(v):
		return bytes.fromhex(v)
	return None


def b64sig(v):
	if not isinstance(v, str):
		return None
	try:
		s = base64.b64decode(v, validate=True)
	except ValueError:
		return None
	return s if len(s) == 64 else None


def seqs_text(stream, a, b):
	if a == b:
		return "%s record %d" % (stream, a)
	return "%s records %d..%d" % (stream, a, b)


class Report:
	def __init__(self):
		self.problems = []
		self.header = None
		self.device = None
		self.streams = {s: {"first": 0, "last": 0, "records": 0,
		    "from": None, "to": None, "proven_through": 0} for s in STREAMS}
		self.records = []
		self.checkpoints = []	# {"index", "time", "reason", "valid", ...}
		self.end = None

	def add(self, kind, text):
		self.problems.append(Problem(kind, text))

	@property
	def ok(self):
		return not self.problems

	@property
	def fatal(self):
		return [p for p in self.problems if p.kind != UNCOVERED]

	def proven(self, stream):
		"""Records of stream with seq <= this are proven by a signed
		checkpoint (meaningful only without fatal problems)."""
		return self.streams[stream]["proven_through"]

	def summary(self):
		parts = []
		for s in STREAMS:
			st = self.streams[s]
			if st["records"]:
				parts.append("%s %d..%d (%d records, %s .. %s)" % (s,
				    st["first"], st["last"], st["records"], st["from"],
				    st["to"]))
			else:
				parts.append("%s none" % s)
		n = sum(1 for c in self.checkpoints if c["valid"])
		return "%s: %s; %d checkpoint%s checked" % (self.device, ", ".join(
		    parts), n, "" if n == 1 else "s")

	def json(self):
		return {"ok": self.ok, "device": self.device,
		    "streams": self.streams,
		    "checkpoints": sum(1 for c in self.checkpoints if c["valid"]),
		    "problems": [p.json() for p in self.problems]}


def _parse_checkpoint_body(body):
	"""The parsed checkpoint text, or a reason string."""
	try:
		o = json.loads(body)
	except ValueError as e:
		return "not JSON (%s)" % e
	if not isinstance(o, dict) or o.get("kind") != "checkpoint":
		return "not a checkpoint"
	if not isinstance(o.get("device"), str):
		return "device: not a string"
	if not isinstance(o.get("time"), str):
		return "time: not a string"
	heads = {}
	for s in STREAMS:
		v = o.get(s)
		if not isinstance(v, dict) or not is_int(v.get("seq")) or \
		    v["seq"] < 0 or unhex(v.get("head")) is None:
			return "%s: not {\"seq\", \"head\"}" % s
		heads[s] = (v["seq"], unhex(v["head"]))
	o["_heads"] = heads
	return o


def check(data, pubkey, device=None):
	"""Verify the bundle bytes data; a Report."""
	r = Report()
	if data[:2] == b"\x1f\x8b":
		try:
			data = gzip.decompress(data)
		except (OSError, EOFError) as e:
			r.add(CUT_SHORT, "cut short (gzip: %s)" % e)
			return r
	if pubkey is None:
		r.add(NO_KEY, "no trusted key: nothing in the bundle is proven")
	lines = data.split(b"\n")
	cut = lines[-1] != b""
	if not cut:
		lines.pop()
	offsets = []
	off = 0
	for ln in lines:
		offsets.append(off)
		off += len(ln) + 1

	def parse(i):
		try:
			return json.loads(lines[i].decode("utf-8"))
		except (ValueError, UnicodeDecodeError) as e:
			return e

	if not lines or (len(lines) == 1 and cut and not lines[0]):
		r.add(CUT_SHORT, "cut short (empty file)")
		return r
	# header
	h = parse(0)
	if isinstance(h, Exception) or not isinstance(h, dict):
		if cut and len(lines) == 1:
			r.add(CUT_SHORT, "cut short (in the header)")
		else:
			r.add(MALFORMED, "line 1: the header is not a JSON object")
		return r
	if h.get("format") != FORMAT or h.get("version") != VERSION:
		r.add(MALFORMED, "line 1: not a %s version %d (format %r, version "
		    "%r)" % (FORMAT, VERSION, h.get("format"), h.get("version")))
		return r
	r.header = h
	dev = h.get("device")
	dev_id = dev.get("id") if isinstance(dev, dict) else None
	if not isinstance(dev_id, str) or not dev_id:
		r.add(MALFORMED, "line 1: device.id missing")
		return r
	r.device = dev_id
	if device is not None and dev_id != device:
		r.add(DIFFERENT_DEVICE, "different device: the bundle is %s's, not "
		    "%s's" % (dev_id, device))
	hs = h.get("streams")
	chain = {}
	for s in STREAMS:
		v = hs.get(s) if isinstance(hs, dict) else None
		if not isinstance(v, dict) or not is_int(v.get("first")) or \
		    not is_int(v.get("last")) or unhex(v.get("anchor")) is None or \
		    v["first"] < 0 or v["last"] < v["first"] or \
		    (v["first"] == 0) != (v["last"] == 0):
			r.add(MALFORMED, "line 1: streams.%s: not {\"first\", \"last\", "
			    "\"anchor\"} with 1 <= first <= last (or both 0)" % s)
			return r
		first, last = v["first"], v["last"]
		anchor = unhex(v["anchor"])
		if first == 1 and anchor != ZERO:
			r.add(MALFORMED, "line 1: streams.%s.anchor: not the zero link "
			    "before seq 1" % s)
		r.streams[s]["first"] = first
		r.streams[s]["last"] = last
		# links[seq]: the stored link (checked or not); anchor at first-1
		chain[s] = {"first": first, "last": last, "expect": first or 1,
		    "prev": anchor, "links": {max(first - 1, 0): anchor},
		    "count": 0}

	# the other lines
	phase = 0	# 0 checkpoints, 1 records, 2 after the end line
	cur_stream = 0
	end_at = None
	valid_cps = []
	lines_of = {s: [] for s in STREAMS}	# (seq, line number, object)
	top = {s: 0 for s in STREAMS}		# highest seq seen so far
	seen = {s: set() for s in STREAMS}
	for i in range(1, len(lines)):
		n = i + 1
		if cut and i == len(lines) - 1:
			r.add(CUT_SHORT, "cut short (line %d is incomplete, no end "
			    "line)" % n)
			break
		o = parse(i)
		if isinstance(o, Exception) or not isinstance(o, dict):
			r.add(MALFORMED, "line %d: not a JSON object" % n)
			continue
		if phase == 2:
			r.add(ALTERED, "line %d: after the end line (altered)" % n)
			continue
		if "end" in o:
			end_at = i
			r.end = o["end"]
			phase = 2
			continue
		if "checkpoint" in o:
			if phase != 0:
				r.add(MALFORMED, "line %d: a checkpoint among the records" % n)
			_check_checkpoint(r, o, n, pubkey, dev_id, valid_cps)
			continue
		if "stream" in o:
			phase = 1
			s = o.get("stream")
			if s not in STREAMS:
				r.add(MALFORMED, "line %d: stream %r unknown" % (n, s))
				continue
			seq = o.get("seq")
			if not is_int(seq) or seq < 1:
				r.add(MALFORMED, "line %d: a %s record line without an "
				    "integer seq" % (n, s))
				continue
			si = STREAMS.index(s)
			if seq in seen[s]:
				r.add(DUPLICATED, "%s record %d: duplicated" % (s, seq))
				continue
			if si < cur_stream:
				r.add(REORDERED, "%s record %d: reordered (after the %s "
				    "records)" % (s, seq, STREAMS[cur_stream]))
			elif seq < top[s]:
				r.add(REORDERED, "%s record %d: reordered (after seq %d)" %
				    (s, seq, top[s]))
			cur_stream = max(cur_stream, si)
			top[s] = max(top[s], seq)
			seen[s].add(seq)
			lines_of[s].append((seq, n, o))
			continue
		r.add(MALFORMED, "line %d: not a known line (header, checkpoint, "
		    "record or end)" % n)

	if end_at is None and not cut:
		r.add(CUT_SHORT, "cut short (no end line)")
	# the chains, in seq order (a reordering is said above)
	for s in STREAMS:
		for seq, n, o in sorted(lines_of[s], key=lambda x: x[0]):
			_check_record(r, chain[s], s, o, n)
	for s in STREAMS:
		c = chain[s]
		if c["last"] and c["expect"] <= c["last"]:
			r.add(MISSING, "%s: missing" % seqs_text(s, c["expect"],
			    c["last"]))
		r.streams[s]["records"] = c["count"]

	# checkpoints against the stored links
	for s in STREAMS:
		c = chain[s]
		lo = max(c["first"] - 1, 0)
		good = 0
		from_seq = c["first"]
		for cp in sorted(valid_cps, key=lambda x: x["heads"][s][0]):
			seq, head = cp["heads"][s]
			if not c["first"] or seq < lo or seq > c["last"]:
				continue
			have = c["links"].get(seq)
			if have is None:
				continue	# a missing or unlinked record: said above
			if have != head:
				r.add(REWRITTEN, "%s: do not match the checkpoint signed "
				    "at seq %d (%s)" % (seqs_text(s, from_seq, seq), seq,
				    cp["time"]))
				continue
			if seq > good:
				good = seq
				from_seq = seq + 1
		r.streams[s]["proven_through"] = good if pubkey is not None else 0
		top = c["expect"] - 1
		if c["count"] and top > good and pubkey is not None:
			r.add(UNCOVERED, "%s: not covered by a signed checkpoint" %
			    seqs_text(s, max(good + 1, c["first"]), top))

	if end_at is not None:
		_check_end(r, data[:offsets[end_at]], end_at, pubkey)
	r.checkpoints.sort(key=lambda x: x["index"])
	return r


def _check_checkpoint(r, o, n, pubkey, dev_id, valid_cps):
	k = len(r.checkpoints) + 1
	body = o.get("checkpoint")
	cp = {"index": k, "line": n, "time": None, "reason": None,
	    "valid": False}
	r.checkpoints.append(cp)
	if not isinstance(body, str):
		r.add(MALFORMED, "checkpoint %d (line %d): malformed (checkpoint is "
		    "not a string)" % (k, n))
		return
	p = _parse_checkpoint_body(body)
	if isinstance(p, str):
		r.add(MALFORMED, "checkpoint %d (line %d): malformed (%s)" % (k, n,
		    p))
		return
	cp.update(time=p["time"], reason=p.get("reason"), heads=p["_heads"],
	    device=p["device"])
	what = "checkpoint %d (%s)" % (k, p["time"])
	if p["device"] != dev_id:
		r.add(DIFFERENT_DEVICE, "%s: different device (%s, the bundle is "
		    "%s's)" % (what, p["device"], dev_id))
		return
	sig = b64sig(o.get("sig"))
	if sig is None:
		r.add(BAD_SIGNATURE, "%s: bad signature (not the base64 of 64 "
		    "bytes)" % what)
		return
	if pubkey is None:
		return
	if not edverify.verify(pubkey, body.encode("utf-8"), sig):
		r.add(BAD_SIGNATURE, "%s: bad signature (not made by the trusted "
		    "key)" % what)
		return
	cp["valid"] = True
	valid_cps.append(cp)


def _check_record(r, c, s, o, n):
	seq = o["seq"]
	text = o.get("record")
	hv = o.get("h")
	if not isinstance(text, str) or (hv is not None and unhex(hv) is None):
		r.add(MALFORMED, "line %d: %s record %d: not a record string and h "
		    "(64 hex digits or null)" % (n, s, seq))
		return
	if not c["last"] or seq > c["last"] or seq < c["first"]:
		r.add(MALFORMED, "%s record %d: outside the header's range %d..%d"
		    % (s, seq, c["first"], c["last"]))
		return
	if seq > c["expect"]:
		r.add(MISSING, "%s: missing" % seqs_text(s, c["expect"], seq - 1))
		c["prev"] = None	# the predecessor's link is not in the bundle
	c["expect"] = seq + 1
	c["count"] += 1
	raw = text.encode("utf-8")
	try:
		obj = json.loads(text)
	except ValueError:
		obj = None
	if not isinstance(obj, dict):
		r.add(MALFORMED, "%s record %d: its record is not a JSON object" %
		    (s, seq))
		obj = None
	elif obj.get("seq") != seq:
		r.add(MALFORMED, "%s record %d: its record says seq %r" % (s, seq,
		    obj.get("seq")))
	stored = unhex(hv) if hv is not None else None
	computed = link(c["prev"], seq, raw) if c["prev"] is not None else None
	if stored is None:
		r.add(UNLINKED, "%s record %d: unlinked (no stored link)" % (s, seq))
		stored = computed
	elif computed is not None and computed != stored:
		r.add(EDITED, "%s record %d: edited (its content does not match "
		    "its link)" % (s, seq))
	c["links"][seq] = stored
	c["prev"] = stored
	r.records.append(Record(s, seq, text, obj, stored, n))
	t = obj.get("time") if obj is not None else None
	if isinstance(t, str):
		st = r.streams[s]
		if st["from"] is None or t < st["from"]:
			st["from"] = t
		if st["to"] is None or t > st["to"]:
			st["to"] = t


def _check_end(r, before, end_at, pubkey):
	e = r.end
	if not isinstance(e, dict):
		r.add(MALFORMED, "line %d: the end line is not {\"end\": {...}}" %
		    (end_at + 1))
		return
	if e.get("lines") != end_at:
		r.add(ALTERED, "altered: %d lines before the end line, it says %r" %
		    (end_at, e.get("lines")))
	counts = e.get("records")
	for s in STREAMS:
		have = r.streams[s]["records"]
		said = counts.get(s) if isinstance(counts, dict) else None
		if said != have:
			r.add(ALTERED, "altered: %d %s record lines, the end line says "
			    "%r" % (have, s, said))
	digest = hashlib.sha256(before).digest()
	if e.get("sha256") != digest.hex():
		r.add(ALTERED, "altered: the checksum of the lines before the end "
		    "line does not match")
		return
	sv = e.get("sig")
	if sv is None:
		return
	sig = b64sig(sv)
	if sig is None:
		r.add(BAD_SIGNATURE, "end line: bad signature (not the base64 of 64 "
		    "bytes)")
	elif pubkey is not None and not edverify.verify(pubkey, digest, sig):
		r.add(BAD_SIGNATURE, "end line: bad signature (not made by the "
		    "trusted key)")


def main(argv=None):
	ap = argparse.ArgumentParser(prog="bundlecheck.py",
	    description="Verify a fleetgw export bundle (docs/bundle.md).")
	ap.add_argument("file")
	ap.add_argument("--pubkey", required=True, help="the gateway's public "
	    "key (PEM, as fleetgwctl pubkey prints it)")
	ap.add_argument("--device", help="the device the bundle must be of")
	ap.add_argument("--json", action="store_true")
	try:
		a = ap.parse_args(argv)
	except SystemExit as e:
		return 2 if e.code else 0
	try:
		with open(a.file, "rb") as f:
			data = f.read()
		with open(a.pubkey, encoding="ascii", errors="replace") as f:
			key = edverify.load_public_key_pem(f.read())
	except (OSError, ValueError) as e:
		sys.stderr.write("bundlecheck: %s\n" % e)
		return 2
	r = check(data, key, a.device)
	if a.json:
		json.dump(r.json(), sys.stdout, ensure_ascii=False)
		sys.stdout.write("\n")
	elif r.ok:
		print("OK: " + r.summary())
	else:
		for p in r.problems:
			print(p.text)
	return 0 if r.ok else 1


if __name__ == "__main__":
	sys.exit(main())

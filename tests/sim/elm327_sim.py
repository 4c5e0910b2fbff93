#!/usr/bin/python3
"""elm327_sim - an ELM327 v1.5 OBD-II adapter plugged into a simulated car.

    elm327_sim.py --obd OBD.jsonl (--pty LINK | --tcp HOST:PORT)
                  [--follow-gpsd HOST:PORT | --start ISO [--speed X]]
                  [--fault NAME[=ARG]]... [--stdin-control] [-v]

The car is what tests/sim/nmea_synth.py --obd wrote for a scenario: one
record per second (ignition, rpm, speed, temperatures, fuel, odometer,
DTCs ...).  The adapter answers like an ELM327 v1.5 on an ISO 15765-4 CAN
11-bit 500 kbit/s car (protocol 6) with two ECUs: the engine (7E8) and the
transmission (7E9).  Echo, linefeeds, spaces, headers, ISO-TP multi-frame
answers (VIN, ECU name, many DTCs), "NO DATA" while the ignition is off,
the response-count digit, ATSH/ATCRA, and the faults a gateway must
survive (nodata, silence, garbage, slow, disconnect, searching, noprompt,
truncated, oversize), switchable at run time through stdin.

Scenario time comes from gpsd (--follow-gpsd: the time of the latest TPV,
so the car stays in step with gpsfake at any pace) or from the wall clock
(--start, --speed).  Full description: tests/sim/README.md.  Standard
library only; run with /usr/bin/python3.
"""

import argparse
import datetime as dt
import errno
import heapq
import json
import os
import random
import re
import selectors
import signal
import socket
import sys
import time
import tty

BANNER = "ELM327 v1.5"
DEVICE_DESC = "OBDII to RS232 Interpreter"
PROTO_NAMES = {
	"1": "SAE J1850 PWM", "2": "SAE J1850 VPW", "3": "ISO 9141-2",
	"4": "ISO 14230-4 (KWP 5BAUD)", "5": "ISO 14230-4 (KWP FAST)",
	"6": "ISO 15765-4 (CAN 11/500)", "7": "ISO 15765-4 (CAN 29/500)",
	"8": "ISO 15765-4 (CAN 11/250)", "9": "ISO 15765-4 (CAN 29/250)",
	"A": "SAE J1939 (CAN 29/250)", "B": "USER1 CAN (11* /125)",
	"C": "USER2 CAN (11* /50)",
}
CAR_PROTO = "6"
DEFAULT_ST = 0x32			# ATST: 4 ms units, 200 ms
FUNCTIONAL_ID = 0x7DF
ENGINE_ID, TRANS_ID = 0x7E8, 0x7E9
MAX_CMD = 64				# longer input lines answer '?'

# Mode 01 PIDs each ECU serves (the 20/40/60/80/A0 bitmap PIDs included).
ENGINE_PIDS = {0x01, 0x04, 0x05, 0x0C, 0x0D, 0x0F, 0x10, 0x11, 0x1F, 0x20,
    0x21, 0x2F, 0x31, 0x40, 0x42, 0x46, 0x51, 0x5E, 0x60, 0x80, 0xA0, 0xA6}
TRANS_PIDS = {0x01, 0x0D}
ENGINE_09 = {0x01, 0x02, 0x0A}
TRANS_09 = {0x0A}
ECU_NAMES = {ENGINE_ID: b"ECM\0-EngineControl", TRANS_ID: b"TCM\0-TransmissionCtl"}

FAULTS = ("nodata", "silence", "garbage", "slow", "disconnect", "searching",
    "noprompt", "truncated", "oversize")
FAULT_DEFAULT_ARG = {"slow": "1500", "searching": "2000", "oversize": "20480"}

VERBOSE = False


def log(msg):
	sys.stderr.write("elm327_sim: %s\n" % msg)
	sys.stderr.flush()


def vlog(msg):
	if VERBOSE:
		log(msg)


def say(line):
	"""A line on stdout for the test or person driving the simulator."""
	sys.stdout.write(line + "\n")
	sys.stdout.flush()


class Stop(Exception):
	pass


# ---------------------------------------------------------------- the car

class Car:
	"""The OBD truth: one record per second, looked up by scenario time."""

	def __init__(self, path):
		self.recs = []
		with open(path, encoding="utf-8") as f:
			for n, line in enumerate(f, 1):
				line = line.strip()
				if not line:
					continue
				try:
					r = json.loads(line)
				except ValueError as e:
					raise SystemExit("elm327_sim: %s:%d: %s" % (path, n, e))
				self.recs.append(r)
		if not self.recs:
			raise SystemExit("elm327_sim: %s: no records" % path)
		self.first_s = self.recs[0]["t_utc_ms"] // 1000
		for i, r in enumerate(self.recs):
			if r["t_utc_ms"] // 1000 != self.first_s + i:
				raise SystemExit("elm327_sim: %s: record %d is not one "
				    "second after the previous one" % (path, i + 1))
		off_v = 12.4
		for r in self.recs:
			if not r["ignition"]:
				off_v = r["battery_v"]
				break
		# before the first record (or the first TPV): parked, engine off
		self.before = dict(self.recs[0], ignition=False, state="off",
		    rpm=0.0, speed_kmh=0, load_pct=0.0, throttle_pct=0.0,
		    maf_gps=0.0, fuel_rate_lph=0.0, run_time_s=0, battery_v=off_v)

	def at(self, t_s):
		"""The record of scenario second floor(t_s); None: before."""
		if t_s is None:
			return self.before
		i = int(t_s // 1) - self.first_s
		if i < 0:
			return self.before
		return self.recs[min(i, len(self.recs) - 1)]


class WallClock:
	def __init__(self, start_s, speed):
		self.start_s = start_s
		self.speed = speed
		self.t0 = time.monotonic()

	def now(self):
		return self.start_s + (time.monotonic() - self.t0) * self.speed


def parse_iso(text):
	t = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
	if t.tzinfo is None:
		raise ValueError("%r has no UTC offset" % text)
	return t.timestamp()


# ---------------------------------------------------------------- event loop

class Loop:
	def __init__(self):
		self.sel = selectors.DefaultSelector()
		self.timers = []
		self.seq = 0

	def call_later(self, delay, fn):
		self.seq += 1
		h = [time.monotonic() + max(0.0, delay), self.seq, fn, True]
		heapq.heappush(self.timers, h)
		return h

	@staticmethod
	def cancel(h):
		if h is not None:
			h[3] = False

	def run_once(self, max_wait=1.0):
		now = time.monotonic()
		while self.timers and not self.timers[0][3]:
			heapq.heappop(self.timers)
		wait = max_wait
		if self.timers:
			wait = min(wait, max(0.0, self.timers[0][0] - now))
		for key, mask in self.sel.select(wait):
			key.data(mask)
		now = time.monotonic()
		while self.timers and (not self.timers[0][3] or
		    self.timers[0][0] <= now):
			h = heapq.heappop(self.timers)
			if h[3]:
				h[3] = False
				h[2]()


# ---------------------------------------------------------------- CAN / ISO-TP

def isotp_frames(payload, pad=None):
	"""Frames (PCI + data) of one ISO-TP message; the last consecutive
	frame is padded to 8 bytes with 00 like real ECUs; pad pads every
	frame (single frames too) with that byte."""
	if len(payload) <= 7:
		f = bytes([len(payload)]) + payload
		if pad is not None:
			f = f + bytes([pad]) * (8 - len(f))
		return [f]
	n = len(payload)
	frames = [bytes([0x10 | (n >> 8), n & 0xFF]) + payload[:6]]
	rest = payload[6:]
	seq = 1
	while rest:
		f = bytes([0x20 | (seq & 0x0F)]) + rest[:7]
		rest = rest[7:]
		if len(f) < 8:
			f = f + bytes([0x00 if pad is None else pad]) * (8 - len(f))
		frames.append(f)
		seq += 1
	return frames


def u16(x):
	x = max(0, min(0xFFFF, int(round(x))))
	return bytes([x >> 8, x & 0xFF])


def u8(x):
	return bytes([max(0, min(0xFF, int(round(x))))])


def pct(x):
	return u8(x * 255.0 / 100.0)


def temp(x):
	return u8(x + 40)


def dtc_pair(code):
	a = ("PCBU".index(code[0]) << 6) | (int(code[1]) << 4) | int(code[2], 16)
	return bytes([a, int(code[3:5], 16)])


def bitmap(pids, base):
	v = 0
	for p in pids:
		if base < p <= base + 0x20:
			v |= 1 << (32 - (p - base))
	return v.to_bytes(4, "big")


def pid_data(ecu, pid, r):
	"""Data bytes of mode 01 PID pid from ECU ecu, or None (silent)."""
	pids = ENGINE_PIDS if ecu == ENGINE_ID else TRANS_PIDS
	if pid % 0x20 == 0:
		if pid != 0 and pid not in pids:
			return None
		bm = bitmap(pids, pid)
		return bm if (pid == 0 or any(bm)) else None
	if pid not in pids:
		return None
	if ecu == TRANS_ID:
		if pid == 0x01:
			return bytes([0x00, 0x00, 0x00, 0x00])
		return u8(r["speed_kmh"])
	stored = [d for d in r["dtcs"] if d["mode"] == 3]
	if pid == 0x01:
		return bytes([(0x80 if r["mil"] else 0) | min(0x7F, len(stored)),
		    0x07, 0x65, 0x00])
	if pid == 0x04:
		return pct(r["load_pct"])
	if pid == 0x05:
		return temp(r["coolant_c"])
	if pid == 0x0C:
		return u16(r["rpm"] * 4)
	if pid == 0x0D:
		return u8(r["speed_kmh"])
	if pid == 0x0F:
		return temp(r["intake_c"])
	if pid == 0x10:
		return u16(r["maf_gps"] * 100)
	if pid == 0x11:
		return pct(r["throttle_pct"])
	if pid == 0x1F:
		return u16(r["run_time_s"])
	if pid == 0x21:
		return u16(r.get("dist_mil_km", 0))
	if pid == 0x2F:
		return pct(r["fuel_level_pct"])
	if pid == 0x31:
		return u16(r.get("dist_clear_km", 0))
	if pid == 0x42:
		return u16(r["battery_v"] * 1000)
	if pid == 0x46:
		return temp(r["ambient_c"])
	if pid == 0x51:
		return b"\x01"			# gasoline
	if pid == 0x5E:
		return u16(r["fuel_rate_lph"] * 20)
	if pid == 0xA6:
		v = max(0, int(round(r["odometer_km"] * 10)))
		return v.to_bytes(4, "big")
	return None


def ecu_answer(ecu, req, r):
	"""The payload ECU ecu answers to request bytes req, or None."""
	mode = req[0]
	if mode == 0x01:
		pids = req[1:]
		if not pids or len(pids) > 6:
			return None
		out = b""
		for p in pids:
			d = pid_data(ecu, p, r)
			if d is not None:
				out += bytes([p]) + d
		return (b"\x41" + out) if out else None
	if mode in (0x03, 0x07, 0x0A):
		want = {0x03: 3, 0x07: 7, 0x0A: 10}[mode]
		codes = [d["code"] for d in r["dtcs"] if d["mode"] == want] \
		    if ecu == ENGINE_ID else []
		out = bytes([mode + 0x40, len(codes)])
		for c in codes:
			out += dtc_pair(c)
		return out
	if mode == 0x09 and len(req) == 2:
		pid = req[1]
		served = ENGINE_09 if ecu == ENGINE_ID else TRANS_09
		if pid == 0x00:
			return b"\x49\x00" + bitmap(served, 0)
		if pid not in served:
			return None
		if pid == 0x01:
			return b"\x49\x01\x01"
		if pid == 0x02:
			return b"\x49\x02\x01" + r["vin"].encode("ascii")
		if pid == 0x0A:
			return b"\x49\x0A\x01" + ECU_NAMES[ecu].ljust(20, b"\0")
	if mode == 0x04:
		return b"\x44"
	return None


# ---------------------------------------------------------------- the adapter

class Adapter:
	"""The ELM327: command parser, settings, replies and faults.  Bytes
	come in through feed(); bytes go out through self.send."""

	def __init__(self, loop, car, clock, faults, send, latency_ms=0,
	    can_pad=None, seed=327, time_scale=1.0):
		self.loop = loop
		self.car = car
		self.clock = clock
		self.faults = faults
		self.send = send
		self.latency = latency_ms / 1000.0
		# Scenario seconds per wall second: the NO DATA wait (ATST)
		# shrinks with it, so a replay at 10x keeps the timing the
		# gateway would see at 1x.
		self.time_scale = time_scale
		self.can_pad = can_pad
		self.rng = random.Random(seed)
		self.inq = bytearray()
		self.pending = None		# timer of a delayed reply
		self.interruptible = False
		self.stats = {"commands": 0, "requests": 0, "mode04": 0,
		    "stopped": 0}
		self.proto = "0"		# ATSP: "0" auto, "A6" auto 6 first, "6"
		self.reset()

	def reset(self):
		self.echo = True
		self.lf = False
		self.spaces = True
		self.headers = False
		self.st = DEFAULT_ST
		self.header_id = FUNCTIONAL_ID
		self.cra = None
		self.last = None
		self.found = not self.proto_auto()

	def proto_auto(self):
		return self.proto == "0" or self.proto.startswith("A")

	def eol(self):
		return "\r\n" if self.lf else "\r"

	# ---- input

	def drop_input(self):
		"""A new client: forget a half command and a pending reply."""
		self.inq.clear()
		self.loop.cancel(self.pending)
		self.pending = None

	def feed(self, data):
		for b in data:
			if self.pending is not None and self.interruptible:
				# any byte stops a running request (data sheet p. 89)
				self.loop.cancel(self.pending)
				self.pending = None
				self.stats["stopped"] += 1
				vlog("interrupted by %r" % bytes([b]))
				self.emit("STOPPED" + self.eol() + self.eol() + ">")
				continue
			self.inq.append(b)
		self.process()

	def process(self):
		while self.pending is None:
			i = self.inq.find(b"\r")
			if i < 0:
				if len(self.inq) > 4096:
					del self.inq[:-256]
				return
			raw = bytes(self.inq[:i])
			del self.inq[:i + 1]
			raw = raw.replace(b"\n", b"").replace(b"\0", b"")
			self.command(raw)

	def emit(self, text):
		data = text.encode("latin-1") if isinstance(text, str) else text
		vlog("< %r" % data)
		self.send(data)

	def later(self, delay, fn, interruptible):
		"""Run fn after delay (now if 0); input waits meanwhile."""
		if delay <= 0:
			fn()
			return

		def fire():
			self.pending = None
			fn()
			self.process()
		self.interruptible = interruptible
		self.pending = self.loop.call_later(delay, fire)

	# ---- one command

	def command(self, raw):
		text = raw.decode("latin-1")
		vlog("> %r" % text)
		self.stats["commands"] += 1
		if "silence" in self.faults:
			return
		if "garbage" in self.faults:
			n = self.rng.randint(6, 40)
			junk = bytes(self.rng.choice([b for b in range(256) if b != 0x3E])
			    for _ in range(n))
			self.emit(junk + b">")
			return
		echo = (text + "\r") if self.echo else ""
		norm = "".join(text.split()).upper()
		if norm == "":
			if self.last is None:
				self.emit(echo + ">")
				return
			norm = self.last	# a lone CR repeats the last command
		else:
			self.last = norm
		if echo:
			self.emit(echo)
		if len(norm) > MAX_CMD:
			self.reply(["?"])
		elif norm.startswith("AT"):
			self.at_command(norm[2:])
		else:
			self.obd_request(norm)

	def reply(self, lines, delay=0.0, data=False, head=None):
		"""Send lines, the blank line and the prompt, with the faults."""
		slow = self.faults.get("slow")
		if slow is not None:
			delay += max(0, int(slow)) / 1000.0
		eol = self.eol()

		def out():
			if "oversize" in self.faults:
				size = max(1, int(self.faults["oversize"]))
				unit = "7E8 03 41 0D 00 "
				blob = (unit * (size // len(unit) + 1))[:size]
				self.emit(blob + eol + eol + ">")
				return
			body = "".join(ln + eol for ln in lines) + eol
			if "noprompt" not in self.faults:
				body += ">"
			self.emit(body)
		if head:
			self.emit(head)
		self.later(delay, out, data)

	# ---- AT commands

	def at_command(self, c):
		ok = ["OK"]
		if c in ("Z", "WS"):
			self.reset()
			self.reply(["", "", BANNER], delay=0.05 if c == "Z" else 0.0)
			return
		if c == "D":
			proto = self.proto
			self.reset()
			self.proto = proto
			self.reply(ok)
			return
		if c == "I":
			return self.reply([BANNER])
		if c == "@1":
			return self.reply([DEVICE_DESC])
		if c == "RV":
			r = self.car.at(self.clock.now())
			return self.reply(["%.1fV" % r["battery_v"]])
		if c == "DPN":
			if self.proto_auto():
				return self.reply(["A" + (CAR_PROTO if self.found else "0")])
			return self.reply([self.proto])
		if c == "DP":
			if self.proto_auto():
				return self.reply(["AUTO, " + PROTO_NAMES[CAR_PROTO]]
				    if self.found else ["AUTO"])
			return self.reply([PROTO_NAMES.get(self.proto, "?")])
		m = re.fullmatch(r"([ELSH])([01])", c)
		if m:
			v = m.group(2) == "1"
			if c[0] == "E":
				self.echo = v
			elif c[0] == "L":
				self.lf = v
			elif c[0] == "S":
				self.spaces = v
			else:
				self.headers = v
			return self.reply(ok)
		if re.fullmatch(r"(M|R|V|CAF|CFC|D|KW|IFR)[01]|AT[012]|JE|JS|AL|NL",
		    c):
			return self.reply(ok)		# accepted, no effect here
		m2 = re.fullmatch(r"(SP|TP)(A?)([0-9A-C])", c)
		if m2:
			self.proto = ("A" if m2.group(2) else "") + m2.group(3)
			if self.proto == "A0":
				self.proto = "0"
			self.found = not self.proto_auto()
			return self.reply(ok)
		m2 = re.fullmatch(r"ST([0-9A-F]{2})", c)
		if m2:
			self.st = int(m2.group(1), 16) or DEFAULT_ST
			return self.reply(ok)
		m2 = re.fullmatch(r"SH([0-9A-F]{3}|[0-9A-F]{6}|[0-9A-F]{8})", c)
		if m2:
			h = m2.group(1)
			self.header_id = int(h, 16) if len(h) == 3 else -1
			return self.reply(ok)
		m2 = re.fullmatch(r"CRA([0-9A-FX]{3})?", c)
		if m2:
			self.cra = m2.group(1)
			return self.reply(ok)
		if c == "AR":
			self.cra = None
			return self.reply(ok)
		if re.fullmatch(r"(CF|CM)[0-9A-F]{3}|(FCSH)[0-9A-F]{3}|FCSD[0-9A-F]"
		    r"{2,10}|FCSM[0-2]|TA[0-9A-F]{2}|SR[0-9A-F]{2}|CV[0-9]{4}|"
		    r"PC|LP|FE|SS|BI|IB(10|48|96)|PB[0-9A-F]{4}|CEA|CEA[0-9A-F]{2}|"
		    r"SW[0-9A-F]{2}|WM[0-9A-F]{2,12}", c):
			return self.reply(ok)
		# IGN (IgnMon not wired), MA/MR/MT (monitoring), BRD, PP, ... : '?'
		return self.reply(["?"])

	# ---- OBD requests

	def obd_request(self, c):
		if re.fullmatch(r"[0-9A-F]+", c) is None:
			return self.reply(["?"])
		count = None
		if len(c) % 2:
			if len(c) < 3 or c[-1] == "0":
				return self.reply(["?"])
			count = int(c[-1], 16)
			c = c[:-1]
		req = bytes.fromhex(c)
		if len(req) > 7:
			return self.reply(["?"])
		self.stats["requests"] += 1
		if req[0] == 0x04:
			self.stats["mode04"] += 1
			log("WARNING: the client sent mode 04 (clear DTCs)")
		nodata_s = self.st * 0.004 / self.time_scale
		if "nodata" in self.faults:
			return self.reply(["NO DATA"], delay=nodata_s, data=True)
		head = None
		delay = self.latency
		r = self.car.at(self.clock.now())
		if self.proto_auto() and not self.found:
			if "searching" in self.faults:
				head = "SEARCHING..." + self.eol()
				delay += max(0, int(self.faults["searching"])) / 1000.0
			if not r["ignition"]:
				return self.reply(["UNABLE TO CONNECT"], delay=max(delay,
				    nodata_s), data=True, head=head)
			self.found = True
		elif not self.proto_auto() and self.proto != CAR_PROTO:
			p = self.proto
			line = "BUS INIT: ...ERROR" if p in "345" else \
			    ("CAN ERROR" if p in "89ABC" else "NO DATA")
			return self.reply([line], delay=nodata_s, data=True)
		if not r["ignition"]:
			return self.reply(["NO DATA"], delay=delay + nodata_s, data=True,
			    head=head)
		msgs = []
		for ecu in (ENGINE_ID, TRANS_ID):
			if self.header_id not in (FUNCTIONAL_ID, ecu - 8):
				continue
			if self.cra is not None and not all(a == "X" or a == b for a, b
			    in zip(self.cra, "%03X" % ecu)):
				continue
			p = ecu_answer(ecu, req, r)
			if p is not None:
				msgs.append((ecu, isotp_frames(p, self.can_pad)))
		if count is not None:
			msgs = msgs[:count]
		if not msgs:
			return self.reply(["NO DATA"], delay=delay + nodata_s, data=True,
			    head=head)
		lines = self.render(msgs)
		if "truncated" in self.faults:
			lines = self.truncate(lines, msgs)
		self.reply(lines, delay=delay, data=True, head=head)

	def render(self, msgs):
		"""Frames as the ELM327 prints them: first frames of every ECU,
		then the consecutive frames in turn (interleaved)."""
		sp = " " if self.spaces else ""
		order = []
		depth = max(len(fr) for _, fr in msgs)
		for k in range(depth):
			for ecu, frames in msgs:
				if k < len(frames):
					order.append((ecu, k, frames[k], len(frames) > 1))
		lines = []
		for ecu, k, f, multi in order:
			if self.headers:
				lines.append("%03X" % ecu + sp + "".join("%02X" % b + sp
				    for b in f))
				continue
			if not multi:
				data = f[1:1 + f[0]]	# CAN auto formatting: no PCI, no pad
				lines.append("".join("%02X" % b + sp for b in data))
			elif k == 0:
				n = ((f[0] & 0x0F) << 8) | f[1]
				lines.append("%03X" % n)
				lines.append("0:" + " " + "".join("%02X" % b + sp for b in f[2:]))
			else:
				lines.append("%X:" % (k & 0x0F) + " " + "".join("%02X" % b + sp
				    for b in f[1:]))
		return lines

	@staticmethod
	def truncate(lines, msgs):
		if len(lines) > 1 and any(len(fr) > 1 for _, fr in msgs):
			return lines[:-1]		# the last frame never came
		last = lines[-1].rstrip()
		return lines[:-1] + [last[:max(1, len(last) - 4)]]


# ---------------------------------------------------------------- transports

class Link:
	"""Output buffering shared by the transports."""

	def __init__(self, loop):
		self.loop = loop
		self.outbuf = bytearray()
		self.wfd = None
		self.adapter = None

	def send(self, data):
		if self.wfd is None:
			return
		self.outbuf += data
		self.flush()

	def flush(self):
		while self.outbuf and self.wfd is not None:
			try:
				n = self.write_fd(bytes(self.outbuf[:65536]))
			except BlockingIOError:
				n = 0
			except OSError as e:
				vlog("write: %s" % e)
				self.outbuf.clear()
				return
			if n <= 0:
				break
			del self.outbuf[:n]
		self.want_write(bool(self.outbuf))


class PtyLink(Link):
	def __init__(self, loop, path):
		super().__init__(loop)
		self.path = os.path.abspath(path)
		self.master = self.slave = None
		self.dev = None
		self.registered = 0

	def open(self):
		m, s = os.openpty()
		tty.setraw(s)
		os.set_blocking(m, False)
		self.master, self.slave = m, s
		self.dev = os.ttyname(s)
		tmp = "%s.tmp%d" % (self.path, os.getpid())
		try:
			os.unlink(tmp)
		except FileNotFoundError:
			pass
		os.symlink(self.dev, tmp)
		os.replace(tmp, self.path)
		self.wfd = m
		self.registered = selectors.EVENT_READ
		self.loop.sel.register(m, self.registered, self.on_event)
		vlog("pty %s -> %s" % (self.path, self.dev))

	def close(self, unlink=True):
		if self.master is None:
			return
		self.loop.sel.unregister(self.master)
		os.close(self.master)
		os.close(self.slave)
		self.master = self.slave = self.wfd = None
		self.outbuf.clear()
		if unlink:
			try:
				os.unlink(self.path)
			except FileNotFoundError:
				pass

	def where(self):
		return "pty=%s dev=%s" % (self.path, self.dev)

	def write_fd(self, data):
		return os.write(self.master, data)

	def want_write(self, on):
		if self.master is None:
			return
		ev = selectors.EVENT_READ | (selectors.EVENT_WRITE if on else 0)
		if ev != self.registered:
			self.registered = ev
			self.loop.sel.modify(self.master, ev, self.on_event)

	def on_event(self, mask):
		if mask & selectors.EVENT_WRITE:
			self.flush()
		if mask & selectors.EVENT_READ and self.master is not None:
			try:
				data = os.read(self.master, 4096)
			except BlockingIOError:
				return
			except OSError as e:
				if e.errno == errno.EIO:	# no slave open (cannot happen
					return			# while we hold one)
				raise
			if data:
				self.adapter.feed(data)

	def drop(self):
		"""disconnect: the device goes away (slave gets EIO / hangup)."""
		self.close(unlink=True)
		self.adapter.drop_input()

	def restore(self):
		self.open()
		self.adapter.drop_input()
		return self.where()


class TcpLink(Link):
	def __init__(self, loop, host, port):
		super().__init__(loop)
		self.host, self.port = host, port
		self.lsock = None
		self.client = None
		self.clients = 0

	def open(self):
		s = socket.socket(socket.AF_INET6 if ":" in self.host else
		    socket.AF_INET, socket.SOCK_STREAM)
		s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
		s.bind((self.host, self.port))
		s.listen(4)
		s.setblocking(False)
		self.port = s.getsockname()[1]
		self.lsock = s
		self.loop.sel.register(s, selectors.EVENT_READ, self.on_accept)

	def where(self):
		h = "[%s]" % self.host if ":" in self.host else self.host
		return "tcp=%s:%d" % (h, self.port)

	def on_accept(self, mask):
		try:
			c, addr = self.lsock.accept()
		except (BlockingIOError, OSError):
			return
		if self.client is not None:
			vlog("refusing a second client %s" % (addr,))
			c.close()
			return
		c.setblocking(False)
		c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
		self.client = c
		self.clients += 1
		self.wfd = c
		self.outbuf.clear()
		self.adapter.drop_input()
		self.loop.sel.register(c, selectors.EVENT_READ, self.on_client)
		vlog("client %s connected" % (addr,))

	def close_client(self):
		if self.client is None:
			return
		self.loop.sel.unregister(self.client)
		self.client.close()
		self.client = self.wfd = None
		self.outbuf.clear()
		self.adapter.drop_input()
		vlog("client closed")

	def write_fd(self, data):
		return self.client.send(data)

	def want_write(self, on):
		if self.client is not None:
			self.loop.sel.modify(self.client, selectors.EVENT_READ |
			    (selectors.EVENT_WRITE if on else 0), self.on_client)

	def on_client(self, mask):
		if mask & selectors.EVENT_WRITE:
			self.flush()
		if mask & selectors.EVENT_READ and self.client is not None:
			try:
				data = self.client.recv(4096)
			except BlockingIOError:
				return
			except OSError:
				data = b""
			if not data:
				self.close_client()
				return
			self.adapter.feed(data)

	def close(self):
		self.close_client()
		if self.lsock is not None:
			self.loop.sel.unregister(self.lsock)
			self.lsock.close()
			self.lsock = None

	def drop(self):
		"""disconnect: close the client, refuse new ones."""
		self.close()

	def restore(self):
		self.open()
		return self.where()


# ---------------------------------------------------------------- gpsd time

class GpsdFollower:
	"""Scenario time = the time of the latest TPV gpsd sent."""

	def __init__(self, loop, host, port):
		self.loop = loop
		self.host, self.port = host, port
		self.sock = None
		self.buf = b""
		self.t = None
		self.tpvs = 0
		self.connect()

	def now(self):
		return self.t

	def connect(self):
		try:
			s = socket.create_connection((self.host, self.port), timeout=2)
			s.sendall(b'?WATCH={"enable":true,"json":true}\n')
		except OSError as e:
			vlog("gpsd %s:%d: %s; retrying" % (self.host, self.port, e))
			self.loop.call_later(0.5, self.connect)
			return
		s.setblocking(False)
		self.sock = s
		self.buf = b""
		self.loop.sel.register(s, selectors.EVENT_READ, self.on_read)
		vlog("following gpsd at %s:%d" % (self.host, self.port))

	def on_read(self, mask):
		try:
			data = self.sock.recv(65536)
		except BlockingIOError:
			return
		except OSError:
			data = b""
		if not data:
			self.loop.sel.unregister(self.sock)
			self.sock.close()
			self.sock = None
			vlog("gpsd closed; keeping the time of the last TPV")
			self.loop.call_later(0.5, self.connect)
			return
		self.buf += data
		*lines, self.buf = self.buf.split(b"\n")
		for line in lines:
			try:
				o = json.loads(line)
			except ValueError:
				continue
			if isinstance(o, dict) and o.get("class") == "TPV" and \
			    isinstance(o.get("time"), str):
				try:
					t = parse_iso(o["time"])
				except ValueError:
					continue
				self.t = t
				self.tpvs += 1


# ---------------------------------------------------------------- main

def parse_fault(text):
	name, _, arg = text.partition("=")
	name = name.strip().lower()
	if name not in FAULTS:
		raise ValueError("unknown fault %r (%s)" % (name, ", ".join(FAULTS)))
	arg = arg.strip() or FAULT_DEFAULT_ARG.get(name)
	if arg is not None and name != "disconnect" and not arg.isdigit():
		raise ValueError("fault %s: want a number, not %r" % (name, arg))
	if name == "disconnect" and arg is not None:
		float(arg)
	return name, arg


class Sim:
	def __init__(self, a):
		self.a = a
		self.loop = Loop()
		self.car = Car(a.obd)
		if a.follow_gpsd:
			host, port = split_hostport(a.follow_gpsd, "--follow-gpsd")
			self.clock = GpsdFollower(self.loop, host, port)
		else:
			start = parse_iso(a.start) if a.start else float(self.car.first_s)
			self.clock = WallClock(start, a.speed)
		self.faults = {}
		for f in a.fault or []:
			name, arg = parse_fault(f)
			self.faults[name] = arg
		if a.pty:
			self.link = PtyLink(self.loop, a.pty)
		else:
			host, port = split_hostport(a.tcp, "--tcp")
			self.link = TcpLink(self.loop, host, port)
		self.adapter = Adapter(self.loop, self.car, self.clock, self.faults,
		    self.link.send, latency_ms=a.latency, can_pad=a.can_pad,
		    time_scale=a.time_scale)
		self.link.adapter = self.adapter
		self.down = False
		self.down_timer = None
		self.ctlbuf = b""
		self.stdin_closed = False

	def start(self):
		self.link.open()
		if "disconnect" in self.faults:
			self.set_fault("disconnect", self.faults.pop("disconnect"))
		say("READY %s" % self.link.where())
		if self.a.stdin_control:
			try:
				self.loop.sel.register(0, selectors.EVENT_READ,
				    self.on_stdin)
			except PermissionError:
				# a regular file or /dev/null (epoll refuses those): run
				# its lines now; its end is the end of stdin
				for line in sys.stdin.buffer.read().split(b"\n"):
					self.control(line.decode("utf-8", "replace"))
				raise Stop()
			os.set_blocking(0, False)

	def set_fault(self, name, arg):
		self.faults[name] = arg
		if name == "disconnect" and not self.down:
			self.down = True
			self.link.drop()
			vlog("disconnected")
			if arg is not None:
				self.down_timer = self.loop.call_later(float(arg),
				    lambda: self.clear_fault("disconnect"))

	def clear_fault(self, name):
		self.faults.pop(name, None)
		if name == "disconnect" and self.down:
			self.down = False
			self.loop.cancel(self.down_timer)
			self.down_timer = None
			where = self.link.restore()
			say("REOPENED %s" % where)

	def control(self, line):
		words = line.split()
		if not words:
			return
		cmd = words[0].lower()
		try:
			if cmd == "fault" and len(words) == 2:
				name, arg = parse_fault(words[1])
				self.set_fault(name, arg)
				say("ok fault %s%s" % (name, "" if arg is None else "=" + arg))
			elif cmd == "clear" and len(words) == 1:
				for name in list(self.faults):
					self.clear_fault(name)
				say("ok clear")
			elif cmd == "clear" and len(words) == 2:
				name = words[1].lower()
				if name not in FAULTS:
					raise ValueError("unknown fault %r" % name)
				self.clear_fault(name)
				say("ok clear %s" % name)
			elif cmd == "status":
				t = self.clock.now()
				r = self.car.at(t)
				say("ok status t=%s ignition=%d rpm=%s speed_kmh=%s "
				    "faults=%s %s" % ("none" if t is None else
				    dt.datetime.fromtimestamp(int(t), dt.timezone.utc).strftime(
				    "%Y-%m-%dT%H:%M:%SZ"), r["ignition"], r["rpm"],
				    r["speed_kmh"], ",".join(
				    k if v is None else "%s=%s" % (k, v) for k, v in
				    sorted(self.faults.items())) or "none",
				    "down" if self.down else self.link.where()))
			elif cmd == "stats":
				st = dict(self.adapter.stats)
				if isinstance(self.link, TcpLink):
					st["clients"] = self.link.clients
				if isinstance(self.clock, GpsdFollower):
					st["tpvs"] = self.clock.tpvs
				say("ok stats " + " ".join("%s=%d" % kv for kv in
				    sorted(st.items())))
			elif cmd in ("quit", "exit"):
				say("ok quit")
				raise Stop()
			else:
				raise ValueError("unknown command %r (fault NAME[=ARG], "
				    "clear [NAME], status, stats, quit)" % line.strip())
		except ValueError as e:
			say("error %s" % e)

	def on_stdin(self, mask):
		try:
			data = os.read(0, 4096)
		except BlockingIOError:
			return
		if not data:
			self.loop.sel.unregister(0)
			raise Stop()
		self.ctlbuf += data
		*lines, self.ctlbuf = self.ctlbuf.split(b"\n")
		for line in lines:
			self.control(line.decode("utf-8", "replace"))

	def run(self):
		while True:
			self.loop.run_once()

	def close(self):
		try:
			if isinstance(self.link, PtyLink):
				self.link.close(unlink=True)
			else:
				self.link.close()
		except OSError:
			pass


def split_hostport(text, what):
	host, sep, port = text.rpartition(":")
	if not sep or not port.isdigit():
		raise SystemExit("elm327_sim: %s %r: want HOST:PORT" % (what, text))
	return host.strip("[]") or "127.0.0.1", int(port)


def main(argv=None):
	global VERBOSE
	ap = argparse.ArgumentParser(prog="elm327_sim.py",
	    description="ELM327 v1.5 simulator serving nmea_synth.py --obd "
	    "truth over a pty or TCP (tests/sim/README.md).")
	ap.add_argument("--obd", required=True, metavar="FILE.jsonl",
	    help="OBD truth written by nmea_synth.py --obd")
	tr = ap.add_mutually_exclusive_group(required=True)
	tr.add_argument("--pty", metavar="LINK", help="create a pty and a "
	    "symlink LINK to its slave (the device a client opens)")
	tr.add_argument("--tcp", metavar="HOST:PORT", help="listen on TCP "
	    "(port 0: pick a free one); one client at a time")
	tm = ap.add_mutually_exclusive_group()
	tm.add_argument("--follow-gpsd", metavar="HOST:PORT", help="scenario "
	    "time = time of the latest TPV from this gpsd (engine off before "
	    "the first)")
	tm.add_argument("--start", metavar="ISO", help="wall-clock mode: "
	    "scenario time at start-up, RFC 3339 with offset (default: the "
	    "first record)")
	ap.add_argument("--speed", type=float, default=1.0, help="wall-clock "
	    "mode: scenario seconds per real second (default 1)")
	ap.add_argument("--fault", action="append", metavar="NAME[=ARG]",
	    help="start with this fault (repeatable): " + ", ".join(FAULTS))
	ap.add_argument("--stdin-control", action="store_true", help="read "
	    "'fault NAME[=ARG]', 'clear [NAME]', 'status', 'stats', 'quit' "
	    "lines on stdin; exit when stdin closes")
	ap.add_argument("--time-scale", type=float, default=1.0, metavar="X",
	    help="the replay runs X times faster than real time: divide the "
	    "NO DATA wait (ATST) by X (default 1)")
	ap.add_argument("--latency", type=int, default=0, metavar="MS",
	    help="delay of every OBD answer (default 0)")
	ap.add_argument("--can-pad", type=lambda x: int(x, 16), default=None,
	    metavar="HH", help="pad every CAN frame to 8 bytes with this byte "
	    "(default: only the last consecutive frame, with 00)")
	ap.add_argument("-v", "--verbose", action="store_true",
	    help="log every command and reply on stderr")
	a = ap.parse_args(argv)
	VERBOSE = a.verbose
	if a.speed <= 0:
		ap.error("--speed must be > 0")
	try:
		for f in a.fault or []:
			parse_fault(f)
		sim = Sim(a)
	except (ValueError, OSError) as e:
		print("elm327_sim: %s" % e, file=sys.stderr)
		return 2

	def stop(signum, frame):
		raise Stop()
	signal.signal(signal.SIGTERM, stop)
	signal.signal(signal.SIGINT, stop)
	signal.signal(signal.SIGPIPE, signal.SIG_IGN)
	try:
		sim.start()
		sim.run()
	except Stop:
		pass
	except OSError as e:
		print("elm327_sim: %s" % e, file=sys.stderr)
		sim.close()
		return 1
	finally:
		signal.signal(signal.SIGTERM, signal.SIG_IGN)
		signal.signal(signal.SIGINT, signal.SIG_IGN)
	sim.close()
	vlog("stopped")
	return 0


if __name__ == "__main__":
	sys.exit(main())

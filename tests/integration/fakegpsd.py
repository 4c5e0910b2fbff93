"""fakegpsd - a scripted gpsd stand-in speaking gpsd 3.22 JSON over TCP.

For what a real gpsd (or gpsfake) cannot produce on demand: a TPV with mode
3 but no time, a TPV without lat/lon, lat as a string or as nan/inf, an
oversize line, a line split across writes, silence, accept-then-reset.

Each accepted connection runs the next script from the queue (push()); when
the queue is empty the `default` script runs (by default: greet, then stay
silent until the client or the server closes).  A script is a list of
steps:

    "text" / b"bytes"  a line (a str gets "\n" appended if it lacks one;
                       bytes go out as they are, so partial lines work)
    Sleep(s)           pause (reading what the client sends meanwhile)
    WaitWatch(t)       wait until the client sent ?WATCH (t s at most)
    Greet()            VERSION now, DEVICES + WATCH once ?WATCH arrives
                       (what gpsd does); implied at the start of every
                       script unless the script begins with NoGreet()
    NoGreet()          send nothing on connect
    Hold(ev=None)      stay connected and silent until ev is set, the
                       client closes or the server stops
    Close()            orderly close (FIN)
    Reset()            abortive close (RST, SO_LINGER 0)
    Mark(name)         record that the script got here
                       (self.marks[name] = monotonic time; wait_mark())

A script that runs out holds the connection like an idle gpsd.  Counters:
connections, watches, closed, bytes_sent.  Helpers build the lines: tpv(),
sky(), version(), devices(), render() with Raw() for verbatim (invalid)
values, good_fixes().  Standard library only.
"""

import json
import select
import socket
import struct
import threading
import time

DEVICE = "/dev/ttyFAKE0"


class Raw:
	"""A value written verbatim into the JSON text (nan, garbage...)."""

	def __init__(self, text):
		self.text = text


def render(fields):
	"""An object line from an ordered dict; Raw values go in verbatim."""
	parts = []
	for k, v in fields.items():
		if isinstance(v, Raw):
			val = v.text
		else:
			val = json.dumps(v, separators=(",", ":"))
		parts.append("%s:%s" % (json.dumps(k), val))
	return "{" + ",".join(parts) + "}"


def iso_time(t_s):
	"""gpsd's time format for UNIX time t_s (float s)."""
	ms = int(round(t_s * 1000))
	s, ms = divmod(ms, 1000)
	return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(s)) + ".%03dZ" % ms


def version():
	return render({"class": "VERSION", "release": "3.22", "rev": "3.22",
				   "proto_major": 3, "proto_minor": 14})


def devices():
	return render({"class": "DEVICES", "devices": [
		{"class": "DEVICE", "path": DEVICE, "driver": "NMEA0183",
		 "activated": iso_time(time.time()), "native": 0, "bps": 9600,
		 "parity": "N", "stopbits": 1, "cycle": 1.00}]})


def watch_reply():
	return render({"class": "WATCH", "enable": True, "json": True,
				   "nmea": False, "raw": 0, "scaled": False,
				   "timing": False, "split24": False, "pps": False})


_OMIT = object()


def tpv(t_s=_OMIT, lat=_OMIT, lon=_OMIT, mode=3, alt=500.0, speed=10.0,
		track=73.0, eph=5.0, **extra):
	"""A TPV line like gpsd 3.22 writes it.  Pass None to leave a field
	out, Raw("...") for a verbatim value.  Field order is gpsd's."""
	f = {"class": "TPV", "device": DEVICE}
	if mode is not None:
		f["mode"] = mode
	if t_s is not _OMIT and t_s is not None:
		f["time"] = t_s if isinstance(t_s, Raw) else iso_time(t_s)
	f["ept"] = 0.005
	if lat is not _OMIT and lat is not None:
		f["lat"] = lat
	if lon is not _OMIT and lon is not None:
		f["lon"] = lon
	if alt is not None and mode == 3:
		f["altHAE"] = alt - 30.0
		f["altMSL"] = alt
		f["alt"] = alt
	if eph is not None:
		f["epx"] = eph / 1.5
		f["epy"] = eph / 1.5
		f["eph"] = eph
	if track is not None:
		f["track"] = track
	if speed is not None:
		f["speed"] = speed
	f.update(extra)
	return render(f)


def sky(hdop=0.9, sats=None, t_s=None):
	"""A SKY line.  sats: list of (gnssid, svid, used); default 6 GPS and
	4 BeiDou satellites, all used."""
	if sats is None:
		sats = [(0, p, True) for p in (1, 3, 6, 9, 12, 17)] + \
			   [(3, p, True) for p in (6, 8, 13, 16)]
	f = {"class": "SKY", "device": DEVICE}
	if t_s is not None:
		f["time"] = iso_time(t_s)
	f.update({"xdop": 0.5, "ydop": 0.6, "vdop": 1.2, "tdop": 0.9,
			  "hdop": hdop, "gdop": 1.8, "pdop": hdop * 1.6})
	sl = []
	for gnssid, svid, used in sats:
		prn = 400 + svid if gnssid == 3 else svid
		sl.append({"PRN": prn, "el": 45.0, "az": 120.0, "ss": 40.0,
				   "used": bool(used), "gnssid": gnssid, "svid": svid})
	f["satellites"] = sl
	return render(f)


class Sleep:
	def __init__(self, s):
		self.s = s


class WaitWatch:
	def __init__(self, timeout=5.0):
		self.timeout = timeout


class Greet:
	pass


class NoGreet:
	pass


class Hold:
	def __init__(self, ev=None):
		self.ev = ev


class Close:
	pass


class Reset:
	pass


class Mark:
	def __init__(self, name):
		self.name = name


class _Conn:
	def __init__(self, server, sock, index):
		self.server = server
		self.sock = sock
		self.index = index
		self.rx = b""
		self.watched = False
		self.greeted = False
		self.peer_closed = False

	def poll_rx(self, timeout):
		"""Read what the client sent; True if the client closed."""
		if self.peer_closed:
			return True
		r, _, _ = select.select([self.sock], [], [], max(timeout, 0))
		if not r:
			return False
		try:
			d = self.sock.recv(65536)
		except OSError:
			d = b""
		if not d:
			self.peer_closed = True
			return True
		self.rx += d
		if not self.watched and b"?WATCH" in self.rx:
			self.watched = True
			with self.server.cv:
				self.server.watches += 1
				self.server.cv.notify_all()
			if self.greeted:
				self.send((devices() + "\n" + watch_reply() + "\n").encode())
		return False

	def send(self, data):
		try:
			self.sock.sendall(data)
		except OSError:
			self.peer_closed = True
			return False
		with self.server.cv:
			self.server.bytes_sent += len(data)
		return True

	def wait(self, seconds, ev=None):
		end = time.monotonic() + seconds
		while not self.server.stopping.is_set():
			if ev is not None and ev.is_set():
				return
			left = end - time.monotonic()
			if left <= 0:
				return
			if self.poll_rx(min(left, 0.05)):
				return

	def run(self, script):
		steps = list(script)
		if not steps or not isinstance(steps[0], NoGreet):
			steps.insert(0, Greet())
		for st in steps:
			if self.server.stopping.is_set() or self.peer_closed:
				break
			self.poll_rx(0)
			if isinstance(st, NoGreet):
				continue
			if isinstance(st, Greet):
				self.greeted = True
				self.send((version() + "\n").encode())
				if self.watched:
					self.send((devices() + "\n" + watch_reply() +
							   "\n").encode())
			elif isinstance(st, str):
				self.send((st if st.endswith("\n") else st + "\n").encode())
			elif isinstance(st, (bytes, bytearray)):
				self.send(bytes(st))
			elif isinstance(st, Sleep):
				self.wait(st.s)
			elif isinstance(st, WaitWatch):
				end = time.monotonic() + st.timeout
				while not self.watched and time.monotonic() < end and \
						not self.server.stopping.is_set():
					if self.poll_rx(0.05):
						break
			elif isinstance(st, Hold):
				while not self.server.stopping.is_set():
					if st.ev is not None and st.ev.is_set():
						break
					if self.poll_rx(0.05):
						break
			elif isinstance(st, Mark):
				with self.server.cv:
					self.server.marks[st.name] = time.monotonic()
					self.server.cv.notify_all()
			elif isinstance(st, Close):
				break
			elif isinstance(st, Reset):
				self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
									 struct.pack("ii", 1, 0))
				break
			else:
				raise TypeError("bad script step %r" % (st,))
		else:
			# Script ran out: stay connected and silent, like an idle
			# gpsd, until someone closes.
			while not self.server.stopping.is_set():
				if self.poll_rx(0.05):
					break
		try:
			self.sock.close()
		except OSError:
			pass
		with self.server.cv:
			self.server.closed += 1
			self.server.cv.notify_all()


class FakeGpsd:
	"""The server.  with FakeGpsd() as f: f.push([...]); ..."""

	def __init__(self, port=0, default=None):
		self.lsock = socket.socket()
		self.lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
		self.lsock.bind(("127.0.0.1", port))
		self.lsock.listen(16)
		self.port = self.lsock.getsockname()[1]
		self.default = default if default is not None else []
		self.queue = []
		self.cv = threading.Condition()
		self.stopping = threading.Event()
		self.connections = 0
		self.watches = 0
		self.closed = 0
		self.bytes_sent = 0
		self.marks = {}
		self.threads = []
		self.acceptor = threading.Thread(target=self._accept, daemon=True)
		self.acceptor.start()

	def push(self, *scripts):
		with self.cv:
			self.queue.extend(scripts)

	def _accept(self):
		self.lsock.settimeout(0.1)
		while not self.stopping.is_set():
			try:
				s, _ = self.lsock.accept()
			except socket.timeout:
				continue
			except OSError:
				break
			s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
			with self.cv:
				self.connections += 1
				idx = self.connections
				script = self.queue.pop(0) if self.queue else self.default
				self.cv.notify_all()
			c = _Conn(self, s, idx)
			t = threading.Thread(target=c.run, args=(script,), daemon=True)
			self.threads.append(t)
			t.start()

	def wait_for(self, pred, timeout):
		"""Wait until pred(self) holds (under the lock); returns it."""
		end = time.monotonic() + timeout
		with self.cv:
			while True:
				v = pred(self)
				if v:
					return v
				left = end - time.monotonic()
				if left <= 0:
					return v
				self.cv.wait(min(left, 0.1))

	def wait_mark(self, name, timeout):
		return self.wait_for(lambda s: name in s.marks, timeout)

	def stop(self):
		self.stopping.set()
		try:
			self.lsock.close()
		except OSError:
			pass
		self.acceptor.join(2)
		for t in self.threads:
			t.join(2)

	def __enter__(self):
		return self

	def __exit__(self, *exc):
		self.stop()


def good_fixes(t0_s, n, lat0=30.5723, lon0=104.0665, step_s=1.0,
			   hdop=0.9, with_sky=True):
	"""n good epochs as lines: (SKY,) TPV per epoch, moving east."""
	out = []
	for i in range(n):
		if with_sky:
			out.append(sky(hdop))
		out.append(tpv(t0_s + i * step_s, lat0, lon0 + i * 0.0001))
	return out

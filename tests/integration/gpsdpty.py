"""gpsdpty - a real gpsd reading a pty the test owns, and a paced NMEA feeder.

gpsfake cannot kill its gpsd in the middle of a drive and bring it back on
the same port; this module can.  PtyGpsd keeps the pty master (and a slave
fd, so the pty survives gpsd's death) and runs

    gpsd -N -n -b -s 38400 -S PORT -F TMPDIR/gpsd-K.sock /dev/pts/N

in its own process group with its own TMPDIR.  Feeder writes NMEA epochs
(nmea_epoch(): RMC, GGA, GSA, GSV) into the master from a thread at a
chosen rate.  GNSS time advances one second per epoch whatever the
wall-clock rate, so fast tests (20-50 epochs/s) and 1 Hz timing tests use
the same data, and a stored row tells its epoch: epoch_time(i).
load_nmea_epochs() splits another NMEA log (tests/sim/nmea_synth.py
output) into epochs for Feeder.  meta_seq_problem() checks the daemon's
meta table against max(seq).

Facts this relies on (measured on Debian 12, gpsd 3.22):

* gpsd logs to stderr only when it is not a session leader, so it runs
  in a new process group (process_group=0), not a new session.
* Right after opening the device gpsd probes drivers and changes the
  line speed, flushing the tty input: about 0.5-1 s of epochs written
  then are lost ("-s 38400" shortens this), and a client connecting in
  that time waits ~0.5 s for gpsd's first line.  Tests must not expect
  every epoch.
* As root gpsd drops privileges after opening the device; the slave is
  made 0666 (as gpsfake does) so a re-open by the unprivileged gpsd works.
* gpsd sends several TPVs for the first epoch (RMC, GGA, GSA), then one
  per epoch once it has learnt the cycle; it sends a SKY (with the GSA
  DOPs) only after a GSV group, so without GSV a client sees no hdop.
* A restarted gpsd binds the same port at once (SO_REUSEADDR).

Standard library only.
"""

import errno
import fcntl
import math
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import termios
import threading
import time
import tty

GPSD = "/usr/sbin/gpsd"

# Chengdu, near the provincial government offices (WGS-84).
BASE_LAT = 30.5723
BASE_LON = 104.0665
# 2026-03-02 01:00:00 UTC = 09:00 in Asia/Shanghai, a Monday.
BASE_UTC_S = 1772413200


def free_port():
	"""A TCP port on 127.0.0.1 that was free a moment ago."""
	s = socket.socket()
	try:
		s.bind(("127.0.0.1", 0))
		return s.getsockname()[1]
	finally:
		s.close()


def _deadline_wait(pred, timeout, interval=0.02):
	end = time.monotonic() + timeout
	while True:
		v = pred()
		if v:
			return v
		if time.monotonic() >= end:
			return v
		time.sleep(interval)


def port_listening(port, host="127.0.0.1"):
	try:
		c = socket.create_connection((host, port), timeout=0.2)
	except OSError:
		return False
	c.close()
	return True


# ---------------------------------------------------------------- NMEA

def nmea(body):
	"""One sentence with checksum and CR LF, as bytes."""
	x = 0
	for ch in body.encode("ascii"):
		x ^= ch
	return ("$%s*%02X\r\n" % (body, x)).encode("ascii")


def _dm(value, lat):
	"""Decimal degrees -> NMEA ddmm.mmmm / dddmm.mmmm and hemisphere."""
	hemi = ("N" if value >= 0 else "S") if lat else ("E" if value >= 0 else "W")
	v = abs(value)
	d = int(v)
	m = (v - d) * 60.0
	if lat:
		return "%02d%07.4f" % (d, m), hemi
	return "%03d%07.4f" % (d, m), hemi


# The GPS satellites every fix epoch uses (GSA) and shows (GSV).
SAT_PRNS = (1, 3, 6, 9, 12, 17, 19, 23)


def epoch_time(i, base_utc_s=BASE_UTC_S):
	"""GNSS time (s since the epoch, UTC) of epoch i."""
	return base_utc_s + i


def epoch_position(i):
	"""(lat, lon) of epoch i: a slow drive east then north-east, ~10 m/s."""
	# 10 m/s east: 1 deg lon at 30.57 N is ~95.8 km.
	lon = BASE_LON + i * 10.0 / 95800.0
	lat = BASE_LAT + i * 3.0 / 111200.0
	return lat, lon


def nmea_epoch(i, base_utc_s=BASE_UTC_S, hdop=0.9, fix=True):
	"""The sentences of epoch i (RMC, GGA, GSA, GSV) as bytes.

	hdop goes into GGA and GSA (gpsd takes the SKY hdop from GSA).  With
	fix=False the receiver reports no fix (RMC status V, GGA quality 0).
	"""
	t = time.gmtime(epoch_time(i, base_utc_s))
	hms = "%02d%02d%02d.00" % (t.tm_hour, t.tm_min, t.tm_sec)
	dmy = "%02d%02d%02d" % (t.tm_mday, t.tm_mon, t.tm_year % 100)
	lat, lon = epoch_position(i)
	la, lah = _dm(lat, True)
	lo, loh = _dm(lon, False)
	knots = 10.0 / 0.514444
	course = math.degrees(math.atan2(10.0, 3.0)) % 360.0
	if fix:
		rmc = "GPRMC,%s,A,%s,%s,%s,%s,%.1f,%.1f,%s,,,A" % (
			hms, la, lah, lo, loh, knots, course, dmy)
		gga = "GPGGA,%s,%s,%s,%s,%s,1,08,%.1f,500.0,M,-30.0,M,," % (
			hms, la, lah, lo, loh, hdop)
		gsa = "GPGSA,A,3,%s,,,,,%.1f,%.1f,1.2" % (
			",".join("%02d" % p for p in SAT_PRNS),
			max(hdop * 1.6, hdop + 0.1), hdop)
	else:
		rmc = "GPRMC,%s,V,,,,,,,%s,,,N" % (hms, dmy)
		gga = "GPGGA,%s,,,,,0,00,99.9,,M,,M,," % hms
		gsa = "GPGSA,A,1,,,,,,,,,,,,,99.9,99.9,99.9"
	# GSV: gpsd sends a SKY (with the GSA DOPs) only after a GSV group.
	gsv = b""
	prns = SAT_PRNS if fix else ()
	n_msgs = max(1, (len(prns) + 3) // 4)
	for k in range(n_msgs):
		part = prns[k * 4:(k + 1) * 4]
		body = "GPGSV,%d,%d,%02d" % (n_msgs, k + 1, len(prns))
		for j, prn in enumerate(part):
			body += ",%02d,%02d,%03d,%02d" % (prn, 30 + 5 * ((k * 4 + j) % 8),
			    (45 * (k * 4 + j)) % 360, 40)
		gsv += nmea(body)
	return nmea(rmc) + nmea(gga) + nmea(gsa) + gsv


def load_nmea_epochs(path):
	"""Split an NMEA log (e.g. tests/sim/nmea_synth.py output) into epochs,
	a new one at each RMC sentence; returns a list of bytes for
	Feeder(epoch_fn=lambda i: epochs[i % len(epochs)])."""
	epochs, cur = [], []
	with open(path, "rb") as f:
		for line in f:
			if line[3:6] == b"RMC" and cur:
				epochs.append(b"".join(cur))
				cur = []
			if line.startswith(b"$"):
				cur.append(line if line.endswith(b"\r\n")
						   else line.rstrip(b"\r\n") + b"\r\n")
	if cur:
		epochs.append(b"".join(cur))
	return epochs


# ---------------------------------------------------------------- gpsd

class PtyGpsd:
	"""A real gpsd on a pty we own.  start(), kill(), start() again on the
	same port (the pty stays), stop(), close()."""

	def __init__(self, workdir, port=None, name="gpsd"):
		self.workdir = workdir
		self.port = port or free_port()
		self.name = name
		self.tmpdir = tempfile.mkdtemp(prefix="gpsdpty-", dir=workdir)
		self.master, self.slave = os.openpty()
		tty.setraw(self.slave)
		self.path = os.ttyname(self.slave)
		os.chmod(self.path, 0o666)
		fl = fcntl.fcntl(self.master, fcntl.F_GETFL)
		fcntl.fcntl(self.master, fcntl.F_SETFL, fl | os.O_NONBLOCK)
		self.proc = None
		self.starts = 0
		self.logpath = os.path.join(workdir, "%s.log" % name)
		self._lock = threading.Lock()
		self.dropped_bytes = 0

	# -- process

	def start(self, timeout=10.0):
		"""Start gpsd and wait until it accepts connections."""
		assert self.proc is None or self.proc.poll() is not None
		# Drop whatever queued in the pty while no gpsd read it.
		try:
			termios.tcflush(self.slave, termios.TCIFLUSH)
		except termios.error:
			pass
		ctl = os.path.join(self.tmpdir, "gpsd-%d.sock" % self.starts)
		env = dict(os.environ, TMPDIR=self.tmpdir)
		self.starts += 1
		log = open(self.logpath, "ab")
		log.write(b"--- start %d\n" % self.starts)
		log.flush()
		try:
			self.proc = subprocess.Popen(
				[GPSD, "-N", "-n", "-b", "-s", "38400", "-S",
				 str(self.port), "-F", ctl, self.path],
				stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=env,
				process_group=0, close_fds=True)
		finally:
			log.close()
		ok = _deadline_wait(
			lambda: self.proc.poll() is not None or port_listening(self.port),
			timeout)
		if not ok or self.proc.poll() is not None:
			raise RuntimeError("gpsd did not start on port %d (rc %r), see %s"
							   % (self.port, self.proc.poll(), self.logpath))

	def alive(self):
		return self.proc is not None and self.proc.poll() is None

	def kill(self, sig=signal.SIGKILL, timeout=10.0):
		"""Signal gpsd's process group and reap it; returns its status."""
		if self.proc is None:
			return None
		try:
			os.killpg(self.proc.pid, sig)
		except ProcessLookupError:
			pass
		try:
			return self.proc.wait(timeout)
		except subprocess.TimeoutExpired:
			os.killpg(self.proc.pid, signal.SIGKILL)
			return self.proc.wait(timeout)

	def stop(self, timeout=10.0):
		if self.alive():
			return self.kill(signal.SIGTERM, timeout)
		return None

	def wait_port_free(self, timeout=10.0):
		return _deadline_wait(lambda: not port_listening(self.port), timeout)

	def close(self):
		self.stop()
		for fd in (self.master, self.slave):
			try:
				os.close(fd)
			except OSError:
				pass
		self.master = self.slave = -1
		shutil.rmtree(self.tmpdir, ignore_errors=True)

	# -- data

	def write(self, data):
		"""Write to the pty master without blocking; what does not fit
		(no gpsd reading) is dropped and counted."""
		with self._lock:
			if self.master < 0:
				return 0
			try:
				n = os.write(self.master, data)
			except OSError as e:
				if e.errno in (errno.EAGAIN, errno.EIO):
					n = 0
				else:
					raise
			self.dropped_bytes += len(data) - n
			return n

	def __enter__(self):
		return self

	def __exit__(self, *exc):
		self.close()


class Feeder(threading.Thread):
	"""Writes epoch i = first, first+1, ... into a PtyGpsd at rate_hz.

	epoch_fn(i) returns the bytes of epoch i (default nmea_epoch).
	written[i] = monotonic time epoch i was written.  pause()/resume()
	hold the clock; stop() ends the thread.  Pacing uses absolute deadlines,
	so a slow write does not stretch the schedule.
	"""

	def __init__(self, gpsd, rate_hz=25.0, first=0, count=None,
				 epoch_fn=None):
		super().__init__(daemon=True)
		self.gpsd = gpsd
		self.period = 1.0 / rate_hz
		self.next_i = first
		self.count = count
		self.epoch_fn = epoch_fn or nmea_epoch
		self.written = {}
		self._stop_ev = threading.Event()
		self._run_ev = threading.Event()
		self._run_ev.set()
		self._cv = threading.Condition()

	def run(self):
		t_next = time.monotonic()
		done = 0
		while not self._stop_ev.is_set():
			if not self._run_ev.is_set():
				self._run_ev.wait(0.1)
				t_next = time.monotonic()
				continue
			if self.count is not None and done >= self.count:
				break
			i = self.next_i
			self.gpsd.write(self.epoch_fn(i))
			with self._cv:
				self.written[i] = time.monotonic()
				self.next_i = i + 1
				self._cv.notify_all()
			done += 1
			t_next += self.period
			delay = t_next - time.monotonic()
			if delay > 0:
				self._stop_ev.wait(delay)
			else:
				t_next = time.monotonic()

	def pause(self):
		self._run_ev.clear()

	def resume(self):
		self._run_ev.set()

	def stop(self, timeout=5.0):
		self._stop_ev.set()
		self._run_ev.set()
		if self.is_alive():
			self.join(timeout)

	def wait_written(self, i, timeout):
		"""Wait until epoch i has been written."""
		end = time.monotonic() + timeout
		with self._cv:
			while self.next_i <= i:
				left = end - time.monotonic()
				if left <= 0:
					return False
				self._cv.wait(left)
		return True


# ---------------------------------------------------------------- database

def meta_seq_problem(meta, max_seq):
	"""Why meta does not agree with max(seq) of the positions, or None.
	Schema 1 keeps a counter, meta.next_seq, advanced by every commit: it
	must be max + 1.  Schema 2 derives the next seq from max(seq) and
	keeps meta.seq_floor, moved only by retention: it must not be above
	max + 1 here (no retention runs in these tests), else seqs would
	skip.  Schema 5 keeps one floor per stream; this checks the
	positions stream's, meta.seq_floor_positions."""
	if "seq_floor_positions" in meta:
		if not 1 <= int(meta["seq_floor_positions"]) <= max_seq + 1:
			return ("meta seq_floor_positions %s not in 1..max(seq) + 1 "
			    "= %d" % (meta["seq_floor_positions"], max_seq + 1))
		return None
	if "next_seq" in meta:
		if int(meta["next_seq"]) != max_seq + 1:
			return "meta next_seq %s != max(seq) + 1 = %d" % (
			    meta["next_seq"], max_seq + 1)
		return None
	if "seq_floor" in meta:
		if not 1 <= int(meta["seq_floor"]) <= max_seq + 1:
			return "meta seq_floor %s not in 1..max(seq) + 1 = %d" % (
			    meta["seq_floor"], max_seq + 1)
		return None
	return "meta has neither next_seq nor seq_floor: %r" % (meta,)


if __name__ == "__main__":
	# Self-check: feed 3 s at 25 Hz and count TPVs seen by a watcher.
	import json
	wd = tempfile.mkdtemp(prefix="gpsdpty-selftest-")
	g = PtyGpsd(wd)
	g.start()
	c = socket.create_connection(("127.0.0.1", g.port))
	c.sendall(b'?WATCH={"enable":true,"json":true};\n')
	f = Feeder(g, 25.0)
	f.start()
	c.settimeout(0.2)
	buf = b""
	end = time.monotonic() + 3
	while time.monotonic() < end:
		try:
			buf += c.recv(65536)
		except socket.timeout:
			pass
	f.stop()
	times = set()
	for line in buf.decode().splitlines():
		o = json.loads(line)
		if o.get("class") == "TPV" and "time" in o:
			times.add(o["time"])
	print("port %d pty %s: %d epochs written, %d TPV times seen"
		  % (g.port, g.path, len(f.written), len(times)))
	g.close()
	shutil.rmtree(wd, ignore_errors=True)

"""The host side of the framed upload (docs/FORMATS.md §4).

Reads the stream on stdin, hashes every byte of it, inflates `Z` frames and
pipes the tar into `tar -x`, then prints `sha256=<hex>`. argv[1] is the
directory to unpack into (created; removed again when the upload fails).

The client runs this file's text with `python -c` on the host, so it needs
only the standard library of Python 3.8+ and imports nothing from
dcd_backend. Exit codes: 91 tar failed, 92 the stream ended early, 93 not a
DCD upload stream, 94 an unknown frame kind.
"""
import hashlib
import io
import os
import shutil
import subprocess
import sys
import zlib

MAGIC = b"DCDU1\n"
RAW, DEFLATED, END = 0x52, 0x5A, 0x45
STEP = 1 << 18
F_SETPIPE_SZ = 1031


def grow(fd):
    try:
        import fcntl
        fcntl.fcntl(fd, F_SETPIPE_SZ, 1 << 20)  # fewer wake-ups per megabyte
    except Exception:
        pass


def main(dest):
    os.makedirs(dest, exist_ok=True)
    inp = io.FileIO(sys.stdin.fileno(), closefd=False)
    digest = hashlib.sha256()
    buf = bytearray(STEP)
    tar = None

    def fail(code, message):
        sys.stderr.write(message + "\n")
        if tar is not None:
            # tar must be done writing before its half-unpacked tree can go.
            try:
                tar.stdin.close()
            except OSError:
                pass
            tar.wait()
        shutil.rmtree(dest, ignore_errors=True)
        sys.exit(code)

    def read(n):
        # Reads n bytes into one reused buffer (fresh memory is slow to touch) and hashes them.
        nonlocal buf
        if len(buf) < n:
            buf = bytearray(n)
        view = memoryview(buf)[:n]
        got = 0
        while got < n:
            k = inp.readinto(view[got:])
            if not k:
                fail(92, "the upload stream ended early")
            got += k
        digest.update(view)
        return view

    if bytes(read(len(MAGIC))) != MAGIC:
        fail(93, "not a DCD upload stream")
    tar = subprocess.Popen(["tar", "-xmf", "-", "--no-same-owner", "-C", dest], stdin=subprocess.PIPE, bufsize=0)
    out = tar.stdin
    grow(inp.fileno())
    grow(out.fileno())

    def send(view):
        while len(view):
            view = view[out.write(view):]

    try:
        while True:
            head = bytes(read(5))
            kind, n = head[0], int.from_bytes(head[1:], "big")
            if kind == END:
                break
            if kind == RAW:
                # Raw tar bytes go on as they arrive, a step at a time, so neither pipe stalls.
                while n:
                    step = min(n, STEP)
                    send(read(step))
                    n -= step
            elif kind == DEFLATED:
                send(memoryview(zlib.decompress(read(n), -15)))
            else:
                fail(94, "bad frame kind %r" % kind)
        out.close()
    except BrokenPipeError:
        pass
    if tar.wait() != 0:
        fail(91, "tar could not unpack the upload")
    sys.stdout.write("sha256=%s\n" % digest.hexdigest())


if __name__ == "__main__":
    main(sys.argv[1])

"""The upload receiver run as the client runs it on a host: its text through `python -c`.

The streams are framed here, independently of the TypeScript framer, from docs/FORMATS.md §4.
"""
import hashlib
import io
import struct
import subprocess
import sys
import tarfile
import unittest
import zlib

from .helpers import BACKEND, tmpdir

RECEIVER = (BACKEND / "dcd_backend" / "upload_receiver.py").read_text(encoding="utf-8")
FILES = {
    "train.py": b"print('hello')\n",
    "dcd_backend/ids.bin": bytes(i * 7919 % 251 for i in range(300_000)),
    "dcd_backend/empty.txt": b"",
    "a/very/" + "long-" * 30 + "name.txt": b"a pax header carries this name\n",
}


def tar_bytes() -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in FILES.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o644
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def frame(kind: bytes, payload: bytes = b"") -> bytes:
    return kind + struct.pack(">I", len(payload)) + payload


def framed(data: bytes, block: int = 64 << 10) -> bytes:
    """Alternates raw and deflated blocks, as the adaptive framer may."""
    parts = [b"DCDU1\n"]
    for i, at in enumerate(range(0, len(data), block)):
        chunk = data[at:at + block]
        if i % 2:
            z = zlib.compressobj(6, zlib.DEFLATED, -15)
            parts.append(frame(b"Z", z.compress(chunk) + z.flush()))
        else:
            parts.append(frame(b"R", chunk))
    parts.append(frame(b"E"))
    return b"".join(parts)


def receive(stream: bytes, dest) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", RECEIVER, str(dest)], input=stream, capture_output=True, timeout=60)


class UploadReceiver(unittest.TestCase):
    def test_unpacks_raw_and_deflated_blocks_and_prints_the_stream_hash(self):
        data = tar_bytes()
        stream = framed(data)
        self.assertLess(len(stream), len(data), "some blocks went deflated")
        dest = tmpdir(self) / "out"
        res = receive(stream, dest)
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertEqual(res.stdout.decode().strip(), "sha256=" + hashlib.sha256(stream).hexdigest())
        for name, data in FILES.items():
            self.assertEqual((dest / name).read_bytes(), data, name)

    def test_a_cut_stream_exits_92_and_leaves_nothing(self):
        stream = framed(tar_bytes())
        dest = tmpdir(self) / "out"
        res = receive(stream[:-40], dest)
        self.assertEqual(res.returncode, 92)
        self.assertIn(b"ended early", res.stderr)
        self.assertFalse(dest.exists())

    def test_a_foreign_stream_exits_93_and_leaves_nothing(self):
        dest = tmpdir(self) / "out"
        res = receive(zlib.compress(b"not ours"), dest)
        self.assertEqual(res.returncode, 93)
        self.assertFalse(dest.exists())

    def test_an_unknown_frame_kind_exits_94_and_leaves_nothing(self):
        dest = tmpdir(self) / "out"
        res = receive(b"DCDU1\n" + frame(b"X", b"abc"), dest)
        self.assertEqual(res.returncode, 94)
        self.assertFalse(dest.exists())


if __name__ == "__main__":
    unittest.main()

"""Bounded readers for untrusted submission files: WAV, FLAC, NPY and CSV.

Every reader takes the file's bytes (read with :func:`read_regular`, which refuses
links and special files and never reads past its cap) and returns ``(value, problems)``:
it never raises on bad input, never unpickles, and checks every declared size against
the file's real size *before* allocating.  WAV and NPY are parsed here (RIFF chunks,
the NPY header dict via :func:`ast.literal_eval`); FLAC is decoded by libsndfile after
its STREAMINFO block was checked.  Decoding that may still hang or explode runs in a
child process with limits (:mod:`avbench.sandbox`).
"""
from __future__ import annotations

import ast
import csv
import io
import math
import os
import re
import stat
import struct

import numpy as np

from .errors import Problem, ProblemList

#: formats accepted for a slot estimate
AUDIO_EXT = (".wav", ".flac", ".npy")
#: samples further than this from zero are flagged (a warning: scored as they are)
FAR_OUTSIDE = 4.0
#: samples further than this from zero are refused (AVB471): squared and summed over a
#: long item they would overflow float64 and make a metric NaN instead of a score
MAX_AMPLITUDE = 1e6
#: a non-zero estimate whose peak is below this is refused too (AVB471): its squares fall
#: into float64's subnormal range, where the metrics lose their precision (write exact
#: zeros for silence)
MIN_AMPLITUDE = 1e-100
#: the NPY header length numpy itself accepts at most
NPY_MAX_HEADER = 10000
NPY_DTYPES = {"<f4": np.float32, "<f8": np.float64, "<i2": np.int16, "<i4": np.int32}
_NPY_SCALE = {"<i2": 32768.0, "<i4": 2147483648.0}


def audio_cap(n_samples: int) -> int:
    """Most bytes a mono estimate of ``n_samples`` may take (float64 plus 1 MiB of header)."""
    return 8 * int(n_samples) + (1 << 20)


def read_regular(path: str | os.PathLike, cap: int) -> bytes:
    """The bytes of a regular file of at most ``cap`` bytes.

    Opened with ``O_NOFOLLOW | O_NONBLOCK`` (a symlink or FIFO swapped in after the scan
    is refused, never followed or waited on); raises ``ValueError`` naming what it is.
    """
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(path, flags)
    except OSError as e:
        raise ValueError(f"cannot open ({e.strerror})") from e
    return _read_fd(fd, cap)


def open_under(root: str | os.PathLike, rel: str) -> int:
    """A read-only descriptor of ``root/rel``, every component opened with ``O_NOFOLLOW``
    relative to its parent's descriptor: a link anywhere on the path (a folder swapped
    for a symlink after the scan, say) is refused, never followed.  Raises ``ValueError``."""
    parts = [c for c in str(rel).split("/") if c]
    if not parts or any(c in (".", "..") for c in parts):
        raise ValueError(f"not a plain relative path: {rel!r}")
    nofollow = getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(root, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError as e:
        raise ValueError(f"cannot open the submission folder ({e.strerror})") from e
    try:
        for c in parts[:-1]:
            try:
                nxt = os.open(c, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | nofollow, dir_fd=fd)
            except OSError as e:
                raise ValueError(f"cannot open folder {c!r} ({e.strerror}; a link is never followed)") from e
            os.close(fd)
            fd = nxt
        try:
            return os.open(parts[-1], os.O_RDONLY | nofollow | getattr(os, "O_NONBLOCK", 0), dir_fd=fd)
        except OSError as e:
            raise ValueError(f"cannot open ({e.strerror})") from e
    finally:
        os.close(fd)


def _read_fd(fd: int, cap: int) -> bytes:
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise ValueError("not a regular file")
        if st.st_size > cap:
            raise ValueError(f"{st.st_size} bytes, over the cap of {cap}")
        chunks, left = [], cap + 1
        while left > 0:
            b = os.read(fd, min(left, 1 << 20))
            if not b:
                break
            chunks.append(b)
            left -= len(b)
        data = b"".join(chunks)
        if len(data) > cap:
            raise ValueError(f"over the cap of {cap} bytes")
        return data
    finally:
        os.close(fd)


def read_under(root: str | os.PathLike, rel: str, cap: int) -> bytes:
    """The bytes of the regular file ``root/rel`` (at most ``cap``), no link followed on
    any component of ``rel`` (:func:`open_under`).  Raises ``ValueError``."""
    return _read_fd(open_under(root, rel), cap)


# ----------------------------------------------------------------------------- helpers
def _p(code: str, rel: str, msg: str, fix: str = "", line: int | None = None, col: int | None = None) -> Problem:
    return Problem(code, rel, msg, fix, line, col)


def sniff(data: bytes) -> str:
    """What the bytes look like: ``wav``, ``flac``, ``npy``, ``rf64``, ``w64`` ... or ``unknown``."""
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        return "wav"
    if data[:4] == b"fLaC" or (data[:3] == b"ID3" and b"fLaC" in data[:1 << 16]):
        return "flac"
    if data[:6] == b"\x93NUMPY":
        return "npy"
    if data[:4] in (b"RF64", b"BW64"):
        return "rf64"
    if data[:4] == b"riff":
        return "w64"
    if data[:4] == b"OggS":
        return "ogg"
    if data[:3] == b"ID3" or data[:2] in (b"\xff\xfb", b"\xff\xf3", b"\xff\xf2"):
        return "mp3"
    if data[:2] == b"PK":
        return "zip"
    if data[:4] == b"FORM":
        return "aiff"
    return "unknown"


def check_samples(x: np.ndarray, rel: str) -> tuple[np.ndarray | None, list[Problem]]:
    """The checks every estimate gets (finite, the amplitude range; the far-outside
    warning) on a float64 signal, from a file or from memory."""
    probs: list[Problem] = []
    return _finish(x, rel, probs), probs


def _finish(x: np.ndarray, rel: str, probs: list[Problem]) -> np.ndarray | None:
    """Finite check and the far-outside warning on a decoded float64 signal."""
    if not np.isfinite(x).all():
        probs.append(_p("AVB424", rel, f"{int((~np.isfinite(x)).sum())} NaN or inf sample(s)",
                        "replace non-finite samples (e.g. np.nan_to_num) before writing"))
        return None
    peak = float(np.abs(x).max()) if x.size else 0.0
    if peak > MAX_AMPLITUDE or 0.0 < peak < MIN_AMPLITUDE:
        probs.append(_p("AVB471", rel, f"peak {peak:.3g}, outside the range the metrics score exactly "
                        f"({MIN_AMPLITUDE:g} to {MAX_AMPLITUDE:g}; or exact zeros)",
                        "normalise the estimate (e.g. to peak 1); write exact zeros for silence"))
        return None
    if peak > FAR_OUTSIDE:
        probs.append(_p("AVB450", rel, f"peak {peak:.3g}, far outside [-1, 1]",
                        "check the output scaling (scored as written)"))
    return x


def _shape_checks(rel: str, sr: int | None, ch: int, frames: int, want_sr: int, n: int) -> list[Problem]:
    probs = []
    if sr is not None and sr != want_sr:
        probs.append(_p("AVB421", rel, f"sample rate {sr} Hz, expected {want_sr} Hz", f"resample to {want_sr} Hz"))
    if ch != 1:
        probs.append(_p("AVB423", rel, f"{ch} channels, expected 1", "write mono audio"))
    if frames == 0:
        probs.append(_p("AVB425", rel, "no samples", f"write exactly {n} samples (zeros for silence)"))
    elif frames != n:
        probs.append(_p("AVB422", rel, f"{frames} samples, expected {n}", f"write exactly {n} samples"))
    return probs


# ----------------------------------------------------------------------------- WAV
#: the chunks a WAV file may have before its data chunk
MAX_WAV_CHUNKS = 4096
#: bytes 2..15 of every KSDATAFORMAT_SUBTYPE GUID (the first two are the format tag)
_KSDATAFORMAT_TAIL = b"\x00\x00\x00\x00\x10\x00\x80\x00\x00\xaa\x00\x38\x9b\x71"
_WAV_OK = {(1, 16): "<i2", (1, 24): "i24", (1, 32): "<i4", (3, 32): "<f4", (3, 64): "<f8"}


def read_wav(data: bytes, rel: str, want_sr: int, n: int) -> tuple[np.ndarray | None, list[Problem]]:
    """Parse a RIFF/WAVE file: PCM 16/24/32-bit or IEEE float 32/64, mono.  Shape: ``(n,)``."""
    size = len(data)
    pos, fmt, data_off, data_len = 12, None, None, None
    std = "write a standard WAV (e.g. soundfile.write)"
    for k in range(MAX_WAV_CHUNKS + 1):  # chunk walk, bounded
        if pos + 8 > size:
            break
        if k == MAX_WAV_CHUNKS:
            return None, [_p("AVB420", rel, f"more than {MAX_WAV_CHUNKS} chunks before the data chunk", std)]
        cid, clen = data[pos:pos + 4], struct.unpack_from("<I", data, pos + 4)[0]
        body = pos + 8
        if cid == b"fmt ":
            if fmt is not None:  # readers disagree on which one counts: refuse rather than guess
                return None, [_p("AVB420", rel, "two fmt chunks", std)]
            if clen < 16 or body + 16 > size:
                return None, [_p("AVB420", rel, "broken fmt chunk", std)]
            tag, ch, sr, _, align, bits = struct.unpack_from("<HHIIHH", data, body)
            if tag == 0xFFFE:  # WAVE_FORMAT_EXTENSIBLE: the sub-format GUID names the format
                if clen < 40 or body + 40 > size:
                    return None, [_p("AVB420", rel, "broken WAVE_FORMAT_EXTENSIBLE fmt chunk", std)]
                guid = data[body + 24:body + 40]
                if guid[2:] != _KSDATAFORMAT_TAIL:
                    return None, [_p("AVB427", rel, "unsupported WAVE_FORMAT_EXTENSIBLE sub-format",
                                     "write PCM 16/24/32-bit or 32/64-bit float")]
                tag = struct.unpack_from("<H", guid, 0)[0]
            fmt = (tag, ch, sr, align, bits)
        elif cid == b"data":
            data_off, data_len = body, clen
            break
        if clen > size:  # a chunk longer than the file before the data chunk
            break
        pos = body + clen + (clen & 1)
    if fmt is None or data_off is None:
        return None, [_p("AVB420", rel, "no fmt or data chunk: not a usable WAV file",
                         "write a standard WAV (e.g. soundfile.write)")]
    tag, ch, sr, align, bits = fmt
    kind = _WAV_OK.get((tag, bits))
    if kind is None:
        what = {6: "A-law", 7: "mu-law", 2: "ADPCM", 0x11: "IMA ADPCM", 0x55: "MP3"}.get(tag, f"format tag {tag}")
        return None, [_p("AVB427", rel, f"unsupported sample format ({what}, {bits} bit)",
                         "write PCM 16/24/32-bit or 32/64-bit float")]
    if ch < 1 or ch > 1024 or align != ch * bits // 8:
        return None, [_p("AVB420", rel, f"inconsistent fmt chunk ({ch} channels, block align {align})",
                         "write a standard WAV (e.g. soundfile.write)")]
    avail = size - data_off
    if data_len > avail:
        if data_len > audio_cap(n) * max(ch, 1):
            return None, [_p("AVB428", rel, f"header declares {data_len} bytes of audio in a {size}-byte file",
                             "rewrite the file; the header's data size is impossible")]
        return None, [_p("AVB426", rel, f"truncated: {avail} of {data_len} declared audio bytes present",
                         "rewrite the file completely")]
    frames = data_len // align
    probs = _shape_checks(rel, sr, ch, frames, want_sr, n)
    if probs:
        return None, probs
    raw = data[data_off:data_off + frames * align]
    if kind == "i24":
        b = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 3).astype(np.int32)
        v = (b[:, 0] | (b[:, 1] << 8) | (b[:, 2] << 16))
        v = np.where(v >= 1 << 23, v - (1 << 24), v)
        x = v.astype(np.float64) / float(1 << 23)
    else:
        with np.errstate(all="ignore"):  # NaN payloads are reported by _finish
            x = np.frombuffer(raw, dtype=kind).astype(np.float64)
        if kind in _NPY_SCALE:
            x /= _NPY_SCALE[kind]
    return _finish(x, rel, probs), probs


# ----------------------------------------------------------------------------- FLAC
def flac_streaminfo(data: bytes) -> tuple[int, int, int, int] | None:
    """``(sample_rate, channels, bits, total_samples)`` of a FLAC stream, or ``None``."""
    off = data.find(b"fLaC", 0, 1 << 16)
    if off < 0 or off + 8 + 34 > len(data):
        return None
    hdr = data[off + 4:off + 8]
    if hdr[0] & 0x7F != 0 or int.from_bytes(hdr[1:4], "big") < 34:
        return None
    si = data[off + 8:off + 8 + 34]
    v = int.from_bytes(si[10:18], "big")
    sr = v >> 44
    ch = ((v >> 41) & 0x7) + 1
    bits = ((v >> 36) & 0x1F) + 1
    total = v & ((1 << 36) - 1)
    return sr, ch, bits, total


def _flac_frames_decoded(data: bytes) -> int | None:
    """Samples in every FLAC frame of the stream, counted by FFmpeg (PyAV), which unlike
    libsndfile does not stop at STREAMINFO's total; ``None`` if it cannot decode."""
    try:
        import av

        with av.open(io.BytesIO(data), format="flac") as c:
            return sum(fr.samples for fr in c.decode(audio=0))
    except Exception:  # noqa: BLE001 - libsndfile decoded it; this count is a second opinion only
        return None


def read_flac(data: bytes, rel: str, want_sr: int, n: int) -> tuple[np.ndarray | None, list[Problem]]:
    import soundfile as sf

    info = flac_streaminfo(data)
    if info is None:
        return None, [_p("AVB420", rel, "no FLAC STREAMINFO block: not a usable FLAC file",
                         "write a standard FLAC (e.g. soundfile.write)")]
    sr, ch, bits, total = info
    if total > 16 * audio_cap(n):
        return None, [_p("AVB428", rel, f"header declares {total} samples", "rewrite the file")]
    if total:
        probs = _shape_checks(rel, sr, ch, total, want_sr, n)
        if probs:
            return None, probs
    blocks: list[np.ndarray] = []
    got, opened = 0, False
    try:
        with sf.SoundFile(io.BytesIO(data)) as f:
            opened = True
            if f.samplerate != want_sr or f.channels != 1:
                return None, _shape_checks(rel, f.samplerate, f.channels, n, want_sr, n)
            if f.subtype not in ("PCM_16", "PCM_24", "PCM_S8", "PCM_32"):
                return None, [_p("AVB427", rel, f"unsupported FLAC subtype {f.subtype}", "write 16 or 24-bit FLAC")]
            while got <= n:  # blocks: a stream that breaks part-way is told apart from one that never decodes
                b = f.read(frames=min(1 << 16, n + 1 - got), dtype="float64", always_2d=False)
                if b.shape[0] == 0:
                    break
                blocks.append(b)
                got += b.shape[0]
    except MemoryError:
        raise
    except Exception as e:  # noqa: BLE001 - libsndfile rejects the stream: the user's file
        if opened:  # the header was read: the audio frames are cut off or damaged
            return None, [_p("AVB426", rel, f"truncated or damaged: decoding stops after {got} of {total or n} "
                             "samples", "rewrite the file completely")]
        return None, [_p("AVB420", rel, f"cannot decode FLAC ({type(e).__name__})",
                         "write a standard FLAC (e.g. soundfile.write)")]
    x = np.concatenate(blocks) if blocks else np.zeros(0)
    if total and x.shape[0] == total and (_flac_frames_decoded(data) or 0) > total:
        return None, [_p("AVB422", rel, f"the stream holds more samples than the {total} its STREAMINFO declares",
                         f"write exactly {n} samples with a standard encoder (e.g. soundfile.write)")]
    if total and x.shape[0] < total:
        return None, [_p("AVB426", rel, f"truncated: {x.shape[0]} of {total} declared samples decode",
                         "rewrite the file completely")]
    probs = _shape_checks(rel, None, 1, int(x.shape[0]), want_sr, n)
    if probs:
        return None, probs
    return _finish(x, rel, probs), probs


# ----------------------------------------------------------------------------- NPY
def parse_npy_header(data: bytes, rel: str = "<npy>") -> tuple[dict | None, int, list[Problem]]:
    """``(header, payload_offset, problems)`` of an NPY file, without touching the payload."""
    if data[:6] != b"\x93NUMPY":
        what = sniff(data)
        return None, 0, [_p("AVB460", rel, f"not an NPY file (looks like {what})",
                            "save with numpy.save, or name the file after its format")]
    if len(data) < 10:
        return None, 0, [_p("AVB462", rel, "NPY preamble truncated", "save with numpy.save")]
    major = data[6]
    if major == 1:
        hlen, start = struct.unpack_from("<H", data, 8)[0], 10
    elif major in (2, 3) and len(data) >= 12:
        hlen, start = struct.unpack_from("<I", data, 8)[0], 12
    else:
        return None, 0, [_p("AVB462", rel, f"unknown NPY format version {major}", "save with numpy.save")]
    if hlen > NPY_MAX_HEADER:
        return None, 0, [_p("AVB462", rel, f"NPY header of {hlen} bytes (cap {NPY_MAX_HEADER})", "save with numpy.save")]
    if start + hlen > len(data):
        return None, 0, [_p("AVB462", rel, "NPY header truncated", "save with numpy.save")]
    try:
        text = data[start:start + hlen].decode("utf-8" if major == 3 else "latin1")
        if any(c in text for c in "\0"):
            raise ValueError("NUL in header")
        hdr = ast.literal_eval(text)
    except (ValueError, SyntaxError, MemoryError, RecursionError, TypeError, UnicodeDecodeError):
        return None, 0, [_p("AVB462", rel, "NPY header is not a Python literal dict", "save with numpy.save")]
    if not isinstance(hdr, dict) or set(hdr) != {"descr", "fortran_order", "shape"}:
        return None, 0, [_p("AVB462", rel, "NPY header must hold exactly descr, fortran_order, shape",
                            "save with numpy.save")]
    descr, shape = hdr["descr"], hdr["shape"]
    if not isinstance(hdr["fortran_order"], bool):
        return None, 0, [_p("AVB462", rel, "NPY fortran_order is not a bool", "save with numpy.save")]
    if not isinstance(shape, tuple) or not all(type(d) is int and d >= 0 for d in shape):
        return None, 0, [_p("AVB464", rel, "NPY shape is not a tuple of sizes", "save a 1-D array")]
    if "O" in (descr if isinstance(descr, str) else repr(descr)):
        return None, 0, [_p("AVB461", rel, "NPY holds Python objects (needs pickle; never loaded)",
                            "save a float32 1-D array")]
    if not isinstance(descr, str):
        return None, 0, [_p("AVB463", rel, "structured NPY dtypes are not supported", "save a float32 1-D array")]
    return hdr, start + hlen, []


def read_npy(data: bytes, rel: str, want_sr: int, n: int) -> tuple[np.ndarray | None, list[Problem]]:
    hdr, off, probs = parse_npy_header(data, rel)
    if hdr is None:
        return None, probs
    descr, shape = hdr["descr"], hdr["shape"]
    if descr not in NPY_DTYPES:
        return None, [_p("AVB463", rel, f"dtype {descr!r} not supported",
                         "save float32 or float64 (little-endian), or int16/int32 PCM")]
    count = math.prod(shape) if shape else 1
    if len(shape) != 1 or count > audio_cap(n):
        return None, [_p("AVB464", rel, f"shape {shape}: expected ({n},)", "save a 1-D array of the item's samples")]
    item = np.dtype(NPY_DTYPES[descr]).itemsize
    if len(data) - off != count * item:
        return None, [_p("AVB465", rel, f"payload of {len(data) - off} bytes, header declares {count * item}",
                         "save with numpy.save and copy the file completely")]
    probs = _shape_checks(rel, None, 1, count, want_sr, n)
    if probs:
        return None, probs
    with np.errstate(all="ignore"):
        x = np.frombuffer(data, dtype=NPY_DTYPES[descr], count=count, offset=off).astype(np.float64)
    if descr in _NPY_SCALE:
        x /= _NPY_SCALE[descr]
    return _finish(x, rel, probs), probs


# ----------------------------------------------------------------------------- dispatch
def read_estimate(data: bytes, rel: str, want_sr: int, n: int) -> tuple[np.ndarray | None, list[Problem]]:
    """Decode one slot estimate after checking it; ``(samples or None, problems)``.

    The format comes from the name (``.wav``, ``.flac``, ``.npy``) and must match the
    bytes.  Shape: ``(n,)`` float64.  Sample rates are not checked for NPY (it has none).
    """
    ext = os.path.splitext(rel)[1].lower()
    if ext == ".npy":
        return read_npy(data, rel, want_sr, n)
    kind = sniff(data)
    if ext == ".wav" and kind == "wav":
        return read_wav(data, rel, want_sr, n)
    if ext == ".flac" and kind == "flac":
        return read_flac(data, rel, want_sr, n)
    if ext not in (".wav", ".flac"):
        return None, [_p("AVB413", rel, f"{ext or 'no extension'}: not .wav, .flac or .npy", "remove it")]
    if len(data) == 0:
        return None, [_p("AVB425", rel, "empty file", f"write exactly {n} samples (zeros for silence)")]
    hint = {"rf64": "RF64", "w64": "Wave64"}.get(kind)
    return None, [_p("AVB420", rel, f"not a {ext[1:].upper()} file (looks like {hint or kind})",
                     f"write a standard {ext[1:].upper()} file (e.g. soundfile.write), named after its format")]


# ----------------------------------------------------------------------------- CSV
#: header columns beyond item_id and the classes that are still reported one by one
MAX_EXTRA_COLUMNS = 64
_NUM = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?")  # ASCII digits only


def parse_predictions(data: bytes, rel: str, classes: list[str], ids: list[str]
                      ) -> tuple[dict[str, np.ndarray] | None, list[Problem]]:
    """Parse ``predictions.csv``: ``item_id`` plus one non-negative score column per class.

    Ids are strings exactly as written (``007`` stays ``007``); row and column order
    never matter.  Returns ``({item_id: scores in class order}, problems)``; the dict is
    ``None`` when there is any error.  Line and column of each problem are 1-based.
    """
    probs: list[Problem] = ProblemList()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data[:e.start].count(b"\n") + 1
        col = e.start - (data.rfind(b"\n", 0, e.start) + 1) + 1
        return None, [_p("AVB433", rel, "not UTF-8", "save the file as UTF-8", line, col)]
    if not text.strip():
        return None, [_p("AVB430", rel, "empty file", "write a header row item_id,<class>,... and one row per item")]
    nul = text.find("\0")
    if nul >= 0:
        line = text.count("\n", 0, nul) + 1
        return None, [_p("AVB430", rel, "NUL byte: not a text CSV", "write plain comma-separated text", line,
                         nul - (text.rfind("\n", 0, nul) + 1) + 1)]
    # streamed: each row is checked as it is read and then dropped, so memory stays a small
    # multiple of the file whatever it holds (16 MiB of blank lines once took 3 GB)
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader)
    except csv.Error as e:
        return None, [_p("AVB430", rel, f"not parseable as CSV ({e})", "write plain comma-separated values", 1)]
    hline = reader.line_num
    if len(header) > len(classes) + 1 + MAX_EXTRA_COLUMNS:
        return None, [_p("AVB431", rel, f"{len(header)} header columns; the task has {len(classes)} classes",
                         "write item_id plus one column per class of the task", hline)]
    seen_cols: dict[str, int] = {}
    for j, c in enumerate(header, start=1):
        if c in seen_cols:
            probs.append(_p("AVB434", rel, f"column {c!r} appears twice", "keep one column per class", hline, j))
        seen_cols.setdefault(c, j)
    if "item_id" not in seen_cols:
        if len(header) == 1 and (";" in header[0] or "\t" in header[0]):
            return None, [_p("AVB431", rel, "one header column holding ';' or tabs",
                             "the delimiter must be ',' (e.g. pandas to_csv(sep=','))", hline)]
        probs.append(_p("AVB431", rel, "no item_id column", "name the first column item_id", hline))
    missing = [c for c in classes if c not in seen_cols]
    unknown = [c for c in seen_cols if c not in classes and c != "item_id"]
    if missing:
        probs.append(_p("AVB431", rel, f"missing class column(s): {', '.join(missing)}",
                        "add one score column per class of the task", hline))
    for c in unknown:
        if c == "" and seen_cols[c] == 1:
            probs.append(_p("AVB431", rel, "an unnamed first column (a pandas index?)",
                            "written with index=True? write the file with to_csv(index=False)", hline, 1))
            continue
        probs.append(_p("AVB431", rel, f"unknown class column {c[:60]!r}",
                        f"use the task's class names: {', '.join(classes)}"
                        + (" (strip the spaces around names)" if c.strip() in classes else ""), hline, seen_cols[c]))
    if "item_id" not in seen_cols:
        return None, probs
    width = len(header)
    id_col = seen_cols["item_id"] - 1
    cols = [seen_cols.get(c, 0) - 1 for c in classes]  # -1: missing column, reported above
    known = set(ids)
    out: dict[str, np.ndarray] = {}
    # the longest line a valid row can need: the id and every score written out at length
    max_line = 4 * (max((len(i) for i in ids), default=0) + 64 * len(header) + 256)
    blank: list[int] = []
    stopped = False  #: reading ended early (a bomb): items after it are not reported missing

    def body():
        while True:
            try:
                r = next(reader)
            except StopIteration:
                return
            except csv.Error as e:
                probs.append(_p("AVB430", rel, f"not parseable as CSV ({e})", "write plain comma-separated values",
                                reader.line_num))
                return
            yield reader.line_num, r

    for line, r in body():
        if not r or (len(r) == 1 and r[0].strip() == ""):  # a blank line: counted, refused below
            blank.append(line)
            if len(blank) > len(ids) + 16:  # more blank lines than rows: stop reading
                stopped = True
                break
            continue
        if sum(len(c) for c in r) + len(r) > max_line:
            probs.append(_p("AVB439", rel, f"a line of {sum(len(c) for c in r) + len(r):,} characters, longer than "
                            "any valid row of this task", "write one short row per item: the id and one number "
                            "per class", line))
            stopped = True
            break
        if len(r) != width:
            probs.append(_p("AVB437", rel, f"{len(r)} cells, the header has {width}", "one cell per column", line))
            if len(r) > id_col and r[id_col] in known:
                out.setdefault(r[id_col], np.empty(0))  # reported as ragged, not also as missing
            continue
        iid = r[id_col]
        if iid == "":
            probs.append(_p("AVB435", rel, "empty item_id", "write the item's id", line, id_col + 1))
            continue
        if iid in out:
            probs.append(_p("AVB412", rel, f"item {iid[:80]!r} appears again", "keep one row per item", line,
                            id_col + 1))
            continue
        if iid not in known:
            fix = ("strip the spaces around the id" if iid.strip() in known else
                   "remove the row; ids are the task's, compared as strings")
            probs.append(_p("AVB411", rel, f"unknown item {iid[:80]!r}", fix, line, id_col + 1))
            out[iid] = np.empty(0)
            continue
        vals = np.empty(len(cols))
        ok = True
        for k, j in enumerate(cols):
            if j < 0:
                ok = False
                continue
            cell = r[j].strip()
            if cell == "":
                probs.append(_p("AVB435", rel, f"empty score for {classes[k]}", "write a number", line, j + 1))
                ok = False
                continue
            if not _NUM.fullmatch(cell):
                probs.append(_p("AVB432", rel, f"score {cell[:40]!r} is not a number", "write a finite decimal number",
                                line, j + 1))
                ok = False
                continue
            v = float(cell)
            if not math.isfinite(v):
                probs.append(_p("AVB432", rel, f"score {cell[:40]!r} overflows", "write a finite number", line, j + 1))
                ok = False
            elif v < 0:
                probs.append(_p("AVB436", rel, f"negative score {cell[:40]}", "write non-negative scores "
                                "(probabilities, or shift logits by softmax)", line, j + 1))
                ok = False
            vals[k] = v
        out[iid] = vals if ok else np.empty(0)
    if blank:
        more = "or more " if len(blank) > len(ids) + 16 else ""
        probs.append(_p("AVB438", rel, f"{len(blank)} {more}blank line(s), the first at line {blank[0]}",
                        "remove the blank lines: one row per item, no empty rows", blank[0]))
    for iid in ids if not stopped else ():
        if iid not in out:
            probs.append(_p("AVB410", rel, f"missing item {iid!r}", "add a row for every item of the task"))
    if any(p.severity == "error" for p in probs):
        return None, probs
    return out, probs

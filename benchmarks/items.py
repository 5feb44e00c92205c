"""Seeded, music-like evaluation items shared by the asv suites, compare.py and the tests,
and BSS Eval from its definition (the independent reference of the exactness checks)."""
import numpy as np


def music_item(seed: int, n_src: int, n: int, sr: int = 11025):
    """Harmonic notes with decays, note changes, vibrato, leakage, filtering and noise.

    Shape: returns references and estimates ``(n_src, n)`` float64.
    """
    rng = np.random.default_rng(seed)
    t = np.arange(n) / sr
    refs = np.zeros((n_src, n))
    for j in range(n_src):
        n_notes = max(2, n // (sr // 2))
        bounds = np.linspace(0, n, n_notes + 1).astype(int)
        for s, e in zip(bounds[:-1], bounds[1:]):
            f0 = 55 * 2 ** (rng.integers(0, 48) / 12)
            tt = t[s:e] - t[s]
            env = np.exp(-2.5 * tt)
            for h in range(1, 9):
                if f0 * h < sr / 2:
                    refs[j, s:e] += env * np.sin(2 * np.pi * f0 * h * tt + rng.uniform(0, 6)) / h
        refs[j] += 1e-3 * rng.standard_normal(n)
    mixing = rng.uniform(0, 0.3, (n_src, n_src))
    np.fill_diagonal(mixing, 1.0)
    est = mixing @ refs
    for j in range(n_src):
        est[j] = np.convolve(est[j], np.r_[1.0, rng.normal(0, 0.2, 4)], mode="full")[:n]
    est += 0.02 * rng.standard_normal(est.shape)
    return refs, est


def sustained_item(seed: int, n_src: int, n: int, sr: int = 11025):
    """Sustained, narrowband tones (flute, strings, organ-like pads): one long harmonic
    note per source with slow vibrato and a slow decay, per-source filtering, small
    delays, 2-40% leakage and noise at -30 to -8 dB.  Their autocorrelations are
    ill-conditioned, the hard case of the Toeplitz solvers.  Shape: ``(n_src, n)`` float64."""
    rng = np.random.default_rng(seed)
    t = np.arange(n) / sr
    refs = np.zeros((n_src, n))
    for j in range(n_src):
        f0 = 110 * 2 ** (rng.integers(0, 36) / 12)
        vib = 1 + 0.004 * np.sin(2 * np.pi * rng.uniform(4, 6) * t)
        phase = 2 * np.pi * f0 * np.cumsum(vib) / sr
        env = np.exp(-rng.uniform(0.05, 0.5) * t)
        for h in range(1, 6):
            if f0 * h < sr / 2:
                refs[j] += env * np.sin(h * phase + rng.uniform(0, 6)) * rng.uniform(0.2, 1.0) / h
    est = np.zeros_like(refs)
    for j in range(n_src):
        for k in range(n_src):
            w = 1.0 if j == k else rng.uniform(0.02, 0.4)
            delay = int(rng.integers(0, 8))
            est[j, delay:] += w * refs[k, : n - delay]
        est[j] = np.convolve(est[j], np.r_[1.0, rng.normal(0, 0.3, 6)], mode="full")[:n]
        snr = rng.uniform(8, 30)
        est[j] += np.sqrt(np.mean(est[j] ** 2) * 10 ** (-snr / 10)) * rng.standard_normal(n)
    return refs, est


def _delayed(r: np.ndarray, L: int) -> np.ndarray:
    """The explicit ``(N + L - 1) x L`` matrix of ``r`` delayed by 0 .. L-1 samples."""
    N = r.size
    A = np.zeros((N + L - 1, L))
    for a in range(L):
        A[a : a + N, a] = r
    return A


def definition_sources(R: np.ndarray, E: np.ndarray, L: int = 512) -> np.ndarray:
    """BSS Eval v3 SDR, SIR, SAR ``(3, n)`` from the definition itself: orthogonal
    projections of each (zero-padded) estimate onto the explicit matrix of all delayed
    references and onto its own reference's, by Householder QR (``numpy.linalg.qr``), and
    the energies of the projected signals.  Independent of avbench's correlations and
    solvers and of mir_eval; memory ``8 (N + L) n L`` bytes (1.1 GB for 4 sources of
    65535 samples)."""
    n, N = R.shape
    blocks = [_delayed(r, L) for r in R]
    Q = np.linalg.qr(np.hstack(blocks))[0]
    out = []
    for j in range(n):
        e = np.r_[E[j], np.zeros(L - 1)]
        Qj = np.linalg.qr(blocks[j])[0]
        p_all = Q @ (Q.T @ e)
        s = Qj @ (Qj.T @ e)
        interf, artif = p_all - s, e - p_all
        with np.errstate(divide="ignore"):
            out.append((10 * np.log10(s @ s / ((interf + artif) @ (interf + artif))),
                        10 * np.log10(s @ s / (interf @ interf)), 10 * np.log10(p_all @ p_all / (artif @ artif))))
        del Qj
    return np.array(out).T

"""Entropy coding of packed mask bytes with a model of k: static rANS, interleaved over lanes so that numpy codes one
vector of lanes per step (a Python loop over millions of bits would take minutes).

The bits of a keep-k mask are close to independent Bernoulli(k) draws (a seeded init and random or searched scores
carry no order), so a byte with c set bits gets probability k^c (1-k)^(8-c). The table is quantised to PRECISION
bits by exact integer arithmetic on k's exact binary fraction, so it, and so every coded byte, is the same on every
platform. The coded size is H(k) per bit plus the table's rounding and 8 bytes of final state per lane: about 0.1%
over the entropy bound at k = 0.1, where xz is about 3% over. Lanes grow with the payload so that it takes about
_STEPS numpy steps whatever its size.

Stream: the lanes' final 64-bit states, then the 32-bit renormalisation words in the order the decoder reads them
(little-endian). States live in [2^32, 2^64) and start at 2^32, so a decoder that does not end there on every lane,
or does not use up every word, has been given a damaged stream.
"""
from fractions import Fraction

import numpy as np

PRECISION = 20  # bits of the frequency table (at most 32, the word size)
_M = 1 << PRECISION
_LOW = np.uint64(1 << 32)
_SHIFT = np.uint64(32)
_WORD = np.uint64(0xFFFFFFFF)
_STEPS = 16384
_MAX_LANES = 4096
_POPCOUNT = np.unpackbits(np.arange(256, dtype=np.uint8)[:, None], axis=1).sum(axis=1)


class StreamError(ValueError):
    """A coded stream that does not decode to the expected bytes."""


def frequencies(k):
    """The quantised table: freq[b] for each byte value b, summing to 2**PRECISION, every entry at least 1."""
    p = Fraction(k)
    per_count = [max(1, int(_M * p ** c * (1 - p) ** (8 - c))) for c in range(9)]
    freq = np.array(per_count, dtype=np.int64)[_POPCOUNT]
    freq[int(np.argmax(freq))] += _M - int(freq.sum())  # the rounding goes to the most likely byte
    return freq


def _layout(n):
    lanes = min(_MAX_LANES, max(1, -(-n // _STEPS)))
    return lanes, -(-n // lanes)


def _tables(k):
    freq = frequencies(k)
    cum = np.concatenate([[0], np.cumsum(freq)[:-1]])
    return freq.astype(np.uint64), cum.astype(np.uint64)


def encode(data, k):
    """Coded bytes (uint8 array) of a flat uint8 array, modelled with kept fraction k."""
    data = np.asarray(data, dtype=np.uint8).reshape(-1)
    n = data.size
    if n == 0:
        return np.zeros(0, np.uint8)
    freq, cum = _tables(k)
    lanes, steps = _layout(n)
    f, c = freq[data], cum[data]
    x = np.full(lanes, _LOW, dtype=np.uint64)
    limits = f << np.uint64(64 - PRECISION)  # renormalise while x >= f * 2^(64 - PRECISION); below 2^64 as f < M
    words = []
    for t in range(steps - 1, -1, -1):  # rANS codes backwards, so that decoding runs forwards
        lo, hi = t * lanes, min(n, (t + 1) * lanes)
        xs, ft = x[:hi - lo].copy(), f[lo:hi]
        big = xs >= limits[lo:hi]
        words.append(xs[big] & _WORD)
        xs[big] >>= _SHIFT
        x[:hi - lo] = ((xs // ft) << np.uint64(PRECISION)) + xs % ft + c[lo:hi]
    words.reverse()
    stream = np.concatenate(words).astype("<u4") if words else np.zeros(0, "<u4")
    return np.concatenate([x.astype("<u8").view(np.uint8), stream.view(np.uint8)])


def decode(blob, k, n):
    """The n bytes coded in blob by encode(., k); raises StreamError unless blob is exactly such a stream."""
    blob = np.asarray(blob, dtype=np.uint8).reshape(-1)
    if n == 0:
        if blob.size:
            raise StreamError("a stream for no bytes must be empty")
        return np.zeros(0, np.uint8)
    lanes, steps = _layout(n)
    if blob.size < 8 * lanes or (blob.size - 8 * lanes) % 4:
        raise StreamError(f"{blob.size} bytes cannot be an rANS stream of {n} bytes")
    x = blob[:8 * lanes].copy().view("<u8").astype(np.uint64)
    words = blob[8 * lanes:].copy().view("<u4").astype(np.uint64)
    if bool((x < _LOW).any()):
        raise StreamError("a lane's final state is out of range")
    freq, cum = _tables(k)
    slot_symbol = np.repeat(np.arange(256, dtype=np.uint8), freq.astype(np.int64))
    # per slot of the table: its byte's frequency, and its offset within that byte's range
    slot_freq, slot_offset = freq[slot_symbol], np.arange(_M, dtype=np.uint64) - cum[slot_symbol]
    slots, pos, low_bits = np.empty(n, np.uint64), 0, np.uint64(_M - 1)
    for t in range(steps):
        lo, hi = t * lanes, min(n, (t + 1) * lanes)
        slot = x[:hi - lo] & low_bits
        slots[lo:hi] = slot
        xs = slot_freq[slot] * (x[:hi - lo] >> np.uint64(PRECISION)) + slot_offset[slot]
        need = xs < _LOW
        count = int(np.count_nonzero(need))
        if count:
            if pos + count > words.size:
                raise StreamError("the stream ends early")
            xs[need] = (xs[need] << _SHIFT) | words[pos:pos + count]
            pos += count
        x[:hi - lo] = xs
    if pos != words.size or bool((x != _LOW).any()):
        raise StreamError("the stream does not decode back to its initial state (damaged or not for this k)")
    return slot_symbol[slots]

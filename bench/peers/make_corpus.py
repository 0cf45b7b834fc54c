#!/usr/bin/env python3
# Copied from ../shared/bench/peers/ (the independent BM25 peer benchmark) so that bench/search.py runs
# from the repository; kept as it is there, but for the seeds folder (the bundled bot/samples, the same files).
"""Build the benchmark corpora and queries from the real transcripts.

  python make_corpus.py [--seeds ../../shared/seeds] [--out DIR]

Outputs (in --out, default $PEERS_DATA or ~/.cache/peers-data):
  base.jsonl        real segments: {"id", "src", "text", "tokens"}
  corpus_10k.txt    \
  corpus_100k.txt    > one segment per line, tokens joined by one space
  corpus_1m.txt     /  (corpus_N = first N lines of one deterministic stream)
  queries.json      200 queries: {"id", "kind": "real"|"common", "tokens"}
  stats.json        sizes, vocabulary growth, length distribution

Steps
 1. Extract English text lines from each transcript (format detected per file):
    "*  text [[hh:mm:ss](url)]" bullets, "[mm:ss] text" captions (rolling
    caption overlap removed, Chinese translation lines dropped),
    "[t --> t]  text" whisper lines, and markdown/plain prose (headings,
    speaker labels, page boilerplate repeated >= 5 times dropped).  URLs,
    markdown, ">>" speaker marks and [MUSIC]-style tags are stripped; duplicate
    lines (consecutive, and any repeat of a line with >= 6 words) are dropped.
 2. Sentence-split each file's text stream; drop exact duplicate sentences
    (>= 5 tokens) across files; pack sentences into ~25-word segments
    (long sentences are cut into even pieces of <= 40 words).
 3. Scale: the stream starts with every real segment verbatim, then adds
    perturbed copies: pick a real segment, swap ~30% of its sentence pieces
    with length-matched pieces from other segments, then replace 12% of
    tokens and insert 3% extra tokens.  Each mixed-in token is, with
    probability 0.7, a real word drawn from the real (Zipfian) unigram
    distribution -- so common-word document frequencies stay as in the real
    transcripts (df(the) ~ 0.67) -- and with probability 0.3 a word from a
    Zipf(a=1.1) tail of 3M pronounceable pseudo-words built from real
    syllables, so the vocabulary keeps growing with corpus size roughly like
    Heaps' law (~9k / ~40k / ~215k distinct tokens at 10k / 100k / 1M).
 4. Queries: 100 "real" (a random real segment: either a contiguous 1-5 token
    phrase, or its 1-5 most distinctive tokens by idf), 100 "common" (1-5
    distinct tokens from the 150 most frequent tokens).
Everything is driven by fixed seeds.
"""
from __future__ import annotations

import argparse
import collections
import json
import math
import os
import re
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import DATA_DIR, SIZES, tokenize  # noqa: E402

SEED = 20250203

# ---------------------------------------------------------------- extraction
RE_BULLET = re.compile(r"^\*\s+(.*?)\s*\[\[\d{1,2}:\d{2}(?::\d{2})?\]\([^)]*\)\]\s*$")
RE_CAPTION = re.compile(r"^\[(?:\d{1,2}:)?\d{1,2}:\d{2}\]\s*(.*)$")
RE_ARROW = re.compile(r"^\[\d{1,2}:\d{2}:\d{2}[.,]\d+\s*-->\s*\d{1,2}:\d{2}:\d{2}[.,]\d+\]\s*(.*)$")
RE_CJK = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]")
RE_MDLINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
RE_URL = re.compile(r"(?:https?://|www\.)\S+|\b[\w.-]+\.(?:com|ai|org|net|io|co|fm|ly)(?:/\S*)?\b", re.I)
RE_TAG = re.compile(r"\[[A-Z_ ]+\]|\((?:[a-z]+ )?(?:music|laughs?|laughter|applause|inaudible|crosstalk)\)", re.I)
RE_SPEAKER = re.compile(r"^\*\*[^*]{1,60}\*\*$")
RE_TIMESTAMP = re.compile(r"\b\d{1,2}:\d{2}(?::\d{2})?\b")


def clean(text: str) -> str:
    t = RE_MDLINK.sub(r"\1", text)
    t = RE_URL.sub(" ", t)
    t = RE_TAG.sub(" ", t)
    t = t.replace("**", " ").replace("__", " ").replace(">>", " ")
    t = RE_TIMESTAMP.sub(" ", t)
    return re.sub(r"\s+", " ", t).strip()


def strip_overlap(prev: list[str], cur: list[str]) -> list[str]:
    """Rolling captions repeat the tail of the previous line; drop it."""
    for k in range(min(len(prev), len(cur)), 1, -1):
        if prev[-k:] == cur[:k]:
            return cur[k:]
    return cur


def extract_lines(path: str) -> tuple[str, list[str]]:
    with open(path, encoding="utf-8", errors="replace") as f:
        raw = [ln.rstrip("\n") for ln in f]
    nonempty = [ln for ln in raw if ln.strip()]
    counts = {
        "bullet": sum(1 for ln in nonempty if RE_BULLET.match(ln)),
        "caption": sum(1 for ln in nonempty if RE_CAPTION.match(ln)),
        "arrow": sum(1 for ln in nonempty if RE_ARROW.match(ln)),
    }
    fmt, n = max(counts.items(), key=lambda kv: kv[1])
    if n < 0.3 * len(nonempty):
        fmt = "prose"
    out: list[str] = []
    if fmt in ("bullet", "caption", "arrow"):
        rx = {"bullet": RE_BULLET, "caption": RE_CAPTION, "arrow": RE_ARROW}[fmt]
        prev_words: list[str] = []
        for ln in raw:
            m = rx.match(ln)
            if not m:
                continue  # headers, descriptions, translation lines
            text = m.group(m.lastindex)
            if RE_CJK.search(text):
                continue
            text = clean(text)
            if not text:
                continue
            words = text.split()
            if fmt == "caption":
                words = strip_overlap(prev_words, words) if prev_words else words
                prev_words = text.split()
                if not words:
                    continue
            out.append(" ".join(words))
    else:
        freq = collections.Counter(ln.strip() for ln in nonempty)
        for ln in raw:
            s = ln.strip()
            if not s or s.startswith("#") or RE_SPEAKER.match(s) or RE_CJK.search(s):
                continue
            if freq[s] >= 5 and len(s.split()) < 15:  # page boilerplate
                continue
            if re.match(r"^(Published|Transcribed by)\b", s):
                continue
            s = clean(s)
            words = s.split()
            # keep sentence-like prose: ends like a sentence or is long
            if len(words) < 12 and not re.search(r"[.?!\"'\u201d)\u2026]$", s):
                continue
            out.append(s)
    # drop duplicate lines: consecutive repeats, and any repeat of a long line
    seen: set[str] = set()
    dedup: list[str] = []
    for s in out:
        key = " ".join(tokenize(s))
        if not key:
            continue
        if dedup and key == " ".join(tokenize(dedup[-1])):
            continue
        if len(key.split()) >= 6:
            if key in seen:
                continue
            seen.add(key)
        dedup.append(s)
    return fmt, dedup


RE_SENT = re.compile(r"(?<=[.!?\u2026])[\"'\u201d\u2019)\]]*\s+(?=[\"'\u201c\u2018(\[]?[A-Z0-9])")


def split_sentences(text: str) -> list[str]:
    return [s.strip() for s in RE_SENT.split(text) if s.strip()]


MIN_W, TARGET_W, MAX_W = 15, 25, 40


def pack_segments(sentences: list[str]) -> list[list[list[str]]]:
    """Greedy packing of sentences into segments of ~25 words.

    Returns segments as lists of sentence pieces (each a list of words)."""
    segs: list[list[list[str]]] = []
    cur: list[list[str]] = []
    cur_n = 0
    for sent in sentences:
        words = sent.split()
        if len(words) > MAX_W:
            n_pieces = math.ceil(len(words) / TARGET_W)
            step = len(words) / n_pieces
            pieces = [words[round(i * step): round((i + 1) * step)] for i in range(n_pieces)]
        else:
            pieces = [words]
        for p in pieces:
            if cur and cur_n >= MIN_W and cur_n + len(p) > MAX_W:
                segs.append(cur)
                cur, cur_n = [], 0
            cur.append(p)
            cur_n += len(p)
            if cur_n >= TARGET_W - 3:
                segs.append(cur)
                cur, cur_n = [], 0
    if cur and cur_n >= 5:
        segs.append(cur)
    return segs


def build_base(seeds: str):
    files = sorted(f for f in os.listdir(seeds) if f.endswith(".txt"))
    base = []  # (src, [piece tokens...], text)
    seen_sent: set[str] = set()
    report = {}
    for fn in files:
        fmt, lines = extract_lines(os.path.join(seeds, fn))
        sentences = []
        for s in split_sentences(" ".join(lines)):
            key = " ".join(tokenize(s))
            if not key:
                continue
            if len(key.split()) >= 5:
                if key in seen_sent:
                    continue
                seen_sent.add(key)
            sentences.append(s)
        segs = pack_segments(sentences)
        n_before = len(base)
        for seg in segs:
            pieces = [tokenize(" ".join(p)) for p in seg]
            pieces = [[t for t in p if len(t) < 40] for p in pieces]
            pieces = [p for p in pieces if p]
            if sum(len(p) for p in pieces) < 3:
                continue
            base.append((fn.split("_")[0], pieces, " ".join(" ".join(p) for p in seg)))
        report[fn] = {"format": fmt, "lines": len(lines), "sentences": len(sentences),
                      "segments": len(base) - n_before}
    return base, report


# ---------------------------------------------------------------- scaling
def pseudo_words(real_vocab: set[str], real_by_rank: list[str], n: int, rng) -> list[str]:
    """Deterministic, pronounceable, unique pseudo-words made of real syllables."""
    syl = collections.Counter()
    rx = re.compile(r"[^aeiouy]*[aeiouy]+")
    for w in real_by_rank[:5000]:
        if w.isalpha():
            for s in rx.findall(w):
                if 2 <= len(s) <= 4:
                    syl[s] += 1
    syllables = [s for s, _ in syl.most_common(300)]
    endings = ["", "", "", "s", "n", "r", "t", "x", "ing", "er", "ly", "ed"]
    out: list[str] = []
    seen = set(real_vocab)
    while len(out) < n:
        m = n - len(out)
        k = rng.integers(2, 5, size=m)  # 2-4 syllables
        picks = rng.integers(0, len(syllables), size=(m, 4))
        ends = rng.integers(0, len(endings), size=m)
        for i in range(m):
            w = "".join(syllables[j] for j in picks[i, : k[i]]) + endings[ends[i]]
            if w not in seen and len(w) < 40:
                seen.add(w)
                out.append(w)
    return out


def build_stream(base, total: int, rng, tail_a=1.1, tail_q=0.3, p_sub=0.12, p_ins=0.03,
                 n_pseudo=3_000_000):
    df = collections.Counter()
    tf = collections.Counter()
    for _, pieces, _ in base:
        toks = [t for p in pieces for t in p]
        tf.update(toks)
        df.update(set(toks))
    real_by_rank = [w for w, _ in tf.most_common()]
    t0 = time.time()
    pseudo = pseudo_words(set(real_by_rank), real_by_rank, n_pseudo, rng)
    ext_vocab = real_by_rank + pseudo
    print(f"  extended vocab: {len(real_by_rank)} real + {len(pseudo)} pseudo ({time.time()-t0:.1f}s)")
    # mixture: real words with their real frequencies, plus a Zipf tail of pseudo-words
    real_p = np.array([tf[w] for w in real_by_rank], dtype=np.float64)
    real_p *= (1.0 - tail_q) / real_p.sum()
    tail_p = np.arange(1, len(pseudo) + 1, dtype=np.float64) ** -tail_a
    tail_p *= tail_q / tail_p.sum()
    cdf = np.cumsum(np.concatenate([real_p, tail_p]))
    cdf /= cdf[-1]

    # pool of sentence pieces, bucketed by length for length-matched swaps
    pool = [p for _, pieces, _ in base for p in pieces]
    by_len = collections.defaultdict(list)
    for i, p in enumerate(pool):
        by_len[min(len(p), 45)].append(i)

    def similar_piece(n: int) -> list[str]:
        for d in (0, 1, -1, 2, -2, 3, -3, 5, -5, 8, -8):
            cands = by_len.get(min(max(n + d, 1), 45))
            if cands:
                return pool[cands[int(rng.integers(len(cands)))]]
        return pool[int(rng.integers(len(pool)))]

    stream = [[t for p in pieces for t in p] for _, pieces, _ in base]
    n_syn = total - len(stream)
    # draw all mixed-in words up front (vectorised), consume sequentially
    est = int(n_syn * 30 * (p_sub + p_ins) * 1.3) + 1000
    mix_ids = np.searchsorted(cdf, rng.random(est))
    zpos = 0
    chunk = 100_000
    for c0 in range(0, n_syn, chunk):
        m = min(chunk, n_syn - c0)
        picks = rng.integers(0, len(base), size=m)
        for i in range(m):
            pieces = base[picks[i]][1]
            swap = rng.random(len(pieces)) < 0.30
            toks: list[str] = []
            for p, s in zip(pieces, swap):
                toks.extend(similar_piece(len(p)) if s else p)
            u = rng.random(len(toks))
            out: list[str] = []
            for t, r in zip(toks, u):
                if r < p_sub:
                    if zpos >= len(mix_ids):
                        mix_ids = np.searchsorted(cdf, rng.random(est)); zpos = 0
                    out.append(ext_vocab[mix_ids[zpos]]); zpos += 1
                else:
                    out.append(t)
                if r > 1.0 - p_ins:
                    if zpos >= len(mix_ids):
                        mix_ids = np.searchsorted(cdf, rng.random(est)); zpos = 0
                    out.append(ext_vocab[mix_ids[zpos]]); zpos += 1
            stream.append(out)
        print(f"  synthesized {c0 + m}/{n_syn} ({time.time()-t0:.0f}s)", flush=True)
    return stream, df


# ---------------------------------------------------------------- queries
def make_queries(base, df, rng, n_real=100, n_common=100):
    n_docs = len(base)
    idf = {w: math.log((n_docs - d + 0.5) / (d + 0.5)) for w, d in df.items()}
    top = [w for w, _ in sorted(df.items(), key=lambda kv: (-kv[1], kv[0]))[:150]]
    qs = []
    while len(qs) < n_real:
        _, pieces, text = base[int(rng.integers(n_docs))]
        toks = [t for p in pieces for t in p]
        k = int(rng.integers(1, 6))
        if len(toks) < k:
            continue
        if rng.random() < 0.5:  # contiguous phrase, as a remembered quote
            s = int(rng.integers(0, len(toks) - k + 1))
            q = toks[s: s + k]
            style = "phrase"
        else:  # most distinctive words of the segment, in segment order
            uniq = list(dict.fromkeys(toks))
            ranked = sorted(uniq, key=lambda w: (-idf[w], rng.random()))[:k]
            q = [w for w in uniq if w in ranked]
            style = "distinctive"
        qs.append({"kind": "real", "style": style, "tokens": q})
    for _ in range(n_common):
        k = int(rng.integers(1, 6))
        q = [top[i] for i in rng.choice(len(top), size=k, replace=False)]
        qs.append({"kind": "common", "style": "common", "tokens": q})
    order = rng.permutation(len(qs))  # interleave kinds
    qs = [qs[i] for i in order]
    for i, q in enumerate(qs):
        q["id"] = i
        q["text"] = " ".join(q["tokens"])
    return qs


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bot", "samples"))
    ap.add_argument("--out", default=DATA_DIR)
    ap.add_argument("--query-seed", type=int, default=None,
                    help="draw the queries from this seed instead of the corpus stream's (another query set, same corpus)")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    rng = np.random.default_rng(SEED)
    t0 = time.time()

    base, report = build_base(args.seeds)
    print(f"base: {len(base)} real segments ({time.time()-t0:.1f}s)")
    for fn, r in report.items():
        print(f"  {fn}: {r}")
    with open(os.path.join(args.out, "base.jsonl"), "w", encoding="utf-8") as f:
        for i, (src, pieces, text) in enumerate(base):
            f.write(json.dumps({"id": i, "src": src, "text": text,
                                "tokens": " ".join(t for p in pieces for t in p)}) + "\n")

    total = max(SIZES.values())
    stream, df = build_stream(base, total, rng)
    stats = {"seed": SEED, "base_segments": len(base), "files": report, "sizes": {}}
    for name, n in sorted(SIZES.items(), key=lambda kv: kv[1]):
        vocab = set()
        lens = np.fromiter((len(d) for d in stream[:n]), dtype=np.int64, count=n)
        for d in stream[:n]:
            vocab.update(d)
        with open(os.path.join(args.out, f"corpus_{name}.txt"), "w", encoding="ascii") as f:
            for d in stream[:n]:
                f.write(" ".join(d) + "\n")
        stats["sizes"][name] = {
            "segments": n, "tokens": int(lens.sum()), "vocab": len(vocab),
            "len_mean": round(float(lens.mean()), 2),
            "len_p5_p50_p95": [int(x) for x in np.percentile(lens, [5, 50, 95])],
        }
        print(f"  corpus_{name}: {stats['sizes'][name]}")

    queries = make_queries(base, df, rng if args.query_seed is None else np.random.default_rng(args.query_seed))
    with open(os.path.join(args.out, "queries.json"), "w", encoding="utf-8") as f:
        json.dump(queries, f, indent=0)
    qlen = collections.Counter(len(q["tokens"]) for q in queries)
    stats["queries"] = {"n": len(queries), "by_len": dict(sorted(qlen.items())),
                        "by_style": dict(collections.Counter(q["style"] for q in queries))}
    with open(os.path.join(args.out, "stats.json"), "w") as f:
        json.dump(stats, f, indent=1)
    print(f"queries: {stats['queries']}")
    print(f"done in {time.time()-t0:.0f}s -> {args.out}")


if __name__ == "__main__":
    main()

"""Synthesise the projector's contest sounds (our own work, no third-party audio) into static/sounds/.

    python scripts/make_sounds.py          # rewrite the WAV files
    python scripts/make_sounds.py --check  # exit 1 if a committed file differs from what this script makes

Short mono 16-bit WAV tones built from sine partials with a soft attack and decay, written with the
standard library's `wave` module only, so anyone can regenerate (or change) them.
"""

from __future__ import annotations

import argparse
import io
import math
import struct
import sys
import wave
from pathlib import Path

RATE = 22_050
OUT = Path(__file__).resolve().parent.parent / "static" / "sounds"

#: name -> notes as (frequency Hz, seconds, loudness 0–1); frequency 0 is a rest.
SOUNDS: dict[str, list[tuple[float, float, float]]] = {
    "tick": [(1046.5, 0.09, 0.5)],  # countdown's last seconds: a short high C
    "buzz": [(659.3, 0.09, 0.7), (987.8, 0.09, 0.7), (1318.5, 0.22, 0.7)],  # buzz won: a quick rising call
    "right": [(523.3, 0.11, 0.6), (659.3, 0.11, 0.6), (784.0, 0.3, 0.6)],  # C–E–G
    "wrong": [(311.1, 0.18, 0.6), (233.1, 0.42, 0.6)],  # a falling minor step
    "podium": [  # a small fanfare: G–C–E–G, then a held C chord
        (392.0, 0.14, 0.55),
        (523.3, 0.14, 0.55),
        (659.3, 0.14, 0.55),
        (784.0, 0.28, 0.6),
        (0.0, 0.06, 0.0),
        (1046.5, 0.75, 0.6),
    ],
}


def _note(frequency: float, seconds: float, loudness: float) -> list[float]:
    """One note: the fundamental with two soft overtones, 8 ms attack, exponential decay to silence."""
    count = int(seconds * RATE)
    samples = []
    for n in range(count):
        t = n / RATE
        if frequency == 0:
            samples.append(0.0)
            continue
        tone = (
            math.sin(2 * math.pi * frequency * t)
            + 0.35 * math.sin(4 * math.pi * frequency * t)
            + 0.12 * math.sin(6 * math.pi * frequency * t)
        ) / 1.47
        attack = min(1.0, t / 0.008)
        release = min(1.0, (count - n) / (0.02 * RATE))
        decay = math.exp(-2.2 * t / max(seconds, 0.05))
        samples.append(loudness * tone * attack * release * decay)
    return samples


def render(name: str) -> bytes:
    """The WAV file's bytes for one sound."""
    samples = [value for note in SOUNDS[name] for value in _note(*note)]
    frames = b"".join(struct.pack("<h", int(max(-1.0, min(1.0, value)) * 32_000)) for value in samples)
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(frames)
    return buffer.getvalue()


def main() -> int:
    """Write (or with --check, compare) every sound."""
    parser = argparse.ArgumentParser(description="生成竞赛大屏的提示音（static/sounds/*.wav）")
    parser.add_argument("--check", action="store_true", help="只检查已提交的文件是否与脚本生成的一致")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    stale = []
    for name in SOUNDS:
        data, path = render(name), OUT / f"{name}.wav"
        if args.check:
            if not path.is_file() or path.read_bytes() != data:
                stale.append(path.name)
        else:
            path.write_bytes(data)
            print(f"{path.relative_to(OUT.parent.parent)}  {len(data) / 1024:.0f} KB")
    if stale:
        print("与脚本生成的不一致：" + "、".join(stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

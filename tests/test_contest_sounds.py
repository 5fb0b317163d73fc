"""The projector's sounds are our own: static/sounds/*.wav are exactly what scripts/make_sounds.py makes."""

from __future__ import annotations

import importlib.util
import io
import wave
from pathlib import Path

from quizengine.config import PROJECT_ROOT


def _script():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("make_sounds", PROJECT_ROOT / "scripts" / "make_sounds.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_sound_is_generated_by_our_script_and_short() -> None:
    script = _script()
    assert set(script.SOUNDS) == {"tick", "buzz", "right", "wrong", "podium"}
    for name in script.SOUNDS:
        committed = Path(PROJECT_ROOT, "static", "sounds", f"{name}.wav").read_bytes()
        assert committed == script.render(name), f"{name}.wav: run python scripts/make_sounds.py"
        with wave.open(io.BytesIO(committed)) as sound:
            assert sound.getnchannels() == 1 and sound.getframerate() == script.RATE
            assert sound.getnframes() / sound.getframerate() < 1.6  # a cue, not music

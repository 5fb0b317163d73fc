"""The Socket.IO packet class of the app: JSON text only.

python-socketio walks every outgoing payload, every dict and list in it, to find `bytes` that would make it a
binary event — once per packet, so a roster of 2,000 players cost a walk of ~10,000 values every push, and
every ack of an answer burst paid its own. The app never sends bytes (every payload is JSON: views, acks,
rosters), so its packets say so and skip the walk; a payload with bytes in it would fail loudly in the JSON
encoder rather than be sent. Incoming binary packets are decoded as before (the class only changes sending).
"""

from __future__ import annotations

from socketio import packet


class JsonPacket(packet.Packet):
    """A Socket.IO packet that is never a binary event (python-socketio's own switch, as for msgpack)."""

    uses_binary_events = False

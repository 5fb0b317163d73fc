"""Socket.IO transport for live contests: protocol names, thin handlers, the publisher and timers."""

"""The progress line the plugin adds to every run at each print_freq: speed and time left (StudioGAN has none)."""
import time


class Progress:
    """Speed and time left at every print_freq, which StudioGAN's own log line lacks; measured from the first
    line, so set-up time (and a resumed run's earlier steps) does not count."""

    def __init__(self, clock=time.monotonic):
        self.clock, self.start = clock, None

    def line(self, step, total):
        now = self.clock()
        if self.start is None:
            self.start = (step, now)
            return f"progress: step {step}/{total}; speed and ETA from the next line on"
        steps, seconds = step - self.start[0], now - self.start[1]
        rate = steps / seconds if seconds > 0 else float("inf")
        left = max(0, total - step) / rate if rate > 0 else float("inf")
        return f"progress: step {step}/{total}, {rate:.2f} steps/s, ETA {_duration(left)}"


def _duration(seconds):
    if seconds == float("inf"):
        return "unknown"
    minutes, secs = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{secs:02d}s"

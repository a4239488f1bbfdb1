"""The lifeline keeper, run as a script by runner/lifeline.py: it leads the process group every
llama-server joins, and SIGKILLs that group (itself included) once the runner is gone.

Standard library only and no package imports, so it starts in a few milliseconds with `python -I -S`.
"""

import os
import signal


def main() -> None:
    # Only the runner's death ends the keeper: a Ctrl-C, hangup or SIGTERM is the runner's to handle
    # (it stops its servers itself, then closes the pipe).
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, signal.SIG_IGN)
    while os.read(0, 4096):  # the runner never writes; EOF means its end of the pipe closed
        pass
    os.killpg(0, signal.SIGKILL)


if __name__ == "__main__":
    main()

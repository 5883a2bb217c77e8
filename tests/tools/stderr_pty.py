#!/usr/bin/env python3
"""Run a command with its standard error on a new pseudo-terminal.

    stderr_pty.py TRANSCRIPT COMMAND [ARG...]

Standard input and output stay as the caller set them, unless the
environment has STDERR_PTY_STDOUT=1, which puts standard output on the
same terminal.  The terminal is 80 columns wide.  Every byte that the
terminal received is written to TRANSCRIPT, and the exit status is the
command's (128 + N after signal N).  The command is killed after 120
seconds.
"""

import fcntl
import os
import pty
import select
import struct
import subprocess
import sys
import termios
import time

TIMEOUT_SECONDS = 120


def main():
    if len(sys.argv) < 3:
        sys.stderr.write('usage: stderr_pty.py TRANSCRIPT COMMAND [ARG...]\n')
        return 2

    master, slave = pty.openpty()
    # rows, columns, and the unused pixel sizes
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack('HHHH', 24, 80, 0, 0))
    stdout = slave if os.environ.get('STDERR_PTY_STDOUT') == '1' else None
    proc = subprocess.Popen(sys.argv[2:], stdout=stdout, stderr=slave)
    os.close(slave)

    transcript = bytearray()
    deadline = time.monotonic() + TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 1)
        if not ready:
            continue
        try:
            data = os.read(master, 4096)
        except OSError:
            # EIO: every process with the terminal open has closed it.
            break
        if not data:
            break
        transcript += data
    else:
        proc.kill()

    status = proc.wait()
    os.close(master)
    with open(sys.argv[1], 'wb') as f:
        f.write(transcript)
    return 128 - status if status < 0 else status


if __name__ == '__main__':
    sys.exit(main())

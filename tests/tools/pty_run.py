"""Runs a command on a new pseudo-terminal and types a passphrase.

Usage: pty_run.py PASSPHRASE COMMAND [ARG...]

Each time the terminal shows a prompt that contains "assphrase" and ends
with ':', PASSPHRASE and a newline are typed.  The exit status is the
command's.  What the terminal showed is written to the file named by the
TRANSCRIPT environment variable.  A command still running after 120 s is
killed.
"""
import os
import pty
import select
import sys
import time

TIMEOUT_SECONDS = 120


def main():
    passphrase = sys.argv[1].encode()
    pid, fd = pty.fork()
    if pid == 0:
        os.execvp(sys.argv[2], sys.argv[2:])
    transcript, pending = bytearray(), b''
    deadline = time.time() + TIMEOUT_SECONDS
    while time.time() < deadline:
        ready, _, _ = select.select([fd], [], [], 1)
        if not ready:
            continue
        try:
            data = os.read(fd, 4096)
        except OSError:
            break
        if not data:
            break
        transcript += data
        pending += data
        if b'assphrase' in pending and pending.rstrip().endswith(b':'):
            # The program turns echo off after it prints the prompt.
            time.sleep(0.1)
            os.write(fd, passphrase + b'\n')
            pending = b''
    else:
        os.kill(pid, 9)
    _, status = os.waitpid(pid, 0)
    with open(os.environ['TRANSCRIPT'], 'wb') as out:
        out.write(transcript)
    sys.exit(os.waitstatus_to_exitcode(status))


if __name__ == '__main__':
    main()

"""A command the sandbox refused a privilege: the kernel's words → one sentence for the writer.

In a user namespace root inside is an ordinary uid outside: kernel-wide settings (``sysctl -w
vm.max_map_count=…``), the host's mounts and devices, the clock and kernel modules are out of
reach, by design. The command then fails with the kernel's terse "permission denied"; when its
output is not what the page expects, the mismatch also says why and what to do.
"""

from __future__ import annotations

import re

_REFUSED = re.compile(
    r"permission denied on key|/proc/sys/\S+: Permission denied|"
    r"cannot (?:create|open) /proc/sys/|mount: [^\n]*: permission denied|"
    r"cannot set date: Operation not permitted|hwclock: |"
    r"read kernel buffer failed: Operation not permitted|"
    r"modprobe: |swapon: [^\n]*: Operation not permitted|"
    r"mknod: [^\n]*: Operation not permitted|unable to apply caps: operation not permitted",
    re.IGNORECASE,
)

NOTE = (
    "the sandbox refused this command a privilege it never grants: it runs in a user "
    "namespace, so kernel-wide settings (sysctl), the host's mounts and devices, the clock and "
    "kernel modules are out of reach. If the page needs it, show the command without running "
    'it (skip="changes a kernel setting"), or set the value up outside the page.'
)
"""Said under a mismatch caused by such a refusal."""


def refusal_note(output: str) -> str:
    """`NOTE` when ``output`` shows the kernel refusing a privileged operation, else ``""``."""
    return NOTE if _REFUSED.search(output) else ""

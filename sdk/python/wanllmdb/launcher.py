"""The `wanllmdb` console script: runs the native binary (`wanllmdb server`, `wanllmdb run -- CMD`,
…) in place of this process, so its exit code and signals are the binary's own."""
from __future__ import annotations

import os
import sys
from typing import List, Optional

from .native import find_binary

NO_BINARY = ("wanllmdb: this installation has no native wanllmdb binary (it is the pure-Python "
             "package); install the platform wheel (`make wheel`, then pip install "
             "dist/wanllmdb-*.whl), or put the binary on PATH or name it in WANLLMDB_BIN")


def main(argv: Optional[List[str]] = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    binary = find_binary()
    if binary is None:
        print(NO_BINARY, file=sys.stderr)
        return 127
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(binary, [binary, *args])
    return 127  # not reached


if __name__ == "__main__":
    sys.exit(main())

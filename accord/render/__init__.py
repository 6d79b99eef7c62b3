"""Renderers: text, JSON-ready dicts, HTML pages with inline SVG charts.

matplotlib keeps a font cache in its config folder (by default under the user's home). accord's charts use
a private folder in the system's temporary folder instead, kept between runs, unless MPLCONFIGDIR says where.
This module runs before any renderer imports matplotlib.
"""
from __future__ import annotations

import os
import stat
import tempfile


def _matplotlib_folder() -> str:
    """A folder only this user can write, in the temporary folder: the same one each run, or a fresh one."""
    folder = os.path.join(tempfile.gettempdir(), f"accord-matplotlib-{os.getuid()}")
    try:
        os.mkdir(folder, 0o700)
    except FileExistsError:
        pass
    except OSError:
        return tempfile.mkdtemp(prefix="accord-matplotlib-")
    st = os.lstat(folder)
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.getuid() or st.st_mode & 0o077:
        return tempfile.mkdtemp(prefix="accord-matplotlib-")   # not ours alone: never use it
    return folder


if "MPLCONFIGDIR" not in os.environ:
    os.environ["MPLCONFIGDIR"] = _matplotlib_folder()

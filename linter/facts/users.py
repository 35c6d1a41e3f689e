"""What counts as the root user."""
from __future__ import annotations

# ContainerAdministrator is the default (administrator) user of Windows containers.
_ROOT_NAMES = {"root", "0", "containeradministrator"}


def user_is_root(user) -> bool:
    """``root``, ``0``, ``0:0``, ``root:root``, ``0:1000`` -> True (the group does not matter)."""
    if isinstance(user, int):
        return user == 0
    name = str(user).strip().split(":", 1)[0].strip().lower()
    return name in _ROOT_NAMES

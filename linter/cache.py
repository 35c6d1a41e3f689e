"""Result caches: per-file results under ``.iaclint_cache/`` and the compiled built-in checks.

**Per-file result cache** (like ruff's).  One entry per scan unit -- a file, or a Terraform module
directory -- holding the unit's slimmed :class:`~linter.model.ParsedFile` list and its per-file
findings.  The entry's *name* is derived from the settings key and the unit's path(s), so editing
a file overwrites its entry instead of piling up new ones; the entry *content* starts with the hash
of the unit's inputs (file bytes; for a module, every ``.tf``/``.tf.json``/``.tfvars`` of the
directory), checked on every lookup.  The settings key covers the iaclint version, the linter's own
code (file sizes and mtimes, so an edited checkout never serves stale results), the parser
libraries, the effective checks (ids, raw definitions, params) and the options that change per-file
results.  Cross-file facts are never cached: they are recomputed from the cached models.

**Why entries are signed.**  Entries are pickles, and the cache lives inside the scanned project,
which may be untrusted (CI scanning a pull request).  Unpickling a planted file would run its code,
so every entry carries a keyed BLAKE2b MAC whose key lives in the user's cache directory (outside
the project, mode 0600); a planted, corrupt or foreign entry fails the check and is ignored.
Without a writable user cache directory there is no key and no cache.

**What entries hold.**  Slimmed parsed models of the project's files, with the values of
``Setting`` and ``Instruction`` resources blanked (:func:`redacted_dumps`): literal secrets are
never written, and a file that mentions iaclint (whose source lines the suppression pass keeps)
is not cached at all.  A scan that needs flagged values back (``secrets.allow`` configured)
treats an entry that blanked one as a miss.  ``.iaclint_cache/.gitignore`` holds ``*`` so the
directory is never committed.

Writes are atomic (temp file + ``os.replace``); any I/O or decoding problem is a cache miss,
never an error.
"""
from __future__ import annotations

import os
import sys

try:
    # hashlib itself loads OpenSSL's _hashlib (~2 ms of every pre-commit run); BLAKE2 is built in.
    from _blake2 import blake2b
except ImportError:  # pragma: no cover - other Python implementations
    from hashlib import blake2b

CACHE_DIR_NAME = ".iaclint_cache"
#: bump when the entry layout or the pickled model's shape changes incompatibly (2: blanked-value flag)
LAYOUT = 2
_MAGIC = b"IACLC1"
_MAC_SIZE = 16
_HASH_SIZE = 16
#: module input suffixes: every file that ``parsers.terraform.parse_module`` may read
TERRAFORM_INPUTS = (".tf", ".tf.json", ".tfvars", ".tfvars.json")


def content_hash(data: bytes) -> bytes:
    return blake2b(data, digest_size=_HASH_SIZE).digest()


def module_hash(directory: str) -> bytes | None:
    """Hash of every Terraform input file of ``directory`` (names and contents), or None when
    the directory cannot be read."""
    h = blake2b(digest_size=_HASH_SIZE)
    try:
        names = sorted(e.name for e in os.scandir(directory or ".")
                       if e.name.lower().endswith(TERRAFORM_INPUTS) and e.is_file())
        for name in names:
            with open(os.path.join(directory, name), "rb") as fh:
                data = fh.read()
            h.update(name.encode("utf-8", "surrogateescape") + b"\0%d\0" % len(data))
            h.update(content_hash(data))
    except OSError:
        return None
    return h.digest()


# --------------------------------------------------------------------------- locations and key

def user_cache_dir() -> str:
    """``$XDG_CACHE_HOME/iaclint`` (``~/.cache/iaclint``; ``%LOCALAPPDATA%\\iaclint`` on Windows)."""
    base = os.environ.get("XDG_CACHE_HOME")
    if not base:
        if sys.platform == "win32" and os.environ.get("LOCALAPPDATA"):
            base = os.environ["LOCALAPPDATA"]
        else:
            base = os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "iaclint")


_SECRET: bytes | None = None


def _secret() -> bytes | None:
    """The per-user MAC key, created on first use; None when the user cache dir is unusable."""
    global _SECRET
    if _SECRET is not None:
        return _SECRET
    directory = user_cache_dir()
    path = os.path.join(directory, "cache-key")
    try:
        with open(path, "rb") as fh:
            key = fh.read()
        if len(key) >= 32:
            _SECRET = key
            return key
    except OSError:
        pass
    try:
        os.makedirs(directory, mode=0o700, exist_ok=True)
        tmp = f"{path}.{os.getpid()}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(os.urandom(32))
        try:
            os.link(tmp, path)  # fails if another process won the race: then use its key
        except FileExistsError:
            if os.path.getsize(path) < 32:  # a truncated key (full disk): replace it
                os.replace(tmp, path)
        except OSError:
            os.replace(tmp, path)  # file systems without hard links
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        with open(path, "rb") as fh:
            key = fh.read()
    except OSError:
        return None
    if len(key) < 32:
        return None
    _SECRET = key
    return key


def find_project_root(paths: list[str]) -> str:
    """The git root above the scanned paths, else the scanned directory (the paths' common parent)."""
    absolute = [os.path.abspath(p) for p in paths] or [os.getcwd()]
    start = absolute[0] if os.path.isdir(absolute[0]) else os.path.dirname(absolute[0])
    d = start
    while True:
        if os.path.exists(os.path.join(d, ".git")):
            return d
        parent = os.path.dirname(d)
        if parent == d:
            break
        d = parent
    try:
        common = os.path.commonpath(absolute)
    except ValueError:  # different drives (Windows)
        return start
    return common if os.path.isdir(common) else os.path.dirname(common)


def cache_dir_for(paths: list[str]) -> str:
    return os.environ.get("IACLINT_CACHE_DIR") or os.path.join(find_project_root(paths), CACHE_DIR_NAME)


_CODE_FINGERPRINT: bytes | None = None


def code_fingerprint() -> bytes:
    """Sizes and mtimes of the linter's own modules and of the parser libraries: a development
    checkout (same version number, edited code) or a library upgrade invalidates the cache.
    Costs ~0.3 ms (stat calls only; nothing is imported)."""
    global _CODE_FINGERPRINT
    if _CODE_FINGERPRINT is not None:
        return _CODE_FINGERPRINT
    from importlib.util import find_spec

    h = blake2b(digest_size=_HASH_SIZE)
    package = os.path.dirname(os.path.abspath(__file__))
    for root, dirs, names in os.walk(package):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for n in sorted(names):
            if n.endswith(".py"):
                st = os.stat(os.path.join(root, n))
                h.update(f"{os.path.relpath(os.path.join(root, n), package)}\0{st.st_size}\0{st.st_mtime_ns}\0".encode())
    for mod in ("yaml", "hcl2", "lark"):
        try:
            spec = find_spec(mod)
            st = os.stat(spec.origin) if spec and spec.origin else None
        except (ImportError, ValueError, OSError):
            st = None
        h.update(f"{mod}\0{st and st.st_size}\0{st and st.st_mtime_ns}\0".encode())
    _CODE_FINGERPRINT = h.digest()
    return _CODE_FINGERPRINT


def settings_key(checks, max_size: int, config_key: str = "") -> str:
    """Everything besides a unit's own bytes that decides its cached result."""
    from . import __version__

    h = blake2b(digest_size=_HASH_SIZE)
    h.update(f"{LAYOUT}\0{__version__}\0{sys.version_info[:2]}\0{max_size}\0{config_key}\0".encode())
    h.update(code_fingerprint())
    for c in sorted(checks, key=lambda c: c.id):
        # repr of the raw mapping reflects the check file's content in file order: cheap, and
        # any edit to a definition or a parameter changes it.
        h.update(repr((c.id, c.raw, sorted(c.params.items(), key=lambda kv: kv[0]))).encode("utf-8", "replace"))
    return h.hexdigest()


# --------------------------------------------------------------------------- signed entries

def _sign(key: bytes, name: bytes, body: bytes) -> bytes:
    # BLAKE2b's keyed mode is a MAC by design (no HMAC construction needed).
    return blake2b(name + b"\0" + body, key=key[:64], digest_size=_MAC_SIZE).digest()


def write_signed(path: str, key: bytes, name: bytes, body: bytes) -> bool:
    """Atomically write ``body`` with its MAC; False (and nothing left behind) on any OSError."""
    directory = os.path.dirname(path)
    tmp = f"{path}.{os.getpid()}.tmp"
    try:
        os.makedirs(directory, exist_ok=True)
        with open(tmp, "wb") as fh:
            fh.write(_MAGIC + _sign(key, name, body) + body)
        os.replace(tmp, path)
        return True
    except OSError:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        return False


def read_signed(path: str, key: bytes, name: bytes) -> bytes | None:
    try:
        with open(path, "rb") as fh:
            blob = fh.read()
    except OSError:
        return None
    head = len(_MAGIC) + _MAC_SIZE
    if len(blob) < head or not blob.startswith(_MAGIC):
        return None
    body = blob[head:]
    # A plain comparison: nobody can time it (the attacker plants a file, then is gone).
    if blob[len(_MAGIC):head] != _sign(key, name, body):
        return None
    return body


class ResultCache:
    """Entries under ``<directory>/v<LAYOUT>/<settings[:16]>/<aa>/<name>``.  Picklable (workers
    receive it), holding only strings and the key."""

    def __init__(self, directory: str, settings: str, key: bytes):
        self.directory = directory
        self.settings = settings
        self.key = key
        self.base = os.path.join(directory, f"v{LAYOUT}", settings[:16])

    @classmethod
    def open(cls, paths: list[str], checks, max_size: int, config_key: str = "") -> "ResultCache | None":
        """The project's cache, or None when it cannot be used (no user key, read-only tree)."""
        key = _secret()
        if key is None:
            return None
        directory = cache_dir_for(paths)
        try:
            _prepare(directory)
        except OSError:
            return None
        return cls(directory, settings_key(checks, max_size, config_key), key)

    def _entry(self, unit_name: str) -> tuple[str, bytes]:
        name = blake2b(f"{self.settings}\0{unit_name}".encode("utf-8", "surrogateescape"),
                       digest_size=16).hexdigest()
        return os.path.join(self.base, name[:2], name), name.encode()

    def get(self, unit_name: str, digest: bytes, need_values: bool = False):
        """The cached payload (``(parsed_files, findings)``) when the stored input hash matches.
        ``need_values``: a later stage reads flagged Settings' values (``secrets.allow``), so an
        entry that had to blank one is a miss."""
        path, name = self._entry(unit_name)
        body = read_signed(path, self.key, name)
        if body is None or body[:_HASH_SIZE] != digest:
            return None
        if need_values and body[_HASH_SIZE:_HASH_SIZE + 1] != b"\0":
            return None
        import pickle

        try:
            return pickle.loads(body[_HASH_SIZE + 1:])
        except Exception:  # noqa: BLE001 - a corrupt or incompatible entry is only a miss
            return None

    def load(self, name: str):
        """A value stored with :meth:`store` (None when absent, corrupt or foreign)."""
        path, signed_name = self._entry(name)
        body = read_signed(path, self.key, signed_name)
        if body is None:
            return None
        import pickle

        try:
            return pickle.loads(body)
        except Exception:  # noqa: BLE001 - a corrupt or incompatible entry is only a miss
            return None

    def store(self, name: str, value) -> None:
        """Keep a picklable value that holds no secret (the caller's promise: no redaction here)."""
        import pickle

        try:
            body = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception:  # noqa: BLE001 - unpicklable: just not kept
            return
        path, signed_name = self._entry(name)
        write_signed(path, self.key, signed_name, body)

    def put(self, unit_name: str, digest: bytes, parsed: list, findings: list) -> None:
        """Store a unit's result, values blanked (see redacted_dumps).  A file that mentions
        iaclint keeps its source lines for the suppression pass -- all of its text, secrets
        included -- so it is not stored (such files are rare, and cheap to parse again)."""
        if any(pf.lines is not None for pf in parsed):
            return
        try:
            body, blanked_flagged = redacted_dumps((parsed, findings), {f.resource for f in findings})
        except Exception:  # noqa: BLE001 - an unpicklable model: the unit just is not cached
            return
        path, name = self._entry(unit_name)
        write_signed(path, self.key, name, digest + (b"\1" if blanked_flagged else b"\0") + body)


def redacted_dumps(payload, flagged: set) -> tuple[bytes, bool]:
    """Pickle ``payload`` with the value of every Setting and Instruction replaced by UNKNOWN, so
    the cache never holds a literal secret (CI systems cache and upload such directories).
    Nothing after the per-file checks reads those values -- messages are rendered, and masked --
    except ``secrets.allow`` matching a flagged Setting; the second result says whether such a
    value (a Setting whose ident is in ``flagged``) was blanked."""
    import copyreg
    import io
    import pickle

    from .model import UNKNOWN, Instruction, Setting

    blanked = [False]
    redact = (Setting, Instruction)

    class _Pickler(pickle.Pickler):
        def reducer_override(self, obj):
            if type(obj) in redact:
                value = obj.__dict__.get("value")
                if value is not None and value is not UNKNOWN:
                    state = dict(obj.__dict__)
                    state["value"] = UNKNOWN
                    if type(obj) is Setting and obj.ident in flagged:
                        blanked[0] = True
                    return copyreg.__newobj__, (type(obj),), state
            return NotImplemented

    buf = io.BytesIO()
    _Pickler(buf, protocol=pickle.HIGHEST_PROTOCOL).dump(payload)
    return buf.getvalue(), blanked[0]


def _prepare(directory: str) -> None:
    if not os.path.isdir(directory):
        parent = os.path.dirname(os.path.abspath(directory))
        # A tree whose owner removed every write bit (a shared corpus, a read-only checkout) is
        # not ours to write into -- even when we run as root, which the permission check ignores.
        if os.path.isdir(parent) and not os.stat(parent).st_mode & 0o222:
            raise PermissionError(f"{parent} is read-only")
    os.makedirs(directory, exist_ok=True)
    marker = os.path.join(directory, ".gitignore")
    if not os.path.exists(marker):
        with open(marker, "w", encoding="utf-8") as fh:
            fh.write("# created by iaclint: a build cache, never commit it\n*\n")
        with open(os.path.join(directory, "CACHEDIR.TAG"), "w", encoding="utf-8") as fh:
            # https://bford.info/cachedir/ -- backup tools skip directories holding this tag
            fh.write("Signature: 8a477f597d28d172789f06886806bc55\n# iaclint result cache\n")


def clean(paths: list[str]) -> tuple[str, bool]:
    """Remove the project's cache directory; returns (directory, removed)."""
    import shutil

    directory = cache_dir_for(paths)
    if os.path.islink(directory):
        os.unlink(directory)  # never follow a link into somebody else's tree
        return directory, True
    if not os.path.isdir(directory):
        return directory, False
    shutil.rmtree(directory)
    return directory, True


# --------------------------------------------------------------------------- built-in checks

def load_registry(extra_dirs: list[str], use_cache: bool = True):
    """``engine.checks.load_registry`` with the built-in checks read from a compiled cache.

    Parsing the built-in check files with the position-tracking YAML loader costs ~0.5 ms per
    file (~14 ms for 28 files, plus ~12 ms to import PyYAML on a Dockerfile-only run); the signed
    pickle of their raw definitions loads in ~2 ms.  Keyed by the files' names, sizes and mtimes
    and the linter's code.  User check directories are always loaded (and validated) normally.
    """
    from .engine import checks as C

    if extra_dirs or not use_cache:
        return C.load_registry(extra_dirs)
    key = _secret()
    directory = C.builtin_checks_dir()
    if key is None:
        return C.load_registry([])
    h = blake2b(digest_size=_HASH_SIZE)
    h.update(f"{LAYOUT}\0{directory}\0".encode("utf-8", "surrogateescape") + code_fingerprint())
    try:
        files = C._check_files(directory)
        for f in files:
            st = f.stat()
            h.update(f"{f}\0{st.st_size}\0{st.st_mtime_ns}\0".encode("utf-8", "surrogateescape"))
    except OSError:
        return C.load_registry([])
    # the directory's own prefix lets two installations share the user cache without evicting each other
    prefix = "checks-" + blake2b(str(directory).encode("utf-8", "surrogateescape"), digest_size=4).hexdigest()
    name = h.hexdigest()
    path = os.path.join(user_cache_dir(), f"{prefix}-{name}.pickle")
    body = read_signed(path, key, name.encode())
    if body is not None:
        import pickle

        try:
            raws = pickle.loads(body)
            return C.Registry([C.Check(raw, source, True) for source, raw in raws])
        except Exception:  # noqa: BLE001 - unreadable: rebuild below
            pass
    registry = C.load_registry([])
    import pickle

    try:
        body = pickle.dumps([(c.source, _plain(c.raw)) for c in registry], protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:  # noqa: BLE001 - unpicklable raw data: just don't cache
        return registry
    if write_signed(path, key, name.encode(), body):
        _prune(os.path.dirname(path), prefix + "-", keep=path)
    return registry


def _plain(node):
    """PosDict/PosList -> dict/list: unpickling those would import PyYAML (linter.yamlload) on a
    Dockerfile-only run.  Their positions only serve load-time errors, which a cached (already
    loaded once) check cannot raise."""
    if isinstance(node, dict):
        return {k: _plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    return node


def _prune(directory: str, prefix: str, keep: str) -> None:
    """An edited checks directory leaves its previous compiled file behind: only the newest is useful."""
    try:
        for e in os.scandir(directory):
            if e.name.startswith(prefix) and e.name.endswith(".pickle") and e.path != keep:
                os.unlink(e.path)
    except OSError:
        pass

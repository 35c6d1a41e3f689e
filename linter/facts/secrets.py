# detect-secrets 1.5.0 imports in ~110 ms (python -X importtime -c "import detect_secrets.core.scan"; py3.11): unused.
"""Is a name/value pair a plaintext secret?  Name evidence, value evidence, known token formats.

Decisions the checks and tests rely on:

* Placeholders: only ``<...>`` and values made of ``x``/``*`` (``xxx``, ``***``, ``XXXX-XXXX``) are
  non-secret.  ``changeme``, ``CHANGE_ME``, ``REPLACE_ME``, ``password`` are reported: weak, but real
  values that get deployed.  Exception: an UPPER_SNAKE value that itself reads as a secret's variable
  name (``GOOGLE_API_KEY_VAL``, ``INSERT_ETCD_DISCOVERY_TOKEN``) is a sed/envsubst marker.
* References (``$(X)``, ``${X}``, ``$X``, ``%X%``, ``{{ ... }}``, ``%s``) are non-secret values, but
  is_plaintext_secret judges ``${X:-default}`` by its default (plaintext in the file), and a known
  token format anywhere wins.  URLs are non-secret unless they carry a literal ``user:pass@`` or
  secret-named query parameter (``?token=``, ``sig=``; a reference or placeholder is fine) or a
  known token; those two URL forms are known token kinds themselves, whatever the name.
* Pure numbers are non-secret, except 3+ digits under a name whose last word is a password word
  (``MYSQL_ROOT_PASSWORD: 123`` in frappe_docker is real; ``PASSWORD_ROUNDS=10`` is not).
* Secret .data/.stringData: every value is a secret, except non-secret values (checked on the
  decoded .data value: public PEM certificates, numbers...) and keys named like configuration
  (``url``, ``type``, ``name``, ``username``, ``projectId``: Argo CD repository Secrets).
* Entropy is evidence only under names with a weak fragment (``S3_KEY``, ``SALT``, ``SESSION``):
  length >= 16; hex with letters and digits above 3.0 bits/char; base64-ish with upper, lower and
  digits above min(4.5, 0.85*log2(len)) (3.4 at 16 chars, detect-secrets' 4.5 from 40 chars: about
  the 5th percentile of random strings, above CamelCase identifiers).  Random values under neutral
  names (``COMMIT_SHA``) and checksum/fingerprint/version names fire only on a known token format.
"""
from __future__ import annotations

import base64
import binascii
import math
import re
from collections import Counter
from functools import lru_cache

ENTROPY_MIN_LENGTH = 16
ENTROPY_THRESHOLD_HEX = 3.0
ENTROPY_THRESHOLD_BASE64_MAX = 4.5
MIN_SECRET_LENGTH = 3  # "-", "on", "0"/"1" flags are not passwords worth a finding

SECRET_DATA_CONTEXTS = frozenset({"secret-data", "secret-string-data"})

_SPLIT_SEP = re.compile(r"[^A-Za-z0-9]+")
_SPLIT_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")

_PASSWORD_WORDS = ("PASSWORD", "PASSWORDS", "PASSWD", "PWD", "PASS", "PASSPHRASE", "PASSCODE")
# Words that mean "this holds a secret"; also matched as the end of a compound (ROOTPASS, DBPASSWORD).
_STRONG_ENDINGS = _PASSWORD_WORDS + tuple(
    "SECRET SECRETS TOKEN APIKEY CREDENTIAL CREDENTIALS CREDS PRIVATEKEY SECRETKEY ACCESSKEY".split())
_NOT_COMPOUNDS = frozenset("BYPASS COMPASS ENCOMPASS SURPASS TRESPASS OVERPASS UNDERPASS".split())
# KEY alone is a cache key, an S3 object key or a GPG key; these qualifiers make it a secret key.
_KEY_QUALIFIERS = tuple("""API SECRET PRIVATE ACCESS ENCRYPTION ENCRYPT SIGNING SIGN LICENSE MASTER AUTH CLIENT APP
    SERVICE ACCOUNT STORAGE SSH HMAC JWT SESSION CRYPTO DEPLOY ADMIN ROOT SHARED CONSUMER WEBHOOK COOKIE DB
    DATABASE""".split())
# A last word that points at, describes or configures a secret, or names a public checksum,
# fingerprint or version (docker-library Dockerfiles are full of those): never a secret by name.
_NON_SECRET_LAST = frozenset("""FILE FILES PATH DIR URL URI URLS ENDPOINT HOST HOSTNAME PORT NAME NAMES ID IDS ARN
    REF REFS LENGTH LEN SIZE BITS TTL EXPIRY EXPIRES EXPIRATION EXPIRE TIMEOUT LIFETIME AGE DURATION INTERVAL
    ENABLED DISABLED ENABLE DISABLE REQUIRED METHOD METHODS TYPE MODE KIND HEADER FORMAT ALGORITHM ALG POLICY
    PREFIX SUFFIX ROUNDS COUNT REGEX PATTERN FIELD PARAM COMMAND CMD ENV VAR PROVIDER STORE BACKEND LOCATION
    USER USERNAME EMAIL KEYRING SCOPE SCOPES AUDIENCE ISSUER STRATEGY PLUGIN PROJECT REGION ZONE
    SHA SHA1 SHA256 SHA512 MD5 CHECKSUM CHECKSUMS HASH DIGEST FINGERPRINT FINGERPRINTS VERSION""".split())
# Anywhere in a name: a flag or count about a secret, or its public half (MYSQL_ALLOW_EMPTY_PASSWORD,
# MAX_TOTAL_TOKENS: LLM token counts, SSH_PUBLIC_KEY, GPG_KEYS).
_NON_SECRET_ANY = frozenset(
    "ALLOW EMPTY RANDOM REQUIRE SKIP GENERATE ENABLE DISABLE MIN MAX NUM PUBLIC PUBLISHABLE".split())
_PUBLIC_KEY_NAMES = frozenset({("GPG", "KEY"), ("GPG", "KEYS"), ("PGP", "KEY"), ("PGP", "KEYS")})
_WEAK_FRAGMENTS = frozenset("""KEY KEYS SALT SEED SIGNATURE SIG HMAC NONCE COOKIE SESSION DSN CONNECTION CONN
    CIPHER CRYPT ENCRYPTION LICENSE WEBHOOK BEARER OTP JWT ACCESS AUTH PRIVATE SIGNING""".split())

_REFERENCE = re.compile(
    r"(?:\$\{[^}]*\}|\$\([^)]*\)|\$[A-Za-z_][A-Za-z0-9_]*|\{\{.*?\}\}|%[A-Za-z_][A-Za-z0-9_]*%"
    r"|%[-+ #0-9.]*[sdvqxX]|%\([A-Za-z_]\w*\)s)+", re.S)
_PATH = re.compile(r"(?:~|\.{1,2})?/[^\s]*|[A-Za-z]:[\\/][^\s]*|\.{1,2}")
_NUMBER = re.compile(r"[+-]?\d+(?:\.\d+)?")
_BOOLEANS = frozenset({"true", "false", "yes", "no", "on", "off", "null", "none", "nil", "~"})
_PLACEHOLDER = re.compile(r"<[^<>]+>|[xX*][xX*._ -]*")
_UPPER_SNAKE = re.compile(r"[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+")
_DEFAULTED = re.compile(r"\$\{[A-Za-z_][A-Za-z0-9_]*:?-(.*)\}", re.S)
_PUBLIC_PEM = re.compile(r"(?:\s*-----BEGIN (?:CERTIFICATE|PUBLIC KEY|[A-Z]+ PUBLIC KEY|X509 CRL)-----[^-]*"
                         r"-----END [A-Z0-9 ]+-----)+\s*")
_VAULT = re.compile(r"ENC\[[^\]]*\]|vault:|ref\+\w+://|op://|arn:aws[\w-]*:(?:secretsmanager|ssm|kms):|"
                    r"projects/[^/\s]+/secrets/|@Microsoft\.KeyVault\(", re.I)
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://\S*")
_URL_CREDS = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^/\s:@?#]*:([^\s/@?#]+)@")
_QUERY_PARAM = re.compile(r"[?&;]([\w.-]+)=([^&#;\s]*)")
_CONN_PASSWORD = re.compile(r"(?:^|;)\s*(?:password|pwd|accountkey|sharedaccesskey)\s*=\s*([^;]+)", re.I)
_HEX = re.compile(r"[0-9a-fA-F]+")
_BASE64ISH = re.compile(r"[A-Za-z0-9+/=_-]+")

# One pass over the value for every fixed-format token; the group name is the kind.  Formats as
# published by the vendors (and as detect-secrets / gitleaks recognise them).
_TOKENS = re.compile("|".join(rf"(?P<{kind}>{rx})" for kind, rx in (
    ("private_key", r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----|PuTTY-User-Key-File-\d"),
    ("aws_access_key_id", r"(?<![A-Z0-9])(?:AKIA|ASIA|ABIA|ACCA|A3T[A-Z0-9])[A-Z0-9]{16}(?![A-Z0-9])"),
    ("aws_secret_access_key", r"(?i:aws_secret_access_key)\s*[=:]\s*[\"']?[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+])"),
    ("github_token", r"\b(?:gh[pousr]_[A-Za-z0-9]{36}|github_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59})\b"),
    ("gitlab_token", r"\bglpat-[A-Za-z0-9_-]{20,}"),
    ("slack_token", r"\bxox[abprs]-[0-9A-Za-z-]{10,}"),
    ("slack_webhook", r"hooks\.slack\.com/services/T[A-Za-z0-9_]+/B[A-Za-z0-9_]+/[A-Za-z0-9_]+"),
    ("stripe_key", r"\b[rs]k_live_[0-9A-Za-z]{24,}"),
    ("google_api_key", r"\bAIza[0-9A-Za-z_-]{35}"),
    ("jwt", r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*"),
    ("npm_token", r"\bnpm_[A-Za-z0-9]{36}\b"),
    ("sendgrid_key", r"\bSG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}\b"),
    ("twilio_key", r"\bSK[0-9a-fA-F]{32}\b"),
)))


def _may_hold_token(value: str) -> bool:
    """False only when no token format can match: none of their literal parts (``AKIA``, ``ghp_``,
    ``-----BEGIN ``...) occurs.  The alternation has no common prefix, so ``re`` would try all
    of it at every position of every value; the substring tests are several times cheaper."""
    global _may_hold_token
    from ..engine.prefilter import guard

    _may_hold_token = guard(_TOKENS.pattern) or (lambda v: True)
    return _may_hold_token(value)


@lru_cache(maxsize=4096)  # the same few hundred variable names recur in every file
def _tokens(name: str) -> tuple[str, ...]:
    words = []
    for chunk in _SPLIT_SEP.split(name):
        words.extend(w.upper() for w in _SPLIT_CAMEL.split(chunk) if w)
    return tuple(words)


def _is_strong(word: str, prev: str | None, last: bool) -> bool:
    if word in _NOT_COMPOUNDS:
        return False
    if word.endswith(_STRONG_ENDINGS):
        return True
    if word in ("KEY", "KEYS"):
        return prev in _KEY_QUALIFIERS
    if word.endswith("KEY") and word[:-3].endswith(_KEY_QUALIFIERS):  # APIKEY, STORAGEACCOUNTKEY
        return True
    return last and word in ("AUTH", "AUTHORIZATION")  # REDIS_AUTH, BASIC_AUTH; not AUTH_URL, authSource


def _name_class(name: str) -> str:
    """'nonsecret' (never a secret on name grounds), 'strong', 'weak' or 'neutral'."""
    words = _tokens(name)
    if not words:
        return "neutral"
    if (words[-1] in _NON_SECRET_LAST or _NON_SECRET_ANY.intersection(words) or words[-2:] in _PUBLIC_KEY_NAMES
            or name.upper() in ("PWD", "OLDPWD")  # the shell's working directory, not a password
            # iSCSI's auth.username_in, azurestorageaccountname: identities, not credentials
            or ("USERNAME" in words and not any(w.endswith(("PASSWORD", "PASSWD")) for w in words))
            or (len(words) == 1 and len(words[0]) > 8 and words[0].endswith(("NAME", "USERNAME")))):
        return "nonsecret"
    for i, word in enumerate(words):
        if _is_strong(word, words[i - 1] if i else None, i == len(words) - 1):
            return "strong"
    return "weak" if _WEAK_FRAGMENTS.intersection(words) else "neutral"


def name_is_secret_like(name: str) -> bool:
    return _name_class(name) == "strong"


def _unquote(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        value = value[1:-1].strip()
    return value


def _is_reference_or_placeholder(part: str) -> bool:
    return not part or bool(_REFERENCE.fullmatch(part) or _PLACEHOLDER.fullmatch(part))


def value_is_non_secret(value: str) -> bool:
    """True when the value cannot be a plaintext secret, whatever its name (see module docstring)."""
    v = _unquote(value)
    if (not v or v.lower() in _BOOLEANS or _NUMBER.fullmatch(v) or _REFERENCE.fullmatch(v)
            or _PLACEHOLDER.fullmatch(v) or _VAULT.match(v) or _PUBLIC_PEM.fullmatch(v)
            or (_UPPER_SNAKE.fullmatch(v) and name_is_secret_like(v))):
        return True
    if _URL.fullmatch(v):
        return known_token_kind(v) is None
    # A base64 secret may start with "/" too; a path has readable segments.
    return bool(_PATH.fullmatch(v)) and not (looks_random(v.replace("/", "")) and not set("._-").intersection(v))


def known_token_kind(value: str) -> str | None:
    """Kind of the first well-known credential format found anywhere in the value, e.g. 'github-token'."""
    m = _TOKENS.search(value) if _may_hold_token(value) else None
    if m:
        return m.lastgroup.replace("_", "-")
    m = _URL_CREDS.search(value)
    if m and not _is_reference_or_placeholder(m.group(1)):
        return "basic-auth-url"
    if "://" in value:
        for key, val in _QUERY_PARAM.findall(value):
            if ((name_is_secret_like(key) or key.lower() in ("sig", "signature"))
                    and len(val) >= MIN_SECRET_LENGTH and not _is_reference_or_placeholder(val)):
                return "url-secret-parameter"
    m = _CONN_PASSWORD.search(value)
    if m and not _is_reference_or_placeholder(_unquote(m.group(1))):
        return "connection-string-password"
    return None


def shannon_entropy(value: str) -> float:
    """Bits per character of the value's own character distribution."""
    n = len(value)
    return -sum(c / n * math.log2(c / n) for c in Counter(value).values()) if n else 0.0


def looks_random(value: str) -> bool:
    """Long, dense and mixed enough to be generated rather than typed (a key, not a word)."""
    if len(value) < ENTROPY_MIN_LENGTH:
        return False
    has_digit = any(c.isdigit() for c in value)
    if _HEX.fullmatch(value):
        return has_digit and any(c.isalpha() for c in value) and shannon_entropy(value) > ENTROPY_THRESHOLD_HEX
    if not _BASE64ISH.fullmatch(value):
        return False
    mixed = has_digit and any(c.islower() for c in value) and any(c.isupper() for c in value)
    threshold = min(ENTROPY_THRESHOLD_BASE64_MAX, 0.85 * math.log2(len(value)))
    return mixed and shannon_entropy(value) > threshold


def _decoded_is_non_secret(value: str) -> bool:
    try:
        text = base64.b64decode(value, validate=True).decode("utf-8", "replace")
    except (binascii.Error, ValueError):
        return False
    return value_is_non_secret(text) and not known_token_kind(text)


def is_plaintext_secret(name: str, value: str, context: str) -> bool:
    """Combined name + value + context decision; see the module docstring for the rules."""
    if not isinstance(value, str):
        return False
    v = _unquote(value)
    if not v:
        return False
    if known_token_kind(v):
        return True
    name = name if isinstance(name, str) else ""
    cls = _name_class(name)
    m = _DEFAULTED.fullmatch(v)
    if m:
        return bool(m.group(1)) and is_plaintext_secret(name, m.group(1), context)
    if value_is_non_secret(v):
        return (cls == "strong" and _tokens(name)[-1] in _PASSWORD_WORDS and v.isdigit()
                and len(v) >= MIN_SECRET_LENGTH)
    if context in SECRET_DATA_CONTEXTS:
        if cls == "nonsecret" or (context == "secret-data" and _decoded_is_non_secret(v)):
            return False
        text = _b64_text(v) if context == "secret-data" else v
        if text is not None and text.count("\n") >= 2:
            # A whole file kept in a Secret (grafana.ini, alertmanager.yaml): judge its contents.
            return _file_has_credentials(text)
        return True
    if cls == "strong":
        if (_ENUM_CONSTANT.fullmatch(v) and _tokens(name)[-1] in ("AUTH", "AUTHORIZATION")) \
                or (_IDENTIFIER_WORD.fullmatch(v) and v.upper().endswith(_SECRET_NOUNS)):
            return False  # auth = AUTH_MUTUAL_TLS, secret_key = "credentials": an option or a secret's name
        return len(v) >= MIN_SECRET_LENGTH and any(c.isalnum() for c in v)
    return cls == "weak" and looks_random(v) and not _decoded_is_non_secret(v)


_ENUM_CONSTANT = re.compile(r"[A-Z]+(?:_[A-Z]+){2,}")
_SECRET_NOUNS = ("SECRET", "SECRETS", "CREDENTIAL", "CREDENTIALS")
_IDENTIFIER_WORD = re.compile(r"[a-z][a-z_-]*")
_CREDENTIAL_LINE = re.compile(
    r"(?im)^\s*[\w.-]*(?:password|passwd|secret|token|api_?key|private_?key|credentials?)[\w.-]*\s*[:=]\s*"
    r"[\"']?([^\s\"'#]+)")


def _b64_text(value: str) -> str | None:
    try:
        return base64.b64decode(value, validate=True).decode("utf-8")
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return None


def _file_has_credentials(text: str) -> bool:
    if known_token_kind(text):
        return True
    return any(not value_is_non_secret(m.group(1)) for m in _CREDENTIAL_LINE.finditer(text))


def mask(value: str) -> str:
    """Safe to print: at most 2 leading and 2 trailing characters, never the whole value."""
    if not value:
        return ""
    lines = [line.strip() for line in value.splitlines() if line.strip()] or [""]
    first, out = lines[0], "****"
    if len(first) >= 8:
        out = first[:2] + ("****" if len(lines) > 1 else "*" * min(len(first) - 4, 8) + first[-2:])
    return out if out != value else "***"  # the value was itself a mask

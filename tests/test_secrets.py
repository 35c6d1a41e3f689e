"""Secret detection: name evidence, value evidence, known token formats, masking.

Token-shaped fixtures are assembled at run time so that this file does not itself trip secret
scanners (GitHub push protection, detect-secrets, iaclint).
"""
from __future__ import annotations

import pytest

from linter.facts.secrets import (
    is_plaintext_secret,
    known_token_kind,
    looks_random,
    mask,
    name_is_secret_like,
    shannon_entropy,
    value_is_non_secret,
)

GHP = "ghp" + "_" + "aB3dE5gH7jK9mN1pQ3sT5vW7yZ9bC1dF3hJ5"  # 36 after the prefix
GITHUB_PAT = "github" + "_pat_" + "A" * 11 + "b" * 11 + "_" + "C1d2E3f4G5" * 5 + "H6i7J8k9L"
GLPAT = "glpat" + "-" + "xY7zW9vU1tS3rQ5pO7nM"
SLACK_BOT = "xoxb" + "-123456789012-1234567890123-" + "AbCdEfGhIjKlMnOpQrStUvWx"
SLACK_HOOK = "https://hooks.slack.com/services/" + "T0ABCDEFG/B0ABCDEFG/" + "aBcDeFgHiJkLmNoPqRsTuVwX"
STRIPE = "sk" + "_live_" + "4eC39HqLyjWDarjtT1zdp7dc"
GOOGLE = "AI" + "za" + "SyA1bC2dE3fG4hI5jK6lM7nO8pQ9rS0tU1v"
JWT = ("ey" + "JhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.ey" + "JzdWIiOiIxMjM0NTY3ODkwIn0"
       ".dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U")
NPM = "npm" + "_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"
SENDGRID = "SG" + "." + "aBcDeFgHiJkLmNoPqRsTuV" + "." + "aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789abcdefg"
TWILIO = "SK" + "0123456789abcdef" * 2
AWS_ID = "AKIA" + "IOSFODNN7EXAMPLE"  # AWS's documented example key id
AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCY" + "EXAMPLEKEY"
PEM = "-----BEGIN " + "RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA1c7+9z5Pad7OejecsQ0bu\n-----END RSA PRIVATE KEY-----\n"
CERT = "-----BEGIN CERTIFICATE-----\nMIIDjzCCAnegAwIBAgIUfIuuQDfWakIpZ7bZ\n-----END CERTIFICATE-----\n"
SHA256 = "fbdeace9b38220436a4c8fd79b900df92878151db145e641750743a283b514c1"
GPG_FPR = "A035C8C19219BA821ECEA86B64E628F8D684696D"


# (name, value, context) that must be reported as a plaintext secret.
CATCHES = [
    ("DB_PASSWORD", "hunter2", "env"),
    ("dbPassword", "hunter2", "env"),
    ("api-key", "k3y-value", "env"),
    ("GITHUB_TOKEN", "not-a-real-format", "env"),
    ("CLIENT_SECRET", "abc123", "env"),
    ("REDIS_AUTH", "redispass", "env"),
    ("MYSQL_ROOT_PASSWORD", "example", "env"),  # weak, but plaintext
    ("DB_PASSWORD", "changeme", "env"),  # decision: well-known placeholders are still reported ...
    ("DB_PASSWORD", "CHANGE_ME", "env"),
    ("DB_PASSWORD", "your-password-here", "env"),
    ("DB_PASSWORD", "'quoted-pw'", "env"),
    ("password", "P4ssw0rd", "attribute"),
    ("secret_key", "abc/def+ghi", "provider"),
    ("admin_password", "s3cr3t", "variable-default"),
    ("NPM_AUTH", "s3cr3t", "build-arg"),
    # known formats fire whatever the name
    ("SOME_SETTING", AWS_ID, "env"),
    ("X", GHP, "env"),
    ("X", GITHUB_PAT, "env"),
    ("X", GLPAT, "env"),
    ("X", SLACK_BOT, "env"),
    ("NOTIFY", SLACK_HOOK, "env"),
    ("X", STRIPE, "env"),
    ("MAPS", GOOGLE, "env"),
    ("HEADER_VALUE", "Bearer " + JWT, "env"),
    ("X", NPM, "env"),
    ("X", SENDGRID, "env"),
    ("X", TWILIO, "env"),
    ("tls.key", PEM, "secret-string-data"),
    ("GPG_KEY", PEM, "env"),  # a never-secret name does not hide a private key
    ("CONFIG", "[default]\naws_secret_access_key = " + AWS_SECRET, "env"),
    ("DATABASE_URL", "postgres://user:s3cr3tpw@db/app", "env"),
    ("AZURE_CONN", "DefaultEndpointsProtocol=https;AccountName=a;AccountKey=abc123==;", "env"),
    ("WEBHOOK", "https://example.com/hook?token=abc123def", "env"),
    ("TOKEN", "${TOKEN:-" + GHP + "}", "env"),  # a known token in a default still leaks
    # Kubernetes Secret data: every value, whatever its key name
    ("anything", "aHVudGVyMg==", "secret-data"),
    ("anything", "hunter2", "secret-string-data"),
    # numeric passwords under a password name
    ("PIN_PASSWORD", "123456", "env"),
    # weak name fragment + random-looking value
    ("S3_KEY", "lgNvGyhnUKpa5PJi3xQ9", "env"),
    ("SESSION_SALT", "9f86d081884c7d659a2feaa0c55ad015", "env"),
    # Real corpus lines (/work/shared/corpus/real/...):
    ("MYSQL_ROOT_PASSWORD", "whalehello", "env"),  # docker__awesome-compose/wasmedge-mysql-nginx/compose.yml:25
    ("DATABASE_URL", "mysql://root:whalehello@db:3306/mysql", "env"),  # same file, line 17
    ("SA_PASSWORD", "example_123", "env"),  # docker__awesome-compose/aspnet-mssql/compose.yaml
    ("LDAP_ROOTPASS", "fsociety", "env"),  # jessfraz__dockerfiles/slapd/Dockerfile:38
    ("LICENSE_KEY", "lgNvGyhnUKpa5PJi", "env"),  # jessfraz__dockerfiles/telize/Dockerfile:8
    # docker__compose/pkg/e2e/testdata/TestBuildLongOutputLine/Dockerfile
    ("AWS_SECRET_ACCESS_KEY", "FAKE_TO_GENERATE_WARNING_OUTPUT", "build-arg"),
    # docker__compose/pkg/e2e/testdata/TestPublishDetectSensitiveData/compose.yaml:5
    ("AWS_ACCESS_KEY_ID", "A3TX1234567890ABCDEF", "env"),
    ("MYSQL_ROOT_PASSWORD", "123", "env"),  # frappe__frappe_docker/devcontainer-example/docker-compose.yml:9
    ("ADMIN_PASSWORD", "${ADMIN_PASSWORD:-admin}", "env"),  # stefanprodan__dockprom/docker-compose.yml:131
    # istio__istio/samples/bookinfo/platform/kube/bookinfo-mysql.yaml:25
    ("rootpasswd", "cGFzc3dvcmQ=", "secret-data"),
    # prometheus-operator__kube-prometheus/examples/basic-auth/secrets.yaml:6
    ("password", "dG9vcg==", "secret-data"),
    # open-telemetry__opentelemetry-demo/compose.yaml:722
    ("SECRET_KEY_BASE", "yYrECL4qbNwleYInGJYvVnSkwJuSQJ4ijPTx5tirGUXrbznFIBFVJdPl5t6O9ASw", "env"),
]

# (name, value, context) that must NOT be reported.
MISSES = [
    ("PASSWORD_MIN_LENGTH", "12", "env"),
    ("PASSWORD_MIN_LENGTH", "twelve", "env"),  # the name alone rules it out
    ("TOKEN_EXPIRY", "3600s", "env"),
    ("TOKEN_TTL", "1h", "env"),
    ("SECRET_NAME", "db-credentials", "env"),
    ("AUTH_ENABLED", "enabled", "env"),
    ("POSTGRES_PASSWORD_FILE", "/run/secrets/db", "env"),
    ("API_TOKEN", "$(TOKEN)", "env"),
    ("API_TOKEN", "${TOKEN}", "env"),
    ("API_TOKEN", "$TOKEN", "env"),
    ("API_TOKEN", "{{ .Values.apiToken }}", "env"),
    ("API_TOKEN", "%API_TOKEN%", "env"),
    ("password", "%s", "attribute"),  # Go format string in provider tests
    ("DB_PASSWORD", "ENC[AES256_GCM,data:Tr7o=,iv:1=,tag:2=,type:str]", "env"),
    ("DB_PASSWORD", "vault:secret/data/db#password", "env"),
    ("DB_PASSWORD", "arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-AbCdEf", "env"),
    ("DB_PASSWORD", "arn:aws:ssm:eu-west-1:123456789012:parameter/db", "env"),
    ("DB_PASSWORD", "", "env"),
    ("DB_PASSWORD", "   ", "env"),
    ("DB_PASSWORD", '""', "env"),
    ("DB_PASSWORD", "<password>", "env"),
    ("DB_PASSWORD", "xxxxxx", "env"),
    ("DB_PASSWORD", "********", "env"),
    ("DB_PASSWORD", "true", "env"),
    ("DB_PASSWORD", "no", "env"),
    ("DB_PASSWORD", "12", "env"),  # numbers shorter than 3 digits are flags
    ("PASSWORD_ROUNDS", "12", "env"),
    ("DB_PASSWORD", "./secrets/db.txt", "env"),
    ("DB_PASSWORD", "~/db.txt", "env"),
    ("DATABASE_URL", "postgres://db:5432/app", "env"),
    ("DATABASE_URL", "postgres://user:${DB_PASSWORD}@db/app", "env"),
    ("DATABASE_URL", "mongodb://db:27017/app?authSource=admin", "env"),
    ("AWS_ACCESS_KEY_ID", "my-key-id", "env"),
    ("PYTHON_SHA256", SHA256, "env"),
    ("GPG_KEYS", GPG_FPR, "env"),
    ("COMMIT_SHA", "72aa6db7943024b48c4d41c1fbc32b57b9fa036e", "env"),
    ("IMAGE_DIGEST", "sha256:" + SHA256, "env"),
    ("BUILD_ID", "lgNvGyhnUKpa5PJi3xQ9", "env"),  # random value, neutral name
    ("S3_KEY", "uploads/2024/report.pdf", "env"),  # weak name, non-random value
    ("TOKENIZER_MODE", "auto", "env"),  # TOKENIZER is not TOKEN
    ("SSH_PUBLIC_KEY", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB", "env"),
    ("server.crt", CERT, "secret-string-data"),  # certificates are public
    ("url", "https://charts.example.com", "secret-string-data"),
    ("anything", "", "secret-data"),
    ("anything", "PGNoYW5nZW1lPg==", "secret-data"),  # base64 of "<changeme>"
    # Real corpus lines (/work/shared/corpus/real/...):
    ("GPG_KEY", GPG_FPR, "env"),  # docker-library__python/3.10/slim-bookworm/Dockerfile
    ("PHP_SHA256", SHA256, "env"),  # docker-library__php/8.2/alpine3.23/zts/Dockerfile:61
    # docker__awesome-compose/nginx-flask-mysql/compose.yaml:22
    ("MYSQL_ROOT_PASSWORD_FILE", "/run/secrets/db-password", "env"),
    ("MYSQL_ALLOW_EMPTY_PASSWORD", "yes", "env"),  # docker__compose/pkg/e2e/fixtures/network-test/compose.yaml:6
    ("ELASTIC_PASSWORD", "${ELASTIC_PASSWORD:-}", "env"),  # deviantony__docker-elk/docker-compose.yml:30
    ("SECRET_KEY", "${SECRET_KEY:?Variable not set}", "env"),  # fastapi__full-stack-fastapi-template/compose.yml:57
    # open-telemetry__opentelemetry-demo/compose.yaml:529
    ("DB_CONNECTION_STRING",
     "postgres://astronomy_user:${POSTGRES_ASTRONOMY_PASSWORD}@${POSTGRES_HOST}/astronomy_db?sslmode=disable", "env"),
    # open-telemetry__opentelemetry-demo/compose.full.yaml:32
    ("DB_CONNECTION_STRING",
     "Host=${POSTGRES_HOST};Username=astronomy_user;Password=${POSTGRES_ASTRONOMY_PASSWORD};Database=astronomy_db",
     "env"),
    # GoogleCloudPlatform__kubernetes-engine-samples/ai-ml/nemo-rl-on-gke/.../nim-gemma-deployment.yaml:64
    ("HF_TOKEN", "HF_TOKEN", "env"),
    # GoogleCloudPlatform__microservices-demo/kustomize/components/shopping-assistant/shoppingassistantservice.yaml:52
    ("GOOGLE_API_KEY", "GOOGLE_API_KEY_VAL", "env"),
    # GoogleCloudPlatform__kubernetes-engine-samples/ai-ml/llm-serving-gemma/tgi/tgi-2-27b.yaml:54
    ("MAX_TOTAL_TOKENS", "2048", "env"),
    ("user", "YWRtaW4=", "secret-data"),  # prometheus-operator__kube-prometheus/examples/basic-auth/secrets.yaml:7
    ("type", "helm", "secret-string-data"),  # argoproj__argo-cd/docs/operator-manual/argocd-repositories.yaml:48
]


@pytest.mark.parametrize("name,value,context", CATCHES)
def test_catches(name, value, context):
    assert is_plaintext_secret(name, value, context) is True


@pytest.mark.parametrize("name,value,context", MISSES)
def test_does_not_catch(name, value, context):
    assert is_plaintext_secret(name, value, context) is False


@pytest.mark.parametrize("name", [
    "DB_PASSWORD", "dbPassword", "db-passwd", "PWD_ADMIN", "api-key", "apiKey", "API_KEY", "x-api-key",
    "AWS_SECRET_ACCESS_KEY", "GITHUB_TOKEN", "private_key", "PRIVATE_KEY", "client_secret", "clientSecret",
    "GOOGLE_CREDENTIALS", "ACCESS_KEY", "BASIC_AUTH", "ENCRYPTION_KEY", "azurestorageaccountkey",
    "WEBPASSWORD", "LDAP_ROOTPASS", "OAuth2Token", "password", "token", "GPG_PASSPHRASE", "GPG_PRIVATE_KEY",
])
def test_secret_like_names(name):
    assert name_is_secret_like(name)


@pytest.mark.parametrize("name", [
    "PASSWORD_MIN_LENGTH", "TOKEN_EXPIRY", "POSTGRES_PASSWORD_FILE", "PASSWORD_PATH", "TOKEN_URL",
    "SECRET_NAME", "TOKEN_TTL", "AUTH_ENABLED", "PASSWORD_LENGTH", "TOKEN_TIMEOUT", "AWS_ACCESS_KEY_ID",
    "accessKeyId", "secretKeyRef", "PYTHON_SHA256", "GPG_KEY", "GPG_KEYS", "KEY_FINGERPRINT",
    "SECRET_VERSION", "ADMIN_PASSWORD_HASH", "TOKENIZER_MODE", "AUTH_URL", "authSource",
    "POSTGRES_HOST_AUTH_METHOD", "MYSQL_ALLOW_EMPTY_PASSWORD", "MAX_TOTAL_TOKENS", "SSH_PUBLIC_KEY",
    "enable_secret_manager_addon",
    "PWD", "BYPASS_CACHE", "CACHE_KEY", "KEEPASSXC_VERSION", "AUTHOR", "PGP_KEY", "", "pgpKeys",
])
def test_not_secret_like_names(name):
    assert not name_is_secret_like(name)


@pytest.mark.parametrize("value", [
    "", " ", "$(VAR)", "${VAR}", "$VAR", "{{ .Values.x }}", "/run/secrets/x", "./x", "~/x", "C:\\secrets\\x",
    "42", "3.14", "True", "off", "https://example.com/a?b=c", "ENC[AES256_GCM,data:x]", "vault:kv/db",
    "arn:aws:ssm:us-east-1:1:parameter/x", "<password>", "xxx", "***", "XXXX-XXXX", "INSERT_DISCOVERY_TOKEN",
    CERT,
])
def test_non_secret_values(value):
    assert value_is_non_secret(value)


@pytest.mark.parametrize("value", [
    "hunter2", "changeme", "REPLACE_ME", "CHANGE_ME", "your-password-here", "password", "secret",
    "postgres://user:pw@db/app", SLACK_HOOK,
    "/" + "K7MDENGbPxRfiCY9EXAMPLEKEY2aB", PEM,
])
def test_values_that_may_be_secret(value):
    assert not value_is_non_secret(value)


@pytest.mark.parametrize("value,kind", [
    (AWS_ID, "aws-access-key-id"),
    ("ASIA" + "Y34FZKBOKMUTVV7A", "aws-access-key-id"),
    ("aws_secret_access_key=" + AWS_SECRET, "aws-secret-access-key"),
    (GHP, "github-token"),
    ("gho" + GHP[3:], "github-token"),
    (GITHUB_PAT, "github-token"),
    (GLPAT, "gitlab-token"),
    (SLACK_BOT, "slack-token"),
    (SLACK_HOOK, "slack-webhook"),
    (STRIPE, "stripe-key"),
    ("rk" + STRIPE[2:], "stripe-key"),
    (PEM, "private-key"),
    ("-----BEGIN " + "OPENSSH PRIVATE KEY-----\nb3Bl\n", "private-key"),
    (GOOGLE, "google-api-key"),
    (JWT, "jwt"),
    (NPM, "npm-token"),
    (SENDGRID, "sendgrid-key"),
    (TWILIO, "twilio-key"),
    ("https://admin:hunter2@registry.example.com", "basic-auth-url"),
    ("Server=db;User Id=sa;Password=hunter2;", "connection-string-password"),
    ("https://acct.blob.core.windows.net/c?sv=2022-11-02&sig=abcDEF123%3D", "url-secret-parameter"),
    ("https://api.example.com/v1?access_token=abc123def", "url-secret-parameter"),
])
def test_known_token_kinds(value, kind):
    assert known_token_kind(value) == kind


@pytest.mark.parametrize("value", [
    "", "hello world", SHA256, GPG_FPR, "AKIA-not-a-key", "https://user:${PW}@host/x", "postgres://db:5432/x",
    "eyJhbGciOiJub25lIn0", "Password=${DB_PASSWORD};Host=db", CERT, "https://x.example.com/?token=${T}",
    "mongodb://db/app?authSource=admin",
])
def test_no_known_token(value):
    assert known_token_kind(value) is None


def test_entropy():
    assert shannon_entropy("") == 0.0
    assert shannon_entropy("aaaa") == 0.0
    assert shannon_entropy("abcd") == pytest.approx(2.0)
    assert looks_random("lgNvGyhnUKpa5PJi")  # 16 distinct characters: 4 bits/char
    assert looks_random(SHA256)
    assert not looks_random("lgNvGyhnUKpa5PJ")  # too short
    assert not looks_random("production-database-cluster")
    assert not looks_random("AllowScopedEC2InstanceAccessActions")  # identifiers are not random
    assert not looks_random("0000000000000000000000000000000a")


@pytest.mark.parametrize("value,expected", [
    ("hunter2277", "hu******77"),
    ("12345678", "12****78"),
    ("a" * 100 + "yz", "aa********yz"),  # stars capped at 8: the length is not leaked
    ("hunter2", "****"),
    ("x", "****"),
    ("****", "***"),  # never return the input, even when it is itself a mask
    ("hu******77", "***"),
    ("", ""),
])
def test_mask(value, expected):
    assert mask(value) == expected


@pytest.mark.parametrize("value", [
    "hunter2", "hunter2277", "ab", "abcdefgh", PEM, GHP, JWT, "a" * 5000, "line one is long\nline two\n",
    " padded-secret \n",
])
def test_mask_never_reveals(value):
    out = mask(value)
    assert out != value
    assert value.strip() not in out
    assert "\n" not in out
    assert len(out) <= 12


def test_mask_multiline_pem():
    assert mask(PEM) == "--****"


# False positives found in the corpus review (paths under shared/corpus/real), and their limits.
@pytest.mark.parametrize("name,value,context,expected", [
    ("istio_auth", "AUTH_MUTUAL_TLS", "variable-default", False),          # terraform-google-modules: an option
    ("terraformrc_secret_key", "credentials", "variable-default", False),   # names a secret, does not hold one
    ("workspace_secrets", "workspacesecrets", "variable-default", False),
    ("project", "my-project", "secret-string-data", False),                 # argo-cd repository Secret
    ("node.session.auth.username_in", "user", "secret-string-data", False),  # kubernetes/examples iscsi
    ("azurestorageaccountname", "bXlhY2NvdW50", "secret-data", False),      # kubernetes/examples azure_file
    ("grafana.ini", "[server]\nhttp_port = 3000\n[auth]\ndisable_login_form = false\n", "secret-string-data", False),
    ("grafana.ini", "[security]\nadmin_user = admin\nadmin_password = s3cretpw\n", "secret-string-data", True),
    ("REDIS_AUTH", "redispass", "env", True),
    ("password", "aHVudGVyMg==", "secret-data", True),
])
def test_corpus_false_positive_regressions(name, value, context, expected):
    from linter.facts.secrets import is_plaintext_secret

    assert is_plaintext_secret(name, value, context) is expected

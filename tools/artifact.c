/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The operator's tool for sealed artifacts: make keys, seal a rules or model
 * file for deployment, check or open a sealed file, and fetch an artifact the
 * way a daemon would (file or S3, same environment variables) to test a
 * deployment's settings before rolling it out.
 *
 * Exit codes: 0 success, 1 the operation failed (I/O, authentication, fetch),
 * 2 bad usage. Errors are one line on stderr naming the file or location; keys
 * and artifact contents are never printed (keygen prints the key it makes).
 */
#include "common/artifact.h"
#include "common/aws_credentials.h"
#include "common/config.h"
#include "common/crypto.h"
#include "common/seal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define TOOL_EXIT_OK 0
#define TOOL_EXIT_FAIL 1
#define TOOL_EXIT_USAGE 2
#define TOOL_MAX_INPUT ((size_t)256 * 1024 * 1024)

static const char tool_usage[] =
    "usage: artifact seal --key-id K (--key-file F | --keys SPEC) IN OUT\n"
    "       artifact open [--keys SPEC] [--keys-file F] IN OUT\n"
    "       artifact verify [--keys SPEC] [--keys-file F] IN\n"
    "       artifact keygen [KEY_ID]\n"
    "       artifact fetch [--max-bytes N] LOCATION OUT\n"
    "Keys default to $ARTIFACT_KEYS / $ARTIFACT_KEYS_FILE. fetch finds S3 credentials as the\n"
    "daemons do (environment keys, web identity, container credentials, instance metadata:\n"
    "the AWS_* variables of docs/configuration.md), plus AWS_ENDPOINT_URL_S3.\n"
    "LOCATION is a file path or s3://bucket/key. Exit: 0 ok, 1 failed, 2 usage.\n";

struct tool_opts {
    const char *key_id;
    const char *key_file;
    const char *keys;
    const char *keys_file;
    size_t max_bytes;
    const char *args[3];
    int nargs;
};

static int tool_fail(const char *cmd, const char *fmt, const char *a, const char *b)
{
    fprintf(stderr, "artifact %s: ", cmd);
    fprintf(stderr, fmt, a, b);
    fputc('\n', stderr);
    return TOOL_EXIT_FAIL;
}

static int tool_usage_error(const char *why)
{
    fprintf(stderr, "artifact: %s\n%s", why, tool_usage);
    return TOOL_EXIT_USAGE;
}

static const char *tool_env(const char *name)
{
    const char *v = getenv(name);

    return v && *v ? v : NULL;
}

/* Parses options and up to three positional arguments. Returns 0 or -1. */
static int tool_parse(int argc, char **argv, struct tool_opts *o)
{
    int i;

    for (i = 0; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;

        if (a[0] != '-' || a[1] == '\0') {
            if (o->nargs == 3)
                return -1;
            o->args[o->nargs++] = a;
            continue;
        }
        if (!v)
            return -1;
        i++;
        if (strcmp(a, "--key-id") == 0)
            o->key_id = v;
        else if (strcmp(a, "--key-file") == 0)
            o->key_file = v;
        else if (strcmp(a, "--keys") == 0)
            o->keys = v;
        else if (strcmp(a, "--keys-file") == 0)
            o->keys_file = v;
        else if (strcmp(a, "--max-bytes") == 0) {
            char *end;
            errno = 0;
            unsigned long long n = strtoull(v, &end, 10);
            if (errno || *end || end == v || n == 0 || v[0] == '-')
                return -1;
            o->max_bytes = (size_t)n;
        } else
            return -1;
    }
    return 0;
}

/* Reads a whole regular file (capped). Returns a malloc'd buffer or NULL with err set. */
static unsigned char *tool_read(const char *path, size_t *len, char *err, size_t err_len)
{
    unsigned char *data = NULL;
    struct stat st;
    size_t got = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0) {
        snprintf(err, err_len, "\"%s\": %s", path, strerror(errno));
        return NULL;
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || (size_t)st.st_size > TOOL_MAX_INPUT) {
        snprintf(err, err_len, "\"%s\": not a regular file of at most %zu bytes", path,
                 TOOL_MAX_INPUT);
        goto out;
    }
    data = malloc((size_t)st.st_size + 1);
    if (!data) {
        snprintf(err, err_len, "\"%s\": out of memory", path);
        goto out;
    }
    while (got < (size_t)st.st_size) {
        ssize_t n = read(fd, data + got, (size_t)st.st_size - got);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            snprintf(err, err_len, "\"%s\": read failed", path);
            free(data);
            data = NULL;
            goto out;
        }
        got += (size_t)n;
    }
    *len = got;
out:
    close(fd);
    return data;
}

/* Writes via a temporary file and rename, so OUT is never half-written. */
static int tool_write(const char *path, const unsigned char *data, size_t len, mode_t mode,
                      char *err, size_t err_len)
{
    char tmp[4200];
    size_t off = 0;
    int fd;

    if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid()) >= sizeof(tmp)) {
        snprintf(err, err_len, "\"%s\": path too long", path);
        return -1;
    }
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd < 0) {
        snprintf(err, err_len, "\"%s\": %s", path, strerror(errno));
        return -1;
    }
    while (off < len) {
        ssize_t n = write(fd, data + off, len - off);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        off += (size_t)n;
    }
    if (off < len || fsync(fd) != 0 || close(fd) != 0 || rename(tmp, path) != 0) {
        snprintf(err, err_len, "\"%s\": write failed: %s", path, strerror(errno));
        if (off < len)
            close(fd);
        unlink(tmp);
        return -1;
    }
    return 0;
}

/* Keyring from --keys/--keys-file, else from $ARTIFACT_KEYS / $ARTIFACT_KEYS_FILE. */
static struct seal_keyring *tool_keyring(const struct tool_opts *o, char *err, size_t err_len)
{
    const char *spec = o->keys ? o->keys : (o->keys_file ? NULL : tool_env("ARTIFACT_KEYS"));
    const char *file =
        o->keys_file ? o->keys_file : (o->keys ? NULL : tool_env("ARTIFACT_KEYS_FILE"));
    struct seal_keyring *ring = seal_keyring_new();

    if (seal_keyring_add_spec(ring, spec, err, err_len) != 0 ||
        seal_keyring_add_file(ring, file, err, err_len) != 0) {
        seal_keyring_free(ring);
        return NULL;
    }
    return ring;
}

/*
 * The sealing key --key-id names: --key-file holds either one bare hex64 key or
 * "kid:hex64" lines; --keys is a spec string.
 */
static int tool_seal_key(const struct tool_opts *o, struct seal_key *key, char *err, size_t err_len)
{
    struct seal_keyring *ring = NULL;
    const struct seal_key *found = NULL;
    unsigned char *raw = NULL;
    size_t len = 0, a = 0;
    int result = -1;

    if (o->key_file && (raw = tool_read(o->key_file, &len, err, err_len)) == NULL)
        return -1;
    while (raw && len > 0 && (raw[len - 1] == '\n' || raw[len - 1] == '\r' || raw[len - 1] == ' '))
        len--;
    while (raw && a < len && (raw[a] == ' ' || raw[a] == '\n'))
        a++;
    if (raw && len - a == 2 * SEAL_KEY_LEN && !memchr(raw + a, ':', len - a)) {
        if (!o->key_id || !seal_key_id_valid(o->key_id, strlen(o->key_id)) ||
            crypto_hex_decode((char *)raw + a, len - a, key->key, SEAL_KEY_LEN) != 0) {
            snprintf(err, err_len, "\"%s\": want 64 hex digits and a valid --key-id", o->key_file);
            goto out;
        }
        snprintf(key->id, sizeof(key->id), "%s", o->key_id);
        result = 0;
        goto out;
    }
    ring = seal_keyring_new();
    if (o->key_file ? seal_keyring_add_file(ring, o->key_file, err, err_len)
                    : seal_keyring_add_spec(ring, o->keys, err, err_len))
        goto out;
    found = seal_keyring_find(ring, o->key_id);
    if (!found) {
        snprintf(err, err_len, "key id \"%s\" not among the %zu keys given",
                 o->key_id ? o->key_id : "(none)", seal_keyring_count(ring));
        goto out;
    }
    *key = *found;
    result = 0;
out:
    if (raw) {
        crypto_wipe(raw, len);
        free(raw);
    }
    seal_keyring_free(ring);
    return result;
}

static int tool_seal(const struct tool_opts *o)
{
    struct seal_key key;
    unsigned char *in = NULL, *out = NULL;
    size_t in_len = 0, out_len = 0;
    char err[1024];
    int rc = TOOL_EXIT_FAIL;

    if (o->nargs != 2 || !o->key_id || !!o->key_file == !!o->keys)
        return tool_usage_error("seal needs --key-id, one of --key-file/--keys, IN and OUT");
    if (tool_seal_key(o, &key, err, sizeof(err)) != 0)
        return tool_fail("seal", "%s%s", err, "");
    in = tool_read(o->args[0], &in_len, err, sizeof(err));
    if (!in)
        goto out;
    if (seal_is_sealed(in, in_len)) {
        snprintf(err, sizeof(err), "\"%s\": already sealed", o->args[0]);
        goto out;
    }
    if (seal_seal(&key, in, in_len, &out, &out_len, err, sizeof(err)) != 0 ||
        tool_write(o->args[1], out, out_len, 0644, err, sizeof(err)) != 0)
        goto out;
    fprintf(stderr, "sealed \"%s\" -> \"%s\" with key id \"%s\" (%zu -> %zu bytes)\n", o->args[0],
            o->args[1], key.id, in_len, out_len);
    rc = TOOL_EXIT_OK;
out:
    crypto_wipe(&key, sizeof(key));
    if (in)
        crypto_wipe(in, in_len);
    free(in);
    free(out);
    return rc == TOOL_EXIT_OK ? rc : tool_fail("seal", "%s%s", err, "");
}

/* Opens IN with the keyring; on success the caller owns *plain (*plain_len bytes). */
static int tool_unseal(const struct tool_opts *o, const char *cmd, unsigned char **plain,
                       size_t *plain_len, char *kid, size_t *sealed_len)
{
    struct seal_keyring *ring;
    unsigned char *in;
    char err[1024], why[900];
    int rc;

    in = tool_read(o->args[0], sealed_len, err, sizeof(err));
    if (!in)
        return tool_fail(cmd, "%s%s", err, "");
    ring = tool_keyring(o, err, sizeof(err));
    if (!ring) {
        free(in);
        return tool_fail(cmd, "keys: %s%s", err, "");
    }
    rc = seal_open(ring, in, *sealed_len, plain, plain_len, kid, why, sizeof(why));
    seal_keyring_free(ring);
    free(in);
    if (rc != 0)
        return tool_fail(cmd, "\"%s\": %s", o->args[0], why);
    return TOOL_EXIT_OK;
}

static int tool_open(const struct tool_opts *o)
{
    unsigned char *plain = NULL;
    size_t plain_len = 0, sealed_len = 0;
    char kid[SEAL_KEY_ID_MAX + 1] = "";
    char err[1024];
    int rc;

    if (o->nargs != 2)
        return tool_usage_error("open needs IN and OUT");
    rc = tool_unseal(o, "open", &plain, &plain_len, kid, &sealed_len);
    if (rc != TOOL_EXIT_OK)
        return rc;
    if (tool_write(o->args[1], plain, plain_len, 0600, err, sizeof(err)) != 0)
        rc = tool_fail("open", "%s%s", err, "");
    else
        fprintf(stderr, "opened \"%s\" -> \"%s\" with key id \"%s\" (%zu bytes)\n", o->args[0],
                o->args[1], kid, plain_len);
    crypto_wipe(plain, plain_len);
    free(plain);
    return rc;
}

static int tool_verify(const struct tool_opts *o)
{
    unsigned char *plain = NULL;
    size_t plain_len = 0, sealed_len = 0;
    char kid[SEAL_KEY_ID_MAX + 1] = "";
    char sha[CRYPTO_SHA256_HEX_LEN + 1];
    int rc;

    if (o->nargs != 1)
        return tool_usage_error("verify needs IN");
    rc = tool_unseal(o, "verify", &plain, &plain_len, kid, &sealed_len);
    if (rc != TOOL_EXIT_OK)
        return rc;
    crypto_sha256_hex(plain, plain_len, sha);
    printf("ok file=%s key_id=%s sealed_bytes=%zu plain_bytes=%zu sha256=%s\n", o->args[0], kid,
           sealed_len, plain_len, sha);
    crypto_wipe(plain, plain_len);
    free(plain);
    return TOOL_EXIT_OK;
}

static int tool_keygen(const struct tool_opts *o)
{
    unsigned char key[SEAL_KEY_LEN];
    char hex[2 * SEAL_KEY_LEN + 1];
    char id[SEAL_KEY_ID_MAX + 1];
    unsigned char r[4];

    if (o->nargs > 1)
        return tool_usage_error("keygen takes at most a key id");
    if (o->nargs == 1 && !seal_key_id_valid(o->args[0], strlen(o->args[0])))
        return tool_usage_error("key id must be 1-64 chars of [A-Za-z0-9._-]");
    if (crypto_random(key, sizeof(key)) != 0 || crypto_random(r, sizeof(r)) != 0)
        return tool_fail("keygen", "no random bytes%s%s", "", "");
    if (o->nargs == 1)
        snprintf(id, sizeof(id), "%s", o->args[0]);
    else
        snprintf(id, sizeof(id), "k%02x%02x%02x%02x", r[0], r[1], r[2], r[3]);
    crypto_hex_encode(key, sizeof(key), hex);
    printf("%s:%s\n", id, hex);
    crypto_wipe(key, sizeof(key));
    crypto_wipe(hex, sizeof(hex));
    return TOOL_EXIT_OK;
}

/* The daemons' AWS_* rows, so fetch sees S3 exactly as a pod with the same environment. */
struct tool_aws {
    struct aws_settings aws;
};
static const struct config_var tool_aws_rows[] = {AWS_SETTINGS_ROWS(struct tool_aws, aws)};
#define TOOL_AWS_ROWS (sizeof(tool_aws_rows) / sizeof(tool_aws_rows[0]))

static int tool_fetch(const struct tool_opts *o)
{
    struct tool_aws env = {0};
    struct artifact_source src;
    struct artifact_s3_auth auth = {0};
    struct artifact_keyring *keyring = NULL;
    unsigned char *data = NULL;
    size_t len = 0;
    bool sealed = false;
    char err[2048], sha[CRYPTO_SHA256_HEX_LEN + 1];
    int rc = TOOL_EXIT_FAIL;

    if (o->nargs != 2)
        return tool_usage_error("fetch needs LOCATION and OUT");
    if (artifact_source_parse(o->args[0], &src, err, sizeof(err)) != 0)
        return tool_fail("fetch", "%s%s", err, "");
    keyring = artifact_keyring_new(tool_env("ARTIFACT_KEYS"), tool_env("ARTIFACT_KEYS_FILE"), err,
                                   sizeof(err));
    if (!keyring)
        return tool_fail("fetch", "keys: %s%s", err, "");
    if (config_load(tool_aws_rows, TOOL_AWS_ROWS, &env, err, sizeof(err)) != 0)
        goto out;
    auth.credentials = aws_provider_new(&env.aws, "artifact-fetch");
    auth.default_region = aws_settings_region(&env.aws);
    auth.endpoint =
        *env.aws.endpoint_url_s3 ? env.aws.endpoint_url_s3 : tool_env("AWS_ENDPOINT_URL");
    if (artifact_load(&src, &auth, keyring, o->max_bytes, &data, &len, &sealed, err, sizeof(err)) !=
        0)
        goto out;
    if (tool_write(o->args[1], data, len, 0600, err, sizeof(err)) != 0)
        goto out;
    crypto_sha256_hex(data, len, sha);
    fprintf(stderr, "fetched \"%s\" -> \"%s\": %zu bytes, %s, sha256=%s\n", o->args[0], o->args[1],
            len, sealed ? "sealed" : "plain", sha);
    rc = TOOL_EXIT_OK;
out:
    if (data)
        crypto_wipe(data, len);
    free(data);
    aws_provider_free(auth.credentials);
    config_free(tool_aws_rows, TOOL_AWS_ROWS, &env);
    artifact_keyring_free(keyring);
    return rc == TOOL_EXIT_OK ? rc : tool_fail("fetch", "%s%s", err, "");
}

int main(int argc, char **argv)
{
    struct tool_opts o = {0};
    const char *cmd = argc > 1 ? argv[1] : "";

    if (argc < 2 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0) {
        fputs(tool_usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? TOOL_EXIT_USAGE : TOOL_EXIT_OK;
    }
    if (tool_parse(argc - 2, argv + 2, &o) != 0)
        return tool_usage_error("bad option or argument");
    if (strcmp(cmd, "seal") == 0)
        return tool_seal(&o);
    if (strcmp(cmd, "open") == 0)
        return tool_open(&o);
    if (strcmp(cmd, "verify") == 0)
        return tool_verify(&o);
    if (strcmp(cmd, "keygen") == 0)
        return tool_keygen(&o);
    if (strcmp(cmd, "fetch") == 0)
        return tool_fetch(&o);
    return tool_usage_error("unknown command");
}

/*
 * cairn stand-in agent: a small program that behaves like `nomad` or `consul`
 * where cairn's roles and tests look (version output, config loading and
 * refusal of broken configs, data_dir identity files, HTTP status endpoints,
 * signals, logging). It is NOT Nomad or Consul: no scheduling, no raft, no
 * gossip.
 *
 * Product: explicit first argument `nomad`/`consul`, else basename of argv[0]
 * (nomad*, consul*), else -DAGENT_PRODUCT="nomad"|"consul".
 *
 * Build-time knobs: -DNOMAD_VERSION="1.9.7" -DCONSUL_VERSION="1.20.2"
 * (-DAGENT_VERSION="x.y.z" overrides both), -DAGENT_REVISION="<hex>",
 * -DAGENT_BUILD_DATE="2025-01-01T00:00:00Z", -DAGENT_PRODUCT="nomad".
 *
 * Runtime knobs (files in data_dir, checked on every request):
 *   standin-unhealthy    -> /v1/agent/health answers 500 (file text = message)
 *   standin-no-leader    -> /v1/status/leader "", /v1/status/peers [], autopilot 500
 *   standin-drain-stuck  -> a node drain migrates nothing until its deadline
 *   alloc/standin-allocs -> how many allocations this nomad client runs
 *
 * Cluster (stand-in, raft only as far as quorum goes): a server with
 * bootstrap_expect N > 1 and a retry_join list (consul: retry_join; nomad:
 * server.server_join.retry_join) probes GET /v1/standin/alive on each joined
 * address at its OWN http port about once a second. N live at once bootstrap
 * the raft configuration (persisted); then a majority of it keeps a leader.
 * /v1/status/peers lists the configuration; /v1/operator/autopilot/health
 * answers as Consul and Nomad do. See test/agent/README.md.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <netdb.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#ifndef NOMAD_VERSION
#define NOMAD_VERSION "1.9.7"
#endif
#ifndef CONSUL_VERSION
#define CONSUL_VERSION "1.20.2"
#endif
#ifndef AGENT_REVISION
#define AGENT_REVISION "5ca1ab1e0ddba11c0ffee5eed0f5a1e0fca1e000"
#endif
#ifndef AGENT_BUILD_DATE
#define AGENT_BUILD_DATE "2025-01-01T00:00:00Z"
#endif

/* ------------------------------------------------------------------ util */

enum product { P_NONE, P_NOMAD, P_CONSUL };
static enum product prod = P_NONE;

static const char *pname(void) { return prod == P_CONSUL ? "consul" : "nomad"; }
static const char *ptitle(void) { return prod == P_CONSUL ? "Consul" : "Nomad"; }
static const char *pversion(void)
{
#ifdef AGENT_VERSION
    const char *v = AGENT_VERSION;
#else
    const char *v = prod == P_CONSUL ? CONSUL_VERSION : NOMAD_VERSION;
#endif
    return (v[0] == 'v') ? v + 1 : v;
}

static void *xmalloc(size_t n)
{
    void *p = calloc(1, n ? n : 1);
    if (!p) {
        fputs("out of memory\n", stderr);
        exit(1);
    }
    return p;
}
static void *xrealloc(void *p, size_t n)
{
    p = realloc(p, n ? n : 1);
    if (!p) {
        fputs("out of memory\n", stderr);
        exit(1);
    }
    return p;
}
static char *xstrndup(const char *s, size_t n)
{
    char *r = xmalloc(n + 1);
    memcpy(r, s, n);
    r[n] = 0;
    return r;
}
static char *xstrdup(const char *s) { return xstrndup(s, strlen(s)); }
static char *xasprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *r = xmalloc((size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(r, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return r;
}

/* growable string buffer */
typedef struct {
    char *s;
    size_t len, cap;
} sbuf;
static void sb_addn(sbuf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        b->cap = (b->len + n + 1) * 2 + 64;
        b->s = xrealloc(b->s, b->cap);
    }
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = 0;
}
static void sb_add(sbuf *b, const char *s) { sb_addn(b, s, strlen(s)); }
static void sb_addc(sbuf *b, char c) { sb_addn(b, &c, 1); }
static void sb_printf(sbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *tmp = xmalloc((size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(tmp, (size_t)n + 1, fmt, ap);
    va_end(ap);
    sb_addn(b, tmp, (size_t)n);
    free(tmp);
}
static void sb_json_str(sbuf *b, const char *s)
{
    sb_addc(b, '"');
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        if (*p == '"' || *p == '\\') {
            sb_addc(b, '\\');
            sb_addc(b, (char)*p);
        } else if (*p == '\n') {
            sb_add(b, "\\n");
        } else if (*p == '\t') {
            sb_add(b, "\\t");
        } else if (*p < 0x20) {
            sb_printf(b, "\\u%04x", *p);
        } else {
            sb_addc(b, (char)*p);
        }
    }
    sb_addc(b, '"');
}

static int read_file(const char *path, char **out, size_t *outlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    sbuf b = {0};
    char buf[8192];
    for (;;) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            int e = errno;
            close(fd);
            free(b.s);
            errno = e;
            return -1;
        }
        if (n == 0)
            break;
        sb_addn(&b, buf, (size_t)n);
    }
    close(fd);
    if (!b.s)
        b.s = xstrdup("");
    *out = b.s;
    if (outlen)
        *outlen = b.len;
    return 0;
}

static int write_file_atomic(const char *path, const char *data, mode_t mode)
{
    char *tmp = xasprintf("%s.tmp.%ld", path, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0) {
        free(tmp);
        return -1;
    }
    size_t len = strlen(data), off = 0;
    while (off < len) {
        ssize_t n = write(fd, data + off, len - off);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            int e = errno;
            close(fd);
            unlink(tmp);
            free(tmp);
            errno = e;
            return -1;
        }
        off += (size_t)n;
    }
    fsync(fd);
    close(fd);
    if (rename(tmp, path) < 0) {
        int e = errno;
        unlink(tmp);
        free(tmp);
        errno = e;
        return -1;
    }
    free(tmp);
    return 0;
}

static int mkdir_p(const char *path, mode_t final_mode)
{
    char *p = xstrdup(path);
    size_t len = strlen(p);
    while (len > 1 && p[len - 1] == '/')
        p[--len] = 0;
    for (char *s = p + 1; *s; s++) {
        if (*s == '/') {
            *s = 0;
            if (mkdir(p, 0755) < 0 && errno != EEXIST) {
                int e = errno;
                free(p);
                errno = e;
                return -1;
            }
            *s = '/';
        }
    }
    if (mkdir(p, final_mode) < 0 && errno != EEXIST) {
        int e = errno;
        free(p);
        errno = e;
        return -1;
    }
    struct stat st;
    if (stat(p, &st) < 0 || !S_ISDIR(st.st_mode)) {
        free(p);
        errno = ENOTDIR;
        return -1;
    }
    free(p);
    return 0;
}

static void random_bytes(unsigned char *buf, size_t n)
{
    size_t got = 0;
#ifdef SYS_getrandom
    while (got < n) {
        long r = syscall(SYS_getrandom, buf + got, n - got, 0);
        if (r <= 0) {
            if (r < 0 && errno == EINTR)
                continue;
            break;
        }
        got += (size_t)r;
    }
#endif
    if (got < n) {
        int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
        if (fd >= 0) {
            while (got < n) {
                ssize_t r = read(fd, buf + got, n - got);
                if (r <= 0)
                    break;
                got += (size_t)r;
            }
            close(fd);
        }
    }
    if (got < n) { /* last resort: not cryptographic, still unique enough */
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        unsigned long long x = (unsigned long long)ts.tv_nsec ^ ((unsigned long long)ts.tv_sec << 20) ^
                               ((unsigned long long)getpid() << 40);
        for (; got < n; got++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            buf[got] = (unsigned char)x;
        }
    }
}

static char *uuid_v4(void)
{
    unsigned char b[16];
    random_bytes(b, sizeof b);
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    return xasprintf("%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2],
                     b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
}

static int is_uuid(const char *s)
{
    if (strlen(s) != 36)
        return 0;
    for (int i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-')
                return 0;
        } else if (!isxdigit((unsigned char)s[i])) {
            return 0;
        }
    }
    return 1;
}

static char *trim(char *s)
{
    while (*s && isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1]))
        s[--n] = 0;
    return s;
}

/* ------------------------------------------------------------- logging */

static int log_fd = -1;
static char *log_path = NULL;

static void write_all(int fd, const char *s, size_t n)
{
    while (n) {
        ssize_t w = write(fd, s, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return;
        }
        s += w;
        n -= (size_t)w;
    }
}

static void emit_line(FILE *stream, const char *line)
{
    fputs(line, stream);
    fputc('\n', stream);
    fflush(stream);
    if (log_fd >= 0) {
        write_all(log_fd, line, strlen(line));
        write_all(log_fd, "\n", 1);
    }
}

/* UI output (`==> ...` lines) */
static void ui(FILE *stream, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *msg;
    if (vasprintf(&msg, fmt, ap) < 0)
        msg = NULL;
    va_end(ap);
    if (msg) {
        emit_line(stream, msg);
        free(msg);
    }
}

/* hclog-shaped log line: "    2025-01-01T00:00:00.000Z [INFO] agent: msg" */
static void logmsg(const char *level, const char *fmt, ...)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char tbuf[64];
    strftime(tbuf, sizeof tbuf, "%Y-%m-%dT%H:%M:%S", &tm);
    va_list ap;
    va_start(ap, fmt);
    char *msg;
    if (vasprintf(&msg, fmt, ap) < 0)
        msg = NULL;
    va_end(ap);
    if (!msg)
        return;
    char *line = xasprintf("    %s.%03ldZ [%s] %s", tbuf, ts.tv_nsec / 1000000L, level, msg);
    emit_line(stdout, line);
    free(line);
    free(msg);
}

static int open_log_file(const char *spec, char **err)
{
    size_t n = strlen(spec);
    char *path = (n && spec[n - 1] == '/') ? xasprintf("%s%s.log", spec, pname()) : xstrdup(spec);
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    if (fd < 0) {
        *err = xasprintf("open %s: %s", path, strerror(errno));
        free(path);
        return -1;
    }
    if (log_fd >= 0)
        close(log_fd);
    log_fd = fd;
    free(log_path);
    log_path = path;
    return 0;
}

/* ------------------------------------------------------ config tree */

enum vtype { V_STR, V_NUM, V_BOOL, V_NULL, V_LIST, V_OBJ };
static const char *vtype_name(int t)
{
    switch (t) {
    case V_STR: return "string";
    case V_NUM: return "number";
    case V_BOOL: return "bool";
    case V_NULL: return "null";
    case V_LIST: return "list";
    default: return "object";
    }
}

typedef struct node {
    char *key;
    char **labels;
    int nlabels;
    int type;
    char *s; /* string value, or number text */
    int b;
    struct node **kids;
    int nkids, cap;
    const char *file;
    int line, col;
} node;

static node *node_new(int type, const char *file, int line, int col)
{
    node *n = xmalloc(sizeof *n);
    n->type = type;
    n->file = file;
    n->line = line;
    n->col = col;
    return n;
}
static void node_add(node *parent, node *kid)
{
    if (parent->nkids == parent->cap) {
        parent->cap = parent->cap ? parent->cap * 2 : 8;
        parent->kids = xrealloc(parent->kids, sizeof(node *) * (size_t)parent->cap);
    }
    parent->kids[parent->nkids++] = kid;
}

/* ------------------------------------------------------------ lexer */

enum tok { T_EOF, T_IDENT, T_STRING, T_NUMBER, T_ASSIGN, T_LBRACE, T_RBRACE, T_LBRACK, T_RBRACK, T_COMMA, T_COLON };
static const char *tok_name(int t)
{
    static const char *names[] = {"EOF", "IDENT", "STRING", "NUMBER", "ASSIGN", "LBRACE",
                                  "RBRACE", "LBRACK", "RBRACK", "COMMA", "COLON"};
    return names[t];
}

typedef struct {
    int t;
    char *text;
    int line, col;
} token;

typedef struct {
    const char *file;
    const char *src;
    size_t len, pos;
    int line, col;
    int failed;
    char err[512];
    token cur;
} parser;

static void perr(parser *p, int line, int col, const char *fmt, ...)
{
    if (p->failed)
        return;
    p->failed = 1;
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(p->err, sizeof p->err, "At %d:%d: %s", line, col, msg);
}

static int pc(parser *p, size_t off) { return p->pos + off < p->len ? (unsigned char)p->src[p->pos + off] : -1; }
static void adv(parser *p)
{
    if (p->pos >= p->len)
        return;
    if (p->src[p->pos] == '\n') {
        p->line++;
        p->col = 1;
    } else {
        p->col++;
    }
    p->pos++;
}

static void skip_ws(parser *p)
{
    for (;;) {
        int c = pc(p, 0);
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v') {
            adv(p);
        } else if (c == '#' || (c == '/' && pc(p, 1) == '/')) {
            while (pc(p, 0) != -1 && pc(p, 0) != '\n')
                adv(p);
        } else if (c == '/' && pc(p, 1) == '*') {
            int l = p->line, co = p->col;
            adv(p);
            adv(p);
            while (!(pc(p, 0) == '*' && pc(p, 1) == '/')) {
                if (pc(p, 0) == -1) {
                    perr(p, l, co, "comment not terminated");
                    return;
                }
                adv(p);
            }
            adv(p);
            adv(p);
        } else {
            return;
        }
    }
}

static int ident_start(int c) { return c != -1 && (isalpha(c) || c == '_'); }
static int ident_char(int c) { return c != -1 && (isalnum(c) || c == '_' || c == '-' || c == '.'); }

static void lex_string(parser *p, token *t)
{
    sbuf b = {0};
    adv(p); /* opening quote */
    int depth = 0; /* inside ${ ... } */
    for (;;) {
        int c = pc(p, 0);
        if (c == -1 || (c == '\n' && depth == 0)) {
            perr(p, t->line, t->col, "literal not terminated");
            free(b.s);
            return;
        }
        if (depth == 0 && c == '"') {
            adv(p);
            break;
        }
        if (c == '$' && pc(p, 1) == '{') {
            depth++;
            sb_add(&b, "${");
            adv(p);
            adv(p);
            continue;
        }
        if (depth > 0 && c == '}') {
            depth--;
        }
        if (depth == 0 && c == '\\') {
            adv(p);
            int e = pc(p, 0);
            switch (e) {
            case 'n': sb_addc(&b, '\n'); break;
            case 't': sb_addc(&b, '\t'); break;
            case 'r': sb_addc(&b, '\r'); break;
            case '"': sb_addc(&b, '"'); break;
            case '\\': sb_addc(&b, '\\'); break;
            case '/': sb_addc(&b, '/'); break;
            default:
                perr(p, p->line, p->col - 1, "unknown escape sequence");
                free(b.s);
                return;
            }
            adv(p);
            continue;
        }
        sb_addc(&b, (char)c);
        adv(p);
    }
    t->t = T_STRING;
    t->text = b.s ? b.s : xstrdup("");
}

static void lex_heredoc(parser *p, token *t)
{
    /* <<EOF or <<-EOF, body until a line that is exactly the marker (indent allowed) */
    adv(p);
    adv(p);
    if (pc(p, 0) == '-')
        adv(p);
    size_t ms = p->pos;
    while (ident_char(pc(p, 0)))
        adv(p);
    if (p->pos == ms || (pc(p, 0) != '\n' && pc(p, 0) != '\r')) {
        perr(p, t->line, t->col, "heredoc expected marker name followed by newline");
        return;
    }
    char *marker = xstrndup(p->src + ms, p->pos - ms);
    while (pc(p, 0) == '\r')
        adv(p);
    adv(p); /* newline */
    sbuf b = {0};
    for (;;) {
        if (pc(p, 0) == -1) {
            perr(p, t->line, t->col, "heredoc not terminated");
            free(marker);
            free(b.s);
            return;
        }
        size_t ls = p->pos;
        while (pc(p, 0) != -1 && pc(p, 0) != '\n')
            adv(p);
        char *line = xstrndup(p->src + ls, p->pos - ls);
        char *tl = trim(line);
        int end = strcmp(tl, marker) == 0;
        if (!end) {
            sb_addn(&b, p->src + ls, p->pos - ls);
            sb_addc(&b, '\n');
        }
        free(line);
        if (pc(p, 0) == '\n' && !end)
            adv(p);
        if (end)
            break;
    }
    free(marker);
    t->t = T_STRING;
    t->text = b.s ? b.s : xstrdup("");
}

static void lex_next(parser *p)
{
    token *t = &p->cur;
    free(t->text);
    t->text = NULL;
    skip_ws(p);
    t->line = p->line;
    t->col = p->col;
    t->t = T_EOF;
    if (p->failed)
        return;
    int c = pc(p, 0);
    if (c == -1)
        return;
    switch (c) {
    case '=': t->t = T_ASSIGN; adv(p); return;
    case '{': t->t = T_LBRACE; adv(p); return;
    case '}': t->t = T_RBRACE; adv(p); return;
    case '[': t->t = T_LBRACK; adv(p); return;
    case ']': t->t = T_RBRACK; adv(p); return;
    case ',': t->t = T_COMMA; adv(p); return;
    case ':': t->t = T_COLON; adv(p); return;
    case '"': lex_string(p, t); return;
    default: break;
    }
    if (c == '<' && pc(p, 1) == '<') {
        lex_heredoc(p, t);
        return;
    }
    if (isdigit(c) || ((c == '-' || c == '+') && pc(p, 1) != -1 && isdigit(pc(p, 1)))) {
        size_t s = p->pos;
        adv(p);
        while (pc(p, 0) != -1 && (isalnum(pc(p, 0)) || pc(p, 0) == '.' ||
                                  ((pc(p, 0) == '-' || pc(p, 0) == '+') &&
                                   (p->src[p->pos - 1] == 'e' || p->src[p->pos - 1] == 'E'))))
            adv(p);
        t->text = xstrndup(p->src + s, p->pos - s);
        char *end;
        errno = 0;
        (void)strtod(t->text, &end);
        if (*end || errno) {
            perr(p, t->line, t->col, "invalid number %s", t->text);
            return;
        }
        t->t = T_NUMBER;
        return;
    }
    if (ident_start(c)) {
        size_t s = p->pos;
        while (ident_char(pc(p, 0)))
            adv(p);
        t->text = xstrndup(p->src + s, p->pos - s);
        t->t = T_IDENT;
        return;
    }
    perr(p, t->line, t->col, "illegal char %c", isprint(c) ? c : '?');
}

/* ------------------------------------------------------------ HCL parser */

static void parse_body(parser *p, node *obj, int toplevel);

static node *parse_value(parser *p)
{
    token *t = &p->cur;
    node *v;
    switch (t->t) {
    case T_STRING:
        v = node_new(V_STR, p->file, t->line, t->col);
        v->s = xstrdup(t->text);
        lex_next(p);
        return v;
    case T_NUMBER:
        v = node_new(V_NUM, p->file, t->line, t->col);
        v->s = xstrdup(t->text);
        lex_next(p);
        return v;
    case T_IDENT:
        if (!strcmp(t->text, "true") || !strcmp(t->text, "false")) {
            v = node_new(V_BOOL, p->file, t->line, t->col);
            v->b = t->text[0] == 't';
            lex_next(p);
            return v;
        }
        if (!strcmp(t->text, "null")) {
            v = node_new(V_NULL, p->file, t->line, t->col);
            lex_next(p);
            return v;
        }
        perr(p, t->line, t->col, "Unknown token: %d:%d IDENT %s", t->line, t->col, t->text);
        return NULL;
    case T_LBRACK: {
        v = node_new(V_LIST, p->file, t->line, t->col);
        lex_next(p);
        for (;;) {
            if (p->failed)
                return NULL;
            if (t->t == T_RBRACK) {
                lex_next(p);
                return v;
            }
            if (t->t == T_EOF) {
                perr(p, t->line, t->col, "list expected closing RBRACK got: EOF");
                return NULL;
            }
            node *item = parse_value(p);
            if (!item)
                return NULL;
            node_add(v, item);
            if (t->t == T_COMMA) {
                lex_next(p);
            } else if (t->t != T_RBRACK) {
                perr(p, t->line, t->col, "unexpected token while parsing list: %s", tok_name(t->t));
                return NULL;
            }
        }
    }
    case T_LBRACE: {
        v = node_new(V_OBJ, p->file, t->line, t->col);
        lex_next(p);
        parse_body(p, v, 0);
        if (p->failed)
            return NULL;
        lex_next(p); /* RBRACE */
        return v;
    }
    default:
        perr(p, t->line, t->col, "Unknown token: %d:%d %s", t->line, t->col, tok_name(t->t));
        return NULL;
    }
}

/* parses items until RBRACE (left as current token) or EOF (error unless toplevel) */
static void parse_body(parser *p, node *obj, int toplevel)
{
    token *t = &p->cur;
    for (;;) {
        if (p->failed)
            return;
        if (t->t == T_EOF) {
            if (!toplevel)
                perr(p, t->line, t->col, "object expected closing RBRACE got: EOF");
            return;
        }
        if (t->t == T_RBRACE) {
            if (toplevel)
                perr(p, t->line, t->col, "expected: IDENT | STRING got: RBRACE");
            return;
        }
        if (t->t == T_COMMA && !toplevel) {
            lex_next(p);
            continue;
        }
        if (t->t != T_IDENT && t->t != T_STRING) {
            perr(p, t->line, t->col, "expected: IDENT | STRING got: %s", tok_name(t->t));
            return;
        }
        char *key = xstrdup(t->text);
        int kl = t->line, kc = t->col;
        lex_next(p);
        if (p->failed) {
            free(key);
            return;
        }
        if (t->t == T_ASSIGN || (t->t == T_COLON && !toplevel)) {
            lex_next(p);
            if (t->t == T_EOF) {
                perr(p, t->line, t->col, "key '%s' expected a value got: EOF", key);
                free(key);
                return;
            }
            node *v = parse_value(p);
            if (!v) {
                free(key);
                return;
            }
            v->key = key;
            v->line = kl;
            v->col = kc;
            node_add(obj, v);
            continue;
        }
        char **labels = NULL;
        int nl = 0;
        while (t->t == T_STRING || t->t == T_IDENT) {
            labels = xrealloc(labels, sizeof(char *) * (size_t)(nl + 1));
            labels[nl++] = xstrdup(t->text);
            lex_next(p);
        }
        if (t->t != T_LBRACE) {
            if (!p->failed)
                perr(p, kl, kc, "key '%s' expected start of object ('{') or assignment ('=')", key);
            free(key);
            return;
        }
        node *blk = node_new(V_OBJ, p->file, kl, kc);
        blk->key = key;
        blk->labels = labels;
        blk->nlabels = nl;
        lex_next(p);
        parse_body(p, blk, 0);
        if (p->failed)
            return;
        lex_next(p); /* consume RBRACE */
        node_add(obj, blk);
    }
}

/* ------------------------------------------------------------ JSON parser */

static node *json_value(parser *p);

static void json_ws(parser *p)
{
    while (pc(p, 0) == ' ' || pc(p, 0) == '\t' || pc(p, 0) == '\n' || pc(p, 0) == '\r')
        adv(p);
}

static char *json_string(parser *p)
{
    int l = p->line, c = p->col;
    if (pc(p, 0) != '"') {
        perr(p, l, c, "invalid character looking for beginning of object key string");
        return NULL;
    }
    adv(p);
    sbuf b = {0};
    for (;;) {
        int ch = pc(p, 0);
        if (ch == -1 || ch == '\n') {
            perr(p, l, c, "unexpected end of JSON input in string literal");
            free(b.s);
            return NULL;
        }
        if (ch == '"') {
            adv(p);
            break;
        }
        if (ch == '\\') {
            adv(p);
            int e = pc(p, 0);
            switch (e) {
            case 'n': sb_addc(&b, '\n'); break;
            case 't': sb_addc(&b, '\t'); break;
            case 'r': sb_addc(&b, '\r'); break;
            case 'b': sb_addc(&b, '\b'); break;
            case 'f': sb_addc(&b, '\f'); break;
            case '/': sb_addc(&b, '/'); break;
            case '"': sb_addc(&b, '"'); break;
            case '\\': sb_addc(&b, '\\'); break;
            case 'u': {
                unsigned v = 0;
                for (int i = 0; i < 4; i++) {
                    adv(p);
                    int h = pc(p, 0);
                    if (h == -1 || !isxdigit(h)) {
                        perr(p, p->line, p->col, "invalid character in \\u escape");
                        free(b.s);
                        return NULL;
                    }
                    v = v * 16 + (unsigned)(isdigit(h) ? h - '0' : (tolower(h) - 'a' + 10));
                }
                if (v < 0x80) {
                    sb_addc(&b, (char)v);
                } else if (v < 0x800) {
                    sb_addc(&b, (char)(0xc0 | (v >> 6)));
                    sb_addc(&b, (char)(0x80 | (v & 0x3f)));
                } else {
                    sb_addc(&b, (char)(0xe0 | (v >> 12)));
                    sb_addc(&b, (char)(0x80 | ((v >> 6) & 0x3f)));
                    sb_addc(&b, (char)(0x80 | (v & 0x3f)));
                }
                break;
            }
            default:
                perr(p, p->line, p->col, "invalid escape character in string");
                free(b.s);
                return NULL;
            }
            adv(p);
            continue;
        }
        sb_addc(&b, (char)ch);
        adv(p);
    }
    return b.s ? b.s : xstrdup("");
}

static node *json_value(parser *p)
{
    json_ws(p);
    int l = p->line, c = p->col;
    int ch = pc(p, 0);
    if (ch == -1) {
        perr(p, l, c, "unexpected end of JSON input");
        return NULL;
    }
    if (ch == '{') {
        node *o = node_new(V_OBJ, p->file, l, c);
        adv(p);
        json_ws(p);
        if (pc(p, 0) == '}') {
            adv(p);
            return o;
        }
        for (;;) {
            json_ws(p);
            int kl = p->line, kc = p->col;
            char *k = json_string(p);
            if (!k)
                return NULL;
            json_ws(p);
            if (pc(p, 0) != ':') {
                perr(p, p->line, p->col, "invalid character after object key");
                free(k);
                return NULL;
            }
            adv(p);
            node *v = json_value(p);
            if (!v) {
                free(k);
                return NULL;
            }
            v->key = k;
            v->line = kl;
            v->col = kc;
            node_add(o, v);
            json_ws(p);
            if (pc(p, 0) == ',') {
                adv(p);
                continue;
            }
            if (pc(p, 0) == '}') {
                adv(p);
                return o;
            }
            perr(p, p->line, p->col, "invalid character after object key:value pair");
            return NULL;
        }
    }
    if (ch == '[') {
        node *a = node_new(V_LIST, p->file, l, c);
        adv(p);
        json_ws(p);
        if (pc(p, 0) == ']') {
            adv(p);
            return a;
        }
        for (;;) {
            node *v = json_value(p);
            if (!v)
                return NULL;
            node_add(a, v);
            json_ws(p);
            if (pc(p, 0) == ',') {
                adv(p);
                continue;
            }
            if (pc(p, 0) == ']') {
                adv(p);
                return a;
            }
            perr(p, p->line, p->col, "invalid character after array element");
            return NULL;
        }
    }
    if (ch == '"') {
        node *v = node_new(V_STR, p->file, l, c);
        v->s = json_string(p);
        return v->s ? v : NULL;
    }
    if (ch == '-' || isdigit(ch)) {
        size_t s = p->pos;
        adv(p);
        while (pc(p, 0) != -1 && (isdigit(pc(p, 0)) || strchr(".eE+-", pc(p, 0))))
            adv(p);
        node *v = node_new(V_NUM, p->file, l, c);
        v->s = xstrndup(p->src + s, p->pos - s);
        return v;
    }
    static const char *lits[] = {"true", "false", "null"};
    for (int i = 0; i < 3; i++) {
        size_t n = strlen(lits[i]);
        if (p->len - p->pos >= n && !strncmp(p->src + p->pos, lits[i], n)) {
            for (size_t j = 0; j < n; j++)
                adv(p);
            node *v = node_new(i == 2 ? V_NULL : V_BOOL, p->file, l, c);
            v->b = i == 0;
            return v;
        }
    }
    perr(p, l, c, "invalid character '%c' looking for beginning of value", isprint(ch) ? ch : '?');
    return NULL;
}

/* parse one file's text into root; returns 0 or -1 with err set */
static int parse_text(const char *file, const char *src, size_t len, int json, node *root, char *err, size_t errlen)
{
    parser p = {0};
    p.file = xstrdup(file); /* referenced by nodes for error messages; never freed */
    p.src = src;
    p.len = len;
    p.line = 1;
    p.col = 1;
    if (json) {
        node *v = json_value(&p);
        if (v && !p.failed) {
            json_ws(&p);
            if (pc(&p, 0) != -1)
                perr(&p, p.line, p.col, "invalid character after top-level value");
            else if (v->type != V_OBJ)
                perr(&p, v->line, v->col, "top-level JSON value must be an object");
        }
        if (!p.failed)
            for (int i = 0; i < v->nkids; i++)
                node_add(root, v->kids[i]);
    } else {
        node tmp = {0};
        lex_next(&p);
        parse_body(&p, &tmp, 1);
        if (!p.failed)
            for (int i = 0; i < tmp.nkids; i++)
                node_add(root, tmp.kids[i]);
    }
    free(p.cur.text);
    if (p.failed) {
        snprintf(err, errlen, "%s", p.err);
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------ config load */

static node *cfg_root;
static char **cfg_files;
static int cfg_nfiles;

static int has_suffix(const char *s, const char *suf)
{
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && !strcmp(s + a - b, suf);
}
static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void add_cfg_file(const char *f)
{
    cfg_files = xrealloc(cfg_files, sizeof(char *) * (size_t)(cfg_nfiles + 1));
    cfg_files[cfg_nfiles++] = xstrdup(f);
}

/* Loads a file or every *.hcl / *.json in a directory (sorted). Prints the
 * error and returns -1 on failure. */
static int load_path(const char *path, node *root)
{
    struct stat st;
    if (stat(path, &st) < 0) {
        ui(stderr, "==> Error loading configuration from %s: stat %s: %s", path, path, strerror(errno));
        return -1;
    }
    char **files = NULL;
    int nf = 0;
    if (S_ISDIR(st.st_mode)) {
        DIR *d = opendir(path);
        if (!d) {
            ui(stderr, "==> Error loading configuration from %s: open %s: %s", path, path, strerror(errno));
            return -1;
        }
        struct dirent *de;
        while ((de = readdir(d))) {
            if (de->d_name[0] == '.')
                continue;
            if (!has_suffix(de->d_name, ".hcl") && !has_suffix(de->d_name, ".json"))
                continue;
            size_t pl = strlen(path);
            char *full = (pl && path[pl - 1] == '/') ? xasprintf("%s%s", path, de->d_name)
                                                     : xasprintf("%s/%s", path, de->d_name);
            struct stat fs;
            if (stat(full, &fs) < 0 || !S_ISREG(fs.st_mode)) {
                free(full);
                continue;
            }
            files = xrealloc(files, sizeof(char *) * (size_t)(nf + 1));
            files[nf++] = full;
        }
        closedir(d);
        qsort(files, (size_t)nf, sizeof(char *), cmp_str);
    } else {
        files = xmalloc(sizeof(char *));
        files[nf++] = xstrdup(path);
    }
    int rc = 0;
    for (int i = 0; i < nf; i++) {
        char *src;
        size_t len;
        if (read_file(files[i], &src, &len) < 0) {
            ui(stderr, "==> Error loading configuration from %s: open %s: %s", files[i], files[i], strerror(errno));
            rc = -1;
            break;
        }
        char err[600];
        if (parse_text(files[i], src, len, has_suffix(files[i], ".json"), root, err, sizeof err) < 0) {
            ui(stderr, "==> Error loading configuration from %s: %s", files[i], err);
            free(src);
            rc = -1;
            break;
        }
        add_cfg_file(files[i]);
        /* keep src: node strings are copies, so free is fine */
        free(src);
    }
    for (int i = 0; i < nf; i++)
        free(files[i]);
    free(files);
    return rc;
}

static node *lookup_in(node *obj, const char *path)
{
    const char *dot = strchr(path, '.');
    size_t seglen = dot ? (size_t)(dot - path) : strlen(path);
    node *found = NULL;
    for (int i = 0; i < obj->nkids; i++) {
        node *k = obj->kids[i];
        if (!k->key || strlen(k->key) != seglen || strncmp(k->key, path, seglen))
            continue;
        if (!dot) {
            found = k;
            continue;
        }
        if (k->type == V_OBJ) {
            node *r = lookup_in(k, dot + 1);
            if (r)
                found = r;
        } else if (k->type == V_LIST) {
            for (int j = 0; j < k->nkids; j++)
                if (k->kids[j]->type == V_OBJ) {
                    node *r = lookup_in(k->kids[j], dot + 1);
                    if (r)
                        found = r;
                }
        }
    }
    return found;
}
static node *cfg(const char *path) { return cfg_root ? lookup_in(cfg_root, path) : NULL; }

static int type_error(node *n, const char *path, const char *want)
{
    ui(stderr, "==> Error loading configuration from %s: At %d:%d: %s: expected %s, got %s", n->file, n->line,
       n->col, path, want, vtype_name(n->type));
    return -1;
}

/* 0 = unset, 1 = set, -1 = error (printed) */
static int cfg_str(const char *path, const char **out)
{
    node *n = cfg(path);
    if (!n || n->type == V_NULL)
        return 0;
    if (n->type == V_STR || n->type == V_NUM) {
        *out = n->s;
        return 1;
    }
    if (n->type == V_BOOL) {
        *out = n->b ? "true" : "false";
        return 1;
    }
    return type_error(n, path, "string");
}
static int cfg_int(const char *path, long *out)
{
    node *n = cfg(path);
    if (!n || n->type == V_NULL)
        return 0;
    if (n->type == V_NUM || n->type == V_STR) {
        char *end;
        errno = 0;
        long v = strtol(n->s, &end, 10);
        if (!*n->s || *end || errno)
            return type_error(n, path, "int");
        *out = v;
        return 1;
    }
    return type_error(n, path, "int");
}
static int cfg_bool(const char *path, int *out)
{
    node *n = cfg(path);
    if (!n || n->type == V_NULL)
        return 0;
    if (n->type == V_BOOL) {
        *out = n->b;
        return 1;
    }
    if (n->type == V_STR && (!strcmp(n->s, "true") || !strcmp(n->s, "false"))) {
        *out = n->s[0] == 't';
        return 1;
    }
    if (n->type == V_NUM && (!strcmp(n->s, "0") || !strcmp(n->s, "1"))) {
        *out = n->s[0] == '1';
        return 1;
    }
    return type_error(n, path, "bool");
}

/* ------------------------------------------------------------ settings */

typedef struct {
    int dev;
    const char *data_dir;
    const char *bind_addr;
    const char *http_addr; /* resolved IP */
    const char *advertise; /* resolved IP used for leader/peers */
    const char *datacenter;
    const char *region;
    const char *name;
    const char *log_file;
    const char *log_level;
    const char *encrypt;
    long http_port, rpc_port, serf_port;
    int server, client;
    long bootstrap_expect;
} settings;

/* command-line overrides */
typedef struct {
    char **configs;
    int nconfigs;
    const char *data_dir, *bind, *node, *dc, *log_file, *log_level, *client_addr, *encrypt, *region;
    int server, client, dev, bootstrap;
    long bootstrap_expect, http_port;
} flags;

static char *private_ipv4(void)
{
    struct ifaddrs *ifs = NULL, *i;
    char *res = NULL;
    if (getifaddrs(&ifs) == 0) {
        for (i = ifs; i && !res; i = i->ifa_next) {
            if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET)
                continue;
            struct in_addr a = ((struct sockaddr_in *)i->ifa_addr)->sin_addr;
            unsigned long h = ntohl(a.s_addr);
            if ((h >> 24) == 127)
                continue;
            char buf[INET_ADDRSTRLEN];
            inet_ntop(AF_INET, &a, buf, sizeof buf);
            res = xstrdup(buf);
        }
        freeifaddrs(ifs);
    }
    return res ? res : xstrdup("127.0.0.1");
}

/* Resolve an address setting: plain IPv4, or a go-sockaddr template (stand-in:
 * any {{ ... }} resolves to the first non-loopback IPv4). */
static int resolve_addr(const char *what, const char *v, const char **out)
{
    if (strstr(v, "{{")) {
        *out = private_ipv4();
        logmsg("INFO", "agent: stand-in resolved %s template %s to %s", what, v, *out);
        return 0;
    }
    struct in_addr a;
    if (inet_pton(AF_INET, v, &a) != 1) {
        ui(stderr, "==> Failed to parse %s \"%s\": stand-in agent supports IPv4 addresses only", what, v);
        return -1;
    }
    *out = v;
    return 0;
}

static int port_ok(long v) { return v >= 1 && v <= 65535; }

static int resolve_settings(flags *f, settings *s)
{
    memset(s, 0, sizeof *s);
    int r;
    s->dev = f->dev;
    s->datacenter = "dc1";
    s->region = "global";
    s->bind_addr = "0.0.0.0";
    s->log_level = "INFO";
    s->http_port = prod == P_CONSUL ? 8500 : 4646;
    s->rpc_port = prod == P_CONSUL ? 8300 : 4647;
    s->serf_port = prod == P_CONSUL ? 8301 : 4648;

#define STR(path, dst)                                                                                           \
    do {                                                                                                         \
        if ((r = cfg_str(path, &(dst))) < 0)                                                                     \
            return -1;                                                                                           \
    } while (0)
#define INT(path, dst)                                                                                           \
    do {                                                                                                         \
        if ((r = cfg_int(path, &(dst))) < 0)                                                                     \
            return -1;                                                                                           \
    } while (0)
#define BOOL(path, dst)                                                                                          \
    do {                                                                                                         \
        if ((r = cfg_bool(path, &(dst))) < 0)                                                                    \
            return -1;                                                                                           \
    } while (0)

    STR("data_dir", s->data_dir);
    STR("bind_addr", s->bind_addr);
    STR("datacenter", s->datacenter);
    STR("log_file", s->log_file);
    STR("log_level", s->log_level);
    INT("ports.http", s->http_port);
    const char *http_addr = NULL, *advertise = NULL;
    STR("addresses.http", http_addr);
    if (prod == P_NOMAD) {
        STR("region", s->region);
        STR("name", s->name);
        BOOL("server.enabled", s->server);
        BOOL("client.enabled", s->client);
        INT("server.bootstrap_expect", s->bootstrap_expect);
        INT("ports.rpc", s->rpc_port);
        INT("ports.serf", s->serf_port);
        STR("server.encrypt", s->encrypt);
        const char *adv = NULL;
        STR("advertise.rpc", adv);
        if (adv) {
            char *c = xstrdup(adv), *colon = strchr(c, ':');
            if (colon)
                *colon = 0;
            advertise = c;
        }
    } else {
        STR("name", s->name);
        STR("node_name", s->name);
        BOOL("server", s->server);
        s->client = 1;
        int bootstrap = 0;
        BOOL("bootstrap", bootstrap);
        INT("bootstrap_expect", s->bootstrap_expect);
        if (bootstrap && !s->bootstrap_expect)
            s->bootstrap_expect = 1;
        INT("ports.server", s->rpc_port);
        INT("ports.serf_lan", s->serf_port);
        STR("encrypt", s->encrypt);
        const char *client_addr = NULL;
        STR("client_addr", client_addr);
        if (!http_addr)
            http_addr = client_addr;
        STR("advertise_addr", advertise);
    }
    /* flags win over files */
    if (f->data_dir)
        s->data_dir = f->data_dir;
    if (f->bind)
        s->bind_addr = f->bind;
    if (f->node)
        s->name = f->node;
    if (f->dc)
        s->datacenter = f->dc;
    if (f->region)
        s->region = f->region;
    if (f->log_file)
        s->log_file = f->log_file;
    if (f->log_level)
        s->log_level = f->log_level;
    if (f->encrypt)
        s->encrypt = f->encrypt;
    if (f->server)
        s->server = 1;
    if (f->client)
        s->client = 1;
    if (f->bootstrap_expect)
        s->bootstrap_expect = f->bootstrap_expect;
    if (f->bootstrap && !s->bootstrap_expect)
        s->bootstrap_expect = 1;
    if (f->http_port)
        s->http_port = f->http_port;
    if (f->client_addr)
        http_addr = f->client_addr;
    if (s->dev) {
        s->server = 1;
        s->client = 1;
        if (!s->bootstrap_expect)
            s->bootstrap_expect = 1;
        if (!f->bind && !cfg("bind_addr"))
            s->bind_addr = "127.0.0.1";
    }
    if (!s->name) {
        static char host[256];
        if (gethostname(host, sizeof host - 1) < 0 || !host[0])
            strcpy(host, "localhost");
        s->name = host;
    }
    if (!(prod == P_CONSUL && s->http_port == -1) && !port_ok(s->http_port)) {
        ui(stderr, "==> Invalid HTTP port %ld: must be between 1 and 65535", s->http_port);
        return -1;
    }
    if (!port_ok(s->rpc_port) || !port_ok(s->serf_port)) {
        ui(stderr, "==> Invalid port: rpc=%ld serf=%ld must be between 1 and 65535", s->rpc_port, s->serf_port);
        return -1;
    }
    if (s->bootstrap_expect < 0) {
        ui(stderr, "==> bootstrap_expect must be >= 0, got %ld", s->bootstrap_expect);
        return -1;
    }
    if (resolve_addr("bind_addr", s->bind_addr, &s->bind_addr) < 0)
        return -1;
    if (http_addr) {
        if (resolve_addr("addresses.http", http_addr, &http_addr) < 0)
            return -1;
    } else {
        http_addr = s->bind_addr;
    }
    s->http_addr = http_addr;
    if (advertise) {
        if (resolve_addr("advertise", advertise, &advertise) < 0)
            return -1;
    } else if (strcmp(s->bind_addr, "0.0.0.0") != 0) {
        advertise = s->bind_addr;
    } else {
        advertise = private_ipv4();
    }
    s->advertise = advertise;
    return 0;
}

/* semantic checks shared by `agent` and `validate` */
static int check_settings(settings *s)
{
    if (prod == P_NOMAD && !s->server && !s->client && !s->dev) {
        ui(stderr, "==> Must specify either server, client or dev mode for the agent.");
        return -1;
    }
    if (!s->dev && (!s->data_dir || !*s->data_dir)) {
        if (prod == P_NOMAD)
            ui(stderr, "==> Must specify data directory (data_dir)");
        else
            ui(stderr, "==> data_dir cannot be empty");
        return -1;
    }
    if (prod == P_CONSUL && s->bootstrap_expect > 0 && !s->server) {
        ui(stderr, "==> 'bootstrap_expect = %ld' requires 'server = true'", s->bootstrap_expect);
        return -1;
    }
    if (s->encrypt) {
        /* base64 of a 16, 24 or 32 byte key */
        size_t n = strlen(s->encrypt), pad = 0, bad = 0;
        for (size_t i = 0; i < n; i++) {
            char c = s->encrypt[i];
            if (c == '=')
                pad++;
            else if (!(isalnum((unsigned char)c) || c == '+' || c == '/') || pad)
                bad = 1;
        }
        size_t bytes = n % 4 == 0 ? n / 4 * 3 - pad : 0;
        if (bad || n % 4 || pad > 2 || (bytes != 16 && bytes != 24 && bytes != 32)) {
            ui(stderr, "==> Invalid encryption key: must be a base64 encoded 16, 24 or 32 byte key");
            return -1;
        }
    }
    return 0;
}

/* ------------------------------------------------------------ agent */

static settings S;
static char *node_id;
static int sig_pipe[2] = {-1, -1};

static void on_signal(int sig)
{
    unsigned char c = (unsigned char)sig;
    int e = errno;
    if (sig_pipe[1] >= 0)
        (void)!write(sig_pipe[1], &c, 1);
    errno = e;
}

static char *dd_path(const char *rel) { return xasprintf("%s/%s", S.data_dir, rel); }

static int file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

static char *read_id_file(const char *path)
{
    char *s;
    if (read_file(path, &s, NULL) < 0)
        return NULL;
    char *t = trim(s);
    if (!is_uuid(t)) {
        logmsg("WARN", "agent: ignoring malformed identity file %s", path);
        free(s);
        return NULL;
    }
    char *r = xstrdup(t);
    free(s);
    return r;
}

static int write_id(const char *rel, const char *id)
{
    char *p = dd_path(rel);
    char *data = xasprintf("%s", id);
    int rc = write_file_atomic(p, data, 0600);
    if (rc < 0)
        ui(stderr, "==> Error starting agent: failed to write %s: %s", p, strerror(errno));
    free(p);
    free(data);
    return rc;
}

static int setup_data_dir(void)
{
    if (S.dev) {
        node_id = uuid_v4();
        return 0;
    }
    if (mkdir_p(S.data_dir, 0700) < 0) {
        ui(stderr, "==> Error starting agent: failed to create data_dir %s: %s", S.data_dir, strerror(errno));
        return -1;
    }
    if (access(S.data_dir, W_OK) < 0) {
        ui(stderr, "==> Error starting agent: data_dir %s is not writable: %s", S.data_dir, strerror(errno));
        return -1;
    }
    if (prod == P_NOMAD) {
        char *cdir = dd_path("client");
        if (mkdir_p(cdir, 0700) < 0) {
            ui(stderr, "==> Error starting agent: failed to create %s: %s", cdir, strerror(errno));
            free(cdir);
            return -1;
        }
        free(cdir);
        char *cid = dd_path("client/client-id");
        node_id = read_id_file(cid);
        free(cid);
        int fresh = !node_id;
        if (fresh)
            node_id = uuid_v4();
        if (write_id("client/client-id", node_id) < 0 || write_id("node-id", node_id) < 0)
            return -1;
        if (S.server) {
            char *sdir = dd_path("server");
            mkdir_p(sdir, 0700);
            free(sdir);
            char *sid = dd_path("server/node-id");
            char *have = read_id_file(sid);
            free(sid);
            if (!have && write_id("server/node-id", node_id) < 0)
                return -1;
            free(have);
        }
        logmsg("INFO", "client: %s node identity: node_id=%s", fresh ? "generated new" : "restored", node_id);
    } else {
        char *nid = dd_path("node-id");
        node_id = read_id_file(nid);
        free(nid);
        int fresh = !node_id;
        if (fresh) {
            node_id = uuid_v4();
            if (write_id("node-id", node_id) < 0)
                return -1;
        }
        if (S.encrypt) {
            char *sdir = dd_path("serf");
            mkdir_p(sdir, 0700);
            free(sdir);
            char *kr = dd_path("serf/local.keyring");
            if (file_exists(kr)) {
                logmsg("WARN", "agent: LAN keyring exists but -encrypt given, using keyring");
            } else {
                char *data = xasprintf("[\"%s\"]", S.encrypt);
                if (write_file_atomic(kr, data, 0600) < 0)
                    logmsg("ERROR", "agent: failed to persist keyring %s: %s", kr, strerror(errno));
                free(data);
            }
            free(kr);
        }
    }
    return 0;
}

static int http_listen(void)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        ui(stderr, "==> Error starting agent: failed to start HTTP API: socket: %s", strerror(errno));
        return -1;
    }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in sa = {0};
    sa.sin_family = AF_INET;
    sa.sin_port = htons((unsigned short)S.http_port);
    inet_pton(AF_INET, S.http_addr, &sa.sin_addr);
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(fd, 64) < 0) {
        const char *op = errno == EADDRINUSE || errno == EADDRNOTAVAIL || errno == EACCES ? "bind" : "listen";
        ui(stderr, "==> Error starting agent: failed to start HTTP API: listen tcp %s:%ld: %s: %s", S.http_addr,
           S.http_port, op, errno == EADDRINUSE ? "address already in use" : strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}


/* ------------------------------------------------------------ cluster
 * A server with bootstrap_expect N > 1 and a retry_join list (consul: top-level
 * retry_join; nomad: server.server_join.retry_join) asks every joined address,
 * about once a second, GET /v1/standin/alive on its own HTTP port (non-blocking,
 * 1.5 s timeout). Live servers = itself + the peers that answered as servers.
 *
 * Raft, as far as quorum goes: the cluster bootstraps once N servers are live
 * at the same time (or a live peer says it has bootstrapped). From then on the
 * raft configuration is every server that was ever live with it (persisted in
 * data_dir, merged from the peers' configurations); it keeps a leader while a
 * MAJORITY (floor(n/2)+1) of that configuration is live and has none below.
 * The leader stays while it is live (a peer's view wins over electing anew);
 * otherwise the live member with the lowest "ip:rpc". /v1/status/peers lists
 * the configuration, live or not. */
#define MAXJOIN 16
#define MAXCFG (MAXJOIN + 1)

typedef struct {
    char id[64];
    char addr[96];
    char name[200];
    char version[32];
} rinfo;

typedef struct {
    struct sockaddr_in sa;
    char ip[64];
    int fd;       /* -1 when idle */
    int phase;    /* 0 connecting, 1 reading */
    sbuf buf;
    long long t0; /* start of the current probe (ms) */
    int alive;
    int probed;   /* at least one probe finished since start */
    rinfo info;   /* the peer's addr ("ip:rpc"), id, name, version */
    int boot;     /* the peer has bootstrapped */
    char leader[96];
    rinfo cfg[MAXCFG];
    int ncfg;
} peer;

typedef struct {
    rinfo info;
    int live;
    long long last_seen;  /* ms (monotonic) of the last time it was live */
    time_t stable_since;  /* wall clock of its last Healthy change */
} rmember;

static peer jpeers[MAXJOIN];
static int njpeers;
static int cluster_mode;
static long long last_probe = -1000000;
static long long started_ms;
static char cur_leader[96];
static int cur_live;
static rmember rcfg[MAXCFG];
static int nrcfg;
static int bootstrapped;
static long long raft_term, raft_index = 1;

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void node_free(node *n)
{
    if (!n)
        return;
    for (int i = 0; i < n->nkids; i++)
        node_free(n->kids[i]);
    for (int i = 0; i < n->nlabels; i++)
        free(n->labels[i]);
    free(n->labels);
    free(n->kids);
    free(n->key);
    free(n->s);
    free(n);
}

/* parse a JSON text (a request or response body); NULL when it is not JSON */
static node *json_parse(const char *src, size_t len)
{
    parser p = {0};
    p.file = "body";
    p.src = src;
    p.len = len;
    p.line = 1;
    p.col = 1;
    node *v = json_value(&p);
    if (v && !p.failed) {
        json_ws(&p);
        if (pc(&p, 0) != -1)
            p.failed = 1;
    }
    free(p.cur.text);
    if (p.failed) {
        node_free(v);
        return NULL;
    }
    return v;
}

static const char *jstr(node *obj, const char *path)
{
    node *n = obj && obj->type == V_OBJ ? lookup_in(obj, path) : NULL;
    return n && n->type == V_STR && n->s ? n->s : NULL;
}

static void copy_str(char *dst, size_t n, const char *s) { snprintf(dst, n, "%s", s ? s : ""); }

static const char *server_name(void)
{
    /* Nomad servers are serf members named "<name>.<region>"; Consul uses the node name */
    static char buf[200];
    if (prod == P_NOMAD)
        snprintf(buf, sizeof buf, "%s.%s", S.name, S.region);
    else
        snprintf(buf, sizeof buf, "%s", S.name);
    return buf;
}

static void self_info(rinfo *r)
{
    memset(r, 0, sizeof *r);
    snprintf(r->addr, sizeof r->addr, "%s:%ld", S.advertise, S.rpc_port);
    copy_str(r->id, sizeof r->id, node_id);
    copy_str(r->name, sizeof r->name, server_name());
    copy_str(r->version, sizeof r->version, pversion());
}

static char *raft_file(void)
{
    return dd_path(prod == P_NOMAD ? "server/raft/standin-configuration" : "raft/standin-configuration");
}

static rmember *cfg_find(const char *addr)
{
    for (int i = 0; i < nrcfg; i++)
        if (!strcmp(rcfg[i].info.addr, addr))
            return &rcfg[i];
    return NULL;
}

static int cmp_member(const void *a, const void *b)
{
    return strcmp(((const rmember *)a)->info.addr, ((const rmember *)b)->info.addr);
}

/* add or refresh a member of the configuration; returns 1 when the configuration changed */
static int cfg_add(const rinfo *r)
{
    if (!r->addr[0])
        return 0;
    rmember *m = cfg_find(r->addr);
    if (m) {
        int changed = 0;
        if (r->id[0] && strcmp(m->info.id, r->id)) {
            copy_str(m->info.id, sizeof m->info.id, r->id);
            changed = 1;
        }
        if (r->name[0] && strcmp(m->info.name, r->name)) {
            copy_str(m->info.name, sizeof m->info.name, r->name);
            changed = 1;
        }
        if (r->version[0])
            copy_str(m->info.version, sizeof m->info.version, r->version);
        return changed;
    }
    if (nrcfg >= MAXCFG)
        return 0;
    memset(&rcfg[nrcfg], 0, sizeof rcfg[nrcfg]);
    rcfg[nrcfg].info = *r;
    rcfg[nrcfg].stable_since = time(NULL);
    nrcfg++;
    qsort(rcfg, (size_t)nrcfg, sizeof rcfg[0], cmp_member);
    raft_index++;
    logmsg("INFO", "%s.raft: updating configuration: command=AddVoter server-id=%s server-addr=%s servers=%d", pname(),
           r->id, r->addr, nrcfg);
    return 1;
}

static void raft_save(void)
{
    if (S.dev)
        return;
    sbuf b = {0};
    for (int i = 0; i < nrcfg; i++)
        sb_printf(&b, "%s\t%s\t%s\t%s\n", rcfg[i].info.id, rcfg[i].info.addr, rcfg[i].info.name, rcfg[i].info.version);
    char *f = raft_file();
    char *dir = xstrdup(f);
    *strrchr(dir, '/') = 0;
    mkdir_p(dir, 0700);
    if (write_file_atomic(f, b.s ? b.s : "", 0600) < 0)
        logmsg("ERROR", "%s.raft: failed to persist the configuration to %s: %s", pname(), f, strerror(errno));
    free(dir);
    free(f);
    free(b.s);
}

static void raft_load(void)
{
    if (S.dev)
        return;
    char *f = raft_file(), *s;
    if (read_file(f, &s, NULL) == 0) {
        char *save = NULL;
        for (char *line = strtok_r(s, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
            rinfo r = {0};
            char *fld[4] = {0};
            int nf = 0;
            for (char *p = line; nf < 4;) {
                fld[nf++] = p;
                char *t = strchr(p, '\t');
                if (!t)
                    break;
                *t = 0;
                p = t + 1;
            }
            if (nf < 2 || !*fld[1])
                continue;
            copy_str(r.id, sizeof r.id, fld[0]);
            copy_str(r.addr, sizeof r.addr, fld[1]);
            if (nf > 2)
                copy_str(r.name, sizeof r.name, fld[2]);
            if (nf > 3)
                copy_str(r.version, sizeof r.version, fld[3]);
            if (nrcfg < MAXCFG) {
                memset(&rcfg[nrcfg], 0, sizeof rcfg[nrcfg]);
                rcfg[nrcfg].info = r;
                rcfg[nrcfg].stable_since = time(NULL);
                nrcfg++;
            }
        }
        free(s);
        qsort(rcfg, (size_t)nrcfg, sizeof rcfg[0], cmp_member);
        if (nrcfg > 0) {
            bootstrapped = 1;
            logmsg("INFO", "%s.raft: restored raft configuration: %d servers (%s)", pname(), nrcfg, f);
        }
    }
    free(f);
}

static void cluster_setup(void)
{
    started_ms = now_ms();
    if (!S.server || S.bootstrap_expect <= 1)
        return;
    node *rj = prod == P_CONSUL ? cfg("retry_join") : cfg("server.server_join.retry_join");
    if (!rj || rj->type != V_LIST || rj->nkids == 0)
        return;
    cluster_mode = 1;
    raft_load();
    for (int i = 0; i < rj->nkids && njpeers < MAXJOIN; i++) {
        node *k = rj->kids[i];
        if (k->type != V_STR || !k->s)
            continue;
        char host[64];
        snprintf(host, sizeof host, "%s", k->s);
        char *c = strchr(host, ':');
        if (c && !strchr(c + 1, ':'))
            *c = 0; /* drop a serf port: the stand-in probes the HTTP port */
        peer *pp = &jpeers[njpeers];
        memset(pp, 0, sizeof *pp);
        pp->fd = -1;
        pp->sa.sin_family = AF_INET;
        pp->sa.sin_port = htons((unsigned short)S.http_port);
        if (inet_pton(AF_INET, host, &pp->sa.sin_addr) != 1) {
            struct addrinfo hints = {0}, *res = NULL;
            hints.ai_family = AF_INET;
            if (getaddrinfo(host, NULL, &hints, &res) != 0 || !res) {
                logmsg("WARN", "agent: retry_join: cannot resolve %s (stand-in: skipped)", k->s);
                continue;
            }
            pp->sa.sin_addr = ((struct sockaddr_in *)res->ai_addr)->sin_addr;
            freeaddrinfo(res);
        }
        inet_ntop(AF_INET, &pp->sa.sin_addr, pp->ip, sizeof pp->ip);
        if (!strcmp(pp->ip, S.advertise))
            continue; /* that is us */
        int dup = 0;
        for (int j = 0; j < njpeers; j++)
            if (!strcmp(jpeers[j].ip, pp->ip))
                dup = 1;
        if (!dup)
            njpeers++;
    }
}

static void peer_done(peer *pp, int alive)
{
    if (pp->fd >= 0)
        close(pp->fd);
    pp->fd = -1;
    pp->probed = 1;
    if (!alive)
        pp->alive = 0;
    free(pp->buf.s);
    pp->buf = (sbuf){0};
}

static void rinfo_from(rinfo *r, node *o)
{
    memset(r, 0, sizeof *r);
    copy_str(r->addr, sizeof r->addr, jstr(o, "addr"));
    copy_str(r->id, sizeof r->id, jstr(o, "id"));
    copy_str(r->name, sizeof r->name, jstr(o, "name"));
    copy_str(r->version, sizeof r->version, jstr(o, "version"));
}

static void peer_parse(peer *pp)
{
    const char *r = pp->buf.s ? pp->buf.s : "";
    const char *body = strstr(r, "\r\n\r\n");
    if (strncmp(r, "HTTP/1.", 7) || strncmp(r + 8, " 200", 4) || !body) {
        peer_done(pp, 0);
        return;
    }
    body += 4;
    node *j = json_parse(body, strlen(body));
    node *srv = j && j->type == V_OBJ ? lookup_in(j, "server") : NULL;
    const char *addr = jstr(j, "addr");
    if (!srv || srv->type != V_BOOL || !srv->b || !addr || !*addr) {
        node_free(j);
        peer_done(pp, 0);
        return;
    }
    rinfo_from(&pp->info, j);
    node *boot = lookup_in(j, "bootstrapped");
    pp->boot = boot && boot->type == V_BOOL && boot->b;
    copy_str(pp->leader, sizeof pp->leader, jstr(j, "leader"));
    pp->ncfg = 0;
    node *cl = lookup_in(j, "raft");
    if (cl && cl->type == V_LIST)
        for (int i = 0; i < cl->nkids && pp->ncfg < MAXCFG; i++)
            if (cl->kids[i]->type == V_OBJ)
                rinfo_from(&pp->cfg[pp->ncfg++], cl->kids[i]);
    node_free(j);
    pp->alive = 1;
    peer_done(pp, 1);
}

static void peer_start(peer *pp, long long now)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        pp->alive = 0;
        return;
    }
    pp->fd = fd;
    pp->phase = 0;
    pp->t0 = now;
    if (connect(fd, (struct sockaddr *)&pp->sa, sizeof pp->sa) < 0 && errno != EINPROGRESS)
        peer_done(pp, 0);
}

/* poll events for peer i */
static void peer_io(peer *pp, short re)
{
    if (pp->fd < 0 || !re)
        return;
    if (pp->phase == 0) {
        int err = 0;
        socklen_t l = sizeof err;
        if (getsockopt(pp->fd, SOL_SOCKET, SO_ERROR, &err, &l) < 0 || err) {
            peer_done(pp, 0);
            return;
        }
        static const char req[] = "GET /v1/standin/alive HTTP/1.0\r\nHost: standin\r\n\r\n";
        if (send(pp->fd, req, sizeof req - 1, MSG_NOSIGNAL) != (ssize_t)(sizeof req - 1)) {
            peer_done(pp, 0);
            return;
        }
        pp->phase = 1;
        return;
    }
    char buf[2048];
    ssize_t n = recv(pp->fd, buf, sizeof buf, 0);
    if (n > 0) {
        sb_addn(&pp->buf, buf, (size_t)n);
        if (pp->buf.len > 65536)
            peer_done(pp, 0);
    } else if (n == 0) {
        peer_parse(pp);
    } else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        peer_done(pp, 0);
    }
}

/* the live servers (itself first, then the live peers); returns the count */
static int live_list(rinfo out[])
{
    int n = 0;
    self_info(&out[n++]);
    for (int i = 0; i < njpeers; i++) {
        if (!jpeers[i].alive)
            continue;
        int dup = 0;
        for (int j = 0; j < n; j++)
            if (!strcmp(out[j].addr, jpeers[i].info.addr))
                dup = 1;
        if (!dup && n < MAXCFG)
            out[n++] = jpeers[i].info;
    }
    return n;
}

/* is the member at addr a joined peer that has not answered (or failed) once since start? */
static int addr_unknown(const char *addr)
{
    for (int i = 0; i < njpeers; i++) {
        size_t l = strlen(jpeers[i].ip);
        if (!strncmp(addr, jpeers[i].ip, l) && addr[l] == ':')
            return !jpeers[i].probed;
    }
    return 0;
}

static void cluster_update(void)
{
    rinfo live[MAXCFG];
    int n = live_list(live);
    long long now = now_ms();
    int changed = 0;
    if (!bootstrapped) {
        int peer_boot = 0;
        for (int i = 0; i < njpeers; i++)
            if (jpeers[i].alive && jpeers[i].boot)
                peer_boot = 1;
        if (peer_boot || n >= S.bootstrap_expect) {
            bootstrapped = 1;
            changed = 1;
            if (peer_boot)
                logmsg("INFO", "%s.raft: joining the bootstrapped cluster", pname());
            else
                logmsg("INFO", "%s: found expected number of peers (%ld), attempting to bootstrap cluster...", pname(),
                       S.bootstrap_expect);
        }
    }
    if (bootstrapped) {
        for (int i = 0; i < njpeers; i++)
            if (jpeers[i].alive && jpeers[i].boot)
                for (int j = 0; j < jpeers[i].ncfg; j++)
                    changed |= cfg_add(&jpeers[i].cfg[j]);
        for (int i = 0; i < n; i++)
            changed |= cfg_add(&live[i]);
    }
    if (changed)
        raft_save();
    /* who of the configuration is live now */
    int nlive = 0;
    time_t wall = time(NULL);
    for (int i = 0; i < nrcfg; i++) {
        int l = 0;
        for (int j = 0; j < n; j++)
            if (!strcmp(live[j].addr, rcfg[i].info.addr))
                l = 1;
        if (l != rcfg[i].live)
            rcfg[i].stable_since = wall;
        rcfg[i].live = l;
        if (l) {
            rcfg[i].last_seen = now;
            nlive++;
        }
    }
    char leader[96] = "";
    int quorum = nrcfg / 2 + 1;
    if (bootstrapped && nlive >= quorum) {
        /* votes: my current leader and the leaders the live peers report, if live (or not known yet) */
        char cand[MAXCFG + 1][96];
        int votes[MAXCFG + 1], nc = 0;
        for (int i = -1; i < njpeers; i++) {
            const char *l = i < 0 ? cur_leader : (jpeers[i].alive ? jpeers[i].leader : "");
            rmember *m = *l ? cfg_find(l) : NULL;
            if (!m || !(m->live || addr_unknown(l)))
                continue;
            int k = 0;
            while (k < nc && strcmp(cand[k], l))
                k++;
            if (k == nc) {
                copy_str(cand[nc], sizeof cand[nc], l);
                votes[nc++] = 0;
            }
            votes[k]++;
        }
        int best = -1;
        for (int k = 0; k < nc; k++)
            if (best < 0 || votes[k] > votes[best] || (votes[k] == votes[best] && strcmp(cand[k], cand[best]) < 0))
                best = k;
        if (best >= 0) {
            copy_str(leader, sizeof leader, cand[best]);
        } else {
            /* elect anew, once every joined peer answered (or failed) at least once */
            int all_probed = 1;
            for (int i = 0; i < njpeers; i++)
                if (!jpeers[i].probed)
                    all_probed = 0;
            for (int i = 0; all_probed && i < nrcfg && !*leader; i++)
                if (rcfg[i].live)
                    copy_str(leader, sizeof leader, rcfg[i].info.addr);
        }
    }
    char self[96];
    snprintf(self, sizeof self, "%s:%ld", S.advertise, S.rpc_port);
    if (strcmp(leader, cur_leader)) {
        if (!*leader) {
            if (bootstrapped)
                logmsg("WARN", "%s: no cluster leader: %d of %d servers of the raft configuration live (quorum %d)",
                       pname(), nlive, nrcfg, quorum);
            else
                logmsg("WARN", "%s: no cluster leader: %d of %ld servers live", pname(), n, S.bootstrap_expect);
        } else {
            raft_term++;
            raft_index++;
            if (!strcmp(leader, self)) {
                logmsg("INFO", "%s.raft: entering leader state: leader=\"Node at %s [Leader]\"", pname(), self);
                logmsg("INFO", "%s: cluster leadership acquired (%d of %d servers live)", pname(), nlive, nrcfg);
            } else {
                logmsg("INFO", "%s: cluster leader is %s (%d of %d servers live)", pname(), leader, nlive, nrcfg);
            }
        }
        snprintf(cur_leader, sizeof cur_leader, "%s", leader);
    }
    cur_live = n;
}

static void cluster_tick(void)
{
    if (!cluster_mode)
        return;
    long long now = now_ms();
    for (int i = 0; i < njpeers; i++)
        if (jpeers[i].fd >= 0 && now - jpeers[i].t0 > 1500)
            peer_done(&jpeers[i], 0);
    if (now - last_probe >= 1000) {
        last_probe = now;
        for (int i = 0; i < njpeers; i++)
            if (jpeers[i].fd < 0)
                peer_start(&jpeers[i], now);
    }
    cluster_update();
}

static int knob(const char *name)
{
    char *k = S.dev ? NULL : dd_path(name);
    int on = k && file_exists(k);
    free(k);
    return on;
}

static int has_leader(void)
{
    if (!S.server || (S.bootstrap_expect > 1 && !(cluster_mode && *cur_leader)))
        return 0;
    return !knob("standin-no-leader");
}

/* Go's time.Duration String() for whole milliseconds: "0s", "27ms", "1.5s", "2m3.04s" */
static void go_duration(sbuf *b, long long ms)
{
    if (ms <= 0) {
        sb_add(b, "0s");
        return;
    }
    if (ms < 1000) {
        sb_printf(b, "%lldms", ms);
        return;
    }
    long long h = ms / 3600000, m = ms / 60000 % 60, s = ms / 1000 % 60, frac = ms % 1000;
    if (h)
        sb_printf(b, "%lldh", h);
    if (h || m)
        sb_printf(b, "%lldm", m);
    char f[8] = "";
    if (frac) {
        snprintf(f, sizeof f, ".%03lld", frac);
        for (char *e = f + strlen(f) - 1; *e == '0'; e--)
            *e = 0;
    }
    sb_printf(b, "%lld%ss", s, f);
}

static void rfc3339(sbuf *b, time_t t)
{
    struct tm tm;
    gmtime_r(&t, &tm);
    char buf[40];
    strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    sb_json_str(b, buf);
}

/* GET /v1/operator/autopilot/health, as Consul and Nomad answer it (the leader's view).
 * Returns the HTTP status: 200 healthy, 429 not healthy, 500 no leader (body: the error). */
static int autopilot_health(sbuf *b)
{
    if (!S.server) {
        sb_add(b, prod == P_CONSUL ? "No known Consul servers" : "no servers");
        return 500;
    }
    if (!has_leader()) {
        sb_add(b, "No cluster leader");
        return 500;
    }
    rmember single[1];
    rmember *ms = rcfg;
    int nm = nrcfg;
    if (!cluster_mode) {
        memset(single, 0, sizeof single);
        self_info(&single[0].info);
        single[0].live = 1;
        single[0].last_seen = now_ms();
        single[0].stable_since = time(NULL) - (now_ms() - started_ms) / 1000;
        ms = single;
        nm = 1;
    }
    const char *leader = cluster_mode ? cur_leader : ms[0].info.addr;
    int healthy = 0;
    for (int i = 0; i < nm; i++)
        healthy += ms[i].live;
    int quorum = nm / 2 + 1;
    int tolerance = healthy > quorum ? healthy - quorum : 0;
    int all = healthy == nm;
    long long now = now_ms();
    sb_printf(b, "{\"Healthy\":%s,\"FailureTolerance\":%d,\"Servers\":[", all ? "true" : "false", tolerance);
    const char *leader_id = "";
    for (int i = 0; i < nm; i++) {
        rmember *m = &ms[i];
        int is_leader = !strcmp(m->info.addr, leader);
        if (is_leader)
            leader_id = m->info.id;
        if (i)
            sb_addc(b, ',');
        sb_add(b, "{\"ID\":");
        sb_json_str(b, m->info.id);
        sb_add(b, ",\"Name\":");
        sb_json_str(b, m->info.name);
        sb_add(b, ",\"Address\":");
        sb_json_str(b, m->info.addr);
        sb_printf(b, ",\"SerfStatus\":\"%s\",\"Version\":", m->live ? "alive" : "failed");
        sb_json_str(b, m->info.version);
        sb_printf(b, ",\"Leader\":%s,\"LastContact\":\"", is_leader ? "true" : "false");
        /* the leader's view: itself 0s, a live follower a few ms, a failed one since it was last seen */
        go_duration(b, is_leader ? 0 : m->live ? 10 + (long long)(i * 7) : (m->last_seen ? now - m->last_seen : now - started_ms));
        sb_printf(b, "\",\"LastTerm\":%lld,\"LastIndex\":%lld,\"Healthy\":%s,\"Voter\":true,\"StableSince\":",
                  m->live ? raft_term : (raft_term > 1 ? raft_term - 1 : raft_term), m->live ? raft_index : raft_index - 1,
                  m->live ? "true" : "false");
        rfc3339(b, m->stable_since);
        sb_add(b, "}");
    }
    sb_add(b, "]");
    if (prod == P_NOMAD) {
        /* Nomad >= 1.7 also reports the leader's and the voters' raft IDs */
        sb_add(b, ",\"Leader\":");
        sb_json_str(b, leader_id);
        sb_add(b, ",\"Voters\":[");
        for (int i = 0; i < nm; i++) {
            if (i)
                sb_addc(b, ',');
            sb_json_str(b, ms[i].info.id);
        }
        sb_add(b, "]");
    }
    sb_add(b, "}");
    return all ? 200 : 429;
}

/* GET /v1/standin/alive: what a peer needs to know about this server */
static void standin_alive(sbuf *b)
{
    rinfo me;
    self_info(&me);
    sb_printf(b, "{\"server\":%s,\"addr\":", S.server ? "true" : "false");
    sb_json_str(b, me.addr);
    sb_add(b, ",\"id\":");
    sb_json_str(b, me.id);
    sb_add(b, ",\"name\":");
    sb_json_str(b, me.name);
    sb_add(b, ",\"version\":");
    sb_json_str(b, me.version);
    sb_printf(b, ",\"bootstrap_expect\":%ld,\"bootstrapped\":%s,\"leader\":", S.bootstrap_expect,
              bootstrapped ? "true" : "false");
    sb_json_str(b, cur_leader);
    sb_add(b, ",\"datacenter\":");
    sb_json_str(b, S.datacenter);
    sb_add(b, ",\"raft\":[");
    for (int i = 0; i < nrcfg; i++) {
        if (i)
            sb_addc(b, ',');
        sb_add(b, "{\"id\":");
        sb_json_str(b, rcfg[i].info.id);
        sb_add(b, ",\"addr\":");
        sb_json_str(b, rcfg[i].info.addr);
        sb_add(b, ",\"name\":");
        sb_json_str(b, rcfg[i].info.name);
        sb_add(b, ",\"version\":");
        sb_json_str(b, rcfg[i].info.version);
        sb_add(b, "}");
    }
    sb_add(b, "]}");
}

/* ------------------------------------------------------------ nomad client node
 * The node as the servers keep it (stand-in: in data_dir/client/standin-node-state,
 * so it survives an agent restart and a new identity (client/ moved aside) starts
 * eligible, like a new node). Allocations: data_dir/alloc/standin-allocs holds the
 * number running here (missing: 0). A drain migrates them in about a second (never,
 * while data_dir/standin-drain-stuck exists, until the deadline force-stops them),
 * writes 0 and logs "drained N allocations". */
static struct {
    int loaded;
    char elig[16];
    int draining;
    long long deadline_ns;
    int ignore_system;
    long long started_ms; /* realtime */
    char last_status[16]; /* "" none, draining, complete, canceled */
    long long last_started_ms, last_updated_ms;
    char meta[1024];      /* JSON object of the last drain's Meta */
    long long modify_index;
} nd;

static long long wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int is_nomad_client(void) { return prod == P_NOMAD && S.client && !S.dev; }

static char *node_state_file(void) { return dd_path("client/standin-node-state"); }

static void node_save(void)
{
    char *f = node_state_file();
    char *data = xasprintf("eligibility=%s\ndraining=%d\ndeadline_ns=%lld\nignore_system=%d\nstarted_ms=%lld\n"
                           "last_status=%s\nlast_started_ms=%lld\nlast_updated_ms=%lld\nmodify_index=%lld\nmeta=%s\n",
                           nd.elig, nd.draining, nd.deadline_ns, nd.ignore_system, nd.started_ms, nd.last_status,
                           nd.last_started_ms, nd.last_updated_ms, nd.modify_index, nd.meta);
    if (write_file_atomic(f, data, 0600) < 0)
        logmsg("ERROR", "client: failed to persist node state %s: %s", f, strerror(errno));
    free(data);
    free(f);
}

static void node_load(void)
{
    if (nd.loaded)
        return;
    nd.loaded = 1;
    strcpy(nd.elig, "eligible");
    strcpy(nd.meta, "null");
    nd.modify_index = 10;
    char *f = node_state_file(), *s;
    if (read_file(f, &s, NULL) == 0) {
        char *save = NULL;
        for (char *l = strtok_r(s, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
            char *eq = strchr(l, '=');
            if (!eq)
                continue;
            *eq = 0;
            const char *k = l, *v = eq + 1;
            if (!strcmp(k, "eligibility") && (!strcmp(v, "eligible") || !strcmp(v, "ineligible")))
                copy_str(nd.elig, sizeof nd.elig, v);
            else if (!strcmp(k, "draining"))
                nd.draining = atoi(v);
            else if (!strcmp(k, "deadline_ns"))
                nd.deadline_ns = atoll(v);
            else if (!strcmp(k, "ignore_system"))
                nd.ignore_system = atoi(v);
            else if (!strcmp(k, "started_ms"))
                nd.started_ms = atoll(v);
            else if (!strcmp(k, "last_status"))
                copy_str(nd.last_status, sizeof nd.last_status, v);
            else if (!strcmp(k, "last_started_ms"))
                nd.last_started_ms = atoll(v);
            else if (!strcmp(k, "last_updated_ms"))
                nd.last_updated_ms = atoll(v);
            else if (!strcmp(k, "modify_index"))
                nd.modify_index = atoll(v);
            else if (!strcmp(k, "meta"))
                copy_str(nd.meta, sizeof nd.meta, v);
        }
        free(s);
    }
    free(f);
}

static int allocs_running(void)
{
    char *f = dd_path("alloc/standin-allocs"), *s;
    int n = 0;
    if (read_file(f, &s, NULL) == 0) {
        n = atoi(s);
        free(s);
    }
    free(f);
    return n < 0 ? 0 : n;
}

static void node_tick(void)
{
    if (!is_nomad_client())
        return;
    node_load();
    if (!nd.draining)
        return;
    long long now = wall_ms(), elapsed = now - nd.started_ms;
    int n = allocs_running();
    int force = nd.deadline_ns < 0 || (nd.deadline_ns > 0 && elapsed * 1000000LL >= nd.deadline_ns);
    int migrated = !knob("standin-drain-stuck") && (n == 0 || elapsed >= 1000);
    if (!force && !migrated)
        return;
    if (n > 0) {
        char *f = dd_path("alloc/standin-allocs");
        if (write_file_atomic(f, "0\n", 0644) < 0)
            logmsg("ERROR", "client: failed to write %s: %s", f, strerror(errno));
        free(f);
    }
    logmsg("INFO", "client: drained %d allocations (%s)", n, migrated ? "migrated" : "deadline reached: force-stopped");
    logmsg("INFO", "nomad.drain: node drain complete: node_id=%s", node_id);
    nd.draining = 0;
    copy_str(nd.last_status, sizeof nd.last_status, "complete");
    nd.last_updated_ms = now;
    nd.modify_index++;
    node_save();
}

static void time_ms_json(sbuf *b, long long ms)
{
    if (ms <= 0)
        sb_add(b, "\"0001-01-01T00:00:00Z\"");
    else
        rfc3339(b, (time_t)(ms / 1000));
}

static void node_drain_fields(sbuf *b)
{
    sb_printf(b, "\"Drain\":%s,\"SchedulingEligibility\":\"%s\",\"LastDrain\":", nd.draining ? "true" : "false", nd.elig);
    if (!nd.last_status[0]) {
        sb_add(b, "null");
    } else {
        sb_printf(b, "{\"AccessorID\":\"\",\"Meta\":%s,\"StartedAt\":", nd.meta);
        time_ms_json(b, nd.last_started_ms);
        sb_printf(b, ",\"Status\":\"%s\",\"UpdatedAt\":", nd.last_status);
        time_ms_json(b, nd.last_updated_ms);
        sb_add(b, "}");
    }
}

static void node_json(sbuf *b, int stub)
{
    node_load();
    sb_add(b, "{\"ID\":");
    sb_json_str(b, node_id);
    sb_add(b, ",\"Name\":");
    sb_json_str(b, S.name);
    sb_add(b, ",\"Datacenter\":");
    sb_json_str(b, S.datacenter);
    sb_add(b, ",\"NodeClass\":\"\",\"NodePool\":\"default\",");
    if (stub) {
        sb_add(b, "\"Address\":");
        sb_json_str(b, S.advertise);
        sb_add(b, ",\"Version\":");
        sb_json_str(b, pversion());
        sb_add(b, ",");
    } else {
        sb_printf(b, "\"HTTPAddr\":\"%s:%ld\",\"Attributes\":{\"kernel.name\":\"linux\",\"nomad.version\":", S.advertise,
                  S.http_port);
        sb_json_str(b, pversion());
        sb_add(b, ",\"unique.hostname\":");
        sb_json_str(b, S.name);
        sb_add(b, "},\"Meta\":{},\"DrainStrategy\":");
        if (nd.draining) {
            sb_printf(b, "{\"Deadline\":%lld,\"IgnoreSystemJobs\":%s,\"ForceDeadline\":", nd.deadline_ns,
                      nd.ignore_system ? "true" : "false");
            time_ms_json(b, nd.deadline_ns > 0 ? nd.started_ms + nd.deadline_ns / 1000000 : nd.deadline_ns < 0 ? nd.started_ms : 0);
            sb_add(b, ",\"StartedAt\":");
            time_ms_json(b, nd.started_ms);
            sb_add(b, "}");
        } else {
            sb_add(b, "null");
        }
        sb_add(b, ",");
    }
    node_drain_fields(b);
    sb_printf(b, ",\"Status\":\"ready\",\"StatusDescription\":\"\",\"CreateIndex\":7,\"ModifyIndex\":%lld}", nd.modify_index);
}

static void index_reply(sbuf *b)
{
    sb_printf(b, "{\"EvalCreateIndex\":0,\"EvalIDs\":null,\"Index\":%lld,\"NodeModifyIndex\":%lld}", nd.modify_index,
              nd.modify_index);
}

/* POST/PUT /v1/node/:id/drain; returns the HTTP status, b the body */
static int node_drain(sbuf *b, const char *body, size_t blen)
{
    node *j = json_parse(body, blen);
    if (!j || j->type != V_OBJ) {
        node_free(j);
        sb_add(b, "Request decode failed");
        return 400;
    }
    node *spec = lookup_in(j, "DrainSpec");
    node *me = lookup_in(j, "MarkEligible");
    node *meta = lookup_in(j, "Meta");
    long long now = wall_ms();
    if (spec && spec->type == V_OBJ) {
        node *dl = lookup_in(spec, "Deadline");
        node *isj = lookup_in(spec, "IgnoreSystemJobs");
        if (dl && dl->type != V_NUM) {
            node_free(j);
            sb_add(b, "Request decode failed: DrainSpec.Deadline must be a number of nanoseconds");
            return 400;
        }
        nd.deadline_ns = dl ? atoll(dl->s) : 0;
        nd.ignore_system = isj && isj->type == V_BOOL && isj->b;
        if (!nd.draining)
            nd.started_ms = now;
        nd.draining = 1;
        copy_str(nd.elig, sizeof nd.elig, "ineligible");
        copy_str(nd.last_status, sizeof nd.last_status, "draining");
        nd.last_started_ms = nd.started_ms;
        nd.last_updated_ms = now;
        logmsg("INFO", "nomad.drain: node drain strategy set: node_id=%s deadline=%lldns ignore_system_jobs=%s, migrating %d allocations",
               node_id, nd.deadline_ns, nd.ignore_system ? "true" : "false", allocs_running());
    } else {
        if (nd.draining) {
            nd.draining = 0;
            copy_str(nd.last_status, sizeof nd.last_status, "canceled");
            nd.last_updated_ms = now;
            logmsg("INFO", "nomad.drain: node drain canceled: node_id=%s", node_id);
        }
        if (me && me->type == V_BOOL && me->b)
            copy_str(nd.elig, sizeof nd.elig, "eligible");
    }
    if (meta && meta->type == V_OBJ) {
        sbuf m = {0};
        sb_add(&m, "{");
        for (int i = 0, first = 1; i < meta->nkids; i++) {
            node *k = meta->kids[i];
            if (k->type != V_STR || !k->key)
                continue;
            if (!first)
                sb_addc(&m, ',');
            first = 0;
            sb_json_str(&m, k->key);
            sb_addc(&m, ':');
            sb_json_str(&m, k->s);
        }
        sb_add(&m, "}");
        if (m.len < sizeof nd.meta && !strchr(m.s, '\n'))
            copy_str(nd.meta, sizeof nd.meta, m.s);
        free(m.s);
    }
    node_free(j);
    nd.modify_index++;
    node_save();
    index_reply(b);
    return 200;
}

/* POST/PUT /v1/node/:id/eligibility */
static int node_eligibility(sbuf *b, const char *body, size_t blen)
{
    node *j = json_parse(body, blen);
    const char *e = jstr(j, "Eligibility");
    if (!e || (strcmp(e, "eligible") && strcmp(e, "ineligible"))) {
        sb_printf(b, "invalid scheduling eligibility \"%s\"", e ? e : "");
        node_free(j);
        return 400;
    }
    if (nd.draining && !strcmp(e, "eligible")) {
        node_free(j);
        sb_add(b, "can not set node's scheduling eligibility to eligible while it is draining");
        return 500;
    }
    if (strcmp(nd.elig, e)) {
        logmsg("INFO", "client: node scheduling eligibility set: node_id=%s eligibility=%s", node_id, e);
        copy_str(nd.elig, sizeof nd.elig, e);
        nd.modify_index++;
        node_save();
    }
    node_free(j);
    index_reply(b);
    return 200;
}

static void json_self(sbuf *b)
{
    const char *v = pversion();
    sb_add(b, "{");
    if (prod == P_NOMAD) {
        sb_add(b, "\"config\":{\"Datacenter\":");
        sb_json_str(b, S.datacenter);
        sb_add(b, ",\"Region\":");
        sb_json_str(b, S.region);
        sb_add(b, ",\"NodeName\":");
        sb_json_str(b, S.name);
        sb_add(b, ",\"DataDir\":");
        sb_json_str(b, S.data_dir ? S.data_dir : "");
        sb_add(b, ",\"BindAddr\":");
        sb_json_str(b, S.bind_addr);
        sb_printf(b, ",\"Ports\":{\"HTTP\":%ld,\"RPC\":%ld,\"Serf\":%ld}", S.http_port, S.rpc_port, S.serf_port);
        sb_printf(b, ",\"Server\":{\"Enabled\":%s,\"BootstrapExpect\":%ld}", S.server ? "true" : "false",
                  S.bootstrap_expect);
        sb_printf(b, ",\"Client\":{\"Enabled\":%s}", S.client ? "true" : "false");
        sb_add(b, ",\"Version\":{\"Version\":");
        sb_json_str(b, v);
        sb_add(b, ",\"Revision\":\"" AGENT_REVISION "\"}}");
        sb_add(b, ",\"member\":{\"Name\":");
        sb_json_str(b, S.name);
        sb_add(b, ",\"Addr\":");
        sb_json_str(b, S.advertise);
        sb_printf(b, ",\"Port\":%ld,\"Status\":\"alive\"}", S.serf_port);
        sb_add(b, ",\"stats\":{\"client\":{\"node_id\":");
        sb_json_str(b, node_id);
        /* like Nomad: every stats value is a string */
        sb_printf(b, ",\"num_allocations\":\"%d\"}}", S.client && !S.dev ? allocs_running() : 0);
    } else {
        sb_add(b, "\"Config\":{\"Datacenter\":");
        sb_json_str(b, S.datacenter);
        sb_add(b, ",\"NodeName\":");
        sb_json_str(b, S.name);
        sb_add(b, ",\"NodeID\":");
        sb_json_str(b, node_id);
        sb_printf(b, ",\"Server\":%s,\"Version\":", S.server ? "true" : "false");
        sb_json_str(b, v);
        sb_add(b, ",\"Revision\":\"" AGENT_REVISION "\"}");
        sb_add(b, ",\"Member\":{\"Name\":");
        sb_json_str(b, S.name);
        sb_add(b, ",\"Addr\":");
        sb_json_str(b, S.advertise);
        sb_printf(b, ",\"Port\":%ld,\"Status\":1}", S.serf_port);
    }
    /* flat summary for tests */
    sb_add(b, ",\"standin\":{\"product\":");
    sb_json_str(b, pname());
    sb_add(b, ",\"version\":");
    sb_json_str(b, v);
    sb_add(b, ",\"node_id\":");
    sb_json_str(b, node_id);
    sb_add(b, ",\"datacenter\":");
    sb_json_str(b, S.datacenter);
    sb_add(b, ",\"name\":");
    sb_json_str(b, S.name);
    sb_add(b, ",\"data_dir\":");
    sb_json_str(b, S.data_dir ? S.data_dir : "");
    sb_add(b, ",\"bind_addr\":");
    sb_json_str(b, S.bind_addr);
    sb_add(b, ",\"http_addr\":");
    sb_json_str(b, S.http_addr);
    sb_printf(b, ",\"http_port\":%ld,\"rpc_port\":%ld", S.http_port, S.rpc_port);
    sb_printf(b, ",\"server\":%s,\"client\":%s,\"bootstrap_expect\":%ld,\"dev\":%s", S.server ? "true" : "false",
              S.client ? "true" : "false", S.bootstrap_expect, S.dev ? "true" : "false");
    sb_add(b, ",\"log_file\":");
    if (log_path)
        sb_json_str(b, log_path);
    else
        sb_add(b, "null");
    sb_add(b, ",\"config_files\":[");
    for (int i = 0; i < cfg_nfiles; i++) {
        if (i)
            sb_addc(b, ',');
        sb_json_str(b, cfg_files[i]);
    }
    sb_printf(b, "],\"pid\":%ld}}", (long)getpid());
}

static void respond(int fd, int code, const char *reason, const char *ctype, const char *body, int head)
{
    sbuf b = {0};
    sb_printf(&b,
              "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\nConnection: close\r\n"
              "X-Cairn-Standin: %s\r\n\r\n",
              code, reason, ctype, strlen(body), pname());
    if (!head)
        sb_add(&b, body);
    size_t off = 0;
    int tries = 0;
    while (off < b.len && tries < 200) {
        ssize_t n = send(fd, b.s + off, b.len - off, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                struct pollfd pf = {fd, POLLOUT, 0};
                poll(&pf, 1, 10);
                tries++;
                continue;
            }
            break;
        }
        off += (size_t)n;
    }
    free(b.s);
}

/* the Content-Length of a request whose headers are the first hl bytes (0 when absent) */
static long content_length(const char *req, size_t hl)
{
    for (const char *p = req; p && p < req + hl; p = strchr(p, '\n')) {
        if (*p == '\n')
            p++;
        if (!strncasecmp(p, "content-length:", 15)) {
            long v = atol(p + 15);
            return v < 0 || v > 60000 ? 0 : v;
        }
    }
    return 0;
}

static void handle_request(int fd, char *req, const char *body, size_t blen)
{
    char method[16] = {0}, target[1024] = {0};
    if (sscanf(req, "%15s %1023s", method, target) != 2) {
        respond(fd, 400, "Bad Request", "text/plain", "bad request\n", 0);
        return;
    }
    char *q = strchr(target, '?');
    if (q)
        *q = 0;
    int head = !strcmp(method, "HEAD");
    int get = head || !strcmp(method, "GET");
    int write = !strcmp(method, "PUT") || !strcmp(method, "POST");
    enum { R_HEALTH, R_LEADER, R_PEERS, R_SELF, R_ALIVE, R_AUTOPILOT, R_NODES, R_NODE, R_DRAIN, R_ELIG, R_NONE };
    static const char *known[] = {"/v1/agent/health", "/v1/status/leader", "/v1/status/peers", "/v1/agent/self",
                                  "/v1/standin/alive", "/v1/operator/autopilot/health"};
    int k = R_NONE;
    for (int i = 0; i < 6; i++)
        if (!strcmp(target, known[i]))
            k = i;
    char nid[128] = "";
    if (k == R_NONE && prod == P_NOMAD) {
        if (!strcmp(target, "/v1/nodes")) {
            k = R_NODES;
        } else if (!strncmp(target, "/v1/node/", 9)) {
            const char *rest = target + 9, *slash = strchr(rest, '/');
            size_t n = slash ? (size_t)(slash - rest) : strlen(rest);
            if (n && n < sizeof nid) {
                memcpy(nid, rest, n);
                nid[n] = 0;
                if (!slash)
                    k = R_NODE;
                else if (!strcmp(slash, "/drain"))
                    k = R_DRAIN;
                else if (!strcmp(slash, "/eligibility"))
                    k = R_ELIG;
            }
        }
    }
    if (k == R_NONE) {
        respond(fd, 404, "Not Found", "text/plain; charset=utf-8", "404 page not found\n", head);
        return;
    }
    if ((k == R_DRAIN || k == R_ELIG) ? !write : !get) {
        respond(fd, 405, "Method Not Allowed", "text/plain", "Invalid method\n", 0);
        return;
    }
    sbuf b = {0};
    int code = 200;
    const char *ctype = "application/json";
    if (k == R_NODE || k == R_DRAIN || k == R_ELIG) {
        if (!is_nomad_client() || strcmp(nid, node_id)) {
            respond(fd, 404, "Not Found", "text/plain; charset=utf-8", "node not found", head);
            return;
        }
        node_load();
    }
    if (k == R_HEALTH) {
        char *kf = S.dev ? NULL : dd_path("standin-unhealthy");
        char *why = NULL;
        if (kf && file_exists(kf)) {
            char *txt;
            why = read_file(kf, &txt, NULL) == 0 ? txt : xstrdup("");
            char *t = trim(why);
            memmove(why, t, strlen(t) + 1);
            if (!*why) {
                free(why);
                why = xstrdup("stand-in marked unhealthy");
            }
            code = 500;
        }
        free(kf);
        sb_add(&b, "{");
        int first = 1;
        if (S.client || prod == P_CONSUL) {
            sb_printf(&b, "\"client\":{\"ok\":%s,\"message\":", why ? "false" : "true");
            sb_json_str(&b, why ? why : "ok");
            sb_add(&b, "}");
            first = 0;
        }
        if (S.server) {
            sb_printf(&b, "%s\"server\":{\"ok\":%s,\"message\":", first ? "" : ",", why ? "false" : "true");
            sb_json_str(&b, why ? why : "ok");
            sb_add(&b, "}");
        }
        sb_add(&b, "}");
        free(why);
    } else if (k == R_LEADER) {
        if (has_leader() && cluster_mode)
            sb_printf(&b, "\"%s\"", cur_leader);
        else if (has_leader())
            sb_printf(&b, "\"%s:%ld\"", S.advertise, S.rpc_port);
        else
            sb_add(&b, "\"\"");
    } else if (k == R_PEERS) {
        /* the raft configuration: every server that joined, live or not ([] before bootstrap) */
        if (cluster_mode && !knob("standin-no-leader")) {
            sb_add(&b, "[");
            for (int i = 0; i < nrcfg; i++) {
                if (i)
                    sb_addc(&b, ',');
                sb_json_str(&b, rcfg[i].info.addr);
            }
            sb_add(&b, "]");
        } else if (has_leader())
            sb_printf(&b, "[\"%s:%ld\"]", S.advertise, S.rpc_port);
        else
            sb_add(&b, "[]");
    } else if (k == R_ALIVE) {
        standin_alive(&b);
    } else if (k == R_AUTOPILOT) {
        code = autopilot_health(&b);
        if (code == 500)
            ctype = "text/plain; charset=utf-8";
    } else if (k == R_NODES) {
        sb_add(&b, "[");
        if (is_nomad_client())
            node_json(&b, 1);
        sb_add(&b, "]");
    } else if (k == R_NODE) {
        node_json(&b, 0);
    } else if (k == R_DRAIN || k == R_ELIG) {
        code = k == R_DRAIN ? node_drain(&b, body, blen) : node_eligibility(&b, body, blen);
        if (code != 200)
            ctype = "text/plain; charset=utf-8";
    } else {
        json_self(&b);
    }
    const char *reason = code == 200   ? "OK"
                         : code == 400 ? "Bad Request"
                         : code == 429 ? "Too Many Requests"
                                       : "Internal Server Error";
    respond(fd, code, reason, ctype, b.s ? b.s : "", head);
    free(b.s);
}

#define MAXCONN 64
typedef struct {
    int fd;
    sbuf buf;
    time_t started;
} conn;

static int reload_config(char **paths, int npaths)
{
    /* SIGHUP: re-read config; on error keep running with the old one */
    node *old = cfg_root;
    node *fresh = node_new(V_OBJ, "", 0, 0);
    int onf = cfg_nfiles;
    cfg_nfiles = 0;
    for (int i = 0; i < npaths; i++)
        if (load_path(paths[i], fresh) < 0) {
            cfg_root = old;
            cfg_nfiles = onf;
            logmsg("ERROR", "agent: failed to reload configs; keeping the running configuration");
            return -1;
        }
    cfg_root = fresh;
    if (S.log_file) {
        char *err = NULL;
        if (open_log_file(S.log_file, &err) < 0) {
            logmsg("ERROR", "agent: failed to reopen log file: %s", err);
            free(err);
        }
    }
    logmsg("INFO", "agent: reloading configuration (stand-in: listeners and identity are unchanged)");
    return 0;
}

static int run_agent(flags *f)
{
    if (f->nconfigs == 0 && !f->dev && prod == P_NOMAD && !f->server && !f->client) {
        ui(stderr, "==> Must specify either server, client or dev mode for the agent.");
        return 1;
    }
    cfg_root = node_new(V_OBJ, "", 0, 0);
    for (int i = 0; i < f->nconfigs; i++)
        if (load_path(f->configs[i], cfg_root) < 0)
            return 1;
    if (resolve_settings(f, &S) < 0 || check_settings(&S) < 0)
        return 1;
    if (S.log_file) {
        char *err = NULL;
        if (open_log_file(S.log_file, &err) < 0) {
            ui(stderr, "==> Failed to setup logging: %s", err);
            return 1;
        }
    }
    if (cfg_nfiles) {
        sbuf l = {0};
        for (int i = 0; i < cfg_nfiles; i++) {
            if (i)
                sb_add(&l, ", ");
            sb_add(&l, cfg_files[i]);
        }
        ui(stdout, "==> Loaded configuration from %s", l.s);
        free(l.s);
    }
    ui(stdout, "==> Starting %s agent...", ptitle());
    if (pipe(sig_pipe) < 0) {
        ui(stderr, "==> Error starting agent: pipe: %s", strerror(errno));
        return 1;
    }
    fcntl(sig_pipe[0], F_SETFD, FD_CLOEXEC);
    fcntl(sig_pipe[1], F_SETFD, FD_CLOEXEC);
    fcntl(sig_pipe[0], F_SETFL, O_NONBLOCK);
    fcntl(sig_pipe[1], F_SETFL, O_NONBLOCK);
    struct sigaction sa = {0};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    if (setup_data_dir() < 0)
        return 1;
    int lfd = -1;
    if (!(prod == P_CONSUL && S.http_port == -1)) {
        lfd = http_listen();
        if (lfd < 0)
            return 1;
    }
    int leader = S.server && S.bootstrap_expect <= 1;
    cluster_setup();
    if (prod == P_NOMAD) {
        ui(stdout, "==> Nomad agent configuration:");
        ui(stdout, "");
        ui(stdout, "       Advertise Addrs: HTTP: %s:%ld; RPC: %s:%ld; Serf: %s:%ld", S.advertise, S.http_port,
           S.advertise, S.rpc_port, S.advertise, S.serf_port);
        ui(stdout, "            Bind Addrs: HTTP: [%s:%ld]; RPC: %s:%ld; Serf: %s:%ld", S.http_addr, S.http_port,
           S.bind_addr, S.rpc_port, S.bind_addr, S.serf_port);
        ui(stdout, "                Client: %s", S.client ? "true" : "false");
        ui(stdout, "             Log Level: %s", S.log_level);
        ui(stdout, "               Node Id: %s", node_id);
        ui(stdout, "                Region: %s (DC: %s)", S.region, S.datacenter);
        ui(stdout, "                Server: %s", S.server ? "true" : "false");
        ui(stdout, "               Version: %s", pversion());
        ui(stdout, "");
        ui(stdout, "==> Nomad agent started! Log data will stream in below:");
        ui(stdout, "");
    } else {
        if (S.bootstrap_expect > 1) {
            ui(stdout, "==> WARNING: Expect Mode enabled, expecting %ld servers", S.bootstrap_expect);
            if (S.bootstrap_expect % 2 == 0)
                ui(stdout,
                   "==> WARNING: A cluster with %ld servers will provide no failure tolerance. See "
                   "https://developer.hashicorp.com/consul/docs/internals/consensus#deployment-table",
                   S.bootstrap_expect);
        } else if (S.server && S.bootstrap_expect == 1) {
            ui(stdout, "==> WARNING: BootstrapExpect Mode is specified as 1; this is the same as Bootstrap mode.");
            ui(stdout, "==> WARNING: Bootstrap mode enabled! Do not enable unless necessary");
        }
        ui(stdout, "              Version: '%s'", pversion());
        ui(stdout, "           Build Date: '%s'", AGENT_BUILD_DATE);
        ui(stdout, "              Node ID: '%s'", node_id);
        ui(stdout, "            Node name: '%s'", S.name);
        ui(stdout, "           Datacenter: '%s' (Segment: '<all>')", S.datacenter);
        ui(stdout, "               Server: %s (Bootstrap: %s)", S.server ? "true" : "false",
           S.server && S.bootstrap_expect == 1 ? "true" : "false");
        ui(stdout, "          Client Addr: [%s] (HTTP: %ld, HTTPS: -1, gRPC: -1, gRPC-TLS: 8503, DNS: 8600)",
           S.http_addr, S.http_port);
        ui(stdout, "         Cluster Addr: %s (LAN: %ld, WAN: 8302)", S.advertise, S.serf_port);
        ui(stdout, "    Gossip Encryption: %s", S.encrypt ? "true" : "false");
        ui(stdout, "");
        ui(stdout, "==> Consul agent running!");
        ui(stdout, "==> Log data will now stream in as it occurs:");
        ui(stdout, "");
    }
    logmsg("INFO", "agent: node_id=%s", node_id);
    logmsg("INFO", "agent: stand-in %s v%s pid=%ld data_dir=%s", pname(), pversion(), (long)getpid(),
           S.data_dir ? S.data_dir : "(dev, in-memory)");
    if (lfd >= 0)
        logmsg("INFO", "agent.http: listening on %s:%ld", S.http_addr, S.http_port);
    if (S.server) {
        if (S.bootstrap_expect > 1 && S.bootstrap_expect % 2 == 0)
            logmsg("WARN", "agent: bootstrap_expect=%ld: an even number of servers adds no fault tolerance",
                   S.bootstrap_expect);
        if (leader) {
            logmsg("INFO", "%s.raft: entering leader state: leader=\"Node at %s:%ld [Leader]\"", pname(),
                   S.advertise, S.rpc_port);
            logmsg("INFO", "%s: cluster leadership acquired", pname());
        } else if (cluster_mode) {
            logmsg("INFO", "%s: stand-in waiting for %ld servers (retry_join: %d peers)", pname(),
                   S.bootstrap_expect, njpeers);
        } else {
            logmsg("INFO", "%s: stand-in waiting for %ld servers (never forms a cluster)", pname(),
                   S.bootstrap_expect);
        }
    }
    if (prod == P_NOMAD && S.client)
        logmsg("INFO", "client: node registration complete");
    logmsg("INFO", "agent: started");

    conn conns[MAXCONN];
    int nconns = 0;
    int exit_code = -1;
    while (exit_code < 0) {
        cluster_tick();
        node_tick();
        struct pollfd pfds[MAXCONN + 2 + MAXJOIN];
        int np = 0;
        pfds[np++] = (struct pollfd){sig_pipe[0], POLLIN, 0};
        if (lfd >= 0)
            pfds[np++] = (struct pollfd){lfd, nconns < MAXCONN ? POLLIN : 0, 0};
        int base = np;
        for (int i = 0; i < nconns; i++)
            pfds[np++] = (struct pollfd){conns[i].fd, POLLIN, 0};
        int pbase = np;
        for (int i = 0; i < njpeers; i++)
            pfds[np++] = (struct pollfd){jpeers[i].fd, jpeers[i].phase == 0 ? POLLOUT : POLLIN, 0};
        int r = poll(pfds, (nfds_t)np, cluster_mode ? 200 : 1000);
        if (r > 0)
            for (int i = 0; i < njpeers; i++)
                if (pfds[pbase + i].fd >= 0 && pfds[pbase + i].fd == jpeers[i].fd)
                    peer_io(&jpeers[i], pfds[pbase + i].revents);
        if (r < 0 && errno != EINTR) {
            logmsg("ERROR", "agent: poll: %s", strerror(errno));
            exit_code = 1;
            break;
        }
        if (r > 0 && (pfds[0].revents & POLLIN)) {
            unsigned char sig;
            while (read(sig_pipe[0], &sig, 1) == 1) {
                if (sig == SIGHUP) {
                    ui(stdout, "==> Caught signal: hangup");
                    ui(stdout, "==> Reloading configuration...");
                    reload_config(f->configs, f->nconfigs);
                    continue;
                }
                ui(stdout, "==> Caught signal: %s", sig == SIGINT ? "interrupt" : "terminated");
                logmsg("INFO", "agent: requesting shutdown");
                if (S.server)
                    logmsg("INFO", "%s: shutting down server", pname());
                logmsg("INFO", "agent: shutdown complete");
                exit_code = 0;
                break;
            }
            if (exit_code >= 0)
                break;
        }
        if (r > 0 && lfd >= 0 && (pfds[1].revents & POLLIN)) {
            for (;;) {
                if (nconns >= MAXCONN)
                    break;
                int c = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
                if (c < 0)
                    break;
                conns[nconns].fd = c;
                conns[nconns].buf = (sbuf){0};
                conns[nconns].started = time(NULL);
                nconns++;
            }
        }
        time_t now = time(NULL);
        for (int i = nconns - 1; i >= 0; i--) {
            int done = 0;
            short re = 0;
            for (int j = base; j < pbase; j++)
                if (pfds[j].fd == conns[i].fd)
                    re = pfds[j].revents;
            if (re & (POLLIN | POLLHUP | POLLERR)) {
                char buf[4096];
                ssize_t n = recv(conns[i].fd, buf, sizeof buf, 0);
                if (n > 0) {
                    sb_addn(&conns[i].buf, buf, (size_t)n);
                    char *bs = conns[i].buf.s, *he = strstr(bs, "\r\n\r\n");
                    size_t hl = he ? (size_t)(he - bs) + 4 : 0;
                    if (!he && (he = strstr(bs, "\n\n")))
                        hl = (size_t)(he - bs) + 2;
                    long clen = he ? content_length(bs, hl) : 0;
                    if (he && conns[i].buf.len >= hl + (size_t)clen) {
                        handle_request(conns[i].fd, bs, bs + hl, (size_t)clen);
                        done = 1;
                    } else if (conns[i].buf.len > 65536) {
                        respond(conns[i].fd, 431, "Request Header Fields Too Large", "text/plain", "too large\n", 0);
                        done = 1;
                    }
                } else if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
                    done = 1;
                }
            }
            if (!done && now - conns[i].started > 10)
                done = 1;
            if (done) {
                close(conns[i].fd);
                free(conns[i].buf.s);
                conns[i] = conns[--nconns];
            }
        }
    }
    for (int i = 0; i < nconns; i++)
        close(conns[i].fd);
    if (lfd >= 0)
        close(lfd);
    return exit_code;
}

/* ------------------------------------------------------------ CLI */

static void usage(FILE *out)
{
    fprintf(out, "Usage: %s [-version] [-help] [-autocomplete-(un)install] <command> [args]\n\n", pname());
    fprintf(out, "Common commands:\n");
    fprintf(out, "    agent       Runs a %s agent (cairn stand-in)\n", ptitle());
    fprintf(out, "    version     Prints the %s version\n", ptitle());
    fprintf(out, "    validate    Validate config files/directories (also: config validate)\n");
    fprintf(out, "\nThis is the cairn test stand-in, not HashiCorp %s.\n", ptitle());
}

static int print_version(void)
{
    const char *rev = AGENT_REVISION;
    if (prod == P_NOMAD) {
        printf("Nomad v%s\n", pversion());
        printf("BuildDate %s\n", AGENT_BUILD_DATE);
        printf("Revision %s\n", rev);
    } else {
        printf("Consul v%s\n", pversion());
        printf("Revision %.8s\n", rev);
        printf("Build Date %s\n", AGENT_BUILD_DATE);
        printf("Protocol 2 spoken by default, understands 2 to 3 (agent will automatically use protocol >2 when "
               "speaking to compatible agents)\n\n");
    }
    fflush(stdout);
    return 0;
}

static int flag_name(const char *arg, const char *name, const char **val)
{
    /* matches -name, --name, -name=val, --name=val */
    if (arg[0] != '-')
        return 0;
    arg++;
    if (arg[0] == '-')
        arg++;
    size_t n = strlen(name);
    if (strncmp(arg, name, n))
        return 0;
    if (arg[n] == 0) {
        *val = NULL;
        return 1;
    }
    if (arg[n] == '=') {
        *val = arg + n + 1;
        return 1;
    }
    return 0;
}

/* returns 0 ok, 1 error (printed), 2 help */
static int parse_flags(int argc, char **argv, flags *f, int allow_positional)
{
    memset(f, 0, sizeof *f);
    static const char *value_flags_nomad[] = {"config", "data-dir", "bind", "node", "dc", "region", "log-file",
                                              "log-level", "bootstrap-expect", "encrypt", "servers", "join",
                                              "retry-join", "network-interface", "alloc-dir", "state-dir",
                                              "plugin-dir", "consul-address", "node-class", "meta", NULL};
    static const char *value_flags_consul[] = {"config", "config-file", "config-dir", "data-dir", "bind", "node",
                                               "datacenter", "log-file", "log-level", "bootstrap-expect",
                                               "encrypt", "client", "http-port", "retry-join", "join",
                                               "advertise", "node-id", "config-format", "dns-port", "grpc-port",
                                               "serf-lan-port", "server-port", NULL};
    static const char *bool_flags_nomad[] = {"server", "client", "dev", "bootstrap", "rejoin", NULL};
    static const char *bool_flags_consul[] = {"server", "dev", "bootstrap", "rejoin", "ui", NULL};
    const char **vf = prod == P_CONSUL ? value_flags_consul : value_flags_nomad;
    const char **bf = prod == P_CONSUL ? bool_flags_consul : bool_flags_nomad;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i], *val = NULL;
        if (a[0] != '-' || !strcmp(a, "-") || !strcmp(a, "--")) {
            if (allow_positional) {
                f->configs = xrealloc(f->configs, sizeof(char *) * (size_t)(f->nconfigs + 1));
                f->configs[f->nconfigs++] = (char *)a;
                continue;
            }
            ui(stderr, "==> Unexpected argument: %s", a);
            return 1;
        }
        if (!strcmp(a, "-h") || !strcmp(a, "-help") || !strcmp(a, "--help"))
            return 2;
        int matched = 0;
        for (int j = 0; bf[j] && !matched; j++) {
            if (flag_name(a, bf[j], &val)) {
                matched = 1;
                int on = !val || !strcmp(val, "true") || !strcmp(val, "1");
                if (!strcmp(bf[j], "server"))
                    f->server = on;
                else if (!strcmp(bf[j], "client"))
                    f->client = on;
                else if (!strcmp(bf[j], "dev"))
                    f->dev = on;
                else if (!strcmp(bf[j], "bootstrap"))
                    f->bootstrap = on;
            }
        }
        for (int j = 0; vf[j] && !matched; j++) {
            if (flag_name(a, vf[j], &val)) {
                matched = 1;
                if (!val) {
                    if (i + 1 >= argc) {
                        ui(stderr, "flag needs an argument: -%s", vf[j]);
                        return 1;
                    }
                    val = argv[++i];
                }
                const char *n = vf[j];
                if (!strcmp(n, "config") || !strcmp(n, "config-file") || !strcmp(n, "config-dir")) {
                    f->configs = xrealloc(f->configs, sizeof(char *) * (size_t)(f->nconfigs + 1));
                    f->configs[f->nconfigs++] = (char *)val;
                } else if (!strcmp(n, "data-dir"))
                    f->data_dir = val;
                else if (!strcmp(n, "bind"))
                    f->bind = val;
                else if (!strcmp(n, "node"))
                    f->node = val;
                else if (!strcmp(n, "dc") || !strcmp(n, "datacenter"))
                    f->dc = val;
                else if (!strcmp(n, "region"))
                    f->region = val;
                else if (!strcmp(n, "log-file"))
                    f->log_file = val;
                else if (!strcmp(n, "log-level"))
                    f->log_level = val;
                else if (!strcmp(n, "encrypt"))
                    f->encrypt = val;
                else if (!strcmp(n, "client"))
                    f->client_addr = val;
                else if (!strcmp(n, "bootstrap-expect") || !strcmp(n, "http-port")) {
                    char *end;
                    long v = strtol(val, &end, 10);
                    if (!*val || *end) {
                        ui(stderr, "invalid value \"%s\" for flag -%s: parse error", val, n);
                        return 1;
                    }
                    if (n[0] == 'b')
                        f->bootstrap_expect = v;
                    else
                        f->http_port = v;
                }
                /* other value flags are accepted and ignored */
            }
        }
        if (!matched) {
            const char *nm = a + 1;
            if (*nm == '-')
                nm++;
            char *eq = xstrdup(nm);
            char *e = strchr(eq, '=');
            if (e)
                *e = 0;
            ui(stderr, "flag provided but not defined: -%s", eq);
            free(eq);
            return 1;
        }
    }
    return 0;
}

static int run_validate(int argc, char **argv)
{
    flags f;
    int r = parse_flags(argc, argv, &f, 1);
    if (r == 2) {
        printf("Usage: %s %svalidate [options] <config_path...>\n", pname(), prod == P_NOMAD ? "config " : "");
        return 0;
    }
    if (r)
        return 1;
    if (f.nconfigs == 0) {
        ui(stderr, "Must specify at least one config file or directory");
        return 1;
    }
    cfg_root = node_new(V_OBJ, "", 0, 0);
    for (int i = 0; i < f.nconfigs; i++)
        if (load_path(f.configs[i], cfg_root) < 0)
            return 1;
    flags none;
    memset(&none, 0, sizeof none);
    if (resolve_settings(&none, &S) < 0 || check_settings(&S) < 0)
        return 1;
    printf("Configuration is valid!\n");
    return 0;
}

static enum product product_from(const char *s)
{
    const char *b = strrchr(s, '/');
    b = b ? b + 1 : s;
    if (!strncmp(b, "nomad", 5))
        return P_NOMAD;
    if (!strncmp(b, "consul", 6))
        return P_CONSUL;
    return P_NONE;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    setvbuf(stderr, NULL, _IONBF, 0);
    int ai = 1;
    if (argc > 1 && (!strcmp(argv[1], "nomad") || !strcmp(argv[1], "consul"))) {
        prod = argv[1][0] == 'n' ? P_NOMAD : P_CONSUL;
        ai = 2;
    } else {
        prod = product_from(argv[0]);
    }
#ifdef AGENT_PRODUCT
    if (prod == P_NONE)
        prod = product_from(AGENT_PRODUCT);
#endif
    if (prod == P_NONE) {
        fprintf(stderr, "cairn stand-in agent: cannot tell whether to act as nomad or consul; "
                        "name the binary nomad/consul or pass it as the first argument\n");
        return 1;
    }
    if (ai >= argc) {
        usage(stderr);
        return 127;
    }
    const char *cmd = argv[ai];
    if (!strcmp(cmd, "version") || !strcmp(cmd, "-version") || !strcmp(cmd, "--version") || !strcmp(cmd, "-v"))
        return print_version();
    if (!strcmp(cmd, "-h") || !strcmp(cmd, "-help") || !strcmp(cmd, "--help") || !strcmp(cmd, "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(cmd, "agent")) {
        flags f;
        int r = parse_flags(argc - ai - 1, argv + ai + 1, &f, 0);
        if (r == 2) {
            printf("Usage: %s agent [options]\n\n  -config=<path>  config file or directory (repeatable)\n",
                   pname());
            return 0;
        }
        if (r)
            return 1;
        return run_agent(&f);
    }
    if (!strcmp(cmd, "validate"))
        return run_validate(argc - ai - 1, argv + ai + 1);
    if (!strcmp(cmd, "config") && ai + 1 < argc && !strcmp(argv[ai + 1], "validate"))
        return run_validate(argc - ai - 2, argv + ai + 2);
    fprintf(stderr, "Unknown command: %s (cairn stand-in supports: agent, version, validate)\n\n", cmd);
    usage(stderr);
    return 127;
}

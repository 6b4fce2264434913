/*
 * cairn stand-in for one containernetworking/plugins binary (loopback, bridge,
 * host-local, firewall, portmap). Built static, one binary per plugin name:
 *   cc -static -DCNI_NAME='"bridge"' -DCNI_VERSION='"1.4.0"' \
 *      -DCNI_SUPPORTED='"0.1.0, 0.2.0, 0.3.0, 0.3.1, 0.4.0, 1.0.0"' cni.c
 *
 * Like the real skel.PluginMain: with no CNI_COMMAND in the environment it
 * prints the "about" text to stderr and exits 0 (Nomad's CNI fingerprint runs
 * each plugin with no args and treats a non-zero exit as version "unknown").
 * CNI_COMMAND=VERSION prints the version JSON on stdout. Other commands are
 * not implemented: they answer a CNI error object and exit 1 (DEL succeeds,
 * as DEL must be idempotent).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef CNI_NAME
#error "define CNI_NAME"
#endif
#ifndef CNI_VERSION
#error "define CNI_VERSION"
#endif
#ifndef CNI_SUPPORTED
#define CNI_SUPPORTED "0.1.0, 0.2.0, 0.3.0, 0.3.1, 0.4.0, 1.0.0"
#endif

int main(void)
{
    const char *cmd = getenv("CNI_COMMAND");
    if (!cmd || !*cmd) {
        fprintf(stderr, "CNI %s plugin v%s\n", CNI_NAME, CNI_VERSION);
        fprintf(stderr, "CNI protocol versions supported: %s\n", CNI_SUPPORTED);
        return 0;
    }
    if (!strcmp(cmd, "VERSION")) {
        /* {"cniVersion":"1.0.0","supportedVersions":["0.1.0",...]} */
        const char *s = CNI_SUPPORTED;
        printf("{\"cniVersion\":\"1.0.0\",\"supportedVersions\":[\"");
        for (; *s; s++) {
            if (*s == ',')
                printf("\",\"");
            else if (*s != ' ')
                putchar(*s);
        }
        printf("\"]}\n");
        return 0;
    }
    if (!strcmp(cmd, "DEL"))
        return 0;
    printf("{\"cniVersion\":\"1.0.0\",\"code\":999,\"msg\":\"cairn stand-in CNI plugin %s v%s does not "
           "implement %s\"}\n",
           CNI_NAME, CNI_VERSION, cmd);
    return 1;
}

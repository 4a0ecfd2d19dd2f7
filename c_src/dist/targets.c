/* targets.c: the nodes to probe: named ones plus every configured discovery source. */
#include "dist/targets.h"

#include <stdio.h>
#include <string.h>

#include "beamprobe.h"
#include "core/str.h"
#include "dist/discover.h"

static void merge(bp_namelist *out, const bp_namelist *in)
{
    for (size_t i = 0; i < in->n && out->n < BP_LIST_MAX; i++) {
        size_t j = 0;
        while (j < out->n && strcmp(out->v[j], in->v[i]) != 0)
            j++;
        if (j == out->n)
            bp_strlcpy(out->v[out->n++], in->v[i], sizeof out->v[0]);
    }
}

int bp_targets_discovered(const bp_config *cfg)
{
    return cfg->epmd_host[0] || cfg->dns_name[0] || cfg->k8s_endpoints[0];
}

int bp_targets_resolve(const bp_config *cfg, int64_t deadline_ms, bp_namelist *out, char *err, size_t errlen)
{
    static bp_namelist found; /* large: keep it off small thread stacks; callers are serialised */
    char why[400];
    int rc;
    out->n = 0;
    merge(out, &cfg->nodes);
    if (cfg->epmd_host[0]) {
        if ((rc = bp_discover_epmd(cfg->epmd_host, deadline_ms, &found, why, sizeof why)) != 0) {
            snprintf(err, errlen, "--epmd-host %s: %s", cfg->epmd_host, why);
            return rc;
        }
        merge(out, &found);
    }
    if (cfg->dns_name[0]) {
        bp_dns_opts o = { .by_hostname = cfg->dns_by_hostname, .server = cfg->dns_server };
        if (!cfg->node_basename[0]) {
            snprintf(err, errlen, "--dns needs --node-basename (the alive part of the node names)");
            return BP_EUSAGE;
        }
        if ((rc = bp_discover_dns(cfg->dns_name, cfg->node_basename, &o, deadline_ms, &found, why, sizeof why)) != 0) {
            snprintf(err, errlen, "--dns %s: %s", cfg->dns_name, why);
            return rc;
        }
        merge(out, &found);
    }
    if (cfg->k8s_endpoints[0]) {
        char ns[64], svc[64];
        static bp_k8s_result res;
        if (!cfg->node_basename[0]) {
            snprintf(err, errlen, "--k8s-endpoints needs --node-basename (the alive part of the node names)");
            return BP_EUSAGE;
        }
        if ((rc = bp_k8s_parse_target(cfg->k8s_endpoints, ns, sizeof ns, svc, sizeof svc, why, sizeof why)) != 0) {
            snprintf(err, errlen, "--k8s-endpoints: %s", why);
            return rc;
        }
        bp_k8s_opts o = { .ns = ns, .service = svc, .basename = cfg->node_basename, .api_url = cfg->k8s_api,
                          .token_file = cfg->k8s_token_file, .ca_file = cfg->k8s_ca_file };
        if ((rc = bp_discover_k8s(&o, deadline_ms, &res, why, sizeof why)) != 0) {
            snprintf(err, errlen, "--k8s-endpoints %s: %s", cfg->k8s_endpoints, why);
            return rc;
        }
        merge(out, &res.ready);
        merge(out, &res.not_ready);
    }
    return 0;
}

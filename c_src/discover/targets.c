/* targets.c: the nodes to probe: named ones plus every configured discovery source. */
#include "discover/targets.h"

#include <stdio.h>
#include <string.h>

#include "beamprobe.h"
#include "discover/discover.h"

int bp_targets_discovered(const bp_config *cfg)
{
    return cfg->epmd_host[0] || cfg->dns_name[0] || cfg->k8s_endpoints[0];
}

/* Add names to the targets; a message when they do not fit. */
static int merge(bp_nodeset *out, const char (*names)[BP_NAME_MAX], size_t n, const char *source, char *err,
                 size_t errlen)
{
    int rc = bp_nodeset_add_all(out, names, n);
    if (rc == BP_ETOOBIG)
        snprintf(err, errlen, "more than %zu targets in all (--nodes and the discovery sources together; %s gave %zu)",
                 bp_nodeset_limit(out), source, n);
    else if (rc)
        snprintf(err, errlen, "out of memory collecting the targets of %s", source);
    return rc;
}

/* One source's outcome: its error prefixed with the option, or its names added to out. found is emptied. */
static int take(bp_nodeset *out, bp_nodeset *found, int rc, const char *label, const char *why, char *err,
                size_t errlen)
{
    if (rc)
        snprintf(err, errlen, "%s: %s", label, why);
    else
        rc = merge(out, (const char (*)[BP_NAME_MAX])found->v, found->n, label, err, errlen);
    bp_nodeset_clear(found);
    return rc;
}

static int need_basename(const bp_config *cfg, char *why, size_t whylen)
{
    if (cfg->node_basename[0])
        return 0;
    snprintf(why, whylen, "needs --node-basename (the alive part of the node names)");
    return BP_EUSAGE;
}

static int dns_source(const bp_config *cfg, int64_t deadline_ms, bp_nodeset *found, char *why, size_t whylen)
{
    bp_dns_opts o = { .by_hostname = cfg->dns_by_hostname, .server = cfg->dns_server };
    int rc = need_basename(cfg, why, whylen);
    return rc ? rc : bp_discover_dns(cfg->dns_name, cfg->node_basename, &o, deadline_ms, found, why, whylen);
}

/* The ready and the not-ready addresses, together in found (empty on entry). */
static int k8s_source(const bp_config *cfg, int64_t deadline_ms, bp_nodeset *found, char *why, size_t whylen)
{
    char ns[64], svc[64];
    int rc = need_basename(cfg, why, whylen);
    if (rc == 0)
        rc = bp_k8s_parse_target(cfg->k8s_endpoints, ns, sizeof ns, svc, sizeof svc, why, whylen);
    if (rc)
        return rc;
    bp_k8s_opts o = { .ns = ns, .service = svc, .basename = cfg->node_basename, .api_url = cfg->k8s_api,
                      .token_file = cfg->k8s_token_file, .ca_file = cfg->k8s_ca_file,
                      .cluster_domain = cfg->k8s_cluster_domain,
                      .names = strcmp(cfg->k8s_names, "ip") == 0 ? BP_K8S_NAMES_IP : BP_K8S_NAMES_AUTO,
                      .source = strcmp(cfg->k8s_source, "slices") == 0      ? BP_K8S_SOURCE_SLICES
                                : strcmp(cfg->k8s_source, "endpoints") == 0 ? BP_K8S_SOURCE_ENDPOINTS
                                                                            : BP_K8S_SOURCE_AUTO };
    bp_k8s_result res = { .ready.max = found->max, .not_ready.max = found->max };
    rc = bp_discover_k8s(&o, deadline_ms, &res, why, whylen);
    if (rc == 0) {
        rc = bp_nodeset_add_all(&res.ready, (const char (*)[BP_NAME_MAX])res.not_ready.v, res.not_ready.n);
        if (rc == BP_ETOOBIG)
            snprintf(why, whylen, "service %s/%s has more than %zu addresses, ready and not ready together", ns,
                     svc, bp_nodeset_limit(&res.ready));
        else if (rc)
            snprintf(why, whylen, "out of memory");
    }
    if (rc == 0) {
        bp_nodeset_free(found);
        *found = res.ready; /* moved: res no longer owns it */
        res.ready = (bp_nodeset){ 0 };
    }
    bp_k8s_result_free(&res);
    return rc;
}

size_t bp_targets_sources(const bp_config *cfg, char (*labels)[BP_SOURCE_LABEL_MAX], int *kinds)
{
    const char *opt[BP_SOURCES_MAX] = { "--epmd-host", "--dns", "--k8s-endpoints" };
    const char *arg[BP_SOURCES_MAX] = { cfg->epmd_host, cfg->dns_name, cfg->k8s_endpoints };
    size_t n = 0;
    for (int k = 0; k < BP_SOURCES_MAX; k++) {
        if (!arg[k][0])
            continue;
        if (labels)
            snprintf(labels[n], BP_SOURCE_LABEL_MAX, "%s %s", opt[k], arg[k]);
        if (kinds)
            kinds[n] = k;
        n++;
    }
    return n;
}

int bp_targets_source(const bp_config *cfg, int kind, int64_t deadline_ms, bp_nodeset *found, char *why,
                      size_t whylen)
{
    bp_nodeset_clear(found);
    switch (kind) {
    case BP_SOURCE_EPMD:
        return bp_discover_epmd(cfg->epmd_host, cfg->node_basename, deadline_ms, found, why, whylen);
    case BP_SOURCE_DNS: return dns_source(cfg, deadline_ms, found, why, whylen);
    case BP_SOURCE_K8S: return k8s_source(cfg, deadline_ms, found, why, whylen);
    default: snprintf(why, whylen, "no such discovery source"); return BP_EUSAGE;
    }
}

int bp_targets_resolve(const bp_config *cfg, int64_t deadline_ms, bp_nodeset *out, char *err, size_t errlen)
{
    char why[400], labels[BP_SOURCES_MAX][BP_SOURCE_LABEL_MAX];
    int kinds[BP_SOURCES_MAX];
    bp_nodeset found = { .max = out->max };
    bp_nodeset_clear(out);
    int rc = merge(out, cfg->nodes.v, cfg->nodes.n, "--nodes", err, errlen);
    size_t n = bp_targets_sources(cfg, labels, kinds);
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = take(out, &found, bp_targets_source(cfg, kinds[i], deadline_ms, &found, why, sizeof why), labels[i],
                  why, err, errlen);
    bp_nodeset_free(&found);
    return rc;
}

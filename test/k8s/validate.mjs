// validate.mjs: checks rendered Kubernetes manifests (multi-document YAML) of deploy/k8s.
// Usage: node validate.mjs base|exec FILE
// Prints one line per check, "ok <what>" or "FAIL <what>: <why>"; exits 1 when a check fails.
// Run by test/integration/test_k8s.sh; the modules come from package-lock.json (npm ci).
import { readFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";

const [variant, file] = process.argv.slice(2);
let failed = 0;
const ok = (what) => console.log(`ok ${what}`);
const fail = (what, why) => { failed++; console.log(`FAIL ${what}: ${why}`); };
const check = (what, cond, why) => (cond ? ok(what) : fail(what, why));

const docs = parseAllDocuments(readFileSync(file, "utf8")).map((d) => {
  if (d.errors.length) throw new Error(`${file}: ${d.errors[0].message}`);
  return d.toJS();
}).filter((o) => o);

// 1. Every object against the API schema of its kind.
async function modelOf(apiVersion, kind) {
  const mod = apiVersion === "monitoring.coreos.com/v1"
    ? await import("@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1")
    : await import(`kubernetes-models/${apiVersion}`);
  return mod[kind];
}
const id = (o) => `${o.kind}/${o.metadata?.name}`;
for (const o of docs) {
  let Model;
  try { Model = await modelOf(o.apiVersion, o.kind); } catch (e) { Model = undefined; }
  if (!Model) { fail(`schema ${id(o)}`, `no schema for ${o.apiVersion} ${o.kind}`); continue; }
  try { new Model(o).validate(); ok(`schema ${id(o)} (${o.apiVersion})`); }
  catch (e) { fail(`schema ${id(o)}`, e.message); }
}
const all = (kind) => docs.filter((o) => o.kind === kind);
const one = (kind, name) => docs.find((o) => o.kind === kind && o.metadata.name === name);

// 2. Security settings and resources on every container and init container of every workload.
const workloads = docs.filter((o) => o.spec?.template?.spec);
check("workloads found", workloads.length >= 2, `${workloads.length}`);
for (const w of workloads) {
  const ps = w.spec.template.spec;
  const psc = ps.securityContext || {};
  check(`${id(w)} pod runAsNonRoot and seccomp RuntimeDefault`,
    psc.runAsNonRoot === true && psc.seccompProfile?.type === "RuntimeDefault", JSON.stringify(psc));
  for (const c of [...(ps.initContainers || []), ...ps.containers]) {
    const sc = c.securityContext || {};
    const what = `${id(w)} container ${c.name}`;
    const problems = [];
    if (sc.runAsNonRoot !== true) problems.push("runAsNonRoot is not true");
    if (!Number.isInteger(sc.runAsUser) || sc.runAsUser <= 0) problems.push(`runAsUser ${sc.runAsUser} is not a numeric non-root uid`);
    if (sc.readOnlyRootFilesystem !== true) problems.push("readOnlyRootFilesystem is not true");
    if (sc.allowPrivilegeEscalation !== false) problems.push("allowPrivilegeEscalation is not false");
    const drop = sc.capabilities?.drop || [];
    if (!drop.includes("ALL")) problems.push("capabilities.drop lacks ALL");
    if ((sc.capabilities?.add || []).length) problems.push("capabilities.add is not empty");
    if (sc.privileged) problems.push("privileged");
    if (sc.seccompProfile?.type !== "RuntimeDefault") problems.push("seccompProfile is not RuntimeDefault");
    for (const k of ["requests", "limits"])
      for (const r of ["cpu", "memory"])
        if (c.resources?.[k]?.[r] === undefined) problems.push(`resources.${k}.${r} unset`);
    check(`${what} securityContext and resources`, problems.length === 0, problems.join("; "));
  }
}

// 3. RBAC: exactly get/list/watch on endpointslices (discovery.k8s.io) and endpoints (core).
const roles = [...all("Role"), ...all("ClusterRole")];
check("exactly one Role, no ClusterRole", all("Role").length === 1 && all("ClusterRole").length === 0,
  roles.map(id).join(", "));
const grants = new Set();
for (const r of roles) for (const rule of r.rules || [])
  for (const g of rule.apiGroups || []) for (const res of rule.resources || []) for (const v of rule.verbs || [])
    grants.add(`${g}/${res}/${v}`);
const want = ["discovery.k8s.io/endpointslices", "/endpoints"].flatMap((r) => ["get", "list", "watch"].map((v) => `${r}/${v}`));
check("RBAC grants exactly get/list/watch on endpointslices and endpoints",
  grants.size === want.length && want.every((g) => grants.has(g)), [...grants].sort().join(" "));
const rb = all("RoleBinding")[0];
const watcher = one("Deployment", "beamprobe");
check("RoleBinding binds the Role to the watcher's ServiceAccount",
  rb && roles[0] && rb.roleRef.name === roles[0].metadata.name && rb.subjects?.length === 1
  && rb.subjects[0].kind === "ServiceAccount" && rb.subjects[0].name === watcher?.spec.template.spec.serviceAccountName
  && rb.subjects[0].namespace === watcher?.metadata.namespace, JSON.stringify(rb?.subjects));
const wargs = watcher?.spec.template.spec.containers[0].args || [];
check("the watcher runs serve --k8s-endpoints", wargs[0] === "serve" && wargs.includes("--k8s-endpoints"), wargs.join(" "));

// 4. PDB: the quorum rule (a strict majority of replicas stays).
const sts = one("StatefulSet", "app");
const pdb = all("PodDisruptionBudget").find((p) => p.spec.selector.matchLabels?.["app.kubernetes.io/name"] === "app");
const n = sts?.spec.replicas, needed = Math.floor(n / 2) + 1;
const avail = pdb?.spec.minAvailable !== undefined ? pdb.spec.minAvailable
  : pdb?.spec.maxUnavailable !== undefined ? n - pdb.spec.maxUnavailable : undefined;
check(`PDB keeps a quorum of ${n} replicas (${needed})`, avail === needed, `minAvailable ${avail}`);

// 5. Probes.
const app = sts?.spec.template.spec.containers.find((c) => c.name === "app");
const probes = { startupProbe: "/health/startup", livenessProbe: "/health/live", readinessProbe: "/health/ready" };
const sidecar = sts?.spec.template.spec.containers.find((c) => c.name === "beamprobe");
const allContainers = workloads.flatMap((w) => [...(w.spec.template.spec.initContainers || []), ...w.spec.template.spec.containers]);
if (variant === "base") {
  const args = sidecar?.args || [];
  const listen = args[args.indexOf("--listen") + 1] || "";
  const port = Number(listen.split(":").pop());
  check("sidecar runs serve with --listen", args[0] === "serve" && args.includes("--listen") && port > 0, args.join(" "));
  check("sidecar's containerPort is its --listen port", sidecar?.ports?.some((p) => p.containerPort === port), JSON.stringify(sidecar?.ports));
  for (const [p, path] of Object.entries(probes)) {
    const h = app?.[p]?.httpGet;
    check(`app ${p} is httpGet ${path} on the sidecar's port ${port}`,
      h && h.path === path && (h.port === port || sidecar.ports.some((q) => q.name === h.port && q.containerPort === port)),
      JSON.stringify(app?.[p]));
  }
} else {
  check("no sidecar in the exec overlay", !sidecar, "container beamprobe still present");
  const http = allContainers.filter((c) => Object.keys(probes).some((p) => c[p]?.httpGet));
  check("no httpGet probes in the exec overlay", http.length === 0, http.map((c) => c.name).join(", "));
  for (const [p, kind] of [["startupProbe", "startup"], ["livenessProbe", "live"], ["readinessProbe", "ready"]]) {
    const cmd = app?.[p]?.exec?.command || [];
    check(`app ${p} is exec beamprobe check app --probe ${kind}`,
      cmd[0]?.endsWith("/beamprobe") && cmd[1] === "check" && cmd[2] === "app"
      && cmd[cmd.indexOf("--probe") + 1] === kind && !cmd.some((a) => a.includes("$(")), cmd.join(" "));
  }
}

// 6. Cookie: a Secret mounted 0400, fsGroup set, copied to a 0400 file the probe reads.
for (const w of workloads) {
  const ps = w.spec.template.spec;
  const vol = (ps.volumes || []).find((v) => v.secret?.secretName === "app-erlang-cookie");
  check(`${id(w)} cookie Secret volume defaultMode 0400 and fsGroup`,
    vol && vol.secret.defaultMode === 0o400 && Number.isInteger(ps.securityContext?.fsGroup), JSON.stringify(vol));
}

// 7. NetworkPolicy: distribution ports between the pods, metrics from Prometheus only.
const np = one("NetworkPolicy", "app");
const portsOf = (rule) => (rule.ports || []).map((p) => p.port).sort((a, b) => a - b).join(",");
const dist = np?.spec.ingress.find((r) => r.from?.some((f) => f.podSelector && !f.namespaceSelector));
check("NetworkPolicy app admits exactly 4369 and 9100 between the pods", dist && portsOf(dist) === "4369,9100", JSON.stringify(dist));
const prom = np?.spec.ingress.filter((r) => r !== dist) || [];
check(`NetworkPolicy app's other rules: ${variant === "base" ? "8080 from Prometheus" : "none"}`,
  variant === "base"
    ? prom.length === 1 && portsOf(prom[0]) === "8080" && prom[0].from.every((f) => f.namespaceSelector && f.podSelector)
    : prom.length === 0, JSON.stringify(prom));
const erlFlags = app?.env?.find((e) => e.name === "ERL_FLAGS")?.value || "";
check("ERL_FLAGS fixes inet_dist to 9100", /inet_dist_listen_min 9100 inet_dist_listen_max 9100/.test(erlFlags), erlFlags);

// 8. Monitoring objects from deploy/prometheus/operator.
check("ServiceMonitor and PrometheusRule present", all("ServiceMonitor").length === 1 && all("PrometheusRule").length === 1, "");
const sm = all("ServiceMonitor")[0], svc = one("Service", "beamprobe");
check("ServiceMonitor selects the metrics Service's port",
  sm && svc && Object.entries(sm.spec.selector.matchLabels).every(([k, v]) => svc.metadata.labels?.[k] === v)
  && sm.spec.endpoints.every((e) => svc.spec.ports.some((p) => p.name === e.port)), JSON.stringify(svc?.metadata.labels));

process.exit(failed ? 1 : 0);

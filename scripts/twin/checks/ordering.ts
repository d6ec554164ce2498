/**
 * Ordering: Pulumi creates what nothing orders in parallel. A custom resource applied before
 * its CRD exists is refused ("no matches for kind"); an object applied before the admission
 * webhook that must answer for it is refused too (the webhook's Service has no endpoints yet:
 * "failed calling webhook"). So every custom resource must wait — through `dependsOn`, its own
 * or an ancestor's (a child registers after its parent, which waits for its dependencies), a
 * component standing for all its children — for the release or manifest installing its CRD,
 * and every object matched by a webhook for the release running the webhook.
 *
 * A bundle's objects (components/kit/objects.ts) are applied by their objects release: Helm
 * creates them together, in one pass, in its install order by kind (helm pkg/releaseutil
 * kind_sorter.go `InstallOrder`: Namespace, NetworkPolicy, ResourceQuota, LimitRange, …,
 * Service, workloads, …, kinds it does not list last), without waiting between them. So what
 * a bundled object must wait for, its release must wait for (their own `dependsOn` is gone),
 * and between objects of one release only Helm's order counts: a CRD among them is created
 * before their custom resources but not waited for (only a chart's `crds/` are), so those are
 * refused on a fresh cluster.
 */
import type { KObject, TwinCheck, TwinEstate, TwinFinding } from "../model";
import { ref } from "../model";
import { indexByUrn } from "../normalise";

const BUILT_IN = new Set(["", "v1", "apps", "batch", "networking.k8s.io", "policy", "rbac.authorization.k8s.io", "storage.k8s.io", "apiextensions.k8s.io", "admissionregistration.k8s.io", "autoscaling", "coordination.k8s.io", "discovery.k8s.io", "scheduling.k8s.io", "node.k8s.io", "certificates.k8s.io", "apiregistration.k8s.io", "events.k8s.io", "flowcontrol.apiserver.k8s.io"]);
const groupOf = (apiVersion: string) => (apiVersion.includes("/") ? apiVersion.split("/")[0] : "");
const plural = (kind: string) => (/(s|x|ch|sh)$/.test(kind.toLowerCase()) ? `${kind.toLowerCase()}es` : /y$/.test(kind.toLowerCase()) ? `${kind.toLowerCase().slice(0, -1)}ies` : `${kind.toLowerCase()}s`);

/**
 * Whether a resource waits for `target`: through its own or an ancestor's dependsOn, a
 * dependency standing for itself and its descendants (a component), transitively.
 */
function waiter(e: TwinEstate): (urn: string, target: string) => boolean {
  const byUrn = indexByUrn(e.input);
  const children = new Map<string, string[]>();
  for (const r of e.input.resources) if (r.parent) children.set(r.parent, [...(children.get(r.parent) ?? []), r.urn]);
  const memo = new Map<string, Map<string, boolean>>();
  const ancestorsOf = (u: string) => {
    const out = new Set<string>();
    for (let r = byUrn.get(u); r; r = r.parent ? byUrn.get(r.parent) : undefined) out.add(r.urn);
    return out;
  };
  const depsOf = (u: string) => {
    const out: string[] = [];
    for (let r = byUrn.get(u); r; r = r.parent ? byUrn.get(r.parent) : undefined) out.push(...r.dependsOn);
    return out;
  };
  return (urn, target) => {
    let m = memo.get(target);
    if (!m) {
      m = new Map();
      memo.set(target, m);
    }
    const memoT = m;
    const above = ancestorsOf(target);
    const visit = (u: string): boolean => {
      const known = memoT.get(u);
      if (known !== undefined) return known;
      memoT.set(u, false); // cycle guard
      let found = false;
      const stack = [...depsOf(u)];
      const seen = new Set<string>();
      while (stack.length && !found) {
        const d = stack.pop()!;
        if (seen.has(d)) continue;
        seen.add(d);
        if (above.has(d)) found = true; // d is the target or a component containing it
        else if (visit(d)) found = true;
        else stack.push(...(children.get(d) ?? []));
      }
      memoT.set(u, found);
      return found;
    };
    return visit(urn);
  };
}

/**
 * Whether `before` is applied by an earlier stack than `after`: a sharded estate applies its
 * platform stack first (docs/operations.md), so whatever the platform installs is there before
 * any shard's resource is created.
 */
function earlierStack(e: TwinEstate): (before: string, after: string) => boolean {
  const layers = new Map((e.input.stacks ?? []).map((s) => [s.name, s.layer]));
  const stackOf = (urn: string) => /^urn:pulumi:([^:]+)::/.exec(urn)?.[1] ?? "";
  return (before, after) => {
    const a = stackOf(before);
    const b = stackOf(after);
    return a !== b && layers.get(a) === "platform" && layers.get(b) === "shard";
  };
}

/** The URN of what applies an object: the program's resource, or the release rendering it (a bundled object: its objects release). */
const applier = (o: KObject) => (o.origin === "program" ? o.source : o.release);

/**
 * Helm's install order (pkg/releaseutil/kind_sorter.go `InstallOrder`, Helm 3.17): the rank of
 * a kind; kinds it does not list come after every listed one.
 */
export const HELM_INSTALL_ORDER = [
  "Namespace", "NetworkPolicy", "ResourceQuota", "LimitRange", "PodSecurityPolicy", "PodDisruptionBudget", "ServiceAccount", "Secret", "SecretList", "ConfigMap",
  "StorageClass", "PersistentVolume", "PersistentVolumeClaim", "CustomResourceDefinition", "ClusterRole", "ClusterRoleList", "ClusterRoleBinding", "ClusterRoleBindingList",
  "Role", "RoleList", "RoleBinding", "RoleBindingList", "Service", "DaemonSet", "Pod", "ReplicationController", "ReplicaSet", "Deployment", "HorizontalPodAutoscaler",
  "StatefulSet", "Job", "CronJob", "IngressClass", "Ingress", "APIService",
] as const;
export const helmInstallRank = (kind: string): number => {
  const i = (HELM_INSTALL_ORDER as readonly string[]).indexOf(kind);
  return i < 0 ? HELM_INSTALL_ORDER.length : i;
};

const crdBeforeCr: TwinCheck = {
  name: "crd-before-cr",
  family: "ordering",
  models: "the API server: a custom resource is refused until its CustomResourceDefinition is established",
  run(e) {
    const waits = waiter(e);
    const earlier = earlierStack(e);
    const crds = new Map<string, KObject[]>();
    for (const c of e.byKind.get("CustomResourceDefinition") ?? []) {
      const k = `${c.object.spec?.group}/${c.object.spec?.names?.kind}`;
      crds.set(k, [...(crds.get(k) ?? []), c]);
    }
    const out: TwinFinding[] = [];
    for (const o of e.objects) {
      if (o.origin === "values" || BUILT_IN.has(groupOf(o.apiVersion)) || o.kind === "CustomResourceDefinition") continue;
      const who = applier(o);
      if (!who) continue;
      const defs = crds.get(`${groupOf(o.apiVersion)}/${o.kind}`) ?? [];
      if (!defs.length) {
        out.push({ check: this.name, level: "error", objects: [ref(o)], message: `no release or manifest of the estate installs the CRD of ${o.kind} (${groupOf(o.apiVersion)}): the API server refuses it (no matches for kind)` });
        continue;
      }
      const installers = [...new Set(defs.map(applier).filter((u): u is string => !!u))];
      const sameBundle = o.bundle ? defs.find((d) => d.bundle && d.release === o.release) : undefined;
      if (sameBundle) {
        out.push({ check: this.name, level: "error", objects: [ref(o), ref(sameBundle)], message: `its CRD is an object of the same objects release: Helm creates the CRD (rank ${helmInstallRank("CustomResourceDefinition")} of its install order) and then ${o.kind} (rank ${helmInstallRank(o.kind)}) in one pass without waiting for the CRD to be established: on a fresh cluster it is refused (no matches for kind ${o.kind}); keep CRDs out of the bundle` });
        continue;
      }
      if (installers.includes(who)) continue; // the same release installs both (Helm applies a chart's crds/ first and waits for them)
      if (!installers.some((u) => earlier(u, who) || waits(who, u)))
        out.push({ check: this.name, level: "error", objects: [ref(o), ...installers.map((u) => u.split("::").pop()!)], message: `is applied without waiting for ${installers.map((u) => u.split("::").pop()).join(" or ")}, which installs its CRD: on a fresh cluster it is refused (no matches for kind ${o.kind})` });
    }
    return out;
  },
};

const webhookBefore: TwinCheck = {
  name: "webhook-before-object",
  family: "ordering",
  models: "admission webhooks with failurePolicy Fail: an object they match is refused while the webhook's pods are not serving",
  run(e) {
    const waits = waiter(e);
    const earlier = earlierStack(e);
    const hooks: Array<{ installer: string; name: string; rules: Array<{ apiGroups?: string[]; resources?: string[] }>; fail: boolean }> = [];
    for (const kind of ["ValidatingWebhookConfiguration", "MutatingWebhookConfiguration"])
      for (const h of e.byKind.get(kind) ?? []) {
        const installer = applier(h);
        if (!installer) continue;
        for (const w of (h.object.webhooks ?? []) as any[]) hooks.push({ installer, name: `${h.name}/${w.name}`, rules: w.rules ?? [], fail: (w.failurePolicy ?? "Fail") === "Fail" });
      }
    const out: TwinFinding[] = [];
    // the program's objects, and the bundles' (applied by their objects release)
    for (const o of e.objects.filter((x) => x.origin === "program" || x.bundle)) {
      const who = applier(o)!;
      const g = groupOf(o.apiVersion);
      const res = plural(o.kind);
      for (const h of hooks) {
        if (!h.fail || h.installer === who) continue;
        const match = h.rules.some((r) => (r.apiGroups ?? []).some((x) => x === "*" || x === g) && (r.resources ?? []).some((x) => x === "*" || x === "*/*" || x === res || x.split("/")[0] === res));
        if (match && !earlier(h.installer, who) && !waits(who, h.installer))
          out.push({ check: this.name, level: "error", objects: [ref(o), h.installer.split("::").pop()!], message: `is applied without waiting for ${h.installer.split("::").pop()}, whose webhook ${h.name} admits it: on a fresh cluster it is refused (failed calling webhook)` });
      }
    }
    return out;
  },
};

export const ORDERING_CHECKS: TwinCheck[] = [crdBeforeCr, webhookBefore];

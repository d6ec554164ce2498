/**
 * Day-to-day operations (issue 12) on the real prod stack and on the pure builders:
 * spread schedules, the alerting and mail settings in the plan, budgets and HA, upgrade waves,
 * organisation admins (their sync script run against a fake Nextcloud provisioning API), and
 * the config keys' validation. Expected values come from the issue and the prod config, with
 * the reasoning beside them.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import * as os from "node:os";
import * as path from "node:path";
import { stringify } from "yaml";
import { beforeAll, describe, expect, it } from "vitest";
import { configProblems, parseEstate } from "../components/estate";
import { REPO_ROOT, evaluateStack, isSecretMarker, readStackConfig, secretAwareInputs, stackConfigFile, type Evaluation, type RecordedResource } from "../scripts/harness";
import { checkPolicies } from "../scripts/check-policies";
import { attribution } from "../components/attribution";
import { k8upSchedules, baseBackupSchedule, parseWindow, slotOf, stableHash } from "../components/ops/schedules";
import { ORG_ADMINS_SCRIPT, adminGrants } from "../components/ops/org-admins";
import { CANARY, CHARTS, IMAGES, chartPin, imagePin } from "../components/versions";
import { compareVersions } from "../policies/channel-order";
import { PrometheusRule, ServiceMonitor } from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1";
import { PodDisruptionBudget } from "kubernetes-models/policy/v1";
import { CronJob } from "kubernetes-models/batch/v1";
import { DaemonSet } from "kubernetes-models/apps/v1";
import { ClusterRole, ClusterRoleBinding, Role, RoleBinding } from "kubernetes-models/rbac.authorization.k8s.io/v1";

const prodRaw = () => structuredClone(readStackConfig(stackConfigFile("prod"))) as any;
const devRaw = () => structuredClone(readStackConfig(stackConfigFile("dev"))) as any;

/** Minute of the day of a cron line's first minute/hour fields (k8up: 5 fields, CNPG: 6 with seconds first). */
function cronMinute(cron: string): number {
  const f = cron.trim().split(/\s+/);
  const [m, h] = f.length === 6 ? [f[1], f[2]] : [f[0], f[1]];
  return Number(h) * 60 + Number(m);
}
const inWindow = (minute: number, window: string) => {
  const { start, length } = parseWindow(window);
  return (minute - start + 1440) % 1440 < length;
};

describe("spread schedules (pure)", () => {
  it("hash with FNV-1a 32: the published test vectors", () => {
    // FNV-1a reference values (Fowler/Noll/Vo test suite): "" → 0x811c9dc5, "a" → 0xe40c292c, "foobar" → 0xbf9cf968.
    expect(stableHash("")).toBe(0x811c9dc5);
    expect(stableHash("a")).toBe(0xe40c292c);
    expect(stableHash("foobar")).toBe(0xbf9cf968);
  });

  it("stay inside their windows, including one that wraps past midnight", () => {
    for (const slug of ["acme", "fcso-occitanie", "mutualise", "z"]) {
      expect(inWindow(slotOf(slug, "01:00-05:00").minuteOfDay, "01:00-05:00")).toBe(true);
      expect(inWindow(slotOf(slug, "23:00-01:00").minuteOfDay, "23:00-01:00")).toBe(true);
    }
    expect(() => parseWindow("01:00-01:00")).toThrow(/differ/);
  });

  it("depend on the slug only (not on other tenants or positions) and separate job kinds", () => {
    const a = k8upSchedules("acme");
    expect(k8upSchedules("acme")).toEqual(a);
    expect(a.prune.endsWith(" * * 0")).toBe(true); // weekly, Sunday by default
    expect(baseBackupSchedule("acme/nextcloud")).toMatch(/^0 \d+ \d+ \* \* \*$/);
    expect(baseBackupSchedule("acme/nextcloud")).not.toBe(baseBackupSchedule("acme/synapse"));
  });
});

describe("upgrade waves (pure)", () => {
  it("no canary pin is older than its stable pin (a stable bump past canary would skip the wave)", () => {
    for (const [name, pin] of Object.entries(CANARY.charts)) {
      expect(pin!.chart, name).toBe(CHARTS[name as keyof typeof CHARTS].chart);
      expect(compareVersions(pin!.version, CHARTS[name as keyof typeof CHARTS].version), name).toBeGreaterThanOrEqual(0);
    }
    for (const [name, pin] of Object.entries(CANARY.images)) {
      expect(pin!.repository, name).toBe(IMAGES[name as keyof typeof IMAGES].repository);
      expect(compareVersions(pin!.tag, IMAGES[name as keyof typeof IMAGES].tag), name).toBeGreaterThanOrEqual(0);
    }
    // The comparison this relies on can fail: matrix-stack's old pin is older than its new one.
    expect(compareVersions("25.10.2", "26.8.1")).toBeLessThan(0);
    expect(compareVersions("1.10.8", "1.10.3")).toBeGreaterThan(0);
  });
});

describe("the prod plan", () => {
  let ev: Evaluation;
  let rs: RecordedResource[];
  const of = (type: string) => rs.filter((r) => r.type === type);
  const named = (type: string, name: string) => of(type).find((r) => r.name === name)!;
  beforeAll(async () => {
    ev = await evaluateStack({ stack: "prod" });
    rs = ev.resources;
  }, 240_000);

  it("spreads every k8up backup over 01:00-05:00 and every base backup over 00:30-03:30 (no more one-o'clock rush)", () => {
    const schedules = of("kubernetes:k8up.io/v1:Schedule").map((r) => (r.inputs as any).spec);
    const bases = of("kubernetes:postgresql.cnpg.io/v1:ScheduledBackup").map((r) => (r.inputs as any).spec.schedule as string);
    expect(schedules.length).toBeGreaterThan(30);
    expect(bases.length).toBeGreaterThan(90);
    for (const s of schedules) {
      expect(inWindow(cronMinute(s.backup.schedule), "01:00-05:00")).toBe(true);
      expect(inWindow(cronMinute(s.prune.schedule), "04:00-07:00")).toBe(true);
    }
    for (const b of bases) expect(inWindow(cronMinute(b), "00:30-03:30")).toBe(true);
    // 34 jobs hashed over 240 minutes: mostly distinct starts, never a pile-up in one quarter hour
    // (uniform spread gives ~2 per 15 minutes; 8 would be a clustering bug).
    const starts = schedules.map((s) => cronMinute(s.backup.schedule));
    expect(new Set(starts).size).toBeGreaterThan(starts.length * 0.7);
    const perQuarter = new Map<number, number>();
    for (const m of [...starts, ...bases.map(cronMinute)]) perQuarter.set(Math.floor(m / 15), (perQuarter.get(Math.floor(m / 15)) ?? 0) + 1);
    expect(Math.max(...perQuarter.values())).toBeLessThan(16); // 128 jobs over ~17 quarters: ~8 on average
  });

  it("contains the alert rules: every alert of the issue in the estate's one PrometheusRule, the organisations' pool alert included", () => {
    const rules = of("kubernetes:monitoring.coreos.com/v1:PrometheusRule");
    // One PrometheusRule, in monitoring: no bundle declares its own (adding an organisation touches no rule).
    expect(rules.map((r) => `${(r.inputs as any).metadata.namespace}/${(r.inputs as any).metadata.name}`)).toEqual(["monitoring/liiibre-alerts"]);
    const alerts = rules.flatMap((r) => ((r.inputs as any).spec.groups as Array<{ rules: Array<{ alert: string; expr: string; labels: Record<string, string> }> }>).flatMap((g) => g.rules));
    for (const a of [
      "LiiibreVolumeBackupFailed", "LiiibreVolumeBackupMissing", "LiiibreWalArchivingFailing", "LiiibreWalArchivingLagging",
      "LiiibreBaseBackupTooOld", "LiiibreReplicationFailing", "LiiibreReplicationLagging", "LiiibreHelsinkiDown",
      "LiiibreHelsinkiDiskFull", "LiiibreCertificateExpiring", "LiiibreVolumeFull", "LiiibreNodeNotReady", "LiiibrePodCrashLooping",
      "LiiibreStoragePoolFull",
    ]) expect(alerts.map((x) => x.alert)).toContain(a);
    const pool = alerts.filter((a) => a.alert === "LiiibreStoragePoolFull");
    expect(pool).toHaveLength(1);
    for (const t of ev.estate.tenants) expect(pool[0].expr).not.toContain(t.slug);
    // Its bucket → organisation mapping, applied to every primary bucket of the plan (those with a
    // quota; twins have none), gives the bundle the attribution module gives (by ancestry, not name).
    const m = pool[0].expr.match(/bucket=~"([^"]+)"/)!;
    const re = new RegExp(`^${m[1]}$`);
    const views = new Map(rs.map((r) => [r.urn, { urn: r.urn, type: r.type, parent: r.parent, props: r.inputs }]));
    const attr = attribution([...views.values()], (v) => (v.parent ? views.get(v.parent) : undefined));
    const owner = { bundleOf: (r: RecordedResource) => attr.bundleOf(views.get(r.urn)!) };
    const primary = of("minio:index/s3Bucket:S3Bucket").filter((b) => (b.inputs as any).quota);
    expect(primary.length).toBeGreaterThan(ev.estate.tenants.filter((t) => t.plan === "dedicated").length);
    for (const b of primary) expect([(b.inputs as any).bucket, (b.inputs as any).bucket.match(re)?.[1]]).toEqual([(b.inputs as any).bucket, owner.bundleOf(b)]);
    expect(new Set(primary.map((b) => owner.bundleOf(b)))).toContain("mutualise");
    // Decommissioned organisations are silenced through their namespace's state label, which
    // kube-state-metrics is allowed to export (the rule reads label_liiibre_org_state).
    expect(pool[0].expr).toContain('unless on (tenant) label_replace(kube_namespace_labels{label_liiibre_org_state="decommissioned"}');
    const kps = named("kubernetes:helm.sh/v3:Release", "kube-prometheus-stack").inputs as any;
    expect(kps.values["kube-state-metrics"].metricLabelsAllowlist).toEqual(["namespaces=[liiibre.org/tenant,liiibre.org/state]"]);
    const nsState = new Map(of("kubernetes:core/v1:Namespace").map((n) => [(n.inputs as any).metadata.name, (n.inputs as any).metadata.labels?.["liiibre.org/state"]]));
    for (const t of ev.estate.tenants.filter((x) => x.plan === "dedicated")) expect([t.slug, nsState.get(t.slug)]).toEqual([t.slug, t.state]);
    expect(ev.estate.tenants.some((t) => t.plan === "dedicated" && t.state === "decommissioned")).toBe(true);
  });

  it("routes alerts by severity: critical to e-mail (through the relay) and the Matrix webhook, warning to the webhook", () => {
    const kps = named("kubernetes:helm.sh/v3:Release", "kube-prometheus-stack").inputs as any;
    const am = kps.values.alertmanager.config;
    expect(am.global.smtp_smarthost).toBe("relay.liiibre.coop:587");
    expect(am.global.smtp_auth_password_file).toMatch(/^\/etc\/alertmanager\/secrets\/alertmanager-smtp\//);
    expect(JSON.stringify(am)).not.toContain("MOCKSECRET"); // no password in the values
    const receivers = Object.fromEntries((am.receivers as any[]).map((r) => [r.name, r]));
    expect(receivers.critical.email_configs[0].to).toBe("ops@liiibre.coop");
    expect(receivers.critical.webhook_configs[0].url).toBe("https://alerts-matrix.liiibre.coop/alerts/astreinte");
    expect(receivers.warning.email_configs).toBeUndefined();
    expect(am.route.routes.map((r: any) => [r.matchers[0], r.receiver])).toEqual([
      ['alertname = "Watchdog"', "null"],
      ['severity = "critical"', "critical"],
      ['severity = "warning"', "warning"],
    ]);
    expect(kps.values.alertmanager.alertmanagerSpec.secrets).toEqual(["alertmanager-smtp"]);
    const smtp = of("kubernetes:core/v1:Secret").find((r) => (r.inputs as any).metadata.name === "alertmanager-smtp")!;
    expect((smtp.inputs as any).stringData).toBe("[secret]");
  });

  it("wires the relay into Keycloak, Nextcloud and Synapse, with the password only in secrets", () => {
    const realm = of("keycloak:index/realm:Realm")[0];
    // The smtpServer input holds the password, so the whole input is secret (redacted in the plan).
    expect((realm.inputs as any).smtpServer).toBe("[secret]");
    const raw = secretAwareInputs(realm).smtpServer;
    const smtp = (isSecretMarker(raw) ? raw.value : raw) as any;
    expect(smtp).toMatchObject({ host: "relay.liiibre.coop", port: "587", from: "comptes@liiibre.coop", starttls: true, ssl: false });
    expect(smtp.auth).toEqual({ username: "liiibre-transactional", password: expect.stringContaining("MOCKSECRET") }); // the harness's fake liiibre:mailPassword
    const nc = of("kubernetes:helm.sh/v3:Release").filter((r) => (r.inputs as any).chart === "nextcloud");
    expect(nc.length).toBeGreaterThan(20);
    for (const r of nc) {
      const v = (r.inputs as any).values.nextcloud;
      expect(v.mail).toEqual({ enabled: true, fromAddress: "notifications", domain: "liiibre.coop", smtp: { secure: "", port: 587, authtype: "LOGIN" } });
      expect(v.existingSecret.smtpHostKey).toBe("smtp-host");
    }
    const synapse = of("kubernetes:helm.sh/v3:Release").filter((r) => String((r.inputs as any).chart).endsWith("matrix-stack"));
    for (const r of synapse) expect((r.inputs as any).values.synapse.additional["30-liiibre-mail.yaml"]).toEqual({ configSecret: "synapse-liiibre", configSecretKey: "mail.yaml" });
  });

  it("passes the pack's mail-relay and channel-order policies with the prod pack config", async () => {
    const packConfig = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, "policies", "prod.json"), "utf8"));
    const v = (await checkPolicies(ev, { config: packConfig })).filter((x) => x.policy === "mail-relay" || x.policy === "channel-order");
    expect(v).toEqual([]);
  });

  it("has budgets and spread for the shared services, and 2 database instances where ha applies", () => {
    const pdbs = of("kubernetes:policy/v1:PodDisruptionBudget").map((r) => `${(r.inputs as any).metadata.namespace}/${(r.inputs as any).metadata.name}`);
    expect(pdbs).toEqual(expect.arrayContaining(["jitsi/jitsi-web", "jitsi/jitsi-keycloak-adapter", "mutualise/element-web", "fcso-occitanie/element-web"]));
    expect(pdbs).not.toContain("smevl/element-web"); // 260 users, not ha: one replica, no budget (it would block drains)
    const kc = of("kubernetes:helm.sh/v3:Release").find((r) => (r.inputs as any).name === "keycloak")!.inputs as any;
    expect(kc.values.replicas).toBe(2);
    expect(kc.values.podDisruptionBudget).toEqual({ minAvailable: 1 });
    const kps = named("kubernetes:helm.sh/v3:Release", "kube-prometheus-stack").inputs as any;
    expect(kps.values.prometheus.prometheusSpec.replicas).toBe(2); // the monitoring pool has 2 nodes
    expect(kps.values.prometheus.podDisruptionBudget.enabled).toBe(true);
    expect(kps.values.alertmanager.alertmanagerSpec.podAntiAffinity).toBe("hard");
    const pg = (ns: string) => of("kubernetes:postgresql.cnpg.io/v1:Cluster").filter((r) => (r.inputs as any).metadata.namespace === ns).map((r) => (r.inputs as any).spec);
    // fcso-occitanie: 2100 users > haAboveUsers 500; smevl: 260; the shared instance: always.
    for (const s of pg("fcso-occitanie")) expect([s.instances, s.enablePDB, s.affinity.podAntiAffinityType]).toEqual([2, true, "required"]);
    for (const s of pg("mutualise")) expect(s.instances).toBe(2);
    for (const s of pg("smevl")) expect([s.instances, s.enablePDB]).toEqual([1, false]);
  });

  it("gives the canary organisation the canary pins and a stable one the stable pins", () => {
    const image = (ns: string) => {
      const d = of("kubernetes:apps/v1:Deployment").find((r) => (r.inputs as any).metadata.namespace === ns && (r.inputs as any).metadata.name === "hedgedoc")!;
      return (d.inputs as any).spec.template.spec.containers[0].image as string;
    };
    const canary = ev.estate.tenants.filter((t) => t.channel === "canary").map((t) => t.slug);
    expect(canary).toEqual(["terres-partagees"]);
    expect(CANARY.images.hedgedoc!.tag).not.toBe(IMAGES.hedgedoc.tag); // a wave is in progress
    expect(image("terres-partagees")).toBe(`quay.io/hedgedoc/hedgedoc:${CANARY.images.hedgedoc!.tag}`);
    expect(image("fcso-occitanie")).toBe(`${IMAGES.hedgedoc.repository}:${IMAGES.hedgedoc.tag}`);
    const ns = (slug: string) => of("kubernetes:core/v1:Namespace").find((r) => (r.inputs as any).metadata.name === slug)!.inputs as any;
    expect(ns("terres-partagees").metadata.labels["liiibre.org/channel"]).toBe("canary");
    expect(ns("fcso-occitanie").metadata.labels["liiibre.org/channel"]).toBe("stable");
    // Charts with no canary pin: both waves on the stable pin.
    expect(chartPin("nextcloud", "canary")).toEqual(chartPin("nextcloud", "stable"));
    expect(imagePin("redis", "canary")).toEqual(IMAGES.redis);
  });

  it("declares kured pinned, inside the configured reboot window, holding reboots while alerts fire", () => {
    // No chart any more (kubereboot/charts is not in the offline cache): the program's own DaemonSet.
    expect(of("kubernetes:helm.sh/v3:Release").filter((r) => /kured/.test(String(r.inputs.chart)))).toEqual([]);
    const ds = named("kubernetes:apps/v1:DaemonSet", "platform-reboots-daemonset").inputs as any;
    const c = ds.spec.template.spec.containers[0];
    // kured 1.23.0 (issue 12), from the one pin in versions.ts.
    expect(c.image).toBe("ghcr.io/kubereboot/kured:1.23.0");
    expect(c.image).toBe(`${IMAGES.kured.repository}:${IMAGES.kured.tag}`);
    const flag = (n: string) => {
      const found = (c.command as string[]).filter((a) => a.startsWith(`--${n}=`));
      expect(found, n).toHaveLength(1);
      return found[0].slice(n.length + 3);
    };
    // Pulumi.prod.yaml: reboots on Monday to Thursday, 03:00-06:00 UTC; one node at a time, never forced.
    expect([flag("reboot-days"), flag("start-time"), flag("end-time"), flag("time-zone")]).toEqual(["mo,tu,we,th", "03:00", "06:00", "UTC"]);
    expect([flag("concurrency"), flag("force-reboot")]).toEqual(["1", "false"]);
    expect(flag("prometheus-url")).toMatch(/^http:\/\/kube-prometheus-stack-prometheus\.monitoring\.svc:9090$/);
    // Blocks only on critical alerts (a node down, backups broken), not on warnings like a full pool.
    const re = new RegExp(flag("alert-filter-regexp"));
    expect([flag("alert-filter-match-only"), flag("alert-firing-only")]).toEqual(["true", "true"]);
    expect(re.test("LiiibreNodeNotReady")).toBe(true);
    expect(re.test("LiiibreHelsinkiDown")).toBe(true);
    expect(re.test("LiiibreStoragePoolFull")).toBe(false);
    expect(re.test("LiiibreNodeNotReadyX")).toBe(false);
    // The lock is an annotation on kured's own DaemonSet: the flags must name it.
    expect([flag("ds-name"), flag("ds-namespace")]).toEqual([ds.metadata.name, ds.metadata.namespace]);
    // The sentinel unattended-upgrades writes (/var/run/reboot-required) as the container sees it.
    const vol = ds.spec.template.spec.volumes.find((v: any) => v.hostPath);
    const mount = c.volumeMounts.find((m: any) => m.name === vol.name);
    expect(vol.hostPath.path).toBe("/var/run");
    expect(flag("reboot-sentinel")).toBe(`${mount.mountPath}/reboot-required`);
  });

  it("runs kured on every node, privileged in a privileged namespace, with only the rights it needs", () => {
    const ds = named("kubernetes:apps/v1:DaemonSet", "platform-reboots-daemonset").inputs as any;
    const pod = ds.spec.template.spec;
    // Tainted pools (storage, ingress, media, controllers) too: a toleration of every taint.
    expect(pod.tolerations).toContainEqual({ operator: "Exists" });
    // It enters PID 1's mount namespace to reboot: hostPID and a privileged container.
    expect(pod.hostPID).toBe(true);
    expect(pod.containers[0].securityContext.privileged).toBe(true);
    // Pod Security "baseline" forbids hostPID, privileged containers and hostPath volumes: only "privileged" admits the pod.
    const ns = of("kubernetes:core/v1:Namespace").find((r) => (r.inputs as any).metadata.name === ds.metadata.namespace)!.inputs as any;
    expect(ns.metadata.labels["pod-security.kubernetes.io/enforce"]).toBe("privileged");
    // No other workload shares that namespace.
    const workloads = rs.filter((r) => /apps\/v1:(Deployment|StatefulSet|DaemonSet)$|batch\/v1:(Job|CronJob)$/.test(r.type) && (r.inputs as any).metadata?.namespace === ds.metadata.namespace);
    expect(workloads.map((r) => r.name)).toEqual(["platform-reboots-daemonset"]);

    // RBAC, evaluated: a rule grants (group, resource, verb[, name]) when every field matches.
    type Rule = { apiGroups: string[]; resources: string[]; verbs: string[]; resourceNames?: string[] };
    const allows = (rules: Rule[], group: string, resource: string, verb: string, name?: string) =>
      rules.some((r) => r.apiGroups.includes(group) && r.resources.includes(resource) && r.verbs.includes(verb) && (!r.resourceNames || (name !== undefined && r.resourceNames.includes(name))));
    const sa = pod.serviceAccountName;
    const bound = (type: string) =>
      of(type).filter((r) => (r.inputs as any).subjects.some((s: any) => s.kind === "ServiceAccount" && s.name === sa && s.namespace === ds.metadata.namespace)).map((r) => (r.inputs as any).roleRef.name);
    const clusterRules = of("kubernetes:rbac.authorization.k8s.io/v1:ClusterRole").filter((r) => bound("kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding").includes((r.inputs as any).metadata.name)).flatMap((r) => (r.inputs as any).rules);
    const nsRules = of("kubernetes:rbac.authorization.k8s.io/v1:Role").filter((r) => (r.inputs as any).metadata.namespace === ds.metadata.namespace && bound("kubernetes:rbac.authorization.k8s.io/v1:RoleBinding").includes((r.inputs as any).metadata.name)).flatMap((r) => (r.inputs as any).rules);
    // Cordon/uncordon, drain through evictions (budgets hold)…
    expect(allows(clusterRules, "", "nodes", "patch")).toBe(true);
    expect(allows(clusterRules, "", "pods", "list")).toBe(true);
    expect(allows(clusterRules, "", "pods/eviction", "create")).toBe(true);
    // …never a plain delete (that would bypass PodDisruptionBudgets), no Secrets.
    expect(allows(clusterRules, "", "pods", "delete")).toBe(false);
    expect(allows(clusterRules, "", "secrets", "get")).toBe(false);
    // The lock: update of its own DaemonSet in its namespace only.
    expect(allows(nsRules, "apps", "daemonsets", "update", ds.metadata.name)).toBe(true);
    expect(allows(nsRules, "apps", "daemonsets", "update", "other")).toBe(false);
    expect(allows(clusterRules, "apps", "daemonsets", "update", ds.metadata.name)).toBe(false);
  });

  it("declares objects valid for their upstream schemas (prometheus-operator CRDs, PodDisruptionBudget, CronJob, kured's DaemonSet and RBAC)", () => {
    const check = (type: string, make: (o: any) => { validate(): void }) => {
      const found = of(type);
      expect(found.length, type).toBeGreaterThan(0);
      for (const r of found) expect(() => make(r.inputs).validate(), r.urn).not.toThrow();
    };
    check("kubernetes:monitoring.coreos.com/v1:PrometheusRule", (o) => new PrometheusRule(o));
    check("kubernetes:monitoring.coreos.com/v1:ServiceMonitor", (o) => new ServiceMonitor(o));
    check("kubernetes:policy/v1:PodDisruptionBudget", (o) => new PodDisruptionBudget(o));
    check("kubernetes:batch/v1:CronJob", (o) => new CronJob(o));
    check("kubernetes:apps/v1:DaemonSet", (o) => new DaemonSet(o));
    check("kubernetes:rbac.authorization.k8s.io/v1:ClusterRole", (o) => new ClusterRole(o));
    check("kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding", (o) => new ClusterRoleBinding(o));
    check("kubernetes:rbac.authorization.k8s.io/v1:Role", (o) => new Role(o));
    check("kubernetes:rbac.authorization.k8s.io/v1:RoleBinding", (o) => new RoleBinding(o));
    // …and can fail: a DaemonSet without its pod selector is refused.
    const noSelector = structuredClone(named("kubernetes:apps/v1:DaemonSet", "platform-reboots-daemonset").inputs) as any;
    delete noSelector.spec.selector;
    expect(() => new DaemonSet(noSelector).validate()).toThrow();
    // The check can fail: a rule without its expression is refused.
    const bad = structuredClone(of("kubernetes:monitoring.coreos.com/v1:PrometheusRule")[0].inputs) as any;
    delete bad.spec.groups[0].rules[0].expr;
    expect(() => new PrometheusRule(bad).validate()).toThrow();
    const dashboards = of("kubernetes:core/v1:ConfigMap").filter((r) => (r.inputs as any).metadata.labels?.grafana_dashboard === "1");
    expect(dashboards.map((r) => (r.inputs as any).metadata.name).sort()).toEqual(["liiibre-backups", "liiibre-errors", "liiibre-storage"]);
    for (const d of dashboards) {
      const [json] = Object.values((d.inputs as any).data as Record<string, string>);
      const model = JSON.parse(json);
      expect(model.panels.length).toBeGreaterThan(2);
      for (const p of model.panels) for (const t of p.targets) expect(t.expr.length).toBeGreaterThan(0);
    }
  });

  it("creates each organisation's admins group in Keycloak", () => {
    const groups = of("keycloak:index/group:Group").map((r) => (r.inputs as any).name as string);
    for (const t of ev.estate.tenants) expect(groups).toContain(`admins-${t.slug}`);
    const cron = of("kubernetes:batch/v1:CronJob").filter((r) => (r.inputs as any).metadata.name === "nextcloud-org-admins");
    expect(cron.length).toBe(of("kubernetes:helm.sh/v3:Release").filter((r) => (r.inputs as any).chart === "nextcloud").length);
  });
});

describe("organisation admins sync (run with python3 against a fake Nextcloud OCS API)", () => {
  it("makes members of admins-<slug> group admins of org-<slug>, and instance admins on a dedicated Nextcloud", async () => {
    const calls: string[] = [];
    const groups: Record<string, string[]> = { "admins-acme": ["alice"], "admins-calm": [], "admins-solo": ["bob"] };
    const server = http.createServer((req, res) => {
      let body = "";
      req.on("data", (c) => (body += c));
      req.on("end", () => {
        const u = new URL(req.url!, "http://x");
        calls.push(`${req.method} ${u.pathname} ${body} host=${req.headers.host} ocs=${req.headers["ocs-apirequest"]} auth=${req.headers.authorization}`);
        const m = /^\/ocs\/v2\.php\/cloud\/groups\/([^/]+)\/users$/.exec(u.pathname);
        res.setHeader("content-type", "application/json");
        if (m) {
          const g = decodeURIComponent(m[1]);
          if (!(g in groups)) res.writeHead(404).end('{"ocs":{"meta":{"statuscode":404}}}');
          else res.end(JSON.stringify({ ocs: { meta: { statuscode: 200 }, data: { users: groups[g] } } }));
          return;
        }
        res.end(JSON.stringify({ ocs: { meta: { statuscode: 200 }, data: [] } }));
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    const port = (server.address() as { port: number }).port;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "org-admins-"));
    fs.writeFileSync(path.join(dir, "sync.py"), ORG_ADMINS_SCRIPT);
    const run = (grants: unknown) =>
      new Promise<{ status: number | null; stdout: string }>((resolve) => {
        const env = { PATH: process.env.PATH, NC_URL: `http://127.0.0.1:${port}`, NC_HOST: "cloud.example.org", NC_USER: "admin", NC_PASSWORD: "pw", GRANTS: JSON.stringify(grants) };
        const p = require("node:child_process").spawn("python3", [path.join(dir, "sync.py")], { env });
        let stdout = "";
        p.stdout.on("data", (d: Buffer) => (stdout += d));
        p.on("close", (status: number | null) => resolve({ status, stdout }));
      });
    try {
      // Shared instance: acme and calm (no admin yet); a missing group (404) is no error.
      const shared = await run([...adminGrants("mutualise", ["calm", "acme"]), { admins: "admins-gone", subadminOf: "org-gone", instanceAdmin: false }]);
      expect(shared.status).toBe(0);
      const auth = `Basic ${Buffer.from("admin:pw").toString("base64")}`;
      expect(calls).toContain(`POST /ocs/v2.php/cloud/users/alice/subadmins groupid=org-acme host=cloud.example.org ocs=true auth=${auth}`);
      expect(calls.filter((c) => c.includes("/users/alice/groups"))).toEqual([]); // never instance admin on the shared instance
      calls.length = 0;
      const dedicated = await run(adminGrants("solo", undefined));
      expect(dedicated.status).toBe(0);
      expect(calls.filter((c) => c.startsWith("POST")).map((c) => c.split(" host=")[0])).toEqual([
        "POST /ocs/v2.php/cloud/users/bob/subadmins groupid=org-solo",
        "POST /ocs/v2.php/cloud/users/bob/groups groupid=admin",
      ]);
    } finally {
      server.close();
    }
  });
});

describe("config keys of issue 12", () => {
  it("validate with the key path (exit 2 through the plan)", () => {
    const cases: Array<[(c: any) => void, string]> = [
      [(c) => (c.backup.windows = { volumeBackup: "25:00-03:00" }), "liiibre:backup.windows.volumeBackup: expected a UTC time window HH:MM-HH:MM"],
      [(c) => (c.tenants[0].channel = "beta"), "liiibre:tenants[0].channel: expected one of canary | stable"],
      [(c) => (c.monitoring = { alerting: { receivers: { webhook: { url: "https://hooks.example.org/x" } }, routes: { critical: ["email"] } } }), "liiibre:monitoring.alerting.routes.critical[0]: expected a receiver configured"],
      [(c) => (c.monitoring = { alerting: { receivers: { email: { to: ["ops@example.org"] } } } }), "liiibre:monitoring.alerting.receivers.email: expected the mail relay liiibre:mail"],
      [(c) => (c.mail = { host: "relay.example.org", tls: "ssl", user: "u", from: { default: "noreply@example.org" } }), "liiibre:mail.tls: expected one of starttls | tls | none"],
      [(c) => (c.operations = { reboots: { days: ["monday"] } }), "liiibre:operations.reboots.days[0]"],
      [(c) => (c.tenants[c.tenants.findIndex((t: any) => t.plan === "shared")].ha = true), "liiibre:tenants[%SHARED%].ha: expected no ha for plan \"shared\""],
    ];
    for (const [mutate, template] of cases) {
      const c = devRaw();
      const message = template.replace("%SHARED%", String(c.tenants.findIndex((t: any) => t.plan === "shared")));
      mutate(c);
      const p = configProblems(c);
      expect(p.some((x) => x.startsWith(message)), `${message}\n${p.join("\n")}`).toBe(true);
    }
    const c = devRaw();
    c.tenants[0].channel = "beta";
    const config: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(c)) config[`liiibre:${k}`] = v;
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "liiibre-ops-")), "Pulumi.broken.yaml");
    fs.writeFileSync(file, stringify({ config }));
    const r = spawnSync(path.join(REPO_ROOT, "node_modules", ".bin", "tsx"), ["scripts/plan.ts", "--config-file", file], { cwd: REPO_ROOT, encoding: "utf8" });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("liiibre:tenants[0].channel: expected one of canary | stable");
  });

  it("defaults: ha above operations.haAboveUsers, stable channel, windows, no routes to unconfigured receivers", () => {
    const e = parseEstate(prodRaw());
    const t = (slug: string) => e.tenants.find((x) => x.slug === slug)!;
    expect(t("fcso-occitanie").ha).toBe(true); // 2100 > 500
    expect(t("smevl").ha).toBe(false); // 260
    expect(t("smevl").channel).toBe("stable");
    const d = parseEstate(devRaw());
    expect(d.backup.windows).toEqual({ baseBackup: "00:30-03:30", volumeBackup: "01:00-05:00", prune: "04:00-07:00", pruneWeekday: 0 });
    expect(d.mail).toBeUndefined();
    expect(d.operations.haAboveUsers).toBe(500);
  });
});

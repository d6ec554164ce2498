/**
 * The stateless Nextcloud (components/apps/nextcloud-stateless.ts), checked with the real tools:
 * Debian's php-cli (`php -l`, and the generated config evaluated and merged the way Nextcloud's
 * lib/private/Config.php readData merges config files), `sh -n` and shellcheck on the scripts,
 * the gate against a real PostgreSQL (php-pgsql), real Helm on the pinned chart with the twin's
 * availability checks, and the config rules' errors. Outside CI a missing tool skips its tests
 * with a notice; in CI they fail (helpers/tools.ts).
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  GATE_PHP,
  NEXTCLOUD_POD_LABELS,
  PODS_PHP,
  POD_SH,
  PREPARE_SH,
  STATELESS,
  UPGRADE_SH,
  instanceConfigPhp,
  phpString,
  pinnedApps,
  stateTag,
  statelessConfigPhp,
  statelessNextcloudPods,
  upgradeJob,
} from "../components/apps/nextcloud-stateless";
import { nextcloudSetupScript, nextcloudValues } from "../components/apps/nextcloud";
import { CHARTS, IMAGES, NEXTCLOUD_APPS, chartPin } from "../components/versions";
import { configProblems } from "../components/estate";
import { PLATFORM_BASE_COST, STATELESS_NEXTCLOUD_COST, estimateStacks } from "../components/layers/cost";
import { withBundledObjects } from "./helpers/objects";
import { evaluate, isSecretMarker, readStackConfig, secretAwareInputs, stackConfigFile, type Evaluation } from "../scripts/harness";
import { renderPlan } from "../scripts/render/render";
import { devEstate, findings, input, res } from "./helpers/twin";
import { HELM, itWithHelm, releaseResource } from "./helpers/render";
import { itNeeding, onPath } from "./helpers/tools";

const run = (cmd: string, args: string[], o: { input?: string; env?: Record<string, string>; cwd?: string } = {}) => {
  const r = spawnSync(cmd, args, { encoding: "utf8", input: o.input, env: { ...process.env, ...o.env }, cwd: o.cwd, timeout: 60_000 });
  return { code: r.status ?? -1, out: `${r.stdout ?? ""}${r.stderr ?? ""}`, stdout: r.stdout ?? "" };
};
const runv = (argv: string[]) => run(argv[0], argv.slice(1));
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), "liiibre-nc-"));
const write = (dir: string, name: string, text: string) => {
  fs.writeFileSync(path.join(dir, name), text);
  return path.join(dir, name);
};

const itWithPhp = itNeeding("php-cli", onPath("php"), "apt-get install -y php-cli");
const itWithShellcheck = itNeeding("shellcheck", onPath("shellcheck"), "apt-get install -y shellcheck");

const s3 = { host: "s3.x.org", url: "https://s3.x.org", region: "eu" };
const oidc = { issuer: "https://auth.x.org/realms/x", clientId: "a-nextcloud", secretName: "nextcloud-liiibre", accessRole: "r", accessClaim: "c", groupWhitelist: ["org-a"] };
const ctx = (over: Record<string, unknown> = {}) =>
  ({ apps: ["nextcloud", "onlyoffice", "collabora"], domain: "a.org", namespace: "a", quotaPerUserGB: 10, oidc, groups: undefined, scim: false, users: 300, state: "active", s3, instances: 2, nextcloud: { stateless: true, secretsImported: true }, ...over }) as any;
const values = (c = ctx()) => nextcloudValues({ ctx: c, database: { host: "a-nextcloud-pg-rw.a.svc", port: 5432, appSecretName: "a-nextcloud-pg-app" }, bucket: "a-nextcloud", credentialsSecretName: "s3-credentials" });

describe("pins", () => {
  it("the image is the one the pinned chart names (`<appVersion>-apache`)", () => {
    const tgz = path.resolve(__dirname, "../../shared/charts", `nextcloud-${CHARTS.nextcloud.version}.tgz`);
    if (!fs.existsSync(tgz)) return; // no chart cache: the render tests below say so
    const chart = run("tar", ["-xzOf", tgz, "nextcloud/Chart.yaml"]).stdout;
    const appVersion = /^appVersion:\s*"?([^"\s]+)"?/m.exec(chart)?.[1];
    expect(IMAGES.nextcloud.tag).toBe(`${appVersion}-apache`);
  });
  it("every pinned app has an https release URL naming its version", () => {
    for (const [id, a] of Object.entries(NEXTCLOUD_APPS)) {
      expect(a.url).toMatch(/^https:\/\/github\.com\/[^/]+\/[^/]+\/releases\/download\//);
      expect(a.url, id).toContain(a.version);
    }
  });
  it("a bundle pins the apps its setup enables; the state changes with the image and with any app version", () => {
    expect(pinnedApps({ apps: ["nextcloud", "onlyoffice", "collabora"], oidc: true, scim: false, groups: true }).map((a) => a.id)).toEqual(["groupquota", "onlyoffice", "richdocuments", "user_oidc"]);
    expect(pinnedApps({ apps: ["nextcloud"], oidc: false, scim: true, groups: false }).map((a) => a.id)).toEqual(["scimserviceprovider"]);
    const apps = pinnedApps({ apps: ["nextcloud"], oidc: true, scim: false, groups: false });
    expect(stateTag(apps, "x/nextcloud:32.0.2-apache")).toBe(`32.0.2-apache+user_oidc@${NEXTCLOUD_APPS.user_oidc.version}`);
    expect(stateTag(apps, "x/nextcloud:32.0.3-apache")).not.toBe(stateTag(apps, "x/nextcloud:32.0.2-apache"));
    expect(stateTag([{ ...apps[0], version: "0.0.1" }])).not.toBe(stateTag(apps));
  });
});

describe("chart values", () => {
  it("stateless: no volume, two replicas spread over nodes, Recreate, the pinned image, the init container, no start hook", () => {
    const v = values() as any;
    expect(v.persistence).toEqual({ enabled: false });
    expect(v.replicaCount).toBe(2);
    expect(v.nextcloud.strategy).toEqual({ type: "Recreate" });
    expect(v.nextcloud.hooks).toBeUndefined();
    expect(`${v.image.registry}/${v.image.repository}:${v.image.tag}`).toBe(`${IMAGES.nextcloud.repository}:${IMAGES.nextcloud.tag}`);
    expect(v.topologySpreadConstraints[0]).toMatchObject({ topologyKey: "kubernetes.io/hostname", whenUnsatisfiable: "DoNotSchedule", labelSelector: { matchLabels: NEXTCLOUD_POD_LABELS } });
    const [init] = v.nextcloud.extraInitContainers;
    expect(init.image).toBe(`${IMAGES.nextcloud.repository}:${IMAGES.nextcloud.tag}`);
    expect(init.securityContext).toMatchObject({ runAsUser: 33, runAsNonRoot: true });
    const env = Object.fromEntries(init.env.map((e: any) => [e.name, e.value ?? e.valueFrom]));
    expect(env.OBJECTSTORE_S3_BUCKET).toBe("a-nextcloud");
    expect(env.POSTGRES_PASSWORD).toEqual({ secretKeyRef: { name: "a-nextcloud-pg-app", key: "password" } });
    expect(env.LIIIBRE_STATE).toBe(stateTag(pinnedApps({ apps: ["nextcloud", "onlyoffice", "collabora"], oidc: true, scim: false, groups: false })));
    expect(Object.keys(v.nextcloud.configs).sort()).toEqual(["onlyoffice.config.php", STATELESS.configFile]);
    // No secret in the values: the instance values come from a Secret volume.
    expect(JSON.stringify(v)).not.toMatch(/passwordsalt'|'secret' =>/);
  });
  it("volume mode (no `nextcloud` settings, or stateless false) is what it was: one replica, the chart volume, the hook", () => {
    for (const c of [ctx({ nextcloud: undefined }), ctx({ nextcloud: { stateless: false, secretsImported: false } })]) {
      const v = values(c) as any;
      expect(v.replicaCount).toBe(1);
      expect(v.persistence.enabled).toBe(true);
      expect(v.nextcloud.hooks["before-starting"]).toContain("occ config:system:set overwriteprotocol");
      expect(v.nextcloud.extraInitContainers).toBeUndefined();
    }
  });
  it("suspended: no replica (and no budget: budgets exist from two replicas)", () => {
    expect((values(ctx({ state: "suspended" })) as any).replicaCount).toBe(0);
  });
  it("the stateless setup script installs nothing and writes no system config (config is read-only)", () => {
    const s = nextcloudSetupScript(ctx(), { stateless: true });
    expect(s).not.toMatch(/app:install|config:system:set/);
    expect(s).toContain('app() { occ app:enable "$1"; }');
  });
  it("the upgrade Job: never retried, its own memory-only config directory, the pod label the API policy selects", () => {
    const j = upgradeJob({ namespace: "a", labels: { x: "y" }, apps: [], env: [], resources: { requests: { cpu: "1", memory: "1Gi" }, limits: { cpu: "2", memory: "2Gi" } }, hash: "0123456789" });
    expect(j.metadata.name).toBe("nextcloud-upgrade-0123456789");
    expect(j.spec.backoffLimit).toBe(0);
    const t = j.spec.template as any;
    expect(t.metadata.labels).toMatchObject(STATELESS.apiLabel);
    expect(t.spec.volumes.find((v: any) => v.name === "config").emptyDir.medium).toBe("Memory");
    const mounts = t.spec.containers[0].volumeMounts.map((m: any) => m.mountPath);
    expect(mounts.filter((m: string) => m === `${STATELESS.root}/config`)).toHaveLength(1);
  });
  it("quota: the second replica (app + cron) and the Job's pod", () => {
    const pods = statelessNextcloudPods({ replicas: 2, users: 100, requestsFor: (w) => (w === "nextcloud" ? { cpu: 350, mem: 704 } : { cpu: 60, mem: 288 }), limitFactors: { cpu: 4, mem: 2 } });
    expect(pods).toEqual([
      { count: 1, requests: { cpuM: 410, memMiB: 992 }, limits: { cpuM: 1640, memMiB: 1984 } },
      { count: 1, requests: { cpuM: 350, memMiB: 704 }, limits: { cpuM: 1400, memMiB: 1408 } },
    ]);
  });
});

describe("cost model", () => {
  it("the platform stack's estimate counts the shared instance's stateless Nextcloud only when it is on", () => {
    const e = (stateless: boolean) => estimateStacks("x", { sharding: { enabled: false, shards: ["a"] }, tenants: [], sharedServices: { sharedInstance: { apps: ["nextcloud"], nextcloud: { stateless } } } })[0].resources;
    expect([e(false), e(true)]).toEqual([PLATFORM_BASE_COST, PLATFORM_BASE_COST + STATELESS_NEXTCLOUD_COST]);
  });
});

describe("config rules (exit 2 before anything is registered)", () => {
  const prod = () => structuredClone(readStackConfig(stackConfigFile("prod"))) as any;
  it("prod as committed: the shared instance stays on its volume until the switch's routine has run (no import is claimed), and valid", () => {
    const c = prod();
    expect(c.sharedServices.sharedInstance.nextcloud).toEqual({ stateless: false });
    expect(configProblems(c)).toEqual([]);
    c.sharedServices.sharedInstance.nextcloud = { stateless: true, secretsImported: true };
    expect(configProblems(c)).toEqual([]);
  });
  it("switching an existing instance without its imported values is refused, naming the key", () => {
    const c = prod();
    c.sharedServices.sharedInstance.nextcloud = { stateless: true };
    const p = configProblems(c);
    expect(p).toHaveLength(1);
    expect(p[0]).toMatch(/^liiibre:sharedServices\.sharedInstance\.nextcloud\.secretsImported: expected true with stateless: import the running instance's instanceid, passwordsalt and secret first \(pulumi import random:index\/randomString:RandomString/);
  });
  it("a dedicated organisation: stateless needs ha and Nextcloud; a shared-plan organisation has no settings of its own", () => {
    const c = prod();
    const small = c.tenants.findIndex((t: any) => t.plan === "dedicated" && t.users <= 500 && t.ha === undefined && (t.apps ?? ["nextcloud"]).includes("nextcloud"));
    expect(small).toBeGreaterThanOrEqual(0);
    c.tenants[small].nextcloud = { stateless: true, secretsImported: true };
    expect(configProblems(c)).toEqual([`liiibre:tenants[${small}].nextcloud.stateless: expected false without ha (a stateless Nextcloud runs 2 replicas; set ha: true), got true`]);
    c.tenants[small].ha = true;
    expect(configProblems(c)).toEqual([]);
    const shared = c.tenants.findIndex((t: any) => t.plan === "shared");
    c.tenants[shared].nextcloud = { stateless: false };
    expect(configProblems(c)).toHaveLength(1);
    expect(configProblems(c)[0]).toMatch(new RegExp(`^liiibre:tenants\\[${shared}\\]\\.nextcloud: expected no nextcloud settings for plan "shared"`));
  });
});

describe("generated PHP (Debian's php-cli)", () => {
  const host = "cloud.a.org";
  itWithPhp("every PHP file lints (php -l); a broken one does not", () => {
    const dir = tmp();
    for (const [name, text] of Object.entries({ "cfg.php": statelessConfigPhp({ host }), "inst.php": instanceConfigPhp({ instanceid: "ocabc123", passwordsalt: "a'b\\c", secret: "x/y+z" }), "gate.php": GATE_PHP, "pods.php": PODS_PHP })) {
      const r = run("php", ["-l", write(dir, name, text)]);
      expect(r.code, `${name}: ${r.out}`).toBe(0);
    }
    expect(run("php", ["-l", write(dir, "bad.php", "<?php\n$CONFIG = array('a' => 'it's');\n")]).code).not.toBe(0);
  });
  itWithPhp("the static config evaluates to the array Nextcloud needs (database from the environment, app paths read-only, the store off)", () => {
    const dir = tmp();
    const f = write(dir, "c.php", statelessConfigPhp({ host }));
    const r = run("php", ["-r", `include $argv[1]; echo json_encode($CONFIG);`, f], { env: { POSTGRES_HOST: "pg:5432", POSTGRES_DB: "nextcloud", POSTGRES_USER: "u", POSTGRES_PASSWORD: "p" } });
    expect(r.code, r.out).toBe(0);
    const c = JSON.parse(r.stdout);
    expect(c).toMatchObject({ dbtype: "pgsql", dbhost: "pg:5432", dbname: "nextcloud", dbuser: "u", dbpassword: "p", dbtableprefix: "oc_", datadirectory: STATELESS.dataDir, trusted_domains: [host], "overwrite.cli.url": `https://${host}`, overwriteprotocol: "https", maintenance_window_start: 1, appstoreenabled: false });
    expect(c.apps_paths.map((p: any) => [p.path, p.writable])).toEqual([
      ["/var/www/html/apps", false],
      ["/var/www/html/custom_apps", false],
    ]);
  });
  itWithPhp("instance values with quotes and backslashes come back unchanged", () => {
    const v = { instanceid: "oc1234567890", passwordsalt: "it's\\a'salt", secret: "a+b/c=='\\\\" };
    const f = write(tmp(), "i.php", instanceConfigPhp(v));
    const r = run("php", ["-r", "include $argv[1]; echo json_encode($CONFIG);", f]);
    expect(JSON.parse(r.stdout)).toEqual(v);
    expect(phpString("a'b")).toBe("'a\\'b'");
  });
  itWithPhp("merged as Nextcloud merges config files (config.php, then *.config.php in natural order, later wins), ours overrides the chart's apps.config.php", () => {
    const dir = tmp();
    const tgz = path.resolve(__dirname, "../../shared/charts", `nextcloud-${CHARTS.nextcloud.version}.tgz`);
    const chartApps = fs.existsSync(tgz) ? run("tar", ["-xzOf", tgz, "nextcloud/files/defaultConfigs/apps.config.php.tpl"]).stdout : "<?php $CONFIG = array('apps_paths' => array(array('path' => OC::$SERVERROOT.'/custom_apps', 'url' => '/custom_apps', 'writable' => true)));";
    write(dir, "apps.config.php", chartApps);
    write(dir, STATELESS.configFile, statelessConfigPhp({ host }));
    write(dir, STATELESS.instanceFile, instanceConfigPhp({ instanceid: "ocx", passwordsalt: "s", secret: "t" }));
    // config.php as prepare.sh writes it (its here-document run by sh).
    const heredoc = PREPARE_SH.slice(PREPARE_SH.indexOf('cat > "$html/config/config.php"'), PREPARE_SH.indexOf("\nEOF\n") + 5);
    const made = run("sh", ["-c", `set -eu; html=${dir}/..; mkdir -p "$html/config"; version=32.0.2.2; LIIIBRE_CONFIG_READ_ONLY=true\n${heredoc.replace('"$html/config/config.php"', `"${dir}/config.php"`)}`]);
    expect(made.code, made.out).toBe(0);
    expect(run("php", ["-l", path.join(dir, "config.php")]).code).toBe(0);
    const merge = `class OC { public static $SERVERROOT = '/var/www/html'; }
      $files = [$argv[1] . '/config.php']; $extra = glob($argv[1] . '/*.config.php'); natsort($extra);
      $all = []; foreach (array_merge($files, $extra) as $f) { unset($CONFIG); include $f; if (isset($CONFIG) && is_array($CONFIG)) $all = array_merge($all, $CONFIG); }
      echo json_encode($all);`;
    const r = run("php", ["-r", merge, dir], { env: { POSTGRES_HOST: "pg" } });
    expect(r.code, r.out).toBe(0);
    const c = JSON.parse(r.stdout);
    expect(c).toMatchObject({ installed: true, version: "32.0.2.2", config_is_read_only: true, maintenance: false, instanceid: "ocx", appstoreenabled: false });
    expect(c.apps_paths.every((p: any) => p.writable === false)).toBe(true);
  });
});

describe("scripts", () => {
  const scripts = { "prepare.sh": PREPARE_SH, "pod.sh": POD_SH, "upgrade.sh": UPGRADE_SH, "setup.sh": nextcloudSetupScript(ctx(), { stateless: true }) };
  it("sh -n accepts every script; a broken one is refused", () => {
    for (const [name, text] of Object.entries(scripts)) {
      const r = run("sh", ["-n"], { input: text });
      expect(r.code, `${name}: ${r.out}`).toBe(0);
    }
    expect(run("sh", ["-n"], { input: "if true; then\n" }).code).not.toBe(0);
  });
  itWithShellcheck("shellcheck (POSIX sh) finds nothing at warning level", () => {
    const dir = tmp();
    for (const [name, text] of Object.entries(scripts)) {
      const r = run("shellcheck", ["-s", "sh", "-S", "warning", write(dir, name, text)]);
      expect(r.code, `${name}: ${r.out}`).toBe(0);
    }
    expect(run("shellcheck", ["-s", "sh", "-S", "warning", write(dir, "bad.sh", 'cd $1\nrm -rf "$dir/"*\n')]).code).not.toBe(0);
  });
  it("the Job: code first, no Nextcloud process before the old pods are gone; the claim is given back until the upgrade starts", () => {
    const at = (needle: string) => {
      const i = UPGRADE_SH.indexOf(needle);
      expect(i, needle).toBeGreaterThan(0);
      return i;
    };
    const order = [
      at("prepare code"),
      at('gate cas stateless_state "$state" "claimed:$state"'),
      at("trap give_back EXIT"),
      at('while [ "$(php "$lib/pods.php")" != 0 ]'),
      UPGRADE_SH.indexOf("prepare apps", at("pods.php")),
      at("gate apps-present"),
      at('"upgrading:$LIIIBRE_STATE"'),
      at("trap - EXIT"),
      at("occ upgrade --no-interaction"),
      at('gate cas stateless_version "$db" "$image"'),
    ];
    expect(order).toEqual([...order].sort((a, b) => a - b));
    // No occ (a Nextcloud process of the new code) before the claim and the wait.
    expect(UPGRADE_SH.slice(0, order[3])).not.toMatch(/\bocc [a-z]/);
    expect(UPGRADE_SH).toMatch(/case "\$state" in upgrading:\*\|claimed:\*\)/);
  });
});

describe("the evaluated program (dev, three stateless organisations)", () => {
  let ev: Evaluation;
  beforeAll(async () => {
    const c = structuredClone(readStackConfig(stackConfigFile("dev"))) as any;
    const org = (slug: string, state: string) => ({ slug, name: slug, domain: `${slug}.example.org`, plan: "dedicated", users: 30, ha: true, state, apps: ["nextcloud"], nextcloud: { stateless: true, secretsImported: true } });
    c.tenants.push(org("live", "active"), org("paused", "suspended"), org("gone", "decommissioned"));
    ev = await evaluate({ config: c, stack: "dev" });
  }, 180_000);
  const named = (n: string) => ev.resources.filter((r) => r.name === n);
  // Its plain objects are entries of its objects release (lean: kubernetesObjects bundled), by kind and Kubernetes name.
  const bundled = (slug: string, kind: string, name: string) => withBundledObjects(ev.resources).filter((r) => r.bundled && (r.inputs as any).metadata?.namespace === slug && (r.inputs as any).kind === kind && r.name === name);
  it("active: values, Secret, scripts, budget, Job with its RBAC and network policy; the release waits for the Secret and scripts only", () => {
    // Resources of their own: the values, their Secret and the Job (immutable: never bundled).
    for (const n of ["live-nextcloud-instanceid", "live-nextcloud-passwordsalt", "live-nextcloud-serversecret", "live-nextcloud-instance", "live-nextcloud-upgrade"]) {
      expect(named(n), n).toHaveLength(1);
    }
    // The rest: entries of its objects release.
    const objects: Array<[string, string]> = [
      ["ConfigMap", STATELESS.scripts],
      ["PodDisruptionBudget", "nextcloud"],
      ["ServiceAccount", STATELESS.serviceAccount],
      ["Role", STATELESS.serviceAccount],
      ["RoleBinding", STATELESS.serviceAccount],
      ["NetworkPolicy", "allow-nextcloud-upgrade-to-kubernetes-api"],
    ];
    for (const [kind, n] of objects) expect(bundled("live", kind, n), `${kind} ${n}`).toHaveLength(1);
    const budget = bundled("live", "PodDisruptionBudget", "nextcloud")[0].inputs as any;
    expect(budget.spec).toMatchObject({ minAvailable: 1, selector: { matchLabels: NEXTCLOUD_POD_LABELS } });
    const job = named("live-nextcloud-upgrade")[0];
    expect((job.inputs as any).metadata.name).toMatch(/^nextcloud-upgrade-[0-9a-f]{10}$/);
    expect((job.inputs as any).spec.template.spec.serviceAccountName).toBe(STATELESS.serviceAccount);
    expect((bundled("live", "Role", STATELESS.serviceAccount)[0].inputs as any).rules).toEqual([{ apiGroups: [""], resources: ["pods"], verbs: ["list"] }]);
    // The release waits for the instance Secret and the scripts (in the objects release), not for the Job; the Job waits for both.
    const objectsRelease = named("live-objects")[0];
    const instance = named("live-nextcloud-instance")[0];
    const release = named("live-nextcloud-release")[0];
    expect(release.dependsOn).toEqual(expect.arrayContaining([instance.urn, objectsRelease.urn]));
    expect(release.dependsOn).not.toContain(job.urn);
    expect(job.dependsOn).toEqual(expect.arrayContaining([instance.urn, objectsRelease.urn]));
    // The instance values stay secret end to end.
    const data = (secretAwareInputs(instance) as any).stringData;
    expect(isSecretMarker(data) || Object.values(data ?? {}).every(isSecretMarker)).toBe(true);
  });
  it("suspended: no Job and no budget (no replica); decommissioned: only the values and their Secret remain", () => {
    expect(named("paused-nextcloud-upgrade")).toEqual([]);
    expect(bundled("paused", "PodDisruptionBudget", "nextcloud")).toEqual([]);
    expect(named("paused-nextcloud-instance")).toHaveLength(1);
    for (const n of ["gone-nextcloud-instanceid", "gone-nextcloud-passwordsalt", "gone-nextcloud-serversecret", "gone-nextcloud-instance"]) expect(named(n), n).toHaveLength(1);
    for (const n of ["gone-nextcloud-release", "gone-nextcloud-upgrade"]) expect(named(n), n).toEqual([]);
    expect(bundled("gone", "ConfigMap", STATELESS.scripts)).toEqual([]);
  });
});

// --- the gate on a real PostgreSQL (Debian's postgresql + php-pgsql) -------------------------
const BIN = ["/usr/lib/postgresql/17/bin", "/usr/lib/postgresql/16/bin", "/usr/lib/postgresql/15/bin"].find((d) => fs.existsSync(path.join(d, "postgres"))) ?? "";
const phpPgsql = onPath("php") && run("php", ["-r", "exit(extension_loaded('pdo_pgsql') ? 0 : 1);"]).code === 0;
const itWithPg = itNeeding("PostgreSQL server binaries and php-pgsql", !!BIN && onPath("psql") && phpPgsql, "apt-get install -y postgresql php-cli php-pgsql");
const asServer = (cmd: string[]): string[] => (process.getuid?.() === 0 ? ["runuser", "-u", "postgres", "--", ...cmd] : cmd);

describe("the gate (gate.php) against PostgreSQL", () => {
  let dir = "";
  let port = 0;
  const root = tmp();
  // gate.php reads the instance file under the server root: a copy with this test's root.
  const gate = (args: string[], apps = "") => {
    const g = write(root, "gate.php", GATE_PHP.replace(`${STATELESS.root}/config/`, `${root}/`).replaceAll(`'${STATELESS.root}/`, `'${root}/`));
    return run("php", [g, ...args], { env: { POSTGRES_HOST: `127.0.0.1:${port}`, POSTGRES_DB: "nextcloud", POSTGRES_USER: "nc", POSTGRES_PASSWORD: "pw-nc", OBJECTSTORE_S3_BUCKET: "a-nextcloud", LIIIBRE_APPS: apps } });
  };
  beforeAll(() => {
    if (!BIN || !phpPgsql) return;
    const base = tmp();
    fs.chmodSync(base, 0o777);
    dir = path.join(base, "data");
    port = 21000 + (process.pid % 20000);
    expect(runv(asServer([path.join(BIN, "initdb"), "-D", dir, "-U", "postgres", "--auth-local=trust", "--auth-host=scram-sha-256"])).code).toBe(0);
    const started = runv(asServer([path.join(BIN, "pg_ctl"), "-D", dir, "-w", "-l", path.join(dir, "log"), "-o", `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1`, "start"]));
    expect(started.code, started.out).toBe(0);
    const admin = (q: string, db = "postgres") => runv(asServer(["psql", "-X", "-At", "-h", dir, "-p", String(port), "-U", "postgres", "-d", db, "-v", "ON_ERROR_STOP=1", "-c", q]));
    expect(admin("create role nc login password 'pw-nc'").code).toBe(0);
    expect(admin("create database nextcloud owner nc").code).toBe(0);
    // The three tables the gate reads, with the columns it reads (Nextcloud's own names).
    const ddl = [
      "create table oc_appconfig (appid varchar(32) not null, configkey varchar(64) not null, configvalue text, primary key (appid, configkey))",
      "create table oc_storages (numeric_id bigserial primary key, id varchar(64) unique)",
      "create table oc_filecache (fileid bigserial primary key, storage bigint not null, path varchar(4000), path_hash varchar(32) not null)",
      "alter table oc_appconfig owner to nc",
      "alter table oc_storages owner to nc",
      "alter table oc_filecache owner to nc",
      "insert into oc_storages (id) values ('object::store:amazon::a-nextcloud'), ('object::user:alice')",
      "insert into oc_filecache (storage, path, path_hash) values (1, 'appdata_ocright12345', md5('appdata_ocright12345')), (2, 'appdata_ocuser000000', md5('appdata_ocuser000000'))",
      "insert into oc_appconfig values ('user_oidc', 'installed_version', '8.7.0'), ('liiibre', 'stateless_state', '32.0.2-apache+user_oidc@8.7.0')",
    ];
    for (const q of ddl) expect(admin(q, "nextcloud").code, q).toBe(0);
  }, 120_000);
  afterAll(() => {
    if (!dir) return;
    runv(asServer([path.join(BIN, "pg_ctl"), "-D", dir, "-m", "immediate", "stop"]));
  });

  itWithPg("the running instance's instanceid passes; another one is refused (its app data folder is not in the object store's storage)", () => {
    write(root, STATELESS.instanceFile, instanceConfigPhp({ instanceid: "ocright12345", passwordsalt: "s", secret: "t" }));
    const ok = gate(["check"], "user_oidc 8.7.0 https://x");
    expect(ok.code, ok.out).toBe(0);
    write(root, STATELESS.instanceFile, instanceConfigPhp({ instanceid: "ocnew0000000", passwordsalt: "s", secret: "t" }));
    expect(gate(["check"]).out).toMatch(/the object store has no appdata_ocnew0000000/);
    // A folder of that name in a user's home storage does not count.
    write(root, STATELESS.instanceFile, instanceConfigPhp({ instanceid: "ocuser000000", passwordsalt: "s", secret: "t" }));
    expect(gate(["check"]).code).toBe(1);
  });
  itWithPg("a pinned app below the installed version is refused (no downgrade); equal or above passes", () => {
    write(root, STATELESS.instanceFile, instanceConfigPhp({ instanceid: "ocright12345", passwordsalt: "s", secret: "t" }));
    const low = gate(["check"], "user_oidc 8.6.9 https://x");
    expect([low.code, low.out]).toEqual([1, expect.stringMatching(/user_oidc is pinned at 8\.6\.9, the database has 8\.7\.0/)]);
    expect(gate(["check"], "user_oidc 8.7.1 https://x\ngroupquota 0.3.0 https://y").code).toBe(0);
  });
  itWithPg("apps-present: an app the database has enabled without its code here is refused (an upgrade would disable it)", () => {
    const add = (q: string) => expect(runv(asServer(["psql", "-X", "-At", "-h", dir, "-p", String(port), "-U", "postgres", "-d", "nextcloud", "-v", "ON_ERROR_STOP=1", "-c", q])).code).toBe(0);
    add("insert into oc_appconfig values ('files', 'enabled', 'yes'), ('user_oidc', 'enabled', 'yes'), ('deck', 'enabled', '[\"org-a\"]'), ('old', 'enabled', 'no')");
    fs.mkdirSync(path.join(root, "apps", "files"), { recursive: true });
    fs.mkdirSync(path.join(root, "custom_apps", "user_oidc"), { recursive: true });
    const r = gate(["apps-present"]);
    expect([r.code, r.out]).toEqual([1, expect.stringMatching(/neither shipped with the image nor pinned: deck \(/)]);
    fs.mkdirSync(path.join(root, "custom_apps", "deck"), { recursive: true });
    expect(gate(["apps-present"]).code).toBe(0);
  });
  itWithPg("markers: get prints the recorded state, empty when unset; cas moves it only from the value expected", () => {
    expect(gate(["get", "stateless_state"]).stdout.trim()).toBe("32.0.2-apache+user_oidc@8.7.0");
    expect(gate(["get", "stateless_version"]).stdout).toBe("\n");
    const claim = gate(["cas", "stateless_state", "32.0.2-apache+user_oidc@8.7.0", "claimed:32.0.2-apache+user_oidc@8.7.0"]);
    expect(claim.code, claim.out).toBe(0);
    // A second Job expecting the old value loses: one claim at a time.
    const second = gate(["cas", "stateless_state", "32.0.2-apache+user_oidc@8.7.0", "claimed:x"]);
    expect([second.code, second.out]).toEqual([1, expect.stringMatching(/stateless_state is not '32\.0\.2-apache\+user_oidc@8\.7\.0' any more/)]);
    expect(gate(["get", "stateless_state"]).stdout.trim()).toBe("claimed:32.0.2-apache+user_oidc@8.7.0");
    // A marker row that the adoption step never created is never made up.
    expect(gate(["cas", "stateless_version", "", "32.0.2.2"]).code).toBe(1);
    expect(gate(["cas", "stateless_state", "claimed:32.0.2-apache+user_oidc@8.7.0", "32.0.2-apache+user_oidc@8.7.0"]).code).toBe(0);
  });
});

// --- real Helm on the pinned chart, and the twin's availability checks ----------------------
describe("what real Helm renders (nextcloud 8.6.0)", () => {
  const estate = devEstate();
  async function rendered(v: Record<string, unknown>) {
    const pin = chartPin("nextcloud");
    const r = releaseResource(pin.chart, pin.version, v, "nextcloud", "a");
    const result = await renderPlan([r], { helm: HELM, programResources: false });
    expect(result.problems).toEqual([]);
    return { objects: result.releases.flatMap((rr) => rr.objects), input: (beside: any[] = []) => input(estate, [res(r.type, r.name, r.inputs as Record<string, unknown>, { urn: r.urn }), ...beside], { rendered: result.releases }) };
  }
  itWithHelm("stateless: no claim, the code in an emptyDir, the init container before the app, two spread replicas; rwo-claim-shared passes, and the budget covers them", async () => {
    const r = await rendered(values());
    expect(r.objects.filter((o) => o.kind === "PersistentVolumeClaim")).toEqual([]);
    const dep = r.objects.find((o) => o.kind === "Deployment")!.object as any;
    expect(dep.spec.replicas).toBe(2);
    expect(dep.spec.strategy).toEqual({ type: "Recreate" });
    const pod = dep.spec.template.spec;
    expect(pod.volumes.find((v: any) => v.name === "nextcloud-main")).toEqual({ name: "nextcloud-main", emptyDir: {} });
    expect(pod.initContainers.map((c: any) => c.name)).toEqual(["liiibre-prepare"]);
    expect(pod.containers.map((c: any) => c.image)).toEqual([`docker.io/library/nextcloud:${IMAGES.nextcloud.tag}`, `docker.io/library/nextcloud:${IMAGES.nextcloud.tag}`]);
    for (const c of pod.containers) expect(c.volumeMounts.map((m: any) => m.mountPath)).toContain(`${STATELESS.root}/config/${STATELESS.instanceFile}`);
    expect(dep.spec.template.metadata.labels).toMatchObject(NEXTCLOUD_POD_LABELS);
    expect(await findings(r.input(), "rwo-claim-shared")).toEqual([]);
    const budget = res("kubernetes:policy/v1:PodDisruptionBudget", "b", { apiVersion: "policy/v1", kind: "PodDisruptionBudget", metadata: { name: "nextcloud", namespace: "a" }, spec: { minAvailable: 1, selector: { matchLabels: { ...NEXTCLOUD_POD_LABELS } } } });
    expect(await findings(r.input(), "budget-covers-replicas")).toHaveLength(1);
    expect(await findings(r.input([budget]), "budget-covers-replicas")).toEqual([]);
  }, 120_000);
  itWithHelm("without the stateless mode, two replicas on the chart's volume are an error (the failing case)", async () => {
    const v = { ...(values(ctx({ nextcloud: undefined })) as any), replicaCount: 2 };
    const r = await rendered(v);
    expect(await findings(r.input(), "rwo-claim-shared")).toMatchObject([{ level: "error" }]);
  }, 120_000);
});

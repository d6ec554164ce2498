/**
 * What the production plan deploys, read as an attacker would (issue 9): no secret on a command
 * line, admin surfaces reachable only from the admin CIDRs, every organisation's clients gated
 * by membership, backups decryptable after a tenant is removed and re-added, and no platform
 * namespace a tenant slug could take. One evaluation of the real program (prod stack).
 */
import { createHmac } from "node:crypto";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { evaluateStack, secretAwareInputs, isSecretMarker, type Evaluation, type RecordedResource } from "../scripts/harness";
import { checkPolicies } from "../scripts/check-policies";
import { argvLeaks, scriptLeaks } from "./helpers/argv";
import { REPLICATION_SCRIPT } from "../components/storage/offsiteCopy";
import { k0sBackupInstallScript, k0sBackupScript as k0sBackupScriptFor } from "../components/storage/k0sBackup";
import { nextcloudSetupScript, REDIS_START } from "../components/apps/nextcloud";
import { adminSurfaceProblems, ADMIN_SURFACES_DEFAULTS, HTTP_ROUTE_TYPE, INGRESS_TYPE, renderedIngresses } from "../policies/admin-surfaces-restricted";
import { adminAllowListMiddleware, adminOnly, restrictionOf, routeRuleRestriction } from "../components/platform/access";
import { grafanaValues } from "../components/platform/monitoring";
import { isReservedSlug } from "../components/conventions";

/** Grafana's database as components/shared/grafana.ts passes it (plain data). */
const GRAFANA_DB = { host: "grafana-pg-rw.monitoring.svc", port: 5432, database: "grafana", user: "grafana", appSecretName: "grafana-pg-app" };
import { LABELS } from "../components/conventions";
import { repositoryPassword } from "../components/storage/settings";

let ev: Evaluation;
beforeAll(async () => {
  ev = await evaluateStack({ stack: "prod" });
}, 300_000);

const ofType = (type: string) => ev.resources.filter((r) => r.type === type);

describe("no secret in process arguments", () => {
  it("no command any resource runs has a secret among its arguments", () => {
    const { leaks, scanned } = argvLeaks(ev.resources);
    expect(leaks).toEqual([]);
    // Non-vacuous: the scan saw the replication Jobs, the Nextcloud hooks, the k0s backup install and container commands.
    expect(scanned.containers).toBeGreaterThan(50);
    expect(scanned.scripts).toBeGreaterThan(40);
  });

  it("the scanner finds the leaks this project had (each one failed before)", () => {
    const vars = new Set(["PRIMARY_SECRET_KEY", "TARGET_SECRET_KEY", "S3_SECRET_KEY", "OIDC_CLIENT_SECRET", "REDIS_PASSWORD", "ONLYOFFICE_JWT_SECRET"]);
    const before = [
      'mc alias set primary "$PRIMARY_URL" "$PRIMARY_ACCESS_KEY" "$PRIMARY_SECRET_KEY" >/dev/null',
      'mc replicate add "primary/$b" \\\n  --remote-bucket "$TARGET_SCHEME://$TARGET_ACCESS_KEY:$TARGET_SECRET_KEY@$TARGET_HOST/$b" \\\n  --replicate "$REPLICATE"',
      'curl -fsS --aws-sigv4 "aws:amz:us-east-1:s3" --user "$S3_ACCESS_KEY:$S3_SECRET_KEY" -T "$file" https://x/y',
      "occ user_oidc:provider keycloak --clientid='a' --clientsecret=\"$OIDC_CLIENT_SECRET\"",
      'exec redis-server --requirepass "$REDIS_PASSWORD" --save ""',
      'occ config:app:set onlyoffice jwt_secret --value "$ONLYOFFICE_JWT_SECRET"',
    ];
    for (const s of before) expect(scriptLeaks(s, vars), s).toHaveLength(1);
    // And the fixed forms pass.
    expect(scriptLeaks(REPLICATION_SCRIPT, vars)).toEqual([]);
    expect(scriptLeaks(k0sBackupInstallScript("s3.hel.example"), vars)).toEqual([]);
    expect(scriptLeaks(REDIS_START, vars)).toEqual([]);
    const hook = nextcloudSetupScript({ apps: ["nextcloud", "onlyoffice"], domain: "x.org", quotaPerUserGB: 10, scim: false, oidc: { issuer: "https://a/realms/r", clientId: "x-nextcloud", secretName: "s", accessRole: "r", accessClaim: "c", groupWhitelist: ["org-x"] }, groups: undefined });
    expect(scriptLeaks(hook, vars)).toEqual([]);
  });
});

describe("the fixed commands still pass their credentials (run with fake tools)", () => {
  it("Redis gets its password on stdin, not in argv", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "redis-"));
    fs.writeFileSync(path.join(dir, "redis-server"), `#!/bin/sh\necho "argv: $*"\ncat\n`, { mode: 0o755 });
    const out = execFileSync("/bin/sh", ["-c", REDIS_START], { env: { PATH: `${dir}:/usr/bin:/bin`, REDIS_PASSWORD: "s3cr3t-pw" }, encoding: "utf8" });
    expect(out.split("\n")[0]).toBe('argv: - --save  --appendonly no');
    expect(out).toContain("requirepass s3cr3t-pw");
    expect(out.split("\n")[0]).not.toContain("s3cr3t-pw");
  });

  it("curl reads the k0s backup credentials from its stdin config (-K -)", () => {
    const script = k0sBackupScriptFor("s3.hel.example");
    const line = script.split("\n").find((l) => l.startsWith("printf"))!;
    expect(line).toMatch(/^printf 'user = "%s:%s"\\n' "\$S3_ACCESS_KEY" "\$S3_SECRET_KEY" \| curl -K - /);
  });
});

describe("admin surfaces are reachable only from the admin CIDRs", () => {
  const cidrs = () => ev.estate.hetzner.adminCidrs;
  const route = (name: string) => ofType(HTTP_ROUTE_TYPE).find((r) => (r.inputs as any).metadata.name === name)!;
  /** Where restrictions are defined in the plan: the Traefik release (file-provider middlewares) and Middleware objects. */
  const planObjects = () => [
    ...ofType("kubernetes:helm.sh/v3:Release").map((r) => r.inputs as any),
    ...ofType("kubernetes:traefik.io/v1alpha1:Middleware").map((r) => r.inputs as any),
  ];
  /** An edge defining the file-provider allow-lists of these CIDR lists (what edgeDynamicConfig does for the admin CIDRs). */
  const edgeWith = (...lists: string[][]) => ({
    chart: "traefik",
    values: { providers: { file: { content: { http: { middlewares: Object.fromEntries(lists.map((l) => [adminAllowListMiddleware(l).name, adminAllowListMiddleware(l).config])) } } } } },
  });

  it("the policy passes on the plan; the admin rules of Keycloak's and S3's routes allow exactly the admin CIDRs", async () => {
    const violations = (await checkPolicies(ev)).filter((v) => v.policy === "admin-surfaces-restricted");
    expect(violations).toEqual([]);
    const rules = (name: string) => (route(name).inputs as any).spec.rules as any[];
    const restricted = (name: string) => rules(name).filter((r) => routeRuleRestriction(route(name).inputs as any, r, planObjects()));
    for (const name of ["keycloak-admin", "s3"]) {
      for (const r of restricted(name)) expect(routeRuleRestriction(route(name).inputs as any, r, planObjects()), name).toEqual({ kind: "allowlist", sources: cidrs() });
    }
    const paths = (rs: any[]) => rs.map((r) => r.matches[0].path.value);
    expect(paths(restricted("keycloak-admin"))).toEqual(["/admin", "/realms/master"]);
    expect(paths(restricted("s3"))).toEqual(["/minio/admin", "/minio/v2/metrics", "/minio/metrics"]);
    // S3 itself stays public.
    expect(paths(rules("s3").filter((r) => !restricted("s3").includes(r)))).toEqual(["/"]);
  });

  it("Grafana's chart Ingress carries the allow-list (read with the same helper, resolved in the plan's edge)", () => {
    const g = (grafanaValues(ev.estate, GRAFANA_DB) as any).grafana.ingress;
    expect(restrictionOf({ metadata: { annotations: g.annotations } }, planObjects())).toEqual({ kind: "allowlist", sources: cidrs() });
    // A middleware the edge does not define restricts nothing (and Traefik drops such a router: closed).
    expect(restrictionOf({ metadata: { annotations: adminOnly(["192.0.2.0/24"]).annotations } }, planObjects())).toBeUndefined();
  });

  it("without the allow-lists, the policy fails every surface (as the plan was before)", () => {
    const open = [...ofType(INGRESS_TYPE), ...ofType(HTTP_ROUTE_TYPE)].map((r) => {
      const obj = structuredClone(r.inputs) as any;
      for (const k of Object.keys(adminOnly(["192.0.2.0/24"]).annotations)) delete obj.metadata.annotations?.[k];
      for (const rule of obj.spec.rules ?? []) delete rule.filters;
      return { id: r.urn, object: obj };
    });
    // The Grafana Ingress the chart renders (rules as the kube-prometheus-stack chart writes them).
    open.push({ id: "grafana", object: { metadata: { name: "kube-prometheus-stack-grafana", namespace: "monitoring" }, spec: { rules: [{ host: "grafana.liiibre.coop", http: { paths: [{ path: "/", pathType: "Prefix", backend: { service: { name: "kube-prometheus-stack-grafana", port: { number: 80 } } } }] } }] } } as any });
    const msgs = adminSurfaceProblems(open, ADMIN_SURFACES_DEFAULTS, planObjects()).map((p) => p.message);
    for (const want of ["https://auth.liiibre.coop/admin ", "https://auth.liiibre.coop/realms/master ", "https://s3.fsn.liiibre.coop/minio/admin ", "https://s3.fsn.liiibre.coop/minio/v2/metrics ", "https://grafana.liiibre.coop/ "]) {
      expect(msgs.some((m) => m.startsWith(want)), want).toBe(true);
    }
  });

  it("the Ingresses a chart renders are judged the same way (render model)", () => {
    const grafana = (annotations: Record<string, string>) => [
      {
        urn: "urn:pulumi:prod::liiibre::kubernetes:helm.sh/v3:Release::kube-prometheus-stack",
        release: "kube-prometheus-stack",
        namespace: "monitoring",
        chart: "kube-prometheus-stack",
        version: "x",
        objects: [
          {
            apiVersion: "networking.k8s.io/v1",
            kind: "Ingress",
            name: "kube-prometheus-stack-grafana",
            namespace: null,
            object: { metadata: { name: "kube-prometheus-stack-grafana", annotations }, spec: { rules: [{ host: "grafana.liiibre.coop", http: { paths: [{ path: "/", pathType: "Prefix", backend: { service: { name: "kube-prometheus-stack-grafana", port: { number: 80 } } } }] } }] } },
          },
        ],
      },
    ];
    const g = (grafanaValues(ev.estate, GRAFANA_DB) as any).grafana.ingress;
    expect(adminSurfaceProblems(renderedIngresses(grafana(g.annotations)), ADMIN_SURFACES_DEFAULTS, planObjects())).toEqual([]);
    expect(adminSurfaceProblems(renderedIngresses(grafana({})), ADMIN_SURFACES_DEFAULTS, planObjects())).toHaveLength(1);
  });

  it("routing, not names: a longer unrestricted path, another host, an allow-list of the world, or an HTTPRoute above an Ingress is caught", () => {
    const ingress = (host: string, path: string, svc: string, ns: string, annotations: Record<string, string> = {}) => ({
      id: `${host}${path}`,
      object: { kind: "Ingress", metadata: { name: `i-${path}`, namespace: ns, annotations }, spec: { rules: [{ host, http: { paths: [{ path, pathType: "Prefix", backend: { service: { name: svc, port: { number: 80 } } } }] } }] } },
    });
    const edge = [edgeWith(["203.0.113.0/28"], ["0.0.0.0/1", "128.0.0.0/1"])];
    const ok = ingress("auth.x.org", "/admin", "keycloak-http", "keycloak", adminOnly(["203.0.113.0/28"]).annotations);
    expect(adminSurfaceProblems([ingress("auth.x.org", "/", "keycloak-http", "keycloak"), ok, ingress("auth.x.org", "/realms/master", "keycloak-http", "keycloak", adminOnly(["203.0.113.0/28"]).annotations)], ADMIN_SURFACES_DEFAULTS, edge)).toEqual([]);
    // The same Ingresses without the edge that defines the allow-list: nothing restricts them.
    expect(adminSurfaceProblems([ok], ADMIN_SURFACES_DEFAULTS, [])).toHaveLength(1);
    // A deeper path of the console, unrestricted, wins for its requests.
    expect(adminSurfaceProblems([ok, ingress("auth.x.org", "/admin/realms", "keycloak-http", "keycloak")], ADMIN_SURFACES_DEFAULTS, edge)).toHaveLength(1);
    // The same Service under another host name.
    expect(adminSurfaceProblems([ingress("login.x.org", "/", "keycloak-http", "keycloak")], ADMIN_SURFACES_DEFAULTS, edge).length).toBeGreaterThan(0);
    // An allow-list that is the world in two halves.
    expect(adminSurfaceProblems([ingress("auth.x.org", "/admin", "keycloak-http", "keycloak", adminOnly(["0.0.0.0/1", "128.0.0.0/1"]).annotations)], ADMIN_SURFACES_DEFAULTS, edge)[0].message).toMatch(/allow-list too wide/);
    // Another app's /admin is not Keycloak's.
    expect(adminSurfaceProblems([ingress("office.x.org", "/", "onlyoffice", "acme")], ADMIN_SURFACES_DEFAULTS, edge)).toEqual([]);
    // Traefik ranks an HTTPRoute above every Ingress router: an open HTTPRoute for `/` takes /admin from the restricted Ingress.
    const openRoute = { id: "r", object: { kind: "HTTPRoute", metadata: { name: "kc", namespace: "keycloak" }, spec: { parentRefs: [{ name: "kc" }], hostnames: ["auth.x.org"], rules: [{ matches: [{ path: { type: "PathPrefix", value: "/" } }], backendRefs: [{ name: "keycloak-http", port: 80 }] }] } } };
    expect(adminSurfaceProblems([ok, openRoute as any], ADMIN_SURFACES_DEFAULTS, edge)[0].message).toMatch(/is served by HTTPRoute keycloak\/kc path \/, open to the world/);
    // …and a restricted HTTPRoute rule (a Middleware with ipAllowList beside it) passes.
    const mw = { kind: "Middleware", apiVersion: "traefik.io/v1alpha1", metadata: { name: "allow", namespace: "keycloak" }, spec: { ipAllowList: { sourceRange: ["203.0.113.0/28"] } } };
    const closedRoute = structuredClone(openRoute) as any;
    closedRoute.object.spec.rules[0].filters = [{ type: "ExtensionRef", extensionRef: { group: "traefik.io", kind: "Middleware", name: "allow" } }];
    expect(adminSurfaceProblems([closedRoute], ADMIN_SURFACES_DEFAULTS, [mw])).toEqual([]);
  });
});

describe("every organisation's clients are members-only (prod)", () => {
  it("each OIDC client binds a members-only browser flow of its realm", () => {
    const flows = new Map(ofType("keycloak:authentication/flow:Flow").map((f) => [`${f.name}-id`, f]));
    const clients = ofType("keycloak:openid/client:Client");
    expect(clients.length).toBeGreaterThan(60);
    for (const c of clients) {
      const f = flows.get((c.inputs.authenticationFlowBindingOverrides as any)?.browserId);
      expect(f, String(c.inputs.clientId)).toBeDefined();
      expect(String(f!.inputs.alias)).toMatch(/^liiibre-members-/);
    }
  });
});

describe("backups stay decryptable", () => {
  const key = () => ofType("random:index/randomPassword:RandomPassword").find((r) => r.name === "storage-backup-repository-key")!;
  const raw = (v: unknown) => (isSecretMarker(v) ? v.value : v);

  it("the estate's backup key is protected and retained, outside every tenant", () => {
    const k = key();
    expect(k).toBeDefined();
    expect(k.protect).toBe(true);
    expect(k.retainOnDelete).toBe(true);
    expect(k.parent).toMatch(/liiibre:storage:StoragePlatform::storage$/);
  });

  it("no random value under a VolumeBackup (it would be re-created with a new value): every restic password derives from the key and the slug", () => {
    const volumeBackups = ev.resources.filter((r) => r.type === "liiibre:storage:VolumeBackup");
    expect(volumeBackups.length).toBeGreaterThan(30);
    const under = (r: RecordedResource) => volumeBackups.some((vb) => r.parent === vb.urn);
    expect(ev.resources.filter((r) => r.type.startsWith("random:") && under(r))).toEqual([]);
    // The mocks give the key a fixed value; each Secret holds HMAC(key, "k8up-repository:<slug>").
    const keyValue = `MOCKSECRET-password-${key().name}`;
    const secrets = ofType("kubernetes:core/v1:Secret").filter((s) => (s.inputs as any).metadata.name === "k8up-helsinki");
    expect(secrets.length).toBe(volumeBackups.length);
    for (const s of secrets) {
      const slug = (s.inputs as any).metadata.labels[LABELS.tenant];
      const got = raw((secretAwareInputs(s) as any).stringData?.RESTIC_PASSWORD ?? (raw((secretAwareInputs(s) as any).stringData) as any)?.RESTIC_PASSWORD);
      expect(got, slug).toBe(createHmac("sha256", keyValue).update(`k8up-repository:${slug}`).digest("hex"));
    }
    expect(repositoryPassword("k", "a")).not.toBe(repositoryPassword("k", "b"));
  });
});

describe("reserved names", () => {
  it("every namespace the platform declares is a slug no tenant may take", () => {
    const platform = ofType("kubernetes:core/v1:Namespace").filter((n) => !(n.inputs as any).metadata.labels?.[LABELS.tenant]).map((n) => (n.inputs as any).metadata.name as string);
    expect(platform.length).toBeGreaterThan(5);
    for (const ns of platform) expect(isReservedSlug(ns), ns).toBe(true);
  });
});

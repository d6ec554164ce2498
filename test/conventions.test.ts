/**
 * One home per shared fact (STYLE.md): labels, namespaces, host prefixes, the edge's classes and
 * the issuer are literals only in components/conventions.ts or components/config/hosts.ts;
 * components, policies, scripts and programs read them from there (test/helpers/facts.ts reads
 * the syntax tree). And the derived names agree with their homes.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { APPS } from "../components/config/apps";
import { HOST_PREFIXES, coopHosts } from "../components/config/hosts";
import { LABELS, NAMESPACES, PLATFORM, RESERVED_SLUGS, isReservedSlug } from "../components/conventions";
import { PLATFORM_NAMESPACES } from "../components/platform/common";
import { CNPG_NAMESPACE, K8UP_NAMESPACE, MINIO_OPERATOR_NAMESPACE, STORAGE_NAMESPACE } from "../components/storage/settings";
import { KURED_NAMESPACE } from "../components/ops/reboots";
import { NODE_LABELS } from "../components/hetzner/nodes";
import { factProblems, factProblemsIn } from "./helpers/facts";
import { sourcesUnder } from "./helpers/imports";

const ROOT = path.resolve(__dirname, "..");

describe("one home per fact", () => {
  it("no component, policy, script or program writes a shared name as a literal outside its home", () => {
    const files = ["components", "policies", "scripts", "programs"].flatMap((d) => sourcesUnder(path.join(ROOT, d))).concat(path.join(ROOT, "index.ts"));
    expect(files.length).toBeGreaterThan(150);
    expect(factProblems(files, ROOT)).toEqual([]);
  });

  it("the check reports each kind of second copy (and not the home's own literals)", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "facts-"));
    try {
      const f = path.join(dir, "components/apps/x.ts");
      fs.mkdirSync(path.dirname(f), { recursive: true });
      const src = [
        'const a = { labels: { "liiibre.org/tenant": slug } };',
        "const b = hostOf(\"cloud\", domain);",
        "const c = `https://office.${domain}/`;",
        'const d = { publicHost: "chat.{domain}" };',
        'const e = { spec: { ingressClassName: "traefik" } };',
        'const g = { metadata: { namespace: "minio" } };',
        'const h = { annotations: { "cert-manager.io/cluster-issuer": "letsencrypt" } };',
        // Not copies: another key, a file name, a prefix that is no host, a class of another controller.
        'const ok = { "grafana.ini": {}, ingressClassName: "nginx", namespace: args.namespace, host: hostOf(HOST_PREFIXES.nextcloud, d) };',
      ].join("\n");
      fs.writeFileSync(f, src);
      const at = (line: number, what: string) => expect.stringMatching(new RegExp(`^components/apps/x\\.ts:${line}: ${what.replace(/[()"]/g, "\\$&")}`));
      expect(factProblemsIn(f, dir)).toEqual([
        at(1, 'label/annotation key "liiibre.org/tenant"'),
        at(2, 'hostOf("cloud"'),
        at(3, 'host prefix "office"'),
        at(4, 'host prefix "chat"'),
        at(5, 'ingressClassName: "traefik"'),
        at(6, 'namespace "minio"'),
        at(7, '"cert-manager.io/cluster-issuer": use PLATFORM.clusterIssuerAnnotation'),
        at(7, 'issuer name "letsencrypt"'),
      ]);
      // The same text in the homes is the definition, not a copy.
      const home = path.join(dir, "components/conventions.ts");
      fs.writeFileSync(home, 'export const PLATFORM = { clusterIssuer: "letsencrypt", clusterIssuerAnnotation: "cert-manager.io/cluster-issuer" };');
      expect(factProblemsIn(home, dir)).toEqual([]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("derived names agree with their homes", () => {
  it("the modules' namespace constants are the conventions' names", () => {
    expect(PLATFORM_NAMESPACES).toEqual({ ingress: NAMESPACES.ingress, certManager: NAMESPACES.certManager, monitoring: NAMESPACES.monitoring, platform: NAMESPACES.platform, system: NAMESPACES.system });
    expect([STORAGE_NAMESPACE, MINIO_OPERATOR_NAMESPACE, K8UP_NAMESPACE, CNPG_NAMESPACE, KURED_NAMESPACE]).toEqual([NAMESPACES.minio, NAMESPACES.minioOperator, NAMESPACES.k8up, NAMESPACES.cnpg, NAMESPACES.kured]);
    expect([PLATFORM.ingressNamespace, PLATFORM.minioNamespace, PLATFORM.keycloakNamespace, PLATFORM.jitsiNamespace]).toEqual([NAMESPACES.ingress, NAMESPACES.minio, NAMESPACES.keycloak, NAMESPACES.jitsi]);
  });

  it("every platform namespace is a reserved slug; ordinary slugs are not", () => {
    for (const ns of Object.values(NAMESPACES)) expect(isReservedSlug(ns), ns).toBe(true);
    expect(RESERVED_SLUGS).toContain("kube-public");
    expect(isReservedSlug("ada")).toBe(false);
    expect(isReservedSlug("kube-foo")).toBe(true);
  });

  it("node labels are the conventions' keys", () => {
    expect(NODE_LABELS.pool).toBe(LABELS.nodePool);
    expect(NODE_LABELS.kind).toBe(LABELS.nodeKind);
    expect(LABELS.nodePool).toBe("liiibre.org/pool");
  });

  it("the catalogue's hosts and the co-op's default hosts come from HOST_PREFIXES", () => {
    // What the co-op publishes: cloud., office., chat./matrix., pad. under an organisation's domain.
    expect(APPS.nextcloud.hosts).toEqual(["cloud"]);
    expect(APPS.matrix.hosts).toEqual(["matrix", "chat"]);
    expect(APPS.hedgedoc.hosts).toEqual(["pad"]);
    expect(APPS.onlyoffice.hosts).toEqual(["office"]);
    for (const a of Object.values(APPS)) for (const h of a.hosts) expect(Object.values(HOST_PREFIXES)).toContain(h);
    expect(coopHosts({ baseDomain: "liiibre.coop", keycloak: {}, jitsi: {} })).toEqual({ keycloak: "auth.liiibre.coop", jitsi: "meet.liiibre.coop", grafana: "grafana.liiibre.coop" });
    expect(coopHosts({ baseDomain: "liiibre.coop", keycloak: { host: "sso.example.org" }, jitsi: { host: "visio.example.org" } })).toMatchObject({ keycloak: "sso.example.org", jitsi: "visio.example.org" });
  });
});

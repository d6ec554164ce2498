/**
 * Every policy of the pack, run by the offline runner over resources built with the real SDK
 * classes and recorded by the harness: a passing and a failing case each, and a value unknown
 * during preview (an output the provider computes: `RandomId.dec`, which the mocks leave unknown).
 *
 * Expected values come from the offer's rules (docs/policies.md), not from the policies' output.
 */
import * as fs from "node:fs";
import { describe, expect, it } from "vitest";
import * as pulumi from "@pulumi/pulumi";
import * as hcloud from "@pulumi/hcloud";
import * as k8s from "@pulumi/kubernetes";
import * as minio from "@pulumi/minio";
import * as random from "@pulumi/random";
import { evaluate, readStackConfig, stackConfigFile, type Evaluation } from "../scripts/harness";
import { checkPolicies, packPolicies, type Violation, type PolicyPackConfig } from "../scripts/check-policies";
import { ANNOTATIONS, LABELS } from "../components/conventions";
import { isSensitiveKey } from "../policies/secrets-are-secret";
import { ANONYMOUS_READ_PREFIXES, anonymousReadPolicy } from "../components/storage/anonymousRead";

const CONFIG = readStackConfig(stackConfigFile("dev"));
const GB = 1024 ** 3;

async function run(program: () => void, packConfig: PolicyPackConfig = {}): Promise<{ evaluation: Evaluation; violations: Violation[] }> {
  const evaluation = await evaluate({ config: CONFIG, stack: "dev", program });
  return { evaluation, violations: await checkPolicies(evaluation, { config: packConfig }) };
}
/** Violations of one policy, keyed by the resource name (the last URN segment). */
function byName(violations: Violation[], policy: string): Record<string, Violation[]> {
  const out: Record<string, Violation[]> = {};
  for (const v of violations.filter((x) => x.policy === policy)) {
    const name = v.urn ? v.urn.split("::").pop()! : "<stack>";
    (out[name] ??= []).push(v);
  }
  return out;
}
/** An output unknown during preview (the mocks compute no `dec` for RandomId). */
const unknownString = (name: string) => new random.RandomId(name, { byteLength: 4 }).dec;

/** A bundle's owner component (components/attribution.ts attributes buckets by it, not by name). */
const bundleOwner = (slug: string) => new pulumi.ComponentResource("liiibre:tenant:Tenant", slug, {}, {});

const tenantNs = (slug: string, extra: { users?: number; quota?: number; exemption?: string; plan?: string; stateful?: boolean } = {}) =>
  new k8s.core.v1.Namespace(slug, {
    metadata: {
      name: slug,
      labels: { [LABELS.tenant]: slug, [LABELS.layer]: "tenant", ...(extra.stateful ? { [LABELS.stateful]: "true" } : {}) },
      annotations: {
        [ANNOTATIONS.plan]: extra.plan ?? "dedicated",
        [ANNOTATIONS.users]: String(extra.users ?? 20),
        [ANNOTATIONS.quotaPerUserGB]: String(extra.quota ?? 10),
        ...(extra.exemption ? { [ANNOTATIONS.quotaExemption]: extra.exemption } : {}),
      },
    },
  });

describe("the pack", () => {
  it("has the 17 contract policies, each with a config schema whose defaults are the offer's", async () => {
    const policies = await packPolicies();
    expect(policies.map((p) => p.name)).toEqual([
      "storage-quota-per-user", "storage-pool-matches-users", "video-max-720p", "backups-offsite", "stateful-protected",
      "eu-locations-only", "firewall-no-public-admin", "tenant-isolation", "no-public-buckets", "matrix-defaults",
      "pinned-versions", "secrets-are-secret", "small-orgs-share", "admin-surfaces-restricted", "mail-relay", "channel-order", "ingress-class-served",
    ]);
    for (const p of policies) {
      expect(p.enforcementLevel, p.name).toBe(p.name === "small-orgs-share" ? "advisory" : "mandatory");
      expect(Object.keys(p.configSchema?.properties ?? {}).length, p.name).toBeGreaterThan(0);
    }
    const d = (name: string, key: string) => (policies.find((p) => p.name === name)!.configSchema!.properties[key] as { default: unknown }).default;
    expect(d("storage-quota-per-user", "maxPerUserGB")).toBe(10);
    expect(d("video-max-720p", "maxHeight")).toBe(720);
    expect(d("eu-locations-only", "allowedLocations")).toEqual(["fsn1", "nbg1", "hel1"]);
    expect(d("small-orgs-share", "threshold")).toBe(10);
    expect(d("backups-offsite", "primaryLocation")).toBe("fsn1");
    expect(d("firewall-no-public-admin", "adminPorts")).toEqual([22, 6443]);
    expect(d("firewall-no-public-admin", "minIpv4Prefix")).toBe(16);
    expect(d("admin-surfaces-restricted", "minIpv6Prefix")).toBe(48);
  });
});

describe("pack configs (policies/<stack>.json)", () => {
  for (const stack of ["prod", "dev"]) {
    it(`${stack}.json names real policies and properties of their config schemas, with the schema's types`, async () => {
      const policies = await packPolicies();
      const cfg = JSON.parse(fs.readFileSync(`policies/${stack}.json`, "utf8")) as Record<string, unknown>;
      const typeOf = (v: unknown) => (Array.isArray(v) ? "array" : v === null ? "null" : Number.isInteger(v) ? "integer" : typeof v);
      for (const [name, c] of Object.entries(cfg)) {
        const p = policies.find((x) => x.name === name);
        expect(p, name).toBeDefined();
        if (typeof c === "string") {
          expect(["advisory", "mandatory", "disabled"], name).toContain(c);
          continue;
        }
        for (const [k, v] of Object.entries(c as Record<string, unknown>)) {
          if (k === "enforcementLevel") continue;
          const schema = p!.configSchema!.properties[k] as { type?: string } | undefined;
          expect(schema, `${name}.${k}`).toBeDefined();
          const t = typeOf(v);
          expect(schema!.type === "number" ? ["number", "integer"].includes(t) : t === schema!.type, `${name}.${k}: ${t} vs ${schema!.type}`).toBe(true);
        }
      }
    });
  }
  it("prod.json keeps the offer's thresholds", () => {
    const prod = JSON.parse(fs.readFileSync("policies/prod.json", "utf8"));
    expect(prod["storage-quota-per-user"].maxPerUserGB).toBe(10);
    expect(prod["video-max-720p"].maxHeight).toBe(720);
    expect(prod["eu-locations-only"].allowedLocations).toEqual(["fsn1", "nbg1", "hel1"]);
    expect(prod["small-orgs-share"]).toMatchObject({ enforcementLevel: "advisory", threshold: 10 });
    expect(prod["backups-offsite"]).toMatchObject({ primaryLocation: "fsn1", backupLocation: "hel1" });
  });
});

describe("firewall-no-public-admin", () => {
  it("refuses SSH or the API open to 0.0.0.0/0 or ::/0, allows admin CIDRs and public HTTPS, skips unknown sources", async () => {
    const { violations } = await run(() => {
      const rule = (port: string, sourceIps: pulumi.Input<string>[]) => ({ direction: "in", protocol: "tcp", port, sourceIps });
      new hcloud.Firewall("ok", { rules: [rule("22", ["203.0.113.16/28"]), rule("443", ["0.0.0.0/0", "::/0"]), { direction: "in", protocol: "icmp", sourceIps: ["0.0.0.0/0"] }] });
      new hcloud.Firewall("ssh-world", { rules: [rule("22", ["0.0.0.0/0"])] });
      new hcloud.Firewall("api-v6", { rules: [rule("6443", ["::/0"])] });
      new hcloud.Firewall("range", { rules: [rule("1-1024", ["0.0.0.0/0"])] });
      new hcloud.Firewall("unknown", { rules: [rule("22", [unknownString("fw-src")])] });
    });
    const v = byName(violations, "firewall-no-public-admin");
    expect(v.ok).toBeUndefined();
    expect(v["ssh-world"]).toHaveLength(1);
    expect(v["ssh-world"][0]).toMatchObject({ level: "mandatory" });
    expect(v["ssh-world"][0].message).toMatch(/tcp port 22 .*0\.0\.0\.0\/0/);
    expect(v["api-v6"][0].message).toMatch(/6443.*::\/0/);
    expect(v.range[0].message).toMatch(/tcp port 1-1024 \(admin port 22\) to 0\.0\.0\.0\/0/);
    // Unknown during preview: the analyzer cannot run the policy: one advisory, never mandatory.
    expect(v.unknown).toHaveLength(1);
    expect(v.unknown[0]).toMatchObject({ level: "advisory" });
    expect(v.unknown[0].message).toMatch(/can't run policy 'firewall-no-public-admin' during preview: string value at \.rules\.0\.sourceIps\.0/);
  });
});

describe("firewall-no-public-admin measures the address space, not the spelling", () => {
  it("the world split into halves, overlapping blocks, IPv4-mapped IPv6 and junk are the world; a /28 and a /48 are not", async () => {
    const { violations } = await run(() => {
      const rule = (port: string, sourceIps: string[]) => ({ direction: "in", protocol: "tcp", port, sourceIps });
      new hcloud.Firewall("halves", { rules: [rule("22", ["0.0.0.0/1", "128.0.0.0/1", "::/1", "8000::/1"])] });
      new hcloud.Firewall("many-16s", { rules: [rule("6443", ["10.0.0.0/16", "10.1.0.0/16"])] });
      new hcloud.Firewall("overlap", { rules: [rule("22", ["203.0.113.0/24", "203.0.113.0/25", "203.0.113.128/25"])] });
      new hcloud.Firewall("mapped", { rules: [rule("22", ["::ffff:0.0.0.0/96"])] });
      new hcloud.Firewall("junk", { rules: [rule("22", ["anywhere"])] });
      new hcloud.Firewall("admins", { rules: [rule("22", ["203.0.113.16/28", "2001:db8:4c1::/48"])] });
    });
    const v = byName(violations, "firewall-no-public-admin");
    // 2^31 + 2^31 = all of IPv4; ::/1 + 8000::/1 = all of IPv6 (the string compare of the old policy saw neither).
    expect(v.halves[0].message).toMatch(/4294967296 IPv4 addresses \(all of IPv4\), more than a \/16; 2\^128 IPv6 addresses \(all of IPv6\), more than a \/48/);
    // Two /16s are 131072 addresses: above one /16.
    expect(v["many-16s"][0].message).toMatch(/131072 IPv4 addresses/);
    // The /25s lie inside the /24: 256 addresses, counted once.
    expect(v.overlap).toBeUndefined();
    // ::ffff:0:0/96 names every IPv4 host.
    expect(v.mapped[0].message).toMatch(/4294967296 IPv4 addresses/);
    expect(v.junk[0].message).toMatch(/"anywhere" not a CIDR block/);
    expect(v.admins).toBeUndefined();
  });

  it("the limit is configurable (a /24 allowed at most)", async () => {
    const { violations } = await run(() => {
      new hcloud.Firewall("a-16", { rules: [{ direction: "in", protocol: "tcp", port: "22", sourceIps: ["10.0.0.0/16"] }] });
    }, { "firewall-no-public-admin": { minIpv4Prefix: 24 } });
    expect(byName(violations, "firewall-no-public-admin")["a-16"][0].message).toMatch(/65536 IPv4 addresses, more than a \/24/);
  });
});

describe("eu-locations-only", () => {
  it("allows fsn1/nbg1/hel1 (and their datacenters), refuses other locations and servers without a location", async () => {
    const { violations } = await run(() => {
      new hcloud.Server("fsn", { serverType: "cx22", image: "debian-12", location: "fsn1" });
      new hcloud.Server("dc", { serverType: "cx22", image: "debian-12", datacenter: "hel1-dc2" });
      new hcloud.Server("ash", { serverType: "cpx21", image: "debian-12", location: "ash" });
      new hcloud.Server("nowhere", { serverType: "cx22", image: "debian-12" });
      new hcloud.Volume("sin-vol", { size: 10, location: "sin" });
      new hcloud.LoadBalancer("lb", { loadBalancerType: "lb11", location: "nbg1" });
      new hcloud.Server("unknown", { serverType: "cx22", image: "debian-12", location: unknownString("loc") });
    });
    const v = byName(violations, "eu-locations-only");
    expect(Object.keys(v).sort()).toEqual(["ash", "nowhere", "sin-vol", "unknown"]);
    expect(v.ash[0].message).toBe('location "ash" is not an allowed location (fsn1, nbg1, hel1)');
    expect(v.nowhere[0].message).toMatch(/no location or datacenter set/);
    expect(v["sin-vol"][0].level).toBe("mandatory");
    expect(v.unknown[0].level).toBe("advisory");
  });

  it("reads its allowed locations from the pack config", async () => {
    const { violations } = await run(
      () => void new hcloud.Server("nbg", { serverType: "cx22", image: "debian-12", location: "nbg1" }),
      { "eu-locations-only": { allowedLocations: ["fsn1", "hel1"] } },
    );
    expect(byName(violations, "eu-locations-only").nbg[0].message).toBe('location "nbg1" is not an allowed location (fsn1, hel1)');
  });
});

describe("no-public-buckets", () => {
  it("refuses public ACLs and policies granting *, allows private buckets and scoped policies", async () => {
    const { violations } = await run(() => {
      new minio.S3Bucket("private", { bucket: "demo-files", acl: "private" });
      new minio.S3Bucket("public", { bucket: "demo-www", acl: "public-read" });
      const stmt = (principal: unknown) => JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: principal, Action: ["s3:GetObject"], Resource: ["arn:aws:s3:::demo-files/*"] }] });
      new minio.S3BucketPolicy("anon", { bucket: "demo-files", policy: stmt({ AWS: ["*"] }) });
      new minio.S3BucketPolicy("scoped", { bucket: "demo-files", policy: stmt({ AWS: ["arn:aws:iam:::user/demo-s3"] }) });
      new minio.S3Bucket("unknown", { bucket: "demo-x", acl: unknownString("acl") });
    });
    const v = byName(violations, "no-public-buckets");
    expect(Object.keys(v).sort()).toEqual(["anon", "public", "unknown"]);
    expect(v.public[0].message).toMatch(/public ACL "public-read"/);
    expect(v.anon[0].message).toMatch(/anonymous principal/);
    expect(v.unknown[0].level).toBe("advisory");
  });
});

describe("no-public-buckets: the HedgeDoc exception is judged by meaning", () => {
  const anon = (over: Record<string, unknown>) => ({ Effect: "Allow", Principal: { AWS: ["*"] }, Action: ["s3:GetObject"], Resource: ["arn:aws:s3:::acme-hedgedoc/uploads/*"], ...over });
  const doc = (...Statement: unknown[]) => JSON.stringify({ Version: "2012-10-17", Statement });
  it("passes exactly anonymous GetObject on uploads/* of the HedgeDoc bucket (the program's own document too), and anything narrower", async () => {
    const { violations } = await run(() => {
      new minio.S3BucketPolicy("program", { bucket: "acme-hedgedoc", policy: JSON.stringify(anonymousReadPolicy("acme-hedgedoc", ANONYMOUS_READ_PREFIXES.hedgedoc)) });
      new minio.S3BucketPolicy("one-object", { bucket: "acme-hedgedoc", policy: doc(anon({ Resource: "arn:aws:s3:::acme-hedgedoc/uploads/logo.png", Principal: "*", Action: "S3:getobject" })) });
      new minio.S3BucketPolicy("deep-wildcard", { bucket: "acme-hedgedoc", policy: doc(anon({ Resource: ["arn:aws:s3:::acme-hedgedoc/uploads/*.png"] })) });
      // Deny statements and named principals are not anonymous grants.
      new minio.S3BucketPolicy("deny", { bucket: "acme-nextcloud", policy: doc(anon({ Effect: "Deny", Action: ["s3:*"], Resource: ["arn:aws:s3:::acme-nextcloud/*"] })) });
    });
    expect(byName(violations, "no-public-buckets")).toEqual({});
  });
  it("fails listing, a wider prefix, other actions (wildcards by what they reach), Not* forms and other buckets", async () => {
    const { violations } = await run(() => {
      const cases: Record<string, unknown[]> = {
        list: [anon({}), anon({ Action: ["s3:ListBucket"], Resource: ["arn:aws:s3:::acme-hedgedoc"] })],
        "whole-bucket": [anon({ Resource: ["arn:aws:s3:::acme-hedgedoc/*"] })],
        "sibling-prefix": [anon({ Resource: ["arn:aws:s3:::acme-hedgedoc/uploads*"] })],
        "other-prefix": [anon({ Resource: ["arn:aws:s3:::acme-hedgedoc/private/*"] })],
        "any-bucket": [anon({ Resource: ["arn:aws:s3:::*/uploads/*"] })],
        put: [anon({ Action: ["s3:GetObject", "s3:PutObject"] })],
        "get-star": [anon({ Action: ["s3:Get*"] })],
        "s3-star": [anon({ Action: "s3:*" })],
        versions: [anon({ Action: ["s3:GetObjectVersion"] })],
        "not-action": [anon({ Action: undefined, NotAction: ["s3:DeleteObject"] })],
        // NotPrincipal (everyone but one user) reaches the anonymous caller too.
        "not-principal": [anon({ Principal: undefined, NotPrincipal: { AWS: ["arn:aws:iam:::user/acme-s3"] }, Resource: ["arn:aws:s3:::acme-hedgedoc/*"] })],
      };
      for (const [name, statements] of Object.entries(cases)) new minio.S3BucketPolicy(name, { bucket: "acme-hedgedoc", policy: doc(...statements) });
      // The exact HedgeDoc grant, on a bucket that is not HedgeDoc's.
      new minio.S3BucketPolicy("nextcloud", { bucket: "acme-nextcloud", policy: JSON.stringify(anonymousReadPolicy("acme-nextcloud", "uploads/")) });
      // A HedgeDoc bucket's policy naming another tenant's HedgeDoc bucket.
      new minio.S3BucketPolicy("other-tenant", { bucket: "acme-hedgedoc", policy: doc(anon({ Resource: ["arn:aws:s3:::beta-hedgedoc/uploads/*"] })) });
    });
    const v = byName(violations, "no-public-buckets");
    expect(Object.keys(v).sort()).toEqual(["any-bucket", "get-star", "list", "not-action", "not-principal", "nextcloud", "other-prefix", "other-tenant", "put", "s3-star", "sibling-prefix", "versions", "whole-bucket"].sort());
    expect(v.list).toHaveLength(1);
    expect(v.list[0].message).toMatch(/^Statement\[1\] .*"s3:ListBucket"/);
    expect(v["get-star"][0].message).toMatch(/also grants .*GetBucket/);
    expect(v.nextcloud[0].message).toMatch(/on a bucket HedgeDoc does not write to/);
    expect(Object.values(v).flat().every((x) => x.level === "mandatory")).toBe(true);
  });
});

describe("small-orgs-share", () => {
  it("advises the shared instance for a dedicated tenant under 10 users (advisory only)", async () => {
    const { violations } = await run(() => {
      tenantNs("tiny", { users: 4 });
      tenantNs("big", { users: 10 });
      tenantNs("shared-small", { users: 3, plan: "shared" });
      new k8s.core.v1.Namespace("unknown", {
        metadata: { name: "unknown", labels: { [LABELS.tenant]: "unknown" }, annotations: { [ANNOTATIONS.plan]: "dedicated", [ANNOTATIONS.users]: unknownString("users") } },
      });
    });
    const v = byName(violations, "small-orgs-share");
    expect(Object.keys(v).sort()).toEqual(["tiny", "unknown"]);
    expect(v.tiny[0]).toMatchObject({ level: "advisory" });
    expect(v.tiny[0].message).toMatch(/4 users \(< 10\)/);
    expect(violations.filter((x) => x.policy === "small-orgs-share" && x.level === "mandatory")).toEqual([]);
  });
});

describe("pinned-versions", () => {
  it("refuses ranges, missing chart versions, latest/untagged/partial image tags; accepts exact versions and digests", async () => {
    const { violations } = await run(() => {
      const rel = (name: string, version: pulumi.Input<string> | undefined, values: Record<string, unknown> = {}) =>
        new k8s.helm.v3.Release(name, { chart: "nextcloud", version, repositoryOpts: { repo: "https://nextcloud.github.io/helm/" }, values });
      rel("exact", "6.6.4", { image: { repository: "nextcloud", tag: "30.0.4-apache" }, redis: { image: { repository: "bitnami/redis" } } });
      rel("caret", "^1.2");
      rel("none", undefined);
      rel("latest-image", "6.6.4", { image: { repository: "nextcloud", tag: "latest" } });
      rel("unknown", unknownString("ver"));
      const deploy = (name: string, image: string) =>
        new k8s.apps.v1.Deployment(name, {
          metadata: { name },
          spec: { selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: "c", image }] } } },
        });
      deploy("tagged", "docker.io/library/nginx:1.27.3");
      deploy("digest", "nginx@sha256:0000000000000000000000000000000000000000000000000000000000000000");
      deploy("untagged", "registry.example.org:5000/nginx");
      deploy("major", "postgres:16");
      deploy("minor", "nginx:1.27");
      deploy("dated", "ghcr.io/nordeck/jitsi-keycloak-adapter-v2:v20260206");
      // PostgreSQL releases have two-part versions: 17.5 is exact.
      new k8s.apiextensions.CustomResource("pg17", { apiVersion: "postgresql.cnpg.io/v1", kind: "Cluster", metadata: { name: "pg17" }, spec: { instances: 1, imageName: "ghcr.io/cloudnative-pg/postgresql:17.5" } });
    });
    const v = byName(violations, "pinned-versions");
    expect(Object.keys(v).sort()).toEqual(["caret", "latest-image", "major", "minor", "none", "unknown", "untagged"]);
    expect(v.minor[0].message).toMatch(/partial version tag "1\.27"/);
    expect(v.caret[0].message).toMatch(/version "\^1\.2" is not an exact version/);
    expect(v.none[0].message).toMatch(/no version/);
    expect(v["latest-image"][0].message).toMatch(/floating tag "latest"/);
    expect(v.untagged[0].message).toMatch(/has no tag/);
    expect(v.major[0].message).toMatch(/partial version tag "16"/);
    expect(v.unknown[0].level).toBe("advisory");
  });
});

describe("video-max-720p", () => {
  const jitsi = (name: string, values: Record<string, unknown>) =>
    new k8s.helm.v3.Release(name, { chart: "jitsi-meet", version: "1.4.1", repositoryOpts: { repo: "https://jitsi-contrib.github.io/jitsi-helm/" }, values });
  it("accepts 720p with a bitrate cap whatever the mechanism; refuses 1080p, missing settings, no bitrate cap", async () => {
    const { violations } = await run(() => {
      jitsi("env-720", { web: { extraEnvs: { RESOLUTION: "720", RESOLUTION_WIDTH: "1280" }, custom: { configs: { _custom_config_js: "config.videoQuality = { maxBitratesVideo: { low: 200000, standard: 500000, high: 1500000 } };" } } } });
      jitsi("js-720", { web: { custom: { configs: { _custom_config_js: "config.resolution = 720;\nconfig.constraints = { video: { height: { ideal: 720, max: 720, min: 180 } } };\nconfig.videoQuality = { maxBitratesVideo: { high: 1500000 } };" } } } });
      jitsi("env-1080", { web: { extraEnvs: { RESOLUTION: "1080" }, custom: { configs: { _custom_config_js: "config.videoQuality = { maxBitratesVideo: { high: 3000000 } };" } } } });
      jitsi("max-1080", { web: { custom: { configs: { _custom_config_js: "config.resolution = 720; config.constraints = { video: { height: { ideal: 720, max: 1080 } } }; config.videoQuality = { maxBitratesVideo: {} };" } } } });
      jitsi("nothing", {});
      jitsi("no-cap", { web: { extraEnvs: { RESOLUTION: "720" } } });
      jitsi("unknown", { web: { extraEnvs: { RESOLUTION: unknownString("res") } } });
      new k8s.apps.v1.Deployment("web-deploy", {
        metadata: { name: "web" },
        spec: {
          selector: { matchLabels: { app: "web" } },
          template: { metadata: { labels: { app: "web" } }, spec: { containers: [{ name: "web", image: "jitsi/web:stable-9955", env: [{ name: "RESOLUTION", value: "2160" }] }] } },
        },
      });
    });
    const v = byName(violations, "video-max-720p");
    expect(Object.keys(v).sort()).toEqual(["env-1080", "max-1080", "no-cap", "nothing", "unknown", "web-deploy"]);
    for (const k of Object.keys(v)) expect(v[k], k).toHaveLength(1);
    expect(v["env-1080"][0].message).toBe("resolution 1080 exceeds 720p; maximum video height 1080 exceeds 720p");
    expect(v["max-1080"][0].message).toBe("maximum video height 1080 exceeds 720p");
    expect(v.nothing[0].message).toMatch(/no resolution set.*no maximum video height set.*no bitrate cap/);
    expect(v["no-cap"][0].message).toBe("no bitrate cap (videoQuality.maxBitratesVideo)");
    expect(v["web-deploy"][0].message).toMatch(/resolution 2160 exceeds 720p/);
    expect(v.unknown[0].level).toBe("advisory");
  });
});

describe("matrix-defaults", () => {
  const synapse = (name: string, config: pulumi.Input<string>) =>
    new k8s.helm.v3.Release(name, {
      chart: "matrix-stack",
      version: "25.4.0",
      repositoryOpts: { repo: "oci://ghcr.io/element-hq/ess-helm" },
      values: { synapse: { additional: { "liiibre.yaml": { config } } } },
    });
  it("requires e2ee off by default and federation on", async () => {
    const { violations } = await run(() => {
      synapse("good", "encryption_enabled_by_default_for_room_type: off\nfederation_domain_whitelist: null\n");
      synapse("e2ee-all", "encryption_enabled_by_default_for_room_type: all\n");
      synapse("e2ee-unset", "max_upload_size: 100M\n");
      synapse("no-federation", "encryption_enabled_by_default_for_room_type: off\nfederation_domain_whitelist: []\n");
      synapse("unknown", unknownString("cfg"));
    });
    const v = byName(violations, "matrix-defaults");
    expect(Object.keys(v).sort()).toEqual(["e2ee-all", "e2ee-unset", "no-federation", "unknown"]);
    expect(v["e2ee-all"][0].message).toMatch(/is "all", expected "off"/);
    expect(v["e2ee-unset"][0].message).toMatch(/not set/);
    expect(v["no-federation"][0].message).toMatch(/federation is off: federation_domain_whitelist is empty/);
    expect(v.unknown[0].level).toBe("advisory");
  });
});

describe("stateful-protected", () => {
  it("requires protect or retainOnDelete and Hetzner protections on what holds data", async () => {
    const { violations } = await run(() => {
      new hcloud.Volume("vol-ok", { size: 10, location: "fsn1", deleteProtection: true }, { protect: true });
      new hcloud.Volume("vol-retained", { size: 10, location: "fsn1", deleteProtection: true }, { retainOnDelete: true });
      new hcloud.Volume("vol-bare", { size: 10, location: "fsn1" });
      new hcloud.Volume("vol-no-hetzner", { size: 10, location: "fsn1", deleteProtection: false }, { protect: true });
      const labels = { "liiibre.org/role": "backup", "liiibre.org/pool": "backup" };
      new hcloud.Server("backup-ok", { serverType: "cx22", image: "debian-12", location: "hel1", labels, deleteProtection: true, rebuildProtection: true }, { protect: true });
      new hcloud.Server("backup-rebuildable", { serverType: "cx22", image: "debian-12", location: "hel1", labels, deleteProtection: true }, { protect: true });
      new hcloud.Server("stateless-worker", { serverType: "cx22", image: "debian-12", location: "fsn1", labels: { "liiibre.org/role": "worker" } });
      new minio.S3Bucket("bucket-bare", { bucket: "demo-files" });
      new k8s.core.v1.Namespace("ns-stateful", { metadata: { name: "demo", labels: { [LABELS.stateful]: "true" } } });
      new hcloud.Volume("vol-unknown", { size: 10, location: "fsn1", deleteProtection: unknownString("dp") as unknown as boolean }, { protect: true });
    });
    const v = byName(violations, "stateful-protected");
    expect(Object.keys(v).sort()).toEqual(["backup-rebuildable", "bucket-bare", "ns-stateful", "vol-bare", "vol-no-hetzner", "vol-unknown"]);
    expect(v["vol-bare"][0].message).toBe("Volume holds data: deleteProtection is not true; neither protect nor retainOnDelete is set");
    expect(v["vol-no-hetzner"][0].message).toBe("Volume holds data: deleteProtection is not true");
    expect(v["backup-rebuildable"][0].message).toMatch(/rebuildProtection is not true/);
    expect(v["bucket-bare"][0].message).toMatch(/neither protect nor retainOnDelete/);
    expect(v["vol-unknown"][0].level).toBe("advisory");
  });
});

describe("secrets-are-secret", () => {
  it("requires credentials to be Pulumi secrets and keeps them out of ConfigMaps and container env", async () => {
    const { violations } = await run(() => {
      const pw = new random.RandomPassword("pw", { length: 32 });
      const rel = (name: string, values: Record<string, unknown>) =>
        new k8s.helm.v3.Release(name, { chart: "hedgedoc", version: "1.0.0", repositoryOpts: { repo: "https://example.org/charts" }, values });
      rel("secret-values", { db: { password: pw.result, existingSecret: "", passwordSecretKey: "password" } });
      rel("plain-values", { db: { password: "hunter2-plain" }, secretName: "db" });
      // References to Secrets (chart conventions) are not credentials.
      rel("reference-values", {
        externalDatabase: { existingSecret: { secretName: "pg-app", passwordKey: "password" } },
        objectStore: { s3: { secretKeys: { accessKey: "AWS_ACCESS_KEY_ID", secretKey: "AWS_SECRET_ACCESS_KEY" } } },
        synapse: { macaroon: { secret: "synapse-keys", secretKey: "macaroon" }, additional: { "x.yaml": { configSecret: "synapse-cfg", configSecretKey: "x.yaml" } } },
      });
      new k8s.core.v1.ConfigMap("cm-plain", { metadata: { name: "env" }, data: { DB_PASSWORD: "hunter2", DB_HOST: "pg" } });
      new k8s.core.v1.ConfigMap("cm-ok", { metadata: { name: "env2" }, data: { DB_HOST: "pg", PASSWORD_FILE: "/run/secrets/db" } });
      const deploy = (name: string, env: k8s.types.input.core.v1.EnvVar[]) =>
        new k8s.apps.v1.Deployment(name, {
          metadata: { name },
          spec: { selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: "app", image: "app:1.2.3", env }] } } },
        });
      deploy("env-ref", [{ name: "DB_PASSWORD", valueFrom: { secretKeyRef: { name: "db", key: "password" } } }, { name: "DB_HOST", value: "pg" }]);
      deploy("env-plain", [{ name: "API_TOKEN", value: "abc123" }]);
      new k8s.core.v1.Secret("k8s-secret", { metadata: { name: "db" }, stringData: { password: pw.result, token: "plain-but-the-sdk-secrets-it" } });
      rel("unknown", { db: { password: unknownString("pw-unknown") } });
    });
    const v = byName(violations, "secrets-are-secret");
    // The unknown password is computed during preview (a random output): never a literal in clear,
    // so the policy skips it instead of giving up on the resource.
    expect(Object.keys(v).sort()).toEqual(["cm-plain", "env-plain", "plain-values"]);
    expect(v["plain-values"][0].message).toBe("values.db.password carries a credential but is not a Pulumi secret (use pulumi.secret / a random or tls resource's output)");
    expect(v["cm-plain"][0].message).toMatch(/ConfigMap key DB_PASSWORD holds a credential in clear/);
    expect(v["env-plain"][0].message).toMatch(/env API_TOKEN holds a credential in clear/);
    expect(v.unknown).toBeUndefined();
  });
});

describe("secrets-are-secret: which key names carry credentials", () => {
  it("values vs references", () => {
    for (const k of ["password", "adminPassword", "DB_PASSWORD", "secretKey", "AWS_SECRET_ACCESS_KEY", "clientSecret", "token", "apiKey", "privateKey", "macaroon", "registrationSharedSecret"]) {
      expect(isSensitiveKey(k), k).toBe(true);
    }
    for (const k of ["existingSecret", "secretName", "secretKeyRef", "passwordKey", "passwordFile", "tokenEndpoint", "tokenTtl", "secretKeys", "accessKey", "username", "kind"]) {
      expect(isSensitiveKey(k), k).toBe(false);
    }
  });
});

describe("tenant-isolation", () => {
  it("requires a ResourceQuota, a LimitRange and a default-deny ingress NetworkPolicy in every tenant namespace", async () => {
    const { violations } = await run(() => {
      const isolate = (ns: string, podSelector: Record<string, unknown> = {}) => {
        new k8s.core.v1.ResourceQuota(`${ns}-quota`, { metadata: { name: "quota", namespace: ns }, spec: { hard: { "requests.cpu": "4" } } });
        new k8s.core.v1.LimitRange(`${ns}-limits`, { metadata: { name: "limits", namespace: ns }, spec: { limits: [{ type: "Container", default: { memory: "512Mi" } }] } });
        new k8s.networking.v1.NetworkPolicy(`${ns}-deny`, { metadata: { name: "default-deny", namespace: ns }, spec: { podSelector, policyTypes: ["Ingress"] } });
      };
      tenantNs("isolated");
      isolate("isolated");
      tenantNs("open");
      tenantNs("selective");
      isolate("selective", { matchLabels: { app: "web" } });
      new k8s.core.v1.Namespace("platform-ns", { metadata: { name: "ingress-nginx" } });
      tenantNs("unknown-ns");
      new k8s.core.v1.ResourceQuota("unknown-quota", { metadata: { name: "q", namespace: unknownString("ns") }, spec: {} });
    });
    const v = byName(violations, "tenant-isolation");
    expect(v.isolated).toBeUndefined();
    expect(v.open[0].message).toBe(
      "namespace open of open lacks a ResourceQuota, a LimitRange, a default-deny ingress NetworkPolicy (podSelector {}, policyTypes [Ingress], no ingress rule)",
    );
    expect(v.selective[0].message).toMatch(/lacks a default-deny ingress NetworkPolicy/);
    expect(v["platform-ns"]).toBeUndefined();
    // The ResourceQuota with an unknown namespace is skipped with an advisory, the others still checked.
    expect(v["unknown-quota"][0].level).toBe("advisory");
    expect(v["unknown-ns"][0].level).toBe("mandatory");
  });
});

describe("storage-quota-per-user", () => {
  const nextcloud = (name: string, namespace: string, hook: pulumi.Input<string>) =>
    new k8s.helm.v3.Release(name, {
      chart: "nextcloud",
      version: "6.6.4",
      namespace,
      repositoryOpts: { repo: "https://nextcloud.github.io/helm/" },
      values: { nextcloud: { hooks: { "post-installation": hook } } },
    });
  it("caps per-user quotas at 10 GB unless the organisation has an exemption with a reason", async () => {
    const { violations } = await run(() => {
      tenantNs("normal", { quota: 10 });
      nextcloud("normal-nextcloud", "normal", 'php occ config:app:set files default_quota --value "10 GB"');
      tenantNs("greedy", { quota: 20 });
      nextcloud("greedy-nextcloud", "greedy", 'php occ config:app:set files default_quota --value "20 GB"');
      // Declares 10 GB but its Nextcloud gives 20 GB.
      tenantNs("sneaky", { quota: 10 });
      nextcloud("sneaky-nextcloud", "sneaky", "php occ config:app:set files default_quota --value '20GB'");
      tenantNs("studio", { quota: 50, exemption: "audiovisual post-production (contract 2024-17)" });
      nextcloud("studio-nextcloud", "studio", 'php occ config:app:set files default_quota --value "50 GB"');
      tenantNs("unlimited", { quota: 10 });
      nextcloud("unlimited-nextcloud", "unlimited", "php occ config:app:set files default_quota --value none\nphp occ user:setting alice files quota \"11 GB\"");
      tenantNs("unknown", { quota: 10 });
      nextcloud("unknown-nextcloud", "unknown", unknownString("hook"));
    });
    const v = byName(violations, "storage-quota-per-user");
    // One violation per tenant: greedy's namespace (its release is not reported again).
    expect(Object.keys(v).sort()).toEqual(["greedy", "sneaky-nextcloud", "unknown-nextcloud", "unlimited-nextcloud"]);
    expect(v.greedy[0].message).toMatch(/greedy: 20 GB per user exceeds the 10 GB cap and the namespace has no liiibre.org\/quota-exemption reason/);
    expect(v["sneaky-nextcloud"][0].message).toBe('sneaky: Nextcloud default quota "20GB" (20 GB) exceeds the 10 GB per-user cap and the organisation has no exemption');
    expect(v["unlimited-nextcloud"][0].message).toMatch(/default quota "none" \(unlimited\).*user quota "11 GB"/);
    expect(v["unknown-nextcloud"][0].level).toBe("advisory");
  });
});

describe("storage-pool-matches-users", () => {
  it("requires every primary bucket's hard quota and the group quota to equal users × per-user quota", async () => {
    const { violations } = await run(() => {
      const backup = new minio.Provider("backup-minio", { minioServer: "s3.hel.liiibre.coop:443", minioUser: "admin", minioPassword: pulumi.secret("x") });
      tenantNs("asso", { users: 12, quota: 10 });
      const asso = bundleOwner("asso");
      new minio.S3Bucket("asso-files", { bucket: "asso-files", quota: 12 * 10 * GB }, { parent: asso, protect: true });
      new minio.S3Bucket("asso-media", { bucket: "asso-media", quota: 12 * 10 * 1000 ** 3 }, { parent: asso, protect: true });
      new minio.S3Bucket("asso-pads", { bucket: "asso-pads" }, { parent: asso, protect: true });
      new minio.S3Bucket("asso-files-offsite", { bucket: "asso-files" }, { parent: asso, provider: backup, protect: true });
      // A platform bucket whose name happens to start with the slug is not the organisation's.
      new minio.S3Bucket("asso-logs", { bucket: "asso-logs" });
      new k8s.core.v1.ConfigMap("asso-hooks", { metadata: { name: "hooks", namespace: "asso" }, data: { "quota.sh": "occ groupquota:set asso 100GB" } });
      // A shared instance: one group per member organisation, their sum is the namespace's pool (7 × 10 GB).
      tenantNs("pooled", { users: 7, quota: 10, plan: "shared" });
      new k8s.core.v1.ConfigMap("pooled-hooks", { metadata: { name: "hooks", namespace: "pooled" }, data: { "quota.sh": "occ groupquota:set 'org-a' '30 GB'\nocc groupquota:set 'org-b' '40 GB'\n" } });
      new minio.S3Bucket("unknown-bucket", { bucket: unknownString("bucket") });
    });
    const v = byName(violations, "storage-pool-matches-users");
    expect(Object.keys(v).sort()).toEqual(["asso-hooks", "asso-media", "asso-pads", "unknown-bucket"]);
    // 12 users × 10 GB × 1024³ bytes (components/units.ts): 1000³ bytes per GB is a different, wrong, unit.
    expect(v["asso-media"][0].message).toMatch(/expected 12 users × 10 GB = 120 GB \(128849018880 bytes\)/);
    expect(v["asso-pads"][0].message).toMatch(/has no hard quota/);
    expect(v["asso-hooks"][0].message).toBe("asso: Nextcloud group quotas (asso 100GB) add up to 100 GB, not the pool of 12 users × 10 GB = 120 GB (128849018880 bytes)");
    expect(v["pooled-hooks"]).toBeUndefined();
    expect(v["unknown-bucket"][0].level).toBe("advisory");
  });
});

describe("backups-offsite", () => {
  it("requires off-site replication of tenant buckets, a k8up Schedule per stateful namespace and an off-site PostgreSQL backup target", async () => {
    const { violations } = await run(() => {
      const primary = new minio.Provider("primary-minio", { minioServer: "s3.fsn.liiibre.coop:443", minioUser: "admin", minioPassword: pulumi.secret("x") });
      const backup = new minio.Provider("backup-minio", { minioServer: "s3.hel.liiibre.coop:443", minioUser: "admin", minioPassword: pulumi.secret("x") });
      const schedule = (name: string, ns: string, endpoint: pulumi.Input<string>) =>
        new k8s.apiextensions.CustomResource(name, {
          apiVersion: "k8up.io/v1",
          kind: "Schedule",
          metadata: { name: "helsinki", namespace: ns },
          spec: { backend: { s3: { endpoint, bucket: `${ns}-k8up` } }, backup: { schedule: "15 2 * * *" } },
        });
      // A well backed-up tenant.
      tenantNs("good");
      schedule("good-schedule", "good", "https://s3.hel.liiibre.coop");
      const good = bundleOwner("good");
      new minio.S3Bucket("good-files", { bucket: "good-files", quota: 200 * GB }, { parent: good, provider: primary, protect: true });
      new minio.S3Bucket("good-files-offsite", { bucket: "good-files" }, { parent: good, provider: backup, protect: true });
      new k8s.batch.v1.Job("good-replication", {
        metadata: { name: "replicate-good", namespace: "minio" },
        spec: {
          template: {
            spec: {
              restartPolicy: "OnFailure",
              containers: [{ name: "mc", image: "minio/mc:RELEASE.2025-08-13T08-35-41Z", command: ["/bin/sh", "-c", 'for b in $BUCKETS; do mc replicate add "primary/$b" --remote-bucket "https://k:s@$TARGET_HOST/$b"; done'], env: [{ name: "BUCKETS", value: "good-files" }, { name: "TARGET_HOST", value: "s3.hel.liiibre.coop" }] }],
            },
          },
        },
      });
      const store = (name: string, ns: string, endpointURL: string) =>
        new k8s.apiextensions.CustomResource(name, {
          apiVersion: "barmancloud.cnpg.io/v1",
          kind: "ObjectStore",
          metadata: { name, namespace: ns },
          spec: { configuration: { destinationPath: `s3://liiibre-postgres/${ns}`, endpointURL } },
        });
      const pg = (name: string, ns: string, barmanObjectName?: string) =>
        new k8s.apiextensions.CustomResource(name, {
          apiVersion: "postgresql.cnpg.io/v1",
          kind: "Cluster",
          metadata: { name, namespace: ns },
          spec: { instances: 1, storage: { size: "10Gi" }, ...(barmanObjectName ? { plugins: [{ name: "barman-cloud.cloudnative-pg.io", isWALArchiver: true, parameters: { barmanObjectName } }] } : {}) },
        }, { protect: true });
      store("good-pg-helsinki", "good", "https://s3.hel.liiibre.coop");
      pg("good-pg", "good", "good-pg-helsinki");
      // Failures.
      tenantNs("noschedule");
      tenantNs("local");
      schedule("local-schedule", "local", "https://s3.fsn.liiibre.coop");
      new minio.S3Bucket("lonely-files", { bucket: "good-media", quota: 200 * GB }, { parent: good, provider: primary, protect: true });
      // Outside every bundle: the platform's, whatever its name (no replication required of it here).
      new minio.S3Bucket("platform-files", { bucket: "good-platform", quota: 200 * GB }, { provider: primary, protect: true });
      store("local-pg-store", "good", "https://s3.fsn.liiibre.coop");
      pg("local-pg", "good", "local-pg-store");
      pg("nobackup-pg", "good");
      tenantNs("unknown");
      schedule("unknown-schedule", "unknown", unknownString("endpoint"));
    });
    const v = byName(violations, "backups-offsite");
    expect(Object.keys(v).sort()).toEqual(["local", "local-pg", "lonely-files", "nobackup-pg", "noschedule", "unknown", "unknown-schedule"]);
    expect(v.noschedule[0].message).toMatch(/stateful namespace noschedule has no k8up Schedule/);
    expect(v.local[0].message).toMatch(/endpoint https:\/\/s3\.fsn\.liiibre\.coop is in the primary location fsn1/);
    expect(v["lonely-files"][0].message).toBe("good: bucket good-media is not copied off-site: no twin bucket in hel1; no replication (mc replicate add) towards hel1 names it");
    expect(v["local-pg"][0].message).toMatch(/no off-site backup target: endpoint https:\/\/s3\.fsn\.liiibre\.coop is in the primary location/);
    expect(v["nobackup-pg"][0].message).toMatch(/has no backup target/);
    // The Schedule whose endpoint is unknown is skipped (advisory), so its namespace counts as without one.
    expect(v["unknown-schedule"][0].level).toBe("advisory");
    expect(v.unknown[0].level).toBe("mandatory");
  });
});

describe("ingress-class-served", () => {
  const ingress = (name: string, cls?: string, annotations?: Record<string, string>) =>
    new k8s.networking.v1.Ingress(name, {
      metadata: { name, namespace: "apps", annotations },
      spec: { ...(cls ? { ingressClassName: cls } : {}), rules: [{ host: `${name}.example.org`, http: { paths: [{ path: "/", pathType: "Prefix", backend: { service: { name, port: { number: 80 } } } }] } }] },
    });
  const traefik = (values: Record<string, unknown>) =>
    new k8s.helm.v3.Release("traefik", { name: "traefik", chart: "traefik", version: "41.3.0", namespace: "traefik", repositoryOpts: { repo: "https://traefik.github.io/charts" }, values });
  const gateway = (name: string, ns: string, cls: string) =>
    new k8s.apiextensions.CustomResource(`gw-${ns}-${name}`, {
      apiVersion: "gateway.networking.k8s.io/v1",
      kind: "Gateway",
      metadata: { name, namespace: ns },
      spec: { gatewayClassName: cls, listeners: [{ name: "web", protocol: "HTTP", port: 80 }] },
    });
  const route = (name: string, ns: string, parent: Record<string, unknown>) =>
    new k8s.apiextensions.CustomResource(`route-${name}`, {
      apiVersion: "gateway.networking.k8s.io/v1",
      kind: "HTTPRoute",
      metadata: { name, namespace: ns },
      spec: { parentRefs: [parent], rules: [{ backendRefs: [{ name: "svc", port: 80 }] }] },
    });

  it("passes what Traefik serves: its IngressClass (named or defaulted), its GatewayClass and the Gateways of that class", async () => {
    const { violations } = await run(() => {
      traefik({ ingressClass: { name: "edge" }, providers: { kubernetesGateway: { enabled: true } }, gateway: { enabled: false } });
      ingress("named", "edge");
      ingress("unnamed"); // Traefik's IngressClass is the default one unless told otherwise
      gateway("public", "apps", "traefik"); // the chart's default GatewayClass name
      route("to-public", "apps", { name: "public", sectionName: "web" });
      route("cross-ns", "other", { name: "public", namespace: "apps" });
      new k8s.helm.v3.Release("nextcloud", { name: "nextcloud", chart: "nextcloud", version: "8.6.0", namespace: "apps", values: { ingress: { enabled: true, className: "edge" } } });
      new k8s.apiextensions.CustomResource("issuer", {
        apiVersion: "cert-manager.io/v1",
        kind: "ClusterIssuer",
        metadata: { name: "le" },
        spec: { acme: { server: "https://acme.example/dir", privateKeySecretRef: { name: "k" }, solvers: [{ http01: { gatewayHTTPRoute: { parentRefs: [{ name: "public", namespace: "apps" }] } } }, { http01: { ingress: { ingressClassName: "edge" } } }] } },
      });
    });
    expect(byName(violations, "ingress-class-served")).toEqual({});
  });

  it("refuses an Ingress, a chart's values, a solver, a Gateway or a route on a class nobody serves", async () => {
    const { violations } = await run(() => {
      traefik({ ingressClass: { name: "edge", isDefaultClass: false } }); // Gateway API provider off: no GatewayClass
      ingress("on-nginx", "nginx");
      ingress("legacy-annotation", undefined, { "kubernetes.io/ingress.class": "nginx" });
      ingress("no-class");
      gateway("public", "apps", "traefik");
      route("to-public", "apps", { name: "public" });
      route("to-nowhere", "apps", { name: "missing", sectionName: "web" });
      new k8s.helm.v3.Release("jitsi", { name: "jitsi", chart: "jitsi-meet", version: "1.5.2", namespace: "apps", values: { web: { ingress: { enabled: true, ingressClassName: "nginx" } }, jvb: { ingress: { enabled: false, ingressClassName: "nginx" } } } });
      new k8s.apiextensions.CustomResource("issuer", {
        apiVersion: "cert-manager.io/v1",
        kind: "ClusterIssuer",
        metadata: { name: "le" },
        spec: { acme: { server: "https://acme.example/dir", privateKeySecretRef: { name: "k" }, solvers: [{ http01: { ingress: { ingressClassName: "nginx" } } }] } },
      });
    });
    const v = byName(violations, "ingress-class-served");
    expect(v["on-nginx"][0].message).toBe("Ingress apps/on-nginx is on class nginx, which no controller serves (served: edge)");
    expect(v["legacy-annotation"][0].message).toMatch(/class nginx, which no controller serves/);
    expect(v["no-class"][0].message).toBe("Ingress apps/no-class names no class and the stack has no default IngressClass");
    expect(v["gw-apps-public"][0].message).toBe("Gateway apps/public is of class traefik, which no controller serves (served: none)");
    expect(v["route-to-public"][0].message).toMatch(/attaches to Gateway apps\/public of class traefik, which no controller serves/);
    expect(v["route-to-nowhere"][0].message).toBe("HTTPRoute apps/to-nowhere attaches to Gateway apps/missing, which the stack does not have");
    // Only the enabled ingress section of the chart counts.
    expect(v.jitsi.map((x) => x.message)).toEqual(["release jitsi: values web.ingress.ingressClassName = nginx, a class no controller serves (served: edge)"]);
    expect(v.issuer[0].message).toMatch(/solvers\[0\] answers HTTP-01 on class nginx/);
    for (const list of Object.values(v)) for (const x of list) expect(x.level).toBe("mandatory");
  });

  it("counts the nginx class as served while Traefik's ingress-nginx provider is on (the migration)", async () => {
    const on = await run(() => {
      traefik({ providers: { kubernetesIngressNGINX: { enabled: true } } });
      ingress("on-nginx", "nginx");
    });
    expect(byName(on.violations, "ingress-class-served")).toEqual({});
    const off = await run(() => {
      traefik({ providers: { kubernetesIngressNGINX: { enabled: false } } });
      ingress("on-nginx", "nginx");
    });
    expect(byName(off.violations, "ingress-class-served")["on-nginx"][0].message).toMatch(/class nginx, which no controller serves \(served: traefik\)/);
  });

  it("a stack that runs no controller (a tenant shard) may use the estate's edge classes, and no other", async () => {
    const { violations } = await run(() => {
      ingress("on-edge", "traefik");
      ingress("no-class");
      gateway("public", "apps", "traefik");
      route("to-public", "apps", { name: "public" });
      ingress("on-nginx", "nginx");
      gateway("other", "apps", "envoy");
    });
    const v = byName(violations, "ingress-class-served");
    expect(Object.keys(v).sort()).toEqual(["gw-apps-other", "on-nginx"]);
    expect(v["on-nginx"][0].message).toBe("Ingress apps/on-nginx is on class nginx, which no controller serves (served: traefik)");
  });

  it("knows classes served from outside the stack when the pack config lists them", async () => {
    const { violations } = await run(() => {
      traefik({});
      ingress("on-nginx", "nginx");
    }, { "ingress-class-served": { externalIngressClasses: ["nginx"] } });
    expect(byName(violations, "ingress-class-served")).toEqual({});
  });
});

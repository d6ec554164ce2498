/**
 * The adversarial suite (issue 9): hostile configurations, each refused with exit 2 and the key
 * path that carries it, or accepted with the hostile value provably inert where it lands.
 * Threat model and the list of what a config author can reach: docs/security.md.
 *
 * The base is the committed dev stack; each case breaks one thing. Expected key paths are the
 * place of the hostile value in the config (never read back from the code's output).
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { execFileSync } from "node:child_process";
import { stringify as toYaml } from "yaml";
import { describe, expect, it } from "vitest";
import { configProblems } from "../components/estate";
import { readStackConfig, stackConfigFile } from "../scripts/harness";
import { runPlan } from "../scripts/plan";
import { errorPage } from "../components/platform/error-pages";
import { groupQuotaLines } from "../components/apps/nextcloud";
import { k0sctlConfig } from "../components/k0s/k0sctl-config";

const base = (): any => structuredClone(readStackConfig(stackConfigFile("dev")));
const shared = (over: Record<string, unknown> = {}) => ({ slug: "petite", name: "Petite", domain: "petite.example.org", plan: "shared", users: 4, ...over });
const dedicated = (over: Record<string, unknown> = {}) => ({ slug: "acme", name: "Acme", domain: "acme.example.org", plan: "dedicated", users: 20, ...over });
const long = (n: number, c = "a") => c.repeat(n);

type Case = [title: string, mutate: (c: any) => void, keyPath: string];

const HOSTILE: Case[] = [
  // Validation gaps that used to exit 3 (a component error) or 0.
  ["users: 1e9", (c) => (c.tenants = [dedicated({ users: 1e9 })]), "liiibre:tenants[0].users"],
  ["a huge exempted quota", (c) => (c.tenants = [dedicated({ quotaPerUserGB: 1e12, exemption: { reason: "audiovisual rushes, agreed" } })]), "liiibre:tenants[0].quotaPerUserGB"],
  ["users: NaN-like text", (c) => (c.tenants = [dedicated({ users: "lots" })]), "liiibre:tenants[0].users"],
  // What reaches the k0sctl document (k0sctl expands ${VAR}) and the --labels/--taints flags.
  ["a label value expanding the CI token", (c) => (c.nodePools[0].labels = { "liiibre.org/x": "${PULUMI_ACCESS_TOKEN}" }), "liiibre:nodePools[0].labels.liiibre.org/x"],
  ["a comma injecting a label", (c) => (c.nodePools[0].labels = { "liiibre.org/x": "a,node-role.kubernetes.io/control-plane=" }), "liiibre:nodePools[0].labels.liiibre.org/x"],
  ["a label key with a $", (c) => (c.nodePools[0].labels = { "$(id)": "x" }), "liiibre:nodePools[0].labels.$(id)"],
  ["a label value over 63 characters", (c) => (c.nodePools[0].labels = { "liiibre.org/x": long(64) }), "liiibre:nodePools[0].labels.liiibre.org/x"],
  ["a taint key with ${}", (c) => (c.nodePools[0].taints = [{ key: "${HOME}", effect: "NoSchedule" }]), "liiibre:nodePools[0].taints[0].key"],
  ["a taint value with a comma", (c) => (c.nodePools[0].taints = [{ key: "a", value: "b,c=d:NoExecute", effect: "NoSchedule" }]), "liiibre:nodePools[0].taints[0].value"],
  ["an SSH user expanding a variable", (c) => (c.cluster.ssh = { user: "${PULUMI_ACCESS_TOKEN}" }), "liiibre:cluster.ssh.user"],
  // Addresses.
  ["a malformed IPv6 CIDR", (c) => (c.hetzner.adminCidrs = ["2001:db8:::/48"]), "liiibre:hetzner.adminCidrs[0]"],
  ["an IPv6 group of five digits", (c) => (c.hetzner.adminCidrs = ["2001:db8:12345::/48"]), "liiibre:hetzner.adminCidrs[0]"],
  ["host bits set", (c) => (c.hetzner.adminCidrs = ["203.0.113.7/24"]), "liiibre:hetzner.adminCidrs[0]"],
  ["pod and service CIDRs overlapping", (c) => (c.cluster.network = { podCIDR: "10.96.0.0/16", serviceCIDR: "10.96.0.0/12" }), "liiibre:cluster.network.serviceCIDR"],
  // Lengths.
  ["an Ingress host over 253 characters", (c) => (c.tenants = [dedicated({ domain: `${long(60)}.${long(60, "b")}.${long(60, "c")}.${long(60, "d")}.org` })]), "liiibre:tenants[0].domain"],
  ["a display name of 10,000 characters", (c) => (c.tenants = [dedicated({ name: long(10_000) })]), "liiibre:tenants[0].name"],
  ["an exemption reason over 256 KiB (a namespace annotation)", (c) => (c.tenants = [dedicated({ quotaPerUserGB: 50, exemption: { reason: long(300 * 1024) } })]), "liiibre:tenants[0].exemption.reason"],
  ["a control character in a name", (c) => (c.tenants = [dedicated({ name: "Acme\u0007" })]), "liiibre:tenants[0].name"],
  // Reserved names (namespaces, realms, groups, buckets).
  ["slug admin (Nextcloud's admin group)", (c) => (c.tenants = [shared({ slug: "admin" })]), "liiibre:tenants[0].slug"],
  ["slug in the group namespace", (c) => (c.tenants = [shared({ slug: "org-admin" })]), "liiibre:tenants[0].slug"],
  ["slug kube-*", (c) => (c.tenants = [dedicated({ slug: "kube-evil" })]), "liiibre:tenants[0].slug"],
  ["slug of the ingress controller's namespace", (c) => (c.tenants = [dedicated({ slug: "traefik" })]), "liiibre:tenants[0].slug"],
  ["sharedInstance.slug kube-system", (c) => (c.sharedServices.sharedInstance.slug = "kube-system"), "liiibre:sharedServices.sharedInstance.slug"],
  ["sharedInstance.slug admin", (c) => (c.sharedServices.sharedInstance.slug = "admin"), "liiibre:sharedServices.sharedInstance.slug"],
  ["keycloak.realm master", (c) => (c.sharedServices.keycloak = { realm: "master" }), "liiibre:sharedServices.keycloak.realm"],
  ["a dedicated realm named after the estate realm", (c) => (c.tenants = [dedicated({ slug: "liiibre", dedicatedRealm: true })]), "liiibre:tenants[0].slug"],
  // Domains disjoint from the co-op's hosts and from other tenants'.
  ["a tenant domain = the Keycloak host", (c) => (c.tenants = [dedicated({ domain: `auth.${c.sharedServices.baseDomain}` })]), "liiibre:tenants[0].domain"],
  ["a tenant domain above the co-op's domain", (c) => (c.tenants = [dedicated({ domain: c.sharedServices.baseDomain.split(".").slice(-2).join(".") })]), "liiibre:tenants[0].domain"],
  ["a tenant domain under the S3 endpoint", (c) => (c.tenants = [dedicated({ domain: `x.${c.storage.s3Domain}` })]), "liiibre:tenants[0].domain"],
  ["a tenant domain that is another tenant's Nextcloud host", (c) => (c.tenants = [dedicated(), dedicated({ slug: "evil", domain: "cloud.acme.example.org" })]), "liiibre:tenants[1].domain"],
  ["a tenant domain under another tenant's host", (c) => (c.tenants = [dedicated(), dedicated({ slug: "evil", domain: "x.pad.acme.example.org" })]), "liiibre:tenants[1].domain"],
  // What lands in HTML (error pages on every host) and shell (cron in CRs is not shell, still bounded).
  ["an e-mail with HTML", (c) => (c.cluster.letsEncryptEmail = "<script>alert(1)</script>@x.org"), "liiibre:cluster.letsEncryptEmail"],
  ["a cron schedule with a command substitution", (c) => (c.backup.k8up = { backup: "$(reboot) * * * *" }), "liiibre:backup.k8up.backup"],
  ["cross-organisation sharing on a dedicated tenant", (c) => (c.tenants = [dedicated({ crossOrganisationSharing: true })]), "liiibre:tenants[0].crossOrganisationSharing"],
];

describe("hostile configurations are refused with their key path", () => {
  it.each(HOSTILE)("%s", (_title, mutate, keyPath) => {
    const c = base();
    mutate(c);
    const problems = configProblems(c);
    expect(problems.some((p) => p.startsWith(`${keyPath}: `)), `${keyPath} in:\n${problems.join("\n")}`).toBe(true);
  });

  it("the base is valid (each case fails for its own reason)", () => {
    expect(configProblems(base())).toEqual([]);
  });
});

describe("npm run plan on the crafted configs of the issue", () => {
  const write = (mutate: (c: any) => void): string => {
    const c = base();
    mutate(c);
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "sec-")), "Pulumi.hostile.yaml");
    fs.writeFileSync(file, toYaml({ config: Object.fromEntries(Object.entries(c).map(([k, v]) => [`liiibre:${k}`, v])) }));
    return file;
  };
  const plan = async (file: string) => {
    let out = "";
    let err = "";
    const code = await runPlan({ stack: "dev", configFile: file, format: "text" } as any, { write: (s) => (out += s), error: (s) => (err += s) });
    return { code, out, err };
  };

  it("users: 1e9 exits 2 naming the key (it exited 3 with a component error)", async () => {
    const r = await plan(write((c) => (c.tenants[0].users = 1e9)));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/liiibre:tenants\[0\]\.users: expected an integer at most 100000, got 1000000000/);
  }, 120_000);

  it("adminCidrs split in halves exits 1 with the firewall policy (it exited 0)", async () => {
    const r = await plan(write((c) => (c.hetzner.adminCidrs = ["0.0.0.0/1", "128.0.0.0/1", "::/1", "8000::/1"])));
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/firewall-no-public-admin/);
    expect(r.out).toMatch(/all of IPv4/);
  }, 300_000);
});

describe("hostile values that are accepted stay inert where they land", () => {
  it("a display name with quotes, $() and HTML reaches occ as one literal argument", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "occ-"));
    const log = path.join(dir, "argv");
    const name = `O'Brien"; $(touch ${dir}/pwned) \`id\` <b>&`;
    const script = ["occ() { for a in \"$@\"; do printf '%s\\n' \"$a\" >> " + log + "; done; }", ...groupQuotaLines({ slug: "obrien", displayName: name, quotaGB: 10, active: true, crossSharing: false })].join("\n");
    execFileSync("/bin/sh", ["-c", script], { env: { PATH: "/usr/bin:/bin" } });
    const args = fs.readFileSync(log, "utf8").split("\n");
    expect(args).toContain(name);
    expect(fs.existsSync(path.join(dir, "pwned"))).toBe(false);
  });

  it("the error pages escape what they show", () => {
    const page = errorPage(503, `a&b<script>"x"@example.org`);
    expect(page).toContain("a&amp;b&lt;script&gt;&quot;x&quot;@example.org");
    expect(page).not.toContain("<script>");
  });

  it("the k0sctl document holds no `$` but its own key-path variable, whatever valid config feeds it", () => {
    const doc = JSON.stringify(
      k0sctlConfig({
        clusterName: "ada-lovelace",
        k0sVersion: "v1.33.4+k0s.0",
        apiDomain: "api.example.org",
        network: { provider: "kuberouter", podCIDR: "10.244.0.0/16", serviceCIDR: "10.96.0.0/12" },
        ssh: { user: "root", port: 22 },
        workerDisruptionPercent: 10,
        hosts: [{ name: "w1", kind: "dedicated", role: "worker", address: "192.0.2.1", privateAddress: "10.0.2.1", labels: { "liiibre.org/storage": "true", "example.com/zone": "a_b.c-d" }, taints: [{ key: "liiibre.org/storage", value: "true", effect: "NoSchedule" }], reset: false }],
      }),
    );
    expect(doc.replace(/\$\{K0SCTL_SSH_KEY_PATH\}/g, "")).not.toContain("$");
  });
});

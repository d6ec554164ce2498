/**
 * The estate config contract: every validation rule has a failing case and its message.
 * The base config is the real dev stack file; each case breaks one thing.
 */
import { describe, expect, it } from "vitest";
import { configProblems, decodeConfigValue, parseEstate } from "../components/config";
import { readStackConfig, stackConfigFile } from "../scripts/harness";

const base = (): any => structuredClone(readStackConfig(stackConfigFile("dev")));

const problems = configProblems;

function breakWith(mutate: (c: any) => void): string[] {
  const c = base();
  mutate(c);
  return problems(c);
}

const dedicatedServer = (over: Record<string, unknown> = {}) => ({
  name: "fsn-apps-01",
  pool: "workers",
  location: "fsn1",
  publicIpv4: "88.99.1.2",
  privateIpv4: "10.0.2.11",
  cores: 8,
  ramGB: 64,
  disks: [{ sizeGB: 512, kind: "nvme" }],
  monthlyPriceEUR: 39,
  auction: true,
  ...over,
});

describe("the committed stacks", () => {
  it("prod and dev are valid", () => {
    expect(problems(readStackConfig(stackConfigFile("prod")))).toEqual([]);
    expect(problems(base())).toEqual([]);
  });

  it("prod is the real estate: Falkenstein primary, Helsinki backups, ada-lovelace, ≥ 60 organisations, ~14,000 accounts", () => {
    const e = parseEstate(readStackConfig(stackConfigFile("prod")));
    expect(e.hetzner.locations).toMatchObject({ primary: "fsn1", backup: "hel1" });
    expect(e.cluster.name).toBe("ada-lovelace");
    expect(e.tenants.length).toBeGreaterThanOrEqual(60);
    const users = e.tenants.reduce((n, t) => n + t.users, 0);
    expect(users).toBeGreaterThanOrEqual(13_000);
    expect(users).toBeLessThanOrEqual(15_000);
    expect(e.tenants.some((t) => t.plan === "shared")).toBe(true);
    expect(e.tenants.some((t) => t.plan === "dedicated")).toBe(true);
    // The offer: organisations under ten people join the shared instance (CONTEXT.md).
    for (const t of e.tenants.filter((t) => t.plan === "shared" && t.slug !== "particuliers")) expect(t.users).toBeLessThan(10);
    // Exemptions exist, are few and explicit (2–3 organisations asked for more).
    const exempt = e.tenants.filter((t) => t.quotaPerUserGB > 10);
    expect(exempt.length).toBeGreaterThanOrEqual(1);
    expect(exempt.length).toBeLessThanOrEqual(3);
    for (const t of exempt) expect(t.exemption?.reason.length).toBeGreaterThan(10);
  });

  it("applies every default in one place", () => {
    const e = parseEstate(base());
    expect(e.hetzner.networkZone).toBe("eu-central");
    expect(e.hetzner.locations.allowed).toEqual(["fsn1", "nbg1", "hel1"]);
    expect(e.offer).toEqual({ quotaPerUserGB: 10, smallOrgThreshold: 10 });
    const demo = e.tenants.find((t) => t.slug === "demo")!;
    expect(demo.quotaPerUserGB).toBe(10);
    expect(demo.state).toBe("active");
    expect(demo.apps).toEqual(["nextcloud", "onlyoffice", "collabora", "matrix", "hedgedoc"]);
    expect(e.backup.noncurrentVersionDays).toBe(30);
    expect(e.sharedServices.jitsi.resolution).toBe(720);
  });
});

describe("schema problems name the key path, what was expected and what was found", () => {
  it("a negative user count", () => {
    expect(breakWith((c) => (c.tenants[1].users = -5))).toEqual(["liiibre:tenants[1].users: expected an integer >= 1, got -5"]);
  });

  it("a fractional user count", () => {
    expect(breakWith((c) => (c.tenants[0].users = 2.5))).toEqual(["liiibre:tenants[0].users: expected an integer >= 1, got 2.5"]);
  });

  it("an enum lists its allowed values", () => {
    expect(breakWith((c) => (c.tenants[0].plan = "dedicted"))).toEqual([
      'liiibre:tenants[0].plan: expected one of shared | dedicated, got "dedicted"',
    ]);
    expect(breakWith((c) => (c.tenants[0].state = "paused"))).toEqual([
      'liiibre:tenants[0].state: expected one of active | suspended | decommissioned, got "paused"',
    ]);
  });

  it("an unknown app", () => {
    const p = breakWith((c) => (c.tenants[0].apps = ["nextcloud", "owncloud"]));
    expect(p).toHaveLength(1);
    expect(p[0]).toMatch(/^liiibre:tenants\[0\]\.apps\[1\]: expected one of nextcloud \| onlyoffice \| .* \| jitsi-dedicated, got "owncloud"$/);
  });

  it("a slug that does not match the pattern", () => {
    expect(breakWith((c) => (c.tenants[0].slug = "Demo_Org"))).toEqual([
      'liiibre:tenants[0].slug: expected a slug matching ^[a-z][a-z0-9-]{1,30}$, got "Demo_Org"',
    ]);
    expect(breakWith((c) => (c.tenants[0].slug = "a".repeat(32)))[0]).toMatch(/^liiibre:tenants\[0\]\.slug: expected a slug matching/);
  });

  it("a typo in a key is reported with a suggestion", () => {
    const p = breakWith((c) => (c.tenants[0].quotaPerUserGb = 10));
    expect(p).toHaveLength(1);
    expect(p[0]).toMatch(/^liiibre:tenants\[0\]\.quotaPerUserGb: unknown key \(did you mean "quotaPerUserGB"\?\); expected one of slug \| name \| domain/);
  });

  it("an unknown top-level key", () => {
    const p = breakWith((c) => (c.tenant = []));
    expect(p).toHaveLength(1);
    expect(p[0]).toMatch(/^liiibre:tenant: unknown key \(did you mean "tenants"\?\); expected one of hetzner \| nodePools/);
  });

  it("a missing required key", () => {
    expect(breakWith((c) => delete c.hetzner.adminCidrs)).toEqual(["liiibre:hetzner.adminCidrs: required: expected a list, got nothing"]);
    expect(breakWith((c) => delete c.cluster)).toEqual(["liiibre:cluster: required: expected an object, got nothing"]);
  });

  it("a wrong type", () => {
    expect(breakWith((c) => (c.tenants = { demo: {} }))).toEqual(["liiibre:tenants: expected a list, got an object"]);
    expect(breakWith((c) => (c.tenants[0].dedicatedRealm = "yes"))).toEqual(['liiibre:tenants[0].dedicatedRealm: expected true or false, got "yes"']);
  });

  it("an unknown location", () => {
    expect(breakWith((c) => (c.nodePools[0].cloud.location = "fra1"))).toEqual([
      'liiibre:nodePools[0].cloud.location: expected one of fsn1 | nbg1 | hel1 | ash | hil | sin, got "fra1"',
    ]);
  });

  it("malformed addresses and domains", () => {
    expect(breakWith((c) => (c.hetzner.adminCidrs = ["203.0.113.0/33"]))).toEqual([
      'liiibre:hetzner.adminCidrs[0]: expected an IPv4 or IPv6 CIDR such as 203.0.113.0/24 (prefix must be 0..32), got "203.0.113.0/33"',
    ]);
    expect(breakWith((c) => (c.tenants[0].domain = "Demo.Org"))).toEqual([
      'liiibre:tenants[0].domain: expected a lower-case DNS domain such as example.org, got "Demo.Org"',
    ]);
  });

  it("the backup server kind lists its variants", () => {
    expect(breakWith((c) => (c.backup.server = { kind: "storagebox" }))).toEqual([
      'liiibre:backup.server.kind: expected one of cloud | dedicated, got "storagebox"',
    ]);
  });

  it("reports every problem of a config at once", () => {
    const p = breakWith((c) => {
      c.tenants[0].users = 0;
      c.tenants[1].plan = "free";
      c.cluster.letsEncryptEmail = "nobody";
    });
    expect(p).toHaveLength(3);
  });
});

describe("cross-field rules", () => {
  it("duplicate slugs", () => {
    expect(breakWith((c) => (c.tenants[1].slug = c.tenants[0].slug))).toEqual([
      'liiibre:tenants[1].slug: expected a unique slug, got "demo" (already used at liiibre:tenants[0].slug)',
    ]);
  });

  it("duplicate domains, and a domain of the co-op's services", () => {
    expect(breakWith((c) => (c.tenants[1].domain = c.tenants[0].domain))).toEqual([
      'liiibre:tenants[1].domain: expected a unique domain, got "demo.dev.liiibre.coop" (already used at liiibre:tenants[0].domain)',
    ]);
    expect(breakWith((c) => (c.tenants[0].domain = "mutualise.dev.liiibre.coop"))).toEqual([
      'liiibre:tenants[0].domain: expected a domain disjoint from the co-op\'s hosts (neither equal to, under nor above mutualise.dev.liiibre.coop, liiibre:sharedServices.sharedInstance.domain), got "mutualise.dev.liiibre.coop"',
    ]);
  });

  it("a slug reserved by the platform or the shared instance", () => {
    expect(breakWith((c) => (c.tenants[0].slug = "keycloak"))[0]).toMatch(/^liiibre:tenants\[0\]\.slug: expected a slug not reserved by the platform \(.*keycloak.*\), got "keycloak"$/);
    expect(breakWith((c) => (c.tenants[0].slug = "mutualise"))[0]).toMatch(/^liiibre:tenants\[0\]\.slug: expected a slug not reserved/);
  });

  it("OnlyOffice and Collabora need Nextcloud", () => {
    expect(breakWith((c) => (c.tenants[0].apps = ["onlyoffice", "matrix"]))).toEqual([
      'liiibre:tenants[0].apps[0]: expected "nextcloud" in the same list (OnlyOffice Document Server needs it), got "onlyoffice" without it',
    ]);
    expect(breakWith((c) => (c.tenants[0].apps = ["collabora"]))).toEqual([
      'liiibre:tenants[0].apps[0]: expected "nextcloud" in the same list (Collabora Online needs it), got "collabora" without it',
    ]);
  });

  it("an app listed twice", () => {
    expect(breakWith((c) => (c.tenants[0].apps = ["nextcloud", "nextcloud"]))).toEqual([
      'liiibre:tenants[0].apps[1]: expected each app once, got "nextcloud" twice',
    ]);
  });

  it("an app the project cannot deploy yet is rejected, not ignored", () => {
    const p = breakWith((c) => (c.tenants[0].apps = ["nextcloud", "decidim"]));
    expect(p).toHaveLength(1);
    expect(p[0]).toMatch(/^liiibre:tenants\[0\]\.apps\[1\]: expected an app this project deploys \(nextcloud \| .*\), got "decidim": Decidim is not available yet$/);
  });

  it("a shared organisation can only use the shared instance's apps", () => {
    expect(breakWith((c) => (c.tenants[1].apps = ["nextcloud", "jitsi-dedicated"]))).toEqual([
      'liiibre:tenants[1].apps[1]: expected an app of the shared instance (nextcloud | onlyoffice | collabora | matrix | hedgedoc) for plan "shared", got "jitsi-dedicated"; use plan "dedicated" for it',
    ]);
    expect(breakWith((c) => (c.tenants[1].dedicatedRealm = true))).toEqual([
      'liiibre:tenants[1].dedicatedRealm: expected false for plan "shared" (the shared instance lives in the estate realm), got true',
    ]);
  });

  it("more than the offer's per-user quota needs an exemption with a reason", () => {
    expect(breakWith((c) => (c.tenants[0].quotaPerUserGB = 20))).toEqual([
      "liiibre:tenants[0].quotaPerUserGB: expected at most 10 (the offer's per-user cap, liiibre:offer.quotaPerUserGB) unless the tenant has exemption.reason, got 20",
    ]);
    expect(breakWith((c) => Object.assign(c.tenants[0], { quotaPerUserGB: 20, exemption: { reason: "video post-production rushes" } }))).toEqual([]);
    expect(breakWith((c) => Object.assign(c.tenants[0], { quotaPerUserGB: 20, exemption: { reason: "because" } }))).toEqual([
      'liiibre:tenants[0].exemption.reason: expected a reason of 10 to 500 characters, got "because"',
    ]);
    expect(breakWith((c) => (c.tenants[0].exemption = { reason: "no reason to be here at all" }))).toEqual([
      "liiibre:tenants[0].exemption: expected only with a quotaPerUserGB above the offer's cap of 10, got an exemption with quotaPerUserGB nothing",
    ]);
  });

  it("a location outside the allowed ones, and backups at the primary site", () => {
    expect(breakWith((c) => (c.nodePools[0].cloud.location = "ash"))).toEqual([
      'liiibre:nodePools[0].cloud.location: expected one of the allowed locations (fsn1 | nbg1 | hel1, liiibre:hetzner.locations.allowed), got "ash"',
    ]);
    expect(breakWith((c) => (c.hetzner.locations.backup = "fsn1"))).toEqual([
      'liiibre:hetzner.locations.backup: expected a location other than the primary (fsn1) so that backups are off-site, got "fsn1"',
    ]);
  });

  it("dedicated servers: known pool, unique names and addresses, a vSwitch", () => {
    const vswitch = (c: any) => (c.hetzner.network = { vswitch: { id: 4242 } });
    expect(
      breakWith((c) => {
        vswitch(c);
        c.dedicatedServers = [dedicatedServer({ pool: "stroage" })];
      }),
    ).toEqual(['liiibre:dedicatedServers[0].pool: expected one of the node pools (controllers | workers), got "stroage"']);
    expect(
      breakWith((c) => {
        vswitch(c);
        c.dedicatedServers = [dedicatedServer(), dedicatedServer({ publicIpv4: "88.99.1.3", privateIpv4: "10.0.2.12" })];
      }),
    ).toEqual(['liiibre:dedicatedServers[1].name: expected a unique server name, got "fsn-apps-01" (already used at liiibre:dedicatedServers[0].name)']);
    expect(breakWith((c) => (c.dedicatedServers = [dedicatedServer()]))).toEqual([
      "liiibre:hetzner.network.vswitch: expected a vSwitch (id, subnet) because dedicatedServers are declared, got nothing",
    ]);
  });

  it("an even number of controllers", () => {
    expect(breakWith((c) => (c.nodePools[0].cloud.count = 2))).toEqual([
      "liiibre:nodePools: expected an odd number of controllers (1, 3, 5…) for etcd quorum, got 2",
    ]);
  });

  it("a dedicated backup box must exist in the backup location", () => {
    expect(breakWith((c) => (c.backup.server = { kind: "dedicated", name: "hel-backup-01" }))).toEqual([
      'liiibre:backup.server.name: expected the name of a dedicatedServers entry, got "hel-backup-01"',
    ]);
    expect(
      breakWith((c) => {
        c.hetzner.network = { vswitch: { id: 4242 } };
        c.dedicatedServers = [dedicatedServer({ name: "fsn-backup-01" })];
        c.backup.server = { kind: "dedicated", name: "fsn-backup-01" };
      }),
    ).toEqual(['liiibre:backup.server.name: expected a server in the backup location hel1, got "fsn-backup-01" in fsn1']);
  });
});

describe("config values as the Pulumi CLI hands them over", () => {
  it("structured values arrive as JSON text, strings stay strings", () => {
    expect(decodeConfigValue('[{"slug":"a"}]')).toEqual([{ slug: "a" }]);
    expect(decodeConfigValue('{"a":1}')).toEqual({ a: 1 });
    expect(decodeConfigValue("fsn1")).toBe("fsn1");
    expect(decodeConfigValue("42")).toBe(42);
    expect(decodeConfigValue("{not json")).toBe("{not json");
  });
});

describe("cluster.edgeMigration: the phases of the move from ingress-nginx (docs/operations.md)", () => {
  const phase = (v: unknown, over: (c: any) => void = () => undefined) => {
    const c = base();
    if (v !== undefined) c.cluster.edgeMigration = v;
    over(c);
    return parseEstate(c).cluster.edgeMigration;
  };

  it("defaults to off; the booleans of the first version keep their meaning", () => {
    expect(phase(undefined)).toBe("off");
    expect(phase(false)).toBe("off");
    expect(phase(true)).toBe("serve-nginx");
    // What `pulumi config set` stores without a type: the string.
    expect(phase("true")).toBe("serve-nginx");
    expect(phase("false")).toBe("off");
    for (const p of ["off", "serve-nginx", "bridge"]) expect(phase(p)).toBe(p);
  });

  it("an unknown phase names the key and the allowed values", () => {
    expect(breakWith((c) => (c.cluster.edgeMigration = "reuseport"))).toEqual([
      'liiibre:cluster.edgeMigration: expected one of off | serve-nginx | bridge, got "reuseport"',
    ]);
    expect(breakWith((c) => (c.cluster.edgeMigration = 1))).toEqual(["liiibre:cluster.edgeMigration: expected one of off | serve-nginx | bridge, got 1"]);
  });

  it("bridge redirects the ingress nodes' own ports: refused behind the load balancer", () => {
    expect(breakWith((c) => ((c.cluster.edgeMigration = "bridge"), (c.cluster.ingressMode = "hostNetwork")))).toEqual([]);
    expect(breakWith((c) => ((c.cluster.edgeMigration = "bridge"), (c.cluster.ingressMode = "loadBalancer")))).toEqual([
      'liiibre:cluster.edgeMigration: expected off | serve-nginx with cluster.ingressMode "loadBalancer" (bridge redirects the ingress nodes\' own ports: hostNetwork only), got "bridge"',
    ]);
    expect(breakWith((c) => ((c.cluster.edgeMigration = "serve-nginx"), (c.cluster.ingressMode = "loadBalancer")))).toEqual([]);
  });
});

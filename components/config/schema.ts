/**
 * The estate's configuration contract: every key under `liiibre:` in `Pulumi.<stack>.yaml`.
 *
 * One zod schema for the whole estate. The TypeScript types are derived from it and every
 * default is written here, once (see docs/config.md for the reference table). Messages
 * given to checks start with "expected …": the formatter in errors.ts appends what was
 * found, so each problem reads `liiibre:<path>: expected …, got …`.
 */
import { z } from "zod";
import { APP_NAMES } from "./apps";
import { parseCidr } from "./cidr";

// ---------------------------------------------------------------------------------------
// Building blocks
// ---------------------------------------------------------------------------------------

/**
 * Phases of `cluster.edgeMigration`. The booleans of its first version stay accepted (as YAML
 * booleans or the strings the CLI may store): `true` = `serve-nginx`, `false` = `off`.
 */
export const EDGE_MIGRATION_PHASES = ["off", "serve-nginx", "bridge"] as const;
export type EdgeMigrationPhase = (typeof EDGE_MIGRATION_PHASES)[number];

/** Hetzner Cloud locations this project knows (see components/hetzner/catalog.json). */
export const HETZNER_LOCATIONS = ["fsn1", "nbg1", "hel1", "ash", "hil", "sin"] as const;
/** Hetzner network zones. */
export const NETWORK_ZONES = ["eu-central", "us-east", "us-west", "ap-southeast"] as const;

const int = (min: number, max?: number) => {
  let s = z.int({ error: max === undefined ? `expected an integer >= ${min}` : `expected an integer between ${min} and ${max}` });
  s = s.min(min, { error: max === undefined ? `expected an integer >= ${min}` : `expected an integer between ${min} and ${max}` });
  if (max !== undefined) s = s.max(max, { error: `expected an integer between ${min} and ${max}` });
  return s;
};
/** An integer >= min with an upper bound reported apart (`expected an integer >= 1` stays the message of a bad value). */
const bounded = (min: number, max: number) =>
  z
    .int({ error: `expected an integer >= ${min}` })
    .min(min, { error: `expected an integer >= ${min}` })
    .max(max, { error: `expected an integer at most ${max}` });
const number = (min: number) => z.number({ error: `expected a number >= ${min}` }).min(min, { error: `expected a number >= ${min}` });
const text = (what = "a non-empty string") => z.string({ error: `expected ${what}` }).min(1, { error: `expected ${what}` });
const bool = () => z.boolean({ error: "expected true or false" });

/** Bounds that keep every derived figure (pools in bytes, quotas, sizing) exact and plausible. */
export const MAX_USERS = 100_000;
export const MAX_QUOTA_PER_USER_GB = 10_240;

export const SLUG_PATTERN = /^[a-z][a-z0-9-]{1,30}$/;
const slug = () =>
  z.string({ error: `expected a slug matching ${SLUG_PATTERN.source}` }).regex(SLUG_PATTERN, {
    error: `expected a slug matching ${SLUG_PATTERN.source}`,
  });

const DOMAIN_PATTERN = /^(?=.{4,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;
const domain = () =>
  z.string({ error: "expected a lower-case DNS domain such as example.org" }).regex(DOMAIN_PATTERN, {
    error: "expected a lower-case DNS domain such as example.org",
  });

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const ipv4 = () => z.string({ error: "expected an IPv4 address such as 10.0.1.5" }).regex(IPV4, { error: "expected an IPv4 address such as 10.0.1.5" });
/** A CIDR parsed strictly (components/config/cidr.ts): valid address, prefix in range, no host bit set. */
const strictCidr = (families: Array<4 | 6>, what: string) =>
  z.string({ error: `expected ${what}` }).superRefine((v, ctx) => {
    const r = parseCidr(v);
    if (!r.ok) ctx.addIssue({ code: "custom", message: `expected ${what} (${r.reason})` });
    else if (!families.includes(r.cidr.family)) ctx.addIssue({ code: "custom", message: `expected ${what} (an IPv${r.cidr.family} block is not allowed here)` });
  });
const cidr4 = () => strictCidr([4], "an IPv4 CIDR such as 10.0.0.0/16");
const cidr = () => strictCidr([4, 6], "an IPv4 or IPv6 CIDR such as 203.0.113.0/24");
/**
 * An e-mail address in plain characters only: it is shown on the error pages of every host
 * (HTML) and sent to Let's Encrypt. RFC 5321 bounds: 64 characters before the @, 254 in all.
 */
const EMAIL_PATTERN = /^(?=.{6,254}$)[A-Za-z0-9._%+-]{1,64}@([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;
const email = () => z.string({ error: "expected an e-mail address" }).regex(EMAIL_PATTERN, { error: "expected an e-mail address (letters, digits and . _ % + - before the @, a lower-case domain after it)" });
const location = () => z.enum(HETZNER_LOCATIONS);
/**
 * Kubernetes label syntax (k8s.io/apimachinery validation): a key is an optional DNS-subdomain
 * prefix (<= 253) and `/`, then a name of at most 63 characters; a value is empty or at most 63
 * characters. Neither may hold `$`, `,`, `=` or spaces: they end up in the k0sctl document
 * (which expands `${VAR}`) and in `--labels=k=v,k2=v2` flags.
 */
export const LABEL_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
export const LABEL_PREFIX = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*$/;
export const LABEL_VALUE = /^(|[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)$/;
export function isLabelKey(k: string): boolean {
  const i = k.indexOf("/");
  if (i < 0) return LABEL_NAME.test(k);
  return LABEL_PREFIX.test(k.slice(0, i)) && LABEL_NAME.test(k.slice(i + 1));
}
const LABEL_KEY_MSG = "expected a Kubernetes label key ([prefix/]name: name of at most 63 letters, digits, - _ . starting and ending alphanumeric; prefix a lower-case DNS subdomain)";
const LABEL_VALUE_MSG = "expected a Kubernetes label value (empty, or at most 63 letters, digits, - _ . starting and ending alphanumeric)";
const labelKey = () => z.string({ error: LABEL_KEY_MSG }).refine(isLabelKey, { error: LABEL_KEY_MSG });
const labelValue = () => z.string({ error: LABEL_VALUE_MSG }).regex(LABEL_VALUE, { error: LABEL_VALUE_MSG });
const labels = () => z.record(labelKey(), labelValue());
/** A POSIX user name (useradd's default rule), for SSH users written into the k0sctl document. */
const POSIX_USER = /^[a-z_][a-z0-9_-]{0,31}$/;
/** A 5-field cron expression (digits, `*`, `/`, `,`, `-`). */
const CRON = /^([0-9*/,-]+\s+){4}[0-9*/,-]+$/;
const cron = () => z.string({ error: "expected a 5-field cron expression such as \"15 2 * * *\"" }).regex(CRON, { error: "expected a 5-field cron expression such as \"15 2 * * *\"" });
/** Bounded free text (display names, reasons): no control characters. */
const boundedText = (min: number, max: number, what: string) =>
  z.string({ error: `expected ${what}` })
    .min(min, { error: `expected ${what}` })
    .max(max, { error: `expected ${what}` })
    .regex(/^[^\u0000-\u001f\u007f]*$/, { error: `expected ${what} (no control characters)` });
/** `HH:MM-HH:MM` (UTC); the end may be earlier than the start (the window wraps past midnight). */
export const TIME_WINDOW_PATTERN = /^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$/;
const timeWindow = () =>
  z
    .string({ error: "expected a UTC time window HH:MM-HH:MM such as 01:00-05:00" })
    .regex(TIME_WINDOW_PATTERN, { error: "expected a UTC time window HH:MM-HH:MM such as 01:00-05:00" })
    .refine((v) => v.slice(0, 5) !== v.slice(6), { error: "expected a UTC time window HH:MM-HH:MM such as 01:00-05:00 (start and end differ)" });

// ---------------------------------------------------------------------------------------
// Sections
// ---------------------------------------------------------------------------------------

export const HetznerSchema = z.strictObject({
  locations: z
    .strictObject({
      /** Primary site, where production runs. Default `fsn1` (Falkenstein). */
      primary: location().default("fsn1"),
      /** Off-site backup site. Default `hel1` (Helsinki). */
      backup: location().default("hel1"),
      /** Locations anything may be placed in. Default `[fsn1, nbg1, hel1]`. */
      allowed: z.array(location()).min(1, { error: "expected at least one location" }).default(["fsn1", "nbg1", "hel1"]),
    })
    .prefault({}),
  /** Network zone of the private network's cloud subnet. Default `eu-central`. */
  networkZone: z.enum(NETWORK_ZONES).default("eu-central"),
  network: z
    .strictObject({
      /** IP range of the private hcloud network. Default `10.0.0.0/16`. */
      ipRange: cidr4().default("10.0.0.0/16"),
      /** Cloud servers' subnet. Default `10.0.1.0/24`. */
      cloudSubnet: cidr4().default("10.0.1.0/24"),
      /** The Robot vSwitch linking the dedicated servers; omit when there are none. */
      vswitch: z
        .strictObject({
          /** vSwitch ID from Hetzner Robot. */
          id: int(1),
          /** Subnet routed to the vSwitch. Default `10.0.2.0/24`. */
          subnet: cidr4().default("10.0.2.0/24"),
        })
        .optional(),
      /** Further cloud subnets reserved in the network (load balancers, other projects). Default none. */
      extraSubnets: z.array(cidr4()).default([]),
    })
    .prefault({}),
  /** CIDRs allowed to reach SSH (22) and the Kubernetes API (6443). Required, at least one. */
  adminCidrs: z.array(cidr()).min(1, { error: "expected at least one admin CIDR" }),
  /** SSH public keys installed on cloud servers. Required, at least one. */
  sshKeys: z
    .array(
      z.strictObject({
        name: slug(),
        publicKey: z
          .string({ error: "expected an OpenSSH public key (ssh-ed25519 … or ssh-rsa …)" })
          .regex(/^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)) [A-Za-z0-9+/=]+( .*)?$/, {
            error: "expected an OpenSSH public key (ssh-ed25519 … or ssh-rsa …)",
          }),
      }),
    )
    .min(1, { error: "expected at least one SSH key" }),
});

export const TAINT_EFFECTS = ["NoSchedule", "PreferNoSchedule", "NoExecute"] as const;
export const NODE_ROLES = ["controller", "worker", "controller+worker"] as const;

export const NodePoolSchema = z.strictObject({
  /** Pool name; node names derive from it. */
  name: slug(),
  /** k0s role of the pool's hosts. Default `worker`. */
  role: z.enum(NODE_ROLES).default("worker"),
  /** Kubernetes node labels (e.g. `liiibre.org/storage: "true"`). Default none. */
  labels: labels().default({}),
  /** Kubernetes node taints. Default none. */
  taints: z
    .array(
      z.strictObject({
        /** Label-key syntax. */
        key: labelKey(),
        /** Label-value syntax. Default empty. */
        value: labelValue().default(""),
        effect: z.enum(TAINT_EFFECTS),
      }),
    )
    .default([]),
  /** Cloud servers created by this pool; omit for a pool made only of dedicated servers. */
  cloud: z
    .strictObject({
      /** Hetzner server type, e.g. `cx32`; must exist in the location (catalog.json). */
      serverType: text("a Hetzner server type such as cx32"),
      /** Location of the pool's servers. Default: `hetzner.locations.primary`. */
      location: location().optional(),
      /** Number of servers. */
      count: int(0),
      /** OS image. Default `debian-12`. */
      image: text().default("debian-12"),
      /** Size of one protected data volume per server in GB; omit for stateless nodes. */
      volumeGB: int(10, 10240).optional(),
      /**
       * Slots (1-based: `<cluster>-<pool>-NN`) being removed: k0sctl resets them and their
       * protection is lifted; then move them to `retired` (docs/operations.md). Default none.
       */
      reset: z.array(int(1)).default([]),
      /** Slots whose servers were removed after their reset: never created again, never reused. Default none. */
      retired: z.array(int(1)).default([]),
    })
    .optional(),
});

export const DedicatedServerSchema = z.strictObject({
  /** Host name (unique among all nodes). */
  name: slug(),
  /** Node pool this server belongs to (labels, taints, role come from the pool). */
  pool: slug(),
  location: location(),
  /** Public IPv4 address (SSH target). */
  publicIpv4: ipv4(),
  /** Address on the vSwitch (inside `hetzner.network.vswitch.subnet`). */
  privateIpv4: ipv4(),
  cores: int(1),
  ramGB: int(1),
  disks: z
    .array(z.strictObject({ sizeGB: int(1), kind: z.enum(["nvme", "ssd", "hdd"]) }))
    .min(1, { error: "expected at least one disk" }),
  /** Monthly price in EUR excluding VAT, as invoiced. */
  monthlyPriceEUR: number(0),
  /** Bought on Hetzner's server auction (second-hand). */
  auction: bool(),
  /** Being removed: k0sctl drains and resets it; then delete the entry (docs/operations.md). Default false. */
  reset: bool().default(false),
});

export const ClusterSchema = z.strictObject({
  /** Cluster name. Default `ada-lovelace`. */
  name: slug().default("ada-lovelace"),
  /** DNS name of the Kubernetes API (added to the API certificate SANs). */
  apiDomain: domain(),
  network: z
    .strictObject({
      /** k0s network provider. Default `kuberouter`. */
      provider: z.enum(["kuberouter", "calico"]).default("kuberouter"),
      /** Pod CIDR. Default `10.244.0.0/16`. */
      podCIDR: cidr4().default("10.244.0.0/16"),
      /** Service CIDR. Default `10.96.0.0/12`. */
      serviceCIDR: cidr4().default("10.96.0.0/12"),
    })
    .prefault({}),
  ssh: z
    .strictObject({
      /** SSH user k0sctl connects as. Default `root`. */
      user: z.string({ error: "expected a POSIX user name such as root" }).regex(POSIX_USER, { error: "expected a POSIX user name such as root" }).default("root"),
      /** SSH port. Default 22. */
      port: int(1, 65535).default(22),
    })
    .prefault({}),
  /** Contact address of the Let's Encrypt account. */
  letsEncryptEmail: email(),
  /** How the edge (Traefik) is exposed. Default `hostNetwork` on `ingress`-labelled nodes. */
  ingressMode: z.enum(["hostNetwork", "loadBalancer"]).default("hostNetwork"),
  /**
   * Phase of the move from ingress-nginx (docs/operations.md, "Moving the edge from ingress-nginx
   * to Traefik"). Default `off`.
   * - `off` (or `false`): Traefik alone, as after the move.
   * - `serve-nginx` (or `true`): Traefik also serves the Ingresses still on class `nginx`, with
   *   their nginx annotations (its `kubernetesIngressNGINX` provider).
   * - `bridge` (`hostNetwork` only): `serve-nginx`, plus a second Traefik (`traefik-bridge`) on the
   *   ingress nodes' host network at ports EDGE_BRIDGE_PORTS, serving the `nginx`-class Ingresses:
   *   each node's ports 80/443 are redirected to it while ingress-nginx leaves that node and
   *   Traefik takes the ports, so no connection is refused (components/platform/edge.ts).
   */
  edgeMigration: z.preprocess((v) => (v === true || v === "true" ? "serve-nginx" : v === false || v === "false" ? "off" : v), z.enum(EDGE_MIGRATION_PHASES).default("off")),
  /** Workers upgraded at once by k0sctl, as a percentage of all workers. Default 10. */
  workerUpgradeConcurrencyPercent: int(1, 100).default(10),
});

export const StorageSchema = z.strictObject({
  /** Public S3 endpoint host of the primary MinIO. */
  s3Domain: domain(),
  minio: z
    .strictObject({
      /** MinIO servers (pods) in the pool; erasure coding needs >= 4. Default 4. */
      servers: int(4).default(4),
      /** Drives (volumes) per server. Default 4. */
      drivesPerServer: int(1).default(4),
      /** Size of each drive in GB. Default 1000. */
      driveSizeGB: int(1).default(1000),
      /** Storage class of the drives. Default `local-storage` (dedicated disks). */
      storageClass: text().default("local-storage"),
      /**
       * One MinIO server per storage node (required pod anti-affinity): losing a node loses one
       * server, which erasure coding survives. `false` only for small dev clusters. Default true.
       */
      spreadAcrossNodes: bool().default(true),
    })
    .prefault({}),
  /**
   * Days the primary MinIO keeps noncurrent object versions (versioning is on for replication;
   * old versions count against the bucket quota). Helsinki keeps them longer
   * (`backup.noncurrentVersionDays`). Default 7.
   */
  noncurrentVersionDays: int(1).default(7),
});

export const BackupSchema = z.strictObject({
  /** Public S3 endpoint host of the Helsinki backup MinIO. */
  s3Domain: domain(),
  /** The Helsinki backup server: a cloud server created here, or a declared dedicated box. */
  server: z
    .discriminatedUnion("kind", [
      z.strictObject({
        kind: z.literal("cloud"),
        /** Server type. Default `cx22`. */
        serverType: text().default("cx22"),
        /** Protected volumes attached to the server, sizes in GB. Default one of 1000 GB. */
        volumesGB: z.array(int(10, 10240)).min(1).default([1000]),
      }),
      z.strictObject({
        kind: z.literal("dedicated"),
        /** Name of a `dedicatedServers` entry in the backup location. */
        name: slug(),
      }),
    ])
    .prefault({ kind: "cloud" }),
  /** Days Helsinki keeps noncurrent object versions (deleted or overwritten files). Default 30. */
  noncurrentVersionDays: int(30).default(30),
  /** Retention of database base backups and WAL, in days. Default 30. */
  databaseRetentionDays: int(1).default(30),
  /**
   * Disaster recovery of the PostgreSQL clusters (docs/restore.md). `generation` N > 0 makes
   * every cluster archive under `<cluster>-gN`; while `restoring` is true, clusters created by
   * this run bootstrap from the Helsinki backups of the previous generation (up to `targetTime`,
   * RFC 3339, or the latest WAL) instead of an empty initdb. Default generation 0, not restoring.
   */
  databaseRecovery: z
    .strictObject({
      generation: int(0).default(0),
      restoring: bool().default(false),
      targetTime: z.iso.datetime({ offset: true, error: "expected an RFC 3339 time such as 2026-11-24T21:00:00Z" }).optional(),
    })
    .prefault({}),
  /** k8up restic schedules (cron, UTC) and retention. */
  k8up: z
    .strictObject({
      /** Fixed cron for every namespace's backup; omit (the default) to spread them over `backup.windows.volumeBackup` by slug. */
      backup: cron().optional(),
      /** Fixed cron of the weekly `restic check`; omit (the default) to spread it over `backup.windows.prune` by slug. */
      check: cron().optional(),
      /** Fixed cron of the weekly prune; omit (the default) to spread it over `backup.windows.prune` by slug. */
      prune: cron().optional(),
      keepDaily: int(1).default(7),
      keepWeekly: int(0).default(4),
      keepMonthly: int(0).default(6),
    })
    .prefault({}),
  /**
   * Windows (UTC, `HH:MM-HH:MM`, may wrap past midnight) the spread schedules fall in: each
   * namespace's job starts at a minute derived from a stable hash of its slug (components/ops/schedules.ts),
   * so Helsinki never receives every job at once. `pruneWeekday` (0 = Sunday) is the day of the
   * weekly check and prune. Defaults: base backups 00:30-03:30, volume backups 01:00-05:00,
   * prune/check 04:00-07:00 on Sunday.
   */
  windows: z
    .strictObject({
      baseBackup: timeWindow().default("00:30-03:30"),
      volumeBackup: timeWindow().default("01:00-05:00"),
      prune: timeWindow().default("04:00-07:00"),
      pruneWeekday: int(0, 6).default(0),
    })
    .prefault({}),
});

/**
 * How a bundle's Nextcloud runs (docs/operations.md#stateless-nextcloud). Omitted: one replica on
 * its chart volume, as before.
 */
export const NextcloudModeSchema = z.strictObject({
  /**
   * Two replicas spread over nodes with a budget, code from the image in an emptyDir, config from
   * files, pinned apps, upgrades by a one-off Job. Dedicated organisations need `ha`. Default false.
   */
  stateless: bool().default(false),
  /**
   * The running instance's `instanceid`, `passwordsalt` and `secret` were imported into the
   * program's random resources (`pulumi import`, docs/operations.md). Required (true) with
   * `stateless`: new values would not open the instance's data. Default false.
   */
  secretsImported: bool().default(false),
});

export const SharedServicesSchema = z.strictObject({
  /** The co-op's own domain; shared services live under it. */
  baseDomain: domain(),
  keycloak: z
    .strictObject({
      /** Keycloak host. Default `auth.<baseDomain>`. */
      host: domain().optional(),
      /** The estate realm every organisation belongs to. Default `liiibre`. */
      realm: slug().default("liiibre"),
      /** Provision Nextcloud accounts over SCIM from Keycloak. Default false. */
      scim: bool().default(false),
    })
    .prefault({}),
  jitsi: z
    .strictObject({
      /** Shared Jitsi host. Default `meet.<baseDomain>`. */
      host: domain().optional(),
      /** Maximum video height. Default 720 (the offer's cap). */
      resolution: int(180, 2160).default(720),
      /** Maximum video bitrates per simulcast layer, bits per second. */
      maxBitratesVideo: z
        .strictObject({ low: int(1).default(200_000), standard: int(1).default(500_000), high: int(1).default(1_500_000) })
        .prefault({}),
    })
    .prefault({}),
  sharedInstance: z
    .strictObject({
      /** Slug of the shared instance (namespace, buckets). Default `mutualise`. */
      slug: slug().default("mutualise"),
      /** Domain of the shared instance. */
      domain: domain(),
      /** Apps of the shared bundle. Default nextcloud, onlyoffice, collabora, matrix, hedgedoc. */
      apps: z.array(z.enum(APP_NAMES)).default(["nextcloud", "onlyoffice", "collabora", "matrix", "hedgedoc"]),
      /** How its Nextcloud runs (NextcloudModeSchema). Default: one replica on its volume. */
      nextcloud: NextcloudModeSchema.optional(),
    }),
});

export const OfferSchema = z.strictObject({
  /** Storage per account in GB (binary, as Nextcloud counts): the default and the cap. Default 10. */
  quotaPerUserGB: bounded(1, MAX_QUOTA_PER_USER_GB).default(10),
  /** Organisations under this many users belong on the shared instance. Default 10. */
  smallOrgThreshold: int(1).default(10),
});

export const TENANT_PLANS = ["shared", "dedicated"] as const;
/**
 * How a dedicated organisation's data is laid out (docs/storage.md#data-layouts):
 * - `lean`: one CloudNativePG cluster for the organisation, one database and one role per app,
 *   one Helsinki user for its volume and database backups;
 * - `per-app`: one CloudNativePG cluster per app database, each with its own Helsinki user
 *   (the layout of organisations created before the lean one: their data lives there);
 * - `migrating`: both, the apps still on the per-app clusters, the lean cluster created empty to
 *   receive the copy (docs/storage.md#migrating-to-the-lean-layout).
 */
export const DATA_LAYOUTS = ["lean", "migrating", "per-app"] as const;
export type DataLayout = (typeof DATA_LAYOUTS)[number];
/** The layout of an organisation that does not say: the lean one (new organisations). */
export const DEFAULT_DATA_LAYOUT: DataLayout = "lean";
/**
 * Where a dedicated organisation's bound secrets (values tied to existing data or sessions:
 * signing and session keys, passwords stored at install, S3 and database keys) come from
 * (docs/security.md#generated-secrets-bound-or-rotatable):
 * - `derived`: from the bundle's one protected key, like its rotatable secrets (organisations
 *   created in the lean layout);
 * - `own`: each its own protected generated resource (organisations created before: `per-app`
 *   and `migrating` always; a migrated organisation in `lean` keeps them with `own`).
 */
export const BOUND_SECRETS = ["own", "derived"] as const;
export type BoundSecrets = (typeof BOUND_SECRETS)[number];
/** The default of a layout: derived for lean organisations, own for the others. */
export const defaultBoundSecrets = (layout: DataLayout): BoundSecrets => (layout === "lean" ? "derived" : "own");
/**
 * How a dedicated organisation's plain Kubernetes objects are declared
 * (docs/scaling.md#bundled-kubernetes-objects, components/kit/bundleObjects.ts):
 * - `resources`: each its own Pulumi resource (organisations created before the objects release);
 * - `adopting`: still their own resources, with Helm's ownership metadata and `retainOnDelete`,
 *   one `up` before `bundled` so that Helm adopts them in place and Pulumi forgets them;
 * - `bundled`: entries of ONE Helm release of the objects chart (the Namespace, Secrets, the
 *   CloudNativePG Cluster, Jobs and the apps' own releases stay resources).
 */
export const KUBERNETES_OBJECTS = ["resources", "adopting", "bundled"] as const;
export type KubernetesObjects = (typeof KUBERNETES_OBJECTS)[number];
/** The default of a layout: bundled for lean organisations, resources for the others. */
export const defaultKubernetesObjects = (layout: DataLayout): KubernetesObjects => (layout === "lean" ? "bundled" : "resources");
/**
 * Where a dedicated organisation's apps keep their files in MinIO (docs/storage.md#buckets):
 * - `per-app`: one bucket per app that stores files (`<slug>-nextcloud`, `<slug>-matrix-media`,
 *   `<slug>-hedgedoc`), each with its versioning, lifecycle, Helsinki twin and the whole pool as
 *   its quota (organisations created before the organisation bucket);
 * - `organisation`: ONE bucket `<slug>-apps` (its versioning, lifecycle and Helsinki twin), each app
 *   under its own prefix, the pool its one hard quota — the pool is then enforced across the apps,
 *   not per app. Moving a live organisation is a data move (docs/storage.md#moving-to-the-organisation-bucket).
 */
export const BUCKET_LAYOUTS = ["per-app", "organisation"] as const;
export type BucketLayout = (typeof BUCKET_LAYOUTS)[number];
/** The default of a data layout: the organisation bucket for lean organisations, per-app buckets for the others. */
export const defaultBucketLayout = (layout: DataLayout): BucketLayout => (layout === "lean" ? "organisation" : "per-app");
export const TENANT_STATES = ["active", "suspended", "decommissioned"] as const;

export const TenantSchema = z.strictObject({
  /** Immutable identifier; URNs, namespaces and buckets derive from it. */
  slug: slug(),
  /** Display name (at most 100 characters). */
  name: boundedText(1, 100, "a display name of 1 to 100 characters"),
  /** The organisation's domain; app hosts are sub-domains of it. Unique. */
  domain: domain(),
  /** `shared` (on the shared instance) or `dedicated` (own bundle). */
  plan: z.enum(TENANT_PLANS),
  /** Number of accounts (the storage pool is users × quotaPerUserGB), at most 100000. */
  users: bounded(1, MAX_USERS),
  /** Apps of the bundle. Default nextcloud, onlyoffice, collabora, matrix, hedgedoc. */
  apps: z.array(z.enum(APP_NAMES)).default(["nextcloud", "onlyoffice", "collabora", "matrix", "hedgedoc"]),
  /** Storage per account in GB. Default `offer.quotaPerUserGB` (10); above it only with `exemption`. */
  quotaPerUserGB: bounded(1, MAX_QUOTA_PER_USER_GB).optional(),
  /** Why this organisation may exceed the offer's per-user cap. */
  exemption: z.strictObject({ reason: boundedText(10, 500, "a reason of 10 to 500 characters") }).optional(),
  /** Lifecycle. Default `active`. `decommissioned` stops the apps but keeps every byte of data. */
  state: z.enum(TENANT_STATES).default("active"),
  /** Give the organisation its own Keycloak realm instead of an organization in the estate realm. Default false. */
  dedicatedRealm: bool().default(false),
  /** Upgrade wave: `canary` organisations get the canary pins of components/versions.ts first. Default `stable`. */
  channel: z.enum(["canary", "stable"]).default("stable"),
  /** Two instances of each app and of each database. Default: true when `users` > `operations.haAboveUsers`. */
  ha: bool().optional(),
  /** How its Nextcloud runs (NextcloudModeSchema; `stateless` needs `ha`). Default: one replica on its volume. */
  nextcloud: NextcloudModeSchema.optional(),
  /**
   * Dedicated organisations only: the layout of its databases and backups (DATA_LAYOUTS:
   * `lean`, `migrating` or `per-app`). Default `lean`. Switching an organisation that holds
   * data is a migration (docs/storage.md#migrating-to-the-lean-layout), never a side effect.
   */
  dataLayout: z.enum(DATA_LAYOUTS).optional(),
  /**
   * Dedicated organisations only: where its bound secrets come from (BOUND_SECRETS: `own` or
   * `derived`). Default `derived` in the lean layout, `own` in the others; `derived` needs
   * `dataLayout: lean`. An organisation migrated to lean says `own`: its values are kept.
   */
  boundSecrets: z.enum(BOUND_SECRETS).optional(),
  /**
   * Dedicated organisations only: how its plain Kubernetes objects are declared
   * (KUBERNETES_OBJECTS: `resources`, `adopting` or `bundled`). Default `bundled` in the lean
   * layout, `resources` in the others. A live organisation goes `resources` → `adopting` →
   * `bundled`, one `up` each (docs/scaling.md#bundled-kubernetes-objects).
   */
  kubernetesObjects: z.enum(KUBERNETES_OBJECTS).optional(),
  /**
   * Dedicated organisations only: where its apps keep their files in MinIO (BUCKET_LAYOUTS:
   * `per-app` or `organisation`). Default `organisation` in the lean layout, `per-app` in the
   * others. Changing it on an organisation holding files is a data move
   * (docs/storage.md#moving-to-the-organisation-bucket): the old buckets are protected, so an
   * `up` without the move fails on them instead of deleting anything.
   */
  buckets: z.enum(BUCKET_LAYOUTS).optional(),
  /**
   * Shared instance only: its members may find and share with the members of the other
   * organisations that allow it too (by default an organisation of the shared instance sees only
   * its own members). Default false.
   */
  crossOrganisationSharing: bool().default(false),
  /**
   * The tenant-shard stack holding this organisation's bundle (one of `liiibre:sharding.shards`;
   * docs/scaling.md). Default: a stable hash of the slug over the shard names
   * (components/layers/placement.ts), which adding, removing or reordering other tenants never
   * changes. Setting it is how a tenant is moved deliberately (with `pulumi state move`).
   */
  shard: z.string({ error: "expected a shard name" }).optional(),
});

/** A shard name: short, as it ends the shard's stack name `<estate>-<shard>`. */
export const SHARD_PATTERN = /^[a-z][a-z0-9]{0,15}$/;
const shardName = () =>
  z.string({ error: `expected a shard name matching ${SHARD_PATTERN.source}` }).regex(SHARD_PATTERN, { error: `expected a shard name matching ${SHARD_PATTERN.source}` });

/** Default tenant-shard names: enough for ~700 organisations at today's cost per organisation (docs/scaling.md). */
export const DEFAULT_SHARDS = Array.from({ length: 64 }, (_, i) => `s${String(i).padStart(2, "0")}`);
/** Ceiling of resources in one stack (issue 14; the config may lower it, never raise it). */
export const MAX_RESOURCES_PER_STACK = 2000;

/**
 * How the estate is split into stacks (docs/scaling.md): a platform stack `<estate>` and one
 * stack `<estate>-<shard>` per shard holding organisations' bundles.
 */
export const ShardingSchema = z.strictObject({
  /** Split the estate into a platform stack and tenant-shard stacks. Default true; false keeps one stack (dev). */
  enabled: bool().default(true),
  /**
   * Names of the tenant shards, fixed once chosen (the default placement hashes a slug over
   * them; order does not matter). Default `s00`…`s63`.
   */
  shards: z.array(shardName()).min(1, { error: "expected at least one shard name" }).default(DEFAULT_SHARDS),
  /** Most resources a stack may hold, estimated before anything is registered. Default 2000, at most 2000. */
  maxResourcesPerStack: int(100, MAX_RESOURCES_PER_STACK).default(MAX_RESOURCES_PER_STACK),
});

// --- operations (issue 12): alerting, transactional mail, waves, availability ------------

export const ALERT_SEVERITIES = ["critical", "warning", "info"] as const;
export const ALERT_RECEIVERS = ["email", "webhook"] as const;

export const MonitoringSchema = z.strictObject({
  alerting: z
    .strictObject({
      /** Where alerts go; each receiver is optional, a route may only name a configured one. */
      receivers: z
        .strictObject({
          /** E-mail through the `mail` relay (from `mail.from.alerts`). */
          email: z.strictObject({ to: z.array(email()).min(1, { error: "expected at least one e-mail address" }) }).optional(),
          /**
           * An Alertmanager webhook, e.g. a Matrix bridge (matrix-alertmanager-receiver) posting
           * to the ops room: its URL, in-cluster or public (no credentials in it: it is not secret).
           */
          webhook: z.strictObject({ url: z.url({ error: "expected an http(s) URL" }) }).optional(),
        })
        .prefault({}),
      /**
       * Receivers per severity. Defaults: critical → every configured receiver; warning → the
       * webhook (the e-mail when there is no webhook); info → none (Grafana only).
       */
      routes: z
        .strictObject({
          critical: z.array(z.enum(ALERT_RECEIVERS)).optional(),
          warning: z.array(z.enum(ALERT_RECEIVERS)).optional(),
          info: z.array(z.enum(ALERT_RECEIVERS)).optional(),
        })
        .prefault({}),
      /** How often a still-firing alert is sent again. Default `4h`. */
      repeatInterval: z.string().regex(/^\d+[mh]$/, { error: "expected a duration such as 30m or 4h" }).default("4h"),
    })
    .prefault({}),
});

export const MAIL_TLS_MODES = ["starttls", "tls", "none"] as const;

/** The one transactional-mail relay (password: secret config `liiibre:mailPassword`). */
export const MailSchema = z.strictObject({
  /** SMTP relay host. */
  host: domain(),
  /** SMTP port. Default 587 (submission, STARTTLS). */
  port: int(1, 65535).default(587),
  /** `starttls` (587), `tls` (implicit TLS, 465) or `none` (local relay only). Default `starttls`. */
  tls: z.enum(MAIL_TLS_MODES).default("starttls"),
  /** SMTP user name. */
  user: text(),
  /** Sender addresses per purpose; each defaults to `default`. */
  from: z.strictObject({
    /** Fallback sender, e.g. `noreply@liiibre.coop`. */
    default: email(),
    /** Keycloak: password resets, verification. */
    accounts: email().optional(),
    /** Nextcloud shares and activity, Synapse notifications. */
    notifications: email().optional(),
    /** Alertmanager. */
    alerts: email().optional(),
  }),
});

export const OperationsSchema = z.strictObject({
  /** Organisations with more users than this get `ha: true` by default. Default 500. */
  haAboveUsers: int(1).default(500),
  /** Coordinated node reboots after unattended upgrades (kured). */
  reboots: z
    .strictObject({
      /** Deploy kured. Default true. */
      enabled: bool().default(true),
      /** Days and UTC window kured may reboot in. Default every day 03:00-06:00. */
      days: z.array(z.enum(["mo", "tu", "we", "th", "fr", "sa", "su"])).min(1).default(["mo", "tu", "we", "th", "fr", "sa", "su"]),
      window: timeWindow().default("03:00-06:00"),
    })
    .prefault({}),
});

/** The whole `liiibre:` namespace. Top-level keys are the Pulumi config keys. */
export const EstateSchema = z.strictObject({
  hetzner: HetznerSchema,
  /** Node pools (cloud pools and the pools dedicated servers join). */
  nodePools: z.array(NodePoolSchema).min(1, { error: "expected at least one node pool" }),
  /** Inventory of existing dedicated (Robot) servers. Default none. */
  dedicatedServers: z.array(DedicatedServerSchema).default([]),
  cluster: ClusterSchema,
  storage: StorageSchema,
  backup: BackupSchema,
  sharedServices: SharedServicesSchema,
  offer: OfferSchema.prefault({}),
  /** Client organisations. Default none. */
  tenants: z.array(TenantSchema).default([]),
  /** Platform stack and tenant-shard stacks (docs/scaling.md). Default: sharded over `s00`…`s63`. */
  sharding: ShardingSchema.prefault({}),
  /** Alerting (receivers, routes by severity). */
  monitoring: MonitoringSchema.prefault({}),
  /** The transactional-mail relay; omit only where nothing may send mail (dev). */
  mail: MailSchema.optional(),
  /** High availability defaults and node reboots. */
  operations: OperationsSchema.prefault({}),
});

/** Config keys under `liiibre:` that hold secrets; they are read with `requireSecret`, never validated here. */
export const SECRET_KEYS = ["sshPrivateKey", "mailPassword"] as const;

export type EstateInput = z.input<typeof EstateSchema>;
type ParsedEstate = z.output<typeof EstateSchema>;
export type ParsedTenant = ParsedEstate["tenants"][number];
/** A tenant after normalisation: its per-user quota, its `ha`, `dataLayout`, `boundSecrets`, `kubernetesObjects` and `buckets` defaults resolved. */
export type Tenant = Omit<ParsedTenant, "quotaPerUserGB" | "ha" | "dataLayout" | "boundSecrets" | "kubernetesObjects" | "buckets"> & {
  quotaPerUserGB: number;
  ha: boolean;
  dataLayout: DataLayout;
  boundSecrets: BoundSecrets;
  kubernetesObjects: KubernetesObjects;
  buckets: BucketLayout;
};
/** The validated estate, with every default applied. */
export type Estate = Omit<ParsedEstate, "tenants"> & { tenants: Tenant[] };
export type NodePool = Estate["nodePools"][number];
export type DedicatedServer = Estate["dedicatedServers"][number];
export type Location = (typeof HETZNER_LOCATIONS)[number];

/**
 * Stateless Nextcloud (docs/operations.md#stateless-nextcloud): two replicas of the pinned chart
 * without its ReadWriteOnce volume, for the shared instance and organisations with `ha`.
 *
 * What the image's entrypoint keeps on its volume is replaced, piece by piece:
 * - **code**: the chart's `nextcloud-main` volume becomes an emptyDir (`persistence.enabled:
 *   false`); an init container copies the image's code into it as the entrypoint does on a new
 *   volume (rsync of /usr/src/nextcloud, then version.php), so the entrypoint finds the installed
 *   version equal to the image's and skips its install and upgrade branches;
 * - **config.php**: static settings in a config file of the chart (`zz-liiibre.config.php`), the
 *   instance's `instanceid`/`passwordsalt`/`secret` in a mounted Secret, and a per-pod config.php
 *   with `installed`, the `version` and `config_is_read_only` (web pods never write config);
 * - **apps**: pinned release tarballs (components/versions.ts NEXTCLOUD_APPS), each verified by
 *   `occ integrity:check-app` (Nextcloud's code signature) or the pod fails; the app store is off;
 * - **upgrades**: a one-off Job per state (image + apps + settings). The version the database is
 *   at lives in the database (`oc_appconfig`, app `liiibre`): a web pod starts only when it equals
 *   its own state; the Job claims the state first, waits until no app pod runs (Recreate stops the
 *   old ones), upgrades, then records the new state. Two versions never run against the database.
 *
 * Pure builders here (values, PHP, scripts, Job spec); `deployStatelessNextcloud` registers them.
 */
import { createHash } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import * as random from "@pulumi/random";
import type { AppName } from "../config";
import { IMAGES, NEXTCLOUD_APPS } from "../versions";
import { LABELS } from "../conventions";
import { APPS_NODE_SELECTOR } from "./common";
import { HOSTNAME_TOPOLOGY, podDisruptionBudget } from "../ops/availability";
import { ownResources, type BundleObjects } from "../kit/bundleObjects";
import type { Resources } from "./sizing";

/** Names of the stateless mode's objects (in the bundle's namespace). */
export const STATELESS = {
  /** Chart config file with the static settings (also in the scripts ConfigMap, for the Job). */
  configFile: "zz-liiibre.config.php",
  /** Secret holding `instanceFile`: the instance's instanceid, passwordsalt and secret. */
  instanceSecret: "nextcloud-instance",
  instanceFile: "zz-liiibre-instance.config.php",
  /** ConfigMap of the scripts and config files the init container and the Job read (mounted at /liiibre). */
  scripts: "nextcloud-stateless",
  mount: "/liiibre",
  /** ServiceAccount (and Role) of the upgrade Job: list pods, nothing else. */
  serviceAccount: "nextcloud-upgrade",
  /** Label of the upgrade Job's pod; the bundle's NetworkPolicy lets it reach the Kubernetes API. */
  apiLabel: { [LABELS.kubernetesApi]: "nextcloud-upgrade" },
  /** Nextcloud app config of the markers (`oc_appconfig`): the state and the version the database is at. */
  markerApp: "liiibre",
  /** Image's server root, and where the chart mounts the data subPath (its `nextcloud.datadir` default). */
  root: "/var/www/html",
  dataMount: "/var/www/html/data",
  /**
   * Nextcloud's data directory: a directory of its own under the mount, made by prepare.sh as
   * www-data (the kubelet creates subPath directories as root, and Nextcloud wants its data
   * directory 0770, which only its owner can set).
   */
  dataDir: "/var/www/html/data/nextcloud",
} as const;

/** The chart's selector labels of the Nextcloud app pods (release `nextcloud`, component `app`). */
export const NEXTCLOUD_POD_LABELS = { "app.kubernetes.io/name": "nextcloud", "app.kubernetes.io/instance": "nextcloud", "app.kubernetes.io/component": "app" } as const;

/** `repository:tag` of the Nextcloud image the stateless mode runs everywhere (chart, init, Job). */
export const nextcloudImage = (): string => `${IMAGES.nextcloud.repository}:${IMAGES.nextcloud.tag}`;

export type PinnedAppId = keyof typeof NEXTCLOUD_APPS;

/** What decides the pinned apps (the same switches as the setup script's `app …` lines). */
export interface PinnedAppsInput {
  apps: AppName[];
  oidc: boolean;
  scim: boolean;
  /** Shared instance: it has organisation groups (groupquota). */
  groups: boolean;
}

/** The pinned apps a bundle's Nextcloud needs, sorted by id. */
export function pinnedApps(i: PinnedAppsInput): Array<{ id: PinnedAppId; version: string; url: string }> {
  const ids: PinnedAppId[] = [];
  if (i.oidc) ids.push("user_oidc");
  if (i.apps.includes("onlyoffice")) ids.push("onlyoffice");
  if (i.apps.includes("collabora")) ids.push("richdocuments");
  if (i.scim) ids.push("scimserviceprovider");
  if (i.groups) ids.push("groupquota");
  return ids.sort().map((id) => ({ id, ...NEXTCLOUD_APPS[id] }));
}

/** `LIIIBRE_APPS`: one `id version url` line per pinned app (read by prepare.sh). */
export const appsEnv = (apps: ReturnType<typeof pinnedApps>): string => apps.map((a) => `${a.id} ${a.version} ${a.url}`).join("\n");
/**
 * What the pods' gate (prepare.sh) and the upgrade Job (upgrade.sh) compare with the state the
 * database records: the same tag and app list in both, from one place.
 */
const gateEnv = (i: { env: k8s.types.input.core.v1.EnvVar[]; apps: ReturnType<typeof pinnedApps> }): k8s.types.input.core.v1.EnvVar[] => [
  ...i.env,
  { name: "LIIIBRE_STATE", value: stateTag(i.apps) },
  { name: "LIIIBRE_APPS", value: appsEnv(i.apps) },
];

/**
 * The state a web pod needs the database to be at: the image and every pinned app. A change of
 * either is an upgrade (Nextcloud upgrades app schemas with `occ upgrade` too).
 */
export function stateTag(apps: ReturnType<typeof pinnedApps>, image = nextcloudImage()): string {
  return [image.split(":").pop(), ...apps.map((a) => `${a.id}@${a.version}`)].join("+");
}

/** A PHP single-quoted string literal. */
export function phpString(s: string): string {
  return `'${s.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;
}

/** Static settings of a stateless Nextcloud (what its config.php held, now from the program). */
export interface StatelessConfigInput {
  host: string;
}

/**
 * `zz-liiibre.config.php`: database from the chart's environment (as autoconfig.php reads it), the
 * host, the settings the volume mode's hook wrote with `config:system:set`, the app store off and
 * both app paths read-only (apps come pinned), logs to the container's error log. Sorted after
 * the chart's apps.config.php: Nextcloud merges `*.config.php` files in natural order, later ones
 * winning (lib/private/Config.php readData).
 */
export function statelessConfigPhp(i: StatelessConfigInput): string {
  const url = `https://${i.host}`;
  return [
    "<?php",
    "// Written by liiibre-infra (components/apps/nextcloud-stateless.ts): a stateless Nextcloud's static settings.",
    "$CONFIG = array(",
    "  'dbtype' => 'pgsql',",
    "  'dbhost' => (string) getenv('POSTGRES_HOST'),",
    "  'dbname' => (string) getenv('POSTGRES_DB'),",
    "  'dbuser' => (string) getenv('POSTGRES_USER'),",
    "  'dbpassword' => (string) getenv('POSTGRES_PASSWORD'),",
    "  'dbtableprefix' => 'oc_',",
    `  'datadirectory' => ${phpString(STATELESS.dataDir)},`,
    `  'trusted_domains' => array(0 => ${phpString(i.host)}),`,
    `  'overwrite.cli.url' => ${phpString(url)},`,
    "  'overwriteprotocol' => 'https',",
    "  'maintenance_window_start' => 1,",
    "  'appstoreenabled' => false,",
    "  'apps_paths' => array(",
    `    0 => array('path' => ${phpString(`${STATELESS.root}/apps`)}, 'url' => '/apps', 'writable' => false),`,
    `    1 => array('path' => ${phpString(`${STATELESS.root}/custom_apps`)}, 'url' => '/custom_apps', 'writable' => false),`,
    "  ),",
    "  'log_type' => 'errorlog',",
    ");",
    "",
  ].join("\n");
}

/** The values of `zz-liiibre-instance.config.php` (secret: only ever inside a Secret). */
export interface InstanceValues {
  instanceid: string;
  passwordsalt: string;
  secret: string;
}

/** `zz-liiibre-instance.config.php`: the three values config.php held since the install. */
export function instanceConfigPhp(v: InstanceValues): string {
  return [
    "<?php",
    "$CONFIG = array(",
    `  'instanceid' => ${phpString(v.instanceid)},`,
    `  'passwordsalt' => ${phpString(v.passwordsalt)},`,
    `  'secret' => ${phpString(v.secret)},`,
    ");",
    "",
  ].join("\n");
}

/**
 * prepare.sh (init container and Job, as www-data): the image's code into the emptyDir (the
 * entrypoint's rsync), config files, config.php, the data directory's marker, then each pinned
 * app: downloaded, its version and signature file checked, `occ integrity:check-app` run.
 */
export const PREPARE_SH = `#!/bin/sh
# Stateless Nextcloud (docs/operations.md#stateless-nextcloud): code, config and pinned apps.
set -eu
html=${STATELESS.root}
lib=${STATELESS.mount}
occ() { php "$html/occ" "$@"; }
# Phases: code (no Nextcloud process runs), apps (occ runs), all (default).
phase=\${1:-all}

if [ "$phase" != apps ]; then
# Code: what the image's entrypoint copies onto a new volume, version.php last.
rsync -rlD --delete --exclude-from=/upgrade.exclude /usr/src/nextcloud/ "$html/"
mkdir -p "$html/config" "$html/custom_apps" "$html/themes" "$NEXTCLOUD_DATA_DIR"
rsync -rlD /usr/src/nextcloud/themes/ "$html/themes/"
rsync -rlD --include '/version.php' --exclude '/*' /usr/src/nextcloud/ "$html/"

# Config: the image's files, then the program's (the chart mounts the same ones in the app container).
cp /usr/src/nextcloud/config/*.php "$html/config/"
cp "$lib"/*.config.php "$html/config/"
image=$(php -r 'require "/usr/src/nextcloud/version.php"; echo implode(".", $OC_Version);')
version=\${LIIIBRE_DB_VERSION:-$image}
case "$version" in *[!0-9.]*|"") echo "liiibre: bad version '$version'" >&2; exit 1 ;; esac
case "$LIIIBRE_CONFIG_READ_ONLY" in true|false) ;; *) echo "liiibre: LIIIBRE_CONFIG_READ_ONLY must be true or false" >&2; exit 1 ;; esac
cat > "$html/config/config.php" <<EOF
<?php
\\$CONFIG = array('installed' => true, 'version' => '$version', 'config_is_read_only' => $LIIIBRE_CONFIG_READ_ONLY, 'maintenance' => false);
EOF
chmod 0640 "$html/config/config.php"

# The data directory holds no file (primary object storage), only the marker Nextcloud checks.
printf '# Nextcloud data directory\\n# Do not change this file\\n' > "$NEXTCLOUD_DATA_DIR/.ncdata"
: > "$NEXTCLOUD_DATA_DIR/.ocdata"
chmod 0770 "$NEXTCLOUD_DATA_DIR"
fi
[ "$phase" = code ] && exit 0

# Pinned apps, each verified by Nextcloud's code signing check (never from the app store).
printf '%s\\n' "$LIIIBRE_APPS" | while read -r id want url; do
  [ -n "$id" ] || continue
  rm -rf "\${html:?}/custom_apps/$id"
  curl -fsSL --retry 3 "$url" | tar -xzf - -C "$html/custom_apps"
  if [ ! -f "$html/custom_apps/$id/appinfo/signature.json" ]; then
    echo "liiibre: $id from $url has no appinfo/signature.json: refused" >&2; exit 1
  fi
  got=$(php -r '$x = simplexml_load_file($argv[1]); echo $x === false ? "" : (string) $x->version;' "$html/custom_apps/$id/appinfo/info.xml")
  if [ "$got" != "$want" ]; then
    echo "liiibre: $id from $url is version '$got', pinned $want: refused" >&2; exit 1
  fi
  if ! occ integrity:check-app --path="$html/custom_apps/$id" "$id"; then
    echo "liiibre: $id failed Nextcloud's signature check (occ integrity:check-app): refused" >&2; exit 1
  fi
  echo "liiibre: $id $want verified"
done
`;

/**
 * pod.sh (web pods' init container): refuse a wrong instance, wait until the database is at this
 * pod's state (the upgrade Job records it), then prepare. Exits non-zero after
 * `LIIIBRE_WAIT_SECONDS`: the kubelet restarts the init container.
 */
export const POD_SH = `#!/bin/sh
set -eu
lib=${STATELESS.mount}
php "$lib/gate.php" check
deadline=$(( $(date +%s) + \${LIIIBRE_WAIT_SECONDS:-900} ))
while :; do
  state=$(php "$lib/gate.php" get stateless_state)
  [ "$state" = "$LIIIBRE_STATE" ] && break
  if [ "$(date +%s)" -ge "$deadline" ]; then
    echo "liiibre: the database is at '$state', this pod needs '$LIIIBRE_STATE': the upgrade Job has not recorded it (docs/operations.md#stateless-nextcloud)" >&2
    exit 1
  fi
  echo "liiibre: waiting for the upgrade Job (database at '$state', this pod: '$LIIIBRE_STATE')"
  sleep 10
done
LIIIBRE_CONFIG_READ_ONLY=true sh "$lib/prepare.sh"
`;

/**
 * upgrade.sh (the one-off Job): checks; copies the code (no Nextcloud process yet); when the
 * recorded state differs, claims it by compare-and-set (no web pod passes its gate any more),
 * waits until no app pod has a running container, verifies the apps, moves the state to
 * `upgrading:…`, runs `occ upgrade` and records the new version; then enables the pinned apps,
 * applies the bundle's settings and records the state. A claim not yet acted on is given back on
 * any failure; an upgrade that stopped halfway stays recorded and blocks every pod and Job until a
 * person decides (docs/operations.md#stateless-nextcloud).
 */
export const UPGRADE_SH = `#!/bin/sh
set -eu
html=${STATELESS.root}
lib=${STATELESS.mount}
occ() { php "$html/occ" "$@"; }
gate() { php "$lib/gate.php" "$@"; }
prepare() { LIIIBRE_DB_VERSION=$db LIIIBRE_CONFIG_READ_ONLY=false sh "$lib/prepare.sh" "$1"; }

gate check
state=$(gate get stateless_state)
db=$(gate get stateless_version)
if [ -z "$db" ] || [ -z "$state" ]; then
  echo "liiibre: no stateless_state/stateless_version recorded in the database: adopt the instance first (docs/operations.md#stateless-nextcloud)" >&2; exit 1
fi
case "$state" in upgrading:*|claimed:*)
  echo "liiibre: the database is '$state' (another Job, or one that stopped): see docs/operations.md#stateless-nextcloud" >&2; exit 1 ;;
esac
# The code only: no Nextcloud process of the new version runs before the old ones are gone.
prepare code
image=$(php -r 'require "/usr/src/nextcloud/version.php"; echo implode(".", $OC_Version);')

if [ "$state" != "$LIIIBRE_STATE" ]; then
  gate cas stateless_state "$state" "claimed:$state"
  give_back() { gate cas stateless_state "claimed:$state" "$state" || true; }
  trap give_back EXIT
  deadline=$(( $(date +%s) + \${LIIIBRE_WAIT_SECONDS:-1200} ))
  while [ "$(php "$lib/pods.php")" != 0 ]; do
    if [ "$(date +%s)" -ge "$deadline" ]; then
      echo "liiibre: Nextcloud's app pods still run: not upgrading (the claim is given back)" >&2; exit 1
    fi
    echo "liiibre: waiting for Nextcloud's app pods to stop"
    sleep 10
  done
  prepare apps
  gate apps-present
  gate cas stateless_state "claimed:$state" "upgrading:$LIIIBRE_STATE"
  trap - EXIT
  occ upgrade --no-interaction
  now=$(occ config:system:get version)
  if [ "$now" != "$image" ]; then
    echo "liiibre: after occ upgrade the version is '$now', the image's $image: the state stays 'upgrading'" >&2; exit 1
  fi
  gate cas stateless_version "$db" "$image"
  current="upgrading:$LIIIBRE_STATE"
else
  prepare apps
  current=$state
fi
printf '%s\\n' "$LIIIBRE_APPS" | while read -r id _; do
  [ -n "$id" ] || continue
  occ app:enable "$id"
done
sh "$lib/setup.sh"
gate cas stateless_state "$current" "$LIIIBRE_STATE"
echo "liiibre: database at '$LIIIBRE_STATE'"
`;

/**
 * gate.php (PDO, the chart's POSTGRES_* variables):
 * `check`: refuse (exit 1) an instance whose instanceid has no app data folder in the object store,
 * a missing object store configuration, or a pinned app below the version the database has;
 * `get KEY`: print the marker KEY (empty when unset);
 * `cas KEY OLD NEW`: set the marker KEY to NEW only if it is OLD (exit 1 otherwise) — the only
 * write, to the rows the adoption step created;
 * `apps-present` (Job, after the code and apps are in place): refuse when an app the database has
 * enabled has no code here (Nextcloud's upgrade would disable it).
 */
export const GATE_PHP = `<?php
// Stateless Nextcloud gate (docs/operations.md#stateless-nextcloud). Writes only the two markers, by compare-and-set.
declare(strict_types=1);

function fail(string $m): never { fwrite(STDERR, "liiibre gate: $m\\n"); exit(1); }

function db(): PDO {
  $hostPort = (string) getenv('POSTGRES_HOST');
  $parts = explode(':', $hostPort, 2);
  $dsn = sprintf('pgsql:host=%s;port=%s;dbname=%s', $parts[0], $parts[1] ?? '5432', (string) getenv('POSTGRES_DB'));
  return new PDO($dsn, (string) getenv('POSTGRES_USER'), (string) getenv('POSTGRES_PASSWORD'), [PDO::ATTR_ERRMODE => PDO::ERRMODE_EXCEPTION]);
}

function appValue(PDO $db, string $app, string $key): ?string {
  $q = $db->prepare('SELECT configvalue FROM oc_appconfig WHERE appid = :a AND configkey = :k');
  $q->execute(['a' => $app, 'k' => $key]);
  $v = $q->fetchColumn();
  return $v === false ? null : (string) $v;
}

function instanceId(): string {
  $CONFIG = [];
  include '${STATELESS.root}/config/${STATELESS.instanceFile}';
  $id = $CONFIG['instanceid'] ?? '';
  if (!is_string($id) || !preg_match('/^[a-z0-9]+$/', $id)) fail('no valid instanceid in ${STATELESS.instanceFile}');
  return $id;
}

$cmd = $argv[1] ?? '';
try {
  $db = db();
  if ($cmd === 'get') {
    echo appValue($db, '${STATELESS.markerApp}', $argv[2] ?? fail('get needs a key')) ?? '', "\\n";
    exit(0);
  }
  if ($cmd === 'cas') {
    // Compare-and-set of a marker row (the adoption step creates them): one Job moves the state at a time.
    [, , $key, $old, $new] = $argv + [4 => null];
    if ($key === null || $old === null || $new === null) fail('usage: gate.php cas KEY OLD NEW');
    $q = $db->prepare('UPDATE oc_appconfig SET configvalue = :n WHERE appid = :a AND configkey = :k AND configvalue = :o');
    $q->execute(['n' => $new, 'a' => '${STATELESS.markerApp}', 'k' => $key, 'o' => $old]);
    if ($q->rowCount() !== 1) fail("$key is not '$old' any more: not set to '$new'");
    echo "liiibre gate: $key = $new\\n";
    exit(0);
  }
  if ($cmd === 'apps-present') {
    // Every app the database has enabled must have its code here: Nextcloud's upgrade disables an
    // enabled app whose code is missing (Updater::checkAppsRequirements).
    $missing = [];
    foreach ($db->query("SELECT appid FROM oc_appconfig WHERE configkey = 'enabled' AND configvalue <> 'no' ORDER BY appid") as $row) {
      $id = (string) $row['appid'];
      if (!is_dir('${STATELESS.root}/apps/' . $id) && !is_dir('${STATELESS.root}/custom_apps/' . $id)) $missing[] = $id;
    }
    if ($missing) fail('enabled in the database but neither shipped with the image nor pinned: ' . implode(', ', $missing) . ' (pin them in NEXTCLOUD_APPS, or disable them first)');
    echo "liiibre gate: every enabled app has its code\\n";
    exit(0);
  }
  if ($cmd !== 'check') fail('usage: gate.php check | get KEY | cas KEY OLD NEW | apps-present');
  if ((string) getenv('OBJECTSTORE_S3_BUCKET') === '') fail('no primary object store configured (OBJECTSTORE_S3_BUCKET): refusing to run on local storage');
  // The instanceid names the app data folder at the root of the object store's storage.
  $path = 'appdata_' . instanceId();
  $q = $db->prepare("SELECT f.fileid FROM oc_filecache f JOIN oc_storages s ON s.numeric_id = f.storage WHERE s.id LIKE 'object::store:%' AND f.path_hash = md5(:p1) AND f.path = :p2");
  $q->execute(['p1' => $path, 'p2' => $path]);
  if ($q->fetchColumn() === false) fail("the object store has no $path: this instanceid is not the instance's (import the running instance's values, docs/operations.md#stateless-nextcloud)");
  foreach (preg_split('/\\n/', trim((string) getenv('LIIIBRE_APPS'))) ?: [] as $line) {
    if (trim($line) === '') continue;
    [$id, $version] = preg_split('/\\s+/', trim($line));
    $installed = appValue($db, $id, 'installed_version');
    if ($installed !== null && version_compare($version, $installed, '<')) fail("$id is pinned at $version, the database has $installed: Nextcloud does not downgrade apps (pin at least $installed)");
  }
  echo "liiibre gate: instance and app versions checked\\n";
} catch (PDOException $e) {
  fail('database: ' . $e->getMessage());
}
`;

/** pods.php (Job): how many Nextcloud app pods have a running container (the Kubernetes API, the Job's ServiceAccount). */
export const PODS_PHP = `<?php
// Prints the number of Nextcloud app pods of this namespace with a container running.
declare(strict_types=1);
$sa = '/var/run/secrets/kubernetes.io/serviceaccount';
$ns = trim((string) file_get_contents("$sa/namespace"));
$token = trim((string) file_get_contents("$sa/token"));
$url = 'https://kubernetes.default.svc/api/v1/namespaces/' . rawurlencode($ns) . '/pods?labelSelector=' . rawurlencode((string) getenv('LIIIBRE_POD_SELECTOR'));
$context = stream_context_create([
  'http' => ['header' => "Authorization: Bearer $token\\r\\nAccept: application/json\\r\\n"],
  'ssl' => ['cafile' => "$sa/ca.crt", 'verify_peer' => true, 'verify_peer_name' => true],
]);
$body = @file_get_contents($url, false, $context);
if ($body === false) { fwrite(STDERR, "liiibre: cannot list pods\\n"); exit(1); }
$running = 0;
foreach (json_decode($body, true, 64, JSON_THROW_ON_ERROR)['items'] ?? [] as $pod) {
  foreach ($pod['status']['containerStatuses'] ?? [] as $c) {
    if (isset($c['state']['running'])) { $running++; break; }
  }
}
echo $running, "\\n";
`;

/** `app.kubernetes.io/…=…,…` of the app pods (the Job's `LIIIBRE_POD_SELECTOR`). */
export const podSelector = (): string =>
  Object.entries(NEXTCLOUD_POD_LABELS)
    .map(([k, v]) => `${k}=${v}`)
    .join(",");

/** The scripts ConfigMap's data: scripts and the config files the init container and the Job copy. */
export function scriptsData(a: { setupScript: string; configs: Record<string, string> }): Record<string, string> {
  return {
    "prepare.sh": PREPARE_SH,
    "pod.sh": POD_SH,
    "upgrade.sh": UPGRADE_SH,
    "gate.php": GATE_PHP,
    "pods.php": PODS_PHP,
    "setup.sh": a.setupScript,
    ...a.configs,
  };
}

/** The chart's environment, the parts the init container and the Job need (nextcloud 8.6.0 `nextcloud.env`). */
export interface StatelessEnvInput {
  database: { host: string; port: number; appSecretName: string };
  /** `prefix`: where its objects go in the bucket ("" or ending with "/"). Default "". */
  s3: { host: string; region: string; bucket: string; prefix?: string; credentialsSecretName: string };
  /** The bundle's extra environment (Redis, OIDC and OnlyOffice secrets). */
  extraEnv: k8s.types.input.core.v1.EnvVar[];
}

/**
 * Nextcloud's `objectPrefix` for a prefix in its bucket: its keys are `<objectPrefix><file id>`,
 * and the image's s3.config.php uses `urn:oid:` when OBJECTSTORE_S3_OBJECT_PREFIX is unset; the
 * prefix goes before it (the chart's `objectStore.s3.prefix` sets the same variable).
 */
export const nextcloudObjectPrefix = (prefix: string): string => `${prefix}urn:oid:`;

export function statelessEnv(i: StatelessEnvInput): k8s.types.input.core.v1.EnvVar[] {
  const fromSecret = (name: string, key: string) => ({ valueFrom: { secretKeyRef: { name, key } } });
  return [
    { name: "POSTGRES_HOST", value: `${i.database.host}:${i.database.port}` },
    { name: "POSTGRES_DB", value: "nextcloud" },
    { name: "POSTGRES_USER", ...fromSecret(i.database.appSecretName, "username") },
    { name: "POSTGRES_PASSWORD", ...fromSecret(i.database.appSecretName, "password") },
    { name: "NEXTCLOUD_DATA_DIR", value: STATELESS.dataDir },
    { name: "OBJECTSTORE_S3_SSL", value: "true" },
    { name: "OBJECTSTORE_S3_USEPATH_STYLE", value: "true" },
    { name: "OBJECTSTORE_S3_AUTOCREATE", value: "false" },
    { name: "OBJECTSTORE_S3_REGION", value: i.s3.region },
    { name: "OBJECTSTORE_S3_PORT", value: "443" },
    { name: "OBJECTSTORE_S3_STORAGE_CLASS", value: "" },
    { name: "OBJECTSTORE_S3_HOST", value: i.s3.host },
    { name: "OBJECTSTORE_S3_BUCKET", value: i.s3.bucket },
    ...(i.s3.prefix ? [{ name: "OBJECTSTORE_S3_OBJECT_PREFIX", value: nextcloudObjectPrefix(i.s3.prefix) }] : []),
    { name: "OBJECTSTORE_S3_KEY", ...fromSecret(i.s3.credentialsSecretName, "AWS_ACCESS_KEY_ID") },
    { name: "OBJECTSTORE_S3_SECRET", ...fromSecret(i.s3.credentialsSecretName, "AWS_SECRET_ACCESS_KEY") },
    ...i.extraEnv,
  ];
}

/** Resources of the init container (rsync of the code, downloads, one occ per app). */
export const PREPARE_RESOURCES: Resources = { requests: { cpu: "100m", memory: "256Mi" }, limits: { cpu: "1000m", memory: "512Mi" } };

/** Mounts of the chart's `nextcloud-main` volume, as the chart mounts it in its containers (8.6.0 `nextcloud.volumeMounts`). */
export function codeMounts(volume = "nextcloud-main"): k8s.types.input.core.v1.VolumeMount[] {
  return [
    { name: volume, mountPath: "/var/www/", subPath: "root" },
    { name: volume, mountPath: STATELESS.root, subPath: "html" },
    { name: volume, mountPath: STATELESS.dataMount, subPath: "data" },
    { name: volume, mountPath: `${STATELESS.root}/config`, subPath: "config" },
    { name: volume, mountPath: `${STATELESS.root}/custom_apps`, subPath: "custom_apps" },
    { name: volume, mountPath: "/var/www/tmp", subPath: "tmp" },
    { name: volume, mountPath: `${STATELESS.root}/themes`, subPath: "themes" },
  ];
}

/** The instance Secret's file, mounted over config/ (chart containers, init container, Job). */
export const instanceMount = (): k8s.types.input.core.v1.VolumeMount => ({
  name: "liiibre-instance",
  mountPath: `${STATELESS.root}/config/${STATELESS.instanceFile}`,
  subPath: STATELESS.instanceFile,
  readOnly: true,
});
const scriptsMount = (): k8s.types.input.core.v1.VolumeMount => ({ name: "liiibre-stateless", mountPath: STATELESS.mount, readOnly: true });
const extraVolumes = (): k8s.types.input.core.v1.Volume[] => [
  { name: "liiibre-instance", secret: { secretName: STATELESS.instanceSecret, defaultMode: 0o440 } },
  { name: "liiibre-stateless", configMap: { name: STATELESS.scripts } },
];

/** www-data of the image (uid/gid 33): the init container and the Job run as it, never as root. */
const WWW_DATA = { runAsUser: 33, runAsGroup: 33, runAsNonRoot: true, allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } };

export interface StatelessValuesInput {
  replicas: number;
  apps: ReturnType<typeof pinnedApps>;
  env: k8s.types.input.core.v1.EnvVar[];
  host: string;
  /** Seconds a web pod waits for the upgrade Job before its init container fails (and restarts). Default 900. */
  waitSeconds?: number;
}

/**
 * The chart values of the stateless mode, over the volume mode's `base`: no volume, Recreate, two
 * replicas spread over nodes, the image pinned, the static config file, the instance Secret, the
 * init container, and no before-starting hook (the Job applies the settings once per state).
 */
export function statelessValues(base: Record<string, unknown>, i: StatelessValuesInput): Record<string, unknown> {
  const nc = { ...(base.nextcloud as Record<string, unknown>) };
  const configs = { ...((nc.configs as Record<string, string>) ?? {}), [STATELESS.configFile]: statelessConfigPhp({ host: i.host }) };
  delete nc.hooks;
  const [repository, tag] = [IMAGES.nextcloud.repository, IMAGES.nextcloud.tag];
  const [registry, ...repo] = repository.split("/");
  return {
    ...base,
    replicaCount: i.replicas,
    image: { registry, repository: repo.join("/"), tag },
    topologySpreadConstraints: [{ maxSkew: 1, topologyKey: HOSTNAME_TOPOLOGY, whenUnsatisfiable: "DoNotSchedule", labelSelector: { matchLabels: { ...NEXTCLOUD_POD_LABELS } } }],
    nextcloud: {
      ...nc,
      // Never two versions at once: the old pods stop before new ones start (the gate does the rest).
      strategy: { type: "Recreate" },
      configs,
      extraVolumes: extraVolumes(),
      extraVolumeMounts: [instanceMount()],
      extraInitContainers: [
        {
          name: "liiibre-prepare",
          image: nextcloudImage(),
          command: ["sh", `${STATELESS.mount}/pod.sh`],
          env: [...gateEnv(i), { name: "LIIIBRE_WAIT_SECONDS", value: String(i.waitSeconds ?? 900) }],
          resources: PREPARE_RESOURCES,
          securityContext: WWW_DATA,
          volumeMounts: [...codeMounts(), instanceMount(), scriptsMount()],
        },
      ],
    },
    // The code lives in the pod (an emptyDir): no ReadWriteOnce volume shared by two pods.
    persistence: { enabled: false },
  };
}

/** Content hash of what the Job does (its name changes with it: a new state gets a new Job). */
export function jobHash(parts: string[]): string {
  return createHash("sha256").update(parts.join("\0")).digest("hex").slice(0, 10);
}

export interface UpgradeJobInput {
  namespace: string;
  labels: Record<string, string>;
  apps: ReturnType<typeof pinnedApps>;
  env: k8s.types.input.core.v1.EnvVar[];
  resources: Resources;
  /** Hash of the scripts ConfigMap's data (the Job's name). */
  hash: string;
}

/** The one-off upgrade Job (a new one per `hash`); never retried by Kubernetes: a failed upgrade needs a person. */
export function upgradeJob(i: UpgradeJobInput): { metadata: Record<string, unknown>; spec: k8s.types.input.batch.v1.JobSpec } {
  return {
    metadata: { name: `nextcloud-upgrade-${i.hash}`, namespace: i.namespace, labels: i.labels },
    spec: {
      backoffLimit: 0,
      activeDeadlineSeconds: 3 * 3600,
      template: {
        metadata: { labels: { ...i.labels, ...STATELESS.apiLabel } },
        spec: {
          restartPolicy: "Never",
          serviceAccountName: STATELESS.serviceAccount,
          securityContext: { fsGroup: 33 },
          nodeSelector: APPS_NODE_SELECTOR,
          containers: [
            {
              name: "upgrade",
              image: nextcloudImage(),
              command: ["sh", `${STATELESS.mount}/upgrade.sh`],
              env: [...gateEnv(i), { name: "LIIIBRE_POD_SELECTOR", value: podSelector() }],
              resources: i.resources,
              securityContext: WWW_DATA,
              volumeMounts: [...codeMounts("code").filter((m) => m.subPath !== "config"), { name: "config", mountPath: `${STATELESS.root}/config` }, instanceMount(), scriptsMount()],
            },
          ],
          volumes: [
            { name: "code", emptyDir: {} },
            // The Job's config.php takes the merged values (secrets included) when Nextcloud writes it: memory only.
            { name: "config", emptyDir: { medium: "Memory", sizeLimit: "16Mi" } },
            ...extraVolumes(),
          ],
        },
      },
    },
  };
}

export interface StatelessArgs {
  /** The bundle's objects (components/kit/bundleObjects.ts): scripts, budget and RBAC (the Job and the instance Secret stay resources). Default: resources of their own. */
  objects?: BundleObjects;
  slug: string;
  namespace: string;
  labels: Record<string, string>;
  replicas: number;
  apps: ReturnType<typeof pinnedApps>;
  env: pulumi.Input<k8s.types.input.core.v1.EnvVar[]>;
  /** The bundle's setup script (idempotent occ settings) and config files (ConfigMap data). */
  setupScript: string;
  configs: Record<string, string>;
  resources: Resources;
  provider: k8s.Provider;
  /** No Job while the bundle is not active (suspended: no pod may run). */
  active: boolean;
}

/**
 * The instance's three values, from `@pulumi/random` (protected, kept on delete). Existing
 * instances import them (`pulumi import`, docs/operations.md): every input is ignored after
 * creation, so the imported state's arguments (the provider's import defaults) never replace them.
 */
export function instanceValues(slug: string, opts: pulumi.CustomResourceOptions): { [K in keyof InstanceValues]: pulumi.Output<string> } {
  const keep = { ...opts, protect: true, retainOnDelete: true };
  const all = ["length", "lower", "upper", "numeric", "number", "special", "overrideSpecial", "minLower", "minUpper", "minNumeric", "minSpecial", "keepers"];
  const id = new random.RandomString(`${slug}-nextcloud-instanceid`, { length: 10, upper: false, special: false }, { ...keep, ignoreChanges: all });
  const salt = new random.RandomPassword(`${slug}-nextcloud-passwordsalt`, { length: 30 }, { ...keep, ignoreChanges: all });
  const secret = new random.RandomPassword(`${slug}-nextcloud-serversecret`, { length: 48 }, { ...keep, ignoreChanges: all });
  return { instanceid: pulumi.secret(id.result), passwordsalt: salt.result, secret: secret.result };
}

/**
 * The instance's values and their Secret. Registered in every state, decommissioned included: like
 * the bundle's other Secrets, they open the data that is kept.
 */
export function statelessInstance(name: string, a: Pick<StatelessArgs, "slug" | "namespace" | "labels" | "provider">, parent: pulumi.Resource): k8s.core.v1.Secret {
  const v = instanceValues(a.slug, { parent });
  return new k8s.core.v1.Secret(
    `${name}-instance`,
    {
      metadata: { name: STATELESS.instanceSecret, namespace: a.namespace, labels: a.labels },
      type: "Opaque",
      stringData: pulumi.secret(pulumi.all([v.instanceid, v.passwordsalt, v.secret]).apply(([instanceid, passwordsalt, secret]) => ({ [STATELESS.instanceFile]: instanceConfigPhp({ instanceid, passwordsalt, secret }) }))),
    },
    // The Secret holds what opens the instance's data: kept if the program ever drops it.
    { parent, provider: a.provider, retainOnDelete: true },
  );
}

/** Registers the stateless mode's objects beside the chart release: scripts, budget, RBAC and Job (`instance`: statelessInstance's Secret). */
export function deployStatelessNextcloud(name: string, a: StatelessArgs, instance: k8s.core.v1.Secret, parent: pulumi.Resource): { dependsOn: pulumi.Resource[] } {
  const child = { parent, provider: a.provider };
  const objects = a.objects ?? ownResources();
  const data = scriptsData({ setupScript: a.setupScript, configs: a.configs });
  const scripts = objects.add(k8s.core.v1.ConfigMap, `${name}-stateless`, { metadata: { name: STATELESS.scripts, namespace: a.namespace, labels: a.labels }, data }, child);
  podDisruptionBudget(`${name}-budget`, { name: "nextcloud", namespace: a.namespace, replicas: a.replicas, matchLabels: { ...NEXTCLOUD_POD_LABELS }, labels: a.labels }, child, objects);
  const sa = objects.add(k8s.core.v1.ServiceAccount, `${name}-upgrade-sa`, { metadata: { name: STATELESS.serviceAccount, namespace: a.namespace, labels: a.labels } }, child);
  const role = objects.add(
    k8s.rbac.v1.Role,
    `${name}-upgrade-role`,
    { metadata: { name: STATELESS.serviceAccount, namespace: a.namespace, labels: a.labels }, rules: [{ apiGroups: [""], resources: ["pods"], verbs: ["list"] }] },
    child,
  );
  const binding = objects.add(
    k8s.rbac.v1.RoleBinding,
    `${name}-upgrade-binding`,
    {
      metadata: { name: STATELESS.serviceAccount, namespace: a.namespace, labels: a.labels },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: STATELESS.serviceAccount },
      subjects: [{ kind: "ServiceAccount", name: STATELESS.serviceAccount, namespace: a.namespace }],
    },
    child,
  );
  if (a.active) {
    // Not after the release: on a new state the release's pods wait for this Job (a dependency
    // either way would deadlock); the Job waits for the old pods to stop itself.
    const hash = jobHash([stateTag(a.apps), ...Object.keys(data).sort().map((k) => `${k}\n${data[k]}`)]);
    const job = (env: k8s.types.input.core.v1.EnvVar[]) => upgradeJob({ namespace: a.namespace, labels: a.labels, apps: a.apps, env, resources: a.resources, hash });
    new k8s.batch.v1.Job(
      `${name}-upgrade`,
      { metadata: job([]).metadata, spec: pulumi.output(a.env).apply((env) => job(env).spec) },
      { ...child, dependsOn: [instance, scripts, sa, role, binding] },
    );
  }
  return { dependsOn: [instance, scripts] };
}

/**
 * Pods a stateless Nextcloud runs beyond its sized workloads (the bundle's ResourceQuota): the
 * second replica (app and cron containers; its init container asks for less than they do) and the
 * upgrade Job's pod (the app's profile). Recreate never surges: no third replica.
 */
export function statelessNextcloudPods(a: { replicas: number; users: number; requestsFor: (w: "nextcloud" | "nextcloud-cron", users: number) => { cpu: number; mem: number }; limitFactors: { cpu: number; mem: number } }): Array<{ count: number; requests: { cpuM: number; memMiB: number }; limits: { cpuM: number; memMiB: number } }> {
  const app = a.requestsFor("nextcloud", a.users);
  const cron = a.requestsFor("nextcloud-cron", a.users);
  const pod = (cpu: number, mem: number, count: number) => ({ count, requests: { cpuM: cpu, memMiB: mem }, limits: { cpuM: cpu * a.limitFactors.cpu, memMiB: mem * a.limitFactors.mem } });
  return [pod(app.cpu + cron.cpu, app.mem + cron.mem, Math.max(0, a.replicas - 1)), pod(app.cpu, app.mem, 1)];
}

/**
 * `secrets-are-secret` (mandatory): inputs that carry passwords, keys or tokens are Pulumi
 * secrets (encrypted in the state, masked in diffs), and never sit in clear in Kubernetes objects
 * readable without access to Secrets.
 *
 * Two checks:
 * - everywhere the analyzer can see it: a ConfigMap key or a container `env[].value` whose name
 *   says password/secret/token/key holds a literal value → use a Secret (`valueFrom.secretKeyRef`);
 * - secretness itself: a sensitive-named input (any depth: Helm values, custom resources,
 *   command environments…) holding a non-empty string must be a Pulumi secret. The real
 *   analyzer unwraps secrets before policies see them (@pulumi/policy 1.21), so this part runs
 *   only in the offline runner, which knows which inputs are secret; under the CLI it is skipped.
 *
 * An objects release (components/kit/objects.ts) holds its bundled objects in its `values`, which
 * Helm stores in the release and Pulumi shows in diffs; a Pulumi secret anywhere in them makes
 * the whole `values` secret and hides the diff. So secrets never go there:
 * - a bundled Secret is refused, and so is any sensitive-named literal of a bundled object,
 *   Pulumi secret or not (both visible to the analyzer as well): keep it in a Secret of its own
 *   and reference it;
 * - offline, any secret input under the release's `values` is refused, whatever its name.
 */
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { UnknownValueError } from "@pulumi/policy";
import { isObjectsRelease } from "../components/kit/objects";
import { TYPES, WORKLOAD_TYPES, bundleOf, config, containers, isObject, isSecretPath, offlineFacts, type Leaf } from "./lib";

export interface SecretsConfig {
  /** Key-name words (lower case, compared without separators) that mark a sensitive value. */
  sensitiveWords: string[];
  /** Key-name endings that mark a reference to a secret rather than the secret itself. */
  referenceSuffixes: string[];
}
export const SECRETS_DEFAULTS: SecretsConfig = {
  sensitiveWords: ["password", "passwd", "passphrase", "secret", "token", "privatekey", "apikey", "macaroon", "credentials", "signingkey", "encryptionkey"],
  referenceSuffixes: ["ref", "name", "names", "keys", "file", "path", "enabled", "length", "policy", "type", "ttl", "lifetime", "expiry", "url", "id", "selector", "provider", "providers", "hash", "passwordkey", "usernamekey", "tokenkey", "endpoint", "uri", "dir", "mountpath", "format", "algorithm"],
};

/**
 * Keys under which everything is a reference to a Kubernetes Secret, not a value (chart
 * conventions: `existingSecret…`, `secretKeys`, `…Ref`, `valueFrom`).
 */
export function underReference(path: Array<string | number>): boolean {
  return path.slice(0, -1).some((k) => {
    if (typeof k !== "string") return false;
    const n = norm(k);
    return n.startsWith("existingsecret") || n === "secretkeys" || n.endsWith("ref") || n === "valuefrom" || n === "envfrom";
  });
}

/**
 * A `{ X, XKey }` pair of strings names a Secret and a key in it (ess-helm's
 * `{ secret, secretKey }`, `{ configSecret, configSecretKey }`): both are references.
 */
export function isReferencePair(parent: unknown, key: string | number): boolean {
  if (typeof key !== "string" || !parent || typeof parent !== "object") return false;
  const o = parent as Record<string, unknown>;
  const base = key.endsWith("Key") ? key.slice(0, -3) : key;
  return base !== key ? typeof o[base] === "string" : typeof o[`${key}Key`] === "string";
}

const norm = (k: string) => k.toLowerCase().replace(/[^a-z0-9]/g, "");

/** Is this key name (last path segment) one that carries a secret value? */
export function isSensitiveKey(key: string | number, c: SecretsConfig = SECRETS_DEFAULTS): boolean {
  if (typeof key !== "string") return false;
  const n = norm(key);
  if (!c.sensitiveWords.some((w) => n.includes(w))) return false;
  if (n.startsWith("existing") || n.startsWith("use") || n.startsWith("enable") || n.startsWith("generate")) return false;
  // secretKey / secretAccessKey / privateKey / apiKey are values; secretKeyRef, secretName, passwordFile… are references.
  return !c.referenceSuffixes.some((s) => n.endsWith(norm(s)));
}

/** A literal that is obviously not a secret value (an env reference, a mounted file path, a URL without credentials). */
const notAValue = (v: string) => /^\$\{?[A-Za-z_][A-Za-z0-9_]*\}?$/.test(v) || v.startsWith("/") || v === "" || /^https?:\/\/[^@\s]*$/.test(v);

export const secretsAreSecret: ResourceValidationPolicy = {
  name: "secrets-are-secret",
  description: "Inputs carrying passwords, keys or tokens are Pulumi secrets and never plain values of ConfigMaps or container env.",
  enforcementLevel: "mandatory",
  configSchema: {
    properties: {
      sensitiveWords: { type: "array", items: { type: "string" }, default: SECRETS_DEFAULTS.sensitiveWords },
      referenceSuffixes: { type: "array", items: { type: "string" }, default: SECRETS_DEFAULTS.referenceSuffixes },
    },
  },
  validateResource: (args, report) => {
    const c = config(args, SECRETS_DEFAULTS);
    const problems: string[] = [];
    const bundle = bundleOf(args);
    if (bundle && args.type === TYPES.secret) {
      report(`a Secret is an entry of the objects release ${bundle.release.name}: its data would sit in the release's values (stored by Helm, shown in diffs); secrets never go in values: declare it as a resource of its own`);
      return;
    }
    // 1. Clear-text places, visible to the analyzer as well.
    if (args.type === TYPES.configMap && isObject(args.props.data)) {
      for (const k of Object.keys(args.props.data)) {
        const v = args.props.data[k];
        if (isSensitiveKey(k, c) && typeof v === "string" && !notAValue(v)) problems.push(`ConfigMap key ${k} holds a credential in clear: put it in a Secret`);
      }
    }
    if (WORKLOAD_TYPES.includes(args.type)) {
      for (const ctr of containers(args.props)) {
        for (const e of Array.isArray(ctr.env) ? ctr.env : []) {
          if (isSensitiveKey(String(e?.name ?? ""), c) && typeof e?.value === "string" && !notAValue(e.value)) {
            problems.push(`container ${ctr.name ?? "?"} env ${e.name} holds a credential in clear: use valueFrom.secretKeyRef`);
          }
        }
      }
    }
    // 2. A bundled object: no credential at all in the release's values, secret or not.
    if (bundle) {
      const found = new Map<string, string>();
      for (const l of knownLeaves(args.props)) {
        if (typeof l.value !== "string" || notAValue(l.value)) continue;
        // ConfigMap data is judged above, as for a ConfigMap of its own.
        if (args.type === TYPES.configMap && l.path[0] === "data") continue;
        const key = l.key === "value" && l.path.length >= 2 ? (leafName(args.props, l.path) ?? l.key) : l.key;
        if (!isSensitiveKey(key, c) || underReference(l.path) || isReferencePair(parentOf(args.props, l.path), l.key)) continue;
        found.set(l.path.join("."), `${l.path.join(".")} carries a credential inside the values of the objects release ${bundle.release.name}: keep it in a Secret of its own and reference it (secretKeyRef)`);
      }
      // Offline: a Pulumi secret inside the object, whatever its name.
      for (const p of [...(offlineFacts(args)?.secretPaths ?? [])].sort()) {
        if (!found.has(p)) found.set(p, `${p} is a Pulumi secret inside the values of the objects release ${bundle.release.name}: it makes all its values secret and hides their diff; keep it in a Secret of its own`);
      }
      problems.push(...found.values());
      if (problems.length) report([...new Set(problems)].join("; "));
      return;
    }
    // 3. Secretness, known only offline.
    const facts = offlineFacts(args);
    if (facts && isObjectsRelease(args.type, args.props)) {
      // A secret inside one object is judged on the object (above); the rest here.
      for (const p of [...facts.secretPaths].sort()) {
        if ((p !== "values" && !p.startsWith("values.")) || /^values\.objects\.\d+\./.test(p)) continue;
        problems.push(`${p === "values" ? "the values are" : `${p} is`} a Pulumi secret in an objects release (a secret inside them makes them all secret): Pulumi hides their diff; keep secrets in Secrets of their own`);
      }
    }
    if (facts && args.type !== TYPES.configMap) {
      // Values unknown during preview are computed (passwords from random, keys from tls): never
      // a literal in clear, so they are skipped rather than making the whole policy advisory.
      for (const l of knownLeaves(args.props)) {
        if (typeof l.value !== "string" || notAValue(l.value)) continue;
        // Container env: the name is a sibling value, not the key.
        const key = l.key === "value" && l.path.length >= 2 ? (leafName(args.props, l.path) ?? l.key) : l.key;
        if (!isSensitiveKey(key, c) || underReference(l.path) || isReferencePair(parentOf(args.props, l.path), l.key)) continue;
        if (!isSecretPath(facts, l.path)) problems.push(`${l.path.join(".")} carries a credential but is not a Pulumi secret (use pulumi.secret / a random or tls resource's output)`);
      }
    }
    if (problems.length) report([...new Set(problems)].join("; "));
  },
};

/** Scalar leaves, skipping values unknown during preview (reading one throws UnknownValueError). */
function knownLeaves(value: unknown): Leaf[] {
  const out: Leaf[] = [];
  const walk = (v: any, p: Array<string | number>) => {
    const keys = Array.isArray(v) ? Array.from({ length: v.length }, (_, i) => i) : v && typeof v === "object" ? Object.keys(v) : null;
    if (!keys) {
      out.push({ path: p, key: p[p.length - 1] ?? "", value: v });
      return;
    }
    for (const k of keys) {
      let x: unknown;
      try {
        x = v[k];
      } catch (e) {
        if (e instanceof UnknownValueError) continue;
        throw e;
      }
      walk(x, [...p, k]);
    }
  };
  walk(value, []);
  return out;
}

/** The object holding the leaf at `path`. */
function parentOf(props: any, path: Array<string | number>): any {
  let cur = props;
  for (const k of path.slice(0, -1)) cur = cur?.[k];
  return cur;
}

/** The `name` sibling of an env-style `{ name, value }` item. */
function leafName(props: any, path: Array<string | number>): string | undefined {
  const cur = parentOf(props, path);
  return cur && typeof cur.name === "string" ? cur.name : undefined;
}

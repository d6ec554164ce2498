/**
 * Passwords, keys and Secrets: the one home of how this program generates and stores them.
 *
 * Two kinds of generated secrets (docs/security.md, "Generated secrets"):
 * - **bound** to data or sessions (changing it loses data, breaks signatures or logs everyone
 *   out: a signing key, a session secret, a password stored at install time): its own
 *   `@pulumi/random` resource, protected (`boundPassword`);
 * - **rotatable** (both ends read it from the same Secret, a restart takes a new one): derived,
 *   HMAC-SHA256 of a purpose label under the bundle's one protected key (`secretKey`,
 *   `derivedSecret`) — the way k8up's restic passwords derive from the estate's backup key
 *   (components/storage/settings.ts). A derived value is a Pulumi secret computed inside `apply`
 *   from the key's output; no resource is ever created there.
 */
import { createHmac } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import * as random from "@pulumi/random";
import { ANNOTATIONS } from "../conventions";

/** A random password (a Pulumi secret: `result` is in the provider's secret outputs). */
export function password(name: string, opts: pulumi.CustomResourceOptions, length = 32): random.RandomPassword {
  return new random.RandomPassword(name, { length, special: false }, opts);
}

/** A password bound to data or sessions: its own resource, protected (never replaced or deleted by a config change). */
export function boundPassword(name: string, opts: pulumi.CustomResourceOptions, length = 32): random.RandomPassword {
  return password(name, { ...opts, protect: true }, length);
}

/**
 * A bundle's secret key (64 characters, protected): every rotatable secret of the bundle derives
 * from it. Losing it only rotates those secrets (they are re-derived from a new key).
 */
export function secretKey(name: string, opts: pulumi.CustomResourceOptions): random.RandomPassword {
  return boundPassword(name, opts, 64);
}

/** The derivation (pure): HMAC-SHA256 of `derived-secret:<purpose>` under `key`, hex (64 characters). */
export function deriveFromKey(key: string, purpose: string): string {
  if (!/^[a-z0-9][a-z0-9.:/-]*$/.test(purpose)) throw new Error(`derived secret: purpose label "${purpose}" must be lower-case letters, digits and . : / -`);
  return createHmac("sha256", key).update(`derived-secret:${purpose}`).digest("hex");
}

/** A rotatable secret derived from a bundle's key (a Pulumi secret). */
export function derivedSecret(key: pulumi.Input<string>, purpose: string): pulumi.Output<string> {
  // Validate now (before any resource is registered), not inside the apply.
  deriveFromKey("check", purpose);
  return pulumi.secret(pulumi.output(key).apply((k) => deriveFromKey(k, purpose)));
}

/**
 * Annotation on a Secret (and on the pods reading it) naming which of its keys are derived and
 * from which purpose label: not secret, so the offline diff shows when a value starts or stops
 * being derived or changes label (a rotation), and a changed label restarts the pods reading it.
 */
export const DERIVED_ANNOTATION = ANNOTATIONS.derivedSecretKeys;

/** The annotation's value: `KEY=purpose` pairs, sorted. */
export const derivedAnnotation = (keys: Record<string, string>): string =>
  Object.entries(keys)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, p]) => `${k}=${p}`)
    .join(",");

export interface OpaqueSecretArgs {
  name: string;
  namespace: pulumi.Input<string>;
  /** Labels. Defaults to none. */
  labels?: Record<string, string>;
  /** Values (each kept a Pulumi secret). */
  stringData: Record<string, pulumi.Input<string>>;
  /** Keys of `stringData` derived from the bundle's key → purpose label (`DERIVED_ANNOTATION`). Defaults to none. */
  derived?: Record<string, string>;
}

/** A Secret with `stringData` (values stay Pulumi secrets). */
export function opaqueSecret(name: string, args: OpaqueSecretArgs, opts: pulumi.CustomResourceOptions): k8s.core.v1.Secret {
  for (const k of Object.keys(args.derived ?? {})) if (!(k in args.stringData)) throw new Error(`Secret ${args.name}: derived key ${k} is not in stringData`);
  const stringData: Record<string, pulumi.Output<string>> = {};
  for (const [k, v] of Object.entries(args.stringData)) stringData[k] = pulumi.secret(pulumi.output(v));
  const derived = args.derived && Object.keys(args.derived).length ? { annotations: { [DERIVED_ANNOTATION]: derivedAnnotation(args.derived) } } : {};
  return new k8s.core.v1.Secret(
    name,
    { metadata: { name: args.name, namespace: args.namespace, ...(args.labels ? { labels: args.labels } : {}), ...derived }, type: "Opaque", stringData },
    opts,
  );
}

/**
 * Passwords, keys and Secrets: the one home of how this program generates and stores them.
 *
 * Two kinds of generated secrets (docs/security.md, "Generated secrets"):
 * - **bound** to data or sessions (changing it loses data, breaks signatures or logs everyone
 *   out: a signing key, a session secret, a password stored at install time): its own
 *   `@pulumi/random` resource, protected (`boundPassword`), or, in an organisation created in the
 *   lean layout, derived like the rotatable ones (`boundSecrets: derived`, components/kit/bundleSecrets.ts);
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
 * from it, and in the lean layout its bound ones too. Losing it rotates every secret derived from
 * it (with derived bound secrets: a new federation identity, everyone logged out): it is
 * protected state, kept like the estate's backup key (docs/security.md).
 */
export function secretKey(name: string, opts: pulumi.CustomResourceOptions): random.RandomPassword {
  return boundPassword(name, opts, 64);
}

/** The derivation (pure): HMAC-SHA256 of `derived-secret:<purpose>` under `key`, the 32 bytes. */
export function deriveBytesFromKey(key: string, purpose: string): Buffer {
  if (!/^[a-z0-9][a-z0-9.:/-]*$/.test(purpose)) throw new Error(`derived secret: purpose label "${purpose}" must be lower-case letters, digits and . : / -`);
  return createHmac("sha256", key).update(`derived-secret:${purpose}`).digest();
}

/** The derivation (pure), hex (64 characters). */
export function deriveFromKey(key: string, purpose: string): string {
  return deriveBytesFromKey(key, purpose).toString("hex");
}

/**
 * How a derived value is written: `hex` (64 characters, or the first `length` of them: MinIO
 * takes secret keys of 8 to 40 characters), or `base64` (the 32 bytes, unpadded standard base64:
 * an ed25519 seed as Synapse writes its signing key). Defaults to the 64 hex characters.
 */
export interface DerivedFormat {
  encoding?: "hex" | "base64";
  /** hex only: keep the first `length` characters (8 to 64). */
  length?: number;
}

/** The derivation (pure), written as `format` says. */
export function deriveFormatted(key: string, purpose: string, format: DerivedFormat = {}): string {
  const bytes = deriveBytesFromKey(key, purpose);
  if (format.encoding === "base64") return bytes.toString("base64").replace(/=+$/, "");
  return bytes.toString("hex").slice(0, format.length ?? 64);
}

/** A secret derived from a bundle's key (a Pulumi secret). */
export function derivedSecret(key: pulumi.Input<string>, purpose: string, format: DerivedFormat = {}): pulumi.Output<string> {
  // Validate now (before any resource is registered), not inside the apply.
  deriveBytesFromKey("check", purpose);
  if (format.length !== undefined && (format.encoding === "base64" || !Number.isInteger(format.length) || format.length < 8 || format.length > 64))
    throw new Error(`derived secret ${purpose}: length ${format.length} must be an integer from 8 to 64, hex only`);
  return pulumi.secret(pulumi.output(key).apply((k) => deriveFormatted(k, purpose, format)));
}

/** Where a bundle's bound secrets come from: its own resources or derived (components/config/schema.ts). */
export { BOUND_SECRETS, type BoundSecrets } from "../config/schema";

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
  /** Other annotations (not secret). Defaults to none. */
  annotations?: Record<string, string>;
}

/** A Secret with `stringData` (values stay Pulumi secrets). */
export function opaqueSecret(name: string, args: OpaqueSecretArgs, opts: pulumi.CustomResourceOptions): k8s.core.v1.Secret {
  for (const k of Object.keys(args.derived ?? {})) if (!(k in args.stringData)) throw new Error(`Secret ${args.name}: derived key ${k} is not in stringData`);
  const stringData: Record<string, pulumi.Output<string>> = {};
  for (const [k, v] of Object.entries(args.stringData)) stringData[k] = pulumi.secret(pulumi.output(v));
  const annotations = { ...(args.annotations ?? {}), ...(args.derived && Object.keys(args.derived).length ? { [DERIVED_ANNOTATION]: derivedAnnotation(args.derived) } : {}) };
  const derived = Object.keys(annotations).length ? { annotations } : {};
  return new k8s.core.v1.Secret(
    name,
    { metadata: { name: args.name, namespace: args.namespace, ...(args.labels ? { labels: args.labels } : {}), ...derived }, type: "Opaque", stringData },
    opts,
  );
}

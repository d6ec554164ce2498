/**
 * A bundle's secrets, as its data layout keeps them (docs/security.md, "Generated secrets"):
 * - bound values (a signing key, a session secret, a password stored at install time) are each
 *   their own protected `@pulumi/random` resource (`own`), or derived from the bundle's
 *   protected key like the rotatable ones (`derived`, organisations created in the lean layout);
 * - each app keeps its values in its own Secret, or (lean layout) every app whose consumers read
 *   single keys (`secretKeyRef`, a volume with `items`) shares ONE Secret, its entries under
 *   `<app>.<key>`. An app whose chart mounts its Secret whole (Synapse: matrix-stack mounts every
 *   Secret it is given) keeps its own, so that no pod can read another app's values.
 *
 * The shared Secret is created once every app has added its entries (`register`, after the
 * apps, as the bundle's Gateways are); its readers wait for it through `ready`.
 */
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import * as random from "@pulumi/random";
import type { BoundSecrets } from "../config/schema";
import { ANNOTATIONS } from "../conventions";
import { DERIVED_ANNOTATION, boundPassword, derivedAnnotation, derivedSecret, opaqueSecret, type OpaqueSecretArgs } from "./secrets";

/** Where one value lives: a Secret's name and key. */
export interface SecretRef {
  name: string;
  key: string;
}

/** What an app holds after putting its values: where each is, and what readers wait for. */
export interface SecretHandle {
  /** The Kubernetes Secret holding the values. */
  name: string;
  /** The key under which the app's entry `k` is stored. */
  key(k: string): string;
  /** The Secret (a promise of it while the shared Secret is not yet registered): readers' dependsOn. */
  ready: pulumi.Input<pulumi.Resource>;
}

/** A bound value: the value, and its purpose label when it is derived (for the readers' annotation). */
export interface BoundValue {
  value: pulumi.Output<string>;
  /** The purpose label (`DERIVED_ANNOTATION`) when derived; absent for an own resource. */
  derived?: string;
}

export interface BundleSecretsArgs {
  /** The bundle's protected key (`secretKey`'s result). */
  key: pulumi.Input<string>;
  /** Where the bound values come from. */
  bound: BoundSecrets;
  /** One Secret shared by the apps (lean layout). Defaults to none: each app its own Secret. */
  shared?: { resourceName: string; name: string; namespace: string; labels: Record<string, string> };
}

/** Kubernetes name of a lean bundle's shared Secret. */
export const BUNDLE_SECRET = "bundle-liiibre";

/** Secret keys Kubernetes accepts (`[-._a-zA-Z0-9]+`, at most 253 characters). */
const SECRET_KEY = /^[-._a-zA-Z0-9]{1,253}$/;

export class BundleSecrets {
  public readonly bound: BoundSecrets;
  private readonly key: pulumi.Input<string>;
  private readonly shared?: BundleSecretsArgs["shared"];
  private readonly entries: Record<string, pulumi.Input<string>> = {};
  private readonly derived: Record<string, string> = {};
  private readonly annotations: Record<string, string> = {};
  private resolve!: (r: pulumi.Resource) => void;
  private readonly ready: Promise<pulumi.Resource>;
  private registered = false;

  constructor(a: BundleSecretsArgs) {
    this.bound = a.bound;
    this.key = a.key;
    this.shared = a.shared;
    this.ready = new Promise((r) => (this.resolve = r));
  }

  /** Whether the apps share one Secret. */
  get isShared(): boolean {
    return this.shared !== undefined;
  }

  /**
   * A bound password: its own protected RandomPassword `resourceName` of `length` characters
   * (`own`), or derived under `purpose` (`derived`, 64 hex characters or `length` of them when
   * `hexLength` says so).
   */
  boundPassword(purpose: string, resourceName: string, opts: pulumi.CustomResourceOptions, length = 32, hexLength?: number): BoundValue {
    if (this.bound === "derived") return { value: derivedSecret(this.key, purpose, hexLength ? { length: hexLength } : {}), derived: purpose };
    return { value: pulumi.secret(boundPassword(resourceName, opts, length).result) };
  }

  /**
   * A bound 32-byte seed, unpadded-compatible base64 (an ed25519 signing key's): its own protected
   * RandomBytes (`own`, padded base64 as `@pulumi/random` writes it) or derived (`derived`: the
   * HMAC's 32 bytes, unpadded, as Synapse writes its keys).
   */
  boundSeed(purpose: string, resourceName: string, opts: pulumi.CustomResourceOptions): BoundValue {
    if (this.bound === "derived") return { value: derivedSecret(this.key, purpose, { encoding: "base64" }), derived: purpose };
    return { value: pulumi.secret(new random.RandomBytes(resourceName, { length: 32 }, { ...opts, protect: true }).base64) };
  }

  /** A rotatable value (always derived). */
  rotatable(purpose: string): BoundValue {
    return { value: derivedSecret(this.key, purpose), derived: purpose };
  }

  /** Where `app`'s entry `k` of its Secret `name` is (also for a reader in another app). */
  refOf(app: string, name: string, k: string): SecretRef {
    return this.shared ? { name: this.shared.name, key: `${app}.${k}` } : { name, key: k };
  }

  /**
   * An app's values: its own Secret `args.name` (created now), or entries `<app>.<key>` of the
   * shared Secret. `ownSecret` keeps the app's own Secret whatever the layout (a chart that mounts
   * it whole).
   */
  appSecret(app: string, resourceName: string, args: OpaqueSecretArgs, opts: pulumi.CustomResourceOptions, ownSecret = false): SecretHandle {
    if (!this.shared || ownSecret) {
      const s = opaqueSecret(resourceName, args, opts);
      return { name: args.name, key: (k) => k, ready: s };
    }
    for (const k of Object.keys(args.derived ?? {})) if (!(k in args.stringData)) throw new Error(`Secret ${args.name}: derived key ${k} is not in stringData`);
    const prefixed = (k: string) => this.refOf(app, args.name, k).key;
    this.put(Object.fromEntries(Object.entries(args.stringData).map(([k, v]) => [prefixed(k), v])), Object.fromEntries(Object.entries(args.derived ?? {}).map(([k, p]) => [prefixed(k), p])));
    return { name: this.shared.name, key: prefixed, ready: this.ready };
  }

  /** Adds entries (keys as given) to the shared Secret: e.g. the storage layer's S3 credentials. */
  put(entries: Record<string, pulumi.Input<string>>, derived: Record<string, string> = {}, annotations: Record<string, string> = {}): SecretHandle {
    if (!this.shared) throw new Error("BundleSecrets: no shared Secret in this layout");
    if (this.registered) throw new Error(`Secret ${this.shared.name}: entries added after it was registered`);
    for (const k of Object.keys(entries)) {
      if (!SECRET_KEY.test(k)) throw new Error(`Secret ${this.shared.name}: key ${JSON.stringify(k)} is not a Secret key ([-._a-zA-Z0-9]+)`);
      if (k in this.entries) throw new Error(`Secret ${this.shared.name}: key ${k} added twice`);
      this.entries[k] = entries[k];
    }
    Object.assign(this.derived, derived);
    for (const [k, v] of Object.entries(annotations)) {
      if (k in this.annotations && this.annotations[k] !== v) throw new Error(`Secret ${this.shared.name}: annotation ${k} set twice`);
      this.annotations[k] = v;
    }
    return { name: this.shared.name, key: (k) => k, ready: this.ready };
  }

  /** Creates the shared Secret (if any entry was added) and releases its readers. */
  register(opts: pulumi.CustomResourceOptions): k8s.core.v1.Secret | undefined {
    if (!this.shared) return undefined;
    this.registered = true;
    if (!Object.keys(this.entries).length) return undefined;
    const s = this.shared;
    const annotations = { ...this.annotations, [ANNOTATIONS.sharedSecret]: "true" };
    const secret = opaqueSecret(s.resourceName, { name: s.name, namespace: s.namespace, labels: s.labels, stringData: this.entries, derived: this.derived, annotations }, opts);
    this.resolve(secret);
    return secret;
  }
}

/** The readers' annotation (`DERIVED_ANNOTATION`) for the derived values they read, by the name they read it under; none when nothing is derived. */
export function derivedPodAnnotations(reads: Record<string, string | undefined>): Record<string, string> | undefined {
  const derived = Object.fromEntries(Object.entries(reads).filter((e): e is [string, string] => e[1] !== undefined));
  return Object.keys(derived).length ? { [DERIVED_ANNOTATION]: derivedAnnotation(derived) } : undefined;
}

/**
 * The Kubernetes kit: the one namespace, Helm release, password/derived-secret and Secret helpers
 * and the bundle's objects collector (bundleObjects.ts) every module uses (docs/STYLE: one set of
 * defaults, explicit names, no `export *`).
 */
export { namespace, type NamespaceArgs } from "./namespace";
export { HELM_DEFAULTS, helmRelease, type HelmReleaseArgs } from "./helm";
export {
  BOUND_SECRETS,
  DERIVED_ANNOTATION,
  boundPassword,
  deriveBytesFromKey,
  deriveFormatted,
  deriveFromKey,
  derivedAnnotation,
  derivedSecret,
  opaqueSecret,
  password,
  secretKey,
  type BoundSecrets,
  type DerivedFormat,
  type OpaqueSecretArgs,
} from "./secrets";
export { BUNDLE_SECRET, BundleSecrets, derivedPodAnnotations, type BoundValue, type BundleSecretsArgs, type SecretHandle, type SecretRef } from "./bundleSecrets";
export { BundleObjects, NEVER_BUNDLED, ownResources, helmOwnership, objectType, type BundleObjectsArgs, type ObjectClass } from "./bundleObjects";
export { HELM_KEEP } from "./objects";

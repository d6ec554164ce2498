/**
 * The Kubernetes kit: the one namespace, Helm release, password/derived-secret and Secret helpers
 * every module uses (docs/STYLE: one set of defaults, explicit names, no `export *`).
 */
export { namespace, type NamespaceArgs } from "./namespace";
export { HELM_DEFAULTS, helmRelease, type HelmReleaseArgs } from "./helm";
export {
  DERIVED_ANNOTATION,
  boundPassword,
  deriveFromKey,
  derivedAnnotation,
  derivedSecret,
  opaqueSecret,
  password,
  secretKey,
  type OpaqueSecretArgs,
} from "./secrets";

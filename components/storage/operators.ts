/**
 * The operators the storage layer relies on, each a pinned Helm release in its own namespace:
 * MinIO Operator (primary object store), k8up (volume backups; CRDs applied first from the
 * pinned release asset), CloudNativePG and its Barman Cloud plugin (same namespace, as the
 * plugin requires; it needs cert-manager, installed by the platform layer).
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { LABELS } from "../conventions";
import { CHARTS, K8UP_CRDS_URL, type ChartPin } from "../versions";
import { helmRelease, namespace as kitNamespace } from "../kit";
import { CNPG_NAMESPACE, K8UP_NAMESPACE, MINIO_OPERATOR_NAMESPACE } from "./settings";
import { SHARED_REPLICAS, podDisruptionBudget } from "../ops/availability";

/** Labels the MinIO Operator chart selects its pods by (`minio-operator.selectorLabels`: chart name, release). */
export const MINIO_OPERATOR_SELECTOR = { "app.kubernetes.io/name": "operator", "app.kubernetes.io/instance": "minio-operator" };

export interface StorageOperatorsArgs {
  provider: k8s.Provider;
}

export class StorageOperators extends pulumi.ComponentResource {
  public readonly minioOperator: k8s.helm.v3.Release;
  public readonly k8up: k8s.helm.v3.Release;
  public readonly cnpg: k8s.helm.v3.Release;
  public readonly barmanCloud: k8s.helm.v3.Release;

  constructor(name: string, args: StorageOperatorsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("liiibre:storage:StorageOperators", name, {}, opts);
    const o = { parent: this, provider: args.provider };
    const namespace = (ns: string) => kitNamespace(`${name}-${ns}`, { name: ns, labels: { [LABELS.layer]: "platform" } }, o);
    const release = (id: string, pin: ChartPin, ns: k8s.core.v1.Namespace, values: Record<string, unknown>, dependsOn: pulumi.Resource[] = []) =>
      helmRelease(`${name}-${id}`, pin, { releaseName: id, namespace: ns.metadata.name, values }, { ...o, dependsOn });

    const minioNs = namespace(MINIO_OPERATOR_NAMESPACE);
    this.minioOperator = release("minio-operator", CHARTS.minioOperator, minioNs, { operator: { replicaCount: SHARED_REPLICAS } });
    // Its chart (7.1.1) spreads the two replicas (required anti-affinity) but makes no budget.
    podDisruptionBudget(`${name}-minio-operator-budget`, { name: "minio-operator", namespace: minioNs.metadata.name, replicas: SHARED_REPLICAS, matchLabels: MINIO_OPERATOR_SELECTOR }, o);

    const k8upNs = namespace(K8UP_NAMESPACE);
    const k8upCrds = new k8s.yaml.v2.ConfigFile(`${name}-k8up-crds`, { file: K8UP_CRDS_URL }, o);
    // Its ServiceMonitor feeds the backup alerts (components/ops/alert-rules.ts); the monitoring CRDs exist (platform first).
    this.k8up = release("k8up", CHARTS.k8up, k8upNs, { k8up: { enableLeaderElection: true }, metrics: { serviceMonitor: { enabled: true } } }, [k8upCrds]);

    const cnpgNs = namespace(CNPG_NAMESPACE);
    this.cnpg = release("cnpg", CHARTS.cloudnativePg, cnpgNs, { crds: { create: true }, monitoring: { podMonitorEnabled: false } });
    this.barmanCloud = release("barman-cloud", CHARTS.barmanCloudPlugin, cnpgNs, {}, [this.cnpg]);
    this.registerOutputs({});
  }
}

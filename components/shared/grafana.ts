/**
 * Grafana, twice, on PostgreSQL: a CloudNativePG cluster of two instances in the monitoring
 * namespace (backed up to Helsinki like every database) and a release of the pinned
 * kube-prometheus-stack chart with only its Grafana enabled (values: grafanaValues).
 *
 * Why a release of its own, after the storage layer: the database is a CloudNativePG Cluster,
 * whose operator the storage layer installs, and the storage layer waits for the platform's edge,
 * which waits for the monitoring stack (Traefik's ServiceMonitor needs its CRDs). Grafana inside
 * the stack's release would close that loop. The stack's release keeps the datasources and the
 * chart's dashboards (forceDeployDatasources/forceDeployDashboards); Grafana's sidecars load them
 * from the namespace, as they load the estate's dashboards (components/ops/dashboards.ts).
 *
 * Moving from the single Grafana of the stack (SQLite on a 10 GiB volume): its release removes
 * that Deployment and its claim; dashboards and datasources are code, only users' preferences
 * and starred dashboards are not carried over (docs/operations.md).
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { Estate } from "../config";
import { PostgresCluster } from "../storage/postgres";
import type { StorageContext } from "../storage/contracts";
import { CHARTS } from "../versions";
import { PLATFORM_NAMESPACES, release } from "../platform/common";
import { GRAFANA_RELEASE, grafanaValues } from "../platform/monitoring";

/** Instances of Grafana's database: a primary and a replica on another node (CloudNativePG fails over). */
export const GRAFANA_DB_INSTANCES = 2;
/** Each instance: users, sessions, annotations and dashboard versions of a few admins. */
export const GRAFANA_DB_RESOURCES = { requests: { cpu: "50m", memory: "256Mi" }, limits: { cpu: "500m", memory: "512Mi" } };

export interface GrafanaArgs {
  estate: Estate;
  /** The storage layer (CloudNativePG, the Helsinki backups). */
  storage: StorageContext;
}

export class Grafana extends pulumi.ComponentResource {
  readonly release: k8s.helm.v3.Release;

  constructor(name: string, args: GrafanaArgs, opts?: pulumi.ComponentResourceOptions) {
    super("liiibre:shared:Grafana", name, {}, opts);
    const ns = PLATFORM_NAMESPACES.monitoring;
    // The namespace, the admin Secret and the stack's CRDs come from the platform's Monitoring,
    // which the storage layer (a dependency of this component's parent) waits for.
    const db = new PostgresCluster(
      `${name}-pg`,
      { namespace: ns, database: "grafana", owner: "grafana", instances: GRAFANA_DB_INSTANCES, storageGB: 2, backupPath: "shared/grafana", resources: GRAFANA_DB_RESOURCES, context: args.storage },
      { parent: this },
    );
    const values = pulumi.all([db.host, db.appSecretName]).apply(([host, appSecretName]) =>
      grafanaValues(args.estate, { host, port: db.port, database: "grafana", user: "grafana", appSecretName }),
    );
    this.release = release(GRAFANA_RELEASE, { pin: CHARTS.kubePrometheusStack, namespace: ns, values }, { parent: this, provider: args.storage.k8s, dependsOn: [db] });
    this.registerOutputs({});
  }
}

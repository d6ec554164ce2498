/**
 * A MinIO IAM user restricted by one policy document, and its credentials as a Kubernetes
 * Secret. Used for tenants' app buckets (primary), their k8up repositories and database
 * backups (Helsinki).
 */
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import * as minio from "@pulumi/minio";
import * as random from "@pulumi/random";
import type { PolicyDocument } from "./settings";
import { DERIVED_ANNOTATION, derivedAnnotation } from "../kit/secrets";

export interface S3UserArgs {
  /** MinIO user name (its access key); >= 3 characters. */
  userName: string;
  /** The only permissions the user gets. */
  policy: PolicyDocument;
  /** MinIO server the user lives on. */
  minioProvider: minio.Provider;
  /** Secret receiving the credentials; omit to create none. */
  secret?: {
    name: string;
    namespace: pulumi.Input<string>;
    labels?: Record<string, string>;
    /** Key names. Default `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY`. */
    accessKeyKey?: string;
    secretKeyKey?: string;
    /**
     * Also write the pair as an AWS shared credentials file (`[default]` profile) under this
     * key. Default: none.
     */
    credentialsFileKey?: string;
    /** Extra secret entries (e.g. a restic repository password). */
    extra?: Record<string, pulumi.Input<string>>;
    /** Keys derived from a bundle's key → purpose label (`DERIVED_ANNOTATION`). Default: none. */
    derived?: Record<string, string>;
  };
  /** Provider of the cluster; required when `secret` is given. */
  k8sProvider?: k8s.Provider;
  /**
   * The user's secret key (8 to 40 characters, MinIO's limits), e.g. derived from a lean
   * bundle's key. Default: a generated RandomPassword `<name>-secret-key` of 40 characters.
   */
  secretKey?: pulumi.Input<string>;
}

/** An AWS shared credentials file (the format boto3, the AWS CLI and SDKs read) with one `[default]` profile. */
export function sharedCredentialsFile(accessKeyId: string, secretAccessKey: string): string {
  return `[default]\naws_access_key_id = ${accessKeyId}\naws_secret_access_key = ${secretAccessKey}\n`;
}

export class S3User extends pulumi.ComponentResource {
  public readonly userName: pulumi.Output<string>;
  /** Secret key (a Pulumi secret). */
  public readonly secretKey: pulumi.Output<string>;
  /** Name of the credentials Secret ("" when none was asked for). */
  public readonly secretName: pulumi.Output<string>;

  constructor(name: string, args: S3UserArgs, opts?: pulumi.ComponentResourceOptions) {
    if (args.userName.length < 3) throw new Error(`S3User ${name}: a MinIO user name needs at least 3 characters, got "${args.userName}"`);
    super("liiibre:storage:S3User", name, {}, opts);
    const password = { result: args.secretKey !== undefined ? pulumi.secret(pulumi.output(args.secretKey)) : new random.RandomPassword(`${name}-secret-key`, { length: 40, special: false }, { parent: this }).result };
    const user = new minio.IamUser(
      name,
      { name: args.userName, secret: password.result, forceDestroy: false },
      { parent: this, provider: args.minioProvider },
    );
    const policy = new minio.IamPolicy(
      name,
      { name: args.userName, policy: JSON.stringify(args.policy) },
      { parent: this, provider: args.minioProvider },
    );
    new minio.IamUserPolicyAttachment(
      name,
      { userName: user.name, policyName: policy.name },
      { parent: this, provider: args.minioProvider },
    );
    this.userName = user.name;
    this.secretKey = pulumi.secret(password.result);
    if (args.secret) {
      const s = args.secret;
      if (!args.k8sProvider) throw new Error(`S3User ${name}: a credentials Secret needs k8sProvider`);
      const secret = new k8s.core.v1.Secret(
        name,
        {
          metadata: { name: s.name, namespace: s.namespace, labels: s.labels, ...(s.derived ? { annotations: { [DERIVED_ANNOTATION]: derivedAnnotation(s.derived) } } : {}) },
          type: "Opaque",
          stringData: pulumi.secret(
            pulumi.all([user.name, password.result, s.extra ?? {}]).apply(([id, key, extra]) => ({
              [s.accessKeyKey ?? "AWS_ACCESS_KEY_ID"]: id,
              [s.secretKeyKey ?? "AWS_SECRET_ACCESS_KEY"]: key,
              ...(s.credentialsFileKey ? { [s.credentialsFileKey]: sharedCredentialsFile(id, key) } : {}),
              ...extra,
            })),
          ),
        },
        { parent: this, provider: args.k8sProvider },
      );
      this.secretName = secret.metadata.name;
    } else {
      this.secretName = pulumi.output("");
    }
    this.registerOutputs({ userName: this.userName, secretName: this.secretName });
  }
}

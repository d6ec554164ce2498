/**
 * The operations policies (issue 12), run by the offline runner over resources built with the
 * real SDK classes: `mail-relay` (apps that send mail use the relay) and `channel-order` (no
 * stable pin newer than canary's). Each has passing and failing cases.
 */
import { describe, expect, it } from "vitest";
import * as k8s from "@pulumi/kubernetes";
import * as keycloak from "@pulumi/keycloak";
import { runPolicies, violationsByName } from "./helpers/policy-run";
import { compareVersions } from "../policies/channel-order";
import { LABELS } from "../components/conventions";

const RELAY = { "mail-relay": { relayHost: "relay.liiibre.coop" } };

describe("mail-relay", () => {
  it("passes apps that send through the relay and fails those that send without it", async () => {
    const { violations } = await runPolicies(() => {
      const kc = new keycloak.Provider("kc", { url: "https://auth.example.org", clientId: "admin-cli", username: "admin", password: "x", initialLogin: false });
      new keycloak.Realm("realm-ok", { realm: "ok", smtpServer: { host: "relay.liiibre.coop", port: "587", from: "comptes@liiibre.coop", starttls: true } }, { provider: kc });
      new keycloak.Realm("realm-direct", { realm: "direct", smtpServer: { host: "smtp.gmail.com", from: "x@liiibre.coop" } }, { provider: kc });
      new keycloak.Realm("realm-none", { realm: "none" }, { provider: kc });
      // Nextcloud: the host comes from the existingSecret key, as the chart reads it.
      new k8s.core.v1.Secret("nc-secret", { metadata: { name: "nextcloud-liiibre", namespace: "acme" }, stringData: { "smtp-host": "relay.liiibre.coop" } });
      new k8s.helm.v3.Release("nc-ok", {
        chart: "nextcloud", version: "8.6.0", namespace: "acme",
        values: { nextcloud: { mail: { enabled: true, fromAddress: "n", domain: "liiibre.coop" }, existingSecret: { enabled: true, secretName: "nextcloud-liiibre", smtpHostKey: "smtp-host" } } },
      });
      new k8s.helm.v3.Release("nc-off", { chart: "nextcloud", version: "8.6.0", namespace: "calm", values: { nextcloud: { host: "cloud.calm.org" } } });
      new k8s.helm.v3.Release("nc-other-host", { chart: "nextcloud", version: "8.6.0", namespace: "other", values: { nextcloud: { mail: { enabled: true, smtp: { host: "mail.other.org" } } } } });
      // Synapse: the email section in a config Secret named by `additional`.
      new k8s.core.v1.Secret("syn-secret", { metadata: { name: "synapse-liiibre", namespace: "acme" }, stringData: { "mail.yaml": "email:\n  smtp_host: relay.liiibre.coop\n  smtp_pass: x\n" } });
      new k8s.helm.v3.Release("syn-ok", {
        chart: "oci://ghcr.io/element-hq/ess-helm/matrix-stack", version: "25.10.2", namespace: "acme",
        values: { synapse: { additional: { "30-mail.yaml": { configSecret: "synapse-liiibre", configSecretKey: "mail.yaml" } } } },
      });
      new k8s.helm.v3.Release("syn-none", { chart: "oci://ghcr.io/element-hq/ess-helm/matrix-stack", version: "25.10.2", namespace: "calm", values: { synapse: { additional: { "10.yaml": { config: "enable_registration: false\n" } } } } });
      // Alertmanager: e-mail receivers need the relay as smarthost.
      new k8s.helm.v3.Release("kps-ok", {
        chart: "kube-prometheus-stack", version: "77.14.0", namespace: "monitoring",
        values: { alertmanager: { config: { global: { smtp_smarthost: "relay.liiibre.coop:587" }, receivers: [{ name: "critical", email_configs: [{ to: "ops@liiibre.coop" }] }] } } },
      });
      new k8s.helm.v3.Release("kps-direct", {
        chart: "kube-prometheus-stack", version: "77.14.0", namespace: "monitoring2",
        values: { alertmanager: { config: { receivers: [{ name: "critical", email_configs: [{ to: "ops@liiibre.coop", smarthost: "smtp.gmail.com:587" }] }] } } },
      });
    }, RELAY);
    const v = violationsByName(violations, "mail-relay");
    expect(Object.keys(v).sort()).toEqual(["kps-direct", "nc-off", "nc-other-host", "realm-direct", "realm-none", "syn-none"]);
    expect(v["nc-off"][0].message).toMatch(/mail disabled/);
    expect(v["realm-direct"][0].message).toMatch(/smtp\.gmail\.com/);
    expect(v["syn-none"][0].message).toMatch(/unset/);
  });

  it("without a relayHost, any configured host passes but none still fails", async () => {
    const { violations } = await runPolicies(() => {
      const kc = new keycloak.Provider("kc", { url: "https://auth.example.org", clientId: "admin-cli", username: "admin", password: "x", initialLogin: false });
      new keycloak.Realm("realm-some", { realm: "some", smtpServer: { host: "smtp.example.org", from: "x@example.org" } }, { provider: kc });
      new keycloak.Realm("realm-none", { realm: "none" }, { provider: kc });
    });
    expect(Object.keys(violationsByName(violations, "mail-relay"))).toEqual(["realm-none"]);
  });
});

describe("channel-order", () => {
  it("compares versions part by part", () => {
    expect(compareVersions("1.10.8", "1.10.3")).toBeGreaterThan(0);
    expect(compareVersions("8.6.0", "9.2.4")).toBeLessThan(0);
    expect(compareVersions("25.04.6.2.1", "25.04.6.2.1")).toBe(0);
    expect(compareVersions("v1.10.10", "1.10.9")).toBeGreaterThan(0);
  });

  it("refuses a stable chart or image newer than canary's, accepts stable behind or equal", async () => {
    const { violations } = await runPolicies(() => {
      const ns = (name: string, channel: string) => new k8s.core.v1.Namespace(name, { metadata: { name, labels: { [LABELS.channel]: channel } } });
      ns("canary-org", "canary");
      ns("stable-ok", "stable");
      ns("stable-ahead", "stable");
      const release = (name: string, namespace: string, version: string) =>
        new k8s.helm.v3.Release(name, { chart: "nextcloud", version, namespace, repositoryOpts: { repo: "https://nextcloud.github.io/helm/" }, values: {} });
      release("nc-canary", "canary-org", "8.7.0");
      release("nc-stable-behind", "stable-ok", "8.6.0");
      release("nc-stable-ahead", "stable-ahead", "9.2.4");
      const deploy = (name: string, namespace: string, tag: string) =>
        new k8s.apps.v1.Deployment(name, {
          metadata: { name, namespace },
          spec: { selector: { matchLabels: { a: name } }, template: { metadata: { labels: { a: name } }, spec: { containers: [{ name: "h", image: `quay.io/hedgedoc/hedgedoc:${tag}` }] } } },
        });
      deploy("hd-canary", "canary-org", "1.10.8");
      deploy("hd-stable-same", "stable-ok", "1.10.8");
      deploy("hd-stable-ahead", "stable-ahead", "1.11.0");
    });
    const v = violationsByName(violations, "channel-order");
    expect(Object.keys(v).sort()).toEqual(["hd-stable-ahead", "nc-stable-ahead"]);
    expect(v["nc-stable-ahead"][0].message).toMatch(/9\.2\.4 .* newer than canary's 8\.7\.0/);
  });
});

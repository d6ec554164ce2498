/**
 * Transactional mail: the one relay of `liiibre:mail` (password: secret config
 * `liiibre:mailPassword`), rendered for each app that sends mail. Pure builders; the password
 * only ever travels as a Pulumi secret into a Kubernetes Secret or a provider input (the
 * Keycloak realm), never into Helm values.
 *
 * Who sends what (docs/mail.md): Keycloak (password resets, e-mail verification: `from.accounts`),
 * Nextcloud (shares, activity: `from.notifications`), Synapse (missed-message notifications:
 * `from.notifications`), Alertmanager (`from.alerts`). HedgeDoc 1.x sends no mail (its
 * `CMD_EMAIL` is e-mail *login*, kept off), so it needs no relay.
 */
import * as pulumi from "@pulumi/pulumi";
import type { Estate } from "../config";
import { CONFIG_NAMESPACE } from "../config/errors";

export type MailPurpose = "accounts" | "notifications" | "alerts";

export interface MailRelay {
  host: string;
  port: number;
  tls: "starttls" | "tls" | "none";
  user: string;
  /** Sender per purpose, defaults resolved. */
  from: Record<MailPurpose, string>;
}

/** The relay of an estate, sender defaults resolved; undefined when `liiibre:mail` is not set. */
export function mailRelay(estate: Pick<Estate, "mail">): MailRelay | undefined {
  const m = estate.mail;
  if (!m) return undefined;
  const d = m.from.default;
  return { host: m.host, port: m.port, tls: m.tls, user: m.user, from: { accounts: m.from.accounts ?? d, notifications: m.from.notifications ?? d, alerts: m.from.alerts ?? d } };
}

/** The relay password: secret config `liiibre:mailPassword` (required once `liiibre:mail` is set). */
export function mailPassword(): pulumi.Output<string> {
  return new pulumi.Config(CONFIG_NAMESPACE).requireSecret("mailPassword");
}

/** Secret (per namespace) holding the relay credentials, keys `host`, `username`, `password`. */
export const MAIL_SECRET = "smtp-relay";

/** Keycloak realm `smtpServer` (password resets, verification mails). */
export function keycloakSmtpServer(relay: MailRelay, password: pulumi.Input<string>) {
  return {
    host: relay.host,
    port: String(relay.port),
    from: relay.from.accounts,
    fromDisplayName: "Liiibre",
    ssl: relay.tls === "tls",
    starttls: relay.tls === "starttls",
    auth: { username: relay.user, password: pulumi.secret(password) },
  };
}

/**
 * The Nextcloud chart's `nextcloud.mail` (host, user and password come from the chart's
 * `existingSecret` keys smtp-host / smtp-username / smtp-password). Nextcloud's `mail_smtpsecure`
 * is `ssl` for implicit TLS and empty otherwise (its mailer then upgrades with STARTTLS).
 */
export function nextcloudMailValues(relay: MailRelay): Record<string, unknown> {
  const [local, domain] = relay.from.notifications.split("@");
  return { enabled: true, fromAddress: local, domain, smtp: { secure: relay.tls === "tls" ? "ssl" : "", port: relay.port, authtype: "LOGIN" } };
}

/** Synapse's `email` section (rendered into a config Secret: it carries `smtp_pass`). */
export function synapseEmailConfig(relay: MailRelay, password: string, appName = "Liiibre"): Record<string, unknown> {
  return {
    email: {
      smtp_host: relay.host,
      smtp_port: relay.port,
      smtp_user: relay.user,
      smtp_pass: password,
      force_tls: relay.tls === "tls",
      require_transport_security: relay.tls === "starttls",
      enable_tls: relay.tls !== "none",
      notif_from: `${appName} <${relay.from.notifications}>`,
      app_name: appName,
      enable_notifs: true,
      notif_for_new_users: true,
    },
  };
}

/** Where the Alertmanager pods see the relay password (alertmanagerSpec.secrets mounts Secrets there). */
export const ALERTMANAGER_SMTP_SECRET = "alertmanager-smtp";
export const ALERTMANAGER_SMTP_PASSWORD_FILE = `/etc/alertmanager/secrets/${ALERTMANAGER_SMTP_SECRET}/password`;

/** Alertmanager's `global` SMTP settings (the password is read from a mounted file). */
export function alertmanagerSmtpGlobal(relay: MailRelay): Record<string, unknown> {
  return {
    smtp_smarthost: `${relay.host}:${relay.port}`,
    smtp_from: relay.from.alerts,
    smtp_auth_username: relay.user,
    smtp_auth_password_file: ALERTMANAGER_SMTP_PASSWORD_FILE,
    // STARTTLS required on submission; port 465 is implicit TLS (Alertmanager detects it).
    smtp_require_tls: relay.tls === "starttls",
  };
}

/**
 * The app modules, by catalogue name. A bundle deploys `MODULES[app]` for each app it
 * has; an app without a module cannot be `available` in components/config/apps.ts
 * (test/apps.test.ts checks both lists agree).
 */
import type { AppName } from "../config";
import { collaboraModule } from "./collabora";
import { hedgedocModule } from "./hedgedoc";
import { jitsiDedicatedModule } from "./jitsi";
import { matrixModule } from "./matrix";
import { nextcloudModule } from "./nextcloud";
import { onlyofficeModule } from "./onlyoffice";
import type { AppModule } from "./types";

export const MODULES: Partial<Record<AppName, AppModule>> = {
  nextcloud: nextcloudModule,
  onlyoffice: onlyofficeModule,
  collabora: collaboraModule,
  matrix: matrixModule,
  hedgedoc: hedgedocModule,
  "jitsi-dedicated": jitsiDedicatedModule,
};

/** Deploy order: apps others refer to first (Nextcloud reads the OnlyOffice JWT Secret). */
export const DEPLOY_ORDER: AppName[] = ["onlyoffice", "collabora", "nextcloud", "matrix", "hedgedoc", "jitsi-dedicated"];

export * from "./types";
export { resourcesFor, requestsFor, totals, PROFILES } from "./sizing";

/**
 * Entry of a plan worker process (scripts/plan-stacks.ts forks it; scripts/plan-worker.ts does
 * the work). Plain CommonJS, run by Node.js without tsx: it loads the packages the program, the
 * harness and the policy pack use first, then registers tsx's CommonJS hooks for the project's
 * TypeScript. tsx's hooks examine every file required through them (resolution, an ES-module
 * check of each `.js` file): loading the Pulumi SDK and the providers' packages through them took
 * about three times as long as without (docs/scaling.md, "What changed"). A package loaded here
 * is the same module object the program gets later (one entry of require.cache per file).
 */
"use strict";
const path = require("node:path");

const root = path.resolve(__dirname, "..");
const PRELOAD = ["@pulumi/pulumi", "@pulumi/kubernetes", "@pulumi/random", "@pulumi/keycloak", "@pulumi/minio", "@pulumi/hcloud", "@pulumi/command", "@pulumi/policy", "yaml", "zod"];
for (const name of PRELOAD) require(require.resolve(name, { paths: [root] }));
require(require.resolve("tsx/cjs", { paths: [root] }));
const worker = require("./plan-worker.ts");
// Without an IPC channel (bench/phases.bench.ts times the start-up) it only loads and exits.
if (process.send) worker.serveWorker();

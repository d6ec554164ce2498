export * from "./cert-manager";
export * from "./common";
export * from "./error-pages";
export * from "./hcloud";
export * from "./ingress";
export * from "./local-volumes";
export * from "./monitoring";
export * from "./platform";

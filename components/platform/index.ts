export * from "./cert-manager";
export * from "./common";
export * from "./edge";
export * from "./error-pages";
export * from "./hcloud";
export * from "./local-volumes";
export * from "./monitoring";
export * from "./platform";

export * from "./cluster";
export * from "./k0sctl-config";

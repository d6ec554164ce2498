export { SharedServices, type SharedServicesArgs } from "./sharedServices";
export { SharedInstance, sharedGroups } from "./sharedInstance";
export { Keycloak } from "./keycloak";
export { issuerOf, oidcClient, organization, type IdentityContext } from "./identity";

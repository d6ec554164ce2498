/**
 * IP addresses and CIDR blocks: the parser lives with the config schema that validates every
 * CIDR of the estate (components/config/cidr.ts, so that components/config imports nothing
 * outside itself); policies and rules import it from here.
 */
export * from "./config/cidr";

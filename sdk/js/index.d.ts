export * from "./liveproof";
export { default } from "./liveproof";
export { VerifyVerifier } from "./react";
export type { VerifyVerifierProps } from "./react";
